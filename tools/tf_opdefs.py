"""Write `blockgraph/core/tf_opdefs.json` and `blockgraph/core/tf_kernels.json` for every op of
`tests/fixtures/tf_ops.json` and of `blocks/index.json` that TF knows (dev-only: needs TF):

    TF_ENABLE_ONEDNN_OPTS=0 python tools/tf_opdefs.py

`tf_opdefs.json`: the dtypes each op's OpDef allows per type attr, in the OpDef's own order. TF's
error for a dtype an OpDef refuses lists them in that order ("Value for attr 'T' of bool is not in
the list of allowed values: bfloat16, half, float, ..."); an attr absent from an op's entry allows
every dtype (a dtype TF's CPU kernel does not register is then "Could not find device").

`tf_kernels.json`: {op: [line, ...]}, the kernels TF has registered for the op as its
`KernelsRegisteredForOp` lists them, which TF's "Could not find device for node: ..." error
appends after "All kernels registered for op OP:" (XLA's JIT kernels included: they register
when TF runs its first eager op, as in any program that hits the error). Each line is
`  device='CPU'; T in [DT_HALF]` (`; label='...'` after the device when a kernel has one, then
one `; NAME in [...]` per constraint: dtypes as DT_*, strings quoted), in the registry's order.
"""
import json
import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402
from tensorflow.core.framework import types_pb2  # noqa: E402
from tensorflow.python.framework import kernels, op_def_registry  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def allowed(op: str) -> dict:
    """{type attr: [dtype names in OpDef order]} of the attrs with an allowed list."""
    op_def = op_def_registry.get(op)
    out = {}
    for a in op_def.attr if op_def is not None else ():
        if a.type in ("type", "list(type)") and a.allowed_values.list.type:
            out[a.name] = [tf.dtypes.as_dtype(t).name for t in a.allowed_values.list.type]
    return out


def kernel_lines(op: str) -> list:
    """TF's `KernelsRegisteredForOp(op)`, one string per kernel (without the newlines)."""
    lines = []
    for k in kernels.get_registered_kernels_for_op(op).kernel:
        line = f"  device='{k.device_type}'"
        if k.label:
            line += f"; label='{k.label}'"
        for c in k.constraint:
            values = c.allowed_values.list
            items = ([types_pb2.DataType.Name(t) for t in values.type] if values.type else
                     ['"' + v.decode() + '"' for v in values.s])
            line += f"; {c.name} in [{', '.join(items)}]"
        lines.append(line)
    return lines


def _write(name: str, table: dict) -> None:
    path = os.path.join(ROOT, "blockgraph", "core", name)
    with open(path, "w") as fh:
        json.dump(table, fh, indent=0, sort_keys=True)
        fh.write("\n")
    print(f"wrote {path} ({len(table)} ops)")


def main():
    with open(os.path.join(ROOT, "tests", "fixtures", "tf_ops.json")) as fh:
        ops = {op for op in json.load(fh) if not op.startswith("_")}
    with open(os.path.join(ROOT, "blocks", "index.json")) as fh:
        ops |= {op for op in json.load(fh) if not op.startswith("grad:")}
    ops = sorted(op for op in ops if op_def_registry.get(op) is not None)
    _write("tf_opdefs.json", {op: allowed(op) for op in ops})
    tf.zeros([1]) + 1               # an eager op: XLA's JIT kernels register now
    _write("tf_kernels.json", {op: kernel_lines(op) for op in ops})


if __name__ == "__main__":
    sys.exit(main())
