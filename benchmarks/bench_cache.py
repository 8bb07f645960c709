#!/usr/bin/env python3
"""The cache's cost and gain, against runs without it timed in the same interleaved rounds.

    .venv/bin/python benchmarks/bench_cache.py [--n 10000000] [--blocks 10000] [--repeat 7]

1. A 20-block page: a Placeholder fed 1e7 float32 and a chain of 19 FakeQuantWithMinMaxVars,
   whose last block's `max` literal is changed before each timed run (a new value each time,
   so exactly one block must run). Goal (issue 17): the re-run takes at most 10% of the
   uncached run. Rows: the re-run with the cache kept in memory (a Python session feeding the
   same array: it is hashed again each run), `watch`'s re-run after the edit (its Session:
   the page loaded, the feed file kept from the last read, the run, the rows that changed
   found; the page's load counted against it), the re-run from disk only (a new process: a
   Cache without memory), and a first run with an empty cache (what storing costs).
2. 10,000 cheap blocks (a chain of Identity): a warm cache against no cache. Goal: no slower.
   Rows: the same Page run again (a session), the page loaded anew (watch after an edit: every
   key worked out again), and a warm cache on disk in a new process.

Times are the run alone (`page.run`), the page loaded beforehand for every candidate; the disk
rows include opening the cache. Ratios are against the uncached run of the same round.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import numpy as np  # noqa: E402

import blockgraph  # noqa: E402
from blockgraph.run.cache import Cache  # noqa: E402


def chain_page(max_last: float) -> str:
    lines = ["format: 1", "blocks:",
             "  x: {op: Placeholder, attrs: {dtype: float32, shape: [null]}}"]
    prev = "x"
    for i in range(1, 20):
        hi = max_last if i == 19 else 6.0
        lines.append(f"  q{i}: {{op: FakeQuantWithMinMaxVars, inputs: {{inputs: {prev}, "
                     f"min: -6.0, max: {hi!r}}}}}")
        prev = f"q{i}"
    return "\n".join(lines) + "\n"


def identity_chain(n: int) -> str:
    lines = ["format: 1", "blocks:", "  b0: {op: Const, attrs: {value: [1.0, 2.0, 3.0]}}"]
    lines += [f"  b{i}: {{op: Identity, inputs: {{input: b{i - 1}}}}}" for i in range(1, n)]
    return "\n".join(lines) + "\n"


class Pages:
    """Page files in a folder; `load(text)` writes and loads one."""

    def __init__(self, folder):
        self.folder = folder
        self.k = 0

    def load(self, text):
        self.k += 1
        path = os.path.join(self.folder, f"p{self.k % 4}.yaml")
        with open(path, "w") as fh:
            fh.write(text)
        page = blockgraph.load_page(path)
        assert not page.diagnostics, page.diagnostics[:3]
        return page


def timed(fn):
    """A self-timed candidate: fn() -> seconds of its timed part (settling is fn's own)."""
    def call(settle=0, settle_s=0.0):
        return fn()
    call.self_timed = True
    return call


def fake_quant_case(n, repeat, folder):
    pages = Pages(folder)
    feeds = {"x": np.random.default_rng(0).normal(0, 3, n).astype(np.float32)}
    counter = [0]
    mem = Cache(os.path.join(folder, "mem"))
    disk_dir = os.path.join(folder, "disk")

    def edited():
        counter[0] += 1
        return pages.load(chain_page(6.0 - counter[0] * 1e-3))

    def run(page, **kw):
        t0 = time.perf_counter()
        r = page.run(feeds, **kw)
        dt = time.perf_counter() - t0
        assert r.ok
        return dt, r

    def uncached():
        return run(edited())[0]

    def memory():
        dt, r = run(edited(), cache=mem)
        assert sum(b.status == "ok" for b in r) == 1, [b.status for b in r]
        return dt

    def disk():
        page = edited()
        t0 = time.perf_counter()
        with Cache(disk_dir, memory_bytes=0) as c:
            r = page.run(feeds, cache=c)
        assert r.ok
        return time.perf_counter() - t0

    def cold():
        page = edited()
        d = tempfile.mkdtemp(dir=folder)
        t0 = time.perf_counter()
        with Cache(d) as c:
            assert page.run(feeds, cache=c).ok
        dt = time.perf_counter() - t0
        shutil.rmtree(d)
        return dt

    watch_page = os.path.join(folder, "watch.yaml")
    feed_file = os.path.join(folder, "x.npy")
    np.save(feed_file, feeds["x"])
    session = watch_session(watch_page, feed_file, mem)

    def watched():
        counter[0] += 1
        with open(watch_page, "w") as fh:
            fh.write(chain_page(6.0 - counter[0] * 1e-3))
        t0 = time.perf_counter()
        (o,) = session.refresh({watch_page})
        dt = time.perf_counter() - t0
        assert not o.problems and sum(b.status == "ok" for b in o.results) == 1, o.problems
        return dt

    run(edited(), cache=mem)                     # warm: everything but the last literal
    watched()
    with Cache(disk_dir, memory_bytes=0) as c:
        run(edited(), cache=c)
    t = common.interleaved({"uncached": timed(uncached), "memory": timed(memory),
                            "watch": timed(watched), "disk": timed(disk), "cold": timed(cold)},
                           repeat=repeat, warmup=1)
    mem.close()
    base = t["uncached"].median
    rows = [{"case": f"1e7 FakeQuant chain, last literal edited: {k}", "s": v.median,
             "ratio": v.median / base} for k, v in t.items()]
    return rows, {k: v.as_dict() for k, v in t.items()}


def watch_session(page_path, feed_file, cache):
    """The Session `blockgraph watch PAGE --feed x=FILE --cache` re-runs on each edit."""
    from blockgraph.cli.authoring import LoopFeeds
    from blockgraph.view.session import Session
    with open(page_path, "w") as fh:
        fh.write(chain_page(6.0))
    args = argparse.Namespace(feeds=None, feed=[f"x={feed_file}"], max_bytes=-1,
                              cast_feeds=False)
    return Session([page_path], cache, feeds=LoopFeeds(args, cache, many=False),
                   feed_files=[feed_file])


def cheap_case(blocks, repeat, folder):
    pages = Pages(folder)
    text = identity_chain(blocks)
    same = pages.load(text)
    mem = Cache(os.path.join(folder, "cheap-mem"))
    disk_dir = os.path.join(folder, "cheap-disk")
    assert same.run(cache=mem).ok
    with Cache(disk_dir, memory_bytes=0) as c:
        assert same.run(cache=c).ok
    fresh = {}

    def prepare():          # a page loaded anew for the next 'reloaded' call (not timed)
        fresh["page"] = pages.load(text)

    def run(page, **kw):
        t0 = time.perf_counter()
        r = page.run(**kw)
        dt = time.perf_counter() - t0
        assert r.ok
        return dt, r

    def uncached():
        return run(same)[0]

    def session():
        dt, r = run(same, cache=mem)
        assert all(b.status == "cached" for b in r)
        return dt

    def reloaded():
        prepare()
        return run(fresh["page"], cache=mem)[0]

    def disk():
        t0 = time.perf_counter()
        with Cache(disk_dir, memory_bytes=0) as c:
            r = same.run(cache=c)
        assert all(b.status == "cached" for b in r)
        return time.perf_counter() - t0

    t = common.interleaved({"uncached": timed(uncached), "same page": timed(session),
                            "page loaded anew": timed(reloaded), "disk, new process": timed(disk)},
                           repeat=repeat, warmup=1)
    mem.close()
    base = t["uncached"].median
    rows = [{"case": f"{blocks} Identity blocks, warm cache: {k}", "s": v.median,
             "ratio": v.median / base} for k, v in t.items()]
    return rows, {k: v.as_dict() for k, v in t.items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--blocks", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=7)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        rows1, raw1 = fake_quant_case(a.n, a.repeat, folder)
        rows2, raw2 = cheap_case(a.blocks, a.repeat, folder)
    cols = [("case", "case", "s"), ("s", "median ms", common.fmt_ms),
            ("ratio", "vs uncached", common.fmt_pct)]
    print(f"Cache (median of {a.repeat} interleaved rounds; the run alone, page loaded)")
    print(common.table(rows1 + rows2, cols))
    path = common.write_json("cache", {"machine": common.machine(), "rows": rows1 + rows2,
                                       "timings": {"fake_quant": raw1, "cheap": raw2}})
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
