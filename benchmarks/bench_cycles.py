#!/usr/bin/env python3
"""Cycle runs: enuSpace's sample `gradient_descent_xw_apply` (a 1-D linear regression trained by
ApplyGradientDescent: 11 blocks of scalars and 3-vectors of doubles) for 22,312 cycles — the
cycle enuSpace saved its results at — against the same step as a `tf.function` called 22,312
times in a TensorFlow worker process, timed in alternating rounds.

    .venv/bin/python benchmarks/bench_cycles.py [--cycles 22312] [--repeat 3] [--tf-python PY]

Goals (issue 15): the page's cycles take at most 0.5x TF's time; at most 3 us per block per
cycle. TensorFlow comes from --tf-python (or BLOCKGRAPH_BENCH_TF_PYTHON), else it is skipped.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

import blockgraph  # noqa: E402

PAGE = """format: 1
page: gradient_descent_xw_apply
blocks:
  x: {op: VariableV2, init: {value: [1.0, 2.0, 3.0], dtype: float64}}
  y: {op: VariableV2, init: {value: [1.0, 2.0, 3.0], dtype: float64}}
  w: {op: VariableV2, init: {value: [100.0], dtype: float64}}
  hypothesis: {op: Mul, inputs: {x: x, y: w}}
  error: {op: Sub, inputs: {x: hypothesis, y: y}}
  squared: {op: Square, inputs: {x: error}}
  cost: {op: Mean, inputs: {input: squared, axis: 0}, attrs: {keep_dims: true}}
  slope: {op: Mul, inputs: {x: error, y: x}}
  gradient: {op: Mean, inputs: {input: slope, axis: 0}, attrs: {keep_dims: true}}
  rate: {op: Const, attrs: {value: 0.0001, dtype: float64}}
  step: {op: ApplyGradientDescent, inputs: {var: w, alpha: rate, delta: gradient}}
"""
BLOCKS = 11

TF_WORKER = r"""
import os, sys, time, json
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0"); os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf
cycles, repeat = int(sys.argv[1]), int(sys.argv[2])
times = []
for _ in range(repeat):
    x = tf.Variable([1.0, 2.0, 3.0], dtype=tf.float64)
    y = tf.Variable([1.0, 2.0, 3.0], dtype=tf.float64)
    w = tf.Variable([100.0], dtype=tf.float64)
    rate = tf.constant(0.0001, tf.float64)

    @tf.function
    def step():
        error = x * w - y
        cost = tf.reduce_mean(tf.square(error), 0, keepdims=True)
        gradient = tf.reduce_mean(error * x, 0, keepdims=True)
        tf.raw_ops.ResourceApplyGradientDescent(var=w.handle, alpha=rate, delta=gradient)
        return cost
    step()                                   # trace it, then start from the initial w again
    w.assign([100.0])
    t0 = time.perf_counter()
    for _ in range(cycles):
        step()
    times.append(time.perf_counter() - t0)
    final = float(w.numpy()[0])
print(json.dumps({"times": times, "w": final, "version": tf.__version__}))
"""


def run_tf(python: str, cycles: int, repeat: int) -> dict:
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([python, "-c", TF_WORKER, str(cycles), str(repeat)], capture_output=True,
                       text=True, env=env, timeout=3600)
    if r.returncode:
        return {"error": r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "failed"}
    return json.loads(r.stdout.strip().splitlines()[-1])


def run_blockgraph(cycles: int, repeat: int) -> dict:
    page = blockgraph.load_page("xw_apply.yaml", text=PAGE)
    assert not page.diagnostics, [d.format() for d in page.diagnostics]
    page.run(cycles=3)                      # warm: imports, memos
    times, w = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        r = page.run(cycles=cycles)
        times.append(time.perf_counter() - t0)
        w = float(r.state["w"][0])
    return {"times": times, "w": w}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=22312)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tf-python", default=os.environ.get("BLOCKGRAPH_BENCH_TF_PYTHON"))
    args = ap.parse_args(argv)
    bg_times, tf_times, tf_note, w_tf = [], [], "TensorFlow not timed (no --tf-python)", None
    for _ in range(args.repeat):            # alternate, so both see the machine's drift
        bg = run_blockgraph(args.cycles, 1)
        bg_times += bg["times"]
        if args.tf_python:
            t = run_tf(args.tf_python, args.cycles, 1)
            if "error" in t:
                tf_note = f"TensorFlow failed: {t['error']}"
                args.tf_python = None
            else:
                tf_times += t["times"]
                w_tf = t["w"]
                tf_note = f"TensorFlow {t['version']} (tf.function per cycle) in a worker process"
    bg_s = sorted(bg_times)[len(bg_times) // 2]
    rows = [{"what": "blockgraph page.run(cycles)", "s": bg_s,
             "us_cycle": bg_s / args.cycles * 1e6, "us_block_cycle": bg_s / args.cycles / BLOCKS * 1e6}]
    if tf_times:
        tf_s = sorted(tf_times)[len(tf_times) // 2]
        rows.append({"what": "TF tf.function x cycles", "s": tf_s, "us_cycle": tf_s / args.cycles * 1e6,
                     "us_block_cycle": float("nan")})
    print(f"Cycle runs: {args.cycles} cycles of gradient_descent_xw_apply ({BLOCKS} blocks), "
          f"median of {args.repeat}; {tf_note}")
    print(common.table(rows, [("what", "run", "s"), ("s", "seconds", ".3f"),
                              ("us_cycle", "us/cycle", ".1f"), ("us_block_cycle", "us/block/cycle", ".2f")]))
    result = {"cycles": args.cycles, "blockgraph_s": bg_s, "w": bg["w"], "w_tf": w_tf,
              "us_per_block_cycle": rows[0]["us_block_cycle"]}
    if tf_times:
        result["tf_s"] = rows[1]["s"]
        result["ratio"] = bg_s / rows[1]["s"]
        same = "the same bits" if bg["w"] == w_tf else "DIFFERENT"
        print(f"blockgraph / TF = {result['ratio']:.2f}x (goal <= 0.5x); "
              f"{result['us_per_block_cycle']:.2f} us per block per cycle (goal <= 3); "
              f"w after the run: {bg['w']!r} here, {w_tf!r} in TF ({same})")
    print(f"wrote {common.write_json('cycles', {'machine': common.machine(), **result})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
