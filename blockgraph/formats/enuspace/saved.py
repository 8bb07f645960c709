"""The results enuSpace saved in a page (`#result_<pin>` pins: six-decimal text, large arrays in
the `.dat`), compared with a run's (`compare`, for `run --check-saved`), and the Variables'
saved values as a starting state (`variable_state`, for `run --from-saved`).

Only the pins the plugin writes each cycle are compared (`session.written`: one output per
fetched block); the others hold whatever an earlier run left there. Values are compared
flattened (a saved shape is not updated when the element count is unchanged), within the
precision of the text: |computed - saved| <= ATOL + RTOL * |saved|. int64 results are compared
after the plugin's narrowing to int32.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np

from . import load
from ...core import binding
from ...core import dtypes as dt
from ...core.nodes import Literal, Ref
from .build import Imported
from .dat import Dat, DatError, path_for

ATOL, RTOL = 3e-6, 3e-5
_SKIP = ("ClientSession", "InputList", "Operation")


class SavedError(Exception):
    """The page holds no saved results to compare or start from."""


@dataclass
class Saved:
    block: str
    pin: str
    values: np.ndarray | None      # flat; None: could not be read (`problem`)
    problem: str = ""
    first_only: bool = False       # a 4.x page's array with every element but the first 0


@dataclass
class Row:
    block: str
    pin: str
    status: str                    # match | MISMATCH | not computed | not written
    count: int = 0
    max_diff: float | None = None
    detail: str = ""
    local: float | None = None     # a mismatch recomputed from its inputs' saved values: max |diff|


@dataclass
class Comparison:
    page: str
    source: str
    rows: list = field(default_factory=list)

    @property
    def compared(self) -> list:
        return [r for r in self.rows if r.status != "not written"]

    @property
    def ok(self) -> bool:
        return bool(self.compared) and all(r.status == "match" for r in self.compared)

    def table(self) -> str:
        head = ("block", "pin", "values", "max |diff|", "status")
        rows = [head] + [(r.block, r.pin, str(r.count) if r.count else "-",
                          "-" if r.max_diff is None else f"{r.max_diff:.3g}",
                          r.status + (f": {r.detail}" if r.detail else "")) for r in self.compared]
        widths = [max(len(x[i]) for x in rows) for i in range(4)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(x[:4], widths)) + "  " + x[4] for x in rows]
        n = {s: sum(r.status == s for r in self.rows) for s in
             ("match", "MISMATCH", "not computed", "not written")}
        lines.append(f"saved results of {self.page} (from {self.source}; atol {ATOL:g}, rtol "
                     f"{RTOL:g}): {len(self.compared)} compared, {n['match']} match, "
                     f"{n['MISMATCH']} mismatch, {n['not computed']} not computed; "
                     f"{n['not written']} not written by enuSpace's last run (not compared)")
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {"ok": self.ok, "source": self.source,
                "rows": [{"block": r.block, "pin": r.pin, "status": r.status, "values": r.count,
                          "max_diff": r.max_diff, "detail": r.detail} for r in self.rows]}


def source_of(imp: Imported) -> Imported:
    """The converted page holding the saved results: the page itself, or for an exported JSON
    (which holds none) the project's page SVG of the same name (`<project>/picture/<page>.svg`)."""
    if imp.doc.form == "svg":
        return imp
    here = os.path.dirname(os.path.abspath(imp.doc.path))
    svg = os.path.join(here, os.pardir, os.pardir, "picture", imp.name + ".svg")
    if not os.path.isfile(svg):
        raise SavedError(f"{imp.doc.path} is an exported JSON page, which holds no saved results, "
                         f"and its project has no page {os.path.normpath(svg)}")
    return load(os.path.normpath(svg))


def saved_values(imp: Imported) -> list[Saved]:
    """Every non-empty `#result_<pin>` of the page's blocks."""
    out, dat = [], Dat(path_for(imp.doc.path))
    for n in imp.doc.nodes.values():
        if not n.is_tf or n.symbol in _SKIP or n.id not in imp.ids:
            continue
        for pin in n.pins.values():
            if not pin.name.startswith("result_"):
                continue
            bid, name = imp.ids[n.id], pin.name[len("result_"):]
            if pin.binary_pos is not None:
                try:
                    arr = dat.array(pin.binary_pos, pin.var_type, pin.dims)
                    out.append(Saved(bid, name, np.asarray(arr, np.float64).ravel()))
                except DatError as e:
                    out.append(Saved(bid, name, None, str(e)))
            elif pin.value.strip():
                got = Saved(bid, name, *_text_values(pin.value, pin.var_type))
                got.first_only = imp.doc.plugin == "2.0" and got.values is not None and \
                    got.values.dtype != object and got.values.size > 1 and not got.values[1:].any()
                out.append(got)
    return out


def _text_values(text: str, var_type: str):
    items = [x.strip() for x in re.split(r"[;,]", text.replace("{", "").replace("}", ""))]
    if var_type == "string":
        return np.array(items, dtype=object), ""
    try:
        return np.array([1.0 if x.upper() == "TRUE" else 0.0 if x.upper() == "FALSE" else float(x)
                         for x in items if x], np.float64), ""
    except ValueError:
        return None, f"saved text {text[:40]!r} is not numbers"


