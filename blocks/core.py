"""Sources and pass-throughs: Const, Placeholder, PlaceholderWithDefault, Identity."""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core import npyio
from blockgraph.core.blockdef import Attr, Input, Output, block
from blockgraph.core.errors import AttrError, LiteralError, OpError
from blockgraph.core.literals import to_array
from blockgraph.core.shapes import fmt, join, merge, num_elements


def load_array(path: str, key: str | None, max_bytes: int | None = None) -> np.ndarray:
    """An array from a .npy file, or from `key` of a .npz file (see `npyio.load_array`)."""
    return npyio.load_array(path, key, max_bytes)


def _prepare_const(attrs, ctx):
    """Build the Const's value once, when the page is built: literal, fill, or file."""
    if attrs.get("file") is not None and attrs.get("value") is not None:
        raise AttrError("give either 'value' or 'file', not both", attr="file")
    if attrs.get("file") is None and attrs.get("value") is None:
        raise AttrError("a Const needs attr 'value' (or 'file')")
    arr, name = tensor_value(attrs, dtype=attrs.get("dtype"), shape=attrs.get("shape"), ctx=ctx)
    return {**attrs, "value": arr, "dtype": name}


def tensor_value(spec: dict, dtype=None, shape=None, *, ctx, where=None):
    """A read-only tensor from `spec` ({value} a literal, or {file, key} a .npy/.npz beside the
    page) with an optional dtype and a shape to fill (one value) or reshape to: (array, TF dtype).
    AttrError names the attr at fault, or `where` (e.g. a Variable's `init`) when given."""
    def bad(message, attr):
        return AttrError(message if where is None else f"{where}: {message}", attr=where or attr)

    if spec.get("file") is not None:
        path = ctx.resolve_path(spec["file"])
        try:
            arr = load_array(path, spec.get("key"), ctx.max_bytes)
        except (OSError, ValueError) as e:
            raise bad(f"cannot load {spec['file']!r}: {e}", "file") from None
        name = dt.from_numpy(arr.dtype)
        if arr.dtype.kind in "SU":
            arr = dt.as_array(arr, "string")
        if dtype is not None and dtype != name:
            if not (dt.to_numpy(dtype) == arr.dtype or
                    (dtype == "bfloat16" and arr.dtype.itemsize == 2 and arr.dtype.kind in "uV")):
                raise bad(f"file {spec['file']!r} holds {name}, attr dtype says {dtype}", "dtype")
            arr = arr.view(dt.to_numpy(dtype)) if dtype == "bfloat16" else arr
            name = dtype
    else:
        try:
            arr, name = to_array(spec.get("value"), dtype)
        except (LiteralError, dt.DTypeError) as e:
            raise bad(f"attr 'value': {e}" if where is None else str(e), "value") from None
    if shape is not None:
        if any(d is None for d in shape):
            raise bad(f"a Const shape must be fully known, got {fmt(shape)}", "shape")
        if arr.size == 1 and arr.ndim <= 1:
            ctx.check_bytes(shape, name, attr=where or "shape")
            arr = np.full(shape, arr.reshape(()), dtype=arr.dtype) if name != "string" else \
                dt.as_array(np.full(shape, arr.reshape(())[()], dtype=object), "string")
        elif arr.size == num_elements(shape):
            arr = arr.reshape(shape)
        else:
            raise bad(f"value has {arr.size} elements, shape {fmt(shape)} needs "
                      f"{num_elements(shape)} (or give one value to fill it)", "value")
    arr.setflags(write=False)
    return arr, name


def _const_shape(ctx):
    value = ctx.attrs["value"]
    ctx.set_output("output", value.shape, dtype=ctx.attrs["dtype"], value=value)


@block("Const",
       attrs=[Attr("value", "tensor", None, doc="scalar or nested list"),
              Attr("dtype", "type", None, doc="TF dtype; inferred as tf.constant does when absent"),
              Attr("shape", "shape", None, doc="fill or reshape the value to this shape"),
              Attr("file", "path", None, doc=".npy or .npz file, relative to the page's folder"),
              Attr("key", "string", None, doc="array name inside a .npz file")],
       outputs=[Output("output", "dtype")], shape=_const_shape, prepare=_prepare_const)
