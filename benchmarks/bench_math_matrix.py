#!/usr/bin/env python3
"""Matrix products, convolutions and pools against TensorFlow, timed in the same interleaved rounds.

    .venv/bin/python benchmarks/bench_math_matrix.py [--repeat 9] [--cases matmul256,...]
        [--tf-python PATH] [--json PATH]

For each case (float32), per round:
  block    the block's compute function (`defn.compute`, what a page run calls; no page overhead)
  numpy    the bare numpy operation it rests on, where there is one: np.matmul on the same arrays
           (numpy's OpenBLAS on one thread, as the blocks set it: `blocks/kernels/workshare.py`)
  tf       `tf.raw_ops.<op>` on the same arrays: in this process when TensorFlow imports here, else in
           a worker run by --tf-python (or BLOCKGRAPH_BENCH_TF_PYTHON), asked for one timed call per
           round (common.TfWorker), so both see the same machine state.
`vs tf` = tf time / block time (throughput ratio; medians). Goals (issue 14): MatMul >= 0.8x TF,
Conv2D >= 0.5x TF; the other rows are for information. TF runs with TF_ENABLE_ONEDNN_OPTS=0 (its
Eigen kernels) on every core; so do the blocks (BLOCKGRAPH_THREADS to limit them).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

NAME = "math_matrix"
#: name -> (op, {port: shape}, attrs, goal vs TF or None)
CASES = {
    "matmul256": ("MatMul", {"a": (256, 256), "b": (256, 256)}, {}, 0.8),
    "matmul1024": ("MatMul", {"a": (1024, 1024), "b": (1024, 1024)}, {}, 0.8),
    "conv2d": ("Conv2D", {"input": (8, 56, 56, 64), "filter": (3, 3, 64, 64)},
               {"strides": [1, 1, 1, 1], "padding": "SAME"}, 0.5),
    "batch_matmul": ("BatchMatMulV2", {"x": (64, 128, 128), "y": (64, 128, 128)}, {}, None),
    "depthwise": ("DepthwiseConv2dNative", {"input": (8, 56, 56, 64), "filter": (3, 3, 64, 1)},
                  {"strides": [1, 1, 1, 1], "padding": "SAME"}, None),
    "conv2d_backprop_input": ("Conv2DBackpropInput",
                              {"input_sizes": [8, 56, 56, 64], "filter": (3, 3, 64, 64),
                               "out_backprop": (8, 56, 56, 64)},
                              {"strides": [1, 1, 1, 1], "padding": "SAME"}, None),
    "conv2d_backprop_filter": ("Conv2DBackpropFilter",
                               {"input": (8, 56, 56, 64), "filter_sizes": [3, 3, 64, 64],
                                "out_backprop": (8, 56, 56, 64)},
                               {"strides": [1, 1, 1, 1], "padding": "SAME"}, None),
    "max_pool": ("MaxPool", {"input": (8, 56, 56, 64)},
                 {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}, None),
    "max_pool_grad": ("MaxPoolGrad", {"orig_input": (8, 56, 56, 64), "orig_output": (8, 28, 28, 64),
                                      "grad": (8, 28, 28, 64)},
                      {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}, None),
    "avg_pool": ("AvgPool", {"value": (8, 56, 56, 64)},
                 {"ksize": [1, 3, 3, 1], "strides": [1, 2, 2, 1], "padding": "SAME"}, None),
}
DEFAULT = "matmul256,matmul1024,conv2d"
ALL = ",".join(CASES)


def make_case(name: str):
    """(op, {port: array}, attrs) of a case: float32 arrays of the given shapes, int32 vectors
    of the given lists (sizes inputs); the TF worker makes the same arrays."""
    op, shapes, attrs, _ = CASES[name]
    rng = np.random.default_rng(0)
    return op, {p: np.array(s, np.int32) if isinstance(s, list)
                else rng.standard_normal(s, dtype=np.float32) for p, s in shapes.items()}, attrs


def tf_call(tf, name: str):
    op, arrays, attrs = make_case(name)
    with tf.device("/CPU:0"):
        tensors = {k: tf.constant(v) for k, v in arrays.items()}
    fn = getattr(tf.raw_ops, op)

    def call():
        with tf.device("/CPU:0"):
            return fn(**tensors, **attrs).numpy()     # .numpy(): the result is there, as ours
    return call


def block_candidates(name: str) -> dict:
    from blockgraph.core import attrs as attr_check
    from blockgraph.core import registry
    op, arrays, attrs = make_case(name)
    defn = registry.get(op)
    bound, errors = attr_check.bind_attrs(defn, attrs)
    if errors:
        raise SystemExit(f"{name}: {errors}")
    kwargs = {**arrays, **bound}
    args = defn.kernels[-1].args
    kwargs = {k: v for k, v in kwargs.items() if args is None or k in args}
    cands = {"block": lambda: defn.compute(**kwargs)}
    if op == "MatMul":
        cands["numpy"] = lambda: np.matmul(arrays["a"], arrays["b"])
    elif op == "BatchMatMulV2":
        cands["numpy"] = lambda: np.matmul(arrays["x"], arrays["y"])
    return cands


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", default=DEFAULT,
                    help=f"comma separated, of {', '.join(CASES)}; or all")
    ap.add_argument("--repeat", type=int, default=9, help="timed rounds (at least 5)")
    ap.add_argument("--min-seconds", type=float, default=1.0,
                    help="keep adding rounds until each candidate has run this long")
    ap.add_argument("--tf-python", default=os.environ.get("BLOCKGRAPH_BENCH_TF_PYTHON"))
    ap.add_argument("--json", help="where to write the results (default benchmarks/results/)")
    ap.add_argument("--tf-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.tf_worker:
        return common.tf_worker_loop(tf_call)
    names = [c.strip() for c in (ALL if args.cases == "all" else args.cases).split(",") if c.strip()]
    info = common.machine()
    tf, tf_note = common.load_tensorflow()
    worker = None
    if tf is None and args.tf_python:
        worker = common.TfWorker(args.tf_python, os.path.abspath(__file__), "--tf-worker")
        if worker.error:
            tf_note, worker = worker.error, None
        else:
            tf_note = (f"TensorFlow {worker.version} timed in a worker process "
                       f"({args.tf_python}), in the same interleaved rounds")
    elif tf is not None:
        tf_note = f"TensorFlow {tf.__version__} timed in this process"
    rows, cases = [], {}
    for name in names:
        cands = block_candidates(name)
        if tf is not None:
            cands["tf"] = tf_call(tf, name)
        elif worker is not None:
            cands["tf"] = worker.candidate(name)
        t = common.interleaved(cands, repeat=max(5, args.repeat), min_seconds=args.min_seconds)
        op, shapes, _, goal = CASES[name]
        row = {"case": name, "op": op,
               "shapes": " x ".join(str(list(s)) for s in shapes.values() if isinstance(s, tuple)),
               "block_ms": t["block"].median}
        if "numpy" in t:
            row["numpy_ms"] = t["numpy"].median
        if "tf" in t:
            row["tf_ms"] = t["tf"].median
            row["vs_tf"] = t["tf"].median / t["block"].median
            if goal is not None:
                row["goal"] = f">= {goal}x: " + ("ok" if row["vs_tf"] >= goal else "MISS")
        rows.append(row)
        cases[name] = {k: v.as_dict() for k, v in t.items()}
        print(f"  {name}: block {row['block_ms'] * 1e3:.3f} ms"
              + (f", {row['vs_tf']:.2f}x tf" if "vs_tf" in row else ""), file=sys.stderr, flush=True)
    if worker is not None:
        worker.close()
    info["loadavg_end"] = list(os.getloadavg())
    ms = common.fmt_ms
    print(f"Matrix products, convolutions, pools (medians; float32); {tf_note}")
    print(common.table(rows, [("case", "case", "s"), ("shapes", "shapes", "s"),
                              ("block_ms", "block ms", ms), ("numpy_ms", "numpy ms", ms),
                              ("tf_ms", "tf ms", ms), ("vs_tf", "vs tf", common.fmt_ratio),
                              ("goal", "goal", "s")]))
    path = common.write_json(NAME, {"benchmark": NAME, "machine": info, "tf_note": tf_note,
                                    "rows": rows, "cases": cases}, args.json)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