def compare(page, results) -> Comparison:
    """Every saved result of the enuSpace page `page` against `results` (of its run)."""
    imp = load(page.path)
    src = source_of(imp)
    comp = Comparison(page.name, os.path.relpath(src.doc.path, os.path.dirname(page.path) or "."))
    fresh = {(s.block, s.pin): s for s in saved_values(src)
             if s.pin in imp.written.get(s.block, ())}
    for s in saved_values(src):
        if (s.block, s.pin) not in fresh:
            comp.rows.append(Row(s.block, s.pin, "not written"))
            continue
        row = _row(s, results)
        if row.status == "MISMATCH" and row.max_diff is not None:
            row.local = _from_saved_inputs(page, results, fresh, s)
            if row.local is not None and row.local <= ATOL + RTOL * float(np.abs(s.values).max()):
                row.detail += (f"; from its inputs' saved values it matches (max |diff| "
                               f"{row.local:.3g}): the difference comes from rounding upstream")
        comp.rows.append(row)
    return comp


def _from_saved_inputs(page, results, fresh: dict, s: Saved) -> float | None:
    """Max |diff| between the saved `s` and its block recomputed from the values enuSpace saved
    for its inputs (None when a pure block's inputs were not all saved)."""
    b = page.scope.blocks.get(s.block)
    if b is None or b.defn is None or b.defn.context or b.defn.stateful:
        return None
    inputs, dtypes = {}, {}
    for port, v in b.inputs.items():
        if isinstance(v, Ref):
            src = page.scope.blocks[v.block]
            given = fresh.get((v.block, v.port or src.defn.outputs[0].name))
            got = results[str(v)] if given is not None else None
            if got is None or given.values is None or given.values.dtype == object \
                    or given.values.size != got.size:
                return None
            inputs[port], dtypes[port] = given.values.astype(got.dtype).reshape(got.shape), \
                b.in_dtypes.get(port)
        elif isinstance(v, Literal) and v.array is not None:
            inputs[port], dtypes[port] = v.array, v.dtype
        else:
            return None
    try:
        attrs, specs, _ = binding.bind(b.defn, inputs, b.attrs, dtypes)
        out = np.asarray(binding.compute(b.defn, inputs, attrs, specs)[b.output_index(s.pin)])
    except Exception:  # noqa: BLE001 - the saved inputs do not make a call: no verdict
        return None
    if out.dtype == object or out.size != s.values.size:
        return None
    return float(np.max(np.abs(out.astype(np.float64).ravel() - s.values))) if out.size else 0.0


def _row(s: Saved, results) -> Row:
    r = results.blocks.get(s.block)
    if r is None or not r.ok or s.pin not in r.outputs:
        why = "the block did not run" if r is None else r.error or r.status
        return Row(s.block, s.pin, "not computed", detail=why if r is None or not r.ok else
                   f"{r.op} has no output '{s.pin}'")
    if s.values is None:
        return Row(s.block, s.pin, "MISMATCH", detail=s.problem)
    got = np.asarray(results[f"{s.block}.{s.pin}"])
    if got.dtype == np.int64:
        got = got.astype(np.int32)          # the plugin narrows int64 results to int
    if got.dtype == object or s.values.dtype == object:
        same = got.size == s.values.size and all(
            (g.decode("latin-1") if isinstance(g, bytes) else str(g)) == v
            for g, v in zip(got.ravel(), s.values))
        return Row(s.block, s.pin, "match" if same else "MISMATCH", got.size)
    got = got.astype(np.float64).ravel()
    if s.first_only and got.size == s.values.size and np.any(got[1:] != 0):
        row = _numbers(s, got[:1], s.values[:1])
        row.count, row.detail = got.size, ((row.detail + "; ") if row.detail else "") + (
            "element 0 only: enuSpace 4's conversion of this page kept only the first element of "
            "each saved array")
        return row
    return _numbers(s, got, s.values)


def _numbers(s: Saved, got: np.ndarray, saved: np.ndarray) -> Row:
    if got.size != saved.size:
        return Row(s.block, s.pin, "MISMATCH", got.size,
                   detail=f"{saved.size} saved values, {got.size} computed")
    with np.errstate(invalid="ignore"):
        diff = np.abs(got - saved)
        bad = ~((diff <= ATOL + RTOL * np.abs(saved)) | (np.isnan(got) & np.isnan(saved)))
    worst = float(np.nanmax(diff)) if diff.size and not np.isnan(diff).all() else 0.0
    if bad.any():
        i = int(np.argmax(bad))
        return Row(s.block, s.pin, "MISMATCH", got.size, worst,
                   f"{int(bad.sum())} differ; first at {i}: saved {saved[i]:.6f}, "
                   f"computed {got[i]:.6f}")
    return Row(s.block, s.pin, "match", got.size, worst)


def variable_state(page) -> dict:
    """{Variable id: its saved `result_ref`}, typed and shaped as the page's Variable (a saved
    shape may be stale); Variables without a saved value keep their initial value."""
    imp = source_of(load(page.path))
    saved = {(s.block, s.pin): s for s in saved_values(imp)}
    out = {}
    for bid, b in page.scope.blocks.items():
        s = saved.get((bid, "ref"))
        if b.defn is None or not b.defn.variable or s is None or s.values is None:
            continue
        spec = b.specs[0] if b.specs else None
        if spec is None or spec.dtype is None or spec.shape is None or None in spec.shape:
            continue
        if s.values.size != int(np.prod(spec.shape)):
            raise SavedError(f"variable '{bid}': {s.values.size} saved values, its shape "
                             f"{list(spec.shape)} holds {int(np.prod(spec.shape))}")
        out[bid] = s.values.astype(dt.to_numpy(spec.dtype)).reshape(spec.shape)
    if not out:
        raise SavedError(f"{page.path} holds no saved Variable values (result_ref)")
    return out
