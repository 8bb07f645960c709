"""Replaying cycles: the fast path of a many-cycle run, so a cycle does not pay the full price of
a run.

After a first cycle has run the normal way, `Replay` keeps, per block, where each input comes
from, the attrs and output specs its binding worked out, and its kernel; a replayed cycle then
calls the kernels in run order with the values of the cycle, and checks only what can change:
each input's dtype and shape against the first cycle's (a block whose shape function reads a
value that is not a literal is bound again). Outputs are still checked against their specs by
`binding.compute`. Nothing of a replayed cycle is kept but the Variables' new values and the
traced outputs; any failure hands the cycle back to the executor (`Fallback`), which runs it the
normal way and reports it as usual. Results are unchanged: the same kernels run on the same
inputs.
"""
from __future__ import annotations

import numpy as np

from ..core import binding
from ..core import dtypes as dt
from ..core.contexts import CallContext
from ..core.scope import Literal, Ref
from . import cancel
from .plan import Plan, gather


class Fallback(Exception):
    """A replayed cycle that must run the normal way (a block failed, a signature changed in a
    way the replay cannot follow)."""


class _Step:
    """One block of a replayed cycle (what `Replay.cycle` needs of it, worked out once)."""
    __slots__ = ("bid", "defn", "raw_attrs", "attrs", "specs", "getters", "signature", "dtypes",
                 "ctx", "rebind", "outputs", "feed", "fast", "kwargs", "expect")


class Replay:
    """The plan's blocks, bound with the inputs of an earlier cycle (`results`)."""

    def __init__(self, plan: Plan, results, feeds: dict, state, max_bytes=None):
        self.state = state
        self.steps = []
        for bid in plan.order:
            b = plan.scope.blocks[bid]
            if not b.valid:
                raise Fallback(bid)
            st = _Step()
            st.bid, st.defn, st.raw_attrs = bid, b.defn, b.attrs
            st.feed = feeds.get(bid)
            inputs, dtypes = gather(b, results.blocks)
            attrs, specs, reads = binding.bind(b.defn, inputs, b.attrs, dtypes, st.feed)
            constant = {p for p, v in b.inputs.items()
                        if all(isinstance(x, Literal) for x in (v if isinstance(v, list) else [v]))}
            st.rebind = not reads <= constant
            st.attrs, st.specs = attrs, specs
            st.signature, st.dtypes = _signature(inputs), dtypes
            st.getters = tuple((port, _getter(plan.scope, v)) for port, v in b.inputs.items())
            st.outputs = tuple(o.name for o in b.defn.outputs)
            st.ctx = CallContext(bid, b.op, specs, st.feed, state, max_bytes, cancel.STOP,
                                 plan.steps[bid].refs) if b.defn.context else None
            _prepare_call(st, inputs)
            self.steps.append(st)

    def cycle(self, record=None) -> dict:
        """Run one cycle: stage the Variables' updates on the state; returns {(block, port):
        value} of the cycle. `record(values)` may read it before the next cycle."""
        values: dict = {}
        pending = self.state.pending
        for st in self.steps:
            ctx = st.ctx
            if st.fast:            # one kernel, a fixed signature: call it directly
                kw = st.kwargs.copy()
                sig = st.signature
                for i, (port, get) in enumerate(st.getters):
                    v = kw[port] = get(values)
                    if type(v) is list or v.shape != sig[i][2] or v.dtype != sig[i][1]:
                        break
                else:
                    if ctx is not None:
                        ctx.updates = {}
                    try:
                        out = st.defn.kernels[-1].fn(ctx, **kw) if ctx is not None else \
                            st.defn.kernels[-1].fn(**kw)
                    except Exception as e:
                        raise Fallback(st.bid) from e
                    exp = st.expect
                    if type(out) is np.ndarray and out.dtype == exp[0] and out.shape == exp[1]:
                        if ctx is not None and ctx.updates:
                            pending.update(ctx.updates)
                        values[(st.bid, st.outputs[0])] = out
                        continue
                    outs = _checked(st, out)
                    if ctx is not None and ctx.updates:
                        pending.update(ctx.updates)
                    values[(st.bid, st.outputs[0])] = outs[0]
                    continue
            self._general(st, values, pending)
        if record is not None:
            record(values)
        return values

    def _general(self, st, values, pending):
        """A block the direct call does not cover (several kernels, several outputs, a changed
        signature, a shape function reading values): bound and computed the normal way."""
        inputs = {port: get(values) for port, get in st.getters}
        attrs, specs = st.attrs, st.specs
        if st.rebind or _signature(inputs) != st.signature:
            try:           # the TF dtypes stay the first cycle's; shapes and values may not
                attrs, specs, _ = binding.bind(st.defn, inputs, st.raw_attrs, st.dtypes, st.feed)
            except Exception as e:        # the normal run reports it at its block
                raise Fallback(st.bid) from e
        ctx = st.ctx
        if ctx is not None:
            ctx.updates = {}
            ctx.specs = specs
        try:
            outs = binding.compute(st.defn, inputs, attrs, specs, ctx)
        except Exception as e:
            raise Fallback(st.bid) from e
        if ctx is not None and ctx.updates:
            pending.update(ctx.updates)
        bid = st.bid
        for name, value in zip(st.outputs, outs):
            values[(bid, name)] = value


def _prepare_call(st: _Step, inputs: dict) -> None:
    """Whether a block can be called directly (one kernel, one tensor output, no value read by
    its shape function, no list input), and the fixed part of its call."""
    defn = st.defn
    out = defn.outputs[0] if len(defn.outputs) == 1 else None
    st.fast = (len(defn.kernels) == 1 and out is not None and not out.list and not st.rebind
               and all(type(v) is not list for v in inputs.values()))
    if not st.fast:
        return
    args = defn.kernels[-1].args
    st.kwargs = {k: v for k, v in st.attrs.items() if args is None or k in args}
    st.getters = tuple((p, g) for p, g in st.getters if args is None or p in args)
    st.signature = tuple(x for x in st.signature if args is None or x[0] in args)
    spec = st.specs[0]
    st.expect = (dt.NUMPY[spec.dtype], spec.shape)


def _checked(st, out):
    try:
        return binding.checked_outputs(st.defn, out, st.specs)
    except Exception as e:
        raise Fallback(st.bid) from e


def _getter(scope, v):
    """A function reading one input (a reference, a literal, or a list of them) from the cycle's
    values."""
    if isinstance(v, list):
        items = [(isinstance(x, Ref) and _is_list_output(scope, x), _getter(scope, x)) for x in v]

        def get_list(values):
            out = []
            for whole_list, get in items:
                got = get(values)
                out.extend(got) if whole_list else out.append(got)
            return out
        return get_list
    if isinstance(v, Literal):
        a = v.array
        return lambda values: a
    src = scope.blocks[v.block]
    key = (v.block, v.port or src.defn.outputs[0].name)
    if v.index is None:
        return lambda values: values[key]
    index = v.index
    return lambda values: values[key][index]


def _is_list_output(scope, ref: Ref) -> bool:
    src = scope.blocks[ref.block]
    return ref.index is None and src.defn.outputs[src.output_index(ref.port)].list


def _signature(inputs: dict) -> tuple:
    return tuple((p, v.dtype, v.shape) if type(v) is not list else
                 (p, tuple((a.dtype, a.shape) for a in v)) for p, v in inputs.items())

