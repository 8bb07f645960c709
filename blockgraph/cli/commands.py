"""The CLI's commands, each a few lines over load_page / run / Results / report."""
from __future__ import annotations

import json
import os
import sys
from types import SimpleNamespace

from .. import formats
from ..api import load_page
from ..core import registry
from ..core.diagnostics import Diagnostic
from ..core.errors import ExecutorError, PageError, UsageError
from ..core.results import dumps, write_npz
from ..run import executors
from ..run.progress import Progress
from ..run.sweep import SweepError, setting_text
from ..run.sweep import sweep as run_sweep
from ..view import report


def _err(line: str):
    print(line, file=sys.stderr)


def _load_pages(paths, args):
    """Load every page; print its problems. Returns [(page or None)]."""
    pages = []
    for path in paths:
        try:
            p = load_page(path, allow_outside=args.allow_outside, max_bytes=args.max_bytes)
        except OSError as e:
            _err(f"{path}:1:1: error: cannot read the page: {e.strerror or e}")
            pages.append(None)
            continue
        pages.append(p)
    return pages


def check(args) -> int:
    pages = _load_pages(args.pages, args)
    diags = [d for p in pages if p for d in p.diagnostics]
    errors = [d for d in diags if d.is_error]
    if args.json:
        print(dumps({"ok": not errors and all(pages), "errors": [d.to_json() for d in errors],
                     "warnings": [d.to_json() for d in diags if not d.is_error]}))
    else:
        for d in diags:
            _err(d.format())
        for p in pages:
            if p and not p.errors:
                print(f"{p.path}: ok ({len(p.scope.blocks)} blocks)")
    return 0 if all(pages) and not errors else 1


def _read_feeds(args):
    """{key: array} from --feeds and --feed (keys ID or PAGE/ID); prints and returns None on error."""
    import numpy as np
    feeds = {}
    try:
        if args.feeds:
            with np.load(args.feeds, allow_pickle=False) as z:
                for k in z.files:
                    feeds[k] = z[k]
        for item in args.feed:
            name, sep, path = item.partition("=")
            if not sep or not name or not path:
                _err(f"blockgraph: error: --feed wants ID=FILE.npy, got {item!r}")
                return None
            feeds[name] = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        _err(f"blockgraph: error: cannot read feeds: {e}")
        return None
    return feeds


def _feeds_for(page, feeds, many):
    """The feeds meant for `page`: plain ids it has, and PAGE/ID keys naming it."""
    mine = {}
    names = set(page.scope.feedable()) if page.scope else set()
    for k, v in feeds.items():
        pg, sep, bid = k.rpartition("/")
        if sep and pg == page.name:
            mine[bid] = v
        elif not sep and (k in names or not many):
            mine[k] = v
    return mine


def run(args) -> int:
    if args.scheduler is not None and args.executor != "dask":
        _err("blockgraph: error: --scheduler needs --executor dask")
        return 2
    feeds = _read_feeds(args)
    if feeds is None:
        return 2
    state = _read_npz(args.state, "--state") if args.state else {}
    if state is None:
        return 2
    args.state_values = state
    pages = _load_pages(args.pages, args)
    many = len(args.pages) > 1
    try:     # one executor (one dask client or cluster) serves every page of the command
        with executors.get(args.executor)(workers=args.workers, scheduler=args.scheduler) as ex:
            all_results, ok, used = _run_pages(pages, feeds, many, args, ex)
    except ExecutorError as e:      # dask missing, scheduler unreachable, bad --workers
        _err(f"blockgraph: error: {e}")
        return 2
    checks, ok = _check_saved(all_results, args, ok)
    unused = sorted(set(feeds) - used) if many else []
    for k in unused:
        _err(f"blockgraph: error: feed '{k}' matches no placeholder of the pages given")
        ok = False
    ok = _write_outputs(args, all_results, many) and ok
    if args.json:
        _print_json(all_results, many, ok, checks)
    else:
        for p, results in all_results:
            if many:
                print(f"== {p.name} ({p.path})")
            print(report.results_table(results))
            if results.cycles > 1 or results.state:
                print(f"cycles: {results.cycles}" + (f"; variables: {', '.join(results.state)}"
                                                     if results.state else ""))
            _show(args.show, p, results)
            if p.path in checks:
                print(checks[p.path].table())
    return 0 if ok else 1


