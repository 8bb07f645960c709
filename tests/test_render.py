"""`blockgraph render`: every block and edge in the SVG, result annotations (from --run and from a
run --out file), failed/skipped styling, PNG and HTML output, one-line errors, and the HTML
inspector clicked in a real headless Chromium (driven over --remote-debugging-pipe, stdlib only).

Skips cleanly without the graphviz package, the `dot` program or Chromium; CI installs them."""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from blockgraph.api import load_page
from blockgraph.cli import main
from cdp import CHROMIUM, Chromium
from op_helpers import write  # noqa: F401

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(os.path.join(ROOT, "examples", f) for f in os.listdir(os.path.join(ROOT, "examples"))
                  if f.endswith(".yaml"))
ARRAY_PAGE = os.path.join(ROOT, "docs", "array_ops.yaml")
SVG = "{http://www.w3.org/2000/svg}"

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")

BRANCHES = """format: 1
description: a failing placeholder & <markup> in text
blocks:
  x: {op: Placeholder, attrs: {dtype: float32, shape: [null]}}
  fq: {op: FakeQuantWithMinMaxVars, inputs: {inputs: x, min: 0.0, max: 1.0}}
  after: {op: Identity, inputs: {input: fq}}
  c: {op: Const, attrs: {value: [.nan, .inf, -.inf, -0.0, 1.5]}}
  ok: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: c}, attrs: {num_bits: 4}}
  grad: {op: FakeQuantWithMinMaxVarsGradient, inputs: {gradients: c, inputs: c, min: -1.0, max: 1.0}}
  use_min: {op: Identity, inputs: {input: grad.backprop_wrt_min}}
"""


@pytest.fixture(autouse=True)
def _graphviz():
    pytest.importorskip("graphviz")


def expected_edges(page):
    """{(src, dst)} of every reference, and the edge ids render gives them."""
    ids = set()
    for b in page.scope.blocks.values():
        for port, v in b.inputs.items():
            items = v if isinstance(v, list) else [v]
            for k, item in enumerate(items):
                if not hasattr(item, "block"):
                    continue
                src = page.scope.blocks[item.block]
                out = item.port or src.defn.outputs[0].name
                suffix = out if item.index is None else f"{out}.{item.index}"
                dst = port if not isinstance(v, list) else f"{port}.{k}"
                ids.add(f"edge-{item.block}.{suffix}-{b.id}.{dst}")
    return ids


def svg_groups(path):
    """{'node': {id: <g>}, 'edge': {id: <g>}} of a Graphviz SVG."""
    root = ET.parse(path).getroot()
    out = {"node": {}, "edge": {}}
    for g in root.iter(f"{SVG}g"):
        cls = (g.get("class") or "").split()
        for kind in ("node", "edge"):
            if kind in cls:
                out[kind][g.get("id")] = g
    return out


def texts(g):
    return [t.text or "" for t in g.iter(f"{SVG}text")]


# ------------------------------------------------------------------ SVG content

@needs_dot
@pytest.mark.parametrize("page_path", EXAMPLES + [ARRAY_PAGE], ids=os.path.basename)
def test_svg_has_every_block_and_edge(page_path, tmp_path, capsys):
    out = str(tmp_path / "page.svg")
    assert main(["render", page_path, "-o", out, "--run"]) == 0
    assert f"wrote {out}" in capsys.readouterr().out
    page = load_page(page_path)
    groups = svg_groups(out)
    assert set(groups["node"]) == {f"block-{b}" for b in page.scope.blocks}
    want = expected_edges(page)
    assert want and set(groups["edge"]) == want
    for bid, b in page.scope.blocks.items():
        t = texts(groups["node"][f"block-{bid}"])
        assert bid in t and any(txt.startswith(b.op) for txt in t)
    for r in page.run():     # every output port shows dtype, shape and a preview
        for suffix, dtype, a in r.items():
            t = " ".join(texts(groups["node"][f"block-{r.id}"]))
            assert f"{dtype} [" + ",".join(map(str, a.shape)) + "]" in t


