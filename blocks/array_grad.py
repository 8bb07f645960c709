"""Gradients of the array ops, as TF's `array_grad.py` builds them (data movement, so they are
exact), and the array ops whose outputs carry none.

Where TF computes an index or a size at run time from `Shape`, this uses the static shapes the
page's checks already know (a gradient through an op of unknown shape is then a located error
saying so); TF's results are the same either way, since only data is moved.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core.gradients import GradientError, gradient, no_gradient

no_gradient("Shape", "ShapeN", "Size", "Rank", "ZerosLike", "OnesLike", "StopGradient",
            "OneHot", "Where", "Unique", "UniqueWithCounts", "ListDiff", "EditDistance",
            "InvertPermutation", "BroadcastArgs", "Bitcast", "QuantizeV2", "Dequantize",
            "QuantizedConcat", "QuantizedReshape", "QuantizedInstanceNorm", "UnsortedSegmentSum")


def _i32(values) -> dict:
    """An int32 literal."""
    return {"value": [int(v) for v in values], "dtype": "int32"}


def _static_shape(op, port, index=None, what="input"):
    s = op.spec(port, index)
    if s is None or s.shape is None or None in s.shape:
        raise GradientError(f"the gradient of '{op.id}' ({op.type}) needs the static shape of its "
                            f"{what} '{port}', which is not known before the run", op.id)
    return tuple(s.shape)


def _static_value(op, port):
    s = op.spec(port)
    if s is None or s.value is None:
        raise GradientError(f"the gradient of '{op.id}' ({op.type}) needs the value of its input "
                            f"'{port}' before the run (a literal or a Const)", op.id)
    return np.asarray(s.value)


def _zeros_for_none(op, grads, port="output"):
    """Gradients of a list output with None (unconnected) items replaced by zeros."""
    return [g if g is not None else op.add("ZerosLike", x=op.output(port, i))
            for i, g in enumerate(grads)]


@gradient("Identity", "Snapshot", "DebugGradientIdentity")
def _identity_grad(op, grad):
    return {"input": grad}


@gradient("IdentityN")
def _identity_n_grad(op, grad):
    return {"input": list(op.grads[0])}


@gradient("CheckNumerics")
def _check_numerics_grad(op, grad):
    return {"tensor": op.add("CheckNumerics", tensor=grad, message=(
        "Not a number (NaN) or infinity (Inf) values detected in gradient. " + op.attrs["message"]))}


@gradient("PreventGradient")
def _prevent_gradient_grad(op, grad):
    raise GradientError(f"Gradient explicitly disabled. Reason: {op.attrs['message']}", op.id)


@gradient("Reshape")
def _reshape_grad(op, grad):
    return {"tensor": op.add("Reshape", tensor=grad, shape=op.add("Shape", input=op.input("tensor")))}


@gradient("ExpandDims", "Squeeze")
def _reshape_to_input_grad(op, grad):
    return {"input": op.add("Reshape", tensor=grad, shape=op.add("Shape", input=op.input("input")))}


@gradient("Transpose")
def _transpose_grad(op, grad):
    return {"x": op.add("Transpose", x=grad, perm=op.add("InvertPermutation", x=op.input("perm")))}


@gradient("Pack")
def _pack_grad(op, grad):
    n = len(op.inputs("values"))
    u = op.add("Unpack", value=grad, num=n, axis=op.attrs["axis"])
    return {"values": [f"{u}.output.{i}" for i in range(n)]}


@gradient("Unpack")
def _unpack_grad(op, grad):
    return {"value": op.add("Pack", values=_zeros_for_none(op, op.grads[0]), axis=op.attrs["axis"])}


@gradient("Split")
def _split_grad(op, grad):
    return {"value": op.add("ConcatV2", values=_zeros_for_none(op, op.grads[0]), axis=op.input("axis"))}


@gradient("SplitV")
def _split_v_grad(op, grad):
    return {"value": op.add("ConcatV2", values=_zeros_for_none(op, op.grads[0]), axis=op.input("axis"))}


def _concat_grad(op, grad, axis_port):
    items = op.inputs("values")
    rank = len(_static_shape(op, "values", 0))
    axis = int(_static_value(op, axis_port).reshape(-1)[0]) % max(rank, 1)
    sizes = [_static_shape(op, "values", i)[axis] for i in range(len(items))]
    s = op.add("SplitV", value=grad, size_splits=_i32(sizes), axis=axis, num_split=len(sizes))
    return {"values": [f"{s}.output.{i}" for i in range(len(sizes))]}


@gradient("ConcatV2")
def _concat_v2_grad(op, grad):
    return _concat_grad(op, grad, "axis")


@gradient("Concat")
def _concat_v1_grad(op, grad):
    return _concat_grad(op, grad, "concat_dim")


@gradient("Slice")
def _slice_grad(op, grad):
    shape = _static_shape(op, "input")
    out = op.out_spec()
    begin = _static_value(op, "begin").reshape(-1).tolist()
    if out is None or out.shape is None or None in out.shape:
        raise GradientError(f"the gradient of '{op.id}' (Slice) needs its static output shape", op.id)
    after = [d - s - b for d, s, b in zip(shape, out.shape, begin)]
    pads = {"value": [[int(b), int(a)] for b, a in zip(begin, after)], "dtype": "int32"}
    return {"input": op.add("Pad", input=grad, paddings=pads)}


_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


@gradient("StridedSlice")
def _strided_slice_grad(op, grad):
    masks = {m: op.attrs[m] for m in _MASKS}
    return {"input": op.add("StridedSliceGrad", shape=op.add("Shape", input=op.input("input")),
                            begin=op.input("begin"), end=op.input("end"),
                            strides=op.input("strides"), dy=grad, **masks)}


@gradient("StridedSliceGrad")
def _strided_slice_grad_grad(op, grad):
    masks = {m: op.attrs[m] for m in _MASKS}
    return {"dy": op.add("StridedSlice", input=grad, begin=op.input("begin"), end=op.input("end"),
                         strides=op.input("strides"), **masks)}


@gradient("Pad", "PadV2")
def _pad_grad(op, grad):
    before = _static_value(op, "paddings").reshape(-1, 2)[:, 0]
    return {"input": op.add("Slice", input=grad, begin=_i32(before),
                            size=op.add("Shape", input=op.input("input")))}


@gradient("Tile")
def _tile_grad(op, grad):
    shape = _static_shape(op, "input")
    multiples = _static_value(op, "multiples").reshape(-1).tolist()
    split = [v for m, d in zip(multiples, shape) for v in (int(m), int(d))]
    r = op.add("Reshape", tensor=grad, shape=_i32(split))
    return {"input": op.add("Sum", input=r, axis=_i32(range(0, len(split), 2)), keep_dims=False)}


@gradient("BroadcastTo")
def _broadcast_to_grad(op, grad):
    shape = op.add("Shape", input=op.input("input"))
    args = op.add("BroadcastGradientArgs", s0=op.input("shape"), s1=shape)
    summed = op.add("Sum", input=grad, axis=f"{args}.r1", keep_dims=True)
    return {"input": op.add("Reshape", tensor=summed, shape=shape)}


def _gather_grad(op, grad, axis: int, params_port="params"):
    """TF's gradient of a gather along `axis` (batch_dims 0): the gathered gradient summed back
    into the params' rows (UnsortedSegmentSum, as TF densifies its IndexedSlices)."""
    shape = _static_shape(op, params_port)
    idx_shape = _static_shape(op, "indices")
    n_idx = int(np.prod(idx_shape)) if idx_shape else 1
    outer, inner = list(shape[:axis]), list(shape[axis + 1:])
    values = op.add("Reshape", tensor=grad, shape=_i32(outer + [n_idx] + inner))
    perm = [axis] + list(range(axis)) + list(range(axis + 1, len(shape)))
    if axis:
        values = op.add("Transpose", x=values, perm=_i32(perm))
    ids = op.add("Reshape", tensor=op.input("indices"), shape=_i32([n_idx]))
    summed = op.add("UnsortedSegmentSum", data=values, segment_ids=ids,
                    num_segments={"value": int(shape[axis]), "dtype": "int32"})
    if axis:
        summed = op.add("Transpose", x=summed, perm=_i32(np.argsort(perm)))
    return summed


