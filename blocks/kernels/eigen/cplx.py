"""complex64 / complex128: Exp, Log, Tanh, Rsqrt, Reciprocal.

Packets (Packet4cf: 4 complex64, Packet2cd: 2 complex128): Exp (complex64 only) is
pexp_complex (pexp of the real part times psincos of the imaginary part, computed together
with cos' Payne-Hanek threshold), Log is plog_complex (phypot_complex, plog, patan2 -- so
rcpps for complex64), Reciprocal is pdiv_complex(1, z) (Smith-like scaling by max(|c|, |d|)).
Scalars: glibc cexp/cexpf and ctanh/ctanhf (Tanh has no complex packets), Eigen's complex_log
(cabs, log, atan2), complex_rsqrt (everywhere: no complex rsqrt packets) and libgcc's
__divsc3/__divdc3 for 1 / z. The scalar library calls run under FTZ|DAZ (native.py).
"""
from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np

from . import binary, f32, f64, libm, native
from .prims import F32, F64, ftz32, ftz64, nan_first

_LIBM = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")


def _parts(z):
    r = np.ascontiguousarray(z).view(F32 if z.dtype == np.complex64 else F64).reshape(-1, 2)
    return r[:, 0].copy(), r[:, 1].copy()


def _join(re, im, dtype):
    ft = F32 if np.dtype(dtype) == np.complex64 else F64
    out = np.empty((np.asarray(re).size, 2), ft)
    out[:, 0] = re
    out[:, 1] = im
    return out.view(dtype).reshape(-1)


def _kit(dtype):
    if np.dtype(dtype) == np.complex64:
        return F32, ftz32, f32, binary.atan2_32
    return F64, ftz64, f64, binary.atan2_64


# ----------------------------------------------------------------- packets

def exp_packet(z):
    """pexp_complex (complex64)."""
    re, im = _parts(z)
    x, y = ftz32(re), ftz32(im)
    expx = f32.exp(re)
    cos_y = f32._sincos(im, False, f32.HUGE_COS)
    sin_y = f32._sincos(im, True, f32.HUGE_COS)
    one = F32(1)
    sgn = lambda v: np.copysign(one, v)           # noqa: E731 - por(sign bits of v, 1)
    neg_inf, pos_inf = x == -np.inf, x == np.inf
    c_re = np.where(neg_inf, sgn(cos_y), cos_y)
    c_im = np.where(neg_inf, sgn(sin_y), sin_y)
    c_re = np.where(pos_inf & np.isnan(c_re), sgn(y), c_re)
    c_im = np.where(pos_inf & np.isnan(c_im), F32(0), c_im)
    r_re, r_im = ftz32(expx * c_re), ftz32(expx * c_im)
    y0 = (im.view(np.uint32) & np.uint32(0x7FFFFFFF)) == 0     # compiled as an integer test:
    return _join(np.where(y0, expx, r_re), np.where(y0, im, r_im), np.complex64)  # den != 0


def _hypot(ft, ftz, a, b, raw_zero):
    """phypot_complex: sqrt(a^2 + b^2) with one correction step; 0 where a, b are 0 (raw_zero:
    TF's compiled test reads the bits, so denormal parts are not zero there)."""
    aa, ba = np.abs(a), np.abs(b)
    a2, b2 = ftz(a * a), ftz(b * b)
    h = np.sqrt(ftz(a2 + b2))
    h_sq = ftz(h * h)
    m_h_sq = ftz(h_sq * ft(-1))
    m_a_sq = ftz(a2 * ft(-1))
    t1 = ftz(ftz(h * h) + m_h_sq)
    t2 = ftz(ftz(ba * ba) + ftz(a2 - h_sq))
    t3 = ftz(ftz(aa * aa) + m_a_sq)
    x = ftz(ftz(t1 - t2) - t3)
    h = ftz(h - ftz(x / ftz(ft(2) * h)))
    return np.where(raw_zero, ft(0), h)


