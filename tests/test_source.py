"""Reading YAML: the alias guard counts what aliases add (in bytes), not the size of a plain
page, and a page is built from the parser's events in memory proportional to its text."""
import tracemalloc

import pytest

import blockgraph
from blockgraph.core import source


def _chain(n):
    lines = ["format: 1", "blocks:", "  b0: {op: Const, attrs: {value: [1.0, 2.0, 3.0]}}"]
    lines += [f"  b{i}:\n    op: FakeQuantWithMinMaxArgs\n    inputs: {{inputs: b{i - 1}}}\n"
              f"    attrs: {{num_bits: {2 + i % 14}}}" for i in range(1, n)]
    return "\n".join(lines) + "\n"


def test_the_alias_guard_counts_alias_expansion_not_plain_size(monkeypatch, tmp_path):
    monkeypatch.setattr(source, "MAX_ALIAS_BYTES", 2000)
    text = _chain(500)                         # about 50 KB, 3,500 values: no alias at all
    p = tmp_path / "plain.yaml"
    p.write_text(text)
    page = blockgraph.load_page(str(p))
    assert page.diagnostics == [] and len(page.scope.blocks) == 500
    p.write_text("format: 1\nv: &v [" + ", ".join(["1.5"] * 100) + "]\nblocks:\n"
                 "  a: {op: Const, attrs: {value: [*v, *v]}}\n  b: {op: Const, attrs: {value: *v}}\n")
    page = blockgraph.load_page(str(p))        # 100 values of 11 bytes: 1,108 a copy
    assert [(d.line, d.col, d.message) for d in page.diagnostics] == [
        (4, 38, "aliases expand the document by more than 2000 bytes (aliases repeating aliases?); "
                "refusing to build it")]


def test_a_long_string_repeated_by_aliases_is_refused_by_its_bytes(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text("format: 1\nblocks:\n  a: {op: Const, attrs: {value: [&s " + "x" * (1 << 20)
                 + ", *s" * 599 + "]}}\n")
    tracemalloc.start()
    try:
        page = blockgraph.load_page(str(p))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    (d,) = page.diagnostics
    assert d.message.startswith("aliases expand the document by more than 16 MiB") and d.line == 3
    assert peak < 40 << 20, peak          # refused before the copies are made


def test_a_page_is_built_without_a_node_tree():
    text = _chain(10_000)                  # 1.1 MB
    source.read("x", text)
    tracemalloc.start()
    try:
        src = source.read("x", text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert src.problems == [] and len(src.data["blocks"]) == 10_000
    assert peak < 25 * len(text), (peak, len(text))    # composing a node tree took 66x


def test_errors_inside_an_aliased_value_point_at_the_alias(tmp_path):
    p = tmp_path / "a.yaml"
    p.write_text("format: 1\nblocks:\n  a: {op: Const, attrs: {value: &bad [1, [2]]}}\n"
                 "  b: {op: Const, attrs: {value: *bad}}\n")
    page = blockgraph.load_page(str(p))
    assert [(d.line, d.col, d.block) for d in page.diagnostics] == [(3, 33, "a"), (4, 33, "b")]
    assert all("ragged" in d.message for d in page.diagnostics)


@pytest.mark.parametrize("text, message", [
    ("a: *nope\n", "1:4: YAML syntax error: found undefined alias 'nope'"),
    ("a: &x [1, *x]\n", "1:11: YAML syntax error: found recursive (inside its own anchor) alias 'x'"),
    ("a: &x 1\nb: &x 2\n", "2:4: YAML syntax error: found duplicate anchor 'x'"),
    ("a: 1\n---\nb: 2\n", "2:1: YAML syntax error: expected a single document in the stream but "
                           "found another document"),
])
def test_alias_and_document_errors(text, message):
    src = source.read("x.yaml", text)
    assert [f"{p.line}:{p.col}: {p.message}" for p in src.problems] == [message] and src.data is None
