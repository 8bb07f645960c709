"""Fixture set `array_ops_b`: gather/scatter, quantization, casts, matrix-diag, set ops and misc
array ops, recorded from TensorFlow (dev-only: needs `pip install tensorflow-cpu`).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_array_ops_b.py     # -> tests/fixtures/array_ops_b/

Set FIXTURE_TRACE=1 to print each case id before it runs (to find a case that kills the process).
Cases dropped because they crash TF (abort / CHECK failure) are listed in DROPPED below.
"""
from __future__ import annotations

import os
import sys
import warnings

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from fixture_lib import FixtureSet  # noqa: E402

NAME = "array_ops_b"
TRACE = bool(os.environ.get("FIXTURE_TRACE"))

# Cases left out because they abort the TF process (CHECK failure) in TF 2.21.
DROPPED: list[str] = [
    "QuantizedInstanceNorm with a rank-3 x: tensor_shape.cc CHECK 'NDIMS == dims() (4 vs. 3)' aborts",
]

FAMILY = {
    "Gather": "gather", "GatherV2": "gather", "GatherNd": "gather",
    "ScatterNd": "scatter", "ScatterNdNonAliasingAdd": "scatter",
    "Dequantize": "quant", "QuantizeV2": "quant", "QuantizeAndDequantizeV2": "quant",
    "QuantizedConcat": "quant", "QuantizedReshape": "quant", "QuantizedInstanceNorm": "quant",
    "Bitcast": "cast", "Cast": "cast",
    "Diag": "matrix", "DiagPart": "matrix", "MatrixBandPart": "matrix", "MatrixDiag": "matrix",
    "MatrixDiagPart": "matrix", "MatrixSetDiag": "matrix",
    "ListDiff": "set", "Unique": "set", "UniqueWithCounts": "set",
    "CheckNumerics": "misc", "EditDistance": "misc", "InvertPermutation": "misc", "OneHot": "misc",
    "Where": "misc",
}

F16, F32, F64 = np.float16, np.float32, np.float64
I8, I16, I32, I64 = np.int8, np.int16, np.int32, np.int64
U8, U16, U32, U64 = np.uint8, np.uint16, np.uint32, np.uint64


def D(name):
    return {"dtype": name}


def bf16(x):
    """float values -> bfloat16 bit patterns (uint16), rounded by TF (nearest-even)."""
    t = tf.cast(tf.constant(np.asarray(x, np.float32)), tf.bfloat16)
    return tf.bitcast(t, tf.uint16).numpy()


def S(*xs):
    return np.array(xs, dtype=np.bytes_)


