"""FakeQuant arithmetic exactly as TensorFlow's CPU kernels (`fake_quant_ops_functor.h`).

Every step is float32 in TF's order. TF runs with denormals flushed (FTZ/DAZ): denormal inputs
read as signed zeros and denormal results become zeros; `ftz` emulates that where it can matter.
Element rounding is `floor(v + 0.5f)`; the zero point uses `std::round` (half away from zero).
These are the reference kernels; `fake_quant_fused` has the same arithmetic fused for large
tensors.
"""
from __future__ import annotations

import functools

import numpy as np

F32 = np.float32
TINY = F32(np.finfo(np.float32).tiny)
HALF = F32(0.5)


def ftz(a):
    """Flush float32 denormals to zero of the same sign (x86 FTZ/DAZ)."""
    a = np.asarray(a, dtype=F32)
    mag = np.abs(a)
    denormal = (mag < TINY) & (mag > 0)
    if denormal.any():
        a = np.where(denormal, np.copysign(F32(0), a), a).astype(F32)
    return a


def round_half_away(a):
    """`std::round` on float32: half-way cases away from zero."""
    t = np.trunc(a)
    return np.where(np.abs(a - t) >= HALF, t + np.sign(a), t).astype(F32)


def quant_bounds(num_bits: int, narrow_range: bool) -> tuple[int, int]:
    """(quant_min, quant_max) of TF: [narrow?1:0, 2^num_bits - 1]."""
    return (1 if narrow_range else 0), (1 << num_bits) - 1


class Nudged:
    """TF's `Nudge` for scalars or per-channel vectors: nudged min/max, scale, inverse scale and
    the quantized zero; plus the mask of ranges with min == max == 0 (handled apart by Vars)."""

    def __init__(self, min_, max_, num_bits: int, narrow_range: bool):
        qmin, qmax = quant_bounds(num_bits, narrow_range)
        qminf, qmaxf = F32(qmin), F32(qmax)
        with np.errstate(all="ignore"):
            mn, mx = ftz(min_), ftz(max_)
            self.both_zero = (mn == 0) & (mx == 0)
            diff = ftz(mx - mn)
            self.scale = ftz(diff / (qmaxf - qminf))
            self.inv_scale = ftz((qmaxf - qminf) / diff)
            zp_from_min = ftz(qminf - ftz(mn / self.scale))
            # static_cast<uint16>(NaN) on x86 truncates 0x80000000 to 0
            rounded = np.where(np.isnan(zp_from_min), F32(0), round_half_away(zp_from_min))
            zp = np.where(zp_from_min < qminf, qminf,
                          np.where(zp_from_min > qmaxf, qmaxf, rounded)).astype(F32)
            self.min = ftz((qminf - zp) * self.scale)
            self.max = ftz((qmaxf - zp) * self.scale)
            self.quant_zero = np.floor(ftz(ftz(-self.min * self.inv_scale) + HALF)).astype(F32)
        # only when nudged_min is itself tiny can `x - nudged_min` produce a denormal
        nz = np.abs(self.min)
        self.tiny_range = bool(np.any((nz > 0) & (nz < F32(2.0 ** -100))))


def nudged(min_, max_, num_bits: int, narrow_range: bool) -> Nudged:
    """`Nudged` for a range, memoised by the bits of min and max (the same ranges run again and
    again, and nudging costs more than the kernel on small tensors, or per channel). The
    memoised vectors are read-only."""
    if np.ndim(min_) == 0 and np.ndim(max_) == 0:
        return _scalar_nudged(F32(min_).view(np.uint32).item(), F32(max_).view(np.uint32).item(),
                              num_bits, narrow_range)
    lo, hi = np.ascontiguousarray(min_, F32), np.ascontiguousarray(max_, F32)
    if lo.ndim != 1 or lo.shape != hi.shape or lo.size > MEMO_CHANNELS:
        return Nudged(lo, hi, num_bits, narrow_range)
    return _vector_nudged(lo.tobytes(), hi.tobytes(), num_bits, narrow_range)


