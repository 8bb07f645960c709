"""Sliding-window geometry and attr checks shared by the convolution and pooling blocks, with
TF's texts: GetWindowedOutputSizeVerbose (output size and padding of one spatial dim),
CheckValidPadding (explicit_paddings), and the common attr declarations."""
from __future__ import annotations

from blockgraph.core.blockdef import Attr
from blockgraph.core.errors import OpError
from blockgraph.core.shapes import fmt, fully_known

STRIDES = Attr("strides", "list(int)", doc="[1, stride_rows, stride_cols, 1]")
DILATIONS = Attr("dilations", "list(int)", [1, 1, 1, 1],
                 doc="[1, rate_rows, rate_cols, 1]: spacing between filter taps")
KSIZE = Attr("ksize", "list(int)", doc="[1, window_rows, window_cols, 1]")
EXPLICIT_PADDINGS = Attr("explicit_paddings", "list(int)", [],
                         doc="with padding EXPLICIT: [0, 0, top, bottom, left, right, 0, 0]")
USE_CUDNN = Attr("use_cudnn_on_gpu", "bool", True, doc="no effect on CPU")


def padding_attr(*choices):
    return Attr("padding", "string", choices=choices, doc=" or ".join(choices))


def data_format_attr(*choices):
    return Attr("data_format", "string", "NHWC", choices=choices,
                doc="NHWC (the only layout TF's CPU kernels take) or " + ", ".join(choices[1:]))


def trunc_div(a: int, b: int) -> int:
    """C++ integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


def windowed(size, k, dilation, stride, padding, before=0, after=0):
    """GetWindowedOutputSizeVerboseV2: (output size, pad before, pad after) of one spatial dim, or
    TF's error. `before`/`after` are the explicit paddings (EXPLICIT only)."""
    if stride <= 0:
        raise OpError(f"Stride must be > 0, but got {stride}")
    if dilation < 1:
        raise OpError(f"Dilation rate must be >= 1, but got {dilation}")
    eff = (k - 1) * dilation + 1
    if padding == "VALID":
        out, before, after = trunc_div(size - eff + stride, stride), 0, 0
    elif padding == "EXPLICIT":
        out = trunc_div(size + before + after - eff + stride, stride)
    else:
        out = trunc_div(size + stride - 1, stride)
        need = max(0, (out - 1) * stride + eff - size)
        before, after = need // 2, need - need // 2
    if out < 0:
        raise OpError(f"Computed output size would be negative: {out} [input_size: {size}, "
                      f"effective_filter_size: {eff}, stride: {stride}]")
    return out, before, after


def check_valid_padding(padding, explicit_paddings):
    """CheckValidPadding for 4-D NHWC/NCHW tensors."""
    if padding == "EXPLICIT":
        if len(explicit_paddings) != 8:
            raise OpError("explicit_paddings attribute must contain 8 values, but got: "
                          f"{len(explicit_paddings)}")
        if any(p < 0 for p in explicit_paddings):
            raise OpError("All elements of explicit_paddings must be nonnegative")
    elif explicit_paddings:
        raise OpError("explicit_paddings attribute must be empty if the padding attribute is not "
                      "EXPLICIT")


def check_explicit_batch_depth(explicit_paddings, data_format="NHWC"):
    """The rest of CheckValidPadding for EXPLICIT: no padding of the batch or depth dims."""
    c = 3 if data_format == "NHWC" else 1
    if any(explicit_paddings[i] for i in (0, 1, 2 * c, 2 * c + 1)):
        raise OpError("Nonzero explicit padding in the batch or depth dimensions is not supported")


def check_padding(padding, explicit_paddings, data_format="NHWC"):
    """CheckValidPadding, whole."""
    check_valid_padding(padding, explicit_paddings)
    if padding == "EXPLICIT":
        check_explicit_batch_depth(explicit_paddings, data_format)


def explicit_pads(attrs):
    """((top, bottom), (left, right)) of an EXPLICIT padding (in attrs' data_format, NHWC by
    default), else ((0, 0), (0, 0))."""
    p = attrs.get("explicit_paddings") or []
    if attrs["padding"] != "EXPLICIT" or len(p) != 8:
        return (0, 0), (0, 0)
    _, h, w, _ = nhwc_dims(attrs.get("data_format", "NHWC"))
    return (p[2 * h], p[2 * h + 1]), (p[2 * w], p[2 * w + 1])


def vector_attr_len(attrs, name, least=4):
    """The OpDef's minimum length of a list(int) attr (checked before any kernel runs)."""
    v = attrs[name]
    if len(v) < least:
        raise OpError(f"Length for attr '{name}' of {len(v)} must be at least minimum {least}")


class Unknown(Exception):
    """A check needs a dim or value that is not statically known: TF's later checks (and the
    output dims that depend on it) are left to the run."""


def fallback(fn, default):
    """fn() when it is statically decided, else `default` (the static output when an earlier
    check waits for the run: the dims it would have unless TF fails first)."""
    try:
        return fn()
    except (Unknown, OpError):
        return default


def known(*dims):
    """The dims (one, or a tuple), or Unknown when any is None."""
    if any(d is None for d in dims):
        raise Unknown
    return dims[0] if len(dims) == 1 else dims


def rank4(shape, message, port=None):
    """A kernel's rank-4 check of `shape` (message formatted with {n} and {shape}); Unknown when
    the rank, or a dim the message prints, is unknown."""
    if shape is None:
        raise Unknown
    if len(shape) != 4:
        if "{shape}" in message and not fully_known(shape):
            raise Unknown
        raise OpError(message.format(n=len(shape), shape=fmt(shape)), port=port)
    return shape


def nhwc_dims(data_format):
    """The (N, H, W, C) positions of a 4-D layout."""
    return (0, 1, 2, 3) if data_format == "NHWC" else (0, 2, 3, 1)


def sizes_vector(shape, value, message):
    """A 1-D sizes input (input_sizes, filter_sizes, ...): its values as ints, TF's `message`
    (formatted with {n}, its rank) when it is not 1-D; Unknown when not known."""
    if shape is None:
        raise Unknown
    if len(shape) != 1:
        raise OpError(message.format(n=len(shape)))
    return [int(v) for v in known(value)]
