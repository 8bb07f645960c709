"""Space/depth/batch blocks, ExtractImagePatches, OneHot, EditDistance and the diagonal/band blocks
(blocks/spatial.py, blocks/encoding.py, blocks/matrix.py): what the TF fixtures do not pin down -- static shapes with
partially unknown inputs, errors only raised statically when TF's text is certain, and a few
values computed with TF 2.21 (pasted as literals)."""
import numpy as np
import pytest
import yaml

import blockgraph
from blockgraph.core import registry
from blockgraph.core.attrs import bind_attrs
from blockgraph.core.errors import OpError
from op_helpers import run, shape_of, static  # noqa: F401

I32, I64, F32 = "int32", "int64", "float32"

inf = np.float32(np.inf)


# ----------------------------------------------------------------- SpaceToBatch / BatchToSpace

def test_space_to_batch_nd_static_shapes():
    bs, pads = np.array([2, 2], np.int32), np.array([[0, 0], [1, 0]], np.int32)
    # values known, batch unknown
    assert shape_of("SpaceToBatchND", {"input": (F32, (None, 2, 3, 5)), "block_shape": (I32, (2,), bs),
                                       "paddings": (I32, (2, 2), pads)}) == (None, 1, 2, 5)
    # block_shape known, paddings unknown: batch known, spatial unknown
    assert shape_of("SpaceToBatchND", {"input": (F32, (3, 2, 3, 5)), "block_shape": (I32, (2,), bs),
                                       "paddings": (I32, (2, 2))}) == (12, None, None, 5)
    # nothing known but shapes
    assert shape_of("SpaceToBatchND", {"input": (F32, (3, 2, 3, 5)), "block_shape": (I32, (2,)),
                                       "paddings": (I32, (None, 2))}) == (None, None, None, 5)
    # block_shape of unknown length: output rank is still the input rank
    assert shape_of("SpaceToBatchND", {"input": (F32, (3, 2, 3)), "block_shape": (I32, (None,)),
                                       "paddings": (I32, None)}) == (None, None, None)
    assert shape_of("SpaceToBatchND", {"input": (F32, None), "block_shape": (I32, (1,)),
                                       "paddings": (I32, (1, 2))}) is None


def test_space_to_batch_static_errors_only_when_certain():
    args = {"input": (F32, (1, None, 4, 1)), "block_shape": (I32, (2,), [2, 2]),
            "paddings": (I32, (2, 2), [[0, 0], [0, -1]])}
    # dim 0 is unknown: the kernel could fail there first (divisibility), so no static error
    assert shape_of("SpaceToBatchND", args) == (4, None, None, 1)
    args["input"] = (F32, (1, 4, 4, 1))
    with pytest.raises(OpError, match="Paddings must be non-negative"):
        static("SpaceToBatchND", args)
    with pytest.raises(OpError, match=r"paddings should have shape \[2, 2\] instead of \[1,2\]"):
        static("SpaceToBatchND", {"input": (F32, (1, 4, 4, 1)), "block_shape": (I32, (2,)),
                                  "paddings": (I32, (1, 2))})
    # paddings shape partly unknown: undecided
    assert shape_of("SpaceToBatchND", {"input": (F32, (1, 4, 4, 1)), "block_shape": (I32, (2,)),
                                       "paddings": (I32, (None, 3))}) == (None, None, None, 1)
    with pytest.raises(OpError, match="input rank should be >= 3 instead of 2"):
        static("SpaceToBatchND", {"input": (F32, (None, 4)), "block_shape": (I32, (2,)),
                                  "paddings": (I32, (2, 2))})


