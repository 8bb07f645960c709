"""`blockgraph diff A.npz B.npz [--atol X] [--rtol X] [--ulp N] [--json]`: compare two results
files key by key.

Per key present in both: whether they are equal, the largest absolute and relative difference
(|a - b| / |b|, B is the reference), the largest distance in units in the last place (floats:
the number of representable values between them) and how many elements differ; keys found in
one file only are listed. An element counts as equal when it is exactly equal (NaN matching
NaN in the same place; with no tolerance given, -0.0 and 0.0 differ, as bits do), when
|a - b| <= atol + rtol * |b|, or when the two are at most --ulp apart. Exit 0 when every key is
in both files and equal within the tolerances, 1 otherwise, 2 when a file cannot be read.
Dtypes are the files' TF names (their `__meta__`), so quint8 results compare as quint8.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from ..core.results import dumps, json_safe
from .show import ShowError, Tensor, num, read

_ORDERED = {2: (np.int16, np.uint16), 4: (np.int32, np.uint32), 8: (np.int64, np.uint64)}


@dataclass
class KeyDiff:
    """The comparison of one key: status "equal" | "differs" | "only in A" | "only in B" |
    "dtype differs" | "shape differs"; for tensors of one dtype and shape, the counts and the
    largest differences (None where they do not apply)."""
    key: str
    status: str
    dtype: str | None = None
    shape: tuple | None = None
    differing: int = 0
    count: int = 0
    max_abs: float | None = None
    max_rel: float | None = None
    max_ulp: int | float | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "equal"

    def to_json(self) -> dict:
        return json_safe({k: (list(v) if isinstance(v, tuple) else v)
                          for k, v in self.__dict__.items() if v is not None})


def compare(a: Tensor, b: Tensor, atol=0.0, rtol=0.0, ulp=0) -> KeyDiff:
    """The comparison of the tensors `a` and `b` held under one key."""
    d = KeyDiff(a.key, "equal", a.dtype, a.array.shape, count=int(a.array.size))
    if a.dtype != b.dtype:
        d.status, d.dtype, d.note = "dtype differs", None, f"{a.dtype} vs {b.dtype}"
        return d
    if a.array.shape != b.array.shape:
        d.status, d.shape = "shape differs", None
        d.note = f"{list(a.array.shape)} vs {list(b.array.shape)}"
        return d
    x, y = a.array, b.array
    if x.dtype == object or x.dtype.kind in "SU":
        same = x == y
    elif x.dtype.kind == "c":
        same = (_same_reals(x.real, y.real, atol, rtol, ulp)
                & _same_reals(x.imag, y.imag, atol, rtol, ulp))
        _magnitudes(d, x, y)
        d.max_ulp = max(_max_ulp(x.real, y.real), _max_ulp(x.imag, y.imag), key=_ulp_key)
    else:
        same = _same_reals(x, y, atol, rtol, ulp)
        _magnitudes(d, x, y)
        if _is_float(x):
            d.max_ulp = _max_ulp(x, y)
    d.differing = int(np.count_nonzero(~np.asarray(same, bool)))
    if d.differing:
        d.status = "differs"
    return d


def _is_float(x: np.ndarray) -> bool:
    """float16/32/64 and bfloat16 (ml_dtypes: numpy kind V)."""
    return x.dtype.kind == "f" or x.dtype.name == "bfloat16"


def _same_reals(x, y, atol, rtol, ulp) -> np.ndarray:
    """Elementwise: equal (NaN = NaN; signed zeros differ unless a tolerance is given), within
    atol + rtol * |y|, or at most `ulp` apart."""
    if not _is_float(x):
        if x.dtype.kind == "b":
            return x == y
        diff = np.abs(x.astype(np.float64) - y.astype(np.float64))
        return (x == y) | (diff <= atol + rtol * np.abs(y.astype(np.float64)))
    with np.errstate(all="ignore"):
        same = (x == y) | (np.isnan(x) & np.isnan(y))
        if not (atol or rtol or ulp):
            return same & (np.signbit(x) == np.signbit(y))
        xf, yf = x.astype(np.float64), y.astype(np.float64)
        same |= np.abs(xf - yf) <= atol + rtol * np.abs(yf)
        if ulp:
            same |= _ulps(x, y) <= ulp
    return same


def _magnitudes(d: KeyDiff, x, y):
    """The largest absolute and relative differences over the elements (NaN pairs and equal
    infinities left out); inf where one is NaN or infinite and the other is not."""
    with np.errstate(all="ignore"):
        xf = x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)
        yf = y.astype(np.complex128 if y.dtype.kind == "c" else np.float64)
        both_nan = np.isnan(xf) & np.isnan(yf)
        equal = (xf == yf) | both_nan
        diff = np.where(equal, 0.0, np.abs(xf - yf))
        diff = np.where(np.isnan(diff), np.inf, diff)
        mag = np.abs(yf)
        rel = np.where(equal, 0.0, np.where(mag > 0, diff / mag, np.inf))
    d.max_abs = float(diff.max()) if diff.size else 0.0
    d.max_rel = float(rel.max()) if rel.size else 0.0


def _ulps(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The distance of x and y in representable values of their float dtype (bfloat16's own,
    not float32's; as uint64; NaN against a number is the largest distance, NaN against NaN 0;
    -0.0 and 0.0 are 0 apart)."""
    signed, unsigned = _ORDERED[x.dtype.itemsize]
    top = np.array(np.iinfo(signed).min, signed)

    def ordered(v):
        i = v.view(signed)
        return np.where(i < 0, top - i, i).astype(np.int64)      # monotone in the float's value

    ox, oy = ordered(np.ascontiguousarray(x)), ordered(np.ascontiguousarray(y))
    same_sign = (ox >= 0) == (oy >= 0)
    with np.errstate(over="ignore"):
        near = np.abs(ox - oy).astype(np.uint64)
        far = np.abs(ox).astype(np.uint64) + np.abs(oy).astype(np.uint64)
    dist = np.where(same_sign, near, far)
    nx, ny = np.isnan(x), np.isnan(y)
    dist = np.where(nx | ny, np.iinfo(np.uint64).max, dist)
    return np.where(nx & ny, 0, dist).astype(np.uint64)


