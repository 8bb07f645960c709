"""Selections and sums of several tensors: Select, SelectV2, ClipByValue, AddN, and
BroadcastGradientArgs (the reduction axes of a broadcast, used by the gradients of the
broadcasting binary ops).

Select/SelectV2 pass the chosen operand's bits untouched. ClipByValue is TF's
`min(t, hi)` then `max(., lo)` (a NaN bound is ignored; a scalar bound makes TF use a scalar
functor, whose half-type results are operands as stored; complex parts are clipped on their own). AddN adds in TF's order (aggregate_ops.cc: the first n % 8
inputs — 8 if none, 9 if one — left to right, then each further chunk of 8 summed on its own
and added), so half-type and float sums are TF's bit for bit, and where two NaNs meet, the one
TF's compiled code keeps (`_swaps`).
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Input, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.gradients import gradient, no_gradient
from blockgraph.core.shapes import fmt, merge
from blocks._shape_helpers import value_spec
from blocks.kernels import elementwise as ew
from blocks.kernels import ieee

SELECT_TYPES = dt.FLOATS + dt.INTEGERS + dt.COMPLEX + ("string", "bool")
CLIP_TYPES = dt.FLOATS + dt.SIGNED + ("uint8", "uint16") + dt.COMPLEX
ADDN_TYPES = dt.FLOATS + dt.INTEGERS + dt.COMPLEX


def _same_shape_text(op, i, a, b):
    return (f"Inputs to operation {op} of type {op} must have the same size and shape.  "
            f"Input 0: {fmt(a)} != input {i}: {fmt(b)}")


# ----------------------------------------------------------------------------- Select

def _select_shape(ctx):
    c, x, y = ctx.shape("condition"), ctx.shape("x"), ctx.shape("y")
    if c is None or x is None:
        ctx.set_output("output", merge(x, y) if x is not None and y is not None else x or y)
        return
    if len(c) == 0:
        if y is not None and None not in x and None not in y and x != y:
            raise OpError(f"'then' and 'else' must have the same size.  but received: "
                          f"{fmt(x)} vs. {fmt(y)}", port="y")
    elif len(c) == 1 and len(x) != 1:
        if len(x) == 0:
            raise OpError(f"'then' must be at least a vector, but saw shape: {fmt(x)}", port="x")
        if x[0] is not None and c[0] is not None and x[0] != c[0]:
            raise OpError(f"Number of batches of 'then' must match size of 'cond', but saw: "
                          f"{x[0]} vs. {c[0]}", port="x")
        if y is not None and None not in x and None not in y and x != y:
            raise OpError(f"'then' and 'else' must have the same size.  but received: "
                          f"{fmt(x)} vs. {fmt(y)}", port="y")
    else:
        for i, (port, s) in enumerate((("x", x), ("y", y)), 1):
            if s is not None and None not in c and None not in s and s != c:
                raise OpError(_same_shape_text("Select", i, c, s), port=port)
    ctx.set_output("output", merge(x, y) if y is not None else x)


@block("Select", aliases=("Where3",),
       inputs=[Input("condition", ("bool",)), Input("x", SELECT_TYPES, type_attr="T"),
               Input("y", SELECT_TYPES, type_attr="T")],
       outputs=[Output("output", "T")], shape=_select_shape)
def select(condition, x, y):
    """x where condition, else y: condition of x's shape, a scalar, or a vector picking rows."""
    if condition.ndim == 1 and x.ndim > 1:
        condition = condition.reshape((-1,) + (1,) * (x.ndim - 1))
    return np.where(condition, x, y)


def _select_v2_shape(ctx):
    c, t, e = ctx.shape("condition"), ctx.shape("t"), ctx.shape("e")
    try:
        ctx.set_output("output", ew.bcast_static(ew.bcast_static(t, e), c))
    except OpError:
        raise OpError(f"condition {fmt(c)}, then {fmt(t)}, and else {fmt(e)} must be "
                      "broadcastable", port="condition") from None


@block("SelectV2",
       inputs=[Input("condition", ("bool",)), Input("t", SELECT_TYPES, type_attr="T"),
               Input("e", SELECT_TYPES, type_attr="T")],
       outputs=[Output("output", "T")], shape=_select_v2_shape)
def select_v2(condition, t, e):
    """t where condition, else e, all three broadcast together."""
    return np.array(np.where(condition, t, e))


# ----------------------------------------------------------------------------- ClipByValue

