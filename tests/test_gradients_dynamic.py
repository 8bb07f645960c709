"""Gradients of pages whose Placeholders have unknown dims (`shape: [null, 3]`, a batch of any
size): the gradient blocks read the shapes from Shape/Size/Rank at run time, as TF's gradient
functions do, and give the static-shape page's values bit for bit (tests/test_gradients.py runs
every TF gradient case that way too)."""
import os

import numpy as np
import pytest

import blockgraph

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "train_linear_regression.yaml")
USER_KEYS = ("x.output", "y.output", "w.ref", "prediction.product", "error.z", "squared.y",
             "cost.output", "grad.grad_outputs.0", "step.out")


def _regression_page(rows) -> str:
    """examples/train_linear_regression.yaml with x and y fed Placeholders of `rows` rows (None:
    unknown)."""
    with open(EXAMPLE) as fh:
        text = fh.read()
    start, end = text.index("  x:\n"), text.index("  w:")
    n = "null" if rows is None else rows
    return (text[:start] + f"  x: {{op: Placeholder, attrs: {{dtype: float32, shape: [{n}, 3]}}}}\n"
            f"  y: {{op: Placeholder, attrs: {{dtype: float32, shape: [{n}, 1]}}}}\n" + text[end:])


def _batch(rows, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (rows, 3)).astype(np.float32)
    y = (x @ np.array([[2.0], [-1.0], [0.5]], np.float32) + rng.normal(0, 0.05, (rows, 1))
         ).astype(np.float32)
    return {"x": x, "y": y}


def _load(text, tmp_path, name):
    page = blockgraph.load_page(str(tmp_path / name), text=text)
    assert not page.diagnostics, [d.format() for d in page.diagnostics]
    return page


def test_regression_with_an_unknown_batch_trains_as_the_static_page_bit_for_bit(tmp_path):
    dynamic = _load(_regression_page(None), tmp_path, "dynamic.yaml")
    ops = {b.op for b in dynamic.scope.blocks.values() if b.id.startswith("grad__cost__")}
    assert "Shape" in ops and "Tile" in ops       # Mean's gradient: TF's Reshape + Tile(Shape(x))
    for rows, seed in ((8, 1), (5, 2), (8, 1), (0, 3)):  # batch sizes on the same loaded page
        feeds = _batch(rows, seed)
        static = _load(_regression_page(rows), tmp_path, f"static{rows}.yaml")
        want = static.run(feeds, cycles=40, trace=["cost.output", "grad.grad_outputs.0"])
        got = dynamic.run(feeds, cycles=40, trace=["cost.output", "grad.grad_outputs.0"])
        assert got.ok and want.ok
        for k in USER_KEYS:
            a, b = np.asarray(got[k]), np.asarray(want[k])
            assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), (rows, k)
        for k in want.traces:
            assert got.traces[k].tobytes() == want.traces[k].tobytes(), (rows, k)
        assert got.state["w"].tobytes() == want.state["w"].tobytes()
        assert got["grad.grad_outputs.0"].shape == (3, 1) and got["cost.output"].shape == ()


@pytest.mark.parametrize("executor", ["threads"])
def test_unknown_batch_on_another_executor(tmp_path, executor):
    dynamic = _load(_regression_page(None), tmp_path, "dynamic.yaml")
    static = _load(_regression_page(5), tmp_path, "static.yaml")
    feeds = _batch(5, 3)
    got = dynamic.run(feeds, cycles=10, executor=executor)
    want = static.run(feeds, cycles=10)
    assert got.state["w"].tobytes() == want.state["w"].tobytes()


_HEAD = "format: 1\nblocks:\n  x: {op: Placeholder, attrs: {dtype: float32, shape: [null, 3]}}\n"
_ERRORS = [
    ("prevent", "  p: {op: PreventGradient, inputs: {input: x}, attrs: {message: no way}}\n"
                "  m: {op: Mean, inputs: {input: p, axis: {value: [0, 1], dtype: int32}}}\n",
     "Gradient explicitly disabled. Reason: no way"),
    ("no_gradient", "  p: {op: MirrorPad, inputs: {input: x, paddings: {value: [[1, 1], [0, 0]], "
                    "dtype: int32}}, attrs: {mode: REFLECT}}\n"
                    "  m: {op: Sum, inputs: {input: p, axis: {value: 0, dtype: int32}}}\n",
     "No gradient defined for operation 'p' (op type: MirrorPad), on the path from x to m"),
    ("batch_dims", "  i: {op: Placeholder, attrs: {dtype: int32, shape: [null, 1]}}\n"
                   "  p: {op: GatherV2, inputs: {params: x, indices: i, axis: {value: 1, dtype: int32}},"
                   " attrs: {batch_dims: 1}}\n"
                   "  m: {op: Max, inputs: {input: p, axis: {value: [-1], dtype: int32}}}\n",
     "the gradient of 'p' (GatherV2) with batch_dims is not built here yet"),
]


