"""Fixture set `tests/fixtures/math_batch_matmul/`: BatchMatMul (v1) and BatchMatMulV3 (dev-only: needs
tensorflow-cpu).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_math_batch_matmul.py   # -> tests/fixtures/math_batch_matmul

* BatchMatMul: equal batch dims (no broadcasting), adj_x/adj_y (complex: conjugate transpose), rank 2..4,
  empty batch / M / K, every CPU dtype; its checks (different ndims, batch dims that differ, even by 1,
  inner dims, rank < 2).
* BatchMatMulV3: every CPU kernel's (Ta, Tb, Tout) combination (int8/uint8 -> int32, int8/uint8 with
  bfloat16 -> bfloat16, and the same-type ones), batch broadcasting, and the combinations with no kernel.
Float outputs "sum" (S = |A| @ |B| in float64, n = K, as math_matrix); integer outputs exact.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from fixtures_math_matrix import mm_ref  # noqa: E402
from math_fixture_util import FIXTURES, INTS, MathBuilder, Rand, f64, storage, tfd  # noqa: E402

NAME = "math_batch_matmul"
FAMILY = {"BatchMatMul": "matrix", "BatchMatMulV3": "matrix"}
V1_T = ("float32", "float64", "int32", "complex64", "int64", "bfloat16", "complex128", "float16")
V3_COMBOS = [("float32",) * 3, ("float64",) * 3, ("int32",) * 3, ("int64",) * 3, ("int16",) * 3,
             ("bfloat16",) * 3, ("complex64",) * 3, ("complex128",) * 3, ("int8", "int8", "int32"),
             ("uint8", "uint8", "int32"), ("int8", "uint8", "int32"), ("uint8", "int8", "int32"),
             ("int8", "bfloat16", "bfloat16"), ("bfloat16", "uint8", "bfloat16")]


def mixed_ref(ta, tb, ax, ay):
    """"sum" reference of a product of two dtypes (int8/uint8 with bfloat16: TF's kernel rounds in
    bfloat16 in an order of its own)."""
    def ref(rec, b):
        A, B = f64(b.arr(rec["inputs"]["x"]), ta), f64(b.arr(rec["inputs"]["y"]), tb)
        A = np.swapaxes(A, -1, -2) if ax else A
        B = np.swapaxes(B, -1, -2) if ay else B
        return {"output": (A @ B, np.abs(A) @ np.abs(B), A.shape[-1])}
    return ref


class Gen:
    def __init__(self):
        self.b = MathBuilder(NAME, FAMILY)
        self.r = Rand(20250411)

    def mat(self, shape, dt):
        if dt in INTS:
            info = np.iinfo(storage(dt))
            return self.r(shape, dt, max(-20, int(info.min)), min(20, int(info.max)))
        return self.r(shape, dt, -3.0, 3.0)

    def v1(self):
        op = "BatchMatMul"
        cfgs = [((2, 3, 4), (2, 4, 5)), ((3, 4), (4, 2)), ((2, 1, 2, 3), (2, 1, 3, 2)), ((0, 2, 3), (0, 3, 4)),
                ((2, 3, 0), (2, 0, 2)), ((1, 17, 5), (1, 5, 3))]
        for k, dt in enumerate(V1_T):
            for j, (xs, ys) in enumerate(cfgs if dt in ("float32", "complex64") else cfgs[k % 3:k % 3 + 3]):
                ax, ay = bool(j & 1), bool(j & 2)
                xs2 = xs[:-2] + (xs[-1], xs[-2]) if ax else xs
                ys2 = ys[:-2] + (ys[-1], ys[-2]) if ay else ys
                self.b(op, {"x": self.mat(xs2, dt), "y": self.mat(ys2, dt)}, {"adj_x": ax, "adj_y": ay},
                       tfd=tfd(dt, "x", "y"), tags=[dt], note=f"{list(xs)} @ {list(ys)}",
                       ref=mm_ref("x", "y", dt, ax, ay, "output"))
        r = self.r
        for xs, ys, why in (((2, 3, 4), (4, 2), "different ndims"), ((2, 3, 4), (3, 4, 2), "batch dims differ"),
                            ((1, 3, 4), (3, 4, 2), "no broadcasting"), ((2, 3, 4), (2, 5, 2), "inner dims"),
                            ((4,), (4,), "rank 1")):
            self.b(op, {"x": r(xs, "float32"), "y": r(ys, "float32")}, None, tags=["checks"], err=True, note=why)
        self.b(op, {"x": r((2, 2), "int16"), "y": r((2, 2), "int16")}, None, tags=["dtype"], err=True,
               note="int16: a CPU kernel exists, the OpDef refuses it")
        self.b(op, {"x": r((2, 2), "float32"), "y": r((2, 2), "float64")}, None, tags=["dtype"], err=True)

    def v3(self):
        op = "BatchMatMulV3"
        for k, (ta, tb, to) in enumerate(V3_COMBOS):
            for xs, ys, ax, ay in (((2, 3, 4), (4, 5), False, False), ((2, 1, 4, 3), (3, 3, 2), True, True),
                                   ((3, 2), (2, 3), k % 2 == 0, False)):
                xs2 = xs[:-2] + (xs[-1], xs[-2]) if ax else xs
                ys2 = ys[:-2] + (ys[-1], ys[-2]) if ay else ys
                ins = {"x": self.mat(xs2, ta), "y": self.mat(ys2, tb)}
                t = {p: d for p, d in (("x", ta), ("y", tb)) if d == "bfloat16"} or None
                same = ta == tb == to
                ref = mm_ref("x", "y", to, ax, ay, "output") if same else (
                    mixed_ref(ta, tb, ax, ay) if to == "bfloat16" else None)
                self.b(op, ins, {"Tout": {"dtype": to}, "adj_x": ax, "adj_y": ay}, tfd=t, tags=[ta, tb, to],
                       note=f"{ta} x {tb} -> {to}", ref=ref)
        r = self.r
        for ta, tb, to in (("float32", "float32", "float64"), ("float16", "float16", "float16"),
                           ("int8", "int8", "int16"), ("float32", "float64", "float32"), ("int8", "int8", "int8")):
            self.b(op, {"x": self.mat((2, 2), ta), "y": self.mat((2, 2), tb)}, {"Tout": {"dtype": to}},
                   tfd={p: d for p, d in (("x", ta), ("y", tb)) if d == "bfloat16"} or None, tags=["dtype"],
                   err=True, note=f"{ta} x {tb} -> {to}")
        self.b(op, {"x": r((2, 3, 4), "float32"), "y": r((3, 4, 5), "float32")}, {"Tout": {"dtype": "float32"}},
               tags=["checks"], err=True)

    def build(self):
        self.v1()
        self.v3()
        return self.b


def make(root=FIXTURES):
    return Gen().build().write(root)


if __name__ == "__main__":
    print("wrote", make())
