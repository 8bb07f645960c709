"""TF's Softmax, LogSoftmax, the two softmax cross-entropies and L2Loss, step by step as its CPU
kernels evaluate them (softmax_op_functor.h, xent_op.h, sparse_xent_op.h, l2loss_op.cc).

Each elementary step runs in the dtype's arithmetic (float16/bfloat16: float32 rounded back
after every op; float32/float64: denormals flushed), and the sums along the class axis and
L2Loss's total are Eigen's reductions in Eigen's order (`blocks.kernels.reduce`). The row max
is Eigen's PropagateFast maximum: a row holding a NaN comes out all NaN whichever way it goes.
exp, log and 1/x are numpy's here (correctly rounded or within an ulp of it), where TF's
packets use Eigen's polynomials and rcpps: results are within an ulp or two of TF's per step.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt

from . import reduce as red
from .ieee import daz
from .reduce_ops import arith, bf16_round

F32 = np.dtype(np.float32)


class Elem:
    """Element-wise arithmetic of TF dtype `T`: values are held in `work` precision (float32
    for half types) and `r()` rounds a result to T (and flushes denormals as TF's threads do)."""

    def __init__(self, T):
        self.T = T
        self.storage = dt.NUMPY[T]
        self.work = np.dtype(np.float64) if T == "float64" else F32

    def r(self, a):
        if self.T == "float16":
            return np.asarray(a, F32).astype(np.float16).astype(F32)
        if self.T == "bfloat16":
            return daz(np.asarray(bf16_round(daz(np.asarray(a, F32)), packet=False), F32))
        return daz(np.asarray(a, self.work))

    def load(self, x):
        return daz(np.asarray(x, self.work))

    def store(self, a):
        return bf16_round(a, packet=False) if self.T == "bfloat16" else np.asarray(a).astype(self.storage)

    def exp(self, a):
        return self.r(np.exp(a))

    def log(self, a):
        return self.r(np.log(a))

    def row_sum(self, a):
        """Each row of `a` [B, C] summed as Eigen does (the sum along the class axis)."""
        s = self.store(a)
        if a.shape[1] == 0:
            return np.zeros(a.shape[0], self.work)
        return self.load(red.rows(arith("sum", self.T, s), s))


def _row_max(a):
    """The class-axis maximum (a NaN row gives NaN; empty rows -inf)."""
    if a.shape[1] == 0:
        return np.full(a.shape[0], -np.inf, a.dtype)
    return np.max(a, axis=1)


def softmax(logits, log: bool):
    """Softmax / LogSoftmax over the last axis of `logits` (rank >= 1, checked by the caller)."""
    if logits.size == 0:
        return np.empty_like(logits)
    T = dt.from_numpy(logits.dtype)
    e = Elem(T)
    x = e.load(logits.reshape(-1, logits.shape[-1]))
    with np.errstate(all="ignore"):
        shifted = e.r(x - _row_max(x)[:, None])
        if log:
            out = e.r(shifted - e.log(e.row_sum(e.exp(shifted)))[:, None])
        else:
            ex = e.exp(shifted)
            inv = e.r(1 / e.row_sum(ex))
            out = e.r(ex * inv[:, None])
    return e.store(out).reshape(logits.shape)


def xent(logits, labels):
    """SoftmaxCrossEntropyWithLogits of [B, C] logits and labels (already broadcast to one
    shape): (loss [B], backprop [B, C])."""
    T = dt.from_numpy(logits.dtype)
    e = Elem(T)
    B, C = logits.shape
    if B == 0:
        return np.empty((0,), logits.dtype), np.empty((0, C), logits.dtype)
    x, lab = e.load(logits), e.load(labels)
    with np.errstate(all="ignore"):
        bp = e.r(x - _row_max(x)[:, None])
        s = e.row_sum(e.exp(bp))
        terms = e.r(lab * e.r(e.log(s)[:, None] - bp))
        loss = e.row_sum(terms)
        back = e.r(e.r(e.exp(bp) / s[:, None]) - lab)
    return e.store(loss), e.store(back)


def sparse_xent(logits, labels):
    """SparseSoftmaxCrossEntropyWithLogits of [B, C] logits and valid [B] labels."""
    T = dt.from_numpy(logits.dtype)
    e = Elem(T)
    B, C = logits.shape
    if B == 0:
        return np.empty((0,), logits.dtype), np.empty((0, C), logits.dtype)
    x = e.load(logits)
    rows = np.arange(B)
    lab = np.asarray(labels, np.int64)
    with np.errstate(all="ignore"):
        bp = e.r(x - _row_max(x)[:, None])
        s = e.row_sum(e.exp(bp))
        v = e.r(e.log(s) - bp[rows, lab])
        loss = np.where(v == 0, 0, v)     # the sum of one value and zeros: -0 becomes +0
        back = e.r(e.exp(bp) / s[:, None])
        back[rows, lab] = e.r(back[rows, lab] - 1)
    return e.store(loss), e.store(back)


#: L2Loss's extra cost per coefficient in Eigen's cost model (x*x*0.5: two products a lane)
L2_COST = 2 / 8


def l2loss(t):
    """L2Loss: sum(t * t * 0.5) over every element, as one Eigen full reduction in T."""
    T = dt.from_numpy(t.dtype)
    e = Elem(T)
    x = e.load(t.reshape(-1))
    with np.errstate(all="ignore"):
        half = e.store(e.r(e.r(x * x) * e.work.type(0.5)))
    ar = arith("sum", T, half)
    cost = red.coeff_cost(t.dtype.itemsize, ar.P, L2_COST)
    with np.errstate(all="ignore"):
        out = red.full(ar, half, cost, red.tf_threads())
    out = np.asarray(out, dtype=t.dtype)
    return daz(out) if t.dtype.itemsize >= 4 else out
