"""Quantize / dequantize arithmetic exactly as TensorFlow's reference (Eigen, non-oneDNN) CPU
kernels: `quantize_op.cc`, `dequantize_op.cc`, `quantize_and_dequantize_op.h`,
`quantization_utils.h` (QUANTIZE_WITH_EIGEN / DEQUANTIZE_WITH_EIGEN) and
`quantized_instance_norm.cc`.

Every step is done in the kernel's precision (float32, or the double constants TF computes once)
and in its order. TF runs with denormals flushed (FTZ/DAZ), so `ftz` is applied to inputs and to
results of float arithmetic. Rounding: `.round()` is `std::round` (half away from zero), "half to
even" is an exact `rint`, "half up" is `floor(x + 0.5)` in the tensor's type. Quantized values are
held on their integer base type (quint8 -> uint8, ...).
"""
from __future__ import annotations

import numpy as np

from blocks.kernels.casts import INTRA_OP_THREADS, parallel_ranges

F32 = np.float32
F64 = np.float64
FLT_MAX = F32(np.finfo(F32).max)

#: TF quantized type -> (lowest, highest, bits, numpy base type)
QINFO = {
    "qint8": (-128, 127, 8, np.int8), "quint8": (0, 255, 8, np.uint8),
    "qint16": (-32768, 32767, 16, np.int16), "quint16": (0, 65535, 16, np.uint16),
    "qint32": (-2**31, 2**31 - 1, 32, np.int32),
}


# ----------------------------------------------------------------- float helpers

def ftz(a, dtype=F32):
    """Flush denormals to zero of the same sign (x86 FTZ/DAZ), keeping `dtype`."""
    a = np.asarray(a, dtype=dtype)
    mag = np.abs(a)
    bad = (mag < np.finfo(a.dtype).tiny) & (mag > 0)
    if bad.any():
        a = np.where(bad, np.copysign(a.dtype.type(0), a), a).astype(a.dtype)
    return a


def s32(v) -> np.float32:
    """A float32 scalar, denormals flushed."""
    return F32(ftz(F32(v))[()])


def cmin(a, b):
    """`std::min(a, b)`: `(b < a) ? b : a` (a NaN `b` is ignored, a NaN `a` kept)."""
    return b if b < a else a


def cmax(a, b):
    """`std::max(a, b)`: `(a < b) ? b : a`."""
    return b if a < b else a


def round_half_away(a):
    """`std::round`: half-way cases away from zero (exact in any float type)."""
    a = np.asarray(a)
    t = np.trunc(a)
    return np.where(np.abs(a - t) >= a.dtype.type(0.5), t + np.sign(a), t).astype(a.dtype)


def round_half_up(a):
    """TF's `scalar_round_up_op`: `floor(x + 0.5)` in the tensor's type."""
    a = np.asarray(a)
    return np.floor(a + a.dtype.type(0.5))


# ----------------------------------------------------------------- float -> quantized casts

def cvtt_i32(v):
    """float -> int32 as x86 `cvttss2si`: truncation; NaN and out-of-range give INT_MIN."""
    v = np.asarray(v, F64)
    ok = (v > -2147483649.0) & (v < 2147483648.0)
    out = np.full(v.shape, -2**31, np.int64)
    out[ok] = np.trunc(v[ok]).astype(np.int64)
    return out


def narrow(v, qtype):
    """int64 values wrapped to the quantized type's base integer (C's truncating cast)."""
    return np.asarray(v, np.int64).astype(QINFO[qtype][3])


