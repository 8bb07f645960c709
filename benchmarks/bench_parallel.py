"""Benchmark of the parallel executors against the sequential reference, measured in one process
run so the ratios compare like with like.

1. branches: a page with 4 heavy independent branches over one 1e7-element float32 input, each
   FakeQuantWithMinMaxVars then its gradient (a quantization-aware training step), run with
   --executor sequential / threads / dask (threaded scheduler), `--workers 2`.
2. sweep: 64 runs of a quantization study (grid of num_bits x max over a 2M-element tensor built
   in the page), sequentially and on a distributed LocalCluster of 2 worker processes (already
   running: as `--scheduler tcp://...`; and `--scheduler local`, cluster start included), plus
   threads and dask threads for reference.

Every executor's results are checked equal to the sequential ones. Each timing is the best of
--repeats (interleaved, so a busy machine hurts every executor alike); the median is kept in the
JSON too. Prints a table and writes benchmarks/results/bench_parallel.json.

    python benchmarks/bench_parallel.py [--size 10000000] [--repeats 5] [--sweep-repeats 3] [--quick]

The FakeQuant kernels are themselves multi-threaded (numba); left so, they already use both cores
and no executor can add to that. This benchmark measures what the executors add, so it runs the
kernels on one thread each (BLOCKGRAPH_THREADS=1, unless you set it), as blocks that are not
internally parallel run.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("BLOCKGRAPH_THREADS", "1")   # see the docstring: measure the executors

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import blockgraph  # noqa: E402
from blockgraph.run import dask_run  # noqa: E402
from blockgraph.run.sweep import sweep  # noqa: E402

BRANCHES = """format: 1
page: four_branches
description: 4 independent quantize-and-backprop branches over one large input
blocks:
  x: {op: Placeholder, attrs: {dtype: float32, shape: [null]}}
  q8: {op: FakeQuantWithMinMaxVars, inputs: {inputs: x, min: -1.0, max: 1.0}, attrs: {num_bits: 8}}
  g8: {op: FakeQuantWithMinMaxVarsGradient, inputs: {gradients: q8, inputs: x, min: -1.0, max: 1.0}, attrs: {num_bits: 8}}
  q4: {op: FakeQuantWithMinMaxVars, inputs: {inputs: x, min: -2.0, max: 2.0}, attrs: {num_bits: 4}}
  g4: {op: FakeQuantWithMinMaxVarsGradient, inputs: {gradients: q4, inputs: x, min: -2.0, max: 2.0}, attrs: {num_bits: 4}}
  q6: {op: FakeQuantWithMinMaxVars, inputs: {inputs: x, min: -3.0, max: 3.0}, attrs: {num_bits: 6, narrow_range: true}}
  g6: {op: FakeQuantWithMinMaxVarsGradient, inputs: {gradients: q6, inputs: x, min: -3.0, max: 3.0}, attrs: {num_bits: 6, narrow_range: true}}
  q2: {op: FakeQuantWithMinMaxVars, inputs: {inputs: x, min: -4.0, max: 4.0}, attrs: {num_bits: 2}}
  g2: {op: FakeQuantWithMinMaxVarsGradient, inputs: {gradients: q2, inputs: x, min: -4.0, max: 4.0}, attrs: {num_bits: 2}}
"""

# 64 random values tiled to 2^24 by ConcatV2 (x8 six times; runs heavy enough that a cluster's
# per-task cost does not dominate); FakeQuant forward and its
# gradients; only the gradient sums (and the quantized first block) are kept per run
STUDY = """format: 1
page: quant_study
blocks:
  seed: {op: Const, attrs: {file: seed.npy}}
  t1: {op: ConcatV2, inputs: {values: [seed, seed, seed, seed, seed, seed, seed, seed], axis: 0}}
  t2: {op: ConcatV2, inputs: {values: [t1, t1, t1, t1, t1, t1, t1, t1], axis: 0}}
  t3: {op: ConcatV2, inputs: {values: [t2, t2, t2, t2, t2, t2, t2, t2], axis: 0}}
  t4: {op: ConcatV2, inputs: {values: [t3, t3, t3, t3, t3, t3, t3, t3], axis: 0}}
  t5: {op: ConcatV2, inputs: {values: [t4, t4, t4, t4, t4, t4, t4, t4], axis: 0}}
  x: {op: ConcatV2, inputs: {values: [t5, t5, t5, t5, t5, t5, t5, t5], axis: 0}}
  fq: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: x}, attrs: {min: -1.0, max: 1.0, num_bits: 8}}
  grad: {op: FakeQuantWithMinMaxVarsGradient, inputs: {gradients: fq, inputs: x, min: -1.0, max: 1.0}}
  vars: {op: FakeQuantWithMinMaxVars, inputs: {inputs: x, min: -0.5, max: 2.0}}
  grad2: {op: FakeQuantWithMinMaxVarsGradient, inputs: {gradients: vars, inputs: fq, min: -0.5, max: 2.0}}
