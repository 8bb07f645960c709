"""Scans: Cumsum and Cumprod (`exclusive`, `reverse`), with their gradients.

TF's kernel (scan_ops.cc) checks that `axis` is a scalar in [-rank, rank), then runs Eigen's
TensorScanOp: every line along the axis is accumulated strictly in order from 0 (1), whatever
the thread split, so float results are TF's bits: integers wrap, float32/float64 partial
results are flushed (FTZ), half types round after every step, and bfloat16 NaNs are +qNaN in
the packet columns (the first (stride // 8) * 8 positions after the axis) and keep their sign
in the others. Exclusive scans shift the results by one and start from 0 (1).
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Attr, Input, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.gradients import gradient
from blockgraph.core.shapes import fmt

from .kernels.ieee import daz
from .kernels.reduce_ops import BF16Arith, F32, F64, first_nan_step, nan_first
from .reductions import SUM_T


def _scan_axis(shape, axis_shape, axis_value):
    """TF's checks in its order: (the axis made non-negative, or None while unknown)."""
    if axis_shape is not None and len(axis_shape) != 0:
        if any(d is None for d in axis_shape):
            return None
        raise OpError(f"ScanOp: axis must be a scalar, not {fmt(axis_shape)}", port="axis")
    if shape is None or axis_value is None:
        return None
    a = int(np.asarray(axis_value).reshape(()))
    rank = len(shape)
    axis = a + rank if a < 0 else a
    if not 0 <= axis < rank:
        raise OpError(f"ScanOp: Expected scan axis in the range [{-rank}, {rank}), but got {axis}",
                      port="axis")
    return axis


def _scan_shape(ctx):
    _scan_axis(ctx.shape("x"), ctx.shape("axis"), ctx.value("axis"))
    ctx.set_output("out", ctx.shape("x"))


# ----------------------------------------------------------------------------- kernel

def _prefixes(kind, y):
    """The inclusive scan of y [outer, n, inner] along axis 1, step by step as TF computes it."""
    ufunc = np.add if kind == "sum" else np.multiply
    floats = y.dtype in (F32, F64)
    with np.errstate(all="ignore"):
        if y.dtype.kind == "c" and kind == "prod":
            return _loop(y, _cmul_step)
        steps = y.copy()
        steps[:, :1] = ufunc(y.dtype.type(0 if kind == "sum" else 1), y[:, :1])
        out = ufunc.accumulate(steps, axis=1)
    if floats:
        mag = np.abs(out)
        if ((mag < np.finfo(y.dtype).tiny) & (mag > 0)).any():
            return _loop(y, lambda a, b: daz(nan_first(ufunc(a, b), a, b)), ufunc)
    if y.dtype.kind == "f" and np.isnan(out).any():
        nan, hit = first_nan_step(steps, out, 1)
        after = np.isnan(out)
        out = np.where(after & hit[:, None, :], nan[:, None, :], out)
    return out


def _cmul_step(a, b):
    out = np.empty_like(b)
    out.real = a.real * b.real - a.imag * b.imag
    out.imag = a.real * b.imag + a.imag * b.real
    return out


def _loop(y, op, ufunc=None):
    """The scan one step at a time (flushing / complex products)."""
    out = np.empty_like(y)
    acc = None
    for i in range(y.shape[1]):
        if acc is None:
            acc = op(np.full_like(y[:, 0], 0 if ufunc is np.add else 1), y[:, 0])
        else:
            acc = op(acc, y[:, i])
        out[:, i] = acc
    return out


def _bf16_prefixes(kind, y):
    """bfloat16: float32 steps rounded back each time (packet columns: NaN -> +qNaN)."""
    ar = BF16Arith(kind)
    inner = y.shape[2]
    packet = np.arange(inner) < (inner // 8) * 8
    out = np.empty_like(y)
    acc = np.full(y[:, 0].shape, ar.init, dtype=y.dtype)
    for i in range(y.shape[1]):
        acc = np.where(packet, ar.pop(acc, y[:, i]), ar.sop(acc, y[:, i]))
        out[:, i] = acc
    return out


def scan(kind, x, axis, exclusive, reverse):
    """TF's Cumsum (kind "sum") / Cumprod ("prod") of x along `axis` (already checked)."""
    if x.size == 0:
        return x.copy()
    shape = x.shape
    y = x.reshape(int(np.prod(shape[:axis], dtype=np.int64)), shape[axis], -1)
    if reverse:
        y = y[:, ::-1]
    if x.dtype.kind in "iu":
        fn = np.cumsum if kind == "sum" else np.cumprod
        out = fn(y, axis=1, dtype=x.dtype)
    elif x.dtype == dt.NUMPY["bfloat16"]:
        out = _bf16_prefixes(kind, y)
    else:
        out = _prefixes(kind, daz(y) if y.dtype in (F32, F64) else y)
    if exclusive:
        out = np.concatenate([np.full_like(out[:, :1], 0 if kind == "sum" else 1),
                              out[:, :-1]], axis=1)
    if reverse:
        out = out[:, ::-1]
    return np.ascontiguousarray(out).reshape(shape)


def _op(name, kind, alias_doc):
    return block(name, inputs=[Input("x", SUM_T, type_attr="T"),
                               Input("axis", dt.INDEX, type_attr="Tidx",
                                     doc="the axis to scan (a scalar; negative from the end)")],
                 attrs=[Attr("exclusive", "bool", False, doc="leave each element out of its own result"),
                        Attr("reverse", "bool", False, doc="scan from the end of the axis")],
                 outputs=[Output("out", "T")], shape=_scan_shape, doc=alias_doc)


@_op("Cumsum", "sum", "Cumulative sum along `axis` (exclusive: without the element itself).")
def cumsum(x, axis, exclusive, reverse):
    return scan("sum", x, _scan_axis(x.shape, np.shape(axis), axis), exclusive, reverse)


@_op("Cumprod", "prod", "Cumulative product along `axis` (exclusive: without the element itself).")
def cumprod(x, axis, exclusive, reverse):
    return scan("prod", x, _scan_axis(x.shape, np.shape(axis), axis), exclusive, reverse)


# ----------------------------------------------------------------------------- gradients (TF's math_grad.py)

@gradient("Cumsum")
def _cumsum_grad(op, grad):
    return {"x": op.add("Cumsum", x=grad, axis=op.input("axis"), exclusive=op.attrs["exclusive"],
                        reverse=not op.attrs["reverse"])}


@gradient("Cumprod")
def _cumprod_grad(op, grad):
    ex, rev = op.attrs["exclusive"], op.attrs["reverse"]
    prod = op.add("Cumprod", x=op.input("x"), axis=op.input("axis"), exclusive=ex, reverse=rev)
    out = op.add("Cumsum", x=op.add("Mul", x=prod, y=grad), axis=op.input("axis"), exclusive=ex,
                 reverse=not rev)
    return {"x": op.add("DivNoNan", x=out, y=op.input("x"))}
