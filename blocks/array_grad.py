"""Gradients of the array ops, as TF's `array_grad.py` builds them (data movement, so they are
exact), and the array ops whose outputs carry none.

Where TF computes an index or a size at run time from `Shape`, this uses the static shapes the
page's checks already know (literals); where they are not known before the run (a Placeholder
of shape [null, 3]), the blocks compute them from Shape, Size and Rank as TF's gradient
functions do (`blocks/_grad_shapes.py`). TF's results are the same either way: only data moves.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core.gradients import GradientError, gradient, no_gradient

from . import _grad_shapes as gs
from ._grad_shapes import i32 as _i32

no_gradient("Shape", "ShapeN", "Size", "Rank", "ZerosLike", "OnesLike", "StopGradient",
            "OneHot", "Where", "Unique", "UniqueWithCounts", "ListDiff", "EditDistance",
            "InvertPermutation", "BroadcastArgs", "Bitcast", "QuantizeV2", "Dequantize",
            "QuantizedConcat", "QuantizedReshape", "QuantizedInstanceNorm", "UnsortedSegmentSum")


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
    """SplitV of the gradient at the inputs' sizes along the axis: literals when known, else
    TF's way with run-time shapes (ShapeN of the inputs, their sizes along the axis)."""
    n = len(op.inputs("values"))
    rank, axis = gs.known_rank(op, "values", 0), gs.known_value(op, axis_port)
    if rank is not None and axis is not None:
        axis = int(axis.reshape(-1)[0]) % max(rank, 1)
        specs = [op.spec("values", i) for i in range(n)]
        sizes = [None if s is None or s.shape is None else s.shape[axis] for s in specs]
        if None not in sizes:
            s = op.add("SplitV", value=grad, size_splits=_i32(sizes), axis=axis, num_split=n)
            return {"values": [f"{s}.output.{i}" for i in range(n)]}
    if axis is not None and rank is not None:
        begin = _i32([axis, 0])
    else:               # concat_dim % rank(values[0])
        dim = op.input(axis_port)
        if gs.dtype_of(op, axis_port) not in (None, "int32"):
            dim = op.add("Cast", x=dim, DstT="int32")
        axis = op.add("FloorMod", x=dim, y=op.add("Rank", input=op.input("values", 0)))
        begin = op.add("Pack", values=[axis, _i32(0)])
    shapes = op.add("ShapeN", input=op.inputs("values"))
    stacked = op.add("Pack", values=[f"{shapes}.output.{i}" for i in range(n)], axis=1)
    sizes = op.add("Squeeze", input=op.add("Slice", input=stacked, begin=begin, size=_i32([1, -1])),
                   axis=[0])
    s = op.add("SplitV", value=grad, size_splits=sizes, axis=axis, num_split=n)
    return {"values": [f"{s}.output.{i}" for i in range(n)]}


@gradient("ConcatV2")
def _concat_v2_grad(op, grad):
    return _concat_grad(op, grad, "axis")


@gradient("Concat")
def _concat_v1_grad(op, grad):
    return _concat_grad(op, grad, "concat_dim")


@gradient("Slice")
def _slice_grad(op, grad):
    """Pad the gradient back to the input's shape: before = begin, after = shape(input) -
    shape(output) - begin (literals when known, else from Shape)."""
    shape, out, begin = gs.known_shape(op, "input"), op.out_spec(), gs.known_value(op, "begin")
    if shape is not None and begin is not None and out is not None and out.shape is not None \
            and None not in out.shape:
        begin = begin.reshape(-1).tolist()
        after = [d - s - b for d, s, b in zip(shape, out.shape, begin)]
        pads = {"value": [[int(b), int(a)] for b, a in zip(begin, after)], "dtype": "int32"}
        return {"input": op.add("Pad", input=grad, paddings=pads)}
    dtype = gs.dtype_of(op, "begin") or "int32"
    b = op.input("begin")
    after = op.add("Sub", x=op.add("Sub", x=gs.shape(op, op.input("input"), dtype),
                                   y=gs.shape(op, op.output(), dtype)), y=b)
    column = _i32([-1, 1])     # TF: [rank(input), 1]
    paddings = op.add("ConcatV2", values=[op.add("Reshape", tensor=b, shape=column),
                                          op.add("Reshape", tensor=after, shape=column)],
                      axis=_i32(1))
    return {"input": op.add("Pad", input=grad, paddings=paddings)}


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
    paddings = gs.known_value(op, "paddings")
    if paddings is not None:
        before = paddings.reshape(-1, 2)[:, 0]
        return {"input": op.add("Slice", input=grad, begin=_i32(before),
                                size=op.add("Shape", input=op.input("input")))}
    dtype = gs.dtype_of(op, "paddings") or "int32"
    column = op.add("Slice", input=op.input("paddings"), begin={"value": [0, 0], "dtype": dtype},
                    size={"value": [-1, 1], "dtype": dtype})      # TF: [rank(input), 1]
    begin = op.add("Reshape", tensor=column, shape=_i32([-1]))
    return {"input": op.add("Slice", input=grad, begin=begin,
                            size=gs.shape(op, op.input("input"), dtype))}


