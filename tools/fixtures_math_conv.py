"""Fixture set `tests/fixtures/math_conv/`: convolutions and pools (dev-only: needs tensorflow-cpu).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_math_conv.py     # -> tests/fixtures/math_conv

Conv2D, Conv2DBackpropInput, Conv2DBackpropFilter, DepthwiseConv2dNative, MaxPool, AvgPool, MaxPoolGrad,
AvgPoolGrad: strides, dilations, padding SAME / VALID / EXPLICIT (where the op has it), kernel sizes 1..4
(even sizes: SAME pads more after than before), 1x1 and empty batches, every CPU dtype, data_format NHWC
(NCHW and other unsupported attrs record TF's CPU error).

Compare:
  * MaxPool, integer convolutions, non-overlapping integer/float MaxPoolGrad: exact.
  * float convolutions, AvgPool, AvgPoolGrad, overlapping float MaxPoolGrad: "sum",
    `atol = k*eps*S + smallest_normal`, `k = 8 + 2*ceil(log2 n)`, float64 on DAZ'd inputs:
      - Conv2D / Depthwise: S = the same convolution of |input| and |filter|, n = KH*KW*Cin (depthwise KH*KW);
      - Conv2DBackpropInput: S = the same backprop of |filter| and |out_backprop|, n = KH*KW*Cout;
      - Conv2DBackpropFilter: S = the same backprop of |input| and |out_backprop|, n = N*OH*OW;
      - AvgPool: S = AvgPool of |value|, n = window size;
      - AvgPoolGrad: S = AvgPoolGrad of |grad|, n = number of windows covering the pixel (<= prod ceil(k/s));
      - MaxPoolGrad: S = MaxPoolGrad of |grad| (same routing), n = same as AvgPoolGrad.
Left out on purpose: AvgPoolGrad with a `grad` of the wrong spatial size (TF does not check it and reads
the buffer as if it had the computed shape; nothing an implementation should copy).

Each reference is a numpy float64 implementation (this file), checked element by element against TF:
|f64 - TF| <= atol/2 (largest ratios printed by the generator; any widening is noted in its case).
"""
from __future__ import annotations

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from math_fixture_util import (FIXTURES, FLOATS, INTS, MathBuilder, Rand, cpu_dtypes, f64,  # noqa: E402
                               specials, store, storage, tfd)

NAME = "math_conv"
FAMILY = {o: "conv" for o in ("Conv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter", "DepthwiseConv2dNative")}
FAMILY.update({o: "pool" for o in ("MaxPool", "AvgPool", "MaxPoolGrad", "AvgPoolGrad")})


# ---- geometry ---------------------------------------------------------------------------------------------
def geometry(size, k, s, d, padding, explicit=None):
    """(out, pad_before, pad_after) of one spatial dim, TF's rules."""
    ek = (k - 1) * d + 1
    if padding == "VALID":
        out = max(0, math.ceil((size - ek + 1) / s))
        return out, 0, max(0, (out - 1) * s + ek - size)
    if padding == "SAME":
        out = math.ceil(size / s)
        tot = max((out - 1) * s + ek - size, 0)
        return out, tot // 2, tot - tot // 2
    pb, pa = explicit
    out = (size + pb + pa - ek) // s + 1
    return out, pb, pa


def _geo(xshape, kh, kw, strides, dil, padding, ep):
    oh, ph0, ph1 = geometry(xshape[1], kh, strides[1], dil[1], padding, ep[2:4] if ep else None)
    ow, pw0, pw1 = geometry(xshape[2], kw, strides[2], dil[2], padding, ep[4:6] if ep else None)
    return oh, ow, (ph0, ph1), (pw0, pw1)


def _pad(x, ph, pw, value=0.0):
    return np.pad(x, ((0, 0), (max(ph[0], 0), max(ph[1], 0)), (max(pw[0], 0), max(pw[1], 0)), (0, 0)),
                  constant_values=value)


def _slices(a, b, kh_d, kw_d, sh, sw, oh, ow):
    return (slice(None), slice(a * kh_d, a * kh_d + (oh - 1) * sh + 1, sh),
            slice(b * kw_d, b * kw_d + (ow - 1) * sw + 1, sw), slice(None))


def conv_fwd(x, f, strides, dil, padding, ep, depthwise=False):
    if not depthwise and f.shape[2] and x.shape[3] != f.shape[2]:      # grouped: one per filter depth
        g, og = x.shape[3] // f.shape[2], f.shape[3] // (x.shape[3] // f.shape[2])
        cg = f.shape[2]
        return np.concatenate([conv_fwd(x[..., i * cg:(i + 1) * cg], f[..., i * og:(i + 1) * og], strides,
                                        dil, padding, ep) for i in range(g)], axis=3)
    kh, kw = f.shape[:2]
    oh, ow, ph, pw = _geo(x.shape, kh, kw, strides, dil, padding, ep)
    xp = _pad(x, ph, pw)
    N, C = x.shape[0], x.shape[3]
    O = f.shape[2] * f.shape[3] if depthwise else f.shape[3]
    out = np.zeros((N, oh, ow, O), np.result_type(x, f))
    if min(oh, ow) <= 0:
        return out
    for a in range(kh):
        for b in range(kw):
            p = xp[_slices(a, b, dil[1], dil[2], strides[1], strides[2], oh, ow)]
            if depthwise:
                out += (p[..., :, None] * f[a, b][None, None, None]).reshape(N, oh, ow, O)
            else:
                out += np.einsum("nhwc,co->nhwo", p, f[a, b])
    return out


