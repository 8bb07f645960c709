"""Cache keys: the key of every block of a run, worked out from the run plan before anything
runs, Merkle-style: a block's key covers the keys of the blocks it reads, so it is known without
hashing any upstream array again.

    key(block) = xxh3_128( ENVIRONMENT, static(block), key(source) for each input reference,
                           feed(block) )
    static(block) = op, op_version(op), attrs, and per input port (in name order) either a
                    reference (the output it reads: port, element) or a literal (dtype, bytes)

- ENVIRONMENT: the key schema, the versions of blockgraph, Python, numpy, ml_dtypes and numba,
  the machine, the CPU count and the variables that choose kernels and threads
  (BLOCKGRAPH_NO_FUSED, BLOCKGRAPH_THREADS, NUMBA_NUM_THREADS).
- op_version: the op's declaration (ports, attrs with their defaults and ranges, outputs) and
  the code it runs: the code objects of its kernels, shape and prepare functions (closures and
  defaults included), and the source files of every module of blockgraph, the block library, or
  the package declaring the op that those modules reach. A source file changed since this
  process started no longer tells what code is loaded: the ops reaching it get no key (their
  blocks just run) until the next start.
- attrs: the bound attrs, encoded canonically (types tagged, floats by their bits, arrays by
  dtype, shape, layout and bytes), so a Const's file counts by its content.
- feed: a feedable block's fed array (dtype, shape, layout, bytes), or "not fed".

A block gets no key (None) when it holds or updates state (stateful), when it is invalid, when
an attr cannot be encoded, or when it reads a block without a key: what is downstream of state
in a cycle is never served from the cache.
"""
from __future__ import annotations

import struct
import threading

import numpy as np
import xxhash

SCHEMA = b"blockgraph-cache/2"

_digest = xxhash.xxh3_128_digest
#: arrays of more bytes than this are hashed in CHUNK pieces on every core (`values_digest`)
CHUNK = 4 << 20


class Uncacheable(Exception):
    """A value the canonical encoding does not cover."""


# ------------------------------------------------------------------ canonical encoding

def canon(value, out: bytearray) -> None:
    """Append the canonical encoding of `value` to `out` (types tagged, lengths prefixed);
    Uncacheable for a type it does not know."""
    t = type(value)
    if value is None:
        out += b"N"
    elif t is bool:
        out += b"T" if value else b"F"
    elif t is int:
        s = str(value).encode()
        out += b"i%d:" % len(s) + s
    elif t is float:
        out += b"d" + struct.pack("<d", value)
    elif t is str:
        b = value.encode("utf-8", "surrogatepass")
        out += b"s%d:" % len(b)
        out += b
    elif t is bytes:
        out += b"b%d:" % len(value)
        out += value
    elif t is list or t is tuple:
        out += b"l%d:" % len(value) if t is list else b"t%d:" % len(value)
        for v in value:
            canon(v, out)
    elif t is dict:
        items = []
        for k, v in value.items():
            kb = bytearray()
            canon(k, kb)
            items.append((bytes(kb), v))
        items.sort(key=lambda kv: kv[0])
        out += b"m%d:" % len(items)
        for kb, v in items:
            out += kb
            canon(v, out)
    elif t is complex:
        out += b"c" + struct.pack("<dd", value.real, value.imag)
    elif t is frozenset or t is set:
        parts = sorted(_encoded(v) for v in value)
        out += b"f%d:" % len(parts)
        for p in parts:
            out += p
    elif isinstance(value, np.ndarray):
        array(value, out)
    elif isinstance(value, np.generic):
        array(np.asarray(value), out)
    elif value is Ellipsis:
        out += b"E"
    else:
        raise Uncacheable(f"{t.__module__}.{t.__qualname__}")


def _encoded(value) -> bytes:
    out = bytearray()
    canon(value, out)
    return bytes(out)


def array(a: np.ndarray, out: bytearray) -> None:
    """An array's dtype, shape, layout and a digest of its values (strings item by item)."""
    out += b"a"
    canon(a.dtype.name, out)
    canon(a.dtype.str, out)
    canon(tuple(a.shape), out)
    canon(None if a.flags.c_contiguous else "F" if a.flags.f_contiguous else tuple(a.strides), out)
    if a.dtype.hasobject:
        items = bytearray()
        for x in a.ravel(order="C").tolist():
            canon(x, items)
        out += _digest(items)
    else:
        out += values_digest(np.ascontiguousarray(a).reshape(-1).view(np.uint8))


def values_digest(data: np.ndarray) -> bytes:
    """The digest of a byte array: xxh3_128 of it, or, beyond CHUNK bytes, of the digests of its
    CHUNK-byte pieces, which the calling thread and a helper thread per other core hash side
    by side (xxhash releases the GIL). The pieces depend on the size alone, never on the
    threads, so the digest does too."""
    n = data.size
    if n <= CHUNK:
        return _digest(data)
    pieces = [data[i:i + CHUNK] for i in range(0, n, CHUNK)]
    digests = [b""] * len(pieces)
    _hash_pieces(pieces, digests)
    return _digest(b"".join(digests))


