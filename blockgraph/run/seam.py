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

Lowered runs. The middle cycles of a many-cycle run (`run.program`) call the same chain,
composed once per block for the run instead of once per call: `Seam.lower(bound)` asks every
wrapper for its lowered form, `wrapper.lower(call, bound) -> call`, from the innermost out,
around `lowered_compute` (the kernel bound once for the cycle's input signature,
`binding.lower`). A lowered form does per call only what can change between calls of that
signature, and drops what cannot: `capture_errors` lets the exception end the cycle, which the
program then runs again through `execute` (so the failure is captured and located there);
`timed` has nothing to time, as a lowered cycle keeps no results; `memory_limit` has checked
the bytes of the signature once (string outputs are still checked per call); `commit_updates`
stages through the block's `CallContext`, which writes the program's slots. A wrapper without a
`lower` attribute (one that must see every block of every cycle) makes the run unlowerable:
every cycle then goes through `execute`. Nothing is skipped silently.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass

from ..core import binding, budget
from ..core.blockdef import LowerCall
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


@dataclass(slots=True, eq=False)
class Bound:
    """A block of a lowered run, bound once for the input signature of the cycle it was lowered
    from (what `Seam.lower` and the wrappers' lower forms see): its `LowerCall`, output bytes
    (`need`), the dtype and shape of each output in that cycle (`expect`), its feed and the
    run's limit; `rebind`: its shape function reads a value that may change between cycles,
    so it is bound again every call."""
    block: object
    call: LowerCall
    need: int | None
    expect: list
    in_dtypes: dict
    feed: object = None
    max_bytes: int | None = None
    rebind: bool = False


def lowered_compute(bound: Bound):
    """`compute` lowered: fn(*inputs) -> the output, or the list of outputs (see `Bound`)."""
    b, call = bound.block, bound.call
    if not bound.rebind:
        return binding.lower(b.defn, call, bound.expect)
    ports, defn, ctx = call.ports, b.defn, call.ctx

    def rebinding(*xs):
        inputs = dict(zip(ports, xs))
        attrs, specs, _ = binding.bind(defn, inputs, b.attrs, bound.in_dtypes, bound.feed)
        if ctx is not None:
            ctx.specs = specs
        fn = binding.lower(defn, LowerCall(attrs, inputs, specs, call.constants, ctx), bound.expect)
        return fn(*xs)
    return rebinding


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


def _lower_capture(call, bound):
    return call          # an exception ends the lowered cycle, run again through `execute`


capture_errors.lower = _lower_capture


def timed(task: Task, proceed) -> BlockResult:
    """The block's wall time, measured where it ran."""
    t0 = time.perf_counter()
    r = proceed(task)
    r.seconds = time.perf_counter() - t0
    return r


def _lower_timed(call, bound):
    return call          # a lowered cycle keeps no results, so no times


timed.lower = _lower_timed


def memory_limit(task: Task, proceed) -> BlockResult:
    """Fail a block whose outputs would need more than the run's limit (`--max-bytes`) before
    it computes; kernels whose output size depends on the data check it through their
    CallContext once they know it; string outputs count their bytes once they exist."""
    if task.max_bytes is None or task.feed is not None:    # a fed tensor is not allocated here
        return proceed(task)
    _, specs, need = task.bind()
    if need is not None and need > task.max_bytes:
        raise OpError(budget.limit_message(need, task.max_bytes, specs))
    r = proceed(task)
    if r.ok:
        budget.check_strings(list(r.outputs.values()), specs, task.max_bytes)
    return r


def _lower_memory_limit(call, bound):
    limit = bound.max_bytes
    if limit is None or bound.feed is not None:
        return call
    if bound.need is not None and bound.need > limit:
        return None           # fails: let `execute` say so
    specs = bound.call.specs
    if not any(s.dtype == "string" for s in _flat(specs)):
        return call

    def strings_checked(*xs):
        r = call(*xs)
        budget.check_strings(r if type(r) is list else [r], specs, limit)
        return r
    return strings_checked


memory_limit.lower = _lower_memory_limit


def _flat(specs):
    for s in specs:
        yield from (s if type(s) is list else [s])


def _layer(wrapper, proceed):
    """wrapper(task, proceed) as a function of the task (positional: no kwargs per call)."""
    def layer(task):
        return wrapper(task, proceed)
    return layer


class Seam:
    """The chain of wrappers of a run around `compute`; `execute(task)` runs it. `extra` are
    wrappers a run adds between timing and the memory limit (state commit, cache). `lower(bound)`
    composes the chain's lowered forms for one block of a lowered run (None: a wrapper has none).
    """

    def __init__(self, extra=()):
        self.extra = tuple(extra)
        self.wrappers = (capture_errors, timed, *extra, memory_limit)
        fn = compute
        for w in reversed(self.wrappers):
            fn = _layer(w, fn)
        self.call = fn             # the composed chain: call(task) -> BlockResult

    def execute(self, task: Task) -> BlockResult:
        return self.call(task)

    @property
    def lowerable(self) -> bool:
        """Whether every wrapper has a lowered form (see the module docstring)."""
        return all(getattr(w, "lower", None) is not None for w in self.wrappers)

    def lower(self, bound: Bound):
        """fn(*inputs) computing the block of `bound` through every wrapper's lowered form, or
        None when one has none for it."""
        call = lowered_compute(bound)
        for w in reversed(self.wrappers):
            lower = getattr(w, "lower", None)
            call = lower(call, bound) if lower is not None and call is not None else None
        return call

    def with_extra(self, *wrappers) -> "Seam":
        """This chain with `wrappers` added (outermost first) before its own extras."""
        return Seam((*wrappers, *self.extra))

    def __reduce__(self):
        return (Seam, (self.extra,))


#: the chain of a plain run
DEFAULT = Seam()
