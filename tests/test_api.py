"""The Python API and the documented results of the six FakeQuant example pages."""
import glob
import json
import os

import numpy as np
import pytest

import blockgraph
from blockgraph.core.diagnostics import PageError

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EX = os.path.join(ROOT, "examples")

DOCUMENTED = {
    "fake_quant_args.yaml": {"fq.outputs": [[0.988235, 2.023530], [3.011765, 4.0]]},
    "fake_quant_args_gradient.yaml": {"fq_grad.backprops": [0, 2, 0, 4]},
    "fake_quant_vars.yaml": {"fq.outputs": [10, 15, 11, 15]},
    "fake_quant_vars_gradient.yaml": {"fq.backprops_wrt_input": [0, 2, 3, 0],
                                      "fq.backprop_wrt_min": 10, "fq.backprop_wrt_max": 5},
    "fake_quant_vars_per_channel.yaml": {"fq.outputs": [0, 0, 5, 5]},
    "fake_quant_vars_per_channel_gradient.yaml": {"fq_grad.backprops_wrt_input": [0, 2, 0, 0],
                                                  "fq_grad.backprop_wrt_min": [10, 0, 0, 0],
                                                  "fq_grad.backprop_wrt_max": [0, 0, 3, 5]},
}


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_documented_results(name):
    page = blockgraph.load_page(os.path.join(EX, name))
    assert page.diagnostics == []
    results = page.run()
    assert results.ok
    for key, want in DOCUMENTED[name].items():
        got = results[key]
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, np.asarray(want, np.float32), rtol=0, atol=5e-7)


def test_every_example_runs_clean():
    for path in glob.glob(os.path.join(EX, "*.yaml")):
        page = blockgraph.load_page(path)
        assert page.diagnostics == [], path
        assert page.run().ok, path


def test_results_api():
    page = blockgraph.load_page(os.path.join(EX, "fake_quant_vars_gradient.yaml"))
    assert page.name == "fake_quant_vars_gradient"
    assert page.scope.graph.number_of_nodes() == 3
    assert sorted(page.scope.graph.predecessors("fq")) == ["grads", "x"]
    r = page.run(feeds={"x": np.array([-2, 1, 4, 9], np.float32)})
    assert r["fq.backprop_wrt_min"] == np.float32(10)
    assert r["fq"].tolist() == [0, 2, 3, 0]          # BLOCK = first output
    b = r.block("fq")
    assert b.status == "ok" and b.error is None and b.seconds >= 0
    assert set(b.outputs) == {"backprops_wrt_input", "backprop_wrt_min", "backprop_wrt_max"}
    assert "fq.nothing" not in r
    with pytest.raises(KeyError):
        r["nope"]


def test_each_page_has_its_own_scope():
    a = blockgraph.load_page(os.path.join(EX, "fake_quant_args.yaml"))
    b = blockgraph.load_page(os.path.join(EX, "fake_quant_vars.yaml"))
    assert a.scope is not b.scope and a.scope.graph is not b.scope.graph
    assert "min" not in a.scope.blocks and "min" in b.scope.blocks


