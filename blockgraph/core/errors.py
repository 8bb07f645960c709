"""The exceptions blockgraph raises, under one root: catch `BlockgraphError` for all of them.

Users catch the first few; the rest say which input was wrong and are caught by the layer that
turns them into located diagnostics.

    BlockgraphError
    ├── PageError        a page that cannot be loaded or run (carries every Diagnostic)
    ├── OpError          TensorFlow's error for one op (its text), maybe tied to an input port
    ├── ExecutorError    an executor that cannot run here (dask missing, no scheduler, bad option)
    ├── UsageError       a bad argument to a command or API call (sweep grids, show keys, ...)
    ├── FileError        a file that cannot be used as asked (FileReadError, FileWriteError)
    └── AttrError, DTypeError, LiteralError   a bad attr value, dtype name, literal
"""
from __future__ import annotations


class BlockgraphError(Exception):
    """The root of every error blockgraph raises on purpose."""


class PageError(BlockgraphError):
    """A page that cannot be loaded or run; `diagnostics` holds every located problem found."""

    def __init__(self, diagnostics):
        self.diagnostics = sorted(diagnostics, key=lambda d: d.sort_key())
        super().__init__("\n".join(d.format() for d in self.diagnostics))


class OpError(BlockgraphError):
    """An error TF would raise for this op (its message text), optionally tied to an input port."""

    def __init__(self, message: str, port: str | None = None):
        super().__init__(message)
        self.message = message
        self.port = port


class ExecutorError(BlockgraphError):
    """An executor that cannot run here: dask missing, a scheduler that cannot be reached, a bad
    option. Its message is one line meant for the user."""


class UsageError(BlockgraphError, ValueError):
    """A bad argument to a command or an API call; the message says what to pass instead."""


class AttrError(BlockgraphError, ValueError):
    """An attr value of the wrong type or out of its allowed range (`attr` names it when known)."""

    def __init__(self, message: str, attr: str | None = None):
        super().__init__(message)
        self.attr = attr


class DTypeError(BlockgraphError, ValueError):
    """An unknown or unsupported dtype name."""


class LiteralError(BlockgraphError, ValueError):
    """A YAML value that cannot become a tensor of the wanted dtype."""


class BlockBug(BlockgraphError):
    """A block's own code broke its contract (a shape function left an output unset, a kernel
    returned the wrong dtype): reported as that block's failure, with the declaration to fix."""


class FileError(BlockgraphError, OSError):
    """A file that cannot be used as asked. `str()` is the reason alone; `.filename` is the path."""

    def __init__(self, path: str, reason: str):
        super().__init__(reason)
        self.filename = path
        self.strerror = reason

    def __str__(self):
        return self.strerror

    def __reduce__(self):
        return (type(self), (self.filename, self.strerror))


class FileReadError(FileError):
    """A file that cannot be read: missing, not a regular file, larger than allowed, truncated or
    corrupt."""


class FileWriteError(FileError):
    """A destination that is never replaced: a device, a FIFO, a directory."""
