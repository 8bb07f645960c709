"""`blockgraph run`: feeds read (headers first, only what a placeholder takes), pages run on one
executor (one dask client or cluster for all of them), results printed and written (--out,
--trace-out, --save-state, all atomic and refused before running when they cannot be written)."""
from __future__ import annotations

import sys
from types import SimpleNamespace

from .. import formats
from ..core import jsonout, npyio
from ..core.diagnostics import Diagnostic, did_you_mean
from ..core.errors import ExecutorError, FileReadError, FileWriteError, PageError, UsageError
from ..core.results import destination, write_npz
from ..run import executors
from ..run.progress import Progress
from ..view import report
from .common import err as _err
from .common import load_pages as _load_pages
from . import feeds as feed_args


def run(args) -> int:
    if args.scheduler is not None and args.executor != "dask":
        _err("blockgraph: error: --scheduler needs --executor dask")
        return 2
    for flag, path in (("--out", args.out), ("--trace-out", args.trace_out),
                       ("--save-state", args.save_state)):
        if path:
            try:
                destination(path)       # refused before running, not after
            except FileWriteError as e:
                _err(f"blockgraph: error: {flag} {path}: {e}")
                return 2
    sources = feed_args.open_feeds(args)
    if sources is None:
        return 2
    state = _read_state(args.state, feed_args.limit(args.max_bytes)) if args.state else {}
    if state is None:
        return 2
    pages = _load_pages(args.pages, args)
    many = len(args.pages) > 1
    if not _check_show(args.show, [p for p in pages if p and p.runnable], args.keep):
        return 2
    wanted = {i: feed_args.feeds_for(p, sources, many) for i, p in enumerate(pages)
              if p and p.runnable}
    fed = {k for i, mine in wanted.items() for bid, k in mine.items()
           if bid in pages[i].scope.feedable()}       # never read a member nobody feeds
    feeds = feed_args.load_feeds(sources, [k for k in sources if k in fed],
                                 feed_args.limit(args.max_bytes))
    if feeds is None:
        return 2
    if not _only_ok(args, pages):
        return 2
    store = None
    if args.cache is not None:
        from .authoring import open_cache
        store = open_cache(args.cache, memory=not args.keep)
        if store is None:
            return 2
    try:     # one executor (one dask client or cluster) serves every page of the command
        with executors.get(args.executor)(workers=args.workers, scheduler=args.scheduler) as ex:
            all_results, ok, used = _run_pages(pages, wanted, feeds, state, args, ex, store)
    except ExecutorError as e:      # dask missing, scheduler unreachable, bad --workers
        _err(f"blockgraph: error: {e}")
        return 2
    finally:
        if store is not None:
            store.close()
    checks, ok = _check_saved(all_results, args, ok)
    unused = sorted(set(sources) - used) if many else []
    for k in unused:
        _err(f"blockgraph: error: feed '{k}' matches no placeholder of the pages given")
        ok = False
    fed = {pages[i].name: {bid: feed_args.describe(sources[k]) for bid, k in mine.items()}
           for i, mine in wanted.items()}
    ok = _write_outputs(args, all_results, many, fed) and ok
    if args.json:
        _print_json(all_results, many, ok, checks)
    else:
        for p, results in all_results:
            if many:
                print(f"== {p.name} ({p.path})")
            print(report.results_table(results, only=_wanted(p, args.only)))
            if store is not None:
                print(report.cache_summary(results))
            if results.cycles > 1 or results.state:
                print(f"cycles: {results.cycles}" + (f"; variables: {', '.join(results.state)}"
                                                     if results.state else ""))
            _show(args.show, p, results)
            if p.path in checks:
                print(checks[p.path].table())
    return 0 if ok else 1


def _check_saved(all_results, args, ok):
    """--check-saved: {page path: its results compared with those its file saved} (enuSpace)."""
    checks = {}
    for p, results in all_results if getattr(args, "check_saved", False) else ():
        try:
            checks[p.path] = formats.check_saved(p, results)
        except (UsageError, OSError) as e:
            _err(f"blockgraph: error: --check-saved: {e}")
            ok = False
    return checks, ok and all(c.ok for c in checks.values())


