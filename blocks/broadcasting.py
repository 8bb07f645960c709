"""Broadcasting and filling: BroadcastArgs, BroadcastTo, Fill, ZerosLike, OnesLike, Tile.

The kernels' checks live in the shape functions (they also run on the real arrays before each
compute), in the kernel's order: a check whose inputs are not yet known stops later checks from
firing early, so a page never reports an error TF would not have reached first.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Input, Output, Spec, block
from blockgraph.core.errors import OpError
from blockgraph.core.shapes import fmt, int_list, same_shape

from ._shape_helpers import (NO_QUANT, NO_QUANT_STRING, TILE_TYPES, add_dim, bcast,
                             known, make_shape, rank_check, value_spec, vector_len)



# ----------------------------------------------------------------------------- BroadcastArgs

def _broadcast_args_result(s0, s1):
    """BCast of the Specs of s0 and s1 with the kernel's checks: (shape or None, both vectors)."""
    shapes = []
    for i, (port, s) in enumerate((("s0", s0), ("s1", s1))):
        if s.shape is None:
            return None, False
        if len(s.shape) != 1:
            if not known(s.shape):
                return None, False
            raise OpError(f"In[{i}] must be a vector.{fmt(s.shape)}", port=port)
        shapes.append(s)
    if shapes[0].value is None or shapes[1].value is None:
        return None, True
    a, b = int_list(shapes[0].value), int_list(shapes[1].value)
    out = bcast(a, b)
    if out is None:
        raise OpError(f"Incompatible shapes: [{','.join(map(str, a))}] vs. [{','.join(map(str, b))}]",
                      port="s1")
    return out, True


def _broadcast_args_shape(ctx):
    out, vectors = _broadcast_args_result(ctx.spec("s0"), ctx.spec("s1"))
    if out is not None:
        ctx.set_output("r0", value_spec((len(out),), out, ctx.attrs["T"]))
    elif vectors:
        n0, n1 = ctx.shape("s0")[0], ctx.shape("s1")[0]
        ctx.set_output("r0", (None if n0 is None or n1 is None else max(n0, n1),))
    else:
        ctx.set_output("r0", (None,))


@block("BroadcastArgs",
       inputs=[Input("s0", dt.INDEX, type_attr="T", doc="a shape (1-D)"),
               Input("s1", dt.INDEX, type_attr="T", doc="a shape (1-D)")],
       outputs=[Output("r0", "T")], shape=_broadcast_args_shape)
def broadcast_args(s0, s1, T):
    """The shape two shapes broadcast to (numpy rules): r0 = broadcast(s0, s1)."""
    out, _ = _broadcast_args_result(Spec(T, s0.shape, s0), Spec(T, s1.shape, s1))
    return np.array(out, dtype=dt.to_numpy(T)).reshape(-1)


# ----------------------------------------------------------------------------- BroadcastTo

def _broadcast_to_target(in_shape, shape_spec):
    ss = shape_spec.shape
    if not rank_check(ss, lambda x: len(x) == 1, "shape must be a vector of {{int32,int64}}, got "
                       "shape {}", "shape"):
        return None
    if shape_spec.value is None:
        return None if ss[0] is None else (None,) * ss[0]
    dims = list(make_shape(int_list(shape_spec.value), "shape"))
    if in_shape is None:
        return tuple(dims)
    if known(in_shape) and list(in_shape) == dims:
        return tuple(dims)
    if len(in_shape) > len(dims):
        if not known(in_shape):
            return tuple(dims)
        raise OpError(f"Rank of input ({len(in_shape)}) must be no greater than rank of output shape "
                      f"({len(dims)}).", port="input")
    if len(in_shape) == 0 or not known(in_shape):
        return tuple(dims)
    out = bcast(list(in_shape), dims)
    if out is None:
        raise OpError(f"Incompatible shapes: {fmt(in_shape)} vs. {fmt(dims)}", port="input")
    if out != dims:
        raise OpError(f"Unable to broadcast tensor of shape {fmt(in_shape)} to tensor of shape "
                      f"{fmt(dims)}", port="input")
    return tuple(dims)


def _broadcast_to_shape(ctx):
    ctx.set_output("output", _broadcast_to_target(ctx.shape("input"), ctx.spec("shape")))


@block("BroadcastTo",
       inputs=[Input("input", NO_QUANT, type_attr="T"),
               Input("shape", dt.INDEX, type_attr="Tidx", doc="1-D target shape")],
       outputs=[Output("output", "T")], shape=_broadcast_to_shape)
