"""enuSpace pages of the suite's own making (`tests/enuspace/`, written by
tools/make_enuspace_pages.py): reading both forms, the session semantics, saved results,
located diagnostics, the YAML import and the CLI."""
import json
import os
import shutil

import numpy as np
import pytest

from blockgraph import formats
from blockgraph.api import load_page
from blockgraph.cli import main
from blockgraph.formats.enuspace import load

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "enuspace")
COUNTER = os.path.join(HERE, "project", "picture", "counter.svg")
COUNTER_JSON = os.path.join(HERE, "project", "Task", "Tensorflow", "counter.json")
COUNTER_4X = os.path.join(HERE, "counter_4x.svg")
FQ = ["fq_args", "fq_args_gradient", "fq_vars", "fq_vars_gradient", "fq_vars_per_channel",
      "fq_vars_per_channel_gradient"]


def page(name):
    return os.path.join(HERE, name)


@pytest.mark.parametrize("name", FQ)
def test_the_fake_quant_using_method_pages_give_the_screenshots_numbers(name):
    p = load_page(page(name + ".svg"))
    assert not p.errors
    comp = formats.check_saved(p, p.run())
    assert comp.ok, comp.table()
    assert [r.status for r in comp.rows] == ["match"] * len(comp.rows)


def test_args_quantizes_2_to_2_023530_as_the_screenshot_shows():
    p = load_page(page("fq_args.svg"))
    got = p.run()["ID_FQ.outputs"]
    assert got.dtype == np.float32 and got.shape == (2, 2)
    np.testing.assert_allclose(got.ravel(), [0.988235, 2.023530, 3.011765, 4.0], atol=1e-6)


@pytest.mark.parametrize("path", [COUNTER, COUNTER_4X, COUNTER_JSON])
def test_the_three_forms_of_a_page_run_alike_and_match_their_saved_cycle(path):
    p = load_page(path)
    assert not p.errors, [d.format() for d in p.errors]
    r = p.run(cycles=3)
    assert int(r["ID_COUNT.ref"]) == 2 and int(r["ID_ADD.output_ref"]) == 3
    assert r["ID_APPLY.out"].tolist() == [[-0.5, 0.5, 1.5]]
    assert r["ID_SHAPE.output"].dtype == np.float64 and r["ID_SHAPE.output"].shape == (1, 3)
    comp = formats.check_saved(p, r)
    assert comp.ok, comp.table()
    assert len(comp.compared) == 9
    # the Identity nothing fetches does not run, and its stale saved value is not compared
    assert "ID_IDLE" not in r.blocks
    assert [(x.block, x.status) for x in comp.rows if x.status == "not written"] == \
        [("ID_IDLE", "not written")]


def test_a_json_page_takes_its_saved_results_from_the_projects_page_svg():
    p = load_page(COUNTER_JSON)
    comp = formats.check_saved(p, p.run(cycles=3))
    assert comp.source.replace(os.sep, "/") == "../../picture/counter.svg"
    lone = os.path.join(os.path.dirname(COUNTER_JSON), "counter.json")
    assert os.path.exists(lone)


def test_a_json_page_without_its_project_has_no_saved_results(tmp_path):
    shutil.copy(COUNTER_JSON, tmp_path / "counter.json")
    p = load_page(str(tmp_path / "counter.json"))
    with pytest.raises(Exception, match="holds no saved results"):
        formats.check_saved(p, p.run())


def test_the_wrong_cycle_is_a_mismatch_located_by_pin():
    p = load_page(COUNTER)
    comp = formats.check_saved(p, p.run(cycles=2))
    assert not comp.ok
    bad = {(r.block, r.pin) for r in comp.rows if r.status == "MISMATCH"}
    assert bad == {("ID_COUNT", "ref"), ("ID_ADD", "output_ref"), ("ID_W", "ref"), ("ID_APPLY", "out")}


def test_from_saved_continues_where_enuspace_stopped():
    p = load_page(COUNTER)
    state = formats.saved_state(p)
    assert set(state) == {"ID_COUNT", "ID_W", "ID_V2"}
    assert state["ID_W"].dtype == np.float32 and state["ID_W"].shape == (1, 3)
    r = p.run(state=state)
    assert int(r["ID_ADD.output_ref"]) == 3 and r["ID_APPLY.out"].tolist() == [[-0.5, 0.5, 1.5]]


