"""Gradient fixtures whose shapes and indices are only known at run time (dev-only: needs
tensorflow-cpu).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_grad_dynamic.py     # -> tests/fixtures/grad_dynamic

Single-op pages (tools/fixtures_grad_array.py's `case`) where the axes, begin, paddings,
multiples or dims are fed Placeholders rather than literals, so blockgraph cannot know them
before the run and builds the gradient's shapes from Shape/Size/Rank blocks, as TF's gradient
functions do in a graph whose shapes are not fully defined. tests/test_gradients.py also runs
every gradient case with the Placeholders' shapes unknown (`[null, ...]`, or no shape at all).
All data movement, equality masks, exact divisions and Cumprods: compared bit for bit.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from fixtures_grad_array import case  # noqa: E402
from grad_fixture_lib import GradSet, literal  # noqa: E402

RNG = np.random.default_rng(20270115)


def f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def ints(v, dtype=np.int32):
    return np.asarray(v, dtype)


def make(root=None):
    s = GradSet("dynamic")
    ties = np.array([[1, 3, 3, 0], [2, 2, -1, 2], [0, 5, 5, 5]], np.float32)
    case(s, "sum_axis_fed", "Sum", {"input": f32(3, 4), "axis": ints(-1, np.int64)})
    case(s, "sum_axes_fed_keep", "Sum", {"input": f32(2, 3, 4), "axis": ints([0, 2])}, "keep_dims: true")
    case(s, "mean_axis_fed", "Mean", {"input": f32(3, 4), "axis": ints([1])})
    case(s, "mean_axes_fed_keep", "Mean", {"input": f32(2, 3, 5), "axis": ints([-1, 0], np.int64)},
         "keep_dims: true")
    case(s, "max_axis_fed", "Max", {"input": ties, "axis": ints([1])})
    case(s, "min_axis_fed_keep", "Min", {"input": ties, "axis": ints(0)}, "keep_dims: true")
    x = f32(2, 3, 2)
    x[1, 1, 0] = 0.0
    case(s, "prod_axes_fed", "Prod", {"input": x, "axis": ints([0, 2])})
    case(s, "prod_axis_fed_keep", "Prod", {"input": f32(3, 4), "axis": ints([-1])}, "keep_dims: true")
    case(s, "concat_axis_fed", "ConcatV2", {"values": [f32(2, 1), f32(2, 3)], "axis": ints(1)})
    case(s, "concat_neg_axis_fed", "ConcatV2", {"values": [f32(2, 2), f32(3, 2), f32(1, 2)],
                                                "axis": ints(-2, np.int64)})
    case(s, "slice_begin_fed", "Slice", {"input": f32(4, 5), "begin": ints([1, 2]),
                                         "size": literal([2, -1], "int32")})
    case(s, "pad_paddings_fed", "Pad", {"input": f32(2, 3), "paddings": ints([[1, 0], [2, 1]])})
    case(s, "pad_v2_paddings_fed", "PadV2", {"input": f32(2, 2), "paddings": ints([[0, 1], [1, 1]], np.int64),
                                             "constant_values": literal(0.5, "float32")})
    case(s, "tile_multiples_fed", "Tile", {"input": f32(2, 3), "multiples": ints([2, 2])})
    case(s, "fill_dims_fed", "Fill", {"dims": ints([2, 3]), "value": f32()})
    case(s, "gather_axis_fed", "GatherV2", {"params": f32(2, 5, 3), "indices": ints([[4, 1], [1, 1]]),
                                            "axis": ints(-2, np.int64)})
    case(s, "gather_axis0_fed", "GatherV2", {"params": f32(4, 3), "indices": ints([2, 0, 2]),
                                             "axis": ints(0)})
    case(s, "bias_add_grad", "BiasAddGrad", {"out_backprop": f32(2, 3, 4)})
    case(s, "bias_add_grad_nchw", "BiasAddGrad", {"out_backprop": f32(2, 3, 4, 2)}, "data_format: NCHW")
    return s.write() if root is None else s.write(root)


if __name__ == "__main__":
    print(f"wrote {make()}")
