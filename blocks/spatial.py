"""Space/batch/depth rearrangements and image patches.

SpaceToBatch(ND), BatchToSpace(ND), SpaceToDepth, DepthToSpace and ExtractImagePatches, as TF
2.21's CPU kernels compute them (OneHot and EditDistance are in `blocks/encoding.py`). Shape functions carry the kernels' checks in
the kernels' order; with partial static knowledge they only raise an error once every check the
kernel makes before it is known to pass (so the text is the one TF would give at run time).
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core import registry
from blockgraph.core.binding import kernel_not_found
from blockgraph.core.blockdef import Attr, Input, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.shapes import fmt, fully_known as _known, int_list, known_ints as _ints

_S2B_TYPES = dt.REALS                                     # CPU kernels: real number types
_VALUE_TYPES = dt.REALS + ("bool",) + dt.COMPLEX + ("string",)   # every non-quantized type
_DEPTH_TYPES = _VALUE_TYPES
_S2D_TYPES = _VALUE_TYPES + ("qint8",)
_MAX_BLOCK_DIMS = 4                                       # kMaxSpaceToBatchBlockDims


# ----------------------------------------------------------------- SpaceToBatch / BatchToSpace

def _space_batch_shape(x, bs_spec, pad_spec, to_batch, pad_name, *, block_dims=None, bs_value=None):
    """Output shape of SpaceToBatchND (to_batch) / BatchToSpaceND with the kernels' checks.

    `x` is the input shape; `bs_spec` the block_shape Spec (or None with `block_dims`/`bs_value`
    given, for the v1 ops); `pad_spec` the paddings/crops Spec.
    """
    sure = True                       # every earlier kernel check is known to pass
    if bs_spec is not None:
        bs_shape = bs_spec.shape
        if bs_shape is None:
            return None if x is None else (None,) * len(x)
        if len(bs_shape) != 1:
            raise OpError(f"block_shape rank should be 1 instead of {len(bs_shape)}", port="block_shape")
        m = bs_shape[0]
        bs = _ints(bs_spec)
        if m is None:
            return None if x is None else (None,) * len(x)
    else:
        m, bs = block_dims, bs_value
    if x is None:
        return None
    if len(x) < m + 1:
        raise OpError(f"input rank should be >= {m + 1} instead of {len(x)}", port="input")
    out = [None] * (m + 1) + list(x[m + 1:])
    ps = pad_spec.shape
    if not _known(ps):
        sure = False
    elif len(ps) != 2 or ps[0] != m or ps[1] != 2:
        raise OpError(f"{pad_name} should have shape [{m}, 2] instead of {fmt(ps)}", port=pad_name)
    pads = _ints(pad_spec)
    if bs is None:
        sure = False
    else:
        prod = 1
        for i, b in enumerate(bs):
            if to_batch and b < 1 and sure:
                raise OpError(f"All values in block_shape must be positive, got value, {b} at index {i}.",
                              port="block_shape")
            prod *= b
        if sure and prod <= 0:
            raise OpError(f"Product of block sizes must be positive, got {prod}", port="block_shape")
        if x[0] is not None:
            if to_batch:
                out[0] = x[0] * prod
            elif prod > 0:
                if sure and x[0] % prod:
                    raise OpError(f"Input batch dimension ({x[0]}) is not divisible by product of block "
                                  f"sizes ({prod})", port="input")
                out[0] = x[0] // prod
    if m == 0:
        out[0] = x[0]
        return tuple(out)
    if bs is None or pads is None:
        return tuple(out)
    lo = 0
    while lo < m and pads[2 * lo] == 0 and pads[2 * lo + 1] == 0 and bs[lo] == 1:
        lo += 1
    hi = m
    while hi > lo and pads[2 * hi - 2] == 0 and pads[2 * hi - 1] == 0 and bs[hi - 1] == 1:
        hi -= 1
    if sure and hi - lo > _MAX_BLOCK_DIMS:
        raise OpError(f"Maximum number of non-combined block dimensions is {hi - lo} but must not "
                      f"exceed {_MAX_BLOCK_DIMS}", port="block_shape")
    for i in range(m):
        b, p0, p1 = bs[i], pads[2 * i], pads[2 * i + 1]
        size = x[i + 1]
        if not lo <= i < hi:
            out[i + 1] = size
            continue
        if p0 < 0 or p1 < 0:
            if sure:
                raise OpError("Paddings must be non-negative" if to_batch else "Crops must be non-negative",
                              port=pad_name)
            continue
        if size is None or (to_batch and b < 1):   # (b < 1 here: the run fails at an earlier check)
            sure = False
            continue
        if to_batch:
            padded = size + p0 + p1
            if padded % b:
                if sure:
                    raise OpError(f"padded_shape[{i}]={padded} is not divisible by block_shape[{i}]={b}",
                                  port="input")
                continue
            out[i + 1] = padded // b
        else:
            cropped = size * b - p0 - p1
            if cropped < 0:
                if sure:
                    raise OpError(f"cropped_shape[{i}]={cropped} must be non-negative", port=pad_name)
                continue
            out[i + 1] = cropped
    return tuple(out)


def _space_to_batch(x, bs, pads):
    bs = [int(b) for b in np.asarray(bs).reshape(-1)]
    pads = np.asarray(pads, dtype=np.int64).reshape(-1, 2)
    m = len(bs)
    if m == 0 or (all(b == 1 for b in bs) and not pads.any()):
        return x
    spatial = [x.shape[i + 1] + int(pads[i, 0]) + int(pads[i, 1]) for i in range(m)]
    rest = list(x.shape[m + 1:])
    padded = np.zeros([x.shape[0]] + spatial + rest, dtype=x.dtype)
    padded[(slice(None),) + tuple(slice(int(pads[i, 0]), int(pads[i, 0]) + x.shape[i + 1])
                                  for i in range(m))] = x
    split = [x.shape[0]]
    for s, b in zip(spatial, bs):
        split += [s // b, b]
    y = padded.reshape(split + rest)
    perm = [2 + 2 * i for i in range(m)] + [0] + [1 + 2 * i for i in range(m)] + \
        list(range(1 + 2 * m, 1 + 2 * m + len(rest)))
    return np.ascontiguousarray(y.transpose(perm)).reshape(
        [x.shape[0] * int(np.prod(bs))] + [s // b for s, b in zip(spatial, bs)] + rest)


def _batch_to_space(x, bs, crops, out_shape):
    bs = [int(b) for b in np.asarray(bs).reshape(-1)]
    crops = np.asarray(crops, dtype=np.int64).reshape(-1, 2)
    m = len(bs)
    if m == 0 or (all(b == 1 for b in bs) and not crops.any()):
        return x
    if any(b < 1 for b in bs) or 0 in out_shape:
        return np.zeros(out_shape, dtype=x.dtype)
    batch = x.shape[0] // int(np.prod(bs))
    spatial = list(x.shape[1:m + 1])
    rest = list(x.shape[m + 1:])
    y = x.reshape(bs + [batch] + spatial + rest)
    perm = [m]
    for i in range(m):
        perm += [m + 1 + i, i]
    perm += list(range(2 * m + 1, 2 * m + 1 + len(rest)))
    y = y.transpose(perm).reshape([batch] + [s * b for s, b in zip(spatial, bs)] + rest)
    idx = (slice(None),) + tuple(slice(int(crops[i, 0]), int(crops[i, 0]) + out_shape[i + 1])
                                 for i in range(m))
    return np.ascontiguousarray(y[idx])


def _s2b_nd_shape(ctx):
    ctx.set_output("output", _space_batch_shape(ctx.shape("input"), ctx.spec("block_shape"),
                                                ctx.spec("paddings"), True, "paddings"))


def _b2s_nd_shape(ctx):
    ctx.set_output("output", _space_batch_shape(ctx.shape("input"), ctx.spec("block_shape"),
                                                ctx.spec("crops"), False, "crops"))


def _rank4(x, message):
    if x is not None and len(x) != 4:
        raise OpError(message.format(len(x)), port="input")


def _s2b_shape(ctx):
    x = ctx.shape("input")
    _rank4(x, "Input rank should be: 4instead of: {}")
    b = ctx.attrs["block_size"]
    ctx.set_output("output", _space_batch_shape(x, None, ctx.spec("paddings"), True, "paddings",
                                                block_dims=2, bs_value=[b, b]))


def _b2s_shape(ctx):
    x = ctx.shape("input")
    _rank4(x, "Input rank should be: 4instead of: {}")
    b = ctx.attrs["block_size"]
    ctx.set_output("output", _space_batch_shape(x, None, ctx.spec("crops"), False, "crops",
                                                block_dims=2, bs_value=[b, b]))


_BLOCK_SIZE = Attr("block_size", "int", min=2, doc="size of the spatial block (>= 2)",
                   message="Value for attr '{name}' of {value} must be at least minimum 2")


@block("SpaceToBatchND",
       inputs=[Input("input", _S2B_TYPES, type_attr="T"),
               Input("block_shape", dt.INDEX, type_attr="Tblock_shape", doc="1-D [M]: block size per spatial dim"),
               Input("paddings", dt.INDEX, type_attr="Tpaddings", doc="[M, 2] zero padding per spatial dim")],
       outputs=[Output("output", "T")], shape=_s2b_nd_shape)
def space_to_batch_nd(input, block_shape, paddings):
    """Zero-pad the M spatial dims, cut them into block_shape blocks and move the blocks into the batch."""
    return _space_to_batch(input, block_shape, paddings)


@block("BatchToSpaceND",
       inputs=[Input("input", _S2B_TYPES, type_attr="T"),
               Input("block_shape", dt.INDEX, type_attr="Tblock_shape", doc="1-D [M]: block size per spatial dim"),
               Input("crops", dt.INDEX, type_attr="Tcrops", doc="[M, 2] amount cropped per spatial dim")],
       outputs=[Output("output", "T")], shape=_b2s_nd_shape)
def batch_to_space_nd(input, block_shape, crops):
    """Move batch blocks back into the M spatial dims (inverse of SpaceToBatchND), then crop."""
    out = _space_batch_shape(input.shape, None, _Value(crops), False, "crops",
                             block_dims=np.size(block_shape), bs_value=int_list(block_shape))
    return _batch_to_space(input, block_shape, crops, out)


@block("SpaceToBatch",
       inputs=[Input("input", _S2B_TYPES, type_attr="T", doc="4-D [batch, height, width, depth]"),
               Input("paddings", dt.INDEX, type_attr="Tpaddings", doc="[2, 2] zero padding of height, width")],
       attrs=[_BLOCK_SIZE], outputs=[Output("output", "T")], shape=_s2b_shape)
def space_to_batch(input, paddings, block_size):
    """SpaceToBatchND of a 4-D NHWC tensor with a square block_size block on height and width."""
    return _space_to_batch(input, [block_size, block_size], paddings)


@block("BatchToSpace",
       inputs=[Input("input", _S2B_TYPES, type_attr="T", doc="4-D [batch, height, width, depth]"),
               Input("crops", dt.INDEX, type_attr="Tidx", doc="[2, 2] amount cropped from height, width")],
       attrs=[_BLOCK_SIZE], outputs=[Output("output", "T")], shape=_b2s_shape)
def batch_to_space(input, crops, block_size):
    """BatchToSpaceND of a 4-D NHWC tensor with a square block_size block on height and width."""
    out = _space_batch_shape(input.shape, None, _Value(crops), False, "crops", block_dims=2,
                             bs_value=[block_size, block_size])
    return _batch_to_space(input, [block_size, block_size], crops, out)


class _Value:
    """A minimal Spec stand-in for a concrete array (shape and value known)."""

    def __init__(self, arr):
        self.value = np.asarray(arr)
        self.shape = self.value.shape


# ----------------------------------------------------------------- SpaceToDepth / DepthToSpace

_DATA_FORMAT = Attr("data_format", "string", "NHWC", choices=("NHWC", "NCHW", "NCHW_VECT_C"),
                    doc="layout of the input; the CPU kernels support NHWC only")


def _nhwc_only(op, attrs):
    """TF's CPU kernels register data_format NHWC only: another is a node without a kernel."""
    if attrs["data_format"] != "NHWC":
        raise kernel_not_found(registry.get(op), attrs)


