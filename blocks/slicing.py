"""Slicing, joining, splitting, reversing and padding: Slice, StridedSlice (+Grad, +Update), Split,
SplitV, Concat, ConcatV2, ParallelConcat, Pack, Unpack, ReverseV2, ReverseSequence, Pad, PadV2,
MirrorPad — exact to TF 2.21's CPU kernels.

Shape functions carry the kernels' checks with TF's texts (they also run on the real arrays before
each compute) and raise only what is certain from partial knowledge; small int32/int64 results
whose inputs are all known are passed on as known values (shape arithmetic, as TF's
`input_tensors_as_shapes`).
"""
from __future__ import annotations

import numpy as np

from blockgraph import dtypes as dt
from blockgraph.registry import Attr, Input, OpError, Output, Spec, block
from blockgraph.shapes import fmt
from blocks.kernels import strided_slice as ss

NO_Q16 = tuple(d for d in dt.ALL if d not in ("qint16", "quint16"))
NO_QUANT = tuple(d for d in dt.ALL if d not in dt.QUANTIZED)
SPLIT_T = tuple(d for d in dt.ALL if d not in ("qint8", "qint16", "quint16", "qint32"))
SS_INDEX = ("int16", "int32", "int64")
SPLITV_LEN = ("int8", "int32", "int64")
I32 = ("int32",)
_FOLD_MAX = 4096
_SS_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")
MASK_ATTRS = [
    Attr("begin_mask", "int", 0, doc="bit i: ignore begin[i], start at the first (last if stride < 0)"),
    Attr("end_mask", "int", 0, doc="bit i: ignore end[i], run to the end (front if stride < 0)"),
    Attr("ellipsis_mask", "int", 0, doc="bit i: entry i is an ellipsis (at most one bit)"),
    Attr("new_axis_mask", "int", 0, doc="bit i: entry i inserts a new axis of size 1"),
    Attr("shrink_axis_mask", "int", 0, doc="bit i: entry i indexes (begin[i]) and drops the axis"),
]


# ----------------------------------------------------------------- helpers

def _ints(v):
    return None if v is None else [int(x) for x in np.asarray(v).reshape(-1).tolist()]


def _scalar(spec):
    """The first element of a known value (a scalar or one-element index tensor), or None."""
    if spec is None or spec.value is None or np.size(spec.value) < 1:
        return None
    return int(np.asarray(spec.value).reshape(-1)[0])


def _known(shape) -> bool:
    return shape is not None and all(d is not None for d in shape)


def _foldable(*specs) -> bool:
    """All values known, small, of an index dtype: worth computing in the shape function."""
    return all(s is not None and s.value is not None and s.dtype in dt.INDEX and
               np.size(s.value) <= _FOLD_MAX for s in specs)


def _n_min(values, least):
    if len(values) < least:
        raise OpError(f"Value for attr 'N' of {len(values)} must be at least minimum {least}",
                      port="values")


def _itemsize(arr) -> int:
    return 24 if arr.dtype == object else arr.dtype.itemsize   # sizeof(tstring) for strings


def _fill(shape, value, like: np.ndarray) -> np.ndarray:
    """An array of `shape` filled with `value` (None: TF's T(): 0, False, b'')."""
    if value is None:
        value = b"" if like.dtype == object else 0
    out = np.empty(shape, dtype=like.dtype)
    out[...] = value
    return out


# ----------------------------------------------------------------- Slice

