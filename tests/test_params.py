"""Page parameters: `params:` definitions (short and long form, checked), `{param: NAME}` uses in
attrs, inputs, list ports, {value, dtype} and init (a value, never a reference), misspelt uses
located at the use with did-you-mean, overrides (load_page(params=), Page.variant, run/check/
render --param, sweep --grid NAME, --zip), and render showing them."""
import json
import os
import shutil

import numpy as np
import pytest

import blockgraph
from blockgraph.cli import main
from blockgraph.core.errors import UsageError

PAGE = """format: 1
params:
  bits: {value: 8, type: int, min: 2, max: 16, description: quantizer bits}
  lo: -3.0
  word: x
  w0: {value: [1, 2], dtype: float64}
  pair: [1.0, 2.0]
  parts: [[1.0], [2.0, 3.0]]
blocks:
  x: {op: Const, attrs: {value: [-2.0, -0.3, 0.1, 2.5]}}
  fq:
    op: FakeQuantWithMinMaxArgs
    inputs: {inputs: x}
    attrs: {num_bits: {param: bits}, min: {param: lo}, max: 3.0}
  fv:
    op: FakeQuantWithMinMaxVars
    inputs: {inputs: x, min: {param: lo}, max: {value: {param: bits}, dtype: float32}}
    attrs: {num_bits: {param: bits}}
  s: {op: Identity, inputs: {input: {param: word}}}
  c: {op: ConcatV2, inputs: {values: [x, {param: pair}, [{param: lo}]], axis: 0}}
  c2: {op: ConcatV2, inputs: {values: {param: parts}, axis: 0}}
  w: {op: VariableV2, init: {param: w0}}
"""


def load(tmp_path, text=PAGE, name="p.yaml", **kw):
    path = tmp_path / name
    path.write_text(text)
    return blockgraph.load_page(str(path), **kw)


def test_uses_are_replaced_before_the_checks(tmp_path):
    page = load(tmp_path)
    assert page.diagnostics == []
    assert page.params.values() == {"bits": 8, "lo": -3.0, "word": "x", "w0": [1, 2],
                                    "pair": [1.0, 2.0], "parts": [[1.0], [2.0, 3.0]]}
    b = page.scope.blocks
    assert b["fq"].attrs["num_bits"] == 8 and b["fq"].attrs["min"] == -3.0
    r = page.run()
    assert r.ok, r
    assert r["fv.outputs"].dtype == np.float32
    # a string parameter on a port is a string tensor, not a reference to block 'x'
    assert r.block("s").dtypes["output"] == "string" and r["s"][()] == b"x"
    assert np.array_equal(r["c"], np.float32([-2.0, -0.3, 0.1, 2.5, 1.0, 2.0, -3.0]))
    assert r["c2"].tolist() == [1.0, 2.0, 3.0]                   # a list port given a list
    assert next(iter(r.block("w").dtypes.values())) == "float64"      # the parameter's dtype
    assert page.spec.params == page.params.values()


def test_overrides_and_variants(tmp_path):
    base = load(tmp_path)
    four = load(tmp_path, params={"bits": 4})
    assert four.scope.blocks["fq"].attrs["num_bits"] == 4 and four.params.defs["bits"].origin == "params="
    v = base.variant(params={"lo": -1.0}, origin="--param")
    assert v.scope.blocks["fq"].attrs["min"] == -1.0 and v.scope.blocks["fq"].attrs["num_bits"] == 8
    assert base.scope.blocks["fq"].attrs["min"] == -3.0            # the page itself is unchanged
    with pytest.raises(UsageError, match=r"no parameter 'bitz' \(did you mean 'bits'\?\)"):
        load(tmp_path, params={"bitz": 4})
    with pytest.raises(UsageError, match="params must be a mapping"):
        load(tmp_path, params=[("bits", 4)])
    bad = base.variant(params={"bits": 40}, origin="--param")
    (d,) = bad.errors
    assert (d.line, d.col) == (3, 3)
    assert d.message == "parameter 'bits' = 40 (set by --param): 40 is above its max 16"
    r = bad.run()     # blocks using it fail with the parameter's problem, the others run
    assert r.block("fq").status == "failed" and "parameter 'bits' (line 3) is not valid" in r.block("fq").error
    assert r.block("x").ok and r.block("s").ok


