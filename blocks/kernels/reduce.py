"""TF's reductions (Sum, Mean, Prod, Max, Min) in the order TF 2.21's CPU kernels compute them.

`ReductionOp::Compute` (reduction_ops_common.h) first simplifies the problem (`plan`: size-1
dims join their neighbours, adjacent reduced / kept dims merge), then reduces one of a few
shapes with Eigen (TensorReduction.h, ThreadPoolDevice, AVX packets):

- a vector to a scalar (`full`): Eigen's FullReducer splits it into as many blocks as its cost
  model gives threads (`threads`), reduces each, then adds the shards to the remainder's result;
- rows of a matrix (`rows`, also after TF's transpose for other shapes): each row by
  InnerMostDimReducer (sums: a tree of halves split on packet boundaries down to leaves of
  `P * LeafSize` values; a leaf: four packet accumulators, then packets, then a scalar tail);
- the middle axis of [A, B, C] (`middle`, and [B, C] reduced over B): output packets that fit
  in a row run InnerMostDimPreserver (four striped packet accumulators when B >= 16), the
  other outputs a plain scalar loop;
- axes 0 and 2 of [A, B, C] (`ends`): a scalar loop, the last axis outermost.

The arithmetic of each step is `reduce_ops`'s. Everything here is numpy; the fused kernels
(`reduce_fused`) compute the same sums in the same order.
"""
from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass

import numpy as np

from blockgraph.core.errors import OpError

from .ieee import daz
from .reduce_ops import arith


@dataclass(frozen=True)
class Plan:
    """TF's ReductionHelper::Simplify: the input viewed as `data_reshape` (runs of reduced and
    kept dims; `reduce_first`: the first run is reduced), the output as `out_reshape`."""
    data_reshape: tuple
    reduce_first: bool
    out_shape: tuple

    @property
    def ndims(self):
        return len(self.data_reshape)

    @property
    def trivial(self) -> bool:
        """Nothing to reduce: TF copies the input (reshaped)."""
        return self.ndims == 0 or (self.ndims == 1 and not self.reduce_first)

    @property
    def out_reshape(self) -> tuple:
        return tuple(self.data_reshape[int(self.reduce_first)::2])


def reduced_axes(shape, axes) -> list:
    """TF's checks of the axes, in its order: each in [-rank, rank), none repeated. Returns
    the axes made non-negative (in the given order)."""
    rank = len(shape)
    seen = []
    for a in np.asarray(axes).reshape(-1).tolist():
        a = int(a)
        if a < -rank or a >= rank:
            raise OpError(f"Invalid reduction dimension ({a} for input with {rank} dimension(s)",
                          port="axis")
        a = (a + rank) % rank
        if a in seen:
            raise OpError(f"Invalid reduction arguments: Axes contains duplicate dimension: {a}",
                          port="axis")
        seen.append(a)
    return seen


def out_shape(shape, axes, keep_dims) -> tuple:
    red = set(axes)
    return tuple(1 if i in red else d for i, d in enumerate(shape) if keep_dims or i not in red)


def plan(shape, axes, keep_dims=False) -> Plan:
    """TF's simplified reduction of an input of `shape` over `axes` (memoised: a page reduces
    the same shapes again and again)."""
    return _plan(tuple(shape), tuple(np.asarray(axes).reshape(-1).tolist()), bool(keep_dims))


@functools.lru_cache(maxsize=1024)
def _plan(shape, axes, keep_dims) -> Plan:
    axes = reduced_axes(shape, axes)
    bitmap = [i in axes for i in range(len(shape))]
    dims = list(shape)
    i = 0
    while i < len(dims) and dims[i] == 1:       # leading 1s are skipped
        i += 1
    reshape, first = [], True
    if i < len(dims):
        first = bitmap[i]
        reshape.append(dims[i])
        for j in range(i + 1, len(dims)):
            if dims[j] == 1:
                bitmap[j] = bitmap[j - 1]
            if bitmap[j - 1] != bitmap[j]:
                reshape.append(dims[j])
            else:
                reshape[-1] *= dims[j]
    return Plan(tuple(reshape), first, out_shape(shape, axes, keep_dims))