"""
STUDY_GRID = ["fq.num_bits=2,3,4,5,6,7,8,16", "fq.max=0.5,1,1.5,2,3,4,6,8"]
STUDY_KEEP = ["grad*.backprop_wrt_m*", "seed.*"]


def timed(fn):
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def same_results(a, b):
    for x, y in zip(a, b):
        assert (x.id, x.status, x.error) == (y.id, y.status, y.error), (x.id, y.status)
        for port in x.outputs:
            assert x.outputs[port].tobytes() == y.outputs[port].tobytes(), (x.id, port)


def same_sweep(ref: str, got: str, n: int):
    for i in range(n):
        with np.load(os.path.join(ref, f"run-{i:04d}.npz")) as a, np.load(os.path.join(got, f"run-{i:04d}.npz")) as b:
            assert sorted(a.files) == sorted(b.files)
            for k in a.files:
                assert a[k].tobytes() == b[k].tobytes(), (i, k)


def bench_branches(size: int, repeats: int, workers: int) -> dict:
    page = blockgraph.load_page(os.path.join(HERE, "four_branches.yaml"), text=BRANCHES)
    x = np.random.default_rng(0).standard_normal(size).astype(np.float32) * 3
    feeds = {"x": x}
    runs = {"sequential": {}, "threads": {"workers": workers}, "dask": {"workers": workers}}
    ref = page.run(feeds)
    assert ref.ok
    times: dict[str, list[float]] = {k: [] for k in runs}
    for name, opts in runs.items():          # warm-up: pools, first-touch of the big arrays
        same_results(ref, page.run(feeds, executor=name, **opts))
    for _ in range(repeats):
        for name, opts in runs.items():
            dt, res = timed(lambda: page.run(feeds, executor=name, **opts))
            same_results(ref, res)
            times[name].append(dt)
    block_s = sum(r.seconds for r in ref if r.id != "x")
    return {"size": size, "workers": workers, "blocks_seconds_sequential": block_s, "times": times}


def bench_sweep(repeats: int, workers: int, folder: str) -> dict:
    np.save(os.path.join(folder, "seed.npy"), np.random.default_rng(1).standard_normal(64).astype(np.float32) * 2)
    path = os.path.join(folder, "quant_study.yaml")
    with open(path, "w") as fh:
        fh.write(STUDY)
    page = blockgraph.load_page(path)
    assert not page.diagnostics, page.diagnostics
    cluster = dask_run.local_cluster(workers)
    from distributed import Client
    client = Client(cluster, set_as_default=False)
    client.wait_for_workers(workers, timeout=60)
    address = cluster.scheduler_address
    n_runs = 64
    kinds = {
        "sequential": dict(executor="sequential"),
        "threads": dict(executor="threads", workers=workers),
        "dask": dict(executor="dask", workers=workers),
        "dask cluster": dict(executor="dask", scheduler=address),
        "dask local (+start)": dict(executor="dask", scheduler="local", workers=workers),
    }
    times: dict[str, list[float]] = {k: [] for k in kinds}
    ref = os.path.join(folder, "ref")
    try:
        for rep in range(repeats):
            for name, opts in kinds.items():
                if name == "dask local (+start)" and rep:
                    continue       # starting a cluster once says enough
                out = os.path.join(folder, name.split()[0] + f"-{rep}")
                dt, index = timed(lambda: sweep(page, grid=STUDY_GRID, out=out, keep=STUDY_KEEP,
                                                progress=False, **opts))
                assert index["ok"] and len(index["runs"]) == n_runs
                if name == "sequential" and not os.path.isdir(ref):
                    shutil.copytree(out, ref)
                same_sweep(ref, out, n_runs)
                times[name].append(dt)
                shutil.rmtree(out)
    finally:
        client.close()
        cluster.close()
    return {"runs": n_runs, "workers": workers, "times": times}


def table(title, times, base="sequential") -> list[str]:
    b = min(times[base])
    lines = [title, f"  {'executor':<22} {'best s':>8} {'median s':>9} {'speed-up':>9}"]
    for name, ts in times.items():
        lines.append(f"  {name:<22} {min(ts):8.3f} {statistics.median(ts):9.3f} {b / min(ts):8.2f}x")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=10_000_000, help="elements per branch input")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--sweep-repeats", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "bench_parallel.json"))
    args = ap.parse_args(argv)
    if args.quick:
        args.size, args.repeats, args.sweep_repeats = 1_000_000, 2, 1
    t0 = time.perf_counter()
    load_before = os.getloadavg()
    branches = bench_branches(args.size, args.repeats, args.workers)
    folder = tempfile.mkdtemp(prefix="bench-parallel-")
    try:
        sw = bench_sweep(args.sweep_repeats, args.workers, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    import dask
    import distributed
    doc = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version(), "numpy": np.__version__,
                    "dask": dask.__version__, "distributed": distributed.__version__,
                    "loadavg_before": load_before, "loadavg_after": os.getloadavg()},
        "branches": branches, "sweep": sw,
        "speedup": {
            "branches": {k: min(branches["times"]["sequential"]) / min(v) for k, v in branches["times"].items()},
            "sweep": {k: min(sw["times"]["sequential"]) / min(v) for k, v in sw["times"].items()},
        },
        "seconds": time.perf_counter() - t0,
    }
    lines = table(f"4 independent FakeQuant + gradient branches on {args.size:g} float32 "
                  f"({args.workers} workers, best of {args.repeats})", branches["times"])
    lines += table(f"sweep of {sw['runs']} runs ({args.workers} workers, best of {args.sweep_repeats})",
                   sw["times"])
    lines.append(f"machine: {os.cpu_count()} cpus, kernel threads BLOCKGRAPH_THREADS={os.environ['BLOCKGRAPH_THREADS']}, load average {load_before[0]:.2f} before, "
                 f"{os.getloadavg()[0]:.2f} after; {doc['seconds']:.0f} s in all")
    print("\n".join(lines))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
