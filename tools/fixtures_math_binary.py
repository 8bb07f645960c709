"""Fixture set `tests/fixtures/math_binary/`: broadcasting binary ops (dev-only: needs tensorflow-cpu).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_math_binary.py     # -> tests/fixtures/math_binary

Add AddV2 Sub Mul Div RealDiv DivNoNan FloorDiv FloorMod TruncateDiv TruncateMod Mod Maximum Minimum Pow
SquaredDifference Atan2 Equal NotEqual Less LessEqual Greater GreaterEqual LogicalAnd LogicalOr BiasAdd.

Per op and every dtype its CPU kernel registers (tests/fixtures/tf_ops.json): a same-shape case of 8k+r
elements (r cycles 0..7 over the dtypes: the packet loop and the scalar tail), a broadcasting case (shape
pairs cycle: scalar with tensor both ways, rank mismatch, size-1 dims on either side, empty), and for float
dtypes the cross product of every special (NaN with payloads / both signs / signalling, +-inf, +-0,
denormals, max, near-overflow, half-way values; two NaNs of different bits are never paired) plus the
specials against a scalar on either side; integer dtypes get the cross product of their extremes
(INT_MIN / -1 included; divisors without 0 for the division family). Errors: incompatible broadcast,
dtype mismatch between inputs, a dtype with no CPU kernel, a dtype outside the OpDef, integer division by
zero, integers to negative powers, BiasAdd's shape checks.

Compare: exact, except Pow and Atan2 on floats and the complex Mul/Div/RealDiv/DivNoNan/Pow/
SquaredDifference (ulp 1). FIXTURE_TRACE=1 prints each case id before TF runs it.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from math_fixture_util import (COMPLEX, FLOATS, INTS, MathBuilder, Rand, cpu_dtypes, int_extremes,  # noqa: E402
                               specials, store, storage, tfd, values, FIXTURES)

NAME = "math_binary"
ARITH = ["Add", "AddV2", "Sub", "Mul", "Div", "RealDiv", "DivNoNan", "FloorDiv", "FloorMod", "TruncateDiv",
         "TruncateMod", "Mod", "Maximum", "Minimum", "Pow", "SquaredDifference", "Atan2"]
CMP = ["Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual"]
LOGIC = ["LogicalAnd", "LogicalOr"]
DIVS = {"Div", "FloorDiv", "FloorMod", "TruncateDiv", "TruncateMod", "Mod"}
ULP_OPS = {"Pow", "Atan2"}
ULP_COMPLEX = {"Mul", "Div", "RealDiv", "DivNoNan", "Pow", "SquaredDifference"}
FAMILY = {**{o: "binary" for o in ARITH}, **{o: "compare" for o in CMP}, **{o: "logical" for o in LOGIC},
          "BiasAdd": "bias_add"}

BCAST = [((2, 3), (2, 3)), ((), (5,)), ((4,), ()), ((3, 1), (1, 4)), ((2, 1, 3), (4, 1)), ((1,), (2, 2)),
         ((2, 3, 1, 2), (3, 4, 1)), ((0, 3), (1, 3)), ((2, 0), ()), ((1, 1), (1,)), ((5, 1, 1), (1, 1, 6)),
         ((1, 4), (3, 1)), ((3,), (2, 1, 3)), ((), ())]


def nan_bits(a, dt):
    v = values(a, dt)
    u = {2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize]
    return np.isnan(v), a.view(u)


def cross(sx, sy, dt):
    """Every (x, y) pair; where both are NaNs of different bits, y becomes 1."""
    x = np.repeat(sx, len(sy))
    y = np.tile(sy, len(sx)).copy()
    if dt in FLOATS:
        nx, bx = nan_bits(x, dt)
        ny, by = nan_bits(y, dt)
        both = nx & ny & (bx != by)
        y[both] = store(1.0, dt)
    return x, y


class Gen:
    def __init__(self):
        self.b = MathBuilder(NAME, FAMILY)
        self.r = Rand(20250301)
        self.k = 0

    def ulp(self, op, dt):
        return (op in ULP_OPS and dt in FLOATS + COMPLEX) or (op in ULP_COMPLEX and dt in COMPLEX)

    def run(self, op, x, y, dt, tags=(), note=None, err=False, attrs=None, ydt=None):
        ydt = ydt or dt
        t = {}
        t.update(tfd(dt, "x") or {})
        t.update(tfd(ydt, "y") or {})
        return self.b(op, {"x": x, "y": y}, attrs, tfd=t or None, tags=[dt, *tags], note=note, err=err,
                      ulp=self.ulp(op, dt))

    def draw(self, op, shape, dt, role):
        lo, hi = (-6.0, 6.0)
        if dt in INTS and np.iinfo(storage(dt)).min == 0:
            lo, hi = 0, 40
        elif dt in INTS:
            lo, hi = -40, 40
        if op == "Pow":
            if dt in INTS:
                return self.r(shape, dt, 0, 5) if role == "y" else self.r(shape, dt, -6, 6)
            if dt not in COMPLEX:
                return self.r(shape, dt, 0.1, 3.0) if role == "x" else self.r(shape, dt, -3.0, 3.0)
        nonzero = role == "y" and op in DIVS | {"RealDiv"} and dt not in FLOATS + COMPLEX
        return self.r(shape, dt, lo, hi, nonzero=nonzero)

    def arith(self, op, dts):
        for i, dt in enumerate(dts):
            self.k += 1
            n = 16 + (self.k % 8)
            self.run(op, self.draw(op, (n,), dt, "x"), self.draw(op, (n,), dt, "y"), dt,
                     ["packet_tail"], note=f"n = {n} = 8*2 + {n % 8}")
            for j in range(2 if dt in ("float32", "int32") else 1):
                sx, sy = BCAST[(self.k * 2 + j) % len(BCAST)]
                self.run(op, self.draw(op, sx, dt, "x"), self.draw(op, sy, dt, "y"), dt, ["broadcast"],
                         note=f"{list(sx)} with {list(sy)}")
            if dt in FLOATS:
                sp = specials(dt)
                x, y = cross(sp, sp, dt)
                self.run(op, x, y, dt, ["specials", "nan", "daz", "signed_zero", "large"],
                         note=f"every pair of {len(sp)} specials ({len(x)} elements)")
                scal = store(2.5, dt) if op != "Pow" else store(0.5, dt)
                self.run(op, sp, np.asarray(scal), dt, ["specials", "broadcast", "scalar"], note="specials op scalar")
                den = store(-1e-40 if dt != "float64" else -1e-310, dt) if dt != "float16" else store(-3e-5, dt)
                self.run(op, np.asarray(den), sp, dt, ["specials", "broadcast", "scalar", "daz"],
                         note="denormal scalar op specials")
            elif dt in INTS:
                ex = int_extremes(dt)
                ey = ex
                if op in DIVS:
                    ey = ex[ex != 0]
                if op == "Pow":
                    ey = np.array([0, 1, 2, 3, 7, 31], storage(dt))
                x, y = cross(ex, ey, dt)
                self.run(op, x, y, dt, ["int_extremes"], note="every pair of integer extremes")
            elif dt in COMPLEX:
                v = np.array([0, -0.0, 1, -1j, 1 + 1j, np.inf, -np.inf * 1j, complex(np.nan, 1), complex(1, np.nan),
                              1e-40, complex(3e38, 3e38), complex(-2.5, 0.5)], dtype=dt)
                if dt == "complex128":
                    v[9] = 1e-310
                    v[10] = complex(1e308, 1e308)
                x, y = cross(v, v, dt)
                if op == "Pow":
                    x, y = v[:6], v[2:8]
                self.run(op, x, y, dt, ["specials", "complex"], note="pairs of complex specials")

    def errors(self, op, fl="float32"):
        b = self.b
        self.run(op, self.r((2, 3), fl), self.r((4,), fl), fl, ["incompatible_broadcast"], err=True)
        self.run(op, self.r((2, 3, 4), fl), self.r((3, 2, 1), fl), fl, ["incompatible_broadcast"], err=True)
        other = "float64" if fl != "float64" else "float32"
        self.run(op, self.r((3,), fl), self.r((3,), other), fl, ["dtype_mismatch"], err=True, ydt=other)
        if "int32" in cpu_dtypes(op) and "int64" in cpu_dtypes(op):
            self.run(op, self.r((3,), "int32", 1, 5), self.r((3,), "int64", 1, 5), "int32", ["dtype_mismatch"],
                     err=True, ydt="int64")

        def make(d):
            x, y = self.r((4,), d, 1, 5, nonzero=True), self.r((4,), d, 1, 5, nonzero=True)
            return {"x": x, "y": y}, None, tfd(d, "x", "y")
        b.dtype_errors(op, make)

    def int_errors(self, op):
        for dt in [d for d in cpu_dtypes(op) if d in INTS]:
            x = self.r((5,), dt, -9, 9)
            y = self.r((5,), dt, 1, 9, nonzero=True)
            y[2] = 0
            self.run(op, x, y, dt, ["div_by_zero"], err=True)
        dt = "int32"
        if dt in cpu_dtypes(op):
            self.run(op, np.array(7, np.int32), np.array(0, np.int32), dt, ["div_by_zero", "scalar"], err=True)
            self.run(op, np.zeros((0,), np.int32), np.array(0, np.int32), dt, ["div_by_zero", "empty"],
                     note="empty x, zero scalar divisor", err=None)

    def special_cases(self):
        b, r = self.b, self.r
        # float division family: exact corner values
        for op in ["Div", "RealDiv", "FloorDiv", "FloorMod", "TruncateDiv", "TruncateMod", "Mod", "DivNoNan"]:
            for dt in ["float32", "float64"]:
                x = store([7, -7, 7, -7, -0.0, 0.0, 1e-45 if dt == "float32" else 5e-324, 5.5, -5.5, np.inf, 3, 1, 0.0],
                          dt)
                y = store([2, 2, -2, -2, 3, -3, 1, 0.5, 0.5, 2, 1e-40 if dt == "float32" else 1e-310, 0.0, -0.0], dt)
                self.run(op, x, y, dt, ["signed_zero", "daz", "div_by_zero"], note="division-family corners")
        # Pow corners
        for dt in ["float32", "float64"]:
            x = store([0, -0.0, -8, -8, 2, 1, np.nan, -1, -1, 0.5, 10, np.inf, -np.inf, -np.inf, 0], dt)
            y = store([-1, -1, 1 / 3, 3, 0.5, np.nan, 0, np.inf, 2.5, -np.inf, 400, -0.5, 3, 2, 0], dt)
            self.run("Pow", x, y, dt, ["specials"], note="pow corners (0^-1, (-8)^(1/3), 1^nan, nan^0, ...)")
        for dt in ["int32", "int64"]:
            self.run("Pow", store([2, 3, 1, 0], dt), store([-1, 2, -3, 1], dt), dt, ["error"], err=True,
                     note="integers to negative integer powers")
        # Equal / NotEqual with incompatible_shape_error=False
        for op in ["Equal", "NotEqual"]:
            x, y = r((2, 3), "float32"), r((4,), "float32")
            self.run(op, x, y, "float32", ["incompatible_broadcast"], attrs={"incompatible_shape_error": False},
                     note="incompatible_shape_error=False: a scalar bool")
            self.run(op, x, x[:1], "float32", ["broadcast"], attrs={"incompatible_shape_error": False})
            self.run(op, x, y, "float32", ["incompatible_broadcast"], attrs={"incompatible_shape_error": True},
                     err=True)
        # max/min ties and signed zeros, per dtype
        for op in ["Maximum", "Minimum"]:
            for dt in FLOATS:
                x = store([0.0, -0.0, 1.0, np.nan, 2.0, -np.inf, 1e-40 if dt != "float16" else 3e-5, 0.0, 5, 6, 7],
                          dt)
                y = store([-0.0, 0.0, 1.0, 2.0, np.nan, np.inf, 2e-40 if dt != "float16" else 3e-5, 1e-40, 5, 6, 7],
                          dt)
                self.run(op, x, y, dt, ["signed_zero", "ties", "nan", "daz"], note="ties: which operand")
        # huge values near overflow
        for op in ["Add", "Sub", "Mul", "SquaredDifference", "AddV2"]:
            for dt in FLOATS:
                m = 65504.0 if dt == "float16" else (3.3e38 if dt in ("float32", "bfloat16") else 1.7e308)
                x = store([m, -m, m, m / 2, m, 1.0], dt)
                y = store([m, -m, -m, m / 2, 2.0, -m], dt)
                self.run(op, x, y, dt, ["large", "overflow"], note="near overflow")
        # string Add
        if "string" in cpu_dtypes("Add"):
            x = np.array([b"ab", b"", b"c\x00d", b"x"], dtype="S")
            self.run("Add", x, np.array([b"cd", b"e", b"", b"y"], dtype="S"), "string", ["string"])
            self.run("Add", x.reshape(2, 2), np.array(b"!", dtype="S"), "string", ["string", "broadcast"])
        # quantized comparisons
        for op in ["Equal", "NotEqual"]:
            for q in ["qint8", "quint8", "qint32", "qint16", "quint16"]:
                if q in cpu_dtypes(op):
                    x = r((6,), q, 0, 5)
                    y = r((6,), q, 0, 5)
                    self.run(op, x, y, q, ["quantized"])

    def bias_add(self):
        b, r = self.b, self.r
        op = "BiasAdd"
        for i, dt in enumerate(cpu_dtypes(op)):
            shapes = [(2, 3), (2, 2, 3, 4), (1, 17), (2, 1, 2, 2, 3), (0, 3), (4, 2, 9)]
            for j, shp in enumerate(shapes[i % 3: i % 3 + 3]):
                x = r(shp, dt, -9, 9)
                bias = r((shp[-1],), dt, -9, 9)
                b(op, {"value": x, "bias": bias}, {"data_format": "NHWC"}, tfd=tfd(dt, "value", "bias"),
                  tags=[dt, "nhwc"], ulp=dt in COMPLEX and False)
            shp = [(2, 3, 4, 5), (2, 3, 4), (3, 2), (1, 2, 2, 2, 2)][i % 4]
            x = r(shp, dt, -9, 9)
            bias = r((shp[1],), dt, -9, 9)
            b(op, {"value": x, "bias": bias}, {"data_format": "NCHW"}, tfd=tfd(dt, "value", "bias"),
              tags=[dt, "nchw"])
        for dt in FLOATS:
            sp = specials(dt)
            x = (np.concatenate([sp, sp[:1]]) if len(sp) % 2 else sp).reshape(-1, 2)
            bias = store([-0.0, np.inf], dt)
            b(op, {"value": x, "bias": bias}, None, tfd=tfd(dt, "value", "bias"), tags=[dt, "specials"],
              note="specials + [-0.0, inf] (data_format default NHWC)")
        x = r((2, 3), "float32")
        b(op, {"value": x, "bias": r((2,), "float32")}, None, tags=["error", "shape"], err=True)
        b(op, {"value": r((3,), "float32"), "bias": r((3,), "float32")}, None, tags=["error", "rank"], err=True)
        b(op, {"value": x, "bias": r((1, 3), "float32")}, None, tags=["error", "rank"], err=True)
        b(op, {"value": r((2, 3, 4), "float32"), "bias": r((4,), "float32")}, {"data_format": "NCHW"},
          tags=["error", "shape", "nchw"], err=True)
        b(op, {"value": x, "bias": r((3,), "float64")}, None, tags=["dtype_mismatch"], err=True)
        b.dtype_errors(op, lambda d: ({"value": r((2, 3), d, 1, 5), "bias": r((3,), d, 1, 5)}, None,
                                      tfd(d, "value", "bias")))

    def build(self):
        for op in ARITH + CMP:
            dts = cpu_dtypes(op)
            self.arith(op, dts)
            fl = "float32" if "float32" in dts else dts[0]
            self.errors(op, fl)
            if op in DIVS:
                self.int_errors(op)
        for op in LOGIC:
            r = self.r
            for shp in [(19,), (2, 3), ()]:
                self.run(op, r(shp, "bool"), r(shp, "bool"), "bool", ["packet_tail"])
            x, y = cross(np.array([True, False]), np.array([True, False]), "bool")
            self.run(op, x, y, "bool", ["truth_table"])
            for sx, sy in BCAST[1:7]:
                self.run(op, r(sx, "bool"), r(sy, "bool"), "bool", ["broadcast"])
            self.run(op, r((2, 3), "bool"), r((4,), "bool"), "bool", ["incompatible_broadcast"], err=True)
            self.run(op, r((3,), "int32"), r((3,), "int32"), "int32", ["disallowed_dtype"], err=True)
        op = "LogicalAnd"
        self.special_cases()
        self.bias_add()
        # which index is checked first: shapes or dtypes
        r = self.r
        self.run("AddV2", r((2, 3), "float32"), r((4,), "float64"), "float32", ["dtype_mismatch", "incompatible_broadcast"],
                 err=True, ydt="float64", note="both a dtype mismatch and incompatible shapes: which error wins")
        del op
        return self.b


def make(root=FIXTURES):
    b = Gen().build()
    return b.write(root)


if __name__ == "__main__":
    print("wrote", make())