def _slice_shape(inputs, attrs):
    x, b, s = inputs["input"], inputs["begin"], inputs["size"]
    rank, bs, zs = x.rank, b.shape, s.shape
    if rank is not None and _known(bs) and _known(zs) and not (
            len(bs) == 1 and len(zs) == 1 and bs[0] == rank and zs[0] == rank):
        raise OpError(f"Expected begin and size arguments to be 1-D tensors of size {rank}, but got "
                      f"shapes {fmt(bs)} and {fmt(zs)} instead.")
    lens = {v[0] for v in (bs, zs) if v is not None and len(v) == 1 and v[0] is not None}
    n = rank if rank is not None else (lens.pop() if len(lens) == 1 else None)
    begin, size = _ints(b.value), _ints(s.value)
    if size is not None and rank is None and len(lens) <= 1:
        return tuple(si if si >= 0 else None for si in size)
    if size is None or rank is None or len(size) != rank or (begin is not None and len(begin) != rank):
        return None if n is None else (None,) * n
    out, undecided = [], False    # undecided: an earlier dim may still fail at run time
    for i, si in enumerate(size):
        d = x.shape[i]
        bi = None if begin is None else begin[i]
        if si == -1:
            si = d - bi if d is not None and bi is not None else None
        if d is None or bi is None or si is None:
            undecided = True
        elif not undecided:
            if d == 0:
                if not (bi == 0 and si == 0):
                    raise OpError(f"Expected begin[{i}] == 0 (got {bi}) and size[{i}] == 0 (got {si}) "
                                  f"when input.dim_size({i}) == 0")
            else:
                if not 0 <= bi <= d:
                    raise OpError(f"Expected begin[{i}] in [0, {d}], but got {bi}")
                if not (0 <= si and bi + si <= d):
                    raise OpError(f"Expected size[{i}] in [0, {d - bi}], but got {si}")
        out.append(si if si is not None and si >= 0 else None)
    out = tuple(out)
    if _foldable(x, b, s) and _known(out):
        return Spec(None, out, _slice(x.value, begin, size))
    return out


