"""Results as JSON written as a stream: tensors stay arrays until written, and are encoded a
chunk of at most `CHUNK` elements at a time, so printing a large output costs memory for one
chunk, not Python lists of every value. The text is exactly `results.dumps` of the same data
(NaN and infinities as "nan", "inf", "-inf")."""
from __future__ import annotations

import json
import math

import numpy as np

from . import dtypes as dt
from .results import json_values

CHUNK = 1 << 16       # elements encoded at once


class Tensor:
    """Stands for a tensor's nested list of values in a document given to `write`."""
    __slots__ = ("array", "dtype")

    def __init__(self, array: np.ndarray, dtype: str):
        self.array, self.dtype = array, dtype


def write(obj, out) -> None:
    """Write `obj` (dicts, lists and JSON scalars, with `Tensor`s for value lists) to the text
    stream `out` as strict JSON."""
    if isinstance(obj, Tensor):
        _array(out, obj.array, obj.dtype)
    elif isinstance(obj, dict):
        out.write("{")
        for i, (k, v) in enumerate(obj.items()):
            out.write((", " if i else "") + json.dumps(k) + ": ")
            write(v, out)
        out.write("}")
    elif isinstance(obj, list):
        out.write("[")
        for i, v in enumerate(obj):
            if i:
                out.write(", ")
            write(v, out)
        out.write("]")
    else:
        out.write(json.dumps(obj, allow_nan=False))


def _array(out, a: np.ndarray, dtype: str) -> None:
    """The nested list of `a`'s values, a block of rows of at most CHUNK elements at a time."""
    if a.ndim == 0 or a.size <= CHUNK:
        out.write(_text(a, dtype))
        return
    per = math.prod(a.shape[1:])
    out.write("[")
    if a.ndim > 1 and per > CHUNK:
        for i in range(a.shape[0]):
            out.write(", " if i else "")
            _array(out, a[i], dtype)
    else:
        step = max(1, CHUNK // max(per, 1))
        for s in range(0, a.shape[0], step):
            out.write((", " if s else "") + _text(a[s:s + step], dtype)[1:-1])
    out.write("]")


def _text(a: np.ndarray, dtype: str) -> str:
    """JSON text of a (small) array's values."""
    if dtype in dt.FLOATS or dtype in dt.COMPLEX:
        x = np.stack([a.real, a.imag], axis=-1) if dtype in dt.COMPLEX else a
        text = json.dumps(x.astype(np.float64).tolist())
        if "N" in text or "I" in text:       # NaN, Infinity, -Infinity: as elsewhere, strings
            text = (text.replace("-Infinity", '"-inf"').replace("Infinity", '"inf"')
                    .replace("NaN", '"nan"'))
        return text
    return json.dumps(json_values(a, dtype), allow_nan=False)
