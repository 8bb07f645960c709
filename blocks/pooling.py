"""Pooling: MaxPool, AvgPool, MaxPoolGrad, AvgPoolGrad, MaxPoolGradGrad, as TF 2.21's CPU
kernels (pooling_ops_common, maxpooling_op, avgpooling_op): their checks in the shape functions
in TF's order (kernel construction, then PoolParameters), the loops in `kernels/pool.py` bit for
bit, and the gradients of nn_grad.py. The CPU kernels take NHWC only."""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Input, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.gradients import gradient
from blockgraph.core.shapes import fmt, fully_known

from ._window import (EXPLICIT_PADDINGS, KSIZE, STRIDES, check_padding, data_format_attr,
                      explicit_pads, padding_attr, vector_attr_len, windowed)
from .kernels import pool

MAXPOOL_T = ("float32", "float64", "int32", "uint8", "int16", "int8", "int64", "bfloat16",
             "uint16", "float16")
MAXGRAD_T = MAXPOOL_T + ("uint32", "uint64")
AVG_T = ("float32", "float64", "bfloat16", "float16")
_GRADGRAD_ALLOWED = ("float32", "float64", "int32", "uint8", "int16", "int8", "int64", "bfloat16",
                     "uint16", "float16", "uint32", "uint64")
_BATCH = "Pooling is not yet supported on the batch dimension."
_NON_SPATIAL = "Non-spatial pooling is not yet supported. Volunteers? :)"
#: Eigen packet sizes (AVX) of the types a depth max pooling reduction vectorises (integers: any)
_PACKET = {"float32": 8, "float64": 4, "float16": 8, "bfloat16": 8, "int32": 8, "int64": 4}


# ----------------------------------------------------------------- attr checks

def _int32_attrs(attrs, *names):
    """GetAttr of a list of int32: TF's text for a value out of range."""
    for name in names:
        for v in attrs[name]:
            if not -2 ** 31 <= v < 2 ** 31:
                raise OpError(f"Attr {name} has value {v} out of range for an int32")


def _nhwc(attrs, kernel):
    if attrs["data_format"] != "NHWC":
        raise OpError(f"Default {kernel} only supports NHWC on device type CPU")


def _sizes(attrs, strides_word="strides", ksize_check=None):
    """The kernels' own length checks of ksize and strides (the OpDef asked for >= 4);
    `ksize_check(attrs)` runs between the two (MaxPool's positivity check)."""
    _int32_attrs(attrs, "ksize")
    if len(attrs["ksize"]) != 4:
        raise OpError("Sliding window ksize field must specify 4 dimensions")
    if ksize_check is not None:
        ksize_check(attrs)
    _int32_attrs(attrs, "strides")
    if len(attrs["strides"]) != 4:
        raise OpError(f"Sliding window {strides_word} field must specify 4 dimensions")


def _no_batch(attrs):
    if attrs["ksize"][0] != 1 or attrs["strides"][0] != 1:
        raise OpError(_BATCH)


def _no_depth(attrs, kernel):
    if attrs["ksize"][3] != 1 or attrs["strides"][3] != 1:
        raise OpError(f"{kernel} is not yet supported on the depth dimension.")


# ----------------------------------------------------------------- PoolParameters

