"""Matrix products as TF's CPU kernels compute them, dtype by dtype: the one GEMM that MatMul,
the batch matmuls and the convolutions (im2col + GEMM) share.

- float32 / float64 / complex: BLAS (numpy's OpenBLAS) on inputs whose denormals are flushed
  (TF's threads run with DAZ) and a result whose denormals are flushed (FTZ). The order of the
  sums is BLAS's, not Eigen's blocked one: results differ from TF's in the last bits, within
  `k * eps * sum|terms|` (the fixtures' tolerance).
- float16 / bfloat16: TF converts to float32, accumulates in float32 and rounds the result once
  (a 4096-term sum of ones is 4096 in float16; 3000 ones are 2992 in bfloat16); so does this.
- integers: exact, wrapping as TF's (int16/int32 computed in int64, then wrapped).
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt

from .ieee import daz

_F32 = np.dtype(np.float32)
_WIDE_INT = {np.dtype(np.int8), np.dtype(np.int16), np.dtype(np.int32), np.dtype(np.uint8),
             np.dtype(np.uint16), np.dtype(np.uint32)}


def compute_dtype(dtype) -> np.dtype:
    """The numpy dtype a product of `dtype` operands is computed in."""
    dtype = np.dtype(dtype)
    if dtype == dt.NUMPY["bfloat16"] or dtype == np.float16:
        return _F32
    if dtype in _WIDE_INT:
        return np.dtype(np.int64)
    return dtype


def prepare(a, dtype=None):
    """`a` converted to its compute dtype, denormals flushed (for float types): an operand ready
    for `product` (do it once for an operand used in several products)."""
    a = np.asarray(a)
    cd = compute_dtype(a.dtype if dtype is None else dtype)
    if a.dtype != cd:
        a = a.astype(cd)
    if cd.kind == "c":
        return _complex_daz(a)
    return daz(a) if cd.kind == "f" else a


def _complex_daz(a):
    """Complex `a` with denormal components flushed (itself when it has none)."""
    re0, im0 = a.real, a.imag
    re, im = daz(re0), daz(im0)
    if re is re0 and im is im0:
        return a
    out = np.empty(a.shape, a.dtype)
    out.real, out.imag = re, im
    return out


def product(a, b, out_dtype):
    """a @ b (numpy matmul semantics, batch dims broadcast) for prepared operands, as a TF kernel
    of `out_dtype` returns it."""
    with np.errstate(all="ignore"):
        r = np.matmul(a, b)
    return finish(r, out_dtype)


def finish(r, out_dtype):
    """A product computed in the compute dtype, as the kernel of `out_dtype` stores it: denormals
    flushed, then rounded (half types) or wrapped (integers)."""
    out_dtype = np.dtype(out_dtype)
    if r.dtype.kind == "c":
        r = _complex_daz(r)
    elif r.dtype.kind == "f":
        r = daz(r)
    if r.dtype != out_dtype:
        r = r.astype(out_dtype)
    return r


def matmul(a, b, out_dtype=None):
    """The whole product of raw operands: prepare both, multiply, finish."""
    out_dtype = np.dtype(out_dtype or a.dtype)
    return product(prepare(a), prepare(b), out_dtype)
