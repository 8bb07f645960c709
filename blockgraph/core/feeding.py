"""Feeds against a page's placeholders: what each placeholder needs (dtype, shape, whether it
has a default), literals converted to the placeholder's dtype (as a page converts an inline
literal), exact conversion of a fed array of another dtype (`cast`, refused with the first
element that would change), and the hints that say how to fix a feed, in the words of the
interface used ("cli": flags, "python": `page.run` arguments).

A fed array of another dtype is not converted unless asked (TF refuses it too): its placeholder
fails with "fed value has dtype ..., the placeholder expects ...".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import dtypes as dt
from .diagnostics import Diagnostic
from .errors import LiteralError, PageError
from .literals import to_array
from .shapes import fmt


@dataclass
class Need:
    """What a placeholder takes: TF dtype and shape (None when unknown), and whether the page
    can run without it (a PlaceholderWithDefault)."""
    id: str
    op: str
    dtype: str | None
    shape: tuple | None
    required: bool

    def text(self) -> str:
        return f"{self.id} {self.dtype or '?'} {self.shape_text()}"

    def shape_text(self) -> str:
        return "any shape" if self.shape is None else fmt(self.shape)

    def to_json(self) -> dict:
        return {"id": self.id, "op": self.op, "dtype": self.dtype,
                "shape": None if self.shape is None else list(self.shape),
                "required": self.required}


def needs(scope, ids=None) -> list[Need]:
    """The placeholders `ids` (default: those a run of the page runs, its `fetch:` closure), in
    page order."""
    only = scope.fetch_closure() if ids is None else set(ids)
    return [_need(scope.blocks[bid]) for bid in scope.feedable() if only is None or bid in only]


def _need(b) -> Need:
    spec = b.specs[0] if b.specs else None
    dtype = spec.dtype if spec is not None else b.attrs.get("dtype")
    shape = b.attrs.get("shape") if "shape" in b.attrs else (spec.shape if spec else None)
    return Need(b.id, b.op, dtype if isinstance(dtype, str) else None, shape, required=not b.defn.inputs)


def placeholder_dtype(scope, bid: str) -> str | None:
    """The TF dtype placeholder `bid` takes (None when it is not known before the run). One
    block's lookup, not `needs`'s scan of the page: feeding thousands of placeholders stays linear."""
    b = scope.blocks.get(bid)
    if b is None or b.defn is None or not b.defn.feedable:
        return None
    return _need(b).dtype


def literal(value, dtype: str | None) -> np.ndarray:
    """A YAML-like literal (scalar, nested list, or {value, dtype}) as a feed for a placeholder
    of `dtype`, converted as an inline literal on a port of that dtype is; LiteralError."""
    if isinstance(value, dict):
        if "value" not in value or not set(value) <= {"value", "dtype"}:
            raise LiteralError("a literal feed is a value, a list, or {value: ..., dtype: ...}")
        value, dtype = value["value"], value.get("dtype") or dtype
    try:
        return to_array(_lists(value), dtype)[0]
    except dt.DTypeError as e:
        raise LiteralError(str(e)) from None


def is_literal(v) -> bool:
    """True for plain Python data a page could hold as a literal (scalars, nested lists of
    them, {value, dtype}), which is converted as the page converts literals; False for arrays
    and anything numpy has to read."""
    if isinstance(v, (bool, int, float, str)):
        return True
    if isinstance(v, dict):
        return True
    if isinstance(v, (list, tuple)):
        return all(is_literal(x) and not isinstance(x, dict) for x in v)
    return False


def exact_cast(a: np.ndarray, dtype: str) -> np.ndarray:
    """`a` converted to TF dtype `dtype` when no value changes (NaN stays NaN, -0.0 stays -0.0
    between floats); LiteralError naming the first element that would change."""
    want = dt.to_numpy(dtype)
    if a.dtype == want:
        return a
    if dtype == "string" or a.dtype.kind in "SUOV":
        raise LiteralError(f"a {_name(a.dtype)} feed cannot be converted to {dtype}")
    import warnings
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")          # ComplexWarning: the check below says it
        out = a.astype(want)
        back = out.astype(a.dtype)
    same = back == a
    if a.dtype.kind in "fc":
        same |= np.isnan(a) & np.isnan(back)
    if a.dtype.kind == "f" and out.dtype.kind == "f":
        same &= np.signbit(a) == np.signbit(back)
    if a.dtype.kind == "c" and out.dtype.kind != "c":
        same &= a.imag == 0
    if not same.all():
        i = np.unravel_index(int(np.argmin(same)), a.shape)
        where = "[" + ", ".join(map(str, i)) + "]" if a.ndim else "the value"
        got = out[i] if out.ndim else out[()]
        was = a[i] if a.ndim else a[()]
        raise LiteralError(f"element {where} = {_value(was)} would become {_value(got)} in {dtype}")
    out.setflags(write=False)
    return out


def convert(scope, feeds: dict, *, cast: bool = False, style: str = "python") -> dict:
    """`feeds` {id: array or literal} with literals converted to their placeholder's dtype and,
    with `cast`, arrays of another dtype converted exactly. PageError (located at the
    placeholder, with a hint in `style`'s words) for a literal or cast that cannot be made."""
    out, problems = {}, []
    for bid, v in feeds.items():
        b = scope.blocks.get(bid)
        if b is None or b.defn is None or not b.defn.feedable:
            out[bid] = v
            continue
        want = placeholder_dtype(scope, bid)
        try:
            if is_literal(v):
                v = literal(v, want)
            if cast and want is not None and isinstance(v, np.ndarray) and v.dtype != dt.to_numpy(want):
                v = exact_cast(v, want)
        except LiteralError as e:
            if is_literal(feeds[bid]):
                problems.append(_diag(scope, b, f"cannot convert the feed: {e}"))
                continue
            fed = _name(np.asarray(feeds[bid]).dtype)
            var = "a" if style == "cli" else bid
            problems.append(_diag(scope, b, f"{_cast_flag(style)}: cannot convert the fed {fed} "
                                  f"exactly: {e}", hint=f"convert it yourself ({_astype(want, var)}) "
                                                        "if the change is what you want"))
            continue
        out[bid] = v
    if problems:
        raise PageError(problems)
    return out


def hint(scope, bid: str, feed, style: str) -> str | None:
    """How to fix the feed of placeholder `bid` that failed (`feed`: what was fed, or None)."""
    b = scope.blocks.get(bid)
    if b is None or b.defn is None or not b.defn.feedable:
        return None
    want = placeholder_dtype(scope, bid)
    if feed is None:
        if b.defn.inputs:
            return None
        if style == "cli":
            return (f"feed it: --feed {bid}=FILE.npy, --feed '{bid}=[...]' (a literal) or "
                    "--feeds FILE.npz")
        return f"feed it: page.run(feeds={{'{bid}': ...}})"
    a = np.asarray(feed) if not is_literal(feed) else None
    if a is not None and want is not None and a.dtype != dt.to_numpy(want):
        if style == "cli":
            return (f"convert it to {want} ({_astype(want)} before numpy.save), or rerun with "
                    f"--cast-feeds, which converts it when no value changes")
        return (f"pass {_astype(want, bid)}, or page.run(..., cast_feeds=True), which converts "
                "it when no value changes")
    return None


def _value(x) -> str:
    """An element as text at its own precision (float32 16777216.0, not np.float32(...))."""
    if x.dtype.kind == "V" or x.dtype.name == "bfloat16":
        x = np.float32(x)
    if x.dtype.kind == "f":
        return repr(float(x))       # every digit: float32 0.1 is 0.10000000149011612
    return str(x.item()) if x.dtype.kind in "iub" else str(x)


def _lists(v):
    return [_lists(x) for x in v] if isinstance(v, (list, tuple)) else v


def _diag(scope, b, message, hint=None) -> Diagnostic:
    line, col = scope.mark(("blocks", b.id))
    return Diagnostic(scope.path, line, col, message, block=b.id, op=b.op, hint=hint)


def _cast_flag(style: str) -> str:
    return "--cast-feeds" if style == "cli" else "cast_feeds"


def _astype(dtype: str | None, var: str = "a") -> str:
    """Python that converts array `var` to TF dtype `dtype`."""
    if dtype is None:
        return f"{var}.astype(...)"
    if dtype == "bfloat16":
        return f"{var}.astype(ml_dtypes.bfloat16)"
    if dtype == "string":
        return f"{var}.astype(bytes)"
    npd = dt.to_numpy(dtype)
    held = f", {dtype} is held as {npd.name}" if dtype in dt.QUANTIZED else ""
    return f"{var}.astype(numpy.{npd.name}){held}"


def _name(npd) -> str:
    try:
        return dt.from_numpy(npd)
    except dt.DTypeError:
        return str(npd)
