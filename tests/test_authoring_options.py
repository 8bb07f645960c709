"""`watch` and `serve` take the run's feed and parameter options: `--feed ID=VALUE` literals,
`--cast-feeds`, `--param NAME=VALUE` (set on each page that defines it), as `run` does."""
import numpy as np
import pytest

from blockgraph.view.session import Session

PAGE = """format: 1
params: {bits: 8}
blocks:
  x: {op: Placeholder, attrs: {dtype: float32, shape: [null]}}
  fq: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: x}, attrs: {num_bits: {param: bits}, min: 0.0, max: 3.0}}
"""


def test_session_sets_parameters(tmp_path):
    page = tmp_path / "p.yaml"
    page.write_text(PAGE)
    s = Session([str(page)], None, params={"bits": 2}, feeds=lambda p: {"x": np.float32([1.4])})
    (o,) = s.refresh()
    assert o.problems == [] and o.page.scope.blocks["fq"].attrs["num_bits"] == 2
    assert o.results["fq"].tolist() == [1.0]                 # 2 bits on [0, 3]: steps of 1
    (o,) = Session([str(page)], None, params={"bitz": 2}).refresh()
    assert ("blockgraph: error: --param bitz: page 'p' has no such parameter (did you mean "
            "'bits'?)") in o.problems


def test_watch_takes_literal_feeds_and_parameters(tmp_path):
    from test_serve import Lines, _start, _stop
    (tmp_path / "p.yaml").write_text(PAGE)
    proc = _start(tmp_path, "watch", "p.yaml", "--param", "bits=2", "--feed", "x=[1.4, 2.6]",
                  "--cache", str(tmp_path / "c"))
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        _, first = out.until(r"^watching ")
        row = next(ln for ln in first if ln.startswith("fq "))
        assert "[1., 3.]" in row
    finally:
        assert _stop(proc) == 130


def test_watch_refuses_a_bad_param(tmp_path, capsys):
    pytest.importorskip("watchfiles")
    from blockgraph.cli import main
    (tmp_path / "p.yaml").write_text(PAGE)
    assert main(["watch", str(tmp_path / "p.yaml"), "--param", "bits"]) == 2
    assert "--param wants NAME=VALUE" in capsys.readouterr().err
