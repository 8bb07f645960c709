"""Static shape algebra for shape functions: shapes are tuples of int|None, or None (unknown rank).

Shape functions raise `OpError` with TF's text when shapes cannot agree.
"""
from __future__ import annotations

import numpy as np

from .errors import OpError


def fmt(shape) -> str:
    """TF's way of printing a shape: [2,3], [?,3], <unknown>."""
    if shape is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def merge(a, b, message=None):
    """The most specific shape compatible with both, or OpError. `message` (a string, or a
    function making one, so that the text costs nothing when the shapes agree) replaces the
    default text."""
    if b is None:
        return a
    if a is None:
        return b
    if a == b:
        return a if type(a) is tuple else tuple(a)
    if len(a) != len(b):
        raise OpError(_text(message) or f"Shapes must be equal rank, but are {len(a)} and {len(b)}")
    out = []
    for x, y in zip(a, b):
        if x is not None and y is not None and x != y:
            raise OpError(_text(message) or f"Dimensions must be equal, but are {x} and {y}")
        out.append(x if x is not None else y)
    return tuple(out)


def join(a, b):
    """The most specific shape that both `a` and `b` fit (dims they agree on; None elsewhere)."""
    if a is None or b is None or len(a) != len(b):
        return None
    return tuple(x if x == y else None for x, y in zip(a, b))


def _text(message):
    return message() if callable(message) else message


def with_rank(shape, rank, what="Shape", message=None):
    """`shape` checked to have `rank` (an unknown rank becomes `rank` unknown dims)."""
    if shape is None:
        return (None,) * rank
    if len(shape) != rank:
        raise OpError(message or f"{what} must be rank {rank} but is rank {len(shape)}")
    return shape


def with_rank_at_least(shape, rank, what="Shape", message=None):
    if shape is not None and len(shape) < rank:
        raise OpError(message or f"{what} must be at least rank {rank} but is rank {len(shape)}")
    return shape


def num_elements(shape):
    """Product of the dims, or None when any is unknown."""
    if shape is None or any(d is None for d in shape):
        return None
    n = 1
    for d in shape:
        n *= d
    return n


def same_shape(port, output="output"):
    """Shape function: output `output` has the shape of input `port`."""
    def shape(ctx):
        ctx.set_output(output, ctx.shape(port))
    shape.__doc__ = f"output '{output}' shape = shape of '{port}'"
    return shape


def fully_known(shape) -> bool:
    """True when the rank and every dim are known."""
    return shape is not None and all(d is not None for d in shape)


def int_list(value):
    """An index tensor's values as a flat list of Python ints (None stays None)."""
    return None if value is None else [int(v) for v in np.asarray(value).reshape(-1).tolist()]


def known_ints(spec):
    """The statically known value of an index input as a flat list of Python ints, or None."""
    return None if spec is None else int_list(spec.value)
