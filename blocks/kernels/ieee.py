"""x86 floating-point behaviour of TF's CPU threads, emulated on numpy arrays.

TF runs its kernels with denormals flushed (FTZ and DAZ set in MXCSR): a denormal float32 or
float64 input reads as a zero of the same sign, and a denormal result becomes one. float16 and
bfloat16 are computed in float32 (their denormals are normal there) and are not flushed by this.
"""
from __future__ import annotations

import numpy as np

_TINY = {np.dtype(np.float32): np.float32(np.finfo(np.float32).tiny),
         np.dtype(np.float64): np.float64(np.finfo(np.float64).tiny)}


def daz(a):
    """`a` with float32/float64 denormals replaced by zeros of their sign (other dtypes as is);
    returns `a` itself when it holds none (no copy)."""
    a = np.asarray(a)
    tiny = _TINY.get(a.dtype)
    if tiny is None:
        return a
    mag = np.abs(a)
    sub = (mag < tiny) & (mag > 0)
    if not sub.any():
        return a
    return np.where(sub, np.copysign(a.dtype.type(0), a), a)


ftz = daz   # the same flush, applied to a result


def cmul(a, b):
    """Complex `a * b` as Eigen's packets compute it (no fused multiply-add): re = ar*br - ai*bi,
    im = ar*bi + ai*br, each product and sum rounded to the component type (numpy's own complex
    multiply may fuse them)."""
    a, b = np.asarray(a), np.asarray(b)
    dtype = np.result_type(a, b)
    ar, ai, br, bi = daz(a.real), daz(a.imag), daz(b.real), daz(b.imag)
    with np.errstate(all="ignore"):
        re = daz(daz(ar * br) - daz(ai * bi))
        im = daz(daz(ar * bi) + daz(ai * br))
    out = np.empty(np.broadcast_shapes(a.shape, b.shape), dtype)
    out.real, out.imag = re, im
    return out


BF16_NAN = np.uint16(0x7fc0)


def bf16_packet_nans(a):
    """bfloat16 `a` with the NaNs of its packet part made +qNaN (0x7fc0), as Eigen's 8-lane
    float32 -> bfloat16 conversion writes them; the scalar tail (the last n % 8 elements of the
    flat output) keeps the NaN's sign. Returns `a` unchanged when there is no such NaN."""
    flat = np.ascontiguousarray(a).reshape(-1)
    n = flat.size - flat.size % 8
    bits = flat.view(np.uint16)
    nan = np.isnan(flat[:n].astype(np.float32)) & (bits[:n] != BF16_NAN)
    if not nan.any():
        return a
    out = flat.copy()
    out.view(np.uint16)[:n][nan] = BF16_NAN
    return out.reshape(np.shape(a))
