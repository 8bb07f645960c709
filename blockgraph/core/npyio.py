""".npy arrays and .npz archives of them, read safely: never unpickling, the header (dtype,
shape) read first and checked against the file's size and a byte limit before any data is
inflated, members of an archive read only when asked for, and every way a file can be damaged
(empty, truncated, not a zip, a bad CRC, a member that is not .npy) reported as one
`FileReadError` saying why.

    >>> with Npz("feeds.npz") as z: x = z.load("x", max_bytes=1 << 30)
"""
from __future__ import annotations

import math
import os
import struct
import zipfile
import zlib
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from .errors import FileReadError
from .files import open_regular, too_large

_MAGIC = b"\x93NUMPY"
_CHUNK = 16 << 20
_LIMIT_HINT = " (raise it with --max-bytes)"
# what a damaged file raises from zipfile, zlib or numpy's header parser
_DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, struct.error, SyntaxError,
           NotImplementedError, RuntimeError, UnicodeDecodeError, OverflowError, KeyError)


class Header(NamedTuple):
    """A .npy header: the array's shape, numpy dtype, Fortran order, and the data's byte count."""
    shape: tuple
    dtype: np.dtype
    fortran: bool
    nbytes: int

    def describe(self) -> str:
        """'a [1000,3] float32 array' (numpy's dtype names)."""
        return f"a [{','.join(map(str, self.shape))}] {self.dtype} array"


@contextmanager
def _reading(path: str, member: str | None = None):
    """Turn whatever a damaged file raises into FileReadError(path, reason)."""
    try:
        yield
    except FileReadError:
        raise
    except MemoryError:
        raise FileReadError(path, "not enough memory to load it") from None
    except OSError as e:
        raise FileReadError(path, e.strerror or str(e) or type(e).__name__) from None
    except _DAMAGE as e:
        where = f"member {member!r}: " if member else ""
        raise FileReadError(path, f"{where}corrupt or truncated ({_reason(e)})") from None


def _reason(e: BaseException) -> str:
    text = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def read_header(fh, path: str, available: int, member: str | None = None) -> Header:
    """The header at the start of a .npy stream of `available` bytes; FileReadError when it is
    not a .npy, holds Python objects, or declares more data than the stream holds."""
    what = f"member {member!r}" if member else "it"
    magic = fh.read(len(_MAGIC))
    if not magic:
        raise FileReadError(path, f"{what} is empty")
    if magic != _MAGIC:
        zipped = magic.startswith(b"PK")
        raise FileReadError(path, f"{what} is not a .npy array (no numpy header"
                            + ("; it is a zip archive, an .npz?)" if zipped else ")"))
    version = tuple(fh.read(2))
    fmt = np.lib.format
    if version == (1, 0):
        shape, fortran, dtype = fmt.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, fortran, dtype = fmt.read_array_header_2_0(fh)
    elif version == (3, 0):
        shape, fortran, dtype = fmt._read_array_header(fh, version)
    else:
        raise FileReadError(path, f"{what}: unsupported .npy format version {version}")
    dtype = np.dtype(dtype)
    if dtype.hasobject:
        raise FileReadError(path, f"{what} holds Python objects (dtype {dtype}), which would need "
                            "unpickling; blockgraph never unpickles")
    if any(type(d) is not int or d < 0 for d in shape):
        raise FileReadError(path, f"{what}: bad shape {shape} in the .npy header")
    nbytes = math.prod(shape) * dtype.itemsize
    left = available - fh.tell()
    if nbytes > left:
        raise FileReadError(path, f"{what} is truncated: its header declares "
                            f"{Header(shape, dtype, fortran, nbytes).describe()} ({nbytes:,} "
                            f"bytes of data) but {max(left, 0):,} bytes follow")
    return Header(tuple(shape), dtype, bool(fortran), nbytes)


def _read_data(fh, h: Header, path: str, max_bytes: int | None, member: str | None):
    """The array whose header `h` was just read from `fh`, after checking it against max_bytes."""
    if max_bytes is not None and h.nbytes > max_bytes:
        raise too_large(path, h.nbytes, max_bytes, ("member " + repr(member) if member else "it")
                        + f" holds {h.describe()} of", _LIMIT_HINT)
    count = math.prod(h.shape)
    arr = np.empty(count, h.dtype)
    if h.nbytes:
        view = memoryview(arr.view(np.uint8))
        pos = 0
        while pos < h.nbytes:
            n = fh.readinto(view[pos:pos + _CHUNK])
            if not n:
                raise FileReadError(path, f"{'member ' + repr(member) if member else 'it'} is "
                                    f"truncated: {pos:,} of {h.nbytes:,} bytes of data")
            pos += n
    if h.fortran:
        return arr.reshape(h.shape[::-1]).transpose()
    return arr.reshape(h.shape)