def _hash_pieces(pieces, digests) -> None:
    """digests[i] = xxh3_128(pieces[i]) for every piece, the calling thread taking the first
    pieces and the pool's threads the rest (a helper that is slow to start costs at most the
    pieces it has taken)."""
    pool = _pool()
    if pool is None:
        for i, p in enumerate(pieces):
            digests[i] = _digest(p)
        return
    lock = threading.Lock()
    state = [0]

    def work():
        while True:
            with lock:
                i = state[0]
                if i >= len(pieces):
                    return
                state[0] = i + 1
            digests[i] = _digest(pieces[i])

    futures = [pool.submit(work) for _ in range(pool._max_workers)]
    work()
    for f in futures:
        f.result()


_POOL: list = []


def _pool():
    """The helper threads of `values_digest` (one per core beyond the first, started on first
    use; BLOCKGRAPH_THREADS bounds them), or None on one core."""
    if not _POOL:
        with _POOL_LOCK:
            if not _POOL:
                from ...core.cores import threads
                n = threads()
                if n <= 1:
                    _POOL.append(None)
                else:
                    from concurrent.futures import ThreadPoolExecutor
                    _POOL.append(ThreadPoolExecutor(n - 1, thread_name_prefix="blockgraph-hash"))
    return _POOL[0]


_POOL_LOCK = threading.Lock()


# ------------------------------------------------------------------ the keys of a run

class Keys:
    """Works out the keys of a plan's blocks; keeps each block's static part (op, version,
    attrs, literals) for the Blocks it has seen, so repeated runs hash only feeds."""

    MAX_MEMO = 200_000

    #: arrays whose digests `remember` keeps at most
    MAX_KNOWN = 64

    def __init__(self, versions=None):
        from .versions import Versions
        self.versions = versions or Versions()
        self._static: dict[int, tuple] = {}
        self._known: dict[int, tuple] = {}      # id(array) -> (array, its feed part)
        self._lock = threading.Lock()

    def remember(self, a: np.ndarray) -> None:
        """Keep the feed part of `a`, an array its owner has made read-only and will never
        change (watch/serve's feed files, read once): fed again, or a view of it showing the
        same memory the same way (a run feeds a read-only view), it is not hashed again. The
        array is held (so its id, and its base's, are not reused); the oldest are forgotten
        beyond MAX_KNOWN."""
        with self._lock:
            if id(a) in self._known:
                return
            while len(self._known) >= 2 * self.MAX_KNOWN:
                self._known.pop(next(iter(self._known)))
            got = (a, feed_part(a))
            self._known[id(a)] = (a,) + got
            if a.base is not None:
                self._known[id(a.base)] = (a.base,) + got

    def _feed_part(self, feed) -> bytes:
        """feed_part(feed), remembered (`remember`)."""
        for anchor in (feed, getattr(feed, "base", None)):
            got = self._known.get(id(anchor)) if anchor is not None else None
            if got is not None and got[0] is anchor and _same_view(feed, got[1]):
                return got[2]
        return feed_part(feed)

    def of(self, plan, feeds: dict) -> dict:
        """{block id: 16-byte key, or None when the block must run} for every block of `plan`."""
        try:
            env = self.versions.environment()
        except Uncacheable:
            return dict.fromkeys(plan.order)
        blocks = plan.scope.blocks
        keys: dict = {}
        static = self._static
        if len(static) > self.MAX_MEMO:
            with self._lock:
                static.clear()
        for bid in plan.order:
            b = blocks[bid]
            got = static.get(id(b))
            if got is None or got[0] is not b:
                got = (b, self._static_part(b, blocks, env))
                static[id(b)] = got
            part = got[1]
            if part is None:
                keys[bid] = None
                continue
            head, refs, feedable = part
            parts = [head]
            for src in refs:
                k = keys.get(src)
                if k is None:
                    parts = None
                    break
                parts.append(k)
            if parts is None:
                keys[bid] = None
                continue
            if feedable:
                parts.append(self._feed_part(feeds.get(bid)))
            keys[bid] = _digest(b"".join(parts))
        return keys

    def _static_part(self, b, blocks, env: bytes):
        """(digest of the block's own part, ids of the blocks it reads in order, feedable) or
        None when the block gets no key."""
        defn = b.defn
        if defn is None or not b.valid or defn.stateful:
            return None
        version = self.versions.op(defn)
        if version is None:
            return None
        out = bytearray(env)
        out += version
        refs = []
        try:
            canon(b.op, out)
            canon(b.attrs, out)
            for port in sorted(b.inputs):
                v = b.inputs[port]
                items = v if isinstance(v, list) else [v]
                canon(port, out)
                out += b"L%d:" % len(items) if isinstance(v, list) else b"1"
                for item in items:
                    if hasattr(item, "block"):             # a Ref
                        src = blocks[item.block]
                        name = item.port or src.defn.outputs[0].name
                        out += b"r"
                        canon((name, item.index), out)
                        refs.append(item.block)
                    else:
                        out += b"v"
                        canon(item.dtype, out)
                        array(np.asarray(item.array), out)
        except (Uncacheable, AttributeError, TypeError):
            return None
        return _digest(out), tuple(refs), defn.feedable


def _same_view(a, b) -> bool:
    """True when arrays a and b show the same memory the same way."""
    return (a.dtype == b.dtype and a.shape == b.shape and a.strides == b.strides
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def feed_part(feed) -> bytes:
    """A feed as key material: 'not fed', or the fed array's dtype, shape, layout and bytes."""
    if feed is None:
        return b"-"
    out = bytearray(b"f")
    array(np.asarray(feed), out)
    return bytes(out)
