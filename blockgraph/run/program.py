"""A lowered many-cycle run: the middle cycles of a sequential run as a program of slots and
steps, prepared once from a cycle that ran the normal way, so a cycle does not pay a run's price.

Every output the cycles need gets a slot (an index into one list); each block that can change
from cycle to cycle gets a step: its input slots, its output slots, and its call — the run's
seam lowered for that block (`Seam.lower`: each wrapper composed once, around the kernel bound
once for the cycle's input signature, `binding.lower`). So a lowered cycle goes through the same
seam as a normal one, with no dicts, Tasks, BlockResults or bindings built per block. This is
not a second executor: what a wrapper does per call stays in its lowered form, and a wrapper
without one keeps the run from being lowered (`run.seam`).

What can change between cycles: the Variables some block updates, the update blocks, and what
reads them. Every other block is pure with the same inputs in every cycle, so its slots keep the
outputs it had in the cycle the program was prepared from (those are also the blocks a cache
would serve). A Variable's output is its slot; an update block's CallContext writes the new
value to a pending slot (`SlotContext`), and the end of a cycle moves each pending slot to its
Variable's slot (the commit is a slot swap; values are made read-only as `State.commit` makes
them).

A lowered cycle keeps no results: the run's Results come from its last cycle, which runs the
normal way, as does the first. Any exception in a lowered cycle — a block's error, a kernel
returning other dtypes or shapes than the lowered cycle's (`binding.Changed`) — abandons that
cycle before its commit; the caller runs it again the normal way, which reports a failure where
it happened, and may lower again from there. The caller enters `np.errstate(all="ignore")` once
for the lowered cycles (kernels compute under it anyway), not once per block.
"""
from __future__ import annotations

from ..core import binding, budget
from ..core.blockdef import LowerCall
from ..core.contexts import CallContext
from ..core.scope import Literal, Ref
from . import cancel
from .plan import Plan, gather
from .seam import Bound
from .state import frozen


class Fallback(Exception):
    """A run (or a cycle) that must go the normal way."""


class SlotContext(CallContext):
    """The CallContext of a lowered block: `assign` stages a Variable's new value in its pending
    slot of the program."""
    __slots__ = ("slots", "pending")

    def assign(self, port: str, value) -> None:
        self.slots[self.pending[port]] = value


