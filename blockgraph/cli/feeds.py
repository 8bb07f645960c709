"""The feeds of the commands that run pages (`run`, `render --run`, ...): `--feed ID=VALUE`
(a .npy file, or a literal read as YAML like the page), `--feeds FILE.npz`, `--cast-feeds`.
Files are checked first (an .npz listed, a .npy's header read) and only the members a
placeholder takes are read; literals are converted to their placeholder's dtype as the page
converts its own. Problems are printed here: a function returning None means a usage error."""
from __future__ import annotations

import os

import numpy as np

from ..core import feeding, npyio
from ..core.budget import default_max_bytes
from ..core.errors import FileReadError, PageError, UsageError
from .common import err
from .page_params import read_value

LITERAL = object()        # the "file" of a literal --feed
from ..core.resultmeta import KEY as META     # a results file's metadata entry: never a feed


def limit(max_bytes):
    """--max-bytes as a number of bytes (its default, -1, is half the physical memory)."""
    return default_max_bytes() if max_bytes == -1 else max_bytes


def is_file(text: str) -> bool:
    """True when a --feed VALUE names a file rather than writing a literal: it does not start
    as a YAML list, mapping or quoted text does, and it ends in .npy, holds a path separator
    or names something that exists."""
    if text.lstrip()[:1] in ("[", "{", '"', "'"):
        return False
    return text.lower().endswith(".npy") or os.sep in text or os.path.exists(text)


def open_feeds(args):
    """{key: (file, .npz member or None) or (LITERAL, value)} of --feeds and --feed (keys ID or
    PAGE/ID): each file checked, no data read yet. Prints and returns None on error."""
    sources = {}
    item = None
    try:
        if args.feeds:
            with npyio.Npz(args.feeds) as z:
                sources.update((k, (args.feeds, k)) for k in z.keys if k != META)
        for item in args.feed:
            name, sep, text = item.partition("=")
            if not sep or not name or not text:
                err(f"blockgraph: error: --feed wants ID=FILE.npy or ID=VALUE (a literal such as "
                    f"'x=[1, 2, 3]'), got {item!r}")
                return None
            if is_file(text):
                npyio.npy_header(text)
                sources[name] = (text, None)
            else:
                sources[name] = (LITERAL, read_value(text, f"--feed {name}"))
    except FileReadError as e:
        hint = ("; --feed takes ID=FILE.npy (an array saved by numpy.save) or ID=VALUE (a "
                "literal)" if item is not None else "")
        err(f"blockgraph: error: cannot read feeds from {e.filename}: {e}{hint}")
        return None
    except UsageError as e:
        err(f"blockgraph: error: {e}")
        return None
    return sources


def load_feeds(sources, keys, max_bytes, kept=None):
    """{key: array or literal} for `keys` (each member read only if asked for, checked against
    max_bytes from its header first); prints and returns None on error. kept: {(file, member):
    (stat signature, array)} of arrays read before (watch/serve): one whose file has the same
    signature is not read again; what is read is added, made read-only."""
    feeds = {}
    try:
        files = [sources[k][0] for k in keys if sources[k][0] is not LITERAL]
        for k in keys:
            if sources[k][0] is LITERAL:
                feeds[k] = sources[k][1]
        for path in dict.fromkeys(files):
            members = [k for k in keys if sources[k][0] == path]
            sig = _signature(path) if kept is not None else None
            todo = []
            for k in members:
                old = kept.get((path, sources[k][1])) if kept is not None else None
                if old is not None and old[0] == sig:
                    feeds[k] = old[1]
                else:
                    todo.append(k)
            if not todo:
                continue
            if sources[todo[0]][1] is None:
                a = npyio.load_npy(path, max_bytes)
                got = {k: a for k in todo}
            else:
                with npyio.Npz(path) as z:
                    got = {k: z.load(sources[k][1], max_bytes) for k in todo}
            for k, a in got.items():
                feeds[k] = a
                if kept is not None and sig is not None and isinstance(a, np.ndarray):
                    a.flags.writeable = False
                    kept[(path, sources[k][1])] = (sig, a)
    except FileReadError as e:
        err(f"blockgraph: error: cannot read feeds from {e.filename}: {e}")
        return None
    return feeds


def _signature(path):
    """What tells a file was rewritten (its identity, size and times), or None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def feeds_for(page, keys, many):
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


def convert(page, feeds: dict, cast: bool):
    """`feeds` {id: array or literal} of `page` converted (literals to their placeholder's
    dtype; with `cast`, arrays exactly); prints the problems and returns None when one cannot be."""
    try:
        return feeding.convert(page.scope, feeds, cast=cast, style="cli")
    except PageError as e:
        for d in e.diagnostics:
            err(d.format())
        return None


def for_page(args, page):
    """The feeds `args` give one runnable `page`, read and converted: {id: array}, or None after
    printing why they cannot be (an unreadable file, a feed naming no placeholder, ...)."""
    sources = open_feeds(args)
    if sources is None:
        return None
    wanted = feeds_for(page, sources, many=False)
    problems = page.feed_problems(wanted)
    if problems:
        for d in problems:
            err(d.format())
        return None
    loaded = load_feeds(sources, list(wanted.values()), limit(args.max_bytes))
    if loaded is None:
        return None
    return convert(page, {bid: loaded[k] for bid, k in wanted.items()}, args.cast_feeds)


def hint(page, bid, feed):
    """How to fix the feed of a placeholder that failed, in the command line's words."""
    return feeding.hint(page.scope, bid, feed, "cli")


def needs_report(page):
    """([Need] of the placeholders a run of `page` runs, [warning for each that has no
    default]): `check` says what a page must be fed, and with which dtype and shape."""
    from ..core.diagnostics import Diagnostic
    found = feeding.needs(page.scope)
    warnings = []
    for n in found:
        if n.required:
            line, col = page.locate(n.id)
            warnings.append(Diagnostic(
                page.path, line, col, f"must be fed: {n.dtype or 'any dtype'} {n.shape_text()} (a "
                "placeholder without a default: the page cannot run unfed)", block=n.id, op=n.op,
                severity="warning",
                hint=f"run it with --feed {n.id}=FILE.npy, --feed '{n.id}=[...]' or --feeds FILE.npz"))
    return found, warnings


def describe(source) -> str:
    """Where a feed came from, for a results file's metadata: FILE.npy, FILE.npz[KEY], literal."""
    path, member = source
    if path is LITERAL:
        text = repr(member)
        return "literal " + (text if len(text) <= 60 else text[:59] + "…")
    return path if member is None else f"{path}[{member}]"
