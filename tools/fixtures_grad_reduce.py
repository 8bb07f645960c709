"""Gradient fixtures of the reductions, scans, softmax and losses (dev-only: needs tensorflow-cpu).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_grad_reduce.py     # -> tests/fixtures/grad_reduce

Single-op pages (tools/fixtures_grad_array.py's `case`: Placeholders -> op -> weighted by a random
tensor -> AddSymbolicGradients) for Sum, Mean, Prod, Max, Min (every axes form: scalar, list,
negative, all, keep_dims; ties, zeros in products), Cumsum, Cumprod (exclusive, reverse),
L2Loss, Softmax, LogSoftmax and the cross-entropies (through `loss`, through `backprop`, and
both, which adds nn_grad.py's second-order term), plus a few chains.

Compare: bit for bit where the gradient is made of exact ops on exact values (Sum, Mean, Max,
Min, Prod, the scans, L2Loss); the softmax family within the tolerance grad_fixture_lib derives
from a float64 shadow (their forward values are TF's within an ulp or two of exp/log).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from fixtures_grad_array import case as case32  # noqa: E402
from grad_fixture_lib import GradSet, literal  # noqa: E402

RNG = np.random.default_rng(20261220)


class _Widened:
    """A GradSet front whose pages weight the op's output with a float64 `w` (for float64 ops)."""

    def __init__(self, s):
        self.s = s

    def case(self, cid, page, feeds, **kw):
        page = page.replace("w: {op: Placeholder, attrs: {dtype: float32,",
                            "w: {op: Placeholder, attrs: {dtype: float64,")
        feeds = dict(feeds, w=feeds["w"].astype(np.float64))
        return self.s.case(cid, page, feeds, **kw)


def case(s, cid, op, inputs, *args, **kw):
    """fixtures_grad_array's single-op page; float64 inputs get a float64 weighting."""
    wide = any(getattr(v, "dtype", None) == np.float64 for v in inputs.values())
    return case32(_Widened(s) if wide else s, cid, op, inputs, *args, **kw)


def f32(*shape, lo=-2.0, hi=2.0, dtype=np.float32):
    return RNG.uniform(lo, hi, shape).astype(dtype)


def i32(v):
    return literal(v, "int32")


def two_outputs(s: GradSet, cid: str, op: str, features, labels, exact=False):
    """A cross-entropy whose loss and backprop both reach the differentiated outputs."""
    lab_dtype = labels.dtype.name
    page = f"""format: 1
page: {cid}
blocks:
  x_features: {{op: Placeholder, attrs: {{dtype: float32, shape: {list(features.shape)}}}}}
  x_labels: {{op: Placeholder, attrs: {{dtype: {lab_dtype}, shape: {list(labels.shape)}}}}}
  n0: {{op: {op}, inputs: {{features: x_features, labels: x_labels}}}}
  w0: {{op: Placeholder, attrs: {{dtype: float32, shape: [{features.shape[0]}]}}}}
  w1: {{op: Placeholder, attrs: {{dtype: float32, shape: {list(features.shape)}}}}}
  l0: {{op: Mul, inputs: {{x: n0.loss, y: w0}}}}
  l1: {{op: Mul, inputs: {{x: n0.backprop, y: w1}}}}
  g: {{op: AddSymbolicGradients, inputs: {{outputs: [l0, l1], inputs: [x_features]}}}}
"""
    feeds = {"x_features": features, "x_labels": labels, "w0": f32(features.shape[0]),
             "w1": f32(*features.shape)}
    s.case(cid, page, feeds, exact=exact, tags=[op, "second_order"])


