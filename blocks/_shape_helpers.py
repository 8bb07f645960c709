"""Constants and helpers shared by the shape, broadcasting, transpose, encoding and matrix block
modules: TF's rank checks, MakeShape and BCast."""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Attr, Spec
from blockgraph.core.errors import OpError
from blockgraph.core.shapes import fmt
from blockgraph.core.shapes import fully_known as known  # noqa: F401  (re-exported for the block modules)

NO_QUANT = tuple(d for d in dt.ALL if d not in dt.QUANTIZED)
NO_QUANT_STRING = tuple(d for d in NO_QUANT if d != "string")
TILE_TYPES = tuple(d for d in NO_QUANT if d != "uint16")      # those TileOp copies (it takes any)
INT64_MAX = 2 ** 63 - 1
INT32_MAX = 2 ** 31 - 1
OUT_TYPE = Attr("out_type", "type", "int32", choices=dt.INDEX, doc="int32 or int64")


def num_elements(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def vector_len(shape):
    """Length of a rank-1 (or legacy scalar = 1 element) index input, None when unknown."""
    if shape is None:
        return None
    if len(shape) == 0:
        return 1
    return shape[0]


def rank_check(shape, ok, message, port):
    """A kernel's rank check: True when it passes, False when undecided (unknown dims would be
    printed in TF's text: the run reports it); raises TF's error when it certainly fails."""
    if shape is None:
        return False
    if ok(shape):
        return True
    if not known(shape):
        return False
    raise OpError(message.format(fmt(shape)), port=port)


def partial_debug(dims) -> str:
    """TensorShapeProto::DebugString of requested dims: [2,3,?] (negative dims print as ?)."""
    return "[" + ",".join("?" if d < 0 else str(d) for d in dims) + "]"


def make_shape(dims, port):
    """TensorShapeUtils::MakeShape: dims must be >= 0 and their product fit in int64."""
    n = 1
    for d in dims:
        if d < 0:
            raise OpError(f"Dimension {d} must be >= 0", port=port)
        n *= d
        if n > INT64_MAX:
            raise OpError(f"Shape {partial_debug(dims)} would have more than 2**63 - 1 elements",
                          port=port)
    return tuple(dims)


def multiply_without_overflow(x: int, y: int) -> int:
    """TF's `MultiplyWithoutOverflow` of two int64s: x * y, or a negative number on overflow
    (-1 when the unsigned product wraps, else the product read as int64)."""
    if x < 0 or y < 0:
        return -1
    if x == 0:
        return 0
    uxy = (x * y) % 2 ** 64
    if (x | y) >> 32 and uxy // x != y:
        return -1
    return uxy - 2 ** 64 if uxy > INT64_MAX else uxy


def add_dim(num_elements: int, size: int) -> int:
    """`TensorShape::AddDimWithStatus`: the element count once a dim of `size` is added, or TF's
    error."""
    if size < 0:
        raise OpError(f"Expected a non-negative size, got {size}")
    n = multiply_without_overflow(num_elements, size)
    if n < 0:
        raise OpError(f"Encountered overflow when multiplying {num_elements} with {size}, "
                      f"result: {n}")
    return n


def bcast(a, b):
    """TF's BCast of two shapes (lists of ints): the broadcast shape, or None if incompatible."""
    n = max(len(a), len(b))
    a = [1] * (n - len(a)) + list(a)
    b = [1] * (n - len(b)) + list(b)
    out = []
    for x, y in zip(a, b):
        if x == y:
            out.append(x)
        elif x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        else:
            return None
    return out


def value_spec(shape, value, dtype):
    return Spec(None, shape, np.asarray(value, dtype=dt.to_numpy(dtype)))
