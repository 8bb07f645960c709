"""`blockgraph watch PAGE... [run options]`: run the pages, then again each time a page, one of
its Const files or a feed file changes, served from the cache, printing only what changed: the
rows whose values or outcome changed, blocks gone, and new problems in the located form. An
invalid page (half typed) shows its problems and the watch goes on. Ctrl-C ends it (exit 130).
"""
from __future__ import annotations

import os
import sys
import time

from . import report
from .session import Session
from .watcher import changes, snapshot


def main(args, cache, feeds, feed_files, out=None, err=None) -> int:
    """Watch until Ctrl-C (KeyboardInterrupt, exit 130 in the CLI). feeds(page) reads the
    feeds of a page; feed_files are the files it reads them from."""
    out = out or sys.stdout
    err = err or sys.stderr
    session = Session(args.pages, cache, run=run_options(args),
                      load={"allow_outside": args.allow_outside, "max_bytes": args.max_bytes},
                      feeds=feeds, feed_files=feed_files,
                      params=getattr(args, "param_values", None))
    many = len(args.pages) > 1
    t0 = time.perf_counter()
    since = snapshot(session.files())
    for o in session.refresh():
        _print(o, out, err, first=True, many=many, seconds=time.perf_counter() - t0)
    since.update({k: v for k, v in snapshot(session.files()).items() if k not in since})
    n = len(session.files())
    print(f"watching {n} file{'s' if n != 1 else ''}; Ctrl-C to stop", file=out, flush=True)
    for changed in changes(session.files, since=since):
        names = ", ".join(sorted(os.path.relpath(p) for p in changed))
        print(f"\n[{time.strftime('%H:%M:%S')}] changed: {names}", file=out, flush=True)
        t0 = time.perf_counter()
        for o in session.refresh(changed):
            _print(o, out, err, first=False, many=many, seconds=time.perf_counter() - t0)
        out.flush()
        err.flush()
    return 0


def run_options(args) -> dict:
    """The `Page.run` keyword arguments of a command's run options."""
    return {"fail_fast": args.fail_fast, "keep": args.keep or None, "cycles": args.cycles,
            "trace": args.trace or None, "only": args.only or None, "executor": args.executor,
            "workers": args.workers, "scheduler": args.scheduler}


def _print(o, out, err, *, first: bool, many: bool, seconds: float) -> None:
    for line in o.problems if first else o.new_problems:
        print(line, file=err)
    if o.problems and not first and not o.new_problems:
        print(f"{o.path}: {len(o.problems)} problem(s), as before", file=err)
    err.flush()
    if o.results is None:
        return
    prefix = f"{o.page.name}/" if many else ""
    if first:
        print(report.results_table(o.results, prefix), file=out)
    elif o.changed or o.removed:
        print(report.results_table(_Only(o.results, o.changed), prefix), file=out)
        if o.removed:
            print("gone: " + ", ".join(prefix + b for b in o.removed), file=out)
    else:
        print(f"{prefix or o.page.name + ': '}no change", file=out)
    print(report.cache_summary(o.results) + f"; {seconds * 1e3:.1f} ms", file=out)


class _Only:
    """The results of the blocks with a changed row, rows limited to those (for the table)."""

    def __init__(self, results, changed):
        self._results = results
        self._rows = changed

    def __iter__(self):
        from ..core.results import BlockResult
        for r in self._results:
            keep = {s for b, s in self._rows if b == r.id}
            if not keep:
                continue
            if r.ok and r.outputs and "-" not in keep:
                part = BlockResult(r.id, r.op, r.status, seconds=r.seconds, saved=r.saved)
                for port, v in r.outputs.items():
                    if port in keep or any(s.split(".")[0] == port for s in keep):
                        part.outputs[port], part.dtypes[port] = v, r.dtypes[port]
                yield part
            else:
                yield r
