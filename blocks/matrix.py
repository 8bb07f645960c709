"""Diagonals and bands: Diag, DiagPart, MatrixBandPart and the v1 MatrixDiag, MatrixDiagPart,
MatrixSetDiag, as TF 2.21's CPU kernels compute them (kernel checks and messages in the shape
functions, raised only once every earlier kernel check is known to pass)."""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Input, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.shapes import fmt, fully_known as _known

from ._shape_helpers import rank_check

_DIAG_TYPES = ("float16", "float32", "float64", "int32", "int64", "complex64", "complex128")
_MATRIX_TYPES = dt.REALS + ("bool",) + dt.COMPLEX


def _at_least_2d(shape, port="input") -> bool:
    """True when `shape` is known to be at least 2-D; raises TF's error when it is known not to be
    (once its dims are known, so the message is TF's); False when undecided."""
    return rank_check(shape, lambda s: len(s) >= 2,
                      "input must be at least 2-dim, received shape: {}", port)


# ----------------------------------------------------------------- Diag / DiagPart

def _diag_shape(ctx):
    s = ctx.shape("diagonal")
    if s is not None and len(s) == 0:
        raise OpError("Input must be at least rank 1, got 0", port="diagonal")
    ctx.set_output("output", None if s is None else tuple(s) + tuple(s))


@block("Diag", inputs=[Input("diagonal", _DIAG_TYPES, type_attr="T", doc="rank k >= 1")],
       outputs=[Output("output", "T")], shape=_diag_shape)
def diag(diagonal):
    """A rank-2k tensor with `diagonal` on its diagonal: out[i..., i...] = diagonal[i...], 0 elsewhere."""
    n = diagonal.size
    out = np.zeros((n, n), dtype=diagonal.dtype)
    out[np.arange(n), np.arange(n)] = diagonal.reshape(-1)
    return out.reshape(diagonal.shape + diagonal.shape)


def _diag_part_shape(ctx):
    ctx.set_output("diagonal", _diag_part_target(ctx.shape("input")))


def _diag_part_target(s):
    """DiagPart's checks and output shape, from the input shape `s`."""
    if s is None:
        return None
    if len(s) % 2:
        if not _known(s):
            return None
        raise OpError("The rank of the tensor should be                                          even "
                      f"and positive, got shape {fmt(s)}", port="input")
    k = len(s) // 2
    out, sure = [], True
    for i in range(k):
        a, b = s[i], s[i + k]
        if a is None or b is None:
            sure = False          # the kernel checks the pairs in order
        elif a != b and sure and _known(s):
            raise OpError(f"Invalid shape {fmt(s)}: dimensions {i} and {i + k} do not match.",
                          port="input")
        out.append(a if a is not None else b)
    return tuple(out)


@block("DiagPart", inputs=[Input("input", _DIAG_TYPES, type_attr="T", doc="rank 2k, shape [D..., D...]")],
       outputs=[Output("diagonal", "T")], shape=_diag_part_shape)
def diag_part(input):
    """The diagonal of a rank-2k tensor: diagonal[i...] = input[i..., i...] (the inverse of Diag)."""
    k = input.ndim // 2
    head = input.shape[:k]
    n = int(np.prod(head, dtype=np.int64))
    return np.ascontiguousarray(input.reshape(n, n).diagonal()).reshape(head)


# ----------------------------------------------------------------- MatrixBandPart

def _band_shape(ctx):
    _band_checks(ctx)
    ctx.set_output("band", ctx.shape("input"))


def _band_checks(ctx):
    """MatrixBandPartOp's checks, in its order, as far as they are certain (the band has the
    input's shape)."""
    x = ctx.shape("input")
    if not _at_least_2d(x):
        return
    for port, dim, what in (("num_lower", -2, "rows"), ("num_upper", -1, "columns")):
        if not rank_check(ctx.shape(port), lambda s: len(s) == 0,
                          f"{port} must be scalar, got shape {{}}", port):
            return
        v = ctx.value(port)
        n = x[dim]
        if v is None or n is None:
            return
        v = int(np.asarray(v).reshape(()))
        if v > n:
            raise OpError(f"{port} must be negative or less or equal to number of {what} ({n}) got: {v}",
                          port=port)


@block("MatrixBandPart",
       inputs=[Input("input", _MATRIX_TYPES, type_attr="T", doc="[..., M, N]"),
               Input("num_lower", dt.INDEX, type_attr="Tindex", doc="0-d: subdiagonals kept (<0: all)"),
               Input("num_upper", dt.INDEX, type_attr="Tindex", doc="0-d: superdiagonals kept (<0: all)")],
       outputs=[Output("band", "T")], shape=_band_shape)
