"""TensorFlow fixtures for array ops, part A (dev-only: needs tensorflow-cpu).

Builds the fixture set `array_ops_a` (see fixture_lib.py for the format): shape/identity ops,
reshape/squeeze/expand, concat/stack/split, slice/strided slice (+grad, +update), pad/mirror pad,
tile/transpose/reverse, broadcast, fill/zeros/ones, space<->batch/depth and image patches.

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_array_ops_a.py     # -> tests/fixtures/array_ops_a

Set FIXTURE_TRACE=1 to print every case id before TF runs it (to find a case that crashes TF).

Cases deliberately left out because TF misbehaves on them (not an error TF reports):
  * ParallelConcat whose `shape` attr disagrees with the stacked inputs (e.g. shape [3, 2] for two
    [1, 2] pieces): TF returns a tensor of the attr's shape whose extra rows are uninitialized memory.
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from fixture_lib import FixtureSet  # noqa: E402

SET_NAME = "array_ops_a"
TRACE = bool(os.environ.get("FIXTURE_TRACE"))

FAMILY = {
    "BatchToSpace": "space_batch", "BatchToSpaceND": "space_batch",
    "SpaceToBatch": "space_batch", "SpaceToBatchND": "space_batch",
    "DepthToSpace": "depth_space", "SpaceToDepth": "depth_space",
    "BroadcastArgs": "broadcast", "BroadcastTo": "broadcast",
    "Concat": "concat", "ConcatV2": "concat", "ParallelConcat": "concat",
    "ExpandDims": "reshape", "Reshape": "reshape", "Squeeze": "reshape",
    "ExtractImagePatches": "image_patches",
    "Fill": "fill", "OnesLike": "fill", "ZerosLike": "fill",
    "Identity": "identity", "IdentityN": "identity", "PlaceholderWithDefault": "identity",
    "StopGradient": "identity", "PreventGradient": "identity", "DebugGradientIdentity": "identity",
    "Snapshot": "identity",
    "MirrorPad": "pad", "Pad": "pad", "PadV2": "pad",
    "Pack": "stack", "Unpack": "stack",
    "Rank": "shape", "Shape": "shape", "ShapeN": "shape", "Size": "shape",
    "ReverseSequence": "reverse", "ReverseV2": "reverse",
    "Slice": "slice", "StridedSlice": "strided_slice", "StridedSliceGrad": "strided_slice",
    "TensorStridedSliceUpdate": "strided_slice",
    "Split": "split", "SplitV": "split",
    "Tile": "tile", "Transpose": "transpose",
}

MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


# ----------------------------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------------------------
class Data:
    """Deterministic small tensors with distinct values (so permutation bugs show)."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def __call__(self, shape, dtype="float32"):
        shape = tuple(int(s) for s in shape)
        n = int(np.prod(shape, dtype=np.int64))
        perm = self.rng.permutation(n)
        if dtype in ("float16", "float32", "float64", "bfloat16"):
            a = ((perm - n // 2) * 0.25).astype(np.float32)        # exact in every float type
            if dtype == "bfloat16":
                return (a.view(np.uint32) >> 16).astype(np.uint16).reshape(shape)
            return a.astype(dtype).reshape(shape)
        if dtype in ("complex64", "complex128"):
            a = (perm - n // 2) * 0.5 + 1j * ((perm * 7) % 11 - 5)
            return a.astype(dtype).reshape(shape)
        if dtype == "bool":
            return (self.rng.random(n) < 0.5).reshape(shape)
        if dtype == "string":
            return np.array([b"s%d" % v + b"x" * int(v % 3) for v in perm], dtype=np.bytes_).reshape(shape)
        info = np.iinfo(dtype)
        if info.min == 0:
            a = perm % (int(info.max) + 1)
        else:
            a = perm - n // 2
            a = np.clip(a, info.min, info.max)
        return a.astype(dtype).reshape(shape)


D = Data(20240611)


def i32(x):
    return np.asarray(x, dtype=np.int32)


def i64(x):
    return np.asarray(x, dtype=np.int64)


def tfd_for(dtype, *ports):
    return {p: "bfloat16" for p in ports} if dtype == "bfloat16" else None


# ----------------------------------------------------------------------------------------------
# builder
# ----------------------------------------------------------------------------------------------
class Builder:
    def __init__(self, fs: FixtureSet):
        self.fs = fs
        self.surprises: list[str] = []

    def _run(self, op, inputs, attrs, note, tfd, tags, want_error):
        tags = ["array_ops", FAMILY[op], *tags]
        if want_error:
            tags.append("error")
        if TRACE:
            print(f"case {len(self.fs.cases):04d}_{op}", file=sys.stderr, flush=True)
        rec = self.fs.case(op, inputs, attrs, tags=tags, note=note, input_tf_dtypes=tfd)
        got_error = "expect_error" in rec
        if got_error != want_error:
            what = rec["expect_error"]["message"][:160] if got_error else "no error"
            self.surprises.append(f"{rec['id']}: expected {'error' if want_error else 'success'}, got {what}")
            if got_error and "error" not in rec["tags"]:
                rec["tags"].append("error")
        return rec

    def ok(self, op, inputs, attrs=None, note=None, tfd=None, tags=()):
        return self._run(op, inputs, attrs, note, tfd, tags, False)

    def err(self, op, inputs, attrs=None, note=None, tfd=None, tags=()):
        return self._run(op, inputs, attrs, note, tfd, tags, True)


# ----------------------------------------------------------------------------------------------
# identity-like ops
# ----------------------------------------------------------------------------------------------
ALL_DT = ["float32", "float64", "int32", "int64", "uint8", "bool", "string", "float16", "bfloat16",
          "int8", "int16", "uint16", "complex64"]


def identity_ops(b: Builder):
    for op in ["Identity", "StopGradient", "Snapshot", "DebugGradientIdentity", "PreventGradient"]:
        extra = {"message": "no gradient here"} if op == "PreventGradient" else {}
        dts = ALL_DT if op == "Identity" else ["float32", "float64", "int32", "int64", "uint8", "bool",
                                               "string", "bfloat16"]
        if op == "Snapshot":
            dts = [d if d != "string" else "complex64" for d in dts]
        shapes = [(2, 3), (), (0, 4), (3,), (2, 1, 2)]
        for k, dt in enumerate(dts):
            shp = shapes[k % len(shapes)]
            b.ok(op, {"input": D(shp, dt)}, dict(extra), tfd=tfd_for(dt, "input"))
    b.ok("PreventGradient", {"input": D((2, 2), "float32")}, None, note="message attr left at default ''")
    special = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-45, 3.4e38], np.float32)
    b.ok("Identity", {"input": special}, note="nan/inf/-0.0/denormal pass through bit-exactly")
    b.ok("Identity", {"input": np.array([2**40, -2**62, 2**63 - 1], np.int64)}, note="int64 beyond int32 range")
    b.ok("Identity", {"input": np.array([0, 255, 128], np.uint8)})
    b.err("Snapshot", {"input": D((2,), "string")}, note="Snapshot has no string kernel (NotFoundError)")

    # IdentityN: heterogeneous lists
    b.ok("IdentityN", {"input": [D((2, 3), "float32")]})
    b.ok("IdentityN", {"input": [D((2,), "int32"), D((), "float64"), D((0, 2), "int64")]})
    b.ok("IdentityN", {"input": [D((3,), "string"), D((2, 2), "bool"), D((), "uint8")]})
    b.ok("IdentityN", {"input": [D((2,), "bfloat16"), D((3,), "bfloat16")]}, tfd={"input": "bfloat16"})

    # PlaceholderWithDefault: the `shape` attr is not checked against the input when run eagerly
    b.ok("PlaceholderWithDefault", {"input": D((2, 3), "float32")}, {"shape": [2, 3]})
    b.ok("PlaceholderWithDefault", {"input": D((2, 3), "int64")}, {"shape": [None, 3]},
         note="shape attr with an unknown dim (null)")
    b.ok("PlaceholderWithDefault", {"input": D((), "string")}, {"shape": []})
    b.ok("PlaceholderWithDefault", {"input": D((4,), "bool")}, {"shape": None},
         note="shape attr null = unknown rank")
    b.ok("PlaceholderWithDefault", {"input": D((0, 2), "uint8")}, {"shape": [0, 2]})
    b.ok("PlaceholderWithDefault", {"input": D((2, 2), "float32")}, {"shape": [3, 2]},
         note="TF eager does NOT validate the default against the shape attr (graph shape inference would)")


# ----------------------------------------------------------------------------------------------
# shape ops
# ----------------------------------------------------------------------------------------------
def shape_ops(b: Builder):
    shapes = [(2, 3), (), (0, 5), (1, 2, 3, 1), (7,)]
    dts = ["float32", "int32", "string", "bool", "float64", "uint8", "int64", "bfloat16"]
    for k, dt in enumerate(dts):
        shp = shapes[k % len(shapes)]
        x = D(shp, dt)
        t = tfd_for(dt, "input")
        b.ok("Shape", {"input": x}, {"out_type": {"dtype": "int32"}}, tfd=t)
        b.ok("Size", {"input": x}, {"out_type": {"dtype": "int32"}}, tfd=t)
        b.ok("Rank", {"input": x}, tfd=t)
    for shp in [(2, 3), (), (0, 5), (1, 2, 3, 1)]:
        b.ok("Shape", {"input": D(shp, "float32")}, {"out_type": {"dtype": "int64"}})
        b.ok("Size", {"input": D(shp, "int32")}, {"out_type": {"dtype": "int64"}})
    b.ok("Shape", {"input": D((3, 1), "float32")}, None, note="out_type default (int32)")
    b.ok("Size", {"input": D((3, 4), "float32")}, None, note="out_type default (int32)")
    b.err("Shape", {"input": D((2,), "float32")}, {"out_type": {"dtype": "float32"}})
    b.err("Size", {"input": D((2,), "float32")}, {"out_type": {"dtype": "int16"}})

    b.ok("ShapeN", {"input": [D((2, 3), "float32"), D((), "float32"), D((0, 1, 4), "float32")]},
         {"out_type": {"dtype": "int32"}})
    b.ok("ShapeN", {"input": [D((2, 3), "int64"), D((5,), "int64")]}, {"out_type": {"dtype": "int64"}})
    b.ok("ShapeN", {"input": [D((3,), "string")]}, None, note="single input, out_type default int32")
    b.ok("ShapeN", {"input": [D((1, 2), "bool"), D((2, 1), "bool"), D((), "bool")]},
         {"out_type": {"dtype": "int64"}})
    b.err("ShapeN", {"input": [D((2,), "float32")]}, {"out_type": {"dtype": "float32"}})


# ----------------------------------------------------------------------------------------------
# fill / zeros_like / ones_like / broadcast
# ----------------------------------------------------------------------------------------------
def fill_ops(b: Builder):
    fills = [("float32", [2, 3]), ("float64", [4]), ("int32", [2, 1, 2]), ("int64", []), ("uint8", [3, 2]),
             ("bool", [2, 2]), ("string", [3]), ("float16", [2, 2]), ("bfloat16", [3]), ("int8", [0, 3]),
             ("complex64", [2])]
    for k, (dt, dims) in enumerate(fills):
        dims_arr = i64(dims) if k % 2 else i32(dims)
        b.ok("Fill", {"dims": dims_arr, "value": D((), dt)}, tfd=tfd_for(dt, "value"))
    b.ok("Fill", {"dims": i32([0]), "value": np.float32(3)}, note="empty output")
    b.ok("Fill", {"dims": i64([2]), "value": np.int64(-2**40)}, note="int64 value beyond int32 range")
    b.ok("Fill", {"dims": i32([3]), "value": np.float32(np.nan)}, note="nan fill")
    b.ok("Fill", {"dims": i64([2, 0, 3]), "value": np.int32(7)})
    b.err("Fill", {"dims": i32([2, -1]), "value": np.float32(1)}, note="negative dim")
    b.err("Fill", {"dims": i32([2]), "value": np.float32([1, 2])}, note="value must be a scalar")
    b.err("Fill", {"dims": i32([[2, 2]]), "value": np.float32(1)}, note="dims must be 1-D")

    for op in ["ZerosLike", "OnesLike"]:
        for k, dt in enumerate(["float32", "float64", "int32", "int64", "uint8", "bool", "float16",
                                "bfloat16", "complex64", "int8"]):
            shp = [(2, 3), (), (0, 2), (4,), (1, 2, 2)][k % 5]
            b.ok(op, {"x": D(shp, dt)}, tfd=tfd_for(dt, "x"))
    b.ok("ZerosLike", {"x": D((2, 2), "string")}, note="ZerosLike of string gives empty strings")
    b.err("OnesLike", {"x": D((2,), "string")}, note="OnesLike has no string kernel")

    # BroadcastArgs
    for k, (s0, s1) in enumerate([([2, 1, 3], [4, 1]), ([1], [5]), ([], [2, 3]), ([3, 1], [3, 1]),
                                  ([0, 1], [1, 4]), ([1, 1, 1], [2]), ([2, 0], [1])]):
        cast = i64 if k % 2 else i32
        b.ok("BroadcastArgs", {"s0": cast(s0), "s1": cast(s1)})
    b.ok("BroadcastArgs", {"s0": i32([]), "s1": i32([])}, note="both scalars")
    b.err("BroadcastArgs", {"s0": i32([2, 3]), "s1": i32([4, 3])}, note="incompatible")
    b.err("BroadcastArgs", {"s0": i64([3]), "s1": i64([0])}, note="0 vs 3")
    b.err("BroadcastArgs", {"s0": i32([[2]]), "s1": i32([2])}, note="s0 not 1-D")

    # BroadcastTo
    cases = [((3,), [2, 3], "float32"), ((), [2, 2], "int32"), ((2, 1), [2, 4], "int64"), ((1, 3, 1), [2, 3, 2], "uint8"),
             ((3,), [3], "bool"), ((2, 1), [3, 2, 3], "string"), ((1,), [0], "float64"), ((1, 2), [4, 0, 2], "float32"),
             ((2,), [2, 2], "bfloat16"), ((), [], "float16")]
    for k, (shp, tgt, dt) in enumerate(cases):
        b.ok("BroadcastTo", {"input": D(shp, dt), "shape": (i64 if k % 2 else i32)(tgt)}, tfd=tfd_for(dt, "input"))
    b.err("BroadcastTo", {"input": D((3,), "float32"), "shape": i32([2, 4])}, note="incompatible")
    b.err("BroadcastTo", {"input": D((2, 3), "float32"), "shape": i32([3])}, note="target of lower rank")
    b.err("BroadcastTo", {"input": D((2,), "float32"), "shape": i32([-1, 2])}, note="negative dim")


# ----------------------------------------------------------------------------------------------
# reshape / expand / squeeze
# ----------------------------------------------------------------------------------------------
def reshape_ops(b: Builder):
    rs = [((2, 3), [3, 2], "float32"), ((2, 3), [-1], "float64"), ((6,), [2, -1], "int32"), ((4, 3), [-1, 2, 3], "int64"),
          ((2, 3), [6, 1], "uint8"), ((2, 2), [4], "bool"), ((3, 2), [2, 3], "string"), ((1,), [], "float32"),
          ((), [1, 1], "int32"), ((), [-1], "string"), ((0, 4), [2, 0], "float32"), ((0, 4), [0, -1], "float32"),
          ((2, 2), [2, 2], "bfloat16"), ((4,), [2, 2], "float16"), ((2, 3, 4), [4, -1, 2], "int32"),
          ((1, 1, 1), [], "int64")]
    for k, (shp, tgt, dt) in enumerate(rs):
        b.ok("Reshape", {"tensor": D(shp, dt), "shape": (i64 if k % 2 else i32)(tgt)}, tfd=tfd_for(dt, "tensor"))
    b.err("Reshape", {"tensor": D((2, 3), "float32"), "shape": i32([4, 2])}, note="size mismatch")
    b.err("Reshape", {"tensor": D((2, 3), "float32"), "shape": i32([4, -1])}, note="size not a multiple")
    b.err("Reshape", {"tensor": D((2, 3), "float32"), "shape": i32([-1, -1])}, note="two -1s")
    b.err("Reshape", {"tensor": D((2, 3), "float32"), "shape": i32([-2, -3])}, note="dims < -1")
    for shp, tgt, note in [((0, 3), [0, -1], "empty input, zero in shape: -1 inferred from the input's non-zero dims (3)"),
                           ((0, 3), [-1, 0], "empty input: -1 becomes 3 (product of input's non-zero dims)"),
                           ((0, 3), [0, -1, 2], "empty input: -1 = 3 // 2 = 1 (integer division, no check)"),
                           ((2, 0, 3), [-1, 2, 0], "empty input: -1 = (2*3) // 2 = 3"),
                           ((0, 3), [5, -1], "empty input, no zero in shape: -1 becomes 0"),
                           ((0, 3), [-1], "empty input to 1-D")]:
        b.ok("Reshape", {"tensor": D(shp, "float32"), "shape": i32(tgt)}, note=note)
    b.err("Reshape", {"tensor": D((2,), "float32"), "shape": i32([])}, note="2 elements into a scalar")
    b.err("Reshape", {"tensor": D((2, 2), "float32"), "shape": i32([[2, 2]])}, note="shape not 1-D")

    # ExpandDims
    ex = [((2, 3), 0, "float32"), ((2, 3), 1, "float64"), ((2, 3), 2, "int32"), ((2, 3), -1, "int64"),
          ((2, 3), -3, "uint8"), ((), 0, "bool"), ((), -1, "string"), ((0, 2), 1, "float32"),
          ((2,), [1], "int32"), ((4,), -2, "bfloat16"), ((2, 2), 1, "float16")]
    for k, (shp, ax, dt) in enumerate(ex):
        b.ok("ExpandDims", {"input": D(shp, dt), "axis": (i64 if k % 2 else i32)(ax)}, tfd=tfd_for(dt, "input"),
             note="axis given as a 1-element vector" if np.ndim(ax) else None)
    b.err("ExpandDims", {"input": D((2, 3), "float32"), "axis": i32(3)}, note="axis > rank")
    b.err("ExpandDims", {"input": D((2, 3), "float32"), "axis": i32(-4)}, note="axis < -rank-1")
    b.err("ExpandDims", {"input": D((2, 3), "float32"), "axis": i32([0, 1])}, note="axis with 2 elements")

    # Squeeze
    sq = [((1, 3, 1), [], "float32"), ((1, 3, 1), [0], "float64"), ((1, 3, 1), [-1], "int32"), ((1, 3, 1), [0, 2], "int64"),
          ((1, 1), [], "uint8"), ((2, 1, 2), [1], "bool"), ((1, 2), [-2], "string"), ((1, 0, 1), [], "float32"),
          ((), [], "int32"), ((3,), [], "bfloat16"), ((1, 1, 2, 1), [-4, 1], "float16"), ((1, 1), [0, 0], "int32")]
    for shp, ax, dt in sq:
        b.ok("Squeeze", {"input": D(shp, dt)}, {"axis": list(ax)}, tfd=tfd_for(dt, "input"),
             note="repeated axis" if len(set(ax)) < len(ax) else None)
    b.err("Squeeze", {"input": D((1, 3, 1), "float32")}, {"axis": [1]}, note="dim 1 has size 3")
    b.err("Squeeze", {"input": D((1, 3), "float32")}, {"axis": [2]}, note="axis out of range")
    b.err("Squeeze", {"input": D((1, 3), "float32")}, {"axis": [-3]}, note="negative axis out of range")
    b.err("Squeeze", {"input": D((1, 0), "float32")}, {"axis": [1]}, note="size-0 dim is not squeezable")


# ----------------------------------------------------------------------------------------------
# transpose / tile / reverse
# ----------------------------------------------------------------------------------------------
def transpose_tile_reverse(b: Builder):
    tr = [((2, 3), [1, 0], "float32"), ((2, 3, 4), [2, 0, 1], "float64"), ((2, 3, 4), [0, 2, 1], "int32"),
          ((4,), [0], "int64"), ((), [], "uint8"), ((2, 2), [1, 0], "bool"), ((3, 2), [1, 0], "string"),
          ((0, 3), [1, 0], "float32"), ((2, 1, 3, 2), [3, 1, 0, 2], "int32"), ((2, 3), [0, 1], "float32"),
          ((2, 3), [1, 0], "bfloat16"), ((2, 3, 2), [1, 2, 0], "float16"), ((1, 2, 1, 2, 2), [4, 3, 2, 1, 0], "int8"),
          ((2, 3), [1, 0], "complex64")]
    for k, (shp, perm, dt) in enumerate(tr):
        b.ok("Transpose", {"x": D(shp, dt), "perm": (i64 if k % 2 else i32)(perm)}, tfd=tfd_for(dt, "x"))
    b.ok("Transpose", {"x": D((2, 3, 4), "float32"), "perm": i32([-1, 0, 1])},
         note="negative perm entries (TF wraps them)")
    b.err("Transpose", {"x": D((2, 3), "float32"), "perm": i32([0, 0])}, note="duplicate perm entry")
    b.err("Transpose", {"x": D((2, 3), "float32"), "perm": i32([0, 2])}, note="perm entry out of range")
    b.err("Transpose", {"x": D((2, 3), "float32"), "perm": i32([1, 0, 2])}, note="perm length != rank")
    b.err("Transpose", {"x": D((2, 3), "float32"), "perm": i32([[1, 0]])}, note="perm not 1-D")

    ti = [((2, 3), [2, 1], "float32"), ((2, 3), [1, 3], "float64"), ((3,), [4], "int32"), ((2, 1, 2), [1, 2, 2], "int64"),
          ((2, 2), [2, 2], "uint8"), ((3,), [2], "bool"), ((2, 2), [2, 3], "string"), ((), [], "float32"),
          ((2, 3), [0, 2], "int32"), ((0, 2), [3, 1], "float32"), ((2,), [3], "bfloat16"), ((2, 2), [1, 2], "float16")]
    for k, (shp, mult, dt) in enumerate(ti):
        b.ok("Tile", {"input": D(shp, dt), "multiples": (i64 if k % 2 else i32)(mult)}, tfd=tfd_for(dt, "input"))
    b.err("Tile", {"input": D((2, 3), "float32"), "multiples": i32([2])}, note="multiples length != rank")
    b.err("Tile", {"input": D((2, 3), "float32"), "multiples": i32([2, -1])}, note="negative multiple")
    b.err("Tile", {"input": D((2,), "float32"), "multiples": i32([[2]])}, note="multiples not 1-D")

    rv = [((2, 3), [1], "float32"), ((2, 3), [0], "float64"), ((2, 3, 4), [0, 2], "int32"), ((2, 3, 4), [-1], "int64"),
          ((4,), [0], "uint8"), ((2, 2), [0, 1], "bool"), ((3, 2), [-2], "string"), ((2, 3), [], "float32"),
          ((), [], "int32"), ((0, 3), [1], "float32"), ((3, 2), [1], "bfloat16"), ((2, 2, 2), [0, -1], "float16"),
          ((2, 3), [0], "complex64")]
    for k, (shp, ax, dt) in enumerate(rv):
        b.ok("ReverseV2", {"tensor": D(shp, dt), "axis": (i64 if k % 2 else i32)(ax)}, tfd=tfd_for(dt, "tensor"))
    b.err("ReverseV2", {"tensor": D((2, 3), "float32"), "axis": i32([0, 0])}, note="duplicate axis")
    b.err("ReverseV2", {"tensor": D((2, 3), "float32"), "axis": i32([2])}, note="axis out of range")
    b.err("ReverseV2", {"tensor": D((2, 3), "float32"), "axis": i32([0, -2])}, note="same axis, once negative")

    # ReverseSequence
    rsq = [((3, 4), [2, 4, 0], 1, 0, "float32"), ((4, 3), [1, 3, 2], 0, 1, "float64"),
           ((2, 5, 2), [5, 3], 1, 0, "int32"), ((2, 3, 4), [4, 1, 2], 2, 1, "int64"),
           ((3, 2, 4), [2, 1], 0, 1, "uint8"), ((2, 3, 2), [1, 2], 1, 2, "float32"),
           ((3, 3), [3, 2, 1], 0, 1, "bool"), ((2, 4), [3, 4], 1, 0, "string"),
           ((2, 3, 4), [1, 4], 2, 0, "bfloat16"), ((4, 2, 3), [3, 0, 2], 0, 2, "int32")]
    for k, (shp, sl, sd, bd, dt) in enumerate(rsq):
        b.ok("ReverseSequence", {"input": D(shp, dt), "seq_lengths": (i64 if k % 2 else i32)(sl)},
             {"seq_dim": sd, "batch_dim": bd}, tfd=tfd_for(dt, "input"))
    b.ok("ReverseSequence", {"input": D((3, 4), "float32"), "seq_lengths": i64([1, 2, 3])}, {"seq_dim": 1},
         note="batch_dim default 0")
    b.err("ReverseSequence", {"input": D((2, 4, 2), "float32"), "seq_lengths": i32([3, 2])},
          {"seq_dim": -2, "batch_dim": 0}, note="negative seq_dim is not wrapped")
    b.err("ReverseSequence", {"input": D((3, 4), "float32"), "seq_lengths": i32([1, 5, 2])},
          {"seq_dim": 1, "batch_dim": 0}, note="seq_length > dim")
    b.err("ReverseSequence", {"input": D((3, 4), "float32"), "seq_lengths": i32([1, 2])},
          {"seq_dim": 1, "batch_dim": 0}, note="seq_lengths length != batch size")
    b.err("ReverseSequence", {"input": D((3, 4), "float32"), "seq_lengths": i32([1, 1, 1])},
          {"seq_dim": 0, "batch_dim": 0}, note="seq_dim == batch_dim")
    b.err("ReverseSequence", {"input": D((3, 4), "float32"), "seq_lengths": i32([1, -1, 2])},
          {"seq_dim": 1, "batch_dim": 0}, note="negative seq_length")
    b.err("ReverseSequence", {"input": D((3, 4), "float32"), "seq_lengths": i32([1, 1, 1])},
          {"seq_dim": 2, "batch_dim": 0}, note="seq_dim out of range")


# ----------------------------------------------------------------------------------------------
# concat / stack / split
# ----------------------------------------------------------------------------------------------
def concat_stack_split(b: Builder):
    cc = [([(2, 3), (1, 3)], 0, "float32"), ([(2, 3), (2, 1), (2, 2)], 1, "float64"), ([(2, 3), (2, 2)], -1, "int32"),
          ([(1, 2, 2), (1, 2, 2)], -3, "int64"), ([(3,), (0,), (2,)], 0, "uint8"), ([(2, 2), (2, 2)], 0, "bool"),
          ([(2, 1), (2, 2)], 1, "string"), ([(0, 3), (0, 3)], 0, "float32"), ([(2, 0), (2, 3)], 1, "int32"),
          ([(2,), (3,)], 0, "bfloat16"), ([(1, 2), (1, 2), (1, 2), (1, 2)], -2, "float16"),
          ([(2, 2, 1), (2, 2, 3)], 2, "complex64")]
    for k, (shps, ax, dt) in enumerate(cc):
        vals = [D(s, dt) for s in shps]
        t = tfd_for(dt, "values")
        b.ok("ConcatV2", {"values": vals, "axis": (i64 if k % 2 else i32)(ax)}, tfd=t)
        b.ok("Concat", {"concat_dim": i32(ax), "values": vals}, tfd=t)
    for op, kw in [("ConcatV2", lambda v, a: {"values": v, "axis": i32(a)}),
                   ("Concat", lambda v, a: {"concat_dim": i32(a), "values": v})]:
        b.err(op, kw([D((2, 3), "float32"), D((3, 2), "float32")], 0), note="non-axis dim mismatch")
        b.err(op, kw([D((2, 3), "float32"), D((3,), "float32")], 0), note="rank mismatch")
        b.err(op, kw([D((2, 3), "float32"), D((2, 3), "float32")], 2), note="axis out of range")
        b.err(op, kw([D((2, 3), "float32"), D((2, 3), "float32")], -3), note="negative axis out of range")
        b.err(op, kw([D((), "float32"), D((), "float32")], 0), note="scalars cannot be concatenated")
    b.err("ConcatV2", {"values": [D((2, 2), "float32")], "axis": i32(1)}, note="single input: N must be >= 2")
    b.err("Concat", {"concat_dim": i32(0), "values": [D((2, 2), "float32")]}, note="single input: N must be >= 2")

    # ParallelConcat: every value has dim0 == 1; shape attr = output shape
    pc = [([(1, 3)] * 2, [2, 3], "float32"), ([(1,)] * 4, [4], "int32"), ([(1, 2, 2)] * 3, [3, 2, 2], "int64"),
          ([(1, 2)], [1, 2], "float64"), ([(1, 2)] * 2, [2, 2], "uint8"), ([(1, 3)] * 2, [2, 3], "bool")]
    for shps, shape, dt in pc:
        b.ok("ParallelConcat", {"values": [D(s, dt) for s in shps]}, {"shape": shape})
    b.err("ParallelConcat", {"values": [D((2, 3), "float32"), D((2, 3), "float32")]}, {"shape": [4, 3]},
          note="values must have dim0 == 1")

    # Pack / Unpack
    pk = [([(2, 3)] * 2, 0, "float32"), ([(2, 3)] * 3, 1, "float64"), ([(2, 3)] * 2, 2, "int32"),
          ([(2, 3)] * 2, -1, "int64"), ([()] * 4, 0, "uint8"), ([(2,)] * 3, -2, "bool"), ([(2,)] * 2, 1, "string"),
          ([(0, 2)] * 2, 1, "float32"), ([(3,)], 0, "int32"), ([(2, 2)] * 2, -3, "bfloat16"), ([()] * 2, -1, "float16")]
    for shps, ax, dt in pk:
        b.ok("Pack", {"values": [D(s, dt) for s in shps]}, {"axis": ax}, tfd=tfd_for(dt, "values"))
    b.ok("Pack", {"values": [D((2,), "float32"), D((2,), "float32")]}, None, note="axis default 0")
    b.err("Pack", {"values": [D((2, 3), "float32"), D((3, 2), "float32")]}, {"axis": 0}, note="shape mismatch")
    b.err("Pack", {"values": [D((2,), "float32"), D((2,), "float32")]}, {"axis": 2}, note="axis out of range")
    b.err("Pack", {"values": [D((2,), "float32"), D((2,), "float32")]}, {"axis": -3}, note="axis out of range")

    up = [((3, 2), 3, 0, "float32"), ((3, 2), 2, 1, "float64"), ((2, 3, 4), 4, -1, "int32"), ((2, 3, 4), 3, -2, "int64"),
          ((4,), 4, 0, "uint8"), ((2, 2), 2, 1, "bool"), ((3, 2), 3, 0, "string"), ((1, 0), 1, 0, "float32"),
          ((2, 0), 0, 1, "float32"), ((2, 3), 2, 0, "bfloat16"), ((2, 2), 2, -1, "float16")]
    for shp, num, ax, dt in up:
        b.ok("Unpack", {"value": D(shp, dt)}, {"num": num, "axis": ax}, tfd=tfd_for(dt, "value"),
             note="num=0: no outputs" if num == 0 else None)
    b.err("Unpack", {"value": D((3, 2), "float32")}, {"num": 2, "axis": 0}, note="num != dim")
    b.err("Unpack", {"value": D((3, 2), "float32")}, {"num": 2, "axis": 2}, note="axis out of range")
    b.err("Unpack", {"value": D((3, 2), "float32")}, {"num": 3, "axis": -3}, note="negative axis out of range")
    b.err("Unpack", {"value": D((), "float32")}, {"num": 1, "axis": 0}, note="scalar input")

    sp = [((6, 2), 0, 3, "float32"), ((2, 6), 1, 2, "float64"), ((2, 4, 2), -2, 4, "int32"), ((4,), 0, 1, "int64"),
          ((4, 2), -1, 2, "uint8"), ((2, 2), 0, 2, "bool"), ((4,), 0, 2, "string"), ((0, 4), 1, 2, "float32"),
          ((0, 3), 0, 3, "int32"), ((6,), 0, 3, "bfloat16"), ((2, 2), 1, 2, "float16")]
    for shp, ax, n, dt in sp:
        b.ok("Split", {"axis": i32(ax), "value": D(shp, dt)}, {"num_split": n}, tfd=tfd_for(dt, "value"))
    b.err("Split", {"axis": i32(0), "value": D((5, 2), "float32")}, {"num_split": 2}, note="not dividing")
    b.err("Split", {"axis": i32(2), "value": D((4, 2), "float32")}, {"num_split": 2}, note="axis out of range")
    b.err("Split", {"axis": i32(-3), "value": D((4, 2), "float32")}, {"num_split": 2}, note="axis out of range")
    b.err("Split", {"axis": i32(0), "value": D((), "float32")}, {"num_split": 1}, note="scalar input")

    sv = [((6, 2), [1, 2, 3], 0, "float32"), ((2, 6), [4, -1], 1, "float64"), ((2, 5), [0, 5], -1, "int32"),
          ((5,), [5], 0, "int64"), ((4, 3), [2, 0, 2], 0, "uint8"), ((3, 2), [1, 1], 1, "bool"),
          ((5,), [2, -1, 1], 0, "string"), ((0, 3), [0], 0, "float32"), ((4, 2), [1, 3], -2, "bfloat16"),
          ((3, 2), [3], 0, "float16"), ((4,), [-1, 0], 0, "int32")]
    for k, (shp, sizes, ax, dt) in enumerate(sv):
        b.ok("SplitV", {"value": D(shp, dt), "size_splits": (i64 if k % 2 else i32)(sizes), "axis": i32(ax)},
             {"num_split": len(sizes)}, tfd=tfd_for(dt, "value"))
    b.err("SplitV", {"value": D((5,), "float32"), "size_splits": i64([-1]), "axis": i32(0)},
          {"num_split": 1}, note="a single -1 size is rejected (only-one-output check runs before -1 inference)")
    b.err("SplitV", {"value": D((6,), "float32"), "size_splits": i32([2, 3]), "axis": i32(0)},
          {"num_split": 2}, note="sizes do not sum to dim")
    b.err("SplitV", {"value": D((6,), "float32"), "size_splits": i32([2, 5]), "axis": i32(0)},
          {"num_split": 2}, note="sizes exceed dim")
    b.err("SplitV", {"value": D((6,), "float32"), "size_splits": i32([-1, -1]), "axis": i32(0)},
          {"num_split": 2}, note="two -1s")
    b.err("SplitV", {"value": D((6,), "float32"), "size_splits": i32([8, -1]), "axis": i32(0)},
          {"num_split": 2}, note="-1 would be negative")
    b.err("SplitV", {"value": D((6,), "float32"), "size_splits": i32([-2, 8]), "axis": i32(0)},
          {"num_split": 2}, note="negative size other than -1")
    b.err("SplitV", {"value": D((6,), "float32"), "size_splits": i32([2, 4]), "axis": i32(0)},
          {"num_split": 3}, note="num_split != len(size_splits)")
    b.err("SplitV", {"value": D((6,), "float32"), "size_splits": i32([2, 4]), "axis": i32(1)},
          {"num_split": 2}, note="axis out of range")


# ----------------------------------------------------------------------------------------------
# slice / pad
# ----------------------------------------------------------------------------------------------
def slice_pad(b: Builder):
    sl = [((4, 5), [1, 2], [2, 3], "float32"), ((4, 5), [0, 1], [-1, 2], "float64"), ((3, 4, 2), [1, 0, 1], [2, -1, 1], "int32"),
          ((6,), [2], [0], "int64"), ((4, 4), [3, 3], [1, 1], "uint8"), ((3, 3), [0, 0], [3, 3], "bool"),
          ((2, 4), [1, 1], [1, -1], "string"), ((), [], [], "float32"), ((0, 3), [0, 1], [0, 2], "float32"),
          ((4,), [4], [0], "int32"), ((3, 3), [1, 0], [2, 2], "bfloat16"), ((2, 3), [0, 2], [2, 1], "float16")]
    for k, (shp, beg, size, dt) in enumerate(sl):
        c = i64 if k % 2 else i32
        b.ok("Slice", {"input": D(shp, dt), "begin": c(beg), "size": c(size)}, tfd=tfd_for(dt, "input"),
             note="begin == dim with size 0 is allowed" if shp == (4,) else None)
    b.err("Slice", {"input": D((4, 5), "float32"), "begin": i32([2, 0]), "size": i32([3, 5])}, note="begin+size > dim")
    b.err("Slice", {"input": D((4, 5), "float32"), "begin": i32([-1, 0]), "size": i32([1, 5])}, note="negative begin")
    b.err("Slice", {"input": D((4, 5), "float32"), "begin": i32([5, 0]), "size": i32([-1, 5])},
          note="begin > dim with size -1")
    b.err("Slice", {"input": D((4, 5), "float32"), "begin": i32([0]), "size": i32([1])}, note="begin length != rank")
    b.err("Slice", {"input": D((4, 5), "float32"), "begin": i32([0, 0]), "size": i32([1, -2])}, note="size < -1")
    b.err("Slice", {"input": D((4, 5), "float32"), "begin": i32([0, 0]), "size": i64([1, 1])},
          note="begin and size dtypes differ")

    pd = [((2, 3), [[1, 0], [0, 2]], "float32"), ((2, 3), [[0, 0], [0, 0]], "float64"), ((2,), [[3, 1]], "int32"),
          ((1, 2, 2), [[1, 1], [0, 1], [2, 0]], "int64"), ((2, 2), [[1, 1], [1, 1]], "uint8"), ((2,), [[1, 2]], "bool"),
          ((2, 1), [[0, 1], [1, 0]], "string"), ((), np.zeros((0, 2)), "float32"), ((0, 2), [[1, 1], [0, 1]], "float32"),
          ((2, 2), [[1, 0], [0, 1]], "bfloat16"), ((3,), [[2, 2]], "float16"), ((2,), [[1, 0]], "complex64")]
    for k, (shp, pads, dt) in enumerate(pd):
        c = i64 if k % 2 else i32
        b.ok("Pad", {"input": D(shp, dt), "paddings": c(pads).reshape(-1, 2)}, tfd=tfd_for(dt, "input"))
    cvals = {"float32": np.float32(-1.5), "float64": np.float64(9.25), "int32": np.int32(-7), "int64": np.int64(42),
             "uint8": np.uint8(200), "bool": np.bool_(True), "string": np.bytes_(b"pad"), "float16": np.float16(2.5),
             "bfloat16": D((), "bfloat16"), "complex64": np.complex64(1 - 2j)}
    for k, (shp, pads, dt) in enumerate(pd):
        if dt not in cvals:
            continue
        c = i64 if k % 2 else i32
        b.ok("PadV2", {"input": D(shp, dt), "paddings": c(pads).reshape(-1, 2), "constant_values": cvals[dt]},
             tfd=tfd_for(dt, "input", "constant_values"))
    for op in ["Pad", "PadV2"]:
        extra = {"constant_values": np.float32(0.5)} if op == "PadV2" else {}
        b.err(op, {"input": D((2, 3), "float32"), "paddings": i32([[1, -1], [0, 0]]), **extra}, note="negative padding")
        b.err(op, {"input": D((2, 3), "float32"), "paddings": i32([[1, 1]]), **extra}, note="paddings rows != rank")
        b.err(op, {"input": D((2, 3), "float32"), "paddings": i32([[1, 1, 1], [0, 0, 0]]), **extra},
              note="paddings not [rank, 2]")
    b.err("PadV2", {"input": D((2,), "float32"), "paddings": i32([[1, 1]]), "constant_values": np.float32([1, 2])},
          note="constant_values not scalar")

    mp = [((3, 4), [[1, 2], [2, 1]], "REFLECT", "float32"), ((3, 4), [[1, 2], [2, 1]], "SYMMETRIC", "float32"),
          ((3, 4), [[2, 2], [3, 3]], "REFLECT", "float64"), ((3, 4), [[3, 3], [4, 4]], "SYMMETRIC", "float64"),
          ((5,), [[4, 4]], "REFLECT", "int32"), ((5,), [[5, 5]], "SYMMETRIC", "int32"),
          ((2, 3, 2), [[1, 0], [0, 2], [1, 1]], "REFLECT", "int64"), ((2, 3, 2), [[2, 1], [3, 0], [0, 2]], "SYMMETRIC", "uint8"),
          ((2, 2), [[1, 1], [0, 1]], "SYMMETRIC", "bool"), ((3, 2), [[2, 1], [1, 1]], "REFLECT", "string"),
          ((2, 3), [[0, 0], [0, 0]], "REFLECT", "float32"), ((1, 3), [[0, 0], [1, 1]], "REFLECT", "float32"),
          ((1, 3), [[1, 1], [0, 0]], "SYMMETRIC", "bfloat16"), ((4,), [[2, 3]], "REFLECT", "float16"),
          ((0, 3), [[0, 0], [1, 1]], "SYMMETRIC", "float32")]
    for k, (shp, pads, mode, dt) in enumerate(mp):
        b.ok("MirrorPad", {"input": D(shp, dt), "paddings": (i64 if k % 2 else i32)(pads)}, {"mode": mode},
             tfd=tfd_for(dt, "input"))
    b.err("MirrorPad", {"input": D((3, 4), "float32"), "paddings": i32([[3, 0], [0, 0]])}, {"mode": "REFLECT"},
          note="REFLECT needs paddings < dim (3 == dim)")
    b.err("MirrorPad", {"input": D((3, 4), "float32"), "paddings": i32([[0, 4], [0, 0]])}, {"mode": "SYMMETRIC"},
          note="SYMMETRIC needs paddings <= dim (4 > 3)")
    b.err("MirrorPad", {"input": D((1, 3), "float32"), "paddings": i32([[1, 0], [0, 0]])}, {"mode": "REFLECT"},
          note="REFLECT of a size-1 dim")
    b.err("MirrorPad", {"input": D((0, 3), "float32"), "paddings": i32([[0, 0], [1, 1]])}, {"mode": "REFLECT"},
          note="REFLECT rejects a size-0 dim even with zero padding on it (0 not < 0)")
    b.err("MirrorPad", {"input": D((3,), "float32"), "paddings": i32([[-1, 0]])}, {"mode": "SYMMETRIC"},
          note="negative padding")
    b.err("MirrorPad", {"input": D((3,), "float32"), "paddings": i32([[1, 0], [0, 0]])}, {"mode": "REFLECT"},
          note="paddings rows != rank")
    b.err("MirrorPad", {"input": D((3,), "float32"), "paddings": i32([[1, 0]])}, {"mode": "CONSTANT"},
          note="mode must be REFLECT or SYMMETRIC")


# ----------------------------------------------------------------------------------------------
# strided slice family
# ----------------------------------------------------------------------------------------------
# (input shape, begin, end, strides, masks, note)
SS_SPECS = [
    ((4, 5, 6), [1, 0, 2], [3, 5, 6], [1, 1, 2], {}, "plain"),
    ((4, 5, 6), [3, 4, 5], [0, 0, 0], [-1, -2, -3], {}, "negative strides"),
    ((4, 5), [-3, -1], [-1, -5], [1, -1], {}, "negative begin/end"),
    ((4, 5, 6), [1, 2, 3], [3, 4, 5], [1, 1, 1], {"begin_mask": 0b101}, "begin_mask alone"),
    ((4, 5, 6), [1, 2, 3], [3, 4, 5], [1, 1, 1], {"end_mask": 0b011}, "end_mask alone"),
    ((4, 5), [1, 1], [1, 4], [-1, 2], {"begin_mask": 0b11}, "begin_mask with negative stride starts at dim-1"),
    ((4, 5), [2, 2], [0, 0], [-1, -2], {"end_mask": 0b11}, "end_mask with negative stride runs to the front"),
    ((4, 5, 6), [0, 0, 0], [0, 0, 0], [-1, -1, -1], {"begin_mask": 7, "end_mask": 7}, "full reverse"),
    ((4, 5, 6), [0, 1], [0, 3], [1, 1], {"ellipsis_mask": 0b01}, "ellipsis first: x[..., 1:3]"),
    ((4, 5, 6), [0, 0, 1], [2, 0, 4], [1, 1, 1], {"ellipsis_mask": 0b010}, "ellipsis middle: x[0:2, ..., 1:4]"),
    ((2, 3, 4, 5), [1, 0, -1], [2, 0, -4], [1, 1, -1], {"ellipsis_mask": 0b010},
     "ellipsis middle of a 4-D: x[1:2, ..., -1:-4:-1]"),
    ((4, 5, 6), [1, 0], [3, 0], [1, 1], {"ellipsis_mask": 0b10}, "ellipsis last: x[1:3, ...]"),
    ((4, 5), [0, 0, 1], [0, 0, 3], [1, 1, 1], {"new_axis_mask": 0b010, "begin_mask": 1, "end_mask": 1},
     "new_axis alone: x[:, newaxis, 1:3]"),
    ((4, 5), [0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1], {"new_axis_mask": 0b1001, "begin_mask": 0b0110, "end_mask": 0b0110},
     "new_axis at both ends: x[newaxis, :, :, newaxis]"),
    ((4, 5), [5, 7], [9, 9], [3, 3], {"new_axis_mask": 0b01},
     "new_axis ignores its begin/end/stride: x[newaxis, 7:9:3] (implicit trailing dim)"),
    ((4, 5, 6), [1], [2], [1], {"shrink_axis_mask": 1}, "shrink alone: x[1]"),
    ((4, 5, 6), [-1, 0, -2], [0, 0, -1], [1, 1, 1], {"shrink_axis_mask": 0b101, "begin_mask": 0b010, "end_mask": 0b010},
     "shrink on negative index: x[-1, :, -2]"),
    ((4, 5, 6), [0, -1], [0, 0], [1, 1], {"ellipsis_mask": 1, "shrink_axis_mask": 0b10}, "shrink + ellipsis: x[..., -1]"),
    ((4, 5, 6), [2, 0, 0, 1], [3, 0, 0, 4], [1, 1, 1, 2],
     {"shrink_axis_mask": 0b0001, "ellipsis_mask": 0b0010, "new_axis_mask": 0b0100},
     "shrink + ellipsis + new_axis: x[2, ..., newaxis, 1:4:2]"),
    ((4, 5), [1, 2], [0, 0], [1, 1], {"shrink_axis_mask": 0b11}, "shrink every axis -> scalar"),
    ((4, 5), [2, 1], [3, 4], [1, 1], {"shrink_axis_mask": 0b01, "begin_mask": 0b01},
     "begin_mask on a shrink axis"),
    ((4, 5), [-100, 2], [100, 100], [1, 1], {}, "out-of-range begin/end are clamped"),
    ((4, 5), [100, -100], [-100, 100], [-1, 1], {}, "out-of-range with negative stride clamped to [-1, dim-1]"),
    ((6,), [-100], [4], [-1], {}, "negative stride from a begin below -dim: empty"),
    ((4, 5), [3, 0], [1, 5], [1, 1], {}, "begin > end with positive stride: empty"),
    ((4, 5, 6), [1], [3], [1], {}, "spec shorter than rank: trailing dims taken whole"),
    ((7,), [1], [7], [10], {}, "stride larger than the dim"),
    ((7, 2), [6, 0], [0, 2], [-4, 1], {}, "negative stride > 1"),
    ((), [0], [0], [1], {"ellipsis_mask": 1}, "scalar input with only an ellipsis"),
    ((), [0], [0], [1], {"new_axis_mask": 1}, "scalar input with a new axis"),
    ((0, 3), [0, 1], [0, 3], [1, 1], {}, "empty input"),
    ((4, 5), [0, 0], [0, 0], [1, 1], {"ellipsis_mask": 0b01, "new_axis_mask": 0b01},
     "ellipsis and new_axis bits on the same index: ellipsis wins"),
    ((3, 4), [0, 1], [0, 0], [1, 1], {"ellipsis_mask": 0b01, "shrink_axis_mask": 0b11},
     "shrink bit on the ellipsis index is ignored"),
]

SS_ERRORS = [
    ((4, 5), [0, 0], [2, 2], [1, 0], {}, "zero stride"),
    ((4, 5), [0, 0], [2, 2], [1, 1], {"ellipsis_mask": 0b11}, "two ellipses"),
    ((4, 5), [4], [5], [1], {"shrink_axis_mask": 1}, "shrink index == dim"),
    ((4, 5), [-5], [-4], [1], {"shrink_axis_mask": 1}, "shrink index < -dim"),
    ((4, 5), [0, 0], [2], [1, 1], {}, "begin/end length mismatch"),
    ((4, 5), [0, 0, 0], [1, 1, 1], [1, 1, 1], {}, "spec longer than the rank"),
    ((), [0], [1], [1], {"shrink_axis_mask": 1}, "shrink on a scalar"),
    ((4, 5), [2, 0], [0, 0], [-1, 1], {"shrink_axis_mask": 0b01, "end_mask": 0b10},
     "shrink with a negative stride"),
]

SS_DTYPES = ["float32", "int32", "float64", "int64", "uint8", "bool", "string", "bfloat16", "float16", "int8"]


def _ss_attrs(masks):
    return {m: int(masks.get(m, 0)) for m in MASKS}


def _ss_inputs(beg, end, st, c):
    return c(beg), c(end), c(st)


def strided_slice(b: Builder):
    import tensorflow as tf

    for k, (shp, beg, end, st, masks, note) in enumerate(SS_SPECS):
        dt = SS_DTYPES[k % len(SS_DTYPES)]
        c = i64 if k % 3 == 2 else i32
        bb, ee, ss = _ss_inputs(beg, end, st, c)
        b.ok("StridedSlice", {"input": D(shp, dt), "begin": bb, "end": ee, "strides": ss}, _ss_attrs(masks),
             note=note, tfd=tfd_for(dt, "input"))
    for shp, beg, end, st, masks, note in SS_ERRORS:
        b.err("StridedSlice", {"input": D(shp, "float32"), "begin": i32(beg), "end": i32(end), "strides": i32(st)},
              _ss_attrs(masks), note=note)
    b.err("StridedSlice", {"input": D((4, 5), "float32"), "begin": i32([0]), "end": i64([2]), "strides": i32([1])},
          _ss_attrs({}), note="begin/end index dtypes differ")

    def out_shape(shp, beg, end, st, masks):
        r = tf.raw_ops.StridedSlice(input=tf.zeros(shp, tf.int8), begin=i32(beg), end=i32(end), strides=i32(st),
                                    **_ss_attrs(masks))
        return tuple(r.shape)

    # StridedSliceGrad: `shape` = shape of the forward input, dy = shape of the forward output
    grad_specs = [SS_SPECS[i] for i in (0, 1, 3, 6, 7, 9, 12, 16, 18, 22, 23, 26, 28, 30, 31)]
    gdt = ["float32", "float64", "int32", "int64", "bfloat16", "float16", "float32", "uint8"]
    for k, (shp, beg, end, st, masks, note) in enumerate(grad_specs):
        dt = gdt[k % len(gdt)]
        c = i64 if k % 2 else i32
        dy = D(out_shape(shp, beg, end, st, masks), dt)
        bb, ee, ss = _ss_inputs(beg, end, st, c)
        b.ok("StridedSliceGrad", {"shape": c(shp), "begin": bb, "end": ee, "strides": ss, "dy": dy},
             _ss_attrs(masks), note=note, tfd=tfd_for(dt, "dy"))
    b.ok("StridedSliceGrad", {"shape": i32([3, 4]), "begin": i32([0, 1]), "end": i32([3, 3]), "strides": i32([2, 1]),
                              "dy": D((2, 2), "complex64")}, _ss_attrs({}), note="complex dy")
    b.err("StridedSliceGrad", {"shape": i32([4, 5]), "begin": i32([1, 0]), "end": i32([3, 5]), "strides": i32([1, 1]),
                               "dy": D((3, 5), "float32")}, _ss_attrs({}), note="dy shape != slice shape")
    b.err("StridedSliceGrad", {"shape": i32([4, 5]), "begin": i32([1, 0]), "end": i32([3, 5]), "strides": i32([0, 1]),
                               "dy": D((2, 5), "float32")}, _ss_attrs({}), note="zero stride")
    b.err("StridedSliceGrad", {"shape": i32([[4, 5]]), "begin": i32([1, 0]), "end": i32([3, 5]),
                               "strides": i32([1, 1]), "dy": D((2, 5), "float32")}, _ss_attrs({}),
          note="shape not 1-D")

    # TensorStridedSliceUpdate: value = shape of the slice; output = input with the slice replaced
    upd_specs = [SS_SPECS[i] for i in (0, 1, 2, 4, 5, 9, 13, 15, 16, 17, 22, 25, 29, 31)]
    udt = ["float32", "int32", "int64", "float64", "bool", "string", "uint8", "bfloat16", "float16"]
    for k, (shp, beg, end, st, masks, note) in enumerate(upd_specs):
        dt = udt[k % len(udt)]
        c = i64 if k % 2 else i32
        val = D(out_shape(shp, beg, end, st, masks), dt)
        bb, ee, ss = _ss_inputs(beg, end, st, c)
        b.ok("TensorStridedSliceUpdate", {"input": D(shp, dt), "begin": bb, "end": ee, "strides": ss, "value": val},
             _ss_attrs(masks), note=note, tfd=tfd_for(dt, "input", "value"))
    b.ok("TensorStridedSliceUpdate", {"input": D((3, 4), "int32"), "begin": i32([0, 1]), "end": i32([2, 3]),
                                      "strides": i32([1, 1]), "value": np.int32(-9)}, _ss_attrs({}),
         note="scalar value is broadcast into the slice")
    b.ok("TensorStridedSliceUpdate", {"input": D((3, 4), "float32"), "begin": i32([0, 0]), "end": i32([3, 4]),
                                      "strides": i32([2, 2]), "value": D((2,), "float32")}, _ss_attrs({}),
         note="value [2] broadcast against slice [2, 2]")
    b.err("TensorStridedSliceUpdate", {"input": D((3, 4), "float32"), "begin": i32([0, 0]), "end": i32([2, 2]),
                                       "strides": i32([1, 1]), "value": D((3, 2), "float32")}, _ss_attrs({}),
          note="value shape not broadcastable to the slice")
    b.err("TensorStridedSliceUpdate", {"input": D((3, 4), "float32"), "begin": i32([0, 0]), "end": i32([2, 2]),
                                       "strides": i32([1, 0]), "value": D((2, 2), "float32")}, _ss_attrs({}),
          note="zero stride")
    b.err("TensorStridedSliceUpdate", {"input": D((3, 4), "float32"), "begin": i32([0, 0]), "end": i32([2, 2]),
                                       "strides": i32([1, 1]), "value": D((2, 2), "float64")}, _ss_attrs({}),
          note="value dtype != input dtype")


# ----------------------------------------------------------------------------------------------
# space <-> batch, space <-> depth, image patches
# ----------------------------------------------------------------------------------------------
def space_batch_depth(b: Builder):
    # SpaceToBatchND: input [batch] + spatial(M) + remaining; block_shape [M]; paddings [M, 2]
    s2b = [((1, 4, 4, 1), [2, 2], [[0, 0], [0, 0]], "float32", "i32", "i32"),
           ((2, 2, 3, 2), [2, 3], [[1, 1], [0, 0]], "float64", "i64", "i64"),
           ((1, 5, 2), [3], [[1, 0]], "int32", "i32", "i64"),
           ((2, 3, 2, 3), [2], [[0, 1]], "int64", "i64", "i32"),
           ((1, 3, 3, 2, 1), [2, 2], [[1, 0], [0, 1]], "uint8", "i32", "i32"),
           ((1, 2, 2), [2, 1], [[0, 0], [1, 0]], "int16", "i64", "i64"),
           ((3, 6), [1], [[0, 0]], "float32", "i32", "i32"),
           ((1, 2, 4, 1), [2, 2], [[1, 1], [2, 2]], "bfloat16", "i32", "i32"),
           ((2, 3, 1), [4], [[0, 1]], "float16", "i32", "i32"),
           ((0, 2, 2, 1), [2, 2], [[0, 0], [0, 0]], "float32", "i32", "i32"),
           ((2, 2, 3), [], np.zeros((0, 2)), "float32", "i32", "i32")]
    cast = {"i32": i32, "i64": i64}
    for shp, blk, pads, dt, tb, tp in s2b:
        b.ok("SpaceToBatchND", {"input": D(shp, dt), "block_shape": cast[tb](blk),
                                "paddings": cast[tp](pads).reshape(-1, 2)}, tfd=tfd_for(dt, "input"),
             note="M=0: identity" if not blk else None)
    for op in ["SpaceToBatchND", "BatchToSpaceND"]:
        third = "paddings" if op == "SpaceToBatchND" else "crops"
        b.err(op, {"input": D((4, 2), "bool"), "block_shape": i32([2]), third: i32([[0, 0]])},
              note="no CPU kernel for bool (NotFoundError); no string/complex kernels either")
    b.err("SpaceToBatch", {"input": D((1, 2, 2, 1), "bool"), "paddings": i32([[0, 0], [0, 0]])}, {"block_size": 2},
          note="no CPU kernel for bool (NotFoundError)")
    b.err("BatchToSpace", {"input": D((4, 1, 1, 1), "bool"), "crops": i32([[0, 0], [0, 0]])}, {"block_size": 2},
          note="no CPU kernel for bool (NotFoundError)")
    b.err("SpaceToBatchND", {"input": D((1, 5, 2), "float32"), "block_shape": i32([2]), "paddings": i32([[0, 0]])},
          note="padded size not divisible by block")
    b.err("SpaceToBatchND", {"input": D((1, 4, 2), "float32"), "block_shape": i32([2]), "paddings": i32([[-1, 1]])},
          note="negative padding")
    b.err("SpaceToBatchND", {"input": D((1, 4, 2), "float32"), "block_shape": i32([0]), "paddings": i32([[0, 0]])},
          note="block_shape < 1")
    b.err("SpaceToBatchND", {"input": D((1, 4), "float32"), "block_shape": i32([2, 2]),
                             "paddings": i32([[0, 0], [0, 0]])}, note="input rank < 1 + M")
    b.err("SpaceToBatchND", {"input": D((1, 4, 2), "float32"), "block_shape": i32([2]),
                             "paddings": i32([[0, 0], [0, 0]])}, note="paddings shape != [M, 2]")

    # BatchToSpaceND (inverse)
    b2s = [((4, 2, 2, 1), [2, 2], [[0, 0], [0, 0]], "float32", "i32", "i32"),
           ((12, 2, 1, 2), [2, 3], [[1, 1], [0, 2]], "float64", "i64", "i64"),
           ((6, 2, 2), [3], [[1, 2]], "int32", "i32", "i64"),
           ((4, 3, 2, 3), [2], [[0, 1]], "int64", "i64", "i32"),
           ((4, 2, 2, 2, 1), [2, 2], [[1, 0], [0, 1]], "uint8", "i32", "i32"),
           ((2, 2, 2), [2, 1], [[0, 1], [1, 0]], "uint16", "i64", "i64"),
           ((4, 2, 3, 1), [2, 2], [[2, 1], [0, 3]], "bfloat16", "i32", "i32"),
           ((4, 2, 1), [4], [[0, 3]], "float16", "i32", "i32"),
           ((4, 1, 1, 1), [2, 2], [[1, 1], [1, 1]], "float32", "i32", "i32"),
           ((2, 3), [1], [[0, 0]], "float32", "i32", "i32")]
    for shp, blk, crops, dt, tb, tc in b2s:
        b.ok("BatchToSpaceND", {"input": D(shp, dt), "block_shape": cast[tb](blk),
                                "crops": cast[tc](crops).reshape(-1, 2)}, tfd=tfd_for(dt, "input"),
             note="crops remove everything: empty output" if shp == (4, 1, 1, 1) else None)
    b.err("BatchToSpaceND", {"input": D((4, 2, 2, 1), "float32"), "block_shape": i32([2, 2]),
                             "crops": i32([[3, 2], [0, 0]])}, note="crops larger than block*dim")
    b.err("BatchToSpaceND", {"input": D((3, 2, 2, 1), "float32"), "block_shape": i32([2, 2]),
                             "crops": i32([[0, 0], [0, 0]])}, note="batch not divisible by prod(block_shape)")
    b.err("BatchToSpaceND", {"input": D((4, 2, 2, 1), "float32"), "block_shape": i32([2, 2]),
                             "crops": i32([[-1, 0], [0, 0]])}, note="negative crop")
    b.err("BatchToSpaceND", {"input": D((4, 2, 2, 1), "float32"), "block_shape": i32([2, 0]),
                             "crops": i32([[0, 0], [0, 0]])}, note="block_shape < 1")

    # SpaceToBatch / BatchToSpace (old, 4-D NHWC only, square block_size attr)
    for shp, bs, pads, dt in [((1, 4, 4, 1), 2, [[0, 0], [0, 0]], "float32"), ((2, 3, 5, 2), 2, [[1, 0], [0, 1]], "int32"),
                              ((1, 3, 3, 1), 3, [[0, 0], [0, 0]], "float64"), ((1, 2, 2, 3), 2, [[1, 1], [1, 1]], "int64"),
                              ((1, 2, 4, 1), 2, [[0, 0], [2, 0]], "uint8"), ((1, 2, 2, 1), 2, [[0, 0], [0, 0]], "int8"),
                              ((1, 2, 2, 1), 2, [[0, 0], [0, 0]], "bfloat16")]:
        b.ok("SpaceToBatch", {"input": D(shp, dt), "paddings": i32(pads)}, {"block_size": bs}, tfd=tfd_for(dt, "input"))
    b.ok("SpaceToBatch", {"input": D((1, 2, 2, 1), "float32"), "paddings": i64([[1, 1], [1, 1]])}, {"block_size": 2},
         note="int64 paddings")
    b.err("SpaceToBatch", {"input": D((1, 3, 4, 1), "float32"), "paddings": i32([[0, 0], [0, 0]])}, {"block_size": 2},
          note="height not divisible")
    b.err("SpaceToBatch", {"input": D((1, 4, 4, 1), "float32"), "paddings": i32([[0, 0], [0, 0]])}, {"block_size": 1},
          note="block_size must be > 1")
    b.err("SpaceToBatch", {"input": D((4, 4, 1), "float32"), "paddings": i32([[0, 0], [0, 0]])}, {"block_size": 2},
          note="input must be 4-D")
    for shp, bs, crops, dt in [((4, 2, 2, 1), 2, [[0, 0], [0, 0]], "float32"), ((8, 2, 3, 2), 2, [[1, 0], [0, 1]], "int32"),
                               ((9, 1, 1, 1), 3, [[0, 0], [0, 0]], "float64"), ((4, 2, 2, 3), 2, [[1, 1], [1, 1]], "int64"),
                               ((4, 1, 2, 1), 2, [[0, 0], [2, 0]], "uint8"), ((4, 1, 1, 1), 2, [[0, 0], [0, 0]], "int16"),
                               ((4, 1, 1, 2), 2, [[0, 1], [1, 0]], "bfloat16")]:
        b.ok("BatchToSpace", {"input": D(shp, dt), "crops": i32(crops)}, {"block_size": bs}, tfd=tfd_for(dt, "input"))
    b.ok("BatchToSpace", {"input": D((4, 1, 1, 1), "float32"), "crops": i64([[0, 1], [1, 0]])}, {"block_size": 2},
         note="int64 crops")
    b.err("BatchToSpace", {"input": D((4, 1, 1, 1), "float32"), "crops": i32([[2, 1], [0, 0]])}, {"block_size": 2},
          note="crops too large")
    b.err("BatchToSpace", {"input": D((3, 1, 1, 1), "float32"), "crops": i32([[0, 0], [0, 0]])}, {"block_size": 2},
          note="batch not divisible by block_size^2")

    # SpaceToDepth / DepthToSpace (NHWC)
    for shp, bs, dt in [((1, 4, 4, 1), 2, "float32"), ((2, 2, 4, 3), 2, "float64"), ((1, 6, 3, 2), 3, "int32"),
                        ((1, 2, 2, 2), 2, "int64"), ((2, 4, 2, 1), 2, "uint8"), ((1, 2, 2, 1), 2, "bool"),
                        ((1, 2, 2, 1), 2, "string"), ((1, 4, 4, 2), 4, "bfloat16"), ((1, 2, 4, 1), 2, "float16"),
                        ((0, 2, 2, 1), 2, "float32")]:
        b.ok("SpaceToDepth", {"input": D(shp, dt)}, {"block_size": bs, "data_format": "NHWC"}, tfd=tfd_for(dt, "input"))
    b.ok("SpaceToDepth", {"input": D((1, 2, 2, 2), "float32")}, {"block_size": 2}, note="data_format default NHWC")
    b.err("SpaceToDepth", {"input": D((1, 3, 4, 1), "float32")}, {"block_size": 2}, note="height not divisible")
    b.err("SpaceToDepth", {"input": D((1, 4, 4, 1), "float32")}, {"block_size": 1}, note="block_size < 2")
    b.err("SpaceToDepth", {"input": D((4, 4, 1), "float32")}, {"block_size": 2}, note="input not 4-D")
    b.err("SpaceToDepth", {"input": D((1, 2, 4, 4), "float32")}, {"block_size": 2, "data_format": "NCHW"},
          note="NCHW is not supported on CPU")
    for shp, bs, dt in [((1, 2, 2, 4), 2, "float32"), ((2, 1, 2, 12), 2, "float64"), ((1, 2, 1, 18), 3, "int32"),
                        ((1, 1, 1, 4), 2, "int64"), ((2, 2, 1, 4), 2, "uint8"), ((1, 1, 1, 4), 2, "bool"),
                        ((1, 1, 2, 4), 2, "string"), ((1, 1, 1, 32), 4, "bfloat16"), ((1, 1, 2, 4), 2, "float16"),
                        ((0, 1, 1, 4), 2, "float32")]:
        b.ok("DepthToSpace", {"input": D(shp, dt)}, {"block_size": bs, "data_format": "NHWC"}, tfd=tfd_for(dt, "input"))
    b.ok("DepthToSpace", {"input": D((1, 1, 1, 8), "float32")}, {"block_size": 2}, note="data_format default NHWC")
    b.err("DepthToSpace", {"input": D((1, 2, 2, 6), "float32")}, {"block_size": 2}, note="depth not divisible by bs^2")
    b.err("DepthToSpace", {"input": D((1, 2, 2, 4), "float32")}, {"block_size": 1}, note="block_size < 2")
    b.err("DepthToSpace", {"input": D((2, 2, 4), "float32")}, {"block_size": 2}, note="input not 4-D")
    b.err("DepthToSpace", {"input": D((1, 4, 2, 2), "float32")}, {"block_size": 2, "data_format": "NCHW"},
          note="NCHW is not supported on CPU")

    # ExtractImagePatches
    eip = [((1, 5, 5, 1), [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID", "float32"),
           ((1, 5, 5, 1), [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "SAME", "float32"),
           ((2, 5, 4, 2), [1, 3, 2, 1], [1, 2, 2, 1], [1, 1, 1, 1], "VALID", "float64"),
           ((2, 5, 4, 2), [1, 3, 2, 1], [1, 2, 2, 1], [1, 1, 1, 1], "SAME", "float64"),
           ((1, 7, 6, 1), [1, 2, 2, 1], [1, 1, 2, 1], [1, 2, 2, 1], "VALID", "int32"),
           ((1, 7, 6, 1), [1, 2, 2, 1], [1, 3, 2, 1], [1, 2, 3, 1], "SAME", "int32"),
           ((1, 4, 4, 3), [1, 1, 1, 1], [1, 2, 2, 1], [1, 1, 1, 1], "VALID", "uint8"),
           ((1, 6, 6, 1), [1, 3, 3, 1], [1, 3, 3, 1], [1, 1, 1, 1], "SAME", "int64"),
           ((1, 4, 5, 2), [1, 2, 3, 1], [1, 1, 1, 1], [1, 2, 1, 1], "SAME", "bfloat16"),
           ((1, 4, 4, 1), [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID", "float16"),
           ((1, 3, 3, 1), [1, 4, 4, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID", "float32"),
           ((1, 3, 3, 1), [1, 4, 4, 1], [1, 1, 1, 1], [1, 1, 1, 1], "SAME", "float32"),
           ((1, 5, 5, 2), [1, 2, 2, 1], [1, 2, 2, 1], [1, 2, 2, 1], "SAME", "int8"),
           ((0, 3, 3, 1), [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID", "float32")]
    for shp, ks, st, rt, pad, dt in eip:
        b.ok("ExtractImagePatches", {"images": D(shp, dt)}, {"ksizes": ks, "strides": st, "rates": rt, "padding": pad},
             tfd=tfd_for(dt, "images"),
             note="patch larger than image: VALID gives zero patches" if shp == (1, 3, 3, 1) and pad == "VALID" else None)
    b.err("ExtractImagePatches", {"images": D((1, 4, 4, 1), "float32")},
          {"ksizes": [2, 2, 2, 1], "strides": [1, 1, 1, 1], "rates": [1, 1, 1, 1], "padding": "VALID"},
          note="ksizes[0] must be 1")
    b.err("ExtractImagePatches", {"images": D((1, 4, 4, 1), "float32")},
          {"ksizes": [1, 2, 2, 1], "strides": [1, 1, 1, 2], "rates": [1, 1, 1, 1], "padding": "VALID"},
          note="strides[3] must be 1")
    b.err("ExtractImagePatches", {"images": D((4, 4, 1), "float32")},
          {"ksizes": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "rates": [1, 1, 1, 1], "padding": "VALID"},
          note="images must be 4-D")
    b.err("ExtractImagePatches", {"images": D((1, 4, 4, 1), "float32")},
          {"ksizes": [1, 2, 2], "strides": [1, 1, 1, 1], "rates": [1, 1, 1, 1], "padding": "VALID"},
          note="ksizes needs 4 entries")


# ----------------------------------------------------------------------------------------------
def make(root: str) -> str:
    fs = FixtureSet(SET_NAME)
    b = Builder(fs)
    for part in (identity_ops, shape_ops, fill_ops, reshape_ops, transpose_tile_reverse, concat_stack_split,
                 slice_pad, strided_slice, space_batch_depth):
        part(b)
    for s in b.surprises:
        print("NOTE (outcome differs from the script's expectation):", s, file=sys.stderr)
    return fs.write(root)


def _summary(folder):
    import json
    from collections import Counter
    with open(os.path.join(folder, "cases.json")) as fh:
        man = json.load(fh)
    total, errs = Counter(), Counter()
    for c in man["cases"]:
        total[c["op"]] += 1
        errs[c["op"]] += "expect_error" in c
    for op in sorted(total):
        print(f"{op:28s} {total[op]:4d} cases  ({errs[op]} error)")
    npz = os.path.join(folder, man["npz"])
    print(f"total {sum(total.values())} cases ({sum(errs.values())} error) over {len(total)} ops; "
          f"{npz}: {os.path.getsize(npz) / 1024:.1f} KiB")


if __name__ == "__main__":
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = make(os.path.join(repo, "tests", "fixtures"))
    _summary(out)
