"""Reductions: Sum, Mean, Prod, Max, Min, All, Any (TF C++ names ReduceSum, ReduceMean, ...).

TF's kernel (`ReductionOp`) checks the axes (in range, not repeated; a 2-D axis tensor is
flattened), copies the input when nothing is reduced (axis [] or size-1 axes only) and
otherwise reduces in Eigen's order (`blocks.kernels.reduce`), so float results are TF's bits
where that order is reproduced. Integer Sum/Prod wrap; integer Mean sums in 64 bits and
truncates toward zero (int64/uint64 sums wrap); empty reductions give 0, 1, -inf/lowest,
+inf/highest, NaN (float Mean) or 0 (integer Mean), true (All), false (Any). The gradient
functions at the end are TF's math_grad.py ones.
"""
from __future__ import annotations

import math

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import DECLINE, Attr, Input, Kernel, Output, block
from blockgraph.core.gradients import gradient, no_gradient

from . import _grad_shapes as gs
from ._grad_shapes import i32
from .kernels import reduce as red
from .kernels import reduce_fused as fused
from .kernels.ieee import bf16_packet_nans, daz
from .kernels.reduce_ops import bf16_round

SUM_T = ("float32", "float64", "int32", "uint8", "int16", "int8", "complex64", "int64",
         "bfloat16", "uint16", "complex128", "float16", "uint32", "uint64")
MAX_T = tuple(d for d in SUM_T if not d.startswith("complex"))
KEEP = Attr("keep_dims", "bool", False, doc="keep reduced dimensions with length 1")
AXIS_DOC = "dimensions to reduce (TF's reduction_indices; scalar or list, negative from the end)"


# ----------------------------------------------------------------------------- shape function

def _reduction_shape(ctx):
    """TF's ReductionShape with the kernel's checks (its error texts, eager semantics: a 2-D
    axis tensor is flattened, repeated axes are an error)."""
    shape, keep = ctx.shape("input"), ctx.attrs.get("keep_dims", False)
    axis = ctx.value("axis")
    if shape is None or axis is None:
        a_shape = ctx.shape("axis")
        if shape is not None and a_shape is not None and 0 in a_shape:
            ctx.set_output("output", shape)      # no axes: the input, copied
        else:
            ctx.set_output("output", None if shape is None or not keep else (None,) * len(shape))
        return
    axes = red.reduced_axes(shape, axis)
    ctx.set_output("output", red.out_shape(shape, axes, keep))


# ----------------------------------------------------------------------------- kernels

def _axes(x, axis):
    return tuple(red.reduced_axes(x.shape, axis))


def _numpy_reduce(fn, x, axis, keep_dims, dtype=None):
    """An order-independent reduction (integers, bools) with numpy: wraps in x's dtype."""
    axes = _axes(x, axis)
    kw = {} if dtype is None else {"dtype": dtype}
    return np.asarray(fn(x, axis=axes, keepdims=keep_dims, **kw))


def _float_sum(x, axis, keep_dims, T):
    """A float/complex sum in TF's order; bfloat16 is summed in float32 (TF's casting
    reducer) and rounded back (packet outputs make NaNs +qNaN)."""
    if T == "bfloat16":
        p = red.plan(x.shape, axis, keep_dims)
        if p.trivial:
            return x.copy().reshape(p.out_shape)
        s = red.reduce("sum", x.astype(np.float32), axis, keep_dims, "float32")[0]
        return bf16_packet_nans(bf16_round(s, packet=False))
    return red.reduce("sum", x, axis, keep_dims, T)[0]


def _fused_sum(input, axis, keep_dims):
    r = fused.fused_sum(input, axis, keep_dims)
    return DECLINE if r is None else r[0]


def _fused_mean(input, axis, keep_dims, T):
    r = fused.fused_sum(input, axis, keep_dims)
    return DECLINE if r is None else mean_of(r[0], r[1], T)


def _fused_max(input, axis, keep_dims):
    r = fused.fused_minmax(True, input, axis, keep_dims)
    return DECLINE if r is None else r


def _fused_min(input, axis, keep_dims):
    r = fused.fused_minmax(False, input, axis, keep_dims)
    return DECLINE if r is None else r