@needs_dot
def test_static_diagram_ports_literals_and_changed_attrs(tmp_path):
    out = str(tmp_path / "a.svg")
    assert main(["render", ARRAY_PAGE, "-o", out]) == 0
    nodes = svg_groups(out)["node"]
    fq = texts(nodes["block-fq"])
    assert "inputs" in fq and "outputs" in fq
    assert "min" in fq and "0.0" in fq and "num_bits" in fq and "3" in fq    # attrs given ...
    assert "max" not in fq and "narrow_range" not in fq                      # ... defaults hidden
    assert "float32 [3,3]" in fq                                             # static spec, no run
    assert "shape" in texts(nodes["block-grid"]) and "[3, 4]" in texts(nodes["block-grid"])  # literal
    page = write(tmp_path, "p.yaml", "format: 1\nblocks:\n  x: {op: Placeholder, attrs: {dtype: int8, "
                 "shape: [null, 2]}, note: 'a <note> \\\\N'}\n")
    out = str(tmp_path / "p.svg")
    assert main(["render", page, "-o", out]) == 0
    x = svg_groups(out)["node"]["block-x"]
    assert "int8 [?,2]" in texts(x)                                         # unknown dim
    # a note is the box's tooltip, literally (dot would expand \N to the node's name)
    assert any(a.get("{http://www.w3.org/1999/xlink}title") == "a <note> \\\\N" for a in x.iter(f"{SVG}a"))


@needs_dot
def test_results_file_annotates_like_run(tmp_path, capsys):
    page = os.path.join(ROOT, "examples", "fake_quant_vars_gradient.yaml")
    npz, out = str(tmp_path / "r.npz"), str(tmp_path / "r.svg")
    assert main(["run", page, "--out", npz]) == 0
    assert main(["render", page, "--results", npz, "-o", out]) == 0
    nodes = svg_groups(out)["node"]
    fq = texts(nodes["block-fq"])
    assert "[0., 2., 3., 0.]" in fq and "float32 [4]" in fq and "10.0" in fq and "5.0" in fq
    assert "[-1., 2., 3., 6.]" in texts(nodes["block-x"])
    # with several pages, run --out prefixes keys with PAGE/; render picks its own page's
    other = os.path.join(ROOT, "examples", "fake_quant_args.yaml")
    both = str(tmp_path / "both.npz")
    main(["run", page, other, "--out", both])
    capsys.readouterr()
    assert main(["render", page, "--results", both, "-o", out]) == 0
    assert "[0., 2., 3., 0.]" in texts(svg_groups(out)["node"]["block-fq"])


@needs_dot
def test_failed_red_skipped_grey_edge_labels(tmp_path, capsys):
    page = write(tmp_path, "branches.yaml", BRANCHES)
    out = str(tmp_path / "b.svg")
    assert main(["render", page, "--run", "-o", out]) == 1        # a block failed, as `run` says
    cap = capsys.readouterr()
    assert "wrote" in cap.out and "1 failed, 2 skipped" in cap.out
    assert "block 'x' (Placeholder): no value was fed" in cap.err
    g = svg_groups(out)
    assert "failed" in g["node"]["block-x"].get("class").split()
    assert "skipped" in g["node"]["block-fq"].get("class").split()
    assert "skipped" in g["node"]["block-after"].get("class").split()
    assert "ok" in g["node"]["block-grad"].get("class").split()
    x_svg = ET.tostring(g["node"]["block-x"], encoding="unicode")
    assert "#c62828" in x_svg and "no value was fed" in " ".join(texts(g["node"]["block-x"]))
    fq_svg = ET.tostring(g["node"]["block-fq"], encoding="unicode")
    assert "#9e9e9e" in fq_svg and "#c62828" not in fq_svg
    assert "not run: upstream block 'x' failed" in " ".join(texts(g["node"]["block-fq"]))
    # the multi-output block's edge is labelled with its port; single-output edges are not
    assert texts(g["edge"]["edge-grad.backprop_wrt_min-use_min.input"]) == ["backprop_wrt_min"]
    assert texts(g["edge"]["edge-c.output-ok.inputs"]) == []
    assert "[ nan, inf, -inf, -0. , 1.5]" in texts(g["node"]["block-c"])