def test_space_to_batch_nd_values_and_kernel_rules():
    x = np.arange(6, dtype=np.int32).reshape(1, 2, 3, 1)
    out = run("SpaceToBatchND", {"input": x, "block_shape": np.array([2, 2], np.int32),
                                 "paddings": np.array([[0, 0], [1, 0]], np.int32)})
    assert out.tolist() == [[[[0], [1]]], [[[0], [2]]], [[[0], [4]]], [[[3], [5]]]]   # TF 2.21
    # at most 4 non-combined block dims; leading/trailing (1, no padding) dims are combined
    y = np.zeros((1, 2, 2, 2, 2, 2, 1), np.float32)
    with pytest.raises(OpError, match="Maximum number of non-combined block dimensions is 5"):
        run("SpaceToBatchND", {"input": y, "block_shape": np.array([2] * 5, np.int32),
                               "paddings": np.zeros((5, 2), np.int32)})
    assert run("SpaceToBatchND", {"input": y, "block_shape": np.array([1, 2, 2, 2, 2], np.int32),
                                  "paddings": np.zeros((5, 2), np.int32)}).shape == (16, 2, 1, 1, 1, 1, 1)
    with pytest.raises(OpError, match="All values in block_shape must be positive, got value, -1 at index 0."):
        run("SpaceToBatchND", {"input": np.zeros((1, 4, 4, 1), np.float32),
                               "block_shape": np.array([-1, -1], np.int32),
                               "paddings": np.zeros((2, 2), np.int32)})


def test_batch_to_space_nd_values_and_rules():
    x = np.arange(8, dtype=np.int32).reshape(4, 1, 2, 1)
    out = run("BatchToSpaceND", {"input": x, "block_shape": np.array([2, 2], np.int64),
                                 "crops": np.array([[0, 1], [1, 0]], np.int32)})
    assert out.tolist() == [[[[2], [1], [3]]]]                                         # TF 2.21
    # negative blocks whose product is positive pass when every cropped size is 0 (TF: [4,0,0,1])
    out = run("BatchToSpaceND", {"input": np.zeros((4, 0, 0, 1), np.float32),
                                 "block_shape": np.array([-1, -1], np.int32),
                                 "crops": np.zeros((2, 2), np.int32)})
    assert out.shape == (4, 0, 0, 1)
    with pytest.raises(OpError, match=r"cropped_shape\[1\]=-1 must be non-negative"):
        run("BatchToSpaceND", {"input": np.zeros((4, 0, 1, 1), np.float32),
                               "block_shape": np.array([-1, -1], np.int32),
                               "crops": np.zeros((2, 2), np.int32)})
    with pytest.raises(OpError, match=r"Input batch dimension \(3\) is not divisible by product"):
        static("BatchToSpaceND", {"input": (F32, (3, None, 2, 1)), "block_shape": (I32, (2,), [2, 2]),
                                  "crops": (I32, (2, 2))})
    assert shape_of("BatchToSpaceND", {"input": (F32, (8, None, 2, 1)), "block_shape": (I32, (2,), [2, 2]),
                                       "crops": (I32, (2, 2), [[0, 1], [1, 1]])}) == (2, None, 2, 1)


def test_v1_space_batch_ops():
    assert shape_of("SpaceToBatch", {"input": (F32, (None, 3, 4, 2)), "paddings": (I64, (2, 2), [[1, 0], [0, 0]])},
                    block_size=2) == (None, 2, 2, 2)
    with pytest.raises(OpError, match="Input rank should be: 4instead of: 3"):
        static("BatchToSpace", {"input": (F32, (4, 1, 1)), "crops": (I32, (2, 2))}, block_size=2)
    d = registry.get("SpaceToBatch")
    _, errs = bind_attrs(d, {"block_size": 1})
    assert errs and "must be at least minimum 2" in errs[0][1]


# ----------------------------------------------------------------- depth

def test_depth_space_static():
    assert shape_of("SpaceToDepth", {"input": (F32, (None, 4, None, 3))}, block_size=2) == (None, 2, None, 12)
    # one of height/width unknown: the message names both, so no static error
    assert shape_of("SpaceToDepth", {"input": (F32, (1, 3, None, 3))}, block_size=2) == (1, None, None, 12)
    assert shape_of("DepthToSpace", {"input": (F32, (1, None, 3, 8))}, block_size=2) == (1, None, 6, 2)
    assert shape_of("DepthToSpace", {"input": (F32, None)}, block_size=2) == (None,) * 4
    with pytest.raises(OpError, match="NHWC"):
        static("DepthToSpace", {"input": (F32, (1, 4, 1, 1))}, block_size=2, data_format="NCHW")


