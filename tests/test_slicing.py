"""Slicing, joining, splitting, reversing and padding blocks (blocks/slicing.py, joining.py, padding.py,
blocks/kernels/strided_slice.py): what the TF fixtures do not pin down -- static shapes with
partially known begin/end/inputs, errors raised statically only when TF's text is certain, known
values passed on, and behaviours of TF 2.21 checked with TF (pasted as literals)."""
import numpy as np
import pytest
import yaml

import blockgraph
from blockgraph.core.errors import OpError
from blocks.kernels import strided_slice as ss
from op_helpers import run, shape_of, static  # noqa: F401

I32, I64, F32 = "int32", "int64", "float32"
MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


def ssargs(shape, begin, end, strides, known=(True, True), dtype=I32):
    return {"input": (F32, shape),
            "begin": (dtype, (len(begin),)) + ((np.array(begin, dtype),) if known[0] else ()),
            "end": (dtype, (len(end),)) + ((np.array(end, dtype),) if known[1] else ()),
            "strides": (dtype, (len(strides),), np.array(strides, dtype))}


# ----------------------------------------------------------------- StridedSlice spec resolution

def test_resolve_dense_spec_and_clamping():
    r = ss.resolve([1, 0, 4], [0, 0, 0], [1, 1, -2], (3, 4, 5), end_mask=1, ellipsis_mask=2)
    assert (r.begin, r.end, r.strides) == ([1, 0, 4], [3, 4, 0], [1, 1, -2])
    assert r.processing_shape == r.final_shape == (2, 4, 2)
    r = ss.resolve([-100, 100], [100, -100], [1, -1], (4, 5))
    assert (r.begin, r.end, r.final_shape) == ([0, 4], [4, -1], (4, 5))
    r = ss.resolve([2], [0], [1], (4, 5), shrink_axis_mask=1, new_axis_mask=2)
    assert r.final_shape == (5,) and r.processing_shape == (1, 5)


def test_strided_slice_value_and_errors():
    x = np.arange(60, dtype=np.int32).reshape(3, 4, 5)
    got = run("StridedSlice", {"input": x, "begin": np.int32([1, 0, 4]), "end": np.int32([0, 0, 0]),
                               "strides": np.int32([1, 1, -2])}, end_mask=1, ellipsis_mask=2)
    assert got.tolist() == [[[24, 22], [29, 27], [34, 32], [39, 37]],
                            [[44, 42], [49, 47], [54, 52], [59, 57]]]
    with pytest.raises(OpError, match="Attempting to slice scalar input."):
        run("StridedSlice", {"input": np.float32(1), "begin": np.int32([0, 0]), "end": np.int32([0, 0]),
                             "strides": np.int32([1, 1])}, new_axis_mask=1)
    # stride 0 on a new axis or an ellipsis entry is never looked at
    got = run("StridedSlice", {"input": x, "begin": np.int32([0]), "end": np.int32([0]),
                               "strides": np.int32([0])}, new_axis_mask=1)
    assert got.shape == (1, 3, 4, 5)
    with pytest.raises(OpError, match=r"but got shapes \[32\], \[32\], and \[32\] instead"):
        static("StridedSlice", ssargs((4, 5), [0] * 32, [0] * 32, [1] * 32))
    # int16 indices are accepted by StridedSlice (only)
    got = run("StridedSlice", {"input": x, "begin": np.int16([1]), "end": np.int16([3]),
                               "strides": np.int16([1])})
    assert got.shape == (2, 4, 5)


def test_strided_slice_rank_above_8():
    # TF handles rank > 8 only as an identity or a dim-0 slice whose rows are 64-byte aligned
    x = np.zeros((4, 16) + (1,) * 7, np.float32)
    assert run("StridedSlice", {"input": x, "begin": np.int32([1]), "end": np.int32([3]),
                                "strides": np.int32([1])}).shape == (2, 16) + (1,) * 7
    with pytest.raises(OpError, match="Unhandled input dimensions 9"):
        run("StridedSlice", {"input": np.zeros((4, 8) + (1,) * 7, np.float32), "begin": np.int32([1]),
                             "end": np.int32([3]), "strides": np.int32([1])})
    assert run("StridedSlice", {"input": x, "begin": np.int32([1]), "end": np.int32([1]),
                                "strides": np.int32([2])}).shape == (0, 16) + (1,) * 7


