"""StridedSlice spec resolution, as TF's `ValidateStridedSliceOp` (tensorflow/core/util/
strided_slice_op.cc), and the numpy kernels of StridedSlice, StridedSliceGrad and
TensorStridedSliceUpdate built on it.

`resolve` works on partial knowledge, as TF's shape function does: `begin`/`end` may be unknown
(None) and input dims may be unknown (None); `strides` and the input rank must be known. It raises
`OpError` with TF's kernel texts, in TF's order.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from blockgraph.core.errors import OpError
from blockgraph.core.shapes import fmt, int_list

_SHRINK, _NEW = -1, -2
#: Eigen's packet alignment in TF's x86 wheels (decides whether a rank > 8 slice of dim 0 works)
_ALIGN = 64
#: sizeof(tstring) in TF
_TSTRING = 24


@dataclass
class Resolved:
    """A slice spec made dense: one (begin, end, stride) per input dim, canonical when known."""
    begin: list
    end: list
    strides: list
    processing_shape: tuple     # one dim per input dim (shrunk dims are 1); None = unknown
    final_shape: tuple          # the output shape (new axes added, shrunk dims dropped)
    is_identity: bool
    slice_dim0: bool
    is_simple_slice: bool

    def slices(self):
        """numpy slices over the processing dims (every dim kept; valid when fully known)."""
        out = []
        for b, s, n in zip(self.begin, self.strides, self.processing_shape):
            if n == 0:
                out.append(slice(0, 0))
                continue
            stop = b + s * (n - 1) + (1 if s > 0 else -1)
            out.append(slice(b, None if stop < 0 else stop, s))
        return tuple(out)

    @property
    def num_elements(self):
        n = 1
        for d in self.processing_shape:
            if d is None:
                return None
            n *= d
        return n


def check_shapes(begin_shape, end_shape, strides_shape):
    """The kernel's check that begin, end and strides are 1-D of one size (< 32 for begin).

    Checked only when the three shapes are fully known (TF's text prints them)."""
    shapes = (begin_shape, end_shape, strides_shape)
    if any(s is None or None in s for s in shapes):
        return
    ns = strides_shape[0] if len(strides_shape) == 1 else None
    ok = (ns is not None and len(begin_shape) == 1 and begin_shape[0] == ns and ns < 32 and
          len(end_shape) == 1 and end_shape[0] == ns)
    if not ok:
        raise OpError("Expected begin, end, and strides to be 1D equal size tensors, but got shapes "
                      f"{fmt(begin_shape)}, {fmt(end_shape)}, and {fmt(strides_shape)} instead.")


def resolve(begin, end, strides, input_shape, begin_mask=0, end_mask=0, ellipsis_mask=0,
            new_axis_mask=0, shrink_axis_mask=0) -> Resolved | None:
    """Resolve a sparse slice spec against `input_shape` (TF's ValidateStridedSliceOp).

    begin, end: 1-D int sequences or None (unknown); strides: 1-D ints (known); input_shape: a
    tuple of int|None (rank known). Raises OpError with TF's texts. With partial knowledge an
    error is raised only if TF's kernel would raise that same one first; when an earlier dim might
    fail once its unknowns are known, the result is None (undecided).
    """
    begin, end, strides = int_list(begin), int_list(end), int_list(strides)
    if ellipsis_mask and ellipsis_mask & (ellipsis_mask - 1):
        raise OpError("Multiple ellipses in slice spec not allowed")
    # Step 1: count the new axes after the ellipsis; add an implicit ellipsis at the end
    n_sparse = len(strides)
    seen, new_after = False, 0
    for i in range(n_sparse):
        if seen and (new_axis_mask >> i) & 1:
            new_after += 1
        if (ellipsis_mask >> i) & 1:
            seen = True
    if not seen:
        ellipsis_mask |= 1 << n_sparse
        n_sparse += 1
    # Step 2: the dense spec, one entry per input dim
    rank = len(input_shape)
    d_begin, d_end, d_strides = [0] * rank, [0] * rank, [0] * rank
    d_bmask = d_emask = d_shrink = 0
    gather = []
    full = 0
    for i in range(n_sparse):
        bit = 1 << i
        if ellipsis_mask & bit:
            nxt = min(rank - (n_sparse - i) + 1 + new_after, rank)
            while full < nxt:
                d_begin[full] = d_end[full] = 0
                d_strides[full] = 1
                d_bmask |= 1 << full
                d_emask |= 1 << full
                gather.append(full)
                full += 1
        elif new_axis_mask & bit:
            gather.append(_NEW)
        else:
            if full == rank:
                if rank == 0:
                    raise OpError("Attempting to slice scalar input.")
                raise OpError(f"Index out of range using input dim {full}; input has only {rank} dims")
            if begin is not None:
                d_begin[full] = begin[i]
            if end is not None:
                d_end[full] = end[i]
            d_strides[full] = strides[i]
            if begin_mask & bit:
                d_bmask |= 1 << full
            if end_mask & bit:
                d_emask |= 1 << full
            if shrink_axis_mask & bit:
                gather.append(_SHRINK)
                d_shrink |= 1 << full
            else:
                gather.append(full)
            full += 1
    # Step 3: canonical begin/end, bounds checks and the processing shape
    begin_valid, end_valid = begin is not None, end is not None
    is_identity = slice_dim0 = is_simple = True
    processing = []
    undecided = False     # an earlier dim may still fail at run time (a shrink index not checked)

    def fail(message):
        if undecided:
            return None
        raise OpError(message)

    for i in range(rank):
        stride, dim = d_strides[i], input_shape[i]
        if stride == 0:
            return fail(f"strides[{i}] must be non-zero")
        shrink = bool((d_shrink >> i) & 1)
        if dim is None:
            if shrink and stride < 0:
                return fail("only stride 1 allowed on non-range indexing.")
            undecided |= shrink
            processing.append(1 if shrink else None)
            continue
        bmask, emask = bool((d_bmask >> i) & 1), bool((d_emask >> i) & 1)
        lo, hi = (0, dim) if stride > 0 else (-1, dim - 1)
        if shrink and stride <= 0:
            return fail("only stride 1 allowed on non-range indexing.")
        is_simple &= stride == 1
        both_masked = bmask and emask
        if begin_valid and end_valid:
            if shrink:
                fwd = d_begin[i] + dim if d_begin[i] < 0 else d_begin[i]
                d_begin[i], d_end[i] = fwd, fwd + 1
                if fwd < 0 or fwd >= dim:
                    return fail(f"slice index {fwd} of dimension {i} out of bounds.")
            else:
                d_begin[i] = _canonical(d_begin[i], bmask, stride, dim, lo, hi, 0)
                d_end[i] = _canonical(d_end[i], emask, stride, dim, lo, hi, 1)
            take_all = stride == 1 and d_begin[i] == 0 and d_end[i] == dim
            is_identity &= take_all
            slice_dim0 &= (i == 0 and stride == 1) or take_all
        else:
            undecided |= shrink
            is_identity &= stride == 1 and both_masked
            slice_dim0 &= (i == 0 and stride == 1) or both_masked
        length = None
        if begin_valid and end_valid:
            length = d_end[i] - d_begin[i]
        elif shrink:
            length = 1
        elif both_masked and dim >= 0:
            length = -dim if stride < 0 else dim
        if length is None:
            processing.append(None)
        elif length == 0 or (length < 0) != (stride < 0):
            processing.append(0)
        else:
            processing.append((abs(length) + abs(stride) - 1) // abs(stride))
    # Step 4: the final shape
    final = []
    for g in gather:
        if g >= 0:
            final.append(processing[g])
        elif g == _NEW:
            final.append(1)
    return Resolved(d_begin, d_end, d_strides, tuple(processing), tuple(final),
                    is_identity, slice_dim0, is_simple)


def _canonical(x, masked, stride, dim, lo, hi, c):
    if masked:
        # begin (c=0) of a forward slice starts at lo; end (c=1) stops at hi; reversed otherwise
        return (lo, hi)[c] if stride > 0 else (lo, hi)[1 - c]
    x = x + dim if x < 0 else x
    return lo if x < lo else hi if x > hi else x


def _itemsize(arr):
    return _TSTRING if arr.dtype == object else arr.dtype.itemsize


def strided_slice(x: np.ndarray, r: Resolved) -> np.ndarray:
    """StridedSlice of `x` by a fully known Resolved spec (a new array)."""
    if not r.is_identity and x.ndim > 8 and r.num_elements:
        aligned = r.slice_dim0 and (x.shape[0] == 0 or
                                    (x.size // x.shape[0] * _itemsize(x)) % _ALIGN == 0)
        if not aligned:
            raise OpError(f"Unhandled input dimensions {x.ndim}")
    return np.array(x[r.slices()], copy=True).reshape(r.final_shape)


def zeros(shape, like: np.ndarray) -> np.ndarray:
    """Zeros (empty strings for string tensors) of `like`'s numpy dtype."""
    if like.dtype == object:
        out = np.empty(shape, dtype=object)
        out.fill(b"")
        return out
    return np.zeros(shape, dtype=like.dtype)


def strided_slice_grad(shape, dy: np.ndarray, r: Resolved) -> np.ndarray:
    """Zeros of `shape` with `dy` scattered into the slice."""
    out = zeros(tuple(shape), dy)
    if len(r.processing_shape) == 0:
        return np.array(dy, copy=True).reshape(())
    out[r.slices()] = dy.reshape(r.processing_shape)
    return out


def broadcast_value(value_shape, final_shape):
    """The shape `value` takes in the slice (TF's StridedSliceAssignBCast), or None if invalid:
    leading dims beyond the slice's rank must be 1; the others equal or 1."""
    value_shape, final_shape = tuple(value_shape), tuple(final_shape)
    if len(value_shape) > len(final_shape):
        extra = len(value_shape) - len(final_shape)
        if any(d != 1 for d in value_shape[:extra]):
            return None
        value_shape = value_shape[extra:]
    else:
        value_shape = (1,) * (len(final_shape) - len(value_shape)) + value_shape
    for v, f in zip(value_shape, final_shape):
        if v != f and v != 1:
            return None
    return value_shape


def strided_slice_update(x: np.ndarray, value: np.ndarray, r: Resolved) -> np.ndarray:
    """A copy of `x` with `value` (broadcast to the slice's shape) written into the slice."""
    out = np.array(x, copy=True)
    if not r.num_elements:
        return out
    reshaped = broadcast_value(value.shape, r.final_shape)
    if reshaped is None:
        raise OpError(f"Cannot broadcast input shape {fmt(value.shape)} into final shape "
                      f"{fmt(r.final_shape)}")
    if len(r.processing_shape) > 8:
        raise OpError(f"Unhandled input dimensions {len(r.processing_shape)}")
    v = np.broadcast_to(value.reshape(reshaped), r.final_shape).reshape(r.processing_shape)
    out[r.slices()] = v
    return out