#: per-channel ranges with at most this many channels are memoised (keys of up to 32 KiB)
MEMO_CHANNELS = 1 << 12


@functools.lru_cache(maxsize=1024)
def _scalar_nudged(min_bits: int, max_bits: int, num_bits: int, narrow_range: bool) -> Nudged:
    as_f32 = lambda bits: np.array(bits, np.uint32).view(F32)   # noqa: E731  (exact bits, NaN too)
    return Nudged(as_f32(min_bits), as_f32(max_bits), num_bits, narrow_range)


@functools.lru_cache(maxsize=64)
def _vector_nudged(min_bytes: bytes, max_bytes: bytes, num_bits: int, narrow_range: bool) -> Nudged:
    n = Nudged(np.frombuffer(min_bytes, F32), np.frombuffer(max_bytes, F32), num_bits, narrow_range)
    for a in vars(n).values():
        if isinstance(a, np.ndarray):
            a.flags.writeable = False
    return n


def forward(x, n: Nudged, divide: bool):
    """Quantize-dequantize `x` (float32) with nudged range `n`.

    divide=True is FakeQuantWithMinMaxVars (`cs / scale`); False multiplies by the inverse scale
    (Args and PerChannel). Ranges with min == max == 0 give zeros (Vars, PerChannel).
    """
    x = ftz(x)
    with np.errstate(all="ignore"):
        t = np.asarray(np.minimum(x, n.max))   # 0-d inputs give a scalar: keep an array
        np.maximum(t, n.min, out=t)
        np.subtract(t, n.min, out=t)
        if n.tiny_range:
            t = ftz(t)
        if divide:
            np.divide(t, n.scale, out=t)
        else:
            np.multiply(t, n.inv_scale, out=t)
        np.subtract(t, n.quant_zero, out=t)
        np.add(t, HALF, out=t)
        np.floor(t, out=t)
        np.multiply(t, n.scale, out=t)
    if np.any(n.both_zero):
        t = np.where(n.both_zero, F32(0), t).astype(F32)
    return t


def masked_gradient(gradients, x, n: Nudged):
    """`gradients` where `x` lies in the scalar nudged range, else `gradients * 0` (the first
    output of `backprop` without the min/max sums, for FakeQuantWithMinMaxArgsGradient)."""
    raw = np.asarray(gradients, F32)
    x = ftz(x)
    with np.errstate(all="ignore"):
        out = np.asarray(ftz(raw) * ((x >= n.min) & (x <= n.max)).astype(F32))
    if n.both_zero:
        out = raw.copy()
    return out


def backprop(gradients, x, n: Nudged, *, reduce_axis=None):
    """(backprops_wrt_input, backprop_wrt_min, backprop_wrt_max) as TF's gradient functors.

    Masks multiply the gradients (so NaN/inf gradients outside the range give NaN, negative ones
    -0.0). The min/max sums reduce over every element (reduce_axis=None) or over all but the last
    axis (per channel); they are accumulated in float64 and rounded once to float32.
    """
    raw = np.asarray(gradients, F32)
    g = ftz(raw)
    x = ftz(x)
    with np.errstate(all="ignore"):
        inside = ((x >= n.min) & (x <= n.max)).astype(F32)
        below = (x < n.min).astype(F32)
        above = (x > n.max).astype(F32)
        wrt_input = g * inside
        axes = None if reduce_axis is None else tuple(range(g.ndim - 1))
        wrt_min = np.sum(g * below, axis=axes, dtype=np.float64).astype(F32)
        wrt_max = np.sum(g * above, axis=axes, dtype=np.float64).astype(F32)
    if np.any(n.both_zero):
        wrt_input = np.where(n.both_zero, raw, wrt_input)  # a copy: no flush.astype(F32)
        wrt_min = np.where(n.both_zero, F32(0), wrt_min).astype(F32)
        wrt_max = np.where(n.both_zero, F32(0), wrt_max).astype(F32)
    return wrt_input.astype(F32), np.asarray(wrt_min, F32), np.asarray(wrt_max, F32)
