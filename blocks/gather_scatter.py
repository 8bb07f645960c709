"""Gather and scatter: Gather, GatherV2, GatherNd, ScatterNd, ScatterNdNonAliasingAdd, Where.

Shape functions carry TF's kernel checks, in the kernels' order and with their texts (they also
run on the real shapes before each compute); the compute functions check only index values.

TF details mirrored here (TF 2.21, CPU):
- Gather/GatherV2 report the *first* out-of-range index, GatherNd and the ScatterNd family the
  *last* one. Gather checks nothing when the output is empty.
- ScatterNd adds duplicates in order, in the updates' dtype (float16 rounds at each step, uint8
  wraps, bool ORs, strings concatenate); float32/float64/bfloat16/complex adds run with
  denormals flushed (DAZ on the operands, FTZ on each partial sum).
- Where counts float32/float64/complex denormals as zero (DAZ) but not bfloat16 ones; it has no
  float16 kernel on CPU and handles ranks 1..8 only.
"""
from __future__ import annotations

import math

import numpy as np

from blockgraph.core import budget
from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Attr, Input, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.shapes import fmt

_QUANT16 = ("qint16", "quint16")
GATHER_T = dt.ALL
GATHER_ND_T = tuple(d for d in dt.ALL if d not in _QUANT16)
SCATTER_T = dt.NUMBERS + ("bool", "string")
NON_ALIASING_T = dt.NUMBERS + ("bool",)
WHERE_T = dt.NUMBERS + ("bool",)
INDEX16 = ("int16", "int32", "int64")

_POLICIES = ("", "DEFAULT", "ERROR", "IGNORE")
_POLICY = Attr("bad_indices_policy", "string", "",
               doc="what an out-of-range index does: ''/DEFAULT/ERROR fail, IGNORE skips it")
# TF reads dim_size(0) of a rank-0 indices/updates shape in the ScatterNdNonAliasingAdd
# "Dimensions [0,1)" check: uninitialized memory, so the check fails and prints junk. We fail it
# too and print '?'.
_SCALAR_DIM0 = "?"


# ----------------------------------------------------------------- small helpers

def _prod(dims):
    """Product of the dims: 0 when any dim is 0, else None when any is unknown."""
    if dims is None:
        return None
    if any(d == 0 for d in dims):
        return 0
    if any(d is None for d in dims):
        return None
    return math.prod(dims)


def _slice_str(shape, flat: int) -> str:
    """TF's SliceDebugString: '' for rank 0, else '[i,j,...]' of the flat position."""
    if len(shape) == 0:
        return ""
    return "[" + ",".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]"


def _scalar_int(spec):
    """The known value of a 0-d integer input, or None."""
    if spec is None or spec.value is None:
        return None
    v = np.asarray(spec.value)
    return int(v.reshape(-1)[0]) if v.size == 1 else None


def _check_policy(attrs):
    p = attrs.get("bad_indices_policy", "")
    if p not in _POLICIES:
        raise OpError(f"Unknown bad indices handling attribute: {p}")
    return p


def _zero(dtype_name):
    return b"" if dtype_name == "string" else 0


# FTZ/DAZ: the smallest normal magnitude per flushing dtype, and the magnitude from which sums
# of such values can never fall into the denormal range (so numpy's unflushed add is exact).
_TINY = {"float32": 2.0 ** -126, "bfloat16": 2.0 ** -126, "float64": 2.0 ** -1022,
         "complex64": 2.0 ** -126, "complex128": 2.0 ** -1022}
_SAFE = {"float32": 2.0 ** -102, "bfloat16": 2.0 ** -102, "float64": 2.0 ** -970,
         "complex64": 2.0 ** -102, "complex128": 2.0 ** -970}


def _flush(a, dtype_name):
    """Denormals (of each component) replaced by zero of the same sign, as x86 FTZ/DAZ do."""
    a = np.asarray(a)
    if dtype_name not in _TINY or a.size == 0:
        return a
    if a.dtype.kind == "c":
        out = np.empty_like(a)
        part = "float32" if dtype_name == "complex64" else "float64"
        out.real = _flush(a.real, part)
        out.imag = _flush(a.imag, part)
        return out
    f = a.astype(np.float32) if dtype_name == "bfloat16" else a
    mag = np.abs(f)
    den = (mag < _TINY[dtype_name]) & (mag > 0)
    if not den.any():
        return a
    out = a.copy()
    out[den] = np.copysign(np.zeros((), f.dtype), f[den]).astype(a.dtype)
    return out


