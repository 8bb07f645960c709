"""Gradients of the broadcasting binary ops, as TF's math_grad.py builds them (operand order
included, so the gradient blocks compute TF's bits): each input's gradient is summed over the
axes it was broadcast along (BroadcastGradientArgs + Sum) and reshaped to its shape, unless the
static shapes of both inputs and the gradient are fully known and equal (TF's shortcut)."""
from __future__ import annotations

from blockgraph.core.gradients import gradient


def _shape_of(op, port):
    return op.add("Shape", input=op.input(port))


def _equal_shapes(op, ports):
    specs = [op.spec(p) for p in ports] + [op.out_spec()]
    shapes = [None if s is None else s.shape for s in specs]
    return all(s is not None and None not in s for s in shapes) and len(set(shapes)) == 1


def reduce_to(op, g, port, other, r="r1", keep_dims=False):
    """TF's reshape(reduce_sum(g, BroadcastGradientArgs(shape(other), shape(port))[r]),
    shape(port)); `other` is an input port or None (the block's output). g itself where the
    static shapes are known and equal (the sum is then over no axis)."""
    s_port = op.spec(port)
    s_other = op.out_spec() if other is None else op.spec(other)
    if all(x is not None and x.shape is not None and None not in x.shape
           for x in (s_port, s_other)) and s_port.shape == s_other.shape:
        return g
    so = op.add("Shape", input=op.output() if other is None else op.input(other))
    sp = _shape_of(op, port)
    args = op.add("BroadcastGradientArgs", **({"s0": so, "s1": sp} if r == "r1" else
                                               {"s0": sp, "s1": so}))
    summed = op.add("Sum", input=g, axis=f"{args}.{r}", keep_dims=keep_dims)
    return op.add("Reshape", tensor=summed, shape=sp)


def _reduce_both(op, gx, gy, x="x", y="y"):
    """(gx, gy) reduced to the shapes of inputs x and y (rx, ry = BroadcastGradientArgs)."""
    if _equal_shapes(op, (x, y)):
        return {x: gx, y: gy}
    sx, sy = _shape_of(op, x), _shape_of(op, y)
    args = op.add("BroadcastGradientArgs", s0=sx, s1=sy)
    out = {}
    for port, g, r, s in ((x, gx, "r0", sx), (y, gy, "r1", sy)):
        if g is not None:
            g = op.add("Reshape", tensor=op.add("Sum", input=g, axis=f"{args}.{r}",
                                                keep_dims=False), shape=s)
        out[port] = g
    return out


def _dtype(op, port="x"):
    s = op.spec(port)
    return None if s is None else s.dtype


def _conj(op, v, port="x"):
    """math_ops.conj: Conj for complex tensors, the tensor itself otherwise."""
    return op.add("Conj", input=v) if _dtype(op, port) in ("complex64", "complex128") else v


@gradient("Add", "AddV2")
def _add_grad(op, grad):
    return _reduce_both(op, grad, grad)


@gradient("Sub")
def _sub_grad(op, grad):
    return _reduce_both(op, grad, op.add("Neg", x=grad))


@gradient("Mul")
def _mul_grad(op, grad):
    x, y = op.input("x"), op.input("y")
    if _equal_shapes(op, ("x", "y")) and _dtype(op) in ("int32", "float32"):
        return {"x": op.add("Mul", x=grad, y=y), "y": op.add("Mul", x=grad, y=x)}
    gx = op.add("Mul", x=grad, y=_conj(op, y))
    gy = op.add("Mul", x=_conj(op, x), y=grad)
    return _reduce_both(op, gx, gy)


def _div_grad_with(div_op):
    """grad / y and grad * ((-x / y) / y), with the op math_ops uses (Div: RealDiv)."""
    def fn(op, grad):
        x, y = _conj(op, op.input("x")), _conj(op, op.input("y"))
        gx = op.add(div_op, x=grad, y=y)
        inner = op.add(div_op, x=op.add(div_op, x=op.add("Neg", x=x), y=y), y=y)
        gy = op.add("Mul", x=grad, y=inner)
        return _reduce_both(op, gx, gy)
    return fn


gradient("Div")(_div_grad_with("RealDiv"))
gradient("RealDiv")(_div_grad_with("RealDiv"))
gradient("DivNoNan")(_div_grad_with("DivNoNan"))


@gradient("FloorDiv", "TruncateDiv")
def _floor_div_grad(op, grad):
    return {"x": None, "y": None}


@gradient("FloorMod")
def _floor_mod_grad(op, grad):
    x, y = _conj(op, op.input("x")), _conj(op, op.input("y"))
    floor_xy = op.add("FloorDiv", x=x, y=y)
    gx = grad
    gy = op.add("Mul", x=grad, y=op.add("Neg", x=floor_xy))
    return _reduce_both(op, gx, gy)


def _max_min_grad(compare):
    def fn(op, grad):
        x, y = op.input("x"), op.input("y")
        mask = op.add(compare, x=x, y=y)
        zeros = op.add("ZerosLike", x=grad)
        gx = op.add("SelectV2", condition=mask, t=grad, e=zeros)
        gy = op.add("SelectV2", condition=mask, t=zeros, e=grad)
        return _reduce_both(op, gx, gy)
    return fn


gradient("Maximum")(_max_min_grad("GreaterEqual"))
gradient("Minimum")(_max_min_grad("LessEqual"))


@gradient("SquaredDifference")
def _squared_difference_grad(op, grad):
    x, y = op.input("x"), op.input("y")
    two = op.add("Mul", x={"value": 2.0, "dtype": _dtype(op)}, y=grad)
    x_grad = op.add("Mul", x=two, y=op.add("Sub", x=x, y=y))
    if _equal_shapes(op, ("x", "y")):
        return {"x": x_grad, "y": op.add("Neg", x=x_grad)}
    out = _reduce_both(op, x_grad, x_grad)
    out["y"] = op.add("Neg", x=out["y"])
    return out


@gradient("Pow")
def _pow_grad(op, grad):
    x, y = _conj(op, op.input("x")), _conj(op, op.input("y"))
    z = _conj(op, op.output())
    y_minus_1 = op.add("Sub", x=y, y=op.add("OnesLike", x=y))
    gx = op.add("Mul", x=op.add("Mul", x=grad, y=y), y=op.add("Pow", x=x, y=y_minus_1))
    if _dtype(op) in ("complex64", "complex128"):
        mask = op.add("NotEqual", x=x, y=op.add("ZerosLike", x=x))
    else:
        mask = op.add("Greater", x=x, y=op.add("ZerosLike", x=x))
    safe_x = op.add("SelectV2", condition=mask, t=x, e=op.add("OnesLike", x=x))
    log_x = op.add("SelectV2", condition=mask, t=op.add("Log", x=safe_x),
                   e=op.add("ZerosLike", x=x))
    gy = op.add("Mul", x=op.add("Mul", x=grad, y=z), y=log_x)
    return _reduce_both(op, gx, gy)


@gradient("Atan2")
def _atan2_grad(op, grad):
    y, x = op.input("y"), op.input("x")
    inv = op.add("RealDiv", x=grad, y=op.add("AddV2", x=op.add("Square", x=x),
                                             y=op.add("Square", x=y)))
    gx = op.add("Mul", x=op.add("Neg", x=y), y=inv)
    gy = op.add("Mul", x=x, y=inv)
    return _reduce_both(op, gy, gx, x="y", y="x")