def log_packet(z):
    """plog_complex: (log |z|, atan2(im, re)); +inf real part where a part is infinite."""
    ft, ftz, fk, t = _kit(z.dtype)
    re, im = _parts(z)
    a, b = ftz(re), ftz(im)
    ui = np.uint32 if ft is F32 else np.uint64
    mag = ui(0x7FFFFFFF) if ft is F32 else ui(0x7FFFFFFFFFFFFFFF)
    raw_zero = ((re.view(ui) | im.view(ui)) & mag) == 0
    h = _hypot(ft, ftz, a, b, raw_zero)
    xlogr = fk.log(h)
    arg = t(im, re)
    inf = (np.abs(a) == np.inf) | (np.abs(b) == np.inf)
    return _join(np.where(inf, ft(np.inf), xlogr), arg, z.dtype)


def reciprocal_packet(z):
    """pdiv_complex((1, 0), z)."""
    ft, ftz, fk, t = _kit(z.dtype)
    re, im = _parts(z)
    c, d = ftz(re), ftz(im)
    ca, da = np.abs(c), np.abs(d)
    m_re = fk.fmax(ca, da)          # pmax(y_abs, y_abs_flip) per lane
    m_im = fk.fmax(da, ca)
    cs, ds = ftz(c / m_re), ftz(d / m_im)
    cs2, ds2 = ftz(cs * cs), ftz(ds * ds)
    den_re, den_im = ftz(cs2 + ds2), ftz(ds2 + cs2)
    # pmul((1, 0), (cs, -ds)): re = 1*cs - 0*(-ds), im = 1*(-ds) + 0*cs
    nds = -ds
    r_re = ftz(ftz(ft(1) * cs) - ftz(ft(0) * nds))
    r_im = ftz(ftz(ft(1) * nds) + ftz(ft(0) * cs))
    r_re, r_im = ftz(r_re / den_re), ftz(r_im / den_im)
    return _join(ftz(r_re / m_re), ftz(r_im / m_im), z.dtype)


# ----------------------------------------------------------------- scalars

def _glibc1(name, z):
    f32_ = z.dtype == np.complex64
    fn = getattr(_LIBM, name + ("f" if f32_ else ""))
    loop = native.routine("cf1" if f32_ else "cd1")
    if loop is None:
        raise RuntimeError("complex scalar path needs executable memory (native.py)")
    a = np.ascontiguousarray(z).reshape(-1)
    out = np.empty_like(a)
    loop(ctypes.cast(fn, ctypes.c_void_p), a.ctypes.data, out.ctypes.data, a.size)
    return out


def exp_scalar(z):
    """cexp/cexpf; for (+inf, inf or NaN) TF's binary gives (+inf, +qNaN), where this glibc
    gives the NaN of im - im."""
    r = _glibc1("cexp", z)
    re, im = _parts(z)
    sp = (re == np.inf) & ~np.isfinite(im)
    if sp.any():
        ft = F32 if z.dtype == np.complex64 else F64
        rr, ri = _parts(r)
        ri = np.where(sp, ft(np.nan), ri)
        r = _join(rr, ri, z.dtype)
    return r


def tanh_scalar(z):
    return _glibc1("ctanh", z)


def log_scalar(z):
    """Eigen's complex_log: (log(cabs(z)), atan2(im, re)), glibc under FTZ|DAZ."""
    f32_ = z.dtype == np.complex64
    re, im = _parts(z)
    a = libm.call("hypotf" if f32_ else "hypot", re, im)
    lg = libm.call("logf" if f32_ else "log", a)
    if not f32_:
        lg = np.where(np.isnan(lg) & ~np.isnan(a), F64(np.nan), lg)
    return _join(lg, libm.call("atan2f" if f32_ else "atan2", im, re), z.dtype)


