"""The machinery every element-wise math/nn block shares: TF's BCast (static shapes, its error
text), the arithmetic of each dtype as TF's CPU kernels do it, and TF's packet/tail split.

- `Arith(dtype, packet)` is one dtype's arithmetic along one path: `inp` reads a stored array as
  the kernel computes on it (float32/float64/bfloat16 denormals read as zero: DAZ; float16 and
  bfloat16 widened to float32), `r` rounds one elementary result (FTZ; half types round to their
  storage type after every op, bfloat16 NaNs made +qNaN in packets), `out` stores a result, and
  `add/sub/mul/div` are TF's ops (complex products as Eigen's packets, `ieee.cdiv`).
- `run(formula, dtype, arrays, shape)` broadcasts the inputs to `shape` and evaluates
  `formula(arith, *flat_inputs)` as Eigen does: packets over the first n - n % width elements
  of the flat output, the scalar path over the rest (a formula may differ between the two
  through `arith.packet`). Formulas take and return stored (raw) arrays, so selections can
  pass an input's bits through untouched.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.errors import OpError
from blockgraph.core.shapes import fmt

from . import ieee
from .eigen.halfs import narrow, widen
from .eigen.prims import ftz32

#: elements per packet (AVX): the scalar tail is the last n % width of the flat output
WIDTH = {"float32": 8, "float64": 4, "float16": 8, "bfloat16": 8, "complex64": 4,
         "complex128": 2}
HALF = ("float16", "bfloat16")


# ----------------------------------------------------------------------------- shapes

def incompatible(a, b) -> OpError:
    return OpError(f"Incompatible shapes: {fmt(a)} vs. {fmt(b)}")


def bcast_static(a, b):
    """TF's broadcast of two static shapes (dims may be None; None = unknown rank): the output
    shape, or OpError with TF's kernel text when known dims cannot broadcast."""
    if a is None or b is None:
        return None
    n = max(len(a), len(b))
    pa, pb = (1,) * (n - len(a)) + tuple(a), (1,) * (n - len(b)) + tuple(b)
    out = []
    for x, y in zip(pa, pb):
        if x == 1:
            out.append(y)
        elif y == 1 or x == y:
            out.append(x)
        elif x is None:
            out.append(y if y is not None else None)
        elif y is None:
            out.append(x)
        else:
            raise incompatible(a, b)
    return tuple(out)


def bcast_shapes(*shapes):
    """The broadcast of several static shapes, with TF's error for the first pair that fails."""
    out = shapes[0]
    for s in shapes[1:]:
        try:
            out = bcast_static(out, s)
        except OpError:
            raise incompatible(shapes[0], s) from None
    return out


def gradient_args(s0, s1):
    """BroadcastGradientArgs (TF's BCast grad reduction indices): (r0, r1), the axes of the
    broadcast shape along which s0 / s1 were broadcast — a dim of 1 facing a larger one or a
    missing leading dim; a dim of 1 on both sides counts for both. Identical shapes: none."""
    s0, s1 = list(s0), list(s1)
    if s0 == s1:
        return [], []
    n = max(len(s0), len(s1))
    a = [1] * (n - len(s0)) + s0
    b = [1] * (n - len(s1)) + s1
    r0, r1 = [], []
    for i, (x, y) in enumerate(zip(a, b)):
        if x == y:
            if x == 1:
                r0.append(i)
                r1.append(i)
        elif x == 1:
            r0.append(i)
        elif y == 1:
            r1.append(i)
        else:
            raise incompatible(s0, s1)
    return r0, r1


# ----------------------------------------------------------------------------- arithmetic

