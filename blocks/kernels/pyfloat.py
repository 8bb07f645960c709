"""Small float64 tensors computed in Python floats: the lowered kernels' fastest path.

A CPython float operation is one C double operation (SSE2 on x86-64): +, -, *, / and unary -
are IEEE binary64, correctly rounded, never fused, exactly as numpy's float64 ufuncs and TF's
CPU kernels compute them. What differs is only what TF adds around the operation: denormal
inputs read as zero (DAZ), denormal results flushed (FTZ), x86's NaN payload rule; and Python
raises on a zero divisor. So a function here returns the result only when every input and
every result is clean (no denormal, no NaN: `_TINY` <= |v|, or v == 0, or infinite) and no
division by zero happened, else None for the caller's reference path. For tensors of up to
`SMALL` elements, a Python loop costs less than numpy's calls and checks.
"""
from __future__ import annotations

import operator
from itertools import repeat

import numpy as np

#: tensors up to this many elements take the Python path
SMALL = 16
_TINY = float(np.finfo(np.float64).tiny)
OPS = {np.add: operator.add, np.subtract: operator.sub, np.multiply: operator.mul,
       np.divide: operator.truediv}
UNARY = {np.negative: operator.neg, np.square: None}


def clean(vals, tiny=_TINY) -> bool:
    """Whether Python floats `vals` hold no denormal and no NaN."""
    for v in vals:
        if not (v >= tiny or v <= -tiny or v == 0):
            return False
    return True


def reader(shape):
    """fn(array) -> its values as a flat list of Python floats, for arrays of `shape`."""
    if len(shape) == 1:
        return np.ndarray.tolist
    if len(shape) == 0:
        return lambda a: [a.item()]
    return lambda a: a.reshape(-1).tolist()


def writer(shape):
    """fn(list of floats) -> a float64 array of `shape`."""
    array = np.array
    if len(shape) == 1:
        return array
    if len(shape) == 0:
        return lambda vals: array(vals[0])
    return lambda vals: array(vals).reshape(shape)


def _index(shape, out_shape):
    """The flat index into an operand of `shape` of each flat element of the broadcast output."""
    full = np.broadcast_to(np.arange(int(np.prod(shape))).reshape(shape), out_shape)
    return full.reshape(-1).tolist()


def binary(ufunc, xshape, yshape, out_shape, xconst=None, yconst=None, other=None):
    """fn(x, y) -> x ufunc y (broadcast) as a float64 array of `out_shape`, or `other(x, y)`
    (default: None) when the values are not clean; `xconst`/`yconst`: an operand's value when it
    is the same in every call (checked once here: every call goes to `other` if it is not)."""
    other = other or (lambda x, y: None)
    op = OPS[ufunc]
    n = int(np.prod(out_shape))
    rx, ry, out = reader(xshape), reader(yshape), writer(out_shape)
    xl = None if xconst is None else rx(xconst)
    yl = None if yconst is None else ry(yconst)
    if (xl is not None and not clean(xl)) or (yl is not None and not clean(yl)):
        return other
    nx, ny = int(np.prod(xshape)), int(np.prod(yshape))
    ix, iy = _index(xshape, out_shape), _index(yshape, out_shape)
    mode = 0 if nx == ny == n else 1 if nx == 1 else 2 if ny == 1 else 3

    def fn(x, y):
        a = xl if xl is not None else rx(x)
        b = yl if yl is not None else ry(y)
        if xl is None and not clean(a) or yl is None and not clean(b):
            return other(x, y)
        try:
            if mode == 0:
                r = list(map(op, a, b))
            elif mode == 1:
                r = list(map(op, repeat(a[0], n), b))
            elif mode == 2:
                r = list(map(op, a, repeat(b[0], n)))
            else:
                r = list(map(op, [a[i] for i in ix], [b[i] for i in iy]))
        except ZeroDivisionError:
            return other(x, y)
        return out(r) if clean(r) else other(x, y)
    return fn


def unary(ufunc, shape, other=None):
    """fn(x) -> ufunc(x) (negative or square) as a float64 array, or `other(x)` (default: None)
    when the values are not clean."""
    op = UNARY[ufunc]
    rx, out = reader(shape), writer(shape)
    other = other or (lambda x: None)

    def fn(x):
        a = rx(x)
        r = [v * v for v in a] if op is None else list(map(op, a))
        if not clean(r) or not clean(a):
            return other(x)
        return out(r)
    return fn
