"""A sweep's OUT folder, owned by one sweep at a time, so that its index always describes the
run files beside it.

`owned(out)` creates OUT, takes an exclusive lock on it (`OUT/.blockgraph-sweep.lock`, removed
when the sweep ends; a second sweep into the same OUT is refused while the first runs; the lock
dies with its process, even by SIGKILL) and removes the previous sweep's index, then its run
files (`run-NNNN.npz`) and left-over temp files, before the first run. The sweep writes the new
index when it ends, or when it is interrupted.
"""
from __future__ import annotations

import os
import re
import stat
from contextlib import contextmanager

from ..core.errors import BlockgraphError
from ..core.files import kind

try:
    import fcntl
except ImportError:       # pragma: no cover - not POSIX: no lock
    fcntl = None

LOCK = ".blockgraph-sweep.lock"
INDEX = ("index.json", "index.csv")
_OWN_FILES = re.compile(r"^(run-\d{4,}\.npz|\.tmp-[A-Za-z0-9_]+\.(npz|json|csv))$")


class OutError(BlockgraphError):
    """An OUT that this sweep cannot own: not a folder, or locked by another running sweep."""


class OutInUse(OutError):
    """OUT is locked by another sweep that is still running."""


@contextmanager
def owned(out: str):
    """OUT created, locked for this sweep and cleared of an earlier sweep's files (index first,
    so no index ever describes a mix); the lock is released (and its file removed) on exit."""
    try:
        mode = os.stat(out).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISDIR(mode):
        raise OutError(f"--out {out} is not a folder ({kind(mode)})")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, LOCK)
    fd = _lock(path, out)
    try:
        clear(out)
        yield out
    finally:
        try:
            os.unlink(path)         # while still locked: a sweep waiting on it retries
        except OSError:
            pass
        os.close(fd)


def _lock(path: str, out: str) -> int:
    """An open descriptor of the lock file at `path`, exclusively locked (OutInUse when another
    sweep holds it). Retried when the file was removed by its last owner meanwhile."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
        try:
            if fcntl is not None:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                    raise OutInUse(f"{out} is being written by another sweep"
                                   + (f" (pid {holder})" if holder.isdigit() else "")
                                   + "; give each sweep its own --out") from None
                try:
                    same = os.stat(path).st_ino == os.fstat(fd).st_ino
                except FileNotFoundError:
                    same = False
                if not same:
                    os.close(fd)
                    continue
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            return fd
        except BaseException:
            os.close(fd)
            raise


def clear(out: str) -> list[str]:
    """Remove an earlier sweep's files from OUT: its index, then its run and temp files.
    Returns the names removed; other files are left alone."""
    removed = []
    for name in INDEX + tuple(sorted(n for n in os.listdir(out) if _OWN_FILES.match(n))):
        try:
            os.unlink(os.path.join(out, name))
            removed.append(name)
        except FileNotFoundError:
            pass
    return removed
