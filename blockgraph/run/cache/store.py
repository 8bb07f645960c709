"""The cache on disk: a directory holding `index.db` (SQLite: one row per entry, small payloads
inline) and `blobs/XX/KEY` files for payloads over INLINE bytes.

- Atomic: a blob is written (by a background thread: a run does not wait for the disk) to a
  temp file in its folder and renamed into place before its row is committed; rows change
  only in SQLite transactions. Concurrent runs (threads or
  processes) sharing the directory see an entry whole or not at all. Blobs are not fsynced: an
  entry lost or mangled by a crash fails its checksum and is recomputed.
- Checked: each row holds the xxh3-128 checksum of meta and payload and the payload's size; an
  entry whose blob is short, or whose checksum does not match, is reported (`Corrupt`), dropped
  and recomputed, never served.
- Bounded: `evict(max_bytes)` drops the least recently used entries (rows hold when each was
  last used) until the total fits; `clear(older=...)` drops entries unused for that long.
"""
from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
import time

from . import codec

INLINE = 64 << 10          # payloads up to this size live in the index
BATCH = 256                # pending rows are committed in batches of this many
_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    key BLOB PRIMARY KEY, meta BLOB NOT NULL, data BLOB, size INTEGER NOT NULL,
    checksum BLOB NOT NULL, seconds REAL NOT NULL, created REAL NOT NULL, used REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_used ON entries(used);
