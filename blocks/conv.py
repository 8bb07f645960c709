"""Conv2D and its backprops (Conv2DBackpropInput, Conv2DBackpropFilter) as TF 2.21's CPU kernels
(Conv2DOp, Conv2DCustomBackpropInputOp, Conv2DCustomBackpropFilterOp): their checks in the
shape functions in the kernels' order (construction, then compute), the products by im2col +
GEMM (`kernels/conv.py`), and the gradients of nn_grad.py.

Conv2D takes dilations, strides, SAME/VALID/EXPLICIT padding and grouped filters (input depth a
multiple of the filter depth); NCHW fails on the CPU (TF's text) once the output is not empty.
The backprops take neither dilations nor groups on the CPU.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core.blockdef import Input, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.gradients import gradient

from ._window import (DILATIONS, EXPLICIT_PADDINGS, STRIDES, USE_CUDNN, Unknown, check_padding,
                      data_format_attr, fallback, explicit_pads, known, nhwc_dims, padding_attr, rank4,
                      sizes_vector, windowed)
from .kernels import conv as kconv

CONV_T = ("float32", "float64", "int32", "bfloat16", "float16")
FILTER_GRAD_T = ("float32", "float64", "bfloat16", "float16")
_BATCH_DEPTH = "Current implementation does not yet support {} in the batch and depth dimensions."
_CPU_DILATION = "Current CPU implementations do not yet support dilation rates larger than 1."


def spatial(attrs, in_hw, k_hw, d_hw):
    """Output rows/cols and paddings: ((oh, ow), ((top, bottom), (left, right)))."""
    pads = explicit_pads(attrs)
    rows, *pr = windowed(known(in_hw[0]), known(k_hw[0]), d_hw[0], attrs["strides_hw"][0],
                         attrs["padding"], *pads[0])
    cols, *pc = windowed(known(in_hw[1]), known(k_hw[1]), d_hw[1], attrs["strides_hw"][1],
                         attrs["padding"], *pads[1])
    return (rows, cols), (tuple(pr), tuple(pc))


def with_hw(attrs):
    """attrs plus strides_hw / dilations_hw picked by the data format."""
    n, h, w, c = nhwc_dims(attrs["data_format"])
    out = dict(attrs, strides_hw=(attrs["strides"][h], attrs["strides"][w]))
    dil = attrs.get("dilations")
    if dil is not None and len(dil) == 4:
        out["dilations_hw"] = (dil[h], dil[w])
    return out


# ----------------------------------------------------------------- Conv2D

def _conv2d_attrs(attrs):
    """InitConv2DParameters."""
    d, s = attrs["dilations"], attrs["strides"]
    if len(d) != 4:
        raise OpError("Sliding window dilations field must specify 4 dimensions")
    if len(s) != 4:
        raise OpError("Sliding window strides field must specify 4 dimensions")
    n, h, w, c = nhwc_dims(attrs["data_format"])
    if s[n] != 1 or s[c] != 1:
        raise OpError(_BATCH_DEPTH.format("strides"))
    if s[h] <= 0 or s[w] <= 0:
        raise OpError("Row and column strides should be larger than 0.")
    if d[n] != 1 or d[c] != 1:
        raise OpError(_BATCH_DEPTH.format("dilations"))
    if d[h] <= 0 or d[w] <= 0:
        raise OpError("Dilated rates should be larger than 0.")
    check_padding(attrs["padding"], attrs["explicit_paddings"], attrs["data_format"])


def conv2d_geometry(attrs, x, f):
    """ComputeConv2DDimension and the launcher's checks: (output shape, kernel arguments) or
    TF's error; Unknown when a needed dim is not known."""
    a = with_hw(attrs)
    rank4(x, "convolution input must be 4-dimensional: {shape}")
    rank4(f, "convolution filter must be 4-dimensional: {shape}")
    n_, h_, w_, c_ = nhwc_dims(attrs["data_format"])
    in_depth, patch_depth = known(x[c_]), known(f[2])
    if patch_depth <= 0:
        raise OpError(f"filter depth must be stricly positive, got {patch_depth}")
    if in_depth % patch_depth:
        raise OpError(f"input depth must be evenly divisible by filter depth: {in_depth} vs "
                      f"{patch_depth}")
    out_hw, pads = spatial(a, (x[h_], x[w_]), (f[0], f[1]), a["dilations_hw"])
    batch, out_depth = x[n_], f[3]
    if attrs["data_format"] == "NHWC":
        out = (batch, *out_hw, out_depth)
    else:
        out = (batch, out_depth, *out_hw)
    if known(batch) * known(out_depth) * out_hw[0] * out_hw[1] == 0:
        return out, None
    if known(*x) and int(np.prod(x)) == 0:
        return out, None
    if attrs["data_format"] != "NHWC":
        raise OpError("The Conv2D op currently only supports the NHWC tensor format on the CPU. "
                      f"The op was given the format: {attrs['data_format']}")
    if int(np.prod(known(*f))) <= 0:
        raise OpError("filter must not have zero elements (i.e. all dimensions must be non-zero)")
    groups = in_depth // patch_depth
    if out_depth % groups or out_depth < groups:
        raise OpError(f"output depth must be evenly divisible by number of groups: {out_depth} "
                      f"vs {groups}")
    return out, (out_hw, pads)


