"""Parallel executors over a thread pool (`run_threads`), and the bookkeeping every parallel
executor shares (`_Tracker`: results arriving in any order turned into the sequential outcome).
The Dask executor is `dask_run.run_dask`; its graph is built by `dask_graph.compile_graph`.

Every parallel executor gives exactly the Results of the sequential reference (`executor.run`): the
same statuses, errors, outputs and run order, keep-going and --fail-fast included. They reuse its
pieces: `static_outcome` decides what a block gets without running, `gather` picks its input
arrays and `execute` computes it (every exception becomes a failed result there). Blocks are pure
functions of their inputs, so the order in which independent blocks finish changes nothing but
the timing.

--fail-fast is the sequential rule too: a block whose position in the run order comes after the
first failing block is skipped (an invalid one stays failed with its own error). Blocks after a
failure that have not started are never started; blocks before it in the run order still run, and
a block that happened to finish although an earlier block failed is reported as skipped.

Callbacks (`on_start`, `on_block`, `on_finish`) are called from the calling thread. `on_block`
gets each block's final result once (in completion order; with fail_fast in run order).
This module imports no Dask.
"""
from __future__ import annotations

import heapq
import os
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from . import executor
from .executor import Callbacks, execute, gather, static_outcome
from ..core.errors import BlockgraphError
from ..core.results import BlockResult, Results

DASK_EXTRA = "pip install 'blockgraph[dask]'"


class ExecutorError(BlockgraphError, RuntimeError):
    """An executor that cannot run here: dask missing, a scheduler that cannot be reached, a bad
    option. Its message is one line meant for the user."""


# ---------------------------------------------------------------- shared bookkeeping

def links(scope) -> tuple[dict, dict]:
    """({block: blocks it reads}, {block: blocks reading it}) of a Scope's dataflow graph."""
    succs = {b: set(c) for b, c in scope.consumers().items()}
    preds = {b: set() for b in succs}
    for u, vs in succs.items():
        for v in vs:
            preds[v].add(u)
    return preds, succs


class _Tracker:
    """Collects block results arriving in any order and turns them into the sequential
    executor's outcome; calls on_block once per block with its final result."""

    def __init__(self, scope, fail_fast: bool, callbacks: Callbacks, keep):
        self.scope = scope
        self.order = scope.run_order()
        self.pos = {bid: i for i, bid in enumerate(self.order)}
        self.fail_fast = fail_fast
        self.cb = callbacks
        self.keep = list(keep) if keep else None
        self.raw: dict[str, BlockResult] = {}
        self.final: dict[str, BlockResult] = {}
        self.emitted = 0                    # fail_fast: results final up to this run position
        self.prefix_failed = False          # fail_fast: a failure among the emitted prefix
        # fail_fast: no block at a later position needs to start (invalid blocks fail statically)
        self.stop = min((self.pos[b] for b in self.order if not scope.blocks[b].valid),
                        default=len(self.order)) if fail_fast else len(self.order)
        self.preds, self.succs = links(scope)
        self.consumers = {bid: set(c) for bid, c in self.succs.items()}

    def may_start(self, bid: str) -> bool:
        return self.pos[bid] <= self.stop

    def add(self, r: BlockResult):
        """A block's result as computed (or its static outcome)."""
        self.raw[r.id] = r
        if r.status == "failed" and self.fail_fast:
            self.stop = min(self.stop, self.pos[r.id])
        if not self.fail_fast:
            self._settle(r)
        else:
            self._advance()
        if self.keep:
            for up in self.preds[r.id]:
                self.consumers[up].discard(r.id)
                self._maybe_drop(up)

    def _settle(self, r: BlockResult):
        self.final[r.id] = r
        self.cb.on_block(r)
        if self.keep:
            self._maybe_drop(r.id)

    def _maybe_drop(self, bid: str):
        """--keep: free the outputs of `bid` once every consumer has finished and on_block has
        seen it (as the sequential executor does after the last consumer)."""
        if bid in self.final and not self.consumers[bid]:
            for r in (self.final[bid], self.raw.get(bid)):
                if r is not None:
                    r.drop_outputs(self.keep)

    def _advance(self, finishing: bool = False):
        """fail_fast: emit the results whose sequential outcome is known (a run-order prefix)."""
        while self.emitted < len(self.order):
            bid = self.order[self.emitted]
            b = self.scope.blocks[bid]
            if self.prefix_failed:
                r = static_outcome(b, self.final, stopped=True)
            elif bid in self.raw:
                r = self.raw[bid]
            elif finishing:
                raise RuntimeError(f"block '{bid}' was never run")   # a bug, never silent
            else:
                return
            self.prefix_failed = self.prefix_failed or r.status == "failed"
            self.emitted += 1
            self._settle(r)

    def finish(self) -> Results:
        if self.fail_fast:
            self._advance(finishing=True)
        missing = [b for b in self.order if b not in self.final]
        if missing:
            raise RuntimeError(f"blocks never run: {', '.join(missing)}")
        if self.keep:
            for r in self.final.values():
                r.drop_outputs(self.keep)
        out = Results(self.scope.name, {bid: self.final[bid] for bid in self.order})
        self.cb.on_finish(out)
        return out


