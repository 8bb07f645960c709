"""YAML scalars and nested lists -> numpy constants, with `tf.constant`'s dtype inference and
range checks (300 does not fit uint8, "abc" is not a float32)."""
from __future__ import annotations

import numpy as np

from . import dtypes as dt


from .errors import LiteralError  # noqa: F401  (re-exported)


def _shape_and_items(value):
    """Shape and flat items of a nested list; LiteralError if ragged."""
    if not isinstance(value, list):
        return (), [value]
    if not value:
        return (0,), []
    subs = [_shape_and_items(v) for v in value]
    first = subs[0][0]
    for s, _ in subs[1:]:
        if s != first:
            raise LiteralError("ragged nested list: every row must have the same length "
                               f"(found shapes {list(first)} and {list(s)})")
    return (len(value),) + first, [x for _, items in subs for x in items]


def infer_dtype(items) -> str:
    """`tf.constant`'s choice: bool, int32 (int64 when it doesn't fit), float32, string."""
    kinds = {_kind(x) for x in items}
    if not kinds:
        return "float32"
    if kinds == {"bool"}:
        return "bool"
    if kinds == {"string"}:
        return "string"
    if kinds <= {"int"}:
        return "int32" if all(-2**31 <= x < 2**31 for x in items) else "int64"
    if kinds <= {"int", "float"}:
        return "float32"
    raise LiteralError("mixed kinds in one literal: " + ", ".join(sorted(kinds)))


def _kind(x):
    if isinstance(x, bool):
        return "bool"
    if isinstance(x, int):
        return "int"
    if isinstance(x, float):
        return "float"
    if isinstance(x, str):
        return "string"
    raise LiteralError(f"a literal holds numbers, bools or strings, not {type(x).__name__}")


def to_array(value, dtype: str | None = None) -> tuple[np.ndarray, str]:
    """(array, TF dtype) for a YAML literal, converted to `dtype` when given (checked to fit)."""
    if isinstance(value, dict):
        raise LiteralError("a mapping is not a tensor literal (use {value: ..., dtype: ...})")
    shape, items = _shape_and_items(value)
    for x in items:
        _kind(x)
    name = dt.canonical(dtype) if dtype else infer_dtype(items)
    return _convert(items, shape, name), name


def _convert(items, shape, name):
    npd = dt.to_numpy(name)
    kinds = {_kind(x) for x in items}
    if name == "string":
        if kinds - {"string"}:
            raise LiteralError(f"cannot convert {_first(items, 'string', invert=True)!r} to string")
        return dt.as_array(np.array(items, dtype=object).reshape(shape), "string")
    if "string" in kinds:
        raise LiteralError(f"cannot convert {_first(items, 'string')!r} to {name}")
    if name == "bool":
        if kinds - {"bool"}:
            raise LiteralError(f"cannot convert {_first(items, 'bool', invert=True)!r} to bool")
        return np.array(items, dtype=np.bool_).reshape(shape)
    if dt.is_integer(name):
        if "float" in kinds or "bool" in kinds:
            bad = next(x for x in items if isinstance(x, (bool, float)))
            raise LiteralError(f"cannot convert {bad!r} to {name} (a float or bool literal in an integer tensor)")
        info = np.iinfo(npd)
        for x in items:
            if not info.min <= x <= info.max:
                raise LiteralError(f"{x} does not fit in {name} (range {info.min}..{info.max})")
        return np.array(items, dtype=npd).reshape(shape)
    if "bool" in kinds:
        raise LiteralError(f"cannot convert {_first(items, 'bool')!r} to {name}")
    if dt.is_float(name) or name in dt.COMPLEX:
        try:
            floats = [float(x) for x in items]
        except OverflowError:
            raise LiteralError(f"an integer in the literal is too large for {name}") from None
        with np.errstate(over="ignore"):   # as tf.constant: too large becomes inf
            return np.array(floats, dtype=np.float64).astype(npd).reshape(shape)
    raise LiteralError(f"literals of dtype {name} are not supported")


def _first(items, kind, invert=False):
    for x in items:
        if (_kind(x) == kind) != invert:
            return x
    return items[0]
