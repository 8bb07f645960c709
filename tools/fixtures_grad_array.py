"""Gradient fixtures of the array ops and FakeQuant (dev-only: needs tensorflow-cpu).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_grad_array.py     # -> tests/fixtures/grad_array

One small page per case: Placeholders x0.. feeding the op under test, its output weighted by a
random tensor (Mul, so the incoming gradient is not all ones) and an AddSymbolicGradients block
`g` differentiating that with respect to the float inputs. Data movement and FakeQuant's gradients
are exact; the weighting Mul is exact too, so every case compares bit for bit (those that sum
copies, Tile and GatherV2 with repeated indices, add few terms of known order).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from grad_fixture_lib import GradSet, literal  # noqa: E402

RNG = np.random.default_rng(20261202)


def f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def case(s: GradSet, cid: str, op: str, inputs: dict, attrs: str = "", out: str = "n0",
         exact=True, differentiate=None, feeds_extra=None):
    """A page x_* -> n0 = op(...) -> w * n0 -> g. `inputs`: port -> array (a Placeholder) or a
    page text literal (str)."""
    lines = ["format: 1", f"page: {cid}", "blocks:"]
    feeds, wrt, ports = {}, [], []
    for port, v in inputs.items():
        if isinstance(v, str):
            ports.append(f"{port}: {v}")
            continue
        if isinstance(v, list):
            names = []
            for i, a in enumerate(v):
                name = f"x_{port}_{i}"
                lines.append(f"  {name}: {{op: Placeholder, attrs: {{dtype: {a.dtype.name}, "
                             f"shape: {list(a.shape)}}}}}")
                feeds[name] = a
                names.append(name)
                if a.dtype.kind == "f":
                    wrt.append(name)
            ports.append(f"{port}: [{', '.join(names)}]")
            continue
        name = f"x_{port}"
        lines.append(f"  {name}: {{op: Placeholder, attrs: {{dtype: {v.dtype.name}, shape: {list(v.shape)}}}}}")
        feeds[name] = v
        ports.append(f"{port}: {name}")
        if v.dtype.kind == "f" and (differentiate is None or port in differentiate):
            wrt.append(name)
    lines.append(f"  n0: {{op: {op}, inputs: {{{', '.join(ports)}}}" + (f", attrs: {{{attrs}}}" if attrs else "") + "}")
    lines.append(f"  w: {{op: Placeholder, attrs: {{dtype: float32}}}}")
    lines.append(f"  loss: {{op: Mul, inputs: {{x: {out}, y: w}}}}")
    lines.append(f"  g: {{op: AddSymbolicGradients, inputs: {{outputs: [loss], inputs: [{', '.join(wrt)}]}}}}")
    page = "\n".join(lines) + "\n"
    # the output's shape decides w's: run the forward once in TF to learn it
    shape = _forward_shape(page, feeds, out)
    feeds["w"] = f32(*shape)
    page = page.replace("w: {op: Placeholder, attrs: {dtype: float32}}",
                        f"w: {{op: Placeholder, attrs: {{dtype: float32, shape: {list(shape)}}}}}")
    s.case(cid, page, feeds, exact=exact, tags=[op])


def _forward_shape(page, feeds, out):
    import tensorflow as tf
    import yaml
    from grad_fixture_lib import _outputs_of, _value
    spec = yaml.safe_load(page)
    results = {}
    for bid, b in spec["blocks"].items():
        if b["op"] == "Placeholder":
            if bid in feeds:
                results[bid] = {"output": tf.constant(feeds[bid])}
            continue
        if bid in ("loss", "g"):
            break
        kwargs = {k: _value(v, results, False) for k, v in b.get("inputs", {}).items()}
        res = getattr(tf.raw_ops, b["op"])(**kwargs, **b.get("attrs", {}))
        names = _outputs_of(b["op"])
        results[bid] = dict(zip(names, [res] if len(names) == 1 else res))
    return tuple(_value(out, results, False).shape)


def make(root=None):
    s = GradSet("array")
    i32 = lambda v: literal(v, "int32")   # noqa: E731
    case(s, "identity", "Identity", {"input": f32(3, 2)})
    case(s, "reshape", "Reshape", {"tensor": f32(2, 3, 2), "shape": i32([3, 4])})
    case(s, "expand_dims", "ExpandDims", {"input": f32(2, 3), "axis": i32(-1)})
    case(s, "squeeze", "Squeeze", {"input": f32(2, 1, 3)}, "axis: [1]")
    case(s, "transpose", "Transpose", {"x": f32(2, 3, 4), "perm": i32([2, 0, 1])})
    case(s, "pack", "Pack", {"values": [f32(2, 3), f32(2, 3), f32(2, 3)]}, "axis: 1")
    case(s, "unpack_some", "Unpack", {"value": f32(3, 2)}, "num: 3, axis: 0", out="n0.output.1")
    case(s, "split", "Split", {"axis": i32(1), "value": f32(2, 6)}, "num_split: 3", out="n0.output.2")
    case(s, "split_v", "SplitV", {"value": f32(5, 2), "size_splits": i32([1, 4]), "axis": i32(0)},
         "num_split: 2", out="n0.output.1")
    case(s, "concat_v2", "ConcatV2", {"values": [f32(2, 1), f32(2, 3)], "axis": i32(1)})
    case(s, "concat_v2_neg_axis", "ConcatV2", {"values": [f32(2, 2), f32(3, 2)], "axis": i32(-2)})
    case(s, "slice", "Slice", {"input": f32(4, 5), "begin": i32([1, 2]), "size": i32([2, -1])})
    case(s, "strided_slice", "StridedSlice", {"input": f32(6, 4), "begin": i32([1, 0]),
                                              "end": i32([5, 4]), "strides": i32([2, 1])},
         "begin_mask: 0, end_mask: 2, ellipsis_mask: 0, new_axis_mask: 0, shrink_axis_mask: 0")
    case(s, "strided_slice_shrink", "StridedSlice", {"input": f32(3, 4), "begin": i32([1]),
                                                     "end": i32([2]), "strides": i32([1])},
         "shrink_axis_mask: 1")
    case(s, "pad", "Pad", {"input": f32(2, 3), "paddings": i32([[1, 0], [2, 1]])})
    case(s, "pad_v2", "PadV2", {"input": f32(2, 2), "paddings": i32([[0, 1], [1, 1]]),
                                "constant_values": literal(0.5, "float32")})
    case(s, "gather_v2_axis0_repeats", "GatherV2",
         {"params": f32(4, 3), "indices": np.array([2, 0, 2, 3], np.int32), "axis": i32(0)})
    case(s, "gather_v2_axis1", "GatherV2",
         {"params": f32(2, 5, 3), "indices": np.array([[4, 1], [1, 1]], np.int64), "axis": i32(1)})
    case(s, "gather_v1", "Gather", {"params": f32(5, 2), "indices": np.array([4, 0, 4], np.int32)})
    case(s, "gather_nd", "GatherNd", {"params": f32(3, 4, 2), "indices": np.array([[0, 1], [2, 3], [0, 1]], np.int32)})
    case(s, "gather_nd_rows", "GatherNd", {"params": f32(4, 2), "indices": np.array([[3], [1], [3]], np.int32)})
    case(s, "reverse_v2", "ReverseV2", {"tensor": f32(3, 4), "axis": i32([1])})
    case(s, "cast_f64_f32", "Cast", {"x": f32(3, 2).astype(np.float64)}, "DstT: float32")
    case(s, "space_to_depth", "SpaceToDepth", {"input": f32(1, 4, 4, 2)}, "block_size: 2")
    case(s, "depth_to_space", "DepthToSpace", {"input": f32(1, 2, 2, 8)}, "block_size: 2")
    case(s, "space_to_batch_nd", "SpaceToBatchND", {"input": f32(1, 4, 4, 1), "block_shape": i32([2, 2]),
                                                    "paddings": i32([[0, 0], [0, 0]])})
    case(s, "batch_to_space_nd", "BatchToSpaceND", {"input": f32(4, 2, 2, 1), "block_shape": i32([2, 2]),
                                                    "crops": i32([[0, 0], [0, 0]])})
    case(s, "matrix_band_part", "MatrixBandPart", {"input": f32(4, 4), "num_lower": literal(1, "int64"),
                                                   "num_upper": literal(0, "int64")})
    case(s, "qdq_v2", "QuantizeAndDequantizeV2", {"input": f32(2, 3), "input_min": literal(-1.0, "float32"),
                                                  "input_max": literal(1.0, "float32")}, "range_given: true")
    case(s, "tile", "Tile", {"input": f32(2, 3), "multiples": i32([2, 1])})
    case(s, "broadcast_to", "BroadcastTo", {"input": f32(1, 3), "shape": i32([2, 3])})
    case(s, "fill", "Fill", {"dims": i32([2, 2]), "value": f32()})
    x = np.linspace(-1.2, 1.2, 12, dtype=np.float32).reshape(3, 4)
    case(s, "fq_args", "FakeQuantWithMinMaxArgs", {"inputs": x}, "min: -1.0, max: 1.0, num_bits: 4")
    case(s, "fq_vars", "FakeQuantWithMinMaxVars", {"inputs": x, "min": np.float32(-1.0),
                                                   "max": np.float32(1.0)}, "num_bits: 4", exact=False)
    case(s, "fq_per_channel", "FakeQuantWithMinMaxVarsPerChannel",
         {"inputs": x, "min": np.full(4, -0.9, np.float32), "max": np.full(4, 1.0, np.float32)},
         "num_bits: 3", exact=False)
    return s.write() if root is None else s.write(root)


if __name__ == "__main__":
    print(f"wrote {make()}")