def make(root=None):
    s = GradSet("reduce")
    # -- reductions: exact (tiles, an exact division, equality masks, Cumprods)
    for op in ("Sum", "Mean"):
        k = op.lower()
        case(s, f"{k}_all", op, {"input": f32(3, 4), "axis": i32([0, 1])})
        case(s, f"{k}_axis1", op, {"input": f32(3, 4), "axis": i32(1)})
        case(s, f"{k}_neg_keep", op, {"input": f32(2, 3, 4), "axis": i32([-1, 0])}, "keep_dims: true")
        case(s, f"{k}_middle", op, {"input": f32(2, 3, 4), "axis": i32([1])})
        case(s, f"{k}_none", op, {"input": f32(2, 3), "axis": i32([])})
        case(s, f"{k}_f64", op, {"input": f32(5, 3, dtype=np.float64), "axis": i32(0)})
    case(s, "mean_seven", "Mean", {"input": f32(7, 3), "axis": i32(0)})
    for op in ("Max", "Min"):
        k = op.lower()
        ties = RNG.integers(-2, 3, (4, 5)).astype(np.float32)     # repeated extremes
        case(s, f"{k}_ties_axis1", op, {"input": ties, "axis": i32(1)})
        case(s, f"{k}_ties_all", op, {"input": ties, "axis": i32([0, 1])})
        case(s, f"{k}_keep", op, {"input": f32(2, 3, 4), "axis": i32(-2)}, "keep_dims: true")
        case(s, f"{k}_f64", op, {"input": f32(3, 4, dtype=np.float64), "axis": i32([0])})
    case(s, "prod_axis1", "Prod", {"input": f32(3, 4, lo=0.5, hi=1.5), "axis": i32(1)})
    zeros = f32(3, 4)
    zeros[0, 1] = 0.0
    zeros[2, 0] = zeros[2, 3] = 0.0
    case(s, "prod_zeros", "Prod", {"input": zeros, "axis": i32([1])})
    case(s, "prod_axes_0_2", "Prod", {"input": f32(2, 3, 4, lo=0.5, hi=1.5), "axis": i32([2, 0])},
         "keep_dims: true")
    case(s, "prod_all_f64", "Prod", {"input": f32(2, 3, lo=0.5, hi=1.5, dtype=np.float64),
                                     "axis": i32([0, 1])})
    # -- scans: exact
    for op in ("Cumsum", "Cumprod"):
        k = op.lower()
        for ex in (False, True):
            for rev in (False, True):
                x = f32(3, 5, lo=0.5, hi=1.5) if op == "Cumprod" else f32(3, 5)
                case(s, f"{k}_ex{int(ex)}_rev{int(rev)}", op, {"x": x, "axis": i32(1)},
                     f"exclusive: {str(ex).lower()}, reverse: {str(rev).lower()}")
        case(s, f"{k}_axis0_f64", op, {"x": f32(4, 3, lo=0.5, hi=1.5, dtype=np.float64),
                                       "axis": i32(-2)})
    z = f32(2, 5, lo=0.5, hi=1.5)
    z[0, 2] = 0.0
    case(s, "cumprod_zero", "Cumprod", {"x": z, "axis": i32(1)})
    # -- nn
    case(s, "l2loss", "L2Loss", {"t": f32(3, 4)})
    case(s, "l2loss_f64", "L2Loss", {"t": f32(7, dtype=np.float64)})
    for op in ("Softmax", "LogSoftmax"):
        k = op.lower()
        case(s, k, op, {"logits": f32(3, 6, lo=-3, hi=3)}, exact=False)
        case(s, f"{k}_rank3", op, {"logits": f32(2, 2, 5, lo=-3, hi=3)}, exact=False)
        case(s, f"{k}_f64", op, {"logits": f32(2, 4, dtype=np.float64)}, exact=False)
    lab = RNG.random((3, 5)).astype(np.float32)
    lab /= lab.sum(1, keepdims=True)
    case(s, "xent_loss", "SoftmaxCrossEntropyWithLogits",
         {"features": f32(3, 5), "labels": lab}, out="n0.loss", exact=False)
    case(s, "xent_backprop", "SoftmaxCrossEntropyWithLogits",
         {"features": f32(3, 5), "labels": lab}, out="n0.backprop", exact=False)
    two_outputs(s, "xent_both", "SoftmaxCrossEntropyWithLogits", f32(3, 5), lab)
    sl = np.array([4, 0, 2], np.int32)
    case(s, "sparse_xent_loss", "SparseSoftmaxCrossEntropyWithLogits",
         {"features": f32(3, 5), "labels": sl}, out="n0.loss", exact=False)
    case(s, "sparse_xent_backprop", "SparseSoftmaxCrossEntropyWithLogits",
         {"features": f32(3, 5), "labels": sl.astype(np.int64)}, out="n0.backprop", exact=False)
    two_outputs(s, "sparse_xent_both", "SparseSoftmaxCrossEntropyWithLogits", f32(3, 5), sl)
    chains(s)
    return s.write() if root is None else s.write(root)


def chains(s: GradSet):
    """A few pages chaining these ops (softmax into a mean, a max into a cumsum, ...)."""
    x = f32(4, 6, lo=-3, hi=3)
    page = """format: 1
page: chain_softmax_mean
blocks:
  x: {op: Placeholder, attrs: {dtype: float32, shape: [4, 6]}}
  sm: {op: Softmax, inputs: {logits: x}}
  sq: {op: Mul, inputs: {x: sm, y: sm}}
  m: {op: Mean, inputs: {input: sq, axis: {value: [0, 1], dtype: int32}}}
  g: {op: AddSymbolicGradients, inputs: {outputs: [m], inputs: [x]}}
"""
    s.case("chain_softmax_mean", page, {"x": x}, tags=["chain"])
    page = """format: 1
page: chain_max_cumsum_sum
blocks:
  x: {op: Placeholder, attrs: {dtype: float32, shape: [4, 6]}}
  w: {op: Placeholder, attrs: {dtype: float32, shape: [4]}}
  mx: {op: Max, inputs: {input: x, axis: {value: 1, dtype: int32}}}
  cs: {op: Cumsum, inputs: {x: mx, axis: {value: 0, dtype: int32}}, attrs: {reverse: true}}
  p: {op: Mul, inputs: {x: cs, y: w}}
  t: {op: Sum, inputs: {input: p, axis: {value: 0, dtype: int32}}}
  g: {op: AddSymbolicGradients, inputs: {outputs: [t], inputs: [x, w]}}
"""
    s.case("chain_max_cumsum_sum", page, {"x": x, "w": f32(4)}, exact=True, tags=["chain"])
    page = """format: 1
page: chain_logsoftmax_xent
blocks:
  x: {op: Placeholder, attrs: {dtype: float32, shape: [3, 5]}}
  y: {op: Placeholder, attrs: {dtype: float32, shape: [3, 5]}}
  ls: {op: LogSoftmax, inputs: {logits: x}}
  xe: {op: SoftmaxCrossEntropyWithLogits, inputs: {features: ls, labels: y}}
  l2: {op: L2Loss, inputs: {t: x}}
  tot: {op: Sum, inputs: {input: xe.loss, axis: {value: [0], dtype: int32}}}
  g: {op: AddSymbolicGradients, inputs: {outputs: [tot, l2], inputs: [x, y]}}
"""
    lab = RNG.random((3, 5)).astype(np.float32)
    s.case("chain_logsoftmax_xent", page, {"x": f32(3, 5), "y": lab / lab.sum(1, keepdims=True)},
           tags=["chain"])


if __name__ == "__main__":
    print(f"wrote {make()}")
