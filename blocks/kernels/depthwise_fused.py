"""numba kernel for DepthwiseConv2dNative on float32/float64: the loop of `depthwise.depthwise`
in one pass (per output, the taps in row-major order, each `pmadd` a product then a sum, both
rounded, FTZ when an operand is small enough to need it; padded taps read 0), on blocks of
output rows shared out by `workshare`. Large inputs only, when numba is available; the numpy
code is the reference (half types always use it) and gives the same bits.
"""
from __future__ import annotations

import numpy as np

from . import gemm, workshare
from .jit import Jit
from .rounding import may_flush

MIN_ELEMENTS = 1 << 15


def _ftz(v, tiny, zero):
    return v * zero if abs(v) < tiny else v


def _depthwise(x, f, out, r0, r1, s, top, left, flush, tiny, zero):
    n, h, w, c = x.shape
    kh, kw, _, m = f.shape
    oh, ow = out.shape[1], out.shape[2]
    pad = np.zeros(c, x.dtype)
    for r in range(r0, r1):
        b = r // oh
        i = r - b * oh
        for j in range(ow):
            acc = out[b, i, j]              # [c * m], accumulated in place from +0
            acc[:] = zero
            for a in range(kh):
                ih = i * s - top + a
                for q in range(kw):
                    iw = j * s - left + q
                    src = x[b, ih, iw] if 0 <= ih < h and 0 <= iw < w else pad
                    tap = f[a, q]
                    if m == 1 and not flush:
                        for ch in range(c):
                            acc[ch] = src[ch] * tap[ch, 0] + acc[ch]
                    else:
                        for ch in range(c):
                            for u in range(m):
                                p = tap[ch, u] * src[ch]
                                if flush:
                                    p = _ftz(p, tiny, zero)
                                t = p + acc[ch * m + u]
                                acc[ch * m + u] = _ftz(t, tiny, zero) if flush else t


_JIT = Jit(globals(), helpers=("_ftz",), serial_only=("_depthwise",))


def depthwise(x, f, stride, pads, out_hw):
    """depthwise.depthwise for float32/float64, or None when the kernel does not take it."""
    if (x.dtype.kind != "f" or x.dtype not in (np.float32, np.float64) or f.dtype != x.dtype
            or x.size < MIN_ELEMENTS or not _JIT.load()):
        return None
    flush = may_flush(x, f)
    x, f = np.ascontiguousarray(gemm.flush(x)), np.ascontiguousarray(gemm.flush(f))
    (top, _), (left, _) = pads
    kh, kw, c, m = f.shape
    out = np.empty((x.shape[0], *out_hw, c * m), x.dtype)
    tiny, zero = np.finfo(x.dtype).tiny, x.dtype.type(0)
    fn = _JIT.serial["_depthwise"]
    parts = workshare.blocks(x.shape[0] * out_hw[0], out_hw[1] * c * m * kh * kw)
    workshare.run(len(parts), lambda i: fn(x, f, out, *parts[i], stride, top, left, flush,
                                           tiny, zero))
    return out
