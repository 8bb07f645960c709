"""Range beyond the TF fixtures (tests/fixtures/math_matrix): what its shape function knows before
the run, the memory limit meeting a long range, and gradients stopping at it."""
import numpy as np
import pytest
import yaml

import blockgraph
from blockgraph.core import gradients
from blockgraph.core.errors import OpError
from op_helpers import shape_of, static, value_of


def _scalar(dtype, value=None):
    return (dtype, ()) if value is None else (dtype, (), np.asarray(value, dtype))


def test_length_unknown_until_values_known():
    assert shape_of("Range", {p: _scalar("int32") for p in ("start", "limit", "delta")}) == (None,)
    assert shape_of("Range", {"start": _scalar("int32", 2), "limit": _scalar("int32"),
                              "delta": _scalar("int32", 3)}) == (None,)


def test_known_values_give_the_length_and_fold_small_integer_results():
    ins = {"start": _scalar("int64", 10), "limit": _scalar("int64", -3), "delta": _scalar("int64", -4)}
    assert shape_of("Range", ins) == (4,)
    assert value_of("Range", ins) == [10, 6, 2, -2]
    fl = {"start": _scalar("float32", 0), "limit": _scalar("float32", 1), "delta": _scalar("float32", 0.25)}
    spec = static("Range", fl)[0]
    assert spec.shape == (4,) and spec.dtype == "float32" and spec.value is None


def test_delta_zero_is_found_before_start_and_limit_are_known():
    with pytest.raises(OpError, match=r"^Requires delta != 0: 0$"):
        static("Range", {"start": _scalar("int32"), "limit": _scalar("int32"), "delta": _scalar("int32", 0)})


def test_rank_checks_wait_for_an_undecided_earlier_port():
    # start's one dim is unknown (it may be a legacy 1-element scalar): limit's bad rank waits for it
    ins = {"start": ("int32", (None,)), "limit": ("int32", (2,)), "delta": _scalar("int32")}
    assert shape_of("Range", ins) == (None,)
    with pytest.raises(OpError, match=r"^limit must be a scalar, not shape \[2\]$"):
        static("Range", {**ins, "start": ("int32", (1,))})


def _page(limit, max_bytes):
    text = yaml.safe_dump({"format": 1, "blocks": {
        "lim": {"op": "Placeholder", "attrs": {"dtype": "int64", "shape": []}},
        "r": {"op": "Range", "inputs": {"start": {"value": 0, "dtype": "int64"}, "limit": "lim",
                                        "delta": {"value": 1, "dtype": "int64"}}}}})
    return blockgraph.load_page("range.yaml", text=text, max_bytes=max_bytes)


def test_a_long_range_meets_the_memory_limit_before_allocating():
    r = _page(2 ** 40, 10 ** 6).run({"lim": np.int64(2 ** 40)})
    blk = r.block("r")
    assert blk.status != "ok"
    assert "OOM when allocating tensor with shape[1099511627776] and type int64" in str(blk.error)
    ok = _page(5, 10 ** 6).run({"lim": np.int64(5)}).block("r")
    assert ok.status == "ok" and ok.outputs["output"].tolist() == [0, 1, 2, 3, 4]


def test_gradients_stop_at_range():
    """TF's math_grad.py: NotDifferentiable("Range"); a path through it carries no gradient (zeros
    here, as for every input the outputs do not depend on through a gradient)."""
    assert gradients.lookup("Range") is False
    text = yaml.safe_dump({"format": 1, "blocks": {
        "s": {"op": "Placeholder", "attrs": {"dtype": "float32", "shape": []}},
        "x": {"op": "Placeholder", "attrs": {"dtype": "float32", "shape": [3]}},
        "r": {"op": "Range", "inputs": {"start": "s", "limit": 3.0, "delta": 1.0}},
        "y": {"op": "Mul", "inputs": {"x": "x", "y": "r"}},
        "g": {"op": "AddSymbolicGradients", "inputs": {"outputs": ["y"], "inputs": ["x", "s"]}}}})
    page = blockgraph.load_page("grad.yaml", text=text)
    assert not page.diagnostics
    gx, gs = page.run({"x": np.float32([1, 2, 3]), "s": np.float32(0.5)}).block("g").outputs["grad_outputs"]
    assert gx.tolist() == [0.5, 1.5, 2.5] and gs.tolist() == 0.0
