"""The FakeQuant family: quantize-dequantize in float32, and its gradients, exact to TF 2.x.

Shape functions carry TF's kernel checks (they also run on the real shapes before each compute),
so the compute functions only compute.
"""
from __future__ import annotations

import functools

import numpy as np

from blockgraph.core.blockdef import DECLINE, Attr, Describe, Input, Kernel, Output, block
from blockgraph.core.attrs import check_range
from blockgraph.core.errors import OpError, tf_float
from blockgraph.core.gradients import gradient
from blockgraph.core.shapes import fmt, fully_known, merge, with_rank_at_least
from blocks.kernels import fake_quant as fq
from blocks.kernels import fake_quant_fused as fused

F32 = ("float32",)
NUM_BITS = Attr("num_bits", "int", 8, min=2, max=16, doc="bits of the quantized range",
                message="num_bits must be between 2 and 16, inclusive", kernel_check=True)
NARROW = Attr("narrow_range", "bool", False, doc="quantize to [1, 2^num_bits - 1] instead of from 0")
ARG_MIN = Attr("min", "float", -6.0, doc="lower end of the range")
ARG_MAX = Attr("max", "float", 6.0, doc="upper end of the range")


# ----------------------------------------------------------------- shape functions
# TF's checks in its order: the kernel constructors check the Args range (min < max) and then
# num_bits; Compute checks gradients against inputs, then min (rank, size), then max. A check
# that cannot be decided yet (unknown shapes) stops the later ones, so a page never reports an
# error TF would not have reached first.

@functools.lru_cache(maxsize=256)
def _check_args(min, max, num_bits):
    """The Args kernels' constructor checks: min < max on the float32 values as the kernel reads
    them (denormals flushed: min=-1e-40, max=1e-40 fails as "-0 >= 0"), then num_bits.
    Memoised: the same attrs run again and again."""
    lo, hi = float(fq.ftz(min)), float(fq.ftz(max))
    if not lo < hi:
        raise OpError(f"min has to be smaller than max, was: {tf_float(lo)} >= {tf_float(hi)}")
    check_range(NUM_BITS, num_bits)


def _args_shape(ctx):
    _check_args(ctx.attrs["min"], ctx.attrs["max"], ctx.attrs["num_bits"])
    ctx.set_output("outputs", ctx.shape("inputs"))


def _args_grad_shape(ctx):
    _check_args(ctx.attrs["min"], ctx.attrs["max"], ctx.attrs["num_bits"])
    g, x = ctx.shape("gradients"), ctx.shape("inputs")
    ctx.set_output("backprops", merge(g, x, lambda: _same_size_message(
        "FakeQuantWithMinMaxArgsGradient", g, x)))


def _same_size_message(op, a, b):
    return (f"Inputs to operation {op} of type {op} must have the same size and shape.  "
            f"Input 0: {fmt(a)} != input 1: {fmt(b)}")


def _same_size(ctx) -> bool:
    """The Vars gradient kernels' first check, `input.IsSameSize(gradient)`: True when it holds,
    False when it cannot be decided yet; OpError when it fails."""
    g, x = ctx.shape("gradients"), ctx.shape("inputs")
    merge(g, x, "gradient and input must be the same size")     # certainly different: fails
    return fully_known(g) and fully_known(x)


def _scalar_range(ctx) -> bool:
    """The Vars kernels' rank checks of min, then max; False when one is not decided yet."""
    for port in ("min", "max"):
        r = ctx.rank(port)
        if r is None:
            return False
        if r != 0:
            raise OpError(f"`{port}` must be rank 0 but is rank {r}", port=port)
    return True


def _vars_shape(ctx):
    check_range(NUM_BITS, ctx.attrs["num_bits"])
    _scalar_range(ctx)
    ctx.set_output("outputs", ctx.shape("inputs"))


def _grad_outputs(ctx, c):
    """The three outputs of a gradient block: like the inputs, and min/max shaped sums."""
    ctx.set_output("backprops_wrt_input", merge(ctx.shape("gradients"), ctx.shape("inputs")))
    ctx.set_output("backprop_wrt_min", c)
    ctx.set_output("backprop_wrt_max", c)


def _vars_grad_shape(ctx):
    check_range(NUM_BITS, ctx.attrs["num_bits"])
    if _same_size(ctx):
        _scalar_range(ctx)
    _grad_outputs(ctx, ())