class Builder:
    def __init__(self):
        self.fs = FixtureSet(NAME)
        self.surprises: list[str] = []

    def __call__(self, op, inputs, attrs=None, *, err=False, tags=(), note=None, tfd=None, sum_outputs=None):
        cid = f"{len(self.fs.cases):04d}_{op}"
        if TRACE:
            print("CASE", cid, flush=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rec = self.fs.case(op, inputs, attrs, tags=["array_ops", FAMILY[op], *tags], note=note,
                               input_tf_dtypes=tfd, case_id=cid, sum_outputs=sum_outputs)
        got = "expect_error" in rec
        if got:
            rec["tags"].append("error")
        if got != err:
            self.surprises.append(f"{cid}: expected {'error' if err else 'success'}, got "
                                  + (rec["expect_error"]["message"][:200] if got else "success"))
        return rec


# ----------------------------------------------------------------------------------------- gather
def gather_cases(c: Builder, rng):
    p = rng.standard_normal((5, 3)).astype(F32)
    c("Gather", {"params": p, "indices": np.array([4, 0, 2, 2], I32)})
    c("Gather", {"params": np.arange(5, dtype=I64) * 10, "indices": np.array([[1, 0, 4], [3, 3, 2]], I64)})
    c("Gather", {"params": S(b"a", b"bb", b"", b"dddd"), "indices": np.array([3, 0, 2], I32)})
    c("Gather", {"params": np.array([[True, False], [False, False], [True, True]]), "indices": np.array(2, I32)},
      tags=["scalar"])
    c("Gather", {"params": rng.integers(0, 255, (4, 2, 2)).astype(U8), "indices": np.zeros((0,), I64)},
      tags=["empty"])
    c("Gather", {"params": np.array([-3, 5, 127, -128], I8), "indices": np.array([[0], [3]], I32)})
    c("Gather", {"params": np.arange(6, dtype=F64).reshape(3, 2), "indices": np.array([1, 1], I32)},
      {"validate_indices": False})
    c("Gather", {"params": np.array([0.5, -2.0, 65504.0], F16), "indices": np.array([2, 1], I32)})
    c("Gather", {"params": bf16([1.5, -0.25, 3.0]), "indices": np.array([2, 0], I64)}, tfd={"params": "bfloat16"})
    c("Gather", {"params": np.zeros((0, 3), F32), "indices": np.zeros((0,), I32)}, tags=["empty"])
    c("Gather", {"params": p, "indices": np.array([1, 5], I32)}, err=True, note="out of range index")
    c("Gather", {"params": p, "indices": np.array([-1], I64)}, err=True, note="negative index")
    c("Gather", {"params": np.zeros((0, 3), F32), "indices": np.array([0], I32)}, err=True,
      note="non-empty indices into empty params")
    c("Gather", {"params": np.array(3.0, F32), "indices": np.array([0], I32)}, err=True, tags=["scalar"])

    x = rng.integers(-50, 50, (2, 3, 4)).astype(I32)
    for axis, tax in [(0, I32), (1, I32), (2, I64), (-1, I32), (-2, I64), (-3, I64)]:
        c("GatherV2", {"params": x, "indices": np.array([1, 0, 1], I32), "axis": np.array(axis, tax)})
    c("GatherV2", {"params": x, "indices": np.array([[2, 0], [1, 1]], I64), "axis": np.array(1, I32)})
    c("GatherV2", {"params": x, "indices": np.array([3, 0], np.int16), "axis": np.array(-1, I64)})
    c("GatherV2", {"params": x, "indices": np.array(2, I32), "axis": np.array(2, I32)}, tags=["scalar"])
    c("GatherV2", {"params": x, "indices": np.zeros((0, 2), I32), "axis": np.array(1, I32)}, tags=["empty"])
    c("GatherV2", {"params": x.astype(F32), "indices": np.array([[0, 2], [1, 1]], I32),
                   "axis": np.array(1, I32)}, {"batch_dims": 1})
    c("GatherV2", {"params": x.astype(F64), "indices": np.array([[[0, 3]], [[1, 1]]], I32),
                   "axis": np.array(2, I32)}, {"batch_dims": 1})
    c("GatherV2", {"params": x, "indices": np.array([[[0, 3], [1, 2], [0, 0]], [[3, 3], [2, 1], [0, 1]]], I64),
                   "axis": np.array(-1, I32)}, {"batch_dims": -1})
    c("GatherV2", {"params": x, "indices": np.array([[0, 3], [1, 2], [0, 0]], I64)[None].repeat(2, 0),
                   "axis": np.array(2, I32)}, {"batch_dims": 2})
    c("GatherV2", {"params": np.array([[b"a", b"b", b"c"], [b"d", b"e", b"f"]]), "indices": np.array([2, 0], I32),
                   "axis": np.array(1, I32)})
    c("GatherV2", {"params": np.array([[True, False, True]]), "indices": np.array([2, 2], I32),
                   "axis": np.array(-1, I32)})
    c("GatherV2", {"params": np.array([[1, 2], [3, 4]], U8), "indices": np.array([1], I64),
                   "axis": np.array(0, I64)})
    c("GatherV2", {"params": bf16([[1.0, 2.0], [3.0, 4.0]]), "indices": np.array([1, 0], I32),
                   "axis": np.array(1, I32)}, tfd={"params": "bfloat16"})
    c("GatherV2", {"params": np.zeros((2, 0, 3), F32), "indices": np.array([1, 0], I32),
                   "axis": np.array(0, I32)}, tags=["empty"])
    c("GatherV2", {"params": x, "indices": np.array([0, 3], I32), "axis": np.array(1, I32)}, err=True,
      note="out of range index on axis 1")
    c("GatherV2", {"params": x, "indices": np.array([-1], I32), "axis": np.array(0, I32)}, err=True)
    c("GatherV2", {"params": x, "indices": np.array([0], I32), "axis": np.array(3, I32)}, err=True)
    c("GatherV2", {"params": x, "indices": np.array([0], I32), "axis": np.array(-4, I64)}, err=True)
    c("GatherV2", {"params": x, "indices": np.array([[0], [1]], I32), "axis": np.array(0, I32)},
      {"batch_dims": 1}, err=True, note="batch_dims > axis")
    c("GatherV2", {"params": x, "indices": np.array([[0], [1], [0]], I32), "axis": np.array(1, I32)},
      {"batch_dims": 1}, err=True, note="batch dim size mismatch")
    c("GatherV2", {"params": x, "indices": np.array([0], I32), "axis": np.array(1, I32)},
      {"batch_dims": 2}, err=True, note="batch_dims > rank(indices)")

    p2 = np.arange(12, dtype=F32).reshape(3, 4)
    c("GatherNd", {"params": p2, "indices": np.array([[1, 2], [0, 0], [2, 3]], I32)})
    c("GatherNd", {"params": p2, "indices": np.array([[2], [0]], I64)})
    c("GatherNd", {"params": p2, "indices": np.zeros((2, 0), I32)}, note="index depth 0: whole params")
    c("GatherNd", {"params": rng.integers(0, 100, (2, 3, 4)).astype(I64),
                   "indices": np.array([[[0, 1], [1, 2]], [[1, 0], [0, 0]]], np.int16)})
    c("GatherNd", {"params": rng.integers(0, 100, (2, 3, 4)).astype(I32),
                   "indices": np.array([[1, 2, 3], [0, 0, 0]], I64)})
    c("GatherNd", {"params": np.array([[b"ab", b"c"], [b"d", b""]]), "indices": np.array([[1, 0], [0, 1]], I32)})
    c("GatherNd", {"params": np.array([[True, False], [False, True]]), "indices": np.array([[1]], I32)})
    c("GatherNd", {"params": np.array([[1.5, 2.5]], F16), "indices": np.array([0, 1], I32)}, tags=["scalar"],
      note="1-D indices -> scalar output")
    c("GatherNd", {"params": np.array([[-1, 2]], I8), "indices": np.zeros((0, 2), I32)}, tags=["empty"])
    c("GatherNd", {"params": p2, "indices": np.array([[1, 2], [3, 0]], I32)}, err=True, note="out of range")
    c("GatherNd", {"params": p2, "indices": np.array([[1], [-1]], I64)}, err=True, note="negative index")
    c("GatherNd", {"params": p2, "indices": np.array([[1, 2], [3, 0], [0, -1]], I32)},
      {"bad_indices_policy": "IGNORE"}, note="IGNORE policy: bad indices give zeros")
    c("GatherNd", {"params": p2, "indices": np.array([[5], [1]], I32)}, {"bad_indices_policy": "IGNORE"})
    c("GatherNd", {"params": p2, "indices": np.array([[1, 2], [3, 0]], I32)}, {"bad_indices_policy": "ERROR"},
      err=True)
    c("GatherNd", {"params": p2, "indices": np.array([[1, 2], [0, 1]], I32)}, {"bad_indices_policy": "DEFAULT"})
    c("GatherNd", {"params": p2, "indices": np.array([[1, 2, 0]], I32)}, err=True, note="index depth > rank")
    c("GatherNd", {"params": np.zeros((0, 3), F32), "indices": np.array([[0]], I32)}, err=True,
      note="non-empty gather from empty params")
    c("GatherNd", {"params": np.array(3.0, F32), "indices": np.zeros((0,), I32)}, err=True, tags=["scalar"])


# ---------------------------------------------------------------------------------------- scatter
def scatter_cases(c: Builder, rng):
    c("ScatterNd", {"indices": np.array([[4], [3], [1], [7]], I32), "updates": np.array([9, 10, 11, 12], F32),
                    "shape": np.array([8], I32)})
    c("ScatterNd", {"indices": np.array([[0], [2]], I64), "updates": rng.standard_normal((2, 3)).astype(F32),
                    "shape": np.array([4, 3], I64)})
    c("ScatterNd", {"indices": np.array([[1], [1], [3], [1]], I32), "updates": np.array([0.5, 0.25, 2, 1], F32),
                    "shape": np.array([5], I32)}, tags=["duplicates"], note="duplicates are summed")
    c("ScatterNd", {"indices": np.array([[0, 1], [2, 2], [0, 1]], I64), "updates": np.array([5, -7, 3], I64),
                    "shape": np.array([3, 3], I64)}, tags=["duplicates"])
    c("ScatterNd", {"indices": np.array([[1, 0], [0, 2]], I64), "updates": np.array([[1, 2], [3, 4]], I32),
                    "shape": np.array([2, 3, 2], I64)})
    c("ScatterNd", {"indices": np.array([[1], [1]], I32), "updates": np.array([200, 100], U8),
                    "shape": np.array([3], I32)}, tags=["duplicates"], note="uint8 sum wraps")
    c("ScatterNd", {"indices": np.array([[0], [2]], I32), "updates": np.array([1.5, -2.0], F64),
                    "shape": np.array([3], I32)})
    c("ScatterNd", {"indices": np.array([[0], [2]], I32), "updates": np.array([1.5, -2.0], F16),
                    "shape": np.array([3], I32)})
    c("ScatterNd", {"indices": np.array([[0], [2]], I32), "updates": np.array([True, True]),
                    "shape": np.array([3], I32)})
    c("ScatterNd", {"indices": np.array([[1], [1]], I32), "updates": np.array([1 + 2j, 3 - 1j], np.complex64),
                    "shape": np.array([2], I32)}, tags=["duplicates"])
    c("ScatterNd", {"indices": np.zeros((0, 1), I32), "updates": np.zeros((0,), F32),
                    "shape": np.array([4], I32)}, tags=["empty"])
    c("ScatterNd", {"indices": np.array([[0], [5]], I32), "updates": np.array([1, 2], F32),
                    "shape": np.array([4], I32)}, err=True, note="out of range")
    c("ScatterNd", {"indices": np.array([[0], [-1]], I64), "updates": np.array([1, 2], F32),
                    "shape": np.array([4], I64)}, err=True, note="negative index")
    c("ScatterNd", {"indices": np.array([[0], [5], [-1], [2]], I32), "updates": np.array([1, 2, 3, 4], F32),
                    "shape": np.array([4], I32)}, {"bad_indices_policy": "IGNORE"})
    c("ScatterNd", {"indices": np.array([[0], [1]], I32), "updates": np.array([1, 2, 3], F32),
                    "shape": np.array([4], I32)}, err=True, note="updates shape mismatch")
    c("ScatterNd", {"indices": np.array([[0], [1]], I32), "updates": np.array([1, 2], F32),
                    "shape": np.array([0], I32)}, err=True, note="empty output shape with updates")

    base = np.arange(6, dtype=F32)
    c("ScatterNdNonAliasingAdd", {"input": base, "indices": np.array([[1], [1], [4]], I32),
                                  "updates": np.array([0.5, 0.25, -4], F32)}, tags=["duplicates"])
    c("ScatterNdNonAliasingAdd", {"input": np.arange(12, dtype=I64).reshape(4, 3),
                                  "indices": np.array([[3], [0]], I64),
                                  "updates": np.array([[1, 1, 1], [10, 20, 30]], I64)})
    c("ScatterNdNonAliasingAdd", {"input": np.arange(12, dtype=I32).reshape(2, 2, 3),
                                  "indices": np.array([[1, 0], [1, 0]], I32),
                                  "updates": np.array([[1, 2, 3], [4, 5, 6]], I32)}, tags=["duplicates"])
    c("ScatterNdNonAliasingAdd", {"input": np.array([250, 1], U8), "indices": np.array([[0]], I32),
                                  "updates": np.array([10], U8)}, note="uint8 wraps")
    c("ScatterNdNonAliasingAdd", {"input": np.array([True, False, False]), "indices": np.array([[1], [1]], I32),
                                  "updates": np.array([True, True])}, tags=["duplicates"])
    c("ScatterNdNonAliasingAdd", {"input": np.array([1, 2], F16), "indices": np.array([[1]], I64),
                                  "updates": np.array([0.5], F16)})
    c("ScatterNdNonAliasingAdd", {"input": base, "indices": np.zeros((0, 1), I32),
                                  "updates": np.zeros((0,), F32)}, tags=["empty"])
    c("ScatterNdNonAliasingAdd", {"input": base, "indices": np.array([[6]], I32),
                                  "updates": np.array([1], F32)}, err=True)
    c("ScatterNdNonAliasingAdd", {"input": base, "indices": np.array([[6], [2]], I32),
                                  "updates": np.array([1, 1], F32)}, {"bad_indices_policy": "IGNORE"})


# ------------------------------------------------------------------------------------------ cast
CAST_TYPES = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64",
              "uint8", "uint16", "uint32", "uint64", "bool"]
FLOAT_TYPES = ["float16", "bfloat16", "float32", "float64"]

FLOAT_VALUES = [0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.3, -0.7, 1.0, -1.0, 127.5, 128.0, -128.5, -129.0,
                255.5, 256.0, 300.7, -300.7, 32767.5, 32768.0, -32769.0, 65504.0, 65519.0, 65520.0, 70000.0,
                2147483520.0, 2147483648.0, -2147483904.0, 4294967296.0, 9.3e18, 1e19, 2e19, 1e20, -1e20,
                3.4e38, np.inf, -np.inf, np.nan, 1.00390625, 1.01171875, 1.0039063, 1.00048828125,
                1.00146484375, 1.0009765625, 0.1, 1.0 / 3.0, 1e-3, -6.1e-5, 16777217.0]
F64_EXTRA = [1.0 + 2.0 ** -24, 1.0 + 3 * 2.0 ** -24, 1.0 + 2.0 ** -24 + 2.0 ** -40, 1e300, -1e300,
             2.0 ** 63, 2.0 ** 64, 9007199254740993.0, 3.5e38,
             1.0 + 2.0 ** -11 + 2.0 ** -40,    # just above the float16 half-way point (double rounding?)
             1.0 + 2.0 ** -8 + 2.0 ** -40]     # just above the bfloat16 half-way point
INT_VALUES = [0, 1, -1, 2, 7, 100, 127, -128, 128, -129, 200, 255, 256, 1000, -1000, 32767, -32768, 32768, 65504,
              65505, 65519, 65520, 65535, 65536, 16777217, 2 ** 31 - 1, -2 ** 31, 2 ** 31, 2 ** 32 - 1, 2 ** 32,
              2 ** 53 + 1, 2 ** 62 + 1, 2 ** 63 - 1, -2 ** 63, 2 ** 63, 2 ** 64 - 1]


