"""The shape-function contract (`def shape(ctx)`, see `blockgraph.core.blockdef`): known values
flow through pass-through blocks into the checks of the blocks after them, and a shape function
that breaks the contract is a located failure of its block."""
from __future__ import annotations

import numpy as np
import pytest
import yaml

import blockgraph
from blockgraph.cli import main
from blockgraph.core import binding, registry
from blockgraph.core.blockdef import Input, Output, block
from blockgraph.core.errors import BlockBug

RESHAPE_16 = "Input to reshape is a tensor with 6 values, but the requested shape has 16"


def _page(blocks, tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"format": 1, "page": "p", "blocks": blocks}, sort_keys=False))
    return blockgraph.load_page(str(path))


def test_identity_value_reaches_reshape_check(tmp_path, capsys):
    """Const -> Identity -> Reshape: Identity passes the known sizes on, so Reshape's kernel check
    fires in `check`, before any run, with TF's text, at Reshape's `shape` input."""
    p = _page({"t": {"op": "Const", "attrs": {"value": [[1, 2, 3], [4, 5, 6]]}},
               "s": {"op": "Const", "attrs": {"value": [4, 4]}},
               "i": {"op": "Identity", "inputs": {"input": "s"}},
               "r": {"op": "Reshape", "inputs": {"tensor": "t", "shape": "i"}}}, tmp_path)
    assert p.scope.blocks["i"].specs[0].value.tolist() == [4, 4]
    assert [(d.block, d.op, d.port, d.message) for d in p.diagnostics] == [
        ("r", "Reshape", "shape", RESHAPE_16)]
    assert (p.diagnostics[0].line, p.diagnostics[0].col) == p.locate("r", "shape")
    assert main(["check", p.path]) == 1
    assert f"block 'r' (Reshape): {RESHAPE_16}" in capsys.readouterr().err


def _broken_shape(mode):
    def shape(ctx):
        if mode != "unset":
            ctx.set_output("output", ctx.shape("input"))
        if mode == "twice":
            ctx.set_output("output", ctx.shape("input"))
        elif mode == "undeclared":
            ctx.set_output("extra", ctx.shape("input"))
    return shape


@pytest.fixture
def broken_block():
    """Register a test block whose shape function breaks the contract as asked (unique name,
    unregistered afterwards)."""
    made = []

    def make(mode):
        name = f"TestBrokenShape{mode.title()}"
        block(name, inputs=[Input("input", type_attr="T")], outputs=[Output("output", "T")],
              shape=_broken_shape(mode))(lambda input: input)
        made.append(name)
        return name
    yield make
    for name in made:
        registry.REGISTRY.pop(name)


@pytest.mark.parametrize("mode, text", [
    ("unset", "left output 'output' unset"),
    ("twice", "set output 'output' twice"),
    ("undeclared", "set an undeclared output 'extra' (outputs: output)"),
])
def test_broken_shape_function_is_a_located_failure(tmp_path, broken_block, mode, text):
    op = broken_block(mode)
    p = _page({"c": {"op": "Const", "attrs": {"value": [1.0, 2.0]}},
               "b": {"op": op, "inputs": {"input": "c"}},
               "after": {"op": "Identity", "inputs": {"input": "b"}}}, tmp_path)
    assert [(d.block, d.op) for d in p.diagnostics] == [("b", op)]
    d = p.diagnostics[0]
    assert f"shape function of {op} {text}" in d.message, d.message
    assert (d.line, d.col) == p.locate("b")
    assert f"block 'b' ({op}): internal error: shape function of {op}" in d.format()
    # the run goes through the same binding: the contract breach is a BlockBug, not a traceback
    # from somewhere else
    defn = registry.get(op)
    with pytest.raises(BlockBug, match=text.replace("(", r"\(").replace(")", r"\)")):
        binding.bind(defn, {"input": np.zeros(2, np.float32)}, {}, {"input": "float32"})
