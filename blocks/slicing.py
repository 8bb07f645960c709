"""Slicing and reversing: Slice, StridedSlice (+Grad, +Update), ReverseV2, ReverseSequence —
exact to TF 2.21's CPU kernels.

Shape functions carry the kernels' checks with TF's texts (they also run on the real arrays before
each compute) and raise only what is certain from partial knowledge; small int32/int64 results
whose inputs are all known are passed on as known values (shape arithmetic, as TF's
`input_tensors_as_shapes`).
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Attr, Input, Output, Spec, block
from blockgraph.core.errors import OpError
from blockgraph.core.shapes import fmt, fully_known as _known, int_list
from blocks.kernels import strided_slice as ss
from blocks._array_helpers import (MASK_ATTRS, NO_Q16, NO_QUANT, SS_INDEX, _SS_MASKS, _fold_spec,
                                   _foldable, _itemsize)


# ----------------------------------------------------------------- Slice

def _slice_shape(ctx):
    ctx.set_output("output", _slice_target(ctx))


def _slice_target(ctx):
    """Slice's kernel checks and output shape (a Spec with the value when it folds)."""
    x, b, s = _fold_spec(ctx, "input"), ctx.spec("begin"), ctx.spec("size")
    rank, bs, zs = x.rank, b.shape, s.shape
    if rank is not None and _known(bs) and _known(zs) and not (
            len(bs) == 1 and len(zs) == 1 and bs[0] == rank and zs[0] == rank):
        raise OpError(f"Expected begin and size arguments to be 1-D tensors of size {rank}, but got "
                      f"shapes {fmt(bs)} and {fmt(zs)} instead.")
    lens = {v[0] for v in (bs, zs) if v is not None and len(v) == 1 and v[0] is not None}
    n = rank if rank is not None else (lens.pop() if len(lens) == 1 else None)
    begin, size = int_list(b.value), int_list(s.value)
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
    begin = int_list(begin)
    size = [d - b if s == -1 else s for d, b, s in zip(x.shape, begin, int_list(size))]
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


def _resolve(input_shape, ctx):
    """Resolve the slice spec as far as it is known: a kernels.strided_slice.Resolved or None."""
    b, e, s = ctx.spec("begin"), ctx.spec("end"), ctx.spec("strides")
    ss.check_shapes(b.shape, e.shape, s.shape)
    if input_shape is None or s.value is None or np.ndim(s.value) != 1:
        return None
    n = np.size(s.value)
    begin, end = ((v.value if v.value is not None and np.shape(v.value) == (n,) else None) for v in (b, e))
    if (b.value is not None and begin is None) or (e.value is not None and end is None):
        return None               # shapes disagree: the run reports it
    return ss.resolve(begin, end, s.value, tuple(input_shape), **_masks(ctx.attrs))


def _strided_slice_shape(ctx):
    x = _fold_spec(ctx, "input")
    r = _resolve(x.shape, ctx)
    if r is None:
        ctx.set_output("output", None)
    elif _known(r.final_shape) and _foldable(x, ctx.spec("begin"), ctx.spec("end"),
                                             ctx.spec("strides")):
        ctx.set_output("output", Spec(None, r.final_shape, ss.strided_slice(x.value, r)))
    else:
        ctx.set_output("output", r.final_shape)


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
    vals = int_list(spec.value)
    if vals is None:
        return None if spec.shape is None or len(spec.shape) != 1 or spec.shape[0] is None else \
            (None,) * spec.shape[0]
    for v in vals:
        if v < 0:
            raise OpError(f"Dimension {v} must be >= 0", port="shape")
    return tuple(vals)


def _strided_slice_grad_shape(ctx):
    out = _grad_out_shape(ctx.spec("shape"))
    r = _resolve(out, ctx)
    dy = ctx.shape("dy")
    if r is not None and _known(r.final_shape) and _known(dy) and tuple(dy) != r.final_shape:
        raise OpError(f"shape of dy was {fmt(dy)} instead of {fmt(r.final_shape)}", port="dy")
    ctx.set_output("output", out)


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
    shape = tuple(int_list(shape))
    r = ss.resolve(begin, end, strides, shape, begin_mask, end_mask, ellipsis_mask,
                   new_axis_mask, shrink_axis_mask)
    return ss.strided_slice_grad(shape, dy, r)


