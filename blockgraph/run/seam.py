"""The one execution seam: `Seam.execute(task)` computes one block, and every executor
(sequential, threads, dask, sweeps) calls it.

Around the call sits a small ordered chain of wrappers, each `wrapper(task, proceed) ->
BlockResult` (in the manner of Hamilton's lifecycle hooks): it may look at the task, call
`proceed(task)` for the rest of the chain, replace the call (a cache hit), or change the result.
The default chain, outermost first:

    capture_errors   every exception becomes a failed BlockResult here, traceback kept
    timed            the block's wall time in BlockResult.seconds
    ...extra         what a run adds: state commit, cache lookup/store
    memory_limit     a block whose outputs would need more than --max-bytes fails before computing

and innermost `compute`: bind the block (its RunMemo, or the shape function) and run its kernel.
A Seam and its tasks are plain, picklable data, so a dask worker runs the same chain.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass
from functools import partial

from ..core import binding, budget
from ..core.contexts import CallContext
from ..core.errors import OpError
from ..core.results import BlockResult
from . import cancel


@dataclass(slots=True, eq=False)
class Task:
    """One block to execute: the block, its gathered input arrays and their TF dtypes, its feed,
    and its memo (kept by the run plan). `bind()` works out the attrs, output specs and output
    bytes once; wrappers and the compute step share it."""
    block: object
    inputs: dict
    in_dtypes: dict
    feed: object = None
    memo: object = None
    state: object = None
    max_bytes: int | None = None
    refs: dict | None = None          # update blocks: {ref port: Variable id}
    updates: dict | None = None       # set by compute: {Variable id: new value} it staged
    _bound: tuple | None = None

    def bind(self) -> tuple:
        """(attrs with type attrs set, output Specs, bytes the outputs need or None)."""
        if self._bound is None:
            b = self.block
            if self.memo is not None:
                self._bound = self.memo.bind(b.defn, self.inputs, b.attrs, self.in_dtypes, self.feed)
            else:
                attrs, specs, _ = binding.bind(b.defn, self.inputs, b.attrs, self.in_dtypes, self.feed)
                self._bound = (attrs, specs, budget.output_bytes(specs))
        return self._bound


def compute(task: Task) -> BlockResult:
    """The innermost step: bind the block and run its kernel; an ok BlockResult."""
    b = task.block
    defn = b.defn
    attrs, specs, _ = task.bind()
    ctx = None
    if defn.context:
        ctx = CallContext(b.id, b.op, specs, task.feed, task.state, task.max_bytes, cancel.STOP,
                          task.refs)
    outputs = binding.compute(defn, task.inputs, attrs, specs, ctx)
    if ctx is not None and ctx.updates:
        task.updates = ctx.updates
    r = BlockResult(b.id, b.op, "ok")
    for out, value, spec in zip(defn.outputs, outputs, specs):
        r.outputs[out.name] = value
        r.dtypes[out.name] = [s.dtype for s in spec] if out.list else spec.dtype
    return r


def capture_errors(task: Task, proceed) -> BlockResult:
    """Every exception of the rest of the chain becomes a failed result (TF's text for OpError;
    a bug in a block keeps its traceback), so one block never loses the others' results."""
    try:
        return proceed(task)
    except OpError as e:
        return BlockResult(task.block.id, task.block.op, "failed", e.message, e.port)
    except MemoryError:
        return BlockResult(task.block.id, task.block.op, "failed", "out of memory")
    except Exception as e:  # noqa: BLE001 - a bug in a block must not lose the other results
        return BlockResult(task.block.id, task.block.op, "failed",
                           f"internal error: {type(e).__name__}: {e}",
                           traceback=traceback.format_exc())


def timed(task: Task, proceed) -> BlockResult:
    """The block's wall time, measured where it ran."""
    t0 = time.perf_counter()
    r = proceed(task)
    r.seconds = time.perf_counter() - t0
    return r


def memory_limit(task: Task, proceed) -> BlockResult:
    """Fail a block whose outputs would need more than the run's limit (`--max-bytes`) before
    it computes; kernels whose output size depends on the data check it through their
    CallContext once they know it; string outputs count their bytes once they exist."""
    if task.max_bytes is None or task.feed is not None:    # a fed tensor is not allocated here
        return proceed(task)
    need = task.bind()[2]
    if need is not None and need > task.max_bytes:
        raise OpError(budget.limit_message(need, task.max_bytes))
    r = proceed(task)
    if r.ok:
        specs = task.bind()[1]
        budget.check_strings(list(r.outputs.values()), specs, task.max_bytes)
    return r


class Seam:
    """The chain of wrappers of a run around `compute`; `execute(task)` runs it. `extra` are
    wrappers a run adds between timing and the memory limit (state commit, cache)."""

    def __init__(self, extra=()):
        self.extra = tuple(extra)
        self.wrappers = (capture_errors, timed, *extra, memory_limit)
        fn = compute
        for w in reversed(self.wrappers):
            fn = partial(w, proceed=fn)
        self._call = fn

    def execute(self, task: Task) -> BlockResult:
        return self._call(task)

    def with_extra(self, *wrappers) -> "Seam":
        """This chain with `wrappers` added (outermost first) before its own extras."""
        return Seam((*wrappers, *self.extra))

    def __reduce__(self):
        return (Seam, (self.extra,))


#: the chain of a plain run
DEFAULT = Seam()
