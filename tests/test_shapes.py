"""Shape/structure ops (blocks/shapes.py, broadcasting.py, transpose.py), pass-throughs
(blocks/identities.py) and casts (blocks/casts.py, blocks/kernels/casts.py): what the TF fixtures
do not pin down -- static shapes with partially known inputs, errors raised statically only when
TF's text is certain, known values passed on, ImmutableConst files, and TF 2.21 behaviours
checked with TF (pasted as literals): Cast's SIMD paths on long vectors, FTZ corner cases, the
Truncate bug for float64 -> complex64."""
import ml_dtypes
import numpy as np
import pytest
import yaml

import blockgraph
from blockgraph.core.errors import OpError
from blocks.kernels import casts as kc
from op_helpers import run, shape_of, static, value_of  # noqa: F401

I32, I64, F32 = "int32", "int64", "float32"


def raises(msg, fn, *args, **kw):
    with pytest.raises(OpError) as e:
        fn(*args, **kw)
    assert msg in e.value.message, e.value.message


# ----------------------------------------------------------------------------- static shapes

def test_reshape_static():
    t = (F32, (None, 3))
    assert shape_of("Reshape", {"tensor": t, "shape": (I32, (2,), [-1, 6])}) == (None, 6)
    assert shape_of("Reshape", {"tensor": t, "shape": (I32, (3,))}) == (None, None, None)
    assert shape_of("Reshape", {"tensor": t, "shape": (I32, ())}) == (None,)   # legacy scalar shape
    assert shape_of("Reshape", {"tensor": (F32, (4, 3)), "shape": (I32, (2,), [-1, 6])}) == (2, 6)
    assert shape_of("Reshape", {"tensor": (F32, (0, 3)), "shape": (I32, (3,), [0, -1, 2])}) == (0, 1, 2)
    # value checks fire before the run, even with the tensor's shape unknown
    raises("Only one input size may be -1, not both 0 and 1", static, "Reshape",
           {"tensor": t, "shape": (I32, (2,), [-1, -1])})
    raises("Size 1 must be non-negative, not -2", static, "Reshape",
           {"tensor": t, "shape": (I32, (2,), [-1, -2])})
    raises("Shape [1099511627776, 1099511627776] has too many elements", static, "Reshape",
           {"tensor": t, "shape": (I64, (2,), [2 ** 40, 2 ** 40])})
    raises("sizes input must be 1-D, not [1,2]", static, "Reshape",
           {"tensor": t, "shape": (I32, (1, 2))})
    raises("requested shape has 0", static, "Reshape",
           {"tensor": (F32, (2, 3)), "shape": (I32, (2,), [0, -1])})


def test_expand_dims_and_squeeze_static():
    assert shape_of("ExpandDims", {"input": (F32, (None, 3)), "axis": (I32, ())}) == (None,) * 3
    assert shape_of("ExpandDims", {"input": (F32, (None, 3)), "axis": (I64, (), -1)}) == (None, 3, 1)
    assert shape_of("ExpandDims", {"input": (F32, None), "axis": (I32, (), 0)}) is None
    raises("'dim' must be a tensor with a single value", static, "ExpandDims",
           {"input": (F32, (2,)), "axis": (I32, (0,))})
    assert shape_of("Squeeze", {"input": (F32, (None, 1, 3))}, axis=[0]) == (1, 3)
    assert shape_of("Squeeze", {"input": (F32, (None, 1, 3))}) is None      # a ? may be 1
    assert shape_of("Squeeze", {"input": (F32, (2, 1, 3))}) == (2, 3)
    # dim 0 is checked first; it may fail at run time with its own message: no early error
    assert shape_of("Squeeze", {"input": (F32, (None, 3))}, axis=[0, 1]) is None
    raises("Can not squeeze dim[1], expected a dimension of 1, got 3", static, "Squeeze",
           {"input": (F32, (1, 3))}, axis=[0, 1])
    # TF keeps axis in an unordered_set: the last listed bad index is reported
    raises("Tried to squeeze dim index 6 for tensor with 3 dimensions.", run, "Squeeze",
           {"input": np.zeros((1, 2, 1))}, axis=[5, 6])


