"""`blockgraph sweep`: grids of attr values and folders of feeds, one results .npz per run plus
index.json/index.csv; the same files from every executor; a real distributed.LocalCluster through
--scheduler, and a sweep that survives a worker killed mid-way."""
import csv
import glob
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import blockgraph
from blockgraph.cli import main
from blockgraph.run.dask_run import WORKER_CONFIG
from blockgraph import sweep
from blockgraph.run.sweep import SweepError, parse_grid
from op_helpers import bounded, write  # noqa: F401

GRID_PAGE = """format: 1
page: study
blocks:
  x: {op: Const, attrs: {file: x.npy}}
  fq: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: x}, attrs: {num_bits: 8, min: -1.0, max: 1.0}}
  grad:
    op: FakeQuantWithMinMaxVarsGradient
    inputs: {gradients: x, inputs: fq, min: -0.5, max: 0.5}
"""

FEEDS_PAGE = """format: 1
page: fed
blocks:
  x: {op: Placeholder, attrs: {dtype: float32, shape: [null]}}
  fq: {op: FakeQuantWithMinMaxVars, inputs: {inputs: x, min: -1.0, max: 1.0}, attrs: {num_bits: 4}}
"""

# heavy runs with small results: x is built in the page (PadV2 of 4 values to 2^21), the
# gradients' sums are all that is kept
HEAVY_PAGE = """format: 1
page: heavy
blocks:
  seed: {op: Const, attrs: {value: [0.25, -1.5, 3.0, 0.75]}}
  x: {op: PadV2, inputs: {input: seed, paddings: [[0, 2097152]], constant_values: 0.5}}
  g1: {op: FakeQuantWithMinMaxVarsGradient, inputs: {gradients: x, inputs: x, min: -1.0, max: 1.0}}
  g2: {op: FakeQuantWithMinMaxVarsGradient, inputs: {gradients: x, inputs: x, min: -2.0, max: 0.4}}
  g3: {op: FakeQuantWithMinMaxVarsGradient, inputs: {gradients: g1.backprops_wrt_input, inputs: x, min: 0.0, max: 3.0}}
"""
HEAVY_GRID = ["g1.num_bits=2,3,4,5,6,7,8,9", "g2.narrow_range=false,true"]
HEAVY_KEEP = ["g*.backprop_wrt_m*"]


@pytest.fixture
def grid_page(tmp_path):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).standard_normal(1000).astype(np.float32) * 2)
    return write(tmp_path, "study.yaml", GRID_PAGE)


@pytest.fixture
def feeds_dir(tmp_path):
    page = write(tmp_path, "fed.yaml", FEEDS_PAGE)
    d = tmp_path / "feeds"
    d.mkdir()
    rng = np.random.default_rng(1)
    for name in ("a", "b", "c"):
        np.savez(d / f"{name}.npz", x=rng.standard_normal(50).astype(np.float32))
    np.savez(d / "d_wrong.npz", y=np.zeros(3, np.float32))
    (d / "notes.txt").write_text("not a feeds file")
    return page, str(d)


