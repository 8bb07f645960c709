"""A run plan: a Scope prepared once for running (run order, each block's step with its input
slots and RunMemo, who reads whom, when outputs may be freed), and the options of one run.

Every executor runs a plan the same way: a block whose static outcome is known gets it
(`Plan.outcome`: invalid, upstream not ok, --fail-fast), the others get a `Task` of their
gathered inputs (`Plan.task`) executed by the run's seam. A page keeps its plan between runs,
so repeated runs (and cycles) reuse what the first one worked out.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..core.results import BlockResult
from ..core.scope import Block, Literal, Ref, Scope
from .memo import RunMemo
from .seam import DEFAULT, Seam, Task


class Callbacks:
    """Hooks the executors call from the calling thread: `on_start(block)`, `on_block(result)`
    (each block's final result, once), `on_finish(results)`. Subclass and override."""

    def on_start(self, block):
        pass

    def on_block(self, result: BlockResult):
        pass

    def on_finish(self, results):
        pass


@dataclass
class RunOptions:
    """What one run of a plan asks for. fail_fast: skip blocks after the first failure. keep:
    glob patterns of BLOCK.PORT to keep (others are freed after their last consumer). max_bytes:
    the per-block output limit. seam: the execution chain."""
    fail_fast: bool = False
    keep: list | None = None
    max_bytes: int | None = None
    callbacks: Callbacks = field(default_factory=Callbacks)
    seam: Seam = DEFAULT
    state: object = None              # the run's Variable values (`run.state.State`)


@dataclass(slots=True, eq=False)
class Step:
    """One block of the plan: the block, its RunMemo (its literal inputs may shape a memoised
    result) and, for an update block, {ref port: the Variable it names}."""
    block: Block
    memo: RunMemo
    refs: dict | None = None


class Plan:
    """The prepared run of one Scope."""

    def __init__(self, scope: Scope, only=None):
        """`only`: run just these blocks (a set closed under their upstream), else every block."""
        self.scope = scope
        self.name = scope.name
        self.order = [b for b in scope.run_order() if only is None or b in only]
        self.runnable = scope.order is not None
        self.pos = {b: i for i, b in enumerate(self.order)}
        self.steps = {bid: _step(scope.blocks[bid], scope.blocks) for bid in self.order}
        consumers = scope.consumers()
        self.succs = {b: {c for c in consumers[b] if c in self.pos} for b in self.order}
        self.preds = {b: set() for b in self.succs}
        for u, vs in self.succs.items():
            for v in vs:
                self.preds[v].add(u)
        #: the page's Variables, and whether any block updates one (then runs have cycles)
        self.variables = [b for b in self.order if _is_variable(scope.blocks[b])]
        self.stateful = bool(self.variables)
        self._release: dict[str, list] | None = None

    def outcome(self, bid: str, results: dict, stopped: bool = False) -> BlockResult | None:
        """The result block `bid` gets without running, or None when it should run."""
        return static_outcome(self.scope.blocks[bid], results, stopped)

    def task(self, bid: str, results: dict, feeds: dict, options: RunOptions) -> Task:
        """The Task of block `bid`, its inputs gathered from literals and upstream results."""
        step = self.steps[bid]
        arrays, dtypes = gather(step.block, results)
        return Task(step.block, arrays, dtypes, feeds.get(bid), step.memo, options.state,
                    options.max_bytes, step.refs)

    def release_after(self) -> dict[str, list]:
        """{block id: blocks whose outputs may be dropped once it has run} (their last consumer)."""
        if self._release is None:
            last = {bid: max(self.succs[bid], key=self.pos.get) if self.succs[bid] else bid
                    for bid in self.order}
            plan: dict[str, list] = {}
            for bid, when in last.items():
                plan.setdefault(when, []).append(bid)
            self._release = plan
        return self._release


def _step(b: Block, blocks: dict) -> Step:
    """A block's step; an update's `refs` name the Variables its ref ports are fed by (a port fed
    by a Placeholder names none: its update is only output)."""
    constant = [p for p, v in b.inputs.items()
                if all(isinstance(x, Literal) for x in (v if isinstance(v, list) else [v]))]
    refs = None
    if b.defn is not None and b.defn.ref_ports:
        refs = {p: b.inputs[p].block for p in b.defn.ref_ports
                if isinstance(b.inputs.get(p), Ref) and _is_variable(blocks.get(b.inputs[p].block))}
    return Step(b, RunMemo(constant), refs)


def _is_variable(b: Block | None) -> bool:
    return b is not None and b.defn is not None and b.defn.variable


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
