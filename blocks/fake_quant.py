"""The FakeQuant family: quantize-dequantize in float32, and its gradients, exact to TF 2.x.

Shape functions carry TF's kernel checks (they also run on the real shapes before each compute),
so the compute functions only compute.
"""
from __future__ import annotations

import functools

import numpy as np

from blockgraph.core.registry import Attr, Input, OpError, Output, block
from blockgraph.core.shapes import fmt, merge, with_rank, with_rank_at_least
from blocks.kernels import fake_quant as fq

F32 = ("float32",)
NUM_BITS = Attr("num_bits", "int", 8, min=2, max=16, doc="bits of the quantized range",
                message="num_bits must be between 2 and 16, inclusive")
NARROW = Attr("narrow_range", "bool", False, doc="quantize to [1, 2^num_bits - 1] instead of from 0")
ARG_MIN = Attr("min", "float", -6.0, doc="lower end of the range")
ARG_MAX = Attr("max", "float", 6.0, doc="upper end of the range")


@functools.lru_cache(maxsize=256)
def _check_args_range(min, max):
    """TF's check of the Args range, on the float32 values as its kernel reads them (denormals
    flushed: min=-1e-40, max=1e-40 fails as "-0 >= 0"). Memoised: the same attrs run again
    and again."""
    min, max = float(fq.ftz(min)), float(fq.ftz(max))
    if not min < max:
        raise OpError(f"min has to be smaller than max, was: {_g(min)} >= {_g(max)}")


def _g(v: float) -> str:
    """Floats as TF's StrCat prints them (shortest form that round-trips a float32)."""
    s = np.format_float_positional(np.float32(v), trim="-") if abs(v) < 1e16 and (
        v == 0 or abs(v) >= 1e-5) else f"{np.float32(v):g}"
    return s


# ----------------------------------------------------------------- shape functions

def _args_shape(inputs, attrs):
    _check_args_range(attrs["min"], attrs["max"])
    return inputs["inputs"].shape


def _args_grad_shape(inputs, attrs):
    _check_args_range(attrs["min"], attrs["max"])
    g, x = inputs["gradients"].shape, inputs["inputs"].shape
    return merge(g, x, lambda: _same_size_message("FakeQuantWithMinMaxArgsGradient", g, x))


def _same_size_message(op, a, b):
    return (f"Inputs to operation {op} of type {op} must have the same size and shape.  "
            f"Input 0: {fmt(a)} != input 1: {fmt(b)}")


def _size_mismatch(inputs, x) -> str:
    """TF's text for gradients and inputs of different shapes, with both shapes."""
    return (f"gradient and input must be the same size: gradients {fmt(inputs['gradients'].shape)} "
            f"vs inputs {fmt(x)}")


def _scalar_range(inputs):
    for port in ("min", "max"):
        with_rank(inputs[port].shape, 0, message=f"`{port}` must be rank 0 but is rank "
                  f"{inputs[port].rank}")


def _vars_shape(inputs, attrs):
    _scalar_range(inputs)
    return inputs["inputs"].shape


def _vars_grad_shape(inputs, attrs):
    _scalar_range(inputs)
    x = inputs["inputs"].shape
    return [merge(inputs["gradients"].shape, x, lambda: _size_mismatch(inputs, x)), (), ()]


def _channels(inputs):
    x = with_rank_at_least(inputs["inputs"].shape, 1, message="inputs must be at least rank 1")
    c = None if x is None else x[-1]
    for port in ("min", "max"):
        s = with_rank(inputs[port].shape, 1, message=f"`{port}` must be rank 1 but is rank "
                      f"{inputs[port].rank}")
        if c is not None and s[0] is not None and s[0] != c:
            raise OpError(f"{port} has incorrect size, expected {c} was {s[0]}", port=port)
        c = c if c is not None else s[0]
    return x, c


def _per_channel_shape(inputs, attrs):
    return _channels(inputs)[0]