def test_depth_to_space_values():
    x = np.arange(8, dtype=np.int32).reshape(1, 1, 1, 8)
    out = run("DepthToSpace", {"input": x}, block_size=2)
    assert out.tolist() == [[[[0, 1], [2, 3]], [[4, 5], [6, 7]]]]                       # TF 2.21
    np.testing.assert_array_equal(run("SpaceToDepth", {"input": out}, block_size=2), x)


# ----------------------------------------------------------------- ExtractImagePatches

EIP = dict(ksizes=[1, 2, 2, 1], strides=[1, 2, 3, 1], rates=[1, 2, 1, 1], padding="SAME")


def test_extract_image_patches_values():
    x = np.arange(1, 21, dtype=np.int32).reshape(1, 4, 5, 1)
    out = run("ExtractImagePatches", {"images": x}, **EIP)
    assert out.tolist() == [[[[1, 2, 11, 12], [4, 5, 14, 15]], [[11, 12, 0, 0], [14, 15, 0, 0]]]]  # TF
    # attr lists longer than 4 are accepted (TF reads items 0..3)
    assert run("ExtractImagePatches", {"images": x}, **{**EIP, "ksizes": [1, 2, 2, 1, 7]}).shape == (1, 2, 2, 4)


def test_extract_image_patches_static():
    assert shape_of("ExtractImagePatches", {"images": (F32, (None, 4, None, 3))}, **EIP) == (None, 2, None, 12)
    valid = dict(EIP, padding="VALID", ksizes=[1, 6, 2, 1], strides=[1, 1, 1, 1], rates=[1, 1, 1, 1])
    with pytest.raises(OpError, match=r"Computed output size would be negative: -1 \[input_size: 4, "
                                      r"effective_filter_size: 6, stride: 1\]"):
        static("ExtractImagePatches", {"images": (F32, (1, 4, 4, 1))}, **valid)
    # (4 - 6 + 2) / 2 = 0 rows: no error
    assert shape_of("ExtractImagePatches", {"images": (F32, (1, 4, 4, 1))},
                    **dict(valid, strides=[1, 2, 1, 1])) == (1, 0, 3, 12)
    with pytest.raises(OpError, match="Only support strides across space."):
        static("ExtractImagePatches", {"images": (F32, (1, 4, 4, 1))}, **dict(EIP, strides=[1, 1, 1, 2]))
    with pytest.raises(OpError, match="rates is out of range."):
        static("ExtractImagePatches", {"images": (F32, (1, 4, 4, 1))}, **dict(EIP, rates=[1, 0, 1, 1]))


# ----------------------------------------------------------------- OneHot

def test_one_hot():
    out = run("OneHot", {"indices": np.array([[1, -1], [0, 2]], np.int32), "depth": np.array(3, np.int32),
                         "on_value": np.array(b"on", object), "off_value": np.array(b"", object)}, axis=0)
    assert out.tolist() == [[[b"", b""], [b"on", b""]], [[b"on", b""], [b"", b""]],
                            [[b"", b""], [b"", b"on"]]]                                 # TF 2.21
    big = run("OneHot", {"indices": np.array([255], np.uint8), "depth": np.array(300, np.int32),
                         "on_value": np.float32(1), "off_value": np.float32(0)})
    assert big.sum() == 1 and big[0, 255] == 1                  # uint8 255 is index 255, not -1
    scal = {"depth": (I32, ()), "on_value": (F32, ()), "off_value": (F32, ())}
    assert shape_of("OneHot", {"indices": (I64, (None, 2)), **scal}, axis=1) == (None, None, 2)
    assert shape_of("OneHot", {"indices": (I64, (5,)), **scal, "depth": (I32, (), 4)}) == (5, 4)
    with pytest.raises(OpError, match=r"Expected axis to be -1 or between \[0, 2\).  But received: -2"):
        static("OneHot", {"indices": (I64, (None,)), **scal}, axis=-2)
    # depth's shape unknown: the negative-depth error is not certain yet
    assert shape_of("OneHot", {"indices": (I64, (2,)), **scal, "depth": (I32, None, -1)}) == (2, None)
    with pytest.raises(OpError, match="depth must be non-negative, got: -1"):
        static("OneHot", {"indices": (I64, (2,)), **scal, "depth": (I32, (), -1)})
    with pytest.raises(OpError, match=r"on_value must be a scalar, but got: \[1\]"):
        static("OneHot", {"indices": (I64, (2,)), **scal, "on_value": (F32, (1,))})


