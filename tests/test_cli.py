"""The CLI contract: run/check/blocks/schema, --out/--json/--feed(s), exit codes, keep-going."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import blockgraph
from blockgraph.cli import main
from op_helpers import KEEP_GOING_PAGE, write  # noqa: F401

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


BRANCHES = KEEP_GOING_PAGE


def strict_json(text):
    def bad(c):
        raise ValueError(f"non-RFC-8259 constant {c}")
    return json.loads(text, parse_constant=bad)


def test_run_example_prints_table(capsys):
    rc = main(["run", os.path.join(EXAMPLES, "fake_quant_vars_gradient.yaml")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "backprop_wrt_min" in out and "10.0" in out and "[0., 2., 3., 0.]" in out


def test_keep_going_out_and_json(tmp_path, capsys):
    page = write(tmp_path, "branches.yaml", BRANCHES)
    out = str(tmp_path / "out.npz")
    rc = main(["run", page, "--out", out, "--json"])
    cap = capsys.readouterr()
    assert rc == 1
    doc = strict_json(cap.out)
    assert doc["page"] == "branches" and doc["ok"] is False
    b = doc["blocks"]
    assert b["x"]["status"] == "failed" and "no value was fed" in b["x"]["error"]
    assert b["fq"]["status"] == "skipped" and b["after"]["status"] == "skipped"
    assert b["ok"]["status"] == "ok"
    assert b["c"]["outputs"]["output"]["values"] == ["nan", "inf", "-inf", -0.0, 1.5]
    assert b["ok"]["outputs"]["outputs"]["dtype"] == "float32"
    assert f"{page}:3:3: error: block 'x' (Placeholder): no value was fed" in cap.err
    with np.load(out) as z:
        assert sorted(z.files) == ["__meta__", "c.output", "ok.outputs"]
        assert z["ok.outputs"].dtype == np.float32


def test_feed_and_feeds(tmp_path, capsys):
    page = write(tmp_path, "branches.yaml", BRANCHES)
    np.save(tmp_path / "x.npy", np.array([0.1, 0.5, 2.0], np.float32))
    np.savez(tmp_path / "feeds.npz", x=np.array([0.25], np.float32))
    out = str(tmp_path / "out.npz")
    assert main(["run", page, "--feed", f"x={tmp_path / 'x.npy'}", "--out", out]) == 0
    with np.load(out) as z:
        assert z["after.output"].tolist() == pytest.approx([25 / 255, 127 / 255, 1.0])
    capsys.readouterr()
    assert main(["run", page, "--feeds", str(tmp_path / "feeds.npz"), "--json"]) == 0
    assert strict_json(capsys.readouterr().out)["blocks"]["x"]["outputs"]["output"]["values"] == [0.25]


def test_feed_of_wrong_dtype_or_shape_is_located(tmp_path, capsys):
    page = write(tmp_path, "branches.yaml", BRANCHES)
    np.save(tmp_path / "x.npy", np.array([1, 2], np.float64))
    np.save(tmp_path / "x2.npy", np.ones((2, 2), np.float32))
    assert main(["run", page, "--feed", f"x={tmp_path / 'x.npy'}"]) == 1
    assert "3:3: error: block 'x' (Placeholder): fed value has dtype float64, the placeholder " \
           "expects float32" in capsys.readouterr().err
    assert main(["run", page, "--feed", f"x={tmp_path / 'x2.npy'}"]) == 1
    assert "fed value has shape [2,2], the placeholder expects [?]" in capsys.readouterr().err


def test_unknown_feed_is_an_error(tmp_path, capsys):
    page = write(tmp_path, "branches.yaml", BRANCHES)
    np.save(tmp_path / "y.npy", np.zeros(2, np.float32))
    assert main(["run", page, "--feed", f"y={tmp_path / 'y.npy'}"]) == 1
    assert "feed 'y' is not a placeholder of page 'branches'" in capsys.readouterr().err


def test_several_pages_prefix_keys(tmp_path, capsys):
    a = os.path.join(EXAMPLES, "fake_quant_args.yaml")
    b = os.path.join(EXAMPLES, "fake_quant_vars.yaml")
    out = str(tmp_path / "out.npz")
    assert main(["run", a, b, "--out", out, "--json"]) == 0
    doc = strict_json(capsys.readouterr().out)
    assert "fake_quant_args/fq" in doc["blocks"] and "fake_quant_vars/fq" in doc["blocks"]
    with np.load(out) as z:
        assert "fake_quant_args/fq.outputs" in z.files and "fake_quant_vars/fq.outputs" in z.files


def test_fail_fast_skips_the_rest(tmp_path, capsys):
    page = write(tmp_path, "branches.yaml", BRANCHES)
    assert main(["run", page, "--fail-fast", "--json"]) == 1
    doc = strict_json(capsys.readouterr().out)
    assert [b["status"] for b in doc["blocks"].values()] == ["failed", "skipped", "skipped", "skipped", "skipped"]


def test_runtime_failure_located_at_block(tmp_path, capsys):
    page = write(tmp_path, "p.yaml", """format: 1