def cast_src(name):
    """(array, input_tf_dtypes) for a Cast source dtype."""
    if name == "bool":
        return np.array([True, False, True, False]), None
    if name == "bfloat16":
        return bf16(FLOAT_VALUES), {"x": "bfloat16"}
    if name in ("float16", "float32"):
        with np.errstate(over="ignore"):
            return np.array(FLOAT_VALUES, np.dtype(name)), None
    if name == "float64":
        return np.array(FLOAT_VALUES + F64_EXTRA, F64), None
    info = np.iinfo(name)
    return np.array([v for v in INT_VALUES if info.min <= v <= info.max], np.dtype(name)), None


def _float_values(x, tfd):
    """Cast source array as float64 values (decoding bfloat16 bit patterns)."""
    if tfd:
        return (x.astype(np.uint32) << 16).view(F32).astype(F64)
    return x.astype(F64)


def _split_defined(src, dst, x, tfd):
    """float -> integer casts of NaN/inf/out-of-range values are undefined behaviour in C++; split them off."""
    if src not in FLOAT_TYPES or dst in FLOAT_TYPES or dst == "bool":
        return x, None
    v = _float_values(x, tfd)
    info = np.iinfo(dst)
    ok = np.isfinite(v) & (v > float(info.min) - 1.0) & (v < float(info.max) + 1.0)
    return x[ok], x[~ok]


OOR_NOTE = ("NaN/inf/out-of-range float -> int is UB in C++. TF 2.21 x86-64, scalar path (vectors shorter than a "
            "SIMD packet, so kept <= 6 elements here): to int8/16, uint8/16: cvttss2si to int32 (INT_MIN on "
            "overflow/NaN) then wrap; int32: INT_MIN; uint32: int64 convert then wrap; int64: INT64_MIN; uint64: "
            ">= 2**63 handled, NaN/inf -> 2**63, negative wraps. Long vectors take SIMD paths that saturate instead.")


def cast_cases(c: Builder, rng):
    for src in CAST_TYPES:
        x, tfd = cast_src(src)
        for dst in CAST_TYPES:
            ok, bad = _split_defined(src, dst, x, tfd)
            c("Cast", {"x": ok}, {"DstT": D(dst)}, tfd=tfd, tags=[f"{src}->{dst}"],
              note=None if bad is None else "in-range values only (truncation toward zero)")
            for i in range(0, 0 if bad is None else len(bad), 6):
                c("Cast", {"x": bad[i:i + 6]}, {"DstT": D(dst)}, tfd=tfd, note=OOR_NOTE,
                  tags=[f"{src}->{dst}", "out_of_range", "implementation_defined"])
    # Truncate=True wherever a float type is involved
    for src in CAST_TYPES:
        x, tfd = cast_src(src)
        for dst in CAST_TYPES:
            if src in FLOAT_TYPES or dst in FLOAT_TYPES:
                ok, _ = _split_defined(src, dst, x, tfd)
                c("Cast", {"x": ok}, {"DstT": D(dst), "Truncate": True}, tfd=tfd,
                  tags=[f"{src}->{dst}", "truncate"])
    # denormals (TF runs kernels with flush-to-zero / denormals-are-zero)
    den32 = np.array([1e-40, -1e-40, 1.4e-45, 5e-39, 1.1754942e-38, 1.17549435e-38, 1.0], F32)
    for dst in ["float64", "float16", "bfloat16", "float32", "int32", "bool"]:
        for trunc in (False, True):
            c("Cast", {"x": den32}, {"DstT": D(dst), "Truncate": trunc}, tags=["denormal_ftz", f"float32->{dst}"])
    den64 = np.array([1e-310, -1e-310, 1e-40, 3e-45, 1e-300, 5e-324, 1.0], F64)
    for dst in ["float32", "float16", "bfloat16", "float64", "bool"]:
        c("Cast", {"x": den64}, {"DstT": D(dst)}, tags=["denormal_ftz", f"float64->{dst}"])
    den16 = np.array([6e-8, -6e-8, 3e-5, 6.1e-5, 1.0], F16)
    for dst in ["float32", "float64", "bfloat16", "bool"]:
        c("Cast", {"x": den16}, {"DstT": D(dst)}, tags=["denormal_ftz", f"float16->{dst}"])
    denbf = np.array([0x0001, 0x8001, 0x007F, 0x0040, 0x0080, 0x3F80], U16)
    for dst in ["float32", "float64", "float16", "bool"]:
        c("Cast", {"x": denbf}, {"DstT": D(dst)}, tfd={"x": "bfloat16"}, tags=["denormal_ftz", f"bfloat16->{dst}"])
    # scalars and empties
    c("Cast", {"x": np.array(2.5, F32)}, {"DstT": D("int32")}, tags=["scalar"])
    c("Cast", {"x": np.array(-7, I64)}, {"DstT": D("uint8")}, tags=["scalar"])
    c("Cast", {"x": np.zeros((0, 3), F32)}, {"DstT": D("float16")}, tags=["empty"])
    c("Cast", {"x": np.zeros((2, 0), I32)}, {"DstT": D("bool")}, tags=["empty"])
    c("Cast", {"x": rng.standard_normal((3, 4)).astype(F32) * 100}, {"DstT": D("int16")})
    # complex64
    cx = np.array([1.5 + 2j, -2.5 - 0.5j, 0j, 1j, np.inf + 1j, 3e9 + 0j], np.complex64)
    for dst in ["float32", "float64", "int32", "bool", "complex128", "float16"]:
        c("Cast", {"x": cx[:4] if dst == "int32" else cx}, {"DstT": D(dst)}, tags=["complex", f"complex64->{dst}"])
    for src in ["float32", "int32", "bool", "uint8"]:
        x, _ = cast_src(src)
        c("Cast", {"x": x}, {"DstT": D("complex64")}, tags=["complex", f"{src}->complex64"])

    # ------------------------------------------------------------------ Bitcast
    f = np.array([[1.0, -2.5, np.inf], [0.1, -0.0, 3e38]], F32)
    c("Bitcast", {"input": f}, {"type": D("int32")})
    c("Bitcast", {"input": f}, {"type": D("uint8")}, note="float32 -> uint8 adds a trailing dim of 4")
    c("Bitcast", {"input": f}, {"type": D("int16")})
    c("Bitcast", {"input": f}, {"type": D("float16")})
    c("Bitcast", {"input": f}, {"type": D("bfloat16")})
    u = rng.integers(0, 256, (3, 4)).astype(U8)
    c("Bitcast", {"input": u}, {"type": D("float32")}, note="uint8[...,4] -> float32 removes last dim")
    c("Bitcast", {"input": u}, {"type": D("int32")})
    c("Bitcast", {"input": u[:, :2]}, {"type": D("uint16")})
    c("Bitcast", {"input": u[0]}, {"type": D("float32")}, note="uint8[4] -> float32 scalar")
    c("Bitcast", {"input": np.array([1, -1, 2 ** 40 + 3], I64)}, {"type": D("int32")})
    c("Bitcast", {"input": np.array([[1, 0], [-1, -1], [3, 256]], I32)}, {"type": D("int64")})
    c("Bitcast", {"input": np.array([1, 2, 3], I32)}, {"type": D("int64")}, err=True,
      note="last dim 3 != 2")
    c("Bitcast", {"input": np.array([[1, 2, 3]], U8)}, {"type": D("float32")}, err=True)
    c("Bitcast", {"input": np.array(7, U8)}, {"type": D("int16")}, err=True, tags=["scalar"])
    c("Bitcast", {"input": np.array(1.0, F32)}, {"type": D("uint8")}, tags=["scalar"])
    c("Bitcast", {"input": np.array(-1.5, F64)}, {"type": D("int64")}, tags=["scalar"])
    c("Bitcast", {"input": np.array([1.0, np.nan, -np.inf], F64)}, {"type": D("uint32")})
    c("Bitcast", {"input": np.array([1.0, 2.0], F64)}, {"type": D("complex64")})
    c("Bitcast", {"input": np.array([1 + 2j], np.complex64)}, {"type": D("float32")},
      note="complex64 -> float32 adds a trailing dim of 2 (re, im)")
    c("Bitcast", {"input": bf16([1.0, -2.0, np.nan])}, {"type": D("uint16")}, tfd={"input": "bfloat16"})
    c("Bitcast", {"input": np.array([1.0, -0.0, np.inf], F16)}, {"type": D("int16")})
    c("Bitcast", {"input": np.array([255, 0, 128], U8)}, {"type": D("int8")})
    c("Bitcast", {"input": np.array([-1, 2 ** 63 - 1], I64)}, {"type": D("uint64")})
    c("Bitcast", {"input": np.array([[0, 128], [255, 127]], U8)}, {"type": D("quint16")}, tags=["quantized"])
    c("Bitcast", {"input": np.zeros((0,), F32)}, {"type": D("uint8")}, tags=["empty"])
    c("Bitcast", {"input": np.zeros((0, 4), U8)}, {"type": D("float32")}, tags=["empty"])
    c("Bitcast", {"input": np.array([True])}, {"type": D("uint8")}, err=True, note="bool not allowed")


