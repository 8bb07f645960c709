"""The CLI's commands, each a few lines over load_page / run / Results / report."""
from __future__ import annotations

import contextlib
import json
import sys

from ..core import registry
from ..view import report
from ..api import load_page
from ..core import jsonout, npyio
from ..core.diagnostics import Diagnostic, PageError, did_you_mean
from ..core.errors import FileReadError, FileWriteError
from ..core.invoke import default_max_bytes
from ..run.parallel import ExecutorError    # imports no dask
from ..run.progress import Progress
from ..core.results import destination, dumps, write_npz


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


def _limit(max_bytes):
    """--max-bytes as a number of bytes (its default, -1, is half the physical memory)."""
    return default_max_bytes() if max_bytes == -1 else max_bytes


def check(args) -> int:
    pages = _load_pages(args.pages, args)
    diags = [d for p in pages if p for d in p.diagnostics]
    if args.json:
        print(dumps({"ok": not diags and all(pages), "errors": [d.to_json() for d in diags]}))
    else:
        for d in diags:
            _err(d.format())
        for p in pages:
            if p and not p.diagnostics:
                print(f"{p.path}: ok ({len(p.scope.blocks)} blocks)")
    return 0 if all(pages) and not diags else 1


def _open_feeds(args):
    """{key: (file, .npz member or None)} of --feeds and --feed (keys ID or PAGE/ID): each file
    checked (an .npz listed, a .npy's header read), no data read yet. Prints and returns None on
    error (a usage error)."""
    sources = {}
    item = None
    try:
        if args.feeds:
            with npyio.Npz(args.feeds) as z:
                sources.update((k, (args.feeds, k)) for k in z.keys)
        for item in args.feed:
            name, sep, path = item.partition("=")
            if not sep or not name or not path:
                _err(f"blockgraph: error: --feed wants ID=FILE.npy, got {item!r}")
                return None
            npyio.npy_header(path)
            sources[name] = (path, None)
    except FileReadError as e:
        hint = "; --feed takes ID=FILE.npy, an array saved by numpy.save" if item is not None else ""
        _err(f"blockgraph: error: cannot read feeds from {e.filename}: {e}{hint}")
        return None
    return sources


def _load_feeds(sources, keys, max_bytes):
    """{key: array} for `keys` (each member read only if asked for, checked against max_bytes
    from its header first); prints and returns None on error (a usage error)."""
    feeds = {}
    try:
        for path in dict.fromkeys(sources[k][0] for k in keys):
            members = [k for k in keys if sources[k][0] == path]
            if sources[members[0]][1] is None:
                feeds[members[0]] = npyio.load_npy(path, max_bytes)
                for k in members[1:]:
                    feeds[k] = feeds[members[0]]
                continue
            with npyio.Npz(path) as z:
                for k in members:
                    feeds[k] = z.load(sources[k][1], max_bytes)
    except FileReadError as e:
        _err(f"blockgraph: error: cannot read feeds from {e.filename}: {e}")
        return None
    return feeds


def _feeds_for(page, keys, many):
    """{placeholder id: feed key} of the feeds meant for `page`: plain ids it has (every plain
    key when it is the only page), and PAGE/ID keys naming it."""
    mine = {}
    names = set(page.scope.feedable()) if page.scope else set()
    for k in keys:
        pg, sep, bid = k.rpartition("/")
        if sep and pg == page.name:
            mine[bid] = k
        elif not sep and (k in names or not many):
            mine[k] = k
    return mine