def broadcast_to(input, shape):
    """`input` broadcast (numpy rules) to the given shape."""
    target = _broadcast_to_target(input.shape, Spec(None, shape.shape, shape))
    return np.array(np.broadcast_to(input, target))


# ----------------------------------------------------------------------------- Fill, *Like

def _fill_shape(ctx):
    ctx.set_output("output", _fill_target(ctx))


def _fill_target(ctx):
    ds, vs = ctx.shape("dims"), ctx.shape("value")
    if not rank_check(ds, lambda x: len(x) <= 1, "dims must represent a vector, got shape {}", "dims"):
        return None
    n = vector_len(ds)
    unknown = None if n is None else (None,) * n
    if not rank_check(vs, lambda x: len(x) == 0 or (len(x) == 1 and x[0] == 1),
                       "value must represent a scalar, got shape {}", "value"):
        return unknown
    v = ctx.value("dims")
    if v is None:
        return unknown
    return make_shape(int_list(v), "dims")


@block("Fill",
       inputs=[Input("dims", dt.INDEX, type_attr="index_type", doc="1-D output shape"),
               Input("value", type_attr="T", doc="0-d value")],
       outputs=[Output("output", "T")], shape=_fill_shape)
def fill(dims, value):
    """A tensor of shape `dims` with every element equal to the scalar `value`."""
    return np.broadcast_to(value.reshape(()), tuple(int_list(dims))).copy()


@block("ZerosLike", inputs=[Input("x", NO_QUANT, type_attr="T")], outputs=[Output("y", "T")],
       shape=same_shape("x", "y"))
def zeros_like(x):
    """Zeros (empty strings for strings) of the shape and dtype of `x`."""
    if x.dtype == object:
        out = np.empty(x.shape, dtype=object)
        out.fill(b"")
        return out
    return np.zeros(x.shape, dtype=x.dtype)


@block("OnesLike", inputs=[Input("x", NO_QUANT_STRING, type_attr="T")], outputs=[Output("y", "T")],
       shape=same_shape("x", "y"))
def ones_like(x):
    """Ones (True for bool) of the shape and dtype of `x`."""
    return np.ones(x.shape, dtype=x.dtype)


# ----------------------------------------------------------------------------- Tile

def _tile_target(in_shape, mult_spec, dtype):
    ms = mult_spec.shape
    if ms is not None and not rank_check(ms, lambda x: len(x) == 1, "Expected multiples to be 1-D, "
                                          "but got shape {}", "multiples"):
        return None
    n = None if ms is None else ms[0]
    if in_shape is not None and n is not None and n != len(in_shape):
        raise OpError(f"Expected multiples argument to be a vector of length {len(in_shape)} but got "
                      f"length {n}", port="multiples")
    if in_shape is None:
        return None if n is None else (None,) * n
    if len(in_shape) == 0:
        return ()
    if mult_spec.value is None:
        return (None,) * len(in_shape)
    m = int_list(mult_spec.value)
    out, numel = [], 1
    for i, d in enumerate(in_shape):
        if m[i] < 0:
            raise OpError(f"Expected multiples[{i}] >= 0, but got {m[i]}", port="multiples")
        if d is None or numel is None:
            out.append(None if d is None else d * m[i])
            numel = None
            continue
        size = ((d * m[i] + 2 ** 63) % 2 ** 64) - 2 ** 63      # int64 arithmetic, as in C++
        try:
            numel = add_dim(numel, size)
        except OpError as e:
            raise OpError(e.message, port="multiples") from None
        out.append(size)
    out = tuple(out)
    if dtype is not None and dtype not in TILE_TYPES and numel and out != tuple(in_shape):
        # TileOp's switch over the types it handles: after the shapes, unless it passes the
        # input through (same shape) or has nothing to write (an empty output)
        raise OpError(f"TileOp : The input data type is not supported, DataType : "
                      f"{dt.tf_name(dtype)}, Dimension : {len(in_shape)}", port="input")
    return out


def _tile_shape(ctx):
    ctx.set_output("output", _tile_target(ctx.shape("input"), ctx.spec("multiples"),
                                          ctx.dtype("input")))


@block("Tile",
       inputs=[Input("input", type_attr="T",
                     doc="TileOp refuses uint16 and quantized types when it copies"),
               Input("multiples", dt.INDEX, type_attr="Tmultiples", doc="1-D, one per input dim")],
       outputs=[Output("output", "T")], shape=_tile_shape)
def tile(input, multiples):
    """Repeat `input` multiples[i] times along each dimension i."""
    if input.ndim == 0:
        return input
    return np.tile(input, int_list(multiples))
