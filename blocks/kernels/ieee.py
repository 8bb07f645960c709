"""x86 floating-point behaviour of TF's CPU threads, emulated on numpy arrays.

TF runs its kernels with denormals flushed (FTZ and DAZ set in MXCSR): a denormal float32 or
float64 input reads as a zero of the same sign, and a denormal result becomes one. float16 and
bfloat16 are computed in float32 (their denormals are normal there) and are not flushed by this.
"""
from __future__ import annotations

import numpy as np

_TINY = {np.dtype(np.float32): np.float32(np.finfo(np.float32).tiny),
         np.dtype(np.float64): np.float64(np.finfo(np.float64).tiny)}


def daz(a):
    """`a` with float32/float64 denormals replaced by zeros of their sign (other dtypes as is);
    returns `a` itself when it holds none (no copy)."""
    a = np.asarray(a)
    tiny = _TINY.get(a.dtype)
    if tiny is None:
        return a
    mag = np.abs(a)
    sub = (mag < tiny) & (mag > 0)
    if not sub.any():
        return a
    return np.where(sub, np.copysign(a.dtype.type(0), a), a)


ftz = daz   # the same flush, applied to a result

#: arrays up to this size are checked by `clean` in a Python loop (cheaper than numpy's calls)
SMALL = 32
_TINY_F = {np.dtype(np.float32): float(np.finfo(np.float32).tiny),
           np.dtype(np.float64): float(np.finfo(np.float64).tiny)}


def clean(a: np.ndarray) -> bool:
    """Whether float32/float64 array `a` holds no NaN and no denormal: then DAZ and FTZ leave it
    as is, and no NaN rule applies to an operation on it (the lowered kernels' fast paths are
    exact on clean values only). Zeros and infinities are clean."""
    tiny = _TINY_F[a.dtype]
    if a.size <= SMALL:
        for v in (a.tolist() if a.ndim == 1 else a.reshape(-1).tolist()):
            if not (v >= tiny or v <= -tiny or v == 0):
                return False
        return True
    m = np.abs(a)
    lo = m.min()                      # NaN when there is one
    if lo >= tiny:
        return True
    return not (np.isnan(lo) or ((m < tiny) & (m > 0)).any())


def cmul(a, b):
    """Complex `a * b` as Eigen's packets compute it (no fused multiply-add): re = ar*br - ai*bi,
    im = ar*bi + ai*br, each product and sum rounded to the component type (numpy's own complex
    multiply may fuse them)."""
    a, b = np.asarray(a), np.asarray(b)
    dtype = np.result_type(a, b)
    ar, ai, br, bi = daz(a.real), daz(a.imag), daz(b.real), daz(b.imag)
    with np.errstate(all="ignore"):
        re = daz(daz(ar * br) - daz(ai * bi))
        im = daz(daz(ar * bi) + daz(ai * br))
    out = np.empty(np.broadcast_shapes(a.shape, b.shape), dtype)
    out.real, out.imag = re, im
    return out


BF16_NAN = np.uint16(0x7fc0)


def bf16_packet_nans(a):
    """bfloat16 `a` with the NaNs of its packet part made +qNaN (0x7fc0), as Eigen's 8-lane
    float32 -> bfloat16 conversion writes them; the scalar tail (the last n % 8 elements of the
    flat output) keeps the NaN's sign. Returns `a` unchanged when there is no such NaN."""
    flat = np.ascontiguousarray(a).reshape(-1)
    n = flat.size - flat.size % 8
    bits = flat.view(np.uint16)
    nan = np.isnan(flat[:n].astype(np.float32)) & (bits[:n] != BF16_NAN)
    if not nan.any():
        return a
    out = flat.copy()
    out.view(np.uint16)[:n][nan] = BF16_NAN
    return out.reshape(np.shape(a))


def _complex_parts(z):
    z = np.asarray(z)
    return daz(np.ascontiguousarray(z.real)), daz(np.ascontiguousarray(z.imag))