def reciprocal_scalar(z):
    """complex(1) / z as TF's binary divides: libgcc's classic __divsc3/__divdc3 (Smith's
    algorithm in the type's precision, with C99's recovery of infinities and zeros; newer
    libgcc computes float complex division in double, which TF's does not)."""
    ft, ftz, fk, t = _kit(z.dtype)
    re, im = _parts(z)
    c, d = ftz(re), ftz(im)
    one, zero = ft(1), ft(0)
    a, b = np.full_like(c, one), np.zeros_like(c)       # 1 + 0i
    small = np.abs(c) < np.abs(d)
    # |c| < |d|
    r1 = ftz(c / d)
    den1 = ftz(ftz(c * r1) + d)
    x1 = ftz(ftz(ftz(a * r1) + b) / den1)
    y1 = ftz(ftz(ftz(b * r1) - a) / den1)
    # |c| >= |d|
    r2 = ftz(d / c)
    den2 = ftz(ftz(d * r2) + c)
    x2 = ftz(ftz(ftz(b * r2) + a) / den2)
    y2 = ftz(ftz(b - ftz(a * r2)) / den2)
    x, y = np.where(small, x1, x2), np.where(small, y1, y2)
    both_nan = np.isnan(x) & np.isnan(y)
    inf = ft(np.inf)
    # c == d == 0: copysign(inf, c) * (a, b)
    zc = both_nan & (c == 0) & (d == 0)
    s_inf = np.copysign(inf, c)
    x = np.where(zc, s_inf * a, x)
    y = np.where(zc, s_inf * b, y)
    # c or d infinite (a, b finite): 0 * (a c' + b d'), 0 * (b c' - a d')
    ic = both_nan & ~zc & (np.isinf(c) | np.isinf(d))
    cc = np.copysign(np.where(np.isinf(c), one, zero), c)
    dd = np.copysign(np.where(np.isinf(d), one, zero), d)
    x = np.where(ic, zero * ftz(ftz(a * cc) + ftz(b * dd)), x)
    y = np.where(ic, zero * ftz(ftz(b * cc) - ftz(a * dd)), y)
    return _join(x, y, z.dtype)


def rsqrt(z):
    """Eigen's complex_rsqrt (no packets): 1 / sqrt(z) from hypot and one sqrt."""
    ft, ftz, fk, t = _kit(z.dtype)
    re, im = _parts(z)
    x, y = ftz(re), ftz(im)
    ax, ay = np.abs(x), np.abs(y)
    p = np.where(ax < ay, ay, ax)                       # std::max(|x|, |y|)
    q = np.where(ax < ay, ax, ay)                       # std::min(|y|, |x|)
    qp = ftz(q / p)
    absz = ftz(p * np.sqrt(ftz(ft(1) + ftz(qp * qp))))
    absz = np.where(p == 0, ft(0), absz)
    absz = np.where(np.isnan(x) | np.isnan(y), ft(np.nan), absz)
    absz = np.where(np.isinf(x) | np.isinf(y), ft(np.inf), absz)
    # |x| + abs_z: which NaN wins differs between the compiled float and double copies
    s_ = nan_first(absz, ax, absz + ax) if ft is F32 else nan_first(ax, absz, ax + absz)
    w = np.sqrt(ftz(ft(0.5) * ftz(s_)))
    woz = ftz(nan_first(w, absz, w / absz))
    d = ftz(ftz(ft(2) * w) * absz)
    neg_woz = np.where(y < 0, woz, -woz)
    r_re = np.where(x > 0, woz, ftz(ay / d))
    r_im = np.where(x > 0, ftz(-y / d), neg_woz)
    r_re = np.where(x == 0, woz, r_re)
    r_im = np.where(x == 0, neg_woz, r_im)
    inf = np.isinf(x) | np.isinf(y)
    r_re = np.where(inf, ft(0), r_re)
    r_im = np.where(inf, ft(0), r_im)
    zero = absz == 0
    r_re = np.where(zero, ft(np.inf), r_re)
    r_im = np.where(zero, ft(np.nan), r_im)
    return _join(r_re, r_im, z.dtype)


# ----------------------------------------------------------------- sqrt

