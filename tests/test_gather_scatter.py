"""Gather/scatter/Where and the set ops: static shapes with partly unknown inputs, check order,
and TF 2.21 behaviours the fixtures do not pin down (expected values pasted from TF, CPU)."""
import numpy as np
import pytest

from op_helpers import op_page as _page
from blockgraph.core import dtypes as dt

F32, I32, I64 = np.float32, np.int32, np.int64


def _static(op, inputs, attrs=None):
    p = _page(op, inputs, attrs)
    assert p.diagnostics == [], [d.format() for d in p.diagnostics]
    return p.scope.blocks["c"].specs


def _run(op, inputs, attrs=None, feeds=None):
    p = _page(op, inputs, attrs)
    assert p.diagnostics == [], [d.format() for d in p.diagnostics]
    r = p.run(feeds or {})
    b = r.block("c")
    assert b.status == "ok", b.error
    return [b.outputs[o.name] for o in p.scope.blocks["c"].defn.outputs]


def _error(op, inputs, attrs=None, feeds=None):
    """(static messages, run error or None)."""
    p = _page(op, inputs, attrs)
    static = [d.message for d in p.diagnostics]
    if static:
        return static, None
    return [], p.run(feeds or {}).block("c").error


def _bits(a):
    return np.asarray(a).view({2: np.uint16, 4: np.uint32, 8: np.uint64}[np.asarray(a).itemsize])


# ----------------------------------------------------------------- static shapes

def test_gather_v2_static_shapes():
    ph = lambda *s: ("ph", "float32", list(s))
    idx = ("ph", "int32", [None, 5])
    s = _static("GatherV2", {"params": ph(2, None, 4), "indices": idx, "axis": np.array(-1, I32)})
    assert s[0].shape == (2, None, None, 5) and s[0].dtype == "float32"
    # unknown axis: only the rank is known
    s = _static("GatherV2", {"params": ph(2, 3, 4), "indices": idx, "axis": ("ph", "int64", [])})
    assert s[0].shape == (None,) * 4
    s = _static("GatherV2", {"params": ph(None, 3, 4), "indices": ("ph", "int32", [2, 7]),
                             "axis": np.array(1, I32)}, {"batch_dims": -1})
    assert s[0].shape == (2, 7, 4)
    s = _static("Gather", {"params": ("ph", "string", None), "indices": idx})
    assert s[0].shape is None and s[0].dtype == "string"


def test_gather_unknown_axis_defers_later_checks():
    """TF checks the axis first: with the axis unknown, a batch_dims problem must not be
    reported before the run (the run then gives TF's axis message)."""
    inputs = {"params": ("ph", "float32", [3, 4]), "indices": ("ph", "int32", [3, 4, 2]),
              "axis": ("ph", "int32", [])}
    static, err = _error("GatherV2", inputs, {"batch_dims": 2},
                         feeds={"in_params": np.zeros((3, 4), F32),
                                "in_indices": np.zeros((3, 4, 2), I32), "in_axis": np.array(2, I32)})
    assert static == [] and "Shape must be at least rank 3 but is rank 2" in err
    static, _ = _error("GatherV2", {**inputs, "axis": np.array(2, I32)}, {"batch_dims": 2})
    assert any("Shape must be at least rank 3 but is rank 2" in m for m in static)


def test_gather_nd_and_scatter_static_shapes():
    s = _static("GatherNd", {"params": ("ph", "float32", [None, 3, 4]),
                             "indices": ("ph", "int64", [None, 2])})
    assert s[0].shape == (None, 4)
    s = _static("GatherNd", {"params": ("ph", "float32", [2, 3]), "indices": ("ph", "int32", [4, None])})
    assert s[0].shape is None
    # ScatterNd: trailing dims of an unknown-valued shape come from updates
    s = _static("ScatterNd", {"indices": ("ph", "int32", [None, 1]),
                              "updates": ("ph", "float64", [None, 3]),
                              "shape": ("ph", "int32", [2])})
    assert s[0].shape == (None, 3) and s[0].dtype == "float64"
    s = _static("ScatterNd", {"indices": ("ph", "int32", [None, 1]), "updates": ("ph", "bool", None),
                              "shape": np.array([4, 2], I32)})
    assert s[0].shape == (4, 2)
    s = _static("ScatterNdNonAliasingAdd", {"input": ("ph", "int32", [None, 2]),
                                            "indices": ("ph", "int32", None),
                                            "updates": ("ph", "int32", None)})
    assert s[0].shape == (None, 2)


def test_where_and_sets_static_shapes():
    assert _static("Where", {"condition": ("ph", "bool", [None, 3, 2])})[0].shape == (None, 3)
    assert _static("Where", {"condition": ("ph", "int8", None)})[0].shape == (None, None)
    s = _static("UniqueWithCounts", {"x": ("ph", "string", [None])}, {"out_idx": "int64"})
    assert [x.shape for x in s] == [(None,), (None,), (None,)]
    assert [x.dtype for x in s] == ["string", "int64", "int64"]
    s = _static("ListDiff", {"x": ("ph", "float16", [5]), "y": ("ph", "float16", None)})
    assert [x.dtype for x in s] == ["float16", "int32"]


