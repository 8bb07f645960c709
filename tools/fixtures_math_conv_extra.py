"""Cases of `math_conv` added with the conv/pool blocks (appended after the original cases, whose ids
stay): called by `fixtures_math_conv.py` (dev-only: needs tensorflow-cpu).

* DepthwiseConv2dNativeBackpropInput / BackpropFilter (the gradients of DepthwiseConv2dNative), every CPU
  dtype, multipliers 1..3 and 9 (the input backprop reduces 8 at a time), NaN/inf in the filter and the
  gradient (taps no output reaches read 0, so an infinite filter value makes NaN there, also with an empty
  out_backprop), and their checks. Exact: TF's CPU kernels add in a fixed order (pmadd per tap, no FMA).
* MaxPoolGradGrad (the gradient of MaxPoolGrad), every CPU dtype, ties, NaN windows, an orig_output that no
  window element equals (0), and its checks.
* TF behaviours the first cases left out: AvgPoolGrad spreading a border window over one row more than
  AvgPool averaged (GetBroadcastSize clips the end with the whole window size), MaxPool over depth with NaN
  and ties (Eigen's maxCoeff: packets, alignment, halving), all -inf / minimum windows (lowest()), Conv2D
  NCHW with an empty output (no error), a zero-row filter, groups that do not divide the output depth, the
  order of the pooling checks (ksize before the stride length in MaxPool; explicit paddings checked after
  depth pooling; FastBoundsCheck on a negative window).
"""
from __future__ import annotations

import numpy as np

from math_fixture_util import FLOATS, INTS, store, tfd

DW_T = ("float32", "float64", "float16", "bfloat16")
MAXPOOL_GRADGRAD_T = ("float32", "float64", "int32", "uint8", "int16", "int8", "int64", "bfloat16", "uint16",
                      "float16", "uint32", "uint64")
#: (input NHWC, filter rows/cols, multiplier, stride, padding, explicit paddings)
DW_CFGS = [((1, 5, 5, 2), (3, 3), 1, 1, "VALID", None), ((2, 6, 7, 3), (3, 2), 2, 2, "SAME", None),
           ((1, 7, 6, 2), (2, 2), 3, 1, "SAME", None), ((1, 4, 4, 3), (1, 1), 1, 1, "VALID", None),
           ((1, 5, 6, 2), (3, 2), 2, 1, "EXPLICIT", [0, 0, 2, 1, 1, 0, 0, 0]),
           ((2, 5, 5, 2), (2, 2), 1, 3, "VALID", None), ((1, 3, 3, 2), (5, 5), 2, 1, "SAME", None),
           ((1, 6, 5, 2), (3, 3), 9, 2, "SAME", None), ((1, 8, 8, 1), (3, 3), 1, 2, "SAME", None)]
POOL = [((1, 4, 4, 2), [1, 2, 2, 1], [1, 2, 2, 1], "VALID"), ((2, 5, 5, 1), [1, 3, 3, 1], [1, 1, 1, 1], "SAME"),
        ((1, 5, 6, 2), [1, 2, 3, 1], [1, 2, 2, 1], "SAME"), ((1, 7, 5, 1), [1, 3, 2, 1], [1, 2, 1, 1], "VALID"),
        ((1, 3, 3, 3), [1, 4, 4, 1], [1, 1, 1, 1], "SAME"), ((0, 4, 4, 1), [1, 2, 2, 1], [1, 2, 2, 1], "SAME")]


