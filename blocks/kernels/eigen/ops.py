"""Per op and dtype: the packet function (Eigen's polynomial, on the first n - n % width
elements) and the scalar function (TF's tail loop). Each takes and returns arrays of the
op's dtype; `apply` splits a flat array between them."""
from __future__ import annotations

import numpy as np

from .. import buffers
from . import binary, cplx, f32, f64, halfops, halfs, libm
from .prims import F32, F64, ftz32, ftz64

ONE32 = F32(1.0)


def _lib(name):
    return lambda *a: libm.call(name, *a)


def _sigmoid_tail32(x):
    e = libm.call("expf", f32.fmin(ftz32(x), f32.SIG_HI))
    return ftz32(e / (ONE32 + e))


def _elu_tail32(x):
    return np.where(ftz32(x) < 0, libm.call("expf", x) - ONE32, x)


def _selu_tail32(x):
    d = ftz32(x)
    return np.where(d < 0, f32.SELU_SCALE_ALPHA * (libm.call("expf", x) - ONE32),
                    f32.SELU_SCALE * d)


def _softplus_tail32(x):
    d = ftz32(x)
    ex = libm.call("expf", x)
    th = f32.SOFTPLUS_THRESHOLD
    return np.where(d > -th, x, np.where(d < th, ex, libm.call("log1pf", ex)))


def _softplus_grad_tail32(g, x):
    return ftz32(ftz32(g) / (libm.call("expf", -ftz32(x)) + ONE32))


FLOAT32 = {
    "Exp": (f32.exp, _lib("expf")),
    "Expm1": (f32.expm1, _lib("expm1f")),
    "Log": (f32.log, _lib("logf")),
    "Log1p": (f32.log1p, _lib("log1pf")),
    "Sin": (f32.sin, _lib("sinf")),
    "Cos": (f32.cos, _lib("cosf")),
    "Tanh": (f32.tanh, f32.tanh),
    "Sigmoid": (f32.sigmoid, _sigmoid_tail32),
    "Erf": (f32.erf, f32.erf),
    "Rsqrt": (f32.rsqrt, lambda x: ONE32 / np.sqrt(ftz32(x))),
    "Reciprocal": (f32.reciprocal, lambda x: ftz32(ONE32 / ftz32(x))),
    "Sqrt": (f32.sqrt, f32.sqrt),
    "Pow": (binary.pow32, _lib("powf")),
    "Atan2": (binary.atan2_32, _lib("atan2f")),
    "Elu": (f32.elu, _elu_tail32),
    "Selu": (f32.selu, _selu_tail32),
    "Softplus": (f32.softplus, _softplus_tail32),
    "SoftplusGrad": (f32.softplus_grad, _softplus_grad_tail32),
}

ONE64 = F64(1.0)


def _l(name):
    return lambda x: libm.call(name, x)


def _log_tail64(x):
    """TF's scalar double log: -inf for +-0 and denormals, +qNaN for x < 0 (not glibc's -NaN)."""
    d = ftz64(x)
    r = libm.call("log", d)
    return np.where(np.isnan(r) & ~np.isnan(d), F64(np.nan), r)


def _softplus_tail64(x):
    ex = libm.call("exp", x)
    return f64.softplus_e(x, ex, libm.call("log1p", ex))


FLOAT64 = {
    "Exp": (f64.exp, _lib("exp")),
    "Expm1": (f64.expm1, _lib("expm1")),
    "Log": (f64.log, _log_tail64),
    "Log1p": (f64.log1p, _lib("log1p")),
    "Sin": (None, _lib("sin")),
    "Cos": (None, _lib("cos")),
    "Tanh": (f64.tanh, _lib("tanh")),
    "Sigmoid": (f64.sigmoid, lambda x: f64.sigmoid_e(_l("exp")(x))),
    "Erf": (f64.erf, lambda x: f64.erf_e(x, _l("exp")(-ftz64(ftz64(x) * ftz64(x))))),
    "Rsqrt": (lambda x: ONE64 / np.sqrt(ftz64(x)), lambda x: ONE64 / np.sqrt(ftz64(x))),
    "Reciprocal": (lambda x: ftz64(ONE64 / ftz64(x)), lambda x: ftz64(ONE64 / ftz64(x))),
    "Sqrt": (lambda x: np.sqrt(ftz64(x)), lambda x: np.sqrt(ftz64(x))),
    "Pow": (binary.pow64, _lib("pow")),
    "Atan2": (binary.atan2_64, _lib("atan2")),
    "Elu": (f64.elu, lambda x: f64.elu_e(x, _l("exp")(x))),
    "Selu": (f64.selu, lambda x: f64.selu_e(x, _l("exp")(x))),
    "Softplus": (f64.softplus, _softplus_tail64),
    "SoftplusGrad": (f64.softplus_grad,
                     lambda g, x: f64.softplus_grad_e(g, _l("exp")(-ftz64(x)))),
}

WIDTH = {"float32": 8, "float64": 4, "float16": 8, "bfloat16": 8, "complex64": 4,
         "complex128": 2}
TABLES = {"float32": FLOAT32, "float64": FLOAT64}
TABLES["complex64"] = {
    "Exp": (cplx.exp_packet, cplx.exp_scalar), "Log": (cplx.log_packet, cplx.log_scalar),
    "Tanh": (None, cplx.tanh_scalar), "Rsqrt": (None, cplx.rsqrt),
    "Reciprocal": (cplx.reciprocal_packet, cplx.reciprocal_scalar)}
TABLES["complex128"] = {
    "Exp": (None, cplx.exp_scalar), "Log": (cplx.log_packet, cplx.log_scalar),
    "Tanh": (None, cplx.tanh_scalar), "Rsqrt": (None, cplx.rsqrt),
    "Reciprocal": (cplx.reciprocal_packet, cplx.reciprocal_scalar)}
for _dt in ("float16", "bfloat16"):
    _np = halfs.F16 if _dt == "float16" else halfs.BF16
    TABLES[_dt] = {op: (None if op in ("Pow", "Atan2") else halfops.make(op, _np, True),
                        halfops.make(op, _np, False)) for op in FLOAT32}


#: packet parts of at least this many float32 elements run the numba kernels (fused.py)
FUSED_MIN = 1 << 16


def apply(op, dtype_name, *arrays):
    """TF's element-wise loop: packets over the first n - n % width elements, then the tail."""
    packet, tail = TABLES[dtype_name][op]
    fast = None
    if dtype_name in ("float32", "float64") and arrays[0].size >= FUSED_MIN:
        from . import fused
        fast = fused.packet_fn(op, dtype_name)
    dt = np.dtype(arrays[0].dtype)
    flat = [np.ascontiguousarray(a).reshape(-1) for a in arrays]
    n = flat[0].size
    k = n - n % WIDTH[dtype_name] if packet is not None else 0
    # a fused call's output is recycled memory (buffers.py): fresh pages cost about as much
    out = buffers.empty((n,), dt) if fast is not None else np.empty(n, dt)
    with np.errstate(all="ignore"):
        if k and fast is not None:
            fast(*(a[:k] for a in flat), out=out[:k])
        elif k:
            out[:k] = packet(*(a[:k] for a in flat))
        if k < n:
            out[k:] = tail(*(a[k:] for a in flat))
    return out.reshape(arrays[0].shape)
