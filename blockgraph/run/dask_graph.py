"""The Dask graph of a page: plain data (a dict of tasks), one task per block computing its
BlockResult from the BlockResults of the blocks it reads (`compile_graph`).

A task runs `run_block`: the sequential executor's `static_outcome`, `gather` and `execute`, so a
graph gives the same results as `executor.run` whatever runs it (`dask.threaded.get`, a
distributed cluster). Dask itself is not imported here.
"""
from __future__ import annotations

import queue
import threading
import uuid
from functools import partial

from .executor import execute, gather, static_outcome
from .parallel import links
from ..core.results import BlockResult

#: token -> the _Channel of an in-process run (tasks look theirs up by the token they carry)
_CHANNELS: dict[str, "_Channel"] = {}


class _Channel:
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


def run_block(block, feed, max_bytes, channel, *upstream: BlockResult) -> BlockResult:
    """The dask task of one block: its static outcome, or `execute` on its gathered inputs.
    `upstream` are the BlockResults of the blocks it reads. Module-level and of plain data, so a
    distributed worker can unpickle and run it (BlockDefs pickle by name)."""
    ch = _CHANNELS.get(channel) if channel else None
    if ch is not None and not ch.may_start(block.id):
        r = static_outcome(block, {}, stopped=True)      # replaced by the tracker's verdict
    else:
        results = {u.id: u for u in upstream}
        r = static_outcome(block, results)
        if r is None:
            if ch is not None:
                ch.started(block)
            arrays, dtypes = gather(block, results)
            r = execute(block, arrays, dtypes, feed, max_bytes)
    if ch is not None:
        ch.done(r)
    return r


class BlockTask:
    """The callable of one block's dask task: `run_block` with the block, its feed and the
    memory limit bound, called with the upstream BlockResults. Tokenized by a name of its own,
    so dask does not hash the block's arrays."""

    def __init__(self, block, feed=None, max_bytes=None, channel=None):
        self.block, self.feed, self.max_bytes, self.channel = block, feed, max_bytes, channel
        self.token = uuid.uuid4().hex

    def __call__(self, *upstream):
        return run_block(self.block, self.feed, self.max_bytes, self.channel, *upstream)

    def __dask_tokenize__(self):
        return ("blockgraph.BlockTask", self.block.id, self.token)

    def __repr__(self):
        return f"BlockTask({self.block.id!r}, {self.block.op})"


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
                    result.seconds, dict(result.outputs), dict(result.dtypes), list(result.dropped))
    r.drop_outputs(list(keep))
    return r


def compile_graph(scope, feeds=None, *, max_bytes=None, prefix: str = "", outputs: bool = True,
                  channel: str | None = None) -> dict:
    """The Dask graph (a plain dict) of a page's Scope: key PREFIX+BLOCK -> the task computing
    that block's BlockResult from its upstream blocks' results, and (with `outputs`) key
    PREFIX+BLOCK.PORT -> that output's array.

    >>> dask.threaded.get(compile_graph(page.scope), "fq.backprop_wrt_min")
    """
    feeds = feeds or {}
    order = scope.run_order()
    pos = {b: i for i, b in enumerate(order)}
    preds, _ = links(scope)
    dsk = {}
    for bid in order:
        b = scope.blocks[bid]
        ups = sorted(preds[bid], key=pos.get)
        dsk[prefix + bid] = (BlockTask(b, feeds.get(bid), max_bytes, channel),
                             *[prefix + u for u in ups])
        if outputs and b.defn is not None:
            for out in b.defn.outputs:
                dsk[f"{prefix}{bid}.{out.name}"] = (partial(output_of, port=out.name), prefix + bid)
    return dsk
