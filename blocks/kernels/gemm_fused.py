"""numba kernels of the GEMM-based blocks (MatMul, the convolutions): the scan for denormals
behind DAZ/FTZ (one vectorized pass over the bits, no temporaries: numpy needs three passes and
two arrays) and im2col of a block of output rows written straight into a thread's scratch
buffer (the padding as zeros, no padded copy). They run serially, on the thread that calls
them: the blocks of a product are shared out over the threads by `workshare`, not by numba's
pool (idle OpenMP workers spinning beside the GEMM cost more than they gain on a busy machine).

They take large tensors when numba is available (`available(x)`: BLOCKGRAPH_NO_FUSED unset, at
least MIN_ELEMENTS elements); the numpy code in `ieee.daz` and `conv.patches` is the reference
and gives the same arrays. numba is imported on the first large tensor, never before.
"""
from __future__ import annotations

import numpy as np

from .jit import Jit

#: below this many elements the numpy code runs (no numba import, no thread start-up)
MIN_ELEMENTS = 1 << 16
#: (magnitude bits, 1, largest denormal's bits) of the unsigned view
_MASKS = {np.dtype(np.float32): (np.uint32(0x7FFFFFFF), np.uint32(1), np.uint32(0x007FFFFF)),
          np.dtype(np.float64): (np.uint64(0x7FFFFFFFFFFFFFFF), np.uint64(1),
                                 np.uint64(0x000FFFFFFFFFFFFF))}


def _any_denormal(bits, magnitude, one, limit):
    acc = limit
    for i in range(bits.size):      # 0 < |x| <= limit as one unsigned min (vectorized; a
        acc = min(acc, (bits[i] & magnitude) - one)     # zero wraps to the largest value)
    return acc < limit


def _im2col(x, out, r0, r1, kh, kw, sh, sw, dh, dw, top, left, oh, ow):
    n, h, w, c = x.shape
    for r in range(r0, r1):
        b = r // oh
        i = r - b * oh
        for j in range(ow):
            row = (r - r0) * ow + j
            col = 0
            for a in range(kh):
                ih = i * sh - top + a * dh
                for q in range(kw):
                    iw = j * sw - left + q * dw
                    if ih >= 0 and ih < h and iw >= 0 and iw < w:
                        for ch in range(c):
                            out[row, col + ch] = x[b, ih, iw, ch]
                    else:
                        for ch in range(c):
                            out[row, col + ch] = 0
                    col += c


def _col2im(cols, out, kh, kw, sh, sw, top, left, oh, ow):
    n, h, w, c = out.shape
    for b in range(n):
        for a in range(kh):
            for q in range(kw):
                col = (a * kw + q) * c
                for i in range(oh):
                    ih = i * sh - top + a
                    if ih < 0 or ih >= h:
                        continue
                    for j in range(ow):
                        iw = j * sw - left + q
                        if iw < 0 or iw >= w:
                            continue
                        src = cols[(b * oh + i) * ow + j]
                        dst = out[b, ih, iw]
                        for ch in range(c):
                            dst[ch] += src[col + ch]


_JIT = Jit(globals(), serial_only=("_any_denormal", "_im2col", "_col2im"))


def available(x) -> bool:
    """Whether the kernels take a tensor like `x` (large, numba importable and enabled)."""
    return np.size(x) >= MIN_ELEMENTS and _JIT.load()


def has_denormal(a) -> bool | None:
    """Whether float32/float64 `a` holds a denormal; None when the kernel does not take it."""
    return has_small(a, None)


def has_small(a, bound) -> bool | None:
    """Whether float32/float64 `a` holds a nonzero value below `bound` in magnitude (None: the
    smallest normal, i.e. a denormal); None when the kernel does not take `a`."""
    masks = _MASKS.get(a.dtype)
    if masks is None or not a.flags.c_contiguous or not available(a):
        return None
    magnitude, one, limit = masks
    if bound is not None:
        limit = np.array(bound, a.dtype).view(limit.dtype)[()] - one
    return bool(_JIT.serial["_any_denormal"](a.reshape(-1).view(magnitude.dtype), magnitude, one,
                                              limit))


def col2im(cols, out, k, s, pads, out_hw) -> bool:
    """Add the patches `cols` [n*oh*ow, kh*kw*c] into `out` [n, h, w, c] (the unpadded input:
    patch taps in the padding are dropped), tap by tap in row-major order as the numpy
    col2im of `conv.conv2d_backprop_input`; False when numba is not available."""
    if not _JIT.load():
        return False
    (kh, kw), (sh, sw), ((top, _), (left, _)), (oh, ow) = k, s, pads, out_hw
    _JIT.serial["_col2im"](cols, out, kh, kw, sh, sw, top, left, oh, ow)
    return True


def im2col(x, out, rows, k, s, d, pads, out_hw) -> bool:
    """Fill `out` [(r1 - r0) * ow, kh*kw*c] with the patches of output rows r0 <= r < r1 (r
    counts the rows of all images: image r // oh, row r % oh) of unpadded C-contiguous `x`;
    False when the kernel does not take it (numba not available: the caller uses numpy)."""
    if not x.flags.c_contiguous or not _JIT.load():
        return False
    (r0, r1), (kh, kw), (sh, sw), (dh, dw), ((top, _), (left, _)), (oh, ow) = rows, k, s, d, pads, out_hw
    _JIT.serial["_im2col"](x, out, r0, r1, kh, kw, sh, sw, dh, dw, top, left, oh, ow)
    return True
