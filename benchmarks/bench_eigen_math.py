"""Exp, Tanh, Sigmoid on 1e7 float32 elements: blocks.kernels.eigen (numba path, all cores)
vs TensorFlow's raw op (TF venv subprocess, TF_ENABLE_ONEDNN_OPTS=0), timed in alternating
rounds so both see the same machine load.

    .venv/bin/python benchmarks/bench_eigen_math.py [--n 10000000] [--rounds 15]
        [--tf /work/tfvenv/bin/python]
Prints the best and median round per op in ms. Not a test: the numbers depend on the machine
and on whatever else runs on it."""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPS = ("Exp", "Tanh", "Sigmoid")
TF_SERVER = r'''
import sys, time, numpy as np, tensorflow as tf
n = int(sys.argv[1])
x = tf.constant(np.random.default_rng(0).uniform(-10, 10, n).astype(np.float32))
for op in ("Exp", "Tanh", "Sigmoid"):
    getattr(tf.raw_ops, op)(x=x).numpy()
print("ready", flush=True)
for line in sys.stdin:
    f = getattr(tf.raw_ops, line.strip())
    t = time.perf_counter(); f(x=x).numpy(); dt = time.perf_counter() - t
    print(dt, flush=True)
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--tf", default="/work/tfvenv/bin/python")
    a = ap.parse_args()
    sys.path.insert(0, ROOT)
    from blocks.kernels import eigen
    x = np.random.default_rng(0).uniform(-10, 10, a.n).astype(np.float32)
    kernels = {op: eigen.get(op, "float32") for op in OPS}
    for k in kernels.values():
        k(x)                                    # compile / warm up
    tf = None
    if os.path.exists(a.tf):
        env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="3")
        tf = subprocess.Popen([a.tf, "-c", TF_SERVER, str(a.n)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, env=env)
        assert tf.stdout.readline().strip() == "ready"
    ours = {op: [] for op in OPS}
    theirs = {op: [] for op in OPS}
    for _ in range(a.rounds):
        for op in OPS:
            t = time.perf_counter()
            kernels[op](x)
            ours[op].append(time.perf_counter() - t)
            if tf:
                tf.stdin.write(op + "\n")
                tf.stdin.flush()
                theirs[op].append(float(tf.stdout.readline()))
    if tf:
        tf.stdin.close()
        tf.wait()
    print(f"{'op':8s} {'eigen best':>10s} {'median':>7s} {'tf best':>8s} {'median':>7s} "
          f"{'tf/eigen (best)':>15s}   n={a.n}, {a.rounds} alternating rounds, ms")
    for op in OPS:
        o, t = ours[op], theirs[op] or [float("nan")]
        print(f"{op:8s} {min(o) * 1e3:10.2f} {statistics.median(o) * 1e3:7.2f} "
              f"{min(t) * 1e3:8.2f} {statistics.median(t) * 1e3:7.2f} {min(t) / min(o):15.2f}")


if __name__ == "__main__":
    main()