def test_strided_slice_static_shapes_partial_knowledge():
    # begin/end unknown: shrink dims known (dropped), masked dims known, the rest unknown
    a = ssargs((4, 5, 6), [0, 0, 0], [0, 0, 0], [1, 1, 2], known=(False, False))
    assert shape_of("StridedSlice", a, begin_mask=2, end_mask=2, shrink_axis_mask=1) == (5, None)
    assert shape_of("StridedSlice", a, begin_mask=6, end_mask=6, new_axis_mask=0) == (None, 5, 3)
    # begin known, end unknown: still unknown extents (no clamping possible)
    a = ssargs((4, 5), [1, 2], [0, 0], [1, 1], known=(True, False))
    assert shape_of("StridedSlice", a) == (None, None)
    # unknown input dims
    a = ssargs((None, 5), [1, 2], [3, 4], [1, 1])
    assert shape_of("StridedSlice", a) == (None, 2)
    assert shape_of("StridedSlice", a, shrink_axis_mask=1) == (2,)
    # strides or input rank unknown: unknown shape
    a = ssargs((4, 5), [1], [3], [1])
    a["strides"] = (I32, (1,))
    assert shape_of("StridedSlice", a) is None
    assert shape_of("StridedSlice", dict(ssargs((4, 5), [1], [3], [1]), input=(F32, None))) is None


def test_strided_slice_static_errors_only_when_certain():
    # dim 0 unknown with a shrink index: it may fail first at run time -> no static error
    a = ssargs((None, 5), [7, 0], [8, 1], [1, 0])
    assert shape_of("StridedSlice", a, shrink_axis_mask=1) is None
    with pytest.raises(OpError, match=r"strides\[1\] must be non-zero"):
        static("StridedSlice", ssargs((4, 5), [1, 0], [2, 1], [1, 0]), shrink_axis_mask=1)
    # a shrink with a negative stride fails whatever the (unknown) dim
    with pytest.raises(OpError, match="only stride 1 allowed on non-range indexing."):
        static("StridedSlice", ssargs((None, 5), [1], [2], [-1]), shrink_axis_mask=1)
    # spec longer than the rank: a static error whatever the values
    with pytest.raises(OpError, match="Index out of range using input dim 2; input has only 2 dims"):
        static("StridedSlice", ssargs((None, None), [0, 0, 0], [1, 1, 1], [1, 1, 1], known=(False, False)))
    # begin/end/strides shapes partly unknown: left to the run (TF's text prints them)
    a = ssargs((4, 5), [0, 0], [1], [1, 1], known=(False, False))
    a["end"] = (I32, (None,))
    assert shape_of("StridedSlice", a) == (None, None)


def test_strided_slice_passes_known_values_on():
    a = ssargs((3,), [-1], [0], [1])
    a["input"] = (I32, (3,), np.int32([7, 8, 9]))
    out = static("StridedSlice", a, shrink_axis_mask=1)[0]
    assert out.shape == () and int(out.value) == 9
    page = {"format": 1, "page": "fold", "blocks": {
        "x": {"op": "Const", "attrs": {"value": [2, 6], "dtype": "int32"}},
        "n": {"op": "StridedSlice", "inputs": {"input": "x", "begin": [1], "end": [2], "strides": [1]},
              "attrs": {"shrink_axis_mask": 1}},
        "s": {"op": "Pack", "inputs": {"values": ["n", "n"]}},
        "c": {"op": "ConcatV2", "inputs": {"values": ["x", "s"], "axis": 0}}}}
    p = blockgraph.load_page("fold.yaml", text=yaml.safe_dump(page))
    assert not p.diagnostics
    assert p.scope.blocks["c"].specs[0].value.tolist() == [2, 6, 6, 6]
    assert run("ConcatV2", {"values": [np.int32([2, 6]), np.int32([6, 6])], "axis": np.int32(0)}).tolist() == \
        [2, 6, 6, 6]


