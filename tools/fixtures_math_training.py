"""Fixture set `tests/fixtures/math_training/`: ApplyGradientDescent, ApplyMomentum, ApplyAdam, ApplyRMSProp
(dev-only: needs tensorflow-cpu).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_math_training.py     # -> tests/fixtures/math_training

Each case is computed by the `ResourceApply*` kernel on resource variables (`tf.Variable`s made from the
var and slot inputs), through `FixtureSet.custom_case`, and recorded under the ref op's name with its
op-def ports (`var`, `accum` / `m`, `v` / `ms`, `mom`, `lr`, `grad`, `beta1_power`, ...): every port a plain
tensor value; the single output `out` is the updated var; `state_after` ({slot: npz key}) holds the
updated slots (accum / m, v / ms, mom), which the page runner does not compare.

Per CPU dtype: 8k+r-element variables, 0-d and empty variables, a rank-3 variable, use_nesterov both ways
(Momentum, Adam), specials in grad and var (NaN, +-inf, -0.0, denormals), a large learning rate.
Errors: var / slot / grad shape mismatch, non-scalar hyper-parameters, dtype mismatch, dtype with no
CPU kernel (the message is the ResourceApply* kernel's; TF prints the kernel's attrs in hash order, the
generator sorts that list so the file is reproducible).

Compare: exact for ApplyGradientDescent, ApplyMomentum, ApplyAdam (TF's formulas in training_ops.cc are
plain IEEE operations and sqrt; complex: ulp 1); ApplyRMSProp "sum" with
`atol = k*eps*S + smallest_normal`, S = |var| + |momentum*mom| + |lr*grad/sqrt(ms_new + epsilon)|, n = 4
(k = 12), checked against a float64 evaluation of the same formula on DAZ'd inputs (where grad^2 overflows
T, the reference takes ms = inf as TF does, so an overflow is not mistaken for a rounding difference).
"""
from __future__ import annotations

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from math_fixture_util import (COMPLEX, FIXTURES, FLOATS, MathBuilder, Rand, cpu_dtypes, f64,  # noqa: E402
                               fmax, specials, store, tfd)

NAME = "math_training"
OPS = {  # ref op -> (resource op, slot ports, scalar ports, attrs)
    "ApplyGradientDescent": ("ResourceApplyGradientDescent", [], ["alpha"], ["delta"]),
    "ApplyMomentum": ("ResourceApplyMomentum", ["accum"], ["lr", "momentum"], ["grad"]),
    "ApplyAdam": ("ResourceApplyAdam", ["m", "v"], ["beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon"],
                  ["grad"]),
    "ApplyRMSProp": ("ResourceApplyRMSProp", ["ms", "mom"], ["lr", "rho", "momentum", "epsilon"], ["grad"]),
}
ORDER = {  # the ref op's input order
    "ApplyGradientDescent": ["var", "alpha", "delta"],
    "ApplyMomentum": ["var", "accum", "lr", "grad", "momentum"],
    "ApplyAdam": ["var", "m", "v", "beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon", "grad"],
    "ApplyRMSProp": ["var", "ms", "mom", "lr", "rho", "momentum", "epsilon", "grad"],
}
HYPER = {"alpha": 0.1, "lr": 0.01, "momentum": 0.9, "beta1_power": 0.81, "beta2_power": 0.998, "beta1": 0.9,
         "beta2": 0.999, "epsilon": 1e-7, "rho": 0.9}


def runner(op):
    res_op, slots, _, _ = OPS[op]

    def run(**kw):
        var = tf.Variable(kw.pop("var"))
        svars = {s: tf.Variable(kw.pop(s)) for s in slots}
        args = {k: v for k, v in kw.items()}
        getattr(tf.raw_ops, res_op)(var=var.handle, **{s: v.handle for s, v in svars.items()}, **args)
        return var.read_value(), {s: v.read_value() for s, v in svars.items()}
    return run


def ref_rmsprop(dt):
    def ref(rec, b):
        g = {p: f64(b.arr(k), dt) for p, k in rec["inputs"].items()}
        with np.errstate(all="ignore"):
            g2 = g["grad"] * g["grad"]
            g2 = np.where(g2 > fmax(dt), np.inf, g2)      # grad^2 overflows in T first (then ms = inf, step 0)
            ms = g["ms"] + (g2 - g["ms"]) * (1 - g["rho"])
            step = g["lr"] * g["grad"] / np.sqrt(ms + g["epsilon"])
            mom = g["mom"] * g["momentum"] + step
            v = g["var"] - mom
            S = np.abs(g["var"]) + np.abs(g["mom"] * g["momentum"]) + np.abs(step)
        return {"out": (v, S, 4)}
    return ref


