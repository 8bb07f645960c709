"""Permuting axes: Transpose, InvertPermutation.

The kernels' checks live in the shape functions (they also run on the real arrays before each
compute), in the kernel's order: a check whose inputs are not yet known stops later checks from
firing early, so a page never reports an error TF would not have reached first.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Input, Output, Spec, block
from blockgraph.core.errors import OpError

from ._shape_helpers import NO_QUANT, rank_check



# ----------------------------------------------------------------------------- Transpose

def _transpose_perm(in_shape, perm_spec):
    """(permutation or None, output shape) with TransposeOp's checks."""
    ps = perm_spec.shape
    if ps is not None and not rank_check(ps, lambda x: len(x) == 1, "perm must be rank 1, got shape {}",
                                          "perm"):
        return None, None
    n = None if ps is None else ps[0]
    if in_shape is not None and n is not None and n != len(in_shape):
        raise OpError(f"transpose expects a vector of size {len(in_shape)}. But input(1) is a vector "
                      f"of size {n}", port="perm")
    if perm_spec.value is None or in_shape is None:
        r = len(in_shape) if in_shape is not None else n
        return None, (None if r is None else (None,) * r)
    dims = len(in_shape)
    perm = [int(p) for p in np.asarray(perm_spec.value).reshape(-1).astype(np.int32)]
    perm = [p + dims if p < 0 else p for p in perm]
    seen = [False] * dims
    for p in perm:
        if not 0 <= p < dims:
            raise OpError(f"{p} is out of range [0 .. {dims})", port="perm")
        seen[p] = True
    for i in range(dims):
        if not seen[i]:
            raise OpError(f"{i} is missing from {{{','.join(map(str, perm))}}}.", port="perm")
    return perm, tuple(in_shape[p] for p in perm)


def _transpose_shape(ctx):
    ctx.set_output("y", _transpose_perm(ctx.shape("x"), ctx.spec("perm"))[1])


@block("Transpose",
       inputs=[Input("x", NO_QUANT, type_attr="T"),
               Input("perm", dt.INDEX, type_attr="Tperm", doc="a permutation of [0, rank)")],
       outputs=[Output("y", "T")], shape=_transpose_shape)
def transpose(x, perm):
    """Permute the dimensions: y.shape[i] = x.shape[perm[i]] (negative entries count from the end)."""
    p, _ = _transpose_perm(x.shape, Spec(None, perm.shape, perm))
    return np.transpose(x, p).copy(order="C")


# ----------------------------------------------------------------------------- InvertPermutation

def _invert(values):
    """InvertPermutationOp: the inverse, or TF's error for the first bad entry (in order)."""
    v = np.asarray(values).reshape(-1).astype(np.int64)
    n = v.size
    bad = np.flatnonzero((v < 0) | (v >= n))
    first_bad = int(bad[0]) if bad.size else n
    ok = v[:first_bad]
    _, first = np.unique(ok, return_index=True)
    dup = np.ones(ok.size, bool)
    dup[first] = False
    dups = np.flatnonzero(dup)
    if dups.size:
        i = int(dups[0])
        raise OpError(f"{int(v[i])} is duplicated in the input.", port="x")
    if bad.size:
        raise OpError(f"{int(v[first_bad])} is not between 0 and {n}", port="x")
    out = np.empty(n, np.int64)
    out[v] = np.arange(n)
    return out


def _invert_permutation_shape(ctx):
    x = ctx.shape("x")
    if x is not None and len(x) != 1:
        raise OpError("invert_permutation expects a 1D vector.", port="x")
    v = ctx.value("x")
    if v is not None:
        _invert(v)
    ctx.set_output("y", (None,) if x is None else x)


@block("InvertPermutation", inputs=[Input("x", dt.INDEX, type_attr="T", doc="a permutation of [0, n)")],
       outputs=[Output("y", "T")], shape=_invert_permutation_shape)
def invert_permutation(x):
    """The inverse permutation: y[x[i]] = i."""
    return _invert(x).astype(x.dtype)
