"""The threads and dask executors give exactly the sequential executor's results: statuses, errors,
outputs (bit for bit), dtypes, run order, keep-going, --fail-fast and --keep; on the example
pages, on every FakeQuant fixture case (as one big page) and on a real distributed.LocalCluster."""
import glob
import json
import os
import sys
import threading
import time

import numpy as np
import pytest
import yaml

import blockgraph
from blockgraph.core import blockdef, registry
from blockgraph.core.errors import ExecutorError
from blockgraph.run import dask_graph, dask_run, progress
from blockgraph.cli import main
from blockgraph.run.plan import Callbacks
from blockgraph.core.blockdef import Attr, Input, Output
from blockgraph.core.shapes import same_shape
from fixture_cases import load_set, page_for
from op_helpers import KEEP_GOING_PAGE, bounded  # noqa: F401

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.yaml")))
EXECUTORS = [("threads", {}), ("threads", {"workers": 1}), ("dask", {}), ("dask", {"workers": 1})]

BRANCHES = KEEP_GOING_PAGE

# list outputs and list inputs, an op with several outputs, a static error, a runtime error
LISTS = """format: 1
blocks:
  v: {op: Const, attrs: {value: [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]}}
  s: {op: Split, inputs: {axis: 1, value: v}, attrs: {num_split: 2}}
  back: {op: ConcatV2, inputs: {values: [s.output.1, s.output.0, v], axis: 1}}
  u: {op: Unique, inputs: {x: [3, 1, 3, 2, 1]}}
  uu: {op: Identity, inputs: {input: u.idx}}
  bad: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: v}, attrs: {num_bits: 1}}
  after_bad: {op: Identity, inputs: {input: bad}}
  g: {op: Placeholder, attrs: {dtype: float32}}
  grad: {op: FakeQuantWithMinMaxVarsGradient, inputs: {gradients: g, inputs: [1.0, 2.0], min: 0.0, max: 1.0}}
  tail: {op: Identity, inputs: {input: grad.backprop_wrt_min}}
  fq: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: back}}
"""


def load(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return blockgraph.load_page(str(p))


def assert_same(ref, got):
    """Two Results are the same: block order, statuses, errors, dtypes, outputs bit for bit."""
    assert got.page == ref.page
    assert list(got.blocks) == list(ref.blocks)
    for a, b in zip(ref, got):
        assert (b.id, b.op, b.status, b.error, b.error_port) == (a.id, a.op, a.status, a.error, a.error_port)
        assert list(b.outputs) == list(a.outputs), a.id
        assert b.dtypes == a.dtypes and b.dropped == a.dropped, a.id
        for port in a.outputs:
            x, y = a.outputs[port], b.outputs[port]
            xs, ys = (x, y) if isinstance(x, list) else ([x], [y])
            assert len(xs) == len(ys), (a.id, port)
            for p, q in zip(xs, ys):
                assert (q.dtype, q.shape) == (p.dtype, p.shape), (a.id, port)
                assert q.tobytes() == p.tobytes(), (a.id, port)
        if a.status == "ok":
            assert b.seconds > 0


def check_all(page, feeds=None, executors=EXECUTORS, **extra):
    for fail_fast in (False, True):
        for keep in (None, ["*.output*", "s*"]):
            ref = page.run(feeds, fail_fast=fail_fast, keep=keep)
            for name, opts in executors:
                got = page.run(feeds, fail_fast=fail_fast, executor=name, keep=keep, **opts, **extra)
                assert_same(ref, got)


# ---------------------------------------------------------------- agreement

@pytest.mark.parametrize("path", EXAMPLES, ids=os.path.basename)
def test_example_pages_agree(path):
    page = blockgraph.load_page(path)
    check_all(page)


def test_keep_going_and_lists_agree(tmp_path):
    page = load(tmp_path, "lists.yaml", LISTS)
    ref = page.run({"g": np.ones(3, np.float32)})
    st = {r.id: r.status for r in ref}
    assert st == {"v": "ok", "s": "ok", "back": "ok", "u": "ok", "uu": "ok", "bad": "failed",
                  "after_bad": "skipped", "g": "ok", "grad": "failed", "tail": "skipped", "fq": "ok"}
    check_all(page, {"g": np.ones(3, np.float32)})
    check_all(page, {"g": np.ones(2, np.float32)})
    branches = load(tmp_path, "branches.yaml", BRANCHES)
    check_all(branches)
    check_all(branches, {"x": np.array([0.25, 2.0], np.float32)})


def fixture_page(folder, step=1):
    """Every `step`-th FakeQuant fixture case in one page (placeholders fed with the fixture
    inputs), all independent of each other; some fail with TF's errors."""
    man, z = load_set("fake_quant")
    blocks, feeds = {}, {}
    for i, case in enumerate(man["cases"][::step]):
        page, fd = page_for(case, z, bid=f"c{i}")
        blocks.update(page["blocks"])
        feeds.update(fd)
    text = yaml.dump({"format": 1, "page": "fake_quant_cases", "blocks": blocks}, sort_keys=False,
                     Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper))
    page = blockgraph.load_page(str(folder / f"fake_quant_cases_{step}.yaml"), text=text)
    assert page.runnable
    return page, feeds