class Arith:
    """One dtype's arithmetic along TF's packet (`packet=True`) or scalar path."""

    __slots__ = ("dtype", "packet", "np", "kind", "width")

    def __init__(self, dtype: str, packet: bool):
        self.dtype, self.packet = dtype, packet
        self.np = dt.to_numpy(dtype)
        self.kind = ("half" if dtype in HALF else "float" if dtype in ("float32", "float64")
                     else "complex" if dtype in dt.COMPLEX else "int")
        self.width = WIDTH.get(dtype, 1)

    # stored <-> computed
    def inp(self, x):
        """A stored array as the kernel's arithmetic reads it."""
        k = self.kind
        if k == "float":
            return ieee.daz(x)
        if k == "half":
            w = widen(x)
            return ftz32(w) if self.dtype == "bfloat16" else w
        if k == "complex":
            return _cftz(x)
        return x

    def r(self, v):
        """One elementary result, rounded as the kernel stores it between ops."""
        k = self.kind
        if k == "float":
            return ieee.ftz(v)
        if k == "half":
            return widen(narrow(ftz32(np.asarray(v, np.float32)), self.np, self.packet))
        if k == "complex":
            return _cftz(v)
        return v

    def out(self, v):
        """A computed result in the storage dtype."""
        if self.kind == "half":
            return narrow(ftz32(np.asarray(v, np.float32)), self.np, self.packet)
        return np.asarray(v, self.np) if np.asarray(v).dtype != self.np else v

    def const(self, value):
        """A constant of the dtype, as the computation sees it (half types: rounded, in float32)."""
        if self.kind == "half":
            return widen(np.asarray([value], self.np))[0]
        return self.np.type(value)

    # elementary ops on computed values (x86 keeps the first operand's NaN when both are NaN)
    def add(self, a, b):
        return self.r(_first_nan(a, b, a + b))

    def sub(self, a, b):
        return self.r(_first_nan(a, b, a - b))

    def mul(self, a, b):
        if self.kind == "complex":
            return ieee.cmul(a, b) if self.packet else cmul_c99(a, b)
        return self.r(_first_nan(a, b, a * b))

    def div(self, a, b):
        if self.kind == "complex":
            return ieee.cdiv(a, b, path="packet" if self.packet else "scalar")
        return self.r(_first_nan(a, b, a / b))


def _first_nan(a, b, r):
    """r = a (op) b with x86's rule where both operands are NaN: a's payload, quieted (numpy's
    SIMD loops may return b's)."""
    if r.dtype.kind != "f" or not np.isnan(r).any():
        return r
    return np.where(a != a, a + a, r)


def cmul_c99(a, b):
    """Complex `a * b` as compiled C does it (the scalar path): Eigen's packet formula, and
    where both parts come out NaN, libgcc's __mulsc3 recovery of infinities."""
    r = ieee.cmul(a, b)
    both = np.isnan(r.real) & np.isnan(r.imag)
    if not both.any():
        return r
    a, b = np.broadcast_arrays(_cftz(a), _cftz(b))
    ar, ai, br, bi = a.real.copy(), a.imag.copy(), b.real.copy(), b.imag.copy()
    ft = ar.dtype.type
    one, zero = ft(1), ft(0)

    def box(v):
        return np.copysign(np.where(np.isinf(v), one, zero), v)

    def zero_nan(v):
        return np.where(np.isnan(v), np.copysign(zero, v), v)
    inf_a = both & (np.isinf(ar) | np.isinf(ai))
    ar, ai = np.where(inf_a, box(ar), ar), np.where(inf_a, box(ai), ai)
    br, bi = np.where(inf_a, zero_nan(br), br), np.where(inf_a, zero_nan(bi), bi)
    inf_b = both & (np.isinf(br) | np.isinf(bi))
    br, bi = np.where(inf_b, box(br), br), np.where(inf_b, box(bi), bi)
    ar, ai = np.where(inf_b, zero_nan(ar), ar), np.where(inf_b, zero_nan(ai), ai)
    prods = [a.real * b.real, a.imag * b.imag, a.real * b.imag, a.imag * b.real]
    over = both & ~inf_a & ~inf_b & np.logical_or.reduce([np.isinf(p) for p in prods])
    ar, ai, br, bi = (np.where(over, zero_nan(v), v) for v in (ar, ai, br, bi))
    recalc = inf_a | inf_b | over
    inf = ft(np.inf)
    re = np.where(recalc, inf * (ar * br - ai * bi), r.real)
    im = np.where(recalc, inf * (ar * bi + ai * br), r.imag)
    out = np.empty(r.shape, r.dtype)
    out.real, out.imag = re, im
    return out