def _conv2d_shape(ctx):
    _conv2d_attrs(ctx.attrs)
    x, f = ctx.shape("input"), ctx.shape("filter")
    try:
        out, _ = conv2d_geometry(ctx.attrs, x, f)
    except Unknown:
        out = _partial_output(ctx.attrs, x, f)
    ctx.set_output("output", out)


def _partial_output(attrs, x, f):
    """Conv2D's output dims that do not wait for an unknown one (the shape function's)."""
    if x is None or len(x) != 4:
        return (None,) * 4
    a, (n_, h_, w_, c_) = with_hw(attrs), nhwc_dims(attrs["data_format"])
    k = f if f is not None and len(f) == 4 else (None,) * 4
    hw = [fallback(lambda i=i: windowed(known(x[(h_, w_)[i]]), known(k[i]), a["dilations_hw"][i],
                                        a["strides_hw"][i], a["padding"],
                                        *explicit_pads(a)[i])[0], None) for i in (0, 1)]
    return (x[n_], *hw, k[3]) if attrs["data_format"] == "NHWC" else (x[n_], k[3], *hw)


@block("Conv2D",
       inputs=[Input("input", CONV_T, type_attr="T", doc="4-D [batch, rows, cols, in_depth] (NHWC)"),
               Input("filter", CONV_T, type_attr="T",
                     doc="[rows, cols, in_depth / groups, out_depth]")],
       attrs=[STRIDES, USE_CUDNN, padding_attr("SAME", "VALID", "EXPLICIT"), EXPLICIT_PADDINGS,
              data_format_attr("NHWC", "NCHW"), DILATIONS],
       outputs=[Output("output", "T")], shape=_conv2d_shape)
def conv2d(input, filter, strides, padding, explicit_paddings, data_format, dilations):
    """2-D convolution (cross-correlation) of NHWC input with an HWIO filter."""
    attrs = {"strides": strides, "padding": padding, "explicit_paddings": explicit_paddings,
             "data_format": data_format, "dilations": dilations}
    out, geo = conv2d_geometry(attrs, input.shape, filter.shape)
    if geo is None:
        return np.zeros(out, input.dtype)
    (out_hw, pads), a = geo, with_hw(attrs)
    return kconv.conv2d(input, filter, a["strides_hw"], a["dilations_hw"], pads, out_hw,
                        input.dtype)


# ----------------------------------------------------------------- the backprops

def backprop_dims(label, x, f, dy, attrs, dilations=(1, 1)):
    """ConvBackpropComputeDimensionsV2 (NHWC): ((oh, ow), pads) or TF's error."""
    rank4(x, label + ": input must be 4-dimensional")
    rank4(f, label + ": filter must be 4-dimensional")
    rank4(dy, label + ": out_backprop must be 4-dimensional")
    if known(x[0]) != known(dy[0]):
        raise OpError(f"{label}: input and out_backprop must have the same batch size. Input "
                      f"batch: {x[0]}, outbackprop batch: {dy[0]}, batch_dim: 0")
    if known(f[2]) <= 0:
        raise OpError(f"{label}: filter depth must be strictly greated than zero")
    if known(x[3]) % f[2]:
        raise OpError(f"{label}: input depth must be evenly divisible by filter depth")
    if known(f[3]) != known(dy[3]):
        raise OpError(f"{label}: filter and out_backprop must have the same out_depth")
    a = with_hw(attrs)
    pads_in = explicit_pads(attrs)
    out_hw, pads = [], []
    for i in range(2):
        size, k, got = known(x[1 + i]), known(f[i]), known(dy[1 + i])
        out, *p = windowed(size, k, dilations[i], a["strides_hw"][i], attrs["padding"], *pads_in[i])
        if got != out:
            raise OpError(f"{label}: Size of out_backprop doesn't match computed: actual = {got}, "
                          f"computed = {out} spatial_dim: {1 + i} input: {size} filter: {k} "
                          f"output: {got} stride: {a['strides_hw'][i]} dilation: {dilations[i]}")
        out_hw.append(out)
        pads.append(tuple(p))
    return tuple(out_hw), tuple(pads)