def test_shape_size_rank_values():
    assert value_of("Shape", {"input": (F32, (2, 0, 3))}, out_type=I64) == [2, 0, 3]
    assert static("Shape", {"input": (F32, (2, 0, 3))}, out_type=I64)[0].dtype == I64
    s = static("Shape", {"input": (F32, (None, 3))})[0]
    assert s.shape == (2,) and s.value is None
    assert shape_of("Shape", {"input": (F32, None)}) == (None,)
    assert value_of("Size", {"input": (F32, (None, 0))}) == 0
    assert value_of("Size", {"input": (F32, (None, 2))}) is None
    assert value_of("Rank", {"input": (F32, (None, None))}) == 2
    assert value_of("ShapeN", {"input": [(F32, (2,)), (F32, ())]}) == [[2], []]
    raises("Shape output type is 32-bit  but dim 1 is 2147483648", static, "Shape",
           {"input": (F32, (0, 2 ** 31))})
    raises("ShapeN output type is 32-bit but shape 1 dim 1 is 2147483648", static, "ShapeN",
           {"input": [(F32, (1,)), (F32, (0, 2 ** 31))]})
    assert value_of("Shape", {"input": (F32, (0, 2 ** 31))}, out_type=I64) == [0, 2 ** 31]


def test_broadcast_static():
    assert value_of("BroadcastArgs", {"s0": (I64, (3,), [2, 1, 3]), "s1": (I64, (2,), [4, 1])}) == [2, 4, 3]
    assert shape_of("BroadcastArgs", {"s0": (I32, (3,)), "s1": (I32, (2,), [4, 1])}) == (3,)
    assert run("BroadcastArgs", {"s0": np.array([-1], np.int32), "s1": np.array([1], np.int32)}).tolist() == [-1]
    raises("In[1] must be a vector.[1,1]", static, "BroadcastArgs",
           {"s0": (I32, (1,)), "s1": (I32, (1, 1))})
    assert shape_of("BroadcastTo", {"input": (F32, (None, 1)), "shape": (I32, (2,), [5, 4])}) == (5, 4)
    assert shape_of("BroadcastTo", {"input": (F32, (3,)), "shape": (I32, (2,))}) == (None, None)
    raises("Unable to broadcast tensor of shape [2] to tensor of shape [1]", static, "BroadcastTo",
           {"input": (F32, (2,)), "shape": (I32, (1,), [1])})
    raises("shape must be a vector of {int32,int64}, got shape []", static, "BroadcastTo",
           {"input": (F32, ()), "shape": (I32, ())})
    raises("Shape [1099511627776,1099511627776,?] would have more than 2**63 - 1 elements", static,
           "Fill", {"dims": (I64, (3,), [2 ** 40, 2 ** 40, -1]), "value": (F32, ())})


def test_fill_transpose_tile_static():
    assert shape_of("Fill", {"dims": (I32, (2,)), "value": (F32, ())}) == (None, None)
    assert shape_of("Fill", {"dims": (I32, (2,), [2, 3]), "value": (F32, (1,))}) == (2, 3)
    assert run("Fill", {"dims": np.array(2, np.int32), "value": np.array([3.0], np.float32)}).tolist() == [3, 3]
    assert shape_of("Transpose", {"x": (F32, (2, None, 4)), "perm": (I32, (3,), [2, 0, 1])}) == (4, 2, None)
    assert shape_of("Transpose", {"x": (F32, None), "perm": (I32, (3,))}) == (None,) * 3
    raises("transpose expects a vector of size 2. But input(1) is a vector of size 3", static,
           "Transpose", {"x": (F32, (2, 3)), "perm": (I32, (3,))})
    raises("-1 is out of range [0 .. 2)", static, "Transpose",
           {"x": (F32, (2, 3)), "perm": (I32, (2,), [-3, 0])})
    raises("0 is missing from {1,1}.", static, "Transpose",
           {"x": (F32, (2, 3)), "perm": (I32, (2,), [-1, 1])})
    assert run("Transpose", {"x": np.arange(6).reshape(2, 3), "perm": np.array([2 ** 32 + 1, 0])}).shape == (3, 2)
    assert shape_of("Tile", {"input": (F32, (None, 3)), "multiples": (I32, (2,), [2, 2])}) == (None, 6)
    assert shape_of("Tile", {"input": (F32, ()), "multiples": (I32, (0,))}) == ()
    raises("Expected a non-negative size, got -9223372036854775808", static, "Tile",
           {"input": (F32, (2,)), "multiples": (I64, (1,), [2 ** 62])})
    raises("Encountered overflow when multiplying 6442450944 with 6442450944, result: -1", static,
           "Tile", {"input": (F32, (3, 3)), "multiples": (I64, (2,), [2 ** 31, 2 ** 31])})
    raises("1 is duplicated in the input.", static, "InvertPermutation", {"x": (I32, (3,), [1, 1, 5])})
    raises("5 is not between 0 and 3", static, "InvertPermutation", {"x": (I32, (3,), [1, 5, 1])})
    assert run("InvertPermutation", {"x": np.array([2, 0, 1], np.int64)}).tolist() == [1, 2, 0]


