"""The arithmetic of Eigen's reducers on TF's CPU (AVX build), one object per reducer and dtype.

`blocks.kernels.reduce` walks Eigen's evaluation orders; what each step computes is here:
`pop(acc, p)` (a packet step, lane by lane), `sop(acc, t)` (a scalar step, Eigen's
`reducer.reduce(t, &acc)`), `predux(v)` (a packet's lanes combined by halving: lo op hi until
one lane is left, as AVX/SSE `predux*` do), `both(s, v)` (`finalizeBoth`), `init`, the packet
width `P` and the tree leaf (`leaf`, or None when Eigen does not use its tree reduction).

Semantics reproduced: float16 rounds to half after every op (Packet8h converts to float32 and
back); bfloat16 computes in float32 with DAZ/FTZ and rounds back after every op, a NaN result
being +qNaN 0x7fc0 in packets and sign|0x7fc0 in scalar code; float32/float64 results are
flushed (FTZ) and denormal inputs read as zero (DAZ). Max/Min (PropagateNaN): packet steps keep
the accumulator when it is NaN, else `max_ps(acc, p)` (a NaN or equal p wins, denormals come out
flushed; half packets keep the accumulator on ties); scalar steps return the NaN `t`, else the
NaN accumulator, else `std::max(t, acc)` (ties give `t`, bits untouched).
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt

from .ieee import daz

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
BF16 = dt.NUMPY.get("bfloat16")
#: packet width of each dtype (AVX: Packet8f, Packet4d, Packet8h, Packet8bf, Packet4cf, Packet2cd)
WIDTH = {"float32": 8, "float64": 4, "float16": 8, "bfloat16": 8, "complex64": 4, "complex128": 2}
#: Eigen's LeafSize<T>() of the tree reduction
LEAF = {"float16": 200, "bfloat16": 128}
#: below this magnitude a nonzero input may make a partial sum denormal (float32: 2^-102,
#: float64: 2^-969; every nonzero sum of larger values is a multiple of 2^-125 / 2^-1021)
SAFE_SUM = {F32: np.float32(2.0 ** -102), F64: np.float64(2.0 ** -969)}


def bf16_round(f, packet: bool):
    """float32 -> bfloat16 as Eigen rounds (to nearest even); a NaN becomes +qNaN 0x7fc0 in
    packets (F32ToBf16) and keeps its sign in scalar code."""
    out = np.asarray(f, F32).astype(BF16)
    if packet:
        nan = np.isnan(out)
        if nan.any():
            out = np.where(nan, np.uint16(0x7fc0).view(BF16), out)
    return out


def ftz(a):
    return daz(a)


_QUIET = {F16: (np.uint16, 0x0200), F32: (np.uint32, 0x00400000),
          F64: (np.uint64, 0x0008000000000000)}
#: the NaN an invalid operation (inf - inf, 0 * inf) gives: x86's default NaN
_DEFAULT_NAN = {F16: 0xfe00, F32: 0xffc00000, F64: 0xfff8000000000000}


def quiet(a):
    """NaNs with the quiet bit set (as an x86 arithmetic instruction returns an operand NaN)."""
    a = np.asarray(a)
    u, bit = _QUIET[a.dtype]
    return np.where(np.isnan(a), (a.view(u) | u(bit)).view(a.dtype), a)


def nan_first(r, a, b):
    """r = a op b with x86's NaN rule: the first operand's NaN (quieted), else the second's."""
    if r.dtype not in _QUIET or not np.isnan(r).any():
        return r
    r = np.where(np.isnan(b), quiet(b), r)
    return np.where(np.isnan(a), quiet(a), r)


def first_nan_step(steps, prefixes, axis):
    """The NaN a left-to-right accumulation ends with: made by the first step that gave a NaN
    (that step's operand NaN, quieted, or the default NaN of an invalid operation)."""
    nan = np.isnan(prefixes)
    k = np.argmax(nan, axis=axis)
    x = np.take_along_axis(steps, np.expand_dims(k, axis), axis)
    u = _QUIET[steps.dtype][0]
    default = np.array(_DEFAULT_NAN[steps.dtype], u).view(steps.dtype)
    return np.where(np.isnan(x), quiet(x), default).squeeze(axis), nan.any(axis=axis)