def test_session_fetch_list_and_notes():
    imp = load(COUNTER)
    # the Const initialising ID_V2 runs in enuSpace (its result is written): fetched as well
    assert imp.fetch == ["ID_ADD.output_ref", "ID_APPLY.out", "ID_SHAPE.output", "ID_INIT"]
    assert imp.written == {"ID_ADD": ["output_ref"], "ID_COUNT": ["ref"], "ID_APPLY": ["out"],
                           "ID_W": ["ref"], "ID_ALPHA": ["output"], "ID_DELTA": ["output"],
                           "ID_SHAPE": ["output"], "ID_V2": ["ref"], "ID_INIT": ["output"]}
    notes = {(d.block, d.message.split(":")[0]) for d in imp.diagnostics}
    assert ("ID_IDLE", "does not run") in notes
    assert any(d.block == "ID_TREND" and "display-only" in d.message for d in imp.diagnostics)
    assert all(d.severity == "warning" for d in imp.diagnostics)
    assert imp.blocks["ID_V2"]["init"] == "ID_INIT"       # a Variable initialised by its Const
    assert imp.blocks["ID_V2"]["attrs"] == {"dtype": "float64", "shape": [3]}
    assert imp.blocks["ID_W"]["pos"] == [550.0, 100.0]


def test_lists_operations_and_symbolic_gradients():
    p = load_page(page("lists.svg"))
    assert not p.errors
    spec = p.spec.blocks
    assert spec["ID_CAT"].op == "ConcatV2" and spec["ID_CAT"].inputs["values"] == \
        ["ID_A.output", "ID_B.output"]
    assert spec["ID_STEP"].inputs["delta"] == "ID_GRAD.grad_outputs.0"
    assert "ID_LIST" not in spec and "ID_OP" not in spec and "ID_SESSION" not in spec
    assert p.spec.fetch == ["ID_CAT.output", "ID_STEP.out", "ID_SET"]   # the Operation's Assign
    r = p.run(cycles=3)
    assert r["ID_V.ref"].tolist() == [1.0, 2.0, 3.0]            # assigned by the run target
    assert r["ID_STEP.out"].tolist() == [[0.25, 1.25], [2.25, 3.25]]
    assert formats.check_saved(p, r).ok


def test_pins_that_are_attrs_and_typed_literals():
    p = load_page(page("pins.svg"))
    assert not p.errors
    b = p.spec.blocks
    assert b["ID_CAST"].attrs == {"DstT": "int32"}                 # a DataType pin
    assert b["ID_S2D"].attrs == {"block_size": 2}                  # an int64 pin
    assert b["ID_SQ"].attrs == {"axis": [0]}                       # squeeze_dims_ -> axis
    assert b["ID_R"].inputs["shape"].model_dump() == {"value": [1, 4], "dtype": "int32"}
    assert b["ID_HOT"].inputs["on_value"].model_dump() == {"value": 1.0, "dtype": "float32"}
    assert b["ID_HOT"].attrs == {"axis": -1}
    r = p.run()
    assert r["ID_SQ.output"].tolist() == [1, 3, 2, 4]
    assert formats.check_saved(p, r).ok


def test_check_reports_every_problem_located_in_the_svg(capsys):
    rc = main(["check", page("bad.svg")])
    err = capsys.readouterr().err
    assert rc == 1
    lines = [x for x in err.splitlines() if ": error: " in x or ": warning: " in x]
    text = open(page("bad.svg"), "rb").read().decode("utf-16").splitlines()

    def at(fragment):
        line = next(x for x in lines if fragment in x)
        ln, col = (int(v) for v in line.split(".svg:")[1].split(":")[:2])
        return line, text[ln - 1][col - 1:]

    line, src = at("op 'FIFOQueue' is not supported yet")
    assert "block 'ID_QUEUE' (FIFOQueue)" in line and src.startswith("#FIFOQueue")
    line, src = at("op 'QueueSize' is not supported yet")
    assert "error" in line
    line, src = at("unbalanced braces in '{2,'")
    assert "block 'ID_SHAPE' (Reshape): pin 'shape'" in line and src.startswith("{2,")
    line, src = at("comes from block 'ID_GONE'")
    assert src.startswith("<pg-link")
    line, src = at("the shape pin says [2]")
    assert src.startswith("{1.0f,2.0f,3.0f}")
    line, _ = at("cannot compute AssignAdd as input #1(zero-based) was expected to be a int32 tensor "
                 "but is a double tensor")
    line, src = at("reads the literal '1.5' as float64")
    assert ": warning: " in line and src.startswith("1.5")
    line, _ = at("ignores 'narrow_range_'")
    assert ": warning: " in line
    # the symbol library types ExpandDims' axis as DT_FLOAT: TF refuses it, as it did in enuSpace
    line, _ = at("Value for attr 'Tdim' of float is not in the list of allowed values: int32, int64")
    assert "block 'ID_E' (ExpandDims)" in line
    line, src = at("types pin 'axis' of ExpandDims as DT_FLOAT")
    assert ": warning: " in line and src.startswith("0")
    assert "Traceback" not in err


