"""TensorFlow dtype names <-> numpy dtypes.

Quantized types (qint8, quint8, ...) are held on their integer base type; the TF name travels
beside the array (in the Scope's static specs and in results), never inside numpy.
bfloat16 comes from `ml_dtypes`, imported the first time a bfloat16 numpy dtype is asked for
(importing it takes longer than the rest of a small run); strings are numpy object arrays of
`bytes`, as TF's `.numpy()`.
"""
from __future__ import annotations

import sys

import numpy as np


class _Dtypes(dict):
    """canonical TF dtype name -> numpy dtype; "bfloat16" is always a key, its ml_dtypes dtype
    is made (importing ml_dtypes) on first use."""

    def __missing__(self, name):
        if name == "bfloat16":
            return _load_bfloat16()
        raise KeyError(name)

    def __contains__(self, name):
        return name == "bfloat16" or dict.__contains__(self, name)

    def get(self, name, default=None):
        return self[name] if name in self else default

    def __iter__(self):
        yield from dict.__iter__(self)
        if not dict.__contains__(self, "bfloat16"):
            yield "bfloat16"

    def __len__(self):
        return dict.__len__(self) + (not dict.__contains__(self, "bfloat16"))

    def keys(self):
        return list(self)

    def items(self):
        self["bfloat16"]
        return dict.items(self)

    def values(self):
        self["bfloat16"]
        return dict.values(self)


def _load_bfloat16() -> np.dtype:
    """Import ml_dtypes and register its bfloat16 (once)."""
    import ml_dtypes
    d = np.dtype(ml_dtypes.bfloat16)
    dict.__setitem__(NUMPY, "bfloat16", d)
    _FROM_NUMPY[d] = "bfloat16"
    return d


#: canonical TF dtype name -> numpy dtype (object for string)
NUMPY = _Dtypes({
    "float16": np.dtype(np.float16), "float32": np.dtype(np.float32), "float64": np.dtype(np.float64),
    "int8": np.dtype(np.int8), "int16": np.dtype(np.int16), "int32": np.dtype(np.int32),
    "int64": np.dtype(np.int64), "uint8": np.dtype(np.uint8), "uint16": np.dtype(np.uint16),
    "uint32": np.dtype(np.uint32), "uint64": np.dtype(np.uint64), "bool": np.dtype(np.bool_),
    "complex64": np.dtype(np.complex64), "complex128": np.dtype(np.complex128),
    "string": np.dtype(object),
    "qint8": np.dtype(np.int8), "quint8": np.dtype(np.uint8), "qint16": np.dtype(np.int16),
    "quint16": np.dtype(np.uint16), "qint32": np.dtype(np.int32),
})

#: aliases accepted by `tf.as_dtype` -> canonical name
ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
           "int": "int32", "str": "string", "tf.string": "string"}

QUANTIZED = frozenset({"qint8", "quint8", "qint16", "quint16", "qint32"})
FLOATS = ("float16", "bfloat16", "float32", "float64")
SIGNED = ("int8", "int16", "int32", "int64")
UNSIGNED = ("uint8", "uint16", "uint32", "uint64")
INTEGERS = SIGNED + UNSIGNED
COMPLEX = ("complex64", "complex128")
REALS = FLOATS + INTEGERS
NUMBERS = REALS + COMPLEX
ALL = tuple(NUMPY)
INDEX = ("int32", "int64")

_FROM_NUMPY = {np.dtype(np.float16): "float16", np.dtype(np.float32): "float32",
               np.dtype(np.float64): "float64", np.dtype(np.int8): "int8", np.dtype(np.int16): "int16",
               np.dtype(np.int32): "int32", np.dtype(np.int64): "int64", np.dtype(np.uint8): "uint8",
               np.dtype(np.uint16): "uint16", np.dtype(np.uint32): "uint32",
               np.dtype(np.uint64): "uint64", np.dtype(np.bool_): "bool",
               np.dtype(np.complex64): "complex64", np.dtype(np.complex128): "complex128",
               np.dtype(object): "string"}


from .errors import DTypeError  # noqa: E402  (re-exported: dt.DTypeError)


#: TF's own names of its dtypes (DataTypeString), where they differ from ours
_TF_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def tf_name(name: str) -> str:
    """TF's C++ name of a dtype, as its error texts print it: float32 -> float."""
    return _TF_NAMES.get(name, name)


def enum_name(name: str) -> str:
    """TF's enum name of a dtype: float32 -> DT_FLOAT."""
    return "DT_" + tf_name(name).upper()


def canonical(name: str) -> str:
    """Return the canonical TF name for `name` (accepting `tf.as_dtype` aliases).

    >>> canonical("double")
    'float64'
    """
    if not isinstance(name, str):
        raise DTypeError(f"a dtype name must be a string, got {name!r}")
    n = name.strip()
    n = n[3:] if n.startswith("tf.") else n
    n = ALIASES.get(n, n)
    if n not in NUMPY:
        from .suggest import dtype_hint
        hint = dtype_hint(name)
        raise DTypeError(f"unknown dtype {name!r}" + (f" ({hint})" if hint else ""))
    return n


def to_numpy(name: str) -> np.dtype:
    """numpy dtype that holds a TF dtype (quantized types on their integer base)."""
    got = NUMPY.get(name) if type(name) is str else None
    return got if got is not None else NUMPY[canonical(name)]


def from_numpy(dt) -> str:
    """TF name of a numpy dtype ('S'/'U' arrays count as string)."""
    dt = np.dtype(dt)
    if dt.kind in "SU":
        return "string"
    try:
        return _FROM_NUMPY[dt]
    except KeyError:
        if "ml_dtypes" in sys.modules and "bfloat16" not in _FROM_NUMPY.values():
            _load_bfloat16()          # a bfloat16 array exists, so ml_dtypes is loaded already
            return from_numpy(dt)
        raise DTypeError(f"numpy dtype {dt} has no TensorFlow equivalent") from None


def as_array(value, name: str) -> np.ndarray:
    """`value` as a numpy array holding TF dtype `name` (strings become object arrays of bytes)."""
    if canonical(name) == "string":
        arr = np.asarray(value, dtype=object)
        flat = [v.encode() if isinstance(v, str) else bytes(v) for v in arr.ravel()]
        out = np.empty(arr.shape, dtype=object)
        out.ravel()[:] = flat if flat else []
        return out
    return np.asarray(value, dtype=to_numpy(name))


def is_float(name: str) -> bool:
    return name in FLOATS


def is_integer(name: str) -> bool:
    return name in INTEGERS or name in QUANTIZED
