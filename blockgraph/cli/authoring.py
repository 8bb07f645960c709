"""The authoring loop on the command line: `watch`, `serve` and `cache`, and the options they
share with `run` (`--cache [DIR]`, `--only BLOCK[.PORT]...`). Argument parsing and printing;
the work is in `run.cache`, `view.watch` and `view.serve`, imported when a command runs.

    blockgraph run PAGE --cache [DIR] --only fq.backprop_wrt_min
    blockgraph watch PAGE... [run options]
    blockgraph serve PAGE [--port P] [--host H] [run options]
    blockgraph cache info|clear [--dir DIR] [--older DAYS] [--max-size SIZE]
"""
from __future__ import annotations

import argparse
import os
import sys

PAGE_SUFFIXES = (".yaml", ".yml")


def cache_option(p):
    p.add_argument("--cache", nargs="?", const="", default=None, metavar="DIR",
                   help="reuse block results computed before (folder: DIR, else BLOCKGRAPH_CACHE, "
                        "else the user cache folder)")


def only_option(p):
    p.add_argument("--only", action="extend", nargs="+", default=[], metavar="BLOCK[.PORT]",
                   help="run just what these outputs need (their upstream); show only them and "
                        "what ran")


def cache_flag_before_page(argv: list) -> list:
    """`--cache PAGE.yaml ...` means the default folder and a page, not a folder named like a
    page: written `--cache=` for argparse."""
    out = list(argv)
    for i, tok in enumerate(out[:-1]):
        if tok == "--cache" and out[i + 1].lower().endswith(PAGE_SUFFIXES):
            out[i] = "--cache="
    return out


def add_commands(sub, run_options, common):
    """The watch, serve and cache subcommands."""
    watch = sub.add_parser("watch", help="run pages, then again each time a page or one of its "
                                         "files changes, printing what changed")
    watch.add_argument("pages", nargs="+", metavar="PAGE", help="YAML page files")
    run_options(watch)

    serve = sub.add_parser("serve", help="show a page's diagram with its results in a browser, "
                                         "updated as the page or its files change")
    serve.add_argument("page", metavar="PAGE")
    serve.add_argument("--port", type=int, default=8470, metavar="P",
                       help="port to listen on (default 8470; 0 picks a free one)")
    serve.add_argument("--host", default="127.0.0.1", metavar="HOST",
                       help="address to listen on (default 127.0.0.1: this machine only)")
    run_options(serve)

    cache = sub.add_parser("cache", help="show or clear the cache of block results")
    cache.add_argument("action", choices=["info", "clear"], help="info: its folder and size; "
                       "clear: drop entries (all, or by --older / --max-size)")
    cache.add_argument("--dir", metavar="DIR", help="the cache folder (default: BLOCKGRAPH_CACHE, "
                       "else the user cache folder)")
    cache.add_argument("--older", type=_days, metavar="DAYS",
                       help="clear: drop entries not used for DAYS days")
    cache.add_argument("--max-size", type=_size, metavar="SIZE",
                       help="clear: drop least recently used entries until SIZE is left (e.g. 1G)")
    cache.add_argument("--json", action="store_true", help="info: print it as JSON")
    cache.add_argument("--debug", action="store_true", help=argparse.SUPPRESS)


def _days(text: str) -> float:
    try:
        d = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {text!r}") from None
    if not d >= 0:
        raise argparse.ArgumentTypeError("days must be 0 or more")
    return d


def _size(text: str) -> int:
    from ..core.budget import parse_size
    try:
        return parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _err(line: str):
    print(line, file=sys.stderr)


def warn(line: str):
    """How the cache's warnings are printed."""
    _err(f"blockgraph: warning: {line}")


def open_cache(folder, *, memory: bool = True):
    """A Cache of `folder` ("" or None: the default), warnings printed; None after printing
    why it cannot be used."""
    from ..run.cache import DEFAULT_MEMORY, Cache, CacheError
    try:
        return Cache(folder or None, memory_bytes=DEFAULT_MEMORY if memory else 0, warn=warn)
    except CacheError as e:
        _err(f"blockgraph: error: {e}")
        return None


