"""Depthwise convolution kernels (NHWC input, [rows, cols, in_depth, multiplier] filter).

The forward pass reproduces TF's CPU kernel (DepthwiseConv2DKernel): for each output element
an accumulator starts at +0 and takes `pmadd(filter, input, acc)` over the filter taps in
row-major order, padded taps reading 0; pmadd is a multiply then an add (no FMA), float16 and
bfloat16 products and sums made in float32 and rounded to the storage type after each tap.
The backprops sum the same products in another order (within the fixtures' tolerance).
"""
from __future__ import annotations

import numpy as np

from .conv import padded
from .ieee import daz
from .rounding import Arith, may_flush


def _taps(xp, k, s, out_hw):
    (kh, kw), (oh, ow) = k, out_hw
    for a in range(kh):
        for b in range(kw):
            yield a, b, xp[:, a:a + (oh - 1) * s + 1:s, b:b + (ow - 1) * s + 1:s, :]


def depthwise(x, f, stride, pads, out_hw):
    """out[n, i, j, c*m + q] = sum over taps (a, b) of x[n, i*s + a - top, j*s + b - left, c] *
    f[a, b, c, q], in TF's order and rounding."""
    n, _, _, c = x.shape
    kh, kw, _, m = f.shape
    oh, ow = out_hw
    ar = Arith(x.dtype, may_flush(x, f))
    out = np.zeros((n, oh, ow, c * m), x.dtype)
    if out.size == 0:
        return out
    xp, fl = padded(ar.load(x), pads), ar.load(f)
    acc = np.zeros((n, oh, ow, c, m), xp.dtype)
    for a, b, v in _taps(xp, (kh, kw), stride, out_hw):
        with np.errstate(all="ignore"):
            prod = v[..., None] * fl[a, b]
        acc = ar.add(acc, daz(prod) if not ar.half else prod)
    return ar.store(acc.reshape(out.shape))


def backprop_input(in_shape, f, dy, stride, pads):
    """d/d input: each output gradient times the filter, scattered back over its window."""
    n, h, w, c = in_shape
    kh, kw, _, m = f.shape
    _, oh, ow, _ = dy.shape
    (t, b), (lf, r) = pads
    out = np.zeros(in_shape, dy.dtype)
    if out.size == 0 or dy.size == 0:
        return out
    ar = Arith(dy.dtype, False)
    g, fl = ar.load(dy).reshape(n, oh, ow, c, m), ar.load(f)
    acc = np.zeros((n, h + t + b, w + lf + r, c), g.dtype)
    s = stride
    with np.errstate(all="ignore"):
        for a in range(kh):
            for q in range(kw):
                acc[:, a:a + (oh - 1) * s + 1:s, q:q + (ow - 1) * s + 1:s, :] += \
                    np.einsum("nijcm,cm->nijc", g, fl[a, q])
    return ar.store(daz(acc[:, t:t + h, lf:lf + w, :]))


def backprop_filter(x, f_shape, dy, stride, pads):
    """d/d filter: each tap's input window times the output gradient, summed over batch and
    positions."""
    kh, kw, c, m = f_shape
    n, oh, ow, _ = dy.shape
    out = np.zeros(f_shape, dy.dtype)
    if out.size == 0 or dy.size == 0 or x.size == 0:
        return out
    ar = Arith(dy.dtype, False)
    xp, g = padded(ar.load(x), pads), ar.load(dy).reshape(n, oh, ow, c, m)
    acc = np.zeros(f_shape, g.dtype)
    with np.errstate(all="ignore"):
        for a, b, v in _taps(xp, (kh, kw), stride, (oh, ow)):
            acc[a, b] = np.einsum("nijc,nijcm->cm", v, g)
    return ar.store(daz(acc))
