"""float16 / bfloat16 versions of the ops, as measured against TF:
- Packets (Packet8h/Packet8bf) of Exp, Expm1, Log, Log1p, Sin, Cos, Tanh, Erf, Rsqrt,
  Reciprocal, Sqrt run the float32 packet function and round once (F16/BF16_PACKET_FUNCTION).
- Composite formulas (logistic, Elu, Selu, Softplus, SoftplusGrad) round to the storage type
  after every elementary op, constants included (Selu's scales); their selections return the
  stored input itself (Elu/Softplus of a NaN keep its bits, even in bfloat16 packets).
- Scalars call glibc's float function and round (Half.h, BFloat16.h): Tanh's tail is glibc
  tanhf, not Eigen's rational function; Rsqrt's is half(1) / half(sqrtf(x)).
- Softplus' threshold is log(NumTraits<T>::epsilon()) + 2 in T, and Eigen's half epsilon is
  0x0800 = 2^-13 (not 2^-10); bfloat16's is 2^-7.
- float16 Log1p packets (alone or inside Softplus) return 0xffff for a NaN input.
- Pow/Atan2 have no half packets: glibc powf/atan2f on every element.
- vcvtph2ps quiets signaling float16 NaNs (halfs.widen)."""
from __future__ import annotations

import numpy as np

from . import f32, libm
from .halfs import narrow, widen
from .prims import F32, ftz32

ONE = F32(1.0)


def _g(name):
    return lambda x: libm.call(name, x)


def _rsqrt_scalar(x):            # half(1) / sqrt(half): two roundings, done by the caller's R
    return None


PACKET_F32 = {"Exp": f32.exp, "Expm1": f32.expm1, "Log": f32.log, "Log1p": f32.log1p,
              "Sin": f32.sin, "Cos": f32.cos, "Tanh": f32.tanh, "Erf": f32.erf,
              "Rsqrt": f32.rsqrt, "Reciprocal": f32.reciprocal, "Sqrt": f32.sqrt}
SCALAR_F32 = {"Exp": _g("expf"), "Expm1": _g("expm1f"), "Log": _g("logf"),
              "Log1p": _g("log1pf"), "Sin": _g("sinf"), "Cos": _g("cosf"), "Tanh": _g("tanhf"),
              "Erf": f32.erf, "Sqrt": f32.sqrt}


def _log1p_h16(x):
    """float16's compiled plog1p lets log(1+x)'s NaN 0xffffffff win over x's (half 0xffff)."""
    return np.where(np.isnan(x), np.array(-1, np.int32).view(F32), f32.log1p(x))


def make(op, dtype, packet):
    """The function computing op on a half/bfloat16 array along TF's packet or scalar path."""
    def R(v):                    # one elementary op's result in the storage type, widened
        return widen(narrow(v, dtype, packet))

    def W(x):                    # an input as float32 arithmetic sees it
        return ftz32(widen(x))

    exp = f32.exp if packet else _g("expf")
    log1p = f32.log1p if packet else _g("log1pf")
    if packet and dtype == np.float16:
        log1p = _log1p_h16

    def out(v):
        return narrow(v, dtype, packet)

    if op == "Log1p" and packet and dtype == np.float16:
        return lambda x: out(log1p(widen(x)))
    if op in PACKET_F32 and (packet or op in SCALAR_F32):
        fn = PACKET_F32[op] if packet else SCALAR_F32[op]
        return lambda x: out(fn(widen(x)))
    if op == "Rsqrt":            # scalar: half(1) / half(sqrtf(x))
        return lambda x: out(ONE / R(np.sqrt(W(x))))
    if op == "Reciprocal":
        return lambda x: out(ftz32(ONE / W(x)))
    if op == "Sigmoid":
        def sigmoid(x):
            e = R(exp(widen(x)))
            return out(np.where(e == np.inf, ONE, ftz32(e / R(ONE + e))))
        return sigmoid
    if op == "Elu":
        # the select runs on the stored values: x itself (NaN bits and all) where x >= 0
        return lambda x: np.where(W(x) < 0, out(R(exp(widen(x))) - ONE), x)
    if op == "Selu":
        sa, sc = R(f32.SELU_SCALE_ALPHA), R(f32.SELU_SCALE)

        def selu(x):
            w = W(x)
            return out(np.where(w < 0, ftz32(sa * R(R(exp(widen(x))) - ONE)), ftz32(sc * w)))
        return selu
    if op == "Softplus":
        # Eigen's NumTraits<half>::epsilon() is 0x0800 = 2^-13 (not 2^-10); bfloat16's 2^-7
        eps = F32(2.0 ** -13) if dtype == np.float16 else F32(2.0 ** -7)
        th = R(R(libm.call("logf", np.array([eps], F32))) + F32(2.0))[0]

        def softplus(x):
            w = W(x)
            ex = R(exp(widen(x)))
            return np.where(w > -th, x, out(np.where(w < th, ex, log1p(ex))))
        return softplus
    if op == "SoftplusGrad":
        return lambda g, x: out(ftz32(W(g) / R(R(exp(-W(x))) + ONE)))
    if op in ("Pow", "Atan2"):
        name = "powf" if op == "Pow" else "atan2f"
        return lambda a, b: out(libm.call(name, widen(a), widen(b)))
    raise KeyError(op)
