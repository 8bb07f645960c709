"""numba versions of the float32 and float64 packet kernels, for large arrays: the functions
of f32.py / f64.py recompiled per element (their globals rebound to the scalar primitives
below), driven by a serial loop that LLVM vectorizes, over chunks of the array that the calling
thread and workshare's helper threads take in turn (`_spread`; not numba's prange, whose
OpenMP threads each wait for the slowest on a shared VM). No fastmath, so LLVM keeps every
rounding (no FMA contraction) and the results are bit-identical to the numpy path (tests);
being element-wise they do not depend on the chunks or the threads.

numba is imported on the first call that reaches `packet_fn` (never at import) and each op
compiles on its first large array (about 1 s; the functions are built at run time, so numba's
disk cache does not apply). BLOCKGRAPH_NO_FUSED=1, or numba missing, keeps the numpy path.
LLVM does not keep x86's NaN operand order (nor sNaN quieting), so the driver reports NaN
results and `run` redoes those elements with the numpy kernel, which spells the order out.
"""
from __future__ import annotations

import os
import threading
import types

import numpy as np

from . import f32, f64
from .. import workshare

_UNARY = ("Exp", "Expm1", "Log", "Log1p", "Tanh", "Sigmoid", "Erf", "Elu", "Selu", "Softplus")
#: ops with a numba packet kernel, per dtype: op -> (function name in f32/f64, arity)
KERNELS = {op: (op.lower(), 1) for op in _UNARY}
KERNELS["SoftplusGrad"] = ("softplus_grad", 2)
MODULES = {"float32": f32, "float64": f64}
_HELPERS = {"float32": ("exp", "log", "log1p"),
            "float64": ("ldexp", "exp", "log", "_log1p", "log1p", "log1p_xfirst", "_polevl",
                        "_split", "sigmoid_e", "erf_e", "elu_e", "selu_e", "softplus_e",
                        "softplus_grad_e")}
_STATE = {}
#: numba-IR inlining of the helpers: "never" compiles faster but LLVM then vectorizes less
INLINE = "always"
_LOCK = threading.Lock()
#: elements a chunk (the unit a thread takes)
CHUNK = 1 << 18

_DRIVER = """
def drive({args}, out):
    bad = False
    for i in range(out.size):
        r = kern({elems})
        out[i] = r
        bad |= r != r
    return bad
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

    @intrinsic
    def _exp_bits(typingctx, c):
        """A biased exponent c (a float holding an integer in [0, 2^11) or [0, 2^8)) -> the float
        with bits c << mantissa bits, in integers of the float's width (numba's own int32
        arithmetic widens to int64, which halves the vector width)."""
        def codegen(context, builder, signature, args):
            import llvmlite.ir as ir
            it = ir.IntType(bits)
            e = builder.fptosi(args[0], it)
            return builder.bitcast(builder.shl(e, ir.Constant(it, 52 if wide else 23)),
                                   context.get_value_type(nft))
        return nft(nft), codegen

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

    def exp_bits(c):
        return _exp_bits(c)

    def nan_first(a, b, r):
        return a + a if a != a else (b + b if b != b else r)
    s = "64" if wide else "32"
    fns = {"where": where, "fmin": fmin, "fmax": fmax, "floor": floor, "bits" + s: bits_,
           "from_bits" + s: from_bits, "cvtt" + s: cvtt, "ftz" + s: ftz, "to_f" + s: to_f,
           "nan_first": nan_first, "exp_bits": exp_bits}
    return {n: njit(inline=INLINE)(f) for n, f in fns.items()}


def _ldexp32(prims):
    """float32 ldexp and ldexp_fast in float32 and int32 lanes only (LLVM then vectorizes 8
    wide). ldexp is a cheaper pldexp for exp's own range (y in [0.5, 2), m in [-151, 129]
    when the result is kept): y * 2^floor(m / 2) is exact and normal, so one rounding by
    2^(m - floor(m / 2)) gives the bits of Eigen's four-step pldexp; other m only reach lanes
    exp replaces. exp's m is at most 128 (x clamped to 88.723), so only the lower clamp is
    needed; it also sends a NaN m (a NaN result, redone by numpy) to a number, as fptosi of
    NaN is undefined in LLVM."""
    F32 = np.float32
    exp_bits, floor, ftz32 = (prims[k] for k in ("exp_bits", "floor", "ftz32"))

    def ldexp(a, m):
        e = m if m > F32(-151.0) else F32(-151.0)
        h = floor(e * F32(0.5))
        return ftz32((a * exp_bits(h + F32(127.0))) * exp_bits(e - h + F32(127.0)))

    def ldexp_fast(a, m):
        e = m + F32(127.0)
        e = e if e > F32(0.0) else F32(0.0)
        return ftz32(a * exp_bits(e if e < F32(255.0) else F32(255.0)))
    return ldexp, ldexp_fast


def _compile(dtype):
    """{op: chunk driver} for one dtype."""
    import numba
    from numba import njit
    mod = MODULES[dtype]
    g = dict(vars(mod))
    g.update(_scalar_prims(numba, dtype))
    if dtype == "float32":
        g["ldexp"], g["ldexp_fast"] = (njit(inline=INLINE)(f) for f in _ldexp32(g))
    for name in _HELPERS[dtype] + tuple(v[0] for v in KERNELS.values()):
        fn = getattr(mod, name)
        g[name] = njit(inline=INLINE)(types.FunctionType(fn.__code__, g, name))
    drivers = {}
    for op, (name, arity) in KERNELS.items():
        args = ("x", "y")[:arity]
        dg = {"kern": g[name]}
        exec(_DRIVER.format(args=", ".join(args), elems=", ".join(a + "[i]" for a in args)), dg)
        # error_model="numpy": no division-by-zero branch, which stops vectorization
        drivers[op] = njit(nogil=True, error_model="numpy")(dg["drive"])
    return drivers


def _spread(n, fn):
    """fn(lo, hi) over CHUNK-element chunks of range(n), on the calling thread and workshare's
    helpers (a helper that is not scheduled holds up at most the chunk it took); True when
    any call returned True."""
    bad = []

    def one(i):
        if fn(i * CHUNK, min(n, (i + 1) * CHUNK)):
            bad.append(True)
    workshare.run(-(-n // CHUNK), one, blas=False)
    return bool(bad)


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
        if _spread(out.size, lambda lo, hi: drive(*(a[lo:hi] for a in arrays), out[lo:hi])):
            # LLVM does not keep x86's NaN operand order or sNaN quieting: NaN results (rare)
            # are redone element-wise by the numpy kernel, which spells those rules out.
            bad = np.isnan(out)
            out[bad] = ref(*(a[bad] for a in arrays))
        return out
    return run