class Gen:
    def __init__(self):
        self.b = MathBuilder(NAME, {o: "training" for o in OPS})
        self.r = Rand(20250308)
        self.k = 0

    def case(self, op, vals, dt, attrs=None, tags=(), note=None, err=False, tdt=None):
        _, slots, _, _ = OPS[op]
        ins = {p: vals[p] for p in ORDER[op]}
        t = {}
        for p in ORDER[op]:
            t.update(tfd((tdt or {}).get(p, dt), p) or {})
        ulp = dt in COMPLEX
        ref = ref_rmsprop(dt) if (op == "ApplyRMSProp" and not err and dt not in COMPLEX) else None
        if op == "ApplyRMSProp" and dt in COMPLEX:
            ulp = True
        rec = self.b(op, ins, attrs, tfd=t or None, tags=[dt, *tags], note=note, err=err, ulp=ulp, ref=ref,
                     run=runner(op), state_after=slots)
        if "expect_error" in rec:   # TF lists a kernel's attrs in hash order: sort them (deterministic output)
            rec["expect_error"]["message"] = re.sub(
                r"with these attrs: \[([^\]]*)\]",
                lambda m: "with these attrs: [" + ", ".join(sorted(m.group(1).split(", "))) + "]",
                rec["expect_error"]["message"])
        return rec

    def values(self, op, shape, dt):
        _, slots, scalars, tensors = OPS[op]
        r = self.r
        v = {"var": r(shape, dt, -2.0, 2.0)}
        for s in slots:
            v[s] = r(shape, dt, 0.0, 1.0) if s in ("v", "ms") else r(shape, dt, -1.0, 1.0)
        for s in tensors:
            v[s] = r(shape, dt, -1.0, 1.0)
        for s in scalars:
            v[s] = np.asarray(store(HYPER[s], dt)) if dt not in COMPLEX else np.asarray(HYPER[s], dt)
        return v

    def build(self):
        for op in OPS:
            res_op = OPS[op][0]
            for dt in cpu_dtypes(res_op):
                self.k += 1
                n = 16 + self.k % 8
                attr_sets = [None]
                if op in ("ApplyMomentum", "ApplyAdam"):
                    attr_sets = [{"use_nesterov": False}, {"use_nesterov": True}]
                for attrs in attr_sets:
                    self.case(op, self.values(op, (n,), dt), dt, attrs, ["packet_tail"], f"n = {n}")
                    self.case(op, self.values(op, (2, 3, 2), dt), dt, attrs, ["rank3"])
                self.case(op, self.values(op, (), dt), dt, None, ["scalar"])
                self.case(op, self.values(op, (0, 2), dt), dt, None, ["empty"])
                v = self.values(op, (5,), dt)
                lr_port = "alpha" if op == "ApplyGradientDescent" else "lr"
                v[lr_port] = np.asarray(store(3.5, dt)) if dt not in COMPLEX else np.asarray(3.5 - 1j, dt)
                self.case(op, v, dt, None, ["large"], "large learning rate")
                if dt in FLOATS:
                    sp = specials(dt)
                    m = len(sp)
                    v = self.values(op, (m,), dt)
                    gport = OPS[op][3][0]
                    v[gport] = sp
                    self.case(op, v, dt, None, ["specials", "nan", "daz"], "specials in the gradient")
                    v = self.values(op, (m,), dt)
                    v["var"] = self.r.perm(sp)
                    self.case(op, v, dt, None, ["specials", "nan", "daz"], "specials in var")
            # errors
            f = "float32"
            v = self.values(op, (2, 3), f)
            gport = OPS[op][3][0]
            bad = dict(v)
            bad[gport] = self.r((3,), f)
            self.case(op, bad, f, None, ["shape"], err=True, note="grad of another shape")
            for s in OPS[op][1]:
                bad = dict(v)
                bad[s] = self.r((3, 2), f)
                self.case(op, bad, f, None, ["shape"], err=True, note=f"{s} of another shape")
            s0 = OPS[op][2][0]
            bad = dict(v)
            bad[s0] = self.r((1,), f)
            self.case(op, bad, f, None, ["rank"], err=True, note=f"{s0} not a scalar")
            bad = dict(v)
            bad[gport] = self.r((2, 3), "float64")
            self.case(op, bad, f, None, ["dtype_mismatch"], err=True, tdt={gport: "float64"},
                      note="grad float64, var float32")
            for d in [x for x in ("int32", "bool") if x not in cpu_dtypes(res_op)][:1]:
                vv = {p: (np.ones((2,), d) if p in ["var"] + OPS[op][1] + OPS[op][3] else np.ones((), d))
                      for p in ORDER[op]}
                self.case(op, vv, d, None, ["unregistered_dtype"], err=True, note=f"T={d}")
        return self.b


def make(root=FIXTURES):
    return Gen().build().write(root)


if __name__ == "__main__":
    print("wrote", make())
