"""`blockgraph sweep`: run one page over many feeds or attr settings, each run an independent task
on the chosen executor, and write one results .npz per run plus an index (JSON and CSV).

    blockgraph sweep PAGE --grid 'fq.num_bits=2,4,8' --grid 'fq.narrow_range=false,true' --out OUT
    blockgraph sweep PAGE --feeds-dir FEEDS/ --out OUT --executor dask --scheduler tcp://HOST:8786

--grid BLOCK.ATTR=V1,V2,... gives an attr its values, --grid NAME=V1,V2,... a page parameter
(read as YAML, like the page: 4, 0.5, 1e-3, true, [2, 3]); several --grid options make the
cartesian product, the first varying slowest, or with `zip` vary together (run i takes value i
of each). Each setting rebuilds the page from its source with those values (`Page.variant`), so
every static check runs again (a value out of range fails that run's block, located in the
page). --feeds-dir runs the page once per .npz file in DIR (keys = placeholder ids), in name
order. `summarize` adds a column per chosen output to the index (`sweep_summary`).

Run i writes OUTDIR/run-NNNN.npz (every computed output, key BLOCK.PORT, and `__meta__`, as
`run --out`, with the run's settings);
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
import sys
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

from ..core import npyio, registry, resultmeta, source
from ..core.diagnostics import Diagnostic, did_you_mean
from ..core.errors import FileReadError, PageError, UsageError
from ..core.results import dumps, json_safe, write_atomic, write_npz
from ..core.scope import Scope
from . import executors, sequential, sweep_out, sweep_summary
from .plan import Plan, RunOptions
from .progress import Progress


class SweepError(UsageError):
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
    params: dict = field(default_factory=dict)      # the page parameters the run has

    @property
    def file(self) -> str:
        return f"run-{self.index:04d}.npz"

    def label(self) -> str:
        return " ".join(f"{k}={setting_text(v)}" for k, v in self.settings.items())


# ---------------------------------------------------------------- planning runs

def parse_grid(specs) -> list[tuple[str, str | None, str, list]]:
    """[(key, block, attr, values)] from --grid specs 'BLOCK.ATTR=V1,V2,...' (block None for a
    page parameter, 'NAME=V1,V2,...'); the values are read as a YAML flow list, as the page
    itself would read them."""
    axes, seen = [], set()
    for spec in specs:
        key, sep, rhs = spec.partition("=")
        key = key.strip()
        if not sep:
            raise SweepError(f"--grid wants BLOCK.ATTR=V1,V2,..., got {_short(spec)}")
        block, dot, attr = key.partition(".")
        if not dot and block:
            block, attr = None, key            # a page parameter
        elif not dot or not block or not attr or "." in attr:
            raise SweepError(f"--grid {_short(spec)}: the key must be BLOCK.ATTR (e.g. fq.num_bits) "
                             "or the NAME of a page parameter")
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


def grid_runs(page, specs, *, allow_outside: bool = False, zip_axes: bool = False) -> list[Run]:
    """One Run per combination of the --grid values (or with `zip_axes`, per position of the
    lists, varied together), each the page rebuilt from its source with those attrs and
    parameters set."""
    axes = parse_grid(specs)
    spec = page.spec
    if zip_axes and len({len(a[3]) for a in axes}) > 1:
        raise SweepError("--zip varies the --grid lists together: give them equal lengths (got "
                         + ", ".join(f"{a[0]}: {len(a[3])}" for a in axes) + ")")
    for key, bid, attr, _ in axes:
        if bid is None:
            names = list(page.params.defs)
            if attr not in page.params.defs:
                raise SweepError(f"--grid {key}: page '{page.name}' has no parameter '{attr}'" + _hint(
                    did_you_mean(attr, names) or (f"parameters: {', '.join(names)}" if names else
                                                  "it has no 'params:' section")))
            continue
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
    lists = [a[3] for a in axes]
    for i, combo in enumerate(zip(*lists) if zip_axes else itertools.product(*lists)):
        settings = {a[0]: v for a, v in zip(axes, combo)}
        attrs = {(bid, attr): v for (_, bid, attr, _), v in zip(axes, combo) if bid is not None}
        params = {attr: v for (_, bid, attr, _), v in zip(axes, combo) if bid is None}
        variant = page.variant(params=params, attrs=attrs, origin="--grid")
        scope = variant.scope
        own = [d for d in variant.diagnostics if d.is_error and d.sort_key() not in base]
        run = Run(i, settings, scope, None, diagnostics=own, params=variant.params.values())
        if scope is None or scope.order is None:
            run.error = own[0].message if own else "the page cannot run"
        runs.append(run)
    return runs


def feeds_runs(page, folder: str, *, load: bool = False) -> list[Run]:
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
        run = Run(i, {"feeds": name}, page.scope, path, params=page.params.values())
        try:
            with npyio.Npz(path) as z:
                keys = [k for k in z.keys if k != resultmeta.KEY]
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


def run_one(scope: Scope, feeds, keep=None, cycles: int = 1, cache=None):
    """The task of one run: (Results, seconds), or (RunFailed, seconds) when its feeds file
    cannot be read. Module-level, so dask workers can run it; it raises nothing a page causes.
    Its blocks run in order; a page with Variables runs `cycles` cycles (one task, all of them).
    With `cache` (a `run.cache.Cache`) blocks are served from it, so runs sharing a part of the
    page share its results."""
    if isinstance(feeds, str):
        try:
            feeds = npyio.load_npz(feeds, set(scope.feedable()), scope.max_bytes)
        except FileReadError as e:
            return RunFailed(f"cannot read feeds {os.path.basename(feeds)}: {e}"), 0.0
    t0 = time.perf_counter()
    plan = Plan(scope, only=scope.fetch_closure())
    options = RunOptions(keep=keep, max_bytes=scope.max_bytes)
    if cache is not None:
        options = cache.options(plan, feeds or {}, options)
    try:
        if plan.stateful or cycles != 1:
            from . import cycles as cycling
            results = cycling.run(sequential.Sequential(), plan, feeds or {}, options, cycles=cycles)
        else:
            results = sequential.run(plan, feeds or {}, options)
    finally:
        if cache is not None:
            cache.flush()
    return results, time.perf_counter() - t0


def sweep(page, *, grid=None, feeds_dir=None, out: str, executor: str = "sequential",
          workers=None, scheduler=None, keep=None, allow_outside: bool = False,
          progress: bool | None = None, report=None, cycles: int = 1, cache=None,
          zip_grid: bool = False, summarize=None) -> dict:
    """Run a loaded page (`blockgraph.load_page`) once per --grid combination (`zip_grid`: per
    position of the lists) or --feeds-dir file, write OUT/run-NNNN.npz for each and
    OUT/index.json + index.csv; return the index. `summarize`: BLOCK.PORT[:STAT] outputs
    given a column of the index. Runs are independent jobs of the executor (`Executor.map`);
    within a run blocks run in order.

    report(line) gets each problem as one line (default: stderr). cache: a `run.cache.Cache`,
    or a cache folder ("" for the default one): blocks that several runs compute alike (those
    upstream of every varied attr) are computed once. Raises SweepError for a sweep that
    cannot start, PageError for a page that cannot run, ExecutorError for an executor that is
    not available, CacheError for a cache that cannot be used."""
    say = report or (lambda line: print(line, file=sys.stderr))
    if cache is not None and not hasattr(cache, "options"):
        from .cache import Cache
        with Cache(cache or None, warn=lambda line: say(f"blockgraph: warning: {line}")) as c:
            return sweep(page, grid=grid, feeds_dir=feeds_dir, out=out, executor=executor,
                         workers=workers, scheduler=scheduler, keep=keep,
                         allow_outside=allow_outside, progress=progress, report=report,
                         cycles=cycles, cache=c, zip_grid=zip_grid, summarize=summarize)
    with executors.get(executor)(workers=workers, scheduler=scheduler) as runner:
        if not page.runnable:
            raise PageError(page.diagnostics)
        for d in page.diagnostics:
            say(d.format())
        if (grid is None) == (feeds_dir is None):
            raise SweepError("give either --grid or --feeds-dir")
        if zip_grid and not grid:
            raise SweepError("--zip varies --grid lists together: give --grid")
        try:
            columns = sweep_summary.parse(summarize, page.scope)
        except UsageError as e:
            raise SweepError(str(e)) from None
        if keep and columns:
            keep = list(keep) + sweep_summary.keep_patterns(columns)
        remote = executor == "dask" and scheduler is not None
        runs = (grid_runs(page, grid, allow_outside=allow_outside, zip_axes=zip_grid) if grid
                else feeds_runs(page, feeds_dir, load=remote))
        with sweep_out.owned(out):
            return _run_all(page, runs, out, say, runner, executor=executor, keep=keep,
                            progress=progress, cycles=cycles, cache=cache, columns=columns)


def _run_all(page, runs, out, say, runner, *, executor, keep, progress, cycles=1,
             cache=None, columns=()) -> dict:
    """Run the planned `runs` into OUT (owned by this sweep) and write the index: when all have
    run, or when the sweep stops early (Ctrl-C, a lost cluster), marked "complete": false, with
    the runs not done as not run."""
    entries: dict[int, dict] = {}
    for r in runs:
        for d in r.diagnostics:
            say(_with_run(d, r).format())
        if r.error is not None:
            say(f"blockgraph: error: sweep run {r.index} ({r.label()}): {r.error}")
            entries[r.index] = _entry(r, None, 0.0, None, columns)
    todo = [(r.index, (r.scope, r.feeds, list(keep) if keep else None, cycles, cache))
            for r in runs if r.error is None]
    bar = Progress(len(runs), "runs", enabled=progress) if progress is not False else None
    if bar:
        for i in entries:
            bar.on_block(SimpleNamespace(id=str(i), status="failed"))
    by_index = {r.index: r for r in runs}
    t0 = time.perf_counter()
    try:
        for i, (results, seconds) in runner.map(run_one, todo):
            r = by_index[i]
            if isinstance(results, RunFailed):
                r.error = results.error
                entries[i] = _entry(r, None, seconds, None, columns)
                say(f"blockgraph: error: sweep run {r.index} ({r.label()}): {r.error}")
                if bar:
                    bar.on_block(SimpleNamespace(id=str(i), status="failed"))
                continue
            path = os.path.join(out, r.file)
            try:
                write_npz(path, _with_meta(page, r, results))
                entries[i] = _entry(r, results, seconds, r.file, columns)
            except OSError as e:
                entries[i] = _entry(r, results, seconds, None, columns)
                entries[i]["ok"] = False
                entries[i]["error"] = f"cannot write {path}: {e.strerror or e}"
                say(f"blockgraph: error: {entries[i]['error']}")
            if bar:
                bar.on_block(SimpleNamespace(id=str(i), status="ok" if entries[i]["ok"] else "failed"))
    except BaseException as e:       # index what is done, then let the interruption through
        why = "interrupted" if isinstance(e, KeyboardInterrupt) else f"stopped ({e})"
        _write_index(out, page, executor, runs, entries, t0, f"not run: the sweep was {why}",
                     columns)
        raise
    finally:
        if bar:
            bar.on_finish(None)
    return _write_index(out, page, executor, runs, entries, t0, columns=columns)


def _with_meta(page, run: Run, results) -> dict:
    """A run's arrays with the `__meta__` entry of its file: the page, the run's settings and
    parameters, its feeds file, each key's op and TF dtype."""
    feeds = ({bid: f"{run.settings['feeds']}[{bid}]" for bid in page.scope.feedable()}
             if isinstance(run.feeds, (str, dict)) and "feeds" in run.settings else None)
    entry = resultmeta.page_entry(page, feeds=feeds, cycles=results.cycles, ok=results.ok,
                                  settings=run.settings, params=run.params)
    meta = resultmeta.build({page.name: entry}, resultmeta.key_entries(page.name, results))
    return resultmeta.with_meta(results.arrays(), meta)


