"""TF's gradient ops of the activations and unary functions: ReluGrad, Relu6Grad, EluGrad,
SeluGrad, SoftplusGrad, SoftsignGrad, LeakyReluGrad (inputs of one shape), and SigmoidGrad,
TanhGrad, SqrtGrad, RsqrtGrad, ReciprocalGrad (inputs of one size; y's shape).

Formulas are TF's functors, operand order included (cwise_ops_gradients.h, relu_op_functor.h):
the packet and scalar variants differ where TF's do (SigmoidGrad's product order, mul_no_nan
in the packets of Sqrt/Rsqrt/ReciprocalGrad). Their own gradients: math_unary_grad.py.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blocks._cwise import cwise
from blocks.nn_activations import ALPHA

F, I, U, C = dt.FLOATS, dt.SIGNED, dt.UNSIGNED, dt.COMPLEX
SELU_SCALE = 1.0507009873554804934193349852946
SELU_SCALE_ALPHA = 1.7580993408473768599402175208123


def _mask_mul(m, g, mask):
    """gradients * cast<T>(mask)."""
    if m.kind == "int":
        return g * mask.astype(g.dtype)
    return m.out(m.mul(m.inp(g), mask.astype(m.inp(g).dtype)))


def _relu_grad(m, g, f):
    x = m.inp(f)
    return _mask_mul(m, g, x > 0)


def _relu6_grad(m, g, f):
    x = m.inp(f)
    return _mask_mul(m, g, (x > 0) & (x < 6))


def _elu_grad(m, g, a):
    w, gw = m.inp(a), m.inp(g)
    return np.where(w < 0, m.out(m.mul(m.add(w, m.const(1)), gw)), g)


def _selu_grad(m, g, a):
    w, gw = m.inp(a), m.inp(g)
    neg = m.mul(gw, m.add(w, m.const(SELU_SCALE_ALPHA)))
    return m.out(np.where(w < 0, neg, m.mul(gw, m.const(SELU_SCALE))))


def _softsign_grad(m, g, f):
    w = m.add(np.abs(m.inp(f)), m.const(1))
    return m.out(m.div(m.inp(g), m.mul(w, w)))


def _leaky_relu_grad(m, g, f, alpha):
    gw = m.inp(g)
    return np.where(m.inp(f) > 0, g, m.out(m.mul(gw, m.const(np.float32(alpha)))))


def _conj(m, v):
    return np.conj(v) if m.kind == "complex" else v


def _mul_no_nan(m, a, b):
    """TF's mul_no_nan: 0 where b == 0, else a * b."""
    p = m.mul(a, b)
    return np.where(b == 0, np.zeros_like(p), p)


def _sigmoid_grad(m, y, dy):
    y, dy = m.inp(y), m.inp(dy)
    one_minus = m.sub(m.const(1), y)
    if m.packet:
        return m.out(m.mul(dy, m.mul(y, one_minus)))
    return m.out(m.mul(m.mul(dy, y), one_minus))


def _tanh_grad(m, y, dy):
    y, dy = m.inp(y), m.inp(dy)
    return m.out(m.mul(dy, m.sub(m.const(1), m.mul(y, y))))


def _reciprocal_grad(m, y, dy):
    """-conj(y)^2 * dy, 0 where dy == 0. TF's compiled code negates the product, not a NaN:
    a NaN from y or dy comes out with its own sign (float16 packets: y*y negated first, and
    multiplied as dy * (-y*y), so dy's NaN wins where both are NaN)."""
    c, dy = _conj(m, m.inp(y)), m.inp(dy)
    if m.packet and m.dtype == "float16":
        r = m.mul(dy, -m.mul(c, c))
    elif m.kind == "complex":
        r = m.mul(-m.mul(c, c), dy)
    else:
        r = m.mul(m.mul(c, c), dy)
        r = np.where(r != r, r, -r)
    return m.out(np.where(dy == 0, np.zeros_like(r), r))


def _sqrt_grad(m, y, dy):
    c, dy = _conj(m, m.inp(y)), m.inp(dy)
    half = m.const(0.5)
    if m.packet:
        return m.out(_mul_no_nan(m, m.div(np.full_like(c, half), c), dy))
    r = m.div(m.mul(np.full_like(dy, half), dy), c)
    return m.out(np.where(dy == 0, np.zeros_like(r), r))


def _rsqrt_grad(m, y, dy):
    c, dy = _conj(m, m.inp(y)), m.inp(dy)
    mhalf = np.full_like(c, m.const(-0.5))
    if m.packet:
        return m.out(_mul_no_nan(m, m.mul(mhalf, m.mul(c, c)), _mul_no_nan(m, c, dy)))
    r = m.mul(m.mul(mhalf, m.mul(dy, c)), m.mul(c, c))
    return m.out(np.where(dy == 0, np.zeros_like(r), r))


GB = ("gradients", "features")
REAL = F + I + U
cwise("ReluGrad", GB, REAL, _relu_grad, out="backprops", rule="same_shape",
      doc="gradients where features > 0, else 0.")
cwise("Relu6Grad", GB, REAL, _relu6_grad, out="backprops", rule="same_shape",
      doc="gradients where 0 < features < 6, else 0.")
cwise("EluGrad", ("gradients", "outputs"), F, _elu_grad, out="backprops", rule="same_shape",
      doc="outputs < 0 ? (outputs + 1) * gradients : gradients.")
cwise("SeluGrad", ("gradients", "outputs"), F, _selu_grad, out="backprops", rule="same_shape",
      doc="outputs < 0 ? gradients * (outputs + scale * alpha) : gradients * scale.")
cwise("SoftplusGrad", GB, F, None, eigen_op="SoftplusGrad", out="backprops", rule="same_shape",
      doc="gradients / (exp(-features) + 1).")
cwise("SoftsignGrad", GB, F, _softsign_grad, out="backprops", rule="same_shape",
      doc="gradients / (|features| + 1)^2.")
cwise("LeakyReluGrad", GB, F, _leaky_relu_grad, out="backprops", rule="same_shape",
      attrs=(ALPHA,), doc="features > 0 ? gradients : alpha * gradients.")
YD = ("y", "dy")
cwise("SigmoidGrad", YD, F + C, _sigmoid_grad, rule="same_size", doc="dy * y * (1 - y).")
cwise("TanhGrad", YD, F + C, _tanh_grad, rule="same_size", doc="dy * (1 - y * y).")
cwise("SqrtGrad", YD, F + C, _sqrt_grad, rule="same_size", doc="dy * 0.5 / y.")
cwise("RsqrtGrad", YD, F + C, _rsqrt_grad, rule="same_size", doc="dy * -0.5 * y^3.")
cwise("ReciprocalGrad", YD, F + C, _reciprocal_grad, rule="same_size", doc="-dy * y^2.")
