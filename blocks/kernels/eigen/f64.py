"""float64 packet kernels: Eigen's Packet4d math (AVX, no FMA), written with prims.py names
(see f32.py). The AVX build has no Packet4d sin/cos (they need AVX2), so Sin/Cos/Pow/Atan2
float64 run glibc on every element (ops.py)."""
from __future__ import annotations

import numpy as np

from .prims import (F64, I64, nan_first, where, fmin, fmax, floor, bits64, from_bits64, ftz64,
                    cvtt64, to_f64)

ZERO, ONE, HALF, TWO = F64(0.0), F64(1.0), F64(0.5), F64(2.0)
MINUS_ONE = F64(-1.0)
INF = F64(np.inf)

# --- exp (pexp_double)
EXP_HI, EXP_LO = F64(709.784), F64(-745.519)
LOG2EF = F64(1.4426950408889634073599)
EP = (F64(1.26177193074810590878e-4), F64(3.02994407707441961300e-2), F64(9.99999999999999999910e-1))
EQ = (F64(3.00198505138664455042e-6), F64(2.52448340349684104192e-3),
      F64(2.27265548208155028766e-1), F64(2.00000000000000000009e0))
C1, C2 = F64(0.693145751953125), F64(1.42860682030941723212e-6)


def ldexp(a, m):
    """pldexp<Packet4d>: clamp m to +-2099, multiply by 2^b three times and 2^(m-3b), flushed."""
    e = cvtt64(fmin(fmax(m, F64(-2099.0)), F64(2099.0)))
    b = e >> 2
    c = from_bits64((b + 1023) << 52)
    out = ftz64(ftz64(ftz64(a * c) * c) * c)
    c2 = from_bits64((e - 3 * b + 1023) << 52)
    return ftz64(out * c2)


def exp(x0):
    """pexp_double (Cephes rational approximation)."""
    x = ftz64(x0)
    zero_mask = x < EXP_LO
    xc = fmin(x, EXP_HI)
    fx = floor(LOG2EF * xc + HALF)
    fx = where(fx != fx, ZERO, fx)          # NaN lanes: the integer conversion gives 0
    tmp = fx * C1
    z = fx * C2
    r = xc - tmp
    r = r - z
    r2 = r * r
    px = (EP[0] * r2 + EP[1]) * r2 + EP[2]
    px = px * r
    qx = ((EQ[0] * r2 + EQ[1]) * r2 + EQ[2]) * r2 + EQ[3]
    y = px / (qx - px)
    y = TWO * y + ONE
    return where(zero_mask, ZERO, fmax(ldexp(y, fx), x))


# --- log (plog_impl_double)
SQRTHF = F64(0.70710678118654752440E0)
LP = (F64(1.01875663804580931796E-4), F64(4.97494994976747001425E-1), F64(4.70579119878881725854E0),
      F64(1.44989225341610930846E1), F64(1.79368678507819816313E1), F64(7.70838733755885391666E0))
LQ = (F64(1.0), F64(1.12873587189167450590E1), F64(4.52279145837532221105E1),
      F64(8.29875266912776603211E1), F64(7.11544750618563894466E1), F64(2.31251620126765340583E1))
LN2 = F64(0.693147180559945309417232121458176568)
NAN_ALL = I64(-1)


def log(x0):
    """plog_double: frexp, x - x^2/2 + x^3 P(x)/Q(x), + e*ln2; specials by select."""
    x = ftz64(x0)
    ib = bits64(x)
    be = (ib >> 52) & 2047
    special = (x == ZERO) | (be == 2047)
    m = where(special, x, from_bits64((ib & -9218868437227405313) | 4602678819172646912))
    e = where(special, ZERO, to_f64(be - 1022))
    mask = m < SQRTHF
    tmp = where(mask, m, ZERO)
    xm = m - ONE
    e = e - where(mask, ONE, ZERO)
    xm = xm + tmp
    x2 = xm * xm
    x3 = x2 * xm
    y = LP[0] * xm + LP[1]
    y1 = LP[3] * xm + LP[4]
    y = y * xm + LP[2]
    y1 = y1 * xm + LP[5]
    y_ = y * x3 + y1
    y = LQ[0] * xm + LQ[1]
    y1 = LQ[3] * xm + LQ[4]
    y = y * xm + LQ[2]
    y1 = y1 * xm + LQ[5]
    y = y * x3 + y1
    y_ = y_ * x3
    y = y_ / y
    y = F64(-0.5) * x2 + y
    r = xm + y
    r = e * LN2 + r
    r = where(x == INF, INF, r)
    r = where(~(x >= ZERO), from_bits64(NAN_ALL + 0 * ib), r)
    return where(x == ZERO, -INF, r)


