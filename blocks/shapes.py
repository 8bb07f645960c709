"""Reshaping and shape queries: Reshape, ExpandDims, Squeeze, Shape, ShapeN, Size, Rank.

The kernels' checks live in the shape functions (they also run on the real arrays before each
compute), in the kernel's order: a check whose inputs are not yet known stops later checks from
firing early, so a page never reports an error TF would not have reached first.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Attr, Input, Output, Spec, block
from blockgraph.core.errors import OpError
from blockgraph.core.shapes import int_list

from ._shape_helpers import (INT32_MAX, INT64_MAX, OUT_TYPE, known, num_elements, rank_check,
                             value_spec, vector_len)



# ----------------------------------------------------------------------------- Reshape

def reshape_target(in_shape, sizes):
    """ReshapeOp's ValidateSizes and -1 inference: the output shape, or OpError. `in_shape`
    may be None or partial: the element-count checks then wait for the run."""
    if len(sizes) >= 254:
        raise OpError(f"too many dimensions: must be < 254, but received {len(sizes)}", port="shape")
    product, unknown, has_zero, numel = 1, -1, False, 1
    out = []
    for d, size in enumerate(sizes):
        if size == -1:
            if unknown != -1:
                raise OpError(f"Only one input size may be -1, not both {unknown} and {d}",
                              port="shape")
            unknown = d
            out.append(1)
        elif size < 0:
            raise OpError(f"Size {d} must be non-negative, not {size}", port="shape")
        elif size == 0:
            out.append(0)
            has_zero = True
            numel = 0
        else:
            if numel * size > INT64_MAX:
                raise OpError(f"Shape [{', '.join(map(str, sizes))}] has too many elements",
                              port="shape")
            out.append(size)
            numel *= size
            product *= size
    if not known(in_shape):
        if unknown != -1:
            out[unknown] = None
        return tuple(out)
    if unknown != -1:
        input_num, input_has_zero = 1, False
        for dim in in_shape:
            if dim > 0 or not has_zero:
                input_num *= dim
            else:
                input_has_zero = True
        missing = input_num // product
        if not input_has_zero and product * missing != input_num:
            raise OpError(f"Input to reshape is a tensor with {input_num} values, but the requested "
                          f"shape requires a multiple of {product}", port="shape")
        out[unknown] = missing
    have, want = num_elements(in_shape), num_elements(out)
    if want != have:
        raise OpError(f"Input to reshape is a tensor with {have} values, but the requested shape "
                      f"has {want}", port="shape")
    return tuple(out)


def _reshape_shape(ctx):
    s = ctx.shape("shape")
    if not rank_check(s, lambda x: len(x) <= 1, "sizes input must be 1-D, not {}", "shape"):
        ctx.set_output("output", None)
        return
    sizes = ctx.value("shape")
    if sizes is None:
        n = vector_len(s)
        ctx.set_output("output", None if n is None else (None,) * n)
        return
    ctx.set_output("output", reshape_target(ctx.shape("tensor"), int_list(sizes)))


@block("Reshape",
       inputs=[Input("tensor", dt.ALL, type_attr="T"),
               Input("shape", dt.INDEX, type_attr="Tshape", doc="1-D sizes; one may be -1")],
       outputs=[Output("output", "T")], shape=_reshape_shape)
def reshape(tensor, shape):
    """The same elements in a new shape (one size -1 is inferred from the element count)."""
    return tensor.reshape(reshape_target(tensor.shape, int_list(shape)))


# ----------------------------------------------------------------------------- ExpandDims

def _expand_target(in_shape, axis_spec):
    a = axis_spec
    if known(a.shape) and num_elements(a.shape) != 1:
        raise OpError("'dim' must be a tensor with a single value", port="axis")
    if in_shape is None:
        return None
    rank = len(in_shape)
    if a.value is None:
        return (None,) * (rank + 1)
    dim = int(np.asarray(a.value).reshape(-1)[0])
    if not -1 - rank <= dim <= rank:
        raise OpError(f"Tried to expand dim index {dim} for tensor with {rank} dimensions.",
                      port="axis")
    if dim < 0:
        dim = min(dim + rank + 1, rank)
    return tuple(in_shape[:dim]) + (1,) + tuple(in_shape[dim:])


def _expand_dims_shape(ctx):
    ctx.set_output("output", _expand_target(ctx.shape("input"), ctx.spec("axis")))


@block("ExpandDims",
       inputs=[Input("input", dt.ALL, type_attr="T"),
               Input("axis", dt.INDEX, type_attr="Tdim", doc="one value in [-rank-1, rank]")],
       outputs=[Output("output", "T")], shape=_expand_dims_shape)
def expand_dims(input, axis):
    """Insert a dimension of size 1 at index `axis` (negative counts from the end)."""
    return input.reshape(_expand_target(input.shape, Spec(None, axis.shape, axis)))


# ----------------------------------------------------------------------------- Squeeze

def _squeeze_target(shape, axis):
    if shape is None:
        return None
    rank = len(shape)
    order = []
    for a in axis:             # TF keeps them in an unordered_set: checked last-inserted first
        if a not in order:
            order.insert(0, a)
    for a in order:
        if not -rank <= a < rank:
            raise OpError(f"Tried to squeeze dim index {a} for tensor with {rank} dimensions.",
                          port="input")
    wrapped = {a + rank if a < 0 else a for a in order}
    out, sure = [], True
    for i, d in enumerate(shape):
        if wrapped:
            if i in wrapped:
                if d is None:
                    sure = False
                elif d != 1:
                    if not sure:
                        return None
                    raise OpError(f"Can not squeeze dim[{i}], expected a dimension of 1, got {d}",
                                  port="input")
            else:
                out.append(d)
        else:
            if d is None:
                return None
            if d != 1:
                out.append(d)
    return tuple(out)


def _squeeze_shape(ctx):
    ctx.set_output("output", _squeeze_target(ctx.shape("input"), ctx.attrs["axis"]))


@block("Squeeze",
       inputs=[Input("input", dt.ALL, type_attr="T")],
       attrs=[Attr("axis", "list(int)", [], doc="dims to remove (each of size 1); [] = all size-1 dims")],
       outputs=[Output("output", "T")], shape=_squeeze_shape)
def squeeze(input, axis):
    """Remove dimensions of size 1 (all of them, or those listed in `axis`)."""
    return input.reshape(_squeeze_target(input.shape, axis))


# ----------------------------------------------------------------------------- Shape, Size, Rank

def _check_dims_int32(shape, out_type, message):
    if out_type != "int32" or shape is None:
        return
    for i, d in enumerate(shape):
        if d is None:
            return
        if d >= INT32_MAX:
            raise OpError(message(i, d), port="input")


def _shape_shape(ctx):
    x, out_type = ctx.shape("input"), ctx.attrs["out_type"]
    _check_dims_int32(x, out_type, lambda i, d: f"Shape output type is 32-bit  but dim {i} is {d}")
    if x is None:
        ctx.set_output("output", (None,))
    elif known(x):
        ctx.set_output("output", value_spec((len(x),), list(x), out_type))
    else:
        ctx.set_output("output", (len(x),))


@block("Shape", inputs=[Input("input", dt.ALL, type_attr="T")], attrs=[OUT_TYPE],
       outputs=[Output("output", "out_type")], shape=_shape_shape)
def shape_(input, out_type):
    """The shape of a tensor as a 1-D int32/int64 tensor."""
    return np.array(input.shape, dtype=dt.to_numpy(out_type)).reshape(-1)


def _shape_n_shape(ctx):
    items, out_type = ctx.shape("input"), ctx.attrs["out_type"]
    if not items:
        raise OpError("Value for attr 'N' of 0 must be at least minimum 1", port="input")
    out = []
    for k, s in enumerate(items):
        _check_dims_int32(s, out_type, lambda i, d, k=k: (
            f"ShapeN output type is 32-bit but shape {k} dim {i} is {d}"))
        if s is None:
            out.append((None,))
        elif known(s):
            out.append(value_spec((len(s),), list(s), out_type))
        else:
            out.append((len(s),))
        if not known(s):   # a later input's check must not fire before this one's
            out.extend((None,) if t is None else (len(t),) for t in items[k + 1:])
            break
    ctx.set_output("output", out)


@block("ShapeN", inputs=[Input("input", dt.ALL, type_attr="T", list=True)], attrs=[OUT_TYPE],
       outputs=[Output("output", "out_type", list=True)], shape=_shape_n_shape)
def shape_n(input, out_type):
    """The shapes of N tensors (one 1-D int32/int64 tensor each)."""
    return [np.array(x.shape, dtype=dt.to_numpy(out_type)).reshape(-1) for x in input]


def _size_shape(ctx):
    x, out_type = ctx.shape("input"), ctx.attrs["out_type"]
    if x is not None and 0 in x:
        n = 0
    elif known(x):
        n = num_elements(x)
    else:
        ctx.set_output("output", ())
        return
    if out_type == "int32" and n >= INT32_MAX:
        raise OpError("Number of elements was larger than representable by 32-bit output type",
                      port="input")
    ctx.set_output("output", value_spec((), n, out_type))


@block("Size", inputs=[Input("input", dt.ALL, type_attr="T")], attrs=[OUT_TYPE],
       outputs=[Output("output", "out_type")], shape=_size_shape)
def size(input, out_type):
    """The number of elements of a tensor (0-d int32/int64)."""
    return np.array(input.size, dtype=dt.to_numpy(out_type))


def _rank_shape(ctx):
    x = ctx.shape("input")
    ctx.set_output("output", () if x is None else value_spec((), len(x), "int32"))


@block("Rank", inputs=[Input("input", dt.ALL, type_attr="T")],
       outputs=[Output("output", "int32")], shape=_rank_shape)
def rank(input):
    """The number of dimensions of a tensor (0-d int32)."""
    return np.array(input.ndim, dtype=np.int32)
