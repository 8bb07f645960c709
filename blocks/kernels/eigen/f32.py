"""float32 packet kernels: Eigen's Packet8f math (AVX, no FMA: pmadd(a, b, c) is a*b + c
rounded twice), written with the primitives of prims.py so numba can compile the same source
per element (fused.py). Every function takes the raw input (denormals included) and applies
DAZ itself; intermediate results that can be denormal are flushed where Eigen's can be.
Sources: Eigen/src/Core/arch/Default/GenericPacketMathFunctions.h, AVX/MathFunctions.h,
Core/functors/UnaryFunctors.h (logistic), SpecialFunctionsImpl.h (erf), TF relu/softplus ops.
"""
from __future__ import annotations

import numpy as np

from .prims import (F32, I32, U64, nan_first, where, fmin, fmax, floor, bits32, from_bits32, cvtt32,
                    ftz32, to_f32)
from . import approx

ZERO, ONE, HALF, TWO = F32(0.0), F32(1.0), F32(0.5), F32(2.0)
MINUS_ONE = F32(-1.0)
SIGN = I32(-2147483648)
INF = F32(np.inf)
FNAN_ALL = I32(-1)                       # por(x, all-ones mask): NaN 0xffffffff


# --- exp (pexp_float)
EXP_HI, EXP_LO = F32(88.723), F32(-104.0)
LOG2EF = F32(1.44269504088896341)
C1, C2 = F32(-0.693359375), F32(2.12194440e-4)
P2, P3 = F32(0.49999988079071044921875), F32(0.16666518151760101318359375)
P4, P5 = F32(4.166965186595916748046875e-2), F32(8.36894474923610687255859375e-3)
P6 = F32(1.37449637986719608306884765625e-3)


def ldexp(a, m):
    """pldexp_generic: a * 2^m (m a float32 integer) in four exact-power steps, each flushed."""
    e = cvtt32(fmin(fmax(m, F32(-278.0)), F32(278.0)))
    b = e >> 2
    c = from_bits32((b + 127) << 23)
    out = ftz32(ftz32(ftz32(a * c) * c) * c)
    b2 = e - 3 * b
    c2 = from_bits32((b2 + 127) << 23)
    return ftz32(out * c2)


def exp(x0):
    """pexp_float."""
    x = ftz32(x0)
    zero_mask = x < EXP_LO
    xc = fmin(x, EXP_HI)
    m = floor(xc * LOG2EF + HALF)
    r = m * C1 + xc
    r = m * C2 + r
    r2 = r * r
    p_even = r2 * P6 + P4
    p_odd = r2 * P5 + P3
    p_even = r2 * p_even + P2
    p_low = r + ONE
    y = r * p_odd + p_even
    y = r2 * y + p_low
    return where(zero_mask, ZERO, fmax(ldexp(y, m), x))


# --- log (plog_impl_float)
SQRTHF = F32(0.707106781186547524)
LA0, LA1, LA2 = F32(0.18256296349849254), F32(1.0000000190281063), F32(1.0000000190281136)
LB0, LB1, LB2, LB3 = (F32(0.049616247954120038), F32(0.59923249590823520),
                      F32(1.4999999999999927), F32(1.0))
LN2 = F32(0.693147180559945309417232121458176568)


def log(x0):
    """plog_float: frexp, rational approximation of log(1+x), + e*ln2; specials by select."""
    x = ftz32(x0)
    ib = bits32(x)
    be = (ib >> 23) & 255
    special = (x == ZERO) | (be == 255)
    m = where(special, x, from_bits32((ib & -2139095041) | 1056964608))
    e = where(special, ZERO, to_f32(be - 126))
    mask = m < SQRTHF
    tmp = where(mask, m, ZERO)
    xm = m - ONE
    e = e - where(mask, ONE, ZERO)
    xm = xm + tmp
    p = (LA0 * xm + LA1) * xm + LA2
    p = xm * p
    q = ((LB0 * xm + LB1) * xm + LB2) * xm + LB3
    r = p / q
    r = e * LN2 + r
    invalid = (x < ZERO) | (x != x)
    r = where(x == INF, INF, r)
    r = where(invalid, from_bits32(FNAN_ALL + 0 * ib), r)
    return where(x == ZERO, -INF, r)


