"""Unary math: Neg, Abs, Sign, Square, Sqrt, Rsqrt, Reciprocal, Exp, Expm1, Log, Log1p, Sin,
Cos, Tanh, Sigmoid, Erf, Floor, Ceil, Round, Rint, IsNan, IsInf, IsFinite.

The transcendentals of float types (and complex Exp, Log, Tanh, Rsqrt, Reciprocal) are the
Eigen kernels of blocks/kernels/eigen, bit for bit; the complex ones Eigen leaves to the C
library follow Eigen's scalar formulas over glibc here. Bit operations (Neg, Abs, Sign's
packets) keep NaN payloads and denormals as TF's do. Gradients: math_unary_grad.py.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blocks._cwise import cwise
from blocks.kernels import cwise_fused
from blocks.kernels.eigen import cplx, libm
from blocks.kernels.elementwise import computed

F, C, I, U = dt.FLOATS, dt.COMPLEX, dt.SIGNED, dt.UNSIGNED
FC = F + C
_SIGN_BIT = {2: np.uint16(0x8000), 4: np.uint32(0x80000000), 8: np.uint64(1 << 63)}
_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def _bits(x, fn):
    """A bit operation on the sign of a float array (payloads, denormals kept)."""
    w = x.dtype.itemsize
    return fn(x.view(_UINT[w]), _SIGN_BIT[w]).view(x.dtype)


def _neg(m, x):
    if m.kind == "int":
        return np.negative(x)
    if m.kind == "complex":
        return -x
    return _bits(x, np.bitwise_xor)


def _abs(m, x):
    if m.kind == "int":
        return np.abs(x)
    return _bits(x, lambda b, s: b & ~s)


def _sign(m, x):
    """Packets: +-1 where 0 < |x| (DAZ), else |x| itself (so +0, a denormal's magnitude, a
    positive NaN); the scalar tail: (x > 0) - (x < 0) after DAZ, a NaN returned as is."""
    if m.kind == "int":
        return np.sign(x)
    if m.kind == "complex":
        return _complex_sign(m, x)
    w = m.inp(x)
    one = np.copysign(np.float32(1) if m.kind == "half" else x.dtype.type(1), w)
    if m.packet:
        return np.where(0 < np.abs(w), m.out(one), _abs(m, x))
    s = m.out((w > 0).astype(w.dtype) - (w < 0).astype(w.dtype))
    return np.where(np.isnan(w), x, s)


def _complex_sign(m, x):
    """Eigen's sign of complex: packets divide each part by |z| computed on its own lane
    (max * sqrt(1 + (min/max)^2), std::max/min keeping the lane's own part where a NaN is
    met); the scalar tail multiplies by 1 / hypot. 0 for z == 0."""
    z = m.inp(x)
    if m.packet:
        re, im = z.real, z.imag
        ar, ai = np.abs(re), np.abs(im)
        out = np.empty(x.shape, x.dtype)
        out.real, out.imag = _sign_lane(m, re, ar, ai), _sign_lane(m, im, ai, ar)
        return out
    re, im = z.real, z.imag
    hyp = libm.call("hypotf" if x.dtype == np.complex64 else "hypot", re, im).reshape(re.shape)
    inv = m.r(1 / hyp)
    out = np.empty(x.shape, x.dtype)
    out.real, out.imag = m.r(re * inv), m.r(im * inv)
    return np.where(hyp == 0, np.zeros_like(out), out)


def _sign_lane(m, v, a, b):
    """One real lane of Eigen's complex psign: v / l, l = |z| from this lane's |part| a and
    the other part's b; +0 where max(a, b) is 0."""
    ft = a.dtype.type
    mx = np.where(a < b, b, a)                      # pmax(a, b): a when unordered
    mn = np.where(b < a, b, a)                      # pmin(a, b): a when unordered
    r = m.r(mn / mx)
    l = np.where(mn == 0, mx, m.r(mx * np.sqrt(m.r(ft(1) + m.r(r * r)))))
    return np.where(mx == 0, ft(0), m.r(v / l))


@computed
def _square(m, x):
    return m.mul(x, x)


def _lib(name, re):
    f32 = re.dtype == np.float32
    return libm.call(name + ("f" if f32 else ""), re).reshape(re.shape)


def _complex(re, im, dtype):
    out = np.empty(np.shape(re), dtype)
    out.real, out.imag = re, im
    return out


def _complex_sqrt(m, x):
    """Eigen's psqrt_complex on the packet part, complex_sqrt on the tail."""
    flat = np.ascontiguousarray(x).reshape(-1)
    return (cplx.sqrt_packet if m.packet else cplx.sqrt_scalar)(flat).reshape(x.shape)


def _complex_expm1(m, x):
    """Eigen's expm1 for complex: expm1(a) - 2 e^a sin^2(b/2) + i e^a sin(b)."""
    z = m.inp(x)
    a, b = z.real, z.imag
    ft = a.dtype.type
    erm1 = _lib("expm1", a)
    er = m.r(erm1 + ft(1))
    s2 = _lib("sin", m.r(b / ft(2)))
    s2 = m.r(s2 * s2)
    real = m.r(erm1 - m.r(m.r(ft(2) * er) * s2))
    return _complex(real, m.r(er * _lib("sin", b)), x.dtype)


