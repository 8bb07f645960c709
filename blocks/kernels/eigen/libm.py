"""The scalar (tail) path: TF's non-packet loop calls glibc (expf, logf, sinf, ...) through
Eigen's numext functions; this module calls the same libm. glibc picks its FMA variants by
CPU, as it does inside TF.

TF's threads run with MXCSR FTZ|DAZ set, and glibc then mixes bit tests (which see a denormal
input as it is) with arithmetic (which sees it as zero): logf(1e-45) = -103.97208, not -inf.
To get that exactly, the calls go through a small x86-64 loop that sets MXCSR like TF's threads
(native.py). Where executable memory is refused, `call` falls back to per-function rules
measured against TF (DENORMAL_RULE), exact except for rare denormal corner cases.
"""
from __future__ import annotations

import ctypes
import os
import ctypes.util

import numpy as np

from . import native
from .prims import F32, F64, ftz32, ftz64

_LIBM = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")


def _bind(name, argtype, nargs):
    fn = getattr(_LIBM, name)
    fn.restype = argtype
    fn.argtypes = [argtype] * nargs
    return fn


_F = {n: _bind(n, ctypes.c_float, k) for n, k in
      [("expf", 1), ("expm1f", 1), ("logf", 1), ("log1pf", 1), ("sinf", 1), ("cosf", 1),
       ("tanhf", 1), ("powf", 2), ("atan2f", 2), ("hypotf", 2)]}
_D = {n: _bind(n, ctypes.c_double, k) for n, k in
      [("exp", 1), ("expm1", 1), ("log", 1), ("log1p", 1), ("sin", 1), ("cos", 1),
       ("tanh", 1), ("pow", 2), ("atan2", 2), ("hypot", 2)]}


# What glibc returns, inside TF's DAZ/FTZ threads, when an input is denormal: "daz" (the
# input reads as zero), "raw" (glibc answers from the bits, e.g. log1p(x) = x for tiny x);
# logf and atan2f have their own rules below. Measured against TF 2.21.
DENORMAL_RULE = {"expf": "daz", "expm1f": "daz", "logf": "logf", "log1pf": "raw", "sinf": "raw",
                 "cosf": "daz", "tanhf": "raw", "powf": "daz", "atan2f": "atan2f",
                 "exp": "daz", "expm1": "daz", "log": "daz", "log1p": "raw", "sin": "raw",
                 "cos": "daz", "tanh": "raw", "pow": "daz", "atan2": "daz",
                 "hypotf": "daz", "hypot": "daz"}
LOGF_DENORMAL = F32(-103.97208)          # logf(+denormal) under DAZ: 0xc2cff1b4
PIO2_DOWN = np.array([0x3FC90FDA], np.uint32).view(F32)[0]


def _loop(fn, dt, args):
    n = args[0].size
    out = np.empty(n, dt)
    cols = [a.tolist() for a in args]
    for i in range(n):
        out[i] = fn(*(c[i] for c in cols))
    return out


def call(name, *arrays):
    """Apply libm function `name` (float names end in f) element-wise under FTZ|DAZ."""
    f32 = name in _F
    kind = ("f" if f32 else "d") + str(len(arrays))
    loop = native.routine(kind)
    if loop is None or os.environ.get("BLOCKGRAPH_NO_TRAMPOLINE"):
        return call_rules(name, *arrays)
    dt = F32 if f32 else F64
    args = [np.ascontiguousarray(np.asarray(a, dt).ravel()) for a in arrays]
    out = np.empty(args[0].size, dt)
    fn = ctypes.cast(_F[name] if f32 else _D[name], ctypes.c_void_p)
    loop(fn, *(a.ctypes.data for a in args), out.ctypes.data, out.size)
    return out


def call_rules(name, *arrays):
    """Apply libm function `name` (float names end in f) element-wise, as inside TF's threads:
    denormal inputs per DENORMAL_RULE, denormal results flushed."""
    f32 = name in _F
    fn = _F[name] if f32 else _D[name]
    dt, ftz = (F32, ftz32) if f32 else (F64, ftz64)
    raw = [np.asarray(a, dt).ravel() for a in arrays]
    daz = [ftz(a) for a in raw]
    with np.errstate(all="ignore"):
        out = ftz(_loop(fn, dt, daz))
        den = np.zeros(out.shape, bool)
        for r, d in zip(raw, daz):
            den |= (r != d) | ((r.view(np.uint8).reshape(r.size, -1) !=
                                d.view(np.uint8).reshape(d.size, -1)).any(1) & (r == 0))
        if not den.any():
            return out
        rule = DENORMAL_RULE[name]
        if rule == "raw":
            out[den] = _loop(fn, dt, [r[den] for r in raw])
        elif rule == "logf":
            x = raw[0][den]
            out[den] = np.where(x > 0, LOGF_DENORMAL, np.array([-4194304], np.int32).view(F32)[0])
        elif rule == "atan2f":
            y, x = raw[0][den], raw[1][den]
            yd, xd = daz[0][den], daz[1][den]
            r = _loop(fn, dt, [y, xd])                   # y raw (atan2f(den, 1) = den)
            neg_x_den = (xd == 0) & (x != 0) & (x < 0) & (yd != 0) & np.isfinite(yd)
            r = np.where(neg_x_den, np.copysign(PIO2_DOWN, yd), r)
            out[den] = r
    return out