def test_a_misspelt_use_is_located_at_the_use(tmp_path):
    page = load(tmp_path, PAGE.replace("min: {param: lo}, max: 3.0", "min: {param: loo}, max: 3.0"))
    (d,) = page.errors
    assert d.message == "unknown parameter 'loo'" and d.block == "fq"
    line = PAGE.splitlines().index("    attrs: {num_bits: {param: bits}, min: {param: lo}, max: 3.0}")
    assert (d.line, d.col) == (line + 1, 51) and d.hint == "did you mean 'lo'?"
    assert page.run().block("fq").error == "unknown parameter 'loo'"
    page = load(tmp_path, "format: 1\nblocks:\n  c: {op: Const, attrs: {value: {param: a}}}\n")
    assert page.errors[0].hint == "the page has no 'params:' section to define it in"


@pytest.mark.parametrize("params,message,at", [
    ("  bits: {value: 1.5, type: int}", "parameter 'bits': must be an int, got a float (1.5)", "1.5"),
    ("  bits: {type: int}", "parameter 'bits' has no 'value'", "bits"),
    ("  bits: {value: 3, typ: int}", "parameter 'bits': unknown key 'typ'", "typ"),
    ("  bits: {value: 3, type: integer}", "parameter 'bits': type must be one of int, float, bool, "
                                          "string, list, got 'integer'", "integer"),
    ("  bits: {value: 300, dtype: uint8}", "parameter 'bits': does not fit dtype uint8: 300 does not "
                                           "fit in uint8 (range 0..255)", "300"),
    ("  bits: {value: 3, dtype: flaot32}", "parameter 'bits': unknown dtype 'flaot32' (did you mean "
                                           "'float32'?)", "flaot32"),
    ("  bits: {value: 3, choices: [2, 4]}", "parameter 'bits': must be one of 2, 4, got 3", "3,"),
    ("  bits: {param: other}", "parameter 'bits': a parameter's value cannot use another parameter",
     "{param"),
    ("  2bits: 3", "'2bits' is not a valid parameter name: use letters, digits and _ (not starting "
                   "with a digit)", "2bits"),
])
def test_bad_definitions_are_located(tmp_path, params, message, at):
    text = f"format: 1\nparams:\n{params}\nblocks:\n  c: {{op: Const, attrs: {{value: 1.0}}}}\n"
    page = load(tmp_path, text)
    errors = [d for d in page.errors if d.message == message]
    assert errors, [d.message for d in page.diagnostics]
    assert (errors[0].line, errors[0].col) == (3, params.index(at) + 1)


def test_unused_parameter_is_a_warning(tmp_path):
    page = load(tmp_path, "format: 1\nparams: {n: 3}\nblocks:\n  c: {op: Const, attrs: {value: 1.0}}\n")
    (d,) = page.diagnostics
    assert d.severity == "warning" and d.message == "parameter 'n' is not used by any block"
    assert page.errors == [] and page.run().ok


def test_a_check_failing_on_a_used_value_names_the_parameter(tmp_path):
    text = PAGE.replace("bits: {value: 8, type: int, min: 2, max: 16, description: quantizer bits}",
                        "bits: 1")
    page = load(tmp_path, text)
    d = next(d for d in page.errors if d.block == "fq")
    assert "num_bits" in d.message
    assert "the value is parameter 'bits' (defined at line 3)" in d.hint


