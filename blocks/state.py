"""State: Variables and the blocks that update them (Assign, AssignAdd, AssignSub and the
training ops ApplyGradientDescent, ApplyMomentum, ApplyAdam, ApplyRMSProp), with TF's update
formulas in TF's order of float operations (`training_ops.cc`, as the ResourceApply* kernels).

A Variable's value lives in the run (`CallContext.state`): its block outputs the value at the
start of the cycle; an update block computes the new value from its inputs, outputs it, and
stages it (`CallContext.assign`) to be committed with every other update at the end of the
cycle. A Variable gets its first value from the page (`init:`) or from saved state.
"""
from __future__ import annotations

import operator

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core import binding
from blockgraph.core.blockdef import Attr, Input, Output, block, keeps_signature
from blockgraph.core.errors import AttrError, OpError
from blockgraph.core.shapes import fmt
from blocks.core import tensor_value
from blocks.kernels import pyfloat
from blocks.kernels.ieee import bf16_packet_nans, cdiv, clean, cmul, daz

TRAIN_TYPES = ("float16", "bfloat16", "float32", "float64", "complex64", "complex128")
ASSIGN_TYPES = tuple(d for d in dt.ALL if d != "string")
LOCKING = Attr("use_locking", "bool", False, doc="TF's locking flag (a page's updates never race)")


# ----------------------------------------------------------------------------- Variable

def _prepare_variable(attrs, ctx):
    """The Variable's dtype and shape: from its attrs, checked against (or taken from) its
    literal or file `init:`, which becomes the `init` value."""
    dtype, shape = attrs.get("dtype"), attrs.get("shape")
    if ctx.init is not None:
        arr, name = tensor_value(ctx.init, dtype=dtype or ctx.init.get("dtype"), shape=shape,
                                 ctx=ctx, where="init")
        return {**attrs, "init": arr, "dtype": name, "shape": arr.shape}
    if dtype is None or shape is None or any(d is None for d in shape):
        raise AttrError("a Variable needs attrs 'dtype' and a fully known 'shape' (or an "
                        "`init:` value to take them from)", attr="dtype" if dtype is None else "shape")
    return attrs


def _variable_shape(ctx):
    ctx.set_output("ref", ctx.attrs["shape"], dtype=ctx.attrs["dtype"])


@block("VariableV2", aliases=("Variable",),
       attrs=[Attr("shape", "shape", None, doc="dims of the value (taken from init: when absent)"),
              Attr("dtype", "type", None, doc="dtype of the value (taken from init: when absent)"),
              Attr("container", "string", "", doc="TF's resource container (unused here)"),
              Attr("shared_name", "string", "", doc="TF's sharing name (unused here)")],
       outputs=[Output("ref", "dtype")], shape=_variable_shape, prepare=_prepare_variable,
       variable=True, context=True)
def variable(ctx):
    """State kept between cycles: its value at the start of this cycle."""
    return ctx.variable()


# ----------------------------------------------------------------------------- helpers

def _same_shape(ctx, a, b, what=None):
    """TF's check that two operands of an update have the same shape."""
    sa, sb = ctx.shape(a), ctx.shape(b)
    if sa is not None and sb is not None and None not in sa and None not in sb and sa != sb:
        raise OpError(what.format(fmt(sa), fmt(sb)) if what else
                      f"{a} and {b} do not have the same shape{fmt(sa)} {fmt(sb)}", port=b)


def _scalar(ctx, port, sep=""):
    s = ctx.shape(port)
    if s is not None and len(s) != 0 and None not in s:
        raise OpError(f"{port} is not a scalar{sep}: {fmt(s)}", port=port)


