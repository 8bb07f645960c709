"""DepthwiseConv2dNative and its backprops (DepthwiseConv2dNativeBackpropInput/Filter) as TF
2.21's CPU kernels (depthwise_conv_op, depthwise_conv_grad_op): their checks in order in the
shape functions, the forward pass bit for bit (`kernels/depthwise.py`), the gradients of
nn_grad.py. The CPU kernels take equal row/column strides, no dilations (the backprops ignore
the attr) and NHWC only (NCHW fails once there is something to compute)."""
from __future__ import annotations

import numpy as np

from blockgraph.core.blockdef import Input, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.gradients import gradient

from ._window import (DILATIONS, EXPLICIT_PADDINGS, STRIDES, Unknown, check_padding,
                      data_format_attr, fallback, explicit_pads, known, nhwc_dims, padding_attr, rank4,
                      sizes_vector, windowed)
from .kernels import depthwise as kdw

DW_T = ("float32", "float64", "bfloat16", "float16")
_NCHW = "Depthwise convolution on CPU is only supported for NHWC format"


def _construction(attrs, forward):
    """DepthwiseConv2dNativeOp / ...Backprop*Op construction: (stride, positions of N,H,W,C)."""
    s = attrs["strides"]
    if len(s) != 4:
        raise OpError("Sliding window strides field must specify 4 dimensions")
    pos = nhwc_dims(attrs["data_format"])
    n, h, w, c = (s[i] for i in pos)
    if h != w:
        raise OpError("Current implementation only supports equal length strides in the row and "
                      "column dimensions.")
    if n != 1 or c != 1:
        raise OpError("Current implementation does not yet support strides in the batch and "
                      "depth dimensions.")
    check_padding(attrs["padding"], attrs["explicit_paddings"], attrs["data_format"])
    d = attrs["dilations"]
    if forward and any(v != 1 for v in d):
        raise OpError("Current kernel implementation does not support dilations, received ["
                      + " ".join(str(v) for v in d) + "]")
    return h, pos


def _out_hw(attrs, stride, in_hw, k_hw):
    pads = explicit_pads(attrs)
    rows, *pr = windowed(known(in_hw[0]), known(k_hw[0]), 1, stride, attrs["padding"], *pads[0])
    cols, *pc = windowed(known(in_hw[1]), known(k_hw[1]), 1, stride, attrs["padding"], *pads[1])
    return (rows, cols), (tuple(pr), tuple(pc))


def forward_geometry(attrs, x, f):
    """DepthwiseConv2dNativeOp::Compute's checks: (output shape, (out_hw, pads) or None when
    there is nothing to compute)."""
    stride, (n_, h_, w_, c_) = _construction(attrs, True)
    rank4(x, "input must be 4-dimensional{shape}")
    rank4(f, "filter must be 4-dimensional: {shape}")
    if known(x[c_]) != known(f[2]):
        raise OpError(f"input and filter must have the same depth: {x[c_]} vs {f[2]}")
    out_hw, pads = _out_hw(attrs, stride, (x[h_], x[w_]), (f[0], f[1]))
    depth = x[c_] * known(f[3])
    out = (x[n_], *out_hw, depth) if attrs["data_format"] == "NHWC" else (x[n_], depth, *out_hw)
    if known(x[n_]) * depth * out_hw[0] * out_hw[1] == 0:
        return out, None
    if attrs["data_format"] != "NHWC":
        raise OpError(_NCHW)
    return out, (stride, out_hw, pads)


def backprop_geometry(attrs, label, x, f, dy):
    """The backprops' checks (EXTRACT_AND_VERIFY_DIMENSIONS, then the launch): (stride, pads)
    or None when there is nothing to compute."""
    stride, (n_, h_, w_, c_) = _construction(attrs, False)
    rank4(x, label + ": input must be 4-dimensional")
    rank4(f, label + ": filter must be 4-dimensional")
    rank4(dy, label + ": out_backprop must be 4-dimensional")
    if known(x[n_]) != known(dy[n_]):
        raise OpError(label + ": input and out_backprop must have the same batch size")
    if known(x[c_]) != known(f[2]):
        raise OpError(label + ": input and filter must have the same in_depth")
    if known(f[3]) * x[c_] != known(dy[c_]):
        raise OpError(label + ": depth_multiplier * in_depth not equal to out_depth")
    out_hw, pads = _out_hw(attrs, stride, (x[h_], x[w_]), (f[0], f[1]))
    for what, got, want in (("rows", dy[h_], out_hw[0]), ("cols", dy[w_], out_hw[1])):
        if known(got) != want:
            raise OpError(f"{label}: Number of {what} of out_backprop doesn't match computed: "
                          f"actual = {got}, computed = {want}")
    return stride, pads


