"""Opening the files blockgraph is given (pages, feeds, Const files, results) safely.

A path is opened without blocking (a FIFO or a device never blocks the open) and refused unless
it is a regular file; what is read from it is bounded by size before reading. Every reader of a
page, feed, Const file or results file goes through `open_regular` (directly or via `npyio`).
"""
from __future__ import annotations

import os
import stat

from .errors import FileReadError

#: the largest page file read, in bytes (a page of 460,000 blocks is about 55 MB)
MAX_PAGE_BYTES = 256 << 20

_KINDS = ((stat.S_ISREG, "a regular file"), (stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


def kind(mode: int) -> str:
    """What a file of st_mode `mode` is, for messages: 'a FIFO', 'a directory', ..."""
    return next((name for test, name in _KINDS if test(mode)), "an unknown kind of file")


def not_regular(path: str, mode: int) -> FileReadError:
    """The error for a path that exists but is not a regular file."""
    return FileReadError(path, f"not a regular file ({kind(mode)})")


def open_regular(path: str):
    """`path` opened for binary reading; FileReadError (an OSError) when it cannot be opened or
    is not a regular file. The check is made on the open descriptor, so it cannot be raced."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as e:
        raise FileReadError(path, e.strerror or str(e)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise not_regular(path, st.st_mode)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def too_large(path: str, size: int, limit: int, what: str = "it is",
              hint: str = "") -> FileReadError:
    """The error for a file (or an array in it) of `size` bytes over `limit`."""
    from .budget import size_text
    return FileReadError(path, f"{what} {size_text(size)}, more than the limit of "
                         f"{size_text(limit)}{hint}")


def read_bytes(path: str, limit: int = MAX_PAGE_BYTES) -> bytes:
    """The whole content of the regular file `path`, refused (FileReadError) when it is larger
    than `limit` bytes; the size is checked before reading and bounds the read."""
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if size > limit:
            raise too_large(path, size, limit)
        try:
            data = fh.read(size)          # read(n) allocates n bytes up front: never the limit
            grew = fh.read(1)
        except OSError as e:
            raise FileReadError(path, e.strerror or str(e)) from None
    if grew:
        raise FileReadError(path, "it changed while being read")
    return data
