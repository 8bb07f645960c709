"""The threads executor: independent blocks (or sweep runs) on a pool of threads; the same
Results as the sequential reference. numpy and the numba kernels release the GIL while they
compute, so independent blocks overlap."""
from __future__ import annotations

import heapq
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from ..core.gcpause import paused_gc
from ..core.results import Results
from . import cancel, sequential
from .executors import Executor, workers_count
from .plan import Plan, RunOptions
from .tracker import Tracker, tick

#: how often the waiting loop wakes to redraw progress and notice Ctrl-C (seconds)
POLL = 0.1


class Threads(Executor):
    name = "threads"

    def __init__(self, workers=None, scheduler=None):
        super().__init__(workers, scheduler)
        self.n = workers_count(workers)

    def run(self, plan: Plan, feeds, options: RunOptions) -> Results:
        """Run `plan` with independent blocks on `workers` threads (default: one per core)."""
        if not plan.runnable:       # a cycle: nothing can run; the reference says how it fails
            return sequential.run(plan, feeds, options)
        feeds = feeds or {}
        tr = Tracker(plan, options)
        waiting = {bid: set(plan.preds[bid]) for bid in plan.order}
        ready = [(plan.pos[b], b) for b in plan.order if not waiting[b]]
        heapq.heapify(ready)
        running = {}

        def settled(bid, r):
            if r is not None:
                tr.add(r)
            for succ in plan.succs[bid]:
                w = waiting[succ]
                w.discard(bid)
                if not w:
                    heapq.heappush(ready, (plan.pos[succ], succ))

        pool = ThreadPoolExecutor(max_workers=self.n, thread_name_prefix="blockgraph")
        try:
            with paused_gc():
                _loop(plan, feeds, options, tr, pool, ready, running, settled)
        except BaseException:
            # Ctrl-C: blocks already computing finish in their threads; nothing waits for them
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return tr.finish()

    def map(self, fn, jobs):
        pool = ThreadPoolExecutor(max_workers=self.n, thread_name_prefix="blockgraph-map")
        futs = {pool.submit(fn, *args): i for i, args in jobs}
        try:
            while futs:
                done, _ = wait(futs, timeout=POLL, return_when=FIRST_COMPLETED)
                cancel.check()
                for f in done:
                    yield futs.pop(f), f.result()
        finally:
            pool.shutdown(wait=not futs, cancel_futures=True)


def _loop(plan, feeds, options, tr, pool, ready, running, settled):
    """Start every ready block (lowest run position first), wait for one to finish, repeat."""
    blocks = plan.scope.blocks
    execute = options.seam.execute
    cb = options.callbacks
    while ready or running:
        while ready:
            _, bid = heapq.heappop(ready)
            if not tr.may_start(bid):          # after a failure (--fail-fast)
                settled(bid, None)
                continue
            why = plan.outcome(bid, tr.raw)
            if why is not None:
                settled(bid, why)
                continue
            cb.on_start(blocks[bid])
            running[pool.submit(execute, plan.task(bid, tr.raw, feeds, options))] = bid
        if not running:
            continue
        done, _ = wait(running, timeout=POLL, return_when=FIRST_COMPLETED)
        tick(cb)
        cancel.check()
        for fut in sorted(done, key=lambda f: plan.pos[running[f]]):
            bid = running.pop(fut)
            settled(bid, fut.result())
