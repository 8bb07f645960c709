"""What the parallel executors share: `Tracker` turns block results arriving in any order into
the sequential executor's outcome.

--fail-fast is the sequential rule too: a block whose position in the run order comes after the
first failing block is skipped (an invalid one stays failed with its own error). Blocks after a
failure that have not started are never started; blocks before it in the run order still run, and
a block that happened to finish although an earlier block failed is reported as skipped.
Callbacks are called from the calling thread: `on_block` gets each block's final result once (in
completion order; with fail_fast in run order).
"""
from __future__ import annotations

from ..core.results import BlockResult, Results
from .plan import static_outcome


class Tracker:
    """Collects block results arriving in any order and turns them into the sequential
    executor's outcome; calls on_block once per block with its final result."""

    def __init__(self, plan, options):
        scope = plan.scope
        self.plan = plan
        self.scope = scope
        self.order = plan.order
        self.pos = plan.pos
        self.fail_fast = options.fail_fast
        self.cb = options.callbacks
        self.keep = list(options.keep) if options.keep else None
        self.raw: dict[str, BlockResult] = {}
        self.final: dict[str, BlockResult] = {}
        self.emitted = 0                    # fail_fast: results final up to this run position
        self.prefix_failed = False          # fail_fast: a failure among the emitted prefix
        # fail_fast: no block at a later position needs to start (invalid blocks fail statically)
        self.stop = min((self.pos[b] for b in self.order if not scope.blocks[b].valid),
                        default=len(self.order)) if self.fail_fast else len(self.order)
        self.preds, self.succs = plan.preds, plan.succs
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


def tick(callbacks) -> None:
    """Let a progress display redraw while the executor waits (callbacks with a `tick`)."""
    t = getattr(callbacks, "tick", None)
    if t is not None:
        t()
