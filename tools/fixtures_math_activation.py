"""Fixture set `tests/fixtures/math_activation/`: activations and their gradient ops (dev-only: needs TF).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_math_activation.py   # -> tests/fixtures/math_activation

Relu Relu6 Elu Selu Softplus Softsign LeakyRelu (alpha 0.2 default, 0.01, 0.25, 1.5, 0, -0.5), ReluGrad
Relu6Grad EluGrad SeluGrad SoftplusGrad SoftsignGrad LeakyReluGrad SigmoidGrad TanhGrad SqrtGrad RsqrtGrad
ReciprocalGrad.

Per op and CPU dtype: 8k+r random elements, rank 3, 0-d, empty, specials (alone and behind 8+r random values,
so they meet the packet loop and the scalar tail). The forward activations of float16/bfloat16 get every bit
pattern (65536 + 5); float32/float64 a ~1500-element sweep for Elu/Selu/Softplus. The two-input grad ops get
the cross product of the specials (two NaNs of different bits never paired) and specials against random
values on either side. Errors: shape mismatch, dtype mismatch, a dtype with no CPU kernel, a dtype outside
the OpDef.

Compare: ulp 1 for Elu, Selu, Softplus, SoftplusGrad (exp/log inside) and complex outputs; exact otherwise.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from fixtures_math_binary import cross  # noqa: E402
from fixtures_math_unary import UnaryGen, all_bits, sweep  # noqa: E402
from math_fixture_util import (COMPLEX, FIXTURES, FLOATS, INTS, MathBuilder, Rand, cpu_dtypes,  # noqa: E402
                               int_extremes, specials, storage, tfd)

NAME = "math_activation"
FWD = ["Relu", "Relu6", "Elu", "Selu", "Softplus", "Softsign", "LeakyRelu"]
GRAD_FEAT = {"ReluGrad": "features", "Relu6Grad": "features", "EluGrad": "outputs", "SeluGrad": "outputs",
             "SoftplusGrad": "features", "SoftsignGrad": "features", "LeakyReluGrad": "features"}
GRAD_Y = ["SigmoidGrad", "TanhGrad", "SqrtGrad", "RsqrtGrad", "ReciprocalGrad"]
ULP = {"Elu", "Selu", "Softplus", "SoftplusGrad"}
FAMILY = {**{o: "activation" for o in FWD}, **{o: "activation_grad" for o in list(GRAD_FEAT) + GRAD_Y}}


def ports_of(op):
    if op in GRAD_FEAT:
        return "gradients", GRAD_FEAT[op]
    return "y", "dy"


class Gen:
    def __init__(self):
        self.b = MathBuilder(NAME, FAMILY)
        self.r = Rand(20250303)
        self.u = UnaryGen(self.b, self.r)
        self.k = 0

    def ulp_of(self, op):
        return lambda dt: (op in ULP and dt in FLOATS) or dt in COMPLEX

    def fwd(self, op):
        dts = cpu_dtypes(op)
        attrs_list = [None]
        if op == "LeakyRelu":
            attrs_list = [None, {"alpha": 0.01}, {"alpha": 1.5}]
        for attrs in attrs_list:
            self.u.dtype_cases(op, "features", dts, ulp_of=self.ulp_of(op), lo=-8.0, hi=8.0, attrs=attrs)
        if op == "LeakyRelu":
            for alpha in (0.25, 0.0, -0.5, 1.0):
                for dt in ("float32", "bfloat16", "float16"):
                    x = specials(dt) if dt in FLOATS else int_extremes(dt)
                    self.u.one(op, "features", x, dt, ["alpha", "specials"], f"alpha={alpha}",
                               attrs={"alpha": alpha})
        for dt in ("float32", "float64"):
            if op in ULP:
                self.u.one(op, "features", sweep(dt, 1e-9, 90.0 if dt == "float32" else 700.0, 1507, self.r.rng),
                           dt, ["sweep"], "log-spaced |x|, both signs", ulp=True)
        for dt in ("float16", "bfloat16"):
            self.u.one(op, "features", all_bits(dt), dt, ["exhaustive"], "every bit pattern, then 5 more",
                       ulp=self.ulp_of(op)(dt))
        self.u.errors(op, "features")

    def two(self, op, a, c, dt, tags=(), note=None, err=False, attrs=None, cdt=None):
        p0, p1 = ports_of(op)
        t = dict(tfd(dt, p0) or {})
        t.update(tfd(cdt or dt, p1) or {})
        return self.b(op, {p0: a, p1: c}, attrs, tfd=t or None, tags=[dt, *tags], note=note, err=err,
                      ulp=self.ulp_of(op)(dt))

    def grad(self, op):
        r = self.r
        dts = cpu_dtypes(op)
        attrs_list = [None, {"alpha": 0.01}, {"alpha": 1.5}] if op == "LeakyReluGrad" else [None]
        # the "y" of SqrtGrad/RsqrtGrad/ReciprocalGrad/SigmoidGrad is an output of the forward op
        lo, hi = (-6.0, 6.0)
        for attrs in attrs_list:
            for dt in dts:
                self.k += 1
                n = 16 + self.k % 8
                if dt in INTS:
                    info = np.iinfo(storage(dt))
                    lo_i, hi_i = max(-60, int(info.min)), min(60, int(info.max))
                    self.two(op, r((n,), dt, lo_i, hi_i), r((n,), dt, lo_i, hi_i), dt, ["packet_tail"], f"n = {n}",
                             attrs=attrs)
                    ex = int_extremes(dt)
                    self.two(op, ex, ex[::-1].copy(), dt, ["int_extremes"], attrs=attrs)
                    continue
                self.two(op, r((n,), dt, lo, hi), r((n,), dt, lo, hi), dt, ["packet_tail"], f"n = {n}", attrs=attrs)
                self.two(op, r((2, 3, 2), dt, lo, hi), r((2, 3, 2), dt, lo, hi), dt, ["rank3"], attrs=attrs)
                self.two(op, np.asarray(r((), dt)), np.asarray(r((), dt)), dt, ["scalar"], attrs=attrs)
                self.two(op, r((3, 0), dt), r((3, 0), dt), dt, ["empty"], attrs=attrs)
                if dt in FLOATS and attrs is None:
                    sp = specials(dt)
                    x, y = cross(sp, sp, dt)
                    self.two(op, x, y, dt, ["specials", "nan", "daz", "signed_zero"],
                             f"every pair of {len(sp)} specials ({len(x)} elements)")
                    pad = 8 + self.k % 8
                    v = r((pad + len(sp),), dt, lo, hi)
                    s2 = np.concatenate([r((pad,), dt, lo, hi), r.perm(sp)])
                    self.two(op, s2, v, dt, ["specials", "packet_tail"], "specials in the first input")
                    self.two(op, v, s2, dt, ["specials", "packet_tail"], "specials in the second input")
                if dt in COMPLEX:
                    v = np.array([0, 1, -1j, 1 + 1j, np.inf, complex(np.nan, 1), complex(-2.5, 0.5), complex(3, 4)],
                                 dt)
                    self.two(op, v, v[::-1].copy(), dt, ["specials", "complex"])
        p0, p1 = ports_of(op)
        self.two(op, r((2, 3), "float32"), r((3,), "float32"), "float32", ["shape_mismatch"], err=True)
        if op in GRAD_Y:
            self.two(op, r((2, 3), "float32"), r((3, 2), "float32"), "float32", ["shape_mismatch"],
                     note="same size, different shape: no error, the output takes y's shape")
        else:
            self.two(op, r((2, 3), "float32"), r((3, 2), "float32"), "float32", ["shape_mismatch"], err=True,
                     note="same size, different shape")
        self.two(op, r((3,), "float32"), r((3,), "float64"), "float32", ["dtype_mismatch"], err=True, cdt="float64")
        self.b.dtype_errors(op, lambda d: ({p0: r((4,), d, 1, 5), p1: r((4,), d, 1, 5)}, None, tfd(d, p0, p1)))

    def build(self):
        for op in FWD:
            self.fwd(op)
        for op in list(GRAD_FEAT) + GRAD_Y:
            self.grad(op)
        return self.b


def make(root=FIXTURES):
    return Gen().build().write(root)


if __name__ == "__main__":
    print("wrote", make())
