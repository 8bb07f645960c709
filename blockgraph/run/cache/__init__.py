"""The cache of block results: a block whose computation was done before is served instead of
computed (status "cached", with the time saved).

    cache = Cache()                            # BLOCKGRAPH_CACHE, else the user cache folder
    results = page.run(feeds, cache=cache)     # or Cache.options(plan, feeds, options)
    cache.close()

It is one wrapper of the execution seam (`wrapper.CacheWrapper`), so every executor, cycles and
sweeps use it alike. Its parts:

    keys.py     the key of every block, from the run plan before the run (Merkle over the Scope)
    memory.py   recent entries as arrays, in this process (re-runs in watch/serve/a session)
    store.py    entries on disk: SQLite index, blob files, atomic writes, checksums, LRU eviction
    codec.py    outputs as bytes and back, their layout kept
    wrapper.py  the seam wrapper

On disk, an output of a MiB or more that computes faster than it could be read back (at about
DISK_RATE bytes a second) is kept in memory only: storing it would cost more than it saves; one
whose reading back took longer than its computing did is dropped from the disk once served.
Results of a run with a cache are read-only arrays, since the cache may serve them again.
Needs the `cache` extra (xxhash, platformdirs): pip install 'blockgraph[cache]'.
"""
from __future__ import annotations

import os
import sys
import time
import warnings

from ...core.errors import UsageError

CACHE_EXTRA = "pip install 'blockgraph[cache]'"
#: the default bound of the disk cache (BLOCKGRAPH_CACHE_SIZE overrides it)
DEFAULT_MAX_BYTES = 2 << 30
#: the default bound of the entries kept in memory
DEFAULT_MEMORY = 1 << 30
#: outputs at least this big go to disk only when computing them took longer than reading
#: them back would at DISK_RATE bytes a second
LARGE = 1 << 20
DISK_RATE = 2e9
#: an entry's use is written to the index at most once in this many seconds (LRU granularity)
USE_NOTE = 600.0


class CacheError(UsageError):
    """A cache that cannot be used: the extra is missing, the folder cannot be written."""


class CacheWarning(UserWarning):
    """Something the cache did about a damaged entry or changed code (it recomputed)."""


def _require():
    try:
        import platformdirs  # noqa: F401
        import xxhash  # noqa: F401
    except ImportError as e:
        raise CacheError(f"the cache needs the optional extra: {CACHE_EXTRA} ({e})") from None


def default_folder() -> str:
    """BLOCKGRAPH_CACHE, else the platform's user cache folder (~/.cache/blockgraph on Linux)."""
    env = os.environ.get("BLOCKGRAPH_CACHE", "").strip()
    if env:
        return os.path.abspath(os.path.expanduser(env))
    _require()
    import platformdirs
    return platformdirs.user_cache_dir("blockgraph", appauthor=False)


def default_max_bytes() -> int:
    """BLOCKGRAPH_CACHE_SIZE (e.g. 10G), else DEFAULT_MAX_BYTES."""
    env = os.environ.get("BLOCKGRAPH_CACHE_SIZE", "").strip()
    if not env:
        return DEFAULT_MAX_BYTES
    from ...core.budget import parse_size
    try:
        return parse_size(env)
    except ValueError as e:
        raise CacheError(f"BLOCKGRAPH_CACHE_SIZE: {e}") from None


