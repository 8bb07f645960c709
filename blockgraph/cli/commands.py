"""The CLI's commands, each a few lines over load_page / run / Results / report (`run` is in
`run_command`)."""
from __future__ import annotations

import os
import sys

from ..api import load_page
from ..core import registry
from ..core.errors import ExecutorError, PageError, UsageError
from ..core.results import dumps
from ..run import sweep_out
from ..run.sweep import SweepError, setting_text, summary_text
from ..run.sweep import sweep as run_sweep
from ..view import report
from .common import err as _err
from .common import load_pages as _load_pages
from .authoring import cache, serve, watch  # noqa: F401  (the authoring loop's commands)
from .run_command import run  # noqa: F401  (the `run` command)


def check(args) -> int:
    """`blockgraph check`: every problem of the pages, and the feeds each needs (a placeholder
    without a default is a warning: the page cannot run unfed)."""
    from .feeds import needs_report
    pages = _load_pages(args.pages, args)
    needs = {i: needs_report(p) for i, p in enumerate(pages) if p and p.scope}
    diags = sorted([d for i, p in enumerate(pages) if p
                    for d in (*p.diagnostics, *needs.get(i, ([], []))[1])], key=lambda d: d.sort_key())
    errors = [d for d in diags if d.is_error]
    if args.json:
        print(dumps({"ok": not errors and all(pages), "errors": [d.to_json() for d in errors],
                     "warnings": [d.to_json() for d in diags if not d.is_error],
                     "feeds": {p.path: [n.to_json() for n in needs[i][0]]
                               for i, p in enumerate(pages) if i in needs}}))
    else:
        for d in diags:
            _err(d.format())
        for i, p in enumerate(pages):
            if p and not p.errors:
                feeds = [n.text() + ("" if n.required else " (has a default)") for n in needs[i][0]]
                listed = "; feeds: " + ", ".join(feeds) if feeds else ""
                print(f"{p.path}: ok ({len(p.scope.blocks)} blocks{listed})")
    return 0 if all(pages) and not errors else 1


def import_page(args) -> int:
    """`blockgraph import PAGE -o PAGE.yaml`: 0 written, 1 unreadable page, 2 not an enuSpace page."""
    from .. import formats
    from ..core.errors import UsageError
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


def sweep(args) -> int:
    """`blockgraph sweep`: 0 every run ok, 1 a failed run or an invalid page, 2 a usage error."""
    def err(line):
        print(line, file=sys.stderr)
    from . import page_params
    try:
        page = load_page(args.page, allow_outside=args.allow_outside, max_bytes=args.max_bytes,
                         params=page_params.parse(args.param) or None)
    except OSError as e:
        err(f"{args.page}:1:1: error: cannot read the page: {e.strerror or e}")
        return 1
    try:
        index = run_sweep(page, grid=args.grid, feeds_dir=args.feeds_dir, out=args.out,
                          executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                          keep=args.keep or None, allow_outside=args.allow_outside, report=err,
                          cycles=args.cycles, cache=args.cache, zip_grid=args.zip,
                          summarize=args.summarize)
    except PageError as e:
        for d in e.diagnostics:
            err(d.format())
        return 1
    except (SweepError, ExecutorError, sweep_out.OutError, UsageError) as e:   # CacheError too
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
    cols = index.get("summarize") or []
    rows = [("run", "file", *keys, *cols, "status", "s")]
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
                     *[summary_text(e["summary"][c]) or "-" for c in cols],
                     status, f"{e['seconds']:.3f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    ok = sum(e["ok"] for e in runs)
    lines.append(f"{len(runs)} runs: {ok} ok, {len(runs) - ok} not ok; index: "
                 f"{os.path.join(out, 'index.json')}, {os.path.join(out, 'index.csv')}")
    return "\n".join(lines)


def render(args) -> int:
    from ..view.render import main as render_main
    from . import feeds, page_params
    return render_main(args, feeder=feeds, params=page_params.parse(args.param) or None)


def diff(args) -> int:
    from ..view.diff import main as diff_main
    return diff_main(args)


def show(args) -> int:
    from ..view.show import main as show_main
    return show_main(args)


def blocks(args) -> int:
    """`blockgraph blocks [NAME]`: every block, one block (NAME), or the blocks whose name
    starts with NAME (any case); wrapped to the terminal's width."""
    defs = [registry.get(n) for n in registry.names()]
    if args.name:
        d = registry.get(args.name)
        if d is not None:
            print(dumps(d.to_json()) if args.json else report.block_detail(d))
            return 0
        prefix = args.name.lower()
        defs = [d for d in defs if d.name.lower().startswith(prefix)
                or any(a.lower().startswith(prefix) for a in d.aliases)]
        if not defs:
            from ..core.suggest import op_hint
            hint = op_hint(args.name)
            _err(f"blockgraph: error: no block named '{args.name}' or starting so"
                 + (f"; {hint}" if hint else ""))
            return 1
    if args.json:
        print(dumps([d.to_json() for d in defs]))
    else:
        print(report.block_list(defs, width=_terminal_width()))
    return 0


def _terminal_width() -> int | None:
    """The width to wrap listings to: the terminal's (or $COLUMNS), None when writing to a
    pipe or file (then lines stay whole, for grep)."""
    import shutil
    if "COLUMNS" in os.environ or sys.stdout.isatty():
        return shutil.get_terminal_size((100, 24)).columns
    return None


def schema(args) -> int:
    from ..core.page_schema import text as schema_text
    text = schema_text()
    if args.output:
        with open(args.output, "w") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0

