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
