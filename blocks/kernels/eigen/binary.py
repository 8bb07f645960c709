"""Packet Pow and Atan2 (float32 and float64): Eigen's generic_pow (accurate_log2,
double-word products with Veltkamp splitting since the build has no FMA, generic_exp2,
pldexp) and patan2 (generic_atan with preciprocal: rcpps + Newton for float32, 1/x for
float64).

Written once over dtype-bound globals (FT, FTZ, BITS, ... from `_bound`): `specialize(dtype)`
binds the functions to float32's or float64's. numpy only: numba builds of this code were
measured at 1-2x numpy's speed for 9 s of compilation, not worth it."""
from __future__ import annotations

import types

import numpy as np

from . import f32, f64
from .prims import (F32, F64, I32, I64, bits32, bits64, floor, from_bits32, from_bits64, ftz32,
                    ftz64, fmax, fmin, to_f32, to_f64, trunc, where)

LOG2_C = tuple(F32(v) for v in (
    9.7010828554630279541015625e-02, -1.6896486282348632812500000e-01,
    1.7200836539268493652343750e-01, -1.7892272770404815673828125e-01,
    2.0505344867706298828125000e-01, -2.4046677350997924804687500e-01,
    2.8857553005218505859375000e-01, -3.6067414283752441406250000e-01,
    4.8089790344238281250000000e-01))
K_C0 = 1.442695041742110273474963832995854318141937255859375e+00
K_C1 = -7.2134751588268664068692714863573201000690460205078125e-01
C0H, C1H = F32(K_C0), F32(K_C1)
C0L, C1L = F32(K_C0 - float(C0H)), F32(K_C1 - float(C1H))
Q64 = tuple(F64(v) for v in (2.87074255468000586e-9, 2.38957980901884082e-8,
                             2.31032094540014656e-7, 2.27279857398537278e-6,
                             2.31271023278625638e-5, 2.47556738444535513e-4,
                             2.88543873228900172e-3))
ATAN_F32 = (F32(1.12026982009410858154296875e-01), F32(7.296695709228515625e-01),
            F32(8.109951019287109375e-01))
ATAN_F32_Q = (F32(1.00917108356952667236328125e-02), F32(2.8318560123443603515625e-01),
              F32(1.0), F32(8.109951019287109375e-01))
ATAN_F64 = tuple(F64(v) for v in (2.6667153866462208e-05, 3.0917513112462781e-03,
                                  5.2574296781008604e-02, 3.0409318473444424e-01,
                                  7.5365702534987022e-01, 8.2704055405494614e-01,
                                  3.3004361289279920e-01))
ATAN_F64_Q = tuple(F64(v) for v in (2.7311202462436667e-04, 1.0899150928962708e-02,
                                    1.1548932646420353e-01, 4.9716458728465573e-01, 1.0,
                                    9.3705509168587852e-01, 3.3004361289279920e-01))


def _recip64(x):
    return ftz64(F64(1) / x)