def _channels(ctx, check=True):
    """The PerChannel kernels' checks of min, then max (rank 1, then one value per channel of
    the inputs' last dimension): (inputs shape, channels or None)."""
    x = with_rank_at_least(ctx.shape("inputs"), 1, message="inputs must be at least rank 1")
    depth = None if x is None else x[-1]
    c = depth
    for port in ("min", "max"):
        s = ctx.shape(port)
        if c is None and s is not None and len(s) == 1:
            c = s[0]
        if not check or s is None:
            check = False
            continue
        if len(s) != 1:
            raise OpError(f"`{port}` must be rank 1 but is rank {len(s)}", port=port)
        if depth is None or s[0] is None:
            check = False
        elif s[0] != depth:
            raise OpError(f"{port} has incorrect size, expected {depth} was {s[0]}", port=port)
    return x, c


def _per_channel_shape(ctx):
    check_range(NUM_BITS, ctx.attrs["num_bits"])
    ctx.set_output("outputs", _channels(ctx)[0])


def _per_channel_grad_shape(ctx):
    check_range(NUM_BITS, ctx.attrs["num_bits"])
    _, c = _channels(ctx, check=_same_size(ctx))
    _grad_outputs(ctx, (c,))


# ----------------------------------------------------------------- fused kernels
# Taken for large tensors when numba is available (`fused.accepts`); each hands back to the
# numpy reference (DECLINE) for what it leaves to numpy.

def _large(inputs, attrs) -> bool:
    return fused.accepts(inputs["inputs"])


def _declined(out):
    return DECLINE if out is None else out


def _fused_args(inputs, min, max, num_bits, narrow_range):
    return _declined(fused.fused_forward(inputs, fq.nudged(min, max, num_bits, narrow_range),
                                         divide=False))


def _fused_args_gradient(gradients, inputs, min, max, num_bits, narrow_range):
    return _declined(fused.fused_masked(gradients, inputs,
                                        fq.nudged(min, max, num_bits, narrow_range)))


def _fused_vars(inputs, min, max, num_bits, narrow_range):
    return _declined(fused.fused_forward(inputs, fq.nudged(min, max, num_bits, narrow_range),
                                         divide=True))


def _fused_vars_gradient(gradients, inputs, min, max, num_bits, narrow_range):
    return _declined(fused.fused_backprop(gradients, inputs,
                                          fq.nudged(min, max, num_bits, narrow_range)))


def _fused_per_channel(inputs, min, max, num_bits, narrow_range):
    return _declined(fused.fused_forward(inputs, fq.nudged(min, max, num_bits, narrow_range),
                                         divide=False))


def _fused_per_channel_gradient(gradients, inputs, min, max, num_bits, narrow_range):
    return _declined(fused.fused_backprop(gradients, inputs,
                                          fq.nudged(min, max, num_bits, narrow_range),
                                          reduce_axis=-1))


def _fused(fn):
    return [Kernel("fused", fn, accepts=_large)]


# ----------------------------------------------------------------- for viewers

def _grid(attrs, input_value):
    """The nudged grid of a forward block's outputs (min/max from attrs, or its inputs)."""
    bits, narrow = int(attrs.get("num_bits", 8)), bool(attrs.get("narrow_range", False))
    if "min" in attrs:                       # Args: the range is an attr
        lo, hi = attrs["min"], attrs["max"]
    else:
        lo, hi = input_value("min"), input_value("max")
    if lo is None or hi is None:
        return None
    n = fq.nudged(np.asarray(lo, np.float32), np.asarray(hi, np.float32), bits, narrow)
    return {"num_bits": bits, "narrow_range": narrow, "min": np.asarray(n.min),
            "max": np.asarray(n.max), "step": np.asarray(n.scale)}


QUANTIZER = Describe(quantizes={"outputs": "inputs"}, grid=_grid)


# ----------------------------------------------------------------- blocks

@block("FakeQuantWithMinMaxArgs",
       inputs=[Input("inputs", F32)], attrs=[ARG_MIN, ARG_MAX, NUM_BITS, NARROW],
       outputs=[Output("outputs", "float32")], shape=_args_shape, kernels=_fused(_fused_args),
       describe=QUANTIZER)
def fake_quant_with_min_max_args(inputs, min, max, num_bits, narrow_range):
    """Fake-quantize float32 `inputs` to num_bits levels in the attr range [min, max]."""
    return fq.forward(inputs, fq.nudged(min, max, num_bits, narrow_range),
                      divide=False)


@block("FakeQuantWithMinMaxArgsGradient",
       inputs=[Input("gradients", F32), Input("inputs", F32)],
       attrs=[ARG_MIN, ARG_MAX, NUM_BITS, NARROW],
       outputs=[Output("backprops", "float32")], shape=_args_grad_shape,
       kernels=_fused(_fused_args_gradient))