@needs_dot
def test_list_ports_and_list_outputs(tmp_path):
    out = str(tmp_path / "a.svg")
    assert main(["render", ARRAY_PAGE, "--run", "-o", out]) == 0
    g = svg_groups(out)
    rows = texts(g["node"]["block-rows"])
    assert "output[ ]" in rows and all(f"[{k}]" in rows for k in range(4))
    joined = " ".join(texts(g["node"]["block-joined"]))
    assert "values[0]" in joined and "values[2]" in joined and "9.5" in joined
    assert texts(g["edge"]["edge-rows.output.3-joined.values.1"]) == ["output.3"]


@needs_dot
def test_invalid_page_is_drawn_with_its_errors(tmp_path, capsys):
    page = write(tmp_path, "bad.yaml", "format: 1\nblocks:\n"
                 "  a: {op: Const, attrs: {value: 1.0}}\n"
                 "  b: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: a}, attrs: {min: 3.0, max: 1.0}}\n"
                 "  c: {op: NoSuchOp}\n")
    out = str(tmp_path / "bad.svg")
    assert main(["render", page, "-o", out]) == 1
    err = capsys.readouterr().err
    assert "unknown op 'NoSuchOp'" in err and "Traceback" not in err
    g = svg_groups(out)
    assert set(g["node"]) == {"block-a", "block-b", "block-c"}
    assert "min has to be smaller than max" in " ".join(texts(g["node"]["block-b"]))


