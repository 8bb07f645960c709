"""run.memo.RunMemo (kept by the page's run plan): a block that runs again on inputs of the same dtypes and shapes reuses its
output specs, unless its shape function read the value of an input that can change."""
import numpy as np

import blockgraph

RESHAPE = """format: 1
blocks:
  x: {op: Placeholder, attrs: {dtype: float32}}
  s: {op: Placeholder, attrs: {dtype: int32, shape: [null]}}
  by_feed: {op: Reshape, inputs: {tensor: x, shape: s}}
  by_literal: {op: Reshape, inputs: {tensor: x, shape: [-1, 2]}}
  doubled: {op: Tile, inputs: {input: by_literal, multiples: [2, 1]}}
"""


def _page(tmp_path, text=RESHAPE, **kw):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    page = blockgraph.load_page(str(path), **kw)
    assert not page.diagnostics
    return page


def _memo(page, bid):
    return page.plan().steps[bid].memo


def test_value_read_of_a_fed_input_is_never_memoised(tmp_path):
    page = _page(tmp_path)
    x = np.arange(12, dtype=np.float32)
    shapes = [(3, 4), (4, 3), (2, 6), (12,), (6, 2)]
    for shape in shapes:        # same dtypes and shapes of the inputs every time, new values
        r = page.run({"x": x, "s": np.array(shape, np.int32)})
        assert r.ok, [b.error for b in r if not b.ok]
        assert r["by_feed"].shape == shape
    assert _memo(page, "by_feed").entries == {}
    bad = page.run({"x": x, "s": np.array([5, 5], np.int32)})
    assert bad.block("by_feed").status == "failed"
    assert "Input to reshape is a tensor with 12 values, but the requested shape has 25" in \
        bad.block("by_feed").error


def test_literal_values_and_shapes_are_memoised(tmp_path):
    page = _page(tmp_path)
    s = np.array([3, 4], np.int32)
    for n in (12, 12, 12, 20, 20):
        r = page.run({"x": np.arange(n, dtype=np.float32), "s": np.array([n // 2, 2], np.int32)})
        assert r.ok
        assert r["by_literal"].shape == (n // 2, 2) and r["doubled"].shape == (n, 2)
    memo = _memo(page, "by_literal")
    assert len(memo.entries) == 2            # one per input signature (12 and 20 elements)
    for attrs, specs, need in memo.entries.values():
        assert all(spec.value is None for spec in specs)    # no arrays kept alive
    assert len(_memo(page, "doubled").entries) == 2
    r = page.run({"x": np.arange(12, dtype=np.float32), "s": s})     # a memo hit
    assert r.ok and r["doubled"].shape == (12, 2) and r["doubled"].dtype == np.float32


def test_memoised_block_still_checks_the_memory_limit(tmp_path):
    page = _page(tmp_path, max_bytes=64)
    feeds = {"x": np.arange(12, dtype=np.float32), "s": np.array([3, 4], np.int32)}
    errors = [page.run(feeds).block("doubled").error for _ in range(3)]
    assert errors[0] and errors == [errors[0]] * 3
    assert "the outputs would need 96 bytes, more than the limit of 64 bytes" in errors[0]
    small = {"x": np.arange(4, dtype=np.float32), "s": np.array([2, 2], np.int32)}
    assert page.run(small).ok              # 32 bytes: a new signature, under the limit


def test_errors_of_the_shape_function_are_not_memoised(tmp_path):
    page = _page(tmp_path)
    odd = {"x": np.arange(7, dtype=np.float32), "s": np.array([7], np.int32)}
    for _ in range(3):
        r = page.run(odd)
        assert r.block("by_literal").status == "failed"
        assert "Input to reshape is a tensor with 7 values" in r.block("by_literal").error
    assert _memo(page, "by_literal").entries == {}
