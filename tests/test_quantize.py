"""The quantization family: static shapes with partly unknown inputs, check texts, and TF 2.21
behaviours the fixtures do not pin down (expected values pasted from TF, CPU, oneDNN off)."""
import numpy as np
import pytest

from op_helpers import op_page as _page

F32, I32, I64, U8 = np.float32, np.int32, np.int64, np.uint8


def _static(op, inputs, attrs=None):
    p = _page(op, inputs, attrs)
    assert p.diagnostics == [], [d.format() for d in p.diagnostics]
    return [(s.dtype, s.shape) for s in p.scope.blocks["c"].specs]


def _run(op, inputs, attrs=None, feeds=None):
    p = _page(op, inputs, attrs)
    assert p.diagnostics == [], [d.format() for d in p.diagnostics]
    r = p.run(feeds or {})
    b = r.block("c")
    assert b.status == "ok", b.error
    return [b.outputs[o.name] for o in p.scope.blocks["c"].defn.outputs], \
        [b.dtypes[o.name] for o in p.scope.blocks["c"].defn.outputs]


def _errors(op, inputs, attrs=None, feeds=None):
    """Static messages, or else the run error (one string)."""
    p = _page(op, inputs, attrs)
    msgs = [d.message for d in p.diagnostics]
    if msgs:
        return " | ".join(msgs)
    b = p.run(feeds or {}).block("c")
    assert b.status == "failed"
    return b.error


def _bits(a):
    return np.asarray(a, F32).view(np.uint32)


# ----------------------------------------------------------------- static shapes

def test_quantize_v2_static_shapes():
    x = ("ph", "float32", [None, 3, None])
    s = _static("QuantizeV2", {"input": x, "min_range": ("ph", "float32", [3]),
                               "max_range": ("ph", "float32", [3])}, {"T": "qint8", "axis": 1})
    assert s == [("qint8", (None, 3, None)), ("float32", (3,)), ("float32", (3,))]
    # a depth-1 axis takes the per-tensor path: 0-d output ranges
    s = _static("QuantizeV2", {"input": ("ph", "float32", [None, 1]),
                               "min_range": ("ph", "float32", [1]),
                               "max_range": ("ph", "float32", [None])}, {"T": "quint8", "axis": 1})
    assert s[1:] == [("float32", ()), ("float32", ())]
    s = _static("QuantizeV2", {"input": ("ph", "float32", None), "min_range": ("ph", "float32", None),
                               "max_range": ("ph", "float32", None)}, {"T": "qint16", "axis": 0})
    assert s == [("qint16", None), ("float32", None), ("float32", None)]
    # axis < -1 is per tensor in the kernel; a 1-element vector range is accepted
    s = _static("QuantizeV2", {"input": ("ph", "float32", [2]), "min_range": np.array([-1], F32),
                               "max_range": np.array([[1]], F32)}, {"T": "qint8", "axis": -2})
    assert s[1:] == [("float32", ()), ("float32", ())]


def test_quantize_v2_static_errors():
    x = ("ph", "float32", [2, 3])
    e = _errors("QuantizeV2", {"input": x, "min_range": ("ph", "float32", [2, 3]),
                               "max_range": ("ph", "float32", [3])}, {"T": "qint8", "axis": 1})
    assert "min_range must be a 1-D tensor whose size matches the axis dimension of the input " \
           "and output tensors, but min_range dims are 2" in e
    e = _errors("QuantizeV2", {"input": x, "min_range": ("ph", "float32", [3]),
                               "max_range": ("ph", "float32", [4])}, {"T": "qint8", "axis": 1})
    assert "max_range is a 1-D tensor of size 4 and input's axis dimension is of size 3" in e
    e = _errors("QuantizeV2", {"input": x, "min_range": ("ph", "float32", [3]),
                               "max_range": ("ph", "float32", [3])},
                {"T": "qint8", "axis": 1, "mode": "MIN_FIRST"})
    assert e == "MIN_FIRST mode is not implemented for Quantize with axis != -1."
    e = _errors("QuantizeV2", {"input": x, "min_range": np.array(2, F32),
                               "max_range": np.array(1, F32)}, {"T": "quint8"})
    assert e == "input_max_range must be larger than input_min_range."