def _clip_shape(ctx):
    t, lo, hi = ctx.shape("t"), ctx.shape("clip_value_min"), ctx.shape("clip_value_max")
    if t is not None and lo is not None and hi is not None and None not in t + lo + hi:
        ok = all(s == () or s == t for s in (lo, hi))
        if not ok:
            raise OpError("clip_value_min and clip_value_max must be either of the same shape "
                          f"as input, or a scalar. input shape: {fmt(t)}clip_value_min shape: "
                          f"{fmt(lo)}clip_value_max shape: {fmt(hi)}", port="clip_value_min")
    ctx.set_output("output", t)


def _clip(m, t, lo, hi):
    if m.kind == "int":
        r = np.where(hi < t, hi, t)
        return np.where(lo > r, lo, r)
    a, l, h = m.inp(t), m.inp(lo), m.inp(hi)
    if m.kind == "half" and not m.packet:       # the scalar path returns an operand as stored
        r = np.where(h < a, hi, t)
        ra = np.where(h < a, h, a)
        return np.where(l > ra, lo, r)
    r = np.where(h < a, h, a)
    r = m.out(np.where(l > r, l, r))
    if m.dtype == "bfloat16":                   # bfloat16 packets pass a NaN t's bits
        r = np.where(np.isnan(a), t, r)
    return r


def _clip_box(t, lo, hi):
    """Complex: the real and imaginary parts clipped on their own (a box in the plane), each by
    std::min then std::max on the DAZ'd parts."""
    out = np.empty(t.shape, t.dtype)
    for part in ("real", "imag"):
        a, l, h = (ieee.daz(getattr(x, part)) for x in (t, lo, hi))
        r = np.where(h < a, h, a)
        setattr(out, part, np.where(r < l, l, r))
    return out


@block("ClipByValue",
       inputs=[Input("t", CLIP_TYPES, type_attr="T"),
               Input("clip_value_min", CLIP_TYPES, type_attr="T", doc="a scalar or t's shape"),
               Input("clip_value_max", CLIP_TYPES, type_attr="T", doc="a scalar or t's shape")],
       outputs=[Output("output", "T")], shape=_clip_shape)
def clip_by_value(t, clip_value_min, clip_value_max, T):
    """max(min(t, clip_value_max), clip_value_min), element-wise."""
    if T in dt.COMPLEX:
        return _clip_box(t, clip_value_min, clip_value_max)
    # bounds of t's shape: Eigen's cwiseMin/cwiseMax (packets and a tail); a scalar bound: a
    # per-element functor, scalar everywhere
    ternary = clip_value_min.shape == clip_value_max.shape == t.shape
    return ew.run(_clip, T, [t, clip_value_min, clip_value_max], t.shape, scalar_only=not ternary)


# ----------------------------------------------------------------------------- AddN

def _add_n_shape(ctx):
    shapes = ctx.shape("inputs")
    out = shapes[0]
    for i, s in enumerate(shapes[1:], 1):
        out = merge(out, s, lambda i=i, s=s: _same_shape_text("AddN", i, shapes[0], s))
    ctx.set_output("sum", out)


def add_n_order(n):
    """TF's grouping of AddN's n inputs: [first group, chunk, chunk, ...] of input indices."""
    r = n % 8
    first = 8 if r == 0 else 9 if r == 1 else r
    first = min(first, n)
    groups = [list(range(first))]
    groups += [list(range(i, i + 8)) for i in range(first, n, 8)]
    return groups


def _swaps(m, size, chunk):
    """Per add of a group (the add bringing in its input k, k >= 1) whether TF's compiled code
    has the operands swapped, so that where both are NaN the incoming input's NaN wins (found
    by probing TF 2.21; only NaN bits depend on it), and whether `total + chunk` is swapped."""
    steps = range(1, size)
    if m.dtype in ("float32", "float64"):
        return [False for _ in steps], True
    if m.dtype == "float16" and not m.packet:
        return [k >= 2 for k in steps], False
    if m.dtype == "bfloat16" and not m.packet:
        return [k == 5 and (chunk or size == 9) for k in steps], False
    return [False for _ in steps], False


def _add(m, a, b, swapped):
    return m.add(b, a) if swapped else m.add(a, b)


def _group_sum(m, vals, group, swaps):
    s = vals[group[0]]
    for i, sw in zip(group[1:], swaps):
        s = _add(m, s, vals[i], sw)
    return s