blocks:
  g: {op: Placeholder, attrs: {dtype: float32}}
  fq:
    op: FakeQuantWithMinMaxVarsGradient
    inputs: {gradients: g, inputs: [1.0, 2.0], min: 0.0, max: 1.0}
""")
    np.save(tmp_path / "g.npy", np.ones(3, np.float32))
    assert main(["run", page, "--feed", f"g={tmp_path / 'g.npy'}"]) == 1
    assert f"{page}:4:3: error: block 'fq' (FakeQuantWithMinMaxVarsGradient): gradient and input " \
           "must be the same size" in capsys.readouterr().err


def test_check_ok_and_json(capsys):
    assert main(["check", os.path.join(EXAMPLES, "fake_quant_args.yaml")]) == 0
    assert "ok (2 blocks; feeds: inputs float32 [?,?] (has a default))" in capsys.readouterr().out
    bad = os.path.join(ROOT, "tests", "pages", "cycle.yaml")
    assert main(["check", bad, "--json"]) == 1
    doc = strict_json(capsys.readouterr().out)
    assert doc["ok"] is False and doc["errors"][0]["message"] == "cycle: a -> b -> c -> a"


def test_missing_page_file(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.yaml")]) == 1
    assert "nope.yaml:1:1: error: cannot read the page" in capsys.readouterr().err


def test_usage_error_exit_2(capsys):
    with pytest.raises(SystemExit) as e:
        main(["run"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["frobnicate"])
    assert e.value.code == 2


def test_blocks_listing(capsys):
    assert main(["blocks", "--json"]) == 0
    listing = strict_json(capsys.readouterr().out)
    by_name = {b["name"]: b for b in listing}
    g = by_name["FakeQuantWithMinMaxVarsGradient"]
    assert [p["name"] for p in g["inputs"]] == ["gradients", "inputs", "min", "max"]
    assert [o["name"] for o in g["outputs"]] == ["backprops_wrt_input", "backprop_wrt_min", "backprop_wrt_max"]
    nb = next(a for a in g["attrs"] if a["name"] == "num_bits")
    assert (nb["default"], nb["min"], nb["max"]) == (8, 2, 16)
    assert main(["blocks", "FakeQuantWithMinMaxArgs"]) == 0
    assert "num_bits: int, default 8" in capsys.readouterr().out
    assert main(["blocks", "FakeQuantWithMinMaxArsg"]) == 1
    assert "did you mean 'FakeQuantWithMinMaxArgs'" in capsys.readouterr().err


def test_console_script_never_prints_a_traceback(tmp_path):
    page = write(tmp_path, "bad.yaml", "format: 1\nblocks:\n  a: {op: Identity, inputs: {input: [1, [2]]}}\n")
    env = dict(os.environ)
    proc = subprocess.run([sys.executable, "-m", "blockgraph.cli", "run", page], capture_output=True,
                          text=True, env=env, cwd=ROOT)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "error:" in proc.stderr
    help_ = subprocess.run([sys.executable, "-m", "blockgraph.cli", "--help"], capture_output=True, text=True)
    assert help_.returncode == 0 and "run" in help_.stdout


def test_out_is_atomic_and_keeps_previous_on_failure(tmp_path):
    out = tmp_path / "out.npz"
    out.write_bytes(b"previous")
    from blockgraph.core.results import write_npz

    class Boom:
        def __array__(self, *a, **k):
            raise RuntimeError("boom")
    with pytest.raises(Exception):
        write_npz(str(out), {"a": np.zeros(2), "b": Boom()})
    assert out.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["out.npz"]


def test_keep_frees_intermediates(tmp_path, capsys):
    page = write(tmp_path, "chain.yaml", """format: 1