def test_dequantize_static():
    s = _static("Dequantize", {"input": ("ph", "qint8", [None, 4]), "min_range": ("ph", "float32", [4]),
                               "max_range": ("ph", "float32", [None])},
                {"axis": 1, "dtype": "bfloat16"})
    assert s == [("bfloat16", (None, 4))]
    e = _errors("Dequantize", {"input": ("ph", "quint8", [2, 3]), "min_range": ("ph", "float32", [3]),
                               "max_range": ("ph", "float32", [2])}, {"axis": 1, "mode": "SCALED"})
    assert e == "input_max_tensor must have as many elements as input on the dequantization " \
                "axis (1), got 2, expected 3"
    e = _errors("Dequantize", {"input": ("ph", "quint8", []), "min_range": ("ph", "float32", []),
                               "max_range": ("ph", "float32", [])}, {"axis": 0})
    assert e == "Axis must be less than input dimension(0), got 0"
    # an empty axis is not the per-tensor path: MIN_FIRST is refused
    e = _errors("Dequantize", {"input": ("ph", "quint8", [0, 2]), "min_range": ("ph", "float32", [0]),
                               "max_range": ("ph", "float32", [0])}, {"axis": 0, "mode": "MIN_FIRST"})
    assert e == "MIN_FIRST mode is not implemented for Dequantize with axis != -1."


def test_qdq_static_errors():
    x = ("ph", "float32", [2, 3])
    r = ("ph", "float32", [])
    assert _errors("QuantizeAndDequantizeV2", {"input": x, "input_min": r, "input_max": r},
                   {"axis": -2}) == "Axis must be at least -1. Found -2"
    assert _errors("QuantizeAndDequantizeV2", {"input": ("ph", "float32", []), "input_min": r,
                                               "input_max": r}, {"axis": 0}) == \
        "Shape must be at least rank 1 but is rank 0"
    assert _errors("QuantizeAndDequantizeV2", {"input": x, "input_min": r, "input_max": r},
                   {"num_bits": 62}) == "num_bits is out of range: 62 with signed_input_ 1"
    # TF 2.21's V2 kernel cannot take per-channel ranges at all
    assert _errors("QuantizeAndDequantizeV2", {"input": x, "input_min": r, "input_max": r},
                   {"axis": 1, "range_given": True}) == \
        "Shape must be rank 1 for input_min_tensor when the axis is specified"
    assert _errors("QuantizeAndDequantizeV2", {"input": x, "input_min": ("ph", "float32", [3]),
                                               "input_max": r},
                   {"axis": 1, "range_given": True}) == "input_min must be a scalar."
    e = _errors("QuantizeAndDequantizeV2", {"input": np.zeros(2), "input_min": np.float64(0.1),
                                            "input_max": np.float64(-0.3)}, {"range_given": True})
    assert e == "Invalid range: input_min 0.1 > input_max -0.3"
    # without range_given the range inputs are not read at all
    s = _static("QuantizeAndDequantizeV2", {"input": x, "input_min": ("ph", "float32", [5, 5]),
                                            "input_max": r}, {"axis": 1})
    assert s == [("float32", (2, 3))]