def _per_channel_grad_shape(inputs, attrs):
    x, c = _channels(inputs)
    x = merge(inputs["gradients"].shape, x, lambda: _size_mismatch(inputs, x))
    return [x, (c,), (c,)]


# ----------------------------------------------------------------- blocks

@block("FakeQuantWithMinMaxArgs",
       inputs=[Input("inputs", F32)], attrs=[ARG_MIN, ARG_MAX, NUM_BITS, NARROW],
       outputs=[Output("outputs", "float32")], shape=_args_shape)
def fake_quant_with_min_max_args(inputs, min, max, num_bits, narrow_range):
    """Fake-quantize float32 `inputs` to num_bits levels in the attr range [min, max]."""
    return fq.forward(inputs, fq.nudged(min, max, num_bits, narrow_range),
                      divide=False)


@block("FakeQuantWithMinMaxArgsGradient",
       inputs=[Input("gradients", F32), Input("inputs", F32)],
       attrs=[ARG_MIN, ARG_MAX, NUM_BITS, NARROW],
       outputs=[Output("backprops", "float32")], shape=_args_grad_shape)
def fake_quant_with_min_max_args_gradient(gradients, inputs, min, max, num_bits, narrow_range):
    """Gradient of FakeQuantWithMinMaxArgs: `gradients` where inputs lie in the nudged range, else 0."""
    n = fq.nudged(min, max, num_bits, narrow_range)
    return fq.masked_gradient(gradients, inputs, n)


@block("FakeQuantWithMinMaxVars",
       inputs=[Input("inputs", F32), Input("min", F32), Input("max", F32)],
       attrs=[NUM_BITS, NARROW], outputs=[Output("outputs", "float32")], shape=_vars_shape)
def fake_quant_with_min_max_vars(inputs, min, max, num_bits, narrow_range):
    """Fake-quantize float32 `inputs` to num_bits levels in the range given by 0-d tensors min, max."""
    return fq.forward(inputs, fq.nudged(min, max, num_bits, narrow_range), divide=True)


@block("FakeQuantWithMinMaxVarsGradient",
       inputs=[Input("gradients", F32), Input("inputs", F32), Input("min", F32), Input("max", F32)],
       attrs=[NUM_BITS, NARROW],
       outputs=[Output("backprops_wrt_input", "float32"), Output("backprop_wrt_min", "float32"),
                Output("backprop_wrt_max", "float32")],
       shape=_vars_grad_shape)
def fake_quant_with_min_max_vars_gradient(gradients, inputs, min, max, num_bits, narrow_range):
    """Gradients of FakeQuantWithMinMaxVars with respect to inputs, min and max."""
    return fq.backprop(gradients, inputs, fq.nudged(min, max, num_bits, narrow_range))


@block("FakeQuantWithMinMaxVarsPerChannel",
       inputs=[Input("inputs", F32), Input("min", F32), Input("max", F32)],
       attrs=[NUM_BITS, NARROW], outputs=[Output("outputs", "float32")], shape=_per_channel_shape)
def fake_quant_with_min_max_vars_per_channel(inputs, min, max, num_bits, narrow_range):
    """Fake-quantize float32 `inputs` per channel (last dimension) with 1-d min and max."""
    return fq.forward(inputs, fq.nudged(min, max, num_bits, narrow_range), divide=False)


@block("FakeQuantWithMinMaxVarsPerChannelGradient",
       inputs=[Input("gradients", F32), Input("inputs", F32), Input("min", F32), Input("max", F32)],
       attrs=[NUM_BITS, NARROW],
       outputs=[Output("backprops_wrt_input", "float32"), Output("backprop_wrt_min", "float32"),
                Output("backprop_wrt_max", "float32")],
       shape=_per_channel_grad_shape)
def fake_quant_with_min_max_vars_per_channel_gradient(gradients, inputs, min, max, num_bits,
                                                      narrow_range):
    """Gradients of FakeQuantWithMinMaxVarsPerChannel with respect to inputs, min and max."""
    return fq.backprop(gradients, inputs, fq.nudged(min, max, num_bits, narrow_range),
                       reduce_axis=-1)