def expm1(x0):
    """generic_expm1 (Kahan): u = exp(x); (u - 1) * x / log(u) with exact-one/-1/inf cases."""
    x = ftz32(x0)
    u = exp(x0)
    one_mask = u == ONE
    um1 = u - ONE
    neg_one_mask = um1 == MINUS_ONE
    logu = log(u)
    pos_inf = logu == u
    q = nan_first(x, logu, x / logu)
    r = nan_first(um1, q, um1 * q)
    r = where(pos_inf, u, r)
    return where(one_mask, x0, where(neg_one_mask, MINUS_ONE, r))


def log1p(x0):
    """generic_log1p (Kahan): x * log(1+x) / ((1+x) - 1), x itself where 1+x == 1 or inf."""
    x = ftz32(x0)
    xp1 = x + ONE
    small = xp1 == ONE
    log1 = log(xp1)
    inf_mask = xp1 == log1
    d = xp1 - ONE
    q = nan_first(log1, d, log1 / d)
    large = nan_first(x, q, x * q)
    return where(small | inf_mask, x, large)


# --- sin/cos (psincos_float, non-FMA reduction)
TWO_OVER_PI = F32(0.636619746685028076171875)
ROUND_MAGIC = F32(12582912.0)
R1, R2 = F32(-1.5703125), F32(-0.000483989715576171875)
R3, R4 = F32(1.62865035235881805419921875e-07), F32(5.5644315544167710640977020375430583953857421875e-11)
CS0, CS1 = F32(2.4372266125283204019069671630859375e-05), F32(-0.00138865201734006404876708984375)
CS2 = F32(0.041666619479656219482421875)
SN0 = F32(-0.0001959234114083702898469196984621021329076029360294342041015625)
SN1 = F32(0.0083326873655616851693794799871284340042620897293090820312500000)
SN2 = F32(-0.1666666203982298255503735617821803316473960876464843750000000000)
HUGE_SIN, HUGE_COS = F32(25966.0), F32(18838.0)
TWO_OVER_PI_BITS = np.array([
    0x00000028, 0x000028be, 0x0028be60, 0x28be60db, 0xbe60db93, 0x60db9391, 0xdb939105, 0x9391054a,
    0x91054a7f, 0x054a7f09, 0x4a7f09d5, 0x7f09d5f4, 0x09d5f47d, 0xd5f47d4d, 0xf47d4d37, 0x7d4d3770,
    0x4d377036, 0x377036d8, 0x7036d8a5, 0x36d8a566, 0xd8a5664f, 0xa5664f10, 0x664f10e4, 0x4f10e410,
    0x10e41000, 0xe4100000], dtype=np.uint64)
PIO2_62 = np.float64(3.4061215800865545e-19)
M32 = U64(0xFFFFFFFF)


def trig_reduce_huge(xa):
    """Eigen's trig_reduce_huge (Payne-Hanek with 96 bits of 2/pi) for finite xa >= huge_th:
    returns (reduced float32, quadrant int)."""
    xi = bits32(xa).astype(U64) & M32
    e = ((xi >> U64(23)) - U64(118)) & M32
    xi = (((xi & U64(0x007FFFFF)) | U64(0x00800000)) << (e & U64(7))) & M32
    i = (e >> U64(3)).astype(np.int64)
    t1 = TWO_OVER_PI_BITS[i - 1]
    t2 = TWO_OVER_PI_BITS[i + 3]
    t3 = TWO_OVER_PI_BITS[i + 7]
    p = xi * t3
    p = xi * t2 + (p >> U64(32))
    p = (((xi * t1) & M32) << U64(32)) + p
    q = (p + (U64(1) << U64(61))) >> U64(62)
    p = p - (q << U64(62))
    r = (p.view(np.int64).astype(np.float64) * PIO2_62).astype(F32)
    return r, q.astype(I32)