# ----------------------------------------------------------------------------- identities

def test_identities_pass_values():
    assert value_of("StopGradient", {"input": (I32, (2,), [4, 5])}) == [4, 5]
    assert value_of("IdentityN", {"input": [(I32, (1,), [7]), (F32, (2,))]}) == [[7], None]
    outs = run("IdentityN", {"input": [np.array([1], np.int8), np.array(b"s", dtype=object)]})
    assert [o.dtype for o in outs] == [np.int8, object]
    raises("Could not find device for node: {{node Snapshot}} = Snapshot[T=DT_STRING]", static,
           "Snapshot", {"input": ("string", (2,))})
    assert run("ZerosLike", {"x": np.array([b"ab"], dtype=object)}).tolist() == [b""]


def _page(blocks, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"format": 1, "page": "p", "blocks": blocks}, sort_keys=False))
    return blockgraph.load_page(str(path))


def test_immutable_const(tmp_path):
    np.save(tmp_path / "w.npy", np.arange(6, dtype=np.float32).reshape(2, 3))
    np.save(tmp_path / "b.npy", np.array([0x3F80, 0x7FC0], np.uint16))
    ok = {"op": "ImmutableConst",
          "attrs": {"dtype": "float32", "shape": [2, 3], "memory_region_name": "w.npy"}}
    bf = {"op": "ImmutableConst",
          "attrs": {"dtype": "bfloat16", "shape": [2], "memory_region_name": "b.npy"}}
    r_ = {"op": "Reshape", "inputs": {"tensor": "w", "shape": [-1]}}
    p = _page({"w": ok, "b": bf, "r": r_}, tmp_path)
    assert not p.diagnostics, [d.format() for d in p.diagnostics]
    assert p.scope.blocks["r"].specs[0].shape == (6,)
    r = p.run()
    assert r.block("r").outputs["output"].tolist() == list(range(6))
    assert r.block("b").dtypes["tensor"] == "bfloat16"
    assert r.block("b").outputs["tensor"].view(np.uint16).tolist() == [0x3F80, 0x7FC0]
    bad_dtype = {**ok, "attrs": {**ok["attrs"], "dtype": "int32"}}
    bad_shape = {**ok, "attrs": {**ok["attrs"], "shape": [3, 2]}}
    missing = {**ok, "attrs": {**ok["attrs"], "memory_region_name": "nope.npy"}}
    for blk, msg in ((bad_dtype, "holds float32, attr dtype is int32"),
                     (bad_shape, "has shape [2,3], attr shape is [3,2]"),
                     (missing, "not found")):
        p = _page({"w": blk}, tmp_path)
        assert any(msg in d.message for d in p.diagnostics), [d.message for d in p.diagnostics]


# ----------------------------------------------------------------------------- Bitcast, CheckNumerics

def test_bitcast_shapes():
    assert shape_of("Bitcast", {"input": (F32, (None, 3))}, type="uint8") == (None, 3, 4)
    assert shape_of("Bitcast", {"input": ("uint8", (2, None))}, type="float32") == (2,)
    assert shape_of("Bitcast", {"input": ("uint8", None)}, type="float32") is None
    raises("Cannot bitcast from 6 to 1", static, "Bitcast", {"input": ("int8", (0,))}, type="float32")
    raises("Cannot bitcast from 1 to 2", static, "Bitcast", {"input": (F32, ())}, type="float64")
    assert run("Bitcast", {"input": np.array(1.0, np.float32)}, type="uint8").tolist() == [0, 0, 128, 63]
    assert run("Bitcast", {"input": np.zeros((0, 4), np.int8)}, type="float32").shape == (0,)
    out = run("Bitcast", {"input": np.array([1 + 2j], np.complex64)}, type="float32")
    assert out.tolist() == [[1.0, 2.0]]