def _update_shape(output, slots=(), scalars=(), grad="grad", spaced=()):
    """Shape function of a training op: slots and grad shaped like var, hyper-parameters 0-d;
    the output is the updated var. `spaced`: the scalars whose TF text has a space before its
    colon (RMSProp's "lr is not a scalar : [1]", but "rho is not a scalar: [1]")."""
    def shape(ctx):
        for s in slots:
            _same_shape(ctx, "var", s)
        for s in scalars:
            _scalar(ctx, s, " " if s in spaced else "")
        _same_shape(ctx, "var", grad)
        ctx.set_output(output, ctx.shape("var"))
    return shape


class _Arith:
    """T's arithmetic as TF's CPU kernels do it: half types round after every operation (numpy
    does that for float16 and ml_dtypes for bfloat16), float32/float64 flush denormal results."""

    def __init__(self, dtype):
        self.t = dt.to_numpy(dtype).type
        self.flush = dtype in ("float32", "float64")
        self.complex = dtype in dt.COMPLEX
        self.bfloat16 = dtype == "bfloat16"

    def result(self, a):
        """A result as TF writes it (bfloat16 packets store NaN as +qNaN)."""
        return bf16_packet_nans(a) if self.bfloat16 else a

    def __call__(self, a):
        a = np.asarray(a, self.t)
        return daz(a) if self.flush else a

    def mul(self, a, b, scalar=False):
        """a * b (complex as Eigen's packets multiply: no fused multiply-add; `scalar`: as
        compiled C does, with C99's recovery of infinities)."""
        if self.complex:
            from blocks.kernels.elementwise import cmul_c99     # complex only: no ml_dtypes import
            return cmul_c99(a, b) if scalar else cmul(a, b)
        return self(a * b)

    def sqrt(self, a, scalar=False):
        """sqrt (complex as Eigen: psqrt_complex on the packets, complex_sqrt on the tail of
        the flat array, or everywhere when `scalar`)."""
        if not self.complex:
            return self(np.sqrt(a))
        from blocks.kernels.eigen import cplx             # complex only: no ml_dtypes import
        from blocks.kernels.elementwise import WIDTH
        flat = np.ascontiguousarray(a).reshape(-1)
        k = 0 if scalar else flat.size - flat.size % WIDTH[flat.dtype.name]
        out = np.empty_like(flat)
        if k:
            out[:k] = cplx.sqrt_packet(flat[:k])
        if k < flat.size:
            out[k:] = cplx.sqrt_scalar(flat[k:])
        return out.reshape(np.shape(a))

    def div(self, a, b):
        """a / b (complex as TF divides: Eigen's packets, libgcc's scalar tail)."""
        return cdiv(a, b) if self.complex else self(a / b)

    def c(self, v):
        """A scalar constant of T."""
        return self.t(v)


def _inputs(T, *arrays):
    """The operands as T, denormals read as zeros."""
    return [daz(np.asarray(a)) for a in arrays]


# ----------------------------------------------------------------------------- assignments

def _assign_shape(ctx):
    if ctx.attrs.get("validate_shape", True):
        sr, sv = ctx.shape("ref"), ctx.shape("value")
        if sr is not None and sv is not None and None not in sr and None not in sv and sr != sv:
            raise OpError(f"Assign requires shapes of both tensors to match. lhs shape= {fmt(sr)} "
                          f"rhs shape= {fmt(sv)}", port="value")
    ctx.set_output("output_ref", ctx.shape("ref"))


@block("Assign",
       inputs=[Input("ref", ASSIGN_TYPES, type_attr="T", ref=True, doc="the Variable to set"),
               Input("value", ASSIGN_TYPES, type_attr="T", doc="its new value")],
       attrs=[Attr("validate_shape", "bool", True, doc="value must have the Variable's shape"),
              Attr("use_locking", "bool", True, doc="TF's locking flag (unused here)")],
       outputs=[Output("output_ref", "T")], shape=_assign_shape, context=True)
