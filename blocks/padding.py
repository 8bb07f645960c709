"""Padding: Pad, PadV2, MirrorPad (REFLECT, SYMMETRIC) — exact to TF 2.21's CPU kernels."""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Attr, Input, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.shapes import fmt, fully_known as _known
from blocks._array_helpers import NO_Q16, _fill


# ----------------------------------------------------------------- Pad family

def _pad_shape_of(x_shape, p, max_rank, sep, check):
    """Kernel checks shared by Pad, PadV2 and MirrorPad; the output shape. `p` is the paddings'
    Spec (its value, when it holds one, gives the padded dims)."""
    r = None if x_shape is None else len(x_shape)
    ps = p.shape
    n = r if r is not None else (None if ps is None or len(ps) != 2 else ps[0])
    unknown = None if n is None else (None,) * n
    if r is None:
        return unknown                # the rank check comes first in TF
    if r > max_rank:
        raise OpError(f"inputs rank not in [0,{max_rank}]: {r}")
    if not _known(ps):
        return unknown
    if len(ps) != 2 or ps[1] != 2:
        raise OpError(f"paddings must be a matrix with 2 columns: {fmt(ps)}", port="paddings")
    if ps[0] != r:
        if not _known(x_shape):
            return unknown            # TF's text prints the input shape: leave it to the run
        raise OpError(f"The first dimension of paddings must be the rank of inputs{fmt(ps)}{sep}"
                      f"{fmt(x_shape)}", port="paddings")
    if p.value is None:
        return unknown
    out, undecided = [], False
    for (before, after), d in zip(np.asarray(p.value).reshape(-1, 2).tolist(), x_shape):
        if not undecided:
            undecided = check(int(before), int(after), d)
        out.append(None if d is None else int(before) + d + int(after))
    return tuple(out)


def _check_pad(before, after, d):
    if before < 0 or after < 0:
        raise OpError(f"Paddings must be non-negative: {before} {after}", port="paddings")


def _pad_shape(ctx):
    ctx.set_output("output", _pad_shape_of(ctx.shape("input"), ctx.spec("paddings"), 8, " ",
                                           _check_pad))


def _pad_v2_shape(ctx):
    ctx.set_output("output", _pad_v2_target(ctx))


def _pad_v2_target(ctx):
    x, ps = ctx.shape("input"), ctx.shape("paddings")
    # the shape checks come first: on the paddings' shape only (ctx.inputs holds no value)
    unknown = _pad_shape_of(x, ctx.inputs["paddings"], 8, " ", _check_pad)
    passed = x is not None and _known(ps) and len(ps) == 2 and ps[1] == 2 and ps[0] == len(x)
    cs = ctx.shape("constant_values")
    if not (passed and _known(cs)):
        return unknown                # the checks before the paddings' values are not all certain
    if len(cs) != 0:
        raise OpError(f"constant_values must be a scalar. Found: {fmt(cs)}", port="constant_values")
    return _pad_shape_of(x, ctx.spec("paddings"), 8, " ", _check_pad)


def _pad(input, paddings, value):
    pads = np.asarray(paddings).reshape(-1, 2).astype(np.int64)
    shape = tuple(int(b + d + a) for (b, a), d in zip(pads, input.shape))
    out = _fill(shape, value, input)
    inner = tuple(slice(int(b), int(b) + d) for (b, _), d in zip(pads, input.shape))
    out[inner + (Ellipsis,)] = input        # (a 0-d object array is copied, not nested)
    return out


@block("Pad",
       inputs=[Input("input", NO_Q16, type_attr="T"),
               Input("paddings", dt.INDEX, type_attr="Tpaddings", doc="[rank, 2]: before and after each dim")],
       outputs=[Output("output", "T")], shape=_pad_shape)
def pad(input, paddings):
    """Pad `input` with zeros (empty strings, false): paddings[d] = [before, after] for dim d."""
    return _pad(input, paddings, None)


@block("PadV2",
       inputs=[Input("input", NO_Q16, type_attr="T"),
               Input("paddings", dt.INDEX, type_attr="Tpaddings", doc="[rank, 2]: before and after each dim"),
               Input("constant_values", NO_Q16, type_attr="T", doc="0-d: the pad value")],
       outputs=[Output("output", "T")], shape=_pad_v2_shape)
def pad_v2(input, paddings, constant_values):
    """Pad `input` with the scalar `constant_values`: paddings[d] = [before, after] for dim d."""
    return _pad(input, paddings, np.asarray(constant_values)[()])


def _mirror_check(mode):
    def check(before, after, d):
        if before < 0 or after < 0:
            raise OpError(f"paddings must be non-negative: {before} {after}", port="paddings")
        if d is None:
            return True               # may fail at run time: a later error is not TF's first
        if mode == "SYMMETRIC" and not (before <= d and after <= d):
            raise OpError(f"paddings must be no greater than the dimension size: {before}, {after} "
                          f"greater than {d}", port="paddings")
        if mode == "REFLECT" and not (before < d and after < d):
            raise OpError(f"paddings must be less than the dimension size: {before}, {after} not less "
                          f"than {d}", port="paddings")
    return check


def _mirror_pad_shape(ctx):
    ctx.set_output("output", _pad_shape_of(ctx.shape("input"), ctx.spec("paddings"), 5, ", ",
                                           _mirror_check(ctx.attrs["mode"])))


@block("MirrorPad",
       inputs=[Input("input", NO_Q16, type_attr="T"),
               Input("paddings", dt.INDEX, type_attr="Tpaddings", doc="[rank, 2]: before and after each dim")],
       attrs=[Attr("mode", "string", choices=("REFLECT", "SYMMETRIC"),
                   doc="REFLECT mirrors without the edge (pad < dim); SYMMETRIC with it (pad <= dim)")],
       outputs=[Output("output", "T")], shape=_mirror_pad_shape)
def mirror_pad(input, paddings, mode):
    """Pad `input` with mirrored copies of itself: paddings[d] = [before, after] for dim d."""
    pads = np.asarray(paddings).reshape(-1, 2).tolist()
    shape = tuple(int(b) + d + int(a) for (b, a), d in zip(pads, input.shape))
    if int(np.prod(shape)) == input.size:
        return np.array(input, copy=True).reshape(shape)
    off = 1 if mode == "REFLECT" else 0
    out = input
    for k, (b, a) in enumerate(pads):
        n = input.shape[k]
        left = np.arange(int(b) - 1 + off, off - 1, -1) if b else np.zeros(0, np.int64)
        right = np.arange(n - 1 - off, n - 1 - off - int(a), -1) if a else np.zeros(0, np.int64)
        idx = np.concatenate([left, np.arange(n), right]).astype(np.int64)
        out = np.take(out, idx, axis=k)
    return np.array(out, copy=True)
