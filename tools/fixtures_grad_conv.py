"""Gradient fixtures of the matrix products, convolutions and pools (dev-only: needs tensorflow-cpu).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_grad_conv.py     # -> tests/fixtures/grad_conv

Single-op pages as `fixtures_grad_array.py` builds them (the op's output weighted by a random tensor with
Mul, so the incoming gradient is not all ones): MatMul in its four transpose forms, BatchMatMul,
BatchMatMulV2 (adjoints; batch dims broadcast both ways, which sums the gradient over them) and V3,
Conv2D (strides, SAME / VALID / EXPLICIT, 1x1), its two backprops (their gradients: the other backprop
and Conv2D), DepthwiseConv2dNative and its backprops, MaxPool (overlapping windows, ties, EXPLICIT), AvgPool,
MaxPoolGrad (-> MaxPoolGradGrad), MaxPoolGradGrad (-> MaxPoolGrad), AvgPoolGrad (-> AvgPool); then a few
chains (conv -> pool -> matmul). The pools, the depthwise convolutions and their gradient kernels are
bit-exact, so their cases compare exactly; the GEMM-based ones within the tolerance of grad_fixture_lib.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from fixtures_grad_array import case  # noqa: E402
from grad_fixture_lib import GradSet, literal  # noqa: E402

RNG = np.random.default_rng(20261210)


def f32(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def i32(v):
    return literal(v, "int32")


def attrs(**kw):
    return ", ".join(f"{k}: {_yaml(v)}" for k, v in kw.items())


def _yaml(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return v
    return str(v).replace("'", "")


def matmuls(s):
    for ta in (False, True):
        for tb in (False, True):
            a, b = f32(*((4, 3) if ta else (3, 4))), f32(*((5, 4) if tb else (4, 5)))
            case(s, f"matmul_t{int(ta)}{int(tb)}", "MatMul", {"a": a, "b": b},
                 attrs(transpose_a=ta, transpose_b=tb), exact=False)
    for ax in (False, True):
        for ay in (False, True):
            x, y = f32(*((2, 4, 3) if ax else (2, 3, 4))), f32(*((2, 5, 4) if ay else (2, 4, 5)))
            case(s, f"batch_matmul_v1_a{int(ax)}{int(ay)}", "BatchMatMul", {"x": x, "y": y},
                 attrs(adj_x=ax, adj_y=ay), exact=False)
            case(s, f"batch_matmul_v2_a{int(ax)}{int(ay)}", "BatchMatMulV2",
                 {"x": f32(*((2, 1, 4, 3) if ax else (2, 1, 3, 4))), "y": f32(*((3, 5, 4) if ay else (3, 4, 5)))},
                 attrs(adj_x=ax, adj_y=ay), exact=False)
    case(s, "batch_matmul_v2_rank2_y", "BatchMatMulV2", {"x": f32(2, 3, 4), "y": f32(4, 5)}, exact=False)
    case(s, "batch_matmul_v2_rank2_x", "BatchMatMulV2", {"x": f32(3, 4), "y": f32(2, 4, 5)}, exact=False)
    case(s, "batch_matmul_v2_same_batch", "BatchMatMulV2", {"x": f32(2, 3, 4), "y": f32(2, 4, 5)}, exact=False)
    case(s, "batch_matmul_v2_matrices", "BatchMatMulV2", {"x": f32(3, 4), "y": f32(2, 4)},
         attrs(adj_x=False, adj_y=True), exact=False)
    case(s, "batch_matmul_v3", "BatchMatMulV3", {"x": f32(2, 3, 4), "y": f32(4, 5)}, "Tout: float32", exact=False)


def convs(s):
    def conv(cid, x, f, strides=(1, 1, 1, 1), padding="SAME", ep=None, exact=False):
        a = attrs(strides=list(strides), padding=padding) + (f", explicit_paddings: {ep}" if ep else "")
        case(s, cid, "Conv2D", {"input": x, "filter": f}, a, exact=exact)
    conv("conv2d_valid", f32(1, 5, 5, 2), f32(3, 3, 2, 3), padding="VALID")
    conv("conv2d_same_s2", f32(2, 6, 7, 3), f32(3, 2, 3, 2), strides=(1, 2, 2, 1))
    conv("conv2d_explicit", f32(1, 6, 5, 2), f32(2, 3, 2, 3), strides=(1, 2, 1, 1), padding="EXPLICIT",
         ep=[0, 0, 1, 2, 0, 1, 0, 0])
    conv("conv2d_1x1", f32(2, 4, 4, 3), f32(1, 1, 3, 5), padding="VALID")
    x, f = f32(1, 5, 5, 2), f32(3, 3, 2, 3)
    dy = f32(1, 3, 3, 3)
    case(s, "conv2d_backprop_input", "Conv2DBackpropInput",
         {"input_sizes": i32([1, 5, 5, 2]), "filter": f, "out_backprop": dy},
         attrs(strides=[1, 1, 1, 1], padding="VALID"), exact=False)
    case(s, "conv2d_backprop_filter", "Conv2DBackpropFilter",
         {"input": x, "filter_sizes": i32([3, 3, 2, 3]), "out_backprop": dy},
         attrs(strides=[1, 1, 1, 1], padding="VALID"), exact=False)
    case(s, "conv2d_backprop_input_same_s2", "Conv2DBackpropInput",
         {"input_sizes": i32([1, 6, 6, 2]), "filter": f32(3, 3, 2, 2), "out_backprop": f32(1, 3, 3, 2)},
         attrs(strides=[1, 2, 2, 1], padding="SAME"), exact=False)


def depthwise(s):
    def dw(cid, x, f, stride=1, padding="SAME", ep=None):
        a = attrs(strides=[1, stride, stride, 1], padding=padding) + (f", explicit_paddings: {ep}" if ep else "")
        case(s, cid, "DepthwiseConv2dNative", {"input": x, "filter": f}, a)
    dw("depthwise_valid", f32(1, 5, 5, 2), f32(3, 3, 2, 1), padding="VALID")
    dw("depthwise_same_s2_m2", f32(2, 6, 7, 3), f32(3, 2, 3, 2), stride=2)
    dw("depthwise_explicit_m3", f32(1, 5, 6, 2), f32(3, 2, 2, 3), padding="EXPLICIT", ep=[0, 0, 2, 1, 1, 0, 0, 0])
    case(s, "depthwise_backprop_input", "DepthwiseConv2dNativeBackpropInput",
         {"input_sizes": i32([1, 5, 5, 2]), "filter": f32(3, 3, 2, 2), "out_backprop": f32(1, 3, 3, 4)},
         attrs(strides=[1, 1, 1, 1], padding="VALID"))
    case(s, "depthwise_backprop_filter", "DepthwiseConv2dNativeBackpropFilter",
         {"input": f32(1, 6, 6, 2), "filter_sizes": i32([3, 3, 2, 2]), "out_backprop": f32(1, 3, 3, 4)},
         attrs(strides=[1, 2, 2, 1], padding="SAME"))


def pools(s):
    def pool(cid, op, port, x, k, st, padding, ep=None, exact=True):
        a = attrs(ksize=k, strides=st, padding=padding) + (f", explicit_paddings: {ep}" if ep else "")
        case(s, cid, op, {port: x}, a, exact=exact)
    ties = np.array([[1, 3, 3, 0], [3, 2, 1, 3], [0, 0, 0, 0], [-1, -1, -1, -1]], np.float32).reshape(1, 4, 4, 1)
    pool("max_pool_valid", "MaxPool", "input", f32(1, 4, 4, 2), [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    pool("max_pool_overlap_same", "MaxPool", "input", f32(2, 5, 5, 1), [1, 3, 3, 1], [1, 1, 1, 1], "SAME")
    pool("max_pool_ties", "MaxPool", "input", ties, [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    pool("max_pool_explicit", "MaxPool", "input", f32(1, 5, 4, 2), [1, 2, 2, 1], [1, 2, 1, 1], "EXPLICIT",
         ep=[0, 0, 1, 0, 0, 1, 0, 0])
    pool("avg_pool_valid", "AvgPool", "value", f32(1, 4, 4, 2), [1, 2, 2, 1], [1, 2, 2, 1], "VALID")
    pool("avg_pool_same", "AvgPool", "value", f32(1, 5, 6, 2), [1, 3, 2, 1], [1, 2, 1, 1], "SAME")
    x = f32(1, 4, 4, 2)
    k2 = attrs(ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID")
    import tensorflow as tf
    y = tf.raw_ops.MaxPool(input=x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID").numpy()
    case(s, "max_pool_grad", "MaxPoolGrad", {"orig_input": x, "orig_output": y, "grad": f32(1, 2, 2, 2)}, k2,
         )
    case(s, "max_pool_grad_grad", "MaxPoolGradGrad", {"orig_input": x, "orig_output": y, "grad": f32(1, 4, 4, 2)},
         k2)
    case(s, "avg_pool_grad", "AvgPoolGrad", {"orig_input_shape": i32([1, 5, 5, 1]), "grad": f32(1, 3, 3, 1)},
         attrs(ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="SAME"))


CHAIN = """format: 1
page: {cid}
blocks:
  x: {{op: Placeholder, attrs: {{dtype: {dt}, shape: [2, 6, 6, 2]}}}}
  f: {{op: Placeholder, attrs: {{dtype: {dt}, shape: [3, 3, 2, 4]}}}}
  w: {{op: Placeholder, attrs: {{dtype: {dt}, shape: [36, 3]}}}}
  c: {{op: {conv}, inputs: {{input: x, filter: f}}, attrs: {{strides: [1, 1, 1, 1], padding: SAME}}}}
  p: {{op: {pool}, inputs: {{{pool_port}: c}}, attrs: {{ksize: [1, 2, 2, 1], strides: [1, 2, 2, 1], padding: VALID}}}}
  r: {{op: Reshape, inputs: {{tensor: p, shape: {shape}}}}}
  m: {{op: MatMul, inputs: {{a: r, b: w}}}}
  g: {{op: AddSymbolicGradients, inputs: {{outputs: [m], inputs: [x, f, w]}}}}
