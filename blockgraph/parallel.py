"""Parallel executors: `run_threads` (a thread pool) and `run_dask` (a Dask graph, run by
`dask.threaded.get` or on a `distributed` cluster).

Both give exactly the Results of the sequential reference (`executor.run`): the same statuses,
errors, outputs and run order, keep-going and --fail-fast included. They reuse its pieces:
`static_outcome` decides what a block gets without running, `gather` picks its input arrays and
`execute` computes it (every exception becomes a failed result there). Blocks are pure functions
of their inputs, so the order in which independent blocks finish changes nothing but the timing.

--fail-fast is the sequential rule too: a block whose position in the run order comes after the
first failing block is skipped (an invalid one stays failed with its own error). Blocks after a
failure that have not started are never started; blocks before it in the run order still run, and
a block that happened to finish although an earlier block failed is reported as skipped.

Callbacks (`on_start`, `on_block`, `on_finish`) are called from the calling thread. `on_block`
gets each block's final result once (in completion order; with fail_fast in run order).

Dask is optional (`pip install 'blockgraph[dask]'`); it is imported only by `run_dask`.
"""
from __future__ import annotations

import heapq
import itertools
import os
import queue
import shutil
import sys
import threading
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from contextlib import contextmanager
from functools import partial

from . import executor
from .executor import Callbacks, execute, gather, static_outcome
from .results import BlockResult, Results

DASK_EXTRA = "pip install 'blockgraph[dask]'"


class ExecutorError(RuntimeError):
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


# ---------------------------------------------------------------- dask: the graph

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


# ---------------------------------------------------------------- dask: running it

def import_dask():
    try:
        import dask
        import dask.threaded  # noqa: F401
    except ImportError as e:
        raise ExecutorError(f"the dask executor needs Dask, an optional extra: {DASK_EXTRA} "
                            f"({e})") from None
    return dask


def import_distributed():
    import_dask()
    try:
        import distributed
    except ImportError as e:
        raise ExecutorError(f"--scheduler needs dask.distributed, part of the optional extra: "
                            f"{DASK_EXTRA} ({e})") from None
    return distributed


@contextmanager
def dask_client(scheduler, workers=None):
    """A distributed.Client for `scheduler`: an existing Client (left open), 'local' (a
    LocalCluster of `workers` processes on 127.0.0.1, closed afterwards) or a scheduler address
    such as tcp://HOST:PORT (the client is closed afterwards, the cluster left running)."""
    distributed = import_distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise ExecutorError(f"--scheduler wants tcp://HOST:PORT or 'local', got {scheduler!r}")
    if scheduler == "local":
        cluster = local_cluster(_workers(workers))
        try:
            client = distributed.Client(cluster, set_as_default=False)
            try:
                yield client
            finally:
                client.close()
        finally:
            cluster.close()
        return
    from distributed.comm.addressing import parse_address, parse_host_port
    try:       # a bad address fails here, before a Client that would hang when collected
        scheme, loc = parse_address(scheduler)
        if scheme in ("tcp", "tls", "ws", "wss"):
            parse_host_port(loc)
    except ValueError as e:
        raise ExecutorError(f"--scheduler wants tcp://HOST:PORT or 'local', got {scheduler!r} "
                            f"({e})") from None
    try:
        client = distributed.Client(scheduler, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as e:
        raise ExecutorError(f"cannot reach the dask scheduler at {scheduler}: {e}") from None
    try:
        yield client
    finally:
        client.close()


# Distributed's nanny sets MALLOC_TRIM_THRESHOLD_ in its workers, which turns off glibc's dynamic
# mmap threshold: every large numpy temporary is then a fresh mmap, and numpy-heavy blocks run
# about 2x slower. Workers that blockgraph starts run without it.
WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def local_cluster(n_workers: int, **kwargs):
    """A distributed.LocalCluster of `n_workers` single-threaded worker processes listening on
    127.0.0.1 only (what `--scheduler local` starts)."""
    import dask
    distributed = import_distributed()
    opts = dict(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address="127.0.0.1:0")
    opts.update(kwargs)
    with dask.config.set(WORKER_CONFIG):
        return distributed.LocalCluster(**opts)


def run_dask(scope, feeds=None, *, fail_fast: bool = False, callbacks: Callbacks | None = None,
             max_bytes: int | None = None, workers: int | None = None, scheduler=None,
             keep=None) -> Results:
    """Run `scope` as a Dask graph (one task per block, see `compile_graph`); the same Results
    as `executor.run`.

    scheduler: None runs it with `dask.threaded.get` on `workers` threads in this process;
    'local' starts a LocalCluster of `workers` processes; 'tcp://HOST:PORT' (or a
    distributed.Client) runs it on that cluster, whose workers must have blockgraph installed."""
    import_dask()
    if scope.order is None:
        return executor.run(scope, feeds, fail_fast=fail_fast, callbacks=callbacks,
                            max_bytes=max_bytes, keep=keep)
    cb = callbacks or Callbacks()
    tr = _Tracker(scope, fail_fast, cb, keep)
    if scheduler is None:
        with executor.paused_gc():
            _dask_threaded(scope, feeds, tr, cb, max_bytes, _workers(workers))
    else:
        with dask_client(scheduler, workers) as client, executor.paused_gc():
            _dask_distributed(scope, feeds, tr, cb, max_bytes, keep, client)
    return tr.finish()


def _dask_threaded(scope, feeds, tr, cb, max_bytes, n):
    import dask.threaded
    token = uuid.uuid4().hex
    ch = _CHANNELS[token] = _Channel(tr.pos, tr.stop, tr.fail_fast)
    dsk = compile_graph(scope, feeds, max_bytes=max_bytes, outputs=False, channel=token)
    box = {}
    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="blockgraph-dask")

    def target():
        try:
            dask.threaded.get(dsk, [b for b in tr.order if tr.may_start(b)], pool=pool)
        except BaseException as e:  # handed to the calling thread
            box["error"] = e
        finally:
            ch.events.put(("end", None))

    thread = threading.Thread(target=target, name="blockgraph-dask-get", daemon=True)
    thread.start()
    try:
        while True:
            try:
                kind, item = ch.events.get(timeout=0.25)
            except queue.Empty:
                _tick(cb)
                continue
            if kind == "start":
                cb.on_start(item)
            elif kind == "done":
                tr.add(item)
            else:
                break
    except BaseException:
        ch.stop = -1                 # every task not yet started returns at once
        raise
    finally:
        if ch.stop == -1:
            thread.join(timeout=5)
        else:
            thread.join()
        pool.shutdown(wait=False, cancel_futures=True)
        _CHANNELS.pop(token, None)
    if "error" in box:
        raise box["error"]