@pytest.fixture(scope="module")
def fake_quant_page(tmp_path_factory):
    """All 1427 FakeQuant fixture cases: ~5000 blocks, 75 failing."""
    page, feeds = fixture_page(tmp_path_factory.mktemp("fq"))
    assert len(page.scope.blocks) > 4000
    return page, feeds


def snapshot(page, feeds):
    """The bytes of everything a run must not change: feeds, literals, Const values."""
    out = {f"feed:{k}": v.tobytes() for k, v in feeds.items()}
    for b in page.scope.blocks.values():
        for port, v in b.inputs.items():
            for i, item in enumerate(v if isinstance(v, list) else [v]):
                if getattr(item, "array", None) is not None:
                    out[f"{b.id}.{port}.{i}"] = item.array.tobytes()
        if b.op == "Const" and b.valid:
            out[f"{b.id}.value"] = b.attrs["value"].tobytes()
    return out


def test_fake_quant_fixtures_agree(fake_quant_page):
    page, feeds = fake_quant_page
    before = snapshot(page, feeds)
    ref = page.run(feeds)
    assert sum(r.status == "failed" for r in ref) >= 50      # TF's errors are part of the check
    assert sum(r.status == "ok" for r in ref) > 4000
    for name, opts in [("threads", {}), ("threads", {"workers": 3}), ("dask", {})]:
        assert_same(ref, page.run(feeds, executor=name, **opts))
    ref = page.run(feeds, fail_fast=True)
    assert ref.block(next(r.id for r in ref if r.status == "failed")).status == "failed"
    for name in ("threads", "dask"):
        assert_same(ref, page.run(feeds, executor=name, fail_fast=True))
    keep = ["c1*.outputs", "*.backprop_wrt_m*"]
    ref = page.run(feeds, keep=keep)
    for name in ("threads", "dask"):
        assert_same(ref, page.run(feeds, executor=name, keep=keep))
    assert snapshot(page, feeds) == before       # blocks are pure: no input was written to


def test_blocks_are_picklable_module_level_functions():
    """What the parallel executors rely on: a BlockDef pickles by name (a worker process finds
    it in its own registry) and computes with a module-level function."""
    import pickle
    for name in registry.names():
        d = registry.get(name)
        assert pickle.loads(pickle.dumps(d)) is d, name
        fn = d.compute
        assert "<locals>" not in fn.__qualname__, f"{name}: {fn.__qualname__} is not module-level"
        assert getattr(sys.modules[fn.__module__], fn.__qualname__.split(".")[0], None) is not None, name


# ---------------------------------------------------------------- concurrency, fail-fast, callbacks

@pytest.fixture
def sleepy(monkeypatch):
    """A test-only block `TestSleep` (Identity that sleeps `seconds`, releasing the GIL)."""
    registry.load_library()
    monkeypatch.setattr(registry, "REGISTRY", dict(registry.REGISTRY))

    @blockdef.block("TestSleep", inputs=[Input("input", type_attr="T")],
                    attrs=[Attr("seconds", "float", 0.1)], outputs=[Output("output", "T")],
                    shape=same_shape("input"))
    def test_sleep(input, seconds):
        time.sleep(seconds)
        return input


SLEEPY = """format: 1
blocks:
  c: {op: Const, attrs: {value: [1.0, 2.0]}}
  a: {op: TestSleep, inputs: {input: c}, attrs: {seconds: 0.25}}
  b: {op: TestSleep, inputs: {input: c}, attrs: {seconds: 0.25}}
  d: {op: TestSleep, inputs: {input: c}, attrs: {seconds: 0.25}}
  e: {op: TestSleep, inputs: {input: c}, attrs: {seconds: 0.25}}
  join: {op: ConcatV2, inputs: {values: [a, b, d, e], axis: 0}}
"""


