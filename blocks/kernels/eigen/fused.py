"""numba versions of the float32 packet kernels, for large arrays: the functions of f32.py
recompiled per element (their globals rebound to the scalar primitives below), driven by a
parallel loop over the packet part. No fastmath, so LLVM keeps every rounding (no FMA
contraction) and the results are bit-identical to the numpy path (tests check this).

numba is imported on the first call that reaches `packet_fn` (never at import) and each op
compiles on its first large array (about 1 s; the functions are built at run time, so numba's
disk cache does not apply). BLOCKGRAPH_NO_FUSED=1, or numba missing, keeps the numpy path.
LLVM does not keep x86's NaN operand order (nor sNaN quieting), so the driver counts NaN
results and `run` redoes those elements with the numpy kernel, which spells the order out.
"""
from __future__ import annotations

import os
import threading
import types

import numpy as np

from . import f32

#: ops (float32) with a numba packet kernel: name -> f32 function name, arity
KERNELS = {"Exp": ("exp", 1), "Expm1": ("expm1", 1), "Log": ("log", 1), "Log1p": ("log1p", 1),
           "Tanh": ("tanh", 1), "Sigmoid": ("sigmoid", 1), "Erf": ("erf", 1), "Elu": ("elu", 1),
           "Selu": ("selu", 1), "Softplus": ("softplus", 1),
           "SoftplusGrad": ("softplus_grad", 2)}
_HELPERS = ("ldexp", "ldexp_fast", "exp", "log", "log1p")
_STATE = {}
_LOCK = threading.Lock()

_DRIVER1 = '''
def drive(x, out):
    nans = 0
    for i in prange(x.size):
        r = kern(x[i])
        out[i] = r
        nans += r != r
    return nans
'''
_DRIVER2 = '''
def drive(x, y, out):
    nans = 0
    for i in prange(x.size):
        r = kern(x[i], y[i])
        out[i] = r
        nans += r != r
    return nans
'''


def enabled():
    return os.environ.get("BLOCKGRAPH_NO_FUSED", "") in ("", "0")


def _scalar_prims(numba):
    """Scalar (numba) versions of the names in prims.py the f32 kernels use."""
    from numba import njit, types as nt
    from numba.extending import intrinsic

    @intrinsic
    def _bitcast_f2i(typingctx, x):
        sig = nt.int32(nt.float32)

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(nt.int32))
        return sig, codegen

    @intrinsic
    def _bitcast_i2f(typingctx, i):
        sig = nt.float32(i)

        def codegen(context, builder, signature, args):
            import llvmlite.ir as ir
            v = builder.trunc(args[0], ir.IntType(32)) if signature.args[0].bitwidth > 32 \
                else args[0]
            return builder.bitcast(v, context.get_value_type(nt.float32))
        return sig, codegen

    F32 = np.float32
    ZERO, TINY = F32(0.0), F32(np.finfo(np.float32).tiny)
    INT_MIN = np.int32(-2147483648)

    def where(c, a, b):
        return a if c else b

    def fmin(a, b):
        return b if b < a else a

    def fmax(a, b):
        return b if b > a else a

    def floor(x):
        return np.float32(np.floor(x))

    def bits32(x):
        return _bitcast_f2i(x)

    def from_bits32(i):
        return _bitcast_i2f(i)

    def cvtt32(x):              # branch-free, so LLVM can vectorize: fptosi only sees in-range
        ok = abs(x) < F32(2147483648.0)
        r = np.int32(x if ok else ZERO)
        return r if ok else INT_MIN

    def ftz32(x):
        return x * ZERO if abs(x) < TINY else x

    def to_f32(i):
        return np.float32(i)

    def nan_first(a, b, r):
        return a + a if a != a else (b + b if b != b else r)
    opts = dict(inline="always")
    return {n: njit(**opts)(f) for n, f in dict(
        where=where, fmin=fmin, fmax=fmax, floor=floor, bits32=bits32, from_bits32=from_bits32,
        cvtt32=cvtt32, ftz32=ftz32, to_f32=to_f32, nan_first=nan_first).items()}


def _exp_ldexp(prims):
    """A cheaper pldexp for exp's own range (y in [0.5, 2), m in [-151, 129] when the result is
    kept): y * 2^(m >> 1) is exact and normal, so one rounding by 2^(m - (m >> 1)) gives the
    bits of Eigen's four-step pldexp; m outside that range only reaches lanes exp replaces."""
    F32 = np.float32
    cvtt32, fmin, fmax, from_bits32, ftz32 = (prims[k] for k in (
        "cvtt32", "fmin", "fmax", "from_bits32", "ftz32"))

    def ldexp(a, m):
        e = cvtt32(fmin(fmax(m, F32(-151.0)), F32(129.0)))
        m1 = e >> 1
        return ftz32((a * from_bits32((m1 + 127) << 23)) * from_bits32((e - m1 + 127) << 23))
    return ldexp


def _compile():
    import numba
    from numba import njit
    g = dict(vars(f32))
    g.update(_scalar_prims(numba))
    g["ldexp"] = njit(inline="always")(_exp_ldexp(g))
    for name in tuple(h for h in _HELPERS if h != "ldexp") + tuple(v[0] for v in KERNELS.values()):
        fn = getattr(f32, name)
        g[name] = njit(inline="always")(types.FunctionType(fn.__code__, g, name))
    drivers = {}
    for op, (name, arity) in KERNELS.items():
        dg = {"prange": numba.prange, "kern": g[name]}
        exec(_DRIVER1 if arity == 1 else _DRIVER2, dg)
        drivers[op] = njit(parallel=True, cache=False)(dg["drive"])
    return drivers


def packet_fn(op):
    """The numba packet function for float32 `op` (arrays in, array out), or None."""
    if op not in KERNELS or not enabled():
        return None
    with _LOCK:
        if "drivers" not in _STATE:
            try:
                _STATE["drivers"] = _compile()
            except ImportError:
                _STATE["drivers"] = {}
    drive = _STATE["drivers"].get(op)
    if drive is None:
        return None

    ref = getattr(f32, KERNELS[op][0])

    def run(*arrays, out=None):
        arrays = [np.ascontiguousarray(a, np.float32) for a in arrays]
        if out is None:
            out = np.empty(arrays[0].size, np.float32)
        if drive(*arrays, out):
            # LLVM does not keep x86's NaN operand order or sNaN quieting: NaN results (rare)
            # are redone element-wise by the numpy kernel, which spells those rules out.
            bad = np.isnan(out)
            out[bad] = ref(*(a[bad] for a in arrays))
        return out
    return run