def _halve(v, op):
    """A packet's lanes combined as Eigen's predux does: op(lo, hi) until one lane is left."""
    while v.shape[-1] > 1:
        h = v.shape[-1] // 2
        v = op(v[..., :h], v[..., h:])
    return v[..., 0]


class Arith:
    """A reducer's arithmetic for one dtype (see the module docstring). The default `lanes` and
    `scalars` loop over the steps; subclasses vectorise them where the result is the same."""
    P = 8
    leaf = None
    init = 0

    def __init__(self, P, leaf=None):
        self.P, self.leaf = P, leaf

    def comb(self, acc, t):
        """reducer.reduce(t, &acc) on two partial results (tree halves, thread shards)."""
        return self.sop(acc, t)

    def predux(self, v):
        return _halve(v, self.pop)

    def both(self, s, v):
        return self.sop(s, self.predux(v))

    def full(self, shape):
        return np.full(shape, self.init, dtype=self.dtype)

    def lanes(self, x, acc=None):
        """acc = pop(acc, x[..., i, :]) for each i, from `acc` (default: init packets)."""
        acc = self.full(x.shape[:-2] + x.shape[-1:]) if acc is None else acc
        for i in range(x.shape[-2]):
            acc = self.pop(acc, x[..., i, :])
        return acc

    def scalars(self, x):
        """acc = sop(acc, x[..., i]) for each i, from init."""
        acc = self.full(x.shape[:-1])
        for i in range(x.shape[-1]):
            acc = self.sop(acc, x[..., i])
        return acc


# ----------------------------------------------------------------------------- sums, products

class Native(Arith):
    """Sum or product in float32/float64/float16/complex, where packet and scalar steps are the
    same IEEE operation. Sequential steps run as numpy accumulations (strictly left to right)
    unless `flush` (float32/float64 sums of inputs with tiny values: every partial sum is
    flushed); products check their accumulations for partial products TF would flush."""

    def __init__(self, kind, dtype, P, leaf=None, flush=False):
        super().__init__(P, leaf)
        self.kind, self.dtype = kind, np.dtype(dtype)
        self.init = 0 if kind == "sum" else 1
        self._ufunc = np.add if kind == "sum" else np.multiply
        flushing = self.dtype in (F32, F64)
        self._ftz = flushing and (flush or kind == "prod")
        self._accumulate = not (kind == "sum" and self._ftz) and not (
            kind == "prod" and self.dtype.kind == "c")

    def _op(self, a, b):
        with np.errstate(all="ignore"):
            if self.kind == "prod" and self.dtype.kind == "c":
                r = _cmul(a, b)
            else:
                r = nan_first(self._ufunc(a, b), a, b)
        return ftz(r) if self._ftz else r

    pop = sop = _op

    def _seq(self, x, axis, acc):
        if not self._accumulate:
            return None
        first = np.take(x, [0], axis=axis)
        with np.errstate(all="ignore"):
            first = self._ufunc(acc if acc is not None else self.dtype.type(self.init), first)
            steps = np.concatenate([first, np.delete(x, 0, axis=axis)], axis=axis)
            out = self._ufunc.accumulate(steps, axis=axis)
        if self._ftz:
            mag = np.abs(out)
            if ((mag < np.finfo(self.dtype).tiny) & (mag > 0)).any():
                return None            # a partial product TF flushes: step by step instead
        last = np.take(out, -1, axis=axis)
        if self.dtype in _QUIET and np.isnan(last).any():
            nan, hit = first_nan_step(steps, out, axis)
            last = np.where(hit, nan, last)
        return last

    def lanes(self, x, acc=None):
        if x.shape[-2] == 0:
            return self.full(x.shape[:-2] + x.shape[-1:]) if acc is None else acc
        got = self._seq(x, -2, None if acc is None else acc[..., None, :])
        return super().lanes(x, acc) if got is None else got

    def scalars(self, x):
        if x.shape[-1] == 0:
            return self.full(x.shape[:-1])
        got = self._seq(x, -1, None)
        return super().scalars(x) if got is None else got