def npz(path):
    """The results of a run file (its `__meta__` aside)."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files if k != "__meta__"}


def assert_same_arrays(a, b):
    assert sorted(a) == sorted(b)
    for k in a:
        assert (a[k].dtype, a[k].shape) == (b[k].dtype, b[k].shape), k
        assert a[k].tobytes() == b[k].tobytes(), k


def index_of(out):
    with open(os.path.join(out, "index.json")) as fh:
        doc = json.load(fh)
    for e in doc["runs"]:
        e.pop("seconds")
    doc.pop("seconds")
    doc.pop("executor")
    return doc


def assert_same_sweep(out_a, out_b):
    a, b = index_of(out_a), index_of(out_b)
    assert a == b
    for e in a["runs"]:
        if e["file"]:
            assert_same_arrays(npz(os.path.join(out_a, e["file"])), npz(os.path.join(out_b, e["file"])))


# ---------------------------------------------------------------- grids

def test_grid_values_are_yaml():
    axes = parse_grid(["fq.num_bits=2,4,8", "fq.min=-1e-3, -0.5", "fq.narrow_range=true,false",
                       "c.shape=[2, 3],[6]", "s.label=abc, 'd,e', .nan"])
    assert [(k, b, a) for k, b, a, _ in axes] == [("fq.num_bits", "fq", "num_bits"), ("fq.min", "fq", "min"),
                                                  ("fq.narrow_range", "fq", "narrow_range"),
                                                  ("c.shape", "c", "shape"), ("s.label", "s", "label")]
    values = [v for *_, v in axes]
    assert values[:4] == [[2, 4, 8], [-0.001, -0.5], [True, False], [[2, 3], [6]]]
    assert values[4][:2] == ["abc", "d,e"] and np.isnan(values[4][2])
    assert parse_grid(["bits=2,4"]) == [("bits", None, "bits", [2, 4])]        # a page parameter
    for bad, msg in [("fq.num_bits", "wants BLOCK.ATTR=V1,V2"), (".x=2", "must be BLOCK.ATTR"),
                     ("fq.num_bits=", "no values"), ("fq.a.b=1", "must be BLOCK.ATTR"),
                     ("fq.min=[1, 2", "cannot read the values")]:
        with pytest.raises(SweepError, match=msg):
            parse_grid([bad])
    with pytest.raises(SweepError, match="given twice"):
        parse_grid(["fq.min=1", "fq.min=2"])


def test_grid_sweep_files_and_index(grid_page, tmp_path, capsys):
    out = str(tmp_path / "out")
    rc = main(["sweep", grid_page, "--grid", "fq.num_bits=2,4,8", "--grid", "fq.narrow_range=false,true",
               "--out", out])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "6 runs: 6 ok, 0 not ok" in cap.out
    doc = json.load(open(os.path.join(out, "index.json")))
    assert doc["page"] == "study" and doc["ok"] is True and doc["executor"] == "sequential"
    settings = [e["settings"] for e in doc["runs"]]
    assert settings == [{"fq.num_bits": n, "fq.narrow_range": r} for n in (2, 4, 8) for r in (False, True)]
    assert [e["file"] for e in doc["runs"]] == [f"run-{i:04d}.npz" for i in range(6)]
    assert all(e["blocks"] == {"ok": 3, "failed": 0, "skipped": 0} for e in doc["runs"])
    rows = list(csv.DictReader(open(os.path.join(out, "index.csv"))))
    assert [(r["run"], r["file"], r["fq.num_bits"], r["fq.narrow_range"], r["ok"]) for r in rows][:2] == [
        ("0", "run-0000.npz", "2", "false", "true"), ("1", "run-0001.npz", "2", "true", "true")]
    # each file holds what a page with those attrs written in its YAML gives
    for e in doc["runs"]:
        n, narrow = e["settings"]["fq.num_bits"], e["settings"]["fq.narrow_range"]
        text = GRID_PAGE.replace("num_bits: 8,", f"num_bits: {n}, narrow_range: {str(narrow).lower()},")
        page = blockgraph.load_page(os.path.join(os.path.dirname(grid_page), "variant.yaml"), text=text)
        assert_same_arrays(npz(os.path.join(out, e["file"])), page.run().arrays())
    assert len(set(npz(os.path.join(out, "run-0000.npz"))["fq.outputs"].tolist())) <= 4   # 2 bits


def test_grid_of_nan_and_infinities_is_indexed_as_json_strings(grid_page, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["sweep", grid_page, "--grid", "fq.max=.nan,.inf,-.inf,2.0", "--out", str(out)])
    assert rc == 1, capsys.readouterr().err        # min must be below max: some runs fail
    text = (out / "index.json").read_text()
    doc = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert [e["settings"]["fq.max"] for e in doc["runs"]] == ["nan", "inf", "-inf", 2.0]
    assert [e["ok"] for e in doc["runs"]][3] is True
    rows = list(csv.DictReader(open(out / "index.csv")))
    assert [r["fq.max"] for r in rows] == ["nan", "inf", "-inf", "2.0"]
    files = sorted(e["file"] for e in doc["runs"] if e["file"])
    assert files == sorted(n for n in os.listdir(out) if n.startswith("run-"))


def test_grid_usage_errors(grid_page, tmp_path, capsys):
    out = str(tmp_path / "out")
    for grid, msg in [("fqq.num_bits=2", "--grid fqq.num_bits: page 'study' has no block 'fqq' (did you mean 'fq'?)"),
                      ("fq.num_bit=2", "--grid fq.num_bit: FakeQuantWithMinMaxArgs has no attr 'num_bit' "
                                       "(did you mean 'num_bits'?)"),
                      ("fq.num_bits", "--grid wants BLOCK.ATTR=V1,V2,..., got 'fq.num_bits'")]:
        assert main(["sweep", grid_page, "--grid", grid, "--out", out]) == 2
        assert f"blockgraph: error: {msg}" in capsys.readouterr().err
    assert main(["sweep", grid_page, "--out", out, "--grid", "fq.num_bits=2", "--scheduler", "local"]) == 2
    assert "--scheduler needs --executor dask" in capsys.readouterr().err
    assert main(["sweep", str(tmp_path / "nope.yaml"), "--grid", "fq.num_bits=2", "--out", out]) == 1
    assert "nope.yaml:1:1: error: cannot read the page" in capsys.readouterr().err
    assert not os.path.exists(out)


def test_a_bad_value_fails_its_run_only(grid_page, tmp_path, capsys):
    out = str(tmp_path / "out")
    assert main(["sweep", grid_page, "--grid", "fq.num_bits=1,8", "--out", out]) == 1
    cap = capsys.readouterr()
    assert "study.yaml:5:66: error: block 'fq' (FakeQuantWithMinMaxArgs): num_bits must be between 2 and " \
           "16, inclusive [sweep run 0: fq.num_bits=1]" in cap.err
    doc = json.load(open(os.path.join(out, "index.json")))
    r0, r1 = doc["runs"]
    assert (r0["ok"], r0["blocks"], r0["errors"]) == (False, {"ok": 1, "failed": 1, "skipped": 1},
                                                     {"fq": "num_bits must be between 2 and 16, inclusive"})
    assert r1["ok"] and doc["ok"] is False
    assert sorted(npz(os.path.join(out, r0["file"]))) == ["x.output"]     # what did succeed
    assert "failed: block 'fq': num_bits must be between 2 and 16" in cap.out


# ---------------------------------------------------------------- feeds

def test_feeds_dir_sweep(feeds_dir, tmp_path, capsys):
    page, folder = feeds_dir
    out = str(tmp_path / "out")
    assert main(["sweep", page, "--feeds-dir", folder, "--out", out]) == 1
    cap = capsys.readouterr()
    assert "sweep run 3 (feeds=d_wrong.npz): feed 'y' in d_wrong.npz is not a placeholder of page " \
           "'fed' (placeholders: x)" in cap.err
    doc = json.load(open(os.path.join(out, "index.json")))
    assert [e["settings"] for e in doc["runs"]] == [{"feeds": f} for f in ("a.npz", "b.npz", "c.npz", "d_wrong.npz")]
    assert [e["ok"] for e in doc["runs"]] == [True, True, True, False]
    assert doc["runs"][3]["file"] is None and not os.path.exists(os.path.join(out, "run-0003.npz"))
    p = blockgraph.load_page(page)
    for e in doc["runs"][:3]:
        feeds = npz(os.path.join(folder, e["settings"]["feeds"]))
        assert_same_arrays(npz(os.path.join(out, e["file"])), p.run(feeds).arrays())
    rows = list(csv.DictReader(open(os.path.join(out, "index.csv"))))
    assert rows[3]["feeds"] == "d_wrong.npz" and rows[3]["file"] == "" and "feed 'y'" in rows[3]["error"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["sweep", page, "--feeds-dir", str(empty), "--out", out]) == 2
    assert "no .npz files of feeds there" in capsys.readouterr().err


# ---------------------------------------------------------------- executors

@pytest.mark.parametrize("executor", ["threads", "dask"])
def test_every_executor_writes_the_same_sweep(grid_page, feeds_dir, tmp_path, executor, capsys):
    grid = ["--grid", "fq.num_bits=2,3,4,8,16", "--grid", "fq.min=-1.0,-0.25,2", "--grid", "fq.max=1,2.5"]
    ref, got = str(tmp_path / "ref"), str(tmp_path / executor)
    assert main(["sweep", grid_page, *grid, "--out", ref]) == 1    # min 2 >= max 1: a TF error
    assert main(["sweep", grid_page, *grid, "--out", got, "--executor", executor, "--workers", "3"]) == 1
    assert_same_sweep(ref, got)
    assert json.load(open(os.path.join(got, "index.json")))["executor"] == executor
    page, folder = feeds_dir
    assert main(["sweep", page, "--feeds-dir", folder, "--out", ref + "f"]) == 1
    assert main(["sweep", page, "--feeds-dir", folder, "--out", got + "f", "--executor", executor]) == 1
    assert_same_sweep(ref + "f", got + "f")


def test_sweep_without_dask_is_explained(grid_page, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "dask", None)
    assert main(["sweep", grid_page, "--grid", "fq.num_bits=2", "--out", str(tmp_path / "o"),
                 "--executor", "dask"]) == 2
    assert "pip install 'blockgraph[dask]'" in capsys.readouterr().err


def test_api_keep(grid_page, tmp_path):
    index = sweep(grid_page, grid=["fq.num_bits=4,8"], out=str(tmp_path / "o"), keep=["fq.*"],
                  executor="threads")
    assert index["ok"] and [e["file"] for e in index["runs"]] == ["run-0000.npz", "run-0001.npz"]
    assert sorted(npz(str(tmp_path / "o" / "run-0001.npz"))) == ["fq.outputs"]


# ---------------------------------------------------------------- a real distributed cluster


def start_cluster():
    distributed = pytest.importorskip("distributed")
    import dask
    with dask.config.set(WORKER_CONFIG):      # workers without MALLOC_TRIM_THRESHOLD_ (faster numpy)
        cluster = bounded(distributed.LocalCluster, n_workers=2, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address="127.0.0.1:0", seconds=60)
    client = distributed.Client(cluster, set_as_default=False, timeout=30)
    client.wait_for_workers(2, timeout=30)
    return cluster, client


def stop_cluster(cluster, client):
    client.close(timeout=20)
    cluster.close(timeout=20)


def test_local_cluster_run_and_sweep_through_scheduler(grid_page, feeds_dir, tmp_path, capsys):
    cluster, client = start_cluster()
    try:
        addr = cluster.scheduler_address
        assert addr.startswith("tcp://127.0.0.1:")
        # a page
        assert main(["run", grid_page, "--json"]) == 0
        ref = json.loads(capsys.readouterr().out)
        assert bounded(main, ["run", grid_page, "--json", "--executor", "dask", "--scheduler", addr]) == 0
        got = json.loads(capsys.readouterr().out)
        for doc in (ref, got):
            for b in doc["blocks"].values():
                assert b.pop("seconds") > 0
        assert got == ref
        # sweeps: a grid and a folder of feeds
        grid = ["--grid", "fq.num_bits=2,4,8", "--grid", "fq.min=-1.0,2"]
        assert main(["sweep", grid_page, *grid, "--out", str(tmp_path / "ref")]) == 1
        assert bounded(main, ["sweep", grid_page, *grid, "--out", str(tmp_path / "got"),
                              "--executor", "dask", "--scheduler", addr]) == 1
        assert_same_sweep(str(tmp_path / "ref"), str(tmp_path / "got"))
        page, folder = feeds_dir
        assert main(["sweep", page, "--feeds-dir", folder, "--out", str(tmp_path / "reff")]) == 1
        assert bounded(main, ["sweep", page, "--feeds-dir", folder, "--out", str(tmp_path / "gotf"),
                              "--executor", "dask", "--scheduler", addr]) == 1
        assert_same_sweep(str(tmp_path / "reff"), str(tmp_path / "gotf"))
        # nothing is left on the cluster
        assert not [k for k in client.who_has() if "blockgraph" in str(k)]
    finally:
        stop_cluster(cluster, client)


def test_sweep_survives_a_killed_worker(tmp_path):
    page = write(tmp_path, "heavy.yaml", HEAVY_PAGE)
    ref = str(tmp_path / "ref")
    index = sweep(page, grid=HEAVY_GRID, out=ref, keep=HEAVY_KEEP)
    assert index["ok"] and len(index["runs"]) == 16
    cluster, client = start_cluster()
    try:
        before = client.run(os.getpid)
        out = str(tmp_path / "got")
        box = {}
        thread = threading.Thread(target=lambda: box.update(index=sweep(
            page, grid=HEAVY_GRID, out=out, keep=HEAVY_KEEP, executor="dask",
            scheduler=cluster.scheduler_address)), daemon=True)
        thread.start()
        victim, deadline = None, time.monotonic() + 60
        while victim is None and time.monotonic() < deadline and thread.is_alive():
            busy = [w for w, keys in client.processing().items()
                    if any("blockgraph-map" in str(k) for k in keys)]
            if busy and glob.glob(os.path.join(out, "run-*.npz")):
                victim = busy[0]
            else:
                time.sleep(0.01)
        assert victim is not None, "the sweep never had a run in flight"
        done_at_kill = len(glob.glob(os.path.join(out, "run-*.npz")))
        os.kill(before[victim], signal.SIGKILL)       # the worker process, mid-run
        assert done_at_kill < 16
        thread.join(90)
        assert not thread.is_alive(), "the sweep did not finish after a worker died"
        assert box["index"]["ok"], box["index"]
        assert sorted(os.listdir(out)) == sorted([f"run-{i:04d}.npz" for i in range(16)] + ["index.csv", "index.json"])
        assert_same_sweep(ref, out)
        client.wait_for_workers(2, timeout=30)        # the nanny started a new worker
        assert victim not in client.run(os.getpid) or client.run(os.getpid)[victim] != before[victim]
    finally:
        stop_cluster(cluster, client)


# ---------------------------------------------------------------- OUT belongs to one sweep

def _sweep_cli(page, out, grid):
    args = [sys.executable, "-m", "blockgraph.cli", "sweep", page, "--out", out]
    for g in grid:
        args += ["--grid", g]
    return subprocess.Popen(args + ["--keep", HEAVY_KEEP[0]], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _runs_on_disk(out):
    return sorted(n for n in os.listdir(out) if n.startswith("run-"))


def _indexed(out):
    with open(os.path.join(out, "index.json")) as fh:
        doc = json.load(fh)
    return doc, sorted(e["file"] for e in doc["runs"] if e["file"])


def _wait_for_runs(proc, out, n=1, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if os.path.isdir(out) and len(_runs_on_disk(out)) >= n and not os.path.exists(
                os.path.join(out, "index.json")):
            return
        time.sleep(0.005)
    pytest.fail("the sweep never got under way: " + (proc.stderr.read() if proc.poll() is not None else ""))


def test_a_new_sweep_removes_the_previous_sweeps_files(grid_page, tmp_path):
    out = str(tmp_path / "out")
    assert len(sweep(grid_page, grid=["fq.num_bits=2,3,4,5,6,7"], out=out)["runs"]) == 6
    (tmp_path / "out" / "notes.txt").write_text("mine")
    index = sweep(grid_page, grid=["fq.num_bits=2,3"], out=out)
    assert index["complete"] and [e["file"] for e in index["runs"]] == ["run-0000.npz", "run-0001.npz"]
    assert sorted(os.listdir(out)) == ["index.csv", "index.json", "notes.txt", "run-0000.npz", "run-0001.npz"]


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_an_interrupted_sweep_leaves_an_index_true_to_its_files(tmp_path, how):
    page = write(tmp_path, "heavy.yaml", HEAVY_PAGE)
    out = str(tmp_path / "out")
    sweep(page, grid=["g1.num_bits=2,3"] + HEAVY_GRID[1:], out=out, keep=HEAVY_KEEP)   # 4 runs
    proc = _sweep_cli(page, out, HEAVY_GRID)                                           # 16 runs
    _wait_for_runs(proc, out, n=5)          # past the previous sweep's 4 files
    proc.send_signal(how)
    _, err = proc.communicate(timeout=60)
    if how == signal.SIGINT:
        assert proc.returncode == 130 and "Traceback" not in err, err
        doc, files = _indexed(out)
        assert doc["complete"] is False and doc["ok"] is False and len(doc["runs"]) == 16
        assert files == _runs_on_disk(out) and 5 <= len(files) < 16
        assert all(e["error"] == "not run: the sweep was interrupted" for e in doc["runs"] if not e["file"])
    else:       # no index: the previous one was removed before the first run
        assert not os.path.exists(os.path.join(out, "index.json"))
    # the next sweep into OUT starts clean
    index = sweep(page, grid=["g1.num_bits=2,3"], out=out, keep=HEAVY_KEEP)
    assert index["complete"] and _indexed(out)[1] == _runs_on_disk(out) == ["run-0000.npz", "run-0001.npz"]


def test_two_sweeps_into_one_out_the_second_is_refused(tmp_path, capsys):
    page = write(tmp_path, "heavy.yaml", HEAVY_PAGE)
    out = str(tmp_path / "out")
    proc = _sweep_cli(page, out, HEAVY_GRID)
    _wait_for_runs(proc, out)
    rc = main(["sweep", page, "--grid", "g1.num_bits=2", "--out", out])
    err = capsys.readouterr().err
    assert rc == 2 and f"blockgraph: error: {out} is being written by another sweep (pid {proc.pid})" in err
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    doc, files = _indexed(out)
    assert doc["complete"] and files == _runs_on_disk(out) and len(files) == 16
    assert sorted(os.listdir(out)) == sorted(files + ["index.csv", "index.json"])


def test_a_distributed_result_that_arrived_counts_even_if_its_worker_died(monkeypatch):
    """The result of a run is in the client's hands when its future reports it; the worker
    that computed it may die right after (its future then says 'lost'): the run is done."""
    import distributed

    class Future:
        def __init__(self, key, value, status):
            self.key, self.value, self.status = key, value, status

    class Client:
        loop = None

        def __init__(self, status):
            self.status = status

        def submit(self, fn, *args, key, pure):
            try:
                return Future(key, fn(*args), self.status)
            except Exception as e:      # as distributed hands over an error with raise_errors=False
                return Future(key, (type(e), e, None), "error")

        def cancel(self, futures):
            pass

    monkeypatch.setattr(distributed, "as_completed", lambda futs, **kw: ((f, f.value) for f in futs))
    from blockgraph.run import dask_run
    jobs = [(i, (i,)) for i in range(3)]
    got = dict(dask_run._map_distributed(lambda x: (x * 10, 0.5), jobs, Client("lost")))
    assert got == {0: (0, 0.5), 1: (10, 0.5), 2: (20, 0.5)}

    def boom(x):
        raise RuntimeError("worker gone three times")
    with pytest.raises(blockgraph.BlockgraphError, match="could not run job 0: RuntimeError: "
                                                         "worker gone three times"):
        list(dask_run._map_distributed(boom, [(0, (1,))], Client("finished")))


def test_out_that_is_not_a_folder_is_a_usage_error(grid_page, tmp_path, capsys):
    out = tmp_path / "file.npz"
    out.write_bytes(b"mine")
    assert main(["sweep", grid_page, "--grid", "fq.num_bits=2", "--out", str(out)]) == 2
    assert f"blockgraph: error: --out {out} is not a folder (a regular file)" in capsys.readouterr().err
    assert out.read_bytes() == b"mine"