def test_cli_param(tmp_path, capsys):
    page = str(tmp_path / "p.yaml")
    (tmp_path / "p.yaml").write_text(PAGE)
    out = str(tmp_path / "o.npz")
    assert main(["run", page, "--param", "bits=4", "--param", "lo=-1.5", "--out", out]) == 0
    with np.load(out) as z:
        meta = json.loads(z["__meta__"].tobytes())
    assert meta["pages"]["p"]["params"]["bits"] == 4 and meta["pages"]["p"]["params"]["lo"] == -1.5
    capsys.readouterr()
    for argv, text in [(["--param", "bitz=4"], "--param bitz: no page given defines this parameter "
                                               "(did you mean 'bits'?)"),
                       (["--param", "bits"], "--param wants NAME=VALUE"),
                       (["--param", "bits=[1,"], "--param bits: cannot read"),
                       (["--param", "bits=4", "--param", "bits=5"], "--param bits is given twice")]:
        assert main(["run", page, *argv]) == 2, argv
        assert text in capsys.readouterr().err
    assert main(["check", page, "--param", "bits=17"]) == 1
    assert "parameter 'bits' = 17 (set by --param): 17 is above its max 16" in capsys.readouterr().err


def test_cli_param_with_several_pages(tmp_path, capsys):
    (tmp_path / "p.yaml").write_text(PAGE)
    (tmp_path / "q.yaml").write_text("format: 1\nparams: {k: 2}\nblocks:\n"
                                     "  c: {op: Const, attrs: {value: {param: k}}}\n")
    assert main(["run", str(tmp_path / "p.yaml"), str(tmp_path / "q.yaml"), "--param", "k=7",
                 "--param", "bits=3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["blocks"]["q/c"]["outputs"]["output"]["values"] == 7


def test_sweep_over_parameters_and_zip(tmp_path, capsys):
    (tmp_path / "p.yaml").write_text(PAGE)
    out = tmp_path / "o"
    assert main(["sweep", str(tmp_path / "p.yaml"), "--grid", "bits=2,4", "--grid", "lo=-3,-1",
                 "--out", str(out)]) == 0
    index = json.loads((out / "index.json").read_text())
    assert [r["settings"] for r in index["runs"]] == [
        {"bits": 2, "lo": -3}, {"bits": 2, "lo": -1}, {"bits": 4, "lo": -3}, {"bits": 4, "lo": -1}]
    assert main(["sweep", str(tmp_path / "p.yaml"), "--grid", "bits=2,4", "--grid", "fq.max=1.0,2.0",
                 "--zip", "--param", "lo=-0.5", "--out", str(out)]) == 0
    index = json.loads((out / "index.json").read_text())
    assert [r["settings"] for r in index["runs"]] == [{"bits": 2, "fq.max": 1.0},
                                                      {"bits": 4, "fq.max": 2.0}]
    with np.load(out / "run-0001.npz") as z:
        meta = json.loads(z["__meta__"].tobytes())
        x = z["x.output"]
    entry = meta["pages"]["p"]
    assert entry["params"]["bits"] == 4 and entry["params"]["lo"] == -0.5
    assert entry["settings"] == {"bits": 4, "fq.max": 2.0}
    ref = blockgraph.load_page(str(tmp_path / "p.yaml"), params={"bits": 4, "lo": -0.5})
    with np.load(out / "run-0001.npz") as z:
        assert np.array_equal(z["fq.outputs"], ref.variant(attrs={("fq", "max"): 2.0}).run()["fq"])
    assert x.shape == (4,)
    capsys.readouterr()
    assert main(["sweep", str(tmp_path / "p.yaml"), "--grid", "bits=2,4", "--grid", "lo=1",
                 "--zip", "--out", str(out)]) == 2
    assert "give them equal lengths (got bits: 2, lo: 1)" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "p.yaml"), "--grid", "bitz=2", "--out", str(out)]) == 2
    assert "has no parameter 'bitz' (did you mean 'bits'?)" in capsys.readouterr().err


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_render_shows_parameters(tmp_path, capsys):
    pytest.importorskip("graphviz")
    (tmp_path / "p.yaml").write_text(PAGE)
    svg = tmp_path / "p.svg"
    assert main(["render", str(tmp_path / "p.yaml"), "-o", str(svg), "--param", "bits=5"]) == 0
    text = svg.read_text()
    assert "bits = 5, lo = &#45;3.0, word = x" in text
    assert ">5 (param bits)<" in text and ">(param lo)<" in text
    assert os.path.getsize(svg) > 1000
