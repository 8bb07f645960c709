"""An enuSpace page written as a blockgraph YAML page (`blockgraph import PAGE -o page.yaml`):
the same block ids, `pos` from the SVG, the ClientSession's choice as `fetch:`, a comment on
each block for what is enuSpace-specific about it (its C++ name, quirks met, blocks that do
not run), and arrays that came from the `.dat` written as `.npy` files beside the YAML."""
from __future__ import annotations

import os
import re

import numpy as np
import yaml

from . import load
from .build import Imported


class UnreadablePage(Exception):
    """The page cannot be converted (it cannot be read as a page)."""


def write(path: str, out: str) -> tuple[list, list]:
    """Convert the enuSpace page at `path` into the YAML page `out` (and its .npy files).
    Returns (the conversion's diagnostics, the files written); UnreadablePage when the page
    cannot be read at all (its diagnostics in `.args[1]`)."""
    imp = load(path)
    if imp.doc.problems:
        raise UnreadablePage(f"{path} cannot be read as an enuSpace page", imp.diagnostics)
    folder = os.path.dirname(os.path.abspath(out))
    stem = os.path.splitext(os.path.basename(out))[0]
    files: list[str] = []
    text = _page(imp, lambda bid, what, arr: _npy(folder, stem, bid, what, arr, files))
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, out)
    return imp.diagnostics, [out] + files


def _npy(folder, stem, bid, what, arr, files) -> str:
    name = f"{stem}.{bid}.{what}.npy"
    np.save(os.path.join(folder, name), np.ascontiguousarray(arr), allow_pickle=False)
    files.append(os.path.join(folder, name))
    return name


def _page(imp: Imported, save) -> str:
    doc = imp.doc
    lines = [f"# Imported by `blockgraph import` from the enuSpace page {os.path.basename(doc.path)}"
             + (f" (enuSpace {doc.version})" if doc.version else " (exported JSON)") + ".",
             "# The page's ClientSession is `fetch:` (what runs each cycle); its Variables are",
             "# VariableV2 blocks with their initial values as `init:`."]
    for d in imp.diagnostics:
        if d.block not in imp.blocks:
            who = f"block '{d.block}' ({d.op}): " if d.block else ""
            lines.append(f"# {d.severity}: {who}{_one_line(d.message)}")
    lines += ["format: 1", f"page: {_flow(imp.name)}"]
    if imp.fetch:
        lines.append(f"fetch: {_flow(imp.fetch)}")
    lines.append("blocks:")
    notes: dict = {}
    for d in imp.diagnostics:
        if d.block is not None:
            notes.setdefault(d.block, []).append(f"{d.severity}: {_one_line(d.message)}")
    for bid, spec in imp.blocks.items():
        for c in imp.comments.get(bid, []) + notes.get(bid, []):
            lines.append(f"  # {c}")
        lines.append(f"  {bid}:")
        lines.append(f"    op: {spec['op']}")
        for key in ("inputs", "attrs"):
            items = dict(spec.get(key) or {})
            if key == "attrs" and isinstance(items.get("value"), np.ndarray):   # a Const's .dat
                items = {"file": save(bid, "value", items.pop("value")), **items}
            if items:
                lines.append(f"    {key}:")
                for name, v in items.items():
                    if key == "attrs" and name == "value":
                        v = _short(v, items.get("dtype"))
                    lines.append(f"      {name}: {_value(v, None, files=False)}")
        if spec.get("init") is not None:
            lines.append(f"    init: {_value(spec['init'], lambda a: save(bid, 'init', a))}")
        if spec.get("pos") is not None:
            lines.append(f"    pos: {_flow(spec['pos'])}")
    return "\n".join(lines) + "\n"


def _value(v, save, files=True) -> str:
    """A block value as one line of YAML; an init read from the .dat goes to a .npy file (an
    input port takes no files: its array is written out)."""
    if isinstance(v, dict) and isinstance(v.get("value"), np.ndarray):
        if files:
            return _flow({"file": save(v["value"])})
        v = {**v, "value": v["value"].tolist()}
    if isinstance(v, dict) and "value" in v:
        v = {**v, "value": _short(v["value"], v.get("dtype"))}
    return _flow(v)


def _short(v, dtype):
    """float32 values written with the fewest digits that give the same float32 (0.001251, not
    0.0012509999796748161)."""
    if dtype not in ("float32", "float16", "bfloat16"):
        return v
    if isinstance(v, list):
        return [_short(x, dtype) for x in v]
    return float(str(np.float32(v))) if isinstance(v, float) else v


def _flow(v) -> str:
    return yaml.safe_dump(v, default_flow_style=True, width=1 << 30, sort_keys=False).strip() \
        .removesuffix("\n...").strip()


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
