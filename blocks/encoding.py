"""Encodings: OneHot and EditDistance (Levenshtein distance of sparse sequences) — exact to TF
2.21's CPU kernels."""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Attr, Input, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.shapes import fmt, fully_known as _known, known_ints as _ints
from blocks.kernels.ieee import daz

from ._shape_helpers import rank_check

_VALUE_TYPES = dt.REALS + ("bool",) + dt.COMPLEX + ("string",)   # every non-quantized type


# ----------------------------------------------------------------- OneHot

def _check_scalar(ctx, port):
    """Raise the kernel's error when `port` is known not to be a scalar; False when undecided.
    (Called in the kernel's order; all() stops at the first undecided port.)"""
    return rank_check(ctx.shape(port), lambda s: len(s) == 0,
                      f"{port} must be a scalar, but got: {{}}", port)


def _one_hot_shape(ctx):
    ctx.set_output("output", _one_hot_target(ctx))


def _one_hot_target(ctx):
    axis = ctx.attrs["axis"]
    x = ctx.shape("indices")
    if x is None:
        return None
    nd = len(x) + 1
    if not (axis == -1 or 0 <= axis < nd):
        raise OpError(f"Expected axis to be -1 or between [0, {nd}).  But received: {axis}")
    sure = all(_check_scalar(ctx, p) for p in ("depth", "on_value", "off_value"))
    depth = _ints(ctx.spec("depth"))
    d = depth[0] if depth is not None and len(depth) == 1 else None
    if d is not None and d < 0:
        if sure:
            raise OpError(f"depth must be non-negative, got: {d}", port="depth")
        d = None
    pos = len(x) if axis == -1 else axis
    return tuple(x[:pos]) + (d,) + tuple(x[pos:])


@block("OneHot",
       inputs=[Input("indices", ("uint8", "int8", "int32", "int64"), type_attr="TI"),
               Input("depth", ("int32",), doc="0-d: size of the one-hot dimension"),
               Input("on_value", _VALUE_TYPES, type_attr="T", doc="0-d: value where indices == position"),
               Input("off_value", _VALUE_TYPES, type_attr="T", doc="0-d: value elsewhere")],
       attrs=[Attr("axis", "int", -1, doc="position of the new dim (-1 = last)")],
       outputs=[Output("output", "T")], shape=_one_hot_shape)
def one_hot(indices, depth, on_value, off_value, axis):
    """One-hot encode `indices` along a new dim of size depth; out-of-range indices give off_value."""
    d = int(depth)
    hit = indices.astype(np.int64)[..., None] == np.arange(d, dtype=np.int64)
    out = np.empty(hit.shape, dtype=on_value.dtype)
    out[...] = off_value
    out[hit] = on_value[()]
    if axis != -1:
        out = np.moveaxis(out, -1, axis)
    return np.ascontiguousarray(out)


# ----------------------------------------------------------------- EditDistance

_SPARSE = ("hypothesis_indices", "hypothesis_values", "hypothesis_shape",
           "truth_indices", "truth_values", "truth_shape")


def _edit_distance_checks(shapes, values):
    """EditDistance's kernel validation on (possibly partial) shapes; returns False once a check
    cannot be decided (later checks are then skipped)."""
    def rank_is(port, r, what):
        s = shapes[port]
        if s is None:
            return False
        if len(s) != r:
            if not _known(s):
                return False
            raise OpError(f"{port} should be a {what}, but got shape: {fmt(s)}", port=port)
        return True
    for port, r, what in (("hypothesis_indices", 2, "matrix"), ("truth_indices", 2, "matrix"),
                          ("hypothesis_values", 1, "vector"), ("truth_values", 1, "vector"),
                          ("hypothesis_shape", 1, "vector"), ("truth_shape", 1, "vector")):
        if not rank_is(port, r, what):
            return False
    hi, hv, hs = shapes["hypothesis_indices"], shapes["hypothesis_values"], shapes["hypothesis_shape"]
    ti, tv, ts = shapes["truth_indices"], shapes["truth_values"], shapes["truth_shape"]

    def eq(a, b, msg, port, *printed):
        if a is None or b is None or not all(_known(p) for p in printed):
            return False
        if a != b:
            raise OpError(msg, port=port)
        return True
    if not eq(hv[0], hi[0], "Expected hypothesis_values.NumElements == #rows(hypothesis_indices), their "
              f"shapes are: {fmt(hv)} and {fmt(hi)}", "hypothesis_values", hv, hi):
        return False
    if not eq(hs[0], hi[1], "Expected hypothesis_shape.NumElements == #cols(hypothesis_indices), their "
              f"shapes are: {fmt(hs)} and {fmt(hi)}", "hypothesis_shape", hs, hi):
        return False
    if ts[0] is None:
        return False
    if ts[0] < 2:
        raise OpError(f"Input SparseTensors must have rank at least 2, but truth_shape rank is: {ts[0]}",
                      port="truth_shape")
    if not eq(tv[0], ti[0], "Expected truth_values.NumElements == #rows(truth_indices), their shapes "
              f"are: {fmt(tv)} and {fmt(ti)}", "truth_values", tv, ti):
        return False
    if not eq(ts[0], ti[1], "Expected truth_shape.NumElements == #cols(truth_indices), their shapes "
              f"are: {fmt(ts)} and {fmt(ti)}", "truth_shape", ts, ti):
        return False
    if not eq(ts[0], hs[0], "Expected truth and hypothesis to have matching ranks, but their shapes "
              f"are: {fmt(ts)} and {fmt(hs)}", "truth_shape", ts, hs):
        return False
    hv_, tv_ = values["hypothesis_shape"], values["truth_shape"]
    for v, port in ((hv_, "hypothesis_shape"), (tv_, "truth_shape")):
        if v is None:
            return False
        for d in v:
            if d < 0:
                raise OpError(f"Dimension {d} must be >= 0", port=port)
    out = [max(a, b) for a, b in zip(hv_[:-1], tv_[:-1])]
    if int(np.prod(out, dtype=object)) == 0:
        raise OpError(f"Got output shape {fmt(out)} which has 0 elements")
    return True


