"""--max-bytes against outputs whose size only the data decides (Where, Unique, ListDiff):
checked once counted, before allocating; and string tensors counted by their bytes (what `--out`
stores), not as 8 bytes each."""
import tracemalloc

import numpy as np
import pytest

import blockgraph
from blockgraph.cli import main
from op_helpers import write


def _run_traced(page, feeds):
    tracemalloc.start()
    try:
        r = page.run(feeds)
        return r, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_where_counts_before_allocating(tmp_path):
    page = blockgraph.load_page(write(tmp_path, "w.yaml", """format: 1
blocks:
  c: {op: Placeholder, attrs: {dtype: bool}}
  w: {op: Where, inputs: {condition: c}}
"""), max_bytes=1 << 20)
    c = np.ones((10, 10, 10, 10, 10, 1, 1, 1), bool)      # 100,000 true: 6.1 MiB of coordinates
    r, peak = _run_traced(page, {"c": c})
    assert r.block("w").status == "failed"
    assert r.block("w").error == ("the outputs would need 6.1 MiB, more than the limit of 1.0 MiB "
                                  "(raise it with --max-bytes)")
    assert peak < 2 << 20, peak
    c[:] = False
    c[3, 1, 4, 1, 5, 0, 0, 0] = c[9, 9, 9, 9, 9, 0, 0, 0] = True
    r = page.run({"c": c})
    assert r["w"].tolist() == [[3, 1, 4, 1, 5, 0, 0, 0], [9, 9, 9, 9, 9, 0, 0, 0]]


@pytest.mark.parametrize("shape", [(7,), (3, 0, 2), (2, 3, 4), (1, 5, 1)])
def test_where_coordinates_are_argwheres(shape):
    from op_helpers import run
    rng = np.random.default_rng(0)
    c = rng.integers(0, 2, shape).astype(bool)
    got = run("Where", {"condition": c})
    assert got.dtype == np.int64 and got.tolist() == np.argwhere(c).tolist()


def test_unique_checks_idx_before_computing_and_y_once_counted(tmp_path):
    page = blockgraph.load_page(write(tmp_path, "u.yaml", """format: 1
blocks:
  x: {op: Placeholder, attrs: {dtype: int64}}
  u: {op: UniqueWithCounts, inputs: {x: x}}
"""), max_bytes=1 << 20)
    r, peak = _run_traced(page, {"x": np.zeros(1 << 20, np.int64)})     # idx alone: 4 MiB
    assert r.block("u").error.startswith("the outputs would need 4.0 MiB, more than the limit")
    assert peak < 1 << 20, peak
    # idx fits (400 KiB); 100,000 distinct values do not (+ 781 KiB of y, + 391 KiB of counts)
    r = page.run({"x": np.arange(100_000, dtype=np.int64)})
    assert r.block("u").error.startswith("the outputs would need 1.5 MiB")
    r = page.run({"x": np.arange(100_000, dtype=np.int64) % 7})
    assert r.ok and r["u.count"].tolist() == [14286] * 5 + [14285] * 2


def test_list_diff_counts_before_gathering(tmp_path):
    page = blockgraph.load_page(write(tmp_path, "l.yaml", """format: 1
blocks:
  x: {op: Placeholder, attrs: {dtype: float64}}
  d: {op: ListDiff, inputs: {x: x, y: [1.0]}}
"""), max_bytes=1 << 20)
    r = page.run({"x": np.arange(100_000, dtype=np.float64)})
    assert r.block("d").error.startswith("the outputs would need 1.1 MiB")


def test_strings_count_their_bytes(tmp_path, capsys):
    big = "a" * (1 << 20)
    page = write(tmp_path, "fill.yaml", """format: 1
blocks:
  s: {op: Placeholder, attrs: {dtype: string, shape: []}}
  f: {op: Fill, inputs: {dims: [500], value: s}}
""")
    np.save(tmp_path / "s.npy", np.array(big.encode()))
    out = tmp_path / "out.npz"
    assert main(["run", page, "--feed", f"s={tmp_path / 's.npy'}", "--max-bytes", "10M",
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "block 'f' (Fill): the outputs would need 500.0 MiB, more than the limit of 10.0 MiB" in err
    assert out.stat().st_size < 2 << 20           # the 1 MiB feed, not 500 copies of it
    # a Const of a string repeated through YAML aliases is counted by its bytes too
    lines = ["format: 1", "blocks:", f"  a: {{op: Const, attrs: {{value: [&s {big}"]
    page = write(tmp_path, "alias.yaml", "\n".join(lines) + ", *s" * 11 + "]}}\n")
    assert main(["run", page, "--max-bytes", "10M", "--out", str(out)]) == 1
    assert "block 'a' (Const): the outputs would need 12.0 MiB, more than the limit of 10.0 MiB" \
           in capsys.readouterr().err