def float_to_q(v, qtype, chunk=8, shards=None):
    """Eigen's `cast<T>()` from float for a quantized T, on a flat slice in evaluation order.

    qint32 goes through `lrint` (64-bit, then wrapped: NaN gives 0). The narrower types truncate
    through int32; a NaN gives 0 on the scalar path but the type's lowest value on the packet
    path (saturating packs). Each of the `shards` (the [first, last) ranges of Eigen's
    parallelFor; default one range) runs packets from its first element: its first
    `(last - first) // chunk * chunk` elements are packed (chunk 8 = one AVX packet; 32 after
    the half-to-even unaryExpr, where only the 4-packet loop packs), the rest one by one.
    """
    v = np.asarray(v, F32)
    if qtype != "qint32":
        out = narrow(cvtt_i32(v), qtype)
        lo = QINFO[qtype][0]
        if lo < 0 and v.size >= chunk:
            flat, vf = out.reshape(-1), v.reshape(-1)
            for a, b in shards or [(0, v.size)]:
                n = a + (b - a) // chunk * chunk
                nan = np.isnan(vf[a:n])
                if nan.any():
                    flat[a:n][nan] = lo
        return out
    d = v.astype(F64)
    ok = np.isfinite(d) & (np.abs(d) < 2.0 ** 63)
    out = np.zeros(d.shape, np.int64)
    out[ok] = np.rint(d[ok]).astype(np.int64)
    return narrow(out, qtype)


#: Eigen's compute cost per element (cycles) of QuantizeV2's expressions, measured on TF 2.21 by
#: where its parallelFor ranges fall; the cost model adds 11/64 per byte read and written
_QUANTIZE_COMPUTE = {"MIN_COMBINED": 8.375, "HALF_AWAY_FROM_ZERO": 6.375, "HALF_TO_EVEN": 9.375}


def _quantize_shards(n, qtype, key):
    """The ranges Eigen's thread pool hands out for QuantizeV2's whole-tensor expression."""
    cost = (4 + QINFO[qtype][3]().itemsize) * 11.0 / 64 + _QUANTIZE_COMPUTE[key]
    return parallel_ranges(n, cost, INTRA_OP_THREADS)


# ----------------------------------------------------------------- QUANTIZE/DEQUANTIZE_WITH_EIGEN

class F2Q:
    """`FloatToQuantizedStruct<T>(range_min, range_max)`."""

    def __init__(self, qtype, range_min, range_max):
        lo, hi, bits, _ = QINFO[qtype]
        self.qtype = qtype
        rmin, rmax = s32(range_min), s32(range_max)
        with np.errstate(all="ignore"):
            self.range_scale = F32(0.0) if rmax == rmin else s32(
                (2.0 ** bits - 1.0) / F64(s32(rmax - rmin)))
            self.range_min_scaled = s32(round_half_away(s32(rmin * self.range_scale)))
        self.lowest = F32(lo)
        self.lower = F32(max(F32(lo), F32(-2.147483648e9)))
        self.upper = F32(min(F32(hi), F32(2.14748352e9)))

    def quantize(self, x):
        """QUANTIZE_WITH_EIGEN: round(x * scale) - (min_scaled - lowest), clamped, to T."""
        x = ftz(x)
        with np.errstate(all="ignore"):
            t = ftz(round_half_away(ftz(x * self.range_scale)))
            t = ftz(t - s32(self.range_min_scaled - self.lowest))
            t = np.minimum(np.maximum(t, self.lower), self.upper)
        return narrow(cvtt_i32(t), self.qtype)


class Q2F:
    """`QuantizedToFloatStruct<T>(range_min, range_max)`."""

    def __init__(self, qtype, range_min, range_max):
        lo, hi, bits, _ = QINFO[qtype]
        rmin, rmax = s32(range_min), s32(range_max)
        with np.errstate(all="ignore"):
            self.range_scale = s32(F64(s32(rmax - rmin)) / (2.0 ** bits - 1.0))
            self.range_min_rounded = rmin if rmax == rmin else s32(
                round_half_away(s32(rmin / self.range_scale)) * self.range_scale)
            self.offset = s32(self.range_min_rounded - s32(F32(lo) * self.range_scale))

    def dequantize(self, q):
        """DEQUANTIZE_WITH_EIGEN: (min_rounded - lowest * scale) + float(q) * scale."""
        with np.errstate(all="ignore"):
            return ftz(self.offset + ftz(np.asarray(q).astype(F32) * self.range_scale))


# ----------------------------------------------------------------- QuantizeV2