def _cmul(a, b):
    """Complex a*b as Eigen's packets (and GCC's scalar code, for finite values) compute it."""
    re = a.real * b.real - a.imag * b.imag
    im = a.real * b.imag + a.imag * b.real
    out = np.empty(np.broadcast_shapes(np.shape(a), np.shape(b)), np.result_type(a, b))
    out.real, out.imag = re, im
    return out


class HalfPrecision(Native):
    """float16 sum/product: float32 arithmetic rounded to half after every step, and the packet
    reduction (predux) in float32, rounded once."""

    def predux(self, v):
        return _halve(v.astype(F32), np.add if self.kind == "sum" else np.multiply).astype(F16)


class BF16Arith(Arith):
    """bfloat16 sum/product (Packet8bf: float32 with DAZ/FTZ, rounded back after each step)."""
    dtype = BF16

    def __init__(self, kind, P=8, leaf=None):
        super().__init__(P, leaf)
        self.kind = kind
        self.init = 0 if kind == "sum" else 1
        self._ufunc = np.add if kind == "sum" else np.multiply

    def _f32(self, a, b):
        a, b = daz(np.asarray(a, F32)), daz(np.asarray(b, F32))
        with np.errstate(all="ignore"):
            return ftz(nan_first(self._ufunc(a, b), b, a))

    def pop(self, a, b):
        return bf16_round(self._f32(a, b), packet=True)

    def sop(self, a, b):
        """Scalar `bfloat16(float(acc) op float(t))`, compiled with t as the first operand (a
        NaN t wins over a NaN accumulator)."""
        return bf16_round(self._f32(a, b), packet=False)

    def predux(self, v):
        f = daz(np.asarray(v, F32))
        return bf16_round(_halve(f, lambda p, q: ftz(self._ufunc(p, q))), packet=False)


# ----------------------------------------------------------------------------- max, min

