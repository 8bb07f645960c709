"""Convolution kernels (NHWC input, HWIO filter) as im2col + one GEMM (`gemm.product`), with
TF's dtype rules: float32/float64 under DAZ/FTZ, float16/bfloat16 accumulated in float32 and
rounded once, int32 wrapping. The order of the sums is BLAS's, not Eigen's (results within the
fixtures' `k * eps * sum|terms|`).

`pads` are ((top, bottom), (left, right)); `k, s, d` the filter size, strides and dilations as
(rows, cols) pairs.
"""
from __future__ import annotations

import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import gemm, gemm_fused, workshare

#: largest im2col buffer made at once (bytes); bigger batches are done in slices
CHUNK_BYTES = 256 << 20


def padded(x, pads):
    """`x` with zero rows/cols around its spatial dims (itself when there are none)."""
    (t, b), (lf, r) = pads
    if not (t or b or lf or r):
        return x
    n, h, w, c = x.shape
    xp = np.zeros((n, h + t + b, w + lf + r, c), x.dtype)
    xp[:, t:t + h, lf:lf + w, :] = x
    return xp


def patches(xp, k, s, d, out_hw):
    """im2col of a padded input: [n, oh, ow, kh, kw, c], contiguous."""
    n, _, _, c = xp.shape
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = k, s, d, out_hw
    sn, sr, sc, sd = xp.strides
    view = as_strided(xp, (n, oh, ow, kh, kw, c), (sn, sr * sh, sc * sw, sr * dh, sc * dw, sd),
                      writeable=False)
    return np.ascontiguousarray(view)


