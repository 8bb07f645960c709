"""Element-wise math blocks against TensorFlow: each block's compute function (its fused kernel
when it takes the call, else the numpy reference) and TF's raw op in a worker process (its own
interpreter with TensorFlow, TF_ENABLE_ONEDNN_OPTS=0), timed in the same interleaved rounds
(benchmarks/common.py), on float32 tensors of 1e6 and 1e7 elements.

    .venv/bin/python benchmarks/bench_math_elementwise.py [--sizes 1000000,10000000]
        [--repeat 9] [--tf /work/tfvenv/bin/python]   (or BLOCKGRAPH_BENCH_TF_PYTHON)
Prints ms per call and the throughput ratio (TF time / ours; >= 1 is as fast as TF or
faster). Not a test: the numbers depend on the machine and on whatever else runs on it.
"""
from __future__ import annotations

import argparse
import os
import subprocess

import numpy as np

import common

#: op -> (input ports, second input kind: "same" tensor or "scalar")
CASES = {"Add": ("x", "y"), "Mul": ("x", "y"), "Sub": ("x", "y"), "Exp": ("x",),
         "Tanh": ("x",), "Sigmoid": ("x",), "Relu": ("features",)}
TF_WORKER = r'''
import sys, time, numpy as np, tensorflow as tf
ports = eval(sys.argv[1])
arrays = {}
print("ready", flush=True)
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == "load":
        n = int(cmd[1])
        rng = np.random.default_rng(0)
        arrays = {k: tf.constant(rng.uniform(-10, 10, n).astype(np.float32)) for k in ("a", "b")}
        print("ok", flush=True)
        continue
    op, settle = cmd[1], int(cmd[2])
    f = getattr(tf.raw_ops, op)
    kw = {p: arrays["ab"[i]] for i, p in enumerate(ports[op])}
    for _ in range(settle):
        f(**kw).numpy()
    t = time.perf_counter(); f(**kw).numpy(); dt = time.perf_counter() - t
    print(dt, flush=True)
'''


def _block_call(defn, inputs, attrs):
    """The block's compute function as the run calls it: the first kernel that takes it."""
    for k in defn.kernels:
        if k.accepts is None or k.accepts(inputs, attrs):
            out = k.fn(**inputs, **attrs)
            from blockgraph.core.blockdef import DECLINE
            if out is not DECLINE:
                return out
    raise RuntimeError("no kernel")


class TFWorker:
    def __init__(self, python):
        env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="3")
        self.p = subprocess.Popen([python, "-c", TF_WORKER, repr(CASES)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, env=env)
        assert self.p.stdout.readline().strip() == "ready"

    def ask(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def candidate(self, op):
        def fn(settle=0, settle_s=0.0):
            return float(self.ask(f"run {op} {max(settle, 1)}"))
        fn.self_timed = True
        return fn

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--tf", default=os.environ.get("BLOCKGRAPH_BENCH_TF_PYTHON",
                                                   "/work/tfvenv/bin/python"))
    a = ap.parse_args()
    from blockgraph.core import registry
    import blocks.math_binary, blocks.math_unary, blocks.nn_activations  # noqa: F401,E401
    tf = TFWorker(a.tf) if os.path.exists(a.tf) else None
    rows = []
    for n in (int(s) for s in a.sizes.split(",")):
        rng = np.random.default_rng(0)
        arrays = [rng.uniform(-10, 10, n).astype(np.float32) for _ in range(2)]
        if tf:
            tf.ask(f"load {n}")
        cands = {}
        for op, ports in CASES.items():
            defn = registry.get(op)
            inputs = {p: arrays[i] for i, p in enumerate(ports)}
            attrs = {"T": "float32"}
            _block_call(defn, inputs, attrs)                       # compile, warm up
            cands[op] = (lambda d=defn, i=inputs, t=attrs: _block_call(d, i, t))
            if tf:
                cands["tf:" + op] = tf.candidate(op)
        times = common.interleaved(cands, repeat=a.repeat, settle=2)
        for op in CASES:
            ours = times[op].median
            theirs = times["tf:" + op].median if tf else float("nan")
            rows.append({"op": op, "n": f"{n:.0e}", "ours": ours, "tf": theirs,
                         "ratio": theirs / ours})
    if tf:
        tf.close()
    print(common.table(rows, [("op", "op", ""), ("n", "n", ""), ("ours", "blockgraph ms", common.fmt_ms),
                              ("tf", "TF ms", common.fmt_ms), ("ratio", "vs TF", common.fmt_ratio)]))
    common.write_json("math_elementwise", {"machine": common.machine(), "rows": rows})


if __name__ == "__main__":
    main()