def test_unrunnable_page_raises_with_every_diagnostic(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("format: 1\nblocks:\n  a: {op: Identity, inputs: {input: b}}\n  b: {op: Identity, inputs: {input: a}}\n")
    page = blockgraph.load_page(str(p))
    with pytest.raises(PageError) as e:
        page.run()
    assert "cycle: a -> b -> a" in str(e.value)


def test_literals_follow_port_dtypes_and_tf_constant_rules(tmp_path):
    p = tmp_path / "lit.yaml"
    p.write_text("""format: 1
blocks:
  a: {op: Identity, inputs: {input: [1, 2]}}
  b: {op: Identity, inputs: {input: 3000000000}}
  c: {op: Identity, inputs: {input: [1.5, .nan]}}
  d: {op: Identity, inputs: {input: [true, false]}}
  e: {op: Identity, inputs: {input: [abc, "d"]}}
  f: {op: Identity, inputs: {input: {value: [1, 2], dtype: double}}}
  g: {op: FakeQuantWithMinMaxVars, inputs: {inputs: [0.3], min: 0, max: 1}}
  h: {op: Const, attrs: {value: 7, dtype: int64, shape: [2, 2]}}
  i: {op: Const, attrs: {value: 1e-3}}
""")
    r = blockgraph.load_page(str(p)).run()
    assert r.ok
    assert r["a"].dtype == np.int32 and r["b"].dtype == np.int64
    assert r["c"].dtype == np.float32 and np.isnan(r["c"][1])
    assert r["d"].dtype == np.bool_ and r["e"].tolist() == [b"abc", b"d"]
    assert r["f"].dtype == np.float64 and r.block("e").dtypes["output"] == "string"
    assert r["h"].tolist() == [[7, 7], [7, 7]] and r["h"].dtype == np.int64
    assert r["i"] == np.float32(0.001)


def test_const_from_npy_and_npz(tmp_path):
    np.save(tmp_path / "w.npy", np.arange(6, dtype=np.int16).reshape(2, 3))
    np.savez(tmp_path / "many.npz", a=np.ones(2, np.float64), b=np.zeros(3, np.uint8))
    (tmp_path / "p.yaml").write_text("""format: 1
blocks:
  w: {op: Const, attrs: {file: w.npy}}
  b: {op: Const, attrs: {file: many.npz, key: b}}
""")
    r = blockgraph.load_page(str(tmp_path / "p.yaml")).run()
    assert r["w"].dtype == np.int16 and r["w"].shape == (2, 3)
    assert r["b"].dtype == np.uint8 and r.block("b").dtypes["output"] == "uint8"


def test_pickled_npy_is_refused(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (tmp_path / "p.yaml").write_text("format: 1\nblocks:\n  o: {op: Const, attrs: {file: obj.npy}}\n")
    page = blockgraph.load_page(str(tmp_path / "p.yaml"))
    assert len(page.diagnostics) == 1 and "cannot load 'obj.npy'" in page.diagnostics[0].message


def test_notes_and_positions_are_kept():
    page = blockgraph.load_page(os.path.join(EX, "fake_quant_args.yaml"))
    b = page.scope.blocks["inputs"]
    assert b.note.startswith("feed other inputs") and b.pos == (0, 0)


def test_schema_file_is_up_to_date():
    from blockgraph.core.page import json_schema
    with open(os.path.join(ROOT, "schemas", "page.schema.json")) as fh:
        on_disk = json.load(fh)
    assert on_disk == json_schema(), "regenerate with: blockgraph schema -o schemas/page.schema.json"


def test_examples_validate_against_schema(page_schema_validator):
    import yaml
    for path in glob.glob(os.path.join(EX, "*.yaml")):
        with open(path) as fh:
            page_schema_validator.validate(yaml.safe_load(fh))


def _many_blocks_page(tmp_path, n=3000):
    lines = ["format: 1", "blocks:", "  b0: {op: Const, attrs: {value: [1.0, 2.0]}}"]
    lines += [f"  b{i}: {{op: Identity, inputs: {{input: b{i - 1}}}}}" for i in range(1, n)]
    path = tmp_path / "many.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_big_pages_leave_no_young_objects_and_no_cycles(tmp_path):
    """Loading or running a page of thousands of blocks promotes what it made past the young GC
    generations (no collection has to walk it again), and none of it needs the cyclic GC to be
    freed. Objects the caller froze stay frozen."""
    import gc
    import weakref
    path = _many_blocks_page(tmp_path)
    assert gc.isenabled()
    page = blockgraph.load_page(path)
    assert gc.isenabled()
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert id(page.scope) in oldest and id(page.scope.blocks) in oldest
    results = page.run()
    assert results.ok and gc.isenabled()
    assert id(results.block("b2999")) in {id(o) for o in gc.get_objects(generation=2)}
    # freed by reference counting alone
    gc.disable()
    try:
        probe = weakref.ref(page.scope)
        result_probe = weakref.ref(results)
        del page, results
        assert probe() is None and result_probe() is None
    finally:
        gc.enable()
    gc.freeze()
    try:
        assert gc.get_freeze_count() > 0
        blockgraph.load_page(path)
        assert gc.get_freeze_count() > 0 and gc.isenabled()     # not unfrozen by the load
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("literal, digits", [("9" * 5000, "5,000 digits"), ("-" + "9" * 400, "400 digits"),
                                             ("0x" + "f" * 5000, "about 6,021 digits"),
                                             (str(2 ** 1024 - 1), "about 309 digits")])
def test_integer_too_large_for_any_dtype_is_one_located_error(tmp_path, literal, digits):
    p = tmp_path / "p.yaml"
    p.write_text(f"format: 1\nblocks:\n  c: {{op: Const, attrs: {{value: [1, {literal}], dtype: float64}}}}\n"
                 "  ok: {op: Const, attrs: {value: 1.0}}\n")
    page = blockgraph.load_page(str(p))
    assert [(d.line, d.col, d.message) for d in page.diagnostics] == [
        (3, 37, f"an integer of {digits} is out of range for any dtype (the widest, float64, holds "
                "up to about 1.8e308)")]
    r = page.run()
    assert r.block("c").status == "failed" and "out of range for any dtype" in r.block("c").error
    assert r.block("ok").status == "ok"


def test_integer_too_large_in_a_grid_is_a_usage_error(tmp_path, capsys):
    from blockgraph.cli import main
    rc = main(["sweep", os.path.join(EX, "fake_quant_vars_gradient.yaml"), "--grid",
               "fq.num_bits=" + "9" * 5000, "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and "an integer of 5,000 digits is out of range for any dtype" in err
    assert len(err) < 400 and "internal error" not in err


@pytest.mark.parametrize("call, message", [
    (lambda: blockgraph.load_page(os.path.join(EX, "fake_quant_args.yaml"), text=b"format: 1"),
     "text must be a str (the page's YAML), got bytes: decode it first"),
    (lambda: blockgraph.load_page(os.path.join(EX, "fake_quant_args.yaml"), max_bytes="1G"),
     "max_bytes must be a number of bytes (an int >= 1), None for no limit or -1"),
    (lambda: blockgraph.load_page(os.path.join(EX, "fake_quant_args.yaml"), max_bytes=0), "got 0"),
    (lambda: blockgraph.load_page(7), "path must be a str or os.PathLike (the page's file), got int"),
    (lambda: blockgraph.load_page(os.path.join(EX, "fake_quant_args.yaml")).run([np.zeros(2)]),
     "feeds must be a mapping {placeholder id: array}, got list"),
    (lambda: blockgraph.load_page(os.path.join(EX, "fake_quant_args.yaml")).run({1: np.zeros(2)}),
     "feed keys are placeholder ids (str), got 1 (int)"),
    (lambda: blockgraph.load_page(os.path.join(EX, "fake_quant_args.yaml")).run(
        {"inputs": np.ma.masked_array(np.ones((2, 2), np.float32), [[0, 1], [0, 0]])}),
     "feed 'inputs' is a masked array, and a tensor has no mask: pass inputs.filled(value)"),
    (lambda: blockgraph.load_page(os.path.join(EX, "fake_quant_args.yaml")).run(executor="gpu"),
     "executor must be one of 'sequential', 'threads', 'dask', got 'gpu'"),
])
def test_api_misuse_is_a_usage_error_saying_what_to_pass(call, message):
    from blockgraph.core.errors import UsageError
    with pytest.raises(UsageError) as e:
        call()
    assert isinstance(e.value, blockgraph.BlockgraphError) and message in str(e.value)


def test_blockgraph_error_is_the_root_of_what_blockgraph_raises(tmp_path):
    from blockgraph.core.errors import FileReadError
    from blockgraph.core.errors import ExecutorError
    from blockgraph.run.sweep import SweepError
    for cls in (PageError, FileReadError, ExecutorError, SweepError):
        assert issubclass(cls, blockgraph.BlockgraphError), cls
    with pytest.raises(blockgraph.BlockgraphError):
        blockgraph.load_page(str(tmp_path / "missing.yaml"))


def test_results_never_write_into_the_callers_feeds():
    page = blockgraph.load_page(os.path.join(EX, "fake_quant_args.yaml"))
    x = np.array([[1, 2], [3, 4]], np.float32)
    r = page.run({"inputs": x})
    got = r["inputs"]
    assert np.shares_memory(got, x) and not got.flags.writeable     # a read-only view, no copy
    with pytest.raises(ValueError):
        got[0, 0] = 9
    assert x.flags.writeable and x[0, 0] == 1
