"""The cache is never wrong: after editing one literal, one attr, one feed, one Const file or one
kernel, exactly the downstream cone of the edit runs again and every other block is served from
the cache, with results bit-identical to an uncached run; from memory (the same process) and
from disk (a new Cache on the same folder), under every executor. Stateful blocks and what reads
them never come from the cache; cycles reuse the pure blocks."""
import numpy as np
import pytest

import blockgraph
from blockgraph.core import registry
from blockgraph.core.blockdef import Input, Output, block
from blockgraph.core.shapes import same_shape
from blockgraph.run import executors
from blockgraph.run.cache import Cache

pytest.importorskip("xxhash")

PAGE = """format: 1
blocks:
  x: {op: Placeholder, attrs: {dtype: float32, shape: [4]}}
  c: {op: Const, attrs: {file: c.npy}}
  k: {op: Const, attrs: {value: [0.5, 1.5, 2.5, 3.5]}}
  fx: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: x}, attrs: {min: -6.0, max: 6.0}}
  fc: {op: FakeQuantWithMinMaxVars, inputs: {inputs: c, min: -1.0, max: MAX}}
  fk: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: k}, attrs: {num_bits: BITS}}
  sk: {op: TestCacheScale, inputs: {x: k}}
  cat: {op: ConcatV2, inputs: {values: [fx, fc, fk, sk], axis: 0}}
  g: {op: FakeQuantWithMinMaxVarsGradient, inputs: {gradients: cat, inputs: cat, min: -2.0, max: 2.0}}
  r: {op: Reshape, inputs: {tensor: g.backprops_wrt_input, shape: [4, 4]}}
  t: {op: Transpose, inputs: {x: r, perm: [1, 0]}}
  tk: {op: Identity, inputs: {input: fk}}
"""
ALL = {"x", "c", "k", "fx", "fc", "fk", "sk", "cat", "g", "r", "t", "tk"}
TAIL = {"cat", "g", "r", "t"}
X = np.array([-7.0, 0.3, 2.2, np.nan], np.float32)
C = np.array([0.25, -0.5, 0.1, 3.0], np.float32)


def _scale_v1(x):
    """Scale by 2 (a test block whose kernel the tests edit)."""
    return x * np.float32(2)


def _scale_v2(x):
    """Scale by 2 (a test block whose kernel the tests edit)."""
    return x + x + np.float32(0)


def _register(kernel):
    registry.REGISTRY.pop("TestCacheScale", None)
    block("TestCacheScale", inputs=[Input("x", ("float32",))], outputs=[Output("y", "float32")],
          shape=same_shape("x", "y"))(kernel)


@pytest.fixture(autouse=True)
def scale_block():
    _register(_scale_v1)
    yield
    registry.REGISTRY.pop("TestCacheScale", None)


class Setup:
    """The page in a folder, its settings, and runs with and without a cache."""

    def __init__(self, tmp_path, where):
        self.dir = tmp_path
        self.cache_dir = str(tmp_path / "cache")
        self.where = where
        self.max, self.bits, self.feed = "1.0", 4, X
        np.save(tmp_path / "c.npy", C)
        self.cache = Cache(self.cache_dir)

    def page(self):
        path = self.dir / "p.yaml"
        path.write_text(PAGE.replace("MAX", self.max).replace("BITS", str(self.bits)))
        page = blockgraph.load_page(str(path))
        assert not page.diagnostics, [d.format() for d in page.diagnostics]
        return page

    def run(self, executor="sequential"):
        """(cached run, uncached run) of the page as it is now."""
        cache = self.cache
        if self.where == "disk":          # a new process: nothing in memory
            cache.close()
            cache = self.cache = Cache(self.cache_dir, memory_bytes=0)
        got = self.page().run({"x": self.feed}, cache=cache, executor=executor, workers=2)
        want = self.page().run({"x": self.feed})
        assert got.ok and want.ok
        same(got, want)
        return got

    def close(self):
        self.cache.close()


def same(got, want):
    """Bit-identical results: every output's bytes, numpy dtype, shape, TF dtype and layout."""
    assert list(got.blocks) == list(want.blocks)
    for r in want:
        g = got.block(r.id)
        assert g.dtypes == r.dtypes
        for (s1, d1, a1), (s2, d2, a2) in zip(g.items(), r.items()):
            assert (s1, d1, a1.dtype, a1.shape, a1.strides) == (s2, d2, a2.dtype, a2.shape, a2.strides)
            if a1.dtype == object:      # strings: the items (tobytes would compare pointers)
                assert a1.tolist() == a2.tolist(), f"{r.id}.{s1}"
            else:
                assert a1.tobytes() == a2.tobytes(), f"{r.id}.{s1}"


def ran(results) -> set:
    """The blocks that were computed (not served from the cache)."""
    statuses = {r.status for r in results}
    assert statuses <= {"ok", "cached"}, statuses
    return {r.id for r in results if r.status == "ok"}


@pytest.fixture(params=["memory", "disk"])
def setup(request, tmp_path):
    s = Setup(tmp_path, request.param)
    yield s
    s.close()