def const(value):
    """A constant tensor: a literal value (filled to `shape`), or an array from a .npy/.npz file."""
    return value


def _feed_array(feed, dtype: str) -> np.ndarray:
    """A fed array checked against the placeholder's dtype (bfloat16 as uint16 bits too); its
    shape was checked by the shape function."""
    arr = np.asarray(feed)
    if dtype == "string" and arr.dtype.kind in "SUO":
        arr = dt.as_array(arr, "string")
    elif dtype == "bfloat16" and arr.dtype.itemsize == 2 and arr.dtype.kind in "uV":
        arr = arr.view(dt.to_numpy("bfloat16"))
    want = dt.to_numpy(dtype)
    if arr.dtype != want:
        got = dt.from_numpy(arr.dtype) if arr.dtype.kind not in "V" else str(arr.dtype)
        raise OpError(f"fed value has dtype {got}, the placeholder expects {dtype}")
    return arr


def _fed_shape(ctx, declared):
    """The shape a fed tensor gives the output: the declared shape refined by the fed one (before
    the run `ctx.feed` has an unknown shape: anything compatible may be fed)."""
    try:
        return merge(declared, ctx.feed.shape)
    except OpError:
        raise OpError(f"fed value has shape {fmt(ctx.feed.shape)}, the placeholder expects "
                      f"{fmt(declared)}") from None


def _placeholder_shape(ctx):
    ctx.set_output("output", ctx.attrs["shape"] if ctx.feed is None else
                   _fed_shape(ctx, ctx.attrs["shape"]))


@block("Placeholder",
       attrs=[Attr("dtype", "type", doc="dtype of the fed tensor"),
              Attr("shape", "shape", None, doc="dims of the fed tensor (null for unknown)")],
       outputs=[Output("output", "dtype")], shape=_placeholder_shape, feedable=True, context=True)
def placeholder(ctx, dtype):
    """A tensor fed at run time by the block's id (`--feed ID=FILE.npy` or `--feeds FILE.npz`)."""
    if ctx.feed is None:
        raise OpError("no value was fed for this placeholder")
    return _feed_array(ctx.feed, dtype)


def _with_default_shape(ctx):
    """Fed: the fed tensor's shape, which must fit the attr. Not fed at run time: the default's
    (TF eager does not check it against the attr). Before the run either may come, so the shape
    both fit: dims they agree on, unknown where they differ."""
    declared, default = ctx.attrs["shape"], ctx.shape("input")
    if ctx.feed is None:
        ctx.set_output("output", default)
    elif ctx.feed.shape is not None:
        ctx.set_output("output", _fed_shape(ctx, declared))
    else:
        ctx.set_output("output", join(declared, default))


@block("PlaceholderWithDefault",
       inputs=[Input("input", type_attr="dtype", doc="value used when nothing is fed")],
       attrs=[Attr("shape", "shape", doc="dims a fed tensor must have (null for unknown)")],
       outputs=[Output("output", "dtype")], shape=_with_default_shape, feedable=True, context=True)
def placeholder_with_default(ctx, input, dtype):
    """The fed tensor when one is fed, else its `input`."""
    return input if ctx.feed is None else _feed_array(ctx.feed, dtype)


def pass_through(port: str):
    """Shape function: the output is input `port` unchanged (shape, and value when known)."""
    def shape(ctx):
        ctx.set_output("output", ctx.shape(port), value=ctx.fold_value(port))
    shape.__doc__ = f"output = input '{port}' (shape and known value)"
    return shape


@block("Identity", inputs=[Input("input", type_attr="T")], outputs=[Output("output", "T")],
       shape=pass_through("input"))
def identity(input):
    """Return the input tensor unchanged."""
    return input
