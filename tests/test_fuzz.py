"""Property-based fuzzing of the loader, checker and executor: mutated example pages (deleted keys,
swapped types, renamed ports, injected cycles, random bytes, deep nesting, huge numbers) must end
with exit 0 or 1 and located one-line errors — never a traceback, an internal error or a hang.

The default run is small enough for CI; set BLOCKGRAPH_FUZZ_EXAMPLES=10000 for a long run.
"""
import copy
import glob
import os
import re

import pytest
import yaml

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from blockgraph.cli import main  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.yaml")))
N = int(os.environ.get("BLOCKGRAPH_FUZZ_EXAMPLES", "150"))
LOCATED = re.compile(r"^(.*):(\d+):(\d+): (error|warning): |^  hint: |^blockgraph: error: ")


def _load(path):
    with open(path) as fh:
        return path, fh.read(), yaml.safe_load(fh.name and open(path).read())


PAGES = [_load(p) for p in EXAMPLES]

WEIRD = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**80, max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
    st.lists(st.integers(-5, 5), max_size=4), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.sampled_from(["x.output.7", "a.b.c.d", "..", "fq.outputs", "float128", "Const", 1e400, -0.0,
                     [[1, 2], [3]], [1.0, "a"], {"value": [1, 2], "dtype": "uint8"},
                     {"value": 300, "dtype": "uint8"}, {"value": "abc", "dtype": "float32"}]),
)


def _paths(node, prefix=()):
    """Every path into a nested page dict/list."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


def _get(node, path):
    for p in path:
        node = node[p]
    return node


@st.composite
def mutated_pages(draw):
    """(page text or bytes) made by applying 1-4 random mutations to an example page."""
    _, text, data = draw(st.sampled_from(PAGES))
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths(data) if p]
        kind = draw(st.sampled_from(["delete", "swap", "rename", "cycle", "nest", "huge", "attr", "port"]))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _get(data, path[:-1])
        key = path[-1]
        if kind == "delete" and isinstance(parent, dict):
            del parent[key]
        elif kind == "swap":
            parent[key] = copy.deepcopy(draw(WEIRD))
        elif kind == "rename" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=10))] = parent.pop(key)
        elif kind == "cycle" and isinstance(data.get("blocks"), dict) and data["blocks"]:
            ids = list(data["blocks"])
            a, b = draw(st.sampled_from(ids)), draw(st.sampled_from(ids))
            if isinstance(data["blocks"][a], dict):
                data["blocks"][a].setdefault("inputs", {})
                if isinstance(data["blocks"][a]["inputs"], dict):
                    port = draw(st.sampled_from(list(data["blocks"][a]["inputs"]) or ["input"]))
                    data["blocks"][a]["inputs"][port] = b
        elif kind == "nest":
            v = parent[key]
            for _ in range(draw(st.integers(1, 80))):
                v = [v]
            parent[key] = v
        elif kind == "huge":
            parent[key] = draw(st.sampled_from([10**30, -10**30, 2**63, 1e308, -1e308, [10**9] * 3,
                                                [100000, 100000, 100000]]))
        elif kind == "attr" and isinstance(data.get("blocks"), dict):
            for b in data["blocks"].values():
                if isinstance(b, dict) and isinstance(b.get("attrs"), dict):
                    b["attrs"][draw(st.sampled_from(["num_bits", "narrow_range", "min", "max", "dtype",
                                                     "shape", "value", "bogus"]))] = copy.deepcopy(draw(WEIRD))
                    break
        elif kind == "port" and isinstance(data.get("blocks"), dict):
            for b in data["blocks"].values():
                if isinstance(b, dict) and isinstance(b.get("inputs"), dict):
                    b["inputs"][draw(st.sampled_from(["inputs", "min", "max", "gradients", "input",
                                                      "values", "x"]))] = copy.deepcopy(draw(WEIRD))
                    break
    try:
        out = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    except (yaml.YAMLError, RecursionError):
        out = text
    if draw(st.booleans()) and draw(st.integers(0, 4)) == 0:   # byte-level damage
        raw = bytearray(out.encode())
        for _ in range(draw(st.integers(1, 6))):
            if raw:
                i = draw(st.integers(0, len(raw) - 1))
                raw[i] = draw(st.integers(0, 255))
        return bytes(raw)
    return out


def _check_outcome(rc, err, out):
    assert rc in (0, 1), (rc, err)
    assert "Traceback" not in err and "internal error" not in err and "internal error" not in out, err
    if rc == 1:
        lines = [l for l in err.splitlines() if l.strip()]
        assert lines, "a failure says why"
        for l in lines:
            assert LOCATED.match(l), f"not a located one-line error: {l!r}"


@settings(max_examples=N, deadline=10_000, suppress_health_check=list(HealthCheck), derandomize=False)
@given(page=mutated_pages())
def test_mutated_pages_fail_cleanly(page, tmp_path_factory, capsys):
    d = tmp_path_factory.mktemp("fuzz")
    path = d / "page.yaml"
    path.write_bytes(page if isinstance(page, bytes) else page.encode())
    for cmd in (["check", str(path)], ["run", str(path), "--out", str(d / "o.npz"), "--max-bytes", "64M"]):
        rc = main(cmd)
        cap = capsys.readouterr()
        _check_outcome(rc, cap.err, cap.out)