def _small_rows(v, dtype_name):
    """Per row of the 2-D `v`: does it hold a nonzero component small enough that a sum with it
    can be a denormal? (Values of magnitude >= _SAFE are multiples of the smallest normal's ulp,
    so their sums are 0 or normal: then flushing never changes a sequential sum.)"""
    safe = _SAFE[dtype_name]
    parts = (v.real, v.imag) if v.dtype.kind == "c" else (v,)
    small = np.zeros(v.shape[0], dtype=bool)
    for p in parts:
        m = np.abs(p.astype(np.float32) if dtype_name == "bfloat16" else p)
        small |= ((m > 0) & (m < safe)).reshape(v.shape[0], -1).any(axis=1)
    return small


def _accumulate(out2d, rows, upd2d, dtype_name):
    """out2d[rows[k]] += upd2d[k] for k in order, in TF's arithmetic for the dtype."""
    if len(rows) == 0:
        return
    with np.errstate(over="ignore", invalid="ignore"):
        if dtype_name not in _TINY:
            np.add.at(out2d, rows, upd2d)
            return
        # target rows where flushing can matter get the exact (slower) sequential adds
        risky = np.zeros(out2d.shape[0], dtype=bool)
        risky[rows[_small_rows(upd2d, dtype_name) | _small_rows(out2d[rows], dtype_name)]] = True
        slow = risky[rows]
        if not slow.all():
            np.add.at(out2d, rows[~slow], upd2d[~slow])
        if slow.any():
            _add_flushed_in_order(out2d, rows[slow], upd2d[slow], dtype_name)


def _add_flushed_in_order(out2d, rows, upd2d, dtype_name):
    """Sequential adds with FTZ/DAZ: one occurrence of each target row per round, in order."""
    order = np.argsort(rows, kind="stable")
    sr = rows[order]
    start = np.r_[True, sr[1:] != sr[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(len(sr)), 0))
    occ = np.empty(len(rows), dtype=np.int64)
    occ[order] = np.arange(len(sr)) - first
    for r in range(int(occ.max()) + 1):
        sel = np.flatnonzero(occ == r)
        t = rows[sel]
        s = _flush(out2d[t], dtype_name) + _flush(upd2d[sel], dtype_name)
        out2d[t] = _flush(s, dtype_name)


# ----------------------------------------------------------------- Gather / GatherV2

class _Unknown(Exception):
    """A check cannot be decided before the run: stop checking (TF's later checks would only be
    reached after it, so raising one of them now could give the wrong message)."""


def _known(x):
    if x is None:
        raise _Unknown
    return x


def _gather_checks(p, i, axis_spec, bd, got):
    """GatherOp::Compute's checks in order; puts the normalized axis and batch_dims in `got` as
    they become known."""
    if len(_known(p)) < 1:
        raise OpError("params must be at least 1 dimensional", port="params")
    if bd >= 0:
        got["batch_dims"] = bd
    elif i is not None:
        got["batch_dims"] = bd + len(i)
    axis = 0
    if axis_spec is not None:
        if len(_known(axis_spec.shape)) != 0:
            raise OpError("axis must be scalar", port="axis")
        axis = _known(_scalar_int(axis_spec))
    least = -axis if axis < 0 else axis + 1
    if len(p) < least:
        raise OpError(f"Shape must be at least rank {least} but is rank {len(p)}", port="axis")
    axis = got["axis"] = axis + len(p) if axis < 0 else axis
    if bd != 0:
        ri = len(_known(i))
        if not -ri <= bd <= ri:
            raise OpError(f"Expected batch_dims in the range [{-ri}, {ri}], but got {bd}",
                          port="indices")
        bd = bd + ri if bd < 0 else bd
        if not bd < len(p):
            raise OpError(f"batch_dims ({bd}) must be less than rank(params) ({len(p)}).",
                          port="params")
        if axis < bd:
            raise OpError(f"batch_dims ({bd}) must be less than or equal to axis ({axis}).")
        for k in range(bd):
            if _known(p[k]) != _known(i[k]):
                raise OpError(f"params.shape[{k}]: {p[k]} should be equal to "
                              f"indices.shape[{k}]: {i[k]}", port="indices")


def _gather_shape(ctx):
    ctx.set_output("output", _gather_shape_common(ctx, has_axis=False))


def _gather_v2_shape(ctx):
    ctx.set_output("output", _gather_shape_common(ctx, has_axis=True))