def _bound(dtype):
    """The dtype-bound globals of the functions below (numpy versions)."""
    if dtype == "float32":
        ft, it = F32, I32
        return dict(
            FT=ft, FTZ=ftz32, BITS=bits32, FROM_BITS=from_bits32, TO_F=to_f32, EXP=f32.exp,
            LDEXP=f32.ldexp, RECIP=f32.reciprocal, SPLIT=ft(4097.0),
            MANT=it(23), EMASK=it(255), EBIAS=it(126), KEEP=it(~(255 << 23)),
            SIGN=it(-2**31), HALF_PREV=it(0x3EFFFFFF), HALF_BITS=it(0x3F000000),
            ONE_BITS=it(0x3F800000), PI_BITS=it(0x40490FDB), MAG=it(2**31 - 1),
            LN2=ft(0.693147180559945309417232121458176568), PIO2=ft(np.pi / 2),
            EXP2_HI=ft(129.0), EXP2_LO=ft(-(128 + 24 - 1)),
            HUGE=ft(ft(128) * ft(0.693147180559945309417232121458176568)) / ft(2.0 ** -23),
            ATAN_P=ATAN_F32, ATAN_Q=ATAN_F32_Q)
    ft, it = F64, I64
    return dict(
        FT=ft, FTZ=ftz64, BITS=bits64, FROM_BITS=from_bits64, TO_F=to_f64, EXP=f64.exp,
        LDEXP=f64.ldexp, RECIP=_recip64, SPLIT=ft(2.0 ** 27 + 1),
        MANT=it(52), EMASK=it(2047), EBIAS=it(1022), KEEP=it(~(2047 << 52)),
        SIGN=it(-2**63), HALF_PREV=it(0x3FDFFFFFFFFFFFFF), HALF_BITS=it(0x3FE0000000000000),
        ONE_BITS=it(0x3FF0000000000000), PI_BITS=it(0x400921FB54442D18), MAG=it(2**63 - 1),
        LN2=ft(0.693147180559945309417232121458176568), PIO2=ft(np.pi / 2),
        EXP2_HI=ft(1025.0), EXP2_LO=ft(-(1024 + 53 - 1)),
        HUGE=(ft(1024) * ft(0.693147180559945309417232121458176568)) / ft(2.0 ** -52),
        ATAN_P=ATAN_F64, ATAN_Q=ATAN_F64_Q)


# ----------------------------------------------------------------- double-word arithmetic

def split(x):
    """Veltkamp splitting: x = hi + lo, hi with half the mantissa."""
    g = FTZ(SPLIT * x)
    hi = FTZ(FTZ(x - g) + g)
    return hi, FTZ(x - hi)


def twoprod(x, y):
    """Dekker's exact product (non-FMA build): p_hi + p_lo = x * y."""
    xh, xl = split(x)
    yh, yl = split(y)
    hi = FTZ(x * y)
    lo = FTZ(FTZ(xh * yh) + -hi)
    lo = FTZ(FTZ(xh * yl) + lo)
    lo = FTZ(FTZ(xl * yh) + lo)
    lo = FTZ(FTZ(xl * yl) + lo)
    return hi, lo


def fast_twosum(x, y):
    s = FTZ(x + y)
    return s, FTZ(y - FTZ(s - x))


def fast_twosum4(xh, xl, yh, yl):
    rh, rl = fast_twosum(xh, yh)
    s = FTZ(FTZ(yl + rl) + xl)
    return fast_twosum(rh, s)


def twoprod3(xh, xl, y):
    ch, cl1 = twoprod(xh, y)
    cl2 = FTZ(xl * y)
    th, tl1 = fast_twosum(ch, cl2)
    tl2 = FTZ(tl1 + cl1)
    return fast_twosum(th, tl2)


def twoprod4(xh, xl, yh, yl):
    a_h, a_l = twoprod3(xh, xl, yh)
    b_h, b_l = twoprod3(xh, xl, yl)
    return fast_twosum4(a_h, a_l, b_h, b_l)


def pround(x):
    """Eigen's pround: trunc(x + copysign(0.49999997, x))."""
    return trunc(FTZ(x + FROM_BITS((BITS(x) & SIGN) | HALF_PREV)))


def frexp(x):
    """pfrexp_generic on DAZ'd x: mantissa in [0.5, 1) and exponent; 0/inf/NaN: (x, 0)."""
    ib = BITS(x)
    be = (ib >> MANT) & EMASK
    special = (x == FT(0)) | (be == EMASK)
    m = where(special, x, FROM_BITS((ib & KEEP) | HALF_BITS))
    e = where(special, FT(0), TO_F(be - EBIAS))
    return m, e


# ----------------------------------------------------------------- log2, exp2, pow