def _s2d_shape(ctx):
    _nhwc_only("SpaceToDepth", ctx.attrs)
    x = ctx.shape("input")
    _rank4(x, "Input rank should be 4 instead of {}")
    if x is None:
        ctx.set_output("output", (None,) * 4)
        return
    b = ctx.attrs["block_size"]
    n, h, w, c = x
    if h is not None and w is not None and (h % b or w % b):
        raise OpError(f"Image width {w} and height {h} should be divisible by block_size: {b}", port="input")
    ctx.set_output("output", (n, None if h is None or h % b else h // b,
                              None if w is None or w % b else w // b,
                              None if c is None else c * b * b))


def _d2s_shape(ctx):
    _nhwc_only("DepthToSpace", ctx.attrs)
    x = ctx.shape("input")
    _rank4(x, "Input rank should be: 4 instead of: {}")
    if x is None:
        ctx.set_output("output", (None,) * 4)
        return
    b = ctx.attrs["block_size"]
    n, h, w, c = x
    if c is not None and c % (b * b):
        raise OpError(f"Input depth dimension {c} should be divisible by: {b * b}", port="input")
    ctx.set_output("output", (n, None if h is None else h * b, None if w is None else w * b,
                              None if c is None else c // (b * b)))


@block("SpaceToDepth",
       inputs=[Input("input", _S2D_TYPES, type_attr="T", doc="4-D NHWC tensor")],
       attrs=[_BLOCK_SIZE, _DATA_FORMAT], outputs=[Output("output", "T")], shape=_s2d_shape)
def space_to_depth(input, block_size):
    """Move block_size x block_size spatial blocks into the depth dim (NHWC)."""
    n, h, w, c = input.shape
    b = block_size
    y = input.reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5)
    return np.ascontiguousarray(y).reshape(n, h // b, w // b, c * b * b)


@block("DepthToSpace",
       inputs=[Input("input", _DEPTH_TYPES, type_attr="T", doc="4-D NHWC tensor")],
       attrs=[_BLOCK_SIZE, _DATA_FORMAT], outputs=[Output("output", "T")], shape=_d2s_shape)
def depth_to_space(input, block_size):
    """Move depth into block_size x block_size spatial blocks (NHWC): the inverse of SpaceToDepth."""
    n, h, w, c = input.shape
    b = block_size
    y = input.reshape(n, h, w, b, b, c // (b * b)).transpose(0, 1, 3, 2, 4, 5)
    return np.ascontiguousarray(y).reshape(n, h * b, w * b, c // (b * b))


# ----------------------------------------------------------------- ExtractImagePatches

def _check_vec4(attrs):
    for name in ("ksizes", "strides", "rates"):
        v = attrs[name]
        if len(v) < 4:
            raise OpError(f"Length for attr '{name}' of {len(v)} must be at least minimum 4")
    for name in ("ksizes", "strides", "rates"):
        v = attrs[name]
        if v[0] != 1 or v[3] != 1:
            raise OpError(f"Only support {name} across space.")
        if v[1] < 1 or v[2] < 1:
            raise OpError(f"{name} is out of range.")


def _windowed(size, k_eff, stride, padding):
    """(output size, padding before) as TF's GetWindowedOutputSize, or OpError."""
    if padding == "VALID":
        num = size - k_eff + stride
        out, before = (abs(num) // stride) * (1 if num >= 0 else -1), 0
    else:
        out = (size + stride - 1) // stride
        before = max(0, (out - 1) * stride + k_eff - size) // 2
    if out < 0:
        raise OpError(f"Computed output size would be negative: {out} [input_size: {size}, "
                      f"effective_filter_size: {k_eff}, stride: {stride}]", port="images")
    return out, before


def _patch_geometry(attrs):
    k, s, r = attrs["ksizes"], attrs["strides"], attrs["rates"]
    return [(k[i], s[i], r[i], k[i] + (k[i] - 1) * (r[i] - 1)) for i in (1, 2)]


def _eip_shape(ctx):
    ctx.set_output("patches", _eip_target(ctx.shape("images"), ctx.attrs))


def _eip_target(x, attrs):
    """ExtractImagePatches' checks and output shape, from the images' shape `x`."""
    _check_vec4(attrs)
    if x is not None and len(x) != 4:
        if not _known(x):
            return None
        raise OpError(f"input must be 4-dimensional{fmt(x)}", port="images")
    if x is None:
        x = (None,) * 4
    (kr, sr, _, er), (kc, sc, _, ec) = _patch_geometry(attrs)
    rows = None if x[1] is None else _windowed(x[1], er, sr, attrs["padding"])[0]
    cols = None
    if x[2] is not None:
        try:
            cols = _windowed(x[2], ec, sc, attrs["padding"])[0]
        except OpError:
            if x[1] is not None:     # the kernel checks rows first: only then is this error certain
                raise
    return (x[0], rows, cols, None if x[3] is None else kr * kc * x[3])


@block("ExtractImagePatches",
       inputs=[Input("images", dt.REALS + dt.COMPLEX, type_attr="T", doc="4-D [batch, rows, cols, depth]")],
       attrs=[Attr("ksizes", "list(int)", doc="[1, ksize_rows, ksize_cols, 1]"),
              Attr("strides", "list(int)", doc="[1, stride_rows, stride_cols, 1]"),
              Attr("rates", "list(int)", doc="[1, rate_rows, rate_cols, 1]: dilation of the patch"),
              Attr("padding", "string", choices=("SAME", "VALID"), doc="SAME or VALID")],
       outputs=[Output("patches", "T")], shape=_eip_shape)
def extract_image_patches(images, ksizes, strides, rates, padding):
    """Extract patches (depth ordered kernel row, kernel col, channel) from NHWC images; SAME pads with 0."""
    n, h, w, c = images.shape
    (kr, sr, rr, er), (kc, sc, rc, ec) = _patch_geometry({"ksizes": ksizes, "strides": strides,
                                                          "rates": rates})
    oh, top = _windowed(h, er, sr, padding)
    ow, left = _windowed(w, ec, sc, padding)
    out = np.zeros((n, oh, ow, kr * kc * c), dtype=images.dtype)
    if out.size == 0:
        return out
    rows = np.arange(oh)[:, None] * sr - top + np.arange(kr)[None, :] * rr      # [oh, kr]
    cols = np.arange(ow)[:, None] * sc - left + np.arange(kc)[None, :] * rc     # [ow, kc]
    rv = (rows >= 0) & (rows < h)
    cv = (cols >= 0) & (cols < w)
    ri = np.clip(rows, 0, max(h - 1, 0))
    ci = np.clip(cols, 0, max(w - 1, 0))
    if h == 0 or w == 0:
        return out
    # [n, oh, kr, ow, kc, c]
    g = images[:, ri[:, :, None, None], ci[None, None, :, :], :]
    valid = (rv[:, :, None, None] & cv[None, None, :, :])[None, :, :, :, :, None]
    g = np.where(valid, g, np.zeros((), dtype=images.dtype))
    g = g.transpose(0, 1, 3, 2, 4, 5)                                          # [n, oh, ow, kr, kc, c]
    return np.ascontiguousarray(g, dtype=images.dtype).reshape(n, oh, ow, kr * kc * c)
