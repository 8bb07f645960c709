"""The scalar (tail) path: TF's non-packet loop calls glibc (expf, logf, sinf, ...) through
Eigen's numext functions; this module calls the same libm. glibc picks its FMA variants by
CPU, as it does inside TF.

TF's threads run with MXCSR FTZ|DAZ set, and glibc then mixes bit tests (which see a denormal
input as it is) with arithmetic (which sees it as zero): logf(1e-45) = -103.97208, not -inf.
To get that exactly, the calls go through a 240-byte x86-64 loop (TRAMPOLINE: gcc -O1 -fPIC of
`for (i...) out[i] = fn(in[i])` between _mm_setcsr(old | 0x8040) and _mm_setcsr(old)), mapped
executable with mmap. Where that mapping is refused, `call` falls back to per-function rules
measured against TF (DENORMAL_RULE), exact except for rare denormal corner cases.
"""
from __future__ import annotations

import ctypes
import os
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


# What glibc returns, inside TF's DAZ/FTZ threads, when an input is denormal: "daz" (the
# input reads as zero), "raw" (glibc answers from the bits, e.g. log1p(x) = x for tiny x);
# logf and atan2f have their own rules below. Measured against TF 2.21.
DENORMAL_RULE = {"expf": "daz", "expm1f": "daz", "logf": "logf", "log1pf": "raw", "sinf": "raw",
                 "cosf": "daz", "tanhf": "raw", "powf": "daz", "atan2f": "atan2f",
                 "exp": "daz", "expm1": "daz", "log": "daz", "log1p": "raw", "sin": "raw",
                 "cos": "daz", "tanh": "raw", "pow": "daz", "atan2": "daz"}
LOGF_DENORMAL = F32(-103.97208)          # logf(+denormal) under DAZ: 0xc2cff1b4
PIO2_DOWN = np.array([0x3FC90FDA], np.uint32).view(F32)[0]


def _loop(fn, dt, args):
    n = args[0].size
    out = np.empty(n, dt)
    cols = [a.tolist() for a in args]
    for i in range(n):
        out[i] = fn(*(c[i] for c in cols))
    return out


TRAMPOLINE = (
    "415741564155415455534883ec180fae5c240c448b7c240c4489f80d408000008944240c0fae54240c4885c97e2a4989"
    "fc4989f54989d64889cdbb00000000f3410f10449d0041ffd4f3410f11049e4883c3014839dd75e744897c240c0fae54"
    "240c4883c4185b5d415c415d415e415fc3415741564155415455534883ec180fae5c240c8b44240c894424080d408000"
    "008944240c0fae54240c4d85c07e334989fc4989f54989d64989cf4c89c5bb00000000f3410f10449d00f3410f100c9e"
    "41ffd4f3410f11049f4883c3014839dd75e18b4424088944240c0fae54240c4883c4185b5d415c415d415e415fc34157"
    "41564155415455534883ec180fae5c240c448b7c240c4489f80d408000008944240c0fae54240c4885c97e2a4989fc49"
    "89f54989d64889cdbb00000000f2410f1044dd0041ffd4f2410f1104de4883c3014839dd75e744897c240c0fae54240c"
    "4883c4185b5d415c415d415e415fc3415741564155415455534883ec180fae5c240c8b44240c894424080d4080000089"
    "44240c0fae54240c4d85c07e334989fc4989f54989d64989cf4c89c5bb00000000f2410f1044dd00f2410f100cde41ff"
    "d4f2410f1104df4883c3014839dd75e18b4424088944240c0fae54240c4883c4185b5d415c415d415e415fc3"
)
_OFFSETS = {"f1": 0x0, "f2": 0x71, "d1": 0xEE, "d2": 0x15F}
_TRAMP = {}


def _trampolines():
    """{kind: ctypes function} of the FTZ/DAZ loops, or {} where exec memory is refused."""
    if _TRAMP or _TRAMP.get("failed"):
        return _TRAMP
    try:
        import mmap
        code = bytes.fromhex("".join(TRAMPOLINE))
        buf = mmap.mmap(-1, len(code), prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
        buf.write(code)
        base = ctypes.addressof(ctypes.c_char.from_buffer(buf))
        vp, lg = ctypes.c_void_p, ctypes.c_long
        for kind, off in _OFFSETS.items():
            nargs = 3 if kind[1] == "1" else 4
            _TRAMP[kind] = ctypes.CFUNCTYPE(None, *([vp] * nargs), lg)(base + off)
        _TRAMP["_buf"] = buf
    except Exception:          # noqa: BLE001 - no exec memory: use the rules
        _TRAMP.clear()
        _TRAMP["failed"] = True
    return _TRAMP


def call(name, *arrays):
    """Apply libm function `name` (float names end in f) element-wise under FTZ|DAZ."""
    t = _trampolines()
    if "f1" not in t or os.environ.get("BLOCKGRAPH_NO_TRAMPOLINE"):
        return call_rules(name, *arrays)
    f32 = name in _F
    dt = F32 if f32 else F64
    args = [np.ascontiguousarray(np.asarray(a, dt).ravel()) for a in arrays]
    out = np.empty(args[0].size, dt)
    fn = ctypes.cast(_F[name] if f32 else _D[name], ctypes.c_void_p)
    kind = ("f" if f32 else "d") + str(len(args))
    t[kind](fn, *(a.ctypes.data for a in args), out.ctypes.data, out.size)
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
