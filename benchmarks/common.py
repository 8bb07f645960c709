"""Helpers shared by the benchmarks (`benchmarks/bench_*.py`): interleaved timing, the
`np.copyto` bandwidth baseline, optional TensorFlow, text tables and JSON results.

Benchmarks are not tests: they assert nothing about time. Ratios measured in one run (against
`np.copyto` and the other baselines timed in the same rounds) are the result; absolute times
depend on the machine and on whatever else it is running.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
if ROOT not in sys.path:          # benchmark the working tree, not an installed copy
    sys.path.insert(0, ROOT)


@dataclass
class Timing:
    """Seconds of each repeat of one candidate."""
    samples: list = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def min(self) -> float:
        return min(self.samples) if self.samples else float("nan")

    def as_dict(self) -> dict:
        return {"median_s": self.median, "min_s": self.min, "repeats": len(self.samples),
                "samples_s": self.samples}


def interleaved(candidates: dict, repeat: int = 7, warmup: int = 1, settle: int = 2,
                min_seconds: float = 0.0, max_repeat: int = 200, settle_s: float = 0.005) -> dict:
    """Time each candidate (a no-argument callable) once per round, for `repeat` rounds (more,
    up to max_repeat, until each candidate has run for min_seconds), after `warmup` untimed
    rounds. Interleaving exposes every candidate to the same machine load; `settle` untimed
    calls just before each timed one keep what the previous candidate did to the allocator and
    the caches out of its time (steady-state throughput); they go on for at least `settle_s`
    seconds, since after a long single-threaded candidate an idle core (a virtual CPU of a VM,
    above all) takes a while to be back at speed. A candidate with `self_timed = True`
    is called as fn(settle, settle_s) and returns the seconds of its one timed call (made
    elsewhere, after its own settle calls). {name: Timing}."""
    for _ in range(warmup):
        for fn in candidates.values():
            fn(0) if getattr(fn, "self_timed", False) else fn()
    out = {name: Timing() for name in candidates}
    rounds = 0
    while rounds < repeat or (rounds < max_repeat and min(
            sum(t.samples) for t in out.values()) < min_seconds):
        for name, fn in candidates.items():
            if getattr(fn, "self_timed", False):     # timed elsewhere (another process)
                out[name].samples.append(fn(settle, settle_s))
                continue
            out[name].samples.append(settled_call(fn, settle, settle_s))
        rounds += 1
    return out


def settled_call(fn, settle: int, settle_s: float) -> float:
    """Seconds of one call of `fn`, after `settle` untimed calls that go on for at least
    `settle_s` seconds."""
    until = time.perf_counter() + settle_s
    k = 0
    while k < settle or time.perf_counter() < until:
        fn()
        k += 1
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def copyto_candidate(nbytes: int):
    """A callable copying `nbytes` of float32 with np.copyto into a destination that has been
    written before (so it measures bandwidth, not page faults)."""
    src = np.random.default_rng(0).standard_normal(nbytes // 4, dtype=np.float32)
    dst = np.empty_like(src)
    np.copyto(dst, src)
    return lambda: np.copyto(dst, src)


def load_tensorflow():
    """(tf, None) when TensorFlow imports in this interpreter, else (None, reason). Its
    reference CPU kernels are used (TF_ENABLE_ONEDNN_OPTS=0) and its logging is quiet."""
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except Exception as e:   # ImportError, or a broken install
        return None, f"TensorFlow not importable here ({type(e).__name__}: {e})"
    return tf, None


def _version(dist: str) -> str | None:
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict:
    """What the numbers were measured on (no heavy imports)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):   # pragma: no cover - non-Linux
        cpus = os.cpu_count()
    info = {"python": platform.python_version(), "platform": platform.platform(),
            "machine": platform.machine(), "cpus_usable": cpus, "cpu_count": os.cpu_count(),
            "numpy": np.__version__, "numba": _version("numba"),
            "tensorflow": _version("tensorflow") or _version("tensorflow-cpu"),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    try:
        info["loadavg_start"] = list(os.getloadavg())
    except OSError:   # pragma: no cover
        pass
    try:
        with open("/proc/cpuinfo") as fh:
            info["cpu_model"] = next((ln.split(":", 1)[1].strip() for ln in fh
                                      if ln.startswith("model name")), None)
    except OSError:
        pass
    for k in ("NUMBA_NUM_THREADS", "NUMBA_THREADING_LAYER", "BLOCKGRAPH_THREADS",
              "BLOCKGRAPH_NO_FUSED", "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        if k in os.environ:
            info.setdefault("env", {})[k] = os.environ[k]
    return info


def table(rows: list, columns: list) -> str:
    """A plain text table: `columns` is a list of (key, header, format) with format a
    str.format spec or a callable; missing values print as '-'."""
    def cell(row, key, fmt):
        v = row.get(key)
        if v is None or (isinstance(v, float) and v != v):
            return "-"
        return fmt(v) if callable(fmt) else format(v, fmt)
    body = [[cell(r, k, f) for k, _, f in columns] for r in rows]
    heads = [h for _, h, _ in columns]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h)
              for i, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                       for i, (h, w) in enumerate(zip(heads, widths)))]
    for b in body:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                               for i, (c, w) in enumerate(zip(b, widths))))
    return "\n".join(lines)


