"""Write `blockgraph/core/tf_opdefs.json`: for every op of `tests/fixtures/tf_ops.json`, the dtypes
its TensorFlow OpDef allows per type attr, in the OpDef's own order (dev-only: needs TF).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/tf_opdefs.py

TF's error for a dtype an OpDef refuses lists them in that order ("Value for attr 'T' of bool is
not in the list of allowed values: bfloat16, half, float, ..."); an attr absent from an op's entry
allows every dtype (a dtype TF's CPU kernel does not register is then "Could not find device").
"""
import json
import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402
from tensorflow.python.framework import op_def_registry  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def allowed(op: str) -> dict:
    """{type attr: [dtype names in OpDef order]} of the attrs with an allowed list."""
    op_def = op_def_registry.get(op)
    out = {}
    for a in op_def.attr if op_def is not None else ():
        if a.type in ("type", "list(type)") and a.allowed_values.list.type:
            out[a.name] = [tf.dtypes.as_dtype(t).name for t in a.allowed_values.list.type]
    return out


def main():
    with open(os.path.join(ROOT, "tests", "fixtures", "tf_ops.json")) as fh:
        ops = sorted(json.load(fh))
    table = {op: allowed(op) for op in ops}
    path = os.path.join(ROOT, "blockgraph", "core", "tf_opdefs.json")
    with open(path, "w") as fh:
        json.dump(table, fh, indent=0, sort_keys=True)
        fh.write("\n")
    print(f"wrote {path} ({len(table)} ops)")


if __name__ == "__main__":
    sys.exit(main())