blocks:
  a: {op: Const, attrs: {value: [1.0, 2.0]}}
  b: {op: Identity, inputs: {input: a}}
  c: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: b}}
""")
    out = str(tmp_path / "o.npz")
    assert main(["run", page, "--keep", "c.*", "--out", out, "--json"]) == 0
    doc = strict_json(capsys.readouterr().out)
    assert [b["status"] for b in doc["blocks"].values()] == ["ok"] * 3
    assert doc["blocks"]["a"]["outputs"] == {} and "outputs" in doc["blocks"]["c"]["outputs"]
    with np.load(out) as z:
        assert z.files == ["c.outputs", "__meta__"]


def test_max_bytes_refuses_before_allocating(tmp_path, capsys):
    page = write(tmp_path, "big.yaml", """format: 1
blocks:
  x: {op: Placeholder, attrs: {dtype: float32, shape: [null]}}
  fq: {op: ConcatV2, inputs: {values: [x, x, x, x, x], axis: 0}}
  c: {op: Const, attrs: {value: 1.0, shape: [100]}}
""")
    np.save(tmp_path / "x.npy", np.zeros(200, np.float32))
    assert main(["run", page, "--feed", f"x={tmp_path / 'x.npy'}", "--max-bytes", "1K"]) == 1
    err = capsys.readouterr().err
    assert "block 'fq' (ConcatV2): OOM when allocating tensor with shape[1000] and type float on " \
           "/job:localhost/replica:0/task:0/device:CPU:0 by allocator cpu: the outputs would need " \
           "3.9 KiB, more than the limit of 1.0 KiB (raise it with --max-bytes)" in err
    # a feed over the limit is refused from its header, before its data is read: a usage error
    np.save(tmp_path / "x.npy", np.zeros(1000, np.float32))
    assert main(["run", page, "--feed", f"x={tmp_path / 'x.npy'}", "--max-bytes", "1K"]) == 2
    assert "x.npy: it holds a [1000] float32 array of 3.9 KiB, more than the limit of 1.0 KiB " \
           "(raise it with --max-bytes)" in capsys.readouterr().err


@pytest.mark.parametrize("size", ["1e999", "nan", "inf", "1e30", "0.5", "-3"])
def test_max_bytes_must_be_a_finite_positive_size(size, capsys):
    with pytest.raises(SystemExit) as e:
        main(["run", os.path.join(EXAMPLES, "fake_quant_args.yaml"), f"--max-bytes={size}"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "argument --max-bytes: " in err and "Traceback" not in err


def test_show_of_no_output_is_a_usage_error_before_running(tmp_path, capsys):
    page = os.path.join(EXAMPLES, "fake_quant_vars_gradient.yaml")
    out = tmp_path / "out.npz"
    for key, why in [("nosuch", "no block 'nosuch' in page 'fake_quant_vars_gradient'"),
                     ("fq.nope", "block 'fq' (FakeQuantWithMinMaxVarsGradient) has no output 'nope'"),
                     ("fq.backprop_wrt_min.0", "output 'fq.backprop_wrt_min' is not a list")]:
        assert main(["run", page, "--show", key, "--out", str(out)]) == 2
        cap = capsys.readouterr()
        assert f"blockgraph: error: --show {key}: {why}" in cap.err and cap.out == ""
        assert not out.exists()
    assert main(["run", page, "--show", "fq.backprop_wrt_min", "--keep", "x.*"]) == 2
    assert "output 'fq.backprop_wrt_min' is not kept (--keep x.*)" in capsys.readouterr().err
    # a key of one page among several is shown for that page only
    other = os.path.join(EXAMPLES, "fake_quant_args.yaml")
    assert main(["run", page, other, "--show", "grads"]) == 0
    cap = capsys.readouterr()
    assert cap.out.count("grads: float32 [4]") == 1 and cap.err == ""
    # a block that failed at run time cannot be shown: the run's status is already 1
    failing = write(tmp_path, "branches.yaml", BRANCHES)
    assert main(["run", failing, "--show", "x"]) == 1
    assert "--show x: block 'x' has no outputs: it failed" in capsys.readouterr().err


def test_out_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path):
    page = os.path.join(EXAMPLES, "fake_quant_args.yaml")
    real = tmp_path / "results"
    real.mkdir()
    (real / "out.npz").write_bytes(b"previous")
    os.chmod(real / "out.npz", 0o640)
    link = tmp_path / "link.npz"
    link.symlink_to(real / "out.npz")
    assert main(["run", page, "--out", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == str(real / "out.npz")
    with np.load(real / "out.npz") as z:
        assert "fq.outputs" in z.files
    assert oct(os.stat(real / "out.npz").st_mode & 0o777) == oct(0o640)
    dangling = tmp_path / "dangling.npz"
    dangling.symlink_to(real / "new.npz")
    assert main(["run", page, "--out", str(dangling)]) == 0
    assert dangling.is_symlink() and (real / "new.npz").is_file()
    assert sorted(os.listdir(real)) == ["new.npz", "out.npz"]


def test_out_that_is_not_a_regular_file_is_refused_before_running(tmp_path, capsys):
    page = os.path.join(EXAMPLES, "fake_quant_args.yaml")
    fifo = tmp_path / "fifo.npz"
    os.mkfifo(fifo)
    (tmp_path / "dir.npz").mkdir()
    for out, kind in [(fifo, "a FIFO"), (tmp_path / "dir.npz", "a directory")]:
        assert main(["run", page, "--out", str(out)]) == 2
        cap = capsys.readouterr()
        assert f"--out {out}: not a regular file ({kind}); refusing to replace it" in cap.err
        assert cap.out == ""
    assert fifo.is_fifo() and (tmp_path / "dir.npz").is_dir()
    from blockgraph.core.results import write_npz
    from blockgraph.core.errors import FileWriteError
    with pytest.raises(FileWriteError, match="a FIFO"):
        write_npz(str(fifo), {"a": np.zeros(2)})
    assert sorted(os.listdir(tmp_path)) == ["dir.npz", "fifo.npz"]


def test_list_port_items_in_the_explicit_literal_form(tmp_path):
    """`values: [{value: ..., dtype: ...}, ...]` on a list port: the form the error used to ask for."""
    page = tmp_path / "p.yaml"
    page.write_text("format: 1\nblocks:\n  c: {op: ConcatV2, inputs: {values: [{value: [1], dtype: int64}, "
                    "{value: [2, 3], dtype: int64}], axis: 0}}\n")
    p = blockgraph.load_page(str(page))
    assert not p.diagnostics
    r = p.run()
    assert r["c"].tolist() == [1, 2, 3] and r["c"].dtype == np.int64


def test_string_tensors_with_an_empty_dimension_keep_their_shape_in_out(tmp_path):
    page = tmp_path / "p.yaml"
    page.write_text("format: 1\nblocks:\n  f: {op: Fill, inputs: {dims: [1, 2, 0, 1], "
                    "value: {value: abc, dtype: string}}}\n  g: {op: Fill, inputs: {dims: [2], "
                    "value: {value: abc, dtype: string}}}\n")
    out = tmp_path / "o.npz"
    assert main(["run", str(page), "--out", str(out)]) == 0
    with np.load(out) as z:
        assert z["f.output"].shape == (1, 2, 0, 1) and z["g.output"].tolist() == [b"abc", b"abc"]