def _gather_shape_common(ctx, has_axis):
    """GatherOp's checks, then params[:axis] + indices[batch_dims:] + params[axis+1:]."""
    p, i = ctx.shape("params"), ctx.shape("indices")
    got = {}
    try:
        _gather_checks(p, i, ctx.spec("axis") if has_axis else None,
                       ctx.attrs.get("batch_dims", 0), got)
    except _Unknown:
        pass
    bd, axis = got.get("batch_dims"), got.get("axis")
    if p is None or i is None or bd is None:
        return None
    if axis is None or not bd <= axis < len(p) or bd > len(i):
        return (None,) * max(len(p) + len(i) - 1 - bd, 0)
    batch = tuple(a if a is not None else b for a, b in zip(p[:bd], i[:bd]))
    return batch + tuple(p[bd:axis]) + tuple(i[bd:]) + tuple(p[axis + 1:])


def _gather(params, indices, axis, batch_dims):
    """GatherV2 on arrays already checked by the shape function (index values checked here)."""
    idx = np.asarray(indices)
    r = params.ndim
    axis = axis + r if axis < 0 else axis
    bd = batch_dims + idx.ndim if batch_dims < 0 else batch_dims
    ps = params.shape
    out_shape = ps[:axis] + idx.shape[bd:] + ps[axis + 1:]
    B, O, A, I = math.prod(ps[:bd]), math.prod(ps[bd:axis]), ps[axis], math.prod(ps[axis + 1:])
    N = math.prod(idx.shape[bd:])
    if B * O * N * I == 0:   # TF returns before looking at any index
        return np.empty(out_shape, dtype=params.dtype)
    bad = (idx < 0) | (idx >= A)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise OpError(f"indices{_slice_str(idx.shape, k)} = {int(idx.reshape(-1)[k])} is not in "
                      f"[0, {A})", port="indices")
    p4 = params.reshape(B, O, A, I)
    i2 = idx.reshape(B, N).astype(np.intp)
    out = p4[np.arange(B)[:, None, None], np.arange(O)[None, :, None], i2[:, None, :]]
    return out.reshape(out_shape)


@block("Gather",
       inputs=[Input("params", GATHER_T, type_attr="Tparams", doc="tensor to gather from"),
               Input("indices", dt.INDEX, type_attr="Tindices", doc="indices into params' dim 0")],
       attrs=[Attr("validate_indices", "bool", True, doc="ignored: CPU always validates")],
       outputs=[Output("output", "Tparams")], shape=_gather_shape)
def gather(params, indices):
    """Gather slices of `params` along dim 0 (output shape indices.shape + params.shape[1:])."""
    return _gather(params, indices, 0, 0)


@block("GatherV2",
       inputs=[Input("params", GATHER_T, type_attr="Tparams", doc="tensor to gather from"),
               Input("indices", INDEX16, type_attr="Tindices", doc="indices into params' axis"),
               Input("axis", dt.INDEX, type_attr="Taxis", doc="0-d axis of params (may be negative)")],
       attrs=[Attr("batch_dims", "int", 0, doc="leading dims shared by params and indices")],
       outputs=[Output("output", "Tparams")], shape=_gather_v2_shape)
def gather_v2(params, indices, axis, batch_dims):
    """Gather slices of `params` along `axis` at `indices`, with optional batch dims."""
    return _gather(params, indices, int(np.asarray(axis).reshape(())), batch_dims)


# ----------------------------------------------------------------- GatherNd

def _gather_nd_checks(p, i):
    """DoGatherNd's shape checks in order (the index values are checked by the compute)."""
    if len(_known(p)) < 1:
        raise OpError("params must be at least a vector", port="params")
    if len(_known(i)) < 1:
        raise OpError("indices must be at least a vector", port="indices")
    ix = _known(i[-1])
    if ix > len(p):
        raise OpError(f"index innermost dimension length must be <= params rank; saw: {ix} vs. "
                      f"{len(p)}", port="indices")
    n_result = _known(_prod(i[:-1]))
    if n_result > 0:
        if _known(_prod(p)) == 0:
            raise OpError("Requested more than 0 entries, but params is empty.  Params shape: "
                          f"{fmt(p)}", port="params")
        if ix > 7:
            raise OpError("Only indices.shape[-1] values between 1 and 7 are currently supported."
                          f"  Requested rank: {ix}", port="indices")