def conv_bwd_input(in_shape, f, dy, strides, dil, padding, ep):
    kh, kw = f.shape[:2]
    oh, ow, ph, pw = _geo(in_shape, kh, kw, strides, dil, padding, ep)
    H, W = in_shape[1] + ph[0] + ph[1], in_shape[2] + pw[0] + pw[1]
    dxp = np.zeros((in_shape[0], H, W, in_shape[3]), np.result_type(f, dy))
    for a in range(kh):
        for b in range(kw):
            dxp[_slices(a, b, dil[1], dil[2], strides[1], strides[2], oh, ow)] += np.einsum("nhwo,co->nhwc", dy, f[a, b])
    return dxp[:, ph[0]:ph[0] + in_shape[1], pw[0]:pw[0] + in_shape[2], :]


def conv_bwd_filter(x, f_shape, dy, strides, dil, padding, ep):
    kh, kw = f_shape[:2]
    oh, ow, ph, pw = _geo(x.shape, kh, kw, strides, dil, padding, ep)
    xp = _pad(x, ph, pw)
    df = np.zeros(f_shape, np.result_type(x, dy))
    for a in range(kh):
        for b in range(kw):
            p = xp[_slices(a, b, dil[1], dil[2], strides[1], strides[2], oh, ow)]
            df[a, b] = np.einsum("nhwc,nhwo->co", p, dy)
    return df


def windows(in_shape, ksize, strides, padding, ep=None):
    """[(i, j, rows, cols)] per output position: the input rows/cols (clipped to the input) of each window."""
    kh, kw = ksize[1], ksize[2]
    oh, ow, ph, pw = _geo(in_shape, kh, kw, strides, [1, 1, 1, 1], padding, ep)
    res = []
    for i in range(oh):
        r0 = i * strides[1] - ph[0]
        rows = [r for r in range(r0, r0 + kh) if 0 <= r < in_shape[1]]
        for j in range(ow):
            c0 = j * strides[2] - pw[0]
            cols = [c for c in range(c0, c0 + kw) if 0 <= c < in_shape[2]]
            res.append((i, j, rows, cols))
    return oh, ow, res


def avgpool(x, ksize, strides, padding):
    oh, ow, ws = windows(x.shape, ksize, strides, padding)
    out = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for i, j, rows, cols in ws:
        out[:, i, j, :] = x[:, rows][:, :, cols].sum((1, 2)) / (len(rows) * len(cols))
    return out


def avgpool_grad(in_shape, g, ksize, strides, padding):
    oh, ow, ws = windows(in_shape, ksize, strides, padding)
    out = np.zeros(in_shape)
    cnt = np.zeros(in_shape[1:3])
    for i, j, rows, cols in ws:
        out[:, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1, :] += (g[:, i, j, :] / (len(rows) * len(cols)))[:, None, None]
        cnt[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] += 1
    return out, cnt


def maxpool_grad(x, g, ksize, strides, padding, ep=None):
    """Route each gradient to the first maximum (row-major) of its window."""
    oh, ow, ws = windows(x.shape, ksize, strides, padding, ep)
    out = np.zeros(x.shape)
    cnt = np.zeros(x.shape[1:3])
    for i, j, rows, cols in ws:
        for n in range(x.shape[0]):
            for c in range(x.shape[3]):
                best, bi = None, None
                for rr in rows:
                    for cc in cols:
                        v = x[n, rr, cc, c]
                        if best is None or v > best:
                            best, bi = v, (rr, cc)
                out[n, bi[0], bi[1], c] += g[n, i, j, c]
        cnt[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1] += 1
    return out, cnt


# ---- refs for the builder -------------------------------------------------------------------------------------
def _attrs(rec):
    a = rec["attrs"]
    return a["strides"], a.get("dilations", [1, 1, 1, 1]), a["padding"], a.get("explicit_paddings") or None


def ref_conv(dt, depthwise=False):
    def ref(rec, b):
        x, f = f64(b.arr(rec["inputs"]["input"]), dt), f64(b.arr(rec["inputs"]["filter"]), dt)
        s, d, p, ep = _attrs(rec)
        with np.errstate(all="ignore"):
            v = conv_fwd(x, f, s, d, p, ep, depthwise)
            S = conv_fwd(np.abs(x), np.abs(f), s, d, p, ep, depthwise)
        n = f.shape[0] * f.shape[1] * (1 if depthwise else f.shape[2])
        return {"output": (v, S, n)}
    return ref