def test_quantized_concat_static():
    v = [("ph", "quint8", [2, None]), ("ph", "quint8", [None, 3])]
    m = [("ph", "float32", []), ("ph", "float32", [1])]
    s = _static("QuantizedConcat", {"concat_dim": np.array(1, I32), "values": v, "input_mins": m,
                                    "input_maxes": m})
    assert s == [("quint8", (2, None)), ("float32", ()), ("float32", ())]
    s = _static("QuantizedConcat", {"concat_dim": np.array(0, I32),
                                    "values": [("ph", "qint32", [2, 3]), ("ph", "qint32", [4, 3])],
                                    "input_mins": m, "input_maxes": m})
    assert s[0] == ("qint32", (6, 3))
    s = _static("QuantizedConcat", {"concat_dim": ("ph", "int32", []), "values": v,
                                    "input_mins": m, "input_maxes": m})
    assert s[0] == ("quint8", (None, None))
    e = _errors("QuantizedConcat", {"concat_dim": np.array(0, I32),
                                    "values": [("ph", "quint8", [2]), ("ph", "quint8", [3])],
                                    "input_mins": [("ph", "float32", []), ("ph", "float32", [2])],
                                    "input_maxes": [("ph", "float32", [2]), ("ph", "float32", [])]})
    assert e == "input_maxes each tensor's num elements must be 1, given num elements 2 in index 0"
    e = _errors("QuantizedConcat", {"concat_dim": np.array(0, I32),
                                    "values": [("ph", "quint8", [2, 2]), ("ph", "quint8", [2])],
                                    "input_mins": m, "input_maxes": m})
    assert e == "ConcatOp : Ranks of all input tensors should match: shape[0] = [2,2] vs. " \
                "shape[1] = [2]"
    e = _errors("QuantizedConcat", {"concat_dim": np.array([0], I32), "values": v,
                                    "input_mins": m, "input_maxes": m})
    assert e == "Concat dim tensor should be a scalar integer, but got shape [1]"


def test_quantized_reshape_static():
    t = ("ph", "quint8", [None, 6])
    r = ("ph", "float32", [])
    s = _static("QuantizedReshape", {"tensor": t, "shape": np.array([-1, 2, 3], I64),
                                     "input_min": r, "input_max": ("ph", "float32", [1])})
    assert s == [("quint8", (None, 2, 3)), ("float32", ()), ("float32", ())]
    s = _static("QuantizedReshape", {"tensor": t, "shape": ("ph", "int32", [3]), "input_min": r,
                                     "input_max": r})
    assert s[0] == ("quint8", (None, None, None))
    e = _errors("QuantizedReshape", {"tensor": t, "shape": np.array([-1, -1], I32), "input_min": r,
                                     "input_max": r})
    assert e == "Only one input size may be -1, not both 0 and 1"
    e = _errors("QuantizedReshape", {"tensor": ("ph", "quint8", [3]), "shape": np.array([3], I32),
                                     "input_min": ("ph", "float32", [1, 1]), "input_max": r})
    assert e == "input_min must be a scalar or a vector of 1 element"


def test_quantized_instance_norm_static():
    r = ("ph", "float32", [])
    s = _static("QuantizedInstanceNorm", {"x": ("ph", "quint8", [None, 4, 4, 8]), "x_min": r,
                                          "x_max": r})
    assert s == [("quint8", (None, 4, 4, 8)), ("float32", ()), ("float32", ())]
    e = _errors("QuantizedInstanceNorm", {"x": ("ph", "quint8", [1, 2, 2, 1]), "x_min": r,
                                          "x_max": r},
                {"output_range_given": True, "given_y_min": 0.3, "given_y_max": 0.1})
    assert e == "given_y_min must be less than given_y_max : 0.3 >= 0.1"
    e = _errors("QuantizedInstanceNorm", {"x": ("ph", "quint8", [1, 2, 2, 1]),
                                          "x_min": np.array(2, F32), "x_max": np.array(0.1, F32)})
    assert e == "input_min must be less than input_max : 2 >= 0.1"
    e = _errors("QuantizedInstanceNorm", {"x": ("ph", "quint8", [1, 2, 2, 1]),
                                          "x_min": ("ph", "float32", [1]), "x_max": r})
    assert e == "`x_min` must be rank 0 but is rank 1"


# ----------------------------------------------------------------- values (from TF 2.21)