def _reduction(name, dtypes, fused_fn=None, **kw):
    kernels = [Kernel("fused", fused_fn, accepts=fused.accepts)] if fused_fn else []
    return block(name, inputs=[Input("input", dtypes, type_attr="T"),
                               Input("axis", dt.INDEX, type_attr="Tidx", doc=AXIS_DOC)],
                 attrs=[KEEP], outputs=[Output("output", "T")], shape=_reduction_shape,
                 kernels=kernels, **kw)


@_reduction("Sum", SUM_T, _fused_sum, aliases=("ReduceSum",))
def reduce_sum(input, axis, keep_dims, T):
    """Sum of the elements along `axis` (integers wrap)."""
    if dt.is_integer(T):
        return _numpy_reduce(np.sum, input, axis, keep_dims, input.dtype)
    return _float_sum(input, axis, keep_dims, T)


@_reduction("Mean", SUM_T, _fused_mean, aliases=("ReduceMean",))
def reduce_mean(input, axis, keep_dims, T):
    """Mean along `axis`: TF's sum divided by the count (integers: truncated, in 64 bits)."""
    p = red.plan(input.shape, axis, keep_dims)
    if p.trivial:
        return input.copy().reshape(p.out_shape)
    n = input.size // max(1, math.prod(p.out_shape))
    if dt.is_integer(T):
        return _int_mean(input, axis, keep_dims, n)
    if input.size == 0:       # TF's identity of MeanReducer: NaN for real floats, else 0
        return np.full(p.out_shape, np.nan if T in dt.FLOATS else 0, dtype=input.dtype)
    s, _ = red.reduce("sum", input.astype(np.float32) if T == "bfloat16" else input, axis,
                      keep_dims, "float32" if T == "bfloat16" else T)
    return mean_of(s, n, T)


def mean_of(s, n, T):
    """TF's `sum / static_cast<T>(n)` (half: in float32, rounded; bfloat16: from the float32
    sum, rounded with packet NaNs), denormals flushed."""
    with np.errstate(all="ignore"):
        if T == "float16":
            return (s.astype(np.float32) / np.float32(np.float16(n))).astype(np.float16)
        if T == "bfloat16":
            return bf16_packet_nans(bf16_round(daz(s / np.float32(n)), packet=False))
        if s.dtype.kind == "c":            # (re/n, im/n): Eigen's complex division by (n, 0)
            out = np.empty_like(s)
            out.real, out.imag = s.real / s.real.dtype.type(n), s.imag / s.real.dtype.type(n)
            return out
        return daz(s / s.dtype.type(n))


def _int_mean(x, axis, keep_dims, n):
    """Integer Mean: the sum in int64/uint64 (wrapping only for 64-bit inputs), divided with
    C++'s truncation toward zero."""
    if x.size == 0:
        p = red.plan(x.shape, axis, keep_dims)
        return np.zeros(p.out_shape, x.dtype)
    wide = np.uint64 if x.dtype.kind == "u" else np.int64
    s = _numpy_reduce(np.sum, x.astype(wide), axis, keep_dims, wide)
    q = s // wide(n)
    if wide is np.int64:
        q = q + ((s % n != 0) & (s < 0))
    return q.astype(x.dtype)


@_reduction("Prod", SUM_T, aliases=("ReduceProd",))
def reduce_prod(input, axis, keep_dims, T):
    """Product of the elements along `axis` (integers wrap)."""
    if dt.is_integer(T):
        return _numpy_reduce(np.prod, input, axis, keep_dims, input.dtype)
    return red.reduce("prod", input, axis, keep_dims, T)[0]


def _minmax(kind, x, axis, keep_dims, T):
    if dt.is_integer(T):
        p = red.plan(x.shape, axis, keep_dims)
        if x.size == 0:
            info = np.iinfo(x.dtype)
            return np.full(p.out_shape, info.min if kind == "max" else info.max, x.dtype)
        return _numpy_reduce(np.max if kind == "max" else np.min, x, axis, keep_dims)
    return red.reduce(kind, x, axis, keep_dims, T)[0]


@_reduction("Max", MAX_T, _fused_max, aliases=("ReduceMax",))
def reduce_max(input, axis, keep_dims, T):
    """Maximum along `axis`; a NaN propagates."""
    return _minmax("max", input, axis, keep_dims, T)


@_reduction("Min", MAX_T, _fused_min, aliases=("ReduceMin",))
def reduce_min(input, axis, keep_dims, T):
    """Minimum along `axis`; a NaN propagates."""
    return _minmax("min", input, axis, keep_dims, T)