class Program:
    """The lowered cycles of `plan`, prepared from `results`, a cycle of it that ran ok. Raises
    Fallback when the run cannot be lowered (a wrapper of its seam has no lowered form)."""

    def __init__(self, plan: Plan, results, feeds: dict, state, seam, max_bytes=None,
                 wanted=None):
        scope = plan.scope
        blocks = scope.blocks
        done = results.blocks
        self.slots: list = []
        self._slot: dict = {}                    # (block, port) -> slot
        self._scope = scope
        updates = {bid: plan.steps[bid].refs for bid in plan.order if plan.steps[bid].refs}
        updated = {v for refs in updates.values() for v in refs.values()}
        varying: set = set()
        for bid in plan.order:
            b = blocks[bid]
            if bid in updates or bid in updated or any(r.block in varying for _, r in b.refs()):
                varying.add(bid)
        self.variables = {v: self._out_slot(v, blocks[v], done) for v in updated}
        self.commits = []
        self.steps = []
        for bid in plan.order:
            if bid not in varying or bid in updated:
                continue
            b = blocks[bid]
            refs = updates.get(bid) or {}
            pending = {port: self._new_slot(None) for port in refs}
            self.commits += [(self.variables[var], pending[port]) for port, var in refs.items()]
            call, getters = self._bound(b, done, feeds.get(bid), state, max_bytes, varying, seam,
                                        refs, pending)
            outs = [self._out_slot(bid, b, done, o.name) for o in b.defn.outputs]
            self.steps.append(_step(self.slots, call, getters, outs, len(b.defn.outputs) == 1
                                    and not b.defn.outputs[0].list))
        self.traced = []
        if wanted is not None:
            for bid in plan.order:
                for suffix, _, _ in done[bid].items():
                    key = f"{bid}.{suffix}"
                    if wanted(key, bid):
                        port, _, i = suffix.partition(".")
                        self.traced.append((key, self._out_slot(bid, blocks[bid], done, port),
                                            int(i) if i else None))

    # ------------------------------------------------------------ preparing
    def _new_slot(self, value) -> int:
        self.slots.append(value)
        return len(self.slots) - 1

    def _out_slot(self, bid, b, done, port=None) -> int:
        """The slot of output `port` of block `bid` (its first by default), holding that
        output's value in the cycle lowered from until a step writes it."""
        port = port or b.defn.outputs[0].name
        key = (bid, port)
        if key not in self._slot:
            self._slot[key] = self._new_slot(done[bid].outputs[port])
        return self._slot[key]

    def _getter(self, v, done):
        """Where one input comes from: (slot, element index or None), or for a list port
        (function of no arguments returning the list, -1)."""
        if isinstance(v, list):
            items = []
            for x in v:
                src = self._scope.blocks[x.block] if isinstance(x, Ref) else None
                whole = src is not None and x.index is None and \
                    src.defn.outputs[src.output_index(x.port)].list
                items.append((whole,) + self._getter(x, done))
            slots = self.slots

            def get_list():
                out = []
                for whole, k, i in items:
                    got = slots[k] if i is None else slots[k][i]
                    out.extend(got) if whole else out.append(got)
                return out
            return get_list, -1
        if isinstance(v, Literal):
            return self._new_slot(v.array), None
        return self._out_slot(v.block, self._scope.blocks[v.block], done, v.port), v.index

    def _bound(self, b, done, feed, state, max_bytes, varying, seam, refs, pending):
        """The block's call lowered through `seam`, and the getters of its inputs (in the
        order of its declared ports)."""
        defn = b.defn
        inputs, dtypes = gather(b, done)
        ports = [p.name for p in defn.inputs if p.name in inputs]
        sample = {p: inputs[p] for p in ports}
        constant = {p for p, v in b.inputs.items()
                    if all(isinstance(x, Literal) or x.block not in varying
                           for x in (v if isinstance(v, list) else [v]))}
        attrs, specs, reads = binding.bind(defn, sample, b.attrs, dtypes, feed)
        ctx = None
        if defn.context:
            ctx = SlotContext(b.id, b.op, specs, feed, state, max_bytes, cancel.STOP, refs)
            ctx.slots, ctx.pending = self.slots, pending
        r = done[b.id]
        expect = [[(a.dtype, a.shape) for a in r.outputs[o.name]] if o.list else
                  (r.outputs[o.name].dtype, r.outputs[o.name].shape) for o in defn.outputs]
        call = LowerCall(attrs, sample, specs, {p: sample[p] for p in ports if p in constant}, ctx)
        bound = Bound(b, call, budget.output_bytes(specs), expect, dtypes, feed, max_bytes,
                      rebind=not reads <= constant)
        fn = seam.lower(bound)
        if fn is None:
            raise Fallback(b.id)
        return fn, [self._getter(b.inputs[p], done) for p in ports]

    # ------------------------------------------------------------ running
    def load(self, state) -> None:
        """Set the Variables' slots from `state` (its values at the start of the next cycle);
        their pending slots too (a cycle whose update stages nothing changes nothing)."""
        s = self.slots
        for var, k in self.variables.items():
            s[k] = state.values[var]
        for var, new in self.commits:
            s[new] = s[var]

    def store(self, state) -> None:
        """Write the Variables' slots back to `state`."""
        for var, k in self.variables.items():
            state.values[var] = self.slots[k]
        state.pending.clear()

    def cycle(self) -> None:
        """One cycle's steps (a step raising leaves the Variables as they were)."""
        for st in self.steps:
            st()

    def commit(self) -> None:
        """The end of a cycle: each Variable's slot takes its staged value."""
        s = self.slots
        for var, new in self.commits:
            s[var] = frozen(s[new])

    def traced_values(self) -> list:
        """[(BLOCK.PORT[.I], value)] of the traced outputs in the cycle just run."""
        s = self.slots
        return [(key, s[k] if i is None else s[k][i]) for key, k, i in self.traced]


def _step(s: list, call, getters, outs, single: bool):
    """One step as a function of no arguments reading and writing the slot list `s`."""
    if single and all(i is None for _, i in getters):
        o = outs[0]
        ks = [g for g, _ in getters]
        if len(ks) == 1:
            a, = ks

            def step1():
                s[o] = call(s[a])
            return step1
        if len(ks) == 2:
            a, b = ks

            def step2():
                s[o] = call(s[a], s[b])
            return step2
        if len(ks) == 3:
            a, b, c = ks

            def step3():
                s[o] = call(s[a], s[b], s[c])
            return step3

    def args():
        return [s[g] if i is None else g() if i == -1 else s[g][i] for g, i in getters]
    if single:
        o = outs[0]

        def step_n():
            s[o] = call(*args())
        return step_n

    def step_multi():
        for k, v in zip(outs, call(*args())):
            s[k] = v
    return step_multi