def _edit_distance_shape(ctx):
    shapes = {p: ctx.shape(p) for p in _SPARSE}
    values = {p: _ints(ctx.spec(p)) for p in ("hypothesis_shape", "truth_shape")}
    _edit_distance_checks(shapes, values)
    hs, ts = shapes["hypothesis_shape"], shapes["truth_shape"]
    n = next((s[0] for s in (hs, ts) if s is not None and len(s) == 1 and s[0] is not None), None)
    if n is None or n < 1:
        ctx.set_output("output", None)
        return
    hv, tv = values["hypothesis_shape"], values["truth_shape"]
    ctx.set_output("output", tuple(max(hv[i], tv[i]) if hv is not None and tv is not None and
                                   len(hv) == n == len(tv) else None for i in range(n - 1)))


def _groups(indices, values, ngroup):
    """Consecutive runs of equal group keys (first ngroup index columns): [(key, values)]."""
    keys = [tuple(r) for r in indices[:, :ngroup].tolist()]
    out, start = [], 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            out.append((keys[start], values[start:i]))
            start = i
    return out


def _levenshtein(a, b) -> int:
    """Edit distance of two 1-D arrays (element equality as C++ ==: NaN != NaN, -0 == 0)."""
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return max(n, m)
    if a.dtype == object:
        eq = np.array([[x == y for y in b] for x in a], dtype=bool).reshape(n, m)
    else:
        eq = a[:, None] == b[None, :]
    cost = (~eq).astype(np.int64)
    ar = np.arange(m + 1, dtype=np.int64)
    prev = ar.copy()
    for i in range(1, n + 1):
        t = np.empty(m + 1, dtype=np.int64)
        t[0] = i
        t[1:] = np.minimum(prev[1:] + 1, prev[:-1] + cost[i - 1])
        prev = np.minimum.accumulate(t - ar) + ar
    return int(prev[-1])


def _as_comparable(v):
    """Values as TF's kernel compares them: bfloat16 as float32, and float32/float64 (complex
    parts too) with denormals read as zeros (TF's threads run with DAZ: 1e-45 == -0.0)."""
    if v.dtype == dt.to_numpy("bfloat16"):
        v = v.astype(np.float32)
    if v.dtype.kind == "c":
        out = np.empty_like(v)
        out.real, out.imag = daz(v.real), daz(v.imag)
        return out
    return daz(v)


@block("EditDistance",
       inputs=[Input("hypothesis_indices", ("int64",), doc="[N, R] indices of the hypothesis SparseTensor"),
               Input("hypothesis_values", _VALUE_TYPES, type_attr="T"),
               Input("hypothesis_shape", ("int64",), doc="[R] dense shape of the hypothesis"),
               Input("truth_indices", ("int64",), doc="[M, R] indices of the truth SparseTensor"),
               Input("truth_values", _VALUE_TYPES, type_attr="T"),
               Input("truth_shape", ("int64",), doc="[R] dense shape of the truth")],
       attrs=[Attr("normalize", "bool", True, doc="divide by the truth length")],
       outputs=[Output("output", "float32")], shape=_edit_distance_shape)
def edit_distance(hypothesis_indices, hypothesis_values, hypothesis_shape, truth_indices, truth_values,
                  truth_shape, normalize):
    """Levenshtein distance between sequences (last dim) of two SparseTensors, per leading index."""
    hs, ts = hypothesis_shape.tolist(), truth_shape.tolist()
    out_shape = [max(a, b) for a, b in zip(hs[:-1], ts[:-1])]
    total = int(np.prod(out_shape, dtype=np.int64))
    strides = [1] * len(out_shape)
    for d in range(len(out_shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * out_shape[d + 1]
    out = np.zeros(total, dtype=np.float32)
    ng = len(out_shape)
    hyp = _groups(hypothesis_indices, _as_comparable(hypothesis_values), ng)
    tru = _groups(truth_indices, _as_comparable(truth_values), ng)
    inf = np.float32(np.inf)

    def loc(key):
        at = sum(k * s for k, s in zip(key, strides))
        if not 0 <= at < total:
            raise OpError(f"Got an inner product {at} which would require writing to outside of the "
                          f"buffer for the output tensor (max elements {total})")
        return at
    i = j = 0
    while i < len(hyp) and j < len(tru):
        (gh, hv), (gt, tv) = hyp[i], tru[j]
        if gt == gh:
            at = loc(gt)
            out[at] = np.float32(_levenshtein(tv, hv))
            if normalize:
                out[at] = out[at] / np.float32(len(tv))
            i += 1
            j += 1
        elif gt > gh:
            at = loc(gh)
            out[at] = inf if normalize and len(hv) else np.float32(len(hv))
            i += 1
        else:
            at = loc(gt)
            out[at] = np.float32(1.0) if normalize else np.float32(len(tv))
            j += 1
    for gh, hv in hyp[i:]:
        at = loc(gh)
        out[at] = inf if normalize and len(hv) else np.float32(len(hv))
    for gt, tv in tru[j:]:
        at = loc(gt)
        out[at] = np.float32(1.0) if normalize else np.float32(len(tv))
    return out.reshape(out_shape)
