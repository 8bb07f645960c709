"""`RunMemo`: what binding a block to its inputs works out before computing (type attrs, output
specs, the bytes the outputs need), kept by the dtypes and shapes of the inputs, so a block that
runs again on inputs of the same dtypes and shapes skips its shape function.

A performance device with one rule: an entry is kept only when the shape function read no
value but those of `constant_ports` (literal inputs, the same every run; `ShapeContext.reads`
says which it read), and specs are kept without values, which the run never reads. Nothing is
kept on a block's first run (`warm` is False), so a page run once pays nothing. The run plan
owns one memo per block (`run.plan`); nothing else knows about it.
"""
from __future__ import annotations

import numpy as np

from ..core import binding, budget
from ..core.blockdef import Spec


class RunMemo:
    __slots__ = ("constant_ports", "entries", "warm")
    MAX_ENTRIES = 16

    def __init__(self, constant_ports=frozenset()):
        self.constant_ports = frozenset(constant_ports)
        self.entries: dict = {}
        self.warm = False

    def bind(self, defn, inputs: dict, attrs: dict, in_dtypes: dict, feed=None):
        """(attrs, output specs, output bytes or None) for this call: from the memo when an
        earlier call had inputs of the same dtypes and shapes, else by `binding.bind`."""
        if not self.warm:
            self.warm = True
            attrs, specs, _ = binding.bind(defn, inputs, attrs, in_dtypes, feed)
            return attrs, specs, budget.output_bytes(specs)
        key = _signature(inputs, in_dtypes, feed)
        hit = self.entries.get(key)
        if hit is not None:
            return hit
        attrs, specs, reads = binding.bind(defn, inputs, attrs, in_dtypes, feed)
        need = budget.output_bytes(specs)
        if len(self.entries) < self.MAX_ENTRIES and reads <= self.constant_ports:
            self.entries[key] = (attrs, [_without_value(s) for s in specs], need)
        return attrs, specs, need


def _without_value(s):
    if type(s) is list:
        return [_without_value(x) for x in s]
    return s if s.value is None else Spec(s.dtype, s.shape)


def _signature(inputs: dict, in_dtypes: dict, feed) -> tuple:
    """The memo key of a call: each input's dtype and shape (and a feed's shape)."""
    key = [(p, in_dtypes[p], v.shape) if type(v) is not list else
           (p, tuple(in_dtypes[p]), tuple([a.shape for a in v])) for p, v in inputs.items()]
    if feed is not None:
        key.append(("<feed>", np.shape(feed)))
    return tuple(key)
