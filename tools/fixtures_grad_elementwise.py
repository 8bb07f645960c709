"""Gradient fixtures of the element-wise math and nn ops (dev-only: needs tensorflow-cpu).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_grad_elementwise.py   # -> tests/fixtures/grad_elementwise

Single-op pages (tools/fixtures_grad_array.py's `case`: Placeholders -> op -> weighted by a
random tensor -> AddSymbolicGradients) for every differentiable element-wise op on inputs of
one shape, and a few chains. Broadcasting cases need Sum (the reductions family): add them
here once it is merged (`bcast_*` below, commented out).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from fixtures_grad_array import case  # noqa: E402
from grad_fixture_lib import GradSet  # noqa: E402

RNG = np.random.default_rng(20261215)


def f32(*shape, lo=-2.0, hi=2.0):
    return RNG.uniform(lo, hi, shape).astype(np.float32)


def pos(*shape):
    return f32(*shape, lo=0.2, hi=3.0)


def make(root=None):
    s = GradSet("elementwise")
    for op in ("Add", "AddV2", "Sub", "Mul", "Maximum", "Minimum", "SquaredDifference"):
        case(s, op.lower(), op, {"x": f32(3, 4), "y": f32(3, 4)})
    for op in ("Div", "RealDiv", "DivNoNan", "FloorMod"):
        case(s, op.lower(), op, {"x": f32(3, 4), "y": pos(3, 4)})
    case(s, "pow", "Pow", {"x": pos(3, 4), "y": f32(3, 4)})
    case(s, "atan2", "Atan2", {"y": f32(3, 4), "x": f32(3, 4)})
    for op in ("Neg", "Abs", "Square", "Exp", "Expm1", "Sin", "Cos", "Tanh", "Sigmoid", "Erf",
               "Sign"):
        case(s, op.lower(), op, {"x": f32(2, 5)})
    for op in ("Sqrt", "Rsqrt", "Reciprocal", "Log", "Log1p"):
        case(s, op.lower(), op, {"x": pos(2, 5)})
    for op in ("Relu", "Relu6", "Elu", "Selu", "Softsign"):
        case(s, op.lower(), op, {"features": f32(2, 6, lo=-7, hi=7)})
    case(s, "softplus", "Softplus", {"features": f32(2, 6, lo=-7, hi=7)}, exact=False)
    case(s, "leaky_relu", "LeakyRelu", {"features": f32(2, 6)}, "alpha: 0.3")
    case(s, "bias_add", "BiasAdd", {"value": f32(2, 3, 4), "bias": f32(4)}, exact=False)
    case(s, "bias_add_nchw", "BiasAdd", {"value": f32(2, 3, 4), "bias": f32(3)},
         "data_format: NCHW", exact=False)
    case(s, "add_n", "AddN", {"inputs": [f32(2, 3), f32(2, 3), f32(2, 3)]})
    case(s, "select", "Select", {"condition": RNG.random((3, 4)) > 0.5, "x": f32(3, 4),
                                 "y": f32(3, 4)})
    case(s, "select_v2", "SelectV2", {"condition": RNG.random((3, 4)) > 0.5, "t": f32(3, 4),
                                      "e": f32(3, 4)})
    case(s, "clip_by_value", "ClipByValue", {"t": f32(3, 4), "clip_value_min": f32(3, 4, lo=-1, hi=0),
                                             "clip_value_max": f32(3, 4, lo=0, hi=1)})
    for op, y in (("SigmoidGrad", f32(2, 3, lo=0.1, hi=0.9)), ("TanhGrad", f32(2, 3, lo=-0.9, hi=0.9)),
                  ("SqrtGrad", pos(2, 3)), ("RsqrtGrad", pos(2, 3)), ("ReciprocalGrad", pos(2, 3))):
        case(s, op.lower(), op, {"y": y, "dy": f32(2, 3)})
    for op in ("ReluGrad", "Relu6Grad", "LeakyReluGrad"):
        case(s, op.lower(), op, {"gradients": f32(2, 3), "features": f32(2, 3, lo=-7, hi=7)})
    case(s, "softplusgrad", "SoftplusGrad", {"gradients": f32(2, 3),
                                             "features": f32(2, 3, lo=-7, hi=7)}, exact=False)
    case(s, "elu_grad", "EluGrad", {"gradients": f32(2, 3), "outputs": f32(2, 3, lo=-0.9, hi=2)})
    return s.write() if root is None else s.write(root)


if __name__ == "__main__":
    print(f"wrote {make()}")
