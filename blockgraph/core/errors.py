"""The root of blockgraph's own exceptions, and the ones raised for bad arguments and files.

Catch `BlockgraphError` to catch every problem blockgraph reports on purpose (a bad page, a bad
argument, an unreadable file, an executor that cannot run); anything else is a bug.
"""
from __future__ import annotations


class BlockgraphError(Exception):
    """Base of every error blockgraph raises on purpose; its message is meant for the user."""


class UsageError(BlockgraphError, ValueError):
    """A Python API call with an argument of the wrong kind; the message says what to pass."""


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