def _cdiv_packet(a, b):
    """Eigen's pdiv_complex: the divisor scaled by max(|c|, |d|) per lane, then
    (a * conj(b')) / (c'^2 + d'^2) / max — each op rounded, denormals flushed."""
    ar, ai = _complex_parts(a)
    c, d = _complex_parts(b)
    ca, da = np.abs(c), np.abs(d)
    m_re = np.where(da > ca, da, ca)            # pmax(y_abs, y_abs_flip), per lane
    m_im = np.where(ca > da, ca, da)
    cs, ds = ftz(c / m_re), ftz(d / m_im)
    cs2, ds2 = ftz(cs * cs), ftz(ds * ds)
    den_re, den_im = ftz(cs2 + ds2), ftz(ds2 + cs2)
    nds = -ds                                   # pmul(a, pconj(b')) as Eigen's addsub product
    r_re = ftz(ftz(ar * cs) - ftz(ai * nds))
    r_im = ftz(ftz(ar * nds) + ftz(ai * cs))
    return ftz(ftz(r_re / den_re) / m_re), ftz(ftz(r_im / den_im) / m_im)


def _cdiv_scalar(a, b):
    """std::complex division as TF's scalar path runs it: libgcc's classic __divsc3/__divdc3
    (Smith's algorithm in the component type, C99's recovery of infinities and zeros)."""
    a_, b_ = _complex_parts(a)
    c, d = _complex_parts(b)
    a_, b_, c, d = np.broadcast_arrays(a_, b_, c, d)
    ft = c.dtype.type
    one, zero, inf = ft(1), ft(0), ft(np.inf)
    small = np.abs(c) < np.abs(d)
    r1 = ftz(c / d)
    den1 = ftz(ftz(c * r1) + d)
    x1 = ftz(ftz(ftz(a_ * r1) + b_) / den1)
    y1 = ftz(ftz(ftz(b_ * r1) - a_) / den1)
    r2 = ftz(d / c)
    den2 = ftz(ftz(d * r2) + c)
    x2 = ftz(ftz(ftz(b_ * r2) + a_) / den2)
    y2 = ftz(ftz(b_ - ftz(a_ * r2)) / den2)
    x, y = np.where(small, x1, x2), np.where(small, y1, y2)
    both = np.isnan(x) & np.isnan(y)
    if both.any():
        zc = both & (c == 0) & (d == 0) & ~(np.isnan(a_) & np.isnan(b_))
        s_inf = np.copysign(inf, c)
        x, y = np.where(zc, s_inf * a_, x), np.where(zc, s_inf * b_, y)
        rest = both & ~zc
        ia = rest & (np.isinf(a_) | np.isinf(b_)) & np.isfinite(c) & np.isfinite(d)
        aa = np.copysign(np.where(np.isinf(a_), one, zero), a_)
        bb = np.copysign(np.where(np.isinf(b_), one, zero), b_)
        x = np.where(ia, inf * (aa * c + bb * d), x)
        y = np.where(ia, inf * (bb * c - aa * d), y)
        ic = rest & ~ia & (np.isinf(c) | np.isinf(d)) & np.isfinite(a_) & np.isfinite(b_)
        cc = np.copysign(np.where(np.isinf(c), one, zero), c)
        dd = np.copysign(np.where(np.isinf(d), one, zero), d)
        x = np.where(ic, zero * (a_ * cc + b_ * dd), x)
        y = np.where(ic, zero * (b_ * cc - a_ * dd), y)
    return x, y


_CWIDTH = {np.dtype(np.complex64): 4, np.dtype(np.complex128): 2}


def cdiv(a, b, path="split"):
    """Complex `a / b` as TF's CPU kernels divide: Eigen's packet division (pdiv_complex) on the
    first n - n % width elements of the flat (broadcast) result and libgcc's scalar division on
    the rest (width 4 for complex64, 2 for complex128); `path="packet"` or `"scalar"` applies
    one of them to every element."""
    a, b = np.asarray(a), np.asarray(b)
    dtype = np.result_type(a, b)
    shape = np.broadcast_shapes(a.shape, b.shape)
    n = int(np.prod(shape))
    fa = np.broadcast_to(a, shape).reshape(-1)
    fb = np.broadcast_to(b, shape).reshape(-1)
    k = {"packet": n, "scalar": 0}.get(path, n - n % _CWIDTH[np.dtype(dtype)])
    out = np.empty(n, dtype)
    with np.errstate(all="ignore"):
        if k:
            out.real[:k], out.imag[:k] = _cdiv_packet(fa[:k], fb[:k])
        if k < n:
            out.real[k:], out.imag[k:] = _cdiv_scalar(fa[k:], fb[k:])
    return out.reshape(shape)