def _only_ok(args, pages) -> bool:
    """--only names outputs of the (one) page; False after saying why not."""
    if not args.only:
        return True
    if len(args.pages) > 1:
        _err("blockgraph: error: --only takes one page")
        return False
    try:
        for p in pages:
            if p is not None and p.scope is not None:
                _wanted(p, args.only)
    except UsageError as e:
        _err(f"blockgraph: error: {e}")
        return False
    return True


def _wanted(page, only):
    """{block: ports or None} named by --only, or None for a full run."""
    if not only:
        return None
    from ..run.partial import parse
    return parse(page.scope, only)


def _run_pages(pages, wanted, feeds, state, args, ex, store=None):
    """Run every runnable page, printing its problems: ([(page, Results)], ok, feed keys used).
    `wanted[i]` maps the placeholders of page i to feed keys, `feeds` those keys to arrays.
    ExecutorError propagates (the executor cannot run here at all)."""
    all_results, ok = [], all(pages)
    used = set()
    for i, p in enumerate(pages):
        if p is None:
            continue
        for d in p.diagnostics:
            _err(d.format())
        ok = ok and not p.errors
        if not p.runnable:
            continue
        used |= set(wanted[i].values())
        problems = p.feed_problems(wanted[i])
        if problems:
            for d in problems:
                _err(d.format())
            ok = False
            continue
        mine = feed_args.convert(p, {bid: feeds[k] for bid, k in wanted[i].items()},
                                 args.cast_feeds)
        if mine is None:
            ok = False
            continue
        cycles = args.cycles
        bar = Progress.for_terminal(cycles, "cycles") if cycles > 1 else \
            Progress.for_terminal(len(p.scope.blocks))
        try:
            start = _state_for(p, state, many=len(pages) > 1) or None
            if getattr(args, "from_saved", False):     # enuSpace: Variables from result_ref
                start = {**formats.saved_state(p), **(start or {})}
            results = p.run(mine, fail_fast=args.fail_fast, executor=ex,
                            callbacks=bar if bar and cycles == 1 else None,
                            keep=args.keep or None, cycles=cycles, trace=args.trace or None,
                            state=start,
                            on_cycle=_cycle_progress(bar) if cycles > 1 else None,
                            only=args.only or None, cache=store)
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
                _err(Diagnostic(p.path, line, col, r.error, block=r.id, op=r.op,
                                hint=feed_args.hint(p, r.id, mine.get(r.id))).format())
                if r.traceback:
                    _err(r.traceback.rstrip() if args.debug else
                         "  hint: a bug inside the block; rerun with --debug for its traceback")
        ok = ok and results.ok
        all_results.append((p, results))
    return all_results, ok, used


def _state_for(page, state, many):
    """The --state values meant for `page`: VAR keys (a single page) and PAGE/VAR keys."""
    mine = {}
    for k, v in state.items():
        pg, sep, var = k.rpartition("/")
        if sep and pg == page.name:
            mine[var] = v
        elif not sep and not many:
            mine[k] = v
    return mine


def _read_state(path, max_bytes):
    """{Variable id: array} of --state FILE.npz; prints and returns None when it cannot be read."""
    try:
        with npyio.Npz(path) as z:
            return {k: z.load(k, max_bytes) for k in z.keys if k != feed_args.META}
    except FileReadError as e:
        _err(f"blockgraph: error: --state: cannot read {e.filename}: {e}")
        return None


def _cycle_progress(bar):
    """on_cycle for Page.run: advance a cycles progress bar."""
    if bar is None:
        return None
    return lambda k, results: bar.on_block(SimpleNamespace(id=str(k), status="ok" if results.ok
                                                           else "failed"))