def _sizes(shape, value, word, op_word):
    v = sizes_vector(shape, value, op_word + ": " + word + " input must be 1-dim, not {n}")
    for i, d in enumerate(v):
        if d < 0:
            raise OpError(f"Dimension {i} of {word} must be >= 0")
    return tuple(v)


def _value(ctx, port):
    v = ctx.value(port)
    return None if v is None else np.asarray(v).reshape(-1)


def _forward_shape(ctx):
    try:
        out, _ = forward_geometry(ctx.attrs, ctx.shape("input"), ctx.shape("filter"))
    except Unknown:
        out = fallback(lambda: _partial_output(ctx.attrs, ctx.shape("input"), ctx.shape("filter")),
                       (None,) * 4)
    ctx.set_output("output", out)


def _partial_output(attrs, x, f):
    """The output dims that do not wait for an unknown one (the shape function's)."""
    stride, (n_, h_, w_, c_) = _construction(attrs, True)
    if x is None or len(x) != 4:
        return (None,) * 4
    k = f if f is not None and len(f) == 4 else (None,) * 4
    hw = [fallback(lambda i=i: _out_hw(attrs, stride, (x[h_], x[w_]), (k[0], k[1]))[0][i], None)
          for i in (0, 1)]
    depth = None if x[c_] is None or k[3] is None else x[c_] * k[3]
    return (x[n_], *hw, depth) if attrs["data_format"] == "NHWC" else (x[n_], depth, *hw)


_ATTRS = [STRIDES, padding_attr("SAME", "VALID", "EXPLICIT"), EXPLICIT_PADDINGS,
          data_format_attr("NHWC", "NCHW"), DILATIONS]


@block("DepthwiseConv2dNative",
       inputs=[Input("input", DW_T, type_attr="T", doc="4-D [batch, rows, cols, in_depth] (NHWC)"),
               Input("filter", DW_T, type_attr="T", doc="[rows, cols, in_depth, multiplier]")],
       attrs=_ATTRS, outputs=[Output("output", "T")], shape=_forward_shape)
def depthwise_conv2d_native(input, filter, strides, padding, explicit_paddings, data_format,
                            dilations):
    """Each input channel convolved with its own `multiplier` filters: output depth in_depth * multiplier."""
    attrs = {"strides": strides, "padding": padding, "explicit_paddings": explicit_paddings,
             "data_format": data_format, "dilations": dilations}
    out, geo = forward_geometry(attrs, input.shape, filter.shape)
    if geo is None:
        return np.zeros(out, input.dtype)
    stride, out_hw, pads = geo
    return kdw.depthwise(input, filter, stride, pads, out_hw)


def _input_shape(ctx):
    _construction(ctx.attrs, False)
    try:
        x = _sizes(ctx.shape("input_sizes"), _value(ctx, "input_sizes"), "input_sizes",
                   "Conv2DBackpropInput")
    except Unknown:
        x = (None,) * 4
    try:
        backprop_geometry(ctx.attrs, "DepthwiseConv2DBackpropInput", x, ctx.shape("filter"),
                          ctx.shape("out_backprop"))
    except Unknown:
        pass
    ctx.set_output("output", x)


@block("DepthwiseConv2dNativeBackpropInput",
       inputs=[Input("input_sizes", ("int32",), doc="[4]: the forward input's shape"),
               Input("filter", DW_T, type_attr="T", doc="the forward filter"),
               Input("out_backprop", DW_T, type_attr="T", doc="the gradient of the forward output")],
       attrs=_ATTRS, outputs=[Output("output", "T")], shape=_input_shape)