def _batches(n, per_image_bytes):
    step = max(1, CHUNK_BYTES // max(per_image_bytes, 1))
    return [(i, min(n, i + step)) for i in range(0, n, step)]


def conv2d(x, f, s, d, pads, out_hw, out_dtype):
    """Conv2D: out[n, i, j, o] = sum over (a, b, c) of xpad[n, i*sh + a*dh, j*sw + b*dw, c] *
    f[a, b, c, o]; a filter depth dividing the input depth makes groups."""
    n, _, _, cin = x.shape
    kh, kw, cg, cout = f.shape
    oh, ow = out_hw
    out = np.zeros((n, oh, ow, cout), out_dtype)
    if out.size == 0 or x.size == 0:
        return out
    groups = cin // cg
    og = cout // groups
    fp, xq = gemm.prepare(f), gemm.prepare(x)
    if groups == 1 and _fused_conv(xq, fp, s, d, pads, out_hw, out):
        return out
    xp = padded(xq, pads)
    for g in range(groups):
        xg = xp if groups == 1 else np.ascontiguousarray(xp[..., g * cg:(g + 1) * cg])
        fg = fp[..., g * og:(g + 1) * og].reshape(kh * kw * cg, og)
        for lo, hi in _batches(n, oh * ow * kh * kw * cg * xp.itemsize):
            cols = patches(xg[lo:hi], (kh, kw), s, d, out_hw).reshape(-1, kh * kw * cg)
            out[lo:hi, :, :, g * og:(g + 1) * og] = gemm.product(cols, fg, out_dtype).reshape(
                hi - lo, oh, ow, og)
    return out


def _fused_conv(x, f, s, d, pads, out_hw, out) -> bool:
    """One-group float32/float64 Conv2D as blocks of output rows shared out over the threads
    (`workshare`), each block numba's im2col into the thread's scratch buffer (about
    BLOCK_BYTES: it stays in cache for the GEMM) and one GEMM written into `out`; False when it
    does not take the call (the numpy path then runs)."""
    n = x.shape[0]
    kh, kw, cin, cout = f.shape
    oh, ow = out_hw
    depth = kh * kw * cin
    if (x.dtype != out.dtype or x.dtype.kind != "f" or not x.flags.c_contiguous
            or n * oh * ow * depth < gemm_fused.MIN_ELEMENTS or not gemm_fused.available(x)):
        return False
    fm = f.reshape(depth, cout)
    flat = out.reshape(n * oh * ow, cout)
    parts = workshare.blocks(n * oh, ow * depth * cout,
                             max_rows=max(1, BLOCK_BYTES // (ow * depth * x.itemsize)))

    def block(i):
        lo, hi = parts[i]
        cols = _scratch((hi - lo) * ow, depth, x.dtype)
        gemm_fused.im2col(x, cols, (lo, hi), (kh, kw), s, d, pads, out_hw)
        gemm.product(cols, fm, out.dtype, out=flat[lo * ow:hi * ow], shared=False)
    workshare.run(len(parts), block)
    return True


#: the im2col block of the fused Conv2D (bytes)
BLOCK_BYTES = 2 << 20
_SCRATCH = threading.local()


def _scratch(rows, cols, dtype):
    """A [rows, cols] array of the calling thread's scratch memory (reused by its next call)."""
    size = rows * cols * np.dtype(dtype).itemsize
    buf = getattr(_SCRATCH, "buf", None)
    if buf is None or buf.size < size:
        buf = np.empty(max(size, BLOCK_BYTES), np.uint8)
        if size <= 4 * BLOCK_BYTES:         # a larger one (a single huge row) is not kept
            _SCRATCH.buf = buf
    return buf[:size].view(dtype).reshape(rows, cols)


def conv2d_backprop_input(in_shape, f, dy, s, pads, out_dtype):
    """Conv2DBackpropInput (no dilation, no groups on CPU): cols = dy @ f^T scattered back over
    the padded input (col2im), the padding cropped."""
    n, h, w, cin = in_shape
    kh, kw, _, cout = f.shape
    _, oh, ow, _ = dy.shape
    (t, b), (lf, r) = pads
    out = np.zeros(in_shape, out_dtype)
    if out.size == 0 or dy.size == 0:
        return out
    fm = gemm.prepare(f).reshape(kh * kw * cin, cout).T
    dyp = gemm.prepare(dy)
    if _fused_backprop_input(dyp, fm, (kh, kw), s, pads, out):
        return out
    (sh, sw) = s
    for lo, hi in _batches(n, oh * ow * kh * kw * cin * 8):
        cols = gemm.product(dyp[lo:hi].reshape(-1, cout), fm, gemm.compute_dtype(dyp.dtype))
        cols = cols.reshape(hi - lo, oh, ow, kh, kw, cin)
        acc = np.zeros((hi - lo, h + t + b, w + lf + r, cin), cols.dtype)
        for a in range(kh):
            for c in range(kw):
                acc[:, a:a + (oh - 1) * sh + 1:sh, c:c + (ow - 1) * sw + 1:sw, :] += cols[:, :, :, a, c, :]
        out[lo:hi] = gemm.finish(acc[:, t:t + h, lf:lf + w, :], out_dtype)
    return out


def _fused_backprop_input(dy, fm, k, s, pads, out) -> bool:
    """float32/float64 Conv2DBackpropInput by blocks of images shared out over the threads: the
    block's cols = dy @ f^T into the thread's scratch, then numba's col2im adds them into `out`
    (the same sums in the same order as the numpy path); False when it does not take the call."""
    n, oh, ow, cout = dy.shape
    depth = fm.shape[1]
    if (dy.dtype != out.dtype or dy.dtype.kind != "f" or not dy.flags.c_contiguous
            or n * oh * ow * depth < gemm_fused.MIN_ELEMENTS or not gemm_fused.available(dy)):
        return False
    parts = workshare.blocks(n, oh * ow * depth * cout,
                             max_rows=max(1, 4 * BLOCK_BYTES // (oh * ow * depth * dy.itemsize)))

    def block(i):
        lo, hi = parts[i]
        cols, dst = _scratch((hi - lo) * oh * ow, depth, dy.dtype), out[lo:hi]
        gemm.product(dy[lo:hi].reshape(-1, cout), fm, out.dtype, out=cols, shared=False)
        gemm_fused.col2im(cols, dst, k, s, pads, (oh, ow))
        flushed = gemm.finish(dst, out.dtype)
        if flushed is not dst:
            dst[...] = flushed
    workshare.run(len(parts), block)
    return True


def conv2d_backprop_filter(x, f_shape, dy, s, pads, out_dtype):
    """Conv2DBackpropFilter (no dilation, no groups on CPU): im2col(x)^T @ dy."""
    kh, kw, cin, cout = f_shape
    n = x.shape[0]
    _, oh, ow, _ = dy.shape
    if int(np.prod(f_shape)) == 0 or x.size == 0 or dy.size == 0:
        return np.zeros(f_shape, out_dtype)
    xp = padded(gemm.prepare(x), pads)
    dyp = gemm.prepare(dy)
    total = None
    for lo, hi in _batches(n, oh * ow * kh * kw * cin * xp.itemsize):
        cols = patches(xp[lo:hi], (kh, kw), s, (1, 1), (oh, ow)).reshape(-1, kh * kw * cin)
        with np.errstate(all="ignore"):
            part = cols.T @ dyp[lo:hi].reshape(-1, cout)
        total = part if total is None else total + part
    return gemm.finish(total, out_dtype).reshape(f_shape)
