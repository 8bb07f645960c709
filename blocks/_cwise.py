"""Declaring an element-wise block in one call: `cwise("Add", ("x", "y"), dtypes, formula)`.

Every element-wise math/nn block is the same machine (blocks/kernels/elementwise.py): TF's
shape rule for its inputs (broadcast, same shape, same size), a run-time check (integer division
by zero, ...), and a formula evaluated along TF's packet/tail split; or one of the Eigen kernels
(blocks/kernels/eigen) for the float dtypes it covers. Declarations differ only in that data.
"""
from __future__ import annotations

import sys

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Input, Kernel, Output, block, keeps_signature
from blockgraph.core.errors import OpError
from blockgraph.core.shapes import fmt, merge, num_elements
from blocks.kernels import eigen, ieee, pyfloat
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
          allowed=None, scalar_only=False, plain=None, plain_ints=False):
    """Declare element-wise block `name` with input `ports` (sharing type attr T, registered for
    `dtypes`; a fixed dtype when `dtypes` is one name like "bool") and output `out`.

    formula(arith, *flat_inputs, **attrs) computes stored results (see elementwise.run);
    eigen_op names the blocks.kernels.eigen op used for the dtypes it supports. rule: "broadcast"
    (default for two inputs), "same_shape", "same_size", or a shape function. check(T, *inputs,
    **attrs) raises TF's run-time errors before computing. fused: a `Kernel` tried first.
    scalar_only: TF's functor has no packet code (every element takes the scalar path).
    plain: the numpy ufunc equal to the formula on clean float32/float64 values (no NaN, no
    denormal in or out: `ieee.clean`), and on every integer value when `plain_ints`; lowered
    runs call it directly (`lowering`), the formula otherwise."""
    caller = sys._getframe(1).f_globals        # the declaring module (inspect.stack reads every frame's source)
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

    def lower(call):
        T = call.attrs.get("T", dtypes if fixed else None)
        extra = {a: call.attrs[a] for a in attr_names}
        return lowering(name, T, [call.sample[p] for p in ports], formula, eigen_op,
                        out_dtype or T, extra, scalar_only, same_size, check,
                        plain, plain_ints, [call.constants.get(p) for p in ports])
    block(name, inputs=inputs, attrs=attrs, outputs=[Output(out, out_type)], shape=rule,
          aliases=aliases, kernels=kernels, doc=doc or f"TF's {name}, element-wise.",
          lower=lower)(compute)
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


def lowering(name, T, sample, formula, eigen_op, out_dtype, attrs, scalar_only, same_size,
             check, plain, plain_ints, constants):
    """`compute` specialised for inputs like `sample` (a lowered run; `constants[i]`: input i's
    value when it is the same in every call, else None): the plain operation where it is exact
    (see `cwise`) — in Python floats for small float64 tensors (`pyfloat`), else the ufunc,
    checked clean per call —, else `evaluate` with its broadcast and arithmetic worked out
    once."""
    general = _lowered_evaluate(name, T, sample, formula, eigen_op, out_dtype, attrs,
                                scalar_only, same_size)
    kept = getattr(general, "keeps_signature", False)
    if check is not None:
        inner = general

        def checked(*xs):
            check(T, *(_same_size(xs) if same_size else xs), **attrs)
            return inner(*xs)
        general = _kept(checked, kept)
    if plain is None or same_size or attrs or (T not in ("float32", "float64") and not (
            plain_ints and dt.is_integer(T))):
        return general
    zero_d = np.ndim(plain(*sample)) == 0
    if T not in ("float32", "float64"):            # integers: the ufunc is the formula
        if check is not None:
            return general
        return (lambda *xs: np.asarray(plain(*xs))) if zero_d else plain
    shape = output_shape(sample)
    if T == "float64" and math_size(shape) <= pyfloat.SMALL and (
            plain in pyfloat.OPS or plain in pyfloat.UNARY):
        return _kept(_small(plain, sample, shape, constants, general, check, T), kept)
    constant = [c is not None for c in constants]
    if not all(ieee.clean(a) for a, c in zip(sample, constant) if c):
        return general
    varying = [i for i, c in enumerate(constant) if not c]
    clean = ieee.clean
    if len(sample) == 2 and not zero_d and check is None:
        vx, vy = 0 in varying, 1 in varying

        def fast2(x, y):
            r = plain(x, y)
            if clean(r) and (not vx or clean(x)) and (not vy or clean(y)):
                return r
            return general(x, y)
        return _kept(fast2, kept)

    def fast(*xs):
        if check is not None:
            check(T, *xs, **attrs)
        r = plain(*xs)
        if zero_d:
            r = np.asarray(r)
        if clean(r) and all(clean(xs[i]) for i in varying):
            return r
        return general(*xs)
    return _kept(fast, kept)


def _kept(fn, kept):
    """fn marked `keeps_signature` when its fallback keeps it too (its fast path does)."""
    return keeps_signature(fn) if kept else fn


def _small(plain, sample, shape, constants, general, check, T):
    """The pyfloat path of a small float64 block, `general` for values it does not take."""
    if check is None:
        if len(sample) == 2:
            return pyfloat.binary(plain, sample[0].shape, sample[1].shape, shape, *constants,
                                  other=general)
        return pyfloat.unary(plain, shape, other=general)
    py = _small(plain, sample, shape, constants, general, None, T)

    def checked(*xs):
        check(T, *xs)
        return py(*xs)
    return checked


def math_size(shape) -> int:
    return int(np.prod(shape)) if len(shape) else 1


def _same_size(xs):
    return [xs[0], xs[1].reshape(xs[0].shape)]


def _lowered_evaluate(name, T, sample, formula, eigen_op, out_dtype, attrs, scalar_only,
                      same_size):
    """`evaluate` specialised for inputs like `sample`: fn(*arrays)."""
    if same_size:
        sample = _same_size(sample)
    shape = output_shape(sample)
    if eigen_op is not None and eigen.supported(eigen_op, T) or formula is None:
        def evaluated(*xs):
            return evaluate(name, T, _same_size(xs) if same_size else list(xs), formula,
                            eigen_op, out_dtype, attrs, scalar_only)
        return evaluated
    f = formula if not attrs else (lambda m, *xs: formula(m, *xs, **attrs))
    run = ew.lowered(f, T, [a.shape for a in sample], shape, out_dtype, scalar_only)
    if same_size:
        return keeps_signature(lambda x, y: run(x, y.reshape(x.shape)))
    return keeps_signature(run)


def large(n_min):
    """`Kernel.accepts` for fused kernels: float inputs of at least n_min elements each."""
    def accepts(inputs, attrs):
        return all(getattr(v, "size", 0) >= n_min for v in inputs.values())
    return accepts


def fused_kernel(fn, n_min=1 << 16):
    """A fused numba kernel (fn(**inputs_and_attrs) -> array or DECLINE) taken for large inputs."""
    return Kernel("fused", fn, accepts=large(n_min))