def assign(ctx, ref, value):
    """Set a Variable to `value` (committed at the end of the cycle); outputs the new value."""
    if value.shape != ref.shape:
        raise OpError(f"a Variable keeps its shape here: '{ctx.refs['ref']}' is {fmt(ref.shape)}, "
                      f"the value {fmt(value.shape)}", port="value")
    ctx.assign("ref", value)
    return value


def _add_sub_shape(ctx):
    _same_shape(ctx, "ref", "value", what="Shapes of ref and value must match: {} vs {}")
    ctx.set_output("output_ref", ctx.shape("ref"))


# ----------------------------------------------------------------------------- lowered forms

def _lowered_update(ufuncs, reference, py):
    """`Kernel.lower` of an update whose float32/float64 formula is a chain of IEEE operations:
    `ufuncs(*inputs)` gives (new value, every intermediate result) without DAZ/FTZ, which equal
    the reference's when the inputs and intermediates are clean (`ieee.clean`); other values go
    to `reference(ctx, *inputs, T)`. `py` is the same on lists of Python floats, taken for small
    float64 Variables (`pyfloat`). Integer dtypes: the ufuncs are the formula."""
    def lower(call):
        T, ctx = call.attrs["T"], call.ctx
        ports = call.ports
        if T not in ("float32", "float64") and not dt.is_integer(T):
            return None
        if T in ("float32", "float64") and not all(clean(v) for v in call.constants.values()):
            return None
        if T == "float64" and call.sample[ports[0]].size <= pyfloat.SMALL:
            return _small_update(call, py, reference)
        varying = [i for i, p in enumerate(ports) if p not in call.constants]
        check = T in ("float32", "float64")

        def update(*xs):
            new, *steps = ufuncs(*xs)
            if type(new) is not np.ndarray:
                new = np.asarray(new)
            if check and not (clean(new) and all(clean(np.asarray(a)) for a in steps)
                              and all(clean(xs[i]) for i in varying)):
                return reference(ctx, *xs, T)
            ctx.assign(ports[0], new)
            return new
        return update
    return lower


def _small_update(call, py, reference):
    ctx, ports = call.ctx, call.ports
    readers = [pyfloat.reader(call.sample[p].shape) for p in ports]
    consts = [rd(call.constants[p]) if p in call.constants else None
              for p, rd in zip(ports, readers)]
    shape = call.sample[ports[0]].shape
    write, ok, want = pyfloat.writer(shape), pyfloat.clean, np.dtype(np.float64)

    @keeps_signature
    def small(*xs):
        ls = []
        for c, rd, x in zip(consts, readers, xs):
            if c is None:
                c = rd(x)
                if not ok(c):
                    break
            ls.append(c)
        else:
            new, *steps = py(*ls)
            if ok(new) and all(map(ok, steps)):
                out = write(new)
                ctx.assign(ports[0], out)
                return out
        r = reference(ctx, *xs, call.attrs["T"])
        if type(r) is not np.ndarray or r.dtype != want or r.shape != shape:
            raise binding.Changed(call.attrs["T"])
        return r
    return small


def _gd(var, alpha, delta):
    step = delta * alpha
    return var - step, step


def _gd_py(var, alpha, delta):
    a = alpha[0]
    step = [d * a for d in delta]
    return list(map(operator.sub, var, step)), step


def _changed(ctx, ref, value, T, sign):
    ar = _Arith(T)
    r, v = _inputs(T, ref, value)
    with np.errstate(all="ignore"):
        new = ar.result(ar(r + v) if sign > 0 else ar(r - v))
    ctx.assign("ref", new)
    return new


_ASSIGN_OP = dict(inputs=[Input("ref", dt.NUMBERS, type_attr="T", ref=True, doc="the Variable to change"),
                          Input("value", dt.NUMBERS, type_attr="T", doc="the amount")],
                  attrs=[LOCKING], outputs=[Output("output_ref", "T")], shape=_add_sub_shape,
                  context=True)