@pytest.mark.parametrize("executor", ["threads", "dask"])
def test_independent_blocks_run_concurrently(sleepy, tmp_path, executor):
    page = load(tmp_path, "sleepy.yaml", SLEEPY)
    t0 = time.perf_counter()
    ref = page.run()
    seq = time.perf_counter() - t0
    t0 = time.perf_counter()
    got = page.run(executor=executor, workers=4)
    par = time.perf_counter() - t0
    assert_same(ref, got)
    assert seq >= 1.0 and par < 0.75, (seq, par)
    assert all(got.block(b).seconds >= 0.24 for b in "abde")


class Recorder(Callbacks):
    def __init__(self):
        self.events, self.threads = [], set()

    def on_start(self, block):
        self.events.append(("start", block.id))
        self.threads.add(threading.get_ident())

    def on_block(self, result):
        self.events.append(("block", result.id, result.status))
        self.threads.add(threading.get_ident())

    def on_finish(self, results):
        self.events.append(("finish", len(results)))
        self.threads.add(threading.get_ident())


@pytest.mark.parametrize("executor", ["threads", "dask"])
@pytest.mark.parametrize("fail_fast", [False, True])
def test_callbacks_in_the_calling_thread(tmp_path, executor, fail_fast):
    page = load(tmp_path, "lists.yaml", LISTS)
    feeds = {"g": np.ones(3, np.float32)}
    seq, par = Recorder(), Recorder()
    ref = page.run(feeds, fail_fast=fail_fast, callbacks=seq)
    got = page.run(feeds, fail_fast=fail_fast, callbacks=par, executor=executor)
    assert_same(ref, got)
    assert par.threads == {threading.get_ident()}
    blocks = [e for e in par.events if e[0] == "block"]
    assert sorted(blocks) == sorted(e for e in seq.events if e[0] == "block")
    assert len({e[1] for e in blocks}) == len(blocks) == len(page.scope.blocks)
    assert par.events[-1] == ("finish", len(page.scope.blocks))
    started = {e[1] for e in par.events if e[0] == "start"}
    assert {e[1] for e in seq.events if e[0] == "start"} <= started
    if fail_fast:     # on_block follows the run order, as the sequential executor's does
        assert blocks == [e for e in seq.events if e[0] == "block"]


FAIL_EARLY = """format: 1
blocks:
  x: {op: Placeholder, attrs: {dtype: float32}}
  c: {op: Const, attrs: {value: [1.0, 2.0]}}
  s1: {op: TestSleep, inputs: {input: c}, attrs: {seconds: 0.3}}
  s2: {op: TestSleep, inputs: {input: s1}, attrs: {seconds: 0.3}}
  s3: {op: TestSleep, inputs: {input: s2}, attrs: {seconds: 0.3}}
"""


@pytest.mark.parametrize("executor", ["threads", "dask"])
def test_fail_fast_starts_nothing_after_a_failure(sleepy, tmp_path, executor):
    page = load(tmp_path, "fail_early.yaml", FAIL_EARLY)
    ref = page.run(fail_fast=True)
    assert [r.status for r in ref] == ["failed", "skipped", "skipped", "skipped", "skipped"]
    assert ref.block("s2").error == "not run: an earlier block failed (--fail-fast)"
    rec = Recorder()
    t0 = time.perf_counter()
    got = page.run(fail_fast=True, executor=executor, callbacks=rec)
    assert time.perf_counter() - t0 < 0.55
    assert_same(ref, got)
    assert not {"s2", "s3"} & {e[1] for e in rec.events if e[0] == "start"}


def test_fail_fast_runs_what_comes_before_the_failure(sleepy, tmp_path):
    """A block before the failing one in run order still runs, even if it finishes later."""
    page = load(tmp_path, "p.yaml", """format: 1
blocks:
  c: {op: Const, attrs: {value: [1.0, 2.0]}}
  slow: {op: TestSleep, inputs: {input: c}, attrs: {seconds: 0.3}}
  x: {op: Placeholder, attrs: {dtype: float32}}
  late: {op: Identity, inputs: {input: c}}
""")
    ref = page.run(fail_fast=True)
    assert [r.status for r in ref] == ["ok", "ok", "failed", "skipped"]
    for name in ("threads", "dask"):
        assert_same(ref, page.run(fail_fast=True, executor=name))


# ---------------------------------------------------------------- the dask graph, errors

