"""Packet Pow and Atan2 (float32 and float64): Eigen's generic_pow (accurate_log2,
double-word products with Veltkamp splitting since the build has no FMA, generic_exp2,
pldexp) and patan2 (generic_atan with preciprocal: rcpps + Newton for float32, 1/x for
float64). numpy only; dtype-generic through the constants of `_T`."""
from __future__ import annotations

import numpy as np

from . import f32, f64
from .prims import ftz32, ftz64, where


class _T:
    """Per-dtype constants and helpers (float32 or float64)."""

    def __init__(self, dt):
        self.dt = dt = np.dtype(dt)
        f = dt.type
        self.f = f
        self.wide = dt == np.float64
        self.ib = np.int64 if self.wide else np.int32
        self.mant = 52 if self.wide else 23
        self.split = f(2.0 ** 27 + 1) if self.wide else f(4097.0)
        self.ftz = ftz64 if self.wide else ftz32
        self.exp = f64.exp if self.wide else f32.exp
        self.ln2 = f(0.693147180559945309417232121458176568)
        self.pi = f(np.pi)
        self.pio2 = f(np.pi / 2)
        self.half_prev = np.array([0x3FDFFFFFFFFFFFFF if self.wide else 0x3EFFFFFF],
                                  self.ib).view(dt)[0]
        self.sign = np.array([-9223372036854775808 if self.wide else -2147483648], self.ib)[0]


T32, T64 = _T(np.float32), _T(np.float64)


def _bits(t, x):
    return np.asarray(x, t.dt).view(t.ib)


def _from(t, i):
    return np.asarray(i, t.ib).view(t.dt)


def _split(t, x):
    g = t.ftz(t.split * x)
    hi = t.ftz(t.ftz(x - g) + g)
    return hi, t.ftz(x - hi)


def twoprod(t, x, y):
    """Veltkamp/Dekker exact product (non-FMA build): p_hi + p_lo = x * y."""
    ft = t.ftz
    xh, xl = _split(t, x)
    yh, yl = _split(t, y)
    hi = ft(x * y)
    lo = ft(ft(xh * yh) + -hi)
    lo = ft(ft(xh * yl) + lo)
    lo = ft(ft(xl * yh) + lo)
    lo = ft(ft(xl * yl) + lo)
    return hi, lo


def fast_twosum(t, x, y):
    s = t.ftz(x + y)
    return s, t.ftz(y - t.ftz(s - x))


def fast_twosum4(t, xh, xl, yh, yl):
    rh, rl = fast_twosum(t, xh, yh)
    s = t.ftz(t.ftz(yl + rl) + xl)
    return fast_twosum(t, rh, s)


def twoprod3(t, xh, xl, y):
    ch, cl1 = twoprod(t, xh, y)
    cl2 = t.ftz(xl * y)
    th, tl1 = fast_twosum(t, ch, cl2)
    tl2 = t.ftz(tl1 + cl1)
    return fast_twosum(t, th, tl2)


def pround(t, x):
    b = (_bits(t, x) & t.sign) | _bits(t, t.half_prev)
    return np.trunc(t.ftz(x + _from(t, b)))


def frexp(t, x):
    """pfrexp_generic on DAZ'd x: mantissa in [0.5, 1) and exponent; 0/inf/NaN: (x, 0)."""
    ib = _bits(t, x)
    be = (ib >> t.mant) & (2047 if t.wide else 255)
    special = (x == 0) | (be == (2047 if t.wide else 255))
    keep = ~np.asarray(((2047 if t.wide else 255) << t.mant), t.ib)
    half = _bits(t, t.f(0.5))
    m = where(special, x, _from(t, (ib & keep) | half))
    e = where(special, t.f(0), (be - (1022 if t.wide else 126)).astype(t.dt))
    return m, e


LOG2_C = np.array([9.7010828554630279541015625e-02, -1.6896486282348632812500000e-01,
                   1.7200836539268493652343750e-01, -1.7892272770404815673828125e-01,
                   2.0505344867706298828125000e-01, -2.4046677350997924804687500e-01,
                   2.8857553005218505859375000e-01, -3.6067414283752441406250000e-01,
                   4.8089790344238281250000000e-01], np.float32)
K_C0 = 1.442695041742110273474963832995854318141937255859375e+00
K_C1 = -7.2134751588268664068692714863573201000690460205078125e-01
Q64 = [2.87074255468000586e-9, 2.38957980901884082e-8, 2.31032094540014656e-7,
       2.27279857398537278e-6, 2.31271023278625638e-5, 2.47556738444535513e-4,
       2.88543873228900172e-3]


