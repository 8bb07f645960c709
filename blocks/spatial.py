"""Space/batch/depth rearrangements, image patches, one-hot encoding and edit distance.

SpaceToBatch(ND), BatchToSpace(ND), SpaceToDepth, DepthToSpace, ExtractImagePatches, OneHot and
EditDistance, as TF 2.21's CPU kernels compute them. Shape functions carry the kernels' checks in
the kernels' order; with partial static knowledge they only raise an error once every check the
kernel makes before it is known to pass (so the text is the one TF would give at run time).
"""
from __future__ import annotations

import numpy as np

from blockgraph import dtypes as dt
from blockgraph.registry import Attr, Input, OpError, Output, block
from blockgraph.shapes import fmt

_S2B_TYPES = dt.REALS                                     # CPU kernels: real number types
_VALUE_TYPES = dt.REALS + ("bool",) + dt.COMPLEX + ("string",)   # every non-quantized type
_DEPTH_TYPES = _VALUE_TYPES
_S2D_TYPES = _VALUE_TYPES + ("qint8",)
_MAX_BLOCK_DIMS = 4                                       # kMaxSpaceToBatchBlockDims


def _ints(spec):
    """The statically known value of an index input as a flat list of Python ints, or None."""
    if spec is None or spec.value is None:
        return None
    return [int(v) for v in np.asarray(spec.value).reshape(-1).tolist()]


def _known(shape) -> bool:
    return shape is not None and all(d is not None for d in shape)


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


def _s2b_nd_shape(inputs, attrs):
    return _space_batch_shape(inputs["input"].shape, inputs["block_shape"], inputs["paddings"], True,
                              "paddings")


def _b2s_nd_shape(inputs, attrs):
    return _space_batch_shape(inputs["input"].shape, inputs["block_shape"], inputs["crops"], False,
                              "crops")


def _rank4(x, message):
    if x is not None and len(x) != 4:
        raise OpError(message.format(len(x)), port="input")


def _s2b_shape(inputs, attrs):
    x = inputs["input"].shape
    _rank4(x, "Input rank should be: 4instead of: {}")
    b = attrs["block_size"]
    return _space_batch_shape(x, None, inputs["paddings"], True, "paddings", block_dims=2,
                              bs_value=[b, b])


def _b2s_shape(inputs, attrs):
    x = inputs["input"].shape
    _rank4(x, "Input rank should be: 4instead of: {}")
    b = attrs["block_size"]
    return _space_batch_shape(x, None, inputs["crops"], False, "crops", block_dims=2, bs_value=[b, b])


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
                             block_dims=np.size(block_shape), bs_value=_ints(_Value(block_shape)))
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
    if attrs["data_format"] != "NHWC":
        raise OpError(f"{op} has no CPU kernel for data_format {attrs['data_format']} (CPU supports "
                      "NHWC only)")


def _s2d_shape(inputs, attrs):
    _nhwc_only("SpaceToDepth", attrs)
    x = inputs["input"].shape
    _rank4(x, "Input rank should be 4 instead of {}")
    if x is None:
        return (None,) * 4
    b = attrs["block_size"]
    n, h, w, c = x
    if h is not None and w is not None and (h % b or w % b):
        raise OpError(f"Image width {w} and height {h} should be divisible by block_size: {b}", port="input")
    return (n, None if h is None or h % b else h // b, None if w is None or w % b else w // b,
            None if c is None else c * b * b)