def test_compiled_graph_addresses_outputs():
    import dask.threaded
    page = blockgraph.load_page(os.path.join(ROOT, "examples", "fake_quant_vars_gradient.yaml"))
    dsk = dask_graph.compile_graph(page.plan())
    assert {"grads", "x", "fq", "fq.backprops_wrt_input", "fq.backprop_wrt_min"} <= set(dsk)
    got = dask.threaded.get(dsk, ["fq.backprop_wrt_min", "fq.backprops_wrt_input", "fq"])
    assert got[0] == np.float32(10) and got[1].tolist() == [0, 2, 3, 0]
    assert got[2].status == "ok"
    page = blockgraph.load_page(os.path.join(ROOT, "examples", "fake_quant_vars_gradient.yaml"))
    bad = dask_graph.compile_graph(page.plan(), {"x": np.zeros(3, np.float32)})
    with pytest.raises(dask_graph.BlockFailed, match="block 'x' has no outputs: it failed"):
        dask.threaded.get(bad, "x.output")


def test_missing_dask_is_explained(monkeypatch, tmp_path, capsys):
    page = blockgraph.load_page(os.path.join(ROOT, "examples", "fake_quant_vars.yaml"))
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(ExecutorError, match=r"pip install 'blockgraph\[dask\]'"):
        page.run(executor="dask")
    rc = main(["run", os.path.join(ROOT, "examples", "fake_quant_vars.yaml"), "--executor", "dask"])
    assert rc != 0 and "pip install 'blockgraph[dask]'" in capsys.readouterr().err
    # the threads executor needs no dask
    assert page.run(executor="threads").ok


def test_bad_workers():
    page = blockgraph.load_page(os.path.join(ROOT, "examples", "fake_quant_vars.yaml"))
    for name in ("threads", "dask"):
        with pytest.raises(ExecutorError, match="workers must be a positive integer"):
            page.run(executor=name, workers=0)


def test_progress_line():
    import io
    p = progress.Progress(4, stream=io.StringIO(), delay=0, enabled=True, interval=0)
    p.on_start(type("B", (), {"id": "fq"})())
    p.on_block(type("R", (), {"id": "x", "status": "failed"})())
    text = p.stream.getvalue()
    assert "1/4 blocks" in text and "1 not ok" in text and "running: fq" in text
    p.on_finish(None)
    assert p.stream.getvalue().endswith("\r\x1b[K")
    quiet = progress.Progress(4, stream=io.StringIO())     # not a terminal: nothing drawn
    quiet.on_block(type("R", (), {"id": "x", "status": "ok"})())
    assert quiet.stream.getvalue() == ""