def _cftz(z):
    z = np.asarray(z)
    if z.dtype.kind != "c":          # a real part, rounded on its own
        return ieee.ftz(z)
    re, im = ieee.daz(z.real), ieee.daz(z.imag)
    if re is z.real and im is z.imag:
        return z
    out = np.empty(z.shape, z.dtype)
    out.real, out.imag = re, im
    return out


def computed(fn):
    """A formula on computed values (`fn(arith, *inputs_as_read)` -> computed result) as a
    formula on stored arrays."""
    def formula(m, *xs):
        return m.out(fn(m, *(m.inp(x) for x in xs)))
    formula.__name__ = fn.__name__
    return formula


# ----------------------------------------------------------------------------- driver

def flat_inputs(arrays, shape):
    """Each input as a flat array of the output's size, or a 0-d array when it has one
    element (a scalar operand is never materialised)."""
    n = int(np.prod(shape)) if shape else 1
    out = []
    for a in arrays:
        a = np.asarray(a)
        if a.size == 1 and n != 1:
            out.append(a.reshape(()))
        elif a.shape == tuple(shape):
            out.append(a.reshape(-1))
        else:
            out.append(np.broadcast_to(a, shape).reshape(-1))
    return out, n


def run(formula, dtype: str, arrays, shape, out_dtype=None, scalar_only=False):
    """`formula` over the inputs broadcast to `shape`, split into TF's packet part and scalar
    tail (`scalar_only`: a functor without packet code, scalar everywhere); the result has
    `shape` and the stored dtype of `out_dtype` (default: `dtype`)."""
    shape = tuple(shape)
    flat, n = flat_inputs(arrays, shape)
    out_np = dt.to_numpy(out_dtype or dtype)
    width = WIDTH.get(dtype, 1)
    k = 0 if scalar_only else n - n % width
    with np.errstate(all="ignore"):
        if k == n or k == 0:
            res = formula(Arith(dtype, k == n), *flat)
            res = np.asarray(res)
            if res.shape != (n,):
                res = np.broadcast_to(res, (n,))
            return _as(res, out_np).reshape(shape)
        out = np.empty(n, out_np)
        out[:k] = formula(Arith(dtype, True), *(_part(a, 0, k) for a in flat))
        out[k:] = formula(Arith(dtype, False), *(_part(a, k, n) for a in flat))
    return out.reshape(shape)


def lowered(formula, dtype: str, shapes, shape, out_dtype=None, scalar_only=False):
    """`run` specialised for inputs of `shapes`: fn(*arrays) with the broadcast, the packet/tail
    split and the arithmetic worked out once; no np.errstate (a lowered run enters it once)."""
    shape = tuple(shape)
    n = int(np.prod(shape)) if shape else 1
    out_np = dt.to_numpy(out_dtype or dtype)
    width = WIDTH.get(dtype, 1)
    k = 0 if scalar_only else n - n % width
    how = tuple(0 if math_size(s) == 1 and n != 1 else 1 if tuple(s) == shape else 2
                for s in shapes)

    def flat(arrays):
        return [a.reshape(()) if h == 0 else a.reshape(-1) if h == 1 else
                np.broadcast_to(a, shape).reshape(-1) for a, h in zip(arrays, how)]
    if k == n or k == 0:
        m = Arith(dtype, k == n)

        def whole(*arrays):
            res = np.asarray(formula(m, *flat(arrays)))
            if res.shape != (n,):
                res = np.broadcast_to(res, (n,))
            return _as(res, out_np).reshape(shape)
        return whole
    packet, scalar = Arith(dtype, True), Arith(dtype, False)

    def split(*arrays):
        xs = flat(arrays)
        out = np.empty(n, out_np)
        out[:k] = formula(packet, *(_part(a, 0, k) for a in xs))
        out[k:] = formula(scalar, *(_part(a, k, n) for a in xs))
        return out.reshape(shape)
    return split


def math_size(shape) -> int:
    return int(np.prod(shape)) if len(shape) else 1


def _part(a, lo, hi):
    return a if a.ndim == 0 else a[lo:hi]


def _as(a, np_dtype):
    return a if a.dtype == np_dtype else a.astype(np_dtype)