# ----------------------------------------------------------------------------- threads

def tf_threads() -> int:
    """TF's intra-op threads: the CPUs this process may run on (BLOCKGRAPH_TF_THREADS to
    reproduce another machine's TF)."""
    env = os.environ.get("BLOCKGRAPH_TF_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):      # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def threads(n: int, cost: float, max_threads: int) -> int:
    """TensorCostModel::numThreads for `n` coefficients of `cost` cycles each."""
    t = (n * cost - 100000) / 100000 + 0.9
    return max(1, min(max_threads, int(min(t, 2 ** 31 - 1))))


def coeff_cost(itemsize: int, P: int, extra: float = 0.0) -> float:
    """Cost per coefficient of a full reduction of a plain tensor: its load (11/64 cycles a
    byte) and the reducer's default functor cost 10, per packet lane; `extra` for an input
    expression (e.g. L2Loss's x*x*0.5)."""
    return itemsize * 11 / 64 + 10 / P + extra


# ----------------------------------------------------------------------------- Eigen's orders

@functools.lru_cache(maxsize=256)
def tree_plan(n: int, first: int, P: int, leaf: int):
    """(leaf starts relative to the first value, leaf lengths, combination program) of
    Eigen's InnerMostDimReducer over n values starting at flat index `first`."""
    starts, lens, prog = [], [], []

    def rec(off, m, f):
        if m <= P * leaf:
            prog.append(len(starts))
            starts.append(off)
            lens.append(m)
            return
        split = P * -(-(f + -(-m // 2)) // P)
        left = min(split - f, m)
        prog.append(-1)
        rec(off, left, f)
        prog.append(-2)
        if left < m:
            rec(off + left, m - left, split)
            prog.append(-2)

    rec(0, n, first)
    return (np.array(starts, np.int64), np.array(lens, np.int64), np.array(prog, np.int64))


def _leaf(ar, x):
    """InnerMostDimReducer<vectorized, no tree> of each row of x [B, n]."""
    B, n = x.shape
    P = ar.P
    p0, start = None, 0
    if n >= 4 * P:
        v4 = (n // (4 * P)) * (4 * P)
        blk = x[:, :v4].reshape(B, v4 // (4 * P), 4, P).transpose(0, 2, 1, 3)
        acc = ar.lanes(blk)
        p0 = ar.pop(ar.pop(ar.pop(acc[:, 0], acc[:, 1]), acc[:, 2]), acc[:, 3])
        start = v4
    if p0 is None:
        p0 = ar.full((B, P))
    if start <= n - P:
        v = (n // P) * P
        p0 = ar.lanes(x[:, start:v].reshape(B, (v - start) // P, P), acc=p0)
        start = v
    return ar.both(ar.scalars(x[:, start:]), p0)


def _tree(ar, x, first):
    """InnerMostDimReducer of rows that all start at flat index `first` (mod P): Eigen's tree
    for sums (halves split on a packet boundary of the flat index), the leaf loop otherwise."""
    n, P = x.shape[1], ar.P
    if ar.leaf is None or n <= P * ar.leaf:
        return _leaf(ar, x)
    split = P * -(-(first + -(-n // 2)) // P)
    left = min(split - first, n)
    acc = ar.comb(ar.full(x.shape[:1]), _tree(ar, x[:, :left], first))
    if left < n:
        acc = ar.comb(acc, _tree(ar, x[:, left:], split))
    return acc


def rows(ar, x):
    """Each row of x [R, C] reduced (row r starts at flat index r*C)."""
    R, C = x.shape
    out = np.empty(R, dtype=ar.dtype)
    first = (np.arange(R, dtype=np.int64) * C) % ar.P
    for f in np.unique(first):
        sel = first == f
        out[sel] = _tree(ar, x[sel], int(f))
    return out


def full(ar, x, cost, max_threads):
    """Eigen's FullReducer<ThreadPoolDevice> of the vector x."""
    n = x.shape[0]
    if n == 0:
        return ar.full(())
    nt = threads(n, cost, max_threads)
    if nt == 1:
        return _tree(ar, x[None], 0)[0]
    bs = n // nt
    nb = n // bs
    shards = [_tree(ar, x[None, i * bs:(i + 1) * bs], i * bs)[0] for i in range(nb)]
    acc = _tree(ar, x[None, nb * bs:], nb * bs)[0] if nb * bs < n else ar.full(())
    for s in shards:
        acc = ar.comb(acc, s)
    return acc


def _preserver(ar, cols):
    """InnerMostDimPreserver along the last axis of cols [N, B] (each a packet lane)."""
    N, B = cols.shape
    if B >= 16:
        u4 = (B // 4) * 4
        acc = ar.lanes(cols[:, :u4].reshape(N, u4 // 4, 4).transpose(0, 2, 1)[..., None])
        p = ar.pop(ar.pop(ar.pop(acc[:, 0], acc[:, 1]), acc[:, 2]), acc[:, 3])
        return ar.lanes(cols[:, u4:, None], acc=p)[:, 0] if u4 < B else p[:, 0]
    return ar.lanes(cols[:, :, None])[:, 0]


def middle(ar, x):
    """x [A, B, C] reduced over B, output [A, C] (flat o = a*C + c)."""
    A, B, C = x.shape
    P = ar.P
    cols = x.transpose(0, 2, 1).reshape(A * C, B)
    n = A * C
    o = np.arange(n)
    o0 = o - o % P
    packet = (o < n - n % P) & ((o0 % C) + P - 1 < C)
    out = np.empty(n, dtype=ar.dtype)
    if packet.any():
        out[packet] = _preserver(ar, cols[packet])
    if (~packet).any():
        out[~packet] = ar.scalars(cols[~packet])
    return out.reshape(A, C)


def ends(ar, x):
    """x [A, B, C] reduced over A and C (scalar loop, C outermost), output [B]."""
    A, B, C = x.shape
    return ar.scalars(x.transpose(1, 2, 0).reshape(B, C * A))


# ----------------------------------------------------------------------------- the op

def reduce(kind, x, axes, keep_dims=False, dtype_name=None, cost_extra=0.0, ar=None):
    """TF's reduction `kind` ("sum", "prod", "max", "min") of x over `axes` (TF's checks and
    errors), computed in Eigen's order with TF's arithmetic for `dtype_name` (x's dtype by
    default; bfloat16 sums are computed by the caller in float32). Returns (result, count):
    the result has the output shape, count is the number of values each output reduced."""
    from blockgraph.core import dtypes as dt
    dtype_name = dtype_name or dt.from_numpy(x.dtype)
    p = plan(x.shape, axes, keep_dims)
    count = x.size // max(1, math.prod(p.out_shape)) if x.size else 0
    if p.trivial:
        return x.copy().reshape(p.out_shape), count
    if x.dtype.kind in "fc":
        x = daz(x) if x.dtype.kind == "f" else x
    ar = ar or arith(kind, dtype_name, x)
    out_n = math.prod(p.out_reshape)
    if out_n == 0:
        return np.empty(p.out_shape, dtype=ar.dtype), count
    if x.size == 0:
        return ar.full(p.out_shape), count
    d, first = p.data_reshape, p.reduce_first
    xr = x.reshape(d)
    with np.errstate(all="ignore"):
        if p.ndims == 1:
            cost = coeff_cost(x.dtype.itemsize, ar.P, cost_extra)
            out = full(ar, xr, cost, tf_threads())
        elif p.ndims == 2 and first:
            out = middle(ar, xr.reshape(1, d[0], d[1]))
        elif p.ndims == 2:
            out = rows(ar, xr)
        elif p.ndims == 3 and first:
            out = ends(ar, xr)
        elif p.ndims == 3:
            out = middle(ar, xr)
        else:
            kept = list(range(int(first), p.ndims, 2))
            red = list(range(int(not first), p.ndims, 2))
            t = xr.transpose(kept + red)
            out = rows(ar, np.ascontiguousarray(t).reshape(out_n, -1))
    out = np.asarray(out)
    if out.dtype.kind == "f" and out.dtype.itemsize >= 4:
        out = daz(out)
    return out.reshape(p.out_shape), count