def write_json(name: str, data: dict, path: str | None = None) -> str:
    """Write `data` to benchmarks/results/<name>.json (or `path`), atomically; return the path."""
    path = path or os.path.join(RESULTS, f"{name}.json")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as fh:
        json.dump(data, fh, indent=1, default=_jsonable)
        fh.write("\n")
    os.replace(tmp, path)
    return path


def _jsonable(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    raise TypeError(f"not JSON serializable: {type(v).__name__}")


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3f}"


def fmt_ratio(r: float) -> str:
    return f"{r:.2f}x"


def fmt_pct(r: float) -> str:
    return f"{100 * r:.0f}%"


# ----------------------------------------------------------------- TensorFlow in a worker process

def tf_worker_loop(make_call) -> int:
    """Run by a TensorFlow interpreter: time calls on request, so that they join the interleaved
    rounds of the main process (same machine state as blockgraph's timings). One JSON request
    per stdin line, one JSON reply per stdout line:
      {"case": spec}                      -> {"ok": true}: `make_call(tf, spec)` makes the call
      {"time": settle, "settle_s": t}     -> {"s": seconds of one call after `settle` untimed
                                             calls that took at least t seconds}
    The first line written is {"tensorflow": version} or {"error": why}."""
    tf, why = load_tensorflow()
    print(json.dumps({"tensorflow": tf.__version__} if tf is not None else {"error": why}),
          flush=True)
    if tf is None:
        return 0
    call = None
    for line in sys.stdin:
        req = json.loads(line)
        if "case" in req:
            call = make_call(tf, req["case"])
            call()
            reply = {"ok": True}
        else:
            reply = {"s": settled_call(call, req["time"], req.get("settle_s", 0.0))}
        print(json.dumps(reply), flush=True)
    return 0


class TfWorker:
    """The main process's end of `tf_worker_loop`: `python script *argv` run as a worker."""

    def __init__(self, python: str, script: str, *argv: str):
        import subprocess
        env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0", TF_CPP_MIN_LOG_LEVEL="2")
        self.proc = subprocess.Popen([python, script, *argv], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env)
        first = self._read()
        self.error = first.get("error")
        self.version = first.get("tensorflow")

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            return {"error": f"TF worker failed: {self.proc.stderr.read().strip()[-300:]}"}
        return json.loads(line)

    def _ask(self, req: dict) -> dict:
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        got = self._read()
        if "error" in got:
            raise RuntimeError(got["error"])
        return got

    def candidate(self, spec):
        """A self-timed candidate for `interleaved`: each call returns the seconds of one timed
        call made in the worker on the case `spec` (JSON)."""
        self._ask({"case": spec})

        def timed(settle: int, settle_s: float = 0.0) -> float:
            return self._ask({"time": settle, "settle_s": settle_s})["s"]
        timed.self_timed = True
        return timed

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
