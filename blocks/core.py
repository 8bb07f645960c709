"""Sources and pass-throughs: Const, Placeholder, PlaceholderWithDefault, Identity."""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core import npyio
from blockgraph.core.literals import LiteralError, to_array
from blockgraph.core.registry import AttrError, Attr, Input, OpError, Output, Spec, block
from blockgraph.core.shapes import fmt, merge, num_elements, same_shape


def load_array(path: str, key: str | None, max_bytes: int | None = None) -> np.ndarray:
    """An array from a .npy file, or from `key` of a .npz file (see `npyio.load_array`)."""
    return npyio.load_array(path, key, max_bytes)


def _prepare_const(attrs, ctx):
    """Build the Const's value once, when the page is built: literal, fill, or file."""
    dtype, shape = attrs.get("dtype"), attrs.get("shape")
    if attrs.get("file") is not None:
        if attrs.get("value") is not None:
            raise AttrError("give either 'value' or 'file', not both", attr="file")
        path = ctx.resolve_path(attrs["file"])
        try:
            arr = load_array(path, attrs.get("key"), ctx.max_bytes)
        except (OSError, ValueError) as e:
            raise AttrError(f"cannot load {attrs['file']!r}: {e}", attr="file") from None
        name = dt.from_numpy(arr.dtype)
        if arr.dtype.kind in "SU":
            arr = dt.as_array(arr, "string")
        if dtype is not None and dtype != name:
            if not (dt.to_numpy(dtype) == arr.dtype or
                    (dtype == "bfloat16" and arr.dtype.itemsize == 2 and arr.dtype.kind in "uV")):
                raise AttrError(f"file {attrs['file']!r} holds {name}, attr dtype says {dtype}", attr="dtype")
            arr = arr.view(dt.to_numpy(dtype)) if dtype == "bfloat16" else arr
            name = dtype
    else:
        if attrs.get("value") is None:
            raise AttrError("a Const needs attr 'value' (or 'file')")
        try:
            arr, name = to_array(attrs["value"], dtype)
        except (LiteralError, dt.DTypeError) as e:
            raise AttrError(f"attr 'value': {e}", attr="value") from None
    if shape is not None:
        if any(d is None for d in shape):
            raise AttrError(f"a Const shape must be fully known, got {fmt(shape)}", attr="shape")
        if arr.size == 1 and arr.ndim <= 1:
            ctx.check_bytes(shape, name, attr="shape")
            arr = np.full(shape, arr.reshape(()), dtype=arr.dtype) if name != "string" else \
                dt.as_array(np.full(shape, arr.reshape(())[()], dtype=object), "string")
        elif arr.size == num_elements(shape):
            arr = arr.reshape(shape)
        else:
            raise AttrError(f"value has {arr.size} elements, shape {fmt(shape)} needs "
                            f"{num_elements(shape)} (or give one value to fill it)", attr="value")
    arr.setflags(write=False)
    return {**attrs, "value": arr, "dtype": name}


@block("Const",
       attrs=[Attr("value", "tensor", None, doc="scalar or nested list"),
              Attr("dtype", "type", None, doc="TF dtype; inferred as tf.constant does when absent"),
              Attr("shape", "shape", None, doc="fill or reshape the value to this shape"),
              Attr("file", "path", None, doc=".npy or .npz file, relative to the page's folder"),
              Attr("key", "string", None, doc="array name inside a .npz file")],
       outputs=[Output("output", "dtype")],
       shape=lambda inputs, attrs: Spec(attrs["dtype"], attrs["value"].shape, attrs["value"]),
       prepare=_prepare_const)
def const(value):
    """A constant tensor: a literal value (filled to `shape`), or an array from a .npy/.npz file."""
    return value


def _feed_array(feed, dtype: str, shape) -> np.ndarray:
    """Check a fed array against the placeholder's dtype and shape (bfloat16 as uint16 bits too)."""
    arr = np.asarray(feed)
    if dtype == "string" and arr.dtype.kind in "SUO":
        arr = dt.as_array(arr, "string")
    elif dtype == "bfloat16" and arr.dtype.itemsize == 2 and arr.dtype.kind in "uV":
        arr = arr.view(dt.to_numpy("bfloat16"))
    want = dt.to_numpy(dtype)
    if arr.dtype != want:
        got = dt.from_numpy(arr.dtype) if arr.dtype.kind not in "V" else str(arr.dtype)
        raise OpError(f"fed value has dtype {got}, the placeholder expects {dtype}")
    if shape is not None:
        try:
            merge(tuple(shape), arr.shape)
        except OpError:
            raise OpError(f"fed value has shape {fmt(arr.shape)}, the placeholder expects "
                          f"{fmt(shape)}") from None
    return arr


@block("Placeholder",
       attrs=[Attr("dtype", "type", doc="dtype of the fed tensor"),
              Attr("shape", "shape", None, doc="dims of the fed tensor (null for unknown)")],
       outputs=[Output("output", "dtype")],
       shape=lambda inputs, attrs: attrs["shape"], feedable=True)
def placeholder(feed, dtype, shape):
    """A tensor fed at run time by the block's id (`--feed ID=FILE.npy` or `--feeds FILE.npz`)."""
    if feed is None:
        raise OpError("no value was fed for this placeholder (use --feed ID=FILE.npy or --feeds FILE.npz)")
    return _feed_array(feed, dtype, shape)


def _with_default_shape(inputs, attrs):
    """The attr shape refined by the default's; TF (eager) does not check that they agree, so a
    disagreement only leaves the shape unknown before the run."""
    try:
        return merge(attrs["shape"], inputs["input"].shape)
    except OpError:
        return None


@block("PlaceholderWithDefault",
       inputs=[Input("input", type_attr="dtype", doc="value used when nothing is fed")],
       attrs=[Attr("shape", "shape", doc="dims a fed tensor must have (null for unknown)")],
       outputs=[Output("output", "dtype")], shape=_with_default_shape, feedable=True)
def placeholder_with_default(input, feed, dtype, shape):
    """The fed tensor when one is fed, else its `input`."""
    return input if feed is None else _feed_array(feed, dtype, shape)


@block("Identity", inputs=[Input("input", type_attr="T")], outputs=[Output("output", "T")],
       shape=same_shape("input"))
def identity(input):
    """Return the input tensor unchanged."""
    return input
