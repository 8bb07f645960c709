"""Activations: Relu, Relu6, Elu, Selu, Softplus, Softsign, LeakyRelu.

Relu/Relu6 follow TF's two paths: packets give +0 for -0 and denormals (bfloat16: the flushed
input's sign, NaN bits kept); the scalar tail returns the input unless it is below 0 after
DAZ (Relu flushed, Relu6 as stored).
Elu, Selu and Softplus are the Eigen kernels of blocks/kernels/eigen; LeakyRelu is
`x > 0 ? x : x * alpha` with alpha in the input's dtype. Gradients: nn_grad.py's, below.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Attr
from blockgraph.core.gradients import gradient
from blocks._cwise import cwise
from blocks.kernels import cwise_fused

F, I, U = dt.FLOATS, dt.SIGNED, dt.UNSIGNED
ALPHA = Attr("alpha", "float", float(np.float32(0.2)), doc="the slope below 0")


def _relu_core(m, x, hi=None):
    """max(x, 0) (then min(., hi)) along TF's packet or scalar path, on stored values."""
    if m.kind == "int":
        r = np.maximum(x, x.dtype.type(0))
        return r if hi is None else np.minimum(r, x.dtype.type(hi))
    w = m.inp(x)
    zero = np.zeros_like(x)
    if m.packet and m.dtype in ("float32", "float64"):
        r = np.where(w > 0, w, np.where(np.isnan(w), x, zero))
    elif m.packet and m.dtype == "bfloat16":      # NaNs keep their bits
        r = np.where(np.isnan(w), x, m.out(np.where(w < 0, np.float32(0), w)))
        if hi is not None:
            return np.where(w > hi, m.out(np.float32(hi)), r)
        return r
    elif m.kind == "half" or hi is not None:      # Relu6's tail: the input itself
        r = np.where(w < 0, zero, x)
    else:                                         # Relu's tail: the flushed input
        r = np.where(w < 0, zero, w)
    if hi is not None:
        r = np.where(w > hi, np.full_like(x, hi), r)
    return r


def _relu(m, x):
    return _relu_core(m, x)


def _relu6(m, x):
    return _relu_core(m, x, 6)


def _softsign(m, x):
    w = m.inp(x)
    one = m.const(1)
    return m.out(m.div(w, m.add(np.abs(w), one)))


def _leaky_relu(m, x, alpha):
    w = m.inp(x)
    r = m.out(m.mul(w, m.const(np.float32(alpha))))
    keep = w > 0
    if m.packet and m.dtype == "bfloat16":
        keep = keep | np.isnan(w)           # bfloat16 packets keep a NaN's bits
    return np.where(keep, x, r)


REAL = F + I + U
cwise("Relu", ("features",), REAL, _relu, out="activations", doc="max(features, 0).",
      fused=cwise_fused.kernel("Relu"))
cwise("Relu6", ("features",), REAL, _relu6, out="activations", doc="min(max(features, 0), 6).")
cwise("Elu", ("features",), F, None, eigen_op="Elu", out="activations",
      doc="features < 0 ? exp(features) - 1 : features.")
cwise("Selu", ("features",), F, None, eigen_op="Selu", out="activations",
      doc="scale * (features < 0 ? alpha * (exp(features) - 1) : features).")
cwise("Softplus", ("features",), F, None, eigen_op="Softplus", out="activations",
      doc="log(exp(features) + 1).")
cwise("Softsign", ("features",), F, _softsign, out="activations",
      doc="features / (|features| + 1).")
cwise("LeakyRelu", ("features",), F, _leaky_relu, out="activations", attrs=(ALPHA,),
      doc="features > 0 ? features : alpha * features.")


# ----------------------------------------------------------------------------- gradients

def _grad_of(grad_op, port="features", from_output=False):
    """nn_grad.py's gradient: grad_op(grad, the forward block's output or input), on `port`."""
    def fn(op, grad):
        kw = {"gradients": grad, port: op.output() if from_output else op.input("features")}
        if "alpha" in op.attrs:
            kw["alpha"] = op.attrs["alpha"]
        return {"features": op.add(grad_op, **kw)}
    fn.__name__ = f"_{grad_op.lower()}_of"
    return fn


gradient("Relu")(_grad_of("ReluGrad", from_output=True))
gradient("Relu6")(_grad_of("Relu6Grad", from_output=True))
gradient("Elu")(_grad_of("EluGrad", "outputs", from_output=True))
gradient("Selu")(_grad_of("SeluGrad", "outputs", from_output=True))
gradient("Softplus")(_grad_of("SoftplusGrad"))
gradient("Softsign")(_grad_of("SoftsignGrad"))
gradient("LeakyRelu")(_grad_of("LeakyReluGrad"))