def _check_saved(all_results, args, ok):
    """--check-saved: {page path: comparison of its results with those its file saved}."""
    checks = {}
    for p, results in all_results if args.check_saved else ():
        try:
            checks[p.path] = formats.check_saved(p, results)
        except (UsageError, OSError) as e:
            _err(f"blockgraph: error: --check-saved: {e}")
            ok = False
    return checks, ok and all(c.ok for c in checks.values())


def _cycle_progress(bar):
    """on_cycle for Page.run: advance a cycles progress bar."""
    if bar is None:
        return None
    return lambda k, results: bar.on_block(SimpleNamespace(id=str(k), status="ok" if results.ok
                                                           else "failed"))


def _write_outputs(args, all_results, many) -> bool:
    """--out (outputs, and traces unless --trace-out), --trace-out, --save-state; False when
    one cannot be written (said on stderr)."""
    files = {}
    if args.out:
        files[args.out] = {}
    if args.trace and args.trace_out:
        files[args.trace_out] = {}
    if args.save_state:
        files[args.save_state] = {}
    for p, results in all_results:
        prefix = f"{p.name}/" if many else ""
        if args.out:
            files[args.out].update(results.arrays(prefix=prefix))
        if args.trace and (args.trace_out or args.out):
            files[args.trace_out or args.out].update(
                {f"{prefix}trace:{k}": v for k, v in results.trace_arrays().items()})
        if args.save_state:
            files[args.save_state].update({f"{prefix}{k}": v for k, v in results.state.items()})
    ok = True
    for path, arrays in files.items():
        try:
            write_npz(path, arrays)
        except OSError as e:
            _err(f"blockgraph: error: cannot write {path}: {e.strerror or e}")
            ok = False
    return ok


def _read_npz(path, what):
    """{key: array} of an .npz given to `what`; prints and returns None when it cannot be read."""
    import numpy as np
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        _err(f"blockgraph: error: {what}: cannot read {path}: {e}")
        return None


def _run_pages(pages, feeds, many, args, ex):
    """Run every runnable page, printing its problems: ([(page, Results)], ok, feed keys used).
    ExecutorError propagates (the executor cannot run here at all)."""
    all_results, ok = [], all(pages)
    used = set()
    for p in pages:
        if p is None:
            continue
        for d in p.diagnostics:
            _err(d.format())
        ok = ok and not p.errors
        if not p.runnable:
            continue
        mine = _feeds_for(p, feeds, many)
        used |= {k for k in feeds if k in mine or k == f"{p.name}/{k.rpartition('/')[2]}"}
        cycles = args.cycles
        bar = Progress.for_terminal(cycles, "cycles") if cycles > 1 else None
        try:
            state = _feeds_for(p, args.state_values, many) or None
            if args.from_saved:      # enuSpace: Variables from their saved result_ref
                state = {**formats.saved_state(p), **(state or {})}
            results = p.run(mine, fail_fast=args.fail_fast, executor=ex,
                            callbacks=None if bar else Progress.for_terminal(len(p.scope.blocks)),
                            keep=args.keep or None, cycles=cycles, trace=args.trace or None,
                            state=state,
                            on_cycle=_cycle_progress(bar))
        except (PageError, UsageError) as e:
            for line in (d.format() for d in e.diagnostics) if isinstance(e, PageError) else \
                    [f"blockgraph: error: {e}"]:
                _err(line)
            ok = False
            continue
        finally:
            if bar:
                bar.on_finish(None)
        if results.cycles < cycles:
            _err(f"{p.path}: stopped after cycle {results.cycles} of {cycles}: a block failed")
        for r in results:
            if r.status == "failed" and not p.scope.blocks[r.id].error:   # static ones are printed
                line, col = p.locate(r.id, r.error_port)
                _err(Diagnostic(p.path, line, col, r.error, block=r.id, op=r.op).format())
                if r.traceback:
                    _err(r.traceback.rstrip() if args.debug else
                         "  hint: a bug inside the block; rerun with --debug for its traceback")
        ok = ok and results.ok
        all_results.append((p, results))
    return all_results, ok, used


