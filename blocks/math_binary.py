"""Broadcasting binary arithmetic: Add, AddV2, Sub, Mul, Div, RealDiv, DivNoNan, FloorDiv,
FloorMod, TruncateDiv, TruncateMod, Mod, Maximum, Minimum, Pow, SquaredDifference, Atan2.

One table row per op: its registered dtypes and its formula (blocks/kernels/elementwise.py
evaluates it along TF's packet/tail split, with TF's DAZ/FTZ and half-type rounding). Integer
division and Pow raise TF's run-time errors; the fused kernels for large float32 Add/Mul live in
blocks/kernels/cwise_fused.py. Gradients: math_binary_grad.py.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.errors import OpError
from blocks._cwise import cwise
from blocks.kernels import cwise_fused
from blocks.kernels.elementwise import computed

F, C, I, U = dt.FLOATS, dt.COMPLEX, dt.SIGNED, dt.UNSIGNED
ALL_ARITH = F + I + U + C
SIGNED_FLOAT = F + I
DIV_INT = F + I + U              # FloorDiv, FloorMod, TruncateDiv, Maximum, Minimum
FMOD = ("float32", "float64", "int32", "int64")


# ----------------------------------------------------------------------------- run-time checks

def _nonempty(*arrays):
    return int(np.prod(np.broadcast_shapes(*(np.shape(a) for a in arrays)))) > 0


def _div_check(message):
    def check(T, x, y):
        if dt.is_integer(T) and _nonempty(x, y) and not np.all(y):
            raise OpError(message)
    return check


INT_DIV_ZERO = _div_check("Integer division by zero")
TRUNC_ZERO = _div_check("Unexpected error in binary operator (only integer div and mod should "
                        "have errors)")


def _pow_check(T, x, y):
    if T in I and _nonempty(x, y) and np.any(y < 0):
        raise OpError("Integers to negative integer powers are not allowed")


# ----------------------------------------------------------------------------- formulas

@computed
def _add(m, x, y):
    return m.add(x, y)


def _add_any(m, x, y):
    return x + y if m.dtype == "string" else _add(m, x, y)


@computed
def _sub(m, x, y):
    return m.sub(x, y)


@computed
def _mul(m, x, y):
    return m.mul(x, y)


def _nonzero(y):
    return np.where(y == 0, np.ones_like(y), y)


def _trunc_div_int(x, y):
    y = _nonzero(y)
    q = np.floor_divide(x, y)
    if x.dtype.kind == "i":
        q = q + ((np.remainder(x, y) != 0) & ((x < 0) != (y < 0))).astype(q.dtype)
    return q


@computed
def _div(m, x, y):
    if m.kind == "int":
        return _trunc_div_int(x, y)
    return m.div(x, y)


def _div_no_nan(m, x, y):
    if m.kind == "complex":      # a zero test on the bits, then a zero numerator
        return _div_no_nan_complex(m, x, y)
    a, b = m.inp(x), m.inp(y)
    q = m.div(a, b)
    return m.out(np.where(b == 0, np.zeros_like(q), q))


def _div_no_nan_complex(m, x, y):
    zero_bits = (y.real == 0) & (y.imag == 0)
    a, b = m.inp(x), m.inp(y)
    num = m.mul(a, np.conj(b))
    q = m.div(a, b)
    return np.where(zero_bits | (num == 0), np.zeros_like(q), q)


@computed
def _floor_div(m, x, y):
    if m.kind == "int":
        return np.floor_divide(x, _nonzero(y))
    return m.r(np.floor(m.div(x, y)))


@computed
def _truncate_div(m, x, y):
    if m.kind == "int":
        return _trunc_div_int(x, y)
    return m.r(np.trunc(m.div(x, y)))


def fmod(m, x, y):
    """C fmod as TF's kernels call it on stored values: exact (denormal x kept), a NaN operand
    returned quieted (x's first), a zero or denormal divisor or an infinite x give the x86
    default NaN."""
    if m.kind == "int":
        return np.fmod(x, _nonzero(y))
    ft = x.dtype.type
    bad = (m.inp(y) == 0) | np.isinf(x)
    r = np.fmod(x, np.where(bad, ft(1), y))
    default = -np.abs(ft(np.nan))
    r = np.where(bad, default, r)
    return np.where(np.isnan(x), x + x, np.where(np.isnan(y), y + y, r))


def _fmod_stored(m, x, y):
    if m.kind == "half":
        return m.out(fmod(m, m.inp(x) if m.dtype == "float16" else _wide(x),
                          m.inp(y) if m.dtype == "float16" else _wide(y)))
    return fmod(m, x, y)


def _wide(x):
    from blocks.kernels.eigen.halfs import widen
    return widen(x)


def _floor_mod(m, x, y):
    """TF's google_floor_fmod: t = fmod(x, y); t + y where t != 0 has the other sign than y."""
    if m.kind == "int":
        return np.remainder(x, _nonzero(y))
    if m.kind == "half":      # fmodf on the widened values, exact, stored without a flush
        from blocks.kernels.eigen.halfs import narrow
        t = narrow(fmod(m, _wide(x), _wide(y)), m.np, False)
    else:
        t = fmod(m, x, y)
    ti, yi = m.inp(t), m.inp(y)
    fix = (ti != 0) & ((yi < 0) != (ti < 0))
    return np.where(fix, m.out(m.add(ti, yi)), t)


def _max_min(is_max):
    def formula(m, x, y):
        if m.kind == "int":
            return np.maximum(x, y) if is_max else np.minimum(x, y)
        a, b = m.inp(x), m.inp(y)
        better = (b > a) if is_max else (b < a)
        worse = (a > b) if is_max else (a < b)
        if m.packet and m.dtype in ("float32", "float64"):
            r = np.where(worse, a, b)                   # float/double packets: ties give y
        else:
            r = np.where(better, b, a)                  # ties keep x
        if m.dtype == "bfloat16" and not m.packet:      # the scalar tail returns the operand
            r = np.where(better, y, x)
            return np.where(np.isnan(a), x, np.where(np.isnan(b), y, r))
        r = m.out(r)
        xs, ys = (x, y) if m.kind != "half" else (x, y)
        return np.where(np.isnan(a), xs, np.where(np.isnan(b), ys, r))
    formula.__name__ = "_maximum" if is_max else "_minimum"
    return formula


def _ipow(x, y):
    res = np.ones_like(x)
    base, e = x.copy(), y.copy()
    while np.any(e > 0):
        odd = (e & 1).astype(bool)
        res = np.where(odd, res * base, res)
        base = base * base
        e = e >> 1
    return res


def _pow(m, x, y):
    if m.kind == "int":
        return _ipow(*np.broadcast_arrays(x, y))
    # complex (scalar only): glibc's cpow = cexp(y * clog(x)), the product as C computes it
    return np.exp(m.mul(m.inp(y), np.log(m.inp(x))))


@computed
def _squared_difference(m, x, y):
    d = m.sub(x, y)
    return m.mul(d, np.conj(d) if m.kind == "complex" else d)


# ----------------------------------------------------------------------------- declarations

#: the formulas the fused kernels hand NaN results back to
FORMULAS = {"Add": _add_any, "AddV2": _add, "Sub": _sub, "Mul": _mul}

XY = ("x", "y")
cwise("Add", XY, F + I[:3] + ("int64", "uint8") + C + ("string",), _add_any, aliases=(),
      doc="x + y with broadcasting (strings: concatenation).", fused=cwise_fused.kernel("Add"),
      plain=np.add, plain_ints=True)
cwise("AddV2", XY, ALL_ARITH, _add, doc="x + y with broadcasting.",
      fused=cwise_fused.kernel("AddV2"), plain=np.add, plain_ints=True)
cwise("Sub", XY, ALL_ARITH, _sub, aliases=("Subtract",), doc="x - y with broadcasting.",
      fused=cwise_fused.kernel("Sub"), plain=np.subtract, plain_ints=True)
cwise("Mul", XY, ALL_ARITH, _mul, aliases=("Multiply",), doc="x * y with broadcasting.",
      fused=cwise_fused.kernel("Mul"), plain=np.multiply, plain_ints=True)
cwise("Div", XY, ALL_ARITH, _div, check=INT_DIV_ZERO, plain=np.divide,
      doc="x / y with broadcasting (integers truncate; division by zero is an error).")
cwise("RealDiv", XY, F + C, _div, doc="x / y for floats and complex, with broadcasting.",
      plain=np.divide)
cwise("DivNoNan", XY, F + C, _div_no_nan, doc="x / y, 0 where y is 0.")
cwise("FloorDiv", XY, DIV_INT, _floor_div, check=INT_DIV_ZERO, doc="floor(x / y).")
cwise("FloorMod", XY, DIV_INT, _floor_mod, check=INT_DIV_ZERO, scalar_only=True,
      doc="x - floor(x / y) * y: the remainder with the divisor's sign.")
cwise("TruncateDiv", XY, DIV_INT, _truncate_div, check=TRUNC_ZERO, doc="trunc(x / y).")
cwise("TruncateMod", XY, FMOD, _fmod_stored, check=TRUNC_ZERO,
      doc="C fmod: the remainder with the dividend's sign.")
cwise("Mod", XY, FMOD, _fmod_stored, check=INT_DIV_ZERO,
      doc="C fmod: the remainder with the dividend's sign.")
cwise("Maximum", XY, DIV_INT, _max_min(True), doc="max(x, y), NaN-propagating.")
cwise("Minimum", XY, DIV_INT, _max_min(False), doc="min(x, y), NaN-propagating.")
cwise("Pow", XY, F + ("int32", "int16", "int8", "int64") + C, _pow, eigen_op="Pow", scalar_only=True,
      check=_pow_check, doc="x ^ y.")
cwise("SquaredDifference", XY, F + ("int32", "int64") + C, _squared_difference,
      doc="(x - y) * conj(x - y).")
cwise("Atan2", ("y", "x"), F, None, eigen_op="Atan2", out="z",
      doc="atan2(y, x): the angle of the point (x, y).")