"""


class Corrupt(Exception):
    """An entry whose bytes do not match its checksum or size."""


class Row:
    """One stored entry as read from the index (its blob not yet read)."""
    __slots__ = ("key", "meta", "data", "size", "checksum", "seconds")

    def __init__(self, key, meta, data, size, checksum, seconds):
        self.key, self.meta, self.data, self.size = key, meta, data, size
        self.checksum, self.seconds = checksum, seconds


class Store:
    """The entries of one cache directory. Thread-safe; one SQLite connection per Store."""

    def __init__(self, folder: str, immediate: bool = False):
        """immediate: commit every put at once (else in batches and at `flush()`)."""
        self.folder = os.path.abspath(folder)
        self.immediate = immediate
        os.makedirs(os.path.join(self.folder, "blobs"), exist_ok=True)
        self._lock = threading.RLock()
        self._pending: list = []
        self._used: dict = {}
        self._writer = None
        self._writes: list = []
        self.failed: OSError | None = None
        self._db = self._connect()

    # ------------------------------------------------------------ the index
    def _connect(self):
        path = os.path.join(self.folder, "index.db")
        db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout = 30000")
            try:
                db.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError:       # a file system without shared memory
                pass
            db.execute("PRAGMA synchronous = NORMAL")
            db.executescript(_SCHEMA)
            db.execute("SELECT count(*) FROM entries").fetchone()
        except sqlite3.DatabaseError as e:
            db.close()
            if isinstance(e, sqlite3.OperationalError) and "locked" in str(e):
                raise
            # an unreadable index: keep it aside for inspection, start a new one
            os.replace(path, f"{path}.corrupt-{int(time.time())}")
            for side in ("-wal", "-shm"):
                try:
                    os.unlink(path + side)
                except OSError:
                    pass
            return self._connect()
        return db

    def rows(self, keys) -> dict:
        """{key: Row} of the stored entries among `keys` (one query per 500 keys)."""
        keys = list(keys)
        out = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                q = ("SELECT key, meta, data, size, checksum, seconds FROM entries WHERE key IN "
                     f"({','.join('?' * len(chunk))})")
                for r in self._db.execute(q, chunk):
                    out[r[0]] = Row(*r)
        return out

    def read(self, row: Row) -> tuple[dict, dict]:
        """The outputs and dtypes of an entry; Corrupt when its bytes fail their checks,
        FileNotFoundError when another run evicted its blob meanwhile."""
        payload = row.data
        if payload is None:
            payload = self._read_blob(row)
        elif len(payload) != row.size:
            raise Corrupt(f"holds {len(payload)} bytes, its index says {row.size}")
        if codec.checksum(row.meta, payload) != row.checksum:
            raise Corrupt("checksum mismatch")
        return codec.unpack(row.meta, payload)

    def _read_blob(self, row: Row):
        import numpy as np
        with open(self._blob(row.key), "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size != row.size:
                raise Corrupt(f"its file holds {size} bytes, its index says {row.size}")
            buf = np.empty(size, np.uint8)           # aligned, and no second copy
            got = fh.readinto(memoryview(buf))
            if got != size:
                raise Corrupt(f"read {got} of {size} bytes")
        buf.flags.writeable = False
        return buf

    def _blob(self, key: bytes) -> str:
        h = key.hex()
        return os.path.join(self.folder, "blobs", h[:2], h)

    # ------------------------------------------------------------ writing
    def put(self, key: bytes, outputs: dict, dtypes: dict, seconds: float) -> None:
        """Store an entry (atomically). A small one joins the next batch of rows; a large one
        is written by a background thread (the run does not wait for the disk), its row
        committed by the first `flush` after it is written. codec.Unstorable when the outputs
        cannot be written."""
        meta, chunks, size = codec.pack(outputs, dtypes)
        if size <= INLINE:
            data = b"".join(chunks)
            self._row(key, meta, data, size, codec.checksum(meta, data), seconds)
            return
        if self.immediate:               # a dask worker: nothing waits for a background thread
            self._write_blob(key, meta, chunks, size, seconds)
            if self.failed is not None:
                e, self.failed = self.failed, None
                raise e
            return
        with self._lock:
            if self._writer is None:
                from concurrent.futures import ThreadPoolExecutor
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="blockgraph-cache")
            self._writes.append(self._writer.submit(self._write_blob, key, meta, chunks, size,
                                                    seconds))

    def _write_blob(self, key, meta, chunks, size, seconds) -> None:
        path = self._blob(key)
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(path))
            try:
                with os.fdopen(fd, "wb") as fh:
                    for chunk in chunks:
                        fh.write(chunk)
                os.replace(tmp, path)
            except BaseException:
                _unlink(tmp)
                raise
        except OSError as e:
            self.failed = e              # the cache reports it at the next flush
            return
        self._row(key, meta, None, size, codec.checksum(meta, *chunks), seconds)

    def _row(self, key, meta, data, size, check, seconds) -> None:
        now = time.time()
        with self._lock:
            self._pending.append((key, meta, data, size, check, seconds, now, now))
            if self.immediate or len(self._pending) >= BATCH:
                self._commit()

    def wait(self) -> None:
        """Wait until every blob given to `put` so far is written."""
        with self._lock:
            writes, self._writes = self._writes, []
        for f in writes:
            f.result()

    def used(self, key: bytes) -> None:
        """Note that an entry was served (for LRU eviction), committed with the next batch."""
        self._used[key] = time.time()

    def drop(self, key: bytes) -> None:
        """Forget a corrupt entry."""
        with self._lock:
            self._db.execute("DELETE FROM entries WHERE key = ?", (key,))
        _unlink(self._blob(key))

    def flush(self) -> None:
        """Commit pending rows and use times."""
        with self._lock:
            self._commit()

    def _commit(self):
        pending, self._pending = self._pending, []
        used, self._used = self._used, {}
        if self.failed is not None:
            e, self.failed = self.failed, None
            raise e
        if not pending and not used:
            return
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT OR REPLACE INTO entries VALUES (?,?,?,?,?,?,?,?)", pending)
            db.executemany("UPDATE entries SET used = ? WHERE key = ?",
                           [(t, k) for k, t in used.items()])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------ managing
    def info(self) -> dict:
        """{"folder", "entries", "bytes", "oldest", "newest"} (use times, seconds since the epoch)."""
        self.wait()
        self.flush()
        with self._lock:
            n, size, old, new = self._db.execute(
                "SELECT count(*), coalesce(sum(size), 0), min(used), max(used) FROM entries").fetchone()
        return {"folder": self.folder, "entries": n, "bytes": size, "oldest": old, "newest": new}

    def evict(self, max_bytes: int) -> tuple[int, int]:
        """Drop least recently used entries until at most `max_bytes` are stored; (entries,
        bytes) dropped."""
        self.flush()
        with self._lock:
            total = self._db.execute("SELECT coalesce(sum(size), 0) FROM entries").fetchone()[0]
            if total <= max_bytes:
                return 0, 0
            victims, freed = [], 0
            for key, size in self._db.execute("SELECT key, size FROM entries ORDER BY used"):
                if total - freed <= max_bytes:
                    break
                victims.append((key, size))
                freed += size
            return self._delete(victims)

    def clear(self, older: float | None = None) -> tuple[int, int]:
        """Drop every entry, or those unused for `older` seconds; (entries, bytes) dropped."""
        self.flush()
        with self._lock:
            if older is None:
                rows = self._db.execute("SELECT key, size FROM entries").fetchall()
            else:
                rows = self._db.execute("SELECT key, size FROM entries WHERE used < ?",
                                        (time.time() - older,)).fetchall()
            dropped = self._delete(rows)
        if older is None:        # files no row names (a run stopped between blob and row)
            for folder, _, files in os.walk(os.path.join(self.folder, "blobs")):
                for f in files:
                    _unlink(os.path.join(folder, f))
        return dropped

    def _delete(self, rows) -> tuple[int, int]:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("DELETE FROM entries WHERE key = ?", [(k,) for k, _ in rows])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        for k, size in rows:
            if size > INLINE:
                _unlink(self._blob(k))
        return len(rows), sum(s for _, s in rows)

    def close(self) -> None:
        """Wait for the blobs being written, commit, close."""
        try:
            self.wait()
            with self._lock:
                self._commit()
        finally:
            if self._writer is not None:
                self._writer.shutdown()
            self._db.close()


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
