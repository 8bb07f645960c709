"""Waiting for files to change (`watchfiles`, part of the `watch` extra): the folders holding
them are watched, not the files, since editors often save by writing a new file and renaming it
over the old one.

    for changed in changes(session.files, stop):      # {path, ...} of the files that changed
        ...
"""
from __future__ import annotations

import os

from ..core.errors import UsageError

WATCH_EXTRA = "pip install 'blockgraph[watch]'"
#: milliseconds of quiet after a change before it is reported (editors write in bursts)
DEBOUNCE = 80


def require():
    try:
        import watchfiles  # noqa: F401
    except ImportError as e:
        raise UsageError(f"watching files needs the optional extra: {WATCH_EXTRA} ({e})") from None


def snapshot(paths) -> dict:
    """{path: (mtime_ns, size, inode) or None} of files now, to compare with later."""
    out = {}
    for p in paths:
        try:
            st = os.stat(p)
            out[os.path.realpath(p)] = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            out[os.path.realpath(p)] = None
    return out


def changes(files, stop=None, since: dict | None = None):
    """Yield the set of paths among `files()` that changed, each time some did. `files` is
    called again after each change (a page may start reading another file). `since`: a
    `snapshot` taken when the files were last read: a change made before the watch is in place
    is found by comparing with it. Ends when `stop` (a threading.Event) is set; Ctrl-C raises
    KeyboardInterrupt."""
    require()
    import watchfiles
    while stop is None or not stop.is_set():
        wanted = {os.path.realpath(f) for f in files()}
        folders = sorted({os.path.dirname(f) for f in wanted if os.path.isdir(os.path.dirname(f))})
        if not folders:
            return

        def interesting(change, path, wanted=wanted):
            return os.path.realpath(path) in wanted

        first = True
        for batch in watchfiles.watch(*folders, watch_filter=interesting, debounce=DEBOUNCE,
                                      step=20, stop_event=stop, recursive=False,
                                      raise_interrupt=True, yield_on_timeout=True,
                                      rust_timeout=200):
            got = {os.path.realpath(p) for _, p in batch}
            if first:            # the watch is in place: what changed before it?
                first = False
                if since:
                    now = snapshot(p for p in wanted if p in since)
                    got |= {p for p, v in now.items() if v != since[p]}
            if not got:
                continue
            yield got
            now = {os.path.realpath(f) for f in files()}
            if now != wanted:
                since = snapshot(now)
                break             # watch the new set of files
        else:
            return