def test_first_run_computes_everything_then_nothing(setup):
    assert ran(setup.run()) == ALL
    again = setup.run()
    assert ran(again) == set()
    assert all(r.saved >= 0 for r in again) and all(r.status == "cached" for r in again)


def test_one_literal(setup):
    setup.run()
    setup.max = "2.0"
    assert ran(setup.run()) == {"fc"} | TAIL


def test_one_attr(setup):
    setup.run()
    setup.bits = 5
    assert ran(setup.run()) == {"fk", "tk"} | TAIL


def test_one_feed(setup):
    setup.run()
    setup.feed = X.copy()
    assert ran(setup.run()) == set()          # same bytes, new array: same key
    setup.feed[1] = 0.4
    assert ran(setup.run()) == {"x", "fx"} | TAIL
    setup.feed = X.astype(np.float64)          # same values, another dtype: fails, never served
    page = setup.page()
    r = page.run({"x": setup.feed}, cache=setup.cache)
    assert r.block("x").status == "failed" and "expects float32" in r.block("x").error


def test_a_large_feed_is_hashed_in_pieces_on_every_core(tmp_path, monkeypatch):
    """A feed of several CHUNK pieces: one changed byte in any piece (the first, one in the
    middle, the short last one) changes its key; the digest is the same whichever thread
    hashes which piece, and on one core."""
    from blockgraph.run.cache import keys
    monkeypatch.setattr(keys, "CHUNK", 4096)
    data = np.arange(5 * 4096 + 123, dtype=np.uint8)
    d0 = keys.values_digest(data)
    assert len(d0) == 16 and d0 != keys._digest(data)
    seen = {d0}
    for i in (0, 4096 * 2 + 7, data.size - 1):
        edited = data.copy()
        edited[i] ^= 1
        seen.add(keys.values_digest(edited))
    assert len(seen) == 4
    monkeypatch.setattr(keys, "_POOL", [None])          # one core: the calling thread alone
    assert keys.values_digest(data) == d0
    page = tmp_path / "p.yaml"
    page.write_text("format: 1\nblocks:\n  x: {op: Placeholder, attrs: {dtype: float32}}\n"
                    "  y: {op: Neg, inputs: {x: x}}\n")
    feed = np.linspace(-1, 1, 3 * 4096, dtype=np.float32)
    with Cache(str(tmp_path / "c")) as c:
        p = blockgraph.load_page(str(page))
        assert ran(p.run({"x": feed}, cache=c)) == {"x", "y"}
        assert ran(p.run({"x": feed.copy()}, cache=c)) == set()
        feed[-1] = 2.0
        assert ran(p.run({"x": feed}, cache=c)) == {"x", "y"}


def test_one_file(setup, tmp_path):
    setup.run()
    np.save(tmp_path / "c.npy", C)             # rewritten, same content: still served
    assert ran(setup.run()) == set()
    np.save(tmp_path / "c.npy", C[::-1].copy())
    assert ran(setup.run()) == {"c", "fc"} | TAIL


def test_one_kernel_version(setup):
    setup.run()
    _register(_scale_v2)                        # the same op, its kernel's code edited
    assert ran(setup.run()) == {"sk"} | TAIL
    _register(_scale_v1)
    assert ran(setup.run()) == set()           # back to the first code: its entries again


@pytest.mark.parametrize("executor", executors.NAMES)
def test_every_executor_serves_the_same(tmp_path, executor):
    if executor == "dask":
        pytest.importorskip("dask")
    s = Setup(tmp_path, "disk")
    try:
        assert ran(s.run(executor)) == ALL
        assert ran(s.run(executor)) == set()
        s.max = "0.5"
        assert ran(s.run(executor)) == {"fc"} | TAIL
    finally:
        s.close()


def test_layouts_survive_the_disk(tmp_path):
    """A transposed view, Fortran order, broadcast (zero strides) and reversed outputs come back
    with their strides, so what reads them computes what it computed from the original."""
    page = tmp_path / "l.yaml"
    page.write_text("""format: 1
blocks:
  m: {op: Const, attrs: {value: [[1.5, 2.5, 3.5], [4.5, 5.5, 6.5]]}}
  t: {op: Transpose, inputs: {x: m, perm: [1, 0]}}
  b: {op: BroadcastTo, inputs: {input: [1.0, 2.0, 3.0], shape: [4, 3]}}
  rv: {op: ReverseV2, inputs: {tensor: m, axis: [1]}}
  s: {op: Const, attrs: {value: ["a", "bc", ""], dtype: string}}
""")
    want = blockgraph.load_page(str(page)).run()
    with Cache(str(tmp_path / "c")) as c:
        blockgraph.load_page(str(page)).run(cache=c)
    with Cache(str(tmp_path / "c"), memory_bytes=0) as c:
        got = blockgraph.load_page(str(page)).run(cache=c)
    assert {r.status for r in got} == {"cached"}
    same(got, want)
    assert got["s"].tolist() == [b"a", b"bc", b""]