def _add_n(m, *xs):
    vals = [m.inp(x) for x in xs]
    if len(vals) == 1:
        return xs[0]
    groups = add_n_order(len(vals))
    swaps, _ = _swaps(m, len(groups[0]), chunk=False)
    total = _group_sum(m, vals, groups[0], swaps)
    n = np.size(total)
    if m.dtype == "bfloat16" and not m.packet and 3 <= len(groups[0]) <= 7 and n >= 4:
        # the compiler runs the first 4 tail elements of Add3..Add7 4 wide, every add swapped
        wide = _group_sum(m, vals, groups[0], [True] * len(swaps))
        total = np.where(np.arange(n) < 4, wide, total)
    chunk_swaps, out_swapped = _swaps(m, 8, chunk=True)
    for g in groups[1:]:
        total = _add(m, total, _group_sum(m, vals, g, chunk_swaps), out_swapped)
    return m.out(total)


@block("AddN", inputs=[Input("inputs", ADDN_TYPES, type_attr="T", list=True)],
       outputs=[Output("sum", "T")], shape=_add_n_shape)
def add_n(inputs, T):
    """The element-wise sum of the tensors of `inputs` (all of one shape), in TF's order."""
    return ew.run(_add_n, T, list(inputs), inputs[0].shape)


# ----------------------------------------------------------------------------- BroadcastGradientArgs

def _vector(ctx, port, i):
    s = ctx.shape(port)
    if s is not None and len(s) != 1:
        raise OpError(f"In[{i}] must be a vector.{fmt(s)}", port=port)
    return ctx.value(port)


def _bga_shape(ctx):
    v0, v1 = _vector(ctx, "s0", 0), _vector(ctx, "s1", 1)
    T = ctx.attrs["T"]
    if v0 is None or v1 is None:
        ctx.set_output("r0", (None,))
        ctx.set_output("r1", (None,))
        return
    r0, r1 = ew.gradient_args([int(v) for v in v0], [int(v) for v in v1])
    ctx.set_output("r0", value_spec((len(r0),), r0, T))
    ctx.set_output("r1", value_spec((len(r1),), r1, T))


@block("BroadcastGradientArgs",
       inputs=[Input("s0", dt.INDEX, type_attr="T", doc="a shape (1-D)"),
               Input("s1", dt.INDEX, type_attr="T", doc="a shape (1-D)")],
       outputs=[Output("r0", "T"), Output("r1", "T")], shape=_bga_shape)
def broadcast_gradient_args(s0, s1, T):
    """The axes along which s0 and s1 are broadcast against each other (to sum gradients over)."""
    r0, r1 = ew.gradient_args(s0.tolist(), s1.tolist())
    np_t = dt.to_numpy(T)
    return np.array(r0, np_t).reshape(-1), np.array(r1, np_t).reshape(-1)


no_gradient("BroadcastGradientArgs")


# ----------------------------------------------------------------------------- gradients

@gradient("AddN")
def _add_n_grad(op, grad):
    return {"inputs": [grad] * len(op.inputs("inputs"))}


@gradient("Select")
def _select_grad(op, grad):
    zeros = op.add("ZerosLike", x=op.input("x"))
    c = op.input("condition")
    return {"condition": None, "x": op.add("Select", condition=c, x=grad, y=zeros),
            "y": op.add("Select", condition=c, x=zeros, y=grad)}


@gradient("SelectV2")
def _select_v2_grad(op, grad):
    from blocks.math_binary_grad import reduce_to
    c = op.input("condition")
    zeros = {"value": 0, "dtype": op.spec("t").dtype}
    gt = op.add("SelectV2", condition=c, t=grad, e=zeros)
    ge = op.add("SelectV2", condition=c, t=zeros, e=grad)
    return {"condition": None, "t": reduce_to(op, gt, "t", None, "r0", keep_dims=True),
            "e": reduce_to(op, ge, "e", None, "r0", keep_dims=True)}


@gradient("ClipByValue")
def _clip_by_value_grad(op, grad):
    from blocks.math_binary_grad import reduce_to
    t, lo, hi = op.input("t"), op.input("clip_value_min"), op.input("clip_value_max")
    zeros = op.add("ZerosLike", x=grad)       # array_ops.zeros(shape(grad))
    xymask = op.add("Less", x=t, y=lo)
    xzmask = op.add("Greater", x=t, y=hi)
    xgrad = op.add("SelectV2", condition=op.add("LogicalOr", x=xymask, y=xzmask), t=zeros, e=grad)
    ygrad = op.add("SelectV2", condition=xymask, t=grad, e=zeros)
    zgrad = op.add("SelectV2", condition=xzmask, t=grad, e=zeros)
    return {"t": xgrad, "clip_value_min": reduce_to(op, ygrad, "clip_value_min", "t"),
            "clip_value_max": reduce_to(op, zgrad, "clip_value_max", "t")}