def geometry(size, k, s, padding, ep=None):
    if padding == "VALID":
        return (size - k + s) // s, 0
    if padding == "SAME":
        out = -(-size // s)
        return out, max(0, (out - 1) * s + k - size) // 2
    return (size + ep[0] + ep[1] - k) // s + 1, ep[0]


def extra(g):
    depthwise_backprops(g)
    max_pool_grad_grad(g)
    pool_behaviours(g)
    conv_behaviours(g)


def _dw_attrs(stride, padding, ep):
    a = {"strides": [1, stride, stride, 1], "padding": padding}
    if ep:
        a["explicit_paddings"] = ep
    return a


def depthwise_backprops(g):
    b, t = g.b, g.t
    for dt in DW_T:
        cfgs = DW_CFGS if dt in ("float32", "float64") else DW_CFGS[g.k % 5: g.k % 5 + 4] + DW_CFGS[-2:-1]
        g.k += 1
        for xs, (kh, kw), m, s, p, ep in cfgs:
            fs = (kh, kw, xs[3], m)
            oh, _ = geometry(xs[1], kh, s, p, ep[2:4] if ep else None)
            ow, _ = geometry(xs[2], kw, s, p, ep[4:6] if ep else None)
            dy = t((xs[0], oh, ow, xs[3] * m), dt)
            a = _dw_attrs(s, p, ep)
            note = f"input {list(xs)} filter {list(fs)} stride {s}"
            b("DepthwiseConv2dNativeBackpropInput", {"input_sizes": np.array(xs, np.int32), "filter": t(fs, dt),
                                                     "out_backprop": dy}, a, tfd=tfd(dt, "filter", "out_backprop"),
              tags=[dt, p.lower()], note=note)
            b("DepthwiseConv2dNativeBackpropFilter", {"input": t(xs, dt), "filter_sizes": np.array(fs, np.int32),
                                                      "out_backprop": dy}, a, tfd=tfd(dt, "input", "out_backprop"),
              tags=[dt, p.lower()], note=note)
        if dt in FLOATS:
            f = t((3, 3, 2, 2), dt)
            f[0, 0, 0, 0], f[2, 1, 1, 1] = store(np.inf, dt), store(np.nan, dt)
            dy = t((1, 2, 2, 4), dt)
            dy[0, 0, 1, 2] = store(-np.inf, dt)
            a = _dw_attrs(2, "SAME", None)
            b("DepthwiseConv2dNativeBackpropInput", {"input_sizes": np.array([1, 4, 4, 2], np.int32), "filter": f,
                                                     "out_backprop": dy}, a, tfd=tfd(dt, "filter", "out_backprop"),
              tags=[dt, "specials", "nan"], note="non-finite filter: taps no output reaches read 0 (0 * inf = NaN)")
            x = t((1, 4, 4, 2), dt)
            x[0, 1, 2, 1] = store(np.inf, dt)
            b("DepthwiseConv2dNativeBackpropFilter", {"input": x, "filter_sizes": np.array([3, 3, 2, 2], np.int32),
                                                      "out_backprop": dy}, a, tfd=tfd(dt, "input", "out_backprop"),
              tags=[dt, "specials", "nan"], note="padded taps multiply the gradient by 0")
    f = t((2, 2, 2, 1), "float32")
    f[0, 0, 0, 0] = np.float32(np.inf)
    ok = _dw_attrs(1, "VALID", None)
    b("DepthwiseConv2dNativeBackpropInput", {"input_sizes": np.array([1, 2, 1, 2], np.int32), "filter": f,
                                             "out_backprop": t((1, 1, 0, 2), "float32")}, ok, tags=["empty", "nan"],
      note="an empty out_backprop still multiplies the filter by zeros")
    # checks (kernel construction, then EXTRACT_AND_VERIFY_DIMENSIONS)
    f, dy, x = t((2, 2, 2, 3), "float32"), t((1, 3, 3, 6), "float32"), t((1, 4, 4, 2), "float32")
    sizes, fsz = np.array([1, 4, 4, 2], np.int32), np.array([2, 2, 2, 3], np.int32)
    for op, ins in (("DepthwiseConv2dNativeBackpropInput", {"input_sizes": sizes, "filter": f, "out_backprop": dy}),
                    ("DepthwiseConv2dNativeBackpropFilter", {"input": x, "filter_sizes": fsz, "out_backprop": dy})):
        for attrs, why in ((ok, None), ({**ok, "strides": [1, 1, 2, 1]}, "unequal strides"),
                           ({**ok, "strides": [2, 1, 1, 1]}, "batch stride"), ({**ok, "strides": [1, 1, 1]}, "strides"),
                           ({**ok, "strides": [1, 0, 0, 1]}, "zero stride"),
                           ({**ok, "padding": "EXPLICIT", "explicit_paddings": [0]}, "explicit paddings"),
                           ({**ok, "data_format": "NCHW"}, "NCHW"),
                           ({**ok, "dilations": [1, 2, 2, 1]}, "dilations (ignored by the backprops)")):
            b(op, ins, attrs, tags=["checks"], err=None, note=why)
    port = {"DepthwiseConv2dNativeBackpropInput": "input_sizes", "DepthwiseConv2dNativeBackpropFilter": "filter_sizes"}
    for op, ins in (("DepthwiseConv2dNativeBackpropInput", {"input_sizes": sizes, "filter": f, "out_backprop": dy}),
                    ("DepthwiseConv2dNativeBackpropFilter", {"input": x, "filter_sizes": fsz, "out_backprop": dy})):
        sz = port[op]
        for change, why in (({sz: np.array([1, 4, 4], np.int32)}, "3 sizes"),
                            ({sz: np.array([[1, 4], [4, 2]], np.int32)}, "2-D sizes"),
                            ({sz: np.array([1, -4, 4, 2] if sz == "input_sizes" else [2, -2, 2, 3], np.int32)},
                             "negative size"),
                            ({"out_backprop": t((3, 3, 6), "float32")}, "out_backprop rank"),
                            ({"out_backprop": t((2, 3, 3, 6), "float32")}, "batch"),
                            ({"out_backprop": t((1, 3, 3, 5), "float32")}, "out depth"),
                            ({"out_backprop": t((1, 2, 3, 6), "float32")}, "rows"),
                            ({"out_backprop": t((1, 3, 2, 6), "float32")}, "cols")):
            b(op, {**ins, **change}, ok, tags=["checks"], err=True, note=why)
    b("DepthwiseConv2dNativeBackpropInput", {"input_sizes": np.array([1, 4, 4, 3], np.int32), "filter": f,
                                             "out_backprop": dy}, ok, tags=["checks"], err=True, note="in_depth")
    b("DepthwiseConv2dNativeBackpropInput", {"input_sizes": sizes, "filter": t((2, 2, 2), "float32"),
                                             "out_backprop": dy}, ok, tags=["checks"], err=True, note="filter rank")


def _max_pool(g, x, dt, attrs):
    import tensorflow as tf
    pool_dt = dt if dt not in ("uint32", "uint64") else "int64"
    with tf.device("/CPU:0"):
        y = tf.raw_ops.MaxPool(input=g.b.fs_to_tf(x.astype(_storage(pool_dt)), pool_dt), **attrs)
    return g.b.tf_to_stored(y).astype(x.dtype)


def _storage(dt):
    from math_fixture_util import storage
    return storage(dt)


def max_pool_grad_grad(g):
    b, op = g.b, "MaxPoolGradGrad"
    for dt in MAXPOOL_GRADGRAD_T:
        g.k += 1
        for xs, ks, st, p in (POOL if dt in ("float32", "int32") else POOL[g.k % 3: g.k % 3 + 3]):
            x = g.t(xs, dt, -9, 9) if dt not in INTS else g._distinct_ints(xs, dt)
            a = {"ksize": ks, "strides": st, "padding": p}
            b(op, {"orig_input": x, "orig_output": _max_pool(g, x, dt, a), "grad": g.t(xs, dt, -4, 4)}, a,
              tfd=tfd(dt, "orig_input", "orig_output", "grad"), tags=[dt, p.lower()], note=f"{list(xs)} k{ks[1:3]}")
    for dt in ("float32", "float64", "bfloat16", "float16"):
        x = store([[1, 3, 3, 0], [3, 2, np.nan, 3], [0, -0.0, 0, 0], [np.nan, np.nan, np.nan, np.nan]], dt).reshape(1, 4, 4, 1)
        a = {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}
        b(op, {"orig_input": x, "orig_output": _max_pool(g, x, dt, a), "grad": g.t((1, 4, 4, 1), dt)}, a,
          tfd=tfd(dt, "orig_input", "orig_output", "grad"), tags=[dt, "ties", "nan"],
          note="the first element equal to the output wins; an all-NaN window (output lowest()) gives 0")
        b(op, {"orig_input": x, "orig_output": store(np.full((1, 2, 2, 1), 7.0), dt), "grad": g.t((1, 4, 4, 1), dt)},
          a, tfd=tfd(dt, "orig_input", "orig_output", "grad"), tags=[dt], note="no element equals orig_output: 0")
    x, y = g.t((1, 4, 4, 1), "float32"), g.t((1, 2, 2, 1), "float32")
    a = {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}
    for change, attrs, why in (({}, {**a, "data_format": "NCHW"}, "NCHW"), ({}, {**a, "ksize": [1, 1, 1, 2],
                                                                                   "strides": [1, 1, 1, 2]}, "depth"),
                               ({}, {**a, "ksize": [2, 2, 2, 1]}, "batch"), ({}, {**a, "padding": "EXPLICIT"}, "EXPLICIT"),
                               ({"grad": y}, a, "grad shape"), ({"orig_output": x}, a, "orig_output shape"),
                               ({"orig_input": g.t((4, 4, 1), "float32")}, a, "rank")):
        b(op, {"orig_input": x, "orig_output": y, "grad": x, **change}, attrs, tags=["checks"], err=True, note=why)


def pool_behaviours(g):
    b, t = g.b, g.t
    for dt in ("float32", "float16", "float64"):
        for rows, k in ((4, 5), (4, 6), (5, 7), (3, 5)):
            oh, _ = geometry(rows, k, 1, "SAME")
            b("AvgPoolGrad", {"orig_input_shape": np.array([1, rows, 2, 1], np.int32), "grad": t((1, oh, 2, 1), dt)},
              {"ksize": [1, k, 1, 1], "strides": [1, 1, 1, 1], "padding": "SAME"}, tfd=tfd(dt, "grad"),
              tags=[dt, "broadcast_window"], note="a border window's start is clipped, its end clipped with the whole "
              "window size: one row more than AvgPool averaged")
    b("AvgPoolGrad", {"orig_input_shape": np.array([1, 4, 4, 1], np.int32), "grad": t((1, 6, 3, 1), "float32")},
      {"ksize": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "padding": "VALID"}, tags=["checks"], err=True,
      note="a grad row past the input")
    nan = np.nan
    for dt in ("float32", "float64", "float16", "bfloat16", "int32"):
        for k, cols in ((2, 3), (3, 5), (8, 3), (12, 4), (16, 2)):
            if dt in INTS:
                v = g._distinct_ints((1, 1, cols, k), dt)
            else:
                v = t((1, 1, cols, k), dt, -9, 9)
                v[0, 0, 0, :2] = store([nan, 1.0], dt)
                v[0, 0, 1, k // 2] = store(nan, dt)
                v[0, 0, -1, k - 1] = store(nan, dt)
                if k >= 8:
                    v[0, 0, min(2, cols - 1), 1] = store(nan, dt)
            b("MaxPool", {"input": v}, {"ksize": [1, 1, 1, k], "strides": [1, 1, 1, k], "padding": "VALID"},
              tfd=tfd(dt, "input"), tags=[dt, "depth_pool", "nan"],
              note="over depth: Eigen's maxCoeff (a held NaN stays, a new one is passed over; packets of 8 floats / "
                   "4 doubles from the first aligned element, halved)")
        if dt in FLOATS:
            v = store([-np.inf, -np.inf, -0.0, 0.0, 0.0, -0.0, 1e-40, 0.0], dt).reshape(1, 1, 4, 2)
            b("MaxPool", {"input": v}, {"ksize": [1, 1, 1, 2], "strides": [1, 1, 1, 2], "padding": "VALID"},
              tfd=tfd(dt, "input"), tags=[dt, "depth_pool", "signed_zero"])
            v = store([-np.inf] * 4, dt).reshape(1, 2, 2, 1)
            b("MaxPool", {"input": v}, {"ksize": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "padding": "VALID"},
              tfd=tfd(dt, "input"), tags=[dt, "lowest"], note="a window of -inf gives lowest() (never taken)")
    x = t((1, 4, 4, 2), "float32")
    for attrs, why in (({"ksize": [1, 0, 2, 1], "strides": [1, 1, 1, 1, 1], "padding": "VALID"},
                        "ksize checked before the stride length"),
                       ({"ksize": [1, 2, 2, 2], "strides": [1, 2, 2, 2], "padding": "EXPLICIT",
                         "explicit_paddings": [0] * 7}, "pooling across depth and space, before the paddings"),
                       ({"ksize": [1, 1, 1, 2], "strides": [1, 1, 1, 2], "padding": "EXPLICIT",
                         "explicit_paddings": [0] * 8}, "depth pooling with EXPLICIT"),
                       ({"ksize": [1, 1, 1, 3], "strides": [1, 1, 1, 3], "padding": "VALID"}, "depth not divisible"),
                       ({"ksize": [1, 1, 1, 2], "strides": [1, 1, 1, 1], "padding": "VALID"}, "depth stride")):
        b("MaxPool", {"input": x}, attrs, tags=["checks"], err=True, note=why)
    b("MaxPool", {"input": x}, {"ksize": [1, 1, 1, 2], "strides": [1, 2, 2, 2], "padding": "SAME"}, tags=["depth_pool"],
      note="depth pooling ignores the spatial strides and the padding")
    b("AvgPool", {"value": x}, {"ksize": [1, 0, 2, 1], "strides": [1, 1, 1, 1], "padding": "VALID"}, tags=["checks"],
      err=True)
    b("AvgPool", {"value": x}, {"ksize": [1, 1, 1, 2], "strides": [1, 1, 1, 2], "padding": "VALID"}, tags=["checks"],
      err=True, note="non-spatial")
    y = _max_pool(g, x, "float32", {"ksize": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "padding": "VALID"})
    for attrs, why in (({"ksize": [1, 2, 2, 1], "strides": [1, 1, 1, 1], "padding": "EXPLICIT",
                         "explicit_paddings": [0] * 3}, "explicit paddings"),
                       ({"ksize": [1, -1, 2, 1], "strides": [1, 1, 1, 1], "padding": "VALID"},
                        "no ksize check: the computed shape differs")):
        b("MaxPoolGrad", {"orig_input": x, "orig_output": y, "grad": y}, attrs, tags=["checks"], err=True, note=why)


def conv_behaviours(g):
    b, t = g.b, g.t
    base = {"strides": [1, 1, 1, 1], "padding": "VALID", "dilations": [1, 1, 1, 1]}
    b("Conv2D", {"input": t((0, 2, 4, 4), "float32"), "filter": t((2, 2, 2, 3), "float32")},
      {**base, "data_format": "NCHW"}, tags=["nchw", "empty"], note="NCHW with nothing to compute: no error")
    for x, f, why in (((1, 4, 4, 2), (0, 2, 2, 3), "a zero-row filter"), ((1, 4, 4, 4), (2, 2, 2, 3), "groups"),
                      ((1, 4, 4, 2), (2, 2, 0, 3), "filter depth 0")):
        b("Conv2D", {"input": t(x, "float32"), "filter": t(f, "float32")}, base, tags=["checks"], err=True, note=why)
    b("Conv2D", {"input": t((1, 4, 4, 0), "float32"), "filter": t((2, 2, 1, 3), "float32")}, base, tags=["empty"],
      note="an empty input: zeros")
    b("Conv2D", {"input": t((1, 4, 4, 2), "float32"), "filter": t((2, 2, 2, 3), "float32")},
      {**base, "strides": [1, 1, 2, 1], "data_format": "NCHW"}, tags=["checks", "nchw"], err=True,
      note="NCHW strides: [N, C, H, W]")
