"""Fused multi-threaded Softmax (numba), bit-identical to `blocks.kernels.softmax.softmax`.

Kernels around the reference's own exp and 1/x (the same functions, so the same bits): one
pass per row for the row maximum and the shifted logits, exp over the whole tensor, one pass
per row for Eigen's sum of the row (the leaf loop of `reduce_fused`; rows longer than Eigen's
leaf are left to numpy), 1/sum, then the products. They run under FTZ|DAZ as TF's threads do.
The three row passes are serial (together about a third of exp's time on one core): the exp
is the one parallel region, so a busy machine delays one wake-up of the worker threads, not
four.
A row whose sum comes out NaN (NaN or infinite logits) hands the tensor back to numpy.
"""
from __future__ import annotations

import numpy as np

from .jit import Jit
from .reduce_fused import FTZ_DAZ, _lanes_max, _leaf, _mxcsr_intrinsics  # noqa: F401
from .reduce_ops import WIDTH
from .softmax import Elem

MIN_ELEMENTS = 1 << 16
_stmxcsr = _ldmxcsr = None


def _max_shift(x, out):
    """out[r] = x[r] - max(x[r]) (NaN is never the max: a NaN row's NaN comes out in the sum)."""
    for r in range(x.shape[0]):
        old = _stmxcsr()
        _ldmxcsr(old | FTZ_DAZ)
        row = x[r]
        m = _lanes_max(row)
        o = out[r]
        for j in range(row.size):
            o[j] = row[j] - m
        _ldmxcsr(old)


def _row_sums(ex, sums):
    """sums[r] = Eigen's sum of ex[r] (one leaf: rows no longer than a packet times 1024)."""
    for r in range(ex.shape[0]):
        old = _stmxcsr()
        _ldmxcsr(old | FTZ_DAZ)
        sums[r] = _leaf(ex[r])
        _ldmxcsr(old)


def _scale(ex, inv, out):
    """out[r] = ex[r] * inv[r]."""
    for r in range(ex.shape[0]):
        old = _stmxcsr()
        _ldmxcsr(old | FTZ_DAZ)
        row = ex[r]
        o = out[r]
        v = inv[r]
        for j in range(row.size):
            o[j] = row[j] * v
        _ldmxcsr(old)


_JIT = Jit(globals(), ("_leaf", "_lanes_max"), (),
           serial_only=("_max_shift", "_row_sums", "_scale"), extra=_mxcsr_intrinsics)


def _run(name, *args):
    _JIT.load()
    return _JIT.serial[name](*args)


def accepts(inputs, attrs) -> bool:
    x = inputs.get("logits")
    return (x is not None and x.dtype in (np.float32, np.float64) and x.size >= MIN_ELEMENTS
            and x.ndim >= 1 and x.shape[-1] <= WIDTH[x.dtype.name] * 1024 and _JIT.load())


def softmax(logits):
    """Softmax over the last axis, or None to hand the call back to numpy."""
    T = logits.dtype.name
    if logits.shape[-1] > WIDTH[T] * 1024:
        return None                     # Eigen's tree over long rows: left to numpy
    x = np.ascontiguousarray(logits).reshape(-1, logits.shape[-1])
    e = Elem(T)
    shifted = np.empty_like(x)
    _run("_max_shift", x, shifted)
    with np.errstate(all="ignore"):
        ex = np.ascontiguousarray(e.flat("Exp", shifted))
    sums = np.empty(x.shape[0], x.dtype)
    _run("_row_sums", ex, sums)
    if np.isnan(sums).any():
        return None
    with np.errstate(all="ignore"):
        inv = np.ascontiguousarray(e.flat("Reciprocal", sums), dtype=x.dtype)
    out = np.empty_like(x)
    _run("_scale", ex, inv, out)
    return out.reshape(logits.shape)