def log2_f32(t, z):
    """accurate_log2<float>: log2(z) as a double-word (hi, lo) for z in [sqrt(.5), sqrt(2))."""
    f = np.float32
    c0h = f(K_C0)
    c0l = f(K_C0 - float(c0h))
    c1h = f(K_C1)
    c1l = f(K_C1 - float(c1h))
    x = ftz32(z - f(1))
    p = LOG2_C[0] + 0 * x
    for c in LOG2_C[1:]:
        p = ftz32(ftz32(p * x) + c)
    ph, pl = twoprod(t, x, p)
    ph, pl = fast_twosum4(t, c1h + 0 * x, c1l + 0 * x, ph, pl)
    ph, pl = twoprod3(t, ph, pl, x)
    ph, pl = fast_twosum4(t, c0h + 0 * x, c0l + 0 * x, ph, pl)
    return twoprod3(t, ph, pl, x)


def _twoprod4(t, xh, xl, yh, yl):
    a_h, a_l = twoprod3(t, xh, xl, yh)
    b_h, b_l = twoprod3(t, xh, xl, yl)
    return fast_twosum4(t, a_h, a_l, b_h, b_l)


def log2_f64(t, x):
    """accurate_log2<double>: 2 atanh((x-1)/(x+1)) / ln 2 in double-word arithmetic."""
    f, ft = np.float64, ftz64
    one = f(1.0)
    th, tl = twoprod3(t, f(2.88539008177792677) + 0 * x, f(4.07660016854549667e-17) + 0 * x,
                      ft(x - one))
    y = ft(x + one)
    # doubleword_div_fp(th, tl, y)
    t_hi = ft(th / y)
    pi_hi, pi_lo = twoprod(t, t_hi, y)
    d = ft(ft(ft(th - pi_hi) - pi_lo) + tl)
    t_lo = ft(d / y)
    rh, rl = fast_twosum(t, t_hi, t_lo)
    r2h, r2l = _twoprod4(t, rh, rl, rh, rl)
    r4h, r4l = _twoprod4(t, r2h, r2l, r2h, r2l)
    q12, q10, q8, q6, q4, q2, q0 = (f(v) for v in Q64)
    qe = ft(ft(q12 * r4h) + q8)
    qo = ft(ft(q10 * r4h) + q6)
    qe = ft(ft(qe * r4h) + q4)
    qo = ft(ft(qo * r4h) + q2)
    qe = ft(ft(qe * r4h) + q0)
    q = ft(ft(qo * r2h) + qe)
    ph, pl = twoprod3(t, r2h, r2l, q)
    p1h, p1l = fast_twosum4(t, f(0.0400377511598501157) + 0 * x, f(-4.77726582251425391e-19) + 0 * x,
                            ph, pl)
    p2h, p2l = _twoprod4(t, r2h, r2l, p1h, p1l)
    r_h, r_l = fast_twosum(t, one + 0 * x, p2h)
    s = ft(p2l + r_l)
    p3h, p3l = fast_twosum(t, r_h, s)
    return _twoprod4(t, p3h, p3l, rh, rl)


def exp2(t, x):
    """generic_exp2: exp(ln2 * x) with the product's low part folded in as (1 + lo)."""
    if t.wide:
        x = f64.fmax(f64.fmin(x, np.float64(1025.0)), np.float64(-(1024 + 53 - 1)))
    else:
        x = f32.fmax(f32.fmin(x, np.float32(129.0)), np.float32(-(128 + 24 - 1)))
    ph, pl = twoprod(t, t.ln2 + 0 * x, x)
    return t.ftz(t.exp(ph) * t.ftz(t.f(1) + pl))


def pow_impl(t, x, y):
    """generic_pow_impl for x >= 0 (already |x|, DAZ'd)."""
    m, e = frexp(t, x)
    mask = m < t.f(0.70710678118654752440)
    m = where(mask, t.ftz(t.f(2) * m), m)
    e = where(mask, e - t.f(1), e)
    rh, rl = (log2_f64 if t.wide else log2_f32)(t, m)
    f1h, f1l = twoprod(t, e, y)
    f2h, f2l = twoprod3(t, rh, rl, y)
    fh, fl = fast_twosum4(t, f1h, f1l, f2h, f2l)
    nz = pround(t, fh)
    rz = t.ftz(fh - nz)
    rz = t.ftz(rz + fl)
    nr = pround(t, rz)
    rz = t.ftz(rz - nr)
    nz = t.ftz(nz + nr)
    er = exp2(t, rz)
    return (f64.ldexp if t.wide else f32.ldexp)(er, nz)


