"""Declaring an element-wise block in one call: `cwise("Add", ("x", "y"), dtypes, formula)`.

Every element-wise math/nn block is the same machine (blocks/kernels/elementwise.py): TF's
shape rule for its inputs (broadcast, same shape, same size), a run-time check (integer division
by zero, ...), and a formula evaluated along TF's packet/tail split; or one of the Eigen kernels
(blocks/kernels/eigen) for the float dtypes it covers. Declarations differ only in that data.
"""
from __future__ import annotations

import inspect

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Input, Kernel, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.shapes import fmt, merge, num_elements
from blocks.kernels import eigen
from blocks.kernels import elementwise as ew

#: folding a statically known result costs little for small integer tensors (shape arithmetic)
FOLD_MAX = 64


# ----------------------------------------------------------------------------- shape rules

def broadcast_rule(ports, output):
    """Shape function: the output is the inputs' broadcast (TF's BCast; its error text)."""
    def shape(ctx):
        ctx.set_output(output, ew.bcast_shapes(*(ctx.shape(p) for p in ports)))
    shape.__doc__ = f"{output} = broadcast of {', '.join(ports)}"
    return shape


def same_shape_rule(ports, output, op):
    """Shape function of the activation grads: inputs of one shape (TF's text)."""
    def shape(ctx):
        a, b = (ctx.shape(p) for p in ports)
        ctx.set_output(output, merge(a, b, lambda: (
            f"Inputs to operation {op} of type {op} must have the same size and shape.  "
            f"Input 0: {fmt(a)} != input 1: {fmt(b)}")))
    return shape


def same_size_rule(ports, output):
    """Shape function of SigmoidGrad & co.: inputs of one number of elements; the output takes
    the first input's shape (TF's SimpleBinaryOp)."""
    def shape(ctx):
        a, b = (ctx.shape(p) for p in ports)
        na, nb = num_elements(a), num_elements(b)
        if na is not None and nb is not None and na != nb:
            raise OpError(f"The two arguments to a cwise op must have same number of elements, "
                          f"got {na} and {nb}")
        ctx.set_output(output, a if a is not None or b is None else None)
    return shape


def unary_rule(port, output):
    def shape(ctx):
        ctx.set_output(output, ctx.shape(port))
    return shape


RULES = {"broadcast": broadcast_rule, "unary": None, "same_shape": same_shape_rule,
         "same_size": same_size_rule}


# ----------------------------------------------------------------------------- declaring

def cwise(name, ports, dtypes, formula=None, *, eigen_op=None, out=None, out_dtype=None,
          rule=None, attrs=(), aliases=(), check=None, fused=None, doc="", port_doc=None,
          allowed=None, scalar_only=False):
    """Declare element-wise block `name` with input `ports` (sharing type attr T, registered for
    `dtypes`; a fixed dtype when `dtypes` is one name like "bool") and output `out`.

    formula(arith, *flat_inputs, **attrs) computes stored results (see elementwise.run);
    eigen_op names the blocks.kernels.eigen op used for the dtypes it supports. rule: "broadcast"
    (default for two inputs), "same_shape", "same_size", or a shape function. check(T, *inputs,
    **attrs) raises TF's run-time errors before computing. fused: a `Kernel` tried first.
    scalar_only: TF's functor has no packet code (every element takes the scalar path)."""
    caller = inspect.stack()[1].frame.f_globals
    module = caller["__name__"]
    out = out or ("z" if len(ports) > 1 else "y")
    fixed = isinstance(dtypes, str)
    inputs = [Input(p, (dtypes,) if fixed else tuple(dtypes), type_attr=None if fixed else "T",
                    doc=(port_doc or {}).get(p, ""), allowed=allowed) for p in ports]
    out_type = out_dtype or (dtypes if fixed else "T")
    if rule is None:
        rule = "broadcast" if len(ports) > 1 else "unary"
    same_size = rule == "same_size"
    if isinstance(rule, str):
        rule = unary_rule(ports[0], out) if rule == "unary" else (
            same_shape_rule(ports, out, name) if rule == "same_shape" else RULES[rule](ports, out))
    attr_names = tuple(a.name for a in attrs)

    def compute(**kw):
        arrays = [kw[p] for p in ports]
        if same_size:                       # SimpleBinaryOp: flat inputs, y's shape
            arrays = [arrays[0], arrays[1].reshape(arrays[0].shape)]
        T = kw.get("T", dtypes if fixed else None)
        extra = {a: kw[a] for a in attr_names}
        if check is not None:
            check(T, *arrays, **extra)
        return evaluate(name, T, arrays, formula, eigen_op, out_dtype or T, extra, scalar_only)
    compute.__module__ = module
    compute.__qualname__ = compute.__name__ = "_compute_" + name.lower()
    caller[compute.__name__] = compute       # module-level, as the parallel executors want
    kernels = [fused] if fused is not None else []
    block(name, inputs=inputs, attrs=attrs, outputs=[Output(out, out_type)], shape=rule,
          aliases=aliases, kernels=kernels, doc=doc or f"TF's {name}, element-wise.")(compute)
    return compute


def output_shape(arrays):
    return np.broadcast_shapes(*(np.shape(a) for a in arrays))


def evaluate(name, T, arrays, formula, eigen_op=None, out_dtype=None, attrs=None,
             scalar_only=False):
    """The block's result: the Eigen kernel where it covers (op, T), else the formula."""
    shape = output_shape(arrays)
    if eigen_op is not None and eigen.supported(eigen_op, T):
        flat, n = ew.flat_inputs(arrays, shape)
        flat = [np.broadcast_to(a, (n,)) if a.ndim == 0 else a for a in flat]
        if n == 0:
            return np.empty(shape, dt.to_numpy(T))
        from blocks.kernels.eigen.ops import apply
        return apply(eigen_op, T, *flat).reshape(shape)
    if formula is None:
        raise OpError(f"{name} has no kernel for {T} here")   # pragma: no cover - declared dtypes
    f = formula if not attrs else (lambda m, *xs: formula(m, *xs, **attrs))
    return ew.run(f, T, arrays, shape, out_dtype, scalar_only)


def large(n_min):
    """`Kernel.accepts` for fused kernels: float inputs of at least n_min elements each."""
    def accepts(inputs, attrs):
        return all(getattr(v, "size", 0) >= n_min for v in inputs.values())
    return accepts


def fused_kernel(fn, n_min=1 << 16):
    """A fused numba kernel (fn(**inputs_and_attrs) -> array or DECLINE) taken for large inputs."""
    return Kernel("fused", fn, accepts=large(n_min))