def _logical(name, alias):
    return block(name, inputs=[Input("input", ("bool",)),
                               Input("axis", dt.INDEX, type_attr="Tidx", doc=AXIS_DOC)],
                 attrs=[KEEP], outputs=[Output("output", "bool")], shape=_reduction_shape,
                 aliases=(alias,))


@_logical("All", "ReduceAll")
def reduce_all(input, axis, keep_dims):
    """Logical and along `axis` (true over nothing)."""
    return _numpy_reduce(np.all, input, axis, keep_dims)


@_logical("Any", "ReduceAny")
def reduce_any(input, axis, keep_dims):
    """Logical or along `axis` (false over nothing)."""
    return _numpy_reduce(np.any, input, axis, keep_dims)


# ----------------------------------------------------------------------------- gradients (TF's math_grad.py)

no_gradient("All", "Any")


def _kept(op):
    """(input shape, reduced axes, the output shape with kept dims) when the input's shape and
    the axes are known before the run (the gradient is then built of literals; TF reads them
    from Shape at run time, the values are the same), else None: then the shapes are computed
    by blocks, as TF's gradient functions do (`blocks/_grad_shapes.py`)."""
    shape, axis = gs.known_shape(op, "input"), gs.known_value(op, "axis")
    if shape is None or axis is None:
        return None
    axes = red.reduced_axes(shape, axis)
    return shape, axes, [1 if i in axes else d for i, d in enumerate(shape)]


def _to_kept(op, t, kept):
    """`t` (an output-shaped gradient) reshaped to the kept-dims shape unless keep_dims."""
    return t if op.attrs.get("keep_dims") else op.add("Reshape", tensor=t, shape=kept)


def _sum_grad_of(op, grad):
    known = _kept(op)
    if known is not None:
        shape, _, kept = known
        return op.add("BroadcastTo", input=_to_kept(op, grad, i32(kept)), shape=i32(shape))
    x_shape = gs.shape(op, op.input("input"))
    rank, axis = gs.known_rank(op, "input"), gs.known_value(op, "axis")
    if rank is not None and axis is not None and np.array_equal(axis, np.arange(rank)):
        # TF's path for a reduction of every dim of a known rank: Reshape, then Tile by Shape
        return op.add("Tile", input=op.add("Reshape", tensor=grad, shape=i32([1] * rank)),
                      multiples=x_shape)
    if not op.attrs.get("keep_dims"):
        grad = op.add("Reshape", tensor=grad, shape=gs.reduced_shape(op, x_shape))
    return op.add("BroadcastTo", input=grad, shape=x_shape)


@gradient("Sum")
def _sum_grad(op, grad):
    return {"input": _sum_grad_of(op, grad)}


def _fully_known(spec):
    return spec is not None and spec.shape is not None and None not in spec.shape