def _max_ulp(x, y):
    """The largest ULP distance (an int), "nan" when a NaN meets a number."""
    if not x.size:
        return 0
    nan_mismatch = np.isnan(x) != np.isnan(y)
    if nan_mismatch.any():
        return "nan"
    return int(_ulps(x, y).max())


def _ulp_key(v):
    return float("inf") if v == "nan" else v


def diff_files(tensors_a: dict, tensors_b: dict, atol=0.0, rtol=0.0, ulp=0) -> list[KeyDiff]:
    """The comparison of every key: those in A in A's order, then those only in B."""
    out = []
    for k, t in tensors_a.items():
        if k in tensors_b:
            out.append(compare(t, tensors_b[k], atol, rtol, ulp))
        else:
            out.append(KeyDiff(k, "only in A", t.dtype, t.array.shape, count=int(t.array.size)))
    for k, t in tensors_b.items():
        if k not in tensors_a:
            out.append(KeyDiff(k, "only in B", t.dtype, t.array.shape, count=int(t.array.size)))
    return out


def table(diffs: list[KeyDiff]) -> str:
    rows = [("key", "dtype", "shape", "status", "differing", "max abs", "max rel", "max ulp")]
    for d in diffs:
        rows.append((d.key, d.dtype or "-", "-" if d.shape is None else
                     "[" + ",".join(map(str, d.shape)) + "]",
                     d.status + (f" ({d.note})" if d.note else ""),
                     f"{d.differing}/{d.count}" if d.status in ("equal", "differs") else "-",
                     *(_num(v) for v in (d.max_abs, d.max_rel, d.max_ulp))))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


def _num(v) -> str:
    return "-" if v is None else str(v) if isinstance(v, str) else num(v)


def main(args) -> int:
    """`blockgraph diff`: 0 equal within the tolerances, 1 not, 2 a file cannot be read."""
    try:
        a, meta_a = read(args.a)
        b, meta_b = read(args.b)
    except ShowError as e:
        print(f"blockgraph: error: {e}", file=sys.stderr)
        return 2
    diffs = diff_files(a, b, args.atol, args.rtol, args.ulp)
    ok = all(d.ok for d in diffs)
    if args.json:
        print(dumps({"a": args.a, "b": args.b, "ok": ok, "atol": args.atol, "rtol": args.rtol,
                     "ulp": args.ulp, "keys": [d.to_json() for d in diffs]}))
        return 0 if ok else 1
    for name, path, meta in (("A", args.a, meta_a), ("B", args.b, meta_b)):
        if meta:
            from ..core.resultmeta import describe
            print(f"{name}: {path}: {describe(meta)}")
    print(table(diffs))
    same = sum(d.ok for d in diffs)
    tol = ", ".join(f"{k} {v:g}" for k, v in (("atol", args.atol), ("rtol", args.rtol),
                                              ("ulp", args.ulp)) if v)
    print(f"{same} of {len(diffs)} keys equal" + (f" within {tol}" if tol else " exactly")
          + ("" if ok else f"; {len(diffs) - same} not"))
    return 0 if ok else 1
