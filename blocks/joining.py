"""Splitting and joining: Split, SplitV, Concat, ConcatV2, ParallelConcat, Pack, Unpack — exact
to TF 2.21's CPU kernels, with the same shape-function conventions as `blocks/slicing.py`."""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Attr, Input, Output, Spec, block
from blockgraph.core.errors import OpError
from blockgraph.core.shapes import fmt, fully_known as _known, int_list
from blocks._array_helpers import (I32, NO_QUANT, SPLITV_LEN, SPLIT_T,
                                     _fill, _fold_spec, _foldable, _n_min, _scalar)


# ----------------------------------------------------------------- Split / SplitV

def _split_axis(value_shape, axis):
    """The split dim normalized and checked against the rank (TF's text), or None."""
    if value_shape is None or axis is None:
        return None
    r = len(value_shape)
    a = axis + r if axis < 0 else axis
    if not 0 <= a < r:
        raise OpError(f"-input rank(-{r}) <= split_dim < input rank ({r}), but got {axis}", port="axis")
    return a


def _split_shape(ctx):
    ctx.set_output("output", _split_outputs(ctx))


def _split_outputs(ctx):
    """Split's checks; the shapes of its num_split outputs."""
    a, v, n = ctx.spec("axis"), ctx.shape("value"), ctx.attrs["num_split"]
    if a.shape is not None and len(a.shape) != 0:
        raise OpError(f"split_dim must be a scalar but has rank {len(a.shape)}", port="axis")
    if v is None:
        return [None] * n
    ax = _split_axis(v, _scalar(a))
    if ax is None:
        return [(None,) * len(v)] * n
    d = v[ax]
    if d is not None and d % n:
        raise OpError(f"Number of ways to split should evenly divide the split dimension, but got "
                      f"split_dim {ax} (size = {d}) and num_split {n}")
    out = list(v)
    out[ax] = None if d is None else d // n
    return [tuple(out)] * n


NUM_SPLIT = Attr("num_split", "int", min=1, doc="number of outputs",
                 message="Value for attr 'num_split' of {value} must be at least minimum 1")


@block("Split",
       inputs=[Input("axis", I32, doc="0-d: the dimension to split (negative counts from the end)"),
               Input("value", SPLIT_T, type_attr="T")],
       attrs=[NUM_SPLIT], outputs=[Output("output", "T", list=True)], shape=_split_shape)
def split(axis, value, num_split):
    """Split `value` along `axis` into `num_split` equal pieces."""
    ax = int(axis) + value.ndim if int(axis) < 0 else int(axis)
    return [np.array(p, copy=True) for p in np.split(value, num_split, axis=ax)]


def _split_sizes(sizes, d, n):
    """SplitV's sizes with the -1 resolved, checked as the kernel does (d = size of the dim)."""
    if n == 1:
        if sizes[0] != d:
            raise OpError("If there is only one output, it must have the same size as the input. "
                          f"Input size: {d} output size: {sizes[0]}", port="size_splits")
        return sizes
    neg, determined = -1, 0
    for i, s in enumerate(sizes):
        if s == -1:
            if neg != -1:
                raise OpError("There can only be one -1 in the input.", port="size_splits")
            neg = i
        else:
            determined += s
    if not ((neg == -1 and determined == d) or (neg >= 0 and determined <= d)):
        raise OpError("Determined shape must either match input shape along split_dim exactly if fully "
                      "specified, or be less than the size of the input along split_dim if not fully "
                      f"specified.  Got: {determined}", port="size_splits")
    sizes = list(sizes)
    if neg >= 0:
        sizes[neg] = d - determined
    for i, s in enumerate(sizes):
        if s < 0:
            raise OpError(f"Split size at index {i} must be >= 0. Got: {s}", port="size_splits")
    return sizes


def _splitv_shape(ctx):
    ctx.set_output("output", _splitv_outputs(ctx))


def _splitv_outputs(ctx):
    """SplitV's checks; the shapes of its num_split outputs."""
    v, z, a = ctx.shape("value"), ctx.shape("size_splits"), ctx.spec("axis")
    n = ctx.attrs["num_split"]
    if _known(a.shape) and int(np.prod(a.shape)) != 1:
        raise OpError("split_dim_tensor must have exactly one element.", port="axis")
    if _known(z) and (len(z) != 1 or z[0] != n):
        raise OpError("size of the split_tensor must be 1-D and have the same elements as outputs got "
                      f"{len(z)} -D and {int(np.prod(z))} elements", port="size_splits")
    if v is None:
        return [None] * n
    ax = _split_axis(v, _scalar(a))
    if ax is None:
        return [(None,) * len(v)] * n
    sizes, d = int_list(ctx.value("size_splits")), v[ax]
    if sizes is not None and d is not None:
        sizes = _split_sizes(sizes, d, n)
    elif sizes is not None:
        if n > 1 and sizes.count(-1) > 1:
            raise OpError("There can only be one -1 in the input.", port="size_splits")
        sizes = [s if s >= 0 else None for s in sizes]
    else:
        sizes = [None] * n
    return [tuple(v[:ax]) + (s,) + tuple(v[ax + 1:]) for s in sizes]