STATE = """format: 1
blocks:
  g: {op: Const, attrs: {value: [0.5, 0.5], dtype: float32}}
  pure: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: g}}
  w: {op: VariableV2, init: [1.0, 2.0]}
  step: {op: ApplyGradientDescent, inputs: {var: w, alpha: 0.1, delta: pure}}
  reads_w: {op: Identity, inputs: {input: w}}
"""


def test_state_is_never_served_and_cycles_reuse_pure_blocks(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(STATE)
    want = blockgraph.load_page(str(path)).run(cycles=3, trace=["reads_w", "pure"])
    with Cache(str(tmp_path / "c")) as c:
        seen = []
        got = blockgraph.load_page(str(path)).run(
            cycles=3, trace=["reads_w", "pure"], cache=c,
            on_cycle=lambda k, r: seen.append({b.id: b.status for b in r}))
        assert seen[0] == dict.fromkeys(["g", "pure", "w", "step", "reads_w"], "ok")
        for cycle in seen[1:]:        # later cycles: the pure blocks served, state computed
            assert cycle == {"g": "cached", "pure": "cached", "w": "ok", "step": "ok",
                             "reads_w": "ok"}
        again = blockgraph.load_page(str(path)).run(cycles=3, cache=c)
    assert {b.id for b in again if b.status == "ok"} == {"w", "step", "reads_w"}
    for k in want.traces:
        assert want.traces[k].tobytes() == got.traces[k].tobytes()
    for k in want.state:
        assert want.state[k].tobytes() == got.state[k].tobytes() == again.state[k].tobytes()


def test_served_results_are_read_only_and_feeds_stay_the_callers(tmp_path):
    s = Setup(tmp_path, "memory")
    try:
        feed = X.copy()
        s.feed = feed
        r = s.run()
        assert feed.flags.writeable                  # the caller's array is left alone
        assert not r["g.backprops_wrt_input"].flags.writeable
        feed[0] = 1.0                                 # changing it after the run ...
        s.feed = feed
        assert "x" in ran(s.run())                   # ... is a new feed, never the old entry
    finally:
        s.close()


def test_an_entry_over_the_memory_limit_is_not_served(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("format: 1\nblocks:\n  z: {op: Fill, inputs: {dims: [1000], value: 1.0}}\n")
    with Cache(str(tmp_path / "c")) as c:
        assert blockgraph.load_page(str(path)).run(cache=c).block("z").status == "ok"
        small = blockgraph.load_page(str(path), max_bytes=100)
        r = small.run(cache=c)
        assert r.block("z").status == "failed" and "more than the limit" in r.block("z").error


def test_partial_runs_take_the_upstream_closure(tmp_path):
    s = Setup(tmp_path, "memory")
    try:
        page = s.page()
        r = page.run({"x": X}, only=["fk"])
        assert list(r.blocks) == ["k", "fk"]
        r = page.run({"x": X}, only=["g.backprop_wrt_min", "tk"], cache=s.cache)
        assert set(r.blocks) == ALL - {"r", "t"}
        full = page.run({"x": X})
        assert r["g.backprop_wrt_min"].tobytes() == full["g.backprop_wrt_min"].tobytes()
        with pytest.raises(blockgraph.BlockgraphError, match="no block 'gg'.*did you mean 'g'"):
            page.run({"x": X}, only=["gg"])
        with pytest.raises(blockgraph.BlockgraphError, match="has no output 'nope'"):
            page.run({"x": X}, only=["g.nope"])
    finally:
        s.close()


def test_a_variable_brings_its_update_into_a_partial_run(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(STATE)
    page = blockgraph.load_page(str(path))
    r = page.run(only=["reads_w"], cycles=3)
    assert set(r.blocks) == {"g", "pure", "w", "step", "reads_w"}
    assert r["reads_w"].tobytes() == page.run(cycles=3)["reads_w"].tobytes()


def test_sweep_settings_share_the_blocks_upstream_of_what_they_vary(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("""format: 1
blocks:
  k: {op: Const, attrs: {value: [0.5, 1.5, 2.5, 3.5]}}
  a: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: k}, attrs: {num_bits: 8}}
  b: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: a}, attrs: {num_bits: 8}}
  c: {op: Identity, inputs: {input: b}}
""")
    page = blockgraph.load_page(str(path))
    with Cache(str(tmp_path / "c")) as c:
        index = blockgraph.sweep(page, grid=["b.num_bits=2,3,4"], out=str(tmp_path / "out"),
                                 cache=c)
    plain = blockgraph.sweep(page, grid=["b.num_bits=2,3,4"], out=str(tmp_path / "plain"))
    assert index["ok"] and [e["blocks"].get("cached", 0) for e in index["runs"]] == [0, 2, 2]
    for e in index["runs"]:          # k and a computed once, shared by the other settings
        assert e["blocks"].get("cached", 0) + e["blocks"]["ok"] == 4
    for e, f in zip(index["runs"], plain["runs"]):
        with np.load(tmp_path / "out" / e["file"]) as z1, np.load(tmp_path / "plain" / f["file"]) as z2:
            assert sorted(z1.files) == sorted(z2.files)
            assert all(z1[k].tobytes() == z2[k].tobytes() for k in z1.files)