def log2_f32(z):
    """accurate_log2<float>: log2(z) as a double-word (hi, lo) for z in [sqrt(.5), sqrt(2))."""
    x = FTZ(z - FT(1))
    p = LOG2_C[0] + FT(0) * x
    for c in LOG2_C[1:]:
        p = FTZ(FTZ(p * x) + c)
    ph, pl = twoprod(x, p)
    ph, pl = fast_twosum4(C1H + FT(0) * x, C1L + FT(0) * x, ph, pl)
    ph, pl = twoprod3(ph, pl, x)
    ph, pl = fast_twosum4(C0H + FT(0) * x, C0L + FT(0) * x, ph, pl)
    return twoprod3(ph, pl, x)


def log2_f64(x):
    """accurate_log2<double>: 2 atanh((x-1)/(x+1)) / ln 2 in double-word arithmetic."""
    one = FT(1.0)
    th, tl = twoprod3(FT(2.88539008177792677) + FT(0) * x,
                      FT(4.07660016854549667e-17) + FT(0) * x, FTZ(x - one))
    y = FTZ(x + one)
    t_hi = FTZ(th / y)                                   # doubleword_div_fp(th, tl, y)
    pi_hi, pi_lo = twoprod(t_hi, y)
    d = FTZ(FTZ(FTZ(th - pi_hi) - pi_lo) + tl)
    t_lo = FTZ(d / y)
    rh, rl = fast_twosum(t_hi, t_lo)
    r2h, r2l = twoprod4(rh, rl, rh, rl)
    r4h, r4l = twoprod4(r2h, r2l, r2h, r2l)
    qe = FTZ(FTZ(Q64[0] * r4h) + Q64[2])
    qo = FTZ(FTZ(Q64[1] * r4h) + Q64[3])
    qe = FTZ(FTZ(qe * r4h) + Q64[4])
    qo = FTZ(FTZ(qo * r4h) + Q64[5])
    qe = FTZ(FTZ(qe * r4h) + Q64[6])
    q = FTZ(FTZ(qo * r2h) + qe)
    ph, pl = twoprod3(r2h, r2l, q)
    p1h, p1l = fast_twosum4(FT(0.0400377511598501157) + FT(0) * x,
                            FT(-4.77726582251425391e-19) + FT(0) * x, ph, pl)
    p2h, p2l = twoprod4(r2h, r2l, p1h, p1l)
    r_h, r_l = fast_twosum(one + FT(0) * x, p2h)
    s = FTZ(p2l + r_l)
    p3h, p3l = fast_twosum(r_h, s)
    return twoprod4(p3h, p3l, rh, rl)


def exp2(x):
    """generic_exp2: exp(ln2 * x) with the product's low part folded in as (1 + lo)."""
    x = fmax(fmin(x, EXP2_HI), EXP2_LO)
    ph, pl = twoprod(LN2 + FT(0) * x, x)
    return FTZ(EXP(ph) * FTZ(FT(1) + pl))


def pow_impl(x, y):
    """generic_pow_impl for x >= 0 (already |x|, DAZ'd)."""
    m, e = frexp(x)
    mask = m < FT(0.70710678118654752440)
    m = where(mask, FTZ(FT(2) * m), m)
    e = where(mask, e - FT(1), e)
    rh, rl = LOG2(m)
    f1h, f1l = twoprod(e, y)
    f2h, f2l = twoprod3(rh, rl, y)
    fh, fl = fast_twosum4(f1h, f1l, f2h, f2l)
    nz = pround(fh)
    rz = FTZ(fh - nz)
    rz = FTZ(rz + fl)
    nr = pround(rz)
    rz = FTZ(rz - nr)
    nz = FTZ(nz + nr)
    return LDEXP(exp2(rz), nz)