# ----------------------------------------------------------------- EditDistance

def _ed(hi, hv, hs, ti, tv, ts, normalize=True):
    return run("EditDistance", {
        "hypothesis_indices": np.array(hi, np.int64), "hypothesis_values": np.array(hv),
        "hypothesis_shape": np.array(hs, np.int64), "truth_indices": np.array(ti, np.int64),
        "truth_values": np.array(tv), "truth_shape": np.array(ts, np.int64)}, normalize=normalize)


def test_edit_distance_values():
    # groups are consecutive runs of the (unsorted) indices, as TF's grouper walks them
    out = _ed([[1, 0], [0, 0], [1, 1]], [1, 2, 3], [3, 2], [[0, 0], [1, 0]], [2, 1], [2, 3])
    assert out.tolist() == [inf, inf, 0.0]                                             # TF 2.21
    out = _ed([[0, 0, 0], [0, 0, 1], [0, 1, 0]], [b"a", b"b", b"c"], [1, 2, 2],
              [[0, 0, 0], [0, 0, 1], [0, 0, 2]], [b"b", b"b", b"c"], [1, 3, 3])
    np.testing.assert_array_equal(out, np.array([[np.float32(2) / np.float32(3), inf, 0.0]], np.float32))
    assert out.dtype == np.float32
    nan = _ed([[0, 0], [0, 1]], np.array([np.nan, -0.0], np.float32), [1, 2],
              [[0, 0], [0, 1]], np.array([np.nan, 0.0], np.float32), [1, 2], normalize=False)
    assert nan.tolist() == [1.0]                                                       # NaN != NaN, -0 == 0
    with pytest.raises(OpError, match="Got an inner product 5 which would require writing"):
        _ed([[5, 0]], [1], [2, 2], [[0, 0]], [1], [2, 2])
    with pytest.raises(OpError, match=r"Got output shape \[0\] which has 0 elements"):
        _ed(np.zeros((0, 2)), np.zeros(0, np.int32), [0, 2], np.zeros((0, 2)), np.zeros(0, np.int32), [0, 2])
    with pytest.raises(OpError, match="Dimension -1 must be >= 0"):
        _ed(np.zeros((0, 2)), np.zeros(0, np.int32), [-1, 2], np.zeros((0, 2)), np.zeros(0, np.int32), [2, 2])


def test_edit_distance_static():
    sp = {"hypothesis_indices": (I64, (None, 3)), "hypothesis_values": (I32, (None,)),
          "hypothesis_shape": (I64, (3,)), "truth_indices": (I64, (None, 3)),
          "truth_values": (I32, (None,)), "truth_shape": (I64, (3,))}
    assert shape_of("EditDistance", sp) == (None, None)
    sp["hypothesis_shape"] = (I64, (3,), [2, 1, 4])
    sp["truth_shape"] = (I64, (3,), [1, 3, 2])
    assert shape_of("EditDistance", sp) == (2, 3)
    # a partly unknown shape cannot be printed as TF would: the check waits for the run
    sp["hypothesis_values"] = (I32, (4,))
    sp["hypothesis_indices"] = (I64, (3, None))
    assert shape_of("EditDistance", sp) == (2, 3)
    sp["hypothesis_indices"] = (I64, (3, 3))
    with pytest.raises(OpError, match=r"Expected hypothesis_values.NumElements == #rows\(hypothesis_indices\), "
                                      r"their shapes are: \[4\] and \[3,3\]"):
        static("EditDistance", sp)


