"""Pass-throughs (identities in a forward run): IdentityN, StopGradient, PreventGradient,
DebugGradientIdentity, Snapshot; and ImmutableConst, a constant memory-mapped from a .npy file.

(Identity itself is in `core.py`.) Known input values are passed on, so shape inference sees
through these blocks as TF's constant folding does.
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core import npyio
from blockgraph.core.blockdef import Attr, Input, Output, block
from blockgraph.core.errors import AttrError, OpError
from blockgraph.core.shapes import fmt
from blocks.core import pass_through

_SNAPSHOT_TYPES = tuple(d for d in dt.ALL if d != "string" and d not in dt.QUANTIZED)
_pass_on = pass_through("input")      # shape and known value


# ----------------------------------------------------------------------------- identities

def _identity_n_shape(ctx):
    shapes = ctx.shape("input")
    if not shapes:
        raise OpError("Length for attr 'T' of 0 must be at least minimum 1", port="input")
    ctx.set_output("output", shapes, value=[ctx.fold_value("input", i) for i in range(len(shapes))])


@block("IdentityN", inputs=[Input("input", dt.ALL, type_list_attr="T", doc="tensors of any dtypes")],
       outputs=[Output("output", "T", list=True)], shape=_identity_n_shape)
def identity_n(input):
    """Return the list of input tensors unchanged (each keeps its own dtype)."""
    return list(input)


@block("StopGradient", inputs=[Input("input", dt.ALL, type_attr="T")],
       outputs=[Output("output", "T")], shape=_pass_on)
def stop_gradient(input):
    """Return the input unchanged (it only blocks gradients, which a forward run has none of)."""
    return input


@block("PreventGradient", inputs=[Input("input", dt.ALL, type_attr="T")],
       attrs=[Attr("message", "string", "", doc="text of the error a gradient through here raises")],
       outputs=[Output("output", "T")], shape=_pass_on)
def prevent_gradient(input):
    """Return the input unchanged (taking a gradient through it is an error in TF)."""
    return input


@block("DebugGradientIdentity", inputs=[Input("input", dt.ALL, type_attr="T")],
       outputs=[Output("output", "T")], shape=_pass_on)
def debug_gradient_identity(input):
    """Return the input unchanged (a hook point for gradient debugging in TF)."""
    return input


@block("Snapshot", inputs=[Input("input", _SNAPSHOT_TYPES, type_attr="T")],
       outputs=[Output("output", "T")], shape=_pass_on)
def snapshot(input):
    """A copy of the input tensor."""
    return input.copy()


# ----------------------------------------------------------------------------- ImmutableConst

_MMAP_TYPES = tuple(d for d in dt.ALL if d != "string")


def _npy_header(path):
    """(numpy dtype, shape, fortran_order) from a .npy header, without reading the data."""
    h = npyio.npy_header(path)
    return h.dtype, h.shape, h.fortran


def _region_dtype_problem(found: np.dtype, want: str):
    """Why a file's dtype cannot hold TF dtype `want` (None when it can)."""
    need = dt.to_numpy(want)
    if found == need:
        return None
    if want == "bfloat16" and found.itemsize == 2 and found.kind in "uV" and found.isnative:
        return None
    if found.hasobject:
        return "it holds Python objects (ImmutableConst needs plain numbers)"
    if found.kind in "biufc" and not found.isnative:
        return f"it holds {found.str} (non-native byte order); save it as {need.str}"
    try:
        name = dt.from_numpy(found)
    except dt.DTypeError:
        name = str(found)
    hint = " (or uint16 bit patterns)" if want == "bfloat16" else ""
    return f"it holds {name}, attr dtype is {want}: save it as {need.name}{hint}"


def _check_region(where, found_dtype, found_shape, dtype, shape, error):
    why = _region_dtype_problem(found_dtype, dtype)
    if why:
        raise error(f"memory region {where}: {why}")
    if tuple(found_shape) != tuple(shape):
        raise error(f"memory region {where} has shape {fmt(found_shape)}, attr shape is {fmt(shape)}")


def _prepare_immutable(attrs, ctx):
    """Resolve the file against the page's folder and check its header against dtype/shape."""
    name, shape = attrs["memory_region_name"], attrs["shape"]
    if shape is None or any(d is None for d in shape):
        raise AttrError(f"ImmutableConst needs a fully known shape, got {fmt(shape)}", attr="shape")
    if not name.endswith(".npy"):
        raise AttrError(f"memory_region_name {name!r}: must name a .npy file", attr="memory_region_name")
    path = ctx.resolve_path(name)
    try:
        found, found_shape, _ = _npy_header(path)
    except (OSError, ValueError) as e:
        raise AttrError(f"cannot read {name!r} as a .npy file: {e}", attr="memory_region_name") from None
    _check_region(repr(name), found, found_shape, attrs["dtype"], shape,
                  lambda m: AttrError(m, attr="memory_region_name"))
    return {**attrs, "memory_region_name": path}


def _immutable_const_shape(ctx):
    ctx.set_output("tensor", ctx.attrs["shape"])


@block("ImmutableConst",
       attrs=[Attr("dtype", "type", choices=_MMAP_TYPES, doc="dtype of the tensor in the file"),
              Attr("shape", "shape", doc="its shape (fully known)"),
              Attr("memory_region_name", "path", doc=".npy file, relative to the page's folder")],
       outputs=[Output("tensor", "dtype")],
       shape=_immutable_const_shape, prepare=_prepare_immutable)
def immutable_const(dtype, shape, memory_region_name):
    """A constant tensor memory-mapped (read-only) from a .npy file, checked against dtype and shape."""
    try:
        arr = np.load(memory_region_name, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as e:
        raise OpError(f"cannot map memory region {memory_region_name!r}: {e}") from None
    _check_region(repr(memory_region_name), arr.dtype, arr.shape, dtype, shape, OpError)
    if dtype == "bfloat16" and arr.dtype != dt.to_numpy("bfloat16"):
        arr = arr.view(dt.to_numpy("bfloat16"))
    return arr
