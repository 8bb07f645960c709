"""Set operations on 1-D tensors: Unique, UniqueWithCounts, ListDiff.

Equality is TF's hash-map equality (TF 2.21, CPU):
- float32/float64: -0.0 equals 0.0, denormals equal 0 (DAZ), NaN equals nothing (not even the
  same NaN bits); the value kept for a group is its first occurrence (so y may hold -0.0).
- float16/bfloat16 hash their bits: -0.0 and 0.0 stay apart, NaN still equals nothing.
- integers, bool, strings: plain equality.
Unique keeps first-occurrence order.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import budget
from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Attr, Input, Output, block
from blockgraph.core.errors import OpError

UNIQUE_T = dt.REALS + ("bool", "string")
LISTDIFF_T = dt.REALS + ("string",)
OUT_IDX = Attr("out_idx", "type", "int32", choices=dt.INDEX, doc="dtype of the index outputs")

_BITS = {"float32": np.uint32, "float64": np.uint64, "float16": np.uint16, "bfloat16": np.uint16}
_TINY = {"float32": np.float32(2.0 ** -126), "float64": np.float64(2.0 ** -1022)}


def _keys(x, T):
    """(keys, nan): values that are equal exactly when TF's hash map finds them equal, and the
    mask of NaNs (which equal nothing)."""
    if T not in _BITS:
        return x, None
    if T in _TINY:
        v = np.where(np.abs(x) < _TINY[T], x.dtype.type(0), x)   # DAZ and -0.0 -> 0.0
        nan = np.isnan(v)
    else:
        v = x
        nan = np.isnan(x.astype(np.float32))
    return v.view(_BITS[T]), nan


def _codes(x, T):
    """An int64 group code per element (equal elements share one, each NaN has its own)."""
    keys, nan = _keys(x, T)
    if nan is None or not nan.any():
        return np.unique(keys, return_inverse=True)[1].reshape(-1)
    codes = np.empty(x.shape, dtype=np.int64)
    ok = ~nan
    inv = np.unique(keys[ok], return_inverse=True)[1].reshape(-1)
    codes[ok] = inv
    start = int(inv.max()) + 1 if inv.size else 0
    codes[nan] = start + np.arange(int(nan.sum()))
    return codes


def _unique(x, T, out_idx, max_bytes, with_counts):
    """(y, idx, count) in first-occurrence order; the outputs are checked against the memory
    limit before anything is computed (idx: as many as x) and once the distinct values are
    counted (y, count)."""
    idx_dtype = dt.to_numpy(out_idx)
    budget.check(budget.nbytes(idx_dtype, x.size), max_bytes)
    if x.size == 0:
        return x.copy(), np.zeros(0, idx_dtype), np.zeros(0, idx_dtype)
    codes = _codes(x, T)
    _, first, inv, counts = np.unique(codes, return_index=True, return_inverse=True,
                                      return_counts=True)
    k = len(first)
    budget.check(budget.nbytes(x.dtype, k) + budget.nbytes(idx_dtype, x.size + k * with_counts),
                 max_bytes)
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return (x[first[order]], rank[inv.reshape(-1)].astype(idx_dtype),
            counts[order].astype(idx_dtype))


def _vector_shape(port, message):
    def check(ctx):
        s = ctx.shape(port)
        if s is not None and len(s) != 1:
            raise OpError(message, port=port)
        return s
    return check


_x_vec = _vector_shape("x", "unique expects a 1D vector.")


def _unique_shape(ctx):
    s = _x_vec(ctx)
    ctx.set_output("y", (None,))
    ctx.set_output("idx", s if s is not None else (None,))


def _unique_counts_shape(ctx):
    _unique_shape(ctx)
    ctx.set_output("count", (None,))


@block("Unique",
       inputs=[Input("x", UNIQUE_T, type_attr="T", doc="1-D tensor")],
       attrs=[OUT_IDX],
       outputs=[Output("y", "T", doc="the distinct values, in first-occurrence order"),
                Output("idx", "out_idx", doc="position in y of each x")],
       shape=_unique_shape, context=True)
def unique(ctx, x, T, out_idx):
    """The distinct elements of 1-D `x` in first-occurrence order, and each element's index in them."""
    y, idx, _ = _unique(x, T, out_idx, ctx.max_bytes, with_counts=False)
    return y, idx


@block("UniqueWithCounts",
       inputs=[Input("x", UNIQUE_T, type_attr="T", doc="1-D tensor")],
       attrs=[OUT_IDX],
       outputs=[Output("y", "T", doc="the distinct values, in first-occurrence order"),
                Output("idx", "out_idx", doc="position in y of each x"),
                Output("count", "out_idx", doc="how many times each y occurs in x")],
       shape=_unique_counts_shape, context=True)
def unique_with_counts(ctx, x, T, out_idx):
    """Unique, plus how many times each distinct element occurs."""
    return _unique(x, T, out_idx, ctx.max_bytes, with_counts=True)


_ld_x = _vector_shape("x", "x should be a 1D vector.")
_ld_y = _vector_shape("y", "y should be a 1D vector.")


def _list_diff_shape(ctx):
    _ld_x(ctx)
    _ld_y(ctx)
    ctx.set_output("out", (None,))
    ctx.set_output("idx", (None,))


@block("ListDiff",
       inputs=[Input("x", LISTDIFF_T, type_attr="T", doc="1-D tensor to keep values from"),
               Input("y", LISTDIFF_T, type_attr="T", doc="1-D tensor of values to remove")],
       attrs=[OUT_IDX],
       outputs=[Output("out", "T", doc="values of x not in y, in order"),
                Output("idx", "out_idx", doc="their positions in x")],
       shape=_list_diff_shape, context=True)
def list_diff(ctx, x, y, T, out_idx):
    """The elements of 1-D `x` not present in `y` (order and duplicates kept), and their positions."""
    kx, nan_x = _keys(x, T)
    ky, nan_y = _keys(y, T)
    if nan_y is not None:
        ky = ky[~nan_y]
    found = np.isin(kx, ky) if kx.size and ky.size else np.zeros(x.shape, dtype=bool)
    if nan_x is not None:
        found &= ~nan_x
    keep = np.flatnonzero(~found)
    budget.check(budget.nbytes(x.dtype, keep.size) + budget.nbytes(dt.to_numpy(out_idx), keep.size),
                 ctx.max_bytes)
    return x[keep], keep.astype(dt.to_numpy(out_idx))
