"""Depthwise convolution kernels (NHWC input, [rows, cols, in_depth, multiplier] filter), each
reproducing TF's CPU kernel (depthwise_conv_op.cc, depthwise_conv_grad_op.cc) operation for
operation:

- every product-sum is Eigen's `pmadd(a, b, acc)` = `pmul(a, b) + acc` (no FMA), accumulators
  starting at +0, float16/bfloat16 products made in float32 and the sums rounded to the storage
  type after each step (bfloat16 NaNs leave the packets as +qNaN);
- padded taps (and, in the input backprop, taps that no output reaches) read 0, so a non-finite
  filter or gradient value makes NaN there as in TF.

Forward: per output, the taps in row-major order. Input backprop: per input pixel, the taps in
row-major order, then (multiplier > 1) the multiplier entries summed left to right (a packet's
worth at a time, tree-reduced, when there are at least a packet of them). Filter backprop: per
image, the output positions in row-major order; then the images added in order.
"""
from __future__ import annotations

import numpy as np

from . import depthwise_fused
from .conv import padded
from .rounding import Arith, may_flush

#: Eigen packet sizes (AVX): lanes of one vector register per dtype (halves: 8 of float32)
PACKET = {np.dtype(np.float64): 4}


def _pmadd(ar, a, b, acc):
    """pmadd(a, b, acc): the product (exact in float32 for half types, else rounded and
    flushed) added to acc, rounded."""
    with np.errstate(all="ignore"):
        prod = ar.flush_only(a * b)
    return ar.add(prod, acc)


def _taps(xp, k, s, out_hw):
    (kh, kw), (oh, ow) = k, out_hw
    for a in range(kh):
        for b in range(kw):
            yield a, b, xp[:, a:a + (oh - 1) * s + 1:s, b:b + (ow - 1) * s + 1:s, :]


def depthwise(x, f, stride, pads, out_hw):
    """out[n, i, j, c*m + q] = sum over taps (a, b) of x[n, i*s + a - top, j*s + b - left, c] *
    f[a, b, c, q]."""
    n, _, _, c = x.shape
    kh, kw, _, m = f.shape
    oh, ow = out_hw
    ar = Arith(x.dtype, may_flush(x, f))
    if n * oh * ow * c * m == 0:
        return np.zeros((n, oh, ow, c * m), x.dtype)
    fused = depthwise_fused.depthwise(x, f, stride, pads, out_hw)
    if fused is not None:
        return fused
    xp, fl = padded(ar.load(x), pads), ar.load(f)
    acc = np.zeros((n, oh, ow, c, m), xp.dtype)
    for a, b, v in _taps(xp, (kh, kw), stride, out_hw):
        acc = _pmadd(ar, fl[a, b], v[..., None], acc)
    return ar.store(ar.packet_nans(acc).reshape(n, oh, ow, c * m))


def _stuffed(g, kh, kw, s, top, left, h, w):
    """dy scattered onto the padded input grid (zeros between and around), shifted so that
    view [:, r + kh - 1 - a, ...] reads the output reached from input row r through tap a."""
    n, oh, ow, d = g.shape
    z = np.zeros((n, h + top + 2 * kh, w + left + 2 * kw, d), g.dtype)
    r0, c0 = kh - 1, kw - 1
    z[:, r0:r0 + (oh - 1) * s + 1:s, c0:c0 + (ow - 1) * s + 1:s, :] = g
    return z


def backprop_input(in_shape, f, dy, stride, pads):
    """d/d input, as TF's ComputeBackpropInput."""
    n, h, w, c = in_shape
    kh, kw, _, m = f.shape
    _, oh, ow, _ = dy.shape
    (top, _), (left, _) = pads
    out = np.zeros(in_shape, dy.dtype)
    if out.size == 0:            # (an empty dy still multiplies the filter by zeros, as TF)
        return out
    ar = Arith(dy.dtype, may_flush(dy, f))
    g, fl = ar.load(dy), ar.load(f).reshape(kh, kw, c * m)
    z = _stuffed(g, kh, kw, stride, top, left, h, w)
    acc = np.zeros((n, h, w, c * m), g.dtype)
    for a in range(kh):
        for b in range(kw):
            # input row r meets output row (r + top - a) / s: z row r + top - a + kh - 1
            rs, cs = top - a + kh - 1, left - b + kw - 1
            acc = _pmadd(ar, fl[a, b], z[:, rs:rs + h, cs:cs + w, :], acc)
    acc = ar.packet_nans(acc).reshape(n, h, w, c, m)
    if m == 1:
        return ar.store(acc[..., 0])
    p = PACKET.get(np.dtype(dy.dtype), 8)
    total = np.zeros((n, h, w, c), acc.dtype)
    full = m // p * p
    for q in range(0, full, p):           # predux: a packet summed by halving, rounded once
        part = acc[..., q:q + p]
        while part.shape[-1] > 1:
            half = part.shape[-1] // 2
            with np.errstate(all="ignore"):
                part = ar.flush_only(part[..., :half] + part[..., half:])
        total = ar.add(total, ar.load(ar.store(part[..., 0])) if ar.half else part[..., 0])
    for q in range(full, m):
        total = ar.add(total, acc[..., q])
    return ar.store(total)


def backprop_filter(x, f_shape, dy, stride, pads):
    """d/d filter, as TF's ComputeBackpropFilter: per image, the output positions in row-major
    order; the images then added in order."""
    kh, kw, c, m = f_shape
    n, oh, ow, _ = dy.shape
    out = np.zeros(f_shape, dy.dtype)
    if out.size == 0 or dy.size == 0 or x.size == 0:
        return out
    ar = Arith(dy.dtype, may_flush(x, dy))
    s = stride
    xp, g = padded(ar.load(x), pads), ar.load(dy).reshape(n, oh, ow, c, m)
    buf = np.zeros((n, kh, kw, c, m), g.dtype)
    for i in range(oh):
        for j in range(ow):
            window = xp[:, i * s:i * s + kh, j * s:j * s + kw, :, None]
            buf = _pmadd(ar, g[:, i, j][:, None, None], window, buf)
    buf = ar.packet_nans(buf)
    total = np.zeros(f_shape, g.dtype)
    for b in range(n):
        total = ar.add(total, buf[b])
    flat = total.reshape(kh * kw, c * m)          # the packet lanes of each tap's row
    vec = (c * m) // PACKET.get(np.dtype(dy.dtype), 8) * PACKET.get(np.dtype(dy.dtype), 8)
    flat[:, :vec] = ar.packet_nans(flat[:, :vec])
    return ar.store(flat.reshape(f_shape))
