"""Feeds: `--feed ID=VALUE` literals (read as YAML, converted to the placeholder's dtype),
Python lists in `page.run(feeds=...)`, a feed of another dtype refused with how to convert it
(in the interface's own words), `--cast-feeds` / `cast_feeds=True` converting only when no
value changes, `check` listing the feeds a page needs, `render --run --feed`."""
import json
import os
import shutil

import numpy as np
import pytest

import blockgraph
from blockgraph.cli import main
from blockgraph.core import feeding
from blockgraph.core.errors import LiteralError, PageError

PAGE = """format: 1
blocks:
  x: {op: Placeholder, attrs: {dtype: float32, shape: [null, 2]}}
  n: {op: Placeholder, attrs: {dtype: int64}}
  d: {op: PlaceholderWithDefault, inputs: {input: [1, 2]}, attrs: {shape: [2]}}
  s: {op: Identity, inputs: {input: x}}
"""


@pytest.fixture
def page(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(PAGE)
    return str(path)


def test_literal_feeds_on_the_command_line(page, capsys):
    assert main(["run", page, "--feed", "x=[[1, 2], [3, 4.5]]", "--feed", "n=7", "--json"]) == 0
    b = json.loads(capsys.readouterr().out)["blocks"]
    assert b["x"]["outputs"]["output"] == {"dtype": "float32", "shape": [2, 2],
                                           "values": [[1.0, 2.0], [3.0, 4.5]]}
    assert b["n"]["outputs"]["output"]["dtype"] == "int64" and b["d"]["outputs"]["output"]["values"] == [1, 2]
    # {value, dtype}: an explicit dtype other than the placeholder's is refused as TF refuses it
    assert main(["run", page, "--feed", "x={value: [[1, 2]], dtype: float64}", "--feed", "n=1"]) == 1
    err = capsys.readouterr().err
    assert "block 'x' (Placeholder): fed value has dtype float64, the placeholder expects float32" in err
    assert "hint: convert it to float32 (a.astype(numpy.float32) before numpy.save), or rerun with " \
           "--cast-feeds" in err
    assert main(["run", page, "--feed", "x={value: [[1, 2]], dtype: float64}", "--feed", "n=1",
                 "--cast-feeds"]) == 0


def test_bad_literals(page, capsys):
    assert main(["run", page, "--feed", "x=[[1, 'a']]", "--feed", "n=1"]) == 1
    assert "error: block 'x' (Placeholder): cannot convert the feed: cannot convert 'a' to float32" \
        in capsys.readouterr().err
    assert main(["run", page, "--feed", "x=[[1, 2]", "--feed", "n=1"]) == 2
    assert "--feed x: cannot read '[[1, 2]': YAML syntax error" in capsys.readouterr().err
    assert main(["run", page, "--feed", "n=1.5", "--feed", "x=[[1, 2]]"]) == 1
    assert "cannot convert 1.5 to int64" in capsys.readouterr().err


def test_files_and_literals_are_told_apart(tmp_path, page, capsys):
    assert feeding.literal([1, 2], "int8").dtype == np.int8
    from blockgraph.cli.feeds import is_file
    np.save(tmp_path / "plain", np.ones((1, 2), np.float32))
    os.rename(tmp_path / "plain.npy", tmp_path / "plain")
    assert is_file("x.npy") and is_file("data/x") and is_file(str(tmp_path / "plain"))
    assert not is_file("[1, 2]") and not is_file("3") and not is_file("'a.npy'")
    assert main(["run", page, "--feed", f"x={tmp_path / 'plain'}", "--feed", "n=3"]) == 0
    capsys.readouterr()
    assert main(["run", page, "--feed", "x=missing.npy", "--feed", "n=3"]) == 2
    assert "cannot read feeds from missing.npy" in capsys.readouterr().err


def test_cast_feeds_only_when_no_value_changes(tmp_path, page, capsys):
    np.save(tmp_path / "ok.npy", np.array([[1.0, -0.0], [np.nan, -np.inf]]))
    np.save(tmp_path / "lossy.npy", np.array([[1, 2], [16777217, 4]], np.int64))
    np.save(tmp_path / "n.npy", np.array([3], np.int32))
    feeds = ["--feed", f"n={tmp_path / 'n.npy'}"]
    assert main(["run", page, "--feed", f"x={tmp_path / 'ok.npy'}", *feeds]) == 1
    capsys.readouterr()
    out = str(tmp_path / "o.npz")
    assert main(["run", page, "--feed", f"x={tmp_path / 'ok.npy'}", *feeds, "--cast-feeds",
                 "--out", out]) == 0
    with np.load(out) as z:
        x = z["x.output"]
        assert x.dtype == np.float32 and np.signbit(x[0, 1]) and np.isnan(x[1, 0])
        assert z["n.output"].dtype == np.int64
    capsys.readouterr()
    assert main(["run", page, "--feed", f"x={tmp_path / 'lossy.npy'}", *feeds, "--cast-feeds"]) == 1
    err = capsys.readouterr().err
    assert ("error: block 'x' (Placeholder): --cast-feeds: cannot convert the fed int64 exactly: "
            "element [1, 0] = 16777217 would become 16777216.0 in float32") in err
    assert "hint: convert it yourself (a.astype(numpy.float32)) if the change is what you want" in err


@pytest.mark.parametrize("a,dtype,bad", [
    (np.array([0.1]), "float32", "element [0] = 0.1 would become 0.10000000149011612 in float32"),
    (np.array([1.5]), "int32", "element [0] = 1.5 would become 1 in int32"),
    (np.array([np.nan]), "int32", "element [0] = nan would become"),
    (np.array([300]), "uint8", "element [0] = 300 would become 44 in uint8"),
    (np.array([-1]), "uint32", "element [0] = -1 would become 4294967295 in uint32"),
    (np.array([2]), "bool", "element [0] = 2 would become True in bool"),
    (np.array([1 + 1j]), "float64", "element [0] = (1+1j) would become 1.0 in float64"),
    (np.array(-0.0), "int32", None),
    (np.array([1.0, 256.0]), "bfloat16", None),
    (np.array([257.0]), "bfloat16", "element [0] = 257.0 would become 256.0 in bfloat16"),
    (np.array([200], np.int64), "quint8", None),
])
def test_exact_cast(a, dtype, bad):
    if bad is None:
        out = feeding.exact_cast(a, dtype)
        assert np.array_equal(out.astype(np.float64), a.astype(np.float64))
    else:
        with pytest.raises(LiteralError) as e:
            feeding.exact_cast(a, dtype)
        assert bad in str(e.value)


def test_python_feeds(page):
    p = blockgraph.load_page(page)
    r = p.run(feeds={"x": [[1, 2]], "n": 5})
    assert r.ok and r["x"].dtype == np.float32 and r["n"].dtype == np.int64
    assert p.run(feeds={"x": ((1, 2),), "n": [5]}).ok                  # tuples too
    r = p.run(feeds={"x": np.ones((1, 2)), "n": 5})
    b = r.block("x")
    assert b.error == "fed value has dtype float64, the placeholder expects float32"
    assert b.hint == ("pass x.astype(numpy.float32), or page.run(..., cast_feeds=True), which "
                      "converts it when no value changes")
    assert "--" not in b.hint
    assert p.run(feeds={"x": np.ones((1, 2)), "n": 5}, cast_feeds=True).ok
    with pytest.raises(PageError) as e:
        p.run(feeds={"x": np.full((1, 2), 0.1), "n": 5}, cast_feeds=True)
    (d,) = e.value.diagnostics
    assert d.block == "x" and d.message.startswith("cast_feeds: cannot convert the fed float64 exactly")
    assert d.hint == "convert it yourself (x.astype(numpy.float32)) if the change is what you want"
    r = p.run(feeds={"n": 5})
    assert r.block("x").error == "no value was fed for this placeholder"
    assert r.block("x").hint == "feed it: page.run(feeds={'x': ...})"
    with pytest.raises(PageError, match="cannot convert the feed: cannot convert 'a' to int64"):
        p.run(feeds={"x": [[1, 2]], "n": "a"})


def test_check_lists_the_feeds_a_page_needs(page, capsys):
    assert main(["check", page]) == 0              # warnings do not fail a page
    cap = capsys.readouterr()
    assert cap.out.strip() == (f"{page}: ok (4 blocks; feeds: x float32 [?,2], n int64 any shape, "
                               "d int32 [2] (has a default))")
    assert (f"{page}:3:3: warning: block 'x' (Placeholder): must be fed: float32 [?,2] (a "
            "placeholder without a default: the page cannot run unfed)") in cap.err
    assert "hint: run it with --feed x=FILE.npy, --feed 'x=[...]' or --feeds FILE.npz" in cap.err
    assert main(["check", page, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [w["block"] for w in doc["warnings"]] == ["x", "n"]
    assert doc["feeds"][page][0] == {"id": "x", "op": "Placeholder", "dtype": "float32",
                                     "shape": [None, 2], "required": True}
    assert [n.id for n in blockgraph.load_page(page).scope and feeding.needs(
        blockgraph.load_page(page).scope)] == ["x", "n", "d"]


def test_fetch_limits_the_feeds_needed(tmp_path):
    (tmp_path / "f.yaml").write_text(PAGE + "fetch: [d]\n")
    page = blockgraph.load_page(str(tmp_path / "f.yaml"))
    assert [n.id for n in feeding.needs(page.scope)] == ["d"]


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs Graphviz's dot")
def test_render_run_takes_feeds(tmp_path, page, capsys):
    pytest.importorskip("graphviz")
    svg = str(tmp_path / "p.svg")
    assert main(["render", page, "--run", "-o", svg, "--feed", "x=[[1, 2]]", "--feed", "n=4"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(["render", page, "--run", "-o", svg]) == 1
    assert "hint: feed it: --feed x=FILE.npy" in capsys.readouterr().err
    assert main(["render", page, "-o", svg, "--feed", "n=4"]) == 2
    assert "--feed and --feeds are for --run" in capsys.readouterr().err