def ref_bwd_input(dt):
    def ref(rec, b):
        shp = list(b.arr(rec["inputs"]["input_sizes"]))
        f, dy = f64(b.arr(rec["inputs"]["filter"]), dt), f64(b.arr(rec["inputs"]["out_backprop"]), dt)
        if len(shp) == 2:              # the spatial dims only: batch from out_backprop, depth from filter
            shp = [dy.shape[0], *shp, f.shape[2]]
        s, d, p, ep = _attrs(rec)
        with np.errstate(all="ignore"):
            v = conv_bwd_input(shp, f, dy, s, d, p, ep)
            S = conv_bwd_input(shp, np.abs(f), np.abs(dy), s, d, p, ep)
        return {"output": (v, S, f.shape[0] * f.shape[1] * f.shape[3])}
    return ref


def ref_bwd_filter(dt):
    def ref(rec, b):
        x, dy = f64(b.arr(rec["inputs"]["input"]), dt), f64(b.arr(rec["inputs"]["out_backprop"]), dt)
        fs = list(b.arr(rec["inputs"]["filter_sizes"]))
        s, d, p, ep = _attrs(rec)
        with np.errstate(all="ignore"):
            v = conv_bwd_filter(x, fs, dy, s, d, p, ep)
            S = conv_bwd_filter(np.abs(x), fs, np.abs(dy), s, d, p, ep)
        return {"output": (v, S, dy.shape[0] * dy.shape[1] * dy.shape[2])}
    return ref


def ref_avgpool(dt):
    def ref(rec, b):
        x = f64(b.arr(rec["inputs"]["value"]), dt)
        a = rec["attrs"]
        with np.errstate(all="ignore"):
            v = avgpool(x, a["ksize"], a["strides"], a["padding"])
            S = avgpool(np.abs(x), a["ksize"], a["strides"], a["padding"])
        return {"output": (v, S, a["ksize"][1] * a["ksize"][2])}
    return ref


def ref_avgpool_grad(dt):
    def ref(rec, b):
        shp = list(b.arr(rec["inputs"]["orig_input_shape"]))
        g = f64(b.arr(rec["inputs"]["grad"]), dt)
        a = rec["attrs"]
        with np.errstate(all="ignore"):
            v, cnt = avgpool_grad(shp, g, a["ksize"], a["strides"], a["padding"])
            S, _ = avgpool_grad(shp, np.abs(g), a["ksize"], a["strides"], a["padding"])
        return {"output": (v, S, np.maximum(cnt, 1)[None, :, :, None])}
    return ref


def ref_maxpool_grad(dt):
    def ref(rec, b):
        x = f64(b.arr(rec["inputs"]["orig_input"]), dt)
        g = f64(b.arr(rec["inputs"]["grad"]), dt)
        a = rec["attrs"]
        ep = a.get("explicit_paddings") or None
        with np.errstate(all="ignore"):
            v, cnt = maxpool_grad(x, g, a["ksize"], a["strides"], a["padding"], ep)
            S, _ = maxpool_grad(x, np.abs(g), a["ksize"], a["strides"], a["padding"], ep)
        return {"output": (v, S, np.maximum(cnt, 1)[None, :, :, None])}
    return ref


def sum_atol_n(n):
    return n


# ---- cases ------------------------------------------------------------------------------------------------------
CONV_CFGS = [  # (input NHWC, filter HWIO, strides, dilations, padding, explicit_paddings)
    ((1, 5, 5, 2), (3, 3, 2, 3), [1, 1, 1, 1], [1, 1, 1, 1], "VALID", None),
    ((2, 6, 7, 3), (3, 2, 3, 2), [1, 2, 2, 1], [1, 1, 1, 1], "SAME", None),
    ((1, 7, 6, 2), (2, 2, 2, 4), [1, 1, 1, 1], [1, 1, 1, 1], "SAME", None),
    ((1, 7, 7, 1), (3, 3, 1, 2), [1, 1, 1, 1], [1, 2, 2, 1], "VALID", None),
    ((2, 5, 6, 2), (3, 3, 2, 2), [1, 1, 1, 1], [1, 2, 1, 1], "SAME", None),
    ((1, 6, 5, 2), (2, 3, 2, 3), [1, 2, 1, 1], [1, 1, 1, 1], "EXPLICIT", [0, 0, 1, 2, 0, 1, 0, 0]),
    ((1, 4, 4, 3), (1, 1, 3, 5), [1, 1, 1, 1], [1, 1, 1, 1], "VALID", None),
    ((1, 4, 5, 2), (4, 4, 2, 1), [1, 3, 2, 1], [1, 1, 1, 1], "SAME", None),
    ((0, 4, 4, 2), (2, 2, 2, 3), [1, 1, 1, 1], [1, 1, 1, 1], "SAME", None),
    ((1, 3, 3, 2), (5, 5, 2, 2), [1, 1, 1, 1], [1, 1, 1, 1], "SAME", None),
    ((1, 5, 5, 9), (3, 3, 9, 2), [1, 1, 1, 1], [1, 1, 1, 1], "VALID", None),
    ((2, 8, 8, 4), (3, 3, 4, 6), [1, 1, 1, 1], [1, 1, 1, 1], "SAME", None),
]