def test_quantize_v2_nan_depends_on_packet_path():
    """A NaN casts to the lowest value on Eigen's 8-lane packet path, to 0 on the scalar tail;
    after the half-to-even rounding only whole 32-element blocks are packed."""
    (q, _, _), (d, _, _) = _run("QuantizeV2", {"input": np.full(9, np.nan, F32),
                                               "min_range": np.array(-1, F32),
                                               "max_range": np.array(1, F32)}, {"T": "qint8"})
    assert d == "qint8" and q.tolist() == [-128] * 8 + [0]
    (q, _, _), _ = _run("QuantizeV2", {"input": np.full(33, np.nan, F32),
                                       "min_range": np.array(-1, F32),
                                       "max_range": np.array(1, F32)},
                        {"T": "qint16", "mode": "SCALED", "round_mode": "HALF_TO_EVEN"})
    assert q.tolist() == [-32768] * 32 + [0]


def _zero_runs(q):
    z = np.flatnonzero(np.asarray(q) == 0)
    cut = np.flatnonzero(np.diff(z) != 1) + 1
    return [(int(r[0]), int(r[-1]) + 1) for r in np.split(z, cut) if r.size]


@pytest.mark.parametrize("n,attrs,runs", [
    # each range Eigen's 2-thread parallelFor hands out ends in a scalar tail (NaN -> 0)
    (25000, {"T": "qint16"}, [(4248, 4252), (8500, 8504), (12752, 12756), (17004, 17008),
                              (21256, 21260), (24996, 25000)]),
    (25000, {"T": "qint8"}, [(4328, 4331), (8659, 8662), (12990, 12993), (17321, 17324),
                             (21652, 21655), (24999, 25000)]),
    (30000, {"T": "qint8"}, []),                  # coarser ranges of 5000: no tails
    (20000, {"T": "qint16"}, []),                 # one thread
    (30000, {"T": "qint8", "mode": "SCALED"}, [(5528, 5529), (11057, 11058), (16586, 16587),
                                               (22115, 22116), (27644, 27645), (29997, 30000)]),
    (30000, {"T": "qint16", "mode": "SCALED", "round_mode": "HALF_TO_EVEN"},
     [(3840, 3843), (7683, 7686), (11526, 11529), (15369, 15372), (19212, 19215),
      (23055, 23058), (26898, 26901), (29973, 30000)]),
])
def test_quantize_v2_nan_follows_tfs_thread_ranges(n, attrs, runs):
    """Long tensors: the packet path covers each thread's range from its start (TF 2.21 on its
    2-thread intra-op pool: the positions of the zeros)."""
    (q, _, _), _ = _run("QuantizeV2", {"input": np.full(n, np.nan, F32),
                                       "min_range": np.array(-1, F32),
                                       "max_range": np.array(1, F32)}, attrs)
    assert _zero_runs(q) == runs
    assert np.count_nonzero(q) == n - sum(b - a for a, b in runs)


def test_quantize_v2_per_channel():
    (q, lo, hi), dts = _run("QuantizeV2", {"input": np.array([[1, 2, 3], [4, 5, 6]], F32),
                                           "min_range": np.array([-1, 0], F32),
                                           "max_range": np.array([1, 3], F32)},
                            {"T": "quint8", "axis": 0})
    assert dts == ["quint8", "float32", "float32"]
    assert q.tolist() == [[255, 255, 255], [255, 255, 255]]
    assert lo.tolist() == [-1.0, 0.0] and hi.tolist() == [1.0, 3.0]


def test_qdq_zero_max_sign_follows_eigen_reduction():
    """The data max is 0.0 or -0.0 depending on Eigen's evaluation order; it signs the zeros."""
    (y,), _ = _run("QuantizeAndDequantizeV2", {"input": np.array([0, 0, -0.0], F32),
                                               "input_min": np.array(0, F32),
                                               "input_max": np.array(1, F32)},
                   {"signed_input": False, "round_mode": "HALF_UP"})
    assert np.signbit(y).tolist() == [True, True, True]