def _slice(x, begin, size):
    begin = _ints(begin)
    size = [d - b if s == -1 else s for d, b, s in zip(x.shape, begin, _ints(size))]
    take = [b == 0 and s == d for b, s, d in zip(begin, size, x.shape)]
    if x.ndim > 8 and not all(take) and int(np.prod(size)) > 0:
        dim0 = all(take[1:]) and (x.shape[0] == 0 or (x.size // x.shape[0] * _itemsize(x)) % 64 == 0)
        if not dim0:
            raise OpError("SliceOp : Unhandled input dimensions")
    return np.array(x[tuple(slice(b, b + s) for b, s in zip(begin, size))], copy=True)


@block("Slice",
       inputs=[Input("input", NO_Q16, type_attr="T"),
               Input("begin", dt.INDEX, type_attr="Index", doc="start of the slice in each dim"),
               Input("size", dt.INDEX, type_attr="Index", doc="size in each dim (-1: to the end)")],
       outputs=[Output("output", "T")], shape=_slice_shape)
def slice_(input, begin, size):
    """Extract the block of `size` starting at `begin` (size -1 takes the rest of the dim)."""
    return _slice(input, begin, size)


# ----------------------------------------------------------------- StridedSlice family

def _masks(attrs):
    return {m: attrs[m] for m in _SS_MASKS}


def _resolve(input_shape, inputs, attrs):
    """Resolve the slice spec as far as it is known: a kernels.strided_slice.Resolved or None."""
    b, e, s = inputs["begin"], inputs["end"], inputs["strides"]
    ss.check_shapes(b.shape, e.shape, s.shape)
    if input_shape is None or s.value is None or np.ndim(s.value) != 1:
        return None
    n = np.size(s.value)
    begin, end = ((v.value if v.value is not None and np.shape(v.value) == (n,) else None) for v in (b, e))
    if (b.value is not None and begin is None) or (e.value is not None and end is None):
        return None               # shapes disagree: the run reports it
    return ss.resolve(begin, end, s.value, tuple(input_shape), **_masks(attrs))


def _strided_slice_shape(inputs, attrs):
    x = inputs["input"]
    r = _resolve(x.shape, inputs, attrs)
    if r is None:
        return None
    if _known(r.final_shape) and _foldable(x, inputs["begin"], inputs["end"], inputs["strides"]):
        return Spec(None, r.final_shape, ss.strided_slice(x.value, r))
    return r.final_shape


@block("StridedSlice",
       inputs=[Input("input", NO_Q16, type_attr="T"),
               Input("begin", SS_INDEX, type_attr="Index", doc="sparse spec: start of each entry"),
               Input("end", SS_INDEX, type_attr="Index", doc="sparse spec: end (exclusive) of each entry"),
               Input("strides", SS_INDEX, type_attr="Index", doc="sparse spec: step of each entry")],
       attrs=MASK_ATTRS, outputs=[Output("output", "T")], shape=_strided_slice_shape)
def strided_slice(input, begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask,
                  shrink_axis_mask):
    """Python-style slicing x[b0:e0:s0, ..., newaxis, i] of `input`, the spec given as tensors + masks."""
    r = ss.resolve(begin, end, strides, input.shape, begin_mask, end_mask, ellipsis_mask,
                   new_axis_mask, shrink_axis_mask)
    return ss.strided_slice(input, r)


def _grad_out_shape(spec):
    if _known(spec.shape) and len(spec.shape) != 1:
        raise OpError(f"shape must be 1-D, got shape.shape = {fmt(spec.shape)}", port="shape")
    vals = _ints(spec.value)
    if vals is None:
        return None if spec.shape is None or len(spec.shape) != 1 or spec.shape[0] is None else \
            (None,) * spec.shape[0]
    for v in vals:
        if v < 0:
            raise OpError(f"Dimension {v} must be >= 0", port="shape")
    return tuple(vals)


def _strided_slice_grad_shape(inputs, attrs):
    out = _grad_out_shape(inputs["shape"])
    r = _resolve(out, inputs, attrs)
    dy = inputs["dy"].shape
    if r is not None and _known(r.final_shape) and _known(dy) and tuple(dy) != r.final_shape:
        raise OpError(f"shape of dy was {fmt(dy)} instead of {fmt(r.final_shape)}", port="dy")
    return out


@block("StridedSliceGrad",
       inputs=[Input("shape", dt.INDEX, type_attr="Index", doc="shape of StridedSlice's input"),
               Input("begin", dt.INDEX, type_attr="Index"),
               Input("end", dt.INDEX, type_attr="Index"),
               Input("strides", dt.INDEX, type_attr="Index"),
               Input("dy", NO_Q16, type_attr="T", doc="gradient of StridedSlice's output")],
       attrs=MASK_ATTRS, outputs=[Output("output", "T")], shape=_strided_slice_grad_shape)
def strided_slice_grad(shape, begin, end, strides, dy, begin_mask, end_mask, ellipsis_mask,
                       new_axis_mask, shrink_axis_mask):
    """Gradient of StridedSlice: zeros of `shape` with `dy` placed where the slice was taken."""
    shape = tuple(_ints(shape))
    r = ss.resolve(begin, end, strides, shape, begin_mask, end_mask, ellipsis_mask,
                   new_axis_mask, shrink_axis_mask)
    return ss.strided_slice_grad(shape, dy, r)


def _tensor_strided_slice_update_shape(inputs, attrs):
    x, v = inputs["input"], inputs["value"]
    if attrs.get("T") in ("qint8", "quint8", "qint32"):
        raise OpError(f"Unsupported data type: {attrs['T']}", port="input")
    r = _resolve(x.shape, inputs, attrs)
    if r is not None and r.num_elements and _known(r.final_shape) and _known(v.shape):
        if ss.broadcast_value(v.shape, r.final_shape) is None:
            raise OpError(f"Cannot broadcast input shape {fmt(v.shape)} into final shape "
                          f"{fmt(r.final_shape)}", port="value")
    return x.shape


@block("TensorStridedSliceUpdate",
       inputs=[Input("input", NO_Q16, type_attr="T"),
               Input("begin", dt.INDEX, type_attr="Index"),
               Input("end", dt.INDEX, type_attr="Index"),
               Input("strides", dt.INDEX, type_attr="Index"),
               Input("value", NO_Q16, type_attr="T", doc="broadcast into the slice's shape")],
       attrs=MASK_ATTRS, outputs=[Output("output", "T")], shape=_tensor_strided_slice_update_shape)
def tensor_strided_slice_update(input, begin, end, strides, value, begin_mask, end_mask,
                                ellipsis_mask, new_axis_mask, shrink_axis_mask):
    """A copy of `input` whose strided slice (as StridedSlice) is replaced by `value`, broadcast."""
    r = ss.resolve(begin, end, strides, input.shape, begin_mask, end_mask, ellipsis_mask,
                   new_axis_mask, shrink_axis_mask)
    return ss.strided_slice_update(input, value, r)


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


def _split_shape(inputs, attrs):
    a, v, n = inputs["axis"], inputs["value"], attrs["num_split"]
    if a.shape is not None and len(a.shape) != 0:
        raise OpError(f"split_dim must be a scalar but has rank {len(a.shape)}", port="axis")
    if v.shape is None:
        return [[None] * n]
    ax = _split_axis(v.shape, _scalar(a))
    if ax is None:
        return [[(None,) * len(v.shape)] * n]
    d = v.shape[ax]
    if d is not None and d % n:
        raise OpError(f"Number of ways to split should evenly divide the split dimension, but got "
                      f"split_dim {ax} (size = {d}) and num_split {n}")
    out = list(v.shape)
    out[ax] = None if d is None else d // n
    return [[tuple(out)] * n]


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


def _splitv_shape(inputs, attrs):
    v, z, a, n = inputs["value"], inputs["size_splits"], inputs["axis"], attrs["num_split"]
    if _known(a.shape) and int(np.prod(a.shape)) != 1:
        raise OpError("split_dim_tensor must have exactly one element.", port="axis")
    if _known(z.shape) and (len(z.shape) != 1 or z.shape[0] != n):
        raise OpError("size of the split_tensor must be 1-D and have the same elements as outputs got "
                      f"{len(z.shape)} -D and {int(np.prod(z.shape))} elements", port="size_splits")
    if v.shape is None:
        return [[None] * n]
    ax = _split_axis(v.shape, _scalar(a))
    if ax is None:
        return [[(None,) * len(v.shape)] * n]
    sizes, d = _ints(z.value), v.shape[ax]
    if sizes is not None and d is not None:
        sizes = _split_sizes(sizes, d, n)
    elif sizes is not None:
        if n > 1 and sizes.count(-1) > 1:
            raise OpError("There can only be one -1 in the input.", port="size_splits")
        sizes = [s if s >= 0 else None for s in sizes]
    else:
        sizes = [None] * n
    return [[tuple(v.shape[:ax]) + (s,) + tuple(v.shape[ax + 1:]) for s in sizes]]


@block("SplitV",
       inputs=[Input("value", SPLIT_T, type_attr="T"),
               Input("size_splits", SPLITV_LEN, type_attr="Tlen", doc="size of each piece (one may be -1)"),
               Input("axis", I32, doc="0-d: the dimension to split (negative counts from the end)")],
       attrs=[NUM_SPLIT], outputs=[Output("output", "T", list=True)], shape=_splitv_shape)
def split_v(value, size_splits, axis, num_split):
    """Split `value` along `axis` into pieces of the given sizes (one size may be -1: the rest)."""
    ax = int(np.asarray(axis).reshape(-1)[0])
    ax = ax + value.ndim if ax < 0 else ax
    sizes = _split_sizes(_ints(size_splits), value.shape[ax], num_split)
    cuts = np.cumsum(sizes)[:-1]
    return [np.array(p, copy=True) for p in np.split(value, cuts, axis=ax)]


# ----------------------------------------------------------------- Concat family

def _concat_shape_of(values, axis_spec, axis_name):
    """Concat's kernel checks (TF's texts) and output shape, from what is known."""
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


def _concat_v2_shape(inputs, attrs):
    return _concat_shape_of(inputs["values"], inputs["axis"], "axis")


def _concat_v1_shape(inputs, attrs):
    return _concat_shape_of(inputs["values"], inputs["concat_dim"], "concat_dim")


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


def _parallel_concat_shape(inputs, attrs):
    values, shape = inputs["values"], attrs["shape"]
    _n_min(values, 1)
    if shape is not None and None in shape:
        raise OpError(f"Shape {fmt(shape)} is not fully defined")
    shape = () if shape is None else tuple(shape)
    if len(shape) < 1:
        raise OpError("value should be at least rank 1.")
    for i, v in enumerate(values):
        if shape[0] <= i:
            raise OpError(f"0th dimension of value = {shape[0]} must be greater than loc_ = {i}")
        s = v.shape
        if not _known(s):
            break                     # it may fail at run time: a later error is not TF's first
        if len(s) != len(shape):
            raise OpError(f"value and update shape doesn't match: {fmt(shape)} vs. {fmt(s)}", port="values")
        if any(d is not None and d != e for d, e in zip(s[1:], shape[1:])):
            raise OpError(f"value and update shape doesn't match {fmt(shape)} vs. {fmt(s)}", port="values")
        if s[0] is not None and s[0] != 1:
            raise OpError(f"update shape doesn't match: {fmt(s)}", port="values")
    return shape


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

def _pack_shape(inputs, attrs):
    values, axis = inputs["values"], attrs["axis"]
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


def _unpack_shape(inputs, attrs):
    s, num = inputs["value"].shape, attrs["num"]
    if num == 0:
        return [[]]           # TF runs no check when there is no output
    if s is None:
        return [[None] * num]
    a = _unpack_axis(s, attrs["axis"], num)
    return [[tuple(s[:a]) + tuple(s[a + 1:])] * num]


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


# ----------------------------------------------------------------- ReverseV2 / ReverseSequence

def _reverse_axes(shape, axis_spec):
    """The kernel's checks of `axis` (TF's texts): the set of dims to reverse, or None if unknown.
    A scalar or empty tensor is returned as is without any check."""
    if shape is None or len(shape) == 0 or 0 in shape or None in shape:
        return None
    if axis_spec.shape is not None and len(axis_spec.shape) != 1:
        raise OpError(f"'dims' must be 1-dimension, not {len(axis_spec.shape)}", port="axis")
    r, dense = len(shape), set()
    for i, a in enumerate(_ints(axis_spec.value) or []):
        c = a + r if a < 0 else a
        if not 0 <= c < r:
            raise OpError(f"'axis'[{i}] = {a} is out of valid range [0, {r - 1}", port="axis")
        if c in dense:
            raise OpError(f"axis {c} specified more than once.", port="axis")
        dense.add(c)
    if r > 8:
        raise OpError("reverse is not implemented for tensors of rank > 8.")
    return None if axis_spec.value is None else tuple(sorted(dense))


def _reverse_shape(inputs, attrs):
    _reverse_axes(inputs["tensor"].shape, inputs["axis"])
    return inputs["tensor"].shape


@block("ReverseV2",
       inputs=[Input("tensor", NO_QUANT, type_attr="T"),
               Input("axis", dt.INDEX, type_attr="Tidx", doc="1-D: the dimensions to reverse")],
       outputs=[Output("output", "T")], shape=_reverse_shape)
def reverse_v2(tensor, axis):
    """Reverse `tensor` along each dimension listed in `axis`."""
    axes = _reverse_axes(tensor.shape, Spec(None, np.shape(axis), axis))
    if not axes:
        return np.array(tensor, copy=True)
    return np.array(np.flip(tensor, axis=axes), copy=True)


def _reverse_sequence_shape(inputs, attrs):
    sd, bd = attrs["seq_dim"], attrs["batch_dim"]
    if bd < 0:
        raise OpError(f"Invalid batch_dim {bd}")
    if sd < 0:
        raise OpError(f"Invalid seq_dim {sd}")
    lens = inputs["seq_lengths"]
    if lens.shape is not None and len(lens.shape) != 1:
        raise OpError(f"seq_lengths must be 1-dim, not {len(lens.shape)}", port="seq_lengths")
    if bd == sd:
        raise OpError(f"batch_dim == seq_dim == {sd}")
    s = inputs["input"].shape
    if s is None:
        return None
    r = len(s)
    if sd >= r:
        raise OpError(f"seq_dim must be < input rank ( {sd} vs. {r})")
    if bd >= r:
        raise OpError(f"batch_dim must be < input rank ( {bd} vs. {r})")
    n = None if lens.shape is None else lens.shape[0]
    if n is None or s[bd] is None:
        return s                      # later checks are not certain to be TF's first
    if n != s[bd]:
        raise OpError(f"Length of seq_lengths != input.dims({bd}), ({n} vs. {s[bd]})", port="seq_lengths")
    vals = _ints(lens.value)
    if vals is None or s[sd] is None:
        return s
    for d, v in enumerate(vals):
        if v < 0:
            raise OpError(f"seq_lens({d}) < 0", port="seq_lengths")
        if v > s[sd]:
            raise OpError(f"seq_lens({d}) > input.dims({sd})", port="seq_lengths")
    if not 2 <= r <= 5:
        raise OpError(f"ReverseSequenceOp : Unhandled input dimensions: {r}")
    return s


@block("ReverseSequence",
       inputs=[Input("input", NO_QUANT, type_attr="T"),
               Input("seq_lengths", dt.INDEX, type_attr="Tlen", doc="1-D: length to reverse, per batch")],
       attrs=[Attr("seq_dim", "int", doc="the dimension reversed (not wrapped if negative)"),
              Attr("batch_dim", "int", 0, doc="the dimension seq_lengths runs along")],
       outputs=[Output("output", "T")], shape=_reverse_sequence_shape)
def reverse_sequence(input, seq_lengths, seq_dim, batch_dim):
    """Reverse the first seq_lengths[b] elements along `seq_dim` of each batch entry b."""
    r = input.ndim
    j = np.arange(input.shape[seq_dim]).reshape([-1 if k == seq_dim else 1 for k in range(r)])
    lens = np.asarray(seq_lengths, dtype=np.int64).reshape([-1 if k == batch_dim else 1 for k in range(r)])
    idx = np.where(j < lens, lens - 1 - j, j)
    idx = np.broadcast_to(idx, [input.shape[k] if k in (seq_dim, batch_dim) else 1 for k in range(r)])
    return np.array(np.take_along_axis(input, idx, axis=seq_dim), copy=True)


# ----------------------------------------------------------------- Pad family

def _pad_shape_of(x_shape, p, max_rank, sep, check):
    """Kernel checks shared by Pad, PadV2 and MirrorPad; the output shape."""
    r = None if x_shape is None else len(x_shape)
    ps = p.shape
    n = r if r is not None else (None if ps is None or len(ps) != 2 else ps[0])
    unknown = None if n is None else (None,) * n
    if r is None:
        return unknown                # the rank check comes first in TF
    if r > max_rank:
        raise OpError(f"inputs rank not in [0,{max_rank}]: {r}")
    if not _known(ps):
        return unknown
    if len(ps) != 2 or ps[1] != 2:
        raise OpError(f"paddings must be a matrix with 2 columns: {fmt(ps)}", port="paddings")
    if ps[0] != r:
        if not _known(x_shape):
            return unknown            # TF's text prints the input shape: leave it to the run
        raise OpError(f"The first dimension of paddings must be the rank of inputs{fmt(ps)}{sep}"
                      f"{fmt(x_shape)}", port="paddings")
    if p.value is None:
        return unknown
    out, undecided = [], False
    for (before, after), d in zip(np.asarray(p.value).reshape(-1, 2).tolist(), x_shape):
        if not undecided:
            undecided = check(int(before), int(after), d)
        out.append(None if d is None else int(before) + d + int(after))
    return tuple(out)


def _check_pad(before, after, d):
    if before < 0 or after < 0:
        raise OpError(f"Paddings must be non-negative: {before} {after}", port="paddings")


def _pad_shape(inputs, attrs):
    return _pad_shape_of(inputs["input"].shape, inputs["paddings"], 8, " ", _check_pad)


def _pad_v2_shape(inputs, attrs):
    x, ps = inputs["input"], inputs["paddings"].shape
    unknown = _pad_shape_of(x.shape, Spec(None, ps), 8, " ", _check_pad)   # shape checks come first
    passed = x.rank is not None and _known(ps) and len(ps) == 2 and ps[1] == 2 and ps[0] == x.rank
    cs = inputs["constant_values"].shape
    if not (passed and _known(cs)):
        return unknown                # the checks before the paddings' values are not all certain
    if len(cs) != 0:
        raise OpError(f"constant_values must be a scalar. Found: {fmt(cs)}", port="constant_values")
    return _pad_shape_of(x.shape, inputs["paddings"], 8, " ", _check_pad)


def _pad(input, paddings, value):
    pads = np.asarray(paddings).reshape(-1, 2).astype(np.int64)
    shape = tuple(int(b + d + a) for (b, a), d in zip(pads, input.shape))
    out = _fill(shape, value, input)
    out[tuple(slice(int(b), int(b) + d) for (b, _), d in zip(pads, input.shape))] = input
    return out


@block("Pad",
       inputs=[Input("input", NO_Q16, type_attr="T"),
               Input("paddings", dt.INDEX, type_attr="Tpaddings", doc="[rank, 2]: before and after each dim")],
       outputs=[Output("output", "T")], shape=_pad_shape)
def pad(input, paddings):
    """Pad `input` with zeros (empty strings, false): paddings[d] = [before, after] for dim d."""
    return _pad(input, paddings, None)


@block("PadV2",
       inputs=[Input("input", NO_Q16, type_attr="T"),
               Input("paddings", dt.INDEX, type_attr="Tpaddings", doc="[rank, 2]: before and after each dim"),
               Input("constant_values", NO_Q16, type_attr="T", doc="0-d: the pad value")],
       outputs=[Output("output", "T")], shape=_pad_v2_shape)
def pad_v2(input, paddings, constant_values):
    """Pad `input` with the scalar `constant_values`: paddings[d] = [before, after] for dim d."""
    return _pad(input, paddings, np.asarray(constant_values)[()])


def _mirror_check(mode):
    def check(before, after, d):
        if before < 0 or after < 0:
            raise OpError(f"paddings must be non-negative: {before} {after}", port="paddings")
        if d is None:
            return True               # may fail at run time: a later error is not TF's first
        if mode == "SYMMETRIC" and not (before <= d and after <= d):
            raise OpError(f"paddings must be no greater than the dimension size: {before}, {after} "
                          f"greater than {d}", port="paddings")
        if mode == "REFLECT" and not (before < d and after < d):
            raise OpError(f"paddings must be less than the dimension size: {before}, {after} not less "
                          f"than {d}", port="paddings")
    return check


def _mirror_pad_shape(inputs, attrs):
    return _pad_shape_of(inputs["input"].shape, inputs["paddings"], 5, ", ",
                         _mirror_check(attrs["mode"]))


@block("MirrorPad",
       inputs=[Input("input", NO_Q16, type_attr="T"),
               Input("paddings", dt.INDEX, type_attr="Tpaddings", doc="[rank, 2]: before and after each dim")],
       attrs=[Attr("mode", "string", choices=("REFLECT", "SYMMETRIC"),
                   doc="REFLECT mirrors without the edge (pad < dim); SYMMETRIC with it (pad <= dim)")],
       outputs=[Output("output", "T")], shape=_mirror_pad_shape)
def mirror_pad(input, paddings, mode):
    """Pad `input` with mirrored copies of itself: paddings[d] = [before, after] for dim d."""
    pads = np.asarray(paddings).reshape(-1, 2).tolist()
    shape = tuple(int(b) + d + int(a) for (b, a), d in zip(pads, input.shape))
    if int(np.prod(shape)) == input.size:
        return np.array(input, copy=True).reshape(shape)
    off = 1 if mode == "REFLECT" else 0
    out = input
    for k, (b, a) in enumerate(pads):
        n = input.shape[k]
        left = np.arange(int(b) - 1 + off, off - 1, -1) if b else np.zeros(0, np.int64)
        right = np.arange(n - 1 - off, n - 1 - off - int(a), -1) if a else np.zeros(0, np.int64)
        idx = np.concatenate([left, np.arange(n), right]).astype(np.int64)
        out = np.take(out, idx, axis=k)
    return np.array(out, copy=True)
