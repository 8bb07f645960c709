"""Matrix products: MatMul, BatchMatMul, BatchMatMulV2, BatchMatMulV3, as TF 2.21's CPU kernels
(`BaseBatchMatMulOp`, MatMul being its legacy 2-D form): their checks and texts in their order
in the shape functions, products by `kernels/gemm.py`, and their gradients (math_grad.py).

MatMul's `transpose_a/b` transpose; the batch matmuls' `adj_x/y` also conjugate complex inputs.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core import registry
from blockgraph.core.binding import kernel_not_found
from blockgraph.core.blockdef import Attr, Input, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.gradients import gradient
from blockgraph.core.shapes import fmt, fully_known

from .kernels import gemm

#: dtypes of the CPU kernels (the OpDefs allow more; those fail as TF does)
MATMUL_T = ("float32", "float64", "int32", "complex64", "int64", "bfloat16", "complex128", "float16")
BMM_T = MATMUL_T + ("int16",)
_V1_ALLOWED = ("bfloat16", "float16", "float32", "float64", "int32", "int64", "complex64",
               "complex128")
_V3_IN = ("bfloat16", "float16", "float32", "float64", "uint8", "int8", "int16", "int32", "int64",
          "complex64", "complex128")
_V3_OUT = ("bfloat16", "float16", "float32", "float64", "int16", "int32", "int64", "complex64",
           "complex128")
#: BatchMatMulV3's CPU kernels: (Ta, Tb, Tout)
_V3_KERNELS = {(t, t, t) for t in ("int64", "int32", "int16", "float64", "float32", "bfloat16",
                                   "complex128", "complex64")} | {
    (a, b, "int32") for a in ("int8", "uint8") for b in ("int8", "uint8")} | {
    ("uint8", "bfloat16", "bfloat16"), ("int8", "bfloat16", "bfloat16"),
    ("bfloat16", "uint8", "bfloat16"), ("bfloat16", "int8", "bfloat16")}

_GRAD_ATTRS = [Attr("grad_a", "bool", False, doc="set by gradient functions; no effect on CPU"),
               Attr("grad_b", "bool", False, doc="set by gradient functions; no effect on CPU")]
_ADJ_ATTRS = [Attr("adj_x", "bool", False, doc="use the adjoint (conjugate transpose) of x's matrices"),
              Attr("adj_y", "bool", False, doc="use the adjoint (conjugate transpose) of y's matrices"),
              Attr("grad_x", "bool", False, doc="set by gradient functions; no effect on CPU"),
              Attr("grad_y", "bool", False, doc="set by gradient functions; no effect on CPU")]


# ----------------------------------------------------------------- shape functions

def _rank(s):
    return None if s is None else len(s)


def _same_ndims(x, y):
    """The legacy kernels' first check: equal ranks (TF prints both shapes). True when it passes,
    False when undecided."""
    rx, ry = _rank(x), _rank(y)
    if rx is None or ry is None:
        return False
    if rx != ry:
        if fully_known(x) and fully_known(y):
            raise OpError(f"In[0] and In[1] has different ndims: {fmt(x)} vs. {fmt(y)}", port="b")
        return False
    return True


def _batch(x, y):
    """MatMulBCast of the batch dims: their broadcast shape, or None when they cannot agree
    (unknown dims agree with anything)."""
    bx, by = list(x[:-2]), list(y[:-2])
    n = max(len(bx), len(by))
    bx, by = [1] * (n - len(bx)) + bx, [1] * (n - len(by)) + by
    out = []
    for p, q in zip(bx, by):
        if p is None or q is None:
            known = q if p is None else p
            out.append(None if known in (None, 1) else known)
        elif p == q or q == 1:
            out.append(p)
        elif p == 1:
            out.append(q)
        else:
            return None
    return tuple(out)


def _product_shape(x, y, adj_x, adj_y, port="y"):
    """The batch product's output shape from the batch shape check onwards (TF's order:
    compatible batch dims, then the inner dims), or None when undecided."""
    batch = _batch(x, y)
    if batch is None:
        if fully_known(x) and fully_known(y):
            raise OpError(f"In[0] and In[1] must have compatible batch dimensions: {fmt(x)} vs. "
                          f"{fmt(y)}", port=port)
        return None
    d0, d1 = (x[-1], x[-2]) if adj_x else (x[-2], x[-1])
    d2, d3 = (y[-1], y[-2]) if adj_y else (y[-2], y[-1])
    if d1 is not None and d2 is not None and d1 != d2:
        if fully_known(x) and fully_known(y):
            raise OpError(f"Matrix size-incompatible: In[0]: {fmt(x)}, In[1]: {fmt(y)}", port=port)
        return None
    return batch + (d0, d3)


def _matmul_shape(ctx):
    a, b = ctx.shape("a"), ctx.shape("b")
    out = None
    if _same_ndims(a, b):
        if len(a) != 2:
            raise OpError(f"In[0] and In[1] ndims must be == 2: {len(a)}", port="a")
        out = _product_shape(a, b, ctx.attrs["transpose_a"], ctx.attrs["transpose_b"], "b")
    if out is None:     # the dims of a known matrix side pass on
        row = a[1 if ctx.attrs["transpose_a"] else 0] if _rank(a) == 2 else None
        col = b[0 if ctx.attrs["transpose_b"] else 1] if _rank(b) == 2 else None
        out = (row, col)
    ctx.set_output("product", out)


def _v1_shape(ctx):
    x, y = ctx.shape("x"), ctx.shape("y")
    out = None
    if _same_ndims(x, y):
        if len(x) < 2:
            raise OpError(f"In[0] and In[1] ndims must be >= 2: {len(x)}", port="x")
        for i in range(len(x) - 2):
            if x[i] is not None and y[i] is not None and x[i] != y[i]:
                if fully_known(x) and fully_known(y):
                    raise OpError(f"In[{0}].dim({i}) and In[1].dim({i}) must be the same: "
                                  f"{fmt(x)} vs {fmt(y)}", port="y")
                break
        else:
            out = _product_shape(x, y, ctx.attrs["adj_x"], ctx.attrs["adj_y"])
    ctx.set_output("output", out if out is not None else _unknown_rank(x, y))


def _unknown_rank(x, y):
    return None if x is None or y is None else (None,) * max(len(x), len(y))


def _v2_checks(ctx):
    """BatchMatMulV2/V3: both ranks >= 2, then the batch and inner dims; the output shape."""
    x, y = ctx.shape("x"), ctx.shape("y")
    for i, (port, s) in enumerate((("x", x), ("y", y))):
        if s is not None and len(s) < 2:
            raise OpError(f"In[{i}] ndims must be >= 2: {len(s)}", port=port)
    if x is None or y is None:
        return None
    out = _product_shape(x, y, ctx.attrs["adj_x"], ctx.attrs["adj_y"])
    return out if out is not None else _unknown_rank(x, y)


def _v2_shape(ctx):
    ctx.set_output("output", _v2_checks(ctx))


def _v3_shape(ctx):
    key = (ctx.attrs.get("Ta"), ctx.attrs.get("Tb"), ctx.attrs["Tout"])
    if None not in key and key not in _V3_KERNELS:
        raise kernel_not_found(registry.get("BatchMatMulV3"), ctx.attrs, port="x")
    ctx.set_output("output", _v2_checks(ctx))


# ----------------------------------------------------------------- kernels

def _operand(a, adjoint, transpose, dtype=None):
    """A prepared operand, its matrices transposed (and conjugated for an adjoint)."""
    a = gemm.prepare(a, dtype)
    if adjoint or transpose:
        a = np.swapaxes(a, -1, -2)
        if adjoint and a.dtype.kind == "c":
            a = np.conj(a)
    return a


@block("MatMul",
       inputs=[Input("a", MATMUL_T, type_attr="T", doc="[M, K] (or [K, M] with transpose_a)"),
               Input("b", MATMUL_T, type_attr="T", doc="[K, N] (or [N, K] with transpose_b)")],
       attrs=[Attr("transpose_a", "bool", False, doc="transpose a first"),
              Attr("transpose_b", "bool", False, doc="transpose b first"), *_GRAD_ATTRS],
       outputs=[Output("product", "T")], shape=_matmul_shape)
def mat_mul(a, b, transpose_a, transpose_b):
    """The matrix product of 2-D a and b (optionally transposed, never conjugated)."""
    return gemm.product(_operand(a, False, transpose_a), _operand(b, False, transpose_b), a.dtype)


@block("BatchMatMul",
       inputs=[Input("x", MATMUL_T, type_attr="T", allowed=_V1_ALLOWED, doc="[..., M, K]"),
               Input("y", MATMUL_T, type_attr="T", allowed=_V1_ALLOWED,
                     doc="[..., K, N]; same batch dims as x")],
       attrs=_ADJ_ATTRS, outputs=[Output("output", "T")], shape=_v1_shape)
def batch_mat_mul(x, y, adj_x, adj_y):
    """Matrix products of x's and y's innermost matrices; the batch dims must match (no broadcasting)."""
    return gemm.product(_operand(x, adj_x, False), _operand(y, adj_y, False), x.dtype)


@block("BatchMatMulV2",
       inputs=[Input("x", BMM_T, type_attr="T", doc="[..., M, K]"),
               Input("y", BMM_T, type_attr="T", doc="[..., K, N]; batch dims broadcast with x's")],
       attrs=_ADJ_ATTRS, outputs=[Output("output", "T")], shape=_v2_shape)
def batch_mat_mul_v2(x, y, adj_x, adj_y):
    """Matrix products of x's and y's innermost matrices, batch dims broadcast as numpy does."""
    return gemm.product(_operand(x, adj_x, False), _operand(y, adj_y, False), x.dtype)


@block("BatchMatMulV3",
       inputs=[Input("x", _V3_IN[:1] + _V3_IN[2:], type_attr="Ta", allowed=_V3_IN, doc="[..., M, K]"),
               Input("y", _V3_IN[:1] + _V3_IN[2:], type_attr="Tb", allowed=_V3_IN,
                     doc="[..., K, N]; batch dims broadcast with x's")],
       attrs=[Attr("Tout", "type", choices=_V3_OUT, doc="the output dtype"), *_ADJ_ATTRS],
       outputs=[Output("output", "Tout")], shape=_v3_shape)
def batch_mat_mul_v3(x, y, Tout, adj_x, adj_y):
    """BatchMatMulV2 with input dtypes of their own and an output dtype Tout (int8/uint8 -> int32,
    int8/uint8 with bfloat16 -> bfloat16)."""
    out = dt.to_numpy(Tout)
    cd = gemm.compute_dtype(out)
    return gemm.product(_operand(x, adj_x, False, cd), _operand(y, adj_y, False, cd), out)


# ----------------------------------------------------------------- gradients (TF's math_grad.py)

def _is_complex(op, port) -> bool:
    s = op.spec(port)
    return s is not None and s.dtype in dt.COMPLEX


def _static_shape(op, port):
    """The static shape of input `port` (None when unknown)."""
    s = op.spec(port)
    return None if s is None else s.shape


def _conj(op, ref, complex_):
    """math_ops.conj: a Conj block for complex tensors, the tensor itself otherwise."""
    return op.add("Conj", input=ref) if complex_ else ref


@gradient("MatMul")
def _mat_mul_grad(op, grad):
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    c = _is_complex(op, "a")
    a, b = _conj(op, op.input("a"), c), _conj(op, op.input("b"), c)

    def mm(x, y, **attrs):
        return op.add("MatMul", a=x, b=y, **attrs)
    if not ta and not tb:
        ga, gb = mm(grad, b, transpose_b=True, grad_a=True), mm(a, grad, transpose_a=True, grad_b=True)
    elif not ta and tb:
        ga, gb = mm(grad, b, grad_a=True), mm(grad, a, transpose_a=True, grad_b=True)
    elif ta and not tb:
        ga, gb = mm(b, grad, transpose_b=True, grad_a=True), mm(a, grad, grad_b=True)
    else:
        ga = mm(b, grad, transpose_a=True, transpose_b=True, grad_a=True)
        gb = mm(grad, a, transpose_a=True, transpose_b=True, grad_b=True)
    return {"a": ga, "b": gb}


def _matmul(op, a, b, ranks, complex_, adjoint_a=False, adjoint_b=False, **flags):
    """math_ops.matmul(a, b, adjoint_a=..., adjoint_b=..., grad_a/grad_b=...): BatchMatMulV2 when
    either operand may have batch dims (rank unknown or > 2), else MatMul on conjugated operands."""
    ra, rb = ranks
    if ra is None or ra > 2 or rb is None or rb > 2:
        extra = {("grad_x" if k == "grad_a" else "grad_y"): v for k, v in flags.items()}
        return op.add("BatchMatMulV2", x=a, y=b, adj_x=adjoint_a, adj_y=adjoint_b, **extra)
    if adjoint_a:
        a = _conj(op, a, complex_)
    if adjoint_b:
        b = _conj(op, b, complex_)
    return op.add("MatMul", a=a, b=b, transpose_a=adjoint_a, transpose_b=adjoint_b, **flags)


def _batch_grads(op, grad, flags: bool):
    """grad_x, grad_y of a batch matmul (_BatchMatMul / _BatchMatMulV2 before any reduction)."""
    x, y = op.input("x"), op.input("y")
    adj_x, adj_y = op.attrs["adj_x"], op.attrs["adj_y"]
    rx, ry = _rank(_static_shape(op, "x")), _rank(_static_shape(op, "y"))
    out = op.out_spec()
    rg = None if out is None else _rank(out.shape)
    c = _is_complex(op, "x")
    fa = {"grad_a": True} if flags else {}
    fb = {"grad_b": True} if flags else {}

    def mm(a, b, ranks, adjoint_a, adjoint_b, f):
        return _matmul(op, a, b, ranks, c, adjoint_a, adjoint_b, **f)
    if not adj_x:
        if not adj_y:
            return (mm(grad, y, (rg, ry), False, True, fa), mm(x, grad, (rx, rg), True, False, fb))
        return (mm(grad, y, (rg, ry), False, False, fa), mm(grad, x, (rg, rx), True, False, fb))
    if not adj_y:
        return (mm(y, grad, (ry, rg), False, True, fa), mm(x, grad, (rx, rg), False, False, fb))
    return (mm(y, grad, (ry, rg), True, True, fa), mm(grad, x, (rg, rx), True, True, fb))


@gradient("BatchMatMul")
def _batch_mat_mul_grad(op, grad):
    gx, gy = _batch_grads(op, grad, flags=False)
    return {"x": gx, "y": gy}


def _batch_mat_mul_v2_grad(op, grad):
    """_BatchMatMulV2: the products, then a sum over the broadcast batch dims when the batch
    shapes are not statically known to match."""
    gx, gy = _batch_grads(op, grad, flags=True)
    sx, sy = _static_shape(op, "x"), _static_shape(op, "y")
    may_batch = sx is None or len(sx) > 2 or sy is None or len(sy) > 2
    match = sx is not None and sy is not None and fully_known(sx[:-2]) and fully_known(sy[:-2]) \
        and tuple(sx[:-2]) == tuple(sy[:-2])
    if not may_batch or match:
        return {"x": gx, "y": gy}
    shape_x, shape_y = op.add("Shape", input=op.input("x")), op.add("Shape", input=op.input("y"))
    head = {"begin": {"value": [0], "dtype": "int32"}, "end": {"value": [-2], "dtype": "int32"},
            "strides": {"value": [1], "dtype": "int32"}, "begin_mask": 1}
    args = op.add("BroadcastGradientArgs", s0=op.add("StridedSlice", input=shape_x, **head),
                  s1=op.add("StridedSlice", input=shape_y, **head))
    gx = op.add("Reshape", tensor=op.add("Sum", input=gx, axis=f"{args}.r0"), shape=shape_x)
    gy = op.add("Reshape", tensor=op.add("Sum", input=gy, axis=f"{args}.r1"), shape=shape_y)
    return {"x": gx, "y": gy}


gradient("BatchMatMulV2", "BatchMatMulV3")(_batch_mat_mul_v2_grad)