def expm1(x0):
    """generic_expm1 over pexp_double/plog_double."""
    x = ftz64(x0)
    u = exp(x0)
    one_mask = u == ONE
    um1 = u - ONE
    neg_one_mask = um1 == MINUS_ONE
    logu = log(u)
    q = nan_first(x, logu, x / logu)
    r = nan_first(um1, q, um1 * q)
    r = where(logu == u, u, r)
    return where(one_mask, x0, where(neg_one_mask, MINUS_ONE, r))


def log1p(x0):
    """generic_log1p. Which NaN wins in x * (log1 / (xp1 - 1)) depends on the compiled copy:
    log(1+x)'s 0xfff...f in TF's Log1p, x's inside Softplus (log1p_xfirst)."""
    return _log1p(x0, False)


def log1p_xfirst(x0):
    return _log1p(x0, True)


def _log1p(x0, x_nan_first):
    x = ftz64(x0)
    xp1 = x + ONE
    log1 = log(xp1)
    d = xp1 - ONE
    q = nan_first(log1, d, log1 / d)
    large = nan_first(x, q, x * q) if x_nan_first else nan_first(q, x, q * x)
    return where((xp1 == ONE) | (xp1 == log1), x, large)


# --- tanh (ptanh_double, non-FMA clamp)
TANH_CLAMP = F64(17.714196154005176)
TA = tuple(F64(v) for v in (2.6158007860482230e-23, 7.6534862268749319e-19, 3.1309488231386680e-15,
                            4.2303918148209176e-12, 2.4618379131293676e-09, 6.8644367682497074e-07,
                            9.3839087674268880e-05, 5.9809711724441161e-03, 1.5184719640284322e-01))
TB = tuple(F64(v) for v in (6.463747022670968018e-21, 5.782506856739003571e-17, 1.293019623712687916e-13,
                            1.123643448069621992e-10, 4.492975677839633985e-08, 8.785185266237658698e-06,
                            8.295161192716231542e-04, 3.437448108450402717e-02, 4.851805297361760360e-01,
                            1.0))


def _polevl(x, c):
    p = c[0] + 0 * x
    for k in c[1:]:
        p = p * x + k
    return p


def tanh(x0):
    x = fmax(fmin(ftz64(x0), TANH_CLAMP), -TANH_CLAMP)
    x2 = x * x
    x3 = x2 * x
    p = _polevl(x2, TA)
    q = _polevl(x2, TB)
    p = x3 * p + x
    return p / q


def sigmoid(x0):
    """scalar_logistic_op_impl: e = exp(x); e == inf ? 1 : e / (1 + e)."""
    return sigmoid_e(exp(x0))


def sigmoid_e(e):
    """The logistic from e = exp(x) (packet: pexp_double; tail: glibc exp)."""
    return where(e == INF, ONE, ftz64(e / (ONE + e)))


# --- erf (generic_fast_erf<double>)
EA = tuple(F64(v) for v in (
    1.9493725660006057018823477644531294572516344487667083740234375e-04,
    1.8272566210022942682217328425053892715368419885635375976562500e-03,
    4.5303363351690106863856044583371840417385101318359375000000000e-02,
    1.4215015503619179981775744181504705920815467834472656250000000e-01,
    1.1283791670955125585606992899556644260883331298828125000000000e+00))
EB = tuple(F64(v) for v in (
    2.0294484101083099089526257108317963684385176748037338256835938e-05,
    6.8117805899186819641732970609382391558028757572174072265625000e-04,
    1.0582026056098614921752165685120417037978768348693847656250000e-02,
    9.3252603143757495374188692949246615171432495117187500000000000e-02,
    4.5931062818368939559832142549566924571990966796875000000000000e-01, 1.0))
