"""The state of a run: the values of its Variables, and the cycle rule that makes a page behave
like clocked hardware (Variables are the registers).

In cycle k every read of a Variable sees the value it had at the start of cycle k; an update
block computes the new value from its inputs and outputs it; its update is staged
(`commit_updates`, a wrapper of the seam) and all updates of the cycle are committed together
at its end (`State.commit`). Values are read-only arrays: an update makes a new one.
"""
from __future__ import annotations

import numpy as np

from ..core import dtypes as dt
from ..core.errors import OpError, UsageError


class State:
    """{Variable id: value} at the start of the current cycle, and the updates staged for its end."""

    def __init__(self, values: dict | None = None):
        self.values: dict[str, np.ndarray] = {}
        self.pending: dict[str, np.ndarray] = {}
        for k, v in (values or {}).items():
            self.values[k] = frozen(v)

    def read(self, var: str) -> np.ndarray:
        try:
            return self.values[var]
        except KeyError:
            raise OpError(f"variable '{var}' has no value: give it an `init:` in the page, or "
                          "start from saved values (--state FILE.npz)") from None

    def stage(self, updates: dict) -> None:
        self.pending.update(updates)

    def commit(self) -> None:
        """End of a cycle: every staged update becomes the Variables' value."""
        for k, v in self.pending.items():
            self.values[k] = frozen(v)
        self.pending = {}

    def snapshot(self) -> dict[str, np.ndarray]:
        return dict(self.values)


def frozen(a) -> np.ndarray:
    """`a` read-only (a copy when it is a view of memory it does not own)."""
    if type(a) is not np.ndarray:
        a = np.asarray(a)
    if a.flags.writeable:
        a = a.copy() if not a.flags.owndata else a
        a.flags.writeable = False
    return a


def commit_updates(task, proceed):
    """The seam's state wrapper: once an update block has computed, stage the new values of the
    Variables it updates (nothing is staged when it fails)."""
    r = proceed(task)
    if r.ok and task.updates:
        task.state.stage(task.updates)
    return r


def _lower_commit(call, bound):
    return call     # lowered: the block's CallContext stages into the program's slots


commit_updates.lower = _lower_commit


def check_values(scope, values: dict, source: str) -> dict:
    """`values` ({Variable id: array}, e.g. from --state FILE.npz) checked against the page's
    Variables: known ids, their dtypes (bfloat16 may come as uint16 bits) and shapes.
    UsageError naming the first problem."""
    out = {}
    for k, a in values.items():
        b = scope.blocks.get(k)
        if b is None or b.defn is None or not b.defn.variable:
            raise UsageError(f"{source}: '{k}' is not a Variable of page '{scope.name}' "
                             f"(Variables: {', '.join(variables_of(scope)) or 'none'})")
        spec = b.specs[0] if b.specs else None
        a = np.asarray(a)
        if spec is not None and spec.dtype is not None:
            want = dt.to_numpy(spec.dtype)
            if spec.dtype == "bfloat16" and a.dtype.itemsize == 2 and a.dtype.kind in "uV":
                a = a.view(want)
            if a.dtype != want:
                raise UsageError(f"{source}: '{k}' holds {a.dtype}, variable '{k}' is {spec.dtype}")
            if spec.shape is not None and (len(spec.shape) != a.ndim or any(
                    d is not None and d != n for d, n in zip(spec.shape, a.shape))):
                raise UsageError(f"{source}: '{k}' has shape {list(a.shape)}, variable '{k}' is "
                                 f"{[d for d in spec.shape]}")
        out[k] = a
    return out


def variables_of(scope) -> list[str]:
    return [bid for bid, b in scope.blocks.items() if b.defn is not None and b.defn.variable]
