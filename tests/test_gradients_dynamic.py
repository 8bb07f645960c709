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