EG = tuple(F64(v) for v in (
    1.5252844933226974316088642158462107545346952974796295166015625e-04,
    1.0909912393738931124520519233556115068495273590087890625000000e-02,
    1.0628604636755033252537572252549580298364162445068359375000000e-01,
    3.3492472973137982217295416376146022230386734008789062500000000e-01,
    4.5065776215933289750026347064704168587923049926757812500000000e-01,
    2.9433039130294824659017649537418037652969360351562500000000000e-01,
    9.8792676360600226170838311645638896152377128601074218750000000e-02,
    1.7095935395503719655962981960328761488199234008789062500000000e-02,
    1.4249109729504577659398023570247460156679153442382812500000000e-03,
    4.4567378313647954771875570045835956989321857690811157226562500e-05))
ED = tuple(F64(v) for v in (
    2.041985103115789845773520028160419315099716186523437500000000e-03,
    5.316030659946043707142493417450168635696172714233398437500000e-02,
    3.426242193784684864077405563875799998641014099121093750000000e-01,
    8.565637124308049799026321124983951449394226074218750000000000e-01, 1.0,
    5.968805280570776972126623149961233139038085937500000000000000e-01,
    1.890922854723317836356244470152887515723705291748046875000000e-01,
    3.152505418656005586885981983868987299501895904541015625000000e-02,
    2.565085751861882583380047861965067568235099315643310546875000e-03,
    7.899362131678837697403017248376499992446042597293853759765625e-05))
SPLIT = F64(134217729.0)         # 2^27 + 1 (Veltkamp)


def _split(x):
    g = SPLIT * x
    hi = (x - g) + g
    return hi, x - hi


def erf(x0):
    """Small |x| <= 1: x * P(x^2)/Q(x^2); else 1 - exp(-x^2)(1 - x2_lo) R(1/x^2)/x."""
    x = ftz64(x0)
    return erf_e(x0, exp(-ftz64(x * x)))


def erf_e(x0, e):
    """erf given e = exp(-x*x) (packet: pexp_double; Eigen's scalar erf: glibc exp)."""
    x = ftz64(x0)
    x2 = ftz64(x * x)
    small = x * ftz64(_polevl(x2, EA) / _polevl(x2, EB))
    xh, xl = _split(x)
    x2_lo = ((xh * xh + -x2) + xh * xl) + xl * xh
    x2_lo = x2_lo + xl * xl
    z = e - ftz64(e * x2_lo)
    q2 = ONE / x2
    r = _polevl(q2, EG) / (x * _polevl(q2, ED))
    erfc = ftz64(z * r) + where(x < ZERO, TWO, ZERO)
    return where(ONE < x2, ONE - erfc, small)


# --- activations
SELU_SCALE = F64(1.0507009873554804934193349852946)
SELU_SCALE_ALPHA = F64(1.7580993408473768599402175208123)
SOFTPLUS_THRESHOLD = F64(-34.04365338911715)     # log(DBL_EPSILON) + 2


def elu(x0):
    return elu_e(x0, exp(x0))


def elu_e(x0, e):
    """(x < 0) ? e - 1 : x, e = exp(x)."""
    return where(ftz64(x0) < ZERO, e - ONE, x0)


def selu(x0):
    return selu_e(x0, exp(x0))


def selu_e(x0, e):
    x = ftz64(x0)
    return where(x < ZERO, SELU_SCALE_ALPHA * (e - ONE), SELU_SCALE * x)


def softplus(x0):
    ex = exp(x0)
    return softplus_e(x0, ex, log1p_xfirst(ex))


def softplus_e(x0, ex, l1):
    """x large: x; x small: e = exp(x); else l1 = log1p(e)."""
    x = ftz64(x0)
    return where(x > -SOFTPLUS_THRESHOLD, x0, where(x < SOFTPLUS_THRESHOLD, ex, l1))


def softplus_grad(g0, x0):
    return softplus_grad_e(g0, exp(-ftz64(x0)))


def softplus_grad_e(g0, e):
    """gradients / (e + 1), e = exp(-features)."""
    return ftz64(ftz64(g0) / (e + ONE))