def pow_(x0, y0):
    """generic_pow: the core on |x|, then IEEE special cases by select, in Eigen's order."""
    x, y = FTZ(x0), FTZ(y0)
    inf, zero, one, nan = FT(np.inf), FT(0), FT(1), FT(np.nan)
    xa = np.abs(x)
    p = pow_impl(xa, y)
    x_neg = x < zero
    x_zero = x == zero
    x_one = x == one
    x_sign = BITS(x) < 0
    x_abs_gt_one = one < xa
    x_abs_inf = xa == inf
    ya = np.abs(y)
    y_abs_inf = ya == inf
    y_neg = y < zero
    y_zero = y == zero
    y_one = y == one
    y_int = (floor(y) == y) & (y_abs_inf == False)            # noqa: E712 - also numba scalars
    y2 = FTZ(y * FT(0.5))
    y_odd_int = y_int & (pround(y2) != y2)
    p = where(x_neg & (y_int == False), nan, p)               # noqa: E712
    p = where(x_zero, where(y_neg, inf, zero), p)
    p = where(x_sign & y_odd_int, -p, p)
    inf_y = where((y_neg & x_zero) | (y_neg ^ x_abs_gt_one), inf, zero)
    inf_y = where(x == -one, one, inf_y)
    p = where(HUGE <= ya, inf_y, p)
    pos_inf_v = where(y_neg, zero, inf)
    neg_inf_v = where(y_odd_int, -pos_inf_v, pos_inf_v)
    p = where(x_abs_inf, where(x_neg, neg_inf_v, pos_inf_v), p)
    p = where((x != x) | (y != y), nan, p)
    return where(y_one, x0, where(x_one | y_zero, one, p))   # x0: the raw bits (pselect)


# ----------------------------------------------------------------- atan, atan2

def polevl(x, c):
    p = c[0] + FT(0) * x
    for k in c[1:]:
        p = FTZ(FTZ(p * x) + k)
    return p


def atan(x0):
    """generic_atan: |x| > 1 goes through atan(1/x) = pi/2 - atan(x); rational in x^2."""
    x = FTZ(x0)
    xa = np.abs(x)
    sign = BITS(x) & SIGN
    large = FT(1) < xa
    r = where(large, RECIP(xa), xa)
    r2 = FTZ(r * r)
    p = FTZ(r * FTZ(polevl(r2, ATAN_P) / polevl(r2, ATAN_Q)))
    res = where(large, FTZ(PIO2 - p), p)
    return FROM_BITS(BITS(res) ^ sign)


def atan2_(y0, x0):
    """patan2: atan(y / x) plus the quadrant shift; |x| == |y| and x = y = 0 by select."""
    x, y = FTZ(x0), FTZ(y0)
    xb, yb = BITS(x), BITS(y)
    ysm = yb & SIGN
    rsm = ysm ^ (xb & SIGN)
    shift = FROM_BITS(where(xb < 0, PI_BITS, SIGN - SIGN) | ysm)
    same = np.abs(x) == np.abs(y)
    # por(x, y) == 0 compiles to an integer test: denormal bits count as nonzero here
    zero = ((BITS(x0) | BITS(y0)) & MAG) == 0
    arg = FTZ(y / x)
    arg = where(same, FROM_BITS(ONE_BITS | rsm), arg)
    arg = where(zero, FROM_BITS(rsm), arg)
    return FTZ(atan(arg) + shift)


FUNCS = ("split", "twoprod", "fast_twosum", "fast_twosum4", "twoprod3", "twoprod4", "pround",
         "frexp", "log2_f32", "log2_f64", "exp2", "pow_impl", "pow_", "polevl", "atan",
         "atan2_")


def specialize(dtype, bound=None):
    """{name: function} of FUNCS with their dtype-bound globals (and `bound` overrides)."""
    g = dict(globals())
    g.update(_bound(dtype))
    g.update(bound or {})
    for name in FUNCS:
        fn = globals()[name]
        g[name] = types.FunctionType(fn.__code__, g, name)
    g["LOG2"] = g["log2_f32" if dtype == "float32" else "log2_f64"]
    return g


_G32, _G64 = specialize("float32"), specialize("float64")
pow32, pow64 = _G32["pow_"], _G64["pow_"]
atan2_32, atan2_64 = _G32["atan2_"], _G64["atan2_"]
