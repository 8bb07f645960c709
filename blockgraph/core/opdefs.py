"""TensorFlow's OpDef dtype lists (`tf_opdefs.json`) and kernel registrations (`tf_kernels.json`),
generated from TF by `tools/tf_opdefs.py`: which dtypes each op's OpDef allows per type attr, in
the OpDef's order, and the kernels TF lists for the op. Read only when a page gives an op a dtype
its CPU kernel does not take, to say it in TF's words: "Value for attr 'T' of bool is not in the
list of allowed values: ..." (the OpDef refuses it) or "Could not find device for node: ...",
followed by TF's list of the op's kernels (the OpDef allows it, no CPU kernel registers it)."""
from __future__ import annotations

import functools
import json
import os

_HERE = os.path.dirname(os.path.abspath(__file__))


@functools.lru_cache(maxsize=2)
def _table(name: str = "tf_opdefs.json") -> dict:
    try:
        with open(os.path.join(_HERE, name), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):      # pragma: no cover - shipped with the package
        return {}


def allowed(op: str, attr: str):
    """The dtypes TF's OpDef of `op` allows for type attr `attr` (a list in its order), None when
    it allows every dtype, or False when the table does not know the op."""
    entry = _table().get(op)
    if entry is None:
        return False
    return entry.get(attr)


def kernels(op: str):
    """TF's list of the kernels registered for `op` as its "Could not find device" error prints
    it (one line per kernel), or None when the table does not know the op."""
    lines = _table("tf_kernels.json").get(op)
    return None if lines is None else "\n".join(lines)
