"""The sequential executor, the reference: blocks in run order, keep going past failures.

The state is plain data: `results` (id -> BlockResult, whose outputs hold the arrays). A block
runs when all its upstream blocks are ok; a block whose upstream failed or was skipped is
`skipped`; an exception inside a block becomes a `failed` result in the seam. Every other
executor gives the same Results.
"""
from __future__ import annotations

from ..core.gcpause import paused_gc
from ..core.results import BlockResult, Results
from . import cancel
from .executors import Executor
from .plan import Callbacks, Plan, RunOptions


class Sequential(Executor):
    name = "sequential"

    def run(self, plan: Plan, feeds, options: RunOptions) -> Results:
        return run(plan, feeds, options)

    def map(self, fn, jobs):
        for i, args in jobs:
            cancel.check()
            yield i, fn(*args)


def run(plan: Plan, feeds=None, options: RunOptions | None = None) -> Results:
    """Run every block of `plan` in order; return Results holding every block's outcome."""
    feeds = feeds or {}
    options = options or RunOptions()
    results: dict[str, BlockResult] = {}
    with paused_gc():
        _run_in_order(plan, feeds, options, results)
    out = Results(plan.name, results)
    options.callbacks.on_finish(out)
    return out


def _run_in_order(plan, feeds, options, results):
    failed = False
    all_ok = True      # while every block so far is ok, no upstream check is needed
    blocks = plan.scope.blocks
    cb = options.callbacks
    on_start = None if type(cb).on_start is Callbacks.on_start else cb.on_start
    on_block = None if type(cb).on_block is Callbacks.on_block else cb.on_block
    execute = options.seam.call
    release = plan.release_after() if options.keep else None
    stop = cancel.STOP
    task = plan.task
    for bid in plan.order:
        b = blocks[bid]
        r = None if all_ok and b.valid else plan.outcome(bid, results, stopped=failed and options.fail_fast)
        if r is None:
            if on_start is not None:
                on_start(b)
            r = execute(task(bid, results, feeds, options))
        results[bid] = r
        if not r.ok:
            all_ok = False
            failed = failed or r.status == "failed"
        if on_block is not None:
            on_block(r)
        if stop.is_set():
            raise KeyboardInterrupt
        if release is not None:
            for done in release.get(bid, ()):
                results[done].drop_outputs(options.keep)