# ---------------------------------------------------------------------------------------- matrix
def matrix_cases(c: Builder, rng):
    c("Diag", {"diagonal": np.array([1, 2, 3], F32)})
    c("Diag", {"diagonal": np.array([[1, 2], [3, 4]], I32)})
    c("Diag", {"diagonal": np.array([[[1], [2]]], I64)})
    c("Diag", {"diagonal": np.array([1.5, -2.5], F64)})
    c("Diag", {"diagonal": np.array([1 + 1j, -2j], np.complex64)})
    c("Diag", {"diagonal": np.array([0.5, 65504.0], F16)})
    c("Diag", {"diagonal": np.zeros((0,), F32)}, tags=["empty"])
    c("Diag", {"diagonal": np.array(3.0, F32)}, err=True, tags=["scalar"])

    c("DiagPart", {"input": np.arange(9, dtype=F32).reshape(3, 3)})
    c("DiagPart", {"input": np.arange(36, dtype=I32).reshape(2, 3, 2, 3)})
    c("DiagPart", {"input": np.arange(16, dtype=I64).reshape(4, 4)})
    c("DiagPart", {"input": (np.arange(4) + 1j).astype(np.complex128).reshape(2, 2)})
    c("DiagPart", {"input": np.eye(2, dtype=F16)})
    c("DiagPart", {"input": np.zeros((0, 0), F64)}, tags=["empty"])
    c("DiagPart", {"input": np.zeros((2, 3), F32)}, err=True, note="mismatched dims")
    c("DiagPart", {"input": np.zeros((2, 2, 2), F32)}, err=True, note="odd rank")
    c("DiagPart", {"input": np.array(1.0, F32)}, tags=["scalar"], note="rank 0 is accepted (returns the scalar)")

    sq = np.arange(1, 17, dtype=F32).reshape(4, 4)
    for lo, up in [(1, -1), (0, 0), (-1, -1), (-1, 0), (2, 1), (0, 3), (4, 4)]:
        c("MatrixBandPart", {"input": sq, "num_lower": np.array(lo, I64), "num_upper": np.array(up, I64)})
    b = rng.integers(-9, 9, (2, 3, 5)).astype(I32)
    c("MatrixBandPart", {"input": b, "num_lower": np.array(1, I32), "num_upper": np.array(3, I32)})
    c("MatrixBandPart", {"input": b, "num_lower": np.array(0, I32), "num_upper": np.array(-1, I32)})
    c("MatrixBandPart", {"input": b.transpose(0, 2, 1).astype(F64), "num_lower": np.array(2, I64),
                         "num_upper": np.array(0, I64)})
    c("MatrixBandPart", {"input": np.ones((3, 3), bool), "num_lower": np.array(0, I64), "num_upper": np.array(1, I64)})
    c("MatrixBandPart", {"input": np.ones((2, 3), U8), "num_lower": np.array(-1, I32), "num_upper": np.array(0, I32)})
    c("MatrixBandPart", {"input": np.zeros((0, 3, 3), F32), "num_lower": np.array(1, I64),
                         "num_upper": np.array(1, I64)}, tags=["empty"])
    c("MatrixBandPart", {"input": sq, "num_lower": np.array(5, I64), "num_upper": np.array(0, I64)}, err=True)
    c("MatrixBandPart", {"input": sq, "num_lower": np.array(0, I64), "num_upper": np.array(6, I64)}, err=True)
    c("MatrixBandPart", {"input": b, "num_lower": np.array(4, I32), "num_upper": np.array(0, I32)}, err=True,
      note="num_lower > rows (3)")
    c("MatrixBandPart", {"input": b, "num_lower": np.array(0, I32), "num_upper": np.array(-2, I32)},
      note="num_upper=-2 (negative other than -1)")
    c("MatrixBandPart", {"input": np.arange(3, dtype=F32), "num_lower": np.array(0, I64),
                         "num_upper": np.array(0, I64)}, err=True, note="rank 1")
    c("MatrixBandPart", {"input": sq, "num_lower": np.array([0], I64), "num_upper": np.array(0, I64)}, err=True,
      note="non-scalar num_lower")

    c("MatrixDiag", {"diagonal": np.array([1, 2, 3], F32)})
    c("MatrixDiag", {"diagonal": np.array([[1, 2], [3, 4], [5, 6]], I32)})
    c("MatrixDiag", {"diagonal": np.array([True, False])})
    c("MatrixDiag", {"diagonal": np.array([[1 + 2j]], np.complex64)})
    c("MatrixDiag", {"diagonal": np.zeros((2, 0), F32)}, tags=["empty"])
    c("MatrixDiag", {"diagonal": np.array(1.0, F32)}, err=True, tags=["scalar"])

    c("MatrixDiagPart", {"input": np.arange(9, dtype=F32).reshape(3, 3)})
    c("MatrixDiagPart", {"input": np.arange(24, dtype=I64).reshape(2, 3, 4)})
    c("MatrixDiagPart", {"input": np.arange(24, dtype=I32).reshape(2, 4, 3)})
    c("MatrixDiagPart", {"input": np.array([[True, False], [True, True]])})
    c("MatrixDiagPart", {"input": np.zeros((3, 0, 2), F32)}, tags=["empty"])
    c("MatrixDiagPart", {"input": np.arange(3, dtype=F32)}, err=True, note="rank 1")

    c("MatrixSetDiag", {"input": np.zeros((3, 3), F32), "diagonal": np.array([1, 2, 3], F32)})
    c("MatrixSetDiag", {"input": np.arange(12, dtype=I32).reshape(3, 4), "diagonal": np.array([-1, -2, -3], I32)})
    c("MatrixSetDiag", {"input": np.arange(24, dtype=F64).reshape(2, 4, 3),
                        "diagonal": np.array([[9, 8, 7], [6, 5, 4]], F64)})
    c("MatrixSetDiag", {"input": np.zeros((2, 2), bool), "diagonal": np.array([True, True])})
    c("MatrixSetDiag", {"input": np.zeros((3, 3), F32), "diagonal": np.array([1, 2], F32)}, err=True)
    c("MatrixSetDiag", {"input": np.zeros((2, 3, 3), F32), "diagonal": np.array([1, 2, 3], F32)}, err=True,
      note="diagonal rank must be input rank - 1")
    c("MatrixSetDiag", {"input": np.zeros((3,), F32), "diagonal": np.array([1, 2, 3], F32)}, err=True)


# ------------------------------------------------------------------------------------------- set
def set_cases(c: Builder, rng):
    ints = np.array([1, 1, 2, 4, 4, 4, 7, 8, 8], I32)
    fz = np.array([0.0, -0.0, np.nan, 1.0, np.nan, -0.0, 1.0, -1.5], F32)
    for op in ("Unique", "UniqueWithCounts"):
        c(op, {"x": ints})
        c(op, {"x": ints.astype(I64)[::-1].copy()}, {"out_idx": D("int64")})
        c(op, {"x": fz}, note="NaN never equals NaN; -0.0 == 0.0 (first occurrence kept)")
        c(op, {"x": np.array([-0.0, 0.0, 2.0, -0.0], F64)}, {"out_idx": D("int64")})
        c(op, {"x": S(b"b", b"a", b"b", b"", b"c", b"a")})
        c(op, {"x": np.array([True, True, False, True])})
        c(op, {"x": np.array([255, 0, 255, 3], U8)})
        c(op, {"x": np.array([-128, 127, -128], I8)})
        c(op, {"x": np.array([0.5, 0.5, 65504, -0.0, 0.0, np.nan, np.nan, 0.0], F16)},
          note="float16 keeps -0.0 and 0.0 apart (bitwise hash), unlike float32/float64")
        c(op, {"x": bf16([1.0, 2.0, 1.0, 3.0, -0.0, 0.0, np.nan, np.nan])}, tfd={"x": "bfloat16"},
          note="bfloat16: check -0.0 vs 0.0 and NaN")
        c(op, {"x": rng.integers(0, 10, 40).astype(I64)})
        c(op, {"x": np.zeros((0,), F32)}, tags=["empty"])
        c(op, {"x": np.array(1, I32)}, err=True, tags=["scalar"])
        c(op, {"x": np.array([[1, 2], [2, 1]], I32)}, err=True, note="rank 2")

    c("ListDiff", {"x": np.array([1, 2, 3, 4, 5, 6, 1], I32), "y": np.array([1, 3, 5], I32)})
    c("ListDiff", {"x": np.array([1, 2, 3, 4, 5, 6, 1], I64), "y": np.array([1, 3, 5, 9], I64)},
      {"out_idx": D("int64")})
    c("ListDiff", {"x": S(b"a", b"b", b"c", b"b"), "y": S(b"c", b"z")})
    c("ListDiff", {"x": np.array([0.0, -0.0, np.nan, 1.5], F32), "y": np.array([0.0, np.nan], F32)},
      note="NaN in y removes nothing; 0.0 removes -0.0")
    c("ListDiff", {"x": np.array([3, 1, 2], U8), "y": np.zeros((0,), U8)}, tags=["empty"])
    c("ListDiff", {"x": np.zeros((0,), I32), "y": np.array([1], I32)}, tags=["empty"])
    c("ListDiff", {"x": np.array([5, 5], I32), "y": np.array([5], I32)}, {"out_idx": D("int64")},
      note="everything removed")
    c("ListDiff", {"x": np.array([[1, 2]], I32), "y": np.array([1], I32)}, err=True)
    c("ListDiff", {"x": np.array([1, 2], I32), "y": np.array(1, I32)}, err=True, tags=["scalar"])