@needs_dot
def test_png_output(tmp_path):
    out = str(tmp_path / "p.png")
    assert main(["render", EXAMPLES[0], "--run", "-o", out]) == 0
    with open(out, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.stat(out).st_mode & 0o044        # readable by others, not mkstemp's 0600


@needs_dot
def test_large_page_renders_quickly(tmp_path):
    lines = ["format: 1", "blocks:"]
    for i in range(20):
        lines.append(f"  c{i}: {{op: Const, attrs: {{value: [{i}.0, 1.5, -2.0], dtype: float32}}}}")
    for i in range(20, 250):
        a = f"n{i - 7}" if i - 7 >= 20 else f"c{i % 20}"
        b = f"n{i - 13}" if i - 13 >= 20 else f"c{(i * 7) % 20}"
        lines.append(f"  n{i}: {{op: FakeQuantWithMinMaxVarsGradient, inputs: {{gradients: {a}, "
                     f"inputs: {b}, min: -1.0, max: 2.0}}}}" if i % 3 == 0 else
                     f"  n{i}: {{op: FakeQuantWithMinMaxArgs, inputs: {{inputs: {a}}}}}")
    page = write(tmp_path, "big.yaml", "\n".join(lines) + "\n")
    out = str(tmp_path / "big.svg")
    t0 = time.monotonic()
    assert main(["render", page, "--run", "-o", out]) == 0
    assert time.monotonic() - t0 < 60
    assert len(svg_groups(out)["node"]) == 250


# ------------------------------------------------------------------ errors

def test_usage_errors_are_one_line(tmp_path, capsys):
    page = os.path.join(ROOT, "examples", "fake_quant_args.yaml")
    assert main(["render", page, "-o", str(tmp_path / "x.pdf")]) == 2
    assert main(["render", page, "--run", "--results", "r.npz"]) == 2
    assert main(["render", str(tmp_path / "missing.yaml")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "Traceback" not in "\n".join(err)
    assert ".svg, .png or .html" in err[0] and "not both" in err[1] and "cannot read the page" in err[2]


def test_missing_dot_says_how_to_install(tmp_path, capsys, monkeypatch):
    import blockgraph.view.render as render
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    assert main(["render", EXAMPLES[0], "-o", str(tmp_path / "x.svg")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "apt-get install graphviz" in err[0]
    assert not os.path.exists(tmp_path / "x.svg")


def test_results_of_another_page(tmp_path, capsys):
    npz = str(tmp_path / "r.npz")
    np.savez(npz, **{"zz.output": np.zeros(2, np.float32)})
    assert main(["render", EXAMPLES[0], "--results", npz, "-o", str(tmp_path / "x.svg")]) == 1
    assert "holds no results of page" in capsys.readouterr().err
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    assert main(["render", EXAMPLES[0], "--results", str(tmp_path / "junk.npz"),
                 "-o", str(tmp_path / "x.svg")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_run_never_imports_graphviz_or_matplotlib():
    code = ("import sys; from blockgraph.cli import main; main(['run', sys.argv[1]]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('graphviz', 'matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code, EXAMPLES[0]], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


# ------------------------------------------------------------------ HTML inspector

@needs_dot
def test_html_is_self_contained(tmp_path):
    out = str(tmp_path / "page.html")
    assert main(["render", EXAMPLES[0], "--run", "-o", out]) == 0
    text = open(out, encoding="utf-8").read()
    assert "<svg" in text and "<!DOCTYPE svg" not in text
    assert not re.search(r"<(script|img|link|iframe)[^>]+(src|href)=", text)
    urls = set(re.findall(r"https?://[^\s\"'<>]+", text))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    data = json.loads(re.search(r'<script type="application/json" id="bg-data">(.*?)</script>', text,
                                re.S).group(1))
    fq = data["blocks"]["fq"]
    assert fq["status"] == "ok" and fq["outputs"][0]["table"]["rows"][0][1:] == ["0.9882353", "2.0235295"]
    assert fq["outputs"][0]["levels"].startswith("4 distinct values")


@needs_dot
def test_html_escapes_page_text(tmp_path):
    page = write(tmp_path, "x.yaml", 'format: 1\ndescription: "</script><b>hi</b>"\nblocks:\n'
                 '  s: {op: Const, attrs: {value: ["</script><img src=x>"]}, note: "<i>n</i>"}\n')
    out = str(tmp_path / "x.html")
    assert main(["render", page, "--run", "-o", out]) == 0
    text = open(out, encoding="utf-8").read()
    assert "</script><b>" not in text and "<img src=x>" not in text


CENTER = ("(() => {{ const g = document.getElementById('block-{0}'); "
          "g.scrollIntoView({{block: 'center', inline: 'center'}}); const r = g.getBoundingClientRect(); "
          "return [r.x + r.width / 2, r.y + r.height / 2]; }})()")


@needs_dot
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed")
def test_html_inspector_click_in_chromium(tmp_path):
    page = os.path.join(ROOT, "examples", "fake_quant_args.yaml")
    out = str(tmp_path / "inspector.html")
    assert main(["render", page, "--run", "-o", out]) == 0
    browser = Chromium(CHROMIUM, str(tmp_path / "profile"))
    try:
        browser.open("file://" + out)
        assert "Click a block" in browser.js("document.getElementById('panel').innerText")
        x, y = browser.js(CENTER.format("fq"))
        browser.click(x, y)
        panel = browser.js("document.getElementById('panel').innerText")
        assert panel.startswith("fq\nFakeQuantWithMinMaxArgs")
        assert "fq.outputs" in panel and "float32 [2,2]" in panel
        cells = browser.js("[...document.querySelectorAll('#panel section.output table.values td')]"
                           ".map(td => td.textContent)")
        assert cells == ["0.9882353", "2.0235295", "3.0117648", "4.0"]
        attrs = browser.js("[...document.querySelectorAll('#panel table.attrs tr')]"
                           ".map(tr => tr.className + ':' + tr.textContent)")
        assert attrs == [":attrvalue", "default:min-6.0  (default)", "default:max6.0  (default)",
                         "default:num_bits8  (default)", "default:narrow_rangefalse  (default)"]
        assert browser.js("document.getElementById('block-fq').classList.contains('selected')")
        # the input's source links to its block
        browser.js("document.querySelector('#panel a.ref').click()")
        assert browser.js("document.querySelector('#panel h2').textContent") == "inputs"
        browser.screenshot(str(tmp_path / "inspector.png"))
        requests = [e["params"]["request"]["url"] for e in browser.events
                    if e.get("method") == "Network.requestWillBeSent"]
        assert requests == ["file://" + out]                 # nothing fetched but the file itself
    finally:
        browser.close()
    assert os.path.getsize(tmp_path / "inspector.png") > 10_000
