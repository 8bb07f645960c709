"""The quantization family: QuantizeV2, Dequantize, QuantizeAndDequantizeV2 and the quantized
QuantizedConcat / QuantizedReshape / QuantizedInstanceNorm, exact to TF 2.21's reference CPU
kernels (not oneDNN).

Quantized tensors are held on their integer base type (quint8 -> uint8, ...); the TF name is the
type attr `T`, which is also the output's dtype. Shape functions carry the kernels' checks with
the kernels' messages (they also run on the real arrays before each compute), so compute
functions only compute; the arithmetic lives in `blocks/kernels/quantize.py`.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Attr, Input, Output, block
from blockgraph.core.errors import OpError, tf_float
from blockgraph.core.shapes import fmt, num_elements
from blocks.kernels import quantize as K
from blocks.shapes import reshape_target

F32 = ("float32",)
QTYPES = ("qint8", "quint8", "qint32", "qint16", "quint16")
MODES = ("MIN_COMBINED", "MIN_FIRST", "SCALED")
MODE = Attr("mode", "string", "MIN_COMBINED", choices=MODES,
            doc="how floats map to the quantized range")
NARROW = Attr("narrow_range", "bool", False, doc="SCALED: leave out the lowest quantized value")
AXIS = Attr("axis", "int", -1, doc="dimension with one range per slice (-1: one range)")


def _first(a):
    """The first element of a range tensor, as float32 (TF reads `flat<float>()(0)`)."""
    return np.float32(np.asarray(a, np.float32).reshape(-1)[0])


def _slices(x, axis):
    """`x` viewed as [pre, depth, post] around `axis` (flat_inner_outer_dims)."""
    pre = int(np.prod(x.shape[:axis], dtype=np.int64))
    post = int(np.prod(x.shape[axis + 1:], dtype=np.int64))      # (-1 is ambiguous when empty)
    return x.reshape(pre, x.shape[axis], post)


# ----------------------------------------------------------------- QuantizeV2

def _quantize_v2_shape(ctx):
    attrs = ctx.attrs
    mode, axis = attrs["mode"], attrs["axis"]
    if attrs["round_mode"] == "HALF_TO_EVEN" and mode != "SCALED":
        raise OpError(f"Round mode 'HALF_TO_EVEN' only supported for mode 'SCALED', but mode is "
                      f"'{mode}'.")
    x = ctx.shape("input")
    ranges = (("min_range", ctx.shape("min_range")), ("max_range", ctx.shape("max_range")))
    if axis > -1:
        if x is not None and len(x) <= axis:
            raise OpError("Axis is on a zero-based index, so its value must always be less than "
                          f"number of input's dims, but given axis value was {axis} and input's "
                          f"dims was {len(x)}", port="input")
        depth = None if x is None else x[axis]
        for name, shape in ranges:
            if shape is None:
                continue
            if len(shape) != 1:
                raise OpError(f"If axis is specified, {name} must be a 1-D tensor whose size "
                              "matches the axis dimension of the input and output tensors, but "
                              f"{name} dims are {len(shape)}", port=name)
            n = shape[0]
            if n is not None and depth is not None and n != depth:
                raise OpError(f"If axis is specified, {name} must be a 1-D tensor whose size "
                              "matches the axis dimension of the input and output tensors, but "
                              f"{name} is a 1-D tensor of size {n} and input's axis dimension "
                              f"is of size {depth}", port=name)
            depth = n if depth is None else depth
    else:
        depth = 1
        for name, shape in ranges:
            n = num_elements(shape)
            if n is not None and n != 1:
                raise OpError(f"If axis is not specified, {name} must contain a single float "
                              f"element, but it contains {n} elements", port=name)
    if depth is not None and depth != 1 and mode == "MIN_FIRST":
        raise OpError("MIN_FIRST mode is not implemented for Quantize with axis != -1.")
    lo, hi = ctx.value("min_range"), ctx.value("max_range")
    if lo is not None and hi is not None:
        lo, hi = np.asarray(lo, np.float32).reshape(-1), np.asarray(hi, np.float32).reshape(-1)
        pairs = zip(lo[:1], hi[:1]) if depth == 1 else zip(lo, hi)
        if any(b < a for a, b in pairs):
            raise OpError("input_max_range must be larger than input_min_range.")
    mm = () if depth == 1 else (None if depth is None else (depth,))
    ctx.set_output("output", x)
    ctx.set_output("output_min", mm)
    ctx.set_output("output_max", mm)


@block("QuantizeV2",
       inputs=[Input("input", F32, doc="float tensor to quantize"),
               Input("min_range", F32, doc="range minimum (one per slice when axis is set)"),
               Input("max_range", F32, doc="range maximum (one per slice when axis is set)")],
       attrs=[Attr("T", "type", choices=QTYPES, doc="quantized output type"), MODE,
              Attr("round_mode", "string", "HALF_AWAY_FROM_ZERO",
                   choices=("HALF_AWAY_FROM_ZERO", "HALF_TO_EVEN"),
                   doc="HALF_TO_EVEN needs mode SCALED"),
              NARROW, AXIS,
              Attr("ensure_minimum_range", "float", 0.01,
                   doc="widen the range to at least this fraction of max(1, |min|, |max|)")],
       outputs=[Output("output", "T"), Output("output_min", "float32"),
                Output("output_max", "float32")],
       shape=_quantize_v2_shape)
def quantize_v2(input, min_range, max_range, T, mode, round_mode, narrow_range, axis,
                ensure_minimum_range):
    """Quantize a float32 tensor to T over [min_range, max_range] (per tensor or per slice)."""
    x = np.asarray(input, np.float32)
    if axis > -1 and x.shape[axis] != 1:
        x3 = _slices(x, axis)
        out = np.empty(x3.shape, dt.to_numpy(T))
        n = x3.shape[1]
        omin, omax = np.empty(n, np.float32), np.empty(n, np.float32)
        lo, hi = np.asarray(min_range, np.float32), np.asarray(max_range, np.float32)
        for i in range(n):
            q, omin[i], omax[i] = K.quantize_slice(x3[:, i, :].reshape(-1), lo[i], hi[i], T, mode,
                                                   round_mode, narrow_range, ensure_minimum_range,
                                                   whole=False)
            out[:, i, :] = q.reshape(x3.shape[0], x3.shape[2])
        return out.reshape(x.shape), omin, omax
    lo, hi = _first(min_range), _first(max_range)
    flat = x.reshape(-1)
    if mode == "MIN_FIRST":
        q, a, b = K.quantize_min_first(flat, lo, hi, T, ensure_minimum_range)
    else:
        q, a, b = K.quantize_slice(flat, lo, hi, T, mode, round_mode, narrow_range,
                                   ensure_minimum_range)
    return q.reshape(x.shape), np.float32(a), np.float32(b)


# ----------------------------------------------------------------- Dequantize

def _dequantize_shape(ctx):
    mode, axis = ctx.attrs["mode"], ctx.attrs["axis"]
    if ctx.attrs["dtype"] == "bfloat16" and mode != "MIN_COMBINED":
        raise OpError(f"When output type is bfloat16, Mode string must be 'MIN_COMBINED', is "
                      f"'{mode}'")
    x = ctx.shape("input")
    if x is not None and not axis < len(x):
        raise OpError(f"Axis must be less than input dimension({len(x)}), got {axis}",
                      port="input")
    depth = 1 if axis <= -1 else (None if x is None else x[axis])
    for name, port in (("input_min_tensor", "min_range"), ("input_max_tensor", "max_range")):
        n = num_elements(ctx.shape(port))
        if n is not None and depth is not None and n != depth:
            raise OpError(f"{name} must have as many elements as input on the dequantization "
                          f"axis ({axis}), got {n}, expected {depth}", port=port)
    if depth is not None and depth != 1 and mode == "MIN_FIRST":
        raise OpError("MIN_FIRST mode is not implemented for Dequantize with axis != -1.")
    ctx.set_output("output", x)


@block("Dequantize",
       inputs=[Input("input", QTYPES, type_attr="T", doc="quantized tensor"),
               Input("min_range", F32, doc="range minimum (one per slice when axis is set)"),
               Input("max_range", F32, doc="range maximum (one per slice when axis is set)")],
       attrs=[MODE, NARROW, AXIS,
              Attr("dtype", "type", "float32", choices=("bfloat16", "float32"),
                   doc="output type (bfloat16 needs mode MIN_COMBINED)")],
       outputs=[Output("output", "dtype")], shape=_dequantize_shape)
def dequantize(input, min_range, max_range, T, mode, narrow_range, axis, dtype):
    """Map a quantized tensor back to float32 (or bfloat16) over [min_range, max_range]."""
    q = np.asarray(input)
    if axis > -1 and q.shape[axis] != 1:
        q3 = _slices(q, axis)
        out = np.empty(q3.shape, np.float32)
        lo, hi = np.asarray(min_range, np.float32), np.asarray(max_range, np.float32)
        for i in range(q3.shape[1]):
            out[:, i, :] = K.dequantize_slice(q3[:, i, :], lo[i], hi[i], T, mode, narrow_range,
                                              whole=False)
        out = out.reshape(q.shape)
    else:
        out = K.dequantize_slice(q, _first(min_range), _first(max_range), T, mode, narrow_range)
    return out.astype(dt.to_numpy(dtype))


# ----------------------------------------------------------------- QuantizeAndDequantizeV2

def _qdq_shape(ctx):
    attrs = ctx.attrs
    nb, signed, axis = attrs["num_bits"], attrs["signed_input"], attrs["axis"]
    if not 0 < nb < (62 if signed else 63):
        raise OpError(f"num_bits is out of range: {nb} with signed_input_ {int(signed)}")
    if axis < -1:
        raise OpError(f"Axis must be at least -1. Found {axis}")
    x = ctx.shape("input")
    if axis != -1 and x is not None and axis >= len(x):
        raise OpError(f"Shape must be at least rank {axis + 1} but is rank {len(x)}", port="input")
    if attrs["range_given"]:
        for port in ("input_min", "input_max"):
            r = ctx.rank(port)
            if r is not None and r != 0:
                raise OpError(f"{port} must be a scalar.", port=port)
        if axis != -1:
            if ctx.rank("input_min") is not None:
                raise OpError("Shape must be rank 1 for input_min_tensor when the axis is "
                              "specified", port="input_min")
        else:
            lo, hi = ctx.value("input_min"), ctx.value("input_max")
            if lo is not None and hi is not None:
                T = dt.to_numpy(attrs["T"])
                lo, hi = K.ftz(lo, T)[()], K.ftz(hi, T)[()]     # read under DAZ
                if not lo <= hi:
                    raise OpError(f"Invalid range: input_min {tf_float(lo)} > input_max "
                                  f"{tf_float(hi)}")
    ctx.set_output("output", x)


@block("QuantizeAndDequantizeV2",
       inputs=[Input("input", ("float32", "float64"), type_attr="T", doc="tensor to quantize"),
               Input("input_min", ("float32", "float64"), type_attr="T",
                     doc="range minimum (used when range_given)"),
               Input("input_max", ("float32", "float64"), type_attr="T",
                     doc="range maximum (used when range_given)")],
       attrs=[Attr("signed_input", "bool", True, doc="quantize to a signed range"),
              Attr("num_bits", "int", 8, doc="bits of the quantized range"),
              Attr("range_given", "bool", False,
                   doc="use input_min/input_max instead of the data's min and max"),
              Attr("round_mode", "string", "HALF_TO_EVEN", choices=("HALF_TO_EVEN", "HALF_UP"),
                   doc="rounding of the scaled values"),
              NARROW, AXIS],
       outputs=[Output("output", "T")], shape=_qdq_shape)
def quantize_and_dequantize_v2(input, input_min, input_max, signed_input, num_bits, range_given,
                               round_mode, narrow_range, axis):
    """Quantize then dequantize a float tensor, simulating the precision loss of num_bits."""
    x = np.asarray(input)
    return K.qdq(x, input_min, input_max, signed_input, num_bits, range_given, round_mode,
                 narrow_range, axis)


# ----------------------------------------------------------------- QuantizedConcat

def _concat_shape(ctx):
    shape = _concat_target(ctx)
    ctx.set_output("output", shape)
    ctx.set_output("output_min", ())
    ctx.set_output("output_max", ())


def _concat_target(ctx):
    """QuantizedConcatOp's checks, in its order; the output's shape."""
    values, mins, maxes = (ctx.inputs[p] for p in ("values", "input_mins", "input_maxes"))
    n = len(values)
    if n < 2:
        raise OpError(f"Value for attr 'N' of {n} must be at least minimum 2", port="values")
    for port, lst in (("mins", mins), ("maxes", maxes)):
        if len(lst) != n:
            raise OpError(f"QuantizedConcatOp : Expected {port} input list length {len(lst)} to "
                          f"equal values length {n}", port="input_" + port)
    cd = ctx.inputs["concat_dim"]
    if cd.rank is not None and cd.rank != 0:
        raise OpError(f"Concat dim tensor should be a scalar integer, but got shape {fmt(cd.shape)}",
                      port="concat_dim")
    v = ctx.value("concat_dim")
    dim = None if v is None else int(np.asarray(v).reshape(-1)[0])
    s0 = values[0].shape
    if dim is not None and s0 is not None and not 0 <= dim < len(s0):
        raise OpError(f"ConcatOp : Expected concatenating dimensions in the range [0, {len(s0)}), "
                      f"but got {dim}", port="concat_dim")
    for i in range(n):
        for port, spec in (("input_mins", mins[i]), ("input_maxes", maxes[i])):
            k = num_elements(spec.shape)
            if k is not None and k != 1:
                raise OpError(f"{port} each tensor's num elements must be 1, given num elements "
                              f"{k} in index {i}", port=port)
    rank = next((len(v.shape) for v in values if v.shape is not None), None)
    for i, v in enumerate(values):
        if s0 is None or v.shape is None:
            continue
        if len(v.shape) != len(s0):
            raise OpError(f"ConcatOp : Ranks of all input tensors should match: shape[0] = "
                          f"{fmt(s0)} vs. shape[{i}] = {fmt(v.shape)}", port="values")
        for j, (a, b) in enumerate(zip(s0, v.shape)):
            if j != dim and dim is not None and a is not None and b is not None and a != b:
                raise OpError(f"ConcatOp : Dimensions of inputs should match: shape[0] = "
                              f"{fmt(s0)} vs. shape[{i}] = {fmt(v.shape)}", port="values")
    if rank is None:
        return None
    if dim is None or not 0 <= dim < rank:
        return (None,) * rank
    out = []
    for j in range(rank):
        dims = [None if v.shape is None else v.shape[j] for v in values]
        if j == dim:
            out.append(None if None in dims else sum(dims))
        else:
            out.append(next((d for d in dims if d is not None), None))
    return tuple(out)


@block("QuantizedConcat",
       inputs=[Input("concat_dim", ("int32",), doc="0-d dimension to join along (0 <= d < rank)"),
               Input("values", ("quint8", "qint32"), type_attr="T", list=True,
                     doc="quantized tensors (at least 2)"),
               Input("input_mins", F32, list=True, doc="each value's range minimum"),
               Input("input_maxes", F32, list=True, doc="each value's range maximum")],
       outputs=[Output("output", "T"), Output("output_min", "float32"),
                Output("output_max", "float32")],
       shape=_concat_shape)
def quantized_concat(concat_dim, values, input_mins, input_maxes, T):
    """Concatenate quantized tensors, requantizing each to the union of their ranges.

    As TF's kernel, which copies only the non-empty inputs and gives the k-th of them the range
    of input k: after an empty input, the ranges are shifted (an input may be requantized from
    another's range)."""
    ranges = [(_first(a), _first(b)) for a, b in zip(input_mins, input_maxes)]
    lo, hi = K.FLT_MAX, -K.FLT_MAX
    for a, b in ranges:
        lo, hi = K.cmin(lo, a), K.cmax(hi, b)
    lo = K.cmin(np.float32(0), lo)
    if T == "qint32":                       # signed: a range symmetric around zero
        big = K.cmax(abs(lo), abs(hi))
        lo, hi = -big, big
    lo, hi = np.float32(lo), np.float32(hi)
    pieces, k = [], 0
    for v in values:
        v = np.asarray(v)
        if v.size == 0:
            pieces.append(v)
            continue
        a, b = ranges[k]
        k += 1
        if a == lo and b == hi:
            pieces.append(v)
        else:
            pieces.append(K.F2Q(T, lo, hi).quantize(K.Q2F(T, a, b).dequantize(v)))
    return np.concatenate(pieces, axis=int(concat_dim)), lo, hi


# ----------------------------------------------------------------- QuantizedReshape

def _sizes(value) -> list[int]:
    """The `shape` input of QuantizedReshape as a list of ints."""
    return [int(s) for s in np.asarray(value).reshape(-1)]


def _reshape_shape(ctx):
    sizes, value = ctx.inputs["shape"], ctx.value("shape")
    if sizes.rank is not None and sizes.rank > 1:
        raise OpError(f"sizes input must be 1-D, not {fmt(sizes.shape)}", port="shape")
    if value is not None:
        out = reshape_target(ctx.shape("tensor"), _sizes(value))
    elif sizes.shape is not None and (sizes.rank == 0 or sizes.shape[0] is not None):
        out = (None,) * (1 if sizes.rank == 0 else sizes.shape[0])
    else:
        out = None
    for port in ("input_min", "input_max"):
        s = ctx.shape(port)
        if s is not None and not (len(s) == 0 or (len(s) == 1 and s[0] in (1, None))):
            raise OpError(f"{port} must be a scalar or a vector of 1 element", port=port)
    ctx.set_output("output", out)
    ctx.set_output("output_min", ())
    ctx.set_output("output_max", ())


@block("QuantizedReshape",
       inputs=[Input("tensor", ("quint8", "qint32"), type_attr="T", doc="quantized tensor"),
               Input("shape", dt.INDEX, type_attr="Tshape", doc="new shape (one -1 allowed)"),
               Input("input_min", F32, doc="range minimum (0-d or 1 element)"),
               Input("input_max", F32, doc="range maximum (0-d or 1 element)")],
       outputs=[Output("output", "T"), Output("output_min", "float32"),
                Output("output_max", "float32")],
       shape=_reshape_shape)
def quantized_reshape(tensor, shape, input_min, input_max):
    """Reshape a quantized tensor; its range passes through."""
    t = np.asarray(tensor)
    return t.reshape(reshape_target(t.shape, _sizes(shape))), _first(input_min), _first(input_max)


# ----------------------------------------------------------------- QuantizedInstanceNorm

def _instance_norm_shape(ctx):
    attrs = ctx.attrs
    y_lo, y_hi = K.s32(attrs["given_y_min"]), K.s32(attrs["given_y_max"])
    if attrs["output_range_given"] and not y_lo < y_hi:
        raise OpError(f"given_y_min must be less than given_y_max : {tf_float(y_lo)} >= "
                      f"{tf_float(y_hi)}")
    for port in ("x_min", "x_max"):
        r = ctx.rank(port)
        if r is not None and r != 0:
            raise OpError(f"`{port}` must be rank 0 but is rank {r}", port=port)
    lo, hi = ctx.value("x_min"), ctx.value("x_max")
    if lo is not None and hi is not None and not K.s32(lo) < K.s32(hi):
        raise OpError(f"input_min must be less than input_max : {tf_float(K.s32(lo))} >= "
                      f"{tf_float(K.s32(hi))}")
    x = ctx.shape("x")
    if x is not None and len(x) != 4:       # TF's kernel aborts (CHECK) on other ranks
        raise OpError(f"Shape must be rank 4 but is rank {len(x)}", port="x")
    ctx.set_output("y", x if x is not None else (None,) * 4)
    ctx.set_output("y_min", ())
    ctx.set_output("y_max", ())


@block("QuantizedInstanceNorm",
       inputs=[Input("x", ("quint8",), type_attr="T", doc="quint8 [N, H, W, C] tensor"),
               Input("x_min", F32, doc="0-d range minimum of x"),
               Input("x_max", F32, doc="0-d range maximum of x")],
       attrs=[Attr("output_range_given", "bool", False,
                   doc="use given_y_min/given_y_max as the output range"),
              Attr("given_y_min", "float", 0.0, doc="output range minimum (output_range_given)"),
              Attr("given_y_max", "float", 0.0, doc="output range maximum (output_range_given)"),
              Attr("variance_epsilon", "float", 1e-5, doc="added to the variance"),
              Attr("min_separation", "float", 0.001,
                   doc="smallest output range width")],
       outputs=[Output("y", "T"), Output("y_min", "float32"), Output("y_max", "float32")],
       shape=_instance_norm_shape)
def quantized_instance_norm(x, x_min, x_max, output_range_given, given_y_min, given_y_max,
                            variance_epsilon, min_separation):
    """Normalize each (instance, channel) of a quint8 NHWC tensor over H and W; quint8 result."""
    y, lo, hi = K.instance_norm(np.asarray(x), x_min, x_max, output_range_given, given_y_min,
                                given_y_max, variance_epsilon, min_separation)
    return y, np.float32(lo), np.float32(hi)
