"""Segment sums: UnsortedSegmentSum (the densifying step of TF's sparse gradients: a gathered
tensor's gradient is summed back into its rows with it, as TF's tape does)."""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Input, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.shapes import fmt
from blocks.kernels.ieee import daz

SEGMENT_TYPES = ("float32", "float64", "int32", "uint8", "int16", "int8", "complex64", "int64",
                 "bfloat16", "uint16", "complex128", "float16", "uint32", "uint64")


def _segment_shape(ctx):
    data, ids = ctx.shape("data"), ctx.shape("segment_ids")
    ns = ctx.shape("num_segments")
    if ns is not None and len(ns) != 0:
        raise OpError(f"num_segments should be a scalar, not shape {fmt(ns)}", port="num_segments")
    if data is not None and ids is not None and None not in data and None not in ids and \
            tuple(data[:len(ids)]) != tuple(ids):
        raise OpError(f"data.shape = {fmt(data)} does not start with segment_ids.shape = {fmt(ids)}",
                      port="segment_ids")
    n = ctx.value("num_segments")
    if n is not None and int(n) < 0:
        raise OpError(f"Input num_segments == {int(n)} must not be negative.", port="num_segments")
    if data is None or ids is None:
        ctx.set_output("output", None)
        return
    ctx.set_output("output", (None if n is None else int(n),) + tuple(data[len(ids):]))


@block("UnsortedSegmentSum",
       inputs=[Input("data", SEGMENT_TYPES, type_attr="T", doc="rows to sum"),
               Input("segment_ids", ("int16", "int32", "int64"), type_attr="Tindices",
                     doc="the segment of each row (negative: dropped)"),
               Input("num_segments", dt.INDEX, type_attr="Tnumsegments", doc="output rows (0-d)")],
       outputs=[Output("output", "T")], shape=_segment_shape)
def unsorted_segment_sum(data, segment_ids, num_segments):
    """output[j] = sum of the rows of `data` whose segment id is j (in row order, from zeros)."""
    n = int(num_segments)
    ids = segment_ids.reshape(-1)
    bad = np.flatnonzero(ids >= n)
    if bad.size:
        i = int(bad[0])
        raise OpError(f"segment_ids{_index(segment_ids.shape, i)} = {int(ids[i])} is out of range "
                      f"[0, {n})", port="segment_ids")
    rows = daz(data).reshape((ids.size,) + data.shape[segment_ids.ndim:])
    out = np.zeros((n,) + rows.shape[1:], data.dtype)
    keep = ids >= 0
    with np.errstate(all="ignore"):
        np.add.at(out, ids[keep], rows[keep])     # unbuffered, in row order: TF's sums
    return daz(out)


def _index(shape, flat: int) -> str:
    """TF's SliceDebugString: the multi-index of a flat position, [i,j]."""
    return "[" + ",".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]" if shape else "[]"