@block("SplitV",
       inputs=[Input("value", SPLIT_T, type_attr="T"),
               Input("size_splits", SPLITV_LEN, type_attr="Tlen", doc="size of each piece (one may be -1)"),
               Input("axis", I32, doc="0-d: the dimension to split (negative counts from the end)")],
       attrs=[NUM_SPLIT], outputs=[Output("output", "T", list=True)], shape=_splitv_shape)
def split_v(value, size_splits, axis, num_split):
    """Split `value` along `axis` into pieces of the given sizes (one size may be -1: the rest)."""
    ax = int(np.asarray(axis).reshape(-1)[0])
    ax = ax + value.ndim if ax < 0 else ax
    sizes = _split_sizes(int_list(size_splits), value.shape[ax], num_split)
    cuts = np.cumsum(sizes)[:-1]
    return [np.array(p, copy=True) for p in np.split(value, cuts, axis=ax)]


# ----------------------------------------------------------------- Concat family

def _concat_shape_of(values, axis_spec, axis_name):
    """Concat's kernel checks (TF's texts) and output shape, from what is known: `values` are
    Specs holding values only for folding, `axis_spec` holds the axis' known value."""
    _n_min(values, 2)
    ash = axis_spec.shape
    if _known(ash) and not (len(ash) == 0 or (len(ash) == 1 and ash[0] == 1)):
        raise OpError(f"{axis_name} tensor should be a scalar integer, but got shape {fmt(ash)}",
                      port=axis_name)
    shapes = [v.shape for v in values]
    first = shapes[0]
    ax = _scalar(axis_spec)
    if ax is not None and first is not None:
        # TF's checks, in its order; stop where the first shape is not fully known (a later
        # error would not be certain to be TF's first)
        r = len(first)
        axn = ax + r if ax < 0 else ax
        if not 0 <= axn < r and ax != 0:
            raise OpError(f"ConcatOp : Expected concatenating dimensions in the range [{-r}, {r}), "
                          f"but got {ax}", port=axis_name)
        for i, s in enumerate(shapes):
            if not (_known(s) and _known(first)):
                break                 # TF's text prints both shapes: leave it to the run
            if len(s) == 0:
                raise OpError("ConcatOp : Can't concatenate scalars (use tf.stack instead)", port="values")
            if len(s) != r:
                raise OpError(f"ConcatOp : Ranks of all input tensors should match: shape[0] = "
                              f"{fmt(first)} vs. shape[{i}] = {fmt(s)}", port="values")
            for j in (j for j in range(r) if j != axn):
                if first[j] != s[j]:
                    raise OpError(f"ConcatOp : Dimension {j} in both shapes must be equal: shape[0] = "
                                  f"{fmt(first)} vs. shape[{i}] = {fmt(s)}", port="values")
    known = [s for s in shapes if s is not None]
    rank = len(known[0]) if known else None
    if rank is None or any(len(s) != rank for s in known):
        return None
    if ax is None:
        return (None,) * rank
    axn = ax + rank if ax < 0 else ax
    if not 0 <= axn < rank:
        return (None,) * rank
    shapes = [s if s is not None else (None,) * rank for s in shapes]
    out = []
    for j in range(rank):
        dims = [None if s is None else s[j] for s in shapes]
        if j == axn:
            out.append(None if None in dims else sum(dims))
        else:
            out.append(next((d for d in dims if d is not None), None))
    out = tuple(out)
    if _foldable(axis_spec, *values) and _known(out):
        return Spec(None, out, _concat([v.value for v in values], axis_spec.value))
    return out


def _concat(values, axis):
    ax = int(np.asarray(axis).reshape(-1)[0])
    ax = ax + values[0].ndim if ax < 0 else ax
    return np.concatenate(values, axis=ax)


def _concat_v2_shape(ctx):
    ctx.set_output("output", _concat_shape_of(_fold_spec(ctx, "values"), ctx.spec("axis"), "axis"))


def _concat_v1_shape(ctx):
    ctx.set_output("output", _concat_shape_of(_fold_spec(ctx, "values"), ctx.spec("concat_dim"),
                                              "concat_dim"))


@block("ConcatV2",
       inputs=[Input("values", dt.ALL, type_attr="T", list=True,
                     doc="at least 2 tensors of one rank"),
               Input("axis", dt.INDEX, type_attr="Tidx", doc="0-d: the dimension to join along")],
       outputs=[Output("output", "T")],
       shape=_concat_v2_shape)
def concat_v2(values, axis):
    """Join the `values` tensors along `axis` (the last input)."""
    return _concat(values, axis)


@block("Concat",
       inputs=[Input("concat_dim", I32, doc="0-d: the dimension to join along"),
               Input("values", dt.ALL, type_attr="T", list=True,
                     doc="at least 2 tensors of one rank")],
       outputs=[Output("output", "T")],
       shape=_concat_v1_shape)
def concat(concat_dim, values):
    """Join the `values` tensors along `concat_dim` (the first input; old form of ConcatV2)."""
    return _concat(values, concat_dim)


