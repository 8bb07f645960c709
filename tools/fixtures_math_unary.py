"""Fixture set `tests/fixtures/math_unary/`: element-wise unary ops (dev-only: needs tensorflow-cpu).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_math_unary.py     # -> tests/fixtures/math_unary

Neg Abs Sign Square Sqrt Rsqrt Reciprocal Exp Expm1 Log Log1p Sin Cos Tanh Sigmoid Erf Floor Ceil Round Rint
IsNan IsInf IsFinite LogicalNot.

Per op and every dtype its CPU kernel registers: random tensors of 8k+r elements (r cycles so both the
packet loop and the scalar tail appear), a 0-d and an empty tensor, a multi-dim tensor; for float dtypes the
specials (NaN payloads / signs / signalling, +-inf, +-0, denormals, max, half-way values) alone and shifted
behind 8+r random values (so each special meets the packet path and the tail), and for the transcendental
and approximate ops (Sqrt Rsqrt Reciprocal Exp Expm1 Log Log1p Sin Cos Tanh Sigmoid Erf) a ~1500-element
float32 / float64 sweep of log-spaced magnitudes over the op's interesting domain plus EVERY float16 and
bfloat16 bit pattern (65536 + 5 elements, so the tail is exercised too). Integer ops get their extremes.
Errors: a dtype with no CPU kernel and a dtype outside the OpDef.

Compare: ulp 1 for Rsqrt Reciprocal Exp Expm1 Log Log1p Sin Cos Tanh Sigmoid Erf (and the complex Abs Sign
Square Sqrt); exact otherwise. FIXTURE_TRACE=1 prints each case id before TF runs it.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from math_fixture_util import (COMPLEX, FIXTURES, FLOATS, INTS, MathBuilder, Rand, cpu_dtypes,  # noqa: E402
                               int_extremes, specials, store, storage, tfd)

NAME = "math_unary"
UNARY = ["Neg", "Abs", "Sign", "Square", "Sqrt", "Rsqrt", "Reciprocal", "Exp", "Expm1", "Log", "Log1p", "Sin",
         "Cos", "Tanh", "Sigmoid", "Erf", "Floor", "Ceil", "Round", "Rint", "IsNan", "IsInf", "IsFinite",
         "LogicalNot"]
TRANSC = ["Rsqrt", "Reciprocal", "Exp", "Expm1", "Log", "Log1p", "Sin", "Cos", "Tanh", "Sigmoid", "Erf"]
SWEEP = TRANSC + ["Sqrt"]
ULP_COMPLEX = {"Abs", "Sign", "Square", "Sqrt"}
FAMILY = {o: "unary" for o in UNARY}

# magnitude sweeps (lo, hi) of |x| per op, both signs unless positive-only
DOMAIN = {"Exp": (1e-8, 110.0), "Expm1": (1e-9, 110.0), "Log": (1e-38, 1e38), "Log1p": (1e-9, 1e6),
          "Sin": (1e-6, 1e5), "Cos": (1e-6, 1e5), "Tanh": (1e-8, 12.0), "Sigmoid": (1e-8, 120.0),
          "Erf": (1e-8, 6.0), "Rsqrt": (1e-37, 1e37), "Reciprocal": (1e-37, 1e37), "Sqrt": (1e-37, 1e37)}


def sweep(dt, lo, hi, n, rng):
    """n values: log-uniform magnitudes in [lo, hi] with random signs, plus the integers and halves near 0."""
    mags = np.exp(rng.uniform(np.log(lo), np.log(hi), n - 40))
    sign = np.where(rng.random(n - 40) < 0.5, -1.0, 1.0)
    grid = np.arange(-10, 10) * 0.5
    v = np.concatenate([mags * sign, grid, grid + 0.25])
    if dt == "float32":
        v = np.clip(v, -3e38, 3e38)
    return store(v, dt)


def all_bits(dt):
    """Every 16-bit pattern of a half type, then 5 more (0, 1, -1, inf, nan) for the scalar tail."""
    a = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    extra = store([0.0, 1.0, -1.0, np.inf, 2.0], dt)
    a = np.concatenate([a, extra.view(np.uint16)])
    return a if dt == "bfloat16" else a.view(np.float16)


class UnaryGen:
    """Shared by the unary and the activation sets: cases for a one-input op."""

    def __init__(self, b, r):
        self.b, self.r = b, r
        self.k = 0

    def one(self, op, port, x, dt, tags=(), note=None, err=False, attrs=None, ulp=False, extra=None):
        ins = {port: x, **(extra or {})}
        ports = [port] + list((extra or {}).keys())
        return self.b(op, ins, attrs, tfd=tfd(dt, *ports), tags=[dt, *tags], note=note, err=err, ulp=ulp)

    def dtype_cases(self, op, port, dts, *, ulp_of, lo=-6.0, hi=6.0, attrs=None, positive=False):
        r = self.r
        for dt in dts:
            self.k += 1
            ulp = ulp_of(dt)
            n = 16 + self.k % 8
            if dt in INTS:
                info = np.iinfo(storage(dt))
                a, c = max(int(lo * 10), int(info.min)), min(int(hi * 10), int(info.max))
                self.one(op, port, r((n,), dt, a, c), dt, ["packet_tail"], f"n = {n}", attrs=attrs)
                self.one(op, port, int_extremes(dt), dt, ["int_extremes"], attrs=attrs)
            else:
                self.one(op, port, r((n,), dt, lo, hi, positive=positive), dt, ["packet_tail"], f"n = {n}",
                         attrs=attrs, ulp=ulp)
            self.one(op, port, r((2, 3, 4), dt, lo, hi, positive=positive), dt, ["rank3"], attrs=attrs, ulp=ulp)
            self.one(op, port, np.asarray(r((), dt, lo, hi, positive=positive)), dt, ["scalar"], attrs=attrs,
                     ulp=ulp)
            self.one(op, port, r((0, 3), dt), dt, ["empty"], attrs=attrs, ulp=ulp)
            if dt in FLOATS:
                sp = specials(dt)
                self.one(op, port, sp, dt, ["specials", "nan", "daz", "signed_zero"], attrs=attrs, ulp=ulp)
                for j, pad in enumerate((8 + self.k % 8, 3)):
                    x = np.concatenate([r((pad,), dt, lo, hi, positive=positive), r.perm(sp)])
                    self.one(op, port, x, dt, ["specials", "packet_tail"],
                             f"specials behind {pad} random values (n = {len(x)})", attrs=attrs, ulp=ulp)
            if dt in COMPLEX:
                v = np.array([0, -0.0, 1, -1j, 1 + 1j, np.inf, complex(-np.inf, 1), complex(np.nan, 1),
                              complex(1, np.nan), complex(0, np.inf), complex(-2.5, 0.5), complex(1e30, -1e30),
                              complex(3, 4), complex(-0.0, -0.0)], dtype=dt)
                self.one(op, port, v, dt, ["specials", "complex"], attrs=attrs, ulp=ulp)

    def errors(self, op, port):
        self.b.dtype_errors(op, lambda d: ({port: self.r((4,), d, 1, 5)}, None, tfd(d, port)))


def build():
    b = MathBuilder(NAME, FAMILY)
    r = Rand(20250302)
    g = UnaryGen(b, r)
    for op in UNARY:
        dts = cpu_dtypes(op) or ["bool"]        # LogicalNot: a fixed bool input, no type attr

        def ulp_of(dt, op=op):
            return (op in TRANSC and dt in FLOATS + COMPLEX) or (dt in COMPLEX and op in ULP_COMPLEX) or \
                   (op in ("Exp", "Log", "Tanh", "Sigmoid", "Sin", "Cos", "Expm1", "Log1p") and dt in COMPLEX)
        lo, hi = (-6.0, 6.0)
        if op in ("Round", "Rint", "Floor", "Ceil"):
            lo, hi = -5.0, 5.0
        g.dtype_cases(op, "x", dts, ulp_of=ulp_of, lo=lo, hi=hi)
        if op in SWEEP:
            for dt in ("float32", "float64"):
                if dt in dts:
                    lo_, hi_ = DOMAIN[op]
                    if dt == "float64" and op in ("Log", "Rsqrt", "Reciprocal", "Sqrt"):
                        lo_, hi_ = 1e-300, 1e300
                    if dt == "float64" and op in ("Exp", "Expm1"):
                        hi_ = 720.0
                    if dt == "float64" and op == "Sigmoid":
                        hi_ = 760.0
                    x = sweep(dt, lo_, hi_, 1507, r.rng)
                    g.one(op, "x", x, dt, ["sweep", "large"], f"log-spaced |x| in [{lo_:g}, {hi_:g}], both signs",
                          ulp=True)
            for dt in ("float16", "bfloat16"):
                if dt in dts:
                    g.one(op, "x", all_bits(dt), dt, ["exhaustive"], "every bit pattern, then 5 more", ulp=True)
        if op in ("Round", "Rint", "Floor", "Ceil"):
            for dt in [d for d in ("float16", "bfloat16", "float32", "float64") if d in dts]:
                v = np.concatenate([np.arange(-6, 6.5, 0.5), [0.49999997, -0.49999997, 2.5000002, 4503599627370497.0,
                                                             8388609.5, -8388608.5, 1e20, -1e-20, 0.5000001]])
                g.one(op, "x", store(v, dt), dt, ["round_half"], "half-way values, large and tiny")
        g.errors(op, "x")
    g.one("LogicalNot", "x", r((5,), "int32"), "int32", ["dtype_mismatch"], err=True, note="int32 into a bool input")
    g.one("LogicalNot", "x", np.array([True, False]), "bool", ["truth_table"])
    return b


def make(root=FIXTURES):
    return build().write(root)


if __name__ == "__main__":
    print("wrote", make())
