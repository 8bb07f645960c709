"""What a new user met: `blocks PREFIX`, listings wrapped to the terminal, an unknown flag printing
its subcommand's usage, did-you-mean for ops (similarity and family), dtypes and `parts.1`,
`print(diagnostic)` on one line, a useful `Results` repr, the progress bar's heartbeat, `show
--plot` without a key, single values and `--per-channel`, and `render` keeping hand positions."""
import io
import os
import re
import shutil
import time

import numpy as np
import pytest

import blockgraph
from blockgraph.cli import main
from blockgraph.core import suggest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")


def test_blocks_prefix_lists_the_matching_blocks(capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["blocks", "FakeQuant"]) == 0
    names = [ln.split()[0] for ln in capsys.readouterr().out.splitlines()[1:]]
    assert names == ["FakeQuantWithMinMaxArgs", "FakeQuantWithMinMaxArgsGradient",
                     "FakeQuantWithMinMaxVars", "FakeQuantWithMinMaxVarsGradient",
                     "FakeQuantWithMinMaxVarsPerChannel", "FakeQuantWithMinMaxVarsPerChannelGradient"]
    assert main(["blocks", "fakequantwithminmaxvarsperchannel"]) == 0     # any case; one match
    assert len(capsys.readouterr().out.splitlines()) == 3
    assert main(["blocks", "Gradient"]) == 0                              # an alias's prefix
    assert "AddSymbolicGradients" in capsys.readouterr().out
    assert main(["blocks", "Sqeeze"]) == 1
    assert capsys.readouterr().err.strip() == (
        "blockgraph: error: no block named 'Sqeeze' or starting so; did you mean 'Squeeze' "
        "(shapes) or 'Size' (shapes)?")


