"""Fixture set `tests/fixtures/math_reduction/`: reductions, arg-reductions and scans (dev-only: needs TF).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_math_reduction.py   # -> tests/fixtures/math_reduction

Sum Mean Prod Max Min All Any (`axis` = OpDef reduction_indices: scalar, 1-D, negative, empty, repeated,
every axis, int32 and int64; keep_dims both ways; empty tensors and empty reduced axes), ArgMax ArgMin
(`dimension`, output_type int32/int64, NaN, ties), Cumsum Cumprod (exclusive, reverse, negative axis).
Every dtype the CPU kernels register; float specials; inner lengths 8k+r (packet reduction + tail).

Compare: integer/bool outputs and Max/Min/ArgMax/ArgMin exact; float (and complex) Sum/Mean/Prod/Cumsum/
Cumprod "sum" with `atol = k*eps(dtype)*S + smallest_normal(dtype)`, `k = 8 + 2*ceil(log2 n)`, computed in
float64 on DAZ'd inputs:
  * Sum:    S = sum|x| over the reduced elements, n = number of reduced elements;
  * Mean:   S = sum|x| / n (the division adds at most one rounding, inside k), n as Sum;
  * Prod:   S = n*|prod x|, n as Sum;
  * Cumsum: S = the same (exclusive/reverse) scan of |x|, n = the scanned axis length;
  * Cumprod: S = n*|result|, n = the scanned axis length.
Each atol was checked against numpy's float64 result (|f64 - TF| <= atol/2 on every finite element); the
generator prints the largest |f64 - TF| / atol per op and widens (noting it in the case) where it fails.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from math_fixture_util import (COMPLEX, FIXTURES, FLOATS, INTS, MathBuilder, Rand, cpu_dtypes,  # noqa: E402
                               f64, int_extremes, specials, store, storage, tfd)

NAME = "math_reduction"
RED = ["Sum", "Mean", "Prod", "Max", "Min", "All", "Any"]
ARG = ["ArgMax", "ArgMin"]
SCAN = ["Cumsum", "Cumprod"]
FAMILY = {**{o: "reduction" for o in RED}, **{o: "arg" for o in ARG}, **{o: "scan" for o in SCAN}}


def norm_axes(axis, rank):
    a = np.ravel(np.asarray(axis)).astype(np.int64)
    return tuple(sorted({int(v) % rank for v in a})) if rank else ()


def red_ref(op, dt, axis, keep):
    def ref(rec, b):
        x = f64(b.arr(rec["inputs"]["input"]), dt)
        axes = norm_axes(axis, x.ndim)
        n = int(np.prod([x.shape[a] for a in axes])) if axes else 1
        with np.errstate(all="ignore"):
            if op == "Sum":
                v, S = x.sum(axis=axes, keepdims=keep), np.abs(x).sum(axis=axes, keepdims=keep)
            elif op == "Mean":
                v = x.sum(axis=axes, keepdims=keep) / n if n else np.full(np.sum(x, axis=axes, keepdims=keep).shape,
                                                                          np.nan)
                S = np.abs(x).sum(axis=axes, keepdims=keep) / max(n, 1)
            else:
                v = x.prod(axis=axes, keepdims=keep)
                S = n * np.abs(v)
        return {"output": (v, S, n)}
    return ref


def scan_ref(op, dt, axis, exclusive, reverse):
    def ref(rec, b):
        x = f64(b.arr(rec["inputs"]["x"]), dt)
        if x.ndim == 0:
            return {}
        ax = int(axis) % x.ndim
        y = np.flip(x, ax) if reverse else x
        n = x.shape[ax]
        with np.errstate(all="ignore"):
            if op == "Cumsum":
                v, S = np.cumsum(y, ax), np.cumsum(np.abs(y), ax)
                if exclusive:
                    v = np.concatenate([np.zeros_like(np.take(v, [0], ax)), np.delete(v, -1, ax)], ax) if n else v
                    S = np.concatenate([np.zeros_like(np.take(S, [0], ax)), np.delete(S, -1, ax)], ax) if n else S
            else:
                v = np.cumprod(y, ax)
                if exclusive and n:
                    v = np.concatenate([np.ones_like(np.take(v, [0], ax)), np.delete(v, -1, ax)], ax)
                S = n * np.abs(v)
        if reverse:
            v, S = np.flip(v, ax), np.flip(S, ax)
        return {"out": (v, S, n)}
    return ref


class Gen:
    def __init__(self):
        self.b = MathBuilder(NAME, FAMILY)
        self.r = Rand(20250304)
        self.k = 0

    def data(self, op, shape, dt):
        r = self.r
        if dt == "bool":
            return r(shape, dt)
        if op in ("Prod", "Cumprod"):
            if dt in FLOATS + COMPLEX:
                v = r(shape, dt, 0.6, 1.6)
                if dt in COMPLEX:
                    return (np.asarray(v) * np.exp(1j * r.rng.uniform(-0.3, 0.3, shape))).astype(dt)
                sign = store(np.where(r.rng.random(shape) < 0.3, -1.0, 1.0), dt)
                if dt == "bfloat16":
                    return (np.asarray(v) | (np.asarray(sign) & 0x8000)).astype(np.uint16)
                return (v * sign).astype(v.dtype)
            info = np.iinfo(storage(dt))
            return r(shape, dt, max(-3, int(info.min)), 3)
        if dt in INTS:
            info = np.iinfo(storage(dt))
            return r(shape, dt, max(-50, int(info.min)), 50)
        return r(shape, dt, -10.0, 10.0)

    def red(self, op, x, axis, keep, dt, tags=(), note=None, err=False, axis_dt=None):
        ax = np.asarray(axis, axis_dt or "int32")
        attrs = {"keep_dims": keep} if keep is not None else None
        ref = red_ref(op, dt, axis, bool(keep)) if op in ("Sum", "Mean", "Prod") and not err else None
        return self.b(op, {"input": x, "axis": ax}, attrs, tfd=tfd(dt, "input"), tags=[dt, *tags], note=note,
                      err=err, ref=ref)

    def reductions(self, op):
        dts = cpu_dtypes(op) or ["bool"]
        for i, dt in enumerate(dts):
            self.k += 1
            n = 16 + self.k % 8
            x = self.data(op, (3, n), dt)
            self.red(op, x, 1, False, dt, ["packet_tail"], f"inner axis of {n} = 8*2 + {n % 8}")
            self.red(op, x, 0, True, dt, ["keep_dims"])
            x3 = self.data(op, (2, 3, 4), dt)
            axes = [[0, 2], -1, [], [-3, 1], [0, 1, 2], [2, -1]]
            for j in range(2 if dt not in ("float32", "int32", "bool") else len(axes)):
                ax = axes[(self.k + j) % len(axes)] if dt not in ("float32", "int32", "bool") else axes[j]
                self.red(op, x3, ax, [False, True][j % 2], dt, ["axes"], f"axis {ax}", err=ax == [2, -1])
            self.red(op, self.data(op, (), dt), [], False, dt, ["scalar"], "0-d input, axis []")
            self.red(op, self.data(op, (0, 3), dt), 0, False, dt, ["empty"], "empty reduced axis")
            self.red(op, self.data(op, (0, 3), dt), 1, True, dt, ["empty"], "empty tensor, non-empty axis")
            if dt in FLOATS:
                sp = specials(dt)
                if op == "Prod":   # no partial product may overflow unless the whole product does
                    v = f64(sp, dt)
                    sp = sp[~(np.isfinite(v) & (np.abs(v) > 1e4))]
                m = len(sp) - len(sp) % 4
                self.red(op, sp[:m].reshape(-1, 4), 1, False, dt, ["specials", "nan"], "rows of 4 specials")
                xs = self.data(op, (2, 19), dt)
                xs[0, 3] = sp[-5]          # +NaN in a packet
                xs[1, 17] = store(np.inf, dt)  # inf in the tail
                self.red(op, xs, -1, False, dt, ["specials", "nan", "packet_tail"], "NaN in the packet part, inf in the tail")
                z = store([-0.0] * 5 + [0.0] * 3, dt).reshape(2, 4)
                self.red(op, z, 1, False, dt, ["signed_zero"], "rows of -0.0 / mixed zeros")
            if dt in INTS and op in ("Sum", "Prod", "Max", "Min", "Mean"):
                ex = int_extremes(dt)
                self.red(op, ex, 0, False, dt, ["int_extremes"], "wraps (Sum/Prod) or truncates (Mean)")
        if op in ("Sum", "Mean"):
            for dt in ("float32", "float64"):
                x = self.r((4, 1027), dt, -100.0, 100.0)
                self.red(op, x, 1, False, dt, ["large"], "4 rows of 1027")
                self.red(op, x, 0, False, dt, ["large"], "outer axis")
        # axis dtype int64, errors
        x = self.data(op, (2, 3), dts[0])
        self.red(op, x, np.array([1], np.int64), False, dts[0], ["axis_int64"], axis_dt="int64")
        self.red(op, x, 2, False, dts[0], ["bad_axis"], err=True)
        self.red(op, x, -3, False, dts[0], ["bad_axis"], err=True)
        self.red(op, x, [[0]], False, dts[0], ["bad_axis"], err=None, note="2-D axis tensor")
        self.red(op, x, [0.0], False, dts[0], ["bad_axis"], err=True, axis_dt="float32")
        self.red(op, self.data(op, (), dts[0]), 0, False, dts[0], ["bad_axis", "scalar"], err=True,
                 note="axis 0 of a 0-d input")
        if op not in ("All", "Any"):
            self.b.dtype_errors(op, lambda d: ({"input": self.r((2, 2), d, 1, 3), "axis": np.array(0, np.int32)},
                                               None, tfd(d, "input")))
        else:
            self.b(op, {"input": self.r((2, 2), "int32"), "axis": np.array(0, np.int32)}, None,
                   tags=["dtype_mismatch"], err=True)

    def argred(self, op):
        r = self.r
        dts = cpu_dtypes(op)
        for i, dt in enumerate(dts):
            self.k += 1
            n = 16 + self.k % 8
            ot = ["int64", "int32"][i % 2]
            x = r((3, n), dt, -20, 20)
            self.b(op, {"input": x, "dimension": np.int32(1)}, {"output_type": {"dtype": ot}}, tfd=tfd(dt, "input"),
                   tags=[dt, "packet_tail"])
            self.b(op, {"input": r((2, 3, 4), dt, -3, 3), "dimension": np.int64(-3)}, None, tfd=tfd(dt, "input"),
                   tags=[dt, "ties"], note="few distinct values: ties -> first index; output_type default int64")
            self.b(op, {"input": r((5,), dt, -3, 3), "dimension": np.int32(0)}, {"output_type": {"dtype": ot}},
                   tfd=tfd(dt, "input"), tags=[dt])
            if dt in FLOATS:
                sp = specials(dt)
                self.b(op, {"input": sp.reshape(1, -1), "dimension": np.int32(1)}, None, tfd=tfd(dt, "input"),
                       tags=[dt, "specials", "nan"])
                m = len(sp) - len(sp) % 4
                self.b(op, {"input": sp[:m].reshape(-1, 4), "dimension": np.int32(1)}, None, tfd=tfd(dt, "input"),
                       tags=[dt, "specials", "nan"])
                nn = store([np.nan, np.nan, np.nan], dt)
                self.b(op, {"input": nn, "dimension": np.int32(0)}, None, tfd=tfd(dt, "input"),
                       tags=[dt, "nan"], note="all NaN")
                z = store([0.0, -0.0, -0.0, 0.0], dt)
                self.b(op, {"input": z, "dimension": np.int32(0)}, None, tfd=tfd(dt, "input"),
                       tags=[dt, "signed_zero", "ties"])
            if dt in INTS:
                self.b(op, {"input": int_extremes(dt), "dimension": np.int32(0)}, None, tags=[dt, "int_extremes"])
        x = r((2, 3), "float32")
        self.b(op, {"input": r((0, 3), "float32"), "dimension": np.int32(0)}, None, tags=["empty"], err=True)
        self.b(op, {"input": r((0, 3), "float32"), "dimension": np.int32(1)}, None, tags=["empty"], err=None,
               note="empty tensor, non-empty axis")
        self.b(op, {"input": x, "dimension": np.int32(2)}, None, tags=["bad_axis"], err=True)
        self.b(op, {"input": x, "dimension": np.int32(-3)}, None, tags=["bad_axis"], err=True)
        self.b(op, {"input": x, "dimension": np.array([1], np.int32)}, None, tags=["bad_axis"], err=None,
               note="1-element 1-D dimension")
        self.b(op, {"input": np.float32(3), "dimension": np.int32(0)}, None, tags=["scalar"], err=True)
        self.b(op, {"input": x, "dimension": np.int32(1)}, {"output_type": {"dtype": "int16"}}, tags=["bad_attr"],
               err=None)
        self.b.dtype_errors(op, lambda d: ({"input": r((2, 2), d, 1, 3), "dimension": np.int32(0)}, None,
                                           tfd(d, "input")))

    def scan(self, op):
        r = self.r
        dts = cpu_dtypes(op)
        for i, dt in enumerate(dts):
            self.k += 1
            n = 16 + self.k % 8
            combos = [(False, False), (True, False), (False, True), (True, True)]
            many = dt in ("float32", "int32", "float64")
            for j, (ex, rev) in enumerate(combos if many else combos[self.k % 4:self.k % 4 + 1] + [combos[3]]):
                x = self.data(op, (3, n), dt)
                ax = [1, -1, 0, -2][j % 4]
                attrs = {"exclusive": ex, "reverse": rev}
                self.b(op, {"x": x, "axis": np.int32(ax)}, attrs, tfd=tfd(dt, "x"), tags=[dt, "packet_tail"],
                       note=f"axis {ax}", ref=self._scan_ref(op, dt, ax, ex, rev))
            x = self.data(op, (2, 3, 4), dt)
            self.b(op, {"x": x, "axis": np.int64(1)}, None, tfd=tfd(dt, "x"), tags=[dt, "axis_int64"],
                   ref=self._scan_ref(op, dt, 1, False, False))
            self.b(op, {"x": self.data(op, (0, 3), dt), "axis": np.int32(0)}, {"reverse": True}, tfd=tfd(dt, "x"),
                   tags=[dt, "empty"], ref=self._scan_ref(op, dt, 0, False, True))
            if dt in FLOATS:
                sp = specials(dt)
                self.b(op, {"x": sp, "axis": np.int32(0)}, None, tfd=tfd(dt, "x"), tags=[dt, "specials", "nan"],
                       ref=self._scan_ref(op, dt, 0, False, False))
            if dt in INTS:
                self.b(op, {"x": int_extremes(dt), "axis": np.int32(0)}, None, tags=[dt, "int_extremes"])
        x = self.data(op, (2, 3), "float32")
        self.b(op, {"x": x, "axis": np.int32(2)}, None, tags=["bad_axis"], err=True)
        self.b(op, {"x": x, "axis": np.int32(-3)}, None, tags=["bad_axis"], err=True)
        self.b(op, {"x": x, "axis": np.array([1], np.int32)}, None, tags=["bad_axis"], err=True)
        self.b(op, {"x": np.float32(2), "axis": np.int32(0)}, None, tags=["scalar"], err=True)
        for dt in ("float32", "float64"):
            x = self.r((3, 1100), dt, -100.0, 100.0)
            self.b(op, {"x": x if op == "Cumsum" else self.data(op, (3, 300), dt), "axis": np.int32(1)}, None,
                   tags=[dt, "large"], ref=self._scan_ref(op, dt, 1, False, False))
        self.b.dtype_errors(op, lambda d: ({"x": r((2, 2), d, 1, 3), "axis": np.int32(0)}, None, tfd(d, "x")))

    def _scan_ref(self, op, dt, ax, ex, rev):
        return scan_ref(op, dt, ax, ex, rev)

    def order(self):
        """Float sums compared bit for bit, shaped to take each of Eigen's paths (single-threaded
        sizes: TF's thread split depends on its machine): a tree of leaves over a long vector and
        over rows starting at different packet offsets, the outer reduction's striped packet
        accumulators (>= 16 rows) beside its scalar columns, the middle axis of a 3-D view, axes 0
        and 2, and TF's transpose for four runs."""
        r = self.r
        for dt in ("float32", "float64", "float16"):
            for shape, axis in [((17_001,), [0]), ((3, 9_001), [1]), ((40, 21), [0]),
                                ((5, 19, 11), [1]), ((4, 6, 5), [0, 2]), ((2, 3, 4, 5), [0, 2])]:
                x = r(shape, dt, -100.0, 100.0)      # one input for both ops (stored once)
                for op in ("Sum", "Mean"):
                    self.b(op, {"input": x, "axis": np.asarray(axis, "int32")}, None, tfd=tfd(dt, "input"),
                           tags=[dt, "eigen_order"], note=f"{list(shape)} over {axis}: Eigen's order, bit for bit")
        for dt in ("float32", "float64"):
            x = store(np.exp(self.r.rng.uniform(-0.2, 0.2, (3, 70))), dt)
            self.b("Prod", {"input": x, "axis": np.asarray([1], "int32")}, None, tfd=tfd(dt, "input"),
                   tags=[dt, "eigen_order"], note="four packet accumulators and a tail: bit for bit")

    def build(self):
        for op in RED:
            self.reductions(op)
        for op in ARG:
            self.argred(op)
        for op in SCAN:
            self.scan(op)
        self.order()
        return self.b


def make(root=FIXTURES):
    return Gen().build().write(root)


if __name__ == "__main__":
    print("wrote", make())
