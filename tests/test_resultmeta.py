"""Results files say what they hold: the `__meta__` entry of `run --out`, `--trace-out` and sweep
run files (page path and hash, blockgraph version, each key's op and TF dtype, feeds, cycles,
params), read by plain `np.load`, used by `show` (quint8, ops, another page refused) and
harmless to `render --results`, `--state`, `--feeds` and files without it."""
import hashlib
import json
import os

import numpy as np
import pytest

import blockgraph
from blockgraph.cli import main
from blockgraph.core import resultmeta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
QUANT = os.path.join(EXAMPLES, "weight_quantization.yaml")


def meta_of(path):
    with np.load(path, allow_pickle=False) as z:
        return json.loads(z["__meta__"].tobytes())


def test_run_out_metadata(tmp_path, capsys):
    out = str(tmp_path / "o.npz")
    np.save(tmp_path / "x.npy", np.float32([-1, 2, 3, 6]))
    page = os.path.join(EXAMPLES, "fake_quant_vars_gradient.yaml")
    assert main(["run", page, QUANT, "--feed", f"fake_quant_vars_gradient/x={tmp_path / 'x.npy'}",
                 "--out", out]) == 0
    meta = meta_of(out)
    assert meta["format"] == "blockgraph-results" and meta["blockgraph"] == blockgraph.__version__
    entry = meta["pages"]["fake_quant_vars_gradient"]
    with open(page, "rb") as fh:
        assert entry["sha256"] == hashlib.sha256(fh.read()).hexdigest()
    assert entry["path"] == page and entry["cycles"] == 1 and entry["ok"] is True
    assert entry["feeds"] == {"x": str(tmp_path / "x.npy")}
    assert meta["pages"]["weight_quantization"]["feeds"] == {}
    assert meta["keys"]["weight_quantization/q.output"] == {
        "page": "weight_quantization", "block": "q", "op": "QuantizeV2", "dtype": "quint8"}
    with np.load(out, allow_pickle=False) as z:     # every other key is a result, as before
        assert set(z.files) - {"__meta__"} == set(meta["keys"])
        assert z["__meta__"].dtype == np.uint8 and z["__meta__"].ndim == 1
    assert resultmeta.decode(np.zeros(3, np.uint8)) is None
    assert resultmeta.decode(np.frombuffer(b'{"format": "other"}', np.uint8)) is None


def test_show_uses_the_metadata(tmp_path, capsys):
    out = str(tmp_path / "q.npz")
    assert main(["run", QUANT, "--out", out]) == 0
    capsys.readouterr()
    assert main(["show", out, "q.output"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "q.output: quint8 [3,4]  (QuantizeV2)"
    assert main(["show", out]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (f"{out}: made by blockgraph {blockgraph.__version__} from page "
                        f"'weight_quantization' ({QUANT}, sha256 "
                        f"{meta_of(out)['pages']['weight_quantization']['sha256'][:12]}), feeds none, "
                        "1 cycle")
    row = next(ln.split() for ln in lines if ln.startswith("q.output "))
    assert row[1:3] == ["QuantizeV2", "quint8"]
    # without metadata (an older file) the integer base shows, as before
    with np.load(out) as z:
        np.savez(out, **{k: z[k] for k in z.files if k != "__meta__"})
    assert main(["show", out, "q.output"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "q.output: uint8 [3,4]"


def test_show_page_refuses_a_file_another_page_made(tmp_path, capsys):
    out = str(tmp_path / "q.npz")
    assert main(["run", QUANT, "--out", out]) == 0
    capsys.readouterr()
    other = os.path.join(EXAMPLES, "image_layout.yaml")
    assert main(["show", out, "--page", other]) == 1
    assert capsys.readouterr().err == (
        f"blockgraph: error: {other} did not make {out}: the file was made by page "
        f"'weight_quantization' ({QUANT}), not by 'image_layout'\n")
    assert main(["show", out, "q", "--page", QUANT]) == 0


def test_traces_state_and_cycles(tmp_path, capsys):
    page = tmp_path / "c.yaml"
    page.write_text("format: 1\nblocks:\n  w: {op: VariableV2, init: [1.0, 2.0]}\n"
                    "  step: {op: AssignAdd, inputs: {ref: w, value: [1.0, 1.0]}}\n")
    out, traces, state = (str(tmp_path / n) for n in ("o.npz", "t.npz", "s.npz"))
    assert main(["run", str(page), "--cycles", "3", "--trace", "step.*", "--out", out,
                 "--trace-out", traces, "--save-state", state]) == 0
    assert meta_of(out)["pages"]["c"]["cycles"] == 3
    t = meta_of(traces)
    assert t["keys"] == {"trace:step.output_ref": {"page": "c", "block": "step", "op": "AssignAdd",
                                                   "dtype": "float32", "trace": True}}
    with np.load(state) as z:
        assert "__meta__" not in z.files                     # a state file is Variables only
    # a results file given as --state or --feeds: its metadata is not a Variable or a feed
    capsys.readouterr()
    assert main(["run", str(page), "--state", traces, "--cycles", "1"]) == 1
    err = capsys.readouterr().err
    assert "'trace:step.output_ref' is not a Variable" in err and "__meta__" not in err
    assert main(["show", traces]) == 0
    assert "trace:step" in capsys.readouterr().out


def test_render_results_with_metadata(tmp_path, capsys):
    pytest.importorskip("graphviz")
    import shutil
    if shutil.which("dot") is None:
        pytest.skip("needs Graphviz's dot")
    out = str(tmp_path / "q.npz")
    assert main(["run", QUANT, "--out", out]) == 0
    capsys.readouterr()
    assert main(["render", QUANT, "--results", out, "-o", str(tmp_path / "q.svg")]) == 0
    cap = capsys.readouterr()
    assert "warning" not in cap.err and "quint8" in (tmp_path / "q.svg").read_text()


def test_sweep_run_files_carry_metadata(tmp_path):
    out = tmp_path / "sw"
    page = os.path.join(EXAMPLES, "fake_quant_args.yaml")
    assert main(["sweep", page, "--grid", "fq.num_bits=2,4", "--out", str(out)]) == 0
    meta = meta_of(out / "run-0001.npz")
    entry = meta["pages"]["fake_quant_args"]
    assert entry["settings"] == {"fq.num_bits": 4} and entry["ok"] is True
    assert meta["keys"]["fq.outputs"]["op"] == "FakeQuantWithMinMaxArgs"
