#!/usr/bin/env python3
"""Executor overhead and start-up: pages of 10,000 cheap blocks (a long chain; a wide fan-out and
fan-in), loaded, checked and run, beside dask's threaded scheduler running the same graph of the
same compute functions, and a plain Python loop calling them (the floor); then the wall time of
`blockgraph --help` and of `blockgraph run` on a small example page.

    .venv/bin/python benchmarks/bench_executor.py [--blocks N] [--repeat R]

Goals (issue 6): load+check+run of each 10k page under 1 s; its run under half of dask's;
`--help` under 0.2 s; a small run under 0.5 s.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import blockgraph  # noqa: E402
from blockgraph.core import registry, source  # noqa: E402


def chain_page(n: int) -> str:
    lines = ["format: 1", "blocks:", "  b0: {op: Const, attrs: {value: [1.0, 2.0, 3.0]}}"]
    lines += [f"  b{i}: {{op: Identity, inputs: {{input: b{i - 1}}}}}" for i in range(1, n)]
    return "\n".join(lines) + "\n"


def fan_page(n: int) -> str:
    lines = ["format: 1", "blocks:", "  src: {op: Const, attrs: {value: [1.0, 2.0, 3.0]}}"]
    lines += [f"  f{i}: {{op: Identity, inputs: {{input: src}}}}" for i in range(n - 2)]
    lines.append("  sink: {op: IdentityN, inputs: {input: [" + ", ".join(f"f{i}" for i in range(n - 2)) + "]}}")
    return "\n".join(lines) + "\n"


def dask_graph(page):
    """The page as a dask graph of the blocks' own compute functions (no checks, no results)."""
    g = {}
    for bid in page.scope.run_order():
        b = page.scope.blocks[bid]
        if b.op == "Const":
            g[bid] = b.attrs["value"]
            continue
        refs = [item for v in b.inputs.values() for item in (v if isinstance(v, list) else [v])]
        args = [r.block for r in refs]
        fn = b.defn.compute
        if b.defn.inputs[0].list or b.defn.inputs[0].type_list_attr:
            g[bid] = (lambda *xs, fn=fn: fn(list(xs)), *args)
        else:
            g[bid] = (fn, *args)
    return g


def plain_loop(page):
    """The floor: the same compute functions called in order from a dict, nothing else."""
    order = page.scope.run_order()
    blocks = page.scope.blocks
    steps = []
    for bid in order:
        b = blocks[bid]
        refs = [item.block for v in b.inputs.values() for item in (v if isinstance(v, list) else [v])]
        steps.append((bid, b, refs))

    def go():
        vals = {}
        for bid, b, refs in steps:
            if b.op == "Const":
                vals[bid] = b.attrs["value"]
            elif b.defn.inputs[0].list or b.defn.inputs[0].type_list_attr:
                vals[bid] = b.defn.compute([vals[r] for r in refs])
            else:
                vals[bid] = b.defn.compute(vals[refs[0]])
        return vals
    return go


def page_case(name, text, repeat, folder):
    path = os.path.join(folder, f"{name}.yaml")
    with open(path, "w") as fh:
        fh.write(text)
    page = blockgraph.load_page(path)
    assert not page.diagnostics, page.diagnostics[:3]
    state = {}

    def load():
        state["page"] = blockgraph.load_page(path)

    def run():
        r = page.run()
        assert r.ok

    def total():
        p = blockgraph.load_page(path)
        assert p.run().ok
    cands = {"load+check": load, "run": run, "load+check+run": total, "plain loop": plain_loop(page)}
    try:
        from dask.threaded import get
        g = dask_graph(page)
        keys = list(g)
        cands["dask threaded"] = lambda: get(g, keys)
        dask_note = None
    except ImportError:
        dask_note = "dask not installed: pip install 'blockgraph[dask]'"
    t = common.interleaved(cands, repeat=repeat, warmup=1)
    row = {"case": f"{name} ({len(page.scope.blocks)} blocks)"}
    row.update({k: v.median for k, v in t.items()})
    if "dask threaded" in t:
        row["run/dask"] = t["run"].median / t["dask threaded"].median
    row["run/plain"] = t["run"].median / t["plain loop"].median
    return row, {k: v.as_dict() for k, v in t.items()}, dask_note


def wall(cmd, repeat):
    """Median wall time of a command run in a new process."""
    out = []
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        out.append(time.perf_counter() - t0)
    return sorted(out[1:])[len(out[1:]) // 2]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--blocks", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args(argv)
    registry.load_library()
    rows, raw, notes = [], {}, []
    with tempfile.TemporaryDirectory() as folder:
        for name, text in (("chain", chain_page(a.blocks)), ("fan-out/fan-in", fan_page(a.blocks))):
            row, timings, note = page_case(name.replace("/", "_"), text, a.repeat, folder)
            row["case"] = row["case"].replace("_", "/")
            rows.append(row)
            raw[name] = timings
            if note and note not in notes:
                notes.append(note)
    print(f"Executor overhead (median of {a.repeat}; libyaml: {source._Base.__name__ == 'CSafeLoader'})")
    print(common.table(rows, [("case", "page", "s"), ("load+check", "load+check s", ".3f"),
                              ("run", "run s", ".3f"), ("load+check+run", "total s", ".3f"),
                              ("dask threaded", "dask s", ".3f"), ("plain loop", "plain s", ".3f"),
                              ("run/dask", "run/dask", common.fmt_ratio),
                              ("run/plain", "run/plain", common.fmt_ratio)]))
    for n in notes:
        print("note:", n)
    bg = os.path.join(os.path.dirname(sys.executable), "blockgraph")
    bg = [bg] if os.path.exists(bg) else [sys.executable, "-m", "blockgraph.cli"]
    example = os.path.join(common.ROOT, "examples", "fake_quant_vars_gradient.yaml")
    start = {"blockgraph --help": wall(bg + ["--help"], a.repeat),
             "blockgraph run (small page)": wall(bg + ["run", example], a.repeat),
             "python -c pass": wall([sys.executable, "-c", "pass"], a.repeat)}
    print("\nStart-up (wall time, median)")
    print(common.table([{"command": k, "s": v} for k, v in start.items()],
                       [("command", "command", "s"), ("s", "seconds", ".3f")]))
    path = common.write_json("executor", {"machine": common.machine(), "pages": rows, "timings": raw,
                                          "startup_s": start, "notes": notes})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