def _backprop_construction(attrs, label, padding_first):
    """The construction checks of Conv2DCustomBackpropInputOp / ...FilterOp, in their orders
    (the filter backprop checks its paddings before the dilations, the input backprop after)."""
    if attrs["data_format"] != "NHWC":
        raise OpError(f"{label}Op only supports NHWC.")
    s, d = attrs["strides"], attrs["dilations"]
    if len(s) != 4:
        raise OpError("Sliding window strides field must specify 4 dimensions")
    if s[0] != 1 or s[3] != 1:
        raise OpError(_BATCH_DEPTH.format("strides"))
    if s[1] <= 0 or s[2] <= 0:
        raise OpError("Row and column strides should be larger than 0.")
    if padding_first:
        check_padding(attrs["padding"], attrs["explicit_paddings"])
    if len(d) != 4:
        raise OpError("Sliding window dilations field must specify 4 dimensions")
    if d[0] != 1 or d[3] != 1:
        raise OpError(_BATCH_DEPTH.format("dilations"))
    if d[1] != 1 or d[2] != 1:
        raise OpError(_CPU_DILATION)
    if not padding_first:
        check_padding(attrs["padding"], attrs["explicit_paddings"])


def input_sizes_shape(sizes_shape, sizes, f, dy):
    """Conv2DBackpropComputeInputShape: the input shape from `input_sizes` (4 values, or 2: the
    spatial dims, batch and depth taken from out_backprop and filter)."""
    v = sizes_vector(sizes_shape, sizes, "Conv2DBackpropInput: input_sizes input must be 1-dim, not {n}")
    if len(v) == 4:
        for d in v:
            if d < 0:
                raise OpError(f"Dimension {d} must be >= 0")
        return tuple(v)
    if len(v) == 2:
        if v[0] < 0 or v[1] < 0:
            raise OpError("Conv2DBackpropInput: elements of input_sizes must be >= 0, not "
                          f"{v[0]}x{v[1]}")
        return (known(dy[0]), v[0], v[1], known(f[2]))
    raise OpError("Conv2DBackpropInput requires input_sizes to contain 4 values or 2 values, but "
                  f"got: {len(v)}")


def _sizes_value(ctx, port):
    v = ctx.value(port)
    return None if v is None else np.asarray(v).reshape(-1)


def backprop_input_geometry(attrs, sizes_shape, sizes, f, dy):
    """Conv2DCustomBackpropInputOp::Compute's checks: (input shape, (out_hw, pads))."""
    label = "Conv2DCustomBackpropInput"
    dy = rank4(dy, "input_sizes must be 4-dimensional, got: {n}")
    in_shape = input_sizes_shape(sizes_shape, sizes, f, dy)
    out_hw, pads = backprop_dims(label, in_shape, f, dy, attrs)
    if in_shape[3] != f[2]:
        raise OpError("Gradients for grouped convolutions are not supported on CPU. Please file a "
                      "feature request if you run into this issue. Computed input depth "
                      f"{in_shape[3]} doesn't match filter input depth {f[2]}")
    return in_shape, (out_hw, pads)


def _backprop_input_shape(ctx):
    _backprop_construction(ctx.attrs, "Conv2DCustomBackpropInput", padding_first=False)
    try:
        out, _ = backprop_input_geometry(ctx.attrs, ctx.shape("input_sizes"),
                                         _sizes_value(ctx, "input_sizes"), ctx.shape("filter"),
                                         ctx.shape("out_backprop"))
    except Unknown:
        out = fallback(lambda: input_sizes_shape(ctx.shape("input_sizes"),
                                                 _sizes_value(ctx, "input_sizes"),
                                                 ctx.shape("filter"), ctx.shape("out_backprop")),
                       (None,) * 4)
    ctx.set_output("output", out)


@block("Conv2DBackpropInput",
       inputs=[Input("input_sizes", ("int32",), doc="[4] (or [2]: rows, cols): Conv2D's input shape"),
               Input("filter", CONV_T, type_attr="T", doc="Conv2D's filter [rows, cols, in, out]"),
               Input("out_backprop", CONV_T, type_attr="T", doc="the gradient of Conv2D's output")],
       attrs=[STRIDES, USE_CUDNN, padding_attr("SAME", "VALID", "EXPLICIT"), EXPLICIT_PADDINGS,
              data_format_attr("NHWC", "NCHW"), DILATIONS],
       outputs=[Output("output", "T")], shape=_backprop_input_shape)
def conv2d_backprop_input(input_sizes, filter, out_backprop, strides, padding, explicit_paddings):
    """The gradient of Conv2D with respect to its input."""
    attrs = {"strides": strides, "padding": padding, "explicit_paddings": explicit_paddings,
             "data_format": "NHWC"}
    in_shape, (_, pads) = backprop_input_geometry(attrs, input_sizes.shape, input_sizes.reshape(-1),
                                                  filter.shape, out_backprop.shape)
    return kconv.conv2d_backprop_input(in_shape, filter, out_backprop, (strides[1], strides[2]),
                                       pads, filter.dtype)


