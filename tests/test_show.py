"""`blockgraph show`: the table of a results file, one tensor printed as numpy prints it with its
statistics (NaN / inf / zero counts, FakeQuant levels), bfloat16 and string results, key lookup
with PAGE/ prefixes, one-line errors, and `--plot` (histogram, heatmap, FakeQuant staircase)."""
import os
import subprocess
import sys

import numpy as np
import pytest

from blockgraph.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")

FQ_PAGE = """format: 1
blocks:
  x: {op: Placeholder, attrs: {dtype: float32, shape: [null, null]}}
  fq: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: x}, attrs: {min: -3.0, max: 3.0, num_bits: 4}}
  twice: {op: Identity, inputs: {input: fq}}
"""


def run_out(tmp_path, *pages, feeds=()):
    out = str(tmp_path / "r.npz")
    assert main(["run", *pages, "--out", out, *feeds]) == 0
    return out


@pytest.fixture
def fq_results(tmp_path, capsys):
    page = tmp_path / "fq.yaml"
    page.write_text(FQ_PAGE)
    x = (np.random.default_rng(7).standard_normal((24, 30)) * 2).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    out = run_out(tmp_path, str(page), feeds=["--feed", f"x={tmp_path / 'x.npy'}"])
    capsys.readouterr()
    return out, x


