"""Primitives the Eigen kernels are written in (numpy versions, on 1-D arrays).

The kernels in f32.py/f64.py use only these names, arithmetic operators and comparisons, so
the same function source also compiles with numba on scalars (fused.py swaps in scalar
versions of these names). The semantics are those of the x86 instructions Eigen emits.
"""
from __future__ import annotations

import numpy as np

F32, F64, I32, I64 = np.float32, np.float64, np.int32, np.int64
U32, U64 = np.uint32, np.uint64
TINY32 = F32(np.finfo(np.float32).tiny)
TINY64 = F64(np.finfo(np.float64).tiny)


def where(c, a, b):
    """pselect: a where c else b (bitwise blend, so NaN payloads and denormals pass as is)."""
    return np.where(c, a, b)


def fmin(a, b):
    """Eigen pmin = vminps(b, a): b if b < a else a (a when unordered, as std::min)."""
    return np.where(b < a, b, a)


def fmax(a, b):
    """Eigen pmax = vmaxps(b, a): b if b > a else a (a when unordered, as std::max)."""
    return np.where(b > a, b, a)


def floor(x):
    return np.floor(x)


def trunc(x):
    return np.trunc(x)


def bits32(x):
    """float32 -> its int32 bit pattern."""
    return np.asarray(x, F32).view(I32)


def from_bits32(i):
    """int32 (or wider integer holding a 32-bit pattern) -> float32."""
    return np.asarray(i).astype(I32).view(F32)


def bits64(x):
    return np.asarray(x, F64).view(I64)


def from_bits64(i):
    return np.asarray(i).astype(I64).view(F64)


def cvtt32(x):
    """cvttps2dq: float32 -> int32 truncating; NaN and out of range give INT_MIN."""
    ok = np.abs(x) < F32(2147483648.0)
    return np.where(ok, np.where(ok, x, F32(0)).astype(I32), I32(-2147483648))


def cvtt64(x):
    """cvttpd2dq-style float64 -> int64 truncation; NaN/out of range give INT64_MIN."""
    ok = np.abs(x) < F64(9.2e18)
    return np.where(ok, np.where(ok, x, F64(0)).astype(I64), I64(-9223372036854775808))


def to_f32(i):
    """cvtdq2ps: integer -> float32."""
    return np.asarray(i).astype(F32)


def to_f64(i):
    return np.asarray(i).astype(F64)


def ftz32(x):
    """FTZ/DAZ: a float32 denormal becomes the zero of its sign."""
    return np.where(np.abs(x) < TINY32, x * F32(0), x)


def ftz64(x):
    return np.where(np.abs(x) < TINY64, x * F64(0), x)


def f64_to_f32(x):
    """cvtsd2ss under FTZ: round to float32, denormal results flushed."""
    return ftz32(np.asarray(x, F64).astype(F32))


def f32_to_f64(x):
    return np.asarray(x, F32).astype(F64)


def nan_first(a, b, r):
    """r = a (op) b with x86's NaN rule made explicit: a's NaN if a is NaN, else b's. numpy's
    SIMD loops (and LLVM, which commutes fmul) do not keep the operand order when two NaNs
    meet; Eigen's compiled code does."""
    return np.where(a != a, a + a, np.where(b != b, b + b, r))     # x + x: x quieted
