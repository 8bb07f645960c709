"""BiasAdd and BiasAddGrad (NHWC: the channel is the last dim; NCHW: dim 1), their gradients
as nn_grad.py builds them.

BiasAdd adds with TF's arithmetic (blocks/kernels/elementwise.py); BiasAddGrad sums every axis
but the channel one: integers wrap as TF's sums do, floats are accumulated in float64 and
rounded once (TF's Eigen tree reduction in float32 is within the fixtures' `sum` tolerance).
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Attr, Input, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.gradients import gradient
from blockgraph.core.shapes import fmt
from blocks.kernels import elementwise as ew

TYPES = dt.FLOATS + dt.INTEGERS + dt.COMPLEX
FORMAT = Attr("data_format", "string", "NHWC", choices=("NHWC", "NCHW"),
              doc="NHWC: channels last; NCHW: channels in dim 1")


def _channel(rank, data_format):
    return 1 if data_format == "NCHW" else rank - 1


def _bias_add_shape(ctx):
    v, b = ctx.shape("value"), ctx.shape("bias")
    if v is not None and len(v) < 2:
        raise OpError(f"Input tensor must be at least 2D: {fmt(v)}", port="value")
    if b is not None and len(b) != 1:
        raise OpError(f"Biases must be 1D: {fmt(b)}", port="bias")
    if v is not None and b is not None:
        c = v[_channel(len(v), ctx.attrs["data_format"])]
        if c is not None and b[0] is not None and c != b[0]:
            raise OpError(f"Must provide as many biases as the last dimension of the input "
                          f"tensor: {fmt(b)} vs. {fmt(v)}", port="bias")
    ctx.set_output("output", v)


@block("BiasAdd",
       inputs=[Input("value", TYPES, type_attr="T"), Input("bias", TYPES, type_attr="T",
                                                           doc="1-D, one per channel")],
       attrs=[FORMAT], outputs=[Output("output", "T")], shape=_bias_add_shape)
def bias_add(value, bias, T, data_format):
    """value + bias, the bias added along the channel dimension."""
    shape = [1] * value.ndim
    shape[_channel(value.ndim, data_format)] = bias.size
    return ew.run(_add, T, [value, bias.reshape(shape)], value.shape)


def _add(m, x, y):
    return m.out(m.add(m.inp(x), m.inp(y)))


def _bias_add_grad_shape(ctx):
    s = ctx.shape("out_backprop")
    if s is not None and len(s) < 2:
        raise OpError(f"Input tensor must be at least 2D: {fmt(s)}", port="out_backprop")
    ctx.set_output("output", None if s is None else (s[_channel(len(s), ctx.attrs["data_format"])],))


@block("BiasAddGrad", inputs=[Input("out_backprop", TYPES, type_attr="T")], attrs=[FORMAT],
       outputs=[Output("output", "T")], shape=_bias_add_grad_shape)
def bias_add_grad(out_backprop, T, data_format):
    """The sum of out_backprop over every dimension but the channel one."""
    c = _channel(out_backprop.ndim, data_format)
    axes = tuple(i for i in range(out_backprop.ndim) if i != c)
    x = out_backprop
    if T in dt.INTEGERS:
        return np.sum(x, axis=axes, dtype=x.dtype)
    if T in dt.COMPLEX:
        return np.sum(x.astype(np.complex128), axis=axes).astype(x.dtype)
    from blocks.kernels.eigen.halfs import narrow, widen
    wide = widen(x) if T in ew.HALF else x
    with np.errstate(all="ignore"):
        s = np.sum(np.asarray(wide, np.float64), axis=axes)
    if T in ew.HALF:
        return narrow(s.astype(np.float32), dt.to_numpy(T), False)
    return s.astype(x.dtype)


@gradient("BiasAdd")
def _bias_add_gradient(op, grad):
    return {"value": grad,
            "bias": op.add("BiasAddGrad", out_backprop=grad, data_format=op.attrs["data_format"])}


@gradient("BiasAddGrad")
def _bias_add_grad_gradient(op, grad):
    """The bias gradient reshaped to broadcast along the channel dim and tiled over the others
    (literals when out_backprop's shape is known, else from Shape, as nn_grad.py does)."""
    from blocks import _grad_shapes as gs
    nchw = op.attrs["data_format"] == "NCHW"
    shape = gs.known_shape(op, "out_backprop")
    if shape is not None:
        shape = list(shape)
        c = _channel(len(shape), op.attrs["data_format"])
        expanded = [1] * len(shape)
        expanded[c] = shape[c]
        mults = list(shape)
        mults[c] = 1
        r = op.add("Reshape", tensor=grad, shape=gs.i32(expanded))
        return {"out_backprop": op.add("Tile", input=r, multiples=gs.i32(mults))}
    s, bias_shape = gs.shape(op, op.input("out_backprop")), gs.shape(op, grad)
    if nchw:    # [ones_like(s[:1]), bias_shape, ones_like(s[2:])], [s[:1], [1], s[2:]]
        head, tail = gs.part(op, s, 0, 1), gs.part(op, s, 2)
        expanded = [op.add("OnesLike", x=head), bias_shape, op.add("OnesLike", x=tail)]
        mults = [head, gs.i32([1]), tail]
    else:       # [ones_like(s[:-1]), bias_shape], [s[:-1], [1]]
        head = gs.part(op, s, 0, -1)
        expanded, mults = [op.add("OnesLike", x=head), bias_shape], [head, gs.i32([1])]
    r = op.add("Reshape", tensor=grad, shape=op.add("ConcatV2", values=expanded, axis=gs.i32(0)))
    return {"out_backprop": op.add("Tile", input=r, multiples=op.add("ConcatV2", values=mults,
                                                                     axis=gs.i32(0)))}
