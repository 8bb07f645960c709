"""Shapes for the gradient functions: static where the page's checks know them, else computed
by blocks at run time from `Shape`, `Size` and `Rank` of the forward op's inputs, as TF's
gradient functions do when a shape is not fully defined (a Placeholder of shape [null, 3]).

Two helpers of TF's dynamic paths are not blocks here, so they are built from blocks that give
the same integers: `math_ops.range(n)` is an exclusive Cumsum of OnesLike(v) over a 1-D vector
v of length n ([0, 1, ..., n-1]); `math_ops.reduced_shape(shape, axes)`, a DynamicStitch of
the shape and ones at the reduced axes, is SelectV2(mask, 1, shape), the mask being Equal of
range(rank) with the normalised axes, reduced with Any (or a literal when rank and axes are
known before the run).
"""
from __future__ import annotations

import numpy as np


def i32(values) -> dict:
    """An int32 literal (a list, or a scalar)."""
    if np.ndim(values) == 0:
        return {"value": int(values), "dtype": "int32"}
    return {"value": [int(v) for v in values], "dtype": "int32"}


def known_shape(op, port, index=None) -> tuple | None:
    """The static shape of input `port` when every dim is known, else None."""
    s = op.spec(port, index)
    if s is None or s.shape is None or None in s.shape:
        return None
    return tuple(s.shape)


def known_rank(op, port, index=None) -> int | None:
    s = op.spec(port, index)
    return None if s is None or s.shape is None else len(s.shape)


def known_value(op, port) -> np.ndarray | None:
    """The value of input `port` before the run (a literal, a Const, a folded shape), or None."""
    s = op.spec(port)
    return None if s is None or s.value is None else np.asarray(s.value)


def dtype_of(op, port, index=None):
    s = op.spec(port, index)
    return None if s is None else s.dtype


def shape(op, ref, out_type="int32") -> str:
    """array_ops.shape(ref, out_type)."""
    return op.add("Shape", input=ref, **({} if out_type == "int32" else {"out_type": out_type}))


def part(op, vector, begin: int, end: int | None = None) -> str:
    """vector[begin:end] of a 1-D tensor (end None: to its end; negative: from its end)."""
    return op.add("StridedSlice", input=vector, begin=i32([begin]), end=i32([end or 0]),
                  strides=i32([1]), **({"end_mask": 1} if end is None else {}))


def item(op, vector, index: int) -> str:
    """vector[index] of a 1-D tensor, a scalar."""
    return op.add("StridedSlice", input=vector, begin=i32([index]), end=i32([index + 1]),
                  strides=i32([1]), shrink_axis_mask=1)


def arange(op, like) -> str:
    """[0, 1, ..., n-1] for a 1-D integer tensor `like` of length n (TF: range(size(like)))."""
    return op.add("Cumsum", x=op.add("OnesLike", x=like), axis=i32(0), exclusive=True)


def normalized(op, axes, rank, axes_dtype=None) -> str:
    """TF's `(cast(axes, int32) + rank) % rank`, as a 1-D int32 vector (`rank` a scalar
    reference)."""
    flat = op.add("Reshape", tensor=axes, shape=i32([-1]))
    if axes_dtype not in (None, "int32"):
        flat = op.add("Cast", x=flat, DstT="int32")
    return op.add("FloorMod", x=op.add("AddV2", x=flat, y=rank), y=rank)


def static_axes(op, port="input", axis_port="axis") -> tuple[int, list] | None:
    """(rank, the reduced axes made non-negative) when both are known before the run."""
    rank, axes = known_rank(op, port), known_value(op, axis_port)
    if rank is None or axes is None:
        return None
    return rank, [(int(a) + rank) % rank for a in axes.reshape(-1)] if rank else []


def reduced_shape(op, input_shape, port="input", axis_port="axis") -> str:
    """math_ops.reduced_shape(input_shape, axes): the shape with 1 at each reduced axis."""
    known = static_axes(op, port, axis_port)
    if known is not None:
        rank, axes = known
        mask = {"value": [i in axes for i in range(rank)], "dtype": "bool"}
    else:
        rank = op.add("Size", input=input_shape)
        axes = normalized(op, op.input(axis_port), rank, dtype_of(op, axis_port))
        hits = op.add("Equal", x=op.add("ExpandDims", input=arange(op, input_shape), axis=i32(-1)),
                      y=axes)
        mask = op.add("Any", input=hits, axis=i32(1))
    return op.add("SelectV2", condition=mask, t=i32(1), e=input_shape)
