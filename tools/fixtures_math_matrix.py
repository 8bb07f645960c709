"""Fixture set `tests/fixtures/math_matrix/`: MatMul, BatchMatMulV2, AddN, Select, SelectV2, ClipByValue,
Range (dev-only: needs tensorflow-cpu).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_math_matrix.py     # -> tests/fixtures/math_matrix

* MatMul (transpose_a/b all four ways), BatchMatMulV2 (adj_x/adj_y, batch dims broadcast both ways, rank 2
  with rank 4, empty batch / empty K), every CPU dtype (complex: adjoint = conjugate transpose), K = 8k+r,
  a few 30-70 wide products, NaN/inf inside. Float outputs "sum": S = |A| @ |B| (float64, DAZ'd), n = K.
  Integer outputs exact (wrapping).
* AddN with 1..20 inputs, exact: TF adds in a fixed order (see README_math_fixtures.md); every CPU dtype;
  inputs chosen so a different order changes the rounding (large + small values, cancellations).
* Select (condition of x's shape, a vector along dim 0, or a scalar), SelectV2 (condition, t, e broadcast
  together), ClipByValue (scalar or full-shape bounds, lo > hi, NaN bounds), Range (every Tidx, negative
  delta, fractional float deltas, empty ranges). All exact.
Errors: Matrix size-incompatible, non-matrix inputs, incompatible batch dims, AddN shape / dtype mismatch,
Select shape rules, ClipByValue shape mismatch, Range delta 0 / wrong direction / non-scalar, dtype checks.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from math_fixture_util import (COMPLEX, FIXTURES, FLOATS, INTS, MathBuilder, Rand, cpu_dtypes,  # noqa: E402
                               f64, int_extremes, specials, store, storage, tfd, tiny)

NAME = "math_matrix"
FAMILY = {"MatMul": "matrix", "BatchMatMulV2": "matrix", "AddN": "addn", "Select": "select",
          "SelectV2": "select", "ClipByValue": "clip", "Range": "range"}


def mm_ref(a_port, b_port, dt, ta, tb, out):
    def ref(rec, b):
        A, B = f64(b.arr(rec["inputs"][a_port]), dt), f64(b.arr(rec["inputs"][b_port]), dt)
        if ta:
            A = np.conj(np.swapaxes(A, -1, -2)) if (dt in COMPLEX and a_port == "x") else np.swapaxes(A, -1, -2)
        if tb:
            B = np.conj(np.swapaxes(B, -1, -2)) if (dt in COMPLEX and b_port == "y") else np.swapaxes(B, -1, -2)
        with np.errstate(all="ignore"):
            v = np.matmul(A, B)
            S = np.matmul(np.abs(A), np.abs(B))
        return {out: (v, S, A.shape[-1])}
    return ref


class Gen:
    def __init__(self):
        self.b = MathBuilder(NAME, FAMILY)
        self.r = Rand(20250305)
        self.k = 0

    def mat(self, shape, dt):
        if dt in INTS:
            info = np.iinfo(storage(dt))
            return self.r(shape, dt, max(-20, int(info.min)), 20)
        return self.r(shape, dt, -3.0, 3.0)

    # ---- MatMul ------------------------------------------------------------------------------------------
    def matmul(self):
        op = "MatMul"
        for dt in cpu_dtypes(op):
            self.k += 1
            shapes = [(2, 3, 4), (3, 16 + self.k % 8, 5), (1, 1, 1), (4, 9, 1), (0, 3, 2), (2, 0, 3)]
            if dt in ("float32", "float64"):
                shapes += [(33, 70, 17), (8, 35, 9)]
            for j, (m, kk, n) in enumerate(shapes):
                ta, tb = bool(j & 1), bool(j & 2)
                a = self.mat((kk, m) if ta else (m, kk), dt)
                bb = self.mat((n, kk) if tb else (kk, n), dt)
                self.b(op, {"a": a, "b": bb}, {"transpose_a": ta, "transpose_b": tb}, tfd=tfd(dt, "a", "b"),
                       tags=[dt, "empty"] if 0 in (m, kk, n) else [dt], note=f"M={m} K={kk} N={n}",
                       ref=mm_ref("a", "b", dt, ta, tb, "product"))
            if dt in FLOATS:
                a = self.mat((3, 8), dt)
                sp = specials(dt, with_nans=False)
                a[0, :4] = store([np.nan, np.inf, -np.inf, 0.0], dt)
                a[1, 2] = store(np.inf, dt)
                a[2, 5] = sp[-1]
                self.b(op, {"a": a, "b": self.mat((8, 4), dt)}, None, tfd=tfd(dt, "a", "b"), tags=[dt, "specials", "nan"],
                       ref=mm_ref("a", "b", dt, False, False, "product"))
            if dt in INTS:
                ex = int_extremes(dt)
                self.b(op, {"a": ex[None, :], "b": ex[:, None]}, None, tags=[dt, "int_extremes"], note="wraps")
        r = self.r
        self.b(op, {"a": r((3, 4), "float32"), "b": r((5, 6), "float32")}, None, tags=["matrix_size"], err=True)
        self.b(op, {"a": r((3, 4), "float32"), "b": r((4, 3), "float32")}, {"transpose_a": True}, tags=["matrix_size"],
               err=True)
        self.b(op, {"a": r((2, 3, 4), "float32"), "b": r((4, 2), "float32")}, None, tags=["rank"], err=True)
        self.b(op, {"a": r((4,), "float32"), "b": r((4, 2), "float32")}, None, tags=["rank"], err=True)
        self.b(op, {"a": r((2, 2), "float32"), "b": r((2, 2), "float64")}, None, tags=["dtype_mismatch"], err=True)
        self.b.dtype_errors(op, lambda d: ({"a": r((2, 2), d, 1, 3), "b": r((2, 2), d, 1, 3)}, None, tfd(d, "a", "b")))

    def bmm(self):
        op = "BatchMatMulV2"
        cfgs = [((2, 3, 4), (2, 4, 5)), ((3, 4), (2, 4, 2)), ((2, 1, 2, 3), (3, 3, 2)), ((1, 2, 3), (4, 3, 2)),
                ((2, 2, 16 + 3), (1, 19, 3)), ((0, 2, 3), (3, 4)), ((2, 3, 0), (2, 0, 2)), ((2, 3), (3, 2))]
        for dt in cpu_dtypes(op):
            self.k += 1
            many = dt in ("float32", "complex64", "int32")
            for j, (xs, ys) in enumerate(cfgs if many else cfgs[self.k % 4: self.k % 4 + 3]):
                ax, ay = bool(j & 1), bool(j & 2)
                xs2 = xs[:-2] + (xs[-1], xs[-2]) if ax else xs
                ys2 = ys[:-2] + (ys[-1], ys[-2]) if ay else ys
                self.b(op, {"x": self.mat(xs2, dt), "y": self.mat(ys2, dt)}, {"adj_x": ax, "adj_y": ay},
                       tfd=tfd(dt, "x", "y"), tags=[dt, "broadcast"], note=f"{list(xs)} @ {list(ys)}",
                       ref=mm_ref("x", "y", dt, ax, ay, "output"))
        r = self.r
        self.b(op, {"x": r((2, 3, 4), "float32"), "y": r((3, 4, 5), "float32")}, None, tags=["incompatible_broadcast"],
               err=True)
        self.b(op, {"x": r((2, 3, 4), "float32"), "y": r((2, 5, 6), "float32")}, None, tags=["matrix_size"], err=True)
        self.b(op, {"x": r((4,), "float32"), "y": r((4, 2), "float32")}, None, tags=["rank"], err=True)
        self.b(op, {"x": r((2, 2), "float32"), "y": r((2, 2), "float64")}, None, tags=["dtype_mismatch"], err=True)
        self.b.dtype_errors(op, lambda d: ({"x": r((2, 2), d, 1, 3), "y": r((2, 2), d, 1, 3)}, None, tfd(d, "x", "y")))

    # ---- AddN --------------------------------------------------------------------------------------------
    def addn(self):
        op, r = "AddN", self.r
        for n in range(1, 21):
            for dt in ("float32", "float64", "float16", "bfloat16"):
                if dt != "float32" and n not in (1, 2, 3, 8, 9, 10, 11, 16, 17, 20):
                    continue
                # magnitudes spread over many binades: any other order rounds differently
                mags = 2.0 ** r.rng.integers(-12, 13, n)
                xs = [store(r.rng.uniform(-1, 1, (3, 7)) * m, dt) for m in mags]
                self.b(op, {"inputs": xs}, None, tfd=tfd(dt, "inputs"), tags=[dt, "order"], note=f"N={n}")
        for dt in cpu_dtypes(op):
            if dt == "variant":
                continue
            self.b(op, {"inputs": [self.mat((2, 3), dt) for _ in range(3)]}, None, tfd=tfd(dt, "inputs"), tags=[dt])
            self.b(op, {"inputs": [self.mat((), dt)] * 2}, None, tfd=tfd(dt, "inputs"), tags=[dt, "scalar"])
            if dt in FLOATS:
                sp = specials(dt)
                xs = [sp, r.perm(sp), r.perm(sp)]
                self.b(op, {"inputs": xs}, None, tfd=tfd(dt, "inputs"), tags=[dt, "specials", "nan"],
                       note="may pair different NaNs: the result's NaN bits follow TF's order")
                big = store([1e30 if dt != "float16" else 6e4, 1.0, -1e30 if dt != "float16" else -6e4], dt)
                self.b(op, {"inputs": [big[[0]], big[[1]], big[[2]]] * 3}, None, tfd=tfd(dt, "inputs"),
                       tags=[dt, "order"], note="1e30 + 1 - 1e30 repeated: exposes the order")
            if dt in INTS:
                ex = int_extremes(dt)
                self.b(op, {"inputs": [ex, ex[::-1].copy(), ex]}, None, tags=[dt, "int_extremes"])
        self.b(op, {"inputs": [np.zeros((0, 3), np.float32)] * 4}, None, tags=["empty"])
        self.b(op, {"inputs": [r((2, 3), "float32"), r((3,), "float32")]}, None, tags=["shape_mismatch"], err=True)
        self.b(op, {"inputs": [r((2, 3), "float32"), r((3, 2), "float32")]}, None, tags=["shape_mismatch"], err=True)
        self.b(op, {"inputs": [r((2,), "float32"), r((2,), "float64")]}, None, tags=["dtype_mismatch"], err=True)
        self.b(op, {"inputs": [r((2,), "bool"), r((2,), "bool")]}, None, tags=["disallowed_dtype"], err=True)

    # ---- Select / SelectV2 -----------------------------------------------------------------------------------
    def select(self):
        r = self.r
        for op, (px, py) in (("Select", ("x", "y")), ("SelectV2", ("t", "e"))):
            for dt in cpu_dtypes(op):
                if dt in ("resource", "variant"):
                    continue
                self.k += 1
                n = 16 + self.k % 8
                x, y = self.mat((n,), dt) if dt != "bool" else r((n,), dt), self.mat((n,), dt) if dt != "bool" \
                    else r((n,), dt)
                if dt == "string":
                    x, y = r((n,), dt), r((n,), dt)
                self.b(op, {"condition": r((n,), "bool"), px: x, py: y}, None, tfd=tfd(dt, px, py),
                       tags=[dt, "packet_tail"])
                if dt in FLOATS:
                    sp = specials(dt)
                    self.b(op, {"condition": r((len(sp),), "bool"), px: sp, py: r.perm(sp)}, None,
                           tfd=tfd(dt, px, py), tags=[dt, "specials", "daz"], note="denormals and NaN bits pass through")
            x2, y2 = self.mat((3, 4), "float32"), self.mat((3, 4), "float32")
            self.b(op, {"condition": np.array(True), px: x2, py: y2}, None, tags=["scalar", "broadcast"])
            self.b(op, {"condition": r((3, 4), "bool"), px: x2, py: y2}, None, tags=["same_shape"])
            self.b(op, {"condition": np.zeros((0, 2), bool), px: np.zeros((0, 2), np.float32),
                        py: np.zeros((0, 2), np.float32)}, None, tags=["empty"])
            if op == "Select":
                self.b(op, {"condition": r((3,), "bool"), px: x2, py: y2}, None, tags=["vector_condition"],
                       note="condition of x.shape[0] picks whole rows")
                self.b(op, {"condition": r((3,), "bool"), px: np.asarray(self.mat((3,), "float32")),
                            py: np.asarray(self.mat((3,), "float32"))}, None, tags=["vector_condition"])
                self.b(op, {"condition": r((4,), "bool"), px: x2, py: y2}, None, tags=["shape"], err=True)
                self.b(op, {"condition": r((3, 1), "bool"), px: x2, py: y2}, None, tags=["shape"], err=True,
                       note="Select does not broadcast")
                self.b(op, {"condition": r((3, 4), "bool"), px: x2, py: self.mat((4,), "float32")}, None,
                       tags=["shape"], err=True)
                self.b(op, {"condition": r((), "bool"), px: np.float32(1), py: np.float32(2)}, None, tags=["scalar"])
            else:
                self.b(op, {"condition": r((3, 1), "bool"), px: self.mat((1, 4), "float32"),
                            py: self.mat((), "float32")}, None, tags=["broadcast"], note="all three broadcast")
                self.b(op, {"condition": r((4,), "bool"), px: self.mat((3, 1), "float32"),
                            py: self.mat((2, 1, 1), "float32")}, None, tags=["broadcast"])
                self.b(op, {"condition": r((2, 1, 3), "bool"), px: self.mat((4, 3), "float32"),
                            py: self.mat((1,), "float32")}, None, tags=["broadcast"])
                self.b(op, {"condition": r((3,), "bool"), px: x2, py: y2}, None, tags=["incompatible_broadcast"],
                       err=True, note="a vector condition broadcasts against the last dim (4), not dim 0")
                self.b(op, {"condition": r((2, 3), "bool"), px: self.mat((4,), "float32"), py: self.mat((4,), "float32")},
                       None, tags=["incompatible_broadcast"], err=True)
            self.b(op, {"condition": r((3, 4), "int32"), px: x2, py: y2}, None, tags=["dtype_mismatch"], err=True)
            self.b(op, {"condition": r((3, 4), "bool"), px: x2, py: self.mat((3, 4), "float64")}, None,
                   tags=["dtype_mismatch"], err=True)

    # ---- ClipByValue ------------------------------------------------------------------------------------------
    def clip(self):
        op, r = "ClipByValue", self.r
        for dt in cpu_dtypes(op):
            self.k += 1
            n = 16 + self.k % 8
            x = self.mat((n,), dt)
            lo, hi = self.mat((), dt), self.mat((), dt)
            if dt not in COMPLEX:
                lo, hi = store(-1, dt), store(2, dt)
            self.b(op, {"t": x, "clip_value_min": np.asarray(lo), "clip_value_max": np.asarray(hi)}, None,
                   tfd=tfd(dt, "t", "clip_value_min", "clip_value_max"), tags=[dt, "packet_tail"])
            self.b(op, {"t": self.mat((2, 3), dt), "clip_value_min": self.mat((2, 3), dt),
                        "clip_value_max": self.mat((2, 3), dt)}, None,
                   tfd=tfd(dt, "t", "clip_value_min", "clip_value_max"), tags=[dt, "full_shape", "lo_gt_hi"],
                   note="elementwise bounds, some lo > hi")
            if dt in FLOATS:
                sp = specials(dt)
                for lo_, hi_, tag in ((-1.0, 1.0, "specials"), (2.0, -2.0, "lo_gt_hi"), (np.nan, 1.0, "nan_bound"),
                                      (-1.0, np.nan, "nan_bound"), (-0.0, 0.0, "signed_zero"),
                                      (1e-40, 2e-40, "daz")):
                    self.b(op, {"t": sp, "clip_value_min": store(lo_, dt), "clip_value_max": store(hi_, dt)}, None,
                           tfd=tfd(dt, "t", "clip_value_min", "clip_value_max"), tags=[dt, tag],
                           note=f"bounds [{lo_}, {hi_}]")
            if dt in INTS:
                ex = int_extremes(dt)
                info = np.iinfo(storage(dt))
                self.b(op, {"t": ex, "clip_value_min": store(int(info.min) + 1, dt),
                            "clip_value_max": store(int(info.max) - 1, dt)}, None, tags=[dt, "int_extremes"])
        x = self.mat((2, 3), "float32")
        self.b(op, {"t": x, "clip_value_min": self.mat((3,), "float32"), "clip_value_max": np.float32(1)}, None,
               tags=["shape"], err=True, note="a bound must be a scalar or of t's shape (no broadcasting)")
        self.b(op, {"t": x, "clip_value_min": np.float32(0), "clip_value_max": self.mat((2, 1), "float32")}, None,
               tags=["shape"], err=True)
        self.b(op, {"t": x, "clip_value_min": np.float64(0), "clip_value_max": np.float32(1)}, None,
               tags=["dtype_mismatch"], err=True)
        self.b.dtype_errors(op, lambda d: ({"t": r((2,), d), "clip_value_min": r((), d), "clip_value_max": r((), d)},
                                           None, tfd(d, "t", "clip_value_min", "clip_value_max")))

    # ---- Range ----------------------------------------------------------------------------------------------------
    def range_(self):
        op = "Range"
        for dt in cpu_dtypes(op, "Tidx"):
            t = tfd(dt, "start", "limit", "delta")
            flt = dt in FLOATS
            cases = [(0, 10, 1), (3, -7, -2), (5, 5, 1), (-3, 20, 4), (10, 0, -3), (0, 1, 3)]
            if flt:
                cases += [(0, 1, 0.1), (0.5, -2.3, -0.7), (1, 2, 1 / 3), (-1e-3, 1e-3, 1e-4), (0, 40, 0.3),
                          (1e7, 1e7 + 10, 1.0) if dt != "float16" else (2000, 2010, 2.0)]
            for s, l, d in cases:
                self.b(op, {"start": store(s, dt), "limit": store(l, dt), "delta": store(d, dt)}, None, tfd=t,
                       tags=[dt], note=f"({s}, {l}, {d})")
            self.b(op, {"start": store(0, dt), "limit": store(5, dt), "delta": store(0, dt)}, None, tfd=t,
                   tags=[dt], err=True)
            self.b(op, {"start": store(5, dt), "limit": store(0, dt), "delta": store(1, dt)}, None, tfd=t,
                   tags=[dt], err=True)
            self.b(op, {"start": store(0, dt), "limit": store(5, dt), "delta": store(-1, dt)}, None, tfd=t,
                   tags=[dt], err=True)
        if True:
            ext = np.iinfo(np.int32)
            self.b(op, {"start": np.int32(ext.max - 3), "limit": np.int32(ext.max), "delta": np.int32(1)}, None,
                   tags=["int32", "int_extremes"])
            self.b(op, {"start": np.int32(ext.min), "limit": np.int32(ext.max), "delta": np.int32(ext.max)}, None,
                   tags=["int32", "int_extremes"])
            self.b(op, {"start": np.float32(0), "limit": np.float32(np.inf), "delta": np.float32(1)}, None,
                   tags=["float32", "specials"], err=True)
            self.b(op, {"start": np.float32(0), "limit": np.float32(np.nan), "delta": np.float32(1)}, None,
                   tags=["float32", "nan"], err=None)
            self.b(op, {"start": np.float32(0), "limit": np.float32(1), "delta": np.float32(np.nan)}, None,
                   tags=["float32", "nan"], err=None)
            self.b(op, {"start": np.int64(0), "limit": np.int64(3), "delta": np.int64(1)}, None, tags=["int64"])
            self.b(op, {"start": np.int32([0]), "limit": np.int32(3), "delta": np.int32(1)}, None, tags=["rank"],
                   err=None, note="a 1-element vector start is accepted")
            self.b(op, {"start": np.int32([0, 1]), "limit": np.int32(3), "delta": np.int32(1)}, None, tags=["rank"],
                   err=True)
            self.b(op, {"start": np.float16(0), "limit": np.float16(np.inf), "delta": np.float16(1)}, None,
                   tags=["float16", "specials"], err=True)
            self.b(op, {"start": np.int32(0), "limit": np.int32([3, 4]), "delta": np.int32(1)}, None, tags=["rank"],
                   err=True)
            self.b(op, {"start": np.int32(0), "limit": np.int64(3), "delta": np.int32(1)}, None,
                   tags=["dtype_mismatch"], err=True)
            self.b.dtype_errors(op, lambda d: ({"start": store(0, d), "limit": store(3, d), "delta": store(1, d)},
                                               None, tfd(d, "start", "limit", "delta")), attr="Tidx")

    def range_edges(self):
        """Range at its edges (appended last, so every earlier case keeps its id): exact integer sizes
        where |limit - start| overflows the type, wrapping elements, a float size of exactly 2**63, denormal
        inputs (read as zero), -0 in the texts, float16 sizes overflowing, T(i) rounding in the half types,
        a flushed result."""
        op = "Range"
        i64, i32 = np.iinfo(np.int64), np.iinfo(np.int32)
        k = 2 ** 61 + 1
        for s, l, d in ((i64.min, i64.max, i64.max), (0, 3 * k, k), (int(5e18), int(-5e18), -1),
                        (i64.max, i64.min, -2 ** 62), (i64.max, 0, i64.min)):
            e = None if (s, l, d) != (int(5e18), int(-5e18), -1) else True
            self.b(op, {"start": np.int64(s), "limit": np.int64(l), "delta": np.int64(d)}, None,
                   tags=["int64", "int_extremes"], err=e, note=f"({s}, {l}, {d})")
        for s, l, d in ((i32.max, i32.min, i32.min), (i32.max, i32.min, -2 ** 30), (0, 5, i32.min)):
            self.b(op, {"start": np.int32(s), "limit": np.int32(l), "delta": np.int32(d)}, None,
                   tags=["int32", "int_extremes"], err=None, note=f"({s}, {l}, {d})")
        for dt in ("float32", "float64"):
            self.b(op, {"start": store(0, dt), "limit": store(2.0 ** 63, dt), "delta": store(1, dt)}, None,
                   tags=[dt, "specials"], err=True, note="size 2**63 -> int64 lowest")
        for dt in FLOATS:
            t = tfd(dt, "start", "limit", "delta")
            den = tiny(dt) / 4
            for s, l, d, note in ((0, 1, den, "denormal delta"), (0, 1, -den, "negative denormal delta"),
                                  (0, 1, -0.0, "-0 delta"), (-0.0, -1, 1, "-0 start"),
                                  (den, 3, 1, "denormal start"), (0, den, 1, "denormal limit"),
                                  (den, -1, 1, "denormal start, wrong direction"),
                                  (5.123456789, 0, 1, "six digits"), (0.001, 0, 1, "six digits"),
                                  (np.nan, 1, -1, "NaN start"), (0, 1, np.inf, "infinite delta"),
                                  (np.inf, np.inf, 1, "inf - inf"),
                                  (1.5 * tiny(dt), -3 * tiny(dt), -tiny(dt), "flushed elements")):
                self.b(op, {"start": store(s, dt), "limit": store(l, dt), "delta": store(d, dt)}, None, tfd=t,
                       tags=[dt, "specials"], err=None, note=note)
        self.b(op, {"start": store(0, "float16"), "limit": store(60000, "float16"), "delta": store(0.5, "float16")},
               None, tags=["float16", "specials"], err=True, note="the size overflows float16")
        self.b(op, {"start": store(0, "float16"), "limit": store(4100, "float16"), "delta": store(1, "float16")},
               None, tags=["float16"], note="T(i) rounds above 2048")
        self.b(op, {"start": store(-7, "bfloat16"), "limit": store(180, "bfloat16"), "delta": store(0.3, "bfloat16")},
               None, tfd=tfd("bfloat16", "start", "limit", "delta"), tags=["bfloat16"], note="T(i) rounds above 256")
        self.b(op, {"start": store(0.1, "float32"), "limit": store(3000, "float32"), "delta": store(0.37, "float32")},
               None, tags=["float32"], note="start + T(i) * delta, not fused, not accumulated")
        self.b(op, {"start": store(0.1, "float64"), "limit": store(3000, "float64"), "delta": store(0.37, "float64")},
               None, tags=["float64"], note="start + T(i) * delta, not fused, not accumulated")
        self.b(op, {"start": np.int32([[0]]), "limit": np.int32(3), "delta": np.int32(1)}, None, tags=["rank"],
               err=True)
        self.b(op, {"start": np.int32(0), "limit": np.int32(3), "delta": np.int32([1, 1])}, None, tags=["rank"],
               err=True)
        self.b(op, {"start": np.int32([0, 1]), "limit": np.int32([3, 4]), "delta": np.int32(1)}, None,
               tags=["rank"], err=True, note="start is checked first")

    def matrix_edges(self):
        """Appended last too: AddN where two NaNs of different sign and payload meet, at every packet and
        tail position, for the group sizes whose compiled code keeps the other NaN (Add3..Add9, Add8p, the
        bfloat16 4-wide tail); ClipByValue of complex parts with denormals and NaNs (scalar and full-shape
        bounds) and of half types with full-shape bounds."""
        op = "AddN"
        nan_bits = {"float16": (0x7e01, 0xfe02), "bfloat16": (0x7fc1, 0xffc2), "float32": (0x7fc00001, 0xffc00002),
                    "float64": (0x7ff8000000000001, 0xfff8000000000002)}
        for dt in ("float32", "float64", "float16", "bfloat16"):
            pos, neg = nan_bits[dt]
            ut = storage(dt) if dt == "bfloat16" else np.dtype("u%d" % np.dtype(dt).itemsize)
            for n in (3, 6, 9, 10, 11):
                pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
                for shift in range(0, len(pairs), 15):
                    xs = [store(np.full(15, 1.5), dt) for _ in range(n)]
                    for t in range(15):
                        i, j = pairs[(shift + t) % len(pairs)]
                        xs[i].view(ut)[t], xs[j].view(ut)[t] = (pos, neg) if t % 2 else (neg, pos)
                    self.b(op, {"inputs": xs}, None, tfd=tfd(dt, "inputs"), tags=[dt, "nan"],
                           note=f"N={n}: NaN pairs from {shift}, 8 packet + 7 tail elements")
        op = "ClipByValue"
        den = {"complex64": 1e-40, "complex128": 1e-310}
        for dt in COMPLEX:
            d = den[dt]
            t = np.array([d + 0.5j, -d - 0.5j, 0.25 + 1j * d, np.nan + 0.1j, 0.1 + 1j * np.nan, 3 - 3j,
                          -3 + 3j, 1e-3 - 1e-3j, -0.0 + 0.0j], dtype=dt)
            for lo, hi in ((-1 - 0.2j, 1 + 0.2j), (d + 1j * d, 2 * d + 2j * d), (np.nan - 1j, 1 + 1j * np.nan)):
                self.b(op, {"t": t, "clip_value_min": np.asarray(lo, dt), "clip_value_max": np.asarray(hi, dt)},
                       None, tags=[dt, "specials", "daz"], note=f"bounds [{lo}, {hi}]: a box, parts DAZ'd")
                self.b(op, {"t": t, "clip_value_min": np.full(t.shape, lo, dt), "clip_value_max": np.asarray(hi, dt)},
                       None, tags=[dt, "specials", "daz"], note="a full-shape lower bound")
                self.b(op, {"t": t, "clip_value_min": np.full(t.shape, lo, dt), "clip_value_max": np.full(t.shape, hi, dt)},
                       None, tags=[dt, "specials", "daz", "full_shape"], note="full-shape bounds")
        for dt in ("float16", "bfloat16"):
            sp = specials(dt)
            tt = tfd(dt, "t", "clip_value_min", "clip_value_max")
            for lo_, hi_ in ((-1.0, 1.0), (1e-40, 2e-40), (np.nan, 1.0)):
                lo, hi = store(np.full(sp.shape, lo_), dt), store(np.full(sp.shape, hi_), dt)
                self.b(op, {"t": sp, "clip_value_min": lo, "clip_value_max": hi}, None, tfd=tt,
                       tags=[dt, "specials", "full_shape"], note=f"full-shape bounds [{lo_}, {hi_}]")
                self.b(op, {"t": sp, "clip_value_min": lo, "clip_value_max": store(hi_, dt)}, None, tfd=tt,
                       tags=[dt, "specials"], note=f"a full-shape lower bound [{lo_}, {hi_}]")

    def build(self):
        self.matmul()
        self.bmm()
        self.addn()
        self.select()
        self.clip()
        self.range_()
        self.range_edges()
        self.matrix_edges()
        return self.b


def make(root=FIXTURES):
    return Gen().build().write(root)


if __name__ == "__main__":
    print("wrote", make())