def test_run_keeps_going_past_blocks_without_a_block_yet(capsys):
    rc = main(["run", page("bad.svg"), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 1
    assert doc["blocks"]["ID_C"]["status"] == "ok" and doc["blocks"]["ID_FQ"]["status"] == "ok"
    assert doc["blocks"]["ID_SIZE"]["status"] == "failed"


def test_cli_check_saved_and_from_saved(capsys):
    assert main(["run", COUNTER, "--cycles", "3", "--check-saved"]) == 0
    out = capsys.readouterr().out
    assert "9 compared, 9 match, 0 mismatch" in out and "ID_IDLE" not in out.split("block ")[-1]
    assert main(["run", COUNTER, "--cycles", "2", "--check-saved"]) == 1
    assert "MISMATCH" in capsys.readouterr().out
    assert main(["run", COUNTER, "--from-saved", "--check-saved", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["check_saved"]["ok"] and doc["blocks"]["ID_ADD"]["outputs"]["output_ref"]["values"] == 3


def test_check_saved_on_a_yaml_page_is_an_error(tmp_path, capsys):
    y = tmp_path / "p.yaml"
    y.write_text("format: 1\nblocks:\n  c: {op: Const, attrs: {value: 1.0}}\n")
    assert main(["run", str(y), "--check-saved"]) == 1
    assert "not an enuSpace page" in capsys.readouterr().err


@pytest.mark.parametrize("path, cycles", [(COUNTER, 3), (page("lists.svg"), 3),
                                          (page("fq_vars_gradient.svg"), 1)])
def test_import_writes_a_yaml_page_with_the_same_results(tmp_path, capsys, path, cycles):
    out = tmp_path / "page.yaml"
    assert main(["import", path, "-o", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Imported by `blockgraph import`")
    a, b = load_page(path), load_page(str(out))
    assert not b.errors, [d.format() for d in b.errors]
    ra, rb = a.run(cycles=cycles), b.run(cycles=cycles)
    assert ra.arrays().keys() == rb.arrays().keys()
    for k, v in ra.arrays().items():
        assert v.dtype == rb.arrays()[k].dtype and np.array_equal(v, rb.arrays()[k]), k


def test_import_keeps_positions_notes_and_fetch(tmp_path, capsys):
    out = tmp_path / "counter.yaml"
    assert main(["import", COUNTER, "-o", str(out)]) == 0
    text = out.read_text()
    assert "fetch: [ID_ADD.output_ref, ID_APPLY.out, ID_SHAPE.output, ID_INIT]" in text
    assert "    pos: [550.0, 100.0]" in text
    assert "  # warning: does not run: no ClientSession fetches" in text
    assert "init: {value: [[1.0, 2.0, 3.0]], dtype: float32}" in text
    assert "init: ID_INIT" in text
    assert "warning" in capsys.readouterr().err


def test_import_writes_dat_arrays_as_npy(tmp_path):
    src = tmp_path / "p.svg"
    text = open(COUNTER, "rb").read().decode("utf-16").replace(
        'variable="#initvalues[1][3]" auto="true" shape="[1][3]" var-type="float" '
        'value="1.000000;2.000000;3.000000"',
        'variable="#initvalues[1][3]" save-type="binary" shape="[1][3]" var-type="float" '
        'binary-pos="4"')
    src.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    (tmp_path / "p.dat").write_bytes(np.array([9, 1, 2, 3], "<f4").tobytes())
    out = tmp_path / "y" / "p.yaml"
    out.parent.mkdir()
    diags, files = formats.to_yaml(str(src), str(out))
    assert [os.path.basename(f) for f in files] == ["p.yaml", "p.ID_W.init.npy"]
    assert np.load(files[1]).tolist() == [[1.0, 2.0, 3.0]]
    assert "init: {file: p.ID_W.init.npy}" in out.read_text()
    assert load_page(str(out)).run(cycles=3)["ID_APPLY.out"].tolist() == [[-0.5, 0.5, 1.5]]
    assert load_page(str(src)).run(cycles=3)["ID_APPLY.out"].tolist() == [[-0.5, 0.5, 1.5]]


def test_a_missing_dat_is_a_located_error(tmp_path):
    src = tmp_path / "p.svg"
    text = open(COUNTER, "rb").read().decode("utf-16").replace(
        'var-type="float" value="1.000000;2.000000;3.000000"',
        'var-type="float" save-type="binary" binary-pos="0"')
    src.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    p = load_page(str(src))
    errs = [d for d in p.errors if d.block == "ID_W"]
    assert len(errs) == 1 and "p.dat, which is missing" in errs[0].message


def test_content_decides_the_format(tmp_path):
    svg = tmp_path / "page.yaml"                      # an enuSpace page under a YAML name
    shutil.copy(COUNTER, svg)
    assert formats.kind(str(svg)) == "enuspace" and not load_page(str(svg)).errors
    utf8 = tmp_path / "utf8.svg"                      # re-saved as UTF-8
    utf8.write_text(open(COUNTER, "rb").read().decode("utf-16"), encoding="utf-8")
    assert not load_page(str(utf8)).errors
    flow = tmp_path / "flow.yaml"                     # a YAML page in flow style stays YAML
    flow.write_text('{format: 1, blocks: {c: {op: Const, attrs: {value: 2}}}}')
    assert formats.kind(str(flow)) is None and load_page(str(flow)).run()["c"] == 2


def test_unreadable_and_non_pages_are_located_errors(tmp_path, capsys):
    bad = tmp_path / "bad.svg"
    bad.write_bytes(b"\xff\xfe" + '<?xml version="1.0"?>\n<svg>\n<use id="a"\n</svg>'.encode("utf-16-le"))
    assert main(["check", str(bad)]) == 1
    assert "bad.svg:4:1: error: not a readable SVG page" in capsys.readouterr().err
    lib = tmp_path / "lib.svg"
    lib.write_text('<svg xmlns="http://www.w3.org/2000/svg"><symbol id="MatMul"/></svg>')
    assert main(["check", str(lib)]) == 1
    assert "symbol library" in capsys.readouterr().err
    assert main(["import", str(lib), "-o", str(tmp_path / "x.yaml")]) == 1
    y = tmp_path / "p.yaml"
    y.write_text("format: 1\nblocks: {}\n")
    assert main(["import", str(y), "-o", str(tmp_path / "x.yaml")]) == 2
    own = tmp_path / "own.svg"
    shutil.copy(COUNTER, own)
    assert main(["import", str(own), "-o", str(own)]) == 2          # never over the page itself
    assert "is the page itself" in capsys.readouterr().err
    assert open(own, "rb").read() == open(COUNTER, "rb").read()


def test_invalid_ids_are_mapped_and_said(tmp_path):
    src = tmp_path / "p.svg"
    text = open(COUNTER, "rb").read().decode("utf-16").replace('"ID_W"', '"ID-W"')
    src.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    p = load_page(str(src))
    assert not p.errors
    assert any(d.message == "block id 'ID-W' is not a blockgraph id (letters, digits, _): it is "
               "'ID_W' here" for d in p.diagnostics)
    assert p.spec.blocks["ID_APPLY"].inputs["var"] == "ID_W.ref"
    assert p.run(cycles=3)["ID_W.ref"].tolist() == [[0.0, 1.0, 2.0]]


def test_a_mismatch_is_recomputed_from_its_inputs_saved_values(tmp_path):
    """A block whose inputs' saved values differ from the computed ones is recomputed from those
    saved values: when that matches its saved result, the table says the difference comes from
    upstream (it stays a mismatch)."""
    hot = ";".join("1.000000" if j == k else "0.000000" for k in (0, 1, 2, 3) for j in range(5))
    text = open(page("pins.svg"), "rb").read().decode("utf-16")
    text = text.replace('var-type="int" value="1;3;2;4"', 'var-type="int" value="0;1;2;3"')
    text = text.replace(text[text.index('"#result_output[4][5]"'):].split('value="')[1].split('"')[0],
                        hot)
    src = tmp_path / "pins.svg"
    src.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    p = load_page(str(src))
    comp = formats.check_saved(p, p.run())
    rows = {r.block: r for r in comp.rows}
    assert rows["ID_SQ"].status == "MISMATCH" and rows["ID_SQ"].local is None
    assert rows["ID_HOT"].status == "MISMATCH" and rows["ID_HOT"].local == 0.0
    assert "from its inputs' saved values it matches (max |diff| 0)" in rows["ID_HOT"].detail
    assert not comp.ok


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")
def test_render_draws_an_enuspace_page_beside_it_never_over_it(tmp_path, capsys):
    pytest.importorskip("graphviz")
    src = tmp_path / "lists.svg"
    shutil.copy(page("lists.svg"), src)
    before = src.read_bytes()
    assert main(["render", str(src), "--run"]) == 0
    assert src.read_bytes() == before
    drawn = (tmp_path / "lists.diagram.svg").read_text()
    assert "ID_GRAD" in drawn and "ID_STEP" in drawn and "ID_LIST" not in drawn
    assert main(["render", str(src), "-o", str(src)]) == 2
    assert "is the page itself" in capsys.readouterr().err and src.read_bytes() == before
