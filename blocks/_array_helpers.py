"""Constants and small helpers shared by the slicing, joining and padding block modules."""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Attr, Spec
from blockgraph.core.errors import OpError

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

def _scalar(spec):
    """The first element of a known value (a scalar or one-element index tensor), or None."""
    if spec is None or spec.value is None or np.size(spec.value) < 1:
        return None
    return int(np.asarray(spec.value).reshape(-1)[0])


def _fold_spec(ctx, port):
    """Input `port` of a shape function's `ctx` as a Spec holding its known value (a list of
    Specs for a list port) read with `ctx.fold_value`: not a recorded read, so only for
    computing an output's value (constant folding), never for a shape, dtype or error."""
    s = ctx.inputs[port]
    if type(s) is list:
        return [Spec(x.dtype, x.shape, ctx.fold_value(port, i)) for i, x in enumerate(s)]
    return Spec(s.dtype, s.shape, ctx.fold_value(port))


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