def _write_outputs(args, all_results, many, fed=None) -> bool:
    """--out (outputs, and traces unless --trace-out), --trace-out, --save-state; False when
    one cannot be written (said on stderr). --out and --trace-out carry `__meta__` (the pages,
    their feeds (`fed` {page: {id: source}}), each key's op and TF dtype)."""
    from ..core import resultmeta
    pages, keys = {}, {}
    files = {}
    if args.out:
        files[args.out] = {}
    if args.trace and args.trace_out:
        files[args.trace_out] = {}
    if args.save_state:
        files[args.save_state] = {}
    for p, results in all_results:
        prefix = f"{p.name}/" if many else ""
        pages[p.name] = resultmeta.page_entry(p, feeds=(fed or {}).get(p.name), ok=results.ok,
                                              cycles=results.cycles)
        keys.update(resultmeta.key_entries(p.name, results, prefix, traces=bool(args.trace)))
        if args.out:
            files[args.out].update(results.arrays(prefix=prefix))
        if args.trace and (args.trace_out or args.out):
            files[args.trace_out or args.out].update(
                {f"{prefix}trace:{k}": v for k, v in results.trace_arrays().items()})
        if args.save_state:
            files[args.save_state].update({f"{prefix}{k}": v for k, v in results.state.items()})
    meta = resultmeta.build(pages, keys)
    ok = True
    for path, arrays in files.items():
        if path != args.save_state:
            arrays = resultmeta.with_meta(arrays, meta)
        try:
            write_npz(path, arrays)
        except OSError as e:
            _err(f"blockgraph: error: cannot write {path}: {e.strerror or e}")
            ok = False
    return ok


def _print_json(all_results, many, ok, checks=None):
    """The results as one JSON document on stdout, tensors streamed a chunk at a time."""
    checks = checks or {}
    if not many and len(all_results) == 1:
        doc = all_results[0][1].to_json(streamed=True)
        doc["ok"] = doc["ok"] and ok
        if checks:
            doc["check_saved"] = next(iter(checks.values())).to_json()
    else:
        doc = {"page": [p.name for p, _ in all_results], "ok": ok, "blocks": {}}
        for p, results in all_results:
            for bid, entry in results.to_json(streamed=True)["blocks"].items():
                doc["blocks"][f"{p.name}/{bid}"] = entry
        if checks:
            doc["check_saved"] = {p.name: checks[p.path].to_json() for p, _ in all_results
                                  if p.path in checks}
    jsonout.write(doc, sys.stdout)
    sys.stdout.write("\n")


def _show_problem(page, key: str, keep) -> str | None:
    """Why --show KEY (BLOCK, BLOCK.PORT or BLOCK.PORT.I) names no kept output of `page`, or
    None when it names one."""
    from fnmatch import fnmatchcase
    parts = key.split(".")
    b = page.scope.blocks.get(parts[0])
    if b is None:
        hint = did_you_mean(parts[0], page.scope.blocks)
        return f"no block '{parts[0]}' in page '{page.name}'" + (f" ({hint})" if hint else "")
    if b.defn is None or not b.defn.outputs:
        return None if b.defn is None else f"block '{b.id}' ({b.op}) has no outputs"
    names = [o.name for o in b.defn.outputs]
    port = parts[1] if len(parts) > 1 else names[0]
    out = b.defn.output(port)
    if out is None or len(parts) > 3:
        return (f"block '{b.id}' ({b.op}) has no output '{'.'.join(parts[1:])}' "
                f"(outputs: {', '.join(names)})")
    if len(parts) == 3 and not (out.list and parts[2].isdigit()):
        return f"output '{b.id}.{port}' is not a list" if not out.list else f"bad index in '{key}'"
    if keep and not any(fnmatchcase(n, p) for n in (f"{b.id}.{port}", b.id) for p in keep):
        return f"output '{b.id}.{port}' is not kept (--keep {' '.join(keep)})"
    return None


def _check_show(keys, pages, keep) -> bool:
    """True when every --show key names an output of one of `pages`; else prints why (a usage
    error: nothing runs)."""
    ok = True
    for key in keys:
        problems = [_show_problem(p, key, keep) for p in pages]
        if pages and all(problems):
            _err(f"blockgraph: error: --show {key}: {problems[0]}")
            ok = False
    return ok


def _show(keys, page, results):
    """Print the --show outputs of `page` (keys naming none of its outputs are another page's)."""
    for key in keys:
        if _show_problem(page, key, None):
            continue
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