@block("AssignAdd", **_ASSIGN_OP, lower=_lowered_update(
    lambda r, v: (r + v,), lambda ctx, r, v, T: assign_add(ctx, r, v, T),
    lambda r, v: (list(map(operator.add, r, v)),)))
def assign_add(ctx, ref, value, T):
    """Add `value` to a Variable (committed at the end of the cycle); outputs the new value."""
    return _changed(ctx, ref, value, T, 1)


@block("AssignSub", **_ASSIGN_OP, lower=_lowered_update(
    lambda r, v: (r - v,), lambda ctx, r, v, T: assign_sub(ctx, r, v, T),
    lambda r, v: (list(map(operator.sub, r, v)),)))
def assign_sub(ctx, ref, value, T):
    """Subtract `value` from a Variable (committed at the end of the cycle); outputs the new value."""
    return _changed(ctx, ref, value, T, -1)


# ----------------------------------------------------------------------------- training ops

@block("ApplyGradientDescent",
       inputs=[Input("var", TRAIN_TYPES, type_attr="T", ref=True, doc="the Variable to update"),
               Input("alpha", TRAIN_TYPES, type_attr="T", doc="learning rate (0-d)"),
               Input("delta", TRAIN_TYPES, type_attr="T", doc="the change, shaped like var")],
       attrs=[LOCKING], outputs=[Output("out", "T")],
       shape=_update_shape("out", scalars=("alpha",), grad="delta"), context=True,
       lower=_lowered_update(_gd, lambda ctx, var, alpha, delta, T:
                             apply_gradient_descent(ctx, var, alpha, delta, T), _gd_py))
def apply_gradient_descent(ctx, var, alpha, delta, T):
    """var -= alpha * delta (TF: `var - delta * alpha`)."""
    ar = _Arith(T)
    var, alpha, delta = _inputs(T, var, alpha, delta)
    with np.errstate(all="ignore"):
        out = ar.result(ar(var - ar.mul(delta, alpha)))
    ctx.assign("var", out)
    return out


@block("ApplyMomentum",
       inputs=[Input("var", TRAIN_TYPES, type_attr="T", ref=True, doc="the Variable to update"),
               Input("accum", TRAIN_TYPES, type_attr="T", ref=True, doc="its momentum Variable"),
               Input("lr", TRAIN_TYPES, type_attr="T", doc="learning rate (0-d)"),
               Input("grad", TRAIN_TYPES, type_attr="T", doc="the gradient, shaped like var"),
               Input("momentum", TRAIN_TYPES, type_attr="T", doc="momentum (0-d)")],
       attrs=[LOCKING, Attr("use_nesterov", "bool", False, doc="Nesterov momentum")],
       outputs=[Output("out", "T")],
       shape=_update_shape("out", slots=("accum",), scalars=("lr", "momentum")), context=True)
def apply_momentum(ctx, var, accum, lr, grad, momentum, use_nesterov, T):
    """accum = accum * momentum + grad; var -= accum * lr (Nesterov: grad * lr + accum *
    momentum * lr)."""
    ar = _Arith(T)
    var, accum, lr, grad, momentum = _inputs(T, var, accum, lr, grad, momentum)
    with np.errstate(all="ignore"):
        acc = ar(ar.mul(accum, momentum) + grad)
        if use_nesterov:
            step = ar(ar.mul(grad, lr) + ar.mul(ar.mul(acc, momentum), lr))
        else:
            step = ar.mul(acc, lr)
        out = ar.result(ar(var - step))
        acc = ar.result(acc)
    ctx.assign("accum", acc)
    ctx.assign("var", out)
    return out