def filter_sizes_shape(sizes_shape, sizes):
    v = sizes_vector(sizes_shape, sizes, "Conv2DCustomBackpropFilter: filter_sizes input must be "
                     "1-dim, not {n}")
    for d in v:
        if d < 0:
            raise OpError(f"Dimension {d} must be >= 0")
    return tuple(v)


def backprop_filter_geometry(attrs, x, sizes_shape, sizes, dy):
    """Conv2DCustomBackpropFilterOp::Compute's checks: (filter shape, pads or None when empty)."""
    f = filter_sizes_shape(sizes_shape, sizes)
    _, pads = backprop_dims("Conv2DCustomBackpropFilter", x, f, dy, attrs)
    total = int(np.prod(f))
    if total == 0:
        return f, None
    want = f[0] * f[1] * x[3] * f[3]
    if want != total:
        raise OpError(f"filter_size does not have enough elements, requested {want}, got {total}")
    return f, pads


def _backprop_filter_shape(ctx):
    _backprop_construction(ctx.attrs, "Conv2DCustomBackpropFilter", padding_first=True)
    try:
        out, _ = backprop_filter_geometry(ctx.attrs, ctx.shape("input"), ctx.shape("filter_sizes"),
                                          _sizes_value(ctx, "filter_sizes"), ctx.shape("out_backprop"))
    except Unknown:
        out = fallback(lambda: filter_sizes_shape(ctx.shape("filter_sizes"),
                                                  _sizes_value(ctx, "filter_sizes")), (None,) * 4)
    ctx.set_output("output", out)


@block("Conv2DBackpropFilter",
       inputs=[Input("input", FILTER_GRAD_T, type_attr="T", doc="Conv2D's input"),
               Input("filter_sizes", ("int32",), doc="[4]: Conv2D's filter shape"),
               Input("out_backprop", FILTER_GRAD_T, type_attr="T", doc="the gradient of Conv2D's output")],
       attrs=[STRIDES, USE_CUDNN, padding_attr("SAME", "VALID", "EXPLICIT"), EXPLICIT_PADDINGS,
              data_format_attr("NHWC", "NCHW"), DILATIONS],
       outputs=[Output("output", "T")], shape=_backprop_filter_shape)
def conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding, explicit_paddings):
    """The gradient of Conv2D with respect to its filter."""
    attrs = {"strides": strides, "padding": padding, "explicit_paddings": explicit_paddings,
             "data_format": "NHWC"}
    f, pads = backprop_filter_geometry(attrs, input.shape, filter_sizes.shape,
                                       filter_sizes.reshape(-1), out_backprop.shape)
    if pads is None:
        return np.zeros(f, input.dtype)
    return kconv.conv2d_backprop_filter(input, f, out_backprop, (strides[1], strides[2]), pads,
                                        input.dtype)


# ----------------------------------------------------------------- gradients (TF's nn_grad.py)

_CONV_ATTRS = ("strides", "padding", "explicit_paddings", "use_cudnn_on_gpu", "data_format",
               "dilations")


def _conv_attrs(op):
    return {k: op.attrs[k] for k in _CONV_ATTRS}


@gradient("Conv2D")
def _conv2d_grad(op, grad):
    shapes = op.add("ShapeN", input=[op.input("input"), op.input("filter")])
    return {"input": op.add("Conv2DBackpropInput", input_sizes=f"{shapes}.output.0",
                            filter=op.input("filter"), out_backprop=grad, **_conv_attrs(op)),
            "filter": op.add("Conv2DBackpropFilter", input=op.input("input"),
                             filter_sizes=f"{shapes}.output.1", out_backprop=grad,
                             **_conv_attrs(op))}


@gradient("Conv2DBackpropInput")
def _conv2d_backprop_input_grad(op, grad):
    return {"input_sizes": None,
            "filter": op.add("Conv2DBackpropFilter", input=grad,
                             filter_sizes=op.add("Shape", input=op.input("filter")),
                             out_backprop=op.input("out_backprop"), **_conv_attrs(op)),
            "out_backprop": op.add("Conv2D", input=grad, filter=op.input("filter"),
                                   **_conv_attrs(op))}


@gradient("Conv2DBackpropFilter")
def _conv2d_backprop_filter_grad(op, grad):
    return {"input": op.add("Conv2DBackpropInput", input_sizes=op.add("Shape", input=op.input("input")),
                            filter=grad, out_backprop=op.input("out_backprop"), **_conv_attrs(op)),
            "filter_sizes": None,
            "out_backprop": op.add("Conv2D", input=op.input("input"), filter=grad,
                                   **_conv_attrs(op))}