def _parallel_concat_shape(ctx):
    values, shape = ctx.shape("values"), ctx.attrs["shape"]
    _n_min(values, 1)
    if shape is not None and None in shape:
        raise OpError(f"Shape {fmt(shape)} is not fully defined")
    shape = () if shape is None else tuple(shape)
    if len(shape) < 1:
        raise OpError("value should be at least rank 1.")
    for i, s in enumerate(values):
        if shape[0] <= i:
            raise OpError(f"0th dimension of value = {shape[0]} must be greater than loc_ = {i}")
        if not _known(s):
            break                     # it may fail at run time: a later error is not TF's first
        if len(s) != len(shape):
            raise OpError(f"value and update shape doesn't match: {fmt(shape)} vs. {fmt(s)}", port="values")
        if any(d is not None and d != e for d, e in zip(s[1:], shape[1:])):
            raise OpError(f"value and update shape doesn't match {fmt(shape)} vs. {fmt(s)}", port="values")
        if s[0] is not None and s[0] != 1:
            raise OpError(f"update shape doesn't match: {fmt(s)}", port="values")
    ctx.set_output("output", shape)


@block("ParallelConcat",
       inputs=[Input("values", NO_QUANT, type_attr="T", list=True, doc="tensors with first dim 1")],
       attrs=[Attr("shape", "shape", doc="the output shape (fully known)")],
       outputs=[Output("output", "T")], shape=_parallel_concat_shape)
def parallel_concat(values, shape):
    """Stack the one-row `values` into a tensor of attr `shape` (rows past the inputs are 0).

    TF leaves rows past the inputs uninitialized; here they are zeros (empty strings, false)."""
    out = _fill(tuple(shape), None, values[0])
    for i, v in enumerate(values):
        out[i] = v[0]
    return out


# ----------------------------------------------------------------- Pack / Unpack

def _pack_shape(ctx):
    ctx.set_output("output", _pack_target(_fold_spec(ctx, "values"), ctx.attrs["axis"]))


def _pack_target(values, axis):
    """Pack's checks and output shape; `values` are Specs holding values only for folding."""
    _n_min(values, 1)
    shapes = [v.shape for v in values]
    first = shapes[0]

    def check_axis(r):
        er = r + 1
        a = axis + er if axis < 0 else axis
        if not 0 <= a < er:
            raise OpError(f"axis = {axis} not in [{-er}, {er})")
        return a

    if first is None:
        return None
    a = check_axis(len(first))
    if len(values) > 1 and _known(first):
        for i, s in enumerate(shapes):
            if not _known(s):
                break                 # it may differ at run time: a later mismatch is not TF's first
            if tuple(s) != tuple(first):
                raise OpError(f"Shapes of all inputs must match: values[0].shape = {fmt(first)} != "
                              f"values[{i}].shape = {fmt(s)}", port="values")
    known = [s for s in shapes if s is not None and len(s) == len(first)]
    merged = tuple(next((s[j] for s in known if s[j] is not None), None) for j in range(len(first)))
    out = merged[:a] + (len(values),) + merged[a:]
    if _foldable(*values) and _known(out):
        return Spec(None, out, np.stack([v.value for v in values], axis=a))
    return out


@block("Pack",
       inputs=[Input("values", dt.ALL, type_attr="T", list=True, doc="tensors of one shape")],
       attrs=[Attr("axis", "int", 0, doc="where the new dimension goes (negative counts from the end)")],
       outputs=[Output("output", "T")], shape=_pack_shape)
def pack(values, axis):
    """Stack the `values` tensors along a new dimension `axis`."""
    return np.stack(values, axis=axis)


def _unpack_axis(shape, axis, num):
    r = len(shape)
    a = axis + r if axis < 0 else axis
    if not 0 <= a < r:
        raise OpError(f"axis = {axis} not in [{-r}, {r})")
    if _known(shape) and shape[a] != num:
        raise OpError(f"Input shape axis {a} must equal {num}, got shape {fmt(shape)}", port="value")
    return a


def _unpack_shape(ctx):
    s, num = ctx.shape("value"), ctx.attrs["num"]
    if num == 0:
        ctx.set_output("output", [])      # TF runs no check when there is no output
    elif s is None:
        ctx.set_output("output", [None] * num)
    else:
        a = _unpack_axis(s, ctx.attrs["axis"], num)
        ctx.set_output("output", [tuple(s[:a]) + tuple(s[a + 1:])] * num)


@block("Unpack",
       inputs=[Input("value", NO_QUANT, type_attr="T")],
       attrs=[Attr("num", "int", min=0, doc="size of the dimension `axis` (= number of outputs)",
                   message="Value for attr 'num' of {value} must be at least minimum 0"),
              Attr("axis", "int", 0, doc="the dimension to unstack (negative counts from the end)")],
       outputs=[Output("output", "T", list=True)], shape=_unpack_shape)
def unpack(value, num, axis):
    """Unstack `value` along `axis` into `num` tensors of one rank less."""
    if num == 0:
        return []
    a = _unpack_axis(value.shape, axis, num)
    return [np.array(np.take(value, i, axis=a), copy=True) for i in range(num)]