def test_quantized_instance_norm_fast_rsqrt():
    """C >= 8: packets inside a row of channels use rsqrtps + one Newton step, not 1/sqrt."""
    x = (np.arange(72) * 3 % 256).astype(U8).reshape(1, 3, 3, 8)
    (y, lo, hi), dts = _run("QuantizedInstanceNorm", {"x": (x, "quint8"), "x_min": np.array(0, F32),
                                                      "x_max": np.array(2, F32)})
    assert dts == ["quint8", "float32", "float32"]
    assert y.reshape(-1).tolist() == [v for v in (0, 32, 64, 96, 128, 160, 192, 224, 255)
                                      for _ in range(8)]
    assert _bits(lo) == 3217443557 and _bits(hi) == 1069959909


def test_quantized_instance_norm_nine_channels():
    x = (np.arange(36) * 37 % 256).astype(U8).reshape(1, 2, 2, 9)
    (y, lo, hi), _ = _run("QuantizedInstanceNorm", {"x": (x, "quint8"), "x_min": np.array(0, F32),
                                                    "x_max": np.array(1, F32)})
    assert y.reshape(-1).tolist() == [11, 64, 64, 145, 145, 223, 223, 11, 64, 89, 160, 160, 250,
                                      250, 0, 0, 89, 160, 167, 255, 255, 6, 6, 96, 96, 167, 255,
                                      245, 33, 33, 111, 111, 192, 192, 245, 33]
    assert _bits(lo) == 3216711694 and _bits(hi) == 1069228047


def test_quantized_concat_and_reshape_values():
    a = (np.array([[1, 2], [3, 4]], U8), "quint8")
    b = (np.array([[5, 6]], U8), "quint8")
    (q, lo, hi), dts = _run("QuantizedConcat", {
        "concat_dim": np.array(0, I32), "values": [a, b],
        "input_mins": [np.array(-0.5, F32), np.array(0.2, F32)],
        "input_maxes": [np.array(-0.1, F32), np.array(-3, F32)]})
    assert dts[0] == "quint8" and q.tolist() == [[1, 2], [3, 4], [255, 255]]
    assert (lo, hi) == (np.float32(-0.5), np.float32(-0.1))
    (r, lo, hi), dts = _run("QuantizedReshape", {
        "tensor": (np.zeros((0, 3), U8), "quint8"), "shape": np.array([-1, 0], I32),
        "input_min": np.array([0.5], F32), "input_max": np.array(1, F32)})
    assert dts == ["quint8", "float32", "float32"] and r.shape == (3, 0) and lo == np.float32(0.5)


def _qdq(x, **attrs):
    lo = np.array(0, x.dtype)
    (y,), _ = _run("QuantizeAndDequantizeV2", {"input": x, "input_min": lo,
                                               "input_max": lo + 1}, attrs)
    return y


def test_qdq_scale_that_underflows_is_flushed():
    """A scale below the smallest normal (3 / 3.4e38) is flushed to 0 by TF's FTZ threads, so
    every value dequantizes to a zero of its sign."""
    y = _qdq(np.array([3.4e38, 1e-45], F32), signed_input=False, num_bits=2)
    assert _bits(y).tolist() == [0, 0]
    y = _qdq(np.array([-5.0, 3.4e38, -1.0], F32), signed_input=False, num_bits=2)
    assert _bits(y).tolist() == [0x80000000, 0, 0x80000000]
    y = _qdq(np.array([-1.79769313e308, 6.83563298e307, 2.5, -3.0]), num_bits=3, narrow_range=True)
    assert y.tolist() == [0, 0, 0, 0] and np.signbit(y).tolist() == [True, False, False, True]
    y = _qdq(np.array([3.4e38, -1e-45], F32))          # 127 / 3.4e38 is normal: no flush
    assert _bits(y).tolist() == [_bits(F32(3.4e38)).item(), 0x80000000]