# ----------------------------------------------------------------- errors

@pytest.mark.parametrize("op,inputs,attrs,message", [
    ("Where", {"condition": np.array(True)}, {}, "WhereOp : Unhandled input dimensions: 0"),
    ("Where", {"condition": np.ones([1] * 9, bool)}, {}, "WhereOp : Unhandled input dimensions: 9"),
    ("Where", {"condition": np.zeros((0, 2), np.float16)}, {}, "No WhereOp available for float16"),
    ("ScatterNd", {"indices": np.array([[0]], I32), "updates": np.array([1], F32),
                   "shape": np.array([-1], I32)}, {}, "Dimension -1 must be >= 0"),
    ("ScatterNd", {"indices": np.array([[0]], I32), "updates": np.array([1], F32),
                   "shape": np.array([[3]], I32)}, {}, "Shape must be a vector"),
    ("ScatterNd", {"indices": np.array([[0]], I32), "updates": np.array([1], F32),
                   "shape": np.array([3], I32)}, {"bad_indices_policy": "FOO"},
     "Unknown bad indices handling attribute: FOO"),
    ("ScatterNd", {"indices": np.zeros((0, 0), I32), "updates": np.zeros((0, 3), F32),
                   "shape": np.array([3], I32)}, {},
     "Only indices.shape[-1] values between 1 and 5 are currently supported.  Requested rank: 0"),
    ("ScatterNdNonAliasingAdd", {"input": np.zeros(3, F32), "indices": np.array([[1], [2]], I32),
                                 "updates": np.array([1, 2, 3], F32)}, {},
     "Dimensions [0,1) of indices[shape=[2,1]] = 2 must match dimensions [0,1) of "
     "updates[shape=[3]] = 3"),
    ("ScatterNdNonAliasingAdd", {"input": np.zeros(3, F32), "indices": np.array([[1]], I32),
                                 "updates": np.array(1, F32)}, {},
     "Dimensions [0,1) of indices[shape=[1,1]] = 1 must match dimensions [0,1) of updates[shape=[]]"),
    ("ScatterNdNonAliasingAdd", {"input": np.zeros((3, 2), F32), "indices": np.array([[1, 0, 0]], I32),
                                 "updates": np.array([1], F32)}, {},
     "Dimensions [3,2) of input[shape=[3,2]] must match dimensions [3,1) of updates[shape=[1]]"),
    ("GatherNd", {"params": np.zeros((3, 0), F32), "indices": np.array([[1]], I32)}, {},
     "Requested more than 0 entries, but params is empty.  Params shape: [3,0]"),
    ("GatherNd", {"params": np.zeros([1] * 8, F32), "indices": np.zeros((1, 8), I32)}, {},
     "Only indices.shape[-1] values between 1 and 7 are currently supported.  Requested rank: 8"),
    ("GatherV2", {"params": np.zeros(2, F32), "indices": np.array(5, I32), "axis": np.array(0, I32)},
     {}, "indices = 5 is not in [0, 2)"),
    ("GatherV2", {"params": np.zeros((2, 3), F32), "indices": np.array([[0, 1], [2, 5]], I32),
                  "axis": np.array(1, I32)}, {"batch_dims": 1}, "indices[1,1] = 5 is not in [0, 3)"),
    # GatherNd and ScatterNd report the last bad index, Gather the first
    ("GatherNd", {"params": np.zeros((3, 4), F32), "indices": np.array([[5, 0], [1, 1], [0, -1]], I32)},
     {}, "indices[2] = [0, -1] does not index into param shape [3,4], node name: GatherNd"),
    ("ScatterNd", {"indices": np.array([[[5], [1]], [[-2], [0]]], I32), "updates": np.ones((2, 2), F32),
                   "shape": np.array([4], I32)}, {}, "indices[1,0] = [-2] does not index into shape [4]"),
    ("Gather", {"params": np.zeros(2, F32), "indices": np.array([5, -1, 7], I32)}, {},
     "indices[0] = 5 is not in [0, 2)"),
    ("Unique", {"x": np.array([[1]], I32)}, {}, "unique expects a 1D vector."),
    ("ListDiff", {"x": np.array([[1]], I32), "y": np.array(1, I32)}, {}, "x should be a 1D vector."),
])
def test_errors(op, inputs, attrs, message):
    static, err = _error(op, inputs, attrs)
    assert any(message in m for m in static) or (err is not None and message in err), (static, err)


def test_gather_checks_nothing_when_output_is_empty():
    (out,) = _run("GatherV2", {"params": np.zeros((0, 3), F32), "indices": np.array([5], I32),
                               "axis": np.array(1, I32)})
    assert out.shape == (0, 1)


# ----------------------------------------------------------------- values (from TF 2.21)

