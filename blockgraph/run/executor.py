"""Run a Scope: blocks in topological order, keep going past failures.

The state is plain data: `results` (id -> BlockResult, whose outputs hold the arrays). A block
runs when all its upstream blocks are ok; a block whose upstream failed or was skipped is
`skipped`; an exception inside a block becomes a `failed` result at exactly one place
(`execute`). Callbacks (`on_start(block)`, `on_block(result)`, `on_finish(results)`) serve
progress, timing and caching. Other executors (threads, dask) reuse `upstream_problem`, `gather`
and `execute`, so every executor gives the same results, statuses and errors.
"""
from __future__ import annotations

import contextlib
import gc
import threading
import time

from ..core import binding, sizes
from ..core.contexts import CallContext
from ..core.errors import BlockBug, OpError
from .memo import RunMemo
from ..core.results import BlockResult, Results
from ..core.scope import Block, Literal, Ref, Scope


#: Set by the CLI's Ctrl-C handler. A KeyboardInterrupt raised while native code calls back into
#: Python (numba compiling a kernel, for one) is swallowed there; the run stops at the next
#: block boundary instead.
STOP = threading.Event()


class Callbacks:
    """Hooks called by the executors; subclass and override what you need."""

    def on_start(self, block):
        pass

    def on_block(self, result: BlockResult):
        pass

    def on_finish(self, results: Results):
        pass


def run(scope: Scope, feeds: dict | None = None, *, fail_fast: bool = False,
        callbacks: Callbacks | None = None, max_bytes: int | None = None,
        keep: list[str] | None = None) -> Results:
    """Run every block of `scope` in order; return Results holding every block's outcome.

    feeds: {placeholder id: array}. With fail_fast, blocks after the first failure are skipped.
    max_bytes: a block whose outputs would need more memory fails before computing.
    keep: glob patterns of BLOCK.PORT to keep; other outputs are dropped as soon as their last
    consumer has run (statuses, dtypes and times are always kept).
    """
    feeds = feeds or {}
    cb = callbacks or Callbacks()
    results: dict[str, BlockResult] = {}
    release = _release_plan(scope, keep) if keep else {}
    with paused_gc():
        _run_in_order(scope, feeds, fail_fast, cb, max_bytes, keep, release, results)
    out = Results(scope.name, results)
    cb.on_finish(out)
    return out


#: a paused section that leaves more new container objects than this promotes them (see below)
PROMOTE_OBJECTS = 10_000