def _print_json(all_results, many, ok, checks=None):
    checks = checks or {}
    if not many and len(all_results) == 1:
        doc = all_results[0][1].to_json()
        doc["ok"] = doc["ok"] and ok
        if checks:
            doc["check_saved"] = next(iter(checks.values())).to_json()
    else:
        doc = {"page": [p.name for p, _ in all_results], "ok": ok, "blocks": {}}
        for p, results in all_results:
            for bid, entry in results.to_json()["blocks"].items():
                doc["blocks"][f"{p.name}/{bid}"] = entry
        if checks:
            doc["check_saved"] = {p.name: checks[p.path].to_json() for p, _ in all_results
                                  if p.path in checks}
    sys.stdout.write(dumps(doc) + "\n")


def _show(keys, page, results):
    for key in keys:
        try:
            a = results[key]
        except (KeyError, IndexError, ValueError) as e:
            _err(f"blockgraph: --show {key}: {e.args[0] if e.args else e}")
            continue
        parts = key.split(".")
        r = results.block(parts[0])
        port = parts[1] if len(parts) > 1 else next(iter(r.outputs))
        d = r.dtypes[port]
        d = d[int(parts[2])] if len(parts) > 2 else d
        print(f"\n{key}: {d} {report.shape_text(a.shape)}\n{report.full(a, d)}")


def sweep(args) -> int:
    """`blockgraph sweep`: 0 every run ok, 1 a failed run or an invalid page, 2 a usage error."""
    def err(line):
        print(line, file=sys.stderr)
    try:
        page = load_page(args.page, allow_outside=args.allow_outside, max_bytes=args.max_bytes)
    except OSError as e:
        err(f"{args.page}:1:1: error: cannot read the page: {e.strerror or e}")
        return 1
    try:
        index = run_sweep(page, grid=args.grid, feeds_dir=args.feeds_dir, out=args.out,
                          executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                          keep=args.keep or None, allow_outside=args.allow_outside, report=err)
    except PageError as e:
        for d in e.diagnostics:
            err(d.format())
        return 1
    except (SweepError, ExecutorError) as e:
        err(f"blockgraph: error: {e}")
        return 2
    except OSError as e:
        err(f"blockgraph: error: {e.strerror or e}: {getattr(e, 'filename', '') or args.out}")
        return 1
    print(_sweep_summary(index, args.out))
    return 0 if index["ok"] else 1


def _sweep_summary(index, out) -> str:
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
        rows.append((str(e["run"]), e["file"] or "-", *[setting_text(e["settings"][k]) for k in keys],
                     status, f"{e['seconds']:.3f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    ok = sum(e["ok"] for e in runs)
    lines.append(f"{len(runs)} runs: {ok} ok, {len(runs) - ok} not ok; index: "
                 f"{os.path.join(out, 'index.json')}, {os.path.join(out, 'index.csv')}")
    return "\n".join(lines)


def import_page(args) -> int:
    """`blockgraph import PAGE -o PAGE.yaml`: 0 written, 1 unreadable page, 2 not an enuSpace page."""
    try:
        diags, files = formats.to_yaml(args.page, args.output)
    except OSError as e:
        _err(f"{args.page}:1:1: error: cannot read the page: {e.strerror or e}")
        return 1
    except UsageError as e:
        _err(f"blockgraph: error: {e}")
        return 2
    except PageError as e:
        for d in e.diagnostics:
            _err(d.format())
        return 1
    for d in diags:
        _err(d.format())
    print("wrote " + ", ".join(files))
    return 0


def render(args) -> int:
    from ..view.render import main as render_main
    return render_main(args)


def show(args) -> int:
    from ..view.show import main as show_main
    return show_main(args)


def blocks(args) -> int:
    if args.name:
        d = registry.get(args.name)
        if d is None:
            from ..core.diagnostics import did_you_mean
            hint = did_you_mean(args.name, registry.names())
            _err(f"blockgraph: error: no block named '{args.name}'" + (f"; {hint}" if hint else ""))
            return 1
        print(dumps(d.to_json()) if args.json else report.block_detail(d))
        return 0
    defs = [registry.get(n) for n in registry.names()]
    if args.json:
        print(dumps([d.to_json() for d in defs]))
    else:
        print(report.block_list(defs))
    return 0


def schema(args) -> int:
    from ..core.page import json_schema
    text = json.dumps(json_schema(), indent=2) + "\n"
    if args.output:
        with open(args.output, "w") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0

