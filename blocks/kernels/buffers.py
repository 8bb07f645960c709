"""Recycled memory for large kernel outputs.

glibc hands allocations over 32 MiB straight to mmap and gives them back on free, so every new
output of that size is fresh memory that the kernel zero-fills page by page when it is first
written: for a 1e7-element float32 FakeQuant output that costs about as much as the kernel
itself. `empty(shape)` instead returns a view of a buffer kept here, reused once no array made
from it is alive any more: it is handed out again only when the buffer's reference count shows
that this module holds the only reference (every view, view of a view, memoryview or
`np.frombuffer` of it keeps a reference), so memory in use is never written.

Buffers no view uses any more stay here up to IDLE_BYTES in all (oldest dropped first);
`release()` drops them all.

    >>> a = empty((4, 1 << 22))          # 64 MiB: pooled
    >>> p = a.__array_interface__["data"][0]
    >>> del a
    >>> empty((4, 1 << 22)).__array_interface__["data"][0] == p
    True
"""
from __future__ import annotations

import math
import sys
import threading

import numpy as np

#: outputs at least this big are pooled (smaller ones come back from malloc's heap anyway)
MIN_BYTES = 16 << 20
#: at most this many bytes of buffers no array uses any more are kept
IDLE_BYTES = 512 << 20

_LOCK = threading.Lock()
_BUFFERS: list = []   # 1-d owning arrays, oldest first


def _idle(i: int) -> bool:
    """True when _BUFFERS[i] is referenced only by the list (and this call's argument)."""
    return sys.getrefcount(_BUFFERS[i]) <= 2


def empty(shape, dtype=np.float32) -> np.ndarray:
    """An uninitialised C-contiguous array, on a recycled buffer when it is large."""
    dtype = np.dtype(dtype)
    count = math.prod(shape)
    if count * dtype.itemsize < MIN_BYTES:
        return np.empty(shape, dtype)
    with _LOCK:
        for i in range(len(_BUFFERS)):
            if _BUFFERS[i].size == count and _BUFFERS[i].dtype == dtype and _idle(i):
                base = _BUFFERS.pop(i)
                _BUFFERS.append(base)
                return base.reshape(shape)
        base = np.empty(count, dtype)
        _BUFFERS.append(base)
        out = base.reshape(shape)
        del base
        _trim()
        return out


def _trim():
    """Forget the oldest idle buffers beyond IDLE_BYTES (their memory goes back to the OS)."""
    idle = 0
    for i in range(len(_BUFFERS) - 1, -1, -1):
        if _idle(i):
            idle += _BUFFERS[i].nbytes
            if idle > IDLE_BYTES:
                del _BUFFERS[i]
    # buffers still in use are forgotten too once there are many: they are freed with their
    # last view, as any array
    while len(_BUFFERS) > 64:
        del _BUFFERS[0]


def release() -> int:
    """Drop every idle buffer; returns the bytes given back."""
    with _LOCK:
        freed = 0
        for i in range(len(_BUFFERS) - 1, -1, -1):
            if _idle(i):
                freed += _BUFFERS[i].nbytes
                del _BUFFERS[i]
        return freed
