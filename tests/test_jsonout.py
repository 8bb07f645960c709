"""`run --json` streams tensors: the text is exactly the JSON of the materialised results, and
printing a large output costs memory for one chunk of it."""
import io
import tracemalloc

import ml_dtypes
import numpy as np
import pytest

import blockgraph
from blockgraph.core import jsonout
from blockgraph.core.results import BlockResult, Results, dumps
from op_helpers import write


def _results():
    rng = np.random.default_rng(0)
    f = rng.standard_normal((4, 3, 5)).astype(np.float32)
    f[0, 0, :3] = [np.nan, np.inf, -np.inf]
    c = (rng.standard_normal(7) + 1j * rng.standard_normal(7)).astype(np.complex64)
    c[2] = complex(np.nan, -np.inf)
    outs = {"f32": (f, "float32"), "f64": (rng.standard_normal(23), "float64"),
            "bf16": (f.astype(ml_dtypes.bfloat16), "bfloat16"), "f16": (f.astype(np.float16), "float16"),
            "c64": (c, "complex64"), "i": (np.arange(-6, 6, dtype=np.int8).reshape(2, 6), "int8"),
            "q": (np.arange(9, dtype=np.uint8), "quint8"), "b": (np.array([True, False] * 4), "bool"),
            "s": (np.array([b"a\"b", "é".encode(), b"\xff", b""] * 3, dtype=object).reshape(3, 4), "string"),
            "scalar": (np.float32(np.nan).reshape(()), "float32"), "empty": (np.zeros((3, 0, 2)), "float64"),
            "T": (np.arange(24, dtype=np.int32).reshape(4, 6).T, "int32")}
    r = BlockResult("b", "X", "ok")
    for k, (a, d) in outs.items():
        r.outputs[k], r.dtypes[k] = np.asarray(a), d
    r.outputs["list"], r.dtypes["list"] = [np.arange(3), np.ones(2, np.float32)], ["int64", "float32"]
    return Results("p", {"b": r, "bad": BlockResult("bad", "Y", "failed", "boom")})


@pytest.mark.parametrize("chunk", [1, 5, 7, 1 << 16])
def test_streamed_json_is_the_json_of_the_values(monkeypatch, chunk):
    monkeypatch.setattr(jsonout, "CHUNK", chunk)
    results = _results()
    buf = io.StringIO()
    jsonout.write(results.to_json(streamed=True), buf)
    assert buf.getvalue() == dumps(results.to_json())


class _Sink:
    def __init__(self):
        self.n = 0

    def write(self, text):
        self.n += len(text)


def test_json_of_a_large_output_is_written_a_chunk_at_a_time(tmp_path):
    page = blockgraph.load_page(write(tmp_path, "big.yaml", """format: 1
blocks:
  c: {op: Const, attrs: {value: 1.5, dtype: float32, shape: [4000000]}}
"""))
    results = page.run()          # 16 MB of float32: as Python lists, about 200 MB
    sink = _Sink()
    tracemalloc.start()
    try:
        jsonout.write(results.to_json(streamed=True), sink)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert sink.n == len('{"page": "big", "ok": true, "cycles": 1, "blocks": {"c": {"op": "Const", "status": '
                         '"ok", "error": null, "seconds": , "outputs": {"output": {"dtype": '
                         '"float32", "shape": [4000000], "values": []}}}}}') + len(
        str(round(results.block("c").seconds, 6))) + 4_000_000 * 5 - 2
    assert peak < 8 << 20, peak