def adjusted_range(in_min, in_max, ensure_minimum_range):
    """QuantizeV2's range: min <= 0 <= max, and max - min at least `ensure_minimum_range` times
    max(1, |min|, |max|)."""
    in_min, in_max = s32(in_min), s32(in_max)
    min_r = cmin(F32(0), in_min)
    with np.errstate(all="ignore"):
        eps = s32(cmax(F32(1), cmax(abs(in_min), abs(in_max))) * F32(ensure_minimum_range))
        max_r = cmax(F32(0), cmax(in_max, s32(min_r + eps)))
    return min_r, max_r


def quantize_slice(x, in_min, in_max, qtype, mode, round_mode, narrow_range, ensure_minimum_range,
                   whole=True):
    """QuantizeV2Op::QuantizeSlice (MIN_COMBINED or SCALED): (quantized, out_min, out_max).
    `whole`: the slice is the whole flat tensor (vectorized); a chip of a per-axis
    quantization is cast element by element (a NaN then always gives 0)."""
    packed = 8 if whole else x.size + 1
    key = "MIN_COMBINED" if mode == "MIN_COMBINED" else round_mode
    shards = _quantize_shards(x.size, qtype, key) if whole else None
    lo, hi, _, _ = QINFO[qtype]
    min_r, max_r = adjusted_range(in_min, in_max, ensure_minimum_range)
    x = ftz(x)
    with np.errstate(all="ignore"):
        if mode == "MIN_COMBINED":
            scale = s32((F64(hi) - F64(lo)) / F64(s32(max_r - min_r)))
            t = ftz(np.maximum(np.minimum(x, max_r), min_r) - min_r)
            t = ftz(t * scale)
            if lo < 0:
                half = F32((F64(hi) - F64(lo) + 1) / 2.0)
                out = float_to_q(round_half_away(ftz(t - half)), qtype, chunk=packed,
                                 shards=shards)
            else:
                out = float_to_q(ftz(t + F32(0.5)), qtype)
            return out, min_r, max_r
        min_out = lo + (1 if narrow_range else 0)
        from_min = s32(F32(min_out) / min_r) if F32(min_out) * min_r > 0 else FLT_MAX
        from_max = s32(F32(hi) / max_r) if F32(hi) * max_r > 0 else FLT_MAX
        scale = cmin(from_min, from_max)
        min_r, max_r = s32(F32(min_out) / scale), s32(F32(hi) / scale)
        t = ftz(np.maximum(np.minimum(x, max_r), min_r) * scale)
        if round_mode == "HALF_TO_EVEN":
            return (float_to_q(np.rint(t), qtype, chunk=32 if whole else packed, shards=shards),
                    min_r, max_r)
        return float_to_q(round_half_away(t), qtype, chunk=packed, shards=shards), min_r, max_r


def quantize_min_first(x, in_min, in_max, qtype, ensure_minimum_range):
    """QuantizeV2 MIN_FIRST (FloatTensorToQuantizedInPlaceUsingEigen on the adjusted range)."""
    min_r, max_r = adjusted_range(in_min, in_max, ensure_minimum_range)
    return F2Q(qtype, min_r, max_r).quantize(x), min_r, max_r


# ----------------------------------------------------------------- Dequantize

def dequantize_slice(q, min_r, max_r, qtype, mode, narrow_range, whole=True):
    """DequantizeOp::DequantizeTensor (`whole`) / DequantizeSlice in float32. The whole-tensor
    SCALED path casts through int (`cast<int>().cast<float>()`), which for qint32 goes through
    float: values rounding to 2**31 overflow to INT_MIN."""
    lo, hi, _, _ = QINFO[qtype]
    min_r, max_r = s32(min_r), s32(max_r)
    qf = np.asarray(q).astype(F32)
    with np.errstate(all="ignore"):
        if mode == "MIN_FIRST":
            return Q2F(qtype, min_r, max_r).dequantize(q)
        if mode == "MIN_COMBINED":
            half = F32(0) if lo == 0 else s32((F32(hi) - F32(lo) + F32(1)) / F32(2))
            scale = s32(s32(max_r - min_r) / s32(F32(hi) - F32(lo)))
            return ftz(ftz(ftz(qf + half) * scale) + min_r)
        min_out = lo + (1 if narrow_range else 0)
        if whole and qtype == "qint32":
            qf = cvtt_i32(qf).astype(F32)
        if lo == 0:
            scale = s32(max_r / F32(hi))
        else:
            scale = cmax(s32(min_r / F32(min_out)), s32(max_r / F32(hi)))
        return ftz(qf * scale)