"""


def chains(s):
    for conv, pool, port, fshape, rows, dt in (("Conv2D", "MaxPool", "input", (3, 3, 2, 4), 2, "float32"),
                                               ("DepthwiseConv2dNative", "AvgPool", "value", (3, 3, 2, 2), 2,
                                                "float32"),
                                               ("Conv2D", "AvgPool", "value", (2, 2, 2, 3), 2, "float64"),
                                               ("DepthwiseConv2dNative", "MaxPool", "input", (3, 3, 2, 1), 2,
                                                "float64")):
        cid = f"chain_{conv}_{pool}_{dt}".lower()
        text = CHAIN.format(cid=cid, conv=conv, pool=pool, pool_port=port, shape=i32([rows, -1]), dt=dt)
        text = text.replace("shape: [3, 3, 2, 4]", f"shape: {list(fshape)}")
        out_c = fshape[3] if conv == "Conv2D" else fshape[2] * fshape[3]
        width = 3 * 3 * out_c
        text = text.replace("shape: [36, 3]", f"shape: [{width}, 3]")
        cast = np.dtype(dt).type
        s.case(cid, text, {"x": f32(2, 6, 6, 2).astype(cast), "f": f32(*fshape).astype(cast),
                           "w": f32(width, 3).astype(cast)}, exact=False, tags=["chain", conv, pool, dt])


def make(root=None):
    s = GradSet("conv")
    matmuls(s)
    convs(s)
    depthwise(s)
    pools(s)
    chains(s)
    return s.write() if root is None else s.write(root)


if __name__ == "__main__":
    print(f"wrote {make()}")