def cache(args) -> int:
    """`blockgraph cache info|clear`: 0 done, 2 a usage error (or a cache that cannot open)."""
    from ..core.results import dumps
    from ..core.budget import size_text
    if args.action == "info" and (args.older is not None or args.max_size is not None):
        _err("blockgraph: error: --older and --max-size go with 'cache clear'")
        return 2
    c = open_cache(args.dir, memory=False)
    if c is None:
        return 2
    with c:
        if args.action == "clear":
            n, size = c.clear(older=None if args.older is None else args.older * 86400,
                              max_bytes=args.max_size)
            print(f"cleared {n} entries ({size_text(size)}) from {c.folder}")
            return 0
        info = c.info()
    if args.json:
        print(dumps(info))
        return 0
    print(f"folder:  {info['folder']}\nentries: {info['entries']}\n"
          f"size:    {size_text(info['bytes'])} of at most {size_text(info['max_bytes'])} "
          "(BLOCKGRAPH_CACHE_SIZE)")
    if info["entries"]:
        import time
        age = lambda t: f"{(time.time() - t) / 86400:.1f} days ago"   # noqa: E731
        print(f"used:    least recently {age(info['oldest'])}, most recently {age(info['newest'])}")
    return 0


def _loop_setup(args, paths):
    """(cache, feeds(page), feed files) of watch/serve; None after printing why not."""
    from ..view.watcher import require
    if args.scheduler is not None and args.executor != "dask":
        _err("blockgraph: error: --scheduler needs --executor dask")
        return None
    for flag in ("state", "save_state", "trace_out"):
        if getattr(args, flag, None):
            _err(f"blockgraph: error: --{flag.replace('_', '-')} goes with 'blockgraph run'")
            return None
    from .page_params import parse
    args.param_values = parse(args.param)     # set on each page that defines them (Session)
    try:
        require()
    except Exception as e:   # noqa: BLE001 - UsageError: the extra is missing
        _err(f"blockgraph: error: {e}")
        return None
    c = open_cache(args.cache)
    if c is None:
        return None
    feeds = LoopFeeds(args, c, many=len(paths) > 1)
    from .feeds import is_file
    files = ([args.feeds] if args.feeds else []) + [
        text for text in (f.partition("=")[2] for f in args.feed) if text and is_file(text)]
    return c, feeds, files


class LoopFeeds:
    """`feeds(page)` of watch/serve: the feeds of `page` (literals converted; PageError, located,
    when one cannot be). A file is read once and its arrays kept, read-only, until the session
    says it changed (`forget`) or its signature does; the cache remembers their digests, so a
    re-run neither reads nor hashes a feed that did not change."""

    def __init__(self, args, cache, many: bool):
        self.args, self.cache, self.many = args, cache, many
        self.kept: dict = {}         # (file, member) -> (signature, array)

    def __call__(self, page) -> dict:
        from ..core import feeding
        from ..core.errors import UsageError
        from . import feeds as feed_args
        args = self.args
        sources = feed_args.open_feeds(args)
        mine = feed_args.feeds_for(page, sources or {}, self.many)
        got = None if sources is None else feed_args.load_feeds(
            sources, [k for b, k in mine.items() if b in page.scope.feedable()],
            feed_args.limit(args.max_bytes), kept=self.kept)
        if got is None:
            raise UsageError("the feeds could not be read (see above)")
        for _, a in self.kept.values():
            self.cache.keys.remember(a)
        return feeding.convert(page.scope, {b: got[k] for b, k in mine.items() if k in got},
                               cast=args.cast_feeds, style="cli")

    def forget(self, paths) -> None:
        """Read these files again next time (the watcher saw them change)."""
        real = {os.path.realpath(p) for p in paths}
        for key in [k for k in self.kept if os.path.realpath(k[0]) in real]:
            del self.kept[key]


def watch(args) -> int:
    """`blockgraph watch`: until Ctrl-C (130); 2 for a usage error."""
    from ..view.watch import main
    setup = _loop_setup(args, args.pages)
    if setup is None:
        return 2
    c, feeds, files = setup
    with c:
        return main(args, c, feeds, files)


def serve(args) -> int:
    """`blockgraph serve`: until Ctrl-C (130); 2 for a usage error."""
    from ..view.serve import main
    args.pages = [args.page]
    setup = _loop_setup(args, args.pages)
    if setup is None:
        return 2
    c, feeds, files = setup
    with c:
        return main(args, c, feeds, files)