# ----------------------------------------------------------------- QuantizeAndDequantizeV2

def qdq_range(signed, num_bits, narrow_range, min_r, max_r, dtype):
    """ComputeQuantizationRange: (min_range, max_range, scale, inverse_scale) in `dtype`."""
    T = dtype.type if isinstance(dtype, np.dtype) else dtype
    if signed:
        min_q = -(1 << (num_bits - 1)) + (1 if narrow_range else 0)
        max_q = (1 << (num_bits - 1)) - 1
    else:
        min_q, max_q = 0, (1 << num_bits) - 1
    fmin_q, fmax_q = T(min_q), T(max_q)
    big = T(np.finfo(T).max)
    def f(v):                       # every result flushed, as TF's threads do (FTZ)
        return T(ftz(v, T)[()])

    with np.errstate(all="ignore"):
        from_min = f(fmin_q / min_r) if f(fmin_q * min_r) > 0 else big
        from_max = f(fmax_q / max_r) if f(fmax_q * max_r) > 0 else big
        if from_min < from_max:
            scale, inv = from_min, f(min_r / fmin_q)
            max_r = f(fmax_q * inv)
        else:
            scale, inv = from_max, f(max_r / fmax_q)
            min_r = f(fmin_q * inv)
    return min_r, max_r, scale, inv


def cwise_min(x, c):
    """Eigen `x.cwiseMin(c)`: `(c < x) ? c : x` (a NaN x stays, a NaN c is ignored)."""
    return np.where(c < x, c, x).astype(x.dtype)


def cwise_max(x, c):
    """Eigen `x.cwiseMax(c)`: `(x < c) ? c : x`."""
    return np.where(x < c, c, x).astype(x.dtype)


def qdq_apply(x, min_r, max_r, scale, inv, clamp, round_mode):
    """(clamp(x) * scale).round() * inverse_scale, in x's float type."""
    T = x.dtype
    with np.errstate(all="ignore"):
        t = cwise_max(cwise_min(x, max_r), min_r) if clamp else x
        t = ftz(t * scale, T)
        t = np.rint(t) if round_mode == "HALF_TO_EVEN" else ftz(round_half_up(t), T)
        return ftz(t * inv, T)


def qdq(x, input_min, input_max, signed, num_bits, range_given, round_mode, narrow_range, axis):
    """QuantizeAndDequantizeV2 on float32/float64 `x` (axis -1: one range; else per channel,
    where TF 2.21 only supports ranges taken from the data)."""
    T = x.dtype.type
    x = ftz(x, T)
    if x.size == 0:
        return x.copy()
    if axis == -1:
        if range_given:
            mn, mx = T(ftz(input_min, T)), T(ftz(input_max, T))
        else:
            mn, mx = eigen_full_reduce(x, "min"), eigen_full_reduce(x, "max")
        mn, mx, scale, inv = qdq_range(signed, num_bits, narrow_range, mn, mx, T)
        return qdq_apply(x, mn, mx, scale, inv, range_given, round_mode)
    shape = x.shape
    pre = int(np.prod(shape[:axis], dtype=np.int64))
    x3 = x.reshape(pre, shape[axis], -1)
    out = np.empty_like(x3)
    for c in range(shape[axis]):
        chan = x3[:, c, :]
        seq = chan.T.reshape(-1)          # Eigen's generic reducer: last reduced dim outermost
        mn, mx = sequential_reduce(seq, "min"), sequential_reduce(seq, "max")
        mn, mx, scale, inv = qdq_range(signed, num_bits, narrow_range, mn, mx, T)
        out[:, c, :] = qdq_apply(chan, mn, mx, scale, inv, False, round_mode)
    return out.reshape(shape)