def _d2s_shape(inputs, attrs):
    _nhwc_only("DepthToSpace", attrs)
    x = inputs["input"].shape
    _rank4(x, "Input rank should be: 4 instead of: {}")
    if x is None:
        return (None,) * 4
    b = attrs["block_size"]
    n, h, w, c = x
    if c is not None and c % (b * b):
        raise OpError(f"Input depth dimension {c} should be divisible by: {b * b}", port="input")
    return (n, None if h is None else h * b, None if w is None else w * b,
            None if c is None else c // (b * b))


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


def _eip_shape(inputs, attrs):
    _check_vec4(attrs)
    x = inputs["images"].shape
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


# ----------------------------------------------------------------- OneHot

def _check_scalar(inputs, port):
    """Raise the kernel's error when `port` is known not to be a scalar; False when undecided.
    (Called in the kernel's order; all() stops at the first undecided port.)"""
    s = inputs[port].shape
    if s is None:
        return False
    if len(s) != 0:
        if not _known(s):
            return False
        raise OpError(f"{port} must be a scalar, but got: {fmt(s)}", port=port)
    return True


def _one_hot_shape(inputs, attrs):
    axis = attrs["axis"]
    x = inputs["indices"].shape
    if x is None:
        return None
    nd = len(x) + 1
    if not (axis == -1 or 0 <= axis < nd):
        raise OpError(f"Expected axis to be -1 or between [0, {nd}).  But received: {axis}")
    sure = all(_check_scalar(inputs, p) for p in ("depth", "on_value", "off_value"))
    depth = _ints(inputs["depth"])
    d = depth[0] if depth is not None and len(depth) == 1 else None
    if d is not None and d < 0:
        if sure:
            raise OpError(f"depth must be non-negative, got: {d}", port="depth")
        d = None
    pos = len(x) if axis == -1 else axis
    return tuple(x[:pos]) + (d,) + tuple(x[pos:])


@block("OneHot",
       inputs=[Input("indices", ("uint8", "int8", "int32", "int64"), type_attr="TI"),
               Input("depth", ("int32",), doc="0-d: size of the one-hot dimension"),
               Input("on_value", _VALUE_TYPES, type_attr="T", doc="0-d: value where indices == position"),
               Input("off_value", _VALUE_TYPES, type_attr="T", doc="0-d: value elsewhere")],
       attrs=[Attr("axis", "int", -1, doc="position of the new dim (-1 = last)")],
       outputs=[Output("output", "T")], shape=_one_hot_shape)
def one_hot(indices, depth, on_value, off_value, axis):
    """One-hot encode `indices` along a new dim of size depth; out-of-range indices give off_value."""
    d = int(depth)
    hit = indices.astype(np.int64)[..., None] == np.arange(d, dtype=np.int64)
    out = np.empty(hit.shape, dtype=on_value.dtype)
    out[...] = off_value
    out[hit] = on_value[()]
    if axis != -1:
        out = np.moveaxis(out, -1, axis)
    return np.ascontiguousarray(out)


# ----------------------------------------------------------------- EditDistance

_SPARSE = ("hypothesis_indices", "hypothesis_values", "hypothesis_shape",
           "truth_indices", "truth_values", "truth_shape")


def _edit_distance_checks(shapes, values):
    """EditDistance's kernel validation on (possibly partial) shapes; returns False once a check
    cannot be decided (later checks are then skipped)."""
    def rank_is(port, r, what):
        s = shapes[port]
        if s is None:
            return False
        if len(s) != r:
            if not _known(s):
                return False
            raise OpError(f"{port} should be a {what}, but got shape: {fmt(s)}", port=port)
        return True
    for port, r, what in (("hypothesis_indices", 2, "matrix"), ("truth_indices", 2, "matrix"),
                          ("hypothesis_values", 1, "vector"), ("truth_values", 1, "vector"),
                          ("hypothesis_shape", 1, "vector"), ("truth_shape", 1, "vector")):
        if not rank_is(port, r, what):
            return False
    hi, hv, hs = shapes["hypothesis_indices"], shapes["hypothesis_values"], shapes["hypothesis_shape"]
    ti, tv, ts = shapes["truth_indices"], shapes["truth_values"], shapes["truth_shape"]

    def eq(a, b, msg, port, *printed):
        if a is None or b is None or not all(_known(p) for p in printed):
            return False
        if a != b:
            raise OpError(msg, port=port)
        return True
    if not eq(hv[0], hi[0], "Expected hypothesis_values.NumElements == #rows(hypothesis_indices), their "
              f"shapes are: {fmt(hv)} and {fmt(hi)}", "hypothesis_values", hv, hi):
        return False
    if not eq(hs[0], hi[1], "Expected hypothesis_shape.NumElements == #cols(hypothesis_indices), their "
              f"shapes are: {fmt(hs)} and {fmt(hi)}", "hypothesis_shape", hs, hi):
        return False
    if ts[0] is None:
        return False
    if ts[0] < 2:
        raise OpError(f"Input SparseTensors must have rank at least 2, but truth_shape rank is: {ts[0]}",
                      port="truth_shape")
    if not eq(tv[0], ti[0], "Expected truth_values.NumElements == #rows(truth_indices), their shapes "
              f"are: {fmt(tv)} and {fmt(ti)}", "truth_values", tv, ti):
        return False
    if not eq(ts[0], ti[1], "Expected truth_shape.NumElements == #cols(truth_indices), their shapes "
              f"are: {fmt(ts)} and {fmt(ti)}", "truth_shape", ts, ti):
        return False
    if not eq(ts[0], hs[0], "Expected truth and hypothesis to have matching ranks, but their shapes "
              f"are: {fmt(ts)} and {fmt(hs)}", "truth_shape", ts, hs):
        return False
    hv_, tv_ = values["hypothesis_shape"], values["truth_shape"]
    for v, port in ((hv_, "hypothesis_shape"), (tv_, "truth_shape")):
        if v is None:
            return False
        for d in v:
            if d < 0:
                raise OpError(f"Dimension {d} must be >= 0", port=port)
    out = [max(a, b) for a, b in zip(hv_[:-1], tv_[:-1])]
    if int(np.prod(out, dtype=object)) == 0:
        raise OpError(f"Got output shape {fmt(out)} which has 0 elements")
    return True


def _edit_distance_shape(inputs, attrs):
    shapes = {p: inputs[p].shape for p in _SPARSE}
    values = {p: _ints(inputs[p]) for p in ("hypothesis_shape", "truth_shape")}
    _edit_distance_checks(shapes, values)
    hs, ts = shapes["hypothesis_shape"], shapes["truth_shape"]
    n = next((s[0] for s in (hs, ts) if s is not None and len(s) == 1 and s[0] is not None), None)
    if n is None or n < 1:
        return None
    hv, tv = values["hypothesis_shape"], values["truth_shape"]
    return tuple(max(hv[i], tv[i]) if hv is not None and tv is not None and len(hv) == n == len(tv)
                 else None for i in range(n - 1))


def _groups(indices, values, ngroup):
    """Consecutive runs of equal group keys (first ngroup index columns): [(key, values)]."""
    keys = [tuple(r) for r in indices[:, :ngroup].tolist()]
    out, start = [], 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            out.append((keys[start], values[start:i]))
            start = i
    return out


def _levenshtein(a, b) -> int:
    """Edit distance of two 1-D arrays (element equality as C++ ==: NaN != NaN, -0 == 0)."""
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return max(n, m)
    if a.dtype == object:
        eq = np.array([[x == y for y in b] for x in a], dtype=bool).reshape(n, m)
    else:
        eq = a[:, None] == b[None, :]
    cost = (~eq).astype(np.int64)
    ar = np.arange(m + 1, dtype=np.int64)
    prev = ar.copy()
    for i in range(1, n + 1):
        t = np.empty(m + 1, dtype=np.int64)
        t[0] = i
        t[1:] = np.minimum(prev[1:] + 1, prev[:-1] + cost[i - 1])
        prev = np.minimum.accumulate(t - ar) + ar
    return int(prev[-1])


def _as_comparable(v):
    if v.dtype == dt.to_numpy("bfloat16"):
        return v.astype(np.float32)
    return v


@block("EditDistance",
       inputs=[Input("hypothesis_indices", ("int64",), doc="[N, R] indices of the hypothesis SparseTensor"),
               Input("hypothesis_values", _VALUE_TYPES, type_attr="T"),
               Input("hypothesis_shape", ("int64",), doc="[R] dense shape of the hypothesis"),
               Input("truth_indices", ("int64",), doc="[M, R] indices of the truth SparseTensor"),
               Input("truth_values", _VALUE_TYPES, type_attr="T"),
               Input("truth_shape", ("int64",), doc="[R] dense shape of the truth")],
       attrs=[Attr("normalize", "bool", True, doc="divide by the truth length")],
       outputs=[Output("output", "float32")], shape=_edit_distance_shape)
def edit_distance(hypothesis_indices, hypothesis_values, hypothesis_shape, truth_indices, truth_values,
                  truth_shape, normalize):
    """Levenshtein distance between sequences (last dim) of two SparseTensors, per leading index."""
    hs, ts = hypothesis_shape.tolist(), truth_shape.tolist()
    out_shape = [max(a, b) for a, b in zip(hs[:-1], ts[:-1])]
    total = int(np.prod(out_shape, dtype=np.int64))
    strides = [1] * len(out_shape)
    for d in range(len(out_shape) - 2, -1, -1):
        strides[d] = strides[d + 1] * out_shape[d + 1]
    out = np.zeros(total, dtype=np.float32)
    ng = len(out_shape)
    hyp = _groups(hypothesis_indices, _as_comparable(hypothesis_values), ng)
    tru = _groups(truth_indices, _as_comparable(truth_values), ng)
    inf = np.float32(np.inf)

    def loc(key):
        at = sum(k * s for k, s in zip(key, strides))
        if not 0 <= at < total:
            raise OpError(f"Got an inner product {at} which would require writing to outside of the "
                          f"buffer for the output tensor (max elements {total})")
        return at
    i = j = 0
    while i < len(hyp) and j < len(tru):
        (gh, hv), (gt, tv) = hyp[i], tru[j]
        if gt == gh:
            at = loc(gt)
            out[at] = np.float32(_levenshtein(tv, hv))
            if normalize:
                out[at] = out[at] / np.float32(len(tv))
            i += 1
            j += 1
        elif gt > gh:
            at = loc(gh)
            out[at] = inf if normalize and len(hv) else np.float32(len(hv))
            i += 1
        else:
            at = loc(gt)
            out[at] = np.float32(1.0) if normalize else np.float32(len(tv))
            j += 1
    for gh, hv in hyp[i:]:
        at = loc(gh)
        out[at] = inf if normalize and len(hv) else np.float32(len(hv))
    for gt, tv in tru[j:]:
        at = loc(gt)
        out[at] = np.float32(1.0) if normalize else np.float32(len(tv))
    return out.reshape(out_shape)