@gradient("Tile")
def _tile_grad(op, grad):
    """The gradient reshaped to interleaved (multiple, dim) pairs, summed over the multiples."""
    shape, multiples = gs.known_shape(op, "input"), gs.known_value(op, "multiples")
    if shape is not None and multiples is not None:
        split = [v for m, d in zip(multiples.reshape(-1).tolist(), shape) for v in (int(m), int(d))]
        r = op.add("Reshape", tensor=grad, shape=_i32(split))
        return {"input": op.add("Sum", input=r, axis=_i32(range(0, len(split), 2)), keep_dims=False)}
    dtype = gs.dtype_of(op, "multiples") or "int32"
    x_shape = gs.shape(op, op.input("input"), dtype)
    pairs = op.add("Pack", values=[op.input("multiples"), x_shape])
    split = op.add("Reshape", tensor=op.add("Transpose", x=pairs, perm=_i32([1, 0])), shape=_i32([-1]))
    rank = gs.known_rank(op, "input")
    axes = _i32(range(0, 2 * rank, 2)) if rank is not None else \
        op.add("Mul", x=gs.arange(op, x_shape), y={"value": 2, "dtype": dtype})
    return {"input": op.add("Sum", input=op.add("Reshape", tensor=grad, shape=split), axis=axes,
                            keep_dims=False)}


@gradient("BroadcastTo")
def _broadcast_to_grad(op, grad):
    shape = op.add("Shape", input=op.input("input"))
    args = op.add("BroadcastGradientArgs", s0=op.input("shape"), s1=shape)
    summed = op.add("Sum", input=grad, axis=f"{args}.r1", keep_dims=True)
    return {"input": op.add("Reshape", tensor=summed, shape=shape)}


def _gather_grad(op, grad, axis, params_port="params"):
    """TF's gradient of a gather along `axis` (batch_dims 0; None: known at run time only): the
    gathered gradient summed back into the params' rows (UnsortedSegmentSum, as TF densifies its
    IndexedSlices), the shapes literal when known, else from Shape and Size."""
    shape, idx_shape = gs.known_shape(op, params_port), gs.known_shape(op, "indices")
    if shape is not None and idx_shape is not None and axis is not None:
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
    ps = gs.shape(op, op.input(params_port))
    size = op.add("ExpandDims", input=op.add("Size", input=op.input("indices")), axis=_i32(0))
    ids = op.add("Reshape", tensor=op.input("indices"), shape=size)
    if axis == 0:
        values = op.add("Reshape", tensor=grad, shape=op.add(
            "ConcatV2", values=[size, gs.part(op, ps, 1)], axis=_i32(0)))
        return op.add("UnsortedSegmentSum", data=values, segment_ids=ids,
                      num_segments=gs.item(op, ps, 0))
    if axis is not None:
        rank = gs.known_rank(op, params_port)
        outer, inner, num = gs.part(op, ps, 0, axis), gs.part(op, ps, axis + 1), gs.item(op, ps, axis)
        perm = [axis] + list(range(axis)) + list(range(axis + 1, rank))
        perm, inverse = _i32(perm), _i32(np.argsort(perm))
    else:       # the axis made non-negative at run time; the permutations from range()
        a = op.input("axis")
        if gs.dtype_of(op, "axis") not in (None, "int32"):
            a = op.add("Cast", x=a, DstT="int32")
        a = op.add("FloorMod", x=a, y=op.add("Rank", input=op.input(params_port)))
        a1 = op.add("AddV2", x=a, y=_i32(1))
        outer = op.add("Slice", input=ps, begin=_i32([0]), size=op.add("ExpandDims", input=a, axis=_i32(0)))
        inner = op.add("Slice", input=ps, begin=op.add("ExpandDims", input=a1, axis=_i32(0)),
                       size=_i32([-1]))
        num = op.add("GatherV2", params=ps, indices=a, axis=_i32(0))
        perm = op.add("ConcatV2", values=[op.add("ExpandDims", input=a, axis=_i32(0)),
                                          gs.arange(op, outer),
                                          op.add("AddV2", x=gs.arange(op, inner), y=a1)],
                      axis=_i32(0))
        inverse = op.add("InvertPermutation", x=perm)
    values = op.add("Reshape", tensor=grad,
                    shape=op.add("ConcatV2", values=[outer, size, inner], axis=_i32(0)))
    summed = op.add("UnsortedSegmentSum", data=op.add("Transpose", x=values, perm=perm),
                    segment_ids=ids, num_segments=num)
    return op.add("Transpose", x=summed, perm=inverse)


@gradient("GatherV2")
def _gather_v2_grad(op, grad):
    if op.attrs.get("batch_dims", 0):
        raise GradientError(f"the gradient of '{op.id}' (GatherV2) with batch_dims is not built "
                            "here yet", op.id)
    rank, axis = gs.known_rank(op, "params"), gs.known_value(op, "axis")
    if axis is not None:
        axis = int(axis.reshape(-1)[0])
        axis = axis % max(rank, 1) if rank is not None else (axis if axis == 0 else None)
    return {"params": _gather_grad(op, grad, axis)}


@gradient("Gather")
def _gather_v1_grad(op, grad):
    return {"params": _gather_grad(op, grad, 0)}


@gradient("GatherNd")
def _gather_nd_grad(op, grad):
    idx = op.spec("indices")
    idx = None if idx is None else idx.shape
    shape = op.add("Shape", input=op.input("params"), out_type=op.spec("indices").dtype)
    if idx is not None and len(idx) == 2 and idx[-1] == 1:  # TF's IndexedSlices case, densified
        ids = op.add("Squeeze", input=op.input("indices"), axis=[-1])
        params = gs.known_shape(op, "params")
        rows = {"value": int(params[0]), "dtype": "int32"} if params is not None else \
            gs.item(op, shape, 0)
        return {"params": op.add("UnsortedSegmentSum", data=grad, segment_ids=ids, num_segments=rows)}
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
    """The sum of every element (TF: reduce_sum(grad), over range(rank) when the rank is not
    known before the run; dims is the 1-D shape of the output, of length rank)."""
    dims = gs.known_shape(op, "dims")
    axes = _i32(range(int(dims[0]))) if dims is not None else gs.arange(op, op.input("dims"))
    return {"value": op.add("Sum", input=grad, axis=axes, keep_dims=False)}


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
