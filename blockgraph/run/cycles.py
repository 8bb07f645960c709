"""Running a plan cycle after cycle, its Variables kept between cycles (`run.state`).

Before the first cycle the Variables get their values: from `state` when given (saved values,
e.g. `--state FILE.npz`), else from their `init:` (a literal or file, or the blocks an init
refers to, run once). Each cycle runs every block once with the executor, then commits the
cycle's updates. A cycle in which a block fails ends the run (its results are the ones shown).
`trace` patterns (globs on BLOCK.PORT) record those outputs of every cycle.
"""
from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatchcase

import numpy as np

from ..core.results import Results
from ..core.variables import init_blocks
from . import cancel, sequential
from .plan import Plan, RunOptions
from .state import State, check_values, commit_updates


def run(executor, plan: Plan, feeds, options: RunOptions, *, cycles: int = 1, state=None,
        trace=None, on_cycle=None) -> Results:
    """Run `cycles` cycles of `plan`; the Results of the last one, with `.state` (the
    Variables after it), `.cycles` (cycles run) and `.traces`. on_cycle(k, results) is called
    after each cycle."""
    st = State(initial_values(plan, feeds, options, state))
    opts = replace(options, state=st, seam=options.seam.with_extra(commit_updates))
    recorder = Trace(trace) if trace else None
    results = None
    for k in range(1, cycles + 1):
        results = executor.run(plan, feeds, opts)
        st.commit()
        if recorder is not None:
            recorder.record(results)
        if on_cycle is not None:
            on_cycle(k, results)
        if not results.ok:
            break
        cancel.check()
    results.cycles = k
    results.state = st.snapshot()
    results.traces = recorder.arrays() if recorder is not None else {}
    return results


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

    def record(self, results) -> None:
        self.cycle += 1
        for r in results:
            if not r.ok:
                continue
            for suffix, _, a in r.items():
                key = f"{r.id}.{suffix}"
                if any(fnmatchcase(key, p) or fnmatchcase(r.id, p) for p in self.patterns):
                    self.seen.setdefault(key, []).append((self.cycle, a))

    def arrays(self) -> dict[str, np.ndarray]:
        """{BLOCK.PORT: values of every cycle stacked on a new first axis} (a key missing from
        some cycle, or whose shape changed, keeps the cycles it had, from its first)."""
        out = {}
        for key, items in self.seen.items():
            shape = items[0][1].shape
            out[key] = np.stack([a for _, a in items if a.shape == shape])
        return out