def test_strided_slice_grad():
    got = run("StridedSliceGrad", {"shape": np.int64([2, 3]), "begin": np.int64([1, -1]),
                                   "end": np.int64([0, 0]), "strides": np.int64([1, -2]),
                                   "dy": np.array([[b"a", b"b"]], object)}, end_mask=3)
    assert got.tolist() == [[b"", b"", b""], [b"b", b"", b"a"]]
    # output shape from the known `shape` value; dy checked statically once everything is known
    g = {"shape": (I32, (2,), [4, 5]), "begin": (I32, (1,), [1]), "end": (I32, (1,), [3]),
         "strides": (I32, (1,), [1]), "dy": (F32, (2, 5))}
    assert shape_of("StridedSliceGrad", g) == (4, 5)
    with pytest.raises(OpError, match=r"shape of dy was \[3,5\] instead of \[2,5\]"):
        static("StridedSliceGrad", dict(g, dy=(F32, (3, 5))))
    assert shape_of("StridedSliceGrad", dict(g, shape=(I32, (3,)))) == (None, None, None)
    with pytest.raises(OpError, match="Dimension -1 must be >= 0"):
        static("StridedSliceGrad", dict(g, shape=(I32, (2,), [-1, 5])))


def test_tensor_strided_slice_update_broadcasts_like_tf():
    # leading 1s beyond the slice's rank are allowed (numpy's assignment rule)
    got = run("TensorStridedSliceUpdate", {"input": np.zeros((3, 4), np.int32), "begin": np.int32([1]),
                                           "end": np.int32([0]), "strides": np.int32([2]),
                                           "value": np.int32([[[1, 2, 3, 4]]])}, end_mask=1)
    assert got.tolist() == [[0, 0, 0, 0], [1, 2, 3, 4], [0, 0, 0, 0]]
    u = {"input": (F32, (3, 4)), "begin": (I32, (2,), [0, 0]), "end": (I32, (2,), [2, 2]),
         "strides": (I32, (2,), [1, 1])}
    with pytest.raises(OpError, match=r"Cannot broadcast input shape \[2,2,2\] into final shape \[2,2\]"):
        static("TensorStridedSliceUpdate", dict(u, value=(F32, (2, 2, 2))))
    # an empty slice takes any value (TF checks nothing then)
    empty = dict(u, end=(I32, (2,), [0, 2]))
    assert shape_of("TensorStridedSliceUpdate", dict(empty, value=(F32, (3, 5)))) == (3, 4)
    with pytest.raises(OpError, match="Unsupported data type: qint8"):
        static("TensorStridedSliceUpdate", dict(u, input=("qint8", (3, 4)), value=("qint8", (2, 2))))


# ----------------------------------------------------------------- Slice

def test_slice_static_and_rank_limits():
    assert shape_of("Slice", {"input": (F32, (None, 5)), "begin": (I32, (2,), [1, 1]),
                              "size": (I32, (2,), [2, -1])}) == (2, 4)
    assert shape_of("Slice", {"input": (F32, (4, 5)), "begin": (I32, (2,)),
                              "size": (I32, (2,), [2, -1])}) == (2, None)
    assert shape_of("Slice", {"input": (F32, (4, 5)), "begin": (I32, (2,), [0, 0]),
                              "size": (I32, (2,))}) == (None, None)
    # dim 0 unknown: an error on dim 1 is not certain to be TF's first
    assert shape_of("Slice", {"input": (F32, (None, 5)), "begin": (I32, (2,), [0, 9]),
                              "size": (I32, (2,), [1, 1])}) == (1, 1)
    with pytest.raises(OpError, match=r"Expected begin\[1\] in \[0, 5\], but got 9"):
        static("Slice", {"input": (F32, (4, 5)), "begin": (I32, (2,), [0, 9]), "size": (I32, (2,), [1, 1])})
    x = np.zeros((2,) * 9, np.float32)
    with pytest.raises(OpError, match="SliceOp : Unhandled input dimensions"):
        run("Slice", {"input": x, "begin": np.int32([0] * 9), "size": np.int32([1] * 9)})
    assert run("Slice", {"input": x, "begin": np.int32([1] + [0] * 8),
                         "size": np.int32([1] + [-1] * 8)}).shape == (1,) + (2,) * 8


# ----------------------------------------------------------------- Split / SplitV

def test_split_static():
    assert shape_of("Split", {"axis": (I32, (), -1), "value": (F32, (None, 6))}, num_split=3) == \
        [(None, 2)] * 3
    assert shape_of("Split", {"axis": (I32, ()), "value": (F32, (4, 6))}, num_split=2) == [(None, None)] * 2
    assert shape_of("Split", {"axis": (I32, ()), "value": (F32, None)}, num_split=2) == [None, None]
    with pytest.raises(OpError, match="split_dim must be a scalar but has rank 1"):
        static("Split", {"axis": (I32, (1,)), "value": (F32, (4, 6))}, num_split=2)