def test_blocks_wraps_to_the_terminal_width(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "130")
    assert main(["blocks"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert max(map(len, lines)) <= 130
    from blockgraph.core import registry
    starts = [ln.split()[0] for ln in lines[1:] if ln and not ln.startswith(" ")]
    assert starts == registry.names() and len(lines) > len(starts) + 1     # continuation lines
    monkeypatch.delenv("COLUMNS")                  # a pipe: whole lines, for grep
    assert main(["blocks"]) == 0
    assert max(map(len, capsys.readouterr().out.splitlines())) > 130


def test_an_unknown_flag_prints_the_subcommands_usage(capsys):
    with pytest.raises(SystemExit) as e:
        main(["run", "page.yaml", "--fead", "x=1"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: blockgraph run ") and "--cast-feeds" in err
    assert err.strip().endswith("blockgraph run: error: unrecognized arguments: --fead x=1")


def test_op_suggestions_rank_by_similarity_and_family():
    assert suggest.ops("FakeQuantWithMinMaxVar")[0] == ("FakeQuantWithMinMaxVars", "fake_quant")
    plain = [k for k, _ in suggest.ops("Reshap")]
    assert plain[0] == "Reshape"
    # a page using the quantize family gets its op first among close names
    far = [k for k, _ in suggest.ops("QuantizeV")]
    near = [k for k, _ in suggest.ops("QuantizeV", near_families={"fake_quant"})]
    assert far[0] == "QuantizeV2" and near[0] == "QuantizeV2"
    assert [k for k, _ in suggest.ops("FakeQuantWithMinMax", near_families={"fake_quant"})][:1] == \
        ["FakeQuantWithMinMaxArgs"]
    text = "format: 1\nblocks:\n  a: {op: Const, attrs: {value: 1.0}}\n  b: {op: Idenity, inputs: {input: a}}\n"
    page = blockgraph.load_page("t.yaml", text=text)
    assert page.errors[0].hint.startswith("did you mean 'Identity' (core)")


def test_family_breaks_ties():
    a = suggest._score("Foo", "FooA", "x", frozenset({"x"}))
    b = suggest._score("Foo", "FooB", "y", frozenset({"x"}))
    assert a > b


@pytest.mark.parametrize("typo,want", [("flaot32", "float32"), ("fp32", "float32"),
                                       ("f16", "float16"), ("bf16", "bfloat16"), ("int23", "int32"),
                                       ("tf.flaot64", "float64")])
def test_dtype_typos_get_did_you_mean(typo, want):
    text = f"format: 1\nblocks:\n  x: {{op: Placeholder, attrs: {{dtype: {typo}}}}}\n"
    (d,) = blockgraph.load_page("t.yaml", text=text).errors
    assert f"unknown dtype '{typo}' (did you mean '{want}'" in d.message


def test_a_list_element_without_its_port_gets_a_hint():
    text = ("format: 1\nblocks:\n  x: {op: Const, attrs: {value: [1.0, 2.0, 3.0, 4.0]}}\n"
            "  parts: {op: Split, inputs: {axis: 0, value: x}, attrs: {num_split: 2}}\n"
            "  y: {op: Identity, inputs: {input: parts.1}}\n"
            "  c: {op: ConcatV2, inputs: {values: [parts.0, parts.output.1], axis: 0}}\n")
    errors = blockgraph.load_page("t.yaml", text=text).errors
    assert [d.hint for d in errors] == ["did you mean 'parts.output.1'?",
                                        "did you mean 'parts.output.0'?"]
    assert suggest.reference_hint("x.1", {"x": "Const"}) == \
        "'x' (Const) has no list output: write x or x.PORT"
    assert suggest.reference_hint("x.output", {"x": "Const"}) is None


def test_print_diagnostic_is_one_line(capsys):
    text = "format: 1\nblocks:\n  x: {op: Idenity}\n"
    (d,) = blockgraph.load_page("t.yaml", text=text).errors
    print(d)
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.startswith("t.yaml:3:7: error: block 'x' (Idenity): unknown op 'Idenity' (hint: did "
                          "you mean 'Identity' (core)")
    assert d.format().count("\n") == 1                 # the printed form keeps its hint line


def test_results_repr():
    page = blockgraph.load_page(os.path.join(EXAMPLES, "fake_quant_vars_gradient.yaml"))
    text = repr(page.run())
    lines = text.splitlines()
    assert lines[0] == "<Results of page 'fake_quant_vars_gradient': 3 blocks (3 ok):"
    assert re.fullmatch(r"  fq     ok, [0-9.]+ ms: backprops_wrt_input float32 \[4\], "
                        r"backprop_wrt_min float32 \[\], backprop_wrt_max float32 \[\]>", lines[-1])
    r = page.run().block("fq")
    assert repr(r).startswith("<BlockResult 'fq' (FakeQuantWithMinMaxVarsGradient): ok, ")
    text = "format: 1\nblocks:\n  x: {op: Placeholder, attrs: {dtype: float32}}\n"
    r = blockgraph.load_page("t.yaml", text=text).run()
    assert repr(r).splitlines()[1] == ("  x  failed: no value was fed for this placeholder (hint: feed "
                                       "it: page.run(feeds={'x': ...}))>")


def test_progress_redraws_during_a_long_block():
    from blockgraph.run.progress import Progress
    stream = io.StringIO()
    bar = Progress(2, stream=stream, delay=0, enabled=True, interval=0, heartbeat=0.01)
    bar.on_start(type("B", (), {"id": "slow"})())
    first = stream.getvalue().count("\r")
    deadline = time.monotonic() + 10
    while stream.getvalue().count("\r") < first + 3 and time.monotonic() < deadline:
        time.sleep(0.01)          # no callback comes while the block runs
    assert stream.getvalue().count("\r") >= first + 3
    assert "running: slow" in stream.getvalue()
    bar.on_finish(None)
    assert not bar._ticker.join(5) and not bar._ticker.is_alive()
    done = stream.getvalue()
    time.sleep(0.05)
    assert stream.getvalue() == done                       # nothing drawn after the run


def test_show_plot_without_a_key(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = str(tmp_path / "r.npz")
    assert main(["run", os.path.join(EXAMPLES, "weight_quantization.yaml"), "--out", out]) == 0
    capsys.readouterr()
    png = str(tmp_path / "all.png")
    assert main(["show", out, "--plot", png]) == 0
    err = capsys.readouterr().err
    assert "plotted w_min.output: a single value, -1.0 (written, not drawn)" in err
    assert "plotted q.output: histogram" in err and f"wrote {png}" in err
    with open(png, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    many = str(tmp_path / "many.npz")
    np.savez(many, **{f"b{i}.output": np.arange(3.0) for i in range(20)})
    assert main(["show", many, "--plot", png]) == 2
    assert ("the file holds 20 tensors, more than the 16 one plot shows: pick some with a key, "
            "e.g. show FILE b0 --plot OUT.png") in capsys.readouterr().err


def test_show_plot_scalar_and_per_channel(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    out = str(tmp_path / "r.npz")
    np.savez(out, **{"s.output": np.float32(2.5),
                     "w.output": np.random.default_rng(0).standard_normal((50, 6)).astype(np.float32)})
    png = str(tmp_path / "p.png")
    assert main(["show", out, "s", "--plot", png]) == 0
    assert "plotted s.output: a single value, 2.5 (written, not drawn)" in capsys.readouterr().err
    assert main(["show", out, "w", "--plot", png, "--per-channel"]) == 0
    assert "plotted w.output: histogram, heatmap, per channel (6 channels, last axis)" in \
        capsys.readouterr().err


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_render_keeps_hand_positions(tmp_path, capsys):
    pytest.importorskip("graphviz")
    page = os.path.join(EXAMPLES, "weight_quantization.yaml")      # every block has a pos
    svg = tmp_path / "w.svg"
    assert main(["render", page, "-o", str(svg)]) == 0
    text = svg.read_text()
    centre = {}
    for bid in ("weights", "w_min", "w_max", "q", "dq", "qdq", "per_channel", "error"):
        block = text.split(f'id="block&#45;{bid}"', 1)[1].split("</g>", 1)[0]
        xs = [float(v) for v in re.findall(r'<text[^>]* x="([-0-9.]+)"', block)]
        ys = [float(v) for v in re.findall(r'<text[^>]* y="([-0-9.]+)"', block)]
        centre[bid] = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
    import yaml
    with open(page) as fh:
        pos = {k: v["pos"] for k, v in yaml.safe_load(fh)["blocks"].items()}
    for a in centre:                     # the drawing keeps the page's order on both axes
        for b in centre:
            if pos[a][0] < pos[b][0]:
                assert centre[a][0] < centre[b][0], (a, b)
            if pos[a][1] < pos[b][1]:
                assert centre[a][1] < centre[b][1], (a, b)
    # a page where some block has no position is laid out by dot
    from blockgraph.view import layout
    text = "format: 1\nblocks:\n  a: {op: Const, attrs: {value: 1.0}, pos: [0, 0]}\n" \
           "  b: {op: Identity, inputs: {input: a}}\n"
    assert layout.positions(blockgraph.load_page("t.yaml", text=text)) is None
    assert layout.scale({"a": (0, 0), "b": (10, 0)}, {"a": (100, 50), "b": (60, 50)}) == \
        pytest.approx((80 + layout.GAP) / 10)
