"""Fused multi-threaded numba kernels for large float32 element-wise blocks (Add, AddV2, Sub, Mul,
Relu; Exp, Tanh and Sigmoid use the Eigen package's fused kernels): one pass over the inputs,
denormal inputs read as zero and denormal results flushed as TF's threads do, bit-identical to
the numpy reference (blocks/kernels/elementwise.py).

Taken for float32 inputs of at least MIN_ELEMENTS elements, of one shape or one of them a
scalar; anything else is DECLINEd to the reference. LLVM may commute the operands of + and *,
so where two NaNs meet the NaN it keeps could differ from x86's first-operand rule: the
kernels count NaN results and those elements are redone by the reference formula. Outputs of
16 MiB or more go into recycled buffers (buffers.py). BLOCKGRAPH_NO_FUSED=1 forces numpy.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core.blockdef import DECLINE, Kernel

from . import buffers
from .jit import Jit

F32 = np.float32
TINY = F32(np.finfo(np.float32).tiny)
ZERO = F32(0)
MIN_ELEMENTS = 1 << 16


def prange(n):            # the serial stand-in; the parallel copy gets numba.prange
    return range(n)


def _ftz(v):
    return v * ZERO if abs(v) < TINY else v


def _binary_vv(x, y, out, op):
    nans = 0
    for i in prange(x.size):
        a = _ftz(x[i])
        b = _ftz(y[i])
        r = _ftz(a + b if op == 0 else (a - b if op == 1 else a * b))
        out[i] = r
        nans += r != r
    return nans


def _binary_vs(x, s, out, op, scalar_left):
    nans = 0
    b0 = _ftz(s)
    for i in prange(x.size):
        a = _ftz(x[i])
        if scalar_left:
            r = b0 + a if op == 0 else (b0 - a if op == 1 else b0 * a)
        else:
            r = a + b0 if op == 0 else (a - b0 if op == 1 else a * b0)
        r = _ftz(r)
        out[i] = r
        nans += r != r
    return nans


def _relu_packets(x, out, k):
    """TF's packet Relu on the first k elements: x where x > 0 after DAZ, a NaN as is, else +0."""
    for i in prange(k):
        v = x[i]
        out[i] = v if (v >= TINY or v != v) else ZERO


_JIT = Jit(globals(), helpers=("_ftz",), kernels=("_binary_vv", "_binary_vs", "_relu_packets"))
_OPS = {"Add": 0, "AddV2": 0, "Sub": 1, "Mul": 2}


def _flat32(a):
    return np.ascontiguousarray(a, dtype=F32).reshape(-1)


def _out(shape):
    return buffers.empty(shape, F32)


def binary(op, x, y, reference):
    """op(x, y) for float32 arrays of one shape or with a scalar side, or DECLINE."""
    if x.dtype != F32 or y.dtype != F32 or not _JIT.load():
        return DECLINE
    code = _OPS[op]
    par = _JIT.parallel
    if x.shape == y.shape:
        xs, ys = _flat32(x), _flat32(y)
        out = _out(x.shape)
        nans = par["_binary_vv"](xs, ys, out.reshape(-1), code)
    elif y.size == 1 or x.size == 1:
        left = x.size == 1
        big = y if left else x
        s = F32(x.reshape(()) if left else y.reshape(()))
        xs = _flat32(big)
        out = _out(np.broadcast_shapes(x.shape, y.shape))
        nans = par["_binary_vs"](xs, s, out.reshape(-1), code, left)
    else:
        return DECLINE
    if nans:
        flat = out.reshape(-1)
        bad = np.flatnonzero(np.isnan(flat))
        xf = np.broadcast_to(x, out.shape).reshape(-1)
        yf = np.broadcast_to(y, out.shape).reshape(-1)
        flat[bad] = reference(xf[bad], yf[bad])
    return out


def relu(features, reference):
    """TF's float32 Relu: the fused packet rule on n - n % 8 elements, the reference's tail."""
    if features.dtype != F32 or not _JIT.load():
        return DECLINE
    xs = _flat32(features)
    out = _out(features.shape)
    flat = out.reshape(-1)
    n = xs.size
    k = n - n % 8
    _JIT.parallel["_relu_packets"](xs, flat, k)
    if k < n:
        flat[k:] = reference(xs[k:])
    return out


def _accepts(inputs, attrs):
    return all(getattr(v, "size", 0) >= MIN_ELEMENTS or getattr(v, "size", 0) == 1
               for v in inputs.values()) and max(v.size for v in inputs.values()) >= MIN_ELEMENTS


def kernel(op):
    """The fused `Kernel` of block `op`, or None when it has none here."""
    if op in _OPS:
        def fn(x, y, T):
            if T != "float32":
                return DECLINE
            from blocks._cwise import evaluate
            from blocks.math_binary import FORMULAS
            return binary(op, x, y, lambda a, b: evaluate(op, T, [a, b], FORMULAS[op]))
    elif op == "Relu":
        def fn(features, T):
            if T != "float32":
                return DECLINE
            from blocks._cwise import evaluate
            from blocks.nn_activations import _relu
            # the tail (under 8 elements) takes the scalar path in the reference too
            return relu(features, lambda t: evaluate("Relu", T, [t], _relu))
    else:
        return None
    fn.__name__ = f"_{op.lower()}_fused"
    return Kernel("fused", fn, accepts=_accepts)