def is_npy(path: str) -> bool:
    """True when the regular file at `path` starts as a .npy does (FileReadError when it cannot
    be opened)."""
    with open_regular(path) as fh, _reading(path):
        return fh.read(len(_MAGIC)) == _MAGIC


def npy_header(path: str) -> Header:
    """The header of the .npy file at `path`, checked as `read_header` does."""
    with open_regular(path) as fh, _reading(path):
        return read_header(fh, path, os.fstat(fh.fileno()).st_size)


def load_npy(path: str, max_bytes: int | None = None) -> np.ndarray:
    """The array of the .npy file at `path`; FileReadError when it is unreadable or its data
    would be more than `max_bytes` (checked from the header, before reading the data)."""
    with open_regular(path) as fh, _reading(path):
        h = read_header(fh, path, os.fstat(fh.fileno()).st_size)
        return _read_data(fh, h, path, max_bytes, None)


class Npz:
    """An .npz archive, opened and listed (every member must be a .npy); arrays are read one
    by one, on demand, each checked against a byte limit from its header first."""

    def __init__(self, path: str):
        self.path = path
        self._fh = open_regular(path)
        try:
            with _reading(path):
                if os.fstat(self._fh.fileno()).st_size == 0:
                    raise FileReadError(path, "it is empty")
                try:
                    self._zip = zipfile.ZipFile(self._fh)
                except zipfile.BadZipFile as e:
                    raise FileReadError(path, f"not an .npz (zip) archive ({e})") from None
            self._members = {}
            for info in self._zip.infolist():
                if info.is_dir():
                    continue
                if not info.filename.endswith(".npy"):
                    raise FileReadError(path, f"member {info.filename!r} is not a .npy array: an "
                                        ".npz holds arrays only (numpy.savez)")
                self._members[info.filename[:-4]] = info
        except BaseException:
            self._fh.close()
            raise

    @property
    def keys(self) -> list[str]:
        return list(self._members)

    def __contains__(self, key) -> bool:
        return key in self._members

    def header(self, key: str) -> Header:
        """The header of array `key` (reads only its first bytes)."""
        info = self._members[key]
        with _reading(self.path, key), self._zip.open(info) as fh:
            return read_header(fh, self.path, info.file_size, key)

    def load(self, key: str, max_bytes: int | None = None) -> np.ndarray:
        """Array `key`, refused before inflating when it would be more than `max_bytes`."""
        info = self._members[key]
        with _reading(self.path, key), self._zip.open(info) as fh:
            h = read_header(fh, self.path, info.file_size, key)
            return _read_data(fh, h, self.path, max_bytes, key)

    def close(self):
        self._zip.close() if hasattr(self, "_zip") else None
        self._fh.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def load_npz(path: str, keys=None, max_bytes: int | None = None) -> dict[str, np.ndarray]:
    """{key: array} of an .npz: every array, or only those of `keys` that it holds (members
    nobody asked for are never inflated). Each array is checked against `max_bytes`."""
    with Npz(path) as z:
        return {k: z.load(k, max_bytes) for k in z.keys if keys is None or k in keys}


def load_array(path: str, key: str | None = None, max_bytes: int | None = None) -> np.ndarray:
    """An array from a .npy file, or array `key` of an .npz (the only one when `key` is None),
    as a Const block reads its file; FileReadError saying why it cannot."""
    if path.endswith(".npz"):
        with Npz(path) as z:
            if key is None:
                if len(z.keys) != 1:
                    raise FileReadError(path, f"it holds {len(z.keys)} arrays "
                                        f"({', '.join(z.keys[:8])}): name one with attr 'key'")
                key = z.keys[0]
            if key not in z:
                raise FileReadError(path, f"it has no array {key!r} (it has {', '.join(z.keys[:8])})")
            return z.load(key, max_bytes)
    if path.endswith(".npy"):
        return load_npy(path, max_bytes)
    raise FileReadError(path, "a Const file must be .npy or .npz")