# ------------------------------------------------------------------------------------------ misc
def misc_cases(c: Builder, rng):
    # CheckNumerics
    for dt, tfd in [("float16", None), ("float32", None), ("float64", None), ("bfloat16", "bfloat16")]:
        def arr(v):
            return bf16(v) if tfd else np.array(v, dt)
        t = {"tensor": tfd} if tfd else None
        c("CheckNumerics", {"tensor": arr([1.0, -2.0, 65504.0])}, {"message": f"clean {dt}"}, tfd=t)
        c("CheckNumerics", {"tensor": arr([1.0, np.nan, 3.0])}, {"message": "nan check"}, tfd=t, err=True)
        c("CheckNumerics", {"tensor": arr([[1.0, np.inf], [0.0, 2.0]])}, {"message": "inf check"}, tfd=t, err=True)
        c("CheckNumerics", {"tensor": arr([-np.inf, 1.0])}, {"message": "neg inf"}, tfd=t, err=True)
        c("CheckNumerics", {"tensor": arr([np.nan, np.inf, -np.inf])}, {"message": "both"}, tfd=t, err=True)
    c("CheckNumerics", {"tensor": np.array(np.nan, F32)}, {"message": ""}, err=True, tags=["scalar"])
    c("CheckNumerics", {"tensor": np.array(2.0, F64)}, {"message": "scalar ok"}, tags=["scalar"])
    c("CheckNumerics", {"tensor": np.zeros((0, 2), F32)}, {"message": "empty"}, tags=["empty"])
    c("CheckNumerics", {"tensor": np.array([1e-40, 3.4e38, -0.0], F32)}, {"message": "denormal+max"})

    # EditDistance (doc example + variants)
    hi, hv, hs = np.array([[0, 0, 0], [1, 0, 0]], I64), S(b"a", b"b"), np.array([2, 1, 1], I64)
    ti = np.array([[0, 1, 0], [1, 0, 0], [1, 0, 1], [1, 1, 0]], I64)
    tv, ts = S(b"a", b"b", b"c", b"a"), np.array([2, 2, 2], I64)
    for norm in (True, False):
        c("EditDistance", {"hypothesis_indices": hi, "hypothesis_values": hv, "hypothesis_shape": hs,
                           "truth_indices": ti, "truth_values": tv, "truth_shape": ts}, {"normalize": norm},
          note="tf.edit_distance doc example; empty truth -> inf when normalized")
    # batch shape [3], int64 values, varying lengths incl. empty truth and both empty
    h_rows = [[1, 2, 3], [4, 5], [], [7]]
    t_rows = [[1, 3], [], [], [7, 8, 9, 10]]

    def sparse(rows, dt):
        idx = [[b, j] for b, r in enumerate(rows) for j in range(len(r))]
        vals = [v for r in rows for v in r]
        return (np.array(idx, I64).reshape(-1, 2), np.array(vals, dt),
                np.array([len(rows), max([len(r) for r in rows] + [1])], I64))
    for dt in (I64, I32, F32):
        h, t = sparse(h_rows, dt), sparse(t_rows, dt)
        for norm in (True, False):
            c("EditDistance", {"hypothesis_indices": h[0], "hypothesis_values": h[1], "hypothesis_shape": h[2],
                               "truth_indices": t[0], "truth_values": t[1], "truth_shape": t[2]},
              {"normalize": norm}, note="row 1: empty truth; row 2: both empty")
    # batch shape [2, 2] (rank-3 sparse), bool values, differing dense shapes
    h3 = (np.array([[0, 0, 0], [0, 0, 1], [1, 1, 0], [1, 1, 2]], I64), np.array([True, False, True, True]),
          np.array([2, 2, 3], I64))
    t3 = (np.array([[0, 0, 0], [0, 1, 0], [1, 1, 0], [1, 1, 1]], I64), np.array([True, True, True, False]),
          np.array([2, 3, 2], I64))
    for norm in (True, False):
        c("EditDistance", {"hypothesis_indices": h3[0], "hypothesis_values": h3[1], "hypothesis_shape": h3[2],
                           "truth_indices": t3[0], "truth_values": t3[1], "truth_shape": t3[2]},
          {"normalize": norm}, note="output shape = max(hyp_shape[:-1], truth_shape[:-1])")
    # rank-1 sparse -> scalar output
    c("EditDistance", {"hypothesis_indices": np.array([[0], [1], [2]], I64), "hypothesis_values": S(b"k", b"i", b"t"),
                       "hypothesis_shape": np.array([3], I64),
                       "truth_indices": np.array([[0], [1], [2], [3]], I64),
                       "truth_values": S(b"s", b"i", b"t", b"s"), "truth_shape": np.array([4], I64)},
      {"normalize": True}, tags=["scalar"], err=True, note="rank-1 sparse tensors are rejected")
    c("EditDistance", {"hypothesis_indices": np.zeros((0, 2), I64), "hypothesis_values": np.zeros((0,), I64),
                       "hypothesis_shape": np.array([2, 1], I64), "truth_indices": np.zeros((0, 2), I64),
                       "truth_values": np.zeros((0,), I64), "truth_shape": np.array([2, 1], I64)},
      {"normalize": True}, tags=["empty"], note="both empty everywhere")
    c("EditDistance", {"hypothesis_indices": np.zeros((0, 2), I64), "hypothesis_values": np.zeros((0,), I64),
                       "hypothesis_shape": np.array([2, 1], I64), "truth_indices": np.array([[1, 0]], I64),
                       "truth_values": np.array([4], I64), "truth_shape": np.array([2, 1], I64)},
      {"normalize": False}, tags=["empty"])
    # errors
    c("EditDistance", {"hypothesis_indices": hi, "hypothesis_values": hv, "hypothesis_shape": np.array([2, 1], I64),
                       "truth_indices": ti, "truth_values": tv, "truth_shape": ts}, err=True,
      note="hypothesis_shape length != indices width")
    c("EditDistance", {"hypothesis_indices": hi, "hypothesis_values": S(b"a"), "hypothesis_shape": hs,
                       "truth_indices": ti, "truth_values": tv, "truth_shape": ts}, err=True,
      note="values length != indices rows")
    c("EditDistance", {"hypothesis_indices": hi[:, :2].copy(), "hypothesis_values": hv,
                       "hypothesis_shape": hs[:2].copy(),
                       "truth_indices": ti, "truth_values": tv, "truth_shape": ts}, err=True, note="rank mismatch")

    # InvertPermutation
    c("InvertPermutation", {"x": np.array([3, 0, 2, 1], I32)})
    c("InvertPermutation", {"x": np.array([4, 2, 0, 1, 3], I64)})
    c("InvertPermutation", {"x": np.array([0], I32)})
    c("InvertPermutation", {"x": np.zeros((0,), I32)}, tags=["empty"])
    c("InvertPermutation", {"x": rng.permutation(20).astype(I64)})
    c("InvertPermutation", {"x": np.array([0, 0, 1], I32)}, err=True, note="duplicate")
    c("InvertPermutation", {"x": np.array([0, 3], I32)}, err=True, note="out of range")
    c("InvertPermutation", {"x": np.array([-1, 0], I64)}, err=True, note="negative")
    c("InvertPermutation", {"x": np.array([[0, 1]], I32)}, err=True, note="rank 2")
    c("InvertPermutation", {"x": np.array(0, I32)}, err=True, tags=["scalar"])

    # OneHot
    one, zero = np.array(1.0, F32), np.array(0.0, F32)
    c("OneHot", {"indices": np.array([0, 2, -1, 4, 1], I64), "depth": np.array(4, I32), "on_value": one,
                 "off_value": zero}, note="out-of-range (4) and negative (-1) indices give all off_value")
    idx2 = np.array([[0, 2, 1], [3, -1, 5]], I32)
    for axis in (-1, 0, 1, 2):
        c("OneHot", {"indices": idx2, "depth": np.array(4, I32), "on_value": np.array(7, I32),
                     "off_value": np.array(-3, I32)}, {"axis": axis})
    c("OneHot", {"indices": idx2, "depth": np.array(4, I32), "on_value": one, "off_value": zero}, {"axis": 3},
      err=True)
    c("OneHot", {"indices": idx2, "depth": np.array(4, I32), "on_value": one, "off_value": zero}, {"axis": -2},
      err=True)
    c("OneHot", {"indices": idx2, "depth": np.array(-1, I32), "on_value": one, "off_value": zero}, err=True,
      note="negative depth")
    c("OneHot", {"indices": idx2, "depth": np.array(0, I32), "on_value": one, "off_value": zero}, tags=["empty"])
    c("OneHot", {"indices": np.array([0, 1, 255, 2], U8), "depth": np.array(3, I32),
                 "on_value": np.array(2.5, F64), "off_value": np.array(-0.5, F64)})
    c("OneHot", {"indices": np.array([-1, 0, 1, 127], I8), "depth": np.array(2, I32),
                 "on_value": np.array(True), "off_value": np.array(False)})
    c("OneHot", {"indices": np.array([1, 0], I64), "depth": np.array(3, I32),
                 "on_value": np.array(b"on"), "off_value": np.array(b"off")})
    c("OneHot", {"indices": np.array([2, 0], I32), "depth": np.array(3, I32),
                 "on_value": np.array(9, I64), "off_value": np.array(1, I64)}, {"axis": 0})
    c("OneHot", {"indices": np.array([1, 2], I32), "depth": np.array(3, I32),
                 "on_value": bf16(1.5), "off_value": bf16(0.0)}, tfd={"on_value": "bfloat16", "off_value": "bfloat16"})
    c("OneHot", {"indices": np.array(2, I64), "depth": np.array(3, I32), "on_value": one, "off_value": zero},
      tags=["scalar"])
    c("OneHot", {"indices": np.array(1, I64), "depth": np.array(3, I32), "on_value": one, "off_value": zero},
      {"axis": 0}, tags=["scalar"])
    c("OneHot", {"indices": np.zeros((0,), I64), "depth": np.array(3, I32), "on_value": one, "off_value": zero},
      tags=["empty"])
    c("OneHot", {"indices": np.zeros((2, 0), I32), "depth": np.array(3, I32), "on_value": one, "off_value": zero},
      {"axis": 1}, tags=["empty"])
    c("OneHot", {"indices": np.array([0], I64), "depth": np.array(2, I32), "on_value": np.array([1.0], F32),
                 "off_value": zero}, err=True, note="on_value must be scalar")
    c("OneHot", {"indices": np.array([0], I64), "depth": np.array([2], I32), "on_value": one,
                 "off_value": zero}, err=True, note="depth must be scalar")

    # Where
    c("Where", {"condition": np.array(True)}, tags=["scalar"], err=True, note="rank 0 unsupported on CPU")
    c("Where", {"condition": np.array(False)}, tags=["scalar"], err=True)
    c("Where", {"condition": np.array(0.5, F32)}, tags=["scalar"], err=True)
    c("Where", {"condition": np.array([True, False, True, True])})
    c("Where", {"condition": rng.random((3, 4)) < 0.5})
    c("Where", {"condition": rng.random((2, 3, 4)) < 0.4})
    c("Where", {"condition": np.array([0.0, -0.0, np.nan, 1e-40, -2.0, np.inf], F32)},
      tags=["denormal_ftz"], note="nonzero test: NaN counts, -0.0 does not, denormal 1e-40 does not (DAZ)")
    c("Where", {"condition": np.array([[0.0, 1.5], [-0.0, 0.0]], F64)})
    c("Where", {"condition": rng.integers(-1, 2, (2, 2, 3)).astype(I32)})
    c("Where", {"condition": np.array([[0, 7], [255, 0]], U8)})
    c("Where", {"condition": np.array([-1, 0, 1], I8)})
    c("Where", {"condition": np.array([0, 2 ** 40], I64)})
    c("Where", {"condition": np.array([0.0, 0.001, -0.0], F16)}, err=True, note="no float16 WhereOp on CPU")
    c("Where", {"condition": bf16([[0.0, 1.0], [2.0, -0.0]])}, tfd={"condition": "bfloat16"})
    c("Where", {"condition": np.array([0j, 1j, 2 + 0j], np.complex64)})
    c("Where", {"condition": np.zeros((0,), bool)}, tags=["empty"])
    c("Where", {"condition": np.zeros((2, 0, 3), F32)}, tags=["empty"])
    c("Where", {"condition": np.zeros((2, 3), bool)})
    c("Where", {"condition": np.ones((2, 1, 2), bool)})


