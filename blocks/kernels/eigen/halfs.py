"""float16 / bfloat16: TF computes half-type element-wise ops in float32 and rounds to the
storage type after every elementary operation (Eigen's Packet8h/Packet8bf convert to Packet8f
and back around each op; the scalar half/bfloat16 types do the same per element).

float32 -> bfloat16 rounds to nearest even in both paths; a NaN becomes +qNaN 0x7fc0 in the
packet conversion but keeps its sign (0x7fc0 / 0xffc0) in the scalar one. float32 -> float16
is vcvtps2ph (round to nearest even; half denormals are kept).
"""
from __future__ import annotations

import ml_dtypes
import numpy as np

from .prims import F32, ftz32

BF16 = np.dtype(ml_dtypes.bfloat16)
F16 = np.dtype(np.float16)


def widen(x):
    """half/bfloat16 array -> float32 (exact). bfloat16 denormals stay denormal here; the
    float32 kernels flush them (DAZ), while float16 denormals are normal float32 values."""
    if x.dtype == BF16:
        return (x.view(np.uint16).astype(np.uint32) << 16).view(F32)
    w = x.astype(F32)               # vcvtph2ps also quiets a signaling NaN; numpy does not
    return np.where(np.isnan(w), (w.view(np.uint32) | np.uint32(0x400000)).view(F32), w)


def bf16_round(x, packet):
    """float32 -> bfloat16, round to nearest even; NaN -> 0x7fc0 (packet) or sign|0x7fc0."""
    b = np.asarray(x, F32).view(np.uint32)
    r = ((b + np.uint32(0x7FFF) + ((b >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16))
    nan = np.isnan(np.asarray(x, F32))
    qnan = np.uint32(0x7FC0) if packet else (b >> np.uint32(16)) & np.uint32(0x8000) | np.uint32(0x7FC0)
    return np.where(nan, qnan, r).astype(np.uint16).view(BF16)


def narrow(x, dtype, packet):
    """float32 -> dtype (float16 or bfloat16) the way TF's packet or scalar path converts."""
    if np.dtype(dtype) == BF16:
        return bf16_round(x, packet)
    return np.asarray(x, F32).astype(np.float16)


def rounder(dtype, packet):
    """A function rounding a float32 array through dtype and back (one half-type op's result)."""
    def r(v):
        return widen(narrow(v, dtype, packet))
    return r


def daz_widen(x):
    """widen, then flush what float32 arithmetic would see as denormal."""
    return ftz32(widen(x))