@contextlib.contextmanager
def paused_gc():
    """Pause the cyclic garbage collector: loading and running make many small objects and no
    cycles, and collections triggered by them cost more than the blocks of a page of cheap ones.

    When the section leaves many new objects (a page of thousands of blocks, its results), they
    are moved to the oldest generation on the way out (`gc.freeze()` + `gc.unfreeze()`, which
    scans nothing): otherwise the young collections that follow would each walk all of them,
    costing more than loading the page. Pages and results hold no reference cycles, so they are
    still freed as soon as they are dropped; cyclic garbage of the caller's that was young at
    that moment waits for the next full collection. Nothing is promoted while the caller keeps
    objects frozen itself (`gc.freeze()`), since `gc.unfreeze()` would release them."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            if gc.get_count()[0] > PROMOTE_OBJECTS and not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def _run_in_order(scope, feeds, fail_fast, cb, max_bytes, keep, release, results):
    """The sequential loop of `run`."""
    failed = False
    all_ok = True      # while every block so far is ok, no upstream check is needed
    blocks = scope.blocks
    for bid in scope.run_order():
        b = blocks[bid]
        why = None if all_ok and b.valid else static_outcome(b, results, stopped=failed and fail_fast)
        if why is not None:
            r = why
        else:
            cb.on_start(b)
            arrays, dtypes = gather(b, results)
            r = execute(b, arrays, dtypes, feeds.get(bid), max_bytes)
        results[bid] = r
        if r.status != "ok":
            all_ok = False
            failed = failed or r.status == "failed"
        cb.on_block(r)
        if STOP.is_set():
            raise KeyboardInterrupt
        for done in release.get(bid, ()):
            results[done].drop_outputs(keep)


def _release_plan(scope: Scope, keep) -> dict[str, list[str]]:
    """{block id: blocks whose outputs may be dropped once it has run} (their last consumer)."""
    order = scope.run_order()
    pos = {b: i for i, b in enumerate(order)}
    last = {}
    consumers = scope.consumers()
    for bid in order:
        last[bid] = max(consumers[bid], key=pos.get) if consumers[bid] else bid
    plan: dict[str, list[str]] = {}
    for bid, when in last.items():
        plan.setdefault(when, []).append(bid)
    return plan


def static_outcome(b: Block, results: dict, stopped: bool = False) -> BlockResult | None:
    """The result a block gets without running (invalid, upstream not ok, --fail-fast), or None
    when it should run."""
    if not b.valid:
        return BlockResult(b.id, b.op, "failed", b.error, b.error_port)
    if stopped:
        return BlockResult(b.id, b.op, "skipped", "not run: an earlier block failed (--fail-fast)")
    bad = upstream_problem(b, results)
    if bad is not None:
        return BlockResult(b.id, b.op, "skipped", f"not run: upstream block '{bad}' {results[bad].status}")
    return None


def upstream_problem(b: Block, results: dict) -> str | None:
    """The id of the first upstream block that is not ok, or None."""
    return next((ref.block for _, ref in b.refs() if not results[ref.block].ok), None)


def gather(b: Block, results: dict):
    """The input arrays of block `b` (from literals and upstream results) and their TF dtypes."""
    arrays, dtypes = {}, {}
    for port, v in b.inputs.items():
        if type(v) is Ref and v.index is None:     # the common case: one whole output
            src = results[v.block]
            name = v.port or next(iter(src.outputs))
            val = src.outputs[name]
            if type(val) is not list:
                arrays[port], dtypes[port] = val, src.dtypes[name]
                continue
        got, dts = [], []
        for item in (v if isinstance(v, list) else [v]):
            if isinstance(item, Literal):
                got.append(item.array)
                dts.append(item.dtype)
                continue
            src = results[item.block]
            name = item.port or next(iter(src.outputs))
            val, d = src.outputs[name], src.dtypes[name]
            if item.index is not None:
                val, d = val[item.index], d[item.index]
            if isinstance(val, list):
                got.extend(val)
                dts.extend(d)
            else:
                got.append(val)
                dts.append(d)
        if isinstance(v, list):
            arrays[port], dtypes[port] = got, dts
        else:
            arrays[port], dtypes[port] = got[0], dts[0]
    return arrays, dtypes


def execute(b: Block, arrays: dict, dtypes: dict, feed=None, max_bytes: int | None = None) -> BlockResult:
    """Compute one block on its input arrays; every exception becomes a failed BlockResult here.
    A module-level function of plain data, so it can run in a thread or a dask worker."""
    r = BlockResult(b.id, b.op)
    t0 = time.perf_counter()
    try:
        defn = b.defn
        attrs, specs, need = run_memo(b).bind(defn, arrays, b.attrs, dtypes, feed)
        if max_bytes is not None and need is not None and need > max_bytes:
            raise OpError(sizes.memory_message(need, max_bytes))
        ctx = CallContext(b.id, b.op, specs, feed, None, max_bytes, STOP) if defn.context else None
        outputs = binding.compute(defn, arrays, attrs, specs, ctx)
    except OpError as e:
        r.status, r.error, r.error_port = "failed", e.message, e.port
    except MemoryError:
        r.status, r.error = "failed", "out of memory"
    except Exception as e:  # a bug in a block must not lose the other results
        r.status, r.error = "failed", f"internal error: {type(e).__name__}: {e}"
    else:
        r.status = "ok"
        for out, value, spec in zip(b.defn.outputs, outputs, specs):
            r.outputs[out.name] = value
            r.dtypes[out.name] = [s.dtype for s in spec] if out.list else spec.dtype
    r.seconds = time.perf_counter() - t0
    return r


def run_memo(b: Block) -> RunMemo:
    """The block's `RunMemo` (made on its first run): its literal inputs are the ports
    whose values may shape a memoised result."""
    memo = b.__dict__.get("_run_memo")
    if memo is None:
        constant = [p for p, v in b.inputs.items()
                    if all(isinstance(x, Literal) for x in (v if isinstance(v, list) else [v]))]
        memo = b.__dict__["_run_memo"] = RunMemo(constant)
    return memo


EXECUTORS = ("sequential", "threads", "dask")


def get(name: str):
    """The run function of executor `name` (threads and dask are imported only when asked for)."""
    if name == "sequential":
        return run
    if name == "threads":
        from .parallel import run_threads
        return run_threads
    if name == "dask":
        from .dask_run import run_dask
        return run_dask
    raise ValueError(f"unknown executor {name!r} (choose from {', '.join(EXECUTORS)})")
