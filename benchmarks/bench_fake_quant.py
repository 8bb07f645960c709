#!/usr/bin/env python3
"""The six FakeQuant blocks against their baselines, and the peak RSS of a large gradient.

    .venv/bin/python benchmarks/bench_fake_quant.py [--sizes 1e6,1e7] [--repeat 7]
        [--tf-python PATH] [--no-rss] [--json PATH]

For each op and size, timed in interleaved rounds in this process (median of >= 5 repeats):
  blockgraph  the block run through the Python API (`load_page` + `page.run(feeds)`)
  block       the block's compute function alone (no page/executor overhead)
  numpy       the same block with the fused kernels switched off (the plain numpy path)
  copyto      `np.copyto` of one input-sized float32 array (bandwidth baseline)
  tf          `tf.raw_ops.<op>` on tensors made beforehand, when TensorFlow imports here;
              otherwise, with --tf-python (or BLOCKGRAPH_BENCH_TF_PYTHON), in a worker process
              run by that interpreter on the same inputs, asked for one timed call per round
              (so TF's samples sit in the same interleaved rounds as the others); otherwise
              skipped with a note.
Ratios: `vs tf` = tf time / blockgraph time (throughput ratio); `copyto%` = blockgraph's read
bandwidth (bytes of the tensor inputs / time) over np.copyto's (bytes read / time).

Peak RSS of FakeQuantWithMinMaxVarsGradient on 1e7 elements: subprocesses that run the page
through the Python API ("run"), that stop before running it ("inputs": arrays made, page
loaded) or before making the inputs ("bare"), that only load numba and the kernel on a small
tensor ("numba runtime": the fixed cost of the JIT runtime), and that run the page with the
fused path off ("run numpy"). Each child reports its `ru_maxrss` and VmHWM; VmHWM is used
where Linux has it, since a forked child's ru_maxrss starts at its parent's RSS. They run
before anything big is allocated here. The run is judged against bare + 1.5x (inputs +
outputs), and against the runtime baseline ("numba runtime") + 1.5x (inputs + outputs).

If blocks/kernels/fake_quant.py does not dispatch to fake_quant_fused yet, the benchmark
patches the dispatch in (in its own process only) and says so in the output.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

NAME = "fake_quant"
ARGS = "FakeQuantWithMinMaxArgs"
VARS = "FakeQuantWithMinMaxVars"
PC = "FakeQuantWithMinMaxVarsPerChannel"
OPS = [ARGS, ARGS + "Gradient", VARS, VARS + "Gradient", PC, PC + "Gradient"]
SHORT = {ARGS: "Args", ARGS + "Gradient": "ArgsGradient", VARS: "Vars",
         VARS + "Gradient": "VarsGradient", PC: "PerChannel", PC + "Gradient": "PerChannelGradient"}
GOAL_TF, GOAL_COPY = 2.0, 0.5


# ----------------------------------------------------------------- cases
# numpy only: the TF worker process uses them too

def make_case(op: str, n: int, channels: int, seed: int = 0):
    """(tensor inputs {port: array}, attrs) of one case: inputs ~ N(0, 4^2) so that some fall
    outside the range, gradients ~ N(0, 1); per-channel tensors are (n // C, C)."""
    rng = np.random.default_rng(seed)
    shape = (n // channels, channels) if op.startswith(PC) else (n,)
    x = (rng.standard_normal(shape, dtype=np.float32) * np.float32(4))
    arrays = {}
    if op.endswith("Gradient"):
        arrays["gradients"] = rng.standard_normal(shape, dtype=np.float32)
    arrays["inputs"] = x
    attrs = {"num_bits": 8, "narrow_range": False}
    if op.startswith(PC):
        lo = (rng.standard_normal(channels, dtype=np.float32) - np.float32(4))
        arrays["min"] = lo
        arrays["max"] = (lo + rng.uniform(4, 10, channels)).astype(np.float32)
    elif op.startswith(VARS):
        arrays["min"] = np.asarray(np.float32(-3.1))
        arrays["max"] = np.asarray(np.float32(5.3))
    else:
        attrs.update(min=-6.0, max=6.0)
    return arrays, attrs


def input_bytes(arrays) -> int:
    """Bytes of the tensor inputs a kernel must read (gradients and inputs)."""
    return sum(a.nbytes for k, a in arrays.items() if k in ("gradients", "inputs"))


def parse_sizes(text: str) -> list:
    return [int(float(s)) for s in text.split(",") if s.strip()]


# ----------------------------------------------------------------- TensorFlow

def tf_candidate(tf, op, arrays, attrs):
    with tf.device("/CPU:0"):
        tensors = {k: tf.constant(v) for k, v in arrays.items()}
    fn = getattr(tf.raw_ops, op)

    def call():
        with tf.device("/CPU:0"):
            return fn(**tensors, **attrs)
    return call


def tf_server(args) -> int:
    """Run by a TensorFlow interpreter: time tf.raw_ops calls on request, so that they join the
    interleaved rounds of the main process (same machine state as blockgraph's timings).
    One JSON request per stdin line, one JSON reply per stdout line:
      {"case": op, "n": n, "channels": c} -> {"ok": true} (inputs made as make_case makes them)
      {"time": settle, "settle_s": t}     -> {"s": seconds of one call after `settle` untimed
                                             calls that took at least t seconds}
    The first line written is {"tensorflow": version} or {"error": why}."""
    tf, why = common.load_tensorflow()
    print(json.dumps({"tensorflow": tf.__version__} if tf is not None else {"error": why}),
          flush=True)
    if tf is None:
        return 0
    call = None
    for line in sys.stdin:
        req = json.loads(line)
        if "case" in req:
            arrays, attrs = make_case(req["case"], req["n"], req["channels"])
            call = tf_candidate(tf, req["case"], arrays, attrs)
            call()
            reply = {"ok": True}
        else:
            reply = {"s": common.settled_call(call, req["time"], req.get("settle_s", 0.0))}
        print(json.dumps(reply), flush=True)
    return 0


class TfServer:
    """The main process's end of `tf_server`, in a worker run by another interpreter."""

    def __init__(self, python: str):
        env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="2")
        self.proc = subprocess.Popen([python, os.path.abspath(__file__), "--tf-server"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        first = self._read()
        self.error = first.get("error")
        self.version = first.get("tensorflow")

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            err = self.proc.stderr.read().strip()[-300:]
            return {"error": f"TF worker failed: {err}"}
        return json.loads(line)

    def _ask(self, req: dict) -> dict:
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        got = self._read()
        if "error" in got:
            raise RuntimeError(got["error"])
        return got

    def candidate(self, op: str, n: int, channels: int):
        """A self-timed candidate for common.interleaved: called with `settle` (and `settle_s`),
        it returns the seconds of one timed call made in the worker."""
        self._ask({"case": op, "n": n, "channels": channels})

        def timed(settle: int, settle_s: float = 0.0) -> float:
            return self._ask({"time": settle, "settle_s": settle_s})["s"]
        timed.self_timed = True
        return timed

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


# ----------------------------------------------------------------- blockgraph

def wiring() -> str:
    """'applied' when the numpy kernel module dispatches to the fused kernels; otherwise patch
    that dispatch in (this process only) and return 'simulated'."""
    import inspect

    from blocks.kernels import fake_quant as fq
    from blocks.kernels import fake_quant_fused as ff
    if "fake_quant_fused" in inspect.getsource(fq.forward) + inspect.getsource(fq.backprop):
        return "applied"
    orig_forward, orig_backprop = fq.forward, fq.backprop

    def forward(x, n, divide):
        r = ff.fused_forward(x, n, divide)
        return orig_forward(x, n, divide) if r is None else r

    def backprop(gradients, x, n, *, reduce_axis=None):
        r = ff.fused_backprop(gradients, x, n, reduce_axis=reduce_axis)
        return orig_backprop(gradients, x, n, reduce_axis=reduce_axis) if r is None else r

    fq.forward, fq.backprop = forward, backprop
    return "simulated"


def _verdict(copy_frac, vs_tf) -> str:
    """'ok' when a case meets both goals (vs_tf None: TF not timed, that goal not judged)."""
    return "ok" if copy_frac >= GOAL_COPY and (vs_tf is None or vs_tf >= GOAL_TF) else "MISS"


def page_for(op, arrays, attrs):
    """A page with a Placeholder per tensor input (fed), min/max inputs as literals."""
    import yaml

    import blockgraph
    blocks, inputs, feeds = {}, {}, {}
    for port, a in arrays.items():
        if port in ("gradients", "inputs"):
            blocks[port] = {"op": "Placeholder",
                            "attrs": {"dtype": "float32", "shape": [int(d) for d in a.shape]}}
            inputs[port] = port
            feeds[port] = a
        else:
            inputs[port] = {"value": a.tolist(), "dtype": "float32"}
    blocks["fq"] = {"op": op, "inputs": inputs, "attrs": attrs}
    text = yaml.safe_dump({"format": 1, "page": "bench", "blocks": blocks}, sort_keys=False)
    page = blockgraph.load_page(os.path.join(common.ROOT, "bench_fake_quant.yaml"), text=text)
    if page.diagnostics:
        raise SystemExit("; ".join(d.format() for d in page.diagnostics))
    return page, feeds


def block_candidates(op, arrays, attrs):
    """{"blockgraph": page run, "block": compute function, "numpy": compute without fused}."""
    from blockgraph.core import registry
    from blocks.kernels import fake_quant_fused as ff
    registry.load_library()
    page, feeds = page_for(op, arrays, attrs)
    defn = registry.get(op)
    kwargs = dict(arrays, **attrs)

    def run_page():
        r = page.run(feeds)
        if r.block("fq").status != "ok":
            raise RuntimeError(r.block("fq").error)
        return r

    def block():
        return defn.compute(**kwargs)

    def numpy_path():
        saved = ff.MIN_ELEMENTS
        ff.MIN_ELEMENTS = sys.maxsize
        try:
            return defn.compute(**kwargs)
        finally:
            ff.MIN_ELEMENTS = saved

    return {"blockgraph": run_page, "block": block, "numpy": numpy_path}


def check_same(cands) -> None:
    """The fused block and the numpy path agree (bit for bit but for the sums' rounding)."""
    a, b = cands["block"](), cands["numpy"]()
    a, b = (a if isinstance(a, tuple) else (a,)), (b if isinstance(b, tuple) else (b,))
    if not np.array_equal(np.asarray(a[0]).view(np.uint32), np.asarray(b[0]).view(np.uint32)):
        raise SystemExit("fused and numpy outputs differ")
    for u, v in zip(a[1:], b[1:]):
        if not np.allclose(u, v, rtol=1e-5, atol=1e-3, equal_nan=True):
            raise SystemExit(f"fused and numpy sums differ: {u} {v}")


# ----------------------------------------------------------------- peak RSS

RSS_MODES = ("bare", "numba runtime", "inputs", "run", "run numpy")


def rss_child(mode: str, n: int) -> int:
    """In a subprocess: load the page (and make inputs, and run) as `mode` says; print JSON."""
    from blockgraph.core import registry
    registry.load_library()
    op = VARS + "Gradient"
    meta, attrs = make_case(op, 4, 1)          # "bare": the page on 4 elements
    stats = {"mode": mode, "n": n}
    if mode not in ("bare", "numba runtime"):
        rng = np.random.default_rng(0)
        g = rng.standard_normal(n, dtype=np.float32)
        x = rng.standard_normal(n, dtype=np.float32)
        x *= np.float32(4)
        meta.update(gradients=g, inputs=x)
        stats["input_bytes"] = g.nbytes + x.nbytes
    if mode.startswith("run"):
        stats["wiring"] = wiring()
    page, feeds = page_for(op, meta, attrs)
    if mode == "numba runtime":     # the fixed cost: numba imported, the gradient kernel loaded
        from blocks.kernels import fake_quant as fq
        from blocks.kernels import fake_quant_fused as ff
        small = np.ones(2 * ff.CHUNK, np.float32)   # two work items: the parallel kernel
        n_ = fq.Nudged(np.float32(-1), np.float32(1), 8, False)
        stats["fused"] = ff.fused_backprop(small, small, n_) is not None
    if mode.startswith("run"):
        r = page.run(feeds)
        blk = r.block("fq")
        if blk.status != "ok":
            raise SystemExit(blk.error)
        stats["output_bytes"] = sum(np.asarray(v).nbytes for v in blk.outputs.values())
        stats["numba_imported"] = "numba" in sys.modules
    stats["ru_maxrss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    hwm = vm_hwm()
    # ru_maxrss of a child that was forked from a bigger process starts at the parent's RSS;
    # VmHWM is this program image's own peak (Linux), so it is used when there is one
    stats["vmhwm_bytes"] = hwm
    stats["maxrss_bytes"] = hwm if hwm is not None else stats["ru_maxrss_bytes"]
    print(json.dumps(stats))
    return 0


def vm_hwm():
    """Peak resident set of this process image (VmHWM in /proc/self/status), or None."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def measure_rss(n: int) -> dict:
    out = {}
    for mode in RSS_MODES:
        env = dict(os.environ)
        if mode == "run numpy":
            env["BLOCKGRAPH_NO_FUSED"] = "1"
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--rss-child", mode,
                            "--rss-n", str(n)], capture_output=True, text=True, env=env)
        if r.returncode != 0:
            out[mode] = {"error": r.stderr.strip()[-500:]}
            continue
        out[mode] = json.loads(r.stdout.strip().splitlines()[-1])
    return out


def rss_report(rss: dict, n: int) -> tuple:
    """(rows for the table, summary dict)."""
    run = rss.get("run", {})
    if "maxrss_bytes" not in run or "maxrss_bytes" not in rss.get("bare", {}):
        return [], {"error": run.get("error") or rss.get("bare", {}).get("error")}
    in_out = run["input_bytes"] + run["output_bytes"]
    bare = rss["bare"]["maxrss_bytes"]
    # the interpreter with the runtime loaded: blockgraph, numba and the compiled kernels, no
    # tensors (numba's LLVM runtime is a fixed ~100 MiB, whatever the tensor size)
    base_runtime = rss.get("numba runtime", {}).get("maxrss_bytes")
    rows = []
    for mode in RSS_MODES:
        m = rss.get(mode, {})
        if "maxrss_bytes" in m:
            rows.append({"mode": mode, "mib": m["maxrss_bytes"] / 2**20,
                         "over_bare": (m["maxrss_bytes"] - bare) / 2**20,
                         "x_in_out": (m["maxrss_bytes"] - bare) / in_out})
    summary = {"n": n, "input_plus_output_bytes": in_out, "bare_bytes": bare,
               "runtime_baseline_bytes": base_runtime, "run_bytes": run["maxrss_bytes"],
               "limit_bare_plus_1p5x": bare + 1.5 * in_out,
               "ok_bare_plus_1p5x": run["maxrss_bytes"] <= bare + 1.5 * in_out,
               "numba_imported": run.get("numba_imported"), "wiring": run.get("wiring")}
    if base_runtime is not None:
        summary["limit_runtime_plus_1p5x"] = base_runtime + 1.5 * in_out
        summary["ok_runtime_plus_1p5x"] = run["maxrss_bytes"] <= base_runtime + 1.5 * in_out
    if "maxrss_bytes" in rss.get("run numpy", {}):
        summary["run_numpy_bytes"] = rss["run numpy"]["maxrss_bytes"]
    return rows, summary


# ----------------------------------------------------------------- main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1e6,1e7", help="element counts, comma separated")
    ap.add_argument("--repeat", type=int, default=7, help="timed rounds (at least 5)")
    ap.add_argument("--min-seconds", type=float, default=0.25,
                    help="keep adding rounds until each candidate has run this long")
    ap.add_argument("--channels", type=int, default=1000, help="last dim of per-channel cases")
    ap.add_argument("--ops", default=",".join(SHORT.values()), help="ops to run (short names)")
    ap.add_argument("--tf-python", default=os.environ.get("BLOCKGRAPH_BENCH_TF_PYTHON"),
                    help="a Python with TensorFlow, when this one has none")
    ap.add_argument("--no-rss", action="store_true", help="skip the peak-RSS subprocesses")
    ap.add_argument("--rss-n", type=int, default=10**7)
    ap.add_argument("--json", help="where to write the results (default benchmarks/results/)")
    ap.add_argument("--tf-server", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--rss-child", choices=RSS_MODES, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.repeat = max(5, args.repeat)
    if args.tf_server:
        return tf_server(args)
    if args.rss_child:
        return rss_child(args.rss_child, args.rss_n)

    # the RSS subprocesses first, while this process is still small
    rss = None if args.no_rss else measure_rss(args.rss_n)
    wanted = {s.strip() for s in args.ops.split(",")}
    ops = [op for op in OPS if SHORT[op] in wanted or op in wanted]
    info = common.machine()
    info["wiring"] = wiring()
    from blocks.kernels import fake_quant_fused as ff
    info["fused_available"] = ff.available()
    tf, tf_note = common.load_tensorflow()
    server = None
    if tf is None and args.tf_python:
        server = TfServer(args.tf_python)
        if server.error:
            tf_note, server = server.error, None
        else:
            tf_note = (f"TensorFlow {server.version} timed in a worker process ({args.tf_python}), "
                       "in the same interleaved rounds")
    elif tf is not None:
        tf_note = f"TensorFlow {tf.__version__} timed in this process"
    rows, cases = [], {}
    for n in parse_sizes(args.sizes):
        for op in ops:
            arrays, attrs = make_case(op, n, args.channels)
            cands = block_candidates(op, arrays, attrs)
            check_same(cands)
            cands["copyto"] = common.copyto_candidate(arrays["inputs"].nbytes)
            if tf is not None:
                cands["tf"] = tf_candidate(tf, op, arrays, attrs)
            elif server is not None:
                cands["tf"] = server.candidate(op, n, args.channels)
            t = common.interleaved(cands, repeat=args.repeat, min_seconds=args.min_seconds)
            rec = {k: v.as_dict() for k, v in t.items()}
            nbytes = input_bytes(arrays)
            bg, cp = t["blockgraph"].median, t["copyto"].median
            row = {"op": SHORT[op], "n": f"{n:.0e}".replace("+0", ""),
                   "bg_ms": bg, "block_ms": t["block"].median, "numpy_ms": t["numpy"].median,
                   "copy_ms": cp, "bg_gbs": nbytes / bg / 1e9,
                   "copy_gbs": arrays["inputs"].nbytes / cp / 1e9}
            row["copy_frac"] = row["bg_gbs"] / row["copy_gbs"]
            row["vs_numpy"] = t["numpy"].median / bg
            tf_t = t["tf"].median if "tf" in t else None
            if tf_t is not None:
                row["tf_ms"], row["vs_tf"] = tf_t, tf_t / bg
            row["goals"] = _verdict(row["copy_frac"], row.get("vs_tf"))
            # the same goals read on the block alone (its compute function, no page or executor)
            blk = t["block"].median
            row["block_copy_frac"] = nbytes / blk / 1e9 / row["copy_gbs"]
            row["block_vs_tf"] = tf_t / blk if tf_t is not None else None
            row["block_goals"] = _verdict(row["block_copy_frac"], row["block_vs_tf"])
            rows.append(row)
            cases[f"{op}/{n}"] = {"op": op, "n": n, "input_bytes": nbytes, "timings": rec,
                                  "ratios": {k: row.get(k) for k in ("vs_tf", "copy_frac", "vs_numpy")}}
            print(f"  {SHORT[op]} {n:.0e}: blockgraph {bg * 1e3:.3f} ms, copyto "
                  f"{row['copy_frac'] * 100:.0f}%" + (f", {row['vs_tf']:.2f}x tf" if tf_t else ""),
                  file=sys.stderr, flush=True)
    if server is not None:
        server.close()
    try:
        import numba
        info["numba_threading_layer"] = numba.threading_layer()
        info["numba_threads"] = numba.get_num_threads()
    except Exception:   # numba missing, or no parallel kernel ran
        pass
    info["loadavg_end"] = list(os.getloadavg())
    ms = common.fmt_ms
    print(f"FakeQuant blocks (medians; goals: >= {GOAL_TF:g}x TF, >= {GOAL_COPY:.0%} of np.copyto "
          f"bandwidth); wiring {info['wiring']}; {tf_note}")
    print(common.table(rows, [
        ("op", "op", "s"), ("n", "n", "s"), ("bg_ms", "blockgraph ms", ms),
        ("block_ms", "block ms", ms), ("bg_gbs", "GB/s", ".2f"), ("copy_ms", "copyto ms", ms),
        ("copy_gbs", "copyto GB/s", ".2f"), ("copy_frac", "copyto%", common.fmt_pct),
        ("numpy_ms", "numpy ms", ms), ("vs_numpy", "vs numpy", common.fmt_ratio),
        ("tf_ms", "tf ms", ms), ("vs_tf", "vs tf", common.fmt_ratio), ("goals", "goals", "s"),
        ("block_vs_tf", "block vs tf", common.fmt_ratio),
        ("block_copy_frac", "block copyto%", common.fmt_pct), ("block_goals", "block goals", "s")]))
    print("goals: the page run through the Python API; block goals: the block's compute function "
          "alone (no page, executor or checks)")
    result = {"benchmark": NAME, "machine": info, "tf_note": tf_note, "rows": rows,
              "cases": cases, "goals": {"vs_tf": GOAL_TF, "copy_frac": GOAL_COPY}}
    if rss is not None:
        rrows, summary = rss_report(rss, args.rss_n)
        result["rss"] = {"children": rss, "summary": summary}
        print()
        if rrows:
            mib = 2**20
            print(f"Peak RSS, FakeQuantWithMinMaxVarsGradient on {args.rss_n:.0e} elements via the "
                  f"Python API (inputs + outputs = {summary['input_plus_output_bytes'] / mib:.0f} "
                  "MiB; 'x in+out' = (peak - bare) / (inputs + outputs))")
            print(common.table(rrows, [("mode", "subprocess", "s"), ("mib", "peak MiB", ".1f"),
                                       ("over_bare", "over bare MiB", ".1f"),
                                       ("x_in_out", "x in+out", ".2f")]))
            line = (f"run {summary['run_bytes'] / mib:.1f} MiB vs bare + 1.5x(in+out) = "
                    f"{summary['limit_bare_plus_1p5x'] / mib:.1f} MiB: "
                    f"{'ok' if summary['ok_bare_plus_1p5x'] else 'OVER'}")
            if "limit_runtime_plus_1p5x" in summary:
                line += (f"; vs runtime baseline (numba loaded) + 1.5x(in+out) = "
                         f"{summary['limit_runtime_plus_1p5x'] / mib:.1f} MiB: "
                         f"{'ok' if summary['ok_runtime_plus_1p5x'] else 'OVER'}")
            print(line)
        else:
            print(f"Peak RSS: failed: {summary.get('error')}")
    path = common.write_json(NAME, result, args.json)
    print(f"\nwrote {os.path.relpath(path, common.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