def test_qdq_invalid_range_text_and_denormal_range():
    x = np.zeros(2, F32)
    for d in (np.float32, np.float64):
        got = _errors("QuantizeAndDequantizeV2", {"input": x.astype(d), "input_min": d(0.12345679),
                                                  "input_max": d(0.1)}, {"range_given": True})
        assert got == "Invalid range: input_min 0.123457 > input_max 0.1"
    tiny = {np.float32: 1e-45, np.float64: 5e-324}
    for d in (np.float32, np.float64):       # read under DAZ: 0 <= -0 holds
        (y,), _ = _run("QuantizeAndDequantizeV2", {"input": x.astype(d), "input_min": d(tiny[d]),
                                                   "input_max": d(-tiny[d])}, {"range_given": True})
        assert y.tolist() == [0, 0] and np.signbit(y).tolist() == [True, True]
    assert _errors("QuantizedInstanceNorm", {"x": (np.zeros((1, 2, 2, 1), U8), "quint8"),
                                             "x_min": F32(1e-45), "x_max": F32(-1e-45)}) == \
        "input_min must be less than input_max : 0 >= -0"
    assert _errors("QuantizedInstanceNorm", {"x": (np.zeros((1, 2, 2, 1), U8), "quint8"),
                                             "x_min": F32(0), "x_max": F32(1)},
                   {"output_range_given": True, "given_y_min": 0.12345679,
                    "given_y_max": 0.1}) == "given_y_min must be less than given_y_max : 0.123457 >= 0.1"


def test_quantized_concat_after_an_empty_input_ranges_shift():
    """TF copies only the non-empty inputs and gives the k-th of them input k's range: an input
    after an empty one is requantized from the empty one's range (here [-1, 1] to [-2, 2])."""
    def concat(values, mins, maxes, qtype):
        base = U8 if qtype == "quint8" else I32
        (q, lo, hi), _ = _run("QuantizedConcat", {
            "concat_dim": np.array(0, I32), "values": [(np.array(v, base), qtype) for v in values],
            "input_mins": [np.array(a, F32) for a in mins],
            "input_maxes": [np.array(b, F32) for b in maxes]})
        return q.tolist(), (float(lo), float(hi))
    assert concat([[], [10, 200]], [-1, -2], [1, 2], "quint8") == ([69, 165], (-2.0, 2.0))
    assert concat([[5], [], [10, 200]], [-2, -1, -2], [2, 1, 2], "quint8") == \
        ([5, 69, 165], (-2.0, 2.0))
    assert concat([[], [10, -2000000]], [-1, -2], [1, 2], "qint32") == \
        ([5, -1000000], (-2.0, 2.0))


def test_quantize_and_dequantize_per_axis_of_empty_tensors():
    """An axis over an empty tensor (TF 2.21: empty outputs; ranges as for the non-empty axis)."""
    outs, _ = _run("QuantizeV2", {"input": np.zeros(0, F32), "min_range": np.zeros(0, F32),
                                  "max_range": np.zeros(0, F32)},
                   {"T": "quint16", "mode": "SCALED", "axis": 0})
    assert [o.shape for o in outs] == [(0,), (0,), (0,)]
    (q, lo, hi), _ = _run("QuantizeV2", {"input": np.zeros((2, 0), F32),
                                         "min_range": np.zeros(2, F32),
                                         "max_range": np.ones(2, F32)},
                          {"T": "qint8", "mode": "SCALED", "axis": 0})
    assert q.shape == (2, 0) and lo.tolist() == [np.float32(-1.007874)] * 2 and hi.tolist() == [1, 1]
    (y,), _ = _run("Dequantize", {"input": (np.zeros((0, 2), U8), "quint8"),
                                  "min_range": np.zeros(0, F32), "max_range": np.zeros(0, F32)},
                   {"axis": 0, "dtype": "bfloat16"})
    assert y.shape == (0, 2)