def _tensor_strided_slice_update_shape(ctx):
    x, v, attrs = ctx.shape("input"), ctx.shape("value"), ctx.attrs
    if attrs.get("T") in ("qint8", "quint8", "qint32"):
        raise OpError(f"Unsupported data type: {attrs['T']}", port="input")
    r = _resolve(x, ctx)
    if r is not None and r.num_elements and _known(r.final_shape) and _known(v):
        if ss.broadcast_value(v, r.final_shape) is None:
            raise OpError(f"Cannot broadcast input shape {fmt(v)} into final shape "
                          f"{fmt(r.final_shape)}", port="value")
    ctx.set_output("output", x)


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



# ----------------------------------------------------------------- ReverseV2 / ReverseSequence

def _reverse_axes(shape, axis_spec):
    """The kernel's checks of `axis` (TF's texts): the set of dims to reverse, or None if unknown.
    A scalar or empty tensor is returned as is without any check."""
    if shape is None or len(shape) == 0 or 0 in shape or None in shape:
        return None
    if axis_spec.shape is not None and len(axis_spec.shape) != 1:
        raise OpError(f"'dims' must be 1-dimension, not {len(axis_spec.shape)}", port="axis")
    r, dense = len(shape), set()
    for i, a in enumerate(int_list(axis_spec.value) or []):
        c = a + r if a < 0 else a
        if not 0 <= c < r:
            raise OpError(f"'axis'[{i}] = {a} is out of valid range [0, {r - 1}", port="axis")
        if c in dense:
            raise OpError(f"axis {c} specified more than once.", port="axis")
        dense.add(c)
    if r > 8:
        raise OpError("reverse is not implemented for tensors of rank > 8.")
    return None if axis_spec.value is None else tuple(sorted(dense))


def _reverse_shape(ctx):
    _reverse_axes(ctx.shape("tensor"), ctx.spec("axis"))
    ctx.set_output("output", ctx.shape("tensor"))


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


def _reverse_sequence_shape(ctx):
    _reverse_sequence_checks(ctx)
    ctx.set_output("output", ctx.shape("input"))


def _reverse_sequence_checks(ctx):
    """ReverseSequenceOp's checks, in its order, as far as they are certain (the output has the
    input's shape)."""
    sd, bd = ctx.attrs["seq_dim"], ctx.attrs["batch_dim"]
    if bd < 0:
        raise OpError(f"Invalid batch_dim {bd}")
    if sd < 0:
        raise OpError(f"Invalid seq_dim {sd}")
    lens = ctx.shape("seq_lengths")
    if lens is not None and len(lens) != 1:
        raise OpError(f"seq_lengths must be 1-dim, not {len(lens)}", port="seq_lengths")
    if bd == sd:
        raise OpError(f"batch_dim == seq_dim == {sd}")
    s = ctx.shape("input")
    if s is None:
        return
    r = len(s)
    if sd >= r:
        raise OpError(f"seq_dim must be < input rank ( {sd} vs. {r})")
    if bd >= r:
        raise OpError(f"batch_dim must be < input rank ( {bd} vs. {r})")
    n = None if lens is None else lens[0]
    if n is None or s[bd] is None:
        return                        # later checks are not certain to be TF's first
    if n != s[bd]:
        raise OpError(f"Length of seq_lengths != input.dims({bd}), ({n} vs. {s[bd]})", port="seq_lengths")
    vals = int_list(ctx.value("seq_lengths"))
    if vals is None or s[sd] is None:
        return
    for d, v in enumerate(vals):
        if v < 0:
            raise OpError(f"seq_lens({d}) < 0", port="seq_lengths")
        if v > s[sd]:
            raise OpError(f"seq_lens({d}) > input.dims({sd})", port="seq_lengths")
    if not 2 <= r <= 5:
        raise OpError(f"ReverseSequenceOp : Unhandled input dimensions: {r}")


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