# ----------------------------------------------------------------- Eigen min/max reductions
#
# Measured on TF 2.21 (x86, 8-lane float packets). A scalar step `acc = (acc better than t) ?
# acc : t` lets a NaN or a tie (0.0 vs -0.0) replace the accumulator (a later number replaces the
# NaN again); a packet step keeps the accumulator on NaN and on ties. The initial value is +-inf.
# A full reduction runs 4 packet accumulators over blocks of 4 packets, folds accumulators 1-3
# into 0, runs the leftover packets, reduces the lanes as ((l0,l4),(l2,l6)),((l1,l5),(l3,l7))
# keeping the left operand on ties, and keeps the scalar tail's value on a final tie (or NaN).

def _wins(op, a, b, ties):
    """Is `a` better than `b` (strictly, or also on ties)?"""
    return ((a < b) if op == "min" else (a > b)) | ((a == b) & ties)


def _step(op, acc, t):
    """One scalar reducer step: `t` replaces `acc` unless `acc` is strictly better."""
    return acc if _wins(op, acc, t, False) else t


def sequential_reduce(v, op):
    """Scalar Eigen min/max steps over `v` in order, from +-inf."""
    T = v.dtype.type
    acc = T(np.inf) if op == "min" else T(-np.inf)
    nan = np.isnan(v)
    if nan.any():
        last = int(np.flatnonzero(nan)[-1])
        if last == v.size - 1:
            return T(v[last])
        v = v[last + 1:]
    if v.size == 0:
        return acc
    r = v.min() if op == "min" else v.max()
    if r != 0:
        return T(_step(op, acc, r))
    return T(v[np.flatnonzero(v == 0)[-1]])


def _first_best(rows, acc, op):
    """Packet steps over `rows` (m x lanes) into `acc`, keeping the accumulator on ties: per lane
    the first occurrence of the best value (NaN skipped)."""
    if rows.shape[0] == 0:
        return acc
    best = np.fmin.reduce(rows, axis=0) if op == "min" else np.fmax.reduce(rows, axis=0)
    first = rows[np.argmax(rows == best, axis=0), np.arange(rows.shape[1])]
    return np.where(_wins(op, best, acc, False), first, acc).astype(acc.dtype)


def _leaf_reduce(v, op, lanes):
    """InnerMostDimReducer without tree: 4 packet accumulators, leftover packets, scalar tail."""
    T = v.dtype.type
    init = T(np.inf) if op == "min" else T(-np.inf)
    n = v.size
    n4, n1 = n // (4 * lanes) * 4 * lanes, n // lanes * lanes
    blocks = v[:n4].reshape(-1, 4, lanes)
    accs = [_first_best(blocks[:, j, :], np.full(lanes, init, v.dtype), op) for j in range(4)]
    acc = accs[0]
    for other in accs[1:]:
        acc = np.where(_wins(op, other, acc, False), other, acc)
    acc = _first_best(v[n4:n1].reshape(-1, lanes), acc, op)
    s = sequential_reduce(v[n1:], op)
    if n1 == 0:
        return s

    def pick(a, b):
        return b if _wins(op, b, a, False) else a
    if lanes == 8:
        lane = pick(pick(pick(acc[0], acc[4]), pick(acc[2], acc[6])),
                    pick(pick(acc[1], acc[5]), pick(acc[3], acc[7])))
    else:
        lane = pick(pick(acc[0], acc[2]), pick(acc[1], acc[3]))
    return T(lane if _wins(op, lane, s, False) else s)


