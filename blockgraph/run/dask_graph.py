"""The Dask graph of a page: plain data (a dict of tasks), one task per block computing its
BlockResult from the BlockResults of the blocks it reads (`compile_graph`).

A task runs `run_block`: the plan's static outcome, or the run's seam on the block's gathered
inputs, so a graph gives the same results as the sequential executor whatever runs it
(`dask.threaded.get`, a distributed cluster). Dask itself is not imported here.
"""
from __future__ import annotations

import queue
import threading
import uuid
from functools import partial

from ..core.results import BlockResult
from .plan import RunOptions, gather, static_outcome
from .seam import DEFAULT, Task


class Channel:
    """How the tasks of an in-process dask run talk to the calling thread: start/done events, and
    the run position after which nothing needs to start (--fail-fast, Ctrl-C)."""

    def __init__(self, positions: dict, stop: int, fail_fast: bool):
        self.events: queue.Queue = queue.Queue()
        self.pos = positions
        self.stop = stop
        self.fail_fast = fail_fast
        self.lock = threading.Lock()

    def may_start(self, bid) -> bool:
        return self.pos[bid] <= self.stop

    def started(self, block):
        self.events.put(("start", block))

    def done(self, r: BlockResult):
        if r.status == "failed" and self.fail_fast:
            with self.lock:
                self.stop = min(self.stop, self.pos[r.id])
        self.events.put(("done", r))


def run_block(step, feed, seam, max_bytes, channel, *upstream: BlockResult) -> BlockResult:
    """The dask task of one block: its static outcome, or the seam on its gathered inputs.
    `upstream` are the BlockResults of the blocks it reads. Module-level and of plain data, so a
    distributed worker can unpickle and run it (BlockDefs pickle by name)."""
    block = step.block
    if channel is not None and not channel.may_start(block.id):
        r = static_outcome(block, {}, stopped=True)      # replaced by the tracker's verdict
    else:
        results = {u.id: u for u in upstream}
        r = static_outcome(block, results)
        if r is None:
            if channel is not None:
                channel.started(block)
            arrays, dtypes = gather(block, results)
            r = seam.execute(Task(block, arrays, dtypes, feed, step.memo, None, max_bytes))
    if channel is not None:
        channel.done(r)
    return r


class BlockTask:
    """The callable of one block's dask task: `run_block` with the block's step, its feed, the
    seam and the memory limit bound, called with the upstream BlockResults. Tokenized by a name
    of its own, so dask does not hash the block's arrays. `channel` (in-process runs only; it is
    never pickled) reports starts and results to the calling thread."""

    def __init__(self, step, feed=None, seam=DEFAULT, max_bytes=None, channel=None):
        self.step, self.feed, self.seam, self.max_bytes = step, feed, seam, max_bytes
        self.channel = channel
        self.token = uuid.uuid4().hex

    def __call__(self, *upstream):
        return run_block(self.step, self.feed, self.seam, self.max_bytes, self.channel, *upstream)

    def __reduce__(self):       # to a worker: without the in-process channel
        return (BlockTask, (self.step, self.feed, self.seam, self.max_bytes, None))

    def __dask_tokenize__(self):
        return ("blockgraph.BlockTask", self.step.block.id, self.token)

    def __repr__(self):
        return f"BlockTask({self.step.block.id!r}, {self.step.block.op})"


class BlockFailed(KeyError):
    """Asked for an output of a block that did not succeed."""


def output_of(result: BlockResult, port: str):
    """The dask task behind a `BLOCK.PORT` key: that output's array (a list for a list output)."""
    if not result.ok:
        raise BlockFailed(f"block '{result.id}' has no outputs: it {result.status}"
                          + (f" ({result.error})" if result.error else ""))
    return result.outputs[port]


def kept_view(result: BlockResult, keep) -> BlockResult:
    """A copy of `result` holding only the outputs that match `keep` (computed on the worker, so
    only those travel back)."""
    r = BlockResult(result.id, result.op, result.status, result.error, result.error_port,
                    result.seconds, dict(result.outputs), dict(result.dtypes), list(result.dropped),
                    saved=result.saved)
    r.drop_outputs(list(keep))
    return r


def compile_graph(plan, feeds=None, options: RunOptions | None = None, *, prefix: str = "",
                  outputs: bool = True, channel: Channel | None = None) -> dict:
    """The Dask graph (a plain dict) of a run plan: key PREFIX+BLOCK -> the task computing that
    block's BlockResult from its upstream blocks' results, and (with `outputs`) key
    PREFIX+BLOCK.PORT -> that output's array.

    >>> dask.threaded.get(compile_graph(page.plan()), "fq.backprop_wrt_min")
    """
    feeds = feeds or {}
    options = options or RunOptions()
    dsk = {}
    for bid in plan.order:
        step = plan.steps[bid]
        ups = sorted(plan.preds[bid], key=plan.pos.get)
        dsk[prefix + bid] = (BlockTask(step, feeds.get(bid), options.seam, options.max_bytes, channel),
                             *[prefix + u for u in ups])
        b = step.block
        if outputs and b.defn is not None:
            for out in b.defn.outputs:
                dsk[f"{prefix}{bid}.{out.name}"] = (partial(output_of, port=out.name), prefix + bid)
    return dsk
