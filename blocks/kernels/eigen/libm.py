"""The scalar (tail) path: TF's non-packet loop calls glibc (expf, logf, sinf, ...) through
Eigen's numext functions; this module calls the same libm through ctypes, one element at a
time (a tail has at most 7 elements), with the inputs DAZ'd and the results flushed as TF's
FTZ/DAZ threads do. glibc picks its FMA variants by CPU, as it does inside TF.
"""
from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np

from .prims import F32, F64, ftz32, ftz64

_LIBM = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")


def _bind(name, argtype, nargs):
    fn = getattr(_LIBM, name)
    fn.restype = argtype
    fn.argtypes = [argtype] * nargs
    return fn


_F = {n: _bind(n, ctypes.c_float, k) for n, k in
      [("expf", 1), ("expm1f", 1), ("logf", 1), ("log1pf", 1), ("sinf", 1), ("cosf", 1),
       ("tanhf", 1), ("powf", 2), ("atan2f", 2)]}
_D = {n: _bind(n, ctypes.c_double, k) for n, k in
      [("exp", 1), ("expm1", 1), ("log", 1), ("log1p", 1), ("sin", 1), ("cos", 1),
       ("tanh", 1), ("pow", 2), ("atan2", 2)]}


def call(name, *arrays):
    """Apply libm function `name` (float names end in f) element-wise; DAZ in, FTZ out."""
    f32 = name in _F
    fn = _F[name] if f32 else _D[name]
    dt, ftz = (F32, ftz32) if f32 else (F64, ftz64)
    args = [ftz(np.asarray(a, dt)).ravel() for a in arrays]
    n = args[0].size
    out = np.empty(n, dt)
    with np.errstate(all="ignore"):
        cols = [a.tolist() for a in args]
        for i in range(n):
            out[i] = fn(*(c[i] for c in cols))
    return ftz(out)