def pow_(t, x0, y0):
    """generic_pow: the core on |x|, then IEEE special cases by select, in Eigen's order."""
    ft, f = t.ftz, t.f
    x, y = ft(x0), ft(y0)
    inf, zero, one = f(np.inf), f(0), f(1)
    nan = f(np.nan)
    xa = np.abs(x)
    p = pow_impl(t, xa, y)
    x_neg = x < zero
    x_zero = x == zero
    x_one = x == one
    x_sign = _bits(t, x) < 0
    x_abs_gt_one = one < xa
    x_abs_inf = xa == inf
    ya = np.abs(y)
    y_abs_inf = ya == inf
    y_neg = y < zero
    y_zero = y == zero
    y_one = y == one
    y_int = (np.floor(y) == y) & ~y_abs_inf
    y2 = ft(y * f(0.5))
    y_even = pround(t, y2) == y2
    y_odd_int = y_int & ~y_even
    huge = (f(1024) * t.ln2) / f(np.finfo(t.dt).eps) if t.wide else \
        np.float32(np.float32(128) * t.ln2) / np.float32(np.finfo(np.float32).eps)
    y_huge = huge <= ya
    p = where(x_neg & ~y_int, nan, p)
    p = where(x_zero, where(y_neg, inf, zero), p)
    p = where(x_sign & y_odd_int, -p, p)
    inf_y = where((y_neg & x_zero) | (y_neg ^ x_abs_gt_one), inf, zero)
    inf_y = where(x == f(-1), one, inf_y)
    p = where(y_huge, inf_y, p)
    pos_inf_v = where(y_neg, zero, inf)
    neg_inf_v = where(y_odd_int, -pos_inf_v, pos_inf_v)
    p = where(x_abs_inf, where(x_neg, neg_inf_v, pos_inf_v), p)
    p = where(np.isnan(x) | np.isnan(y), nan, p)
    return where(y_one, x0, where(x_one | y_zero, one, p))     # x0: the raw bits (pselect)


ATAN_F32 = (np.float32(1.12026982009410858154296875e-01), np.float32(7.296695709228515625e-01),
            np.float32(8.109951019287109375e-01))
ATAN_F32_Q = (np.float32(1.00917108356952667236328125e-02), np.float32(2.8318560123443603515625e-01),
              np.float32(1.0), np.float32(8.109951019287109375e-01))
ATAN_F64 = tuple(np.float64(v) for v in (2.6667153866462208e-05, 3.0917513112462781e-03,
                                         5.2574296781008604e-02, 3.0409318473444424e-01,
                                         7.5365702534987022e-01, 8.2704055405494614e-01,
                                         3.3004361289279920e-01))
ATAN_F64_Q = tuple(np.float64(v) for v in (2.7311202462436667e-04, 1.0899150928962708e-02,
                                           1.1548932646420353e-01, 4.9716458728465573e-01, 1.0,
                                           9.3705509168587852e-01, 3.3004361289279920e-01))


def _polevl(t, x, c):
    p = c[0] + 0 * x
    for k in c[1:]:
        p = t.ftz(t.ftz(p * x) + k)
    return p


def atan(t, x0):
    """generic_atan: |x| > 1 goes through atan(1/x) = pi/2 - atan(x); rational in x^2."""
    ft = t.ftz
    x = ft(x0)
    xa = np.abs(x)
    sign = _bits(t, x) & t.sign
    large = t.f(1) < xa
    inv = f32.reciprocal(xa) if not t.wide else ft(t.f(1) / xa)
    r = where(large, inv, xa)
    r2 = ft(r * r)
    a, b = (ATAN_F64, ATAN_F64_Q) if t.wide else (ATAN_F32, ATAN_F32_Q)
    p = ft(r * ft(_polevl(t, r2, a) / _polevl(t, r2, b)))
    res = where(large, ft(t.pio2 - p), p)
    return _from(t, _bits(t, res) ^ sign)


def atan2_(t, y0, x0):
    """patan2: atan(y / x) plus the quadrant shift; |x| == |y| and x = y = 0 by select."""
    ft = t.ftz
    x, y = ft(x0), ft(y0)
    xb, yb = _bits(t, x), _bits(t, y)
    x_sign = xb < 0
    ysm = yb & t.sign
    rsm = ysm ^ (xb & t.sign)
    shift = _from(t, np.where(x_sign, _bits(t, t.pi), 0) | ysm)
    same = np.abs(x) == np.abs(y)
    # por(x, y) == 0 compiles to an integer test: denormal bits count as nonzero here
    raw = (_bits(t, x0) | _bits(t, y0)) & ~t.sign
    zero = raw == 0
    arg = ft(y / x)
    arg = where(same, _from(t, _bits(t, t.f(1)) | rsm), arg)
    arg = where(zero, _from(t, rsm), arg)
    return ft(atan(t, arg) + shift)


def pow32(x, y):
    return pow_(T32, x, y)


def pow64(x, y):
    return pow_(T64, x, y)


def atan2_32(y, x):
    return atan2_(T32, y, x)


def atan2_64(y, x):
    return atan2_(T64, y, x)
