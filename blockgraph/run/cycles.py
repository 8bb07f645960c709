"""Running a plan cycle after cycle, its Variables kept between cycles (`run.state`).

Before the first cycle the Variables get their values: from `state` when given (saved values,
e.g. `--state FILE.npz`), else from their `init:` (a literal or file, or the blocks an init
refers to, run once). Each cycle runs every block once with the executor, then commits the
cycle's updates. A cycle in which a block fails ends the run (its results are the ones shown).
`trace` patterns (globs on BLOCK.PORT) record those outputs of every cycle.

With the sequential executor, the cycles between the first and the last are replayed
(`run.replay`): the same kernels on the same inputs, without the per-run bookkeeping; the
callbacks of the run (progress) see the first and the last cycle's blocks, `on_cycle` every
cycle. Any failure in a replayed cycle runs that cycle again the normal way, which reports it.
"""
from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatchcase

import numpy as np

from ..core.results import Results
from ..core.variables import init_blocks
from . import cancel, sequential
from .plan import Plan, RunOptions
from .replay import Fallback, Replay
from .state import State, check_values, commit_updates


def run(executor, plan: Plan, feeds, options: RunOptions, *, cycles: int = 1, state=None,
        trace=None, on_cycle=None) -> Results:
    """Run `cycles` cycles of `plan`; the Results of the last one, with `.state` (the
    Variables after it), `.cycles` (cycles run) and `.traces`. on_cycle(k, results) is called
    after each cycle. On dask, the whole run is one task (cycles share state, so they cannot
    spread over a cluster)."""
    if executor.name == "dask":
        job = (plan, feeds, replace(options, callbacks=RunOptions().callbacks), cycles, state, trace)
        return next(executor.map(_one_task, [(0, job)]))[1]
    st = State(initial_values(plan, feeds, options, state))
    opts = replace(options, state=st, seam=options.seam.with_extra(commit_updates))
    recorder = Trace(trace) if trace else None
    results, replay = None, None
    k = 0
    while k < cycles:
        k += 1
        if replay is not None and k < cycles:       # a middle cycle: replayed
            try:
                replay.cycle(recorder.record_values if recorder is not None else None)
                st.commit()
                if on_cycle is not None:
                    on_cycle(k, results)
                cancel.check()
                continue
            except Fallback:          # run this cycle the normal way, which reports the failure
                st.pending.clear()
                replay = None
        results = executor.run(plan, feeds, opts)
        st.commit()
        if recorder is not None:
            recorder.record(results)
        if on_cycle is not None:
            on_cycle(k, results)
        if not results.ok:
            break
        cancel.check()
        if replay is None and k < cycles - 1 and _replayable(executor, plan, options):
            try:
                replay = Replay(plan, results, feeds, st, options.max_bytes)
            except Fallback:
                replay = None
    results.cycles = k
    results.state = st.snapshot()
    results.traces = recorder.arrays() if recorder is not None else {}
    return results


def _one_task(plan, feeds, options, cycles, state, trace):
    """A many-cycle run as one task of an executor's map (module-level: picklable)."""
    return run(sequential.Sequential(), plan, feeds, options, cycles=cycles, state=state,
               trace=trace)


def _replayable(executor, plan: Plan, options: RunOptions) -> bool:
    """Whether middle cycles may be replayed (`run.replay`): the sequential executor, with the
    plain seam (a wrapper of the run, such as a cache, sees every block of every cycle), and
    nothing freed early (--keep)."""
    return executor.name == "sequential" and options.seam.extra == () and not options.keep


def initial_values(plan: Plan, feeds, options: RunOptions, state=None) -> dict:
    """The Variables' values before the first cycle: `state` ({id: array}) for those it holds,
    else their literal/file `init:`, else the output of the block their `init:` names (those
    blocks run once, sequentially)."""
    scope = plan.scope
    given = check_values(scope, dict(state), "state") if state else {}
    values = {}
    refs = {}
    for bid in plan.variables:
        b = scope.blocks[bid]
        if bid in given:
            values[bid] = given[bid]
        elif "init" in b.attrs:
            values[bid] = b.attrs["init"]
        elif b.init is not None:
            refs[bid] = b.init
    if refs:
        sub = sequential.run(Plan(scope, only=init_blocks(scope)), feeds,
                             replace(options, keep=None, callbacks=RunOptions().callbacks))
        for bid, ref in refs.items():
            r = sub.block(ref.block)
            if r.ok:
                values[bid] = sub[str(ref)]
    return values


class Trace:
    """The outputs matching `patterns` (globs on BLOCK.PORT[.I]) of every cycle."""

    def __init__(self, patterns):
        self.patterns = list(patterns)
        self.seen: dict[str, list] = {}
        self.cycle = 0
        self._memo: dict[str, bool] = {}

    def record(self, results) -> None:
        self.cycle += 1
        for r in results:
            if not r.ok:
                continue
            for suffix, _, a in r.items():
                key = f"{r.id}.{suffix}"
                if self._wanted(key, r.id):
                    self.seen.setdefault(key, []).append((self.cycle, a))

    def record_values(self, values: dict) -> None:
        """Record a replayed cycle's values ({(block, port): array or list of arrays})."""
        self.cycle += 1
        for (bid, port), v in values.items():
            items = [(f"{bid}.{port}.{i}", a) for i, a in enumerate(v)] if isinstance(v, list) \
                else [(f"{bid}.{port}", v)]
            for key, a in items:
                if self._wanted(key, bid):
                    self.seen.setdefault(key, []).append((self.cycle, a))

    def _wanted(self, key: str, bid: str) -> bool:
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = any(fnmatchcase(key, p) or fnmatchcase(bid, p)
                                        for p in self.patterns)
        return hit

    def arrays(self) -> dict[str, np.ndarray]:
        """{BLOCK.PORT: values of every cycle stacked on a new first axis} (a key missing from
        some cycle, or whose shape changed, keeps the cycles it had, from its first)."""
        out = {}
        for key, items in self.seen.items():
            shape = items[0][1].shape
            out[key] = np.stack([a for _, a in items if a.shape == shape])
        return out