def test_check_numerics():
    x = np.array([1e-40, -0.0], np.float32)
    assert run("CheckNumerics", {"tensor": x}, message="m") is not None
    raises("m : Tensor had Inf and NaN values", run, "CheckNumerics",
           {"tensor": np.array([np.nan, -np.inf], ml_dtypes.bfloat16)}, message="m")


# ----------------------------------------------------------------------------- Cast (TF 2.21 values)

def _bits(a):
    a = np.asarray(a)
    return a.view(f"u{a.dtype.itemsize}").tolist()


def test_cast_simd_paths():
    # float32 -> uint8 runs 32 lanes at a time (saturating), the tail of 8 one by one (wrapping)
    assert kc.cast(np.full(40, -1.5, np.float32), F32, "uint8").tolist() == [0] * 32 + [255] * 8
    assert kc.cast(np.full(17, 65504.0), "float64", "uint8").tolist() == [0] * 16 + [224]
    nan = np.full(9, np.uint32(0xFFC00000)).view(np.float32)
    assert _bits(kc.cast(nan, F32, "bfloat16")) == [0x7FC0] * 8 + [0xFFC0]
    assert _bits(kc.cast(nan, F32, "bfloat16", truncate=True)) == [0xFFC0] * 9
    assert kc.cast(np.full(9, np.nan, np.float32), F32, "uint32").tolist() == [2 ** 31] * 8 + [0]
    assert kc.cast(np.full(9, 3e9, np.float32), F32, "uint32").tolist() == [3000000000] * 9
    bf = np.full(9, 300.0, np.float32).astype(ml_dtypes.bfloat16)
    assert kc.cast(bf, "bfloat16", "int8").tolist() == [127] * 8 + [44]
    # big tensors: Eigen's parallelFor blocks (2 threads), each block has its own scalar tail
    assert kc.parallel_ranges(100001, 9 * 11 / 64 + 1, 2)[:2] == [(0, 16667), (16667, 33334)]
    mask = kc._simd_mask(100001, "float64", "uint8")
    assert not mask[16656:16667].any() and mask[16667:16667 + 16].all()


def test_cast_scalar_corner_cases():
    tiny = 2.0 ** -126
    x = np.array([tiny * (1 - 2 ** -24), tiny * (1 - 2 ** -25), -1e-310])
    assert _bits(kc.cast(x, "float64", F32)) == [0, 0x00800000, 0x80000000]   # FTZ after rounding
    assert _bits(kc.cast(np.array([1e-40], np.float32), F32, "float64")) == [0]  # DAZ
    assert _bits(kc.cast(np.array([1e-40], np.float32), F32, "bfloat16")) == [1]  # bit ops keep it
    h = np.array([0x7C01], np.uint16).view(np.float16)
    assert _bits(kc.cast(h, "float16", F32)) == [0x7FC02000]                  # F16C quiets sNaN
    f = np.array([0x7F800001, 0x7FA00000], np.uint32).view(np.float32)
    assert _bits(kc.cast(f, F32, "float16")) == [0x7E00, 0x7F00]
    assert kc.cast(np.array([1j, 2 + 0j], np.complex64), "complex64", "bool").tolist() == [False, True]
    assert kc.cast(np.array([1 + 2 ** -11 + 2 ** -40]), "float64", "float16").tolist() == [1.0]
    assert kc.cast(np.array([1.5, -2.5]), "float64", "complex64", truncate=True).tolist() == [0.5, -2]
    assert kc.cast(np.array([-1.5, 1e19, np.nan, -np.inf], np.float32), F32, "uint64").tolist() == [
        2 ** 64 - 1, 9999999980506447872, 2 ** 63, 2 ** 63]
    assert kc.cast(np.array([1, 2], np.int8), "qint8", F32).tolist() == [1.0, 2.0]


def test_cast_static_value_and_page(tmp_path):
    assert value_of("Cast", {"x": (I64, (2,), [3, 4])}, DstT="int32") == [3, 4]
    p = _page({"x": {"op": "Placeholder", "attrs": {"dtype": "float32", "shape": [2, 3]}},
               "s": {"op": "Shape", "inputs": {"input": "x"}, "attrs": {"out_type": "int64"}},
               "c": {"op": "Cast", "inputs": {"x": "s"}, "attrs": {"DstT": "int32"}},
               "r": {"op": "Reshape", "inputs": {"tensor": "x", "shape": "c"}}}, tmp_path)
    assert not p.diagnostics
    assert p.scope.blocks["r"].specs[0].shape == (2, 3)