def test_split_v_static_and_int8_sizes():
    v = {"value": (F32, (None, 6)), "size_splits": (I64, (3,), [1, -1, 2]), "axis": (I32, (), 1)}
    assert shape_of("SplitV", v, num_split=3) == [(None, 1), (None, 3), (None, 2)]
    v["value"] = (F32, (4, None))
    assert shape_of("SplitV", v, num_split=3) == [(4, 1), (4, None), (4, 2)]
    with pytest.raises(OpError, match="There can only be one -1 in the input."):
        static("SplitV", dict(v, size_splits=(I64, (3,), [-1, -1, 2])), num_split=3)
    got = run("SplitV", {"value": np.arange(6, dtype=np.float32), "size_splits": np.int8([-1, 2]),
                         "axis": np.int32(0)}, num_split=2)
    assert [a.tolist() for a in got] == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0]]
    # a one-element axis vector is accepted by SplitV (not by Split)
    got = run("SplitV", {"value": np.arange(4, dtype=np.float32), "size_splits": np.int32([4]),
                         "axis": np.int32([0])}, num_split=1)
    assert got[0].tolist() == [0, 1, 2, 3]


# ----------------------------------------------------------------- Concat / Pack / Unpack

def test_concat_static_and_error_order():
    v = [(F32, (2, None)), (F32, (None, 3))]
    assert shape_of("ConcatV2", {"values": v, "axis": (I32, (), 0)}) == (None, 3)
    assert shape_of("ConcatV2", {"values": v, "axis": (I32, ())}) == (None, None)
    assert shape_of("ConcatV2", {"values": [(F32, (2, 3)), (F32, (4, 3))], "axis": (I64, (), -2)}) == (6, 3)
    # axis unknown: a rank mismatch may still be reported as a range error by TF -> run time
    assert shape_of("ConcatV2", {"values": [(F32, (2, 3)), (F32, (3,))], "axis": (I32, ())}) is None
    # TF checks, per input in order: scalar, rank, dims; the axis range before all
    with pytest.raises(OpError, match=r"range \[0, 0\), but got -1"):
        run("ConcatV2", {"values": [np.float32(1), np.float32(2)], "axis": np.int32(-1)})
    with pytest.raises(OpError, match="Can't concatenate scalars"):
        run("ConcatV2", {"values": [np.zeros((2, 2), np.float32), np.float32(1), np.zeros(3, np.float32)],
                         "axis": np.int32(0)})
    with pytest.raises(OpError, match=r"Ranks of all input tensors should match: shape\[0\] = \[2,2\] vs. "
                                      r"shape\[1\] = \[3\]"):
        run("ConcatV2", {"values": [np.zeros((2, 2), np.float32), np.zeros(3, np.float32), np.float32(1)],
                         "axis": np.int32(0)})
    with pytest.raises(OpError, match="concat_dim tensor should be a scalar integer, but got shape"):
        run("Concat", {"concat_dim": np.int32([0, 1]), "values": [np.zeros(2, np.float32)] * 2})
    assert run("Concat", {"concat_dim": np.int32([0]), "values": [np.zeros(2, np.float32)] * 2}).shape == (4,)


def test_pack_unpack_static_and_num_zero():
    assert shape_of("Pack", {"values": [(F32, (None, 3)), (F32, (2, None))]}, axis=-1) == (2, 3, 2)
    assert shape_of("Unpack", {"value": (F32, (None, 3))}, num=2, axis=0) == [(3,), (3,)]
    # num=0: TF runs no check at all
    assert run("Unpack", {"value": np.zeros((3, 2), np.float32)}, num=0, axis=7) == []
    assert shape_of("Unpack", {"value": (F32, (3, 2))}, num=0, axis=0) == []
    with pytest.raises(OpError, match=r"Input shape axis 1 must equal 5, got shape \[3,4\]"):
        run("Unpack", {"value": np.zeros((3, 4), np.float32)}, num=5, axis=-1)


def test_parallel_concat_checks():
    one = np.zeros((1, 2), np.float32)
    with pytest.raises(OpError, match="0th dimension of value = 2 must be greater than loc_ = 2"):
        run("ParallelConcat", {"values": [one] * 3}, shape=[2, 2])
    with pytest.raises(OpError, match=r"value and update shape doesn't match \[2,3\] vs. \[1,2\]"):
        run("ParallelConcat", {"values": [one] * 2}, shape=[2, 3])
    with pytest.raises(OpError, match=r"Shape \[\?,2\] is not fully defined"):
        static("ParallelConcat", {"values": [(F32, (1, 2))]}, shape=[None, 2])
    with pytest.raises(OpError, match="value should be at least rank 1."):
        static("ParallelConcat", {"values": [(F32, ())]}, shape=None)
    got = run("ParallelConcat", {"values": [np.array([[b"a"]]), np.array([[b"b"]])]}, shape=[2, 1])
    assert got.tolist() == [[b"a"], [b"b"]]


