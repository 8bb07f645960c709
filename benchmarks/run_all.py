#!/usr/bin/env python3
"""Run every benchmark: each `benchmarks/bench_*.py`, in its own process (so thread pools,
JIT state and imports of one do not colour the next), one after the other.

    .venv/bin/python benchmarks/run_all.py [--only NAME[,NAME]] [--list] [-- ARGS...]

A benchmark script prints its tables on stdout and writes benchmarks/results/<name>.json
(see benchmarks/common.py). ARGS after `--` are passed to every script. This command prints
each script's output under a heading and writes benchmarks/results/run_all.json (the scripts
run, their exit codes, seconds and result files). The exit code is non-zero only when a
benchmark script failed; timings never fail it.
"""
from __future__ import annotations

import argparse
import glob
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def scripts() -> list:
    return sorted(glob.glob(os.path.join(HERE, "bench_*.py")))


def name_of(path: str) -> str:
    return os.path.basename(path)[len("bench_"):-len(".py")]


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma separated benchmark names (bench_NAME.py)")
    ap.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = ap.parse_args(argv)
    found = scripts()
    if args.list:
        print("\n".join(name_of(p) for p in found))
        return 0
    if args.only:
        want = {s.strip() for s in args.only.split(",")}
        unknown = want - {name_of(p) for p in found}
        if unknown:
            print(f"unknown benchmark(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        found = [p for p in found if name_of(p) in want]
    summary = {"machine": common.machine(), "benchmarks": []}
    status = 0
    for path in found:
        name = name_of(path)
        print(f"== {name} ({os.path.relpath(path, common.ROOT)})", flush=True)
        before = set(glob.glob(os.path.join(common.RESULTS, "*.json")))
        mtimes = {p: os.path.getmtime(p) for p in before}
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, path, *extra], cwd=common.ROOT)
        seconds = time.perf_counter() - t0
        written = sorted(os.path.relpath(p, common.ROOT)
                         for p in glob.glob(os.path.join(common.RESULTS, "*.json"))
                         if p not in mtimes or os.path.getmtime(p) > mtimes[p])
        summary["benchmarks"].append({"name": name, "script": os.path.relpath(path, common.ROOT),
                                      "returncode": r.returncode, "seconds": seconds,
                                      "results": written})
        if r.returncode != 0:
            print(f"!! {name} exited with {r.returncode}", flush=True)
            status = 1
        print(flush=True)
    path = common.write_json("run_all", summary)
    print(f"wrote {os.path.relpath(path, common.ROOT)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