def _std_max(a, b):
    return np.where(a < b, b, a)          # std::max / pmax: a when unordered


def _std_min(a, b):
    return np.where(b < a, b, a)          # std::min / pmin: a when unordered


def sqrt_packet(z):
    """psqrt_complex: |z| per lane as max * sqrt(1 + (min/max)^2), rho = sqrt((|x| + l) / 2),
    eta = (y / rho) / 2, the branch on x < 0, then infinities; a result with a NaN part
    becomes all ones in both parts (-NaN, full payload)."""
    ft, ftz, fk, t = _kit(z.dtype)
    ui = np.uint32 if ft is F32 else np.uint64
    re, im = _parts(z)
    x, y = ftz(re), ftz(im)
    ax, ay = np.abs(x), np.abs(y)
    half, one, inf = ft(0.5), ft(1), ft(np.inf)

    def hyp(a, b):                        # this lane's l from its |part| a and the other's b
        mx, mn = _std_max(a, b), _std_min(a, b)
        r = ftz(mn / mx)
        return np.where(mn == 0, mx, ftz(mx * np.sqrt(ftz(one + ftz(r * r))))), mx == 0

    l0, _ = hyp(ax, ay)
    _, max0_1 = hyp(ay, ax)
    rho0 = np.sqrt(ftz(half * ftz(ax + l0)))
    eta1 = np.where(max0_1, ft(0), ftz(half * ftz(y / rho0)))
    neg = x < 0
    sign_y = im.view(ui) & ui(1 << (8 * ft().itemsize - 1))
    n_im = (np.abs(rho0).view(ui) | sign_y).view(ft)
    r_re = np.where(neg, np.abs(eta1), rho0)
    r_im = np.where(neg, n_im, eta1)
    all_ones = np.full(r_re.shape, ~ui(0), ui).view(ft)
    nan = np.isnan(r_re) | np.isnan(r_im)  # pisnan of a complex packet: pcmp_eq of both parts
    r_re, r_im = np.where(nan, all_ones, r_re), np.where(nan, all_ones, r_im)
    inf_re, inf_im = ax == inf, ay == inf
    zero_y = ftz(ay * ft(0))
    ri_re = np.where(neg, zero_y, ax)     # (+inf, 0*|y|), flipped for -inf
    ri_im = np.where(neg, ax, zero_y)
    r_re = np.where(inf_im, inf, np.where(inf_re, ri_re, r_re))
    r_im = np.where(inf_im, y, np.where(inf_re, ri_im, r_im))
    return _join(r_re, r_im, z.dtype)


def sqrt_scalar(z):
    """Eigen's complex_sqrt with its own hypot (positive_real_hypot): w = sqrt((|x| + h) / 2),
    then (inf, y) for infinite y, (w, +-w) for x == 0, (w, y / 2w) for x > 0, else
    (|y| / 2w, +-w)."""
    ft, ftz, fk, t = _kit(z.dtype)
    re, im = _parts(z)
    x, y = ftz(re), ftz(im)
    ax, ay = np.abs(x), np.abs(y)
    p = _std_max(ax, ay)
    qp = ftz(_std_min(ay, ax) / p)
    h = np.where(p == 0, ft(0), ftz(p * np.sqrt(ftz(ft(1) + ftz(qp * qp)))))
    h = np.where(np.isnan(ax) | np.isnan(ay), ft(np.nan), h)
    h = np.where(np.isinf(ax) | np.isinf(ay), ft(np.inf), h)
    w = np.sqrt(ftz(ft(0.5) * ftz(ax + h)))
    w2 = ftz(ft(2) * w)
    pm_w = np.where(y < 0, -w, w)
    r_re = np.where(x == 0, w, np.where(x > 0, w, ftz(ay / w2)))
    r_im = np.where(x == 0, pm_w, np.where(x > 0, ftz(y / w2), pm_w))
    inf_y = np.isinf(y)
    return _join(np.where(inf_y, ft(np.inf), r_re), np.where(inf_y, y, r_im), z.dtype)