# --------------------------------------------------------------------------------------- quantize
QTYPES = ["quint8", "qint8", "quint16", "qint16", "qint32"]
QBASE = {"quint8": U8, "qint8": I8, "quint16": U16, "qint16": I16, "qint32": I32}
MODES = ["MIN_COMBINED", "MIN_FIRST", "SCALED"]


def quant_cases(c: Builder, rng):
    f = np.float32
    x = np.array([-4, -3, -2.5, -1.5, -0.5, 0, 0.5, 1.5, 2.5, 3.3, 6, 10], F32)
    # full grid on a generic input (clamping + rounding)
    for T in QTYPES:
        for mode in MODES:
            for rm in ("HALF_AWAY_FROM_ZERO", "HALF_TO_EVEN"):
                bad = rm == "HALF_TO_EVEN" and mode != "SCALED"
                if bad and T not in ("quint8", "qint8"):
                    continue
                for nr in (False, True):
                    # qint32: a value clamped to max_range scales to 2**31-1, which is 2**31 in float32 and
                    # overflows the int32 cast (UB); keep those in the separate case below.
                    xin = x[x < 6] if T == "qint32" else x
                    c("QuantizeV2", {"input": xin, "min_range": f(-3), "max_range": f(6)},
                      {"T": D(T), "mode": mode, "round_mode": rm, "narrow_range": nr}, tags=[T, mode], err=bad)
    for mode in MODES:
        c("QuantizeV2", {"input": np.array([5.9, 6.0, 10.0, -3.0], F32), "min_range": f(-3), "max_range": f(6)},
          {"T": D("qint32"), "mode": mode}, tags=["qint32", mode, "implementation_defined"],
          note="values at max_range: float32(2**31-1) == 2**31 overflows the float->int32 cast "
               "(x86 gives INT_MIN for MIN_COMBINED/SCALED; MIN_FIRST clamps to 2147483520 first)")
    # exact half-way values
    h = np.array([0.5, 1.5, 2.5, 3.5, 100.5, 254.5, 255.0, 300.0, -3.0], F32)
    for mode in MODES:
        for rm in ("HALF_AWAY_FROM_ZERO", "HALF_TO_EVEN"):
            c("QuantizeV2", {"input": h, "min_range": f(0), "max_range": f(255)},
              {"T": D("quint8"), "mode": mode, "round_mode": rm}, tags=["halfway", mode],
              err=rm == "HALF_TO_EVEN" and mode != "SCALED",
              note="scale 1 for quint8 in [0,255]")
    hs = np.array([-128.5, -127.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 126.5, 127.5], F32)
    for nr in (False, True):
        for rm in ("HALF_AWAY_FROM_ZERO", "HALF_TO_EVEN"):
            c("QuantizeV2", {"input": hs, "min_range": f(-127), "max_range": f(127)},
              {"T": D("qint8"), "mode": "SCALED", "round_mode": rm, "narrow_range": nr}, tags=["halfway", "SCALED"])
            if rm == "HALF_AWAY_FROM_ZERO":
                c("QuantizeV2", {"input": hs, "min_range": f(-128), "max_range": f(127)},
                  {"T": D("qint8"), "mode": "MIN_COMBINED", "round_mode": rm, "narrow_range": nr},
                  tags=["halfway", "MIN_COMBINED"])
    c("QuantizeV2", {"input": np.linspace(-1, 1, 17).astype(F32), "min_range": f(-1), "max_range": f(1)},
      {"T": D("qint16"), "mode": "SCALED", "round_mode": "HALF_TO_EVEN"})
    c("QuantizeV2", {"input": rng.standard_normal(50).astype(F32), "min_range": f(-2.2), "max_range": f(1.7)},
      {"T": D("quint8"), "mode": "MIN_FIRST"})
    c("QuantizeV2", {"input": rng.standard_normal(50).astype(F32), "min_range": f(-2.2), "max_range": f(1.7)},
      {"T": D("qint8"), "mode": "MIN_COMBINED"})
    # min > 0 / max < 0 are widened to include 0; ensure_minimum_range
    c("QuantizeV2", {"input": np.array([2, 3, 6], F32), "min_range": f(2), "max_range": f(6)},
      {"T": D("quint8")}, note="min_range > 0 is lowered to 0")
    c("QuantizeV2", {"input": np.array([-5, -1], F32), "min_range": f(-5), "max_range": f(-1)},
      {"T": D("qint8"), "mode": "SCALED"}, note="max_range < 0 raised to 0")
    c("QuantizeV2", {"input": np.array([0.0, 0.001, 0.01, 0.02], F32), "min_range": f(0), "max_range": f(0)},
      {"T": D("quint8")}, note="ensure_minimum_range default 0.01")
    c("QuantizeV2", {"input": np.array([0.0, 0.5, 3], F32), "min_range": f(0), "max_range": f(1)},
      {"T": D("quint8"), "ensure_minimum_range": 4.0})
    c("QuantizeV2", {"input": np.array([0.0, 1.0], F32), "min_range": f(0), "max_range": f(0)},
      {"T": D("quint8"), "ensure_minimum_range": 0.0}, note="zero range (degenerate, no error)")
    c("QuantizeV2", {"input": np.array([0.0, 1.0], F32), "min_range": f(0), "max_range": f(0)},
      {"T": D("qint8"), "mode": "SCALED", "ensure_minimum_range": 0.0}, note="zero range in SCALED")
    c("QuantizeV2", {"input": np.array(0.7, F32), "min_range": f(-1), "max_range": f(1)}, {"T": D("qint8")},
      tags=["scalar"])
    c("QuantizeV2", {"input": np.zeros((0, 3), F32), "min_range": f(-1), "max_range": f(1)}, {"T": D("quint8")},
      tags=["empty"])
    # per-channel
    pc = rng.uniform(-3, 3, (2, 3, 4)).astype(F32)
    for mode in MODES:
        for T in ("qint8", "quint8"):
            c("QuantizeV2", {"input": pc, "min_range": np.array([-1, -2, -3], F32),
                             "max_range": np.array([1, 2, 3], F32)},
              {"T": D(T), "mode": mode, "axis": 1}, tags=["per_channel", mode], err=mode == "MIN_FIRST")
    c("QuantizeV2", {"input": pc, "min_range": np.array([-1, -2, -3, -0.5], F32),
                     "max_range": np.array([1, 2, 3, 0.5], F32)},
      {"T": D("qint8"), "mode": "SCALED", "axis": -1, "round_mode": "HALF_TO_EVEN", "narrow_range": True},
      tags=["per_channel"], err=True, note="axis=-1 with vector ranges")
    c("QuantizeV2", {"input": pc, "min_range": np.array([-1, -2], F32), "max_range": np.array([1, 2], F32)},
      {"T": D("qint8"), "mode": "SCALED", "axis": 0}, tags=["per_channel"])
    c("QuantizeV2", {"input": pc, "min_range": np.array([-1, -2, -3, -0.5], F32),
                     "max_range": np.array([1, 2, 3, 0.5], F32)},
      {"T": D("qint8"), "mode": "SCALED", "axis": 2, "round_mode": "HALF_TO_EVEN", "narrow_range": True},
      tags=["per_channel"])
    c("QuantizeV2", {"input": pc, "min_range": np.array([-1, 0, -3, -0.5], F32),
                     "max_range": np.array([1, 2, 3, 0.5], F32)},
      {"T": D("quint16"), "mode": "MIN_COMBINED", "axis": 2}, tags=["per_channel"])
    c("QuantizeV2", {"input": pc, "min_range": np.array([0, 0, 0], F32), "max_range": np.array([0, 1, 0], F32)},
      {"T": D("quint8"), "axis": 1}, tags=["per_channel"], note="ensure_minimum_range per channel")
    c("QuantizeV2", {"input": pc, "min_range": np.array([-1, -2], F32), "max_range": np.array([1, 2], F32)},
      {"T": D("qint8"), "mode": "SCALED", "axis": 1}, err=True, tags=["per_channel"], note="wrong channel count")
    c("QuantizeV2", {"input": pc, "min_range": np.array([-1, -2], F32), "max_range": np.array([1, 2], F32)},
      {"T": D("qint8"), "mode": "SCALED", "axis": 5}, err=True, tags=["per_channel"], note="axis out of range")
    c("QuantizeV2", {"input": pc, "min_range": np.array([-1, -2], F32), "max_range": np.array([1, 2], F32)},
      {"T": D("qint8")}, err=True, note="vector range with axis=-1 default")
    # errors
    c("QuantizeV2", {"input": x, "min_range": f(6), "max_range": f(-3)}, {"T": D("quint8")}, err=True,
      note="max < min")
    c("QuantizeV2", {"input": x, "min_range": f(1), "max_range": f(-1)}, {"T": D("qint8"), "mode": "SCALED"},
      err=True, note="max < min")

    # ------------------------------------------------------------------ Dequantize
    for T in QTYPES:
        info = np.iinfo(QBASE[T])
        top = info.max - 64 if T == "qint32" else info.max  # see the qint32 SCALED case below
        q = np.array(sorted({info.min, info.min + 1, -1 if info.min < 0 else 1, 0, 1, 2, 127 if info.max > 127
                             else 100, 128 if info.max > 128 else 101, top - 1, top}), QBASE[T])
        for mode in MODES:
            for nr in (False, True):
                for dt in ("float32", "bfloat16"):
                    bad = dt == "bfloat16" and mode != "MIN_COMBINED"
                    if bad and (T != "qint8" or nr):
                        continue
                    c("Dequantize", {"input": q, "min_range": f(-3), "max_range": f(6)},
                      {"mode": mode, "narrow_range": nr, "dtype": D(dt)}, tfd={"input": T}, tags=[T, mode],
                      err=bad)
    for nr in (False, True):
        c("Dequantize", {"input": np.array([2 ** 31 - 1, 2 ** 31 - 64, 2 ** 31 - 65, -2 ** 31], I32),
                         "min_range": f(-3), "max_range": f(6)}, {"mode": "SCALED", "narrow_range": nr},
          tfd={"input": "qint32"}, tags=["qint32", "SCALED", "implementation_defined"],
          note="qint32 -> int goes through float: values rounding to 2**31 overflow to INT_MIN (x86)")
    q8 = np.arange(0, 256, 17).astype(U8)
    for mode in MODES:
        c("Dequantize", {"input": q8, "min_range": f(0), "max_range": f(255)}, {"mode": mode}, tfd={"input": "quint8"},
          note="scale 1")
        c("Dequantize", {"input": q8, "min_range": f(-1.5), "max_range": f(2.5)}, {"mode": mode},
          tfd={"input": "quint8"})
        c("Dequantize", {"input": q8.view(I8), "min_range": f(-1), "max_range": f(1)}, {"mode": mode},
          tfd={"input": "qint8"})
    qpc = rng.integers(-128, 128, (2, 3, 4)).astype(I8)
    for mode in MODES:
        c("Dequantize", {"input": qpc, "min_range": np.array([-1, -2, -3], F32), "max_range": np.array([1, 2, 4], F32)},
          {"mode": mode, "axis": 1}, tfd={"input": "qint8"}, tags=["per_channel", mode], err=mode == "MIN_FIRST")
    c("Dequantize", {"input": qpc, "min_range": np.array([-1, -2, -3, -4], F32),
                     "max_range": np.array([1, 2, 3, 4], F32)},
      {"mode": "SCALED", "axis": 2, "narrow_range": True}, tfd={"input": "qint8"}, tags=["per_channel"])
    c("Dequantize", {"input": qpc, "min_range": np.array([-1, -2, -3, -4], F32),
                     "max_range": np.array([1, 2, 3, 4], F32)},
      {"mode": "MIN_COMBINED", "axis": 2, "dtype": D("bfloat16")}, tfd={"input": "qint8"},
      tags=["per_channel"])
    c("Dequantize", {"input": qpc.view(U8), "min_range": np.array([0, -1], F32), "max_range": np.array([1, 1], F32)},
      {"mode": "MIN_COMBINED", "axis": 0}, tfd={"input": "quint8"}, tags=["per_channel"])
    c("Dequantize", {"input": np.array(200, U8), "min_range": f(0), "max_range": f(1)}, tfd={"input": "quint8"},
      tags=["scalar"])
    c("Dequantize", {"input": np.zeros((0, 2), U8), "min_range": f(0), "max_range": f(1)}, tfd={"input": "quint8"},
      tags=["empty"])
    c("Dequantize", {"input": q8, "min_range": f(1), "max_range": f(-1)}, {"mode": "MIN_COMBINED"},
      tfd={"input": "quint8"}, note="min > max (not validated?)")
    c("Dequantize", {"input": q8, "min_range": f(1), "max_range": f(-1)}, {"mode": "SCALED"},
      tfd={"input": "quint8"}, note="min > max")
    c("Dequantize", {"input": qpc, "min_range": np.array([-1, -2], F32), "max_range": np.array([1, 2], F32)},
      {"mode": "SCALED", "axis": 1}, tfd={"input": "qint8"}, err=True, note="wrong channel count")
    c("Dequantize", {"input": qpc, "min_range": np.array([-1, -2], F32), "max_range": np.array([1, 2], F32)},
      {"mode": "SCALED", "axis": 3}, tfd={"input": "qint8"}, err=True, note="axis out of range")
    c("Dequantize", {"input": qpc, "min_range": np.array([-1, -2], F32), "max_range": np.array([1, 2], F32)},
      {"mode": "SCALED"}, tfd={"input": "qint8"}, err=True, note="vector range with axis=-1")

    # ------------------------------------------------------------------ QuantizeAndDequantizeV2
    xq = np.array([-1.2, -1.0, -0.51, -0.5, -0.25, -0.5 / 127, -1.5 / 127, 0.0, 0.5 / 127, 1.5 / 127, 2.5 / 127,
                   0.25, 0.49, 0.5, 0.75, 1.0, 1.3], F32)
    for signed in (True, False):
        for nb in (8, 4):
            for rg in (False, True):
                for rm in ("HALF_TO_EVEN", "HALF_UP"):
                    for nr in (False, True):
                        c("QuantizeAndDequantizeV2", {"input": xq, "input_min": f(-1), "input_max": f(1)},
                          {"signed_input": signed, "num_bits": nb, "range_given": rg, "round_mode": rm,
                           "narrow_range": nr}, tags=[rm])
    c("QuantizeAndDequantizeV2", {"input": np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 127, -128], F32),
                                  "input_min": f(-128), "input_max": f(127)},
      {"range_given": True, "round_mode": "HALF_TO_EVEN"}, tags=["halfway"], note="scale 1")
    c("QuantizeAndDequantizeV2", {"input": np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 127, -128], F32),
                                  "input_min": f(-128), "input_max": f(127)},
      {"range_given": True, "round_mode": "HALF_UP"}, tags=["halfway"], note="scale 1")
    c("QuantizeAndDequantizeV2", {"input": np.array([0.5, 1.5, 2.5, 250.5, 255], F32),
                                  "input_min": f(0), "input_max": f(255)},
      {"range_given": True, "signed_input": False, "round_mode": "HALF_UP"}, tags=["halfway"])
    for nb in (1, 2, 16, 30):
        c("QuantizeAndDequantizeV2", {"input": xq, "input_min": f(-1), "input_max": f(1)}, {"num_bits": nb},
          tags=["num_bits"])
    c("QuantizeAndDequantizeV2", {"input": xq.astype(F64), "input_min": np.float64(-0.8),
                                  "input_max": np.float64(0.6)}, {"range_given": True})
    c("QuantizeAndDequantizeV2", {"input": np.array([3.0, -2.0], F32), "input_min": f(0), "input_max": f(0)},
      note="range ignored when range_given=False")
    c("QuantizeAndDequantizeV2", {"input": np.zeros(4, F32), "input_min": f(0), "input_max": f(0)},
      note="all-zero input")
    c("QuantizeAndDequantizeV2", {"input": np.array(0.3, F32), "input_min": f(-1), "input_max": f(1)},
      tags=["scalar"])
    c("QuantizeAndDequantizeV2", {"input": np.zeros((0, 2), F32), "input_min": f(-1), "input_max": f(1)},
      tags=["empty"])
    pq = rng.uniform(-2, 2, (3, 4)).astype(F32)
    c("QuantizeAndDequantizeV2", {"input": pq, "input_min": np.zeros(4, F32), "input_max": np.zeros(4, F32)},
      {"axis": 1}, tags=["per_channel"])
    c("QuantizeAndDequantizeV2", {"input": pq, "input_min": np.array([-1, -0.5, -2], F32),
                                  "input_max": np.array([1, 0.5, 0.1], F32)},
      {"axis": 0, "range_given": True, "num_bits": 4}, tags=["per_channel"], err=True,
      note="TF 2.21 V2 kernel rejects per-channel ranges when range_given=True ('input_min must be a scalar.')")
    c("QuantizeAndDequantizeV2", {"input": pq, "input_min": np.zeros(3, F32), "input_max": np.zeros(3, F32)},
      {"axis": 0, "num_bits": 4, "narrow_range": True}, tags=["per_channel"])
    c("QuantizeAndDequantizeV2", {"input": pq, "input_min": np.zeros(4, F32), "input_max": np.zeros(4, F32)},
      {"axis": 1, "signed_input": False, "round_mode": "HALF_UP"}, tags=["per_channel"])
    c("QuantizeAndDequantizeV2", {"input": pq, "input_min": np.array([-1, -0.5, -2, -1], F32),
                                  "input_max": np.array([1, 0.5, 2, 1], F32)},
      {"axis": -1, "range_given": True}, tags=["per_channel"], err=True, note="axis=-1 means per-tensor")
    c("QuantizeAndDequantizeV2", {"input": pq, "input_min": np.array([-1, -0.5], F32),
                                  "input_max": np.array([1, 0.5], F32)},
      {"axis": 0, "range_given": True}, tags=["per_channel"], err=True, note="wrong channel count")
    c("QuantizeAndDequantizeV2", {"input": pq, "input_min": f(-1), "input_max": f(1)}, {"axis": 2}, err=True)
    c("QuantizeAndDequantizeV2", {"input": xq, "input_min": f(1), "input_max": f(-1)}, {"range_given": True},
      err=True, note="Invalid range")
    c("QuantizeAndDequantizeV2", {"input": pq, "input_min": np.array([-1, 1, -1, -1], F32),
                                  "input_max": np.array([1, 0, 1, 1], F32)}, {"range_given": True, "axis": 1},
      err=True, tags=["per_channel"], note="Invalid range per channel")
    c("QuantizeAndDequantizeV2", {"input": xq, "input_min": f(-1), "input_max": f(1)},
      {"signed_input": False, "range_given": True}, note="unsigned with negative min")
    c("QuantizeAndDequantizeV2", {"input": xq, "input_min": f(-1), "input_max": f(1)}, {"num_bits": 0}, err=True)
    c("QuantizeAndDequantizeV2", {"input": xq, "input_min": f(-1), "input_max": f(1)}, {"num_bits": 64}, err=True)
    c("QuantizeAndDequantizeV2", {"input": xq, "input_min": f(-1), "input_max": f(1)},
      {"num_bits": 1, "signed_input": True}, note="signed 1-bit (accepted)")

    # ------------------------------------------------------------------ QuantizedConcat
    a = rng.integers(0, 256, (2, 3)).astype(U8)
    b = rng.integers(0, 256, (2, 3)).astype(U8)
    d3 = rng.integers(0, 256, (2, 2)).astype(U8)
    qc = {"values": "quint8"}
    c("QuantizedConcat", {"concat_dim": np.array(0, I32), "values": [a, b], "input_mins": [f(0), f(0)],
                          "input_maxes": [f(1), f(1)]}, tfd=qc, note="same ranges: plain copy")
    c("QuantizedConcat", {"concat_dim": np.array(1, I32), "values": [a, b, d3], "input_mins": [f(0), f(0), f(0)],
                          "input_maxes": [f(1), f(1), f(1)]}, tfd=qc)
    c("QuantizedConcat", {"concat_dim": np.array(0, I32), "values": [a, b], "input_mins": [f(0), f(-1)],
                          "input_maxes": [f(1), f(2)]}, tfd=qc, note="different ranges: requantized")
    c("QuantizedConcat", {"concat_dim": np.array(1, I32), "values": [a, d3], "input_mins": [f(-0.5), f(0)],
                          "input_maxes": [f(0.5), f(4)]}, tfd=qc)
    c("QuantizedConcat", {"concat_dim": np.array(0, I32), "values": [a.astype(I32) * 1000, b.astype(I32) * -999],
                          "input_mins": [f(-1), f(-2)], "input_maxes": [f(1), f(2)]}, tfd={"values": "qint32"})
    c("QuantizedConcat", {"concat_dim": np.array(-1, I32), "values": [a, b], "input_mins": [f(0), f(0)],
                          "input_maxes": [f(1), f(1)]}, tfd=qc, err=True, note="negative concat_dim")
    c("QuantizedConcat", {"concat_dim": np.array(0, I32), "values": [a, d3], "input_mins": [f(0), f(0)],
                          "input_maxes": [f(1), f(1)]}, tfd=qc, err=True, note="shape mismatch")
    c("QuantizedConcat", {"concat_dim": np.array(2, I32), "values": [a, b], "input_mins": [f(0), f(0)],
                          "input_maxes": [f(1), f(1)]}, tfd=qc, err=True, note="concat_dim out of range")

    # ------------------------------------------------------------------ QuantizedReshape
    r = rng.integers(0, 256, (2, 6)).astype(U8)
    qr = {"tensor": "quint8"}
    c("QuantizedReshape", {"tensor": r, "shape": np.array([3, 4], I32), "input_min": f(-1), "input_max": f(2)},
      tfd=qr)
    c("QuantizedReshape", {"tensor": r, "shape": np.array([-1, 2], I64), "input_min": f(0), "input_max": f(1)},
      tfd=qr)
    c("QuantizedReshape", {"tensor": r.ravel(), "shape": np.array([2, 2, 3], I32), "input_min": f(0),
                           "input_max": f(1)}, tfd=qr)
    c("QuantizedReshape", {"tensor": r[:1, :1].copy(), "shape": np.zeros((0,), I32), "input_min": f(0),
                           "input_max": f(1)}, tfd=qr, tags=["scalar"])
    c("QuantizedReshape", {"tensor": np.arange(6, dtype=I32) * 1000, "shape": np.array([3, 2], I32),
                           "input_min": f(-5), "input_max": f(5)}, tfd={"tensor": "qint32"})
    c("QuantizedReshape", {"tensor": r, "shape": np.array([5, -1], I32), "input_min": f(0), "input_max": f(1)},
      tfd=qr, err=True)
    c("QuantizedReshape", {"tensor": r, "shape": np.array([-1, -1], I32), "input_min": f(0), "input_max": f(1)},
      tfd=qr, err=True)
    c("QuantizedReshape", {"tensor": r, "shape": np.array([12], I32), "input_min": np.array([0.0], F32),
                           "input_max": f(1)}, tfd=qr, note="1-element input_min is accepted")

    # ------------------------------------------------------------------ QuantizedInstanceNorm
    qi = {"x": "quint8"}
    tol = {"y_min": 1e-5, "y_max": 1e-5}  # min/max of float32 normalised values (reduction order)
    x1 = rng.integers(0, 256, (1, 4, 4, 2)).astype(U8)
    x2 = rng.integers(30, 200, (2, 3, 3, 3)).astype(U8)
    c("QuantizedInstanceNorm", {"x": x1, "x_min": f(0), "x_max": f(1)}, tfd=qi, sum_outputs=tol)
    c("QuantizedInstanceNorm", {"x": x2, "x_min": f(-2), "x_max": f(3)}, tfd=qi, sum_outputs=tol)
    c("QuantizedInstanceNorm", {"x": x1, "x_min": f(0), "x_max": f(1)},
      {"output_range_given": True, "given_y_min": -3.0, "given_y_max": 3.0}, tfd=qi)
    c("QuantizedInstanceNorm", {"x": x2, "x_min": f(0), "x_max": f(10)},
      {"variance_epsilon": 0.1, "min_separation": 0.5}, tfd=qi, sum_outputs=tol)
    c("QuantizedInstanceNorm", {"x": np.full((1, 2, 2, 2), 77, U8), "x_min": f(0), "x_max": f(1)}, tfd=qi,
      note="constant input (zero variance)")
    c("QuantizedInstanceNorm", {"x": x1, "x_min": f(0), "x_max": f(1)},
      {"output_range_given": True, "given_y_min": 1.0, "given_y_max": -1.0}, tfd=qi, err=True,
      note="given_y_max < given_y_min")


