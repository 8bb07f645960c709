#!/usr/bin/env python3
"""Reductions and Softmax against TensorFlow: each block's compute function (its fused kernel
when it takes the call, else the numpy reference) and TF's raw op in a worker process (its own
interpreter with TensorFlow, TF_ENABLE_ONEDNN_OPTS=0, asked for one timed call per round), in
the same interleaved rounds (benchmarks/common.py).

    .venv/bin/python benchmarks/bench_math_reduce.py [--repeat 15]
        [--tf /work/tfvenv/bin/python]     (or BLOCKGRAPH_BENCH_TF_PYTHON)

Cases: Sum, Mean, Max and ArgMax of 1e7 float32 values over every axis and over the last axis
of [1000, 10000]; Softmax of [1024, 1000]. Prints ms per call (median) and the throughput
ratio (TF's time / ours: >= 1 is as fast as TF or faster). Both sides use every core. Not a
test: the numbers depend on the machine and on whatever else runs on it; on a machine whose
cores are busy, numba's OpenMP workers spinning between calls (and woken late) dominate the
medians: OMP_WAIT_POLICY=passive (set before the run) avoids that.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

#: (label, op, input shape, reduced axes or ArgMax's dimension; None: Softmax)
CASES = [("Sum 1e7", "Sum", (10_000_000,), [0]),
         ("Sum [1000,10000] axis -1", "Sum", (1000, 10000), [1]),
         ("Mean 1e7", "Mean", (10_000_000,), [0]),
         ("Mean [1000,10000] axis -1", "Mean", (1000, 10000), [1]),
         ("Max 1e7", "Max", (10_000_000,), [0]),
         ("Max [1000,10000] axis -1", "Max", (1000, 10000), [1]),
         ("ArgMax 1e7", "ArgMax", (10_000_000,), 0),
         ("ArgMax [1000,10000] axis -1", "ArgMax", (1000, 10000), 1),
         ("Softmax [1024,1000]", "Softmax", (1024, 1000), None)]


def make_case(op, shape, axis):
    """The tensor inputs of a case (numpy only: the TF worker makes the same)."""
    x = np.random.default_rng(0).standard_normal(shape, dtype=np.float32)
    if op == "Softmax":
        return {"logits": x}
    if op == "ArgMax":
        return {"input": x, "dimension": np.int32(axis)}
    return {"input": x, "axis": np.array(axis, np.int32)}


def tf_worker() -> int:
    """Run by the TF interpreter: one JSON request a line ({"case": i} makes case i's tensors,
    {"time": settle, "settle_s": s} times one call after the settle calls); one reply a line."""
    tf, why = common.load_tensorflow()
    print(json.dumps({"tensorflow": tf.__version__} if tf else {"error": why}), flush=True)
    call = None
    for line in sys.stdin:
        req = json.loads(line)
        if "case" in req:
            _, op, shape, axis = CASES[req["case"]]
            with tf.device("/CPU:0"):
                tensors = {k: tf.constant(v) for k, v in make_case(op, shape, axis).items()}
            fn = getattr(tf.raw_ops, op)
            call = (lambda f=fn, t=tensors: f(**t).numpy())
            call()
            print(json.dumps({"ok": True}), flush=True)
        else:
            print(json.dumps({"s": common.settled_call(call, req["time"], req["settle_s"])}),
                  flush=True)
    return 0


class TfWorker:
    """This process's end of `tf_worker`."""

    def __init__(self, python: str):
        env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="3")
        self.proc = subprocess.Popen([python, os.path.abspath(__file__), "--tf-worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     env=env)
        first = self._ask(None)
        self.error, self.version = first.get("error"), first.get("tensorflow")

    def _ask(self, req):
        if req is not None:
            self.proc.stdin.write(json.dumps(req) + "\n")
            self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        return json.loads(line) if line else {"error": "TF worker died"}

    def candidate(self, index: int):
        self._ask({"case": index})

        def timed(settle: int = 1, settle_s: float = 0.0) -> float:
            return self._ask({"time": settle, "settle_s": settle_s})["s"]
        timed.self_timed = True
        return timed

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def block_call(op, inputs):
    """The block's compute function as a run calls it: the first kernel that takes the call.
    Returns (the callable, the kernel's name)."""
    from blockgraph.core import registry
    from blockgraph.core.blockdef import DECLINE
    defn = registry.get(op)
    attrs = {"keep_dims": False, "T": "float32", "Tidx": "int32"} if op != "Softmax" else {"T": "float32"}
    if op == "ArgMax":
        attrs = {"output_type": "int64", "T": "float32", "Tidx": "int32"}
    for k in defn.kernels:
        if k.accepts is not None and not k.accepts(inputs, attrs):
            continue
        args = {n: v for n, v in {**inputs, **attrs}.items() if k.args is None or n in k.args}
        if k.fn(**args) is not DECLINE:
            return (lambda f=k.fn, a=args: f(**a)), k.name
    raise RuntimeError(f"{op}: every kernel declined")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--tf", default=os.environ.get("BLOCKGRAPH_BENCH_TF_PYTHON", "/work/tfvenv/bin/python"))
    ap.add_argument("--tf-worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.tf_worker:
        return tf_worker()
    tf = TfWorker(a.tf) if os.path.exists(a.tf) else None
    if tf is not None and tf.error:
        print(f"TensorFlow not timed: {tf.error}")
        tf = None
    rows = []
    for i, (label, op, shape, axis) in enumerate(CASES):
        fn, kernel = block_call(op, make_case(op, shape, axis))
        cands = {"ours": fn}
        if tf is not None:
            cands["tf"] = tf.candidate(i)
        t = common.interleaved(cands, repeat=a.repeat, settle=2, settle_s=0.02)
        ours, theirs = t["ours"].median, t["tf"].median if tf else float("nan")
        rows.append({"case": label, "kernel": kernel, "ours": ours, "tf": theirs,
                     "ratio": theirs / ours, "ours_min": t["ours"].min,
                     "tf_min": t["tf"].min if tf else float("nan")})
    if tf is not None:
        tf.close()
    print(common.table(rows, [("case", "case", ""), ("kernel", "kernel", ""),
                              ("ours", "blockgraph ms", common.fmt_ms),
                              ("tf", "TF ms", common.fmt_ms), ("ratio", "vs TF", common.fmt_ratio)]))
    print(f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}, "
          f"load average {os.getloadavg()[0]:.1f}")
    common.write_json("math_reduce", {"machine": common.machine(), "tf": tf.version if tf else None,
                                      "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
                                      "load_average": os.getloadavg(), "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