def _write_index(out, page, executor, runs, entries, t0, missing=None, columns=()) -> dict:
    """Write OUT/index.json and index.csv (runs without an entry are `missing`: not run) and
    return the index; "complete" says whether every run has an entry."""
    complete = len(entries) == len(runs)
    for r in runs:
        if r.index not in entries:
            entries[r.index] = {**_entry(r, None, 0.0, None, columns), "error": missing}
    index = {"page": page.name, "path": page.path, "executor": executor, "complete": complete,
             "summarize": [c.label for c in columns],
             "ok": complete and all(e["ok"] for e in entries.values()),
             "seconds": round(time.perf_counter() - t0, 6),
             "runs": [entries[r.index] for r in runs]}
    write_atomic(os.path.join(out, "index.json"), json.dumps(index, indent=1, allow_nan=False) + "\n")
    write_atomic(os.path.join(out, "index.csv"), _csv(index))
    return index


def _entry(run: Run, results, seconds, file, columns=()) -> dict:
    counts = {"ok": 0, "failed": 0, "skipped": 0}
    errors = {}
    if results is not None:
        for b in results:
            counts[b.status] = counts.get(b.status, 0) + 1
            if b.status == "failed":
                errors[b.id] = b.error
    ok = results is not None and results.ok and not run.diagnostics
    out = {"run": run.index, "file": file, "settings": json_safe(run.settings), "ok": ok,
           "blocks": counts, "errors": errors, "error": run.error,
           "seconds": round(seconds, 6)}
    if columns:
        out["summary"] = json_safe(sweep_summary.values(results, columns) if results is not None
                                   else {c.label: None for c in columns})
    return out


def _csv(index) -> str:
    keys = list(index["runs"][0]["settings"]) if index["runs"] else []
    cols = index.get("summarize") or []
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "file", *keys, *cols, "ok", "failed", "skipped", "seconds", "error"])
    for e in index["runs"]:
        err = e["error"] or "; ".join(f"{b}: {m}" for b, m in e["errors"].items())
        w.writerow([e["run"], e["file"] or "", *[setting_text(e["settings"][k]) for k in keys],
                    *[summary_text(e["summary"][c]) for c in cols],
                    "true" if e["ok"] else "false", e["blocks"]["failed"], e["blocks"]["skipped"],
                    e["seconds"], err])
    return buf.getvalue()


def summary_text(v) -> str:
    """A summary value in a table: '' when there is none, numbers at 6 significant digits."""
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return setting_text(v)


def setting_text(v) -> str:
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