def fake_quant_with_min_max_args_gradient(gradients, inputs, min, max, num_bits, narrow_range):
    """Gradient of FakeQuantWithMinMaxArgs: `gradients` where inputs lie in the nudged range, else 0."""
    n = fq.nudged(min, max, num_bits, narrow_range)
    return fq.masked_gradient(gradients, inputs, n)


@block("FakeQuantWithMinMaxVars",
       inputs=[Input("inputs", F32), Input("min", F32), Input("max", F32)],
       attrs=[NUM_BITS, NARROW], outputs=[Output("outputs", "float32")], shape=_vars_shape,
       kernels=_fused(_fused_vars), describe=QUANTIZER)
def fake_quant_with_min_max_vars(inputs, min, max, num_bits, narrow_range):
    """Fake-quantize float32 `inputs` to num_bits levels in the range given by 0-d tensors min, max."""
    return fq.forward(inputs, fq.nudged(min, max, num_bits, narrow_range), divide=True)


@block("FakeQuantWithMinMaxVarsGradient",
       inputs=[Input("gradients", F32), Input("inputs", F32), Input("min", F32), Input("max", F32)],
       attrs=[NUM_BITS, NARROW],
       outputs=[Output("backprops_wrt_input", "float32"), Output("backprop_wrt_min", "float32"),
                Output("backprop_wrt_max", "float32")],
       shape=_vars_grad_shape, kernels=_fused(_fused_vars_gradient))
def fake_quant_with_min_max_vars_gradient(gradients, inputs, min, max, num_bits, narrow_range):
    """Gradients of FakeQuantWithMinMaxVars with respect to inputs, min and max."""
    return fq.backprop(gradients, inputs, fq.nudged(min, max, num_bits, narrow_range))


@block("FakeQuantWithMinMaxVarsPerChannel",
       inputs=[Input("inputs", F32), Input("min", F32), Input("max", F32)],
       attrs=[NUM_BITS, NARROW], outputs=[Output("outputs", "float32")], shape=_per_channel_shape,
       kernels=_fused(_fused_per_channel), describe=QUANTIZER)
def fake_quant_with_min_max_vars_per_channel(inputs, min, max, num_bits, narrow_range):
    """Fake-quantize float32 `inputs` per channel (last dimension) with 1-d min and max."""
    return fq.forward(inputs, fq.nudged(min, max, num_bits, narrow_range), divide=False)


@block("FakeQuantWithMinMaxVarsPerChannelGradient",
       inputs=[Input("gradients", F32), Input("inputs", F32), Input("min", F32), Input("max", F32)],
       attrs=[NUM_BITS, NARROW],
       outputs=[Output("backprops_wrt_input", "float32"), Output("backprop_wrt_min", "float32"),
                Output("backprop_wrt_max", "float32")],
       shape=_per_channel_grad_shape, kernels=_fused(_fused_per_channel_gradient))
def fake_quant_with_min_max_vars_per_channel_gradient(gradients, inputs, min, max, num_bits,
                                                      narrow_range):
    """Gradients of FakeQuantWithMinMaxVarsPerChannel with respect to inputs, min and max."""
    return fq.backprop(gradients, inputs, fq.nudged(min, max, num_bits, narrow_range),
                       reduce_axis=-1)



# ----------------------------------------------------------------- gradients (TF's array_grad.py)

@gradient("FakeQuantWithMinMaxArgs")
def _args_gradient(op, grad):
    a = op.attrs
    return {"inputs": op.add("FakeQuantWithMinMaxArgsGradient", gradients=grad,
                             inputs=op.input("inputs"), min=a["min"], max=a["max"],
                             num_bits=a["num_bits"], narrow_range=a["narrow_range"])}


def _vars_gradient(gradient_op):
    def grad_fn(op, grad):
        g = op.add(gradient_op, gradients=grad, inputs=op.input("inputs"), min=op.input("min"),
                   max=op.input("max"), num_bits=op.attrs["num_bits"],
                   narrow_range=op.attrs["narrow_range"])
        return {"inputs": f"{g}.backprops_wrt_input", "min": f"{g}.backprop_wrt_min",
                "max": f"{g}.backprop_wrt_max"}
    return grad_fn


gradient("FakeQuantWithMinMaxVars")(_vars_gradient("FakeQuantWithMinMaxVarsGradient"))
gradient("FakeQuantWithMinMaxVarsPerChannel")(
    _vars_gradient("FakeQuantWithMinMaxVarsPerChannelGradient"))
