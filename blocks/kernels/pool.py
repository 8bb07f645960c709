"""Pooling kernels (NHWC), reproducing TF's CPU loops operation for operation:

- MaxPool (SpatialMaxPool): the output starts at `lowest()` and takes an input pixel when it is
  greater (`out < in`), pixels visited in row-major order: NaN never wins, an all-NaN window
  gives `lowest()`, of tied zeros the first stays. Over depth (DepthwiseMaxPool) it is Eigen's
  column `maxCoeff` (see `depth_max_pool`).
- AvgPool (SpatialAvgPool): window sums in row-major order from +0, divided by the number of
  real (unpadded) pixels.
- MaxPoolGrad: each gradient goes to its window's argmax (the first pixel, replaced by a later
  one only when greater), added in output order; AvgPoolGrad: `grad * T(1.0 / n)` added in
  output order over TF's broadcast windows (GetBroadcastSize, quirks kept); MaxPoolGradGrad:
  the gradient at the first pixel equal to the window's output.

Every sum runs in TF's order with `rounding.Arith`, so the results are TF's bits (float32 with
denormals flushed, half types rounded after each op).
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.errors import OpError

from . import pool_fused
from .ieee import daz
from .rounding import Arith, lowest, may_flush


def _pad_value(dtype):
    """A padding that never wins a max: -inf (floats) or the minimum (integers)."""
    dtype = np.dtype(dtype)
    return np.array(np.iinfo(dtype).min if dtype.kind in "iu" else -np.inf, dtype)


def _taps(xp, kh, kw, sh, sw, oh, ow):
    """(a, b, view) for each window tap in row-major order: view[:, r, c, :] = xp[:, r*sh + a,
    c*sw + b, :]."""
    for a in range(kh):
        for b in range(kw):
            yield a, b, xp[:, a:a + (oh - 1) * sh + 1:sh, b:b + (ow - 1) * sw + 1:sw, :]


def _padded(x, pads, value):
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    n, h, w, c = x.shape
    xp = np.empty((n, h + top + bottom, w + left + right, c), x.dtype)
    xp[...] = value
    xp[:, top:top + h, left:left + w, :] = x
    return xp


def _float_daz(x):
    """DAZ for float32/float64 inputs (compared under TF's MXCSR), others as they are."""
    return daz(x) if x.dtype.kind == "f" else x


def _keys(x):
    """What TF compares for `x`: float32/float64 with denormals flushed (the selected values
    are flushed too: maxss), bfloat16 as float32 under DAZ (the selected values keep their
    bits), others as they are. Returns (keys, values)."""
    if x.dtype == dt.NUMPY["bfloat16"]:
        return daz(x.astype(np.float32)), x
    x = _float_daz(x)
    return x, x


def max_pool(x, k, s, pads, out_hw):
    """Spatial max pooling of NHWC `x`: window k=(kh, kw), strides s=(sh, sw), paddings
    pads=((top, bottom), (left, right)), output spatial size out_hw."""
    (kh, kw), (sh, sw), (oh, ow) = k, s, out_hw
    n, _, _, c = x.shape
    out = np.empty((n, oh, ow, c), x.dtype)
    out[...] = lowest(x.dtype)
    if out.size == 0:
        return out
    fused = pool_fused.max_pool(x, k, s, pads, out_hw)
    if fused is not None:
        return fused
    keys, vals = _keys(x)
    best = np.empty(out.shape, keys.dtype)
    best[...] = lowest(x.dtype).astype(keys.dtype)
    kp, vp = _padded(keys, pads, _pad_value(keys.dtype)), _padded(vals, pads, _pad_value(x.dtype))
    for (_, _, kv), (_, _, vv) in zip(_taps(kp, kh, kw, sh, sw, oh, ow),
                                      _taps(vp, kh, kw, sh, sw, oh, ow)):
        with np.errstate(invalid="ignore"):
            take = best < kv
        np.copyto(best, kv, where=take)
        np.copyto(out, vv, where=take)
    return out


def depth_max_pool(x, k, packet):
    """Max pooling over the depth dim in windows of k (= the stride). Each window is a column
    that Eigen's `maxCoeff` reduces with std::max (`a < b ? b : a`: a NaN already held stays, a
    new one is passed over): a column of fewer than `packet` elements (8 floats or halves, 4
    doubles) left to right; a longer one from its first packet-aligned element (column j starts
    at element j*k) in packets combined lane-wise, the packet reduced by halving, then the
    unaligned head and the tail left to right."""
    shape = x.shape[:-1] + (x.shape[-1] // k if k else 0,)
    keys, vals = _keys(x)
    kc, vc = keys.reshape(-1, k), vals.reshape(-1, k)
    if kc.shape[0] == 0:
        return np.empty(shape, x.dtype)

    def fmax(a, b):     # lane-wise std::max of (keys, values) pairs
        with np.errstate(invalid="ignore"):
            take = a[0] < b[0]
        return np.where(take, b[0], a[0]), np.where(take, b[1], a[1])

    def col(c, i, width=None):
        return (c[0][:, i], c[1][:, i]) if width is None else (c[0][:, i:i + width], c[1][:, i:i + width])

    def left_to_right(c, idx, res=None):
        for i in idx:
            res = col(c, i) if res is None else fmax(res, col(c, i))
        return res

    if not packet or k < packet:
        return left_to_right((kc, vc), range(k))[1].reshape(shape)
    starts = (-(np.arange(kc.shape[0]) * k)) % packet
    out = np.empty(kc.shape[0], x.dtype)
    for start in np.unique(starts).tolist():
        rows = np.flatnonzero(starts == start)
        c = (kc[rows], vc[rows])
        size2 = (k - start) // (2 * packet) * 2 * packet
        size1 = (k - start) // packet * packet
        if not size1:
            out[rows] = left_to_right(c, range(k))[1]
            continue
        p0 = col(c, start, packet)
        if size1 > packet:
            p1 = col(c, start + packet, packet)
            for i in range(start + 2 * packet, start + size2, 2 * packet):
                p0, p1 = fmax(p0, col(c, i, packet)), fmax(p1, col(c, i + packet, packet))
            p0 = fmax(p0, p1)
            if size1 > size2:
                p0 = fmax(p0, col(c, start + size2, packet))
        half = packet // 2
        while half:
            p0 = fmax((p0[0][:, :half], p0[1][:, :half]), (p0[0][:, half:2 * half], p0[1][:, half:2 * half]))
            half //= 2
        res = (p0[0][:, 0], p0[1][:, 0])
        out[rows] = left_to_right(c, [*range(start), *range(start + size1, k)], res)[1]
    return out.reshape(shape)


def avg_pool(x, k, s, pads, out_hw):
    """Average pooling: each window's real pixels summed in row-major order from +0, divided by
    their count (as T)."""
    (kh, kw), (sh, sw), (oh, ow) = k, s, out_hw
    n, h, w, c = x.shape
    ar = Arith(x.dtype, may_flush(x))
    if n * oh * ow * c == 0:
        return np.zeros((n, oh, ow, c), x.dtype)
    fused = pool_fused.avg_pool(x, k, s, pads, out_hw)
    if fused is not None:
        return fused
    xp = _padded(ar.load(x), pads, np.float32(0))
    (top, _), (left, _) = pads
    rows = np.arange(oh) * sh - top
    cols = np.arange(ow) * sw - left
    acc = np.zeros((n, oh, ow, c), xp.dtype)
    count = np.zeros((oh, ow))
    for a, b, v in _taps(xp, kh, kw, sh, sw, oh, ow):
        real = ((rows + a >= 0) & (rows + a < h))[:, None] & ((cols + b >= 0) & (cols + b < w))[None, :]
        acc = np.where(real[None, :, :, None], ar.add(acc, v), acc)
        count += real
    return ar.store(ar.div(acc, count.astype(xp.dtype)[None, :, :, None]))


# ----------------------------------------------------------------- gradients

def _window_rows(size, k, s, before, out):
    """[(first, stop)] of the input rows each output row's window covers (clipped)."""
    r = np.arange(out) * s - before
    return np.maximum(r, 0), np.minimum(r + k, size)


def _candidates(first, stop, size):
    """(R, valid): R[t, j] = the j-th output (ascending) whose window [first, stop) holds input
    index t; valid marks the real entries."""
    lists = [[] for _ in range(size)]
    for o, (f, e) in enumerate(zip(first.tolist(), stop.tolist())):
        for t in range(max(f, 0), min(e, size)):
            lists[t].append(o)
    width = max((len(v) for v in lists), default=0)
    R = np.zeros((size, max(width, 1)), np.int64)
    valid = np.zeros((size, max(width, 1)), bool)
    for t, v in enumerate(lists):
        R[t, :len(v)] = v
        valid[t, :len(v)] = True
    return R, valid


def _routed_sum(shape, terms_at, rows, cols, ar):
    """For every input pixel, the sum from +0 of terms_at(R, C) over the outputs whose windows
    hold it, in output order (rows outer, columns inner); terms_at returns (terms, take) for the
    gathered output rows R [h] and cols C [w] (take: where the term counts)."""
    (R, rv), (C, cv) = rows, cols
    n, h, w, c = shape
    acc = None
    for jr in range(R.shape[1]):
        for jc in range(C.shape[1]):
            terms, take = terms_at(R[:, jr], C[:, jc])
            take = take & (rv[:, jr][None, :, None, None] & cv[:, jc][None, None, :, None])
            if acc is None:
                acc = np.zeros(terms.shape, terms.dtype)
            acc = np.where(take, ar.add(acc, terms), acc)
    return acc


def argmax_window(x, k, s, pads, out_hw):
    """The flat (row * W + col) index of each window's argmax as TF's MaxPoolGrad finds it: the
    first pixel, replaced by a later one that is greater."""
    (kh, kw), (sh, sw), (oh, ow) = k, s, out_hw
    n, h, w, c = x.shape
    cmp, _ = _keys(x)
    (top, _), (left, _) = pads
    best = np.zeros((n, oh, ow, c), cmp.dtype)
    arg = np.full((n, oh, ow, c), -1, np.int64)
    r0, c0 = np.arange(oh) * sh - top, np.arange(ow) * sw - left
    for a in range(kh):
        rr = r0 + a
        for b in range(kw):
            cc = c0 + b
            real = ((rr >= 0) & (rr < h))[:, None] & ((cc >= 0) & (cc < w))[None, :]
            v = cmp[:, np.clip(rr, 0, max(h - 1, 0))][:, :, np.clip(cc, 0, max(w - 1, 0))]
            with np.errstate(invalid="ignore"):
                take = real[None, :, :, None] & ((arg < 0) | (best < v))
            best = np.where(take, v, best)
            arg = np.where(take, (np.clip(rr, 0, None)[:, None] * w + np.clip(cc, 0, None)[None, :])
                           [None, :, :, None], arg)
    return arg


def max_pool_grad(x, grad, k, s, pads, out_hw):
    """MaxPoolGrad: the gradients routed to their windows' argmax, summed in output order."""
    n, h, w, c = x.shape
    (kh, kw), (sh, sw), (oh, ow) = k, s, out_hw
    if x.size == 0 or grad.size == 0:
        return np.zeros(x.shape, grad.dtype)
    fused = pool_fused.max_pool_grad(x, grad, k, s, pads)
    if fused is not None:
        return fused
    arg = argmax_window(x, k, s, pads, out_hw)
    ar = Arith(grad.dtype, may_flush(grad))
    g = ar.load(grad)
    (top, _), (left, _) = pads
    rows = _candidates(*_window_rows(h, kh, sh, top, oh), h)
    cols = _candidates(*_window_rows(w, kw, sw, left, ow), w)
    pixel = (np.arange(h)[:, None] * w + np.arange(w)[None, :])[None, :, :, None]

    def terms_at(R, C):
        return g[:, R][:, :, C], arg[:, R][:, :, C] == pixel
    out = _routed_sum(x.shape, terms_at, rows, cols, ar)
    return ar.store(out if out is not None else np.zeros(x.shape, g.dtype))


def broadcast_windows(size, k, s, pad, out):
    """GetBroadcastSize for each output index: (first, stop) of the input rows AvgPoolGrad
    spreads it over (TF clips the end with the whole window size even when the start was
    clipped, so a window at the border may cover one row more than AvgPool averaged)."""
    first, stop = [], []
    for i in range(out):
        if i * s > size:
            raise OpError("index * stride must be less than or equal to input size")
        b, n = i * s, k
        if b < pad:
            n, b = k + b - pad, 0
        else:
            b -= pad
        if b + k > size:
            n = min(size - b, k)
        first.append(b)
        stop.append(b + n)
    return np.array(first, np.int64), np.array(stop, np.int64)


def avg_pool_grad(in_shape, grad, k, s, pads):
    """AvgPoolGrad: grad * T(1.0 / (rows * cols)) added over each output's broadcast window, in
    output order, into zeros of `in_shape`. TF walks the gradient's own dims and writes an image
    of the gradient's batch and depth at the start of the output (the rest stays 0) when they
    differ from in_shape's."""
    n, h, w, c = in_shape
    (kh, kw), (sh, sw) = k, s
    (top, _), (left, _) = pads
    gn, oh, ow, gc = grad.shape
    out = np.zeros(in_shape, grad.dtype)
    if out.size == 0 or grad.size == 0:
        return out
    rf, re = broadcast_windows(h, kh, sh, top, oh)
    cf, ce = broadcast_windows(w, kw, sw, left, ow)
    ar = Arith(grad.dtype, may_flush(grad))
    with np.errstate(divide="ignore"):
        coeff = (1.0 / ((re - rf)[:, None] * (ce - cf)[None, :]).astype(np.float64)).astype(grad.dtype)
    terms = ar.mul(ar.load(grad), ar.load(coeff)[None, :, :, None])
    rows, cols = _candidates(rf, re, h), _candidates(cf, ce, w)

    def terms_at(R, C):
        return terms[:, R][:, :, C], np.ones((1, 1, 1, 1), bool)
    flat = ar.store(_routed_sum((gn, h, w, gc), terms_at, rows, cols, ar)).reshape(-1)
    out.reshape(-1)[:flat.size] = flat         # the shape function checked that it fits
    return out


def max_pool_grad_grad(x, y, grad, k, s, pads, out_hw):
    """MaxPoolGradGrad: per output, grad at the first pixel of its window (row-major) equal to
    the output (y); 0 where none is."""
    (kh, kw), (sh, sw), (oh, ow) = k, s, out_hw
    n, h, w, c = x.shape
    out = np.zeros(y.shape, grad.dtype)
    if out.size == 0:
        return out
    x, y = _keys(x)[0], _keys(y)[0]
    (top, _), (left, _) = pads
    r0, c0 = np.arange(oh) * sh - top, np.arange(ow) * sw - left
    found = np.zeros(y.shape, bool)
    for a in range(kh):
        rr = r0 + a
        for b in range(kw):
            cc = c0 + b
            real = ((rr >= 0) & (rr < h))[:, None] & ((cc >= 0) & (cc < w))[None, :]
            ri, ci = np.clip(rr, 0, max(h - 1, 0)), np.clip(cc, 0, max(w - 1, 0))
            hit = real[None, :, :, None] & ~found & (x[:, ri][:, :, ci] == y)
            np.copyto(out, grad[:, ri][:, :, ci], where=hit)
            found |= hit
    return out
