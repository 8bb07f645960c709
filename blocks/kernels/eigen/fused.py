"""numba versions of the float32 and float64 packet kernels, for large arrays: the functions
of f32.py / f64.py recompiled per element (their globals rebound to the scalar primitives
below), driven by a parallel loop over the packet part. No fastmath, so LLVM keeps every
rounding (no FMA contraction) and the results are bit-identical to the numpy path (tests).

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

from . import f32, f64

_UNARY = ("Exp", "Expm1", "Log", "Log1p", "Tanh", "Sigmoid", "Erf", "Elu", "Selu", "Softplus")
#: ops with a numba packet kernel, per dtype: op -> (function name in f32/f64, arity)
KERNELS = {op: (op.lower(), 1) for op in _UNARY}
KERNELS["SoftplusGrad"] = ("softplus_grad", 2)
MODULES = {"float32": f32, "float64": f64}
_HELPERS = {"float32": ("ldexp_fast", "exp", "log", "log1p"),
            "float64": ("ldexp", "exp", "log", "_log1p", "log1p", "log1p_xfirst", "_polevl",
                        "_split", "sigmoid_e", "erf_e", "elu_e", "selu_e", "softplus_e",
                        "softplus_grad_e")}
_STATE = {}
#: numba-IR inlining of the helpers: "never" compiles faster but LLVM then vectorizes less
INLINE = "always"
_LOCK = threading.Lock()

_DRIVER1 = """
def drive(x, out):
    nans = 0
    for i in prange(x.size):
        r = kern(x[i])
        out[i] = r
        nans += r != r
    return nans
"""
_DRIVER2 = """
def drive(x, y, out):
    nans = 0
    for i in prange(x.size):
        r = kern(x[i], y[i])
        out[i] = r
        nans += r != r
    return nans
"""


def enabled():
    return os.environ.get("BLOCKGRAPH_NO_FUSED", "") in ("", "0")


def _scalar_prims(numba, dtype):
    """Scalar (numba) versions of the names in prims.py the kernels use, for one dtype."""
    from numba import njit, types as nt
    from numba.extending import intrinsic
    wide = dtype == "float64"
    FT, IT = (np.float64, np.int64) if wide else (np.float32, np.int32)
    nft, nit = (nt.float64, nt.int64) if wide else (nt.float32, nt.int32)
    bits = 64 if wide else 32

    @intrinsic
    def _f2i(typingctx, x):
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(nit))
        return nit(nft), codegen

    @intrinsic
    def _i2f(typingctx, i):
        def codegen(context, builder, signature, args):
            import llvmlite.ir as ir
            v = args[0]
            w = signature.args[0].bitwidth
            if w > bits:
                v = builder.trunc(v, ir.IntType(bits))
            elif w < bits:
                v = builder.sext(v, ir.IntType(bits))
            return builder.bitcast(v, context.get_value_type(nft))
        return nft(i), codegen

    ZERO, TINY = FT(0.0), FT(np.finfo(FT).tiny)
    LIMIT = FT(2.0 ** (bits - 1))
    INT_MIN = IT(np.iinfo(IT).min)

    def where(c, a, b):
        return a if c else b

    def fmin(a, b):
        return b if b < a else a

    def fmax(a, b):
        return b if b > a else a

    def floor(x):
        return FT(np.floor(x))

    def bits_(x):
        return _f2i(x)

    def from_bits(i):
        return _i2f(i)

    def cvtt(x):                # branch-free, so LLVM can vectorize: fptosi only sees in-range
        ok = abs(x) < LIMIT
        r = IT(x if ok else ZERO)
        return r if ok else INT_MIN

    def ftz(x):
        return x * ZERO if abs(x) < TINY else x

    def to_f(i):
        return FT(i)

    def nan_first(a, b, r):
        return a + a if a != a else (b + b if b != b else r)
    s = "64" if wide else "32"
    fns = {"where": where, "fmin": fmin, "fmax": fmax, "floor": floor, "bits" + s: bits_,
           "from_bits" + s: from_bits, "cvtt" + s: cvtt, "ftz" + s: ftz, "to_f" + s: to_f,
           "nan_first": nan_first}
    return {n: njit(inline=INLINE)(f) for n, f in fns.items()}


def _exp_ldexp32(prims):
    """A cheaper pldexp for float32 exp's own range (y in [0.5, 2), m in [-151, 129] when the
    result is kept): y * 2^(m >> 1) is exact and normal, so one rounding by 2^(m - (m >> 1))
    gives the bits of Eigen's four-step pldexp; other m only reach lanes exp replaces."""
    F32 = np.float32
    cvtt32, fmin, fmax, from_bits32, ftz32 = (prims[k] for k in (
        "cvtt32", "fmin", "fmax", "from_bits32", "ftz32"))

    def ldexp(a, m):
        e = cvtt32(fmin(fmax(m, F32(-151.0)), F32(129.0)))
        m1 = e >> 1
        return ftz32((a * from_bits32((m1 + 127) << 23)) * from_bits32((e - m1 + 127) << 23))
    return ldexp


def _compile(dtype):
    """{op: parallel driver} for one dtype."""
    import numba
    from numba import njit
    mod = MODULES[dtype]
    g = dict(vars(mod))
    g.update(_scalar_prims(numba, dtype))
    if dtype == "float32":
        g["ldexp"] = njit(inline=INLINE)(_exp_ldexp32(g))
    for name in _HELPERS[dtype] + tuple(v[0] for v in KERNELS.values()):
        fn = getattr(mod, name)
        g[name] = njit(inline=INLINE)(types.FunctionType(fn.__code__, g, name))
    drivers = {}
    for op, (name, arity) in KERNELS.items():
        dg = {"prange": numba.prange, "kern": g[name]}
        exec(_DRIVER1 if arity == 1 else _DRIVER2, dg)
        drivers[op] = njit(parallel=True)(dg["drive"])
    return drivers


def packet_fn(op, dtype="float32"):
    """The numba packet function for `op` on float32/float64 arrays, or None."""
    if op not in KERNELS or dtype not in MODULES or not enabled():
        return None
    with _LOCK:
        if dtype not in _STATE:
            try:
                _STATE[dtype] = _compile(dtype)
            except ImportError:
                _STATE[dtype] = {}
    drive = _STATE[dtype].get(op)
    if drive is None:
        return None
    ref = getattr(MODULES[dtype], KERNELS[op][0])
    ft = np.dtype(dtype).type

    def run(*arrays, out=None):
        arrays = [np.ascontiguousarray(a, ft) for a in arrays]
        if out is None:
            out = np.empty(arrays[0].size, ft)
        if drive(*arrays, out):
            # LLVM does not keep x86's NaN operand order or sNaN quieting: NaN results (rare)
            # are redone element-wise by the numpy kernel, which spells those rules out.
            bad = np.isnan(out)
            out[bad] = ref(*(a[bad] for a in arrays))
        return out
    return run
