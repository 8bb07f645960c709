"""`blockgraph diff A.npz B.npz`: per key equal / max abs and relative difference / max ULP
distance / count of differing elements, keys only in one file, tolerances, exit status; and
`sweep --summarize` columns."""
import json
import os

import numpy as np
import pytest

from blockgraph.cli import main
from blockgraph.view.diff import _ulps

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")

F32 = np.float32
ONE_UP = np.nextafter(F32(1), F32(2))


def files(tmp_path, a: dict, b: dict):
    pa, pb = str(tmp_path / "a.npz"), str(tmp_path / "b.npz")
    np.savez(pa, **a)
    np.savez(pb, **b)
    return pa, pb


def diff_json(capsys, *argv):
    rc = main(["diff", *argv, "--json"])
    return rc, {k["key"]: k for k in json.loads(capsys.readouterr().out)["keys"]}


def test_equal_files_exit_0(tmp_path, capsys):
    a = {"x.output": np.array([1.0, np.nan, -np.inf], F32), "s.output": np.array([b"a", b"b"])}
    pa, pb = files(tmp_path, a, a)
    assert main(["diff", pa, pb]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "2 of 2 keys equal exactly"


def test_differences_per_key(tmp_path, capsys):
    a = {"f.output": np.array([1.0, -0.0, np.nan, 1e-45, 4.0], F32),
         "i.output": np.array([1, 2, 3], np.int32),
         "s.output": np.array([b"a", b"b"]),
         "only_a.output": np.zeros(2, F32),
         "shape.output": np.zeros(2, F32), "dtype.output": np.zeros(2, F32)}
    b = {"f.output": np.array([ONE_UP, 0.0, np.nan, -1e-45, 4.0], F32),
         "i.output": np.array([1, 2, 5], np.int32),
         "s.output": np.array([b"a", b"c"]),
         "only_b.output": np.zeros(2, F32),
         "shape.output": np.zeros(3, F32), "dtype.output": np.zeros(2, np.float64)}
    pa, pb = files(tmp_path, a, b)
    rc, keys = diff_json(capsys, pa, pb)
    assert rc == 1
    f = keys["f.output"]
    assert f["status"] == "differs" and f["differing"] == 3 and f["count"] == 5  # 1 ulp, ±0, ±denormal
    assert f["max_ulp"] == 2 and f["max_rel"] == 2.0
    assert f["max_abs"] == pytest.approx(float(ONE_UP) - 1)
    i = keys["i.output"]
    assert (i["differing"], i["max_abs"], i["max_rel"]) == (1, 2.0, 0.4) and "max_ulp" not in i
    assert keys["s.output"]["differing"] == 1
    assert keys["only_a.output"]["status"] == "only in A" and keys["only_b.output"]["status"] == "only in B"
    assert keys["shape.output"]["status"] == "shape differs" and keys["shape.output"]["note"] == "[2] vs [3]"
    assert keys["dtype.output"]["note"] == "float32 vs float64"
    assert main(["diff", pa, pb]) == 1
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["key", "dtype", "shape", "status", "differing", "max", "abs", "max",
                                "rel", "max", "ulp"]
    assert table[1].split() == ["f.output", "float32", "[5]", "differs", "3/5", "1.19209e-07", "2", "2"]


def test_tolerances(tmp_path, capsys):
    a = {"f.output": np.array([1.0, -0.0, 100.0], F32)}
    b = {"f.output": np.array([ONE_UP, 0.0, 101.0], F32)}
    pa, pb = files(tmp_path, a, b)
    assert diff_json(capsys, pa, pb)[1]["f.output"]["differing"] == 3
    assert diff_json(capsys, pa, pb, "--ulp", "1")[1]["f.output"]["differing"] == 1      # 100 vs 101
    assert diff_json(capsys, pa, pb, "--atol", "1")[0] == 0
    assert diff_json(capsys, pa, pb, "--rtol", "0.01")[0] == 0          # |a-b| <= rtol * |b|
    assert diff_json(capsys, pa, pb, "--rtol", "0.009")[0] == 1
    assert main(["diff", pa, pb, "--atol", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 of 1 keys equal within atol 1"
    with pytest.raises(SystemExit):
        main(["diff", pa, pb, "--atol", "-1"])


def test_nan_against_a_number_and_infinities(tmp_path, capsys):
    a = {"f.output": np.array([np.nan, np.inf, 1.0], F32)}
    b = {"f.output": np.array([1.0, np.inf, np.inf], F32)}
    pa, pb = files(tmp_path, a, b)
    rc, keys = diff_json(capsys, pa, pb, "--atol", "1e30")
    f = keys["f.output"]
    assert rc == 1 and f["differing"] == 2 and f["max_ulp"] == "nan" and f["max_abs"] == "inf"


def test_ulps_are_counted_in_each_dtypes_own_steps():
    ml = pytest.importorskip("ml_dtypes")
    for dtype in (np.float16, np.float32, np.float64, ml.bfloat16):
        x = np.array([1.0, -0.0, 0.0, -1.0], dtype)
        y = np.array([1.0, 0.0, 0.0, 1.0], dtype)
        d = _ulps(x, y)
        one = int(np.array([1.0], dtype).view({2: np.uint16, 4: np.uint32, 8: np.uint64}[x.itemsize])[0])
        assert d.tolist() == [0, 0, 0, 2 * one]                 # -1 to 1: through both zeros as one
    b16 = np.array([1.0], ml.bfloat16)
    up = (b16.view(np.uint16) + 1).view(ml.bfloat16)
    assert _ulps(b16, up)[0] == 1                                # one bfloat16 step, not 65536
    assert _ulps(np.array([-np.inf], F32), np.array([np.inf], F32))[0] == 2 * 0x7F800000


def test_quantized_keys_compare_by_their_tf_dtype(tmp_path, capsys):
    page = os.path.join(EXAMPLES, "weight_quantization.yaml")
    pa, pb = str(tmp_path / "a.npz"), str(tmp_path / "b.npz")
    assert main(["run", page, "--out", pa]) == 0 and main(["run", page, "--out", pb]) == 0
    capsys.readouterr()
    rc, keys = diff_json(capsys, pa, pb)
    assert rc == 0 and keys["q.output"]["dtype"] == "quint8"
    assert "__meta__" not in keys
    assert main(["diff", pa, pb]) == 0
    assert capsys.readouterr().out.startswith(f"A: {pa}: made by blockgraph")


def test_unreadable_file_is_a_usage_error(tmp_path, capsys):
    pa, _ = files(tmp_path, {"x.output": np.zeros(1)}, {})
    assert main(["diff", pa, str(tmp_path / "missing.npz")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_sweep_summarize_columns(tmp_path, capsys):
    page = os.path.join(EXAMPLES, "fake_quant_args.yaml")
    out = tmp_path / "sw"
    assert main(["sweep", page, "--grid", "fq.num_bits=2,8", "--summarize", "fq.outputs:max",
                 "--summarize", "fq", "--summarize", "inputs:norm", "--keep", "inputs.*",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split() == ["run", "file", "fq.num_bits", "fq.outputs:max", "fq.outputs",
                                  "inputs.output:norm", "status", "s"]
    index = json.loads((out / "index.json").read_text())
    assert index["summarize"] == ["fq.outputs:max", "fq.outputs", "inputs.output:norm"]
    with np.load(out / "run-0000.npz") as z:
        y, x = z["fq.outputs"], z["inputs.output"]          # kept for the summary too
    s = index["runs"][0]["summary"]
    assert s["fq.outputs:max"] == float(y.max()) and s["fq.outputs"] == pytest.approx(float(y.mean()))
    assert s["inputs.output:norm"] == pytest.approx(float(np.linalg.norm(x.astype(np.float64))))
    csv = (out / "index.csv").read_text().splitlines()
    assert csv[0].startswith("run,file,fq.num_bits,fq.outputs:max,fq.outputs,inputs.output:norm,ok")
    for bad, text in [("fq.nope", "block 'fq' (FakeQuantWithMinMaxArgs) has no output 'nope'"),
                      ("fqq", "no block 'fqq' in the page (did you mean 'fq'?)"),
                      ("fq:median", "unknown statistic 'median'")]:
        assert main(["sweep", page, "--grid", "fq.num_bits=2", "--summarize", bad,
                     "--out", str(out)]) == 2
        assert text in capsys.readouterr().err