class MinMax(Arith):
    """Max/Min with NaN propagation (TF's Max/Min kernels: MaxReducer<T, PropagateNaN>)."""

    def __init__(self, is_max, dtype, P):
        super().__init__(P)
        self.is_max, self.dtype = is_max, np.dtype(dtype)
        self.half = self.dtype in (F16, BF16)
        self.flushes = self.dtype in (F32, F64, BF16)    # packet results come out flushed
        self.init = -np.inf if is_max else np.inf

    def _key(self, a):
        """The values comparisons see (DAZ applies to float32/float64/bfloat16)."""
        f = np.asarray(a, F32) if self.half else a
        return daz(f) if self.flushes else f

    def _better(self, a, b):
        """a > b (Max) or a < b (Min), on the compared values."""
        ka, kb = self._key(a), self._key(b)
        return ka > kb if self.is_max else ka < kb

    def _flushed(self, a):
        """Denormals made zeros of their sign (a max_ps/min_ps result); NaNs untouched."""
        if self.dtype != BF16:
            return daz(a)
        bits = np.asarray(a, BF16).view(np.uint16)
        sub = ((bits & 0x7f80) == 0) & ((bits & 0x7f) != 0)
        return np.where(sub, bits & 0x8000, bits).astype(np.uint16).view(BF16) if sub.any() else a

    def pop(self, acc, p):
        acc, p = np.asarray(acc, self.dtype), np.asarray(p, self.dtype)
        if self.half:      # pmax<PropagateNaN> generic: pselect around float2half(max_ps(p, acc))
            pick = np.where(self._better(p, acc), p, acc)
        else:              # max_ps(acc, p): acc if acc > p, else p (a NaN p, ties)
            pick = np.where(self._better(acc, p), acc, p)
        if self.flushes:
            pick = self._flushed(pick)
        pick = np.where(np.isnan(p), p, pick)
        return np.where(np.isnan(acc), acc, pick)

    def sop(self, acc, t):
        """op(t, acc): t if NaN, acc if NaN, else std::max(t, acc) = (t < acc) ? acc : t."""
        acc, t = np.asarray(acc, self.dtype), np.asarray(t, self.dtype)
        out = np.where(self._better(acc, t), acc, t)
        out = np.where(np.isnan(acc), acc, out)
        return np.where(np.isnan(t), t, out)

    def both(self, s, v):
        """op(s, predux(v)): s if NaN, the packet result if NaN, else std::max(s, r) (ties: s)."""
        r = self.predux(v)
        s = np.asarray(s, self.dtype)
        out = np.where(self._better(r, s), r, s)
        out = np.where(np.isnan(r), r, out)
        return np.where(np.isnan(s), s, out)

    def predux(self, v):
        if not self.half:
            return _halve(v, self.pop)
        # halves and bfloat16: in float32 (half2float quiets a signalling NaN), rounded once
        f = np.asarray(quiet(v) if self.dtype == F16 else v, F32)
        f32 = MinMax(self.is_max, F32, self.P)
        return _to(_halve(f, f32.pop), self.dtype)

    def lanes(self, x, acc=None):
        if acc is not None:
            return super().lanes(x, acc)
        # first NaN of a lane wins; else the best value, ties to the last (float32/64: the new
        # p wins) or the first (halves: the accumulator wins); packet results come out flushed
        return self._select(x, -2, nan_last=False, tie_last=not self.half, flushed=self.flushes)

    def scalars(self, x):
        # the last NaN wins; else the best value, ties to the last; bits untouched
        return self._select(x, -1, nan_last=True, tie_last=True, flushed=False)

    def _select(self, x, axis, nan_last, tie_last, flushed):
        x = np.moveaxis(np.asarray(x, self.dtype), axis, -1)
        n = x.shape[-1]
        if n == 0:
            return self.full(x.shape[:-1])
        key = np.asarray(self._key(x), np.float64)
        nan = np.isnan(key)
        key = np.where(nan, -np.inf if self.is_max else np.inf, key)
        best = key.max(-1, keepdims=True) if self.is_max else key.min(-1, keepdims=True)
        hit = key == best
        idx = n - 1 - np.argmax(hit[..., ::-1], -1) if tie_last else np.argmax(hit, -1)
        if nan.any():
            nidx = n - 1 - np.argmax(nan[..., ::-1], -1) if nan_last else np.argmax(nan, -1)
            idx = np.where(nan.any(-1), nidx, idx)
        out = np.take_along_axis(x, idx[..., None], -1)[..., 0]
        return self._flushed(out) if flushed else out


def _to(f, dtype):
    """float32 -> half/bfloat16 as Eigen's scalar static_cast (bfloat16: NaN keeps its sign)."""
    return bf16_round(f, packet=False) if dtype == BF16 else np.asarray(f, F32).astype(dtype)


# ----------------------------------------------------------------------------- choosing one

def arith(kind: str, dtype_name: str, x=None) -> Arith:
    """The arithmetic of reducer `kind` ("sum", "prod", "max", "min") for TF dtype
    `dtype_name`; `x` (the values to reduce) decides whether float sums must flush each step."""
    P = WIDTH[dtype_name]
    if kind in ("max", "min"):
        return MinMax(kind == "max", dt.NUMPY[dtype_name], P)
    tree = kind == "sum"                       # Eigen's tree: sums of non-integers only
    leaf = LEAF.get(dtype_name, 1024) if tree else None
    if dtype_name == "bfloat16":
        return BF16Arith(kind, P, leaf)
    npd = dt.NUMPY[dtype_name]
    if dtype_name == "float16":
        return HalfPrecision(kind, npd, P, leaf)
    flush = False
    if kind == "sum" and x is not None and npd in SAFE_SUM:
        mag = np.abs(x)
        flush = bool(((mag < SAFE_SUM[npd]) & (mag > 0)).any())
    return Native(kind, npd, P, leaf, flush=flush)