def test_table_of_all_results(tmp_path, capsys):
    out = run_out(tmp_path, os.path.join(EXAMPLES, "fake_quant_vars_gradient.yaml"))
    capsys.readouterr()
    assert main(["show", out]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{out}: made by blockgraph ")        # the file's metadata
    lines = lines[1:]
    assert lines[0].split() == ["key", "op", "dtype", "shape", "min", "max", "mean", "nan", "inf",
                                "values"]
    keys = [ln.split()[0] for ln in lines[1:]]
    assert keys == ["grads.output", "x.output", "fq.backprops_wrt_input", "fq.backprop_wrt_min",
                    "fq.backprop_wrt_max"]
    row = lines[keys.index("fq.backprops_wrt_input") + 1].split()
    assert row[1:9] == ["FakeQuantWithMinMaxVarsGradient", "float32", "[4]", "0", "3", "1.25", "0", "0"]


def test_one_tensor_with_stats(tmp_path, capsys):
    out = str(tmp_path / "s.npz")
    a = np.array([[np.nan, np.inf, -np.inf, 0.0], [-0.0, 1.0, 2.0, 5.0]], np.float32)
    np.savez(out, **{"c.output": a})
    assert main(["show", out, "c.output"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0] == "c.output: float32 [2,4]"
    assert text[1:3] == ["array([[ nan,  inf, -inf,   0.],", "       [ -0.,   1.,   2.,   5.]], dtype=float32)"]
    assert text[3] == "min -0  max 5  mean 1.6  std 1.85472  nan 1  inf 2  zeros 2  count 8"
    assert not any(ln.startswith("levels") for ln in text)     # not a FakeQuant output


def test_big_tensor_is_summarised(tmp_path, capsys):
    out = str(tmp_path / "b.npz")
    np.savez(out, **{"big.output": np.arange(5000, dtype=np.int64).reshape(50, 100)})
    assert main(["show", out, "big"]) == 0
    text = capsys.readouterr().out
    assert "..." in text and "shape=(50, 100)" in text and len(text.splitlines()) < 20
    assert "min 0  max 4999  mean 2499.5" in text and "zeros 1  count 5000" in text


def test_fake_quant_levels(fq_results, capsys):
    out, x = fq_results
    assert main(["show", out, "fq"]) == 0
    text = capsys.readouterr().out
    with np.load(out) as z:
        used = np.unique(z["fq.outputs"]).size
    assert used == 16
    assert f"levels: {used} distinct values used (gaps are multiples of 0.4)  [FakeQuant output]" in text
    assert main(["show", out, "x.output"]) == 0
    assert "levels" not in capsys.readouterr().out


def test_bfloat16_strings_and_bool(tmp_path, capsys):
    import ml_dtypes
    out = str(tmp_path / "d.npz")
    np.savez(out, **{"h.output": np.array([1.5, -2.0, 3.0], ml_dtypes.bfloat16),
                     "s.output": np.array([b"ab", b"c", b"ab"]),
                     "b.output": np.array([True, False, True])})
    assert main(["show", out, "h"]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0] == "h.output: bfloat16 (stored as |V2) [3]"
    assert "1.5" in text[1] and "min -2  max 3" in text[2]
    assert main(["show", out, "s"]) == 0
    assert "distinct 2  count 3" in capsys.readouterr().out
    assert main(["show", out, "b"]) == 0
    assert "true 2  false 1  count 3" in capsys.readouterr().out
    assert main(["show", out]) == 0
    table = capsys.readouterr().out
    assert "bfloat16" in table and "string" in table


def test_keys_with_page_prefix(tmp_path, capsys):
    out = run_out(tmp_path, os.path.join(EXAMPLES, "fake_quant_vars.yaml"),
                  os.path.join(EXAMPLES, "fake_quant_args.yaml"))
    capsys.readouterr()
    assert main(["show", out, "fq"]) == 1
    assert "write PAGE/fq" in capsys.readouterr().err
    assert main(["show", out, "fake_quant_args/fq.outputs"]) == 0
    assert capsys.readouterr().out.startswith("fake_quant_args/fq.outputs: float32 [2,2]")
    assert main(["show", out, "min"]) == 0            # unique across the pages
    assert "fake_quant_vars/min.output" in capsys.readouterr().out


def test_errors_are_one_line(tmp_path, capsys):
    good = str(tmp_path / "g.npz")
    np.savez(good, **{"fq.outputs": np.zeros(3, np.float32)})
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    np.save(tmp_path / "one.npy", np.zeros(2))
    cases = [(["show", str(tmp_path / "missing.npz")], 1, "cannot read"),
             (["show", str(tmp_path / "junk.npz")], 1, "cannot read"),
             (["show", str(tmp_path / "one.npy")], 1, "not a results .npz"),
             (["show", good, "fq.output"], 1, "did you mean 'fq.outputs'"),
             (["show", good, "--per-channel"], 2, "--per-channel is for --plot")]
    for argv, status, text in cases:
        assert main(argv) == status, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and text in err[0] and err[0].startswith("blockgraph: error:"), err


def test_show_does_not_import_matplotlib(tmp_path):
    out = str(tmp_path / "g.npz")
    np.savez(out, **{"a.output": np.zeros(3)})
    code = ("import sys; from blockgraph.cli import main; main(['show', sys.argv[1], 'a']); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('graphviz', 'matplotlib')))")
    res = subprocess.run([sys.executable, "-c", code, out], capture_output=True, text=True, check=True)
    assert res.stdout.strip().splitlines()[-1] == "[]"


# ------------------------------------------------------------------ --plot

def png_size(path):
    with open(path, "rb") as fh:
        head = fh.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_plot_fake_quant_histogram_heatmap_staircase(fq_results, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out, x = fq_results
    png = str(tmp_path / "fq.png")
    assert main(["show", out, "fq.outputs", "--plot", png]) == 0
    err = capsys.readouterr().err
    assert "plotted fq.outputs: histogram, heatmap, staircase against x.output" in err
    w, h = png_size(png)
    assert w > 2.5 * h                      # three panels side by side
    # the staircase is drawn from the right data: each output is within half a step of its input
    from blockgraph.view.plots import staircase_input
    from blockgraph.view.show import load_npz
    tensors = load_npz(out)
    assert staircase_input(tensors, tensors["fq.outputs"]).key == "x.output"
    assert staircase_input(tensors, tensors["twice.output"]) is not None   # same values, any key
    assert staircase_input(tensors, tensors["x.output"]) is None          # x quantizes nothing


def test_plot_histogram_only_for_1d(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = run_out(tmp_path, os.path.join(EXAMPLES, "fake_quant_vars_gradient.yaml"))
    png = str(tmp_path / "h.png")
    capsys.readouterr()
    assert main(["show", out, "fq.backprops_wrt_input", "--plot", png]) == 0
    assert "plotted fq.backprops_wrt_input: histogram\n" in capsys.readouterr().err
    w, h = png_size(png)
    assert w < 1.5 * h


def test_plot_staircase_on_example_page(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = run_out(tmp_path, os.path.join(EXAMPLES, "fake_quant_args.yaml"))
    png = str(tmp_path / "a.png")
    capsys.readouterr()
    assert main(["show", out, "fq", "--plot", png]) == 0
    assert "staircase against inputs.output" in capsys.readouterr().err


def test_plot_refuses_strings(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = str(tmp_path / "s.npz")
    np.savez(out, **{"s.output": np.array([b"a"])})
    assert main(["show", out, "s", "--plot", str(tmp_path / "s.png")]) == 1
    assert "cannot plot 's.output': it holds strings" in capsys.readouterr().err


# ---------------------------------------------------------------- --page: the page that made the results

PC_PAGE = """format: 1
blocks:
  x: {op: Placeholder, attrs: {dtype: float32, shape: [null, 3]}}
  fq:
    op: FakeQuantWithMinMaxVarsPerChannel
    inputs: {inputs: x, min: [-0.5, -2.0, -4.0], max: [0.5, 2.0, 4.0]}
    attrs: {num_bits: 3}
"""


def test_page_names_ops_and_counts_levels_on_the_nudged_grid(fq_results, tmp_path, capsys):
    out, x = fq_results
    page = str(tmp_path / "fq.yaml")
    assert main(["show", out, "fq.outputs", "--page", page]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0] == "fq.outputs: float32 [24,30]  (FakeQuantWithMinMaxArgs)"
    # [-3, 3] on 4 bits: step 6/15, zero point round(7.5) = 8, so the grid is [-3.2, 2.8]
    assert text[-1] == "quantization: 4 bits, nudged range [-3.2, 2.8], step 0.4; 16 of 16 levels used"
    assert not any(ln.startswith("levels:") for ln in text)
    assert main(["show", out, "x", "--page", page]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "x.output: float32 [24,30]  (Placeholder)"
    assert not any(ln.startswith(("levels", "quantization")) for ln in lines)
    assert main(["show", out, "--page", page]) == 0      # the table gets an op column
    rows = [ln.split()[:3] for ln in capsys.readouterr().out.splitlines()[1:]]
    assert rows == [["key", "op", "dtype"], ["x.output", "Placeholder", "float32"],
                    ["fq.outputs", "FakeQuantWithMinMaxArgs", "float32"],
                    ["twice.output", "Identity", "float32"]]


def test_page_vars_range_from_the_results_file(tmp_path, capsys):
    page = os.path.join(EXAMPLES, "fake_quant_vars.yaml")
    out = run_out(tmp_path, page)
    capsys.readouterr()
    assert main(["show", out, "fq", "--page", page]) == 0
    # min 5, max 20: TF moves the range to include 0, giving [0, 15] on 255 steps
    assert ("quantization: 8 bits, nudged range [0, 15], step 0.0588235; 3 of 256 levels used"
            in capsys.readouterr().out)
    # without min/max in the file the range is unknown: the levels are guessed as without --page
    kept = str(tmp_path / "kept.npz")
    assert main(["run", page, "--keep", "fq.*", "--out", kept]) == 0
    capsys.readouterr()
    with np.load(kept) as z:
        assert "min.output" not in z.files
    assert main(["show", kept, "fq", "--page", page]) == 0
    text = capsys.readouterr().out
    assert "quantization:" not in text and "levels: 3 distinct values used" in text


def test_page_per_channel_levels(tmp_path, capsys):
    page = tmp_path / "pc.yaml"
    page.write_text(PC_PAGE)
    x = np.linspace(-5, 5, 300, dtype=np.float32).reshape(100, 3)
    np.save(tmp_path / "x.npy", x)
    out = run_out(tmp_path, str(page), feeds=["--feed", f"x={tmp_path / 'x.npy'}"])
    capsys.readouterr()
    assert main(["show", out, "fq.outputs", "--page", str(page)]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    with np.load(out) as z:
        used = [np.unique(c).size for c in z["fq.outputs"].T]
    assert used == [8, 8, 8]
    assert line.startswith("quantization: 3 bits, per channel (3 channels, last axis): nudged min ")
    assert line.endswith("levels used per channel 8..8 (median 8) of 8")
    # fewer levels where the inputs cover less of the range: only x >= 0 in the first channel
    x[:, 0] = np.abs(x[:, 0])
    np.save(tmp_path / "x.npy", x)
    out = run_out(tmp_path, str(page), feeds=["--feed", f"x={tmp_path / 'x.npy'}"])
    capsys.readouterr()
    with np.load(out) as z:
        used = [np.unique(c).size for c in z["fq.outputs"].T]
    assert used[0] < 8
    assert main(["show", out, "fq.outputs", "--page", str(page)]) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith(
        f"levels used per channel {used[0]}..8 (median 8) of 8")


def test_page_keys_of_a_multi_page_file(tmp_path, capsys):
    args_page = os.path.join(EXAMPLES, "fake_quant_args.yaml")
    vars_page = os.path.join(EXAMPLES, "fake_quant_vars.yaml")
    out = run_out(tmp_path, args_page, vars_page)
    capsys.readouterr()
    assert main(["show", out, "fake_quant_args/fq", "--page", args_page]) == 0
    text = capsys.readouterr().out
    assert "(FakeQuantWithMinMaxArgs)" in text and "nudged range [-6.02353, 5.97647]" in text
    # the other page's keys are not this page's blocks (their op is the file's metadata's)
    assert main(["show", out, "fake_quant_vars/fq", "--page", args_page]) == 0
    text = capsys.readouterr().out
    assert "(FakeQuantWithMinMaxArgs)" not in text and "quantization:" not in text
    assert "fake_quant_vars/fq.outputs: float32 [4]  (FakeQuantWithMinMaxVars)" in text


def test_page_plot_uses_the_blocks_real_input(tmp_path, capsys):
    """A tensor equal to the output comes first in the file: a guess takes it, the page does not."""
    pytest.importorskip("matplotlib")
    page = tmp_path / "fq.yaml"
    page.write_text(FQ_PAGE.replace("[null, null]", "[null]") + "  decoy: {op: Identity, inputs: {input: fq}}\n")
    x = np.linspace(-4, 4, 200, dtype=np.float32)
    from blockgraph.core import registry
    registry.load_library()
    y = registry.get("FakeQuantWithMinMaxArgs").compute(inputs=x, min=-3.0, max=3.0, num_bits=4,
                                                        narrow_range=False)
    out = str(tmp_path / "r.npz")
    np.savez(out, **{"decoy.output": y.copy(), "x.output": x, "fq.outputs": y})
    png = str(tmp_path / "p.png")
    assert main(["show", out, "fq.outputs", "--plot", png]) == 0
    assert "staircase against decoy.output" in capsys.readouterr().err
    assert main(["show", out, "fq.outputs", "--plot", png, "--page", str(page)]) == 0
    assert "staircase against x.output" in capsys.readouterr().err


def test_page_errors_are_one_line(fq_results, tmp_path, capsys):
    out, _ = fq_results
    assert main(["show", out, "fq", "--page", str(tmp_path / "missing.yaml")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("blockgraph: error: cannot read the page ")
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: 1\nblocks: [\n")
    assert main(["show", out, "fq", "--page", str(bad)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"{bad}:") and ": error: " in err[0]


def test_page_that_did_not_make_the_file_is_refused_by_its_metadata(fq_results, tmp_path, capsys):
    out, _ = fq_results
    other = os.path.join(EXAMPLES, "fake_quant_vars_gradient.yaml")     # also has x and fq
    assert main(["show", out, "fq", "--page", other]) == 1
    assert capsys.readouterr().err == (
        f"blockgraph: error: {other} did not make {out}: the file was made by page 'fq' "
        f"({tmp_path / 'fq.yaml'}), not by 'fake_quant_vars_gradient'\n")
    renamed = tmp_path / "same.yaml"            # the same text under another name is that page
    renamed.write_text(FQ_PAGE)
    assert main(["show", out, "fq", "--page", str(renamed)]) == 0
    assert capsys.readouterr().err == ""
    (tmp_path / "fq.yaml").write_text(FQ_PAGE + "  # a comment\n")     # edited since: a note
    assert main(["show", out, "fq", "--page", str(tmp_path / "fq.yaml")]) == 0
    assert "blockgraph: note: page 'fq' changed since the file was made" in capsys.readouterr().err


def without_meta(path):
    """The results file `path` rewritten without its metadata (as older versions wrote it)."""
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files if k != "__meta__"}
    np.savez(path, **arrays)
    return path


def test_page_that_did_not_make_the_file_is_refused(fq_results, tmp_path, capsys):
    out, _ = fq_results
    without_meta(out)
    other = os.path.join(EXAMPLES, "fake_quant_vars_gradient.yaml")     # also has x and fq
    assert main(["show", out, "fq", "--page", other]) == 1
    err = capsys.readouterr().err
    assert err == (f"blockgraph: error: {other} did not make {out}: 'x.output' has shape [24, 30], "
                   "but block 'x' (PlaceholderWithDefault) gives [4]\n")
    page = tmp_path / "renamed.yaml"
    page.write_text(FQ_PAGE.replace("twice", "thrice"))
    assert main(["show", out, "--page", str(page)]) == 1
    assert "'twice.output' names no block of the page (it has 3: x, fq, thrice)" in capsys.readouterr().err
    page.write_text(FQ_PAGE.replace("dtype: float32", "dtype: float64"))
    assert main(["show", out, "fq", "--page", str(page)]) == 1
    assert "'x.output' holds float32, but block 'x' (Placeholder) gives float64" in capsys.readouterr().err
    # the page that made it, and a run --keep subset of it, agree
    assert main(["show", out, "fq", "--page", str(tmp_path / "fq.yaml")]) == 0


def test_page_of_none_of_the_files_pages_is_refused(tmp_path, capsys):
    args_page = os.path.join(EXAMPLES, "fake_quant_args.yaml")
    vars_page = os.path.join(EXAMPLES, "fake_quant_vars.yaml")
    out = run_out(tmp_path, args_page, vars_page)
    other = os.path.join(EXAMPLES, "image_layout.yaml")
    assert main(["show", out, "--page", other]) == 1
    assert "the file was made by page 'fake_quant_args' (" in capsys.readouterr().err
    without_meta(out)
    assert main(["show", out, "--page", other]) == 1
    assert "it holds no results of page 'image_layout' (its pages: fake_quant_args, fake_quant_vars)" \
        in capsys.readouterr().err