def _gather_nd_shape(ctx):
    _check_policy(ctx.attrs)
    p, i = ctx.shape("params"), ctx.shape("indices")
    try:
        _gather_nd_checks(p, i)
    except _Unknown:
        pass
    if p is None or i is None or i[-1] is None:
        ctx.set_output("output", None)   # the output rank depends on the index depth
    else:
        ctx.set_output("output", tuple(i[:-1]) + tuple(p[i[-1]:]))


@block("GatherNd",
       inputs=[Input("params", GATHER_ND_T, type_attr="Tparams", doc="tensor to gather from"),
               Input("indices", INDEX16, type_attr="Tindices",
                     doc="[..., K] index tuples into the first K dims of params")],
       attrs=[_POLICY],
       outputs=[Output("output", "Tparams")], shape=_gather_nd_shape)
def gather_nd(params, indices, bad_indices_policy, Tparams):
    """Gather slices of `params` at N-d index tuples (output indices.shape[:-1] + params.shape[K:])."""
    ix = indices.shape[-1]
    lead = indices.shape[:-1]
    n = math.prod(lead)
    out_shape = lead + params.shape[ix:]
    if n == 0:
        return np.empty(out_shape, dtype=params.dtype)
    prefix = params.shape[:ix]
    idx2 = indices.reshape(n, ix).astype(np.int64)
    bad = ((idx2 < 0) | (idx2 >= np.asarray(prefix, dtype=np.int64))).any(axis=1)
    any_bad = bool(bad.any())
    if any_bad and bad_indices_policy != "IGNORE":
        k = int(np.flatnonzero(bad)[-1])
        raise OpError(f"indices{_slice_str(lead, k)} = [{', '.join(str(int(v)) for v in idx2[k])}] "
                      f"does not index into param shape {fmt(params.shape)}, node name: GatherNd",
                      port="indices")
    slice_size = math.prod(params.shape[ix:])
    p2 = params.reshape(math.prod(prefix), slice_size)
    if ix:
        safe = np.where(bad[:, None], 0, idx2)
        lin = np.ravel_multi_index(tuple(safe.T), prefix)
    else:
        lin = np.zeros(n, dtype=np.intp)
    out = p2[lin]
    if any_bad:
        out[bad] = _zero(Tparams)
    return out.reshape(out_shape)


# ----------------------------------------------------------------- ScatterNd family

def _dim(shape, k):
    """dim_size(k) as TF reads it (junk for dim 0 of a scalar shape, -1 past the rank)."""
    if len(shape) == 0 and k == 0:
        return _SCALAR_DIM0
    return shape[k] if k < len(shape) else -1


def _valid_empty(n_in, ni, nu) -> bool:
    """TF's ValidEmptyOutputShape(n_in, ni, nu); _Unknown when it cannot be decided yet."""
    if ni == 0 and nu == 0:
        return True
    if (ni is not None and ni != 0) or (nu is not None and nu != 0):
        if any(v == 0 for v in (n_in, ni, nu) if v is not None):
            return False
        _known(n_in), _known(ni), _known(nu)
        return True
    raise _Unknown


def _scatter_kernel_checks(ind, upd, shape_in, out):
    """ScatterNdOp::Compute's own checks, in order, before DoScatterNd."""
    if len(_known(ind)) < 1:
        raise OpError(f"Indices shape must have rank at least one. Found:{fmt(ind)}", port="indices")
    if len(_known(upd)) < 1:
        raise OpError(f"Updates shape must have rank at least one. Found:{fmt(upd)}", port="updates")
    for d in _known(out):
        if _known(d) < 0:
            raise OpError(f"Dimension {d} must be >= 0", port="shape")
    if not _valid_empty(_prod(shape_in), _prod(ind), _prod(upd)):
        raise OpError("Indices and updates specified for empty output shape")
    outer = len(ind) - 1
    for k in range(outer):
        if _known(ind[k]) != _known(_dim(upd, k)):
            raise OpError(f"Dimensions [0,{outer}) of indices[shape={fmt(ind)}] must match "
                          f"dimensions [0,{outer}) of updates[shape={fmt(upd)}]", port="updates")
    ix = _known(ind[outer])
    msg = (f"Dimensions [{ix},{len(out)}) of input[shape={fmt(out)}] must match dimensions "
           f"[{outer},{len(upd)}) of updates[shape={fmt(upd)}]")
    if len(upd) - outer != len(out) - ix:
        raise OpError(msg, port="updates")
    for k in range(len(upd) - outer):
        if _known(upd[k + outer]) != out[ix + k]:
            raise OpError(msg, port="updates")
    if len(_known(shape_in)) != 1:
        raise OpError("Shape must be a vector", port="shape")