@gradient("Mean")
def _mean_grad(op, grad):
    """The Sum gradient divided by the number of reduced elements: a literal when the input
    and output shapes are known, else the product of the reduced dims of Shape (TF's way)."""
    sum_grad, dtype = _sum_grad_of(op, grad), op.spec("input").dtype
    known = _kept(op)
    if known is not None:
        shape, axes, _ = known
        out_size = math.prod(d for i, d in enumerate(shape) if i not in axes)
        factor = {"value": math.prod(shape) // max(out_size, 1), "dtype": dtype}
    elif _fully_known(op.spec("input")) and _fully_known(op.out_spec()):
        size = math.prod(op.spec("input").shape) // max(math.prod(op.out_spec().shape), 1)
        factor = {"value": size, "dtype": dtype}
    else:
        x_shape, axes = gs.shape(op, op.input("input")), gs.static_axes(op)
        axes = i32(axes[1]) if axes is not None else gs.normalized(
            op, op.input("axis"), op.add("Size", input=x_shape), gs.dtype_of(op, "axis"))
        reduced = op.add("GatherV2", params=x_shape, indices=axes, axis=i32(0))
        factor = op.add("Cast", x=op.add("Prod", input=reduced, axis=i32([0])), DstT=dtype)
    return {"input": op.add("RealDiv", x=sum_grad, y=factor)}


@gradient("Max", "Min")
def _min_or_max_grad(op, grad):
    """The gradient goes to the elements equal to the result, divided by their number."""
    known = _kept(op)
    if known is not None:
        kept = i32(known[2])
    elif op.attrs.get("keep_dims"):
        kept = gs.shape(op, op.output())
    else:
        kept = gs.reduced_shape(op, gs.shape(op, op.input("input")))
    y = _to_kept(op, op.output(), kept)
    grad = _to_kept(op, grad, kept)
    indicators = op.add("Cast", x=op.add("Equal", x=y, y=op.input("input")),
                        DstT=op.spec("input").dtype)
    num = op.add("Reshape", tensor=op.add("Sum", input=indicators, axis=op.input("axis")),
                 shape=kept)
    return {"input": op.add("Mul", x=op.add("RealDiv", x=indicators, y=num), y=grad)}


@gradient("Prod")
def _prod_grad(op, grad):
    """The product of the others as two exclusive Cumprods over the reduced values (TF's way,
    which holds with zeros in the input); complex inputs take their conjugates."""
    known = _kept(op)
    if known is None:
        return {"input": _prod_grad_dynamic(op, grad)}
    shape, _, kept = known
    rank = len(shape)
    grad = op.add("BroadcastTo", input=_to_kept(op, grad, i32(kept)), shape=i32(shape))
    reduced = [(int(a) + rank) % rank for a in gs.known_value(op, "axis").reshape(-1)]
    other = [i for i in range(rank) if i not in reduced]
    perm = reduced + other
    permuted_shape = [shape[i] for i in perm]
    n_red = math.prod(shape[i] for i in reduced)
    permuted = op.add("Transpose", x=op.input("input"), perm=i32(perm))
    flat = op.add("Reshape", tensor=permuted,
                  shape=i32([n_red, math.prod(shape[i] for i in other)]))
    y = _others_product(op, flat, i32(permuted_shape))
    back = op.add("Transpose", x=y, perm=i32(np.argsort(perm)))
    return {"input": op.add("Reshape", tensor=op.add("Mul", x=grad, y=back), shape=i32(shape))}


def _others_product(op, flat, shape):
    """Per element of `flat` [reduced, other], the product of the other reduced values (complex:
    conjugated), reshaped to `shape`."""
    zero = {"value": 0, "dtype": "int32"}
    left = op.add("Cumprod", x=flat, axis=zero, exclusive=True)
    right = op.add("Cumprod", x=flat, axis=zero, exclusive=True, reverse=True)
    if op.spec("input").dtype in dt.COMPLEX:
        left, right = op.add("Conj", input=left), op.add("Conj", input=right)
    return op.add("Reshape", tensor=op.add("Mul", x=left, y=right), shape=shape)


def _prod_grad_dynamic(op, grad):
    """_ProdGrad with the shapes from Shape: the permutation is a literal when the rank and
    the axes are known, else built as TF builds it (ListDiff of range(rank), ConcatV2)."""
    x = op.input("input")
    x_shape = gs.shape(op, x)
    if not op.attrs.get("keep_dims"):
        grad = op.add("Reshape", tensor=grad, shape=gs.reduced_shape(op, x_shape))
    grad = op.add("BroadcastTo", input=grad, shape=x_shape)
    known = gs.static_axes(op)
    if known is not None:
        rank, axes = known
        others = [i for i in range(rank) if i not in axes]
        reduced, other = i32(axes), i32(others)
        perm, inverse = i32(axes + others), i32(np.argsort(axes + others))
    else:
        rank = op.add("Rank", input=x)
        reduced = gs.normalized(op, op.input("axis"), rank, gs.dtype_of(op, "axis"))
        other = op.add("ListDiff", x=gs.arange(op, x_shape), y=reduced)
        perm = op.add("ConcatV2", values=[reduced, other], axis=i32(0))
        inverse = op.add("InvertPermutation", x=perm)
    nums = [op.add("Prod", input=op.add("GatherV2", params=x_shape, indices=ix, axis=i32(0)),
                   axis=i32([0])) for ix in (reduced, other)]
    permuted = op.add("Transpose", x=x, perm=perm)
    flat = op.add("Reshape", tensor=permuted, shape=op.add("Pack", values=nums))
    y = _others_product(op, flat, gs.shape(op, permuted))
    back = op.add("Transpose", x=y, perm=inverse)
    return op.add("Reshape", tensor=op.add("Mul", x=grad, y=back), shape=x_shape)
