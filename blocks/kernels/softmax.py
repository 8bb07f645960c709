"""TF's Softmax, LogSoftmax, the two softmax cross-entropies and L2Loss, step by step as its CPU
kernels evaluate them (softmax_op_functor.h, xent_op.h, sparse_xent_op.h, l2loss_op.cc).

Each elementary step runs in the dtype's arithmetic (float16/bfloat16: float32 rounded back
after every op; float32/float64: denormals flushed), and the sums along the class axis and
L2Loss's total are Eigen's reductions in Eigen's order (`blocks.kernels.reduce`). The row max
is Eigen's PropagateFast maximum: a row holding a NaN comes out all NaN whichever way it goes.
exp, log and 1/x are TF's (`blocks.kernels.eigen`: Eigen's packet polynomials and rcpps on the
positions TF evaluates as packets, the C library on the others), applied where TF applies them:
over the flat tensor (`flat`), inside the row sums (`rows`: the packet part of each of Eigen's
leaves) or one value at a time (`scalar`). Without that package, numpy's functions stand in
(within an ulp or two of TF's per step).
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt

from . import reduce as red
from .ieee import daz
from .reduce_ops import LEAF, WIDTH, arith, bf16_round

try:                                  # TF's transcendental kernels, packet and tail
    from .eigen import ops as _eigen
except ImportError:                   # pragma: no cover - the element-wise family's kernels
    _eigen = None

_NUMPY = {"Exp": np.exp, "Log": np.log, "Reciprocal": lambda a: 1 / a}

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
        return bf16_round(a, packet=False) if self.T == "bfloat16" else np.asarray(a, self.storage)

    def _kernel_out(self, a):
        """A result of TF's kernels (already flushed as TF's) in work precision."""
        return np.asarray(a, self.work)

    def _tables(self, op):
        return None if _eigen is None else _eigen.TABLES.get(self.T, {}).get(op)

    def flat(self, op, a):
        """TF's element-wise `op` over `a` as one flat tensor: packets, then the tail."""
        if self._tables(op) is None:
            return self._numpy(op, a)
        return self._kernel_out(_eigen.apply(op, self.T, np.ascontiguousarray(self.store(a))))

    def scalar(self, op, a):
        """`op` of each value by TF's scalar code (a generator or functor called per value)."""
        fns = self._tables(op)
        if fns is None:
            return self._numpy(op, a)
        return self._kernel_out(fns[1](np.ascontiguousarray(self.store(a)).reshape(-1))).reshape(a.shape)

    def rows(self, op, a):
        """`op` as evaluated inside Eigen's sum of each row of `a` [B, C]: packets on the packet
        part of every leaf of the row's reduction, the scalar code on the leaves' tails."""
        fns = self._tables(op)
        if fns is None:
            return self._numpy(op, a)
        packet, tail = fns
        mask = _packet_positions(a.shape[0], a.shape[1], self.T)
        s = np.ascontiguousarray(self.store(a))
        out = np.empty_like(s)
        with np.errstate(all="ignore"):
            if mask.any():
                out[mask] = packet(s[mask]) if packet is not None else tail(s[mask])
            if (~mask).any():
                out[~mask] = tail(s[~mask])
        return self._kernel_out(out)

    def _numpy(self, op, a):
        r = _NUMPY[op](a)
        if op == "Exp" and self.T in ("float32", "float64") and r.size and \
                np.min(r) >= np.finfo(r.dtype).tiny:
            return r                  # nothing to flush (exp is never negative; NaN fails >=)
        return self.r(r)

    def row_sum(self, a):
        """Each row of `a` [B, C] summed as Eigen does (the sum along the class axis)."""
        s = self.store(a)
        if a.shape[1] == 0:
            return np.zeros(a.shape[0], self.work)
        return self.load(red.rows(arith("sum", self.T, s), s))


def _packet_positions(B, C, T):
    """[B, C] mask of the values Eigen's InnerMostDimReducer reads as packets when summing each
    row (row b starts at flat index b*C: the tree's split points depend on it modulo P)."""
    P, leaf = WIDTH[T], LEAF.get(T, 1024)
    mask = np.zeros((B, C), bool)
    first = (np.arange(B, dtype=np.int64) * C) % P
    for f in np.unique(first):
        starts, lens, _ = red.tree_plan(C, int(f), P, leaf)
        row = np.zeros(C, bool)
        for s0, n in zip(starts.tolist(), lens.tolist()):
            row[s0:s0 + (n // P) * P] = True
        mask[first == f] = row
    return mask


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
            out = e.r(shifted - e.flat("Log", e.row_sum(e.rows("Exp", shifted)))[:, None])
        else:
            ex = e.flat("Exp", shifted)
            inv = e.flat("Reciprocal", e.row_sum(ex))
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
        s = e.row_sum(e.rows("Exp", bp))
        terms = e.r(lab * e.r(e.flat("Log", s)[:, None] - bp))
        loss = e.row_sum(terms)
        back = e.r(e.r(e.flat("Exp", bp) / s[:, None]) - lab)
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
        s = e.row_sum(e.rows("Exp", bp))
        v = e.r(e.scalar("Log", s) - bp[rows, lab])
        loss = np.where(v == 0, 0, v)     # the sum of one value and zeros: -0 becomes +0
        back = e.r(e.flat("Exp", bp) / s[:, None])
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
