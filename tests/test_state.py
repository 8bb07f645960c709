"""Variables and cycle runs: initial values (literal, file, block), start-of-cycle reads,
end-of-cycle commits, the located errors of ill-formed state, saved state and traces."""
import numpy as np
import pytest

import blockgraph
from blockgraph.cli import main

PAGE = """format: 1
blocks:
  w: {op: VariableV2, init: [1.0, 2.0]}
  g: {op: Const, attrs: {value: [0.5, 0.5], dtype: float32}}
  step: {op: ApplyGradientDescent, inputs: {var: w, alpha: 0.1, delta: g}}
  w2: {op: VariableV2, attrs: {shape: [2], dtype: float32}, init: g}
  add: {op: AssignAdd, inputs: {ref: w2, value: [1.0, 1.0]}}
  reads_w: {op: Identity, inputs: {input: w}}
"""


def _page(tmp_path, text=PAGE, name="p.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return blockgraph.load_page(str(path))


def test_reads_see_the_start_of_cycle_and_updates_commit_at_its_end(tmp_path):
    page = _page(tmp_path)
    assert not page.diagnostics
    r = page.run(cycles=3, trace=["w.ref", "step.out", "reads_w"])
    assert r.ok and r.cycles == 3
    f = np.float32
    w = np.array([1.0, 2.0], f)
    expect_w = []
    for _ in range(3):
        expect_w.append(w)
        w = w - np.array([0.5, 0.5], f) * f(0.1)
    assert np.array_equal(r.traces["w.ref"], np.stack(expect_w))         # start of each cycle
    assert np.array_equal(r.traces["reads_w.output"], np.stack(expect_w))
    assert np.array_equal(r.traces["step.out"], np.stack(expect_w[1:] + [w]))   # updated value
    assert np.array_equal(r["step.out"], w) and np.array_equal(r.state["w"], w)
    assert np.array_equal(r.state["w2"], np.full(2, 3.5, f))    # init from block g, then +1 x3


def test_saved_state_continues_a_run(tmp_path):
    page = _page(tmp_path)
    six = page.run(cycles=6)
    first = page.run(cycles=4)
    rest = page.run(cycles=2, state=first.state)
    for k in six.state:
        assert np.array_equal(six.state[k], rest.state[k])


def test_cli_cycles_trace_and_state_files(tmp_path, capsys):
    path = tmp_path / "p.yaml"
    path.write_text(PAGE)
    out, st = str(tmp_path / "o.npz"), str(tmp_path / "s.npz")
    assert main(["run", str(path), "--cycles", "4", "--trace", "step.*", "--out", out,
                 "--save-state", st]) == 0
    assert "cycles: 4; variables: w, w2" in capsys.readouterr().out
    with np.load(out) as z:
        assert z["trace:step.out"].shape == (4, 2)
    with np.load(st) as z:
        assert sorted(z.files) == ["w", "w2"]
    assert main(["run", str(path), "--cycles", "2", "--state", st, "--save-state", st]) == 0
    bad = tmp_path / "bad.npz"
    np.savez(bad, nope=np.zeros(2, np.float32))
    assert main(["run", str(path), "--state", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "'nope' is not a Variable of page 'p' (Variables: w, w2)" in err


@pytest.mark.parametrize("text,message,line", [
    ("""format: 1
blocks:
  w: {op: VariableV2, init: 1.0}
  a: {op: AssignAdd, inputs: {ref: w, value: 1.0}}
  b: {op: AssignSub, inputs: {ref: w, value: 1.0}}
""", "variable 'w' is already updated by block 'a': two updates of one Variable in a cycle have "
     "no defined order", 5),
    ("""format: 1
blocks:
  c: {op: Const, attrs: {value: 1.0}}
  a: {op: AssignAdd, inputs: {ref: c, value: 1.0}}
""", "input 'ref' is updated in place: it must be a Variable block (VariableV2), but 'c' is Const", 4),
    ("""format: 1
blocks:
  a: {op: ApplyGradientDescent, inputs: {var: 1.0, alpha: 0.1, delta: 1.0}}
""", "input 'var' is updated in place: it must be a Variable block (VariableV2), not a literal", 3),
    ("""format: 1
blocks:
  w: {op: VariableV2}
""", "a Variable needs attrs 'dtype' and a fully known 'shape'", 3),
    ("""format: 1
blocks:
  c: {op: Const, attrs: {value: 1.0}}
  w: {op: Const, attrs: {value: 1.0}, init: 2.0}
""", "only Variable blocks take 'init' (Const has no state)", 4),
    ("""format: 1
blocks:
  v: {op: VariableV2, init: 1.0}
  w: {op: VariableV2, init: v}
""", "init of variable 'w' depends on 'v', which holds or updates state", 4),
])
def test_ill_formed_state_is_a_located_error(tmp_path, text, message, line):
    page = _page(tmp_path, text)
    assert any(message in d.message and d.line == line for d in page.diagnostics), \
        [d.format() for d in page.diagnostics]


def test_a_variable_without_a_value_fails_its_block(tmp_path):
    page = _page(tmp_path, """format: 1
blocks:
  w: {op: VariableV2, attrs: {shape: [2], dtype: float32}}
  a: {op: AssignAdd, inputs: {ref: w, value: [1.0, 1.0]}}
""")
    r = page.run(cycles=3)
    assert r.block("w").status == "failed" and r.cycles == 1
    assert "variable 'w' has no value: give it an `init:`" in r.block("w").error
    r = page.run(cycles=2, state={"w": np.ones(2, np.float32)})
    assert r.ok and np.array_equal(r.state["w"], np.full(2, 3.0, np.float32))


def test_init_from_a_file(tmp_path):
    np.save(tmp_path / "w0.npy", np.arange(3, dtype=np.float64))
    page = _page(tmp_path, """format: 1
blocks:
  w: {op: VariableV2, init: {file: w0.npy}}
  a: {op: AssignAdd, inputs: {ref: w, value: [1.0, 1.0, 1.0]}}
""")
    assert not page.diagnostics
    r = page.run(cycles=2)
    assert np.array_equal(r.state["w"], np.arange(3) + 2.0) and r.state["w"].dtype == np.float64


def test_show_plots_a_trace_as_a_trend(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "p.yaml"
    path.write_text(PAGE)
    out, png = str(tmp_path / "o.npz"), str(tmp_path / "t.png")
    assert main(["run", str(path), "--cycles", "30", "--trace", "step.out", "--out", out]) == 0
    capsys.readouterr()
    assert main(["show", out, "trace:step.out", "--plot", png]) == 0
    err = capsys.readouterr().err
    assert "plotted trace:step.out: trend over 30 cycles" in err
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_replayed_cycles_give_the_bits_of_full_runs(tmp_path):
    """Middle cycles of a sequential run are replayed (run.replay); the threads executor runs
    every cycle in full: same traces and state, bit for bit."""
    page = _page(tmp_path)
    a = page.run(cycles=40, trace=["*"])
    b = page.run(cycles=40, trace=["*"], executor="threads", workers=2)
    assert a.cycles == b.cycles == 40 and sorted(a.traces) == sorted(b.traces)
    for k in a.traces:
        assert a.traces[k].tobytes() == b.traces[k].tobytes(), k
    for k in a.state:
        assert a.state[k].tobytes() == b.state[k].tobytes(), k


def test_a_failure_in_a_replayed_cycle_is_reported_at_its_cycle(tmp_path):
    page = _page(tmp_path, """format: 1
blocks:
  w: {op: VariableV2, init: 1.0e+38}
  grow: {op: AssignAdd, inputs: {ref: w, value: 1.0e+38}}
  ok: {op: CheckNumerics, inputs: {tensor: w}, attrs: {message: "w overflowed"}}
""")
    r = page.run(cycles=10)
    assert r.cycles == 4 and r.block("ok").status == "failed"      # w is inf from cycle 4 on
    assert r.block("ok").error.startswith("w overflowed : Tensor had Inf values")


def test_an_update_fed_by_a_placeholder_computes_one_step(tmp_path):
    """A Placeholder into `var` (one optimizer step on given values, as the TF golden cases of the
    training ops are written): the block outputs the updated value, nothing is kept, a warning says so."""
    page = _page(tmp_path, """format: 1
blocks:
  v: {op: Placeholder, attrs: {dtype: float32, shape: [3]}}
  s: {op: ApplyGradientDescent, inputs: {var: v, alpha: 0.5, delta: [1.0, 2.0, 4.0]}}
""")
    warn = [d for d in page.diagnostics if d.port == "var"]
    assert [d.severity for d in warn] == ["warning"] and "not a Variable" in warn[0].message
    r = page.run({"v": np.ones(3, np.float32)}, cycles=3)
    assert r.block("s").status == "ok" and r.state == {}
    assert r.block("s").outputs["out"].tolist() == [0.5, 0.0, -1.0]
