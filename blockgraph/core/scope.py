"""A page's Scope: its blocks resolved against the registry, as a networkx.MultiDiGraph, with the
static dtype/shape of every output.

Building a Scope never raises for a bad block: each problem becomes a Diagnostic located at the
YAML key it concerns, the block is marked invalid, and blocks downstream of it get unknown specs
(so one mistake is reported once). Only a page whose blocks cannot be ordered (a cycle) has no
run order.
"""
from __future__ import annotations

import heapq
import os

from . import registry
from .attrs import bind_attrs
from .blockdef import Spec
from .diagnostics import Diagnostic, did_you_mean
from .errors import AttrError
from . import infer, suggest, variables
from .page import PageSpec, TensorLiteral
from .nodes import REF as _REF
from .nodes import Block, Literal, PrepareContext, Ref
from .source import Source

class Scope:
    """The blocks of one page and their dataflow graph."""

    def __init__(self, name: str, spec: PageSpec, source: Source, *, allow_outside=False,
                 max_bytes: int | None = None, origin: dict | None = None):
        """`origin`: {block id: the page's block it was generated for} (gradient blocks, which
        are located at their AddSymbolicGradients block)."""
        self.name = name
        self.origin = origin or {}
        self.max_bytes = max_bytes
        self.source = source
        self.path = source.path
        self.blocks: dict[str, Block] = {}
        self.edges: list[tuple] = []      # (from block, to block, to port, {"port", "ref"})
        self._graph = None
        self.diagnostics: list[Diagnostic] = []
        self.order: list[str] | None = None
        self.updated_by: dict[str, str] = {}     # Variable id -> the block that updates it
        self.fetch = list(spec.fetch) if spec.fetch else None
        self._ctx = PrepareContext(os.path.dirname(os.path.abspath(source.path)) or ".", allow_outside,
                                   max_bytes)
        self._ops = {bid: b.op for bid, b in spec.blocks.items()}     # for did-you-mean hints
        for bid, bspec in spec.blocks.items():
            self.blocks[bid] = self._resolve(bid, bspec)
        self._connect()
        if self.order is not None:
            self._propagate()

    # ------------------------------------------------------------ diagnostics
    def mark(self, path: tuple, key: bool = True) -> tuple[int, int]:
        """(line, col) of `path` in the page's file; a generated block's is its origin's."""
        if len(path) >= 2 and path[0] == "blocks" and path[1] in self.origin:
            path = ("blocks", self.origin[path[1]])
        return self.source.mark(path, key=key)

    def _diag(self, block: Block | None, path: tuple, message: str, hint=None, key=True, port=None,
              severity="error"):
        line, col = self.mark(path, key=key)
        d = Diagnostic(self.path, line, col, message, block=block.id if block else None,
                       op=block.op if block else None, hint=hint, port=port, severity=severity)
        if d not in self.diagnostics:
            self.diagnostics.append(d)
        if block is not None and block.valid and d.is_error:
            block.valid = False
            block.error = message
            block.error_port = port

    # ------------------------------------------------------------ resolving
    def _resolve(self, bid: str, bspec) -> Block:
        defn = registry.get(bspec.op)
        b = Block(bid, defn.name if defn else bspec.op, defn, note=bspec.note, pos=bspec.pos)
        base = ("blocks", bid)
        if defn is None:
            family = registry.not_yet(bspec.op)
            if family:
                self._diag(b, base + ("op",), f"op '{bspec.op}' is not supported yet (no blocks "
                           f"for {family})")
                return b
            near = {d.family for d in map(registry.get, set(self._ops.values()) - {bspec.op}) if d}
            self._diag(b, base + ("op",), f"unknown op '{bspec.op}'",
                       hint=suggest.op_hint(bspec.op, near) or "blockgraph blocks lists them")
            return b
        given = dict(bspec.attrs)
        for name in list(given):
            if defn.attr(name) is None and name not in defn.type_attrs:
                self._diag(b, base + ("attrs", name), f"unknown attr '{name}'",
                           hint=did_you_mean(name, [a.name for a in defn.attrs]) or
                           _choices("attrs", [a.name for a in defn.attrs]))
                del given[name]
        attrs, errors = bind_attrs(defn, given)
        for name, msg in errors:
            self._diag(b, base + ("attrs", name) if name in given else base + ("op",), msg)
        init = variables.take_init(self, b, bspec, base)
        if defn.prepare and not errors:
            try:
                attrs = defn.prepare(attrs, self._ctx if init is None else self._ctx.with_init(init))
            except AttrError as e:
                if e.attr == "init":
                    where = base + ("init",)
                else:
                    where = base + ("attrs", e.attr) if e.attr in given else base + ("attrs",)
                self._diag(b, where, str(e), key=e.attr not in given)
            except (ValueError, TypeError, OverflowError, MemoryError) as e:   # a bug, still located
                self._diag(b, base + ("attrs",), f"cannot build the block: {type(e).__name__}: {e}")
        b.attrs = attrs
        for port, value in bspec.inputs.items():
            p = defn.input(port)
            if p is None:
                self._diag(b, base + ("inputs", port), f"unknown input port '{port}'",
                           hint=did_you_mean(port, [q.name for q in defn.inputs]) or
                           _choices("inputs", [q.name for q in defn.inputs]))
                continue
            b.inputs[port] = self._input(b, p, value, base + ("inputs", port))
        for p in defn.inputs:
            if p.name not in bspec.inputs and not p.optional:
                self._diag(b, base + ("op",), f"missing required input '{p.name}'",
                           hint="inputs: " + ", ".join(q.name for q in defn.inputs))
        return b

    def _input(self, b, p, value, path):
        is_list = p.list or bool(p.type_list_attr)
        if is_list:
            if isinstance(value, list):
                return [self._item(b, v, path + (i,)) for i, v in enumerate(value)]
            if isinstance(value, str):
                return [self._item(b, value, path)]
            self._diag(b, path, f"input '{p.name}' is a list port: give a list of references or "
                       "literals", hint=f"{p.name}: [a, b]")
            return []
        return self._item(b, value, path)

    def _item(self, b, v, path):
        if isinstance(v, str):
            m = _REF.match(v)
            if not m:
                self._diag(b, path, f"bad reference '{v}': use BLOCK, BLOCK.PORT or BLOCK.PORT.I",
                           key=False, hint=suggest.reference_hint(v, self._ops))
                return Literal(None)
            return Ref(m.group(1), m.group(2), None if m.group(3) is None else int(m.group(3)))
        if isinstance(v, TensorLiteral):
            return Literal(v.value, v.dtype)
        if isinstance(v, dict) and "value" in v and set(v) <= {"value", "dtype"}:
            return Literal(v["value"], v.get("dtype"))     # {value, dtype} as an item of a list port
        return Literal(v)

    # ------------------------------------------------------------ graph
    def _connect(self):
        edges = self.edges
        for b in self.blocks.values():
            for port, ref in b.refs():
                if self._check_ref(b, port, ref):
                    edges.append((ref.block, b.id, port, {"port": port, "ref": ref}))
        order = _topological_order(edges, list(self.blocks))
        if order is None:
            import networkx as nx
            cycle = [u for u, v, *_ in nx.find_cycle(self.graph)]
            first = min(cycle, key=self._file_index)
            i = cycle.index(first)
            cycle = cycle[i:] + cycle[:i]
            self._diag(self.blocks[first], ("blocks", first),
                       "cycle: " + " -> ".join(cycle + [first]),
                       hint="a page is a DAG: break the cycle by removing one of these references")
            for bid in cycle:
                self.blocks[bid].valid = False
            return
        self.order = order
        variables.check(self)
        for i, f in enumerate(self.fetch or ()):
            m = _REF.match(f)
            ref = Ref(m.group(1), m.group(2), None if m.group(3) is None else int(m.group(3)))
            src = self.blocks.get(ref.block)
            if src is None or (src.defn is not None and src.output_index(ref.port) is None):
                line, col = self.mark(("fetch", i), key=False)
                self.diagnostics.append(Diagnostic(self.path, line, col, f"fetch '{f}' names no "
                                                   "output of the page", hint=did_you_mean(
                                                       ref.block, self.blocks)))

    def _check_ref(self, b, port, ref, path=None) -> bool:
        """True when `ref` names an existing output of another block; else a Diagnostic."""
        path = path or ("blocks", b.id, "inputs", port)
        if ref.block == b.id:
            self._diag(b, path, f"input '{port}' refers to the block itself", key=False)
            return False
        src = self.blocks.get(ref.block)
        if src is None:
            self._diag(b, path, f"input '{port}' refers to a missing block '{ref.block}'",
                       hint=did_you_mean(ref.block, self.blocks), key=False)
            return False
        if src.defn is None:
            return True
        if src.output_index(ref.port) is None:
            names = [o.name for o in src.defn.outputs]
            self._diag(b, path, f"input '{port}': block '{ref.block}' ({src.op}) has no "
                       f"output '{ref.port}'",
                       hint=did_you_mean(ref.port or "", names) or _choices("outputs", names), key=False)
            return False
        out = src.defn.outputs[src.output_index(ref.port)]
        if ref.index is not None and not out.list:
            self._diag(b, path, f"input '{port}': output '{out.name}' of '{ref.block}' is "
                       "not a list; drop the index", key=False)
            return False
        return True

    def _file_index(self, bid):
        return self._index.get(bid, 0)

    @property
    def _index(self):
        if not hasattr(self, "_idx"):
            self._idx = {b: i for i, b in enumerate(self.blocks)}
        return self._idx

    # ------------------------------------------------------------ static dtypes and shapes
    def _propagate(self):
        infer.propagate(self)

    # ------------------------------------------------------------ queries
    def input_spec(self, b: Block, port: str):
        """The static Spec of input `port` of block `b` (a list of Specs for a list port), or
        None when it is not known."""
        v = b.inputs.get(port)
        items = v if isinstance(v, list) else [v]
        out = []
        for item in items:
            if isinstance(item, Ref):
                src = self.blocks.get(item.block)
                if src is None or src.specs is None or src.output_index(item.port) is None:
                    out.append(None)
                    continue
                s = src.specs[src.output_index(item.port)]
                if isinstance(s, list):
                    if item.index is None:
                        out.extend(s)
                        continue
                    s = s[item.index] if item.index < len(s) else None
                out.append(s)
            elif isinstance(item, Literal) and item.array is not None:
                out.append(Spec(item.dtype, item.array.shape, item.array))
            else:
                out.append(None)
        return out if isinstance(v, list) else (out[0] if out else None)

    @property
    def graph(self):
        """The page's dataflow DAG as a `networkx.MultiDiGraph` (nodes in file order; one edge per
        input reference, keyed by the consuming port). Built on first use: running a page needs
        only `run_order()` and `consumers()`, and importing networkx costs start-up time."""
        if self._graph is None:
            import networkx as nx
            g = nx.MultiDiGraph(name=self.name)
            g.add_nodes_from(self.blocks)
            g.add_edges_from(self.edges)
            self._graph = g
        return self._graph

    def fetch_closure(self) -> set | None:
        """The blocks a page's `fetch` needs (the fetched blocks and their upstream), or None
        when it fetches everything. Variables whose update block runs count too."""
        if not self.fetch:
            return None
        import networkx as nx
        need = set()
        for f in self.fetch:
            bid = f.split(".")[0]
            if bid in self.blocks:
                need |= nx.ancestors(self.graph, bid) | {bid}
        return need

    def consumers(self) -> dict[str, set]:
        """{block id: ids of the blocks reading its outputs}."""
        out = {bid: set() for bid in self.blocks}
        for u, v, *_ in self.edges:
            out[u].add(v)
        return out

    def run_order(self) -> list[str]:
        """Block ids in run order (file order when the graph has a cycle: then nothing runs)."""
        return self.order if self.order is not None else list(self.blocks)

    def feedable(self) -> list[str]:
        return [bid for bid, b in self.blocks.items() if b.defn is not None and b.defn.feedable]



def _topological_order(edges, file_order):
    """Kahn's algorithm over (from, to, ...) edges, taking ready blocks in file order (so tables
    read like the page); None when the graph has a cycle."""
    index = {b: i for i, b in enumerate(file_order)}
    indegree = dict.fromkeys(file_order, 0)
    succ = {b: [] for b in file_order}
    for u, v, *_ in edges:
        indegree[v] += 1
        succ[u].append(v)
    ready = [index[b] for b, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        b = file_order[heapq.heappop(ready)]
        order.append(b)
        for v in succ[b]:
            indegree[v] -= 1
            if indegree[v] == 0:
                heapq.heappush(ready, index[v])
    return order if len(order) == len(file_order) else None


def _choices(what, names):
    return f"{what}: " + ", ".join(names) if names else f"this op has no {what}"