def matrix_band_part(input, num_lower, num_upper):
    """Keep a band of each innermost matrix: (lower<0 or m-n <= lower) and (upper<0 or n-m <= upper); 0 elsewhere."""
    lo, up = int(num_lower), int(num_upper)
    m, n = input.shape[-2:]
    d = np.arange(m)[:, None] - np.arange(n)[None, :]
    keep = ((lo < 0) | (d <= lo)) & ((up < 0) | (-d <= up))
    out = np.zeros(input.shape, dtype=input.dtype)
    np.copyto(out, input, where=keep)
    return out


# ----------------------------------------------------------------- MatrixDiag (v1)

def _matrix_diag_shape(ctx):
    s = ctx.shape("diagonal")
    if s is not None and len(s) == 0:
        raise OpError(f"diagonal must be at least 1-dim, received shape: {fmt(s)}", port="diagonal")
    ctx.set_output("output", None if s is None else tuple(s) + (s[-1],))


@block("MatrixDiag", inputs=[Input("diagonal", _MATRIX_TYPES, type_attr="T", doc="[..., N]")],
       outputs=[Output("output", "T")], shape=_matrix_diag_shape)
def matrix_diag(diagonal):
    """Batched diagonal matrices [..., N, N] with `diagonal` [..., N] on their main diagonal."""
    n = diagonal.shape[-1]
    out = np.zeros(diagonal.shape + (n,), dtype=diagonal.dtype)
    i = np.arange(n)
    out[..., i, i] = diagonal
    return out


def _min_dim(a, b):
    if a is None or b is None:
        return 0 if 0 in (a, b) else None
    return min(a, b)


def _matrix_diag_part_shape(ctx):
    s = ctx.shape("input")
    if _at_least_2d(s):
        ctx.set_output("diagonal", tuple(s[:-2]) + (_min_dim(s[-2], s[-1]),))
    else:
        ctx.set_output("diagonal", None)


@block("MatrixDiagPart", inputs=[Input("input", _MATRIX_TYPES, type_attr="T", doc="[..., M, N]")],
       outputs=[Output("diagonal", "T")], shape=_matrix_diag_part_shape)
def matrix_diag_part(input):
    """The main diagonal [..., min(M, N)] of each innermost matrix."""
    return np.ascontiguousarray(np.diagonal(input, axis1=-2, axis2=-1))


def _matrix_set_diag_shape(ctx):
    ctx.set_output("output", _matrix_set_diag_target(ctx.shape("input"), ctx.shape("diagonal")))


def _matrix_set_diag_target(x, d):
    """MatrixSetDiag's checks and output shape, from the input and diagonal shapes."""
    if not _at_least_2d(x):
        if x is not None:
            return x
        if d is None or len(d) == 0:
            return None
        return tuple(d[:-1]) + (None, None)
    if d is not None and len(d) == 0:
        raise OpError("diagonal must be at least 1-dim, received shape: []", port="diagonal")
    if x is None:
        if d is None or len(d) == 0:
            return None
        return tuple(d[:-1]) + (None, None)
    expected = tuple(x[:-2]) + (_min_dim(x[-2], x[-1]),)
    if d is not None:
        bad = len(d) != len(expected) or any(a is not None and b is not None and a != b
                                             for a, b in zip(d, expected))
        if bad and _known(x) and _known(d):
            raise OpError("Either first dimensions of diagonal don't match input.shape[:-2], or "
                          "diagonal.shape[:-1] is not equal to the longests diagonal in range "
                          f"[lower_diag_index:upper_diag_index].\nInput shape: {fmt(x)}\n"
                          f"Diagonal shape: {fmt(d)}\nExpected diagonal shape: {fmt(expected)}",
                          port="diagonal")
        if not bad:
            return tuple(a if a is not None else b for a, b in zip(x[:-2], d[:-1])) + tuple(x[-2:])
    return tuple(x)


@block("MatrixSetDiag",
       inputs=[Input("input", _MATRIX_TYPES, type_attr="T", doc="[..., M, N]"),
               Input("diagonal", _MATRIX_TYPES, type_attr="T", doc="[..., min(M, N)]")],
       outputs=[Output("output", "T")], shape=_matrix_set_diag_shape)
def matrix_set_diag(input, diagonal):
    """`input` with the main diagonal of each innermost matrix replaced by `diagonal`."""
    out = np.array(input, copy=True)
    k = diagonal.shape[-1]
    i = np.arange(k)
    out[..., i, i] = diagonal
    return out
