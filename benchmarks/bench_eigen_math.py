"""Exp, Tanh, Sigmoid on 1e7 float32 elements: blocks.kernels.eigen (numba path, all cores)
vs TensorFlow's raw op timed in the same run (TF venv subprocess, TF_ENABLE_ONEDNN_OPTS=0).

    .venv/bin/python benchmarks/bench_eigen_math.py [--n 10000000] [--tf /work/tfvenv/bin/python]
Prints the best of `repeat` runs in ms. Not a test: numbers depend on the machine's load."""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TF_CODE = r'''
import json, sys, time, numpy as np, tensorflow as tf
n, reps = int(sys.argv[1]), int(sys.argv[2])
x = tf.constant(np.random.default_rng(0).uniform(-10, 10, n).astype(np.float32))
res = {}
for op in ("Exp", "Tanh", "Sigmoid"):
    f = getattr(tf.raw_ops, op); f(x=x).numpy()
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(x=x).numpy(); ts.append(time.perf_counter() - t)
    res[op] = min(ts)
print(json.dumps(res))
'''


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--tf", default="/work/tfvenv/bin/python")
    a = ap.parse_args()
    sys.path.insert(0, ROOT)
    from blocks.kernels import eigen
    x = np.random.default_rng(0).uniform(-10, 10, a.n).astype(np.float32)
    ours = {}
    for op in ("Exp", "Tanh", "Sigmoid"):
        k = eigen.get(op, "float32")
        k(x)                                    # compile / warm up
        ts = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            k(x)
            ts.append(time.perf_counter() - t)
        ours[op] = min(ts)
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="3")
    tf = {}
    if os.path.exists(a.tf):
        out = subprocess.run([a.tf, "-c", TF_CODE, str(a.n), str(a.repeat)], env=env,
                             capture_output=True, text=True, check=True).stdout
        tf = json.loads(out.strip().splitlines()[-1])
    print(f"{'op':8s} {'eigen ms':>9s} {'tf ms':>8s} {'tf/eigen':>9s}   (n={a.n}, best of {a.repeat})")
    for op in ours:
        t = tf.get(op, float("nan"))
        print(f"{op:8s} {ours[op] * 1e3:9.2f} {t * 1e3:8.2f} {t / ours[op]:9.2f}")


if __name__ == "__main__":
    main()