def _scatter_prepare_checks(out, ind, upd):
    """DoScatterNd's checks in order (PrepareAndValidateInputs, ValidateScatterNdUpdateShape,
    the index depth); `out` is the output (or input) shape."""
    if len(_known(out)) < 1:
        raise OpError(f"Output must be at least 1-D, got shape: {fmt(out)}")
    n_out = _prod(out)
    if not _valid_empty(n_out, _prod(ind), _prod(upd)):
        raise OpError("Indices and updates specified for empty output.  indices shape: "
                      f"{fmt(ind)}", port="indices")
    _known(ind), _known(upd)
    i0, u0 = _known(_dim(ind, 0)), _known(_dim(upd, 0))
    if i0 != u0 or i0 == _SCALAR_DIM0:
        raise OpError(f"Dimensions [0,1) of indices[shape={fmt(ind)}] = {i0} must match dimensions "
                      f"[0,1) of updates[shape={fmt(upd)}] = {u0}", port="updates")
    slice_dim = _known(ind[-1]) if len(ind) > 1 else 1
    batch_dim = len(ind) - 1 if len(ind) > 1 else 1
    prefix_err = OpError(f"Dimensions [0,{batch_dim}) of indices[shape={fmt(ind)}] must match "
                         f"dimensions [0,{batch_dim}) of updates[shape={fmt(upd)}]", port="updates")
    suffix_err = OpError(f"Dimensions [{slice_dim},{len(out)}) of input[shape={fmt(out)}] must "
                         f"match dimensions [{slice_dim},{len(upd)}) of updates[shape={fmt(upd)}]",
                         port="updates")
    if len(upd) < batch_dim:
        raise prefix_err
    if len(out) < slice_dim + (len(upd) - batch_dim):
        raise suffix_err
    if len(upd) != batch_dim + len(out) - slice_dim:
        raise suffix_err
    for d in range(batch_dim):
        if _known(upd[d]) != _known(_dim(ind, d)):
            raise prefix_err
    for d in range(len(upd) - batch_dim):
        if _known(upd[d + batch_dim]) != _known(out[d + slice_dim]):
            raise suffix_err
    if _known(n_out) > 0 and not 1 <= slice_dim <= 7:
        raise OpError("Only indices.shape[-1] values between 1 and 5 are currently supported.  "
                      f"Requested rank: {slice_dim}", port="indices")


def _scatter_output_shape(ctx):
    """The output shape from the `shape` input: its value, else one unknown dim per element."""
    v, s = ctx.value("shape"), ctx.shape("shape")
    if v is not None:
        return tuple(int(x) for x in np.asarray(v).reshape(-1))
    if s is not None and len(s) == 1 and s[0] is not None:
        return (None,) * s[0]
    return None


def _scatter_nd_shape(ctx):
    _check_policy(ctx.attrs)
    ind, upd = ctx.shape("indices"), ctx.shape("updates")
    out = _scatter_output_shape(ctx)
    try:
        _scatter_kernel_checks(ind, upd, ctx.shape("shape"), out)
        _scatter_prepare_checks(out, ind, upd)
    except _Unknown:
        pass
    if out is not None and ind is not None and upd is not None and len(ind) > 1 and \
            ind[-1] is not None and len(upd) - (len(ind) - 1) == len(out) - ind[-1]:
        ix, outer = ind[-1], len(ind) - 1   # fill unknown trailing dims from updates
        out = tuple(o if o is not None or k < ix else upd[outer + k - ix]
                    for k, o in enumerate(out))
    ctx.set_output("output", out)


def _non_aliasing_shape(ctx):
    _check_policy(ctx.attrs)
    out = ctx.shape("input")
    try:
        _scatter_prepare_checks(out, ctx.shape("indices"), ctx.shape("updates"))
    except _Unknown:
        pass
    ctx.set_output("output", out)