def _tree_reduce(v, first, num, op, lanes):
    """Eigen's tree split of reductions longer than lanes * 1024, on packet boundaries."""
    if num <= lanes * 1024:
        return _leaf_reduce(v[first:first + num], op, lanes)
    T = v.dtype.type
    split = lanes * -(-(first + -(-num // 2)) // lanes)
    left = min(split - first, num)
    acc = T(np.inf) if op == "min" else T(-np.inf)
    parts = [_tree_reduce(v, first, left, op, lanes)]
    if left < num:
        parts.append(_tree_reduce(v, split, num - left, op, lanes))
    for r in parts:
        acc = _step(op, acc, r)
    return T(acc)


#: TF's intra-op thread pool size on the reference machine; decides how Eigen shards large
#: full reductions (which only changes the sign of a zero min/max).
POOL_THREADS = INTRA_OP_THREADS


def eigen_full_reduce(v, op, threads=POOL_THREADS):
    """Eigen's vectorized full min/max reduction of a flat array on the thread pool: shards of
    floor(n / t) values when the cost model asks for t > 1 threads, the tail first, then each
    shard folded in as a scalar step; within a shard the tree above lanes * 1024 values."""
    v = v.reshape(-1)
    T = v.dtype.type
    if v.size and not np.isnan(v).any():
        r = v.min() if op == "min" else v.max()
        if r != 0:                          # only NaN or a zero result depend on the order
            return T(r)
    lanes = 8 if v.dtype == np.float32 else 4
    n = v.size
    per_coeff = v.dtype.itemsize * 11.0 / 64 + 10.0 / lanes
    t = min(threads, max(1, int((n * per_coeff - 100000) / 100000 + 0.9)))
    if t == 1:
        return _tree_reduce(v, 0, n, op, lanes)
    block = int(np.floor(F32(n) / F32(t)))
    nblocks = n // block if block > 0 else 0
    shards = [_tree_reduce(v, i * block, block, op, lanes) for i in range(nblocks)]
    acc = _tree_reduce(v, nblocks * block, n - nblocks * block, op, lanes) \
        if nblocks * block < n else (T(np.inf) if op == "min" else T(-np.inf))
    for sh in shards:
        acc = _step(op, acc, sh)
    return T(acc)


# ----------------------------------------------------------------- QuantizedInstanceNorm
#
# `(variance + eps).rsqrt()` is evaluated per element of the broadcast [N,H,W,C] expression: an
# 8-lane packet that fits inside one row of C channels (C >= 8) uses Eigen's fast prsqrt
# (`_mm256_rsqrt_ps`, then one Newton step h = a*y*y - 1, y += -0.5*y*h, without FMA); other
# elements use the scalar 1/sqrt. `_mm256_rsqrt_ps` is table-driven and CPU-specific: the table
# below (output bits for exponent parity x top 12 mantissa bits) was measured on the reference
# machine (AMD EPYC, Zen), where the TF fixtures were recorded.

_RSQRTPS_TABLE = (
    "eNrtmkuOwyAQRH2zOdpcmaV3GWUxUjQaA+ZXlPtZighqHlXdtomTcJzfX8f5el2+3kcunjKxFfwp1lf7P4P7j873xnvnS4v9"
    "7qZPPHa81HfS/y92Nb52bIlPYn14Lf8Zx/8++i3rTAufxPrwWv6Kwf8a/XSDu/t+Be/uHz42/3so/df6nBFHX6uvjkfPf4d4"
    "bnzr+hOFd6+f2j/6xzb+c8yd2Eo+mfuH9+Y/7z9X/zVz5eZR8mr/6Hvr49/XOy2tuh3xGbp7fj3rR6/GbH13/+h76+/g3y3n"
    "kXzu95QI+cNz/ZfY3rVjJv837uaf+uF/J/3aeUrPH7U8+t76+H+Wf+dcIvKcP/gRfKte9Dj1o37u+Tvvs05i/RG1jMy710/t"
    "f/S93DKfkk/m/t350ndh8vfWL8VSJ6/eL+nuHx5+Bd/yX+JdTQWv9u+uj39v/617hGhpR7Tu15/a/wh95T6J6PrR/ZO/nm/Z"
    "M8T+ymfw0c+/e/4r/d95/li1vqF/4D+w/1H5syeFOHG/eO0a0HvPtz6bzOZbmV38u+fvXv/o9evVp34H/gP7f0L9qDc8fEy+"
    "V692DPWew0evv3v++Kd+6KOv9p8bP7Ov1se/t3/yJ3/OH/Wg39T/ATyZMaI=")
_rsqrt_table_cache = []


def _rsqrt_table():
    if not _rsqrt_table_cache:
        import base64
        import zlib
        deltas = np.frombuffer(zlib.decompress(base64.b64decode(_RSQRTPS_TABLE)), np.int32)
        _rsqrt_table_cache.append(np.cumsum(deltas.astype(np.int64)).astype(np.uint32))
    return _rsqrt_table_cache[0]


def rsqrtps(a):
    """`_mm256_rsqrt_ps` of the reference CPU on float32 `a` (inputs are DAZ-flushed)."""
    a = ftz(a)
    bits = a.view(np.uint32).astype(np.int64)
    e, m = (bits >> 23) & 0xFF, bits & 0x7FFFFF
    p = (e - 127) & 1
    k = (e - 127 - p) // 2
    out = (_rsqrt_table()[(p << 12) | (m >> 11)].astype(np.int64) - (k << 23))
    out = out.astype(np.uint32).view(F32)
    with np.errstate(all="ignore"):
        out = np.where(a == 0, np.copysign(F32(np.inf), a), out)
        out = np.where(np.isinf(a) & (a > 0), F32(0), out)
        out = np.where(np.isnan(a) | (a < 0), F32(np.nan), out)
    return out.astype(F32)


def fast_rsqrt(a):
    """Eigen's AVX `prsqrt`: rsqrtps and one Newton-Raphson step, float32, no FMA."""
    a = ftz(a)
    y = rsqrtps(a)
    with np.errstate(all="ignore"):
        r2 = ftz(a * y)
        half_r = ftz(y * F32(-0.5))
        h = ftz(ftz(r2 * y) + F32(-1))
        return ftz(ftz(half_r * h) + y)


def instance_norm(x, x_min, x_max, output_range_given, given_y_min, given_y_max,
                  variance_epsilon, min_separation):
    """QuantizedInstanceNorm's Eigen (non-NEON) path on a quint8 [N,H,W,C] tensor."""
    x_min, x_max = s32(x_min), s32(x_max)
    n, h, w, c = x.shape
    with np.errstate(all="ignore"):
        input_scale = s32(s32(x_max - x_min) / F32(255))
        xf = x.astype(F32)
        count = F32(h * w)
        # MeanReducer over (H, W): a float32 sum in Eigen's order (W outer, H inner), / count
        mean = ftz(_seq_sum(xf) / count)
        d = ftz(input_scale * ftz(xf - mean[:, None, None, :]))
        var = ftz(_seq_sum(ftz(d * d)) / count)
        ve = ftz(var + F32(variance_epsilon))
        rs = _broadcast_rsqrt(ve, x.shape)
        normed = ftz(d * rs)
        if output_range_given:
            y_min, y_max = F32(given_y_min), F32(given_y_max)
        else:
            y_min = eigen_full_reduce(normed, "min", threads=1)   # DefaultDevice
            y_max = eigen_full_reduce(normed, "max", threads=1)
        if s32(y_max - y_min) < F32(min_separation):
            y_max = s32(y_min + F32(min_separation))
        y = F2Q("quint8", y_min, y_max).quantize(normed)
    return y, y_min, y_max


def _broadcast_rsqrt(ve, shape):
    """rsqrt(ve[n, c]) broadcast to [N,H,W,C]: the fast packet version where an 8-lane packet
    starting at a multiple of 8 of the flat index stays inside one row of C channels."""
    n, h, w, c = shape
    exact = ftz(F32(1) / ftz(np.sqrt(ve)))
    out = np.broadcast_to(exact[:, None, None, :], shape).reshape(-1).copy()
    total = out.size
    if c >= 8 and total >= 8:
        fast = fast_rsqrt(ve).reshape(-1)
        starts = np.arange(0, total // 8 * 8, 8)
        starts = starts[starts % c + 8 <= c]
        idx = (starts[:, None] + np.arange(8)).reshape(-1)
        row = idx // (h * w * c)
        out[idx] = fast[row * c + idx % c]
    return out.reshape(shape)


def _seq_sum(a):
    """Sum over axes 1, 2 of [N,H,W,C] float32, accumulated one value at a time in Eigen's order
    (W outer, H inner). The terms are >= 0, so no partial sum is a denormal."""
    n, h, w, c = a.shape
    if h * w == 0:
        return np.zeros((n, c), F32)
    seq = np.ascontiguousarray(a.transpose(0, 2, 1, 3)).reshape(n, w * h, c)
    return np.cumsum(seq, axis=1, dtype=F32)[:, -1, :]
