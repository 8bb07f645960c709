"""Softmax, LogSoftmax, SoftmaxCrossEntropyWithLogits, SparseSoftmaxCrossEntropyWithLogits and
L2Loss, with their gradients (TF's nn_grad.py).

The kernels' checks are in the shape functions, with TF's texts and in TF's order: softmax
needs rank >= 1; the dense cross-entropy broadcasts labels against logits (numpy rules, e.g.
[1, C] against [B, C]) to a matrix; the sparse one needs a [B, C] matrix with C > 0, [B]
labels, and every label in [0, C) (checked at the run, or statically from known labels). The
numbers are computed as TF's kernels compute them (`blocks.kernels.softmax`).
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import DECLINE, Input, Kernel, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.gradients import gradient
from blockgraph.core.shapes import fmt, fully_known

from ._shape_helpers import bcast
from .kernels import softmax as sm
from .kernels import softmax_fused

NN_T = ("float32", "float64", "bfloat16", "float16")


# ----------------------------------------------------------------------------- L2Loss

def _scalar_shape(ctx):
    ctx.set_output("output", ())


@block("L2Loss", inputs=[Input("t", NN_T, type_attr="T")], outputs=[Output("output", "T")],
       shape=_scalar_shape)
def l2_loss(t):
    """sum(t ** 2) / 2 over every element (a scalar)."""
    return sm.l2loss(t)


# ----------------------------------------------------------------------------- Softmax

def _logits_rank(shape):
    if shape is not None and len(shape) < 1:
        raise OpError(f"logits must have >= 1 dimension, got {fmt(shape)}", port="logits")


def _softmax_shape(out):
    def shape(ctx):
        s = ctx.shape("logits")
        _logits_rank(s)
        ctx.set_output(out, s)
    return shape


def _fused_softmax(logits):
    out = softmax_fused.softmax(logits)
    return DECLINE if out is None else out


@block("Softmax", inputs=[Input("logits", NN_T, type_attr="T")],
       outputs=[Output("softmax", "T")], shape=_softmax_shape("softmax"),
       kernels=[Kernel("fused", _fused_softmax, accepts=softmax_fused.accepts)])
def softmax(logits):
    """exp(logits) / sum(exp(logits)) along the last axis (shifted by the row max)."""
    return sm.softmax(logits, log=False)


@block("LogSoftmax", inputs=[Input("logits", NN_T, type_attr="T")],
       outputs=[Output("logsoftmax", "T")], shape=_softmax_shape("logsoftmax"))
def log_softmax(logits):
    """logits - log(sum(exp(logits))) along the last axis (shifted by the row max)."""
    return sm.softmax(logits, log=True)


# ----------------------------------------------------------------------------- cross-entropies

def _xent_shape_of(f, l):
    """XentOp's checks on the two shapes: the [B, C] they broadcast to, or None (unknown)."""
    if not (fully_known(f) and fully_known(l)):
        if f is not None and l is not None and len(f) == len(l) == 2:
            return tuple(a if a is not None else b for a, b in zip(f, l))
        return None
    shape = tuple(f)
    if tuple(f) != tuple(l):
        out = bcast(list(f), list(l))
        if out is None:
            raise OpError(f"logits and labels must be broadcastable: logits_size={fmt(f)} "
                          f"labels_size={fmt(l)}", port="labels")
        shape = tuple(out)
    if len(shape) != 2:
        raise OpError("logits and labels must be either 2-dimensional, or broadcasted to be "
                      "2-dimensional", port="features")
    return shape


def _xent_shape(ctx):
    s = _xent_shape_of(ctx.shape("features"), ctx.shape("labels"))
    ctx.set_output("loss", None if s is None else s[:1])
    ctx.set_output("backprop", None if s is None else s)


@block("SoftmaxCrossEntropyWithLogits",
       inputs=[Input("features", NN_T, type_attr="T", doc="logits [B, C] (broadcastable)"),
               Input("labels", NN_T, type_attr="T", doc="label distributions (broadcastable)")],
       outputs=[Output("loss", "T", doc="[B]"), Output("backprop", "T", doc="[B, C]")],
       shape=_xent_shape)
def softmax_cross_entropy_with_logits(features, labels):
    """Cross-entropy of softmax(features) against `labels` per row, and its gradient."""
    shape = _xent_shape_of(features.shape, labels.shape)
    f = np.broadcast_to(features, shape)
    lab = np.broadcast_to(labels, shape)
    return sm.xent(f, lab)