# ----------------------------------------------------------------- Reverse

def test_reverse_v2_skips_checks_on_scalars_and_empty():
    assert run("ReverseV2", {"tensor": np.float32(1), "axis": np.int32([[7]])}) == 1
    assert run("ReverseV2", {"tensor": np.zeros((0, 3), np.float32), "axis": np.int32([7, 7])}).shape == (0, 3)
    assert shape_of("ReverseV2", {"tensor": (F32, (None, 3)), "axis": (I32, (1,), [5])}) == (None, 3)
    with pytest.raises(OpError, match="reverse is not implemented for tensors of rank > 8."):
        run("ReverseV2", {"tensor": np.zeros((1,) * 9, np.float32), "axis": np.int32([])})
    with pytest.raises(OpError, match="axis 2 specified more than once."):
        run("ReverseV2", {"tensor": np.zeros((2, 2, 2), np.float32), "axis": np.int32([1, 2, -1])})


def test_reverse_sequence():
    got = run("ReverseSequence", {"input": np.arange(24, dtype=np.int64).reshape(2, 3, 4),
                                  "seq_lengths": np.int64([3, 0, 2])}, seq_dim=2, batch_dim=1)
    assert got.tolist() == [[[2, 1, 0, 3], [4, 5, 6, 7], [9, 8, 10, 11]],
                            [[14, 13, 12, 15], [16, 17, 18, 19], [21, 20, 22, 23]]]
    with pytest.raises(OpError, match="ReverseSequenceOp : Unhandled input dimensions: 6"):
        run("ReverseSequence", {"input": np.zeros((2, 1, 1, 1, 1, 3), np.float32),
                                "seq_lengths": np.int32([1, 2])}, seq_dim=5)
    with pytest.raises(OpError, match="Invalid batch_dim -1"):
        static("ReverseSequence", {"input": (F32, (3, 4)), "seq_lengths": (I32, (4,))},
               seq_dim=0, batch_dim=-1)
    # batch size unknown: the length check cannot be done, later checks are not certain
    assert shape_of("ReverseSequence", {"input": (F32, (None, 4)), "seq_lengths": (I32, (3,), [9, 9, 9])},
                    seq_dim=1) == (None, 4)


# ----------------------------------------------------------------- Pad family

def test_pad_static_and_limits():
    p = {"input": (F32, (None, 3)), "paddings": (I32, (2, 2), [[1, 2], [0, 1]])}
    assert shape_of("Pad", p) == (None, 4)
    assert shape_of("Pad", dict(p, paddings=(I32, (2, 2)))) == (None, None)
    assert shape_of("MirrorPad", dict(p, paddings=(I32, (2, 2), [[0, 0], [3, 0]])), mode="REFLECT") is not None
    # dim 0 unknown: dim 1's REFLECT error is not certain to be TF's first
    assert shape_of("MirrorPad", dict(p, paddings=(I32, (2, 2), [[9, 0], [3, 0]])), mode="REFLECT") == \
        (None, 6)
    with pytest.raises(OpError, match=r"inputs rank not in \[0,8\]: 9"):
        static("Pad", {"input": (F32, (1,) * 9), "paddings": (I32, (9, 2))})
    with pytest.raises(OpError, match=r"inputs rank not in \[0,5\]: 6"):
        static("MirrorPad", {"input": (F32, (2,) * 6), "paddings": (I32, (6, 2))}, mode="SYMMETRIC")
    assert run("Pad", {"input": np.array([b"a"]), "paddings": np.int32([[1, 0]])}).tolist() == [b"", b"a"]
    got = run("MirrorPad", {"input": np.array([True, False, False]), "paddings": np.int32([[3, 2]])},
              mode="SYMMETRIC")
    assert got.tolist() == [False, False, True, True, False, False, False, False]
    with pytest.raises(OpError, match=r"constant_values must be a scalar. Found: \[1\]"):
        run("PadV2", {"input": np.zeros(2, np.float32), "paddings": np.int32([[1, 1]]),
                      "constant_values": np.float32([3])})