@gradient("GatherV2")
def _gather_v2_grad(op, grad):
    if op.attrs.get("batch_dims", 0):
        raise GradientError(f"the gradient of '{op.id}' (GatherV2) with batch_dims is not built "
                            "here yet", op.id)
    rank = len(_static_shape(op, "params"))
    axis = int(_static_value(op, "axis").reshape(-1)[0]) % max(rank, 1)
    return {"params": _gather_grad(op, grad, axis)}


@gradient("Gather")
def _gather_v1_grad(op, grad):
    return {"params": _gather_grad(op, grad, 0)}


@gradient("GatherNd")
def _gather_nd_grad(op, grad):
    idx = _static_shape(op, "indices")
    shape = op.add("Shape", input=op.input("params"), out_type=op.spec("indices").dtype)
    if len(idx) == 2 and idx[-1] == 1:     # TF's IndexedSlices case, densified by segment sum
        ids = op.add("Squeeze", input=op.input("indices"), axis=[-1])
        rows = _static_shape(op, "params")[0]
        return {"params": op.add("UnsortedSegmentSum", data=grad, segment_ids=ids,
                                 num_segments={"value": int(rows), "dtype": "int32"})}
    return {"params": op.add("ScatterNd", indices=op.input("indices"), updates=grad, shape=shape)}


