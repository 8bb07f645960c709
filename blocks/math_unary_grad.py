"""Gradients of the unary math ops and of TF's gradient ops themselves, as math_grad.py and
nn_grad.py build them (the same ops in the same order); Floor, Ceil, Round and Rint pass
None, IsNan/IsInf/IsFinite carry none."""
from __future__ import annotations

import math

from blockgraph.core.gradients import gradient, no_gradient

COMPLEX = ("complex64", "complex128")


def _dtype(op, port):
    s = op.spec(port)
    return None if s is None else s.dtype


def _conj(op, ref, port="x"):
    return op.add("Conj", input=ref) if _dtype(op, port) in COMPLEX else ref


def _const(op, value, port="x"):
    return {"value": value, "dtype": _dtype(op, port)}


@gradient("Neg")
def _neg_grad(op, grad):
    return {"x": op.add("Neg", x=grad)}


@gradient("Abs")
def _abs_grad(op, grad):
    return {"x": op.add("Mul", x=grad, y=op.add("Sign", x=op.input("x")))}


@gradient("Sign")
def _sign_grad(op, grad):
    return {"x": op.add("ZerosLike", x=op.input("x"))}


@gradient("Square")
def _square_grad(op, grad):
    x = _conj(op, op.input("x"))
    return {"x": op.add("Mul", x=grad, y=op.add("Mul", x=x, y=_const(op, 2.0)))}


def _from_output(grad_op):
    def fn(op, grad):
        return {"x": op.add(grad_op, y=_conj(op, op.output()), dy=grad)}
    fn.__name__ = f"_{grad_op.lower()}_of"
    return fn


gradient("Sqrt")(_from_output("SqrtGrad"))
gradient("Rsqrt")(_from_output("RsqrtGrad"))
gradient("Reciprocal")(_from_output("ReciprocalGrad"))
gradient("Tanh")(_from_output("TanhGrad"))
gradient("Sigmoid")(_from_output("SigmoidGrad"))


@gradient("Exp")
def _exp_grad(op, grad):
    return {"x": op.add("Mul", x=grad, y=_conj(op, op.output()))}


@gradient("Expm1")
def _expm1_grad(op, grad):
    return {"x": op.add("Mul", x=grad, y=op.add("Exp", x=_conj(op, op.input("x"))))}


@gradient("Log")
def _log_grad(op, grad):
    return {"x": op.add("Mul", x=grad, y=op.add("Reciprocal", x=_conj(op, op.input("x"))))}


@gradient("Log1p")
def _log1p_grad(op, grad):
    x = _conj(op, op.input("x"))
    return {"x": op.add("Mul", x=grad, y=op.add("Reciprocal", x=op.add(
        "AddV2", x=_const(op, 1), y=x)))}


@gradient("Sin")
def _sin_grad(op, grad):
    return {"x": op.add("Mul", x=grad, y=op.add("Cos", x=_conj(op, op.input("x"))))}


@gradient("Cos")
def _cos_grad(op, grad):
    return {"x": op.add("Mul", x=op.add("Neg", x=grad),
                        y=op.add("Sin", x=_conj(op, op.input("x"))))}


@gradient("Erf")
def _erf_grad(op, grad):
    c = op.add("Mul", x=grad, y=_const(op, 2 / math.sqrt(math.pi)))
    return {"x": op.add("Mul", x=c, y=op.add("Exp", x=op.add("Neg", x=op.add(
        "Square", x=op.input("x")))))}


@gradient("Floor", "Ceil", "Round", "Rint")
def _rounding_grad(op, grad):
    return {"x": None}


no_gradient("IsNan", "IsInf", "IsFinite")


# ----------------------------------------------------------------------------- grads of grads