def build() -> FixtureSet:
    c = Builder()
    rng = np.random.default_rng(20240611)
    gather_cases(c, np.random.default_rng(1))
    scatter_cases(c, np.random.default_rng(2))
    cast_cases(c, np.random.default_rng(3))
    matrix_cases(c, np.random.default_rng(4))
    set_cases(c, np.random.default_rng(5))
    misc_cases(c, np.random.default_rng(6))
    quant_cases(c, np.random.default_rng(7))
    del rng
    c.fs.surprises = c.surprises
    return c.fs


def make(root: str) -> str:
    """Build the `array_ops_b` fixture set, write it under `root`, return its folder."""
    return build().write(root)


def _summary(fs: FixtureSet, folder: str):
    from collections import Counter
    n, e = Counter(), Counter()
    for cs in fs.cases:
        n[cs["op"]] += 1
        e[cs["op"]] += "expect_error" in cs
    for op in sorted(n):
        print(f"  {op:28s} {n[op]:4d} cases  ({e[op]} error)")
    print(f"  {'total':28s} {sum(n.values()):4d} cases  ({sum(e.values())} error)")
    npz = os.path.join(folder, "cases.npz")
    print(f"  npz size: {os.path.getsize(npz)} bytes ({os.path.getsize(npz) / 1e6:.2f} MB); "
          f"json {os.path.getsize(os.path.join(folder, 'cases.json'))} bytes")


if __name__ == "__main__":
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    fset = build()
    out = fset.write(os.path.join(repo, "tests", "fixtures"))
    for s in getattr(fset, "surprises", []):
        print("SURPRISE", s)
    _summary(fset, out)
    print("wrote", out)