DW_EXTRA = [((1, 6, 6, 3), (3, 3, 3, 2), [1, 2, 2, 1], [1, 1, 1, 1], "SAME", None),
            ((2, 5, 5, 2), (2, 2, 2, 1), [1, 3, 3, 1], [1, 1, 1, 1], "VALID", None),
            ((1, 5, 6, 2), (3, 2, 2, 2), [1, 1, 1, 1], [1, 1, 1, 1], "EXPLICIT", [0, 0, 2, 1, 1, 0, 0, 0])]


def unsupported(op, strides, dil):
    """TF's CPU limitation a config hits (recorded as an error case), or None."""
    if op == "DepthwiseConv2dNative":
        if any(v != 1 for v in dil):
            return "CPU depthwise: no dilations"
        if strides[1] != strides[2]:
            return "CPU depthwise: unequal row/column strides"
    if op in ("Conv2DBackpropInput", "Conv2DBackpropFilter") and any(v != 1 for v in dil):
        return "CPU conv backprop: no dilations"
    return None


class Gen:
    def __init__(self):
        self.b = MathBuilder(NAME, FAMILY)
        self.r = Rand(20250307)
        self.k = 0

    def t(self, shape, dt, lo=-2.0, hi=2.0):
        if dt in INTS:
            info = np.iinfo(storage(dt))
            return self.r(shape, dt, max(-5, int(info.min)), 5)
        return self.r(shape, dt, lo, hi)

    def cattrs(self, s, d, p, ep, depthwise=False):
        a = {"strides": s, "padding": p, "dilations": d}
        if ep:
            a["explicit_paddings"] = ep
        return a

    def conv(self):
        r = self.r
        for op in ("Conv2D", "DepthwiseConv2dNative"):
            dw = op == "DepthwiseConv2dNative"
            for dt in cpu_dtypes(op):
                cfgs = CONV_CFGS if dt in ("float32", "float64") else CONV_CFGS[self.k % 6: self.k % 6 + 4]
                self.k += 1
                for xs, fs, s, d, p, ep in cfgs + (DW_EXTRA if dw else []):
                    if dw:
                        fs = fs[:2] + (xs[3], 1 + (fs[3] % 3))
                    bad = unsupported(op, s, d)
                    if bad and dt != "float32":
                        continue
                    self.b(op, {"input": self.t(xs, dt), "filter": self.t(fs, dt)}, self.cattrs(s, d, p, ep),
                           tfd=tfd(dt, "input", "filter"), tags=[dt, p.lower()] + (["unsupported"] if bad else []),
                           note=f"input {list(xs)} filter {list(fs)}" + (f"; {bad}" if bad else ""),
                           ref=None if bad else ref_conv(dt, dw), err=bool(bad))
                if dt in FLOATS:
                    x = self.t((1, 4, 4, 2), dt)
                    x[0, 0, :2, 0] = store([np.nan, np.inf], dt)
                    x[0, 3, 3, 1] = store(-np.inf, dt)
                    x[0, 2, 1, 0] = store(1e-40 if dt != "float16" else 1e-7, dt)
                    fs = (2, 2, 2, 2)
                    self.b(op, {"input": x, "filter": self.t(fs, dt)}, self.cattrs([1, 1, 1, 1], [1, 1, 1, 1], "SAME", None),
                           tfd=tfd(dt, "input", "filter"), tags=[dt, "specials", "nan"], ref=ref_conv(dt, dw))
            x, f = self.t((1, 4, 4, 2), "float32"), self.t((2, 2, 2, 2), "float32")
            base = self.cattrs([1, 1, 1, 1], [1, 1, 1, 1], "SAME", None)
            self.b(op, {"input": x, "filter": f}, {**base, "data_format": "NCHW"}, tags=["nchw"], err=True)
            self.b(op, {"input": x, "filter": f}, {**base, "strides": [2, 1, 1, 1]}, tags=["strides"], err=True)
            self.b(op, {"input": x, "filter": f}, {**base, "strides": [1, 1, 1]}, tags=["strides"], err=True)
            self.b(op, {"input": x, "filter": f}, {**base, "strides": [1, 0, 1, 1]}, tags=["strides"], err=None)
            self.b(op, {"input": x, "filter": f}, {**base, "dilations": [2, 1, 1, 1]}, tags=["dilations"], err=True)
            self.b(op, {"input": x, "filter": f}, {**base, "dilations": [1, 2, 2, 1], "strides": [1, 2, 2, 1]},
                   tags=["dilations"], err=None, note="dilation with stride > 1", ref=ref_conv("float32", dw))
            self.b(op, {"input": x, "filter": f}, {**base, "padding": "EXPLICIT"}, tags=["explicit"], err=True,
                   note="EXPLICIT without explicit_paddings")
            self.b(op, {"input": x, "filter": f}, {**base, "padding": "EXPLICIT", "explicit_paddings": [0, 0, -1, 0, 0, 0, 0, 0]},
                   tags=["explicit"], err=True)
            self.b(op, {"input": x, "filter": f}, {**base, "padding": "EXPLICIT", "explicit_paddings": [1, 0, 0, 0, 0, 0, 0, 0]},
                   tags=["explicit"], err=True, note="padding the batch dimension")
            self.b(op, {"input": x, "filter": f}, {**base, "padding": "SAME", "explicit_paddings": [0, 0, 1, 1, 1, 1, 0, 0]},
                   tags=["explicit"], err=True, note="explicit_paddings with SAME")
            self.b(op, {"input": x, "filter": self.t((2, 2, 3, 2), "float32")}, base, tags=["depth"], err=True)
            self.b(op, {"input": self.t((1, 4, 4, 4), "float32"), "filter": f}, base, tags=["depth", "grouped"],
                   err=None, note="input depth a multiple of the filter depth (grouped)", ref=ref_conv("float32", dw))
            self.b(op, {"input": self.t((4, 4, 2), "float32"), "filter": f}, base, tags=["rank"], err=True)
            self.b(op, {"input": x, "filter": self.t((2, 2, 2), "float32")}, base, tags=["rank"], err=True)
            self.b(op, {"input": self.t((1, 2, 2, 2), "float32"), "filter": self.t((3, 3, 2, 2), "float32")},
                   {**base, "padding": "VALID"}, tags=["too_small"], err=None, note="filter larger than the input, VALID")
            self.b(op, {"input": x, "filter": self.t((2, 2, 2, 2), "float64")}, base, tags=["dtype_mismatch"], err=True)
            self.b.dtype_errors(op, lambda dd: ({"input": r((1, 2, 2, 1), dd, 1, 3), "filter": r((1, 1, 1, 1), dd, 1, 3)},
                                                base, tfd(dd, "input", "filter")))

    def conv_bwd(self):
        r = self.r
        op = "Conv2DBackpropInput"
        for dt in cpu_dtypes(op):
            cfgs = CONV_CFGS if dt in ("float32", "float64") else CONV_CFGS[self.k % 6: self.k % 6 + 4]
            self.k += 1
            for xs, fs, s, d, p, ep in cfgs:
                bad = unsupported(op, s, d)
                if bad and dt != "float32":
                    continue
                oh, ow, _, _ = _geo(xs, fs[0], fs[1], s, d, p, ep)
                dy = self.t((xs[0], oh, ow, fs[3]), dt)
                self.b(op, {"input_sizes": np.array(xs, np.int32), "filter": self.t(fs, dt), "out_backprop": dy},
                       self.cattrs(s, d, p, ep), tfd=tfd(dt, "filter", "out_backprop"),
                       tags=[dt, p.lower()] + (["unsupported"] if bad else []),
                       note=f"input {list(xs)} filter {list(fs)}" + (f"; {bad}" if bad else ""),
                       ref=None if bad else ref_bwd_input(dt), err=bool(bad))
        base = self.cattrs([1, 1, 1, 1], [1, 1, 1, 1], "VALID", None)
        f = self.t((2, 2, 2, 3), "float32")
        self.b(op, {"input_sizes": np.array([1, 4, 4, 2], np.int32), "filter": f, "out_backprop": self.t((1, 2, 2, 3), "float32")},
               base, tags=["shape"], err=True, note="out_backprop of the wrong spatial size")
        self.b(op, {"input_sizes": np.array([1, 4, 4, 2], np.int32), "filter": f, "out_backprop": self.t((1, 3, 3, 2), "float32")},
               base, tags=["shape"], err=True, note="out_backprop depth != filter out channels")
        self.b(op, {"input_sizes": np.array([1, 4, 4], np.int32), "filter": f, "out_backprop": self.t((1, 3, 3, 3), "float32")},
               base, tags=["rank"], err=True)
        self.b(op, {"input_sizes": np.array([4, 4], np.int32), "filter": f, "out_backprop": self.t((1, 3, 3, 3), "float32")},
               base, tags=["rank"], err=None, note="input_sizes of 2 elements: the spatial dims only",
               ref=ref_bwd_input("float32"))
        self.b(op, {"input_sizes": np.array([1, 4, 4, 2], np.int32), "filter": f, "out_backprop": self.t((1, 3, 3, 3), "float32")},
               {**base, "data_format": "NCHW"}, tags=["nchw"], err=True)
        self.b(op, {"input_sizes": np.array([1, 4, 4, 2], np.int64), "filter": f, "out_backprop": self.t((1, 3, 3, 3), "float32")},
               base, tags=["int64_sizes"], err=True)
        op = "Conv2DBackpropFilter"
        for dt in cpu_dtypes(op):
            cfgs = CONV_CFGS if dt in ("float32", "float64") else CONV_CFGS[self.k % 6: self.k % 6 + 4]
            self.k += 1
            for xs, fs, s, d, p, ep in cfgs:
                bad = unsupported(op, s, d)
                if bad and dt != "float32":
                    continue
                oh, ow, _, _ = _geo(xs, fs[0], fs[1], s, d, p, ep)
                dy = self.t((xs[0], oh, ow, fs[3]), dt)
                self.b(op, {"input": self.t(xs, dt), "filter_sizes": np.array(fs, np.int32), "out_backprop": dy},
                       self.cattrs(s, d, p, ep), tfd=tfd(dt, "input", "out_backprop"),
                       tags=[dt, p.lower()] + (["unsupported"] if bad else []),
                       note=f"input {list(xs)} filter {list(fs)}" + (f"; {bad}" if bad else ""),
                       ref=None if bad else ref_bwd_filter(dt), err=bool(bad))
        x = self.t((1, 4, 4, 2), "float32")
        self.b(op, {"input": x, "filter_sizes": np.array([2, 2, 2, 3], np.int32), "out_backprop": self.t((1, 2, 2, 3), "float32")},
               base, tags=["shape"], err=True)
        self.b(op, {"input": x, "filter_sizes": np.array([2, 2, 3, 3], np.int32), "out_backprop": self.t((1, 3, 3, 3), "float32")},
               base, tags=["depth"], err=True)
        self.b(op, {"input": x, "filter_sizes": np.array([2, 2, 2, 3], np.int32), "out_backprop": self.t((1, 3, 3, 3), "float32")},
               {**base, "data_format": "NCHW"}, tags=["nchw"], err=True)
        self.b.dtype_errors(op, lambda dd: ({"input": r((1, 2, 2, 1), dd, 1, 3), "filter_sizes": np.array([1, 1, 1, 1], np.int32),
                                             "out_backprop": r((1, 2, 2, 1), dd, 1, 3)}, base, tfd(dd, "input", "out_backprop")))

    def pools(self):
        r = self.r
        POOL = [((1, 4, 4, 2), [1, 2, 2, 1], [1, 2, 2, 1], "VALID"), ((2, 5, 5, 1), [1, 3, 3, 1], [1, 1, 1, 1], "SAME"),
                ((1, 5, 6, 2), [1, 2, 3, 1], [1, 2, 2, 1], "SAME"), ((1, 7, 5, 1), [1, 3, 2, 1], [1, 2, 1, 1], "VALID"),
                ((1, 3, 3, 3), [1, 4, 4, 1], [1, 1, 1, 1], "SAME"), ((1, 1, 1, 2), [1, 1, 1, 1], [1, 1, 1, 1], "VALID"),
                ((0, 4, 4, 1), [1, 2, 2, 1], [1, 2, 2, 1], "SAME"), ((1, 6, 6, 2), [1, 2, 2, 1], [1, 3, 3, 1], "VALID"),
                ((1, 8, 8, 3), [1, 3, 3, 1], [1, 2, 2, 1], "SAME")]
        op = "MaxPool"
        for dt in cpu_dtypes(op):
            self.k += 1
            for xs, ks, st, p in (POOL if dt in ("float32", "int32") else POOL[self.k % 5: self.k % 5 + 4]):
                self.b(op, {"input": self.t(xs, dt, -9, 9)}, {"ksize": ks, "strides": st, "padding": p},
                       tfd=tfd(dt, "input"), tags=[dt, p.lower()], note=f"{list(xs)} k{ks[1:3]} s{st[1:3]}")
            self.b(op, {"input": self.t((1, 5, 4, 2), dt, -9, 9)},
                   {"ksize": [1, 3, 2, 1], "strides": [1, 2, 1, 1], "padding": "EXPLICIT",
                    "explicit_paddings": [0, 0, 2, 0, 0, 1, 0, 0]}, tfd=tfd(dt, "input"), tags=[dt, "explicit"],
                   note="EXPLICIT padding: padded cells never win")
            if dt in FLOATS:
                sp = specials(dt)
                m = len(sp) - len(sp) % 4
                x = sp[:m].reshape(1, -1, 2, 2)
                self.b(op, {"input": x}, {"ksize": [1, 1, 2, 1], "strides": [1, 1, 2, 1], "padding": "VALID"},
                       tfd=tfd(dt, "input"), tags=[dt, "specials", "nan"], note="pairs of specials per window")
                nanw = store([[np.nan, 1.0], [2.0, np.nan], [np.nan, np.nan], [-0.0, 0.0], [0.0, -0.0],
                              [-np.inf, np.nan], [1e-40, 0.0], [-1e-40, -0.0]], dt).reshape(1, 8, 2, 1)
                self.b(op, {"input": nanw}, {"ksize": [1, 1, 2, 1], "strides": [1, 1, 2, 1], "padding": "VALID"},
                       tfd=tfd(dt, "input"), tags=[dt, "nan", "signed_zero", "ties"], note="NaN first / second / both")
        x = self.t((1, 4, 4, 2), "float32")
        base = {"ksize": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "padding": "VALID"}
        self.b(op, {"input": x}, {**base, "data_format": "NCHW"}, tags=["nchw"], err=True)
        self.b(op, {"input": x}, {**base, "padding": "EXPLICIT", "explicit_paddings": [0, 0, 0, 2, 0, 0, 0, 0]},
               tags=["explicit"], err=True, note="a padding as large as the window")
        self.b(op, {"input": x}, {**base, "padding": "EXPLICIT"}, tags=["explicit"], err=True,
               note="EXPLICIT without explicit_paddings")
        self.b(op, {"input": x}, {**base, "ksize": [2, 2, 2, 1]}, tags=["ksize"], err=True)
        self.b(op, {"input": x}, {**base, "ksize": [1, 1, 1, 2], "strides": [1, 1, 1, 2]}, tags=["depth_pool"], err=None,
               note="pooling over depth")
        self.b(op, {"input": x}, {**base, "ksize": [1, 0, 2, 1]}, tags=["ksize"], err=True)
        self.b(op, {"input": x}, {**base, "ksize": [1, 2, 2]}, tags=["ksize"], err=True)
        self.b(op, {"input": x}, {**base, "ksize": [1, 5, 5, 1]}, tags=["too_small"], err=None, note="window larger than input, VALID")
        self.b(op, {"input": self.t((4, 4, 2), "float32")}, base, tags=["rank"], err=True)
        self.b.dtype_errors(op, lambda dd: ({"input": r((1, 2, 2, 1), dd, 1, 3)}, base, tfd(dd, "input")))

        op = "AvgPool"
        for dt in cpu_dtypes(op):
            self.k += 1
            for xs, ks, st, p in (POOL if dt in ("float32", "float64") else POOL[self.k % 5: self.k % 5 + 4]):
                self.b(op, {"value": self.t(xs, dt, -9, 9)}, {"ksize": ks, "strides": st, "padding": p},
                       tfd=tfd(dt, "value"), tags=[dt, p.lower()], note=f"{list(xs)} k{ks[1:3]} s{st[1:3]}",
                       ref=ref_avgpool(dt))
            if dt in FLOATS:
                x = self.t((1, 4, 4, 1), dt)
                x[0, 0, 0, 0] = store(np.nan, dt)
                x[0, 3, 3, 0] = store(np.inf, dt)
                self.b(op, {"value": x}, {"ksize": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "padding": "SAME"},
                       tfd=tfd(dt, "value"), tags=[dt, "specials", "nan"], ref=ref_avgpool(dt))
        self.b(op, {"value": x.astype(np.float32) if x.dtype != np.uint16 else self.t((1, 4, 4, 1), "float32")},
               {**base, "data_format": "NCHW"}, tags=["nchw"], err=True)
        self.b(op, {"value": self.t((1, 4, 4, 2), "float32")}, {**base, "ksize": [1, 2, 2, 2]}, tags=["ksize"], err=True)
        self.b(op, {"value": self.t((1, 4, 4, 2), "float32")}, {**base, "padding": "EXPLICIT"}, tags=["explicit"], err=True)
        self.b.dtype_errors(op, lambda dd: ({"value": r((1, 2, 2, 1), dd, 1, 3)}, base, tfd(dd, "value")))

        import tensorflow as tf
        op = "MaxPoolGrad"
        for dt in cpu_dtypes(op):
            self.k += 1
            for xs, ks, st, p in (POOL if dt in ("float32", "float64") else POOL[self.k % 5: self.k % 5 + 4]):
                x = self.t(xs, dt, -9, 9) if dt not in INTS else self._distinct_ints(xs, dt)
                pool_dt = dt if dt in cpu_dtypes("MaxPool") else "int64"   # uint32/uint64: no MaxPool kernel
                with tf.device("/CPU:0"):
                    y = tf.raw_ops.MaxPool(input=self.b.fs_to_tf(x.astype(storage(pool_dt)), pool_dt), ksize=ks,
                                           strides=st, padding=p)
                y = self.b.tf_to_stored(y).astype(storage(dt))
                g = self.t(y.shape, dt, -4, 4)
                overlap = any(k > s for k, s in zip(ks[1:3], st[1:3]))
                self.b(op, {"orig_input": x, "orig_output": y, "grad": g}, {"ksize": ks, "strides": st, "padding": p},
                       tfd=tfd(dt, "orig_input", "orig_output", "grad"), tags=[dt, p.lower()] + (["overlap"] if overlap else []),
                       note=f"{list(xs)} k{ks[1:3]} s{st[1:3]}", ref=ref_maxpool_grad(dt) if overlap else None)
            if dt in ("float32", "float64"):
                x = store(np.array([[1, 3, 3, 0], [3, 2, 1, 3], [0, 0, 0, 0], [-1, -1, -1, -1]], float), dt).reshape(1, 4, 4, 1)
                ks, st = [1, 2, 2, 1], [1, 2, 2, 1]
                with tf.device("/CPU:0"):
                    y = self.b.tf_to_stored(tf.raw_ops.MaxPool(input=self.b.fs_to_tf(x, dt), ksize=ks, strides=st, padding="VALID"))
                self.b(op, {"orig_input": x, "orig_output": y, "grad": self.t(y.shape, dt)},
                       {"ksize": ks, "strides": st, "padding": "VALID"}, tags=[dt, "ties"],
                       note="tied maxima: the gradient goes to the first in row-major window order")
        for dt in ("float32", "float64", "bfloat16"):
            x = self.t((1, 5, 4, 2), dt, -9, 9)
            for ep, st in (([0, 0, 1, 0, 0, 1, 0, 0], [1, 2, 1, 1]), ([0, 0, 1, 1, 1, 0, 0, 0], [1, 2, 2, 1])):
                a = {"ksize": [1, 2, 2, 1], "strides": st, "padding": "EXPLICIT", "explicit_paddings": ep}
                with tf.device("/CPU:0"):
                    y = self.b.tf_to_stored(tf.raw_ops.MaxPool(input=self.b.fs_to_tf(x, dt), **a))
                overlap = st[2] < 2
                self.b(op, {"orig_input": x, "orig_output": y, "grad": self.t(y.shape, dt, -4, 4)}, a,
                       tfd=tfd(dt, "orig_input", "orig_output", "grad"), tags=[dt, "explicit"] + (["overlap"] if overlap else []),
                       note=f"EXPLICIT paddings {ep}", ref=ref_maxpool_grad(dt) if overlap else None)
            xn = store([np.nan, 1, 2, np.nan, np.nan, np.nan, 3, np.nan, -0.0, 0.0, 0.0, -0.0], dt).reshape(1, 6, 2, 1)
            a = {"ksize": [1, 1, 2, 1], "strides": [1, 1, 2, 1], "padding": "VALID"}
            with tf.device("/CPU:0"):
                y = self.b.tf_to_stored(tf.raw_ops.MaxPool(input=self.b.fs_to_tf(xn, dt), **a))
            self.b(op, {"orig_input": xn, "orig_output": y, "grad": store([10, 20, 30, 40, 50, 60], dt).reshape(1, 6, 1, 1)},
                   a, tfd=tfd(dt, "orig_input", "orig_output", "grad"), tags=[dt, "nan", "signed_zero"],
                   note="NaN in windows: the gradient goes to the window's first element unless a later one is "
                        "greater (NaN compares false), even where MaxPool's output ignored the NaN")
        x = self.t((1, 4, 4, 1), "float32")
        self.b(op, {"orig_input": x, "orig_output": self.t((1, 2, 2, 1), "float32"), "grad": self.t((1, 3, 3, 1), "float32")},
               {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}, tags=["shape"], err=True)
        self.b(op, {"orig_input": x, "orig_output": self.t((1, 2, 2, 1), "float32"), "grad": self.t((1, 2, 2, 1), "float32")},
               {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID", "data_format": "NCHW"}, tags=["nchw"], err=True)
        self.b(op, {"orig_input": self.t((4, 4, 1), "float32"), "orig_output": self.t((2, 2, 1), "float32"),
                    "grad": self.t((2, 2, 1), "float32")},
               {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}, tags=["rank"], err=True)

        op = "AvgPoolGrad"
        for dt in cpu_dtypes(op):
            self.k += 1
            for xs, ks, st, p in (POOL if dt in ("float32", "float64") else POOL[self.k % 5: self.k % 5 + 4]):
                oh, ow, _, _ = _geo(xs, ks[1], ks[2], st, [1, 1, 1, 1], p, None)
                g = self.t((xs[0], oh, ow, xs[3]), dt, -4, 4)
                self.b(op, {"orig_input_shape": np.array(xs, np.int32), "grad": g},
                       {"ksize": ks, "strides": st, "padding": p}, tfd=tfd(dt, "grad"), tags=[dt, p.lower()],
                       note=f"{list(xs)} k{ks[1:3]} s{st[1:3]}", ref=ref_avgpool_grad(dt))
        self.b(op, {"orig_input_shape": np.array([1, 4, 4], np.int32), "grad": self.t((1, 2, 2, 1), "float32")},
               {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}, tags=["rank"], err=True)
        self.b(op, {"orig_input_shape": np.array([1, 4, 4, 1], np.int32), "grad": self.t((1, 2, 2, 1), "float32")},
               {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID", "data_format": "NCHW"}, tags=["nchw"],
               err=True)

    def _distinct_ints(self, shape, dt):
        n = int(np.prod(shape))
        info = np.iinfo(storage(dt))
        lo = max(int(info.min), -n)
        return (self.r.rng.permutation(n) + lo).astype(storage(dt)).reshape(shape)

    def build(self):
        self.conv()
        self.conv_bwd()
        self.pools()
        from fixtures_math_conv_extra import extra     # cases added with the blocks (appended: ids stay)
        extra(self)
        return self.b


def _fs_to_tf(x, dt):
    from fixture_lib import _to_tf
    return _to_tf(np.asarray(x), dt if dt == "bfloat16" else None)


def _tf_to_stored(t):
    from fixture_lib import _to_numpy
    return _to_numpy(t)[0]


MathBuilder.fs_to_tf = staticmethod(_fs_to_tf)
MathBuilder.tf_to_stored = staticmethod(_tf_to_stored)


def make(root=FIXTURES):
    return Gen().build().write(root)


if __name__ == "__main__":
    print("wrote", make())