def _complex_log(z):
    return cplx.log_scalar(np.ascontiguousarray(z).reshape(-1)).reshape(np.shape(z))


def _complex_log1p(m, x):
    """Eigen's std_fallback::log1p (scalar only): x * (log(1 + x) / ((1 + x) - 1)), x itself
    where 1 + x is 1 or equals its log; 1 is added to (and taken from) the real part alone."""
    z = m.inp(x)
    ft = z.real.dtype.type
    x1p = _complex(m.r(z.real + ft(1)), z.imag, z.dtype)
    lg = _complex_log(x1p)
    keep = (x1p == ft(1)) | (x1p == lg)
    r = m.mul(z, m.div(lg, _complex(m.r(x1p.real - ft(1)), x1p.imag, z.dtype)))
    return np.where(keep, z, r)


def _glibc(name):
    def formula(m, x):
        z = m.inp(x)
        return cplx._glibc1(name, np.ascontiguousarray(z).reshape(-1)).reshape(z.shape)
    formula.__name__ = "_complex_" + name
    return formula


def _complex_sigmoid(m, x):
    """Eigen's complex logistic (scalar only): e = cexp(x); 1 where e's real part is infinite,
    else e / (e + 1) (the 1 added as a complex: -0 imaginary parts become +0) by libgcc."""
    z = m.inp(x)
    e = cplx.exp_scalar(np.ascontiguousarray(z).reshape(-1)).reshape(z.shape)
    ft = e.real.dtype.type
    r = m.div(e, _complex(m.r(e.real + ft(1)), m.r(e.imag + ft(0)), e.dtype))
    return np.where(np.isinf(e.real), np.ones_like(r), r)


def _rounding(fn):
    def formula(m, x):
        if m.kind == "int":
            return np.zeros_like(x)            # TF's Round of int32/int64: 0 (sic)
        return m.out(m.r(fn(m.inp(x))))
    formula.__name__ = "_" + fn.__name__
    return formula


def _predicate(fn):
    def formula(m, x):
        return fn(m.inp(x) if m.kind == "half" else x)
    formula.__name__ = "_" + fn.__name__
    return formula


# ----------------------------------------------------------------------------- declarations

cwise("Neg", ("x",), F + I + C, _neg, aliases=("Negate",), doc="-x.", plain=np.negative,
      plain_ints=True)
cwise("Abs", ("x",), F + I, _abs, doc="|x|.")
cwise("Sign", ("x",), F + I + C, _sign, doc="-1, 0 or 1 by the sign of x (complex: x / |x|).")
cwise("Square", ("x",), F + I + U + C, _square, doc="x * x.", plain=np.square,
      plain_ints=True)
cwise("Sqrt", ("x",), FC, _complex_sqrt, eigen_op="Sqrt", doc="The square root of x.")
cwise("Rsqrt", ("x",), FC, None, eigen_op="Rsqrt", doc="1 / sqrt(x).")
cwise("Reciprocal", ("x",), FC, None, eigen_op="Reciprocal", doc="1 / x.")
cwise("Exp", ("x",), FC, None, eigen_op="Exp", doc="e^x.", fused=cwise_fused.kernel("Exp"))
cwise("Expm1", ("x",), FC, _complex_expm1, eigen_op="Expm1", doc="e^x - 1.")
cwise("Log", ("x",), FC, None, eigen_op="Log", doc="The natural logarithm of x.")
cwise("Log1p", ("x",), FC, _complex_log1p, eigen_op="Log1p", doc="log(1 + x).",
      scalar_only=True)
cwise("Sin", ("x",), FC, _glibc("csin"), eigen_op="Sin", doc="sin(x).")
cwise("Cos", ("x",), FC, _glibc("ccos"), eigen_op="Cos", doc="cos(x).")
cwise("Tanh", ("x",), FC, None, eigen_op="Tanh", doc="tanh(x).",
      fused=cwise_fused.kernel("Tanh"))
cwise("Sigmoid", ("x",), FC, _complex_sigmoid, eigen_op="Sigmoid", doc="1 / (1 + e^-x).",
      fused=cwise_fused.kernel("Sigmoid"), scalar_only=True)
cwise("Erf", ("x",), F, None, eigen_op="Erf", doc="The error function of x.")
cwise("Floor", ("x",), F, _rounding(np.floor), doc="The largest integer not above x.")
cwise("Ceil", ("x",), F, _rounding(np.ceil), doc="The smallest integer not below x.")
cwise("Round", ("x",), F + ("int32", "int64"), _rounding(np.rint),
      doc="x rounded to the nearest integer, half to even (int32/int64: TF gives 0).")
cwise("Rint", ("x",), ("float32", "float64"), _rounding(np.rint),
      doc="x rounded to the nearest integer, half to even.")
cwise("IsNan", ("x",), F, _predicate(np.isnan), out_dtype="bool", doc="Whether x is NaN.")
cwise("IsInf", ("x",), F, _predicate(np.isinf), out_dtype="bool", doc="Whether x is +-inf.")
cwise("IsFinite", ("x",), F, _predicate(np.isfinite), out_dtype="bool",
      doc="Whether x is neither NaN nor infinite.")
