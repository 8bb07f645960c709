"""TensorFlow's OpDef dtype lists (`tf_opdefs.json`, generated from TF by `tools/tf_opdefs.py`):
which dtypes each op's OpDef allows per type attr, in the OpDef's order. Read only when a page
gives an op a dtype its CPU kernel does not take, to say it in TF's words: "Value for attr 'T'
of bool is not in the list of allowed values: ..." (the OpDef refuses it) or "Could not find
device for node: ..." (the OpDef allows it, no CPU kernel registers it)."""
from __future__ import annotations

import functools
import json
import os

_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tf_opdefs.json")


@functools.lru_cache(maxsize=1)
def _table() -> dict:
    try:
        with open(_PATH, encoding="utf-8") as fh:
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
