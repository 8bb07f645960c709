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

from . import gemm_fused, workshare
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
    return flush(a) if cd.kind == "f" else a


def flush(a):
    """ieee.daz, with the one-pass scan of `gemm_fused` deciding first on large arrays."""
    return a if gemm_fused.has_denormal(a) is False else daz(a)


def _complex_daz(a):
    """Complex `a` with denormal components flushed (itself when it has none)."""
    re0, im0 = a.real, a.imag
    re, im = daz(re0), daz(im0)
    if re is re0 and im is im0:
        return a
    out = np.empty(a.shape, a.dtype)
    out.real, out.imag = re, im
    return out


def product(a, b, out_dtype, out=None, shared=True):
    """a @ b (numpy matmul semantics, batch dims broadcast) for prepared operands, as a TF kernel
    of `out_dtype` returns it (written into `out` when given and of the compute dtype). Large
    real float products are shared out over the threads by row blocks (`workshare`; not with
    shared=False, for a caller that is itself a block of shared work). Complex products are four
    real ones, re = ar@br - ai@bi and im = ar@bi + ai@br, as Eigen accumulates the parts (a
    complex BLAS gives NaN where an infinity meets a finite value; Eigen gives the infinity)."""
    mm = _shared_matmul if shared else np.matmul
    with np.errstate(all="ignore"):
        if a.dtype.kind == "c":
            ar, ai, br, bi = (np.ascontiguousarray(p) for p in (a.real, a.imag, b.real, b.imag))
            r = np.empty(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + (a.shape[-2], b.shape[-1]),
                         a.dtype)
            r.real = mm(ar, br) - mm(ai, bi)
            r.imag = mm(ar, bi) + mm(ai, br)
        elif out is not None and a.dtype == out.dtype:
            r = mm(a, b, out=out)
            flushed = finish(r, out_dtype)
            if flushed is not out:
                out[...] = flushed
            return out
        else:
            r = mm(a, b)
    return finish(r, out_dtype)


def _shared_matmul(a, b, out=None):
    """np.matmul of real float operands in row blocks (or blocks of the leading batch dim) over
    the `workshare` threads; np.matmul itself when small or of other types."""
    if a.dtype.kind != "f" or a.dtype != b.dtype or a.ndim < 2 or b.ndim < 2:
        return np.matmul(a, b, out=out)
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    nb = int(np.prod(batch))
    if batch and batch[0] >= workshare.MAX_BLOCKS:      # whole matrices a block
        parts = workshare.blocks(batch[0], nb // batch[0] * m * k * n)
        axis = 0
    else:
        parts = workshare.blocks(m, nb * k * n, min_rows=256)
        axis = -2
    if len(parts) == 1:
        return np.matmul(a, b, out=out)
    if out is None:
        out = np.empty(batch + (m, n), a.dtype)

    def cut(x, lo, hi):
        if axis == -2:
            return x[..., lo:hi, :]
        return x[lo:hi] if x.ndim == out.ndim and x.shape[0] != 1 else x

    def block(i):
        lo, hi = parts[i]
        with np.errstate(all="ignore"):
            np.matmul(cut(a, lo, hi), b if axis == -2 else cut(b, lo, hi), out=cut(out, lo, hi))
    workshare.run(len(parts), block)
    return out


def finish(r, out_dtype):
    """A product computed in the compute dtype, as the kernel of `out_dtype` stores it: denormals
    flushed, then rounded (half types) or wrapped (integers)."""
    out_dtype = np.dtype(out_dtype)
    if r.dtype.kind == "c":
        r = _complex_daz(r)
    elif r.dtype.kind == "f":
        r = flush(r)
    if r.dtype != out_dtype:
        r = r.astype(out_dtype)
    return r


def matmul(a, b, out_dtype=None):
    """The whole product of raw operands: prepare both, multiply, finish."""
    out_dtype = np.dtype(out_dtype or a.dtype)
    return product(prepare(a), prepare(b), out_dtype)
