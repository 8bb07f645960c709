"""TensorFlow dtype names <-> numpy dtypes.

Quantized types (qint8, quint8, ...) are held on their integer base type; the TF name travels
beside the array (in the Scope's static specs and in results), never inside numpy.
bfloat16 comes from `ml_dtypes`; strings are numpy object arrays of `bytes`, as TF's `.numpy()`.
"""
from __future__ import annotations

import numpy as np

try:  # bfloat16 is optional at import time so that plain pages never pay for it
    import ml_dtypes
    _BFLOAT16 = np.dtype(ml_dtypes.bfloat16)
except ImportError:  # pragma: no cover - ml_dtypes is a declared dependency
    _BFLOAT16 = None

#: canonical TF dtype name -> numpy dtype (object for string)
NUMPY = {
    "float16": np.dtype(np.float16), "float32": np.dtype(np.float32), "float64": np.dtype(np.float64),
    "int8": np.dtype(np.int8), "int16": np.dtype(np.int16), "int32": np.dtype(np.int32),
    "int64": np.dtype(np.int64), "uint8": np.dtype(np.uint8), "uint16": np.dtype(np.uint16),
    "uint32": np.dtype(np.uint32), "uint64": np.dtype(np.uint64), "bool": np.dtype(np.bool_),
    "complex64": np.dtype(np.complex64), "complex128": np.dtype(np.complex128),
    "string": np.dtype(object),
    "qint8": np.dtype(np.int8), "quint8": np.dtype(np.uint8), "qint16": np.dtype(np.int16),
    "quint16": np.dtype(np.uint16), "qint32": np.dtype(np.int32),
}
if _BFLOAT16 is not None:
    NUMPY["bfloat16"] = _BFLOAT16

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
if _BFLOAT16 is not None:
    _FROM_NUMPY[_BFLOAT16] = "bfloat16"


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
        raise DTypeError(f"unknown dtype {name!r}")
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
