"""The cache in memory: recent entries kept as the arrays themselves, least recently used
dropped first once they pass `max_bytes`. What makes a re-run in the same process (watch,
serve, a Python session, the cycles of one run) cost only the blocks that changed: nothing is
read, copied or checked.

Entries are shared with the results that made them and the results they are served to, so
their arrays are read-only (`freeze`): a result served from the cache must not be changed
under the next run. An output that is the caller's own fed array is copied first rather than
made read-only under the caller.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np


class Entry:
    """One block's outputs ({port: array or list}), their TF dtypes, its compute seconds and
    the bytes it holds."""
    __slots__ = ("outputs", "dtypes", "seconds", "nbytes")

    def __init__(self, outputs: dict, dtypes: dict, seconds: float, nbytes: int):
        self.outputs, self.dtypes, self.seconds, self.nbytes = outputs, dtypes, seconds, nbytes


class Memory:
    """Entries by key, least recently used first; thread-safe."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.nbytes = 0
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: bytes) -> Entry | None:
        with self._lock:
            e = self._entries.get(key)
            if e is not None:
                self._entries.move_to_end(key)
            return e

    def put(self, key: bytes, entry: Entry) -> None:
        if entry.nbytes > self.max_bytes:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.nbytes -= old.nbytes
            self._entries[key] = entry
            self.nbytes += entry.nbytes
            while self.nbytes > self.max_bytes:
                _, e = self._entries.popitem(last=False)
                self.nbytes -= e.nbytes

    def release(self, arrays) -> int:
        """Drop the entries holding any of `arrays` (results the authoring loop has moved on
        from: their memory goes back to the output buffers the next computation takes, where
        fresh memory costs as much as a fast kernel); the entries dropped."""
        ids = {id(a) for a in arrays}
        if not ids:
            return 0
        with self._lock:
            gone = [k for k, e in self._entries.items()
                    if any(id(a) in ids for v in e.outputs.values()
                           for a in (v if type(v) is list else (v,)))]
            for k in gone:
                self.nbytes -= self._entries.pop(k).nbytes
            return len(gone)

    def __len__(self):
        return len(self._entries)

    def __contains__(self, key) -> bool:
        return key in self._entries


def freeze(outputs: dict, feed=None) -> tuple[dict, int]:
    """`outputs` with every array read-only (in place; a copy for one sharing memory with the
    caller's `feed`), and the bytes they hold."""
    fed = feed if isinstance(feed, np.ndarray) else None
    total = [0]

    def one(a):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"an output is a {type(a).__name__}")
        if fed is not None and np.may_share_memory(a, fed):
            a = a.copy()
        a.flags.writeable = False
        total[0] += a.nbytes
        return a

    out = {p: [one(a) for a in v] if isinstance(v, list) else one(v) for p, v in outputs.items()}
    return out, total[0]
