"""numba kernels for the spatial pools of float32/float64 and integer tensors: the loops of
`pool.max_pool`, `pool.avg_pool` and `pool.max_pool_grad` in one pass each (TF's order of
comparisons and sums, FTZ after each float op when an operand is small enough to need it), on
blocks of output rows (images, for MaxPoolGrad's scatter) shared out by `workshare`.

They take inputs of at least `MIN_ELEMENTS` elements when numba is available; the numpy code in
`pool` is the reference (half types always use it) and gives the same bits.
"""
from __future__ import annotations

import numpy as np

from . import gemm, workshare
from .jit import Jit
from .rounding import lowest, may_flush

MIN_ELEMENTS = 1 << 15
_TAKES = {np.dtype(t) for t in (np.float32, np.float64, np.int8, np.int16, np.int32, np.int64,
                                np.uint8, np.uint16, np.uint32, np.uint64)}


def _max_pool(x, out, r0, r1, kh, kw, sh, sw, top, left, low):
    n, h, w, c = x.shape
    oh, ow = out.shape[1], out.shape[2]
    for r in range(r0, r1):
        b = r // oh
        i = r - b * oh
        for j in range(ow):
            best = out[b, i, j]
            for ch in range(c):
                best[ch] = low
            for a in range(kh):
                ih = i * sh - top + a
                if ih < 0 or ih >= h:
                    continue
                for q in range(kw):
                    iw = j * sw - left + q
                    if iw < 0 or iw >= w:
                        continue
                    src = x[b, ih, iw]
                    for ch in range(c):
                        v = src[ch]
                        if best[ch] < v:        # NaN never wins; of equal values the first stays
                            best[ch] = v


def _ftz(v, tiny, zero):
    return v * zero if abs(v) < tiny else v


def _avg_pool(x, out, r0, r1, kh, kw, sh, sw, top, left, counts, flush, tiny):
    n, h, w, c = x.shape
    oh, ow = out.shape[1], out.shape[2]
    acc = np.empty(c, x.dtype)
    zero = counts[0]
    for r in range(r0, r1):
        b = r // oh
        i = r - b * oh
        for j in range(ow):
            acc[:] = zero
            count = 0
            for a in range(kh):
                ih = i * sh - top + a
                if ih < 0 or ih >= h:
                    continue
                for q in range(kw):
                    iw = j * sw - left + q
                    if iw < 0 or iw >= w:
                        continue
                    count += 1
                    src = x[b, ih, iw]
                    if flush:
                        for ch in range(c):
                            acc[ch] = _ftz(acc[ch] + src[ch], tiny, zero)
                    else:
                        for ch in range(c):
                            acc[ch] += src[ch]
            d = counts[count]
            dst = out[b, i, j]
            for ch in range(c):
                dst[ch] = _ftz(acc[ch] / d, tiny, zero) if flush else acc[ch] / d


def _max_pool_grad(x, g, out, b0, b1, kh, kw, sh, sw, top, left, flush, tiny, zero):
    n, h, w, c = x.shape
    oh, ow = g.shape[1], g.shape[2]
    for b in range(b0, b1):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    best = x[b, 0, 0, ch]
                    bi, bj = -1, -1
                    for a in range(kh):
                        ih = i * sh - top + a
                        if ih < 0 or ih >= h:
                            continue
                        for q in range(kw):
                            iw = j * sw - left + q
                            if iw < 0 or iw >= w:
                                continue
                            v = x[b, ih, iw, ch]
                            if bi < 0 or best < v:      # the first pixel, then a greater one
                                best, bi, bj = v, ih, iw
                    if bi >= 0:
                        s = out[b, bi, bj, ch] + g[b, i, j, ch]
                        out[b, bi, bj, ch] = _ftz(s, tiny, zero) if flush else s


_JIT = Jit(globals(), helpers=("_ftz",),
           serial_only=("_max_pool", "_avg_pool", "_max_pool_grad"))


def _ready(x, *more) -> bool:
    return (x.dtype in _TAKES and x.size >= MIN_ELEMENTS
            and all(a.dtype == x.dtype for a in more) and _JIT.load())


def _tiny(dtype):
    return np.finfo(dtype).tiny if dtype.kind == "f" else dtype.type(0)


def _rows(x, out, run_block, per_row):
    """run_block(r0, r1) over blocks of the n*oh output rows, shared out over the threads."""
    rows = out.shape[0] * out.shape[1]
    parts = workshare.blocks(rows, per_row)
    workshare.run(len(parts), lambda i: run_block(*parts[i]))


def max_pool(x, k, s, pads, out_hw):
    """pool.max_pool, or None when the kernel does not take `x`."""
    if not _ready(x):
        return None
    x = np.ascontiguousarray(gemm.flush(x) if x.dtype.kind == "f" else x)
    (kh, kw), (sh, sw), ((top, _), (left, _)) = k, s, pads
    out = np.empty((x.shape[0], *out_hw, x.shape[3]), x.dtype)
    low = lowest(x.dtype)[()]
    fn = _JIT.serial["_max_pool"]
    _rows(x, out, lambda r0, r1: fn(x, out, r0, r1, kh, kw, sh, sw, top, left, low),
          out_hw[1] * x.shape[3] * kh * kw)
    return out


def avg_pool(x, k, s, pads, out_hw):
    """pool.avg_pool for float32/float64, or None when the kernel does not take `x`."""
    if x.dtype.kind != "f" or not _ready(x):
        return None
    flush, tiny = may_flush(x), _tiny(x.dtype)      # of the input as given, as pool.avg_pool
    x = np.ascontiguousarray(gemm.flush(x))
    (kh, kw), (sh, sw), ((top, _), (left, _)) = k, s, pads
    out = np.empty((x.shape[0], *out_hw, x.shape[3]), x.dtype)
    counts = np.arange(kh * kw + 1).astype(x.dtype)      # a window's real pixels, as T
    fn = _JIT.serial["_avg_pool"]
    _rows(x, out, lambda r0, r1: fn(x, out, r0, r1, kh, kw, sh, sw, top, left, counts, flush,
                                    tiny),
          out_hw[1] * x.shape[3] * kh * kw)
    return out


def max_pool_grad(x, grad, k, s, pads):
    """pool.max_pool_grad, or None when the kernel does not take the operands."""
    if not _ready(x, grad):
        return None
    flush, tiny = grad.dtype.kind == "f" and may_flush(grad), _tiny(grad.dtype)
    x = np.ascontiguousarray(gemm.flush(x) if x.dtype.kind == "f" else x)
    g = np.ascontiguousarray(gemm.flush(grad) if grad.dtype.kind == "f" else grad)
    (kh, kw), (sh, sw), ((top, _), (left, _)) = k, s, pads
    out = np.zeros(x.shape, grad.dtype)
    fn = _JIT.serial["_max_pool_grad"]
    parts = workshare.blocks(x.shape[0], g[0].size * kh * kw)      # whole images: no shared pixel
    zero = grad.dtype.type(0)
    workshare.run(len(parts), lambda i: fn(x, g, out, *parts[i], kh, kw, sh, sw, top, left,
                                           flush, tiny, zero))
    return out