@pytest.mark.parametrize("name,body,message", _ERRORS, ids=[e[0] for e in _ERRORS])
def test_gradient_errors_left_are_located_and_none_is_about_shapes(tmp_path, name, body, message):
    """With unknown shapes on the path, a gradient fails only for reasons TF has too (or an op
    whose gradient is not built), located at the AddSymbolicGradients block."""
    text = _HEAD + body + "  g: {op: AddSymbolicGradients, inputs: {outputs: [m], inputs: [x]}}\n"
    path = str(tmp_path / f"{name}.yaml")
    page = blockgraph.load_page(path, text=text)
    line = text.count("\n", 0, text.index("  g:")) + 1
    assert [d.format() for d in page.diagnostics] == [
        f"{path}:{line}:3: error: block 'g' (AddSymbolicGradients): {message}"]


_OPS = {   # a forward op of x (and i, int32 indices), summed into m by an exact Sum
    "sum": "{op: Sum, inputs: {input: x, axis: {value: [1], dtype: int32}}}",
    "mean": "{op: Mean, inputs: {input: x, axis: {value: -1, dtype: int32}}, attrs: {keep_dims: true}}",
    "mean_all": "{op: Mean, inputs: {input: x, axis: {value: [0, 1, 2], dtype: int32}}}",
    "max": "{op: Max, inputs: {input: x, axis: {value: [0, 2], dtype: int32}}}",
    "prod": "{op: Prod, inputs: {input: x, axis: {value: [2], dtype: int64}}}",
    "tile": "{op: Tile, inputs: {input: x, multiples: {value: [1, 2, 1], dtype: int32}}}",
    "concat": "{op: ConcatV2, inputs: {values: [x, x], axis: {value: 0, dtype: int32}}}",
    "slice": "{op: Slice, inputs: {input: x, begin: {value: [0, 1, 0], dtype: int32}, "
             "size: {value: [-1, 2, 1], dtype: int32}}}",
    "gather": "{op: GatherV2, inputs: {params: x, indices: i, axis: {value: 1, dtype: int32}}}",
    "gather0": "{op: GatherV2, inputs: {params: x, indices: i, axis: {value: 0, dtype: int32}}}",
}


def _op_page(body, shape, ishape):
    return ("format: 1\nblocks:\n"
            f"  x: {{op: Placeholder, attrs: {{dtype: float32, shape: {shape}}}}}\n"
            f"  i: {{op: Placeholder, attrs: {{dtype: int32, shape: {ishape}}}}}\n"
            f"  y: {body}\n"
            "  s: {op: Square, inputs: {x: y}}\n"
            "  g: {op: AddSymbolicGradients, inputs: {outputs: [s], inputs: [x]}}\n")


@pytest.mark.parametrize("name", sorted(_OPS))
@pytest.mark.parametrize("batch", [0, 1, 4])
def test_unknown_shapes_give_the_static_gradient_for_any_batch_even_empty(tmp_path, name, batch):
    rng = np.random.default_rng(batch)
    x = np.round(rng.uniform(-2, 2, (batch, 4, 3)), 1).astype(np.float32)   # ties for Max
    i = np.array([3, 0, 3] if name == "gather" else [0] * min(batch, 2), np.int32)
    feeds = {"x": x, "i": i}
    want = _load(_op_page(_OPS[name], list(x.shape), list(i.shape)), tmp_path, "s.yaml").run(feeds)
    for shape in ("[null, 4, 3]", "null"):
        page = _load(_op_page(_OPS[name], shape, "[null]" if shape != "null" else shape),
                     tmp_path, "d.yaml")
        got = page.run(feeds)
        assert got.ok and want.ok, [b.error for b in got if not b.ok]
        a, b = np.asarray(got["g.grad_outputs.0"]), np.asarray(want["g.grad_outputs.0"])
        assert a.shape == x.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes(), shape


def test_an_invalid_block_on_the_path_is_named_not_an_internal_error(tmp_path):
    """A block between the inputs and the outputs that is invalid (here a missing input): the
    gradient block says which, located, instead of failing inside a gradient function."""
    text = open(os.path.join(ROOT, "examples", "qat_train.yaml")).read().replace("a: x, b: w_q", "a: xx, b: w_q")
    page = tmp_path / "p.yaml"
    page.write_text(text)
    msgs = [d.format() for d in blockgraph.load_page(str(page)).diagnostics]
    assert any("refers to a missing block 'xx'" in m for m in msgs), msgs
    assert any("block 'grad' (AddSymbolicGradients): gradients not built: block 'matmul' on the path is invalid" in m
               for m in msgs), msgs
    assert not any("internal error" in m for m in msgs), msgs