def test_scatter_nd_flushes_each_partial_sum():
    # 1e-37 - 0.99e-37 is a denormal: flushed to 0 before the next add (TF gives 1e-37, not 1.01e-37)
    (out,) = _run("ScatterNd", {"indices": np.array([[0], [0], [0], [1], [1]], I32),
                                "updates": np.array([1e-37, -0.99e-37, 1e-37, -1e-37, 0.99e-37], F32),
                                "shape": np.array([2], I32)})
    assert _bits(out).tolist() == [34086122, 2147483648]


def test_scatter_nd_strings_and_half():
    (out,) = _run("ScatterNd", {"indices": np.array([[1], [0], [1]], I32),
                                "updates": np.array([b"x", b"y", b"z"], object),
                                "shape": np.array([3], I32)})
    assert out.tolist() == [b"y", b"xz", b""]
    (out,) = _run("ScatterNd", {"indices": np.array([[0], [0], [0]], I32),
                                "updates": np.array([0.1, 0.2, 0.3], np.float16),
                                "shape": np.array([1], I32)})
    assert out.dtype == np.float16 and out.tolist() == [np.float16(0.5996)]


def test_non_aliasing_add_one_dim_indices_use_first_index_only():
    # TF reads 1-D indices as a single row: only indices[0] with updates[0]; the touched
    # denormal input is read as 0 (DAZ)
    (out,) = _run("ScatterNdNonAliasingAdd", {"input": np.array([1e-40, 0, 0], F32),
                                              "indices": np.array([0, 2], I32),
                                              "updates": np.array([0.0, 5], F32)})
    assert _bits(out).tolist() == [0, 0, 0]


def test_gather_v2_batch_dims_negative_axis_int16_indices():
    (out,) = _run("GatherV2", {"params": np.arange(24, dtype=I32).reshape(2, 3, 4),
                               "indices": np.array([[2, 0], [1, 1]], np.int16),
                               "axis": np.array(-1, I64)}, {"batch_dims": 1})
    assert out.tolist() == [[[2, 0], [6, 4], [10, 8]], [[13, 13], [17, 17], [21, 21]]]


def test_gather_nd_ignore_policy():
    (out,) = _run("GatherNd", {"params": np.arange(12, dtype=F32).reshape(3, 4),
                               "indices": np.array([[5, 0], [1, 1], [0, -1]], I32)},
                  {"bad_indices_policy": "IGNORE"})
    assert out.tolist() == [0.0, 5.0, 0.0]


def test_where_daz_but_not_for_bfloat16():
    (out,) = _run("Where", {"condition": ("ph", "float32", [2, 2])},
                  feeds={"in_condition": np.array([[1e-40, -0.0], [np.nan, 2.0]], F32)})
    assert out.dtype == np.int64 and out.tolist() == [[1, 0], [1, 1]]
    bf = np.array([1, 0x8000, 0x8001, 0], np.uint16).view(dt.to_numpy("bfloat16"))
    (out,) = _run("Where", {"condition": ("ph", "bfloat16", [4])}, feeds={"in_condition": bf})
    assert out.tolist() == [[0], [2]]


def test_unique_float_equality():
    x = np.array([1e-40, -0.0, np.nan, 0.0, np.nan, 2.0], F32)
    y, idx, count = _run("UniqueWithCounts", {"x": ("ph", "float32", [6])}, feeds={"in_x": x})
    assert _bits(y).tolist() == _bits(np.array([1e-40, np.nan, np.nan, 2.0], F32)).tolist()
    assert idx.tolist() == [0, 0, 1, 0, 2, 3] and count.tolist() == [3, 1, 1, 1]
    y, idx = _run("Unique", {"x": np.array([-0.0, 0.0, -0.0], np.float16)})
    assert _bits(y).tolist() == [0x8000, 0] and idx.tolist() == [0, 1, 0]


def test_list_diff_float_equality():
    out, idx = _run("ListDiff", {"x": ("ph", "float32", [5]), "y": ("ph", "float32", [2])},
                    {"out_idx": "int64"}, feeds={"in_x": np.array([0.0, -0.0, 1e-40, np.nan, 1.0], F32),
                                                 "in_y": np.array([-0.0, np.nan], F32)})
    assert np.isnan(out[0]) and out[1] == 1.0 and idx.dtype == np.int64 and idx.tolist() == [3, 4]
    out, idx = _run("ListDiff", {"x": np.array([0.0, -0.0, 1.0], np.float16),
                                 "y": np.array([0.0], np.float16)})
    assert _bits(out).tolist() == [0x8000, 0x3C00] and idx.tolist() == [1, 2]


def test_unique_large_first_occurrence_order():
    rng = np.random.default_rng(0)
    x = rng.integers(-50, 50, 5000).astype(I64)
    y, idx, count = _run("UniqueWithCounts", {"x": ("ph", "int64", [None])}, feeds={"in_x": x})
    _, first = np.unique(x, return_index=True)
    assert y.tolist() == x[np.sort(first)].tolist()
    assert (y[idx] == x).all() and count.sum() == x.size and idx.dtype == np.int32
