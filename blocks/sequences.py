"""Range: the sequence start, start + delta, ... up to (not including) limit.

TF 2.21's CPU kernel (sequence_ops.cc) accepts scalars or 1-element vectors, then checks, in this
order, delta != 0 and the direction (start <= limit when delta > 0, else start >= limit), both
on the values read with denormals flushed (DAZ; so NaN fails the direction check). The length is
exact for the integer types (ceil(|limit - start| / |delta|) without overflow, at most
2**63 - 1) and `ceil(|(limit - start) / delta|)` computed in the op's type for the float types
(float16 and bfloat16 in float32, rounded after each op), refused unless it is <= 2**63 as a
float; exactly 2**63 becomes int64's lowest value, which TensorShape refuses. Element i is
`start + T(i) * delta` in the op's type (no fused multiply-add; integers wrap). No gradient.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Input, Output, block
from blockgraph.core.errors import OpError, tf_float
from blockgraph.core.gradients import no_gradient
from blocks.kernels import elementwise as ew

from ._shape_helpers import INT64_MAX, add_dim, rank_check

RANGE_T = ("bfloat16", "float16", "float32", "float64", "int32", "int64")
_PORTS = ("start", "limit", "delta")
_FOLD_MAX = 4096        # a known int result this small is folded into the output's value


def _legacy_scalar(shape):
    return len(shape) == 0 or (len(shape) == 1 and shape[0] == 1)


def _scalar(value, m):
    """The element of a (legacy) scalar as the kernel computes with it: a Python int, or a
    float32/float64 scalar after DAZ (half types widened to float32)."""
    a = np.asarray(value).reshape(-1)[:1]
    if m.kind == "int":
        return int(a[0])
    with np.errstate(invalid="ignore"):
        return m.inp(a)[0]


def _text(v, m) -> str:
    return str(v) if m.kind == "int" else tf_float(v)


def check_delta(delta, m):
    if delta == 0:
        raise OpError(f"Requires delta != 0: {_text(delta, m)}", port="delta")


def check_direction(start, limit, delta, m):
    """TF's delta != 0 and direction checks, in its order (OpError with its text)."""
    check_delta(delta, m)
    if delta > 0:
        if not start <= limit:
            raise OpError("Requires start <= limit when delta > 0: "
                          f"{_text(start, m)}/{_text(limit, m)}", port="limit")
    elif not start >= limit:
        raise OpError("Requires start >= limit when delta < 0: "
                      f"{_text(start, m)}/{_text(limit, m)}", port="limit")


def range_size(start, limit, delta, m) -> int:
    """The number of elements, as TF's kernel computes it (its texts when it refuses)."""
    too_many = f"Requires ((limit - start) / delta) <= {INT64_MAX}"
    if m.kind == "int":
        size = (abs(limit - start) + abs(delta) - 1) // abs(delta)
        if size > INT64_MAX:
            raise OpError(too_many, port="delta")
        return size
    with np.errstate(all="ignore"):
        q = m.div(m.sub(np.asarray([limit]), np.asarray([start])), np.asarray([delta]))
        size = float(np.ceil(np.abs(q))[0])
    if not size <= 2.0 ** 63:          # NaN and infinities too
        raise OpError(too_many, port="delta")
    if size == 2.0 ** 63:              # static_cast<int64_t> gives int64's lowest value
        return add_dim(1, -2 ** 63)
    return int(size)


def range_values(start, delta, size, m):
    """start + T(i) * delta for i in [0, size), in the op's type."""
    i = np.arange(size, dtype=np.int64)
    with np.errstate(all="ignore"):
        if m.kind == "int":
            return np.asarray(start, m.np) + i.astype(m.np) * np.asarray(delta, m.np)
        ti = m.r(i.astype(np.float32)) if m.kind == "half" else i.astype(m.np)
        return m.out(m.add(np.asarray([start]), m.mul(ti, np.asarray([delta]))))


def _arith(T):
    return ew.Arith(T, packet=False)


def _range_shape(ctx):
    for port in _PORTS:
        if not rank_check(ctx.shape(port), _legacy_scalar, port + " must be a scalar, not shape {}",
                          port):
            ctx.set_output("output", (None,))
            return
    T = ctx.attrs["Tidx"]
    m = _arith(T)
    vals = {p: ctx.value(p) for p in _PORTS}
    if vals["delta"] is not None:          # TF's first value check needs delta alone
        check_delta(_scalar(vals["delta"], m), m)
    if any(v is None for v in vals.values()):
        ctx.set_output("output", (None,))
        return
    start, limit, delta = (_scalar(vals[p], m) for p in _PORTS)
    check_direction(start, limit, delta, m)
    size = range_size(start, limit, delta, m)
    value = None
    if T in dt.INDEX and size <= _FOLD_MAX:
        value = range_values(start, delta, size, m)
    ctx.set_output("output", (size,), value=value)


@block("Range",
       inputs=[Input(p, RANGE_T, type_attr="Tidx", doc=doc) for p, doc in zip(_PORTS, (
           "the first element (a scalar)", "the end, not included (a scalar)",
           "the step, nonzero, towards limit (a scalar)"))],
       outputs=[Output("output", "Tidx")], shape=_range_shape)
def range_(start, limit, delta, Tidx):
    """The 1-D sequence start, start + delta, ... up to but not including limit."""
    m = _arith(Tidx)
    s, lim, d = (_scalar(v, m) for v in (start, limit, delta))
    check_direction(s, lim, d, m)
    return range_values(s, d, range_size(s, lim, d, m), m)


no_gradient("Range")