def _scatter_into(out, indices, updates, policy, T):
    """Add `updates` into the (writable) array `out` at `indices`, as TF's DoScatterNd."""
    shape = out.shape
    if out.size == 0:
        return out
    if indices.ndim > 1:
        slice_dim = indices.shape[-1]
        ind2 = indices.reshape(-1, slice_dim)
    else:   # TF reads a 1-D indices tensor as one row: only its first index is used
        slice_dim = 1
        ind2 = indices.reshape(1, -1)[:, :1] if indices.size else indices.reshape(0, 1)
    slice_size = math.prod(shape[slice_dim:])
    num_updates = indices.size // max(slice_dim, 1)
    upd2 = updates.reshape(num_updates, slice_size)[:len(ind2)]
    prefix = np.asarray(shape[:slice_dim], dtype=np.int64)
    ind2 = ind2.astype(np.int64)
    bad = ((ind2 < 0) | (ind2 >= prefix)).any(axis=1)
    if bad.any() and policy != "IGNORE":
        k = int(np.flatnonzero(bad)[-1])
        lead = indices.shape[:-1] if indices.ndim > 1 else ()
        raise OpError(f"indices{_slice_str(lead, k)} = [{', '.join(str(int(v)) for v in ind2[k])}] "
                      f"does not index into shape {fmt(shape)}", port="indices")
    ok = ~bad
    rows = np.ravel_multi_index(tuple(ind2[ok].T), tuple(shape[:slice_dim])) if ok.any() else \
        np.zeros(0, dtype=np.intp)
    out2 = out.reshape(-1, slice_size)
    _accumulate(out2, np.asarray(rows, dtype=np.intp), upd2[ok], T)
    return out


@block("ScatterNd",
       inputs=[Input("indices", dt.INDEX, type_attr="Tindices", doc="[..., K] index tuples"),
               Input("updates", SCATTER_T, type_attr="T", doc="values added at the indices"),
               Input("shape", dt.INDEX, type_attr="Tindices", doc="1-D shape of the output")],
       attrs=[_POLICY],
       outputs=[Output("output", "T")], shape=_scatter_nd_shape)
def scatter_nd(indices, updates, shape, bad_indices_policy, T):
    """A zero tensor of `shape` with `updates` added at N-d `indices` (duplicates are summed)."""
    dims = tuple(int(v) for v in np.asarray(shape).reshape(-1))
    if T == "string":
        out = np.empty(dims, dtype=object)
        out.fill(b"")
    else:
        out = np.zeros(dims, dtype=updates.dtype)
    return _scatter_into(out, indices, updates, bad_indices_policy, T)


@block("ScatterNdNonAliasingAdd",
       inputs=[Input("input", NON_ALIASING_T, type_attr="T", doc="tensor to add into"),
               Input("indices", dt.INDEX, type_attr="Tindices", doc="[..., K] index tuples"),
               Input("updates", NON_ALIASING_T, type_attr="T", doc="values added at the indices")],
       attrs=[_POLICY],
       outputs=[Output("output", "T")], shape=_non_aliasing_shape)
def scatter_nd_non_aliasing_add(input, indices, updates, bad_indices_policy, T):
    """A copy of `input` with `updates` added at N-d `indices` (duplicates are summed)."""
    return _scatter_into(np.array(input, copy=True), indices, updates, bad_indices_policy, T)


# ----------------------------------------------------------------- Where

def _where_shape(ctx):
    if ctx.dtype("condition") == "float16":
        raise OpError("No WhereOp available for float16/half type on CPU; dying in CPU WhereOp to "
                      "avoid silently creating costly copies from device.", port="condition")
    r = ctx.rank("condition")
    if r is not None and (r < 1 or r > 8):
        raise OpError(f"WhereOp : Unhandled input dimensions: {r}", port="condition")
    ctx.set_output("index", (None, r))


@block("Where",
       inputs=[Input("condition", WHERE_T, type_attr="T", doc="tensor whose non-zero/true "
                     "elements are located")],
       outputs=[Output("index", "int64")], shape=_where_shape, context=True)
def where(ctx, condition, T):
    """int64 coordinates [num_true, rank] of the non-zero (true) elements, in row-major order."""
    c = _flush(condition, T) if T != "bfloat16" else condition
    return _true_coordinates(c != 0, ctx.max_bytes)


def _true_coordinates(mask, max_bytes):
    """np.argwhere(mask), counted first and checked against the memory limit, then written
    column by column into the one output array (argwhere builds it twice)."""
    n, shape = int(np.count_nonzero(mask)), mask.shape
    budget.check(n * len(shape) * 8, max_bytes)
    out = np.empty((n, len(shape)), np.int64)
    flat = np.flatnonzero(mask)
    for axis in range(len(shape) - 1, -1, -1):
        np.remainder(flat, shape[axis], out=out[:, axis])
        flat //= max(shape[axis], 1)
    return out