# ----------------------------------------------------------------- diagonals and bands

def test_diag_family_static():
    assert shape_of("Diag", {"diagonal": (F32, (None, 2))}) == (None, 2, None, 2)
    assert shape_of("DiagPart", {"input": (F32, (None, 3, 2, None))}) == (2, 3)
    assert shape_of("DiagPart", {"input": (F32, (None, 3, 2))}) is None       # message needs the dims
    with pytest.raises(OpError, match=r"Invalid shape \[2,3,2,4\]: dimensions 1 and 3 do not match."):
        static("DiagPart", {"input": (F32, (2, 3, 2, 4))})
    assert shape_of("MatrixDiag", {"diagonal": (F32, (2, None))}) == (2, None, None)
    assert shape_of("MatrixDiagPart", {"input": (F32, (2, None, 0))}) == (2, 0)
    assert shape_of("MatrixDiagPart", {"input": (F32, (None,))}) is None
    assert shape_of("MatrixSetDiag", {"input": (F32, (None, 3, 4)), "diagonal": (F32, (5, 3))}) == (5, 3, 4)
    assert shape_of("MatrixSetDiag", {"input": (F32, None), "diagonal": (F32, (5, 3))}) == (5, None, None)
    with pytest.raises(OpError, match="diagonal must be at least 1-dim, received shape: \\[\\]"):
        static("MatrixSetDiag", {"input": (F32, (3, 3)), "diagonal": (F32, ())})
    x = {"input": (F32, (2, 4, 5)), "num_lower": (I64, (), 9), "num_upper": (I64, (), 0)}
    with pytest.raises(OpError, match=r"num_lower must be negative or less or equal to number of rows \(4\) got: 9"):
        static("MatrixBandPart", x)
    x["input"] = (F32, (2, None, 5))
    assert shape_of("MatrixBandPart", x) == (2, None, 5)


def test_band_and_diag_values():
    band = run("MatrixBandPart", {"input": np.array([[-0.0, 1, 2], [3, -0.0, 5]], np.float32),
                                  "num_lower": np.int32(0), "num_upper": np.int32(1)})
    expected = np.array([[-0.0, 1.0, 0.0], [0.0, -0.0, 5.0]], np.float32)             # TF 2.21
    assert band.tobytes() == expected.tobytes()
    assert run("DiagPart", {"input": np.arange(16, dtype=np.int32).reshape(2, 2, 2, 2)}).tolist() == [[0, 5], [10, 15]]
    assert run("DiagPart", {"input": np.float32(3)}).shape == ()
    x = np.zeros((2, 4, 3), np.float64)
    out = run("MatrixSetDiag", {"input": x, "diagonal": np.ones((2, 3))})
    assert out.sum() == 6 and x.sum() == 0                                             # input untouched


def test_page_with_unknown_batch():
    """Through a page: a placeholder with an unknown batch dim, then the real run."""
    page = {"format": 1, "page": "t", "blocks": {
        "x": {"op": "Placeholder", "attrs": {"dtype": "float32", "shape": [None, 4, 4, 1]}},
        "s": {"op": "SpaceToBatchND", "inputs": {"input": "x", "block_shape": [2, 2],
                                                  "paddings": [[0, 0], [0, 0]]}},
        "d": {"op": "SpaceToDepth", "inputs": {"input": "x"}, "attrs": {"block_size": 2}}}}
    p = blockgraph.load_page("t.yaml", text=yaml.safe_dump(page))
    assert not p.diagnostics, [d.format() for d in p.diagnostics]
    assert p.scope.blocks["s"].specs[0].shape == (None, 2, 2, 1)
    assert p.scope.blocks["d"].specs[0].shape == (None, 2, 2, 4)
    r = p.run({"x": np.arange(32, dtype=np.float32).reshape(2, 4, 4, 1)})
    assert r.block("s").outputs["output"].shape == (8, 2, 2, 1)
    assert r.block("d").outputs["output"].shape == (2, 2, 2, 4)