def depthwise_conv2d_native_backprop_input(input_sizes, filter, out_backprop, strides, padding,
                                           explicit_paddings, data_format):
    """The gradient of DepthwiseConv2dNative with respect to its input."""
    attrs = {"strides": strides, "padding": padding, "explicit_paddings": explicit_paddings,
             "data_format": data_format, "dilations": []}
    x = tuple(int(v) for v in input_sizes)
    stride, pads = backprop_geometry(attrs, "DepthwiseConv2DBackpropInput", x, filter.shape,
                                     out_backprop.shape)
    if not np.prod(x):
        return np.zeros(x, filter.dtype)
    if data_format != "NHWC":
        raise OpError(_NCHW)
    return kdw.backprop_input(x, filter, out_backprop, stride, pads)


def _filter_shape(ctx):
    _construction(ctx.attrs, False)
    try:
        f = _sizes(ctx.shape("filter_sizes"), _value(ctx, "filter_sizes"), "filter_sizes",
                   "Conv2DBackpropFilter")
    except Unknown:
        f = (None,) * 4
    try:
        backprop_geometry(ctx.attrs, "DepthwiseConv2DBackpropFilter", ctx.shape("input"), f,
                          ctx.shape("out_backprop"))
    except Unknown:
        pass
    ctx.set_output("output", f)


@block("DepthwiseConv2dNativeBackpropFilter",
       inputs=[Input("input", DW_T, type_attr="T", doc="the forward input"),
               Input("filter_sizes", ("int32",), doc="[4]: the forward filter's shape"),
               Input("out_backprop", DW_T, type_attr="T", doc="the gradient of the forward output")],
       attrs=_ATTRS, outputs=[Output("output", "T")], shape=_filter_shape)
def depthwise_conv2d_native_backprop_filter(input, filter_sizes, out_backprop, strides, padding,
                                            explicit_paddings, data_format):
    """The gradient of DepthwiseConv2dNative with respect to its filter."""
    attrs = {"strides": strides, "padding": padding, "explicit_paddings": explicit_paddings,
             "data_format": data_format, "dilations": []}
    f = tuple(int(v) for v in filter_sizes)
    stride, pads = backprop_geometry(attrs, "DepthwiseConv2DBackpropFilter", input.shape, f,
                                     out_backprop.shape)
    if not np.prod(f) or not input.size or not out_backprop.size:
        return np.zeros(f, input.dtype)
    if data_format != "NHWC":
        raise OpError(_NCHW)
    return kdw.backprop_filter(input, f, out_backprop, stride, pads)


# ----------------------------------------------------------------- gradients (TF's nn_grad.py)

_DW_ATTRS = ("strides", "padding", "explicit_paddings", "data_format", "dilations")


def _attrs(op):
    return {k: op.attrs[k] for k in _DW_ATTRS}


@gradient("DepthwiseConv2dNative")
def _depthwise_grad(op, grad):
    return {"input": op.add("DepthwiseConv2dNativeBackpropInput",
                            input_sizes=op.add("Shape", input=op.input("input")),
                            filter=op.input("filter"), out_backprop=grad, **_attrs(op)),
            "filter": op.add("DepthwiseConv2dNativeBackpropFilter", input=op.input("input"),
                             filter_sizes=op.add("Shape", input=op.input("filter")),
                             out_backprop=grad, **_attrs(op))}


@gradient("DepthwiseConv2dNativeBackpropInput")
def _depthwise_backprop_input_grad(op, grad):
    return {"input_sizes": None,
            "filter": op.add("DepthwiseConv2dNativeBackpropFilter", input=grad,
                             filter_sizes=op.add("Shape", input=op.input("filter")),
                             out_backprop=op.input("out_backprop"), **_attrs(op)),
            "out_backprop": op.add("DepthwiseConv2dNative", input=grad, filter=op.input("filter"),
                                   **_attrs(op))}


@gradient("DepthwiseConv2dNativeBackpropFilter")
def _depthwise_backprop_filter_grad(op, grad):
    return {"input": op.add("DepthwiseConv2dNativeBackpropInput",
                            input_sizes=op.add("Shape", input=op.input("input")), filter=grad,
                            out_backprop=op.input("out_backprop"), **_attrs(op)),
            "filter_sizes": None,
            "out_backprop": op.add("DepthwiseConv2dNative", input=op.input("input"), filter=grad,
                                   **_attrs(op))}