@gradient("ScatterNd")
def _scatter_nd_grad(op, grad):
    return {"updates": op.add("GatherNd", params=grad, indices=op.input("indices"))}


@gradient("ReverseV2")
def _reverse_v2_grad(op, grad):
    return {"tensor": op.add("ReverseV2", tensor=grad, axis=op.input("axis"))}


@gradient("ReverseSequence")
def _reverse_sequence_grad(op, grad):
    return {"input": op.add("ReverseSequence", input=grad, seq_lengths=op.input("seq_lengths"),
                            seq_dim=op.attrs["seq_dim"], batch_dim=op.attrs["batch_dim"])}


_CAST_DIFFERENTIABLE = ("float16", "float32", "float64", "bfloat16", "complex64", "complex128")


@gradient("Cast")
def _cast_grad(op, grad):
    src = op.spec("x").dtype
    if src in _CAST_DIFFERENTIABLE and op.attrs["DstT"] in _CAST_DIFFERENTIABLE:
        return {"x": op.add("Cast", x=grad, DstT=src)}
    return {}


@gradient("Fill")
def _fill_grad(op, grad):
    rank = int(_static_shape(op, "dims")[0])       # dims is the 1-D shape of the output
    return {"value": op.add("Sum", input=grad, axis=_i32(range(rank)), keep_dims=False)}


@gradient("SpaceToDepth")
def _space_to_depth_grad(op, grad):
    return {"input": op.add("DepthToSpace", input=grad, block_size=op.attrs["block_size"],
                            data_format=op.attrs["data_format"])}


@gradient("DepthToSpace")
def _depth_to_space_grad(op, grad):
    return {"input": op.add("SpaceToDepth", input=grad, block_size=op.attrs["block_size"],
                            data_format=op.attrs["data_format"])}


@gradient("SpaceToBatchND")
def _space_to_batch_nd_grad(op, grad):
    return {"input": op.add("BatchToSpaceND", input=grad, block_shape=op.input("block_shape"),
                            crops=op.input("paddings"))}


@gradient("BatchToSpaceND")
def _batch_to_space_nd_grad(op, grad):
    return {"input": op.add("SpaceToBatchND", input=grad, block_shape=op.input("block_shape"),
                            paddings=op.input("crops"))}


@gradient("QuantizeAndDequantizeV2")
def _quantize_and_dequantize_v2_grad(op, grad):
    return {"input": grad}


@gradient("MatrixBandPart")
def _matrix_band_part_grad(op, grad):
    return {"input": op.add("MatrixBandPart", input=grad, num_lower=op.input("num_lower"),
                            num_upper=op.input("num_upper"))}


@gradient("Diag")
def _diag_grad(op, grad):
    return {"diagonal": op.add("DiagPart", input=grad)}


@gradient("DiagPart")
def _diag_part_grad(op, grad):
    return {"input": op.add("Diag", diagonal=grad)}