def _sparse_checks(f, l, labels=None):
    if f is not None and len(f) != 2:
        raise OpError(f"logits must be 2-D, but got shape {fmt(f)}", port="features")
    if l is not None and len(l) != 1:
        raise OpError(f"labels must be 1-D, but got shape {fmt(l)}", port="labels")
    if f is None or l is None:
        return
    if f[0] is not None and l[0] is not None and f[0] != l[0]:
        raise OpError(f"logits and labels must have the same first dimension, got logits shape "
                      f"{fmt(f)} and labels shape {fmt(l)}", port="labels")
    if f[1] == 0:
        raise OpError(f"Must have at least one class, but got logits shape {fmt(f)}",
                      port="features")
    if labels is not None and f[0] != 0 and f[1] is not None and np.size(labels):
        lo, hi = int(np.min(labels)), int(np.max(labels))
        if lo < 0 or hi >= f[1]:
            values = " ".join(str(int(v)) for v in np.asarray(labels).reshape(-1))
            raise OpError(f"Received a label value of {lo if lo < 0 else hi} which is outside "
                          f"the valid range of [0, {f[1]}).  Label values: {values}",
                          port="labels")


def _sparse_shape(ctx):
    f, l = ctx.shape("features"), ctx.shape("labels")
    _sparse_checks(f, l, ctx.value("labels"))
    b = f[0] if f is not None and f[0] is not None else (l[0] if l is not None else None)
    ctx.set_output("loss", (b,))
    ctx.set_output("backprop", (b, None if f is None else f[1]))


@block("SparseSoftmaxCrossEntropyWithLogits",
       inputs=[Input("features", NN_T, type_attr="T", doc="logits [B, C]"),
               Input("labels", dt.INDEX, type_attr="Tlabels", doc="class indices [B], in [0, C)")],
       outputs=[Output("loss", "T", doc="[B]"), Output("backprop", "T", doc="[B, C]")],
       shape=_sparse_shape)
def sparse_softmax_cross_entropy_with_logits(features, labels):
    """Cross-entropy of softmax(features) against one-hot `labels` per row, and its gradient."""
    _sparse_checks(features.shape, labels.shape, labels)
    return sm.sparse_xent(features, labels)


# ----------------------------------------------------------------------------- gradients (TF's nn_grad.py)

_LAST = {"value": [-1], "dtype": "int32"}


@gradient("L2Loss")
def _l2_loss_grad(op, grad):
    return {"t": op.add("Mul", x=op.input("t"), y=grad)}


@gradient("Softmax")
def _softmax_grad(op, grad):
    """(g - sum(g * y, -1)) * y."""
    y = op.output()
    total = op.add("Sum", input=op.add("Mul", x=grad, y=y), axis=_LAST, keep_dims=True)
    return {"logits": op.add("Mul", x=op.add("Sub", x=grad, y=total), y=y)}


@gradient("LogSoftmax")
def _log_softmax_grad(op, grad):
    """g - sum(g, -1) * exp(y)."""
    softmax = op.add("Exp", x=op.output())
    total = op.add("Sum", input=grad, axis=_LAST, keep_dims=True)
    return {"logits": op.add("Sub", x=grad, y=op.add("Mul", x=total, y=softmax))}


def _broadcast_mul(op, vec, mat):
    return op.add("Mul", x=op.add("ExpandDims", input=vec, axis={"value": -1, "dtype": "int32"}),
                  y=mat)


def _xent_grad(op, labels: bool):
    """The loss gradient times `backprop`, plus (when the backprop output's own gradient is
    connected) that gradient through softmax's Jacobian, as TF's nn_grad.py writes it."""
    grad_loss, grad_grad = op.grads[0], op.grads[1]
    if grad_loss is None:       # TF's tape hands an unconnected output zeros
        grad_loss = op.add("ZerosLike", x=op.output("loss"))
    logits = op.input("features")
    grad = _broadcast_mul(op, grad_loss, op.output("backprop"))
    if grad_grad is not None:
        softmax = op.add("Softmax", logits=logits)
        col = op.add("BatchMatMulV2", x=op.add("ExpandDims", input=grad_grad,
                                                axis={"value": 1, "dtype": "int32"}),
                     y=op.add("ExpandDims", input=softmax, axis={"value": 2, "dtype": "int32"}))
        term = op.add("Mul", x=op.add("Sub", x=grad_grad, y=op.add("Squeeze", input=col, axis=[1])),
                      y=softmax)
        grad = op.add("AddV2", x=grad, y=term)
    out = {"features": grad}
    if labels:
        neg = op.add("Neg", x=op.add("LogSoftmax", logits=logits))
        out["labels"] = _broadcast_mul(op, grad_loss, neg)
    return out


@gradient("SoftmaxCrossEntropyWithLogits")
def _softmax_xent_grad(op, grad):
    return _xent_grad(op, labels=True)


@gradient("SparseSoftmaxCrossEntropyWithLogits")
def _sparse_softmax_xent_grad(op, grad):
    return _xent_grad(op, labels=False)
