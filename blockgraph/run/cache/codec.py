"""A block's outputs as bytes and back, for the disk store: `pack(outputs, dtypes)` ->
(meta, payload), `unpack(meta, payload)` -> (outputs, dtypes), and the checksum that guards both.

The layout of every array is kept, not only its values: C or Fortran order, and any other
strides (a transposed view, a broadcast with zero strides, a reversed slice) are rebuilt as
they were, since numpy may pick other loops (and round differently) for another layout, and a
served result must be bit-identical to a computed one downstream too. Array data sits at
64-byte offsets in the payload. Strings (object arrays of bytes) are length-prefixed items.

`meta` is marshal data, read only after the checksum of meta and payload has matched (the
store checks it first), so corrupt bytes never reach the decoder; marshal's format belongs to
the Python version, which is part of every key.
"""
from __future__ import annotations

import marshal
import struct

import numpy as np
import xxhash

ALIGN = 64
_LEN = struct.Struct("<Q")


class Unstorable(Exception):
    """Outputs the codec cannot write (an object that is not an array of bytes or numbers)."""


def checksum(meta: bytes, *payload) -> bytes:
    """The 128-bit xxh3 checksum of an entry: meta, then its payload (given whole, or as the
    chunks `pack` made)."""
    h = xxhash.xxh3_128(meta)
    for chunk in payload:
        h.update(chunk)
    return h.digest()


def pack(outputs: dict, dtypes: dict) -> tuple[bytes, list, int]:
    """(meta, payload chunks, payload size) holding `outputs` ({port: array or list of arrays})
    and their TF dtypes; the chunks are views of the arrays where they can be (nothing copied)."""
    chunks: list = []
    size = [0]
    items = []
    for port, v in outputs.items():
        if isinstance(v, list):
            items.append((port, True, dtypes[port], [_pack_array(a, chunks, size) for a in v]))
        else:
            items.append((port, False, dtypes[port], _pack_array(v, chunks, size)))
    return marshal.dumps(tuple(items)), chunks, size[0]


def _pack_array(a, chunks: list, size: list) -> tuple:
    if not isinstance(a, np.ndarray):
        raise Unstorable(f"an output is a {type(a).__name__}, not an array")
    dt = a.dtype
    if dt.hasobject:
        data = _pack_strings(a)
        kind, name = "o", "O"
    else:
        name = dt.str if np.dtype(dt.str) == dt else dt.name
        kind = "s" if np.dtype(dt.str) == dt else "n"
        data = memoryview(np.ascontiguousarray(a).reshape(-1).view(np.uint8))
    pad = -size[0] % ALIGN
    if pad:
        chunks.append(b"\0" * pad)
        size[0] += pad
    offset = size[0]
    chunks.append(data)
    size[0] += len(data)
    return (kind, name, tuple(a.shape), _layout(a), offset, len(data))


def _layout(a: np.ndarray):
    """None for C order, "F" for Fortran order (not also C), else the strides."""
    if a.flags.c_contiguous:
        return None
    if a.flags.f_contiguous:
        return "F"
    return tuple(a.strides)


def _pack_strings(a: np.ndarray) -> bytes:
    parts = []
    for x in a.ravel(order="C").tolist():
        if isinstance(x, bytes):
            parts += (b"b", _LEN.pack(len(x)), x)
        elif isinstance(x, str):
            b = x.encode("utf-8", "surrogatepass")
            parts += (b"s", _LEN.pack(len(b)), b)
        else:
            raise Unstorable(f"a string tensor holds a {type(x).__name__}")
    return b"".join(parts)


def unpack(meta: bytes, payload) -> tuple[dict, dict]:
    """({port: array or list of arrays}, {port: TF dtype}) from `pack`'s bytes (already checked).
    Arrays are read-only; numeric ones are views of `payload`, so keep it immutable."""
    outputs, dtypes = {}, {}
    for port, is_list, tf, spec in marshal.loads(meta):
        outputs[port] = [_unpack_array(s, payload) for s in spec] if is_list else \
            _unpack_array(spec, payload)
        dtypes[port] = list(tf) if is_list else tf
    return outputs, dtypes


def _unpack_array(spec, payload) -> np.ndarray:
    kind, name, shape, layout, offset, nbytes = spec
    if kind == "o":
        flat = _unpack_strings(payload[offset:offset + nbytes])
        a = np.empty(len(flat), dtype=object)
        a[:] = flat
        a = a.reshape(shape)
    else:
        dt = np.dtype(name)
        a = np.frombuffer(payload, dtype=dt, count=nbytes // dt.itemsize if dt.itemsize else 0,
                          offset=offset).reshape(shape)
    if layout is not None:
        a = _relaid(a, layout)
    a.flags.writeable = False
    return a


def _relaid(a: np.ndarray, layout) -> np.ndarray:
    """`a` (C order) copied into an array with the original layout: Fortran order, or these
    strides over a buffer spanning them (zero and negative strides included)."""
    if layout == "F":
        return np.asfortranarray(a)
    strides = layout
    item = a.dtype.itemsize
    lo = sum(s * (n - 1) for s, n in zip(strides, a.shape) if s < 0 and n)
    hi = sum(s * (n - 1) for s, n in zip(strides, a.shape) if s > 0 and n)
    span = (hi - lo) // item + 1 if a.size else 0
    base = np.zeros(max(span, 1), dtype=a.dtype)
    out = np.lib.stride_tricks.as_strided(base[-lo // item:] if lo else base, a.shape, strides)
    if a.size:
        np.copyto(out, a, casting="no")
    return np.lib.stride_tricks.as_strided(base[-lo // item:] if lo else base, a.shape, strides,
                                           writeable=False)


def _unpack_strings(data) -> list:
    out = []
    i, n = 0, len(data)
    while i < n:
        tag = data[i:i + 1]
        (k,) = _LEN.unpack_from(data, i + 1)
        b = bytes(data[i + 9:i + 9 + k])
        out.append(b if tag == b"b" else b.decode("utf-8", "surrogatepass"))
        i += 9 + k
    return out