# ---------------------------------------------------------------- a real distributed cluster


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 worker processes on the loopback interface."""
    distributed = pytest.importorskip("distributed")
    import dask
    with dask.config.set(dask_run.WORKER_CONFIG):
        cl = bounded(distributed.LocalCluster, n_workers=2, threads_per_worker=1, processes=True,
                     host="127.0.0.1", dashboard_address="127.0.0.1:0", seconds=60)
    client = distributed.Client(cl, set_as_default=False, timeout=30)
    try:
        client.wait_for_workers(2, timeout=30)
        yield cl, client
    finally:
        client.close(timeout=20)
        cl.close(timeout=20)


def test_distributed_agrees(cluster, tmp_path):
    cl, client = cluster
    for path in EXAMPLES:
        page = blockgraph.load_page(path)
        bounded(check_all, page, executors=[("dask", {"scheduler": cl.scheduler_address})])
    page = load(tmp_path, "lists.yaml", LISTS)
    bounded(check_all, page, {"g": np.ones(3, np.float32)},
            executors=[("dask", {"scheduler": client})])
    page, feeds = fixture_page(tmp_path, step=6)     # a sixth of the cases: ~900 tasks
    ref = page.run(feeds)
    assert sum(r.status == "failed" for r in ref) >= 5
    assert_same(ref, bounded(page.run, feeds, executor="dask", scheduler=client))
    ref = page.run(feeds, fail_fast=True)
    assert_same(ref, bounded(page.run, feeds, executor="dask", scheduler=client, fail_fast=True))


def test_distributed_cli_run(cluster, capsys):
    cl, _ = cluster
    path = os.path.join(ROOT, "examples", "fake_quant_vars_gradient.yaml")
    assert main(["run", path, "--json"]) == 0
    ref = json.loads(capsys.readouterr().out)
    assert bounded(main, ["run", path, "--json", "--executor", "dask", "--scheduler", cl.scheduler_address]) == 0
    got = json.loads(capsys.readouterr().out)
    for doc in (ref, got):
        for b in doc["blocks"].values():
            b.pop("seconds")
    assert got == ref


def test_cli_pages_share_one_local_cluster(monkeypatch, capsys):
    """`run A B --executor dask --scheduler local` starts one LocalCluster for both pages."""
    pytest.importorskip("distributed")
    started = []
    real = dask_run.local_cluster

    def counting(n_workers, **kwargs):
        started.append(n_workers)
        return real(n_workers, **kwargs)

    monkeypatch.setattr(dask_run, "local_cluster", counting)
    pages = [os.path.join(ROOT, "examples", name) for name in
             ("fake_quant_vars.yaml", "fake_quant_vars_gradient.yaml")]
    assert main(["run", *pages, "--json"]) == 0
    ref = json.loads(capsys.readouterr().out)
    assert bounded(main, ["run", *pages, "--json", "--executor", "dask", "--scheduler", "local",
                          "--workers", "1"], seconds=120) == 0
    got = json.loads(capsys.readouterr().out)
    assert started == [1]
    for doc in (ref, got):
        for b in doc["blocks"].values():
            b.pop("seconds")
    assert got == ref


def test_unreachable_scheduler_is_explained(tmp_path):
    pytest.importorskip("distributed")
    import dask
    page = blockgraph.load_page(os.path.join(ROOT, "examples", "fake_quant_vars.yaml"))
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(ExecutorError, match="cannot reach the dask scheduler at tcp://127.0.0.1:9"):
            bounded(page.run, executor="dask", scheduler="tcp://127.0.0.1:9", seconds=30)
    with pytest.raises(ExecutorError, match="--scheduler wants tcp://HOST:PORT or 'local', "
                       "got 'somehost' .missing port number"):
        bounded(page.run, executor="dask", scheduler="somehost", seconds=10)


def test_distributed_block_results_that_arrived_count_when_their_worker_died(monkeypatch):
    """A block's future that finished and then lost its worker ('lost') is gathered (the
    cluster recomputes it if it must), not reported as a failure of the cluster."""
    import dask.threaded
    import distributed

    page = blockgraph.load_page(os.path.join(ROOT, "examples", "fake_quant_vars_gradient.yaml"))

    class Future:
        def __init__(self, key, value):
            self.key, self.value, self.status = key, value, "lost"

    class Client:
        loop = None

        def get(self, dsk, keys, sync):
            return [Future(k, v) for k, v in zip(keys, dask.threaded.get(dsk, keys))]

        def gather(self, futures):
            return [f.value for f in futures]

        def cancel(self, futures):
            pass

    class AsCompleted:
        def __init__(self, futures, loop=None):
            self.futures = futures

        def batches(self):
            yield list(self.futures)

    monkeypatch.setattr(distributed, "as_completed", AsCompleted)
    from blockgraph.run.plan import RunOptions
    from blockgraph.run.tracker import Tracker
    options = RunOptions()
    tr = Tracker(page.plan(), options)
    dask_run._dask_distributed(page.plan(), {}, options, tr, Client())
    got = tr.finish()
    assert got.ok and got["fq.backprop_wrt_min"] == np.float32(10)


@pytest.fixture
def not_a_scheduler():
    """tcp:// addresses of servers that are not Dask schedulers: one that accepts and never
    replies, one that greets first with a banner, and an HTTP server."""
    import http.server
    import socket
    servers, conns = [], []

    def serve(greeting):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        servers.append(s)

        def loop():
            while True:
                try:
                    c, _ = s.accept()
                except OSError:
                    return
                conns.append(c)
                if greeting:
                    c.sendall(greeting)
        threading.Thread(target=loop, daemon=True).start()
        return f"tcp://127.0.0.1:{s.getsockname()[1]}"

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield {"silent": serve(b""), "banner": serve(b"SSH-2.0-OpenSSH_9.6\r\n"),
           "http": f"tcp://127.0.0.1:{httpd.server_address[1]}"}
    httpd.shutdown()
    for x in servers + conns:
        x.close()


def test_scheduler_that_is_not_one_is_a_one_line_usage_error(not_a_scheduler, monkeypatch, capsys):
    from blockgraph.run import scheduler_probe
    monkeypatch.setattr(scheduler_probe, "TIMEOUT", 1.0)
    page = os.path.join(ROOT, "examples", "fake_quant_vars_gradient.yaml")
    for kind, why in [("silent", "no Dask scheduler answered at {} within 1 s"),
                      ("http", "no Dask scheduler answered at {} within 1 s"),
                      ("banner", "{} does not answer as a Dask scheduler (another kind of server?)")]:
        address = not_a_scheduler[kind]
        rc = bounded(main, ["run", page, "--executor", "dask", "--scheduler", address], seconds=60)
        err = capsys.readouterr().err
        assert rc == 2 and err == f"blockgraph: error: {why.format(address)}\n", (kind, err)