class Cache:
    """One cache folder, and the entries this process keeps in memory.

    folder: None for `default_folder()`. max_bytes: the bound of the folder (None: the
    default); least recently used entries are evicted after each run. memory_bytes: the bound
    of the entries kept in memory (0: none). warn(line): where warnings go (default: Python
    warnings). immediate: commit each entry at once (dask workers)."""

    def __init__(self, folder: str | None = None, *, max_bytes: int | None = None,
                 memory_bytes: int = DEFAULT_MEMORY, warn=None, immediate: bool = False):
        _require()
        from .keys import Keys
        from .memory import Memory
        from .store import Store
        self.folder = os.path.abspath(folder) if folder else default_folder()
        self.max_bytes = max_bytes if max_bytes is not None else default_max_bytes()
        self.memory = Memory(memory_bytes)
        self.keys = Keys()
        self._warn = warn
        self._warned: set = set()
        self._noted: dict = {}          # key -> when its use was last told to the store
        self._disk = True
        try:
            self.store = Store(self.folder, immediate=immediate)
        except (OSError, _sqlite_error()) as e:
            raise CacheError(f"cannot use the cache folder {self.folder}: {e}") from None

    # ------------------------------------------------------------ a run
    def wrap(self, plan, feeds):
        """The seam wrapper of one run of `plan` with `feeds`: its keys worked out now, and the
        index rows of those not in memory fetched in one go."""
        from .wrapper import CacheWrapper
        keys = self.keys.of(plan, feeds or {})
        for path in sorted(self.keys.versions.stale - self._warned):
            self._warned.add(path)
            self.warn(f"{path} changed since blockgraph started: the blocks whose code it holds "
                      "are not cached until blockgraph is started again")
        memory = self.memory
        want = [k for k in keys.values() if k is not None and k not in memory]
        rows = self._disk_call(self.store.rows, want) if want else {}
        return CacheWrapper(self, keys, rows or {})

    def options(self, plan, feeds, options):
        """`options` (RunOptions) with this cache in its seam, for one run of `plan`."""
        from dataclasses import replace
        return replace(options, seam=options.seam.with_extra(self.wrap(plan, feeds)))

    def lookup(self, key: bytes, rows: dict | None, block):
        """The entry stored under `key` (memory first, then disk), or None. A damaged entry is
        reported, dropped and not served."""
        e = self.memory.get(key)
        if e is not None:
            self._used(key)
            return e
        if not self._disk:
            return None
        row = rows.get(key) if rows is not None else \
            (self._disk_call(self.store.rows, [key]) or {}).get(key)
        if row is None:
            return None
        from .memory import Entry
        from .store import Corrupt
        started = time.perf_counter()
        try:
            outputs, dtypes = self.store.read(row)
        except FileNotFoundError:          # evicted by another run meanwhile
            return None
        except (Corrupt, ValueError, EOFError, TypeError) as err:
            self.warn(f"cache entry {key.hex()[:12]} of block '{block.id}' ({block.op}) is damaged "
                      f"({err}): recomputed")
            self._disk_call(self.store.drop, key)
            return None
        except OSError as err:
            self.warn(f"cannot read the cache entry of block '{block.id}': {err}; recomputed")
            return None
        e = Entry(outputs, dtypes, row.seconds, _nbytes(outputs))
        if e.nbytes >= LARGE and time.perf_counter() - started > row.seconds:
            # read back slower than it was computed (it was stored after a slow first run, or
            # this disk is slower than DISK_RATE): served this once, then recomputed from now on
            self._disk_call(self.store.drop, key)
        else:
            self._used(key)
        self.memory.put(key, e)
        return e

    def _used(self, key: bytes) -> None:
        """Tell the store an entry was used (for its LRU order), at most once per USE_NOTE
        seconds per entry: a re-run served from memory writes nothing."""
        now = time.monotonic()
        if now - self._noted.get(key, -USE_NOTE) >= USE_NOTE:
            if len(self._noted) > 1_000_000:
                self._noted.clear()
            self._noted[key] = now
            self.store.used(key)

    def keep(self, key: bytes, result, seconds: float, feed=None) -> None:
        """Keep an ok result under `key`: its arrays become read-only (results and cache share
        them); in memory, and on disk unless reading it back would cost more than computing."""
        from . import codec
        from .memory import Entry, freeze
        try:
            result.outputs, nbytes = freeze(result.outputs, feed)
        except TypeError:
            return
        self.memory.put(key, Entry(result.outputs, dict(result.dtypes), seconds, nbytes))
        self._noted[key] = time.monotonic()
        if not self._disk or (nbytes >= LARGE and seconds * DISK_RATE < nbytes):
            return
        try:
            self._disk_call(self.store.put, key, result.outputs, result.dtypes, seconds)
        except codec.Unstorable:
            pass

    def _disk_call(self, fn, *args):
        """fn(*args) on the store; a disk that fails (full, read-only) is reported once and the
        cache goes on in memory only."""
        if not self._disk:
            return None
        try:
            return fn(*args)
        except (OSError, _sqlite_error()) as e:
            self._disk = False
            self.warn(f"the cache folder {self.folder} cannot be used ({e}); caching in memory "
                      "only")
            return None

    def warn(self, line: str) -> None:
        if self._warn is not None:
            self._warn(line)
        else:
            warnings.warn(line, CacheWarning, stacklevel=3)

    # ------------------------------------------------------------ housekeeping
    def flush(self) -> None:
        """Commit what this process stored, then evict down to max_bytes."""
        self._disk_call(self.store.flush)
        self._disk_call(self.store.evict, self.max_bytes)

    def info(self) -> dict:
        """{"folder", "entries", "bytes", "oldest", "newest", "max_bytes"}."""
        d = self.store.info()
        d["max_bytes"] = self.max_bytes
        return d

    def clear(self, older: float | None = None, max_bytes: int | None = None) -> tuple[int, int]:
        """Drop every entry, those unused for `older` seconds, or the least recently used ones
        beyond `max_bytes`; (entries, bytes) dropped."""
        if max_bytes is not None:
            n, b = self.store.evict(max_bytes)
            if older is None:
                return n, b
            n2, b2 = self.store.clear(older)
            return n + n2, b + b2
        return self.store.clear(older)

    def close(self) -> None:
        """Wait for the entries being written, commit, evict, close."""
        self._disk_call(self.store.wait)
        self.flush()
        self._disk_call(self.store.close)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __reduce__(self):       # to a dask worker: the same folder, committed entry by entry
        return (_remote, (self.folder, self.max_bytes))


def _remote(folder, max_bytes):
    return Cache(folder, max_bytes=max_bytes, memory_bytes=0, immediate=True)


def _nbytes(outputs: dict) -> int:
    return sum(a.nbytes for v in outputs.values() for a in (v if isinstance(v, list) else [v]))


def _sqlite_error():
    return sys.modules["sqlite3"].Error


__all__ = ["Cache", "CacheError", "CacheWarning", "default_folder", "default_max_bytes"]