def run(args) -> int:
    if args.scheduler is not None and args.executor != "dask":
        _err("blockgraph: error: --scheduler needs --executor dask")
        return 2
    if args.out:
        try:
            destination(args.out)       # refused before running, not after
        except FileWriteError as e:
            _err(f"blockgraph: error: --out {args.out}: {e}")
            return 2
    sources = _open_feeds(args)
    if sources is None:
        return 2
    pages = _load_pages(args.pages, args)
    many = len(args.pages) > 1
    if not _check_show(args.show, [p for p in pages if p and p.runnable], args.keep):
        return 2
    wanted = {i: _feeds_for(p, sources, many) for i, p in enumerate(pages) if p and p.runnable}
    fed = {k for i, mine in wanted.items() for bid, k in mine.items()
           if bid in pages[i].scope.feedable()}       # never read a member nobody feeds
    feeds = _load_feeds(sources, [k for k in sources if k in fed], _limit(args.max_bytes))
    if feeds is None:
        return 2
    try:
        with _shared_scheduler(args, pages) as scheduler:
            all_results, ok, used = _run_pages(pages, wanted, feeds, args, scheduler)
    except ExecutorError as e:      # dask missing, scheduler unreachable, bad --workers
        _err(f"blockgraph: error: {e}")
        return 2
    unused = sorted(set(sources) - used) if many else []
    for k in unused:
        _err(f"blockgraph: error: feed '{k}' matches no placeholder of the pages given")
        ok = False
    if args.out:
        arrays = {}
        for p, results in all_results:
            arrays.update(results.arrays(prefix=f"{p.name}/" if many else ""))
        try:
            write_npz(args.out, arrays)
        except OSError as e:
            _err(f"blockgraph: error: cannot write {args.out}: {e.strerror or e}")
            ok = False
    if args.json:
        _print_json(all_results, many, ok)
    else:
        for p, results in all_results:
            if many:
                print(f"== {p.name} ({p.path})")
            print(report.results_table(results))
            _show(args.show, p, results)
    return 0 if ok else 1


def _run_pages(pages, wanted, feeds, args, scheduler):
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
        ok = ok and not p.diagnostics
        if not p.runnable:
            continue
        used |= set(wanted[i].values())
        problems = p.feed_problems(wanted[i])
        if problems:
            for d in problems:
                _err(d.format())
            ok = False
            continue
        mine = {bid: feeds[k] for bid, k in wanted[i].items()}
        try:
            results = p.run(mine, fail_fast=args.fail_fast,
                            callbacks=Progress.for_terminal(len(p.scope.blocks)),
                            **_executor_kwargs(args, scheduler))
        except PageError as e:
            for d in e.diagnostics:
                _err(d.format())
            ok = False
            continue
        for r in results:
            if r.status == "failed" and not p.scope.blocks[r.id].error:   # static ones are printed
                line, col = p.locate(r.id, r.error_port)
                _err(Diagnostic(p.path, line, col, r.error, block=r.id, op=r.op).format())
        ok = ok and results.ok
        all_results.append((p, results))
    return all_results, ok, used


@contextlib.contextmanager
def _shared_scheduler(args, pages):
    """The --scheduler the runs use: with several runnable pages one Client (and, for 'local',
    one LocalCluster) serves them all instead of one per page."""
    runnable = sum(1 for p in pages if p is not None and p.runnable)
    if args.executor != "dask" or args.scheduler is None or runnable < 2:
        yield args.scheduler
        return
    from ..run.dask_run import dask_client
    with dask_client(args.scheduler, args.workers) as client:
        yield client


def _executor_kwargs(args, scheduler=None) -> dict:
    """Executor choice and its options from the command line (`scheduler`: --scheduler's
    address, or the Client shared by the pages of this run)."""
    kw = {"executor": args.executor}
    if args.workers is not None:
        kw["workers"] = args.workers
    if scheduler is not None:
        kw["scheduler"] = scheduler
    if args.keep:
        kw["keep"] = list(args.keep)
    return kw


def _print_json(all_results, many, ok):
    """The results as one JSON document on stdout, tensors streamed a chunk at a time."""
    if not many and len(all_results) == 1:
        doc = all_results[0][1].to_json(streamed=True)
        doc["ok"] = doc["ok"] and ok
    else:
        doc = {"page": [p.name for p, _ in all_results], "ok": ok, "blocks": {}}
        for p, results in all_results:
            for bid, entry in results.to_json(streamed=True)["blocks"].items():
                doc["blocks"][f"{p.name}/{bid}"] = entry
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


def sweep(args) -> int:
    from ..run.sweep import main as sweep_main
    return sweep_main(args)


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

