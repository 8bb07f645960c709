"""An enuSpace `Document` -> the blocks of a blockgraph page (`Imported`): block ids, wires,
the blocks the importer dissolves (InputList -> the list port it feeds; Operation -> a run
target; ClientSession -> the page's `fetch`), display blocks skipped, and a line:col for every
block, port and attr in the original file. Each block's own conversion is in `blocks.py`."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np

from ...core.diagnostics import Diagnostic
from ...core.page import BLOCK_ID
from . import blocks, session
from .dat import Dat, path_for
from .model import Document, Link, Node


@dataclass
class Imported:
    """A converted page: block dicts (op, inputs, attrs, init, pos, note; arrays read from the
    .dat stay numpy arrays), the fetch list, YAML comments per block, marks, diagnostics, the
    id map (enuSpace id -> block id) and the pins enuSpace writes each cycle."""
    doc: Document
    name: str
    blocks: dict = field(default_factory=dict)
    fetch: list | None = None
    comments: dict = field(default_factory=dict)
    key_marks: dict = field(default_factory=dict)
    value_marks: dict = field(default_factory=dict)
    diagnostics: list = field(default_factory=list)
    ids: dict = field(default_factory=dict)
    written: dict = field(default_factory=dict)


class Builder:
    """Converts one Document; `blocks.py` functions call back into it for wires, marks, the
    .dat and diagnostics."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.dat = Dat(path_for(doc.path))
        self.out = Imported(doc, os.path.splitext(os.path.basename(doc.path))[0])
        self.lists: dict[str, list] = {}        # InputList id -> the links into it
        self.unsupported: set = set()           # blocks with no blockgraph block (yet)

    # ------------------------------------------------------------ diagnostics and marks
    def diag(self, at, message: str, node: Node | None = None, severity="warning", hint=None):
        bid = self.out.ids.get(node.id, node.id) if node is not None else None
        self.out.diagnostics.append(Diagnostic(self.doc.path, at[0], at[1], message, block=bid,
                                               op=node.symbol if node is not None else None,
                                               hint=hint, severity=severity))

    def error(self, at, message: str, node: Node | None = None, hint=None):
        self.diag(at, message, node, "error", hint)

    def comment(self, bid: str, text: str):
        self.out.comments.setdefault(bid, []).append(text)

    def mark(self, path: tuple, key, value=None):
        if key is not None:
            self.out.key_marks[path] = tuple(key)
        if value is not None:
            self.out.value_marks[path] = tuple(value)

    # ------------------------------------------------------------ wires
    def ref(self, link: Link, consumer: Node):
        """What a link feeds into a port: 'BLOCK.PIN' (or 'BLOCK.PIN.K' for `pin[k]`), a list
        of them for an InputList, or None (said why)."""
        src = self.doc.nodes.get(link.src)
        if src is None:
            self.error(link.mark, f"a link into pin '{link.dst_pin}' comes from block "
                       f"'{link.src}', which is not on the page", consumer)
            return None
        if not src.is_tf:
            return None
        if link.src_pin.startswith("result_"):
            self.diag(link.mark, f"the link from '{src.id}.{link.src_pin}' into pin "
                      f"'{link.dst_pin}' is skipped: result pins are for display only", consumer)
            return None
        if src.symbol == "InputList":
            items = []
            for k in self.lists.get(src.id, []):
                got = self.ref(k, consumer)
                items.extend(got if isinstance(got, list) else [got] if got else [])
            return items
        if src.symbol in ("Operation", "ClientSession"):
            self.error(link.mark, f"pin '{link.dst_pin}' is linked to a {src.symbol} block: only a "
                       "ClientSession's run_outputs take one", consumer)
            return None
        m = re.match(r"^(.*)\[(\d+)\]$", link.src_pin)
        bid = self.out.ids[src.id]
        return f"{bid}.{m.group(1)}.{m.group(2)}" if m else f"{bid}.{link.src_pin}"

    # ------------------------------------------------------------ the page
    def build(self) -> Imported:
        doc = self.doc
        for n in doc.nodes.values():
            self.out.ids[n.id] = self._block_id(n)
        for n in doc.nodes.values():
            if not n.is_tf:
                self.diag(n.symbol_mark or n.mark, f"skipped: a display-only block "
                          f"(type=\"{n.kind}\") does not compute", n)
            elif n.symbol == "InputList":
                self.lists[n.id] = doc.links_into(n.id, "outputlist")
        for n in doc.nodes.values():
            if n.is_tf and n.symbol not in ("InputList", "Operation", "ClientSession"):
                bid = self.out.ids[n.id]
                self.mark(("blocks", bid), n.mark)
                self.mark(("blocks", bid, "op"), n.symbol_mark or n.mark)
                spec = blocks.convert(self, n, bid)
                if "inputs" not in spec and spec["op"] not in ("Const", "VariableV2"):
                    self.unsupported.add(bid)
                if n.pos is not None:
                    spec["pos"] = [round(n.pos[0], 2), round(n.pos[1], 2)]
                self.out.blocks[bid] = spec
        for spec in self.out.blocks.values():       # a Variable initialised from a Const
            init = spec.get("init")
            if isinstance(init, str) and not spec["attrs"]:
                const = self.out.blocks[init].get("attrs", {})
                shape = list(np.shape(const["value"])) if "value" in const else const.get("shape")
                if const.get("dtype") and shape is not None:
                    spec["attrs"] = {"dtype": const["dtype"], "shape": shape}
        self._sessions()
        written = session.written(doc)
        self.out.written = {self.out.ids[k]: v for k, v in written.items()}
        return self.out

    def _block_id(self, n: Node) -> str:
        if re.match(BLOCK_ID, n.id):
            return n.id
        base = re.sub(r"[^A-Za-z0-9_]", "_", n.id) or "block"
        base = base if re.match(r"[A-Za-z_]", base) else "ID_" + base
        bid, k = base, 1
        while bid in self.doc.nodes or bid in self.out.ids.values():
            bid, k = f"{base}_{k}", k + 1
        self.diag(n.mark, f"block id '{n.id}' is not a blockgraph id (letters, digits, _): it is "
                  f"'{bid}' here", n)
        return bid

    # ------------------------------------------------------------ what runs
    def _sessions(self):
        doc, ids = self.doc, self.out.ids
        found = session.sessions(doc)
        if not found:
            self.diag((1, 1), "the page has no ClientSession block: enuSpace would run nothing; "
                      "every block runs here")
            return
        if len(found) > 1:
            self.diag(found[1].mark, f"the page has {len(found)} ClientSession blocks: enuSpace runs "
                      "each as its own session run per cycle; here they run as one cycle (the same "
                      "unless one session reads a Variable another updates)", found[1])
        fetch, marks, starts = [], [], set()
        for s in found:
            if s.value("INFINITE_LOOP").upper() == "TRUE":
                self.diag(s.mark, "INFINITE_LOOP is TRUE: enuSpace cycles until stopped; "
                          "--cycles N says how many cycles run here", s)
            outs, runs = session.targets(doc, s)
            for k in outs + runs:
                target = self._target(k, s, k in runs)
                if target is not None:
                    starts.add(target[1])
                    for entry in target[0]:
                        if entry not in fetch:
                            fetch.append(entry)
                            marks.append(k.mark)
        for i, at in enumerate(marks):
            self.mark(("fetch", i), at, at)
        needed = session.upstream(doc, starts)
        for n in doc.nodes.values():
            if n.is_tf and n.id not in needed and n.symbol not in ("ClientSession",):
                self.diag(n.symbol_mark or n.mark, "does not run: no ClientSession fetches or "
                          "runs anything that needs it", n)
        extra = self._reach(fetch, {ids[n] for n in needed if n in ids} & set(self.out.blocks))
        self.out.fetch = fetch + extra

    def _target(self, k: Link, s: Node, run: bool):
        """([fetch entries], enuSpace id they start from) of a link into a session, or None."""
        src = self.doc.nodes.get(k.src)
        if src is None or not src.is_tf:
            self.error(k.mark, f"ClientSession '{s.id}' is linked to '{k.src}', which is not a "
                       "TensorFlow block of the page", s)
            return None
        if src.symbol == "Operation":
            inner = self.doc.links_into(src.id, "operation")
            if len(inner) != 1 or inner[0].src not in self.out.ids:
                self.error(src.mark, f"Operation '{src.id}' needs exactly one link into its "
                           "'operation' pin", src)
                return None
            return [self.out.ids[inner[0].src]], src.id
        if run:
            if session.output_kind(src, k.src_pin) != session.OPERATION:
                self.diag(k.mark, f"run_outputs takes Operations: enuSpace ignores the link from "
                          f"'{src.id}.{k.src_pin}'", s)
                return None
            return [self.out.ids[src.id]], src.id
        if src.symbol == "InputList":
            self.diag(k.mark, f"InputList '{src.id}' is fetched directly: enuSpace runs it apart and "
                      "writes only its first item; its items are fetched here", s)
            refs = self.ref(k, s) or []
            return (refs, src.id) if refs else None
        got = self.ref(k, s)
        return ([got], src.id) if isinstance(got, str) else None

    def _reach(self, fetch: list, needed: set) -> list:
        """Blocks enuSpace runs that the fetch list does not reach through blockgraph's wires
        (a Variable's initialising Const, blocks feeding a block not supported yet): those of
        them that can run and that no other of them needs, to fetch as well."""
        producers: dict[str, set] = {}
        for bid, spec in self.out.blocks.items():
            producers[bid] = {r.split(".")[0] for v in spec.get("inputs", {}).values()
                              for r in (v if isinstance(v, list) else [v]) if isinstance(r, str)}
        def upstream(starts):
            seen, stack = set(), list(starts)
            while stack:
                b = stack.pop()
                if b not in seen and b in producers:
                    seen.add(b)
                    stack.extend(producers[b])
            return seen
        reached = upstream(f.split(".")[0] for f in fetch)
        missing = [b for b in self.out.blocks if b in needed and b not in reached
                   and b not in self.unsupported]
        below = set().union(*(upstream(producers[b]) for b in missing)) if missing else set()
        return [b for b in missing if b not in below]