@gradient("SigmoidGrad")
def _sigmoid_grad_grad(op, grad):
    a, b = op.input("y"), op.input("dy")
    gb = op.add("Mul", x=grad, y=b)
    two_gb = op.add("Mul", x=_const(op, 2.0, "y"), y=gb)
    return {"y": op.add("Sub", x=gb, y=op.add("Mul", x=two_gb, y=a)),
            "dy": op.add("SigmoidGrad", y=a, dy=grad)}


@gradient("TanhGrad")
def _tanh_grad_grad(op, grad):
    a, b = _conj(op, op.input("y"), "y"), _conj(op, op.input("dy"), "y")
    g = op.add("Mul", x=op.add("Mul", x=grad, y=_const(op, -2.0, "y")), y=b)
    return {"y": op.add("Mul", x=g, y=a), "dy": op.add("TanhGrad", y=a, dy=grad)}


@gradient("SqrtGrad")
def _sqrt_grad_grad(op, grad):
    ga = op.add("RealDiv" if _dtype(op, "y") not in COMPLEX else "Div", x=grad, y=op.input("y"))
    cga = _conj(op, ga, "y")
    return {"y": op.add("Mul", x=op.add("Neg", x=cga), y=op.output()),
            "dy": op.add("Mul", x=_const(op, 0.5, "y"), y=cga)}


@gradient("RsqrtGrad")
def _rsqrt_grad_grad(op, grad):
    ca, cg = _conj(op, op.input("y"), "y"), _conj(op, grad, "y")
    g = op.add("Mul", x=op.add("Mul", x=_const(op, -1.5, "y"), y=cg), y=op.input("dy"))
    return {"y": op.add("Mul", x=g, y=op.add("Square", x=ca)),
            "dy": op.add("RsqrtGrad", y=ca, dy=grad)}


@gradient("ReciprocalGrad")
def _reciprocal_grad_grad(op, grad):
    ca, cg = _conj(op, op.input("y"), "y"), _conj(op, grad, "y")
    g = op.add("Mul", x=op.add("Mul", x=cg, y=_const(op, -2.0, "y")), y=op.input("dy"))
    return {"y": op.add("Mul", x=g, y=ca), "dy": op.add("ReciprocalGrad", y=ca, dy=grad)}


def _grad_grad(grad_op, with_alpha=False):
    """nn_grad.py's (grad_op(grad, x), zeros_like(x)) for ReluGrad & co."""
    def fn(op, grad):
        x = op.input("features")
        kw = {"alpha": op.attrs["alpha"]} if with_alpha else {}
        return {"gradients": op.add(grad_op, gradients=grad, features=x, **kw),
                "features": op.add("ZerosLike", x=x)}
    fn.__name__ = f"_{grad_op.lower()}_grad"
    return fn


gradient("ReluGrad")(_grad_grad("ReluGrad"))
gradient("Relu6Grad")(_grad_grad("Relu6Grad"))
gradient("LeakyReluGrad")(_grad_grad("LeakyReluGrad", with_alpha=True))


@gradient("EluGrad")
def _elu_grad_grad(op, grad):
    elu_x = op.input("outputs")
    zeros = op.add("ZerosLike", x=elu_x)
    neg = op.add("Less", x=elu_x, y=_const(op, 0, "outputs"))
    return {"gradients": op.add("EluGrad", gradients=grad, outputs=elu_x),
            "outputs": op.add("SelectV2", condition=neg, t=op.add(
                "Mul", x=grad, y=op.input("gradients")), e=zeros)}


@gradient("SoftplusGrad")
def _softplus_grad_grad(op, grad):
    dy, x = op.input("gradients"), op.input("features")
    ddy = op.add("SoftplusGrad", gradients=grad, features=x)
    den = op.add("AddV2", x=op.add("AddV2", x=op.add("Exp", x=op.add("Neg", x=x)),
                                   y=_const(op, 2.0, "features")), y=op.add("Exp", x=x))
    d2x = op.add("RealDiv", x=op.add("Mul", x=grad, y=dy), y=den)
    return {"gradients": ddy, "features": d2x}
