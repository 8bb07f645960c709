"""`blockgraph sweep`: run one page over many feeds or attr settings, each run an independent task
on the chosen executor, and write one results .npz per run plus an index (JSON and CSV).

    blockgraph sweep PAGE --grid 'fq.num_bits=2,4,8' --grid 'fq.narrow_range=false,true' --out OUT
    blockgraph sweep PAGE --feeds-dir FEEDS/ --out OUT --executor dask --scheduler tcp://HOST:8786

--grid BLOCK.ATTR=V1,V2,... gives an attr its values (read as YAML, like the page: 4, 0.5, 1e-3,
true, [2, 3]); several --grid options make the cartesian product, the first varying slowest.
Each setting rebuilds the page's Scope from its spec with those attrs changed, so every static
check runs again (a value out of range fails that run's block, located in the page). --feeds-dir
runs the page once per .npz file in DIR (keys = placeholder ids), in name order.

Run i writes OUTDIR/run-NNNN.npz (every computed output, key BLOCK.PORT, as `run --out`);
OUTDIR/index.json and index.csv map each run's settings to its file and outcome. Files are
written by the calling process as runs finish, atomically. Within a run blocks run in order
(sequential executor); runs are the parallel unit: threads, dask threads, or a dask.distributed
cluster (`--scheduler tcp://HOST:PORT`, or `local` for a LocalCluster), where a run lost with a
worker is run again.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
import os
import queue
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import partial
from types import SimpleNamespace

from . import executor as executors
from . import sweep_out
from ..core import registry
from ..core import source
from ..api import Page, load_page
from ..core.diagnostics import Diagnostic, PageError, did_you_mean
from ..core import npyio
from ..core.errors import BlockgraphError, FileReadError
from .dask_run import dask_client, import_dask
from .parallel import ExecutorError, _workers
from .progress import Progress
from ..core.results import dumps, json_safe, write_atomic, write_npz
from ..core.scope import Scope


class SweepError(BlockgraphError, ValueError):
    """A sweep that cannot start: a bad --grid spec, an empty --feeds-dir, ..."""


@dataclass
class Run:
    """One run of a sweep: its settings, the Scope to run and its feeds (arrays, or the path of
    an .npz read where the run runs), or why it cannot run."""
    index: int
    settings: dict
    scope: Scope | None = None
    feeds: object = None
    error: str | None = None
    diagnostics: list = field(default_factory=list)

    @property
    def file(self) -> str:
        return f"run-{self.index:04d}.npz"

    def label(self) -> str:
        return " ".join(f"{k}={_text(v)}" for k, v in self.settings.items())


# ---------------------------------------------------------------- planning runs

def parse_grid(specs) -> list[tuple[str, str, str, list]]:
    """[(BLOCK.ATTR, block, attr, values)] from --grid specs 'BLOCK.ATTR=V1,V2,...'; the values
    are read as a YAML flow list, as the page itself would read them."""
    axes, seen = [], set()
    for spec in specs:
        key, sep, rhs = spec.partition("=")
        key = key.strip()
        if not sep:
            raise SweepError(f"--grid wants BLOCK.ATTR=V1,V2,..., got {_short(spec)}")
        block, dot, attr = key.partition(".")
        if not dot or not block or not attr or "." in attr:
            raise SweepError(f"--grid {_short(spec)}: the key must be BLOCK.ATTR (e.g. fq.num_bits)")
        if key in seen:
            raise SweepError(f"--grid {key} is given twice")
        seen.add(key)
        src = source.read("--grid", f"[{rhs}]")
        if src.problems or not isinstance(src.data, list):
            why = src.problems[0].message if src.problems else "not a list of values"
            raise SweepError(f"--grid {_short(spec)}: cannot read the values: {why}")
        if not src.data:
            raise SweepError(f"--grid {_short(spec)}: no values")
        axes.append((key, block, attr, list(src.data)))
    return axes


def grid_runs(page: Page, specs, *, allow_outside: bool = False) -> list[Run]:
    """One Run per combination of the --grid values, each a Scope rebuilt from the page's spec
    with those attrs set."""
    axes = parse_grid(specs)
    spec = page.spec
    for key, bid, attr, _ in axes:
        b = spec.blocks.get(bid)
        if b is None:
            raise SweepError(f"--grid {key}: page '{page.name}' has no block '{bid}'"
                             + _hint(did_you_mean(bid, spec.blocks)))
        defn = registry.get(b.op)
        if defn is None:
            raise SweepError(f"--grid {key}: block '{bid}' has an unknown op '{b.op}'")
        if defn.attr(attr) is None and attr not in defn.type_attrs:
            names = [a.name for a in defn.attrs]
            raise SweepError(f"--grid {key}: {b.op} has no attr '{attr}'" + _hint(
                did_you_mean(attr, names) or ("attrs: " + ", ".join(names) if names else
                                              "this op has no attrs")))
    base = {d.sort_key() for d in page.diagnostics}
    runs = []
    for i, combo in enumerate(itertools.product(*[a[3] for a in axes])):
        settings = {a[0]: v for a, v in zip(axes, combo)}
        blocks = dict(spec.blocks)
        changed: dict[str, dict] = {}
        for (_, bid, attr, _), v in zip(axes, combo):
            changed.setdefault(bid, dict(blocks[bid].attrs))[attr] = v
        for bid, attrs in changed.items():
            blocks[bid] = blocks[bid].model_copy(update={"attrs": attrs})
        variant = spec.model_copy(update={"blocks": blocks})
        scope = Scope(page.scope.name, variant, page.source, allow_outside=allow_outside,
                      max_bytes=page.scope.max_bytes)
        own = [d for d in sorted(scope.diagnostics, key=Diagnostic.sort_key)
               if d.sort_key() not in base]
        run = Run(i, settings, scope, None, diagnostics=own)
        if scope.order is None:
            run.error = own[0].message if own else "the page cannot run"
        runs.append(run)
    return runs


def feeds_runs(page: Page, folder: str, *, load: bool = False) -> list[Run]:
    """One Run per .npz file in `folder` (name order); `load` reads the arrays now, else each
    run reads its file where it runs."""
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".npz")
                       and os.path.isfile(os.path.join(folder, n)))
    except OSError as e:
        raise SweepError(f"--feeds-dir {folder}: {e.strerror or e}") from None
    if not names:
        raise SweepError(f"--feeds-dir {folder}: no .npz files of feeds there")
    feedable = page.scope.feedable()
    runs = []
    for i, name in enumerate(names):
        path = os.path.join(folder, name)
        run = Run(i, {"feeds": name}, page.scope, path)
        try:
            with npyio.Npz(path) as z:
                keys = z.keys
                if load:
                    run.feeds = {k: z.load(k, page.scope.max_bytes) for k in keys if k in feedable}
        except FileReadError as e:
            run.error = f"cannot read feeds {name}: {e}"
            runs.append(run)
            continue
        unknown = sorted(set(keys) - set(feedable))
        if unknown:
            run.error = (f"feed '{unknown[0]}' in {name} is not a placeholder of page '{page.name}' "
                         f"(placeholders: {', '.join(feedable) or 'none'})")
        runs.append(run)
    return runs


@dataclass
class RunFailed:
    """What `run_one` returns instead of Results when the run cannot start (unreadable feeds)."""
    error: str


def run_one(scope: Scope, feeds, keep=None):
    """The task of one run: (Results, seconds), or (RunFailed, seconds) when its feeds file
    cannot be read. Module-level, so dask workers can run it; it raises nothing a page causes."""
    if isinstance(feeds, str):
        try:
            feeds = npyio.load_npz(feeds, set(scope.feedable()), scope.max_bytes)
        except FileReadError as e:
            return RunFailed(f"cannot read feeds {os.path.basename(feeds)}: {e}"), 0.0
    t0 = time.perf_counter()
    results = executors.run(scope, feeds or {}, max_bytes=scope.max_bytes, keep=keep)
    return results, time.perf_counter() - t0


# ---------------------------------------------------------------- running them

def check_executor(executor: str, scheduler=None) -> None:
    """ExecutorError unless `executor` (with `scheduler`) can run here."""
    if executor not in executors.EXECUTORS:
        raise ExecutorError(f"unknown executor {executor!r} (choose from "
                            f"{', '.join(executors.EXECUTORS)})")
    if scheduler is not None and executor != "dask":
        raise ExecutorError("--scheduler needs --executor dask")
    if executor == "dask":
        import_dask()


def each_result(jobs, *, executor: str = "sequential", workers=None, scheduler=None):
    """Run `jobs` [(i, fn, args)] as independent tasks; yield (i, fn(*args)) as each finishes."""
    check_executor(executor, scheduler)
    if executor == "sequential":
        for i, fn, args in jobs:
            yield i, fn(*args)
    elif executor == "threads":
        yield from _threads(jobs, _workers(workers))
    elif scheduler is None:
        yield from _dask_threads(jobs, _workers(workers))
    else:
        with dask_client(scheduler, workers) as client:
            yield from _distributed(jobs, client)


def _threads(jobs, n):
    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="blockgraph-sweep")
    try:
        futs = {pool.submit(fn, *args): i for i, fn, args in jobs}
        for f in as_completed(futs):
            yield futs.pop(f), f.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_QUEUES: dict[str, queue.Queue] = {}


def _deliver(token, i, fn, *args):
    """A dask task of an in-process sweep: hand the value to the caller as soon as it exists."""
    value = fn(*args)
    q = _QUEUES.get(token)
    if q is not None:          # None: the caller stopped listening (Ctrl-C)
        q.put((i, value))


def _dask_threads(jobs, n):
    import dask.threaded
    token = uuid.uuid4().hex
    q = _QUEUES[token] = queue.Queue()
    dsk = {f"blockgraph-sweep-{token}-{i}": (partial(_deliver, token, i, fn, *args),)
           for i, fn, args in jobs}
    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="blockgraph-sweep-dask")
    box = {}
    end = object()

    def target():
        try:
            dask.threaded.get(dsk, list(dsk), pool=pool)
        except BaseException as e:
            box["error"] = e
        finally:
            q.put(end)

    thread = threading.Thread(target=target, name="blockgraph-sweep-get", daemon=True)
    thread.start()
    complete = False
    try:
        while True:
            item = q.get()
            if item is end:
                complete = True
                break
            yield item
    finally:
        if complete:
            thread.join()
        pool.shutdown(wait=False, cancel_futures=True)
        _QUEUES.pop(token, None)
    if "error" in box:
        raise box["error"]


_TAG = "blockgraph-sweep-result"


def _tagged(fn, *args):
    """A distributed sweep task: fn's value, tagged so that the caller tells it from the
    (type, exception, traceback) of a task that failed."""
    return (_TAG, fn(*args))


def _is_tagged(value) -> bool:
    return type(value) is tuple and len(value) == 2 and value[0] == _TAG


def _distributed(jobs, client):
    from distributed import as_completed as dask_completed
    token = uuid.uuid4().hex[:12]
    futs = {}
    for i, fn, args in jobs:
        f = client.submit(_tagged, fn, *args, key=f"blockgraph-sweep-{token}-{i}", pure=False)
        futs[f.key] = (i, f)
    try:
        for f, value in dask_completed([f for _, f in futs.values()], loop=client.loop,
                                       with_results=True, raise_errors=False):
            i, _ = futs.pop(f.key)
            if not _is_tagged(value):      # an error; a value that arrived counts, whatever
                exc = value[1] if isinstance(value, tuple) and len(value) == 3 else value
                raise ExecutorError(f"the dask cluster could not run sweep run {i}: "
                                    f"{type(exc).__name__}: {exc}")
            yield i, value[1]
    finally:
        if futs:
            client.cancel([f for _, f in futs.values()])


# ---------------------------------------------------------------- the sweep

def sweep(page, *, grid=None, feeds_dir=None, out: str, executor: str = "sequential",
          workers=None, scheduler=None, keep=None, allow_outside: bool = False,
          max_bytes: int | None = -1, progress: bool | None = None, report=None) -> dict:
    """Run `page` (a path or a loaded Page) once per --grid combination or --feeds-dir file,
    write OUT/run-NNNN.npz for each and OUT/index.json + index.csv; return the index.

    report(line) gets each problem as one line (default: stderr). Raises SweepError for a
    sweep that cannot start, PageError for a page that cannot run, ExecutorError for an
    executor that is not available."""
    say = report or (lambda line: print(line, file=sys.stderr))
    check_executor(executor, scheduler)
    if not isinstance(page, Page):
        page = load_page(page, allow_outside=allow_outside, max_bytes=max_bytes)
    if not page.runnable:
        raise PageError(page.diagnostics)
    for d in page.diagnostics:
        say(d.format())
    if (grid is None) == (feeds_dir is None):
        raise SweepError("give either --grid or --feeds-dir")
    remote = executor == "dask" and scheduler is not None
    runs = (grid_runs(page, grid, allow_outside=allow_outside) if grid
            else feeds_runs(page, feeds_dir, load=remote))
    with sweep_out.owned(out):
        return _run_all(page, runs, out, say, executor=executor, workers=workers,
                        scheduler=scheduler, keep=keep, progress=progress)


def _run_all(page, runs, out, say, *, executor, workers, scheduler, keep, progress) -> dict:
    """Run the planned `runs` into OUT (owned by this sweep) and write the index: when all have
    run, or when the sweep stops early (Ctrl-C, a lost cluster), marked "complete": false, with
    the runs not done as not run."""
    entries: dict[int, dict] = {}
    for r in runs:
        for d in r.diagnostics:
            say(_with_run(d, r).format())
        if r.error is not None:
            say(f"blockgraph: error: sweep run {r.index} ({r.label()}): {r.error}")
            entries[r.index] = _entry(r, None, 0.0, None)
    todo = [(r.index, run_one, (r.scope, r.feeds, list(keep) if keep else None))
            for r in runs if r.error is None]
    bar = Progress(len(runs), "runs", enabled=progress) if progress is not False else None
    if bar:
        for i in entries:
            bar.on_block(SimpleNamespace(id=str(i), status="failed"))
    by_index = {r.index: r for r in runs}
    t0 = time.perf_counter()
    try:
        for i, (results, seconds) in each_result(todo, executor=executor, workers=workers,
                                                 scheduler=scheduler):
            r = by_index[i]
            if isinstance(results, RunFailed):
                r.error = results.error
                entries[i] = _entry(r, None, seconds, None)
                say(f"blockgraph: error: sweep run {r.index} ({r.label()}): {r.error}")
                if bar:
                    bar.on_block(SimpleNamespace(id=str(i), status="failed"))
                continue
            path = os.path.join(out, r.file)
            try:
                write_npz(path, results.arrays())
                entries[i] = _entry(r, results, seconds, r.file)
            except OSError as e:
                entries[i] = _entry(r, results, seconds, None)
                entries[i]["ok"] = False
                entries[i]["error"] = f"cannot write {path}: {e.strerror or e}"
                say(f"blockgraph: error: {entries[i]['error']}")
            if bar:
                bar.on_block(SimpleNamespace(id=str(i), status="ok" if entries[i]["ok"] else "failed"))
    except BaseException as e:       # index what is done, then let the interruption through
        why = "interrupted" if isinstance(e, KeyboardInterrupt) else f"stopped ({e})"
        _write_index(out, page, executor, runs, entries, t0, f"not run: the sweep was {why}")
        raise
    finally:
        if bar:
            bar.on_finish(None)
    return _write_index(out, page, executor, runs, entries, t0)


def _write_index(out, page, executor, runs, entries, t0, missing=None) -> dict:
    """Write OUT/index.json and index.csv (runs without an entry are `missing`: not run) and
    return the index; "complete" says whether every run has an entry."""
    complete = len(entries) == len(runs)
    for r in runs:
        if r.index not in entries:
            entries[r.index] = {**_entry(r, None, 0.0, None), "error": missing}
    index = {"page": page.name, "path": page.path, "executor": executor, "complete": complete,
             "ok": complete and all(e["ok"] for e in entries.values()),
             "seconds": round(time.perf_counter() - t0, 6),
             "runs": [entries[r.index] for r in runs]}
    write_atomic(os.path.join(out, "index.json"), json.dumps(index, indent=1, allow_nan=False) + "\n")
    write_atomic(os.path.join(out, "index.csv"), _csv(index))
    return index


def _entry(run: Run, results, seconds, file) -> dict:
    counts = {"ok": 0, "failed": 0, "skipped": 0}
    errors = {}
    if results is not None:
        for b in results:
            counts[b.status] = counts.get(b.status, 0) + 1
            if b.status == "failed":
                errors[b.id] = b.error
    ok = results is not None and results.ok and not run.diagnostics
    return {"run": run.index, "file": file, "settings": json_safe(run.settings), "ok": ok,
            "blocks": counts, "errors": errors, "error": run.error,
            "seconds": round(seconds, 6)}


def _csv(index) -> str:
    keys = list(index["runs"][0]["settings"]) if index["runs"] else []
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "file", *keys, "ok", "failed", "skipped", "seconds", "error"])
    for e in index["runs"]:
        err = e["error"] or "; ".join(f"{b}: {m}" for b, m in e["errors"].items())
        w.writerow([e["run"], e["file"] or "", *[_text(e["settings"][k]) for k in keys],
                    "true" if e["ok"] else "false", e["blocks"]["failed"], e["blocks"]["skipped"],
                    e["seconds"], err])
    return buf.getvalue()


def _text(v) -> str:
    """A setting as it would be written in the page (strings bare, the rest as JSON/YAML)."""
    return v if isinstance(v, str) else dumps(v) if _jsonable(v) else str(v)


def _jsonable(v) -> bool:
    try:
        dumps(v)
        return True
    except (TypeError, ValueError):
        return False


def _with_run(d: Diagnostic, run: Run) -> Diagnostic:
    return Diagnostic(d.path, d.line, d.col, f"{d.message} [sweep run {run.index}: {run.label()}]",
                      block=d.block, op=d.op, hint=d.hint, port=d.port)


def _short(text: str, n: int = 60) -> str:
    """`text` quoted for a message, cut to `n` characters."""
    return repr(text if len(text) <= n else text[:n - 3] + "...")


def _hint(h) -> str:
    return f" ({h})" if h else ""


# ---------------------------------------------------------------- the command

def main(args) -> int:
    """`blockgraph sweep`: 0 every run ok, 1 a failed run or an invalid page, 2 a usage error."""
    def err(line):
        print(line, file=sys.stderr)
    try:
        page = load_page(args.page, allow_outside=args.allow_outside, max_bytes=args.max_bytes)
    except OSError as e:
        err(f"{args.page}:1:1: error: cannot read the page: {e.strerror or e}")
        return 1
    try:
        index = sweep(page, grid=args.grid, feeds_dir=args.feeds_dir, out=args.out,
                      executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                      keep=getattr(args, "keep", None) or None, allow_outside=args.allow_outside,
                      report=err)
    except PageError as e:
        for d in e.diagnostics:
            err(d.format())
        return 1
    except (SweepError, ExecutorError, sweep_out.OutError) as e:
        err(f"blockgraph: error: {e}")
        return 2
    except OSError as e:
        err(f"blockgraph: error: {e.strerror or e}: {getattr(e, 'filename', '') or args.out}")
        return 1
    print(summary(index, args.out))
    return 0 if index["ok"] else 1


def summary(index, out) -> str:
    runs = index["runs"]
    keys = list(runs[0]["settings"]) if runs else []
    rows = [("run", "file", *keys, "status", "s")]
    for e in runs:
        if e["ok"]:
            status = "ok"
        elif e["error"]:
            status = "error: " + e["error"]
        elif e["errors"]:
            bid, msg = next(iter(e["errors"].items()))
            status = f"failed: block '{bid}': {msg}"
        else:
            status = "failed"
        if len(status) > 60:
            status = status[:59] + "…"
        rows.append((str(e["run"]), e["file"] or "-", *[_text(e["settings"][k]) for k in keys],
                     status, f"{e['seconds']:.3f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    ok = sum(e["ok"] for e in runs)
    lines.append(f"{len(runs)} runs: {ok} ok, {len(runs) - ok} not ok; index: "
                 f"{os.path.join(out, 'index.json')}, {os.path.join(out, 'index.csv')}")
    return "\n".join(lines)
