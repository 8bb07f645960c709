"""ArgMax and ArgMin: the index of the largest / smallest value along one dimension.

TF's kernel (argmax_op.cc) checks that `dimension` is a scalar in [-rank, rank) and that the
axis is not empty, then runs Eigen's tuple reducer from (index 0, lowest value): an element
replaces the running best when it is greater (ArgMin: smaller), or equal with a smaller index.
So ties give the first index, NaN never wins (every comparison with it is false), values are
compared with denormals read as zero (DAZ), and an axis whose values are all NaN or all at
the type's lowest (ArgMin: highest) value gives 0. No gradient flows through them.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import DECLINE, Attr, Input, Kernel, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.gradients import no_gradient
from blockgraph.core.shapes import fmt

from .kernels import reduce_fused as fused
from .kernels.ieee import daz

ARG_T = ("float32", "float64", "int32", "uint8", "int16", "int8", "int64", "bool", "bfloat16",
         "uint16", "float16", "uint32", "uint64")


def _dimension(shape, dim_shape, dim_value):
    """TF's checks, in its order: (the axis, or None when not yet known)."""
    if dim_shape is not None and len(dim_shape) != 0:
        if any(d is None for d in dim_shape):
            return None
        raise OpError(f"dim must be a scalar, but received tensor of shape: {fmt(dim_shape)}",
                      port="dimension")
    if shape is None or dim_value is None:
        return None
    dim = int(np.asarray(dim_value).reshape(()))
    rank = len(shape)
    axis = dim + rank if dim < 0 else dim
    if not 0 <= axis < rank:
        raise OpError(f"Expected dimension in the range [{-rank}, {rank}), but got {dim}",
                      port="dimension")
    if shape[axis] == 0:
        raise OpError(f"Reduction axis {dim} is empty in shape {fmt(shape)}", port="input")
    if rank > 7:
        raise OpError(f"Argmax and Argmin only support up to 7 input dimensions, but got {rank}. "
                      f"Inputs shape: {fmt(shape)}", port="input")
    return axis


def _arg_shape(ctx):
    shape = ctx.shape("input")
    axis = _dimension(shape, ctx.shape("dimension"), ctx.value("dimension"))
    if axis is None:        # one dimension fewer, which one unknown
        ctx.set_output("output", (None,) * (len(shape) - 1) if shape else None)
        return
    ctx.set_output("output", shape[:axis] + shape[axis + 1:])


#: NumTraits<T>::highest() of the float types (the reducer starts from -highest / highest)
_HIGHEST = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38,
            "float32": float(np.finfo(np.float32).max), "float64": float(np.finfo(np.float64).max)}


def _keys(x, is_max):
    """(the values Eigen's reducer compares, NaN made unable to win; the value an element must
    beat to replace the reducer's initial (0, lowest))."""
    if x.dtype == np.bool_:
        return x.astype(np.int8), (0 if is_max else 1)
    if x.dtype.kind in "iu":
        info = np.iinfo(x.dtype)
        return x, (info.min if is_max else info.max)
    with np.errstate(invalid="ignore"):
        f = daz(x.astype(np.float32) if x.dtype.itemsize == 2 else x).astype(np.float64)
    top = _HIGHEST[dt.from_numpy(x.dtype)]
    f = np.where(np.isnan(f), -np.inf if is_max else np.inf, f)
    return f, (-top if is_max else top)


def _arg(x, dimension, is_max, output_type):
    axis = _dimension(x.shape, np.shape(dimension), dimension)
    k, floor = _keys(x, is_max)
    k = np.moveaxis(k, axis, -1)
    idx = np.argmax(k, -1) if is_max else np.argmin(k, -1)
    best = np.take_along_axis(k, idx[..., None], -1)[..., 0]
    beats = best > floor if is_max else best < floor
    out = np.where(beats, idx, 0)
    return out.astype(dt.NUMPY[output_type])


def _fused_arg(is_max, input, dimension, output_type):
    axis = _dimension(input.shape, np.shape(dimension), dimension)
    r = fused.fused_arg(is_max, input, axis)
    return DECLINE if r is None else r.astype(dt.NUMPY[output_type])


def _fused_arg_max(input, dimension, output_type):
    return _fused_arg(True, input, dimension, output_type)


def _fused_arg_min(input, dimension, output_type):
    return _fused_arg(False, input, dimension, output_type)


def _op(name, out_types, doc):
    fn = _fused_arg_max if name == "ArgMax" else _fused_arg_min
    return block(name, kernels=[Kernel("fused", fn, accepts=fused.accepts)], inputs=[Input("input", ARG_T, type_attr="T"),
                               Input("dimension", ("int32", "int16", "int64") if name == "ArgMax"
                                     else dt.INDEX, type_attr="Tidx",
                                     doc="the dimension to reduce (a scalar; negative from the end)")],
                 attrs=[Attr("output_type", "type", "int64", choices=out_types,
                             doc="dtype of the indices")],
                 outputs=[Output("output", "output_type")], shape=_arg_shape, doc=doc)


@_op("ArgMax", ("int16", "uint16", "int32", "int64"),
     "Index of the largest value along `dimension` (first on ties; NaN never wins).")
def arg_max(input, dimension, output_type):
    return _arg(input, dimension, True, output_type)


@_op("ArgMin", dt.INDEX, "Index of the smallest value along `dimension` (first on ties; NaN never wins).")
def arg_min(input, dimension, output_type):
    return _arg(input, dimension, False, output_type)


no_gradient("ArgMax", "ArgMin")