def _sincos(x0, sine, huge_th=None):
    """psincos_float; huge_th overrides the Payne-Hanek threshold (complex exp computes sin
    and cos together with cos' threshold)."""
    x0 = ftz32(x0)
    xa = np.abs(x0)
    y = xa * TWO_OVER_PI
    y_round = y + ROUND_MAGIC
    y_int = bits32(y_round)
    y = y_round - ROUND_MAGIC
    x = y * R1 + xa
    x = y * R2 + x
    x = y * R3 + x
    x = y * R4 + x
    if huge_th is None:
        huge_th = HUGE_SIN if sine else HUGE_COS
    huge = (xa >= huge_th) & (xa < F32(np.inf))
    if huge.any():
        hx, hq = trig_reduce_huge(xa[huge])
        x = x.copy(); y_int = y_int.copy()
        x[huge] = hx
        y_int[huge] = hq
    if sine:
        sign_bit = (bits32(x0) ^ (y_int << 30)) & SIGN
    else:
        sign_bit = ((y_int + 1) << 30) & SIGN
    poly_mask = (y_int & 1) == 0
    x2 = x * x
    y1 = CS0 * x2 + CS1
    y1 = y1 * x2 + CS2
    y1 = y1 * x2 + F32(-0.5)
    y1 = y1 * x2 + ONE
    y2 = SN0 * x2 + SN1
    y2 = y2 * x2 + SN2
    y2 = y2 * x2
    y2 = y2 * x + x
    r = where(poly_mask, y2, y1) if sine else where(poly_mask, y1, y2)
    return from_bits32(bits32(r) ^ sign_bit)


def sin(x0):
    """psin_float."""
    return _sincos(x0, True)


def cos(x0):
    """pcos_float."""
    return _sincos(x0, False)


# --- tanh (ptanh_float, non-FMA clamp)
TANH_CLAMP = F32(7.90738964080810547)
TA = (F32(1.394553628e-8), F32(2.102733560e-5), F32(3.520756727e-3), F32(1.340216100e-1))
TB = (F32(8.015776984e-7), F32(3.326951409e-4), F32(2.597254514e-2), F32(4.673548340e-1), F32(1.0))


def tanh(x0):
    """ptanh_float: clamp to +-7.907, [9/8] odd/even rational; also Eigen's scalar tanh."""
    x = fmax(fmin(ftz32(x0), TANH_CLAMP), -TANH_CLAMP)
    x2 = x * x
    x3 = x2 * x
    p = ((TA[0] * x2 + TA[1]) * x2 + TA[2]) * x2 + TA[3]
    q = (((TB[0] * x2 + TB[1]) * x2 + TB[2]) * x2 + TB[3]) * x2 + TB[4]
    p = x3 * p + x
    return p / q


# --- sigmoid (scalar_logistic_op<float>::packetOp)
SIG_HI = F32(16.6355324)
SP2, SP3 = F32(0.49999141693115234375), F32(0.16666877269744873046875)
SP4, SP5 = F32(4.1898667812347412109375e-2), F32(8.33471305668354034423828125e-3)


def ldexp_fast(a, m):
    """pldexp_fast: a * 2^clamp(m + 127, 0, 255) as one multiply."""
    e = cvtt32(fmin(fmax(m + F32(127.0), ZERO), F32(255.0)))
    return ftz32(a * from_bits32(e << 23))


