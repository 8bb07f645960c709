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


def changes(files, stop=None):
    """Yield the set of paths among `files()` that changed, each time some did. `files` is
    called again after each change (a page may start reading another file). Ends when `stop`
    (a threading.Event) is set; Ctrl-C raises KeyboardInterrupt."""
    require()
    import watchfiles
    while stop is None or not stop.is_set():
        wanted = {os.path.realpath(f) for f in files()}
        folders = sorted({os.path.dirname(f) for f in wanted if os.path.isdir(os.path.dirname(f))})
        if not folders:
            return

        def interesting(change, path, wanted=wanted):
            return os.path.realpath(path) in wanted

        for batch in watchfiles.watch(*folders, watch_filter=interesting, debounce=DEBOUNCE,
                                      step=20, stop_event=stop, recursive=False,
                                      raise_interrupt=True):
            yield {os.path.realpath(p) for _, p in batch}
            now = {os.path.realpath(f) for f in files()}
            if now != wanted:
                break             # watch the new set of files
        else:
            return