@block("ApplyAdam",
       inputs=[Input("var", TRAIN_TYPES, type_attr="T", ref=True, doc="the Variable to update"),
               Input("m", TRAIN_TYPES, type_attr="T", ref=True, doc="first-moment Variable"),
               Input("v", TRAIN_TYPES, type_attr="T", ref=True, doc="second-moment Variable"),
               *[Input(n, TRAIN_TYPES, type_attr="T", doc=d) for n, d in (
                   ("beta1_power", "beta1^t (0-d)"), ("beta2_power", "beta2^t (0-d)"),
                   ("lr", "learning rate (0-d)"), ("beta1", "(0-d)"), ("beta2", "(0-d)"),
                   ("epsilon", "(0-d)"))],
               Input("grad", TRAIN_TYPES, type_attr="T", doc="the gradient, shaped like var")],
       attrs=[LOCKING, Attr("use_nesterov", "bool", False, doc="Nesterov momentum")],
       outputs=[Output("out", "T")],
       shape=_update_shape("out", slots=("m", "v"), scalars=(
           "beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon")), context=True)
def apply_adam(ctx, var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad,
               use_nesterov, T):
    """Adam: m += (g - m)(1 - beta1); v += (g^2 - v)(1 - beta2); var -= m * alpha /
    (sqrt(v) + epsilon), alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t)."""
    ar = _Arith(T)
    var, m, v, b1p, b2p, lr, b1, b2, eps, g = _inputs(
        T, var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad)
    one = ar.c(1)
    with np.errstate(all="ignore"):
        alpha = ar.div(ar.mul(lr, ar.sqrt(ar(one - b2p), scalar=True), scalar=True), ar(one - b1p))
        m_new = ar(m + ar.mul(ar(g - m), ar(one - b1)))
        v_new = ar(v + ar.mul(ar(ar.mul(g, g) - v), ar(one - b2)))
        den = ar(ar.sqrt(v_new) + eps)
        if use_nesterov:
            num = ar.mul(ar(ar.mul(g, ar(one - b1)) + ar.mul(b1, m_new)), alpha)
        else:
            num = ar.mul(m_new, alpha)
        out = ar.result(ar(var - ar.div(num, den)))
        m_new, v_new = ar.result(m_new), ar.result(v_new)
    ctx.assign("m", m_new)
    ctx.assign("v", v_new)
    ctx.assign("var", out)
    return out


@block("ApplyRMSProp",
       inputs=[Input("var", TRAIN_TYPES, type_attr="T", ref=True, doc="the Variable to update"),
               Input("ms", TRAIN_TYPES, type_attr="T", ref=True, doc="mean-square Variable"),
               Input("mom", TRAIN_TYPES, type_attr="T", ref=True, doc="momentum Variable"),
               *[Input(n, TRAIN_TYPES, type_attr="T", doc="(0-d)")
                 for n in ("lr", "rho", "momentum", "epsilon")],
               Input("grad", TRAIN_TYPES, type_attr="T", doc="the gradient, shaped like var")],
       attrs=[LOCKING], outputs=[Output("out", "T")],
       shape=_update_shape("out", slots=("ms", "mom"), scalars=("lr", "rho", "momentum", "epsilon"),
                           spaced=("lr",)), context=True)
def apply_rms_prop(ctx, var, ms, mom, lr, rho, momentum, epsilon, grad, T):
    """RMSProp: ms += (g^2 - ms)(1 - rho); mom = mom * momentum + g * lr / sqrt(ms + epsilon);
    var -= mom."""
    ar = _Arith(T)
    var, ms, mom, lr, rho, momentum, eps, g = _inputs(T, var, ms, mom, lr, rho, momentum, epsilon, grad)
    with np.errstate(all="ignore"):
        ms_new = ar(ms + ar.mul(ar(ar.mul(g, g) - ms), ar(ar.c(1) - rho)))
        mom_new = ar(ar.mul(mom, momentum) + ar.div(ar.mul(g, lr), ar.sqrt(ar(ms_new + eps))))
        out = ar.result(ar(var - mom_new))
        ms_new, mom_new = ar.result(ms_new), ar.result(mom_new)
    ctx.assign("ms", ms_new)
    ctx.assign("mom", mom_new)
    ctx.assign("var", out)
    return out