def _dask_distributed(scope, feeds, tr, cb, max_bytes, keep, client):
    from distributed import as_completed
    prefix = f"blockgraph-{scope.name}-{uuid.uuid4().hex[:12]}/"
    dsk = compile_graph(scope, feeds, max_bytes=max_bytes, prefix=prefix, outputs=False)
    wanted = [b for b in tr.order if tr.may_start(b)]     # --fail-fast: none after an invalid block
    if keep:
        for bid in wanted:
            dsk[prefix + "kept/" + bid] = (partial(kept_view, keep=tuple(keep)), prefix + bid)
        keys = [prefix + "kept/" + bid for bid in wanted]
    else:
        keys = [prefix + bid for bid in wanted]
    futures = client.get(dsk, keys, sync=False)
    by_key = {f.key: bid for f, bid in zip(futures, wanted)}
    fut_of = {bid: f for f, bid in zip(futures, wanted)}
    waiting = {bid: set(tr.preds[bid]) for bid in tr.order}

    def maybe_start(bid):
        b = scope.blocks[bid]
        if b.valid and tr.may_start(bid) and all(tr.raw[u].ok for u in tr.preds[bid]):
            cb.on_start(b)

    for bid in wanted:
        if not waiting[bid]:
            maybe_start(bid)
    pending = set(futures)
    try:
        for batch in as_completed(futures, loop=client.loop).batches():
            batch = sorted((f for f in batch if f in pending), key=lambda f: tr.pos[by_key[f.key]])
            if not batch:                    # cancelled (--fail-fast)
                continue
            pending.difference_update(batch)
            for fut in batch:
                if fut.status != "finished":
                    exc = fut.exception()
                    raise ExecutorError(f"the dask cluster could not run block "
                                        f"'{by_key[fut.key]}': {type(exc).__name__}: {exc}")
            for fut, value in zip(batch, client.gather(batch)):   # one round trip per batch
                bid = by_key[fut.key]
                tr.add(value)
                for succ in tr.succs[bid]:
                    waiting[succ].discard(bid)
                    if not waiting[succ]:
                        maybe_start(succ)
            if tr.fail_fast and tr.stop < len(tr.order):
                late = [fut_of[b] for b in tr.order[tr.stop + 1:] if b in fut_of and fut_of[b] in pending]
                if late:
                    client.cancel(late)
                    pending.difference_update(late)
            _tick(cb)
            if not pending:
                break
    finally:
        if pending:
            client.cancel(list(pending))


# ---------------------------------------------------------------- progress

class Progress(Callbacks):
    """A one-line progress bar on stderr for long runs: drawn only on a terminal, and only once
    the run has taken `delay` seconds; erased when the run ends.

        page.run(feeds, executor="threads", callbacks=Progress(len(page.scope.blocks)))
    """

    def __init__(self, total: int, unit: str = "blocks", stream=None, delay: float = 1.0,
                 enabled: bool | None = None, interval: float = 0.1):
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.interval = interval
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled
        self.t0 = time.perf_counter()
        self.done = 0
        self.failed = 0
        self.running: dict[str, None] = {}
        self.drawn = False
        self._last = 0.0

    @classmethod
    def for_terminal(cls, total: int, unit: str = "blocks"):
        """A Progress when stderr is a terminal, else None."""
        p = cls(total, unit)
        return p if p.enabled else None

    def on_start(self, block):
        self.running[getattr(block, "id", str(block))] = None
        self.tick()

    def on_block(self, result):
        self.running.pop(getattr(result, "id", None), None)
        self.done += 1
        if getattr(result, "status", "ok") != "ok":
            self.failed += 1
        self.tick()

    def on_finish(self, results):
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False

    def tick(self):
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.t0 < self.delay or (now - self._last < self.interval and self.done < self.total):
            return
        self._last = now
        self.stream.write("\r\x1b[K" + self.line(shutil.get_terminal_size((100, 20)).columns))
        self.stream.flush()
        self.drawn = True

    def line(self, width: int = 100) -> str:
        frac = self.done / self.total if self.total else 1.0
        bar_w = 24
        fill = int(round(frac * bar_w))
        text = (f"[{'#' * fill}{'-' * (bar_w - fill)}] {self.done}/{self.total} {self.unit} "
                f"{time.perf_counter() - self.t0:.1f}s")
        if self.failed:
            text += f", {self.failed} not ok"
        if self.running:
            text += "  running: " + ", ".join(itertools.islice(self.running, 4))
            if len(self.running) > 4:
                text += ", ..."
        return text[: max(width - 1, 10)]