def _tick(cb):
    t = getattr(cb, "tick", None)
    if t is not None:
        t()


def _workers(workers) -> int:
    if workers is None:
        return os.cpu_count() or 1
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ExecutorError(f"workers must be a positive integer, got {workers!r}")
    return workers


# ---------------------------------------------------------------- threads

def run_threads(scope, feeds=None, *, fail_fast: bool = False, callbacks: Callbacks | None = None,
                max_bytes: int | None = None, workers: int | None = None, keep=None) -> Results:
    """Run `scope` with independent blocks on a pool of `workers` threads (default: one per
    core); the same Results as `executor.run`. numpy releases the GIL in its kernels."""
    n = _workers(workers)
    if scope.order is None:      # a cycle: nothing can run; the reference says how it fails
        return executor.run(scope, feeds, fail_fast=fail_fast, callbacks=callbacks,
                            max_bytes=max_bytes, keep=keep)
    feeds = feeds or {}
    cb = callbacks or Callbacks()
    tr = _Tracker(scope, fail_fast, cb, keep)
    waiting = {bid: set(tr.preds[bid]) for bid in tr.order}
    ready = [(tr.pos[b], b) for b in tr.order if not waiting[b]]
    heapq.heapify(ready)
    running = {}

    def settled(bid, r):
        if r is not None:
            tr.add(r)
        for succ in tr.succs[bid]:
            w = waiting[succ]
            w.discard(bid)
            if not w:
                heapq.heappush(ready, (tr.pos[succ], succ))

    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="blockgraph")
    try:
        with executor.paused_gc():
            _thread_loop(scope, feeds, tr, cb, max_bytes, pool, ready, running, settled)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return tr.finish()


def _thread_loop(scope, feeds, tr, cb, max_bytes, pool, ready, running, settled):
    """Start every ready block (lowest run position first), wait for one to finish, repeat."""
    while ready or running:
        while ready:
            _, bid = heapq.heappop(ready)
            b = scope.blocks[bid]
            if not tr.may_start(bid):          # after a failure (--fail-fast)
                settled(bid, None)
                continue
            why = static_outcome(b, tr.raw)
            if why is not None:
                settled(bid, why)
                continue
            cb.on_start(b)
            arrays, dtypes = gather(b, tr.raw)
            running[pool.submit(execute, b, arrays, dtypes, feeds.get(bid), max_bytes)] = bid
        if not running:
            continue
        done, _ = wait(running, timeout=0.25, return_when=FIRST_COMPLETED)
        _tick(cb)
        for fut in sorted(done, key=lambda f: tr.pos[running[f]]):
            bid = running.pop(fut)
            settled(bid, fut.result())