class Pool:
    """PoolParameters of an NHWC input: the windows and the output shape."""

    def __init__(self, attrs, x):
        """`x`: the input shape (4 known-rank dims; unknown dims allowed). Raises TF's errors in
        PoolParameters' order; dims it needs but does not know leave the output dims None."""
        if len(x) != 4:
            raise OpError(f"tensor_in_shape must have 2 spatial dimensions. {len(x)} 0")
        k, s = attrs["ksize"], attrs["strides"]
        self.k, self.s = (k[1], k[2]), (s[1], s[2])
        self.depth_window, depth_stride = k[3], s[3]
        if not (self.depth_window == 1 or (k[1] == 1 and k[2] == 1)):
            raise OpError("MaxPooling supports exactly one of pooling across depth or pooling "
                          "across width/height.")
        explicit = attrs.get("padding") == "EXPLICIT"
        if explicit:
            check_padding("EXPLICIT", attrs["explicit_paddings"])
            (t, b), (lf, r) = explicit_pads(attrs)
            for name, p, w in (("Top", t, k[1]), ("Bottom", b, k[1]), ("Left", lf, k[2]),
                               ("Right", r, k[2])):
                if w >= 0 and p >= w:      # FastBoundsCheck: an unsigned compare
                    raise OpError(f"{name} padding {p} needs to be smaller than the window size {w}")
        n, h, w, c = x
        if self.depth_window == 1:
            pads = explicit_pads(attrs)
            rows = cols = None
            self.pads = ((0, 0), (0, 0))
            if h is not None:
                rows, *pr = windowed(h, k[1], 1, s[1], attrs["padding"], *pads[0])
                if w is not None:
                    cols, *pc = windowed(w, k[2], 1, s[2], attrs["padding"], *pads[1])
                    self.pads = (tuple(pr), tuple(pc))
            self.out = (n, rows, cols, c)
        else:
            if c is not None and c % self.depth_window:
                raise OpError("Depthwise max pooling requires the depth window to evenly divide "
                              "the input depth")
            if depth_stride != self.depth_window:
                raise OpError("Depthwise max pooling requires the depth window to equal the depth "
                              "stride")
            self.out = (n, h, w, None if c is None else c // self.depth_window)

    @property
    def out_hw(self):
        return self.out[1], self.out[2]


def _rank4(ctx, port, message):
    s = ctx.shape(port)
    if s is not None and len(s) != 4:
        raise OpError(message, port=port)
    return s


def _expect(port, want, got, what):
    """MaxPoolGrad's "Expected orig_output/grad shape" checks (once both shapes are known)."""
    if fully_known(want) and fully_known(got) and tuple(want) != tuple(got):
        raise OpError(f"Expected {what} shape to be {fmt(want)}, but got {fmt(got)}", port=port)


# ----------------------------------------------------------------- shape functions

def _positive_ksize(a):
    if any(v <= 0 for v in a["ksize"]):
        raise OpError("Sliding window ksize must be positive. The specified or inferred ksize is: "
                      + ",".join(str(v) for v in a["ksize"]))


def _max_pool_shape(ctx):
    a = ctx.attrs
    vector_attr_len(a, "ksize")
    vector_attr_len(a, "strides")
    _nhwc(a, "MaxPoolingOp")
    _sizes(a, "stride", _positive_ksize)
    _no_batch(a)
    x = ctx.shape("input")
    if x is None:
        ctx.set_output("output", (None,) * 4)
        return
    p = Pool(a, x)
    if p.depth_window > 1 and a["padding"] == "EXPLICIT":
        raise OpError("Depthwise max pooling does not support explicit padding.")
    ctx.set_output("output", p.out)


def _avg_pool_shape(ctx):
    a = ctx.attrs
    vector_attr_len(a, "ksize")
    vector_attr_len(a, "strides")
    _nhwc(a, "AvgPoolingOp")
    _sizes(a, "stride")
    _no_batch(a)
    for v in a["ksize"]:
        if v <= 0:
            raise OpError(f"ksize must be a positive int32 value, got:{v}")
    x = ctx.shape("value")
    if x is None:
        ctx.set_output("output", (None,) * 4)
        return
    p = Pool(a, x)
    if p.depth_window != 1:
        raise OpError(_NON_SPATIAL)
    ctx.set_output("output", p.out)


def _max_pool_grad_checks(ctx, kernel, grad_shape_of):
    """MaxPoolGrad / MaxPoolGradGrad: the construction checks, the ranks, PoolParameters, the
    expected orig_output and grad shapes; returns the output shape."""
    a = ctx.attrs
    vector_attr_len(a, "ksize")
    vector_attr_len(a, "strides")
    _nhwc(a, kernel)
    _sizes(a)
    _no_batch(a)
    _no_depth(a, kernel.replace("Op", ""))
    if a["padding"] == "EXPLICIT":
        check_padding("EXPLICIT", a["explicit_paddings"])
    x = _rank4(ctx, "orig_input", "tensor_in must be 4-dimensional")
    y = _rank4(ctx, "orig_output", "tensor_out must be 4-dimensional")
    g = _rank4(ctx, "grad", "out_backprop must be 4-dimensional" if kernel == "MaxPoolingGradOp"
               else "out_grad_backprop must be 4-dimensional")
    if x is None:
        return None
    p = Pool(a, x)
    _expect("orig_output", p.out, y, "orig_output")
    _expect("grad", grad_shape_of(x, p), g, "grad")
    return p


def _max_pool_grad_shape(ctx):
    _max_pool_grad_checks(ctx, "MaxPoolingGradOp", lambda x, p: p.out)
    ctx.set_output("output", ctx.shape("orig_input") or (None,) * 4)


def _max_pool_grad_grad_shape(ctx):
    p = _max_pool_grad_checks(ctx, "MaxPoolingGradGradOp", lambda x, p: x)
    y = ctx.shape("orig_output")
    ctx.set_output("output", y if y is not None else (p.out if p is not None else (None,) * 4))


def _avg_pool_grad_shape(ctx):
    a = ctx.attrs
    vector_attr_len(a, "ksize")
    vector_attr_len(a, "strides")
    _nhwc(a, "AvgPoolingGradOp")
    _sizes(a)
    _no_batch(a)
    s = ctx.shape("orig_input_shape")
    if s is not None and (len(s) != 1 or (s[0] is not None and s[0] != 4)):
        raise OpError("out_backprop must be 1-dimensional and 4 elements", port="orig_input_shape")
    g = _rank4(ctx, "grad", "out_backprop must be 4-dimensional")
    v = ctx.value("orig_input_shape")
    if v is None:
        ctx.set_output("output", (None,) * 4)
        return
    dims = [int(d) for d in np.asarray(v).reshape(-1)]
    for d in dims:
        if d < 0:
            raise OpError(f"Expected a non-negative size, got {d}", port="orig_input_shape")
    if np.prod(dims) == 0:
        ctx.set_output("output", tuple(dims))
        return
    if a["ksize"][3] != 1:
        raise OpError(_NON_SPATIAL)
    _, h, w, _ = dims
    _, top, _ = windowed(h, a["ksize"][1], 1, a["strides"][1], a["padding"])
    _, left, _ = windowed(w, a["ksize"][2], 1, a["strides"][2], a["padding"])
    if g is not None and g[1] is not None and g[2] is not None:
        pool.broadcast_windows(h, a["ksize"][1], a["strides"][1], top, g[1])
        pool.broadcast_windows(w, a["ksize"][2], a["strides"][2], left, g[2])
        if fully_known(g) and g[0] * g[3] > dims[0] * dims[3]:
            raise OpError(f"grad {fmt(g)} does not fit orig_input_shape {fmt(dims)} (TF would "
                          "write past its output)", port="grad")
    ctx.set_output("output", tuple(dims))


# ----------------------------------------------------------------- blocks

_POOL_ATTRS = [KSIZE, STRIDES]


def _geometry(attrs, x_shape):
    p = Pool(attrs, x_shape)
    return p.k, p.s, p.pads, p.out_hw


@block("MaxPool",
       inputs=[Input("input", MAXPOOL_T, type_attr="T", doc="4-D [batch, rows, cols, depth]")],
       attrs=[*_POOL_ATTRS, padding_attr("SAME", "VALID", "EXPLICIT"), EXPLICIT_PADDINGS,
              data_format_attr("NHWC", "NCHW", "NCHW_VECT_C")],
       outputs=[Output("output", "T")], shape=_max_pool_shape)
def max_pool(input, ksize, strides, padding, explicit_paddings):
    """The maximum of each window (NaN never wins; an all-NaN window gives the lowest value);
    ksize [1,1,1,k] pools over depth instead."""
    attrs = {"ksize": ksize, "strides": strides, "padding": padding,
             "explicit_paddings": explicit_paddings}
    if ksize[3] != 1:
        return pool.depth_max_pool(input, ksize[3], _PACKET.get(dt.from_numpy(input.dtype), 0))
    k, s, pads, out_hw = _geometry(attrs, input.shape)
    return pool.max_pool(input, k, s, pads, out_hw)


@block("AvgPool",
       inputs=[Input("value", AVG_T, type_attr="T", doc="4-D [batch, rows, cols, depth]")],
       attrs=[*_POOL_ATTRS, padding_attr("SAME", "VALID"), data_format_attr("NHWC", "NCHW")],
       outputs=[Output("output", "T")], shape=_avg_pool_shape)
def avg_pool(value, ksize, strides, padding):
    """The mean of each window's real (unpadded) elements."""
    k, s, pads, out_hw = _geometry({"ksize": ksize, "strides": strides, "padding": padding},
                                   value.shape)
    return pool.avg_pool(value, k, s, pads, out_hw)


@block("MaxPoolGrad",
       inputs=[Input("orig_input", MAXGRAD_T, type_attr="T", doc="MaxPool's input"),
               Input("orig_output", MAXGRAD_T, type_attr="T", doc="MaxPool's output (shape checked only)"),
               Input("grad", MAXGRAD_T, type_attr="T", doc="the gradient of MaxPool's output")],
       attrs=[*_POOL_ATTRS, padding_attr("SAME", "VALID", "EXPLICIT"), EXPLICIT_PADDINGS,
              data_format_attr("NHWC", "NCHW")],
       outputs=[Output("output", "T")], shape=_max_pool_grad_shape)
def max_pool_grad(orig_input, orig_output, grad, ksize, strides, padding, explicit_paddings):
    """MaxPool's gradient: each window's gradient added at its first maximum (row-major)."""
    k, s, pads, out_hw = _geometry({"ksize": ksize, "strides": strides, "padding": padding,
                                    "explicit_paddings": explicit_paddings}, orig_input.shape)
    return pool.max_pool_grad(orig_input, grad, k, s, pads, out_hw)


@block("AvgPoolGrad",
       inputs=[Input("orig_input_shape", ("int32",), doc="[4]: AvgPool's input shape"),
               Input("grad", AVG_T, type_attr="T", doc="the gradient of AvgPool's output")],
       attrs=[*_POOL_ATTRS, padding_attr("SAME", "VALID"), data_format_attr("NHWC", "NCHW")],
       outputs=[Output("output", "T")], shape=_avg_pool_grad_shape)
def avg_pool_grad(orig_input_shape, grad, ksize, strides, padding):
    """AvgPool's gradient: each window's gradient spread evenly over the window."""
    shape = tuple(int(d) for d in orig_input_shape)
    if not np.prod(shape):
        return np.zeros(shape, grad.dtype)
    _, top, _ = windowed(shape[1], ksize[1], 1, strides[1], padding)
    _, left, _ = windowed(shape[2], ksize[2], 1, strides[2], padding)
    return pool.avg_pool_grad(shape, grad, (ksize[1], ksize[2]), (strides[1], strides[2]),
                              ((top, 0), (left, 0)))


@block("MaxPoolGradGrad",
       inputs=[Input("orig_input", _GRADGRAD_ALLOWED, type_attr="T", doc="MaxPool's input"),
               Input("orig_output", _GRADGRAD_ALLOWED, type_attr="T", doc="MaxPool's output"),
               Input("grad", _GRADGRAD_ALLOWED, type_attr="T", doc="shaped like orig_input")],
       attrs=[*_POOL_ATTRS, padding_attr("SAME", "VALID"), data_format_attr("NHWC", "NCHW")],
       outputs=[Output("output", "T")], shape=_max_pool_grad_grad_shape)
def max_pool_grad_grad(orig_input, orig_output, grad, ksize, strides, padding):
    """MaxPoolGrad's gradient: per window, grad at its first element equal to the window's max."""
    k, s, pads, out_hw = _geometry({"ksize": ksize, "strides": strides, "padding": padding},
                                   orig_input.shape)
    return pool.max_pool_grad_grad(orig_input, orig_output, grad, k, s, pads, out_hw)


# ----------------------------------------------------------------- gradients (TF's nn_grad.py)

def _attrs(op, *names):
    return {n: op.attrs[n] for n in names}


@gradient("MaxPool")
def _max_pool_grad(op, grad):
    return {"input": op.add("MaxPoolGrad", orig_input=op.input("input"), orig_output=op.output(),
                            grad=grad, **_attrs(op, "ksize", "strides", "padding",
                                                "explicit_paddings", "data_format"))}


@gradient("AvgPool")
def _avg_pool_grad(op, grad):
    return {"value": op.add("AvgPoolGrad", orig_input_shape=op.add("Shape", input=op.input("value")),
                            grad=grad, **_attrs(op, "ksize", "strides", "padding", "data_format"))}


@gradient("AvgPoolGrad")
def _avg_pool_grad_grad(op, grad):
    return {"orig_input_shape": op.add("StopGradient", input=op.input("orig_input_shape")),
            "grad": op.add("AvgPool", value=grad, **_attrs(op, "ksize", "strides", "padding",
                                                           "data_format"))}


@gradient("MaxPoolGrad")
def _max_pool_grad_grad(op, grad):
    return {"orig_input": op.add("ZerosLike", x=op.input("orig_input")),
            "orig_output": op.add("ZerosLike", x=op.input("orig_output")),
            "grad": op.add("MaxPoolGradGrad", orig_input=op.input("orig_input"),
                           orig_output=op.input("orig_output"), grad=grad,
                           **_attrs(op, "ksize", "strides", "padding", "data_format"))}


@gradient("MaxPoolGradGrad")
def _max_pool_grad_grad_grad(op, grad):
    return {"orig_input": op.add("ZerosLike", x=op.input("orig_input")),
            "orig_output": op.add("ZerosLike", x=op.input("orig_output")),
            "grad": op.add("MaxPoolGrad", orig_input=op.input("orig_input"),
                           orig_output=op.input("orig_output"), grad=grad,
                           **_attrs(op, "ksize", "strides", "padding", "data_format"))}