def sigmoid(x0):
    """exp(x/2)^2 / (1 + exp(x/2)^2) with a degree-5 exp polynomial; 0 below -104."""
    x = ftz32(x0)
    zero_mask = x < EXP_LO
    xc = fmin(x, SIG_HI) * HALF
    m = floor(xc * LOG2EF + HALF)
    r = m * C1 + xc
    r = m * C2 + r
    r2 = r * r
    p_even = r2 * SP4 + SP2
    p_odd = r2 * SP5 + SP3
    p_low = r + ONE
    p = r * p_odd + p_even
    p = r2 * p + p_low
    e = ldexp_fast(p, m)
    e = ftz32(e * e)
    return where(zero_mask, ZERO, e / (ONE + e))


# --- erf (generic_fast_erf<float>; Eigen's scalar erf runs the same formula)
EA = (F32(2.123732201653183437883853912353515625e-06), F32(2.861979592125862836837768554687500000e-04),
      F32(3.658048342913389205932617187500000000e-03), F32(5.243302136659622192382812500000000000e-02),
      F32(1.874160766601562500000000000000000000e-01), F32(1.128379106521606445312500000000000000e+00))
EB = (F32(3.89185734093189239501953125000e-05), F32(1.14329601638019084930419921875e-03),
      F32(1.47520881146192550659179687500e-02), F32(1.12945675849914550781250000000e-01),
      F32(4.99425798654556274414062500000e-01), F32(1.0))


def erf(x0):
    x = ftz32(x0)
    x2 = fmin(F32(16.0), ftz32(x * x))
    p = ((((EA[0] * x2 + EA[1]) * x2 + EA[2]) * x2 + EA[3]) * x2 + EA[4]) * x2 + EA[5]
    p = x * p
    q = ((((EB[0] * x2 + EB[1]) * x2 + EB[2]) * x2 + EB[3]) * x2 + EB[4]) * x2 + EB[5]
    r = p / q
    return fmax(fmin(r, ONE), MINUS_ONE)


# --- reciprocal / rsqrt (rcpps / rsqrtps + one Newton step)
def reciprocal(x0):
    """preciprocal<Packet8f>: x = rcp(a); t = 1 - a*x; t == t ? x*t + x : x."""
    a = ftz32(x0)
    x = approx.rcp(a)
    t = ONE - ftz32(a * x)
    return where(t == t, ftz32(x * t) + x, x)


def rsqrt(x0):
    """prsqrt<Packet8f>: x = rsqrt(a); one Newton step; x itself where that gives NaN."""
    a = ftz32(x0)
    x = approx.rsqrt(a)
    r2 = ftz32(a * x)
    half_r = ftz32(x * F32(-0.5))
    h = ftz32(r2 * x) + MINUS_ONE
    inv = ftz32(half_r * h) + x
    return where(inv != inv, x, inv)


def sqrt(x0):
    return np.sqrt(ftz32(x0))


# --- activations (tensorflow/core/kernels/relu_op_functor.h, softplus_op.h)
SELU_SCALE = F32(1.0507009873554804934193349852946)
SELU_SCALE_ALPHA = F32(1.7580993408473768599402175208123)
SOFTPLUS_THRESHOLD = F32(-13.942385)     # log(FLT_EPSILON) + 2 in float32 (glibc logf)


def elu(x0):
    """(x < 0) ? exp(x) - 1 : x."""
    x = ftz32(x0)
    return where(x < ZERO, exp(x0) - ONE, x0)


def selu(x0):
    x = ftz32(x0)
    return where(x < ZERO, SELU_SCALE_ALPHA * (exp(x0) - ONE), SELU_SCALE * x)


def softplus(x0):
    x = ftz32(x0)
    ex = exp(x0)
    return where(x > -SOFTPLUS_THRESHOLD, x0, where(x < SOFTPLUS_THRESHOLD, ex, log1p(ex)))


def softplus_grad(g0, x0):
    """gradients / (exp(-features) + 1)."""
    g = ftz32(g0)
    return ftz32(g / (exp(-ftz32(x0)) + ONE))
