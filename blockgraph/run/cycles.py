"""Running a plan cycle after cycle, its Variables kept between cycles (`run.state`).

Before the first cycle the Variables get their values: from `state` when given (saved values,
e.g. `--state FILE.npz`), else from their `init:` (a literal or file, or the blocks an init
refers to, run once). Each cycle runs every block once with the executor, then commits the
cycle's updates. A cycle in which a block fails ends the run (its results are the ones shown).
`trace` patterns (globs on BLOCK.PORT) record those outputs of every cycle.

With the sequential executor, the cycles between the first and the last are lowered
(`run.program`): the same seam and kernels, composed once for the run, on slots instead of
per-block results; the callbacks of the run (progress) see the first and the last cycle's
blocks, `on_cycle` every cycle. A lowered cycle that raises is run again the normal way, which
reports its failure; the run lowers again from there (at most LOWERINGS times).
"""
from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatchcase

import numpy as np

from ..core.results import Results
from ..core.variables import init_blocks
from . import cancel, sequential
from .plan import Plan, RunOptions
from .program import Program
from .state import State, check_values, commit_updates

#: how many times a run lowers its cycles (again after a lowered cycle fell back)
LOWERINGS = 4


def run(executor, plan: Plan, feeds, options: RunOptions, *, cycles: int = 1, state=None,
        trace=None, on_cycle=None) -> Results:
    """Run `cycles` cycles of `plan`; the Results of the last one, with `.state` (the
    Variables after it), `.cycles` (cycles run) and `.traces`. on_cycle(k, results) is called
    after each cycle (a lowered cycle keeps no results: it gets the last cycle run in full's,
    under the caller's np.errstate). On dask, the whole run is one task (cycles share state, so they cannot
    spread over a cluster)."""
    if executor.name == "dask":
        job = (plan, feeds, replace(options, callbacks=RunOptions().callbacks), cycles, state, trace)
        return next(executor.map(_one_task, [(0, job)]))[1]
    st = State(initial_values(plan, feeds, options, state))
    opts = replace(options, state=st, seam=options.seam.with_extra(commit_updates))
    recorder = Trace(trace) if trace else None
    results, program, lowerings = None, None, 0
    k = 0
    while k < cycles:
        if program is not None and k < cycles - 1:      # the middle cycles, lowered
            k = _lowered(program, k, cycles - 1, st, recorder, on_cycle, results)
            program = None
            continue
        k += 1
        results = executor.run(plan, feeds, opts)
        st.commit()
        if recorder is not None:
            recorder.record(results)
        if on_cycle is not None:
            on_cycle(k, results)
        if not results.ok:
            break
        cancel.check()
        if k < cycles - 1 and lowerings < LOWERINGS and _lowerable(executor, opts):
            lowerings += 1
            try:
                program = Program(plan, results, feeds, st, opts.seam, options.max_bytes,
                                  recorder.wanted if recorder is not None else None)
            except Exception:     # noqa: BLE001 - not lowerable (Fallback) or a block that
                program = None    # cannot be bound again: the cycles run in full
    results.cycles = k
    results.state = st.snapshot()
    results.traces = recorder.arrays() if recorder is not None else {}
    return results


def _lowered(program: Program, k: int, last: int, st: State, recorder, on_cycle, results) -> int:
    """Run cycles k+1..last with `program` (under one np.errstate; on_cycle under the caller's);
    the number of the last cycle it completed (a cycle that raised is left to the caller)."""
    program.load(st)
    outer = np.geterr()
    try:
        with np.errstate(all="ignore"):
            while k < last:
                try:
                    program.cycle()
                except Exception:     # noqa: BLE001 - run again the normal way, which reports it
                    break
                k += 1
                if recorder is not None:
                    recorder.record_pairs(program.traced_values())
                program.commit()
                if on_cycle is not None:
                    with np.errstate(**outer):
                        on_cycle(k, results)
                cancel.check()
    finally:
        program.store(st)
    return k


def _one_task(plan, feeds, options, cycles, state, trace):
    """A many-cycle run as one task of an executor's map (module-level: picklable)."""
    return run(sequential.Sequential(), plan, feeds, options, cycles=cycles, state=state,
               trace=trace)


def _lowerable(executor, options: RunOptions) -> bool:
    """Whether middle cycles may be lowered (`run.program`): the sequential executor (the
    others run every cycle as they run a page), a seam whose every wrapper has a lowered form,
    and nothing freed early (--keep: the lowered cycles read the first cycle's outputs)."""
    return executor.name == "sequential" and options.seam.lowerable and not options.keep


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
                if self.wanted(key, r.id):
                    self.seen.setdefault(key, []).append((self.cycle, a))

    def record_pairs(self, pairs) -> None:
        """Record a lowered cycle's traced outputs ([(BLOCK.PORT[.I], array)], all wanted)."""
        self.cycle += 1
        for key, a in pairs:
            self.seen.setdefault(key, []).append((self.cycle, a))

    def wanted(self, key: str, bid: str) -> bool:
        """Whether output `key` (BLOCK.PORT[.I]) of block `bid` is traced."""
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
