"""Dtype changes and checks: Cast (value conversion, exact to TF's CPU kernel, see
`blocks/kernels/casts.py`), Bitcast (reinterpret the bytes) and CheckNumerics."""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Attr, Input, Output, block
from blockgraph.core.errors import OpError
from blocks.core import pass_through
from blocks.kernels import casts as kc

_BITCAST_TYPES = tuple(d for d in dt.ALL if d not in ("string", "bool"))
_STATIC_VALUE_LIMIT = 4096      # cast known values (shape-like tensors) already before the run

#: TF's DataType enum numbers (Bitcast's error text prints them)
_ENUM = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6, "string": 7,
         "complex64": 8, "int64": 9, "bool": 10, "qint8": 11, "quint8": 12, "qint32": 13,
         "bfloat16": 14, "qint16": 15, "quint16": 16, "uint16": 17, "complex128": 18,
         "float16": 19, "uint32": 22, "uint64": 23}


# ----------------------------------------------------------------------------- Cast

def _cast_shape(ctx):
    src, dst = ctx.attrs["SrcT"], ctx.attrs["DstT"]
    if src != dst and "string" in (src, dst):       # the kernel's constructor refuses the pair
        raise OpError(f"Cast {dt.tf_name(src)} to {dt.tf_name(dst)} is not supported")
    v = ctx.fold_value("x")         # only folded into the output's value
    if v is not None and np.size(v) <= _STATIC_VALUE_LIMIT:
        v = kc.cast(np.asarray(v), ctx.attrs["SrcT"], ctx.attrs["DstT"], ctx.attrs["Truncate"])
    else:
        v = None
    ctx.set_output("y", ctx.shape("x"), value=v)


@block("Cast",
       inputs=[Input("x", type_attr="SrcT", doc="a string converts only to a string")],
       attrs=[Attr("DstT", "type", doc="dtype to convert to"),
              Attr("Truncate", "bool", False,
                   doc="truncate instead of rounding when narrowing floats (TF's specialised pairs)")],
       outputs=[Output("y", "DstT")], shape=_cast_shape)
def cast(x, SrcT, DstT, Truncate):
    """Convert each element to dtype DstT as TF does (round to nearest even, C++ conversions)."""
    return kc.cast(x, SrcT, DstT, Truncate)


# ----------------------------------------------------------------------------- Bitcast

def _bitcast_shape(ctx):
    ctx.set_output("output", _bitcast_target(ctx.shape("input"), ctx.attrs["T"], ctx.attrs["type"]))


def _bitcast_target(shape, src, dst):
    n_in, n_out = dt.to_numpy(src).itemsize, dt.to_numpy(dst).itemsize
    if n_in == n_out:
        return shape
    if n_in > n_out:
        return None if shape is None else tuple(shape) + (n_in // n_out,)
    if shape is None:
        return None
    if len(shape) == 0 or (shape[-1] is not None and shape[-1] != n_out // n_in):
        raise OpError(f"Cannot bitcast from {_ENUM[src]} to {_ENUM[dst]}", port="input")
    return tuple(shape[:-1])


@block("Bitcast",
       inputs=[Input("input", _BITCAST_TYPES, type_attr="T")],
       attrs=[Attr("type", "type", choices=_BITCAST_TYPES, doc="dtype to reinterpret the bytes as")],
       outputs=[Output("output", "type")], shape=_bitcast_shape)
def bitcast(input, T, type):
    """Reinterpret the bytes as dtype `type`: a wider type eats the last dim, a narrower one adds one."""
    a = input if input.flags.c_contiguous else input.copy(order="C")
    n_in, out_np = a.dtype.itemsize, dt.to_numpy(type)
    if n_in == out_np.itemsize:
        return a.view(out_np)
    if n_in > out_np.itemsize:
        return a[..., None].view(out_np)
    return a.view(out_np).reshape(a.shape[:-1])


# ----------------------------------------------------------------------------- CheckNumerics

@block("CheckNumerics",
       inputs=[Input("tensor", dt.FLOATS, type_attr="T")],
       attrs=[Attr("message", "string", doc="prefix of the error raised on NaN/Inf")],
       outputs=[Output("output", "T")], shape=pass_through("tensor"))
def check_numerics(tensor, message):
    """Pass the tensor through; fail with `message` if it has any NaN or Inf."""
    f = tensor if tensor.dtype.kind == "f" and tensor.dtype.itemsize >= 4 else tensor.astype(np.float32)
    has_nan = bool(np.isnan(f).any())
    has_inf = bool(np.isinf(f).any())
    if has_inf or has_nan:
        what = "Inf and NaN" if has_inf and has_nan else ("Inf" if has_inf else "NaN")
        raise OpError(f"{message} : Tensor had {what} values", port="tensor")
    return tensor
