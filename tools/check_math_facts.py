"""Check every TF behaviour listed in tools/README_math_fixtures.md against TensorFlow (dev-only).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/check_math_facts.py        # prints one line per fact, exit 1 on a miss

Each fact has the id used in the README (e.g. B3). Most are probed with tiny tensors through tf.raw_ops on
the CPU; AddN's order and the training formulas are checked against the committed fixture sets (the
simulation must reproduce every non-special case bit for bit).
"""
from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from fixture_lib import clean_message  # noqa: E402
from math_fixture_util import FIXTURES, store, values  # noqa: E402

F, D, H = np.float32, np.float64, np.float16
FACTS = []


def fact(fid):
    def deco(fn):
        FACTS.append((fid, fn))
        return fn
    return deco


def _t(kw):
    """numpy inputs -> tensors first (tf.raw_ops would otherwise convert a numpy input to the dtype it infers
    from the other inputs, hiding dtype mismatches)."""
    return {k: tf.constant(v) if isinstance(v, (np.ndarray, np.generic)) else v for k, v in kw.items()}


def run(op, **kw):
    with tf.device("/CPU:0"):
        r = getattr(tf.raw_ops, op)(**_t(kw))
    return [x.numpy() for x in r] if isinstance(r, (list, tuple)) else r.numpy()


def err(op, **kw):
    try:
        run(op, **kw)
    except (tf.errors.OpError, ValueError, TypeError) as e:
        return type(e).__name__, clean_message(e.message if isinstance(e, tf.errors.OpError) else str(e))
    return None, None


def bits(a):
    a = np.asarray(a)
    return a.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[a.itemsize]).ravel().tolist()


def bf(vals_or_bits, raw=False):
    b = np.asarray(vals_or_bits, np.uint16) if raw else store(vals_or_bits, "bfloat16")
    return tf.bitcast(tf.constant(b), tf.bfloat16)


def bfbits(t):
    return tf.bitcast(t, tf.uint16).numpy().ravel().tolist()


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.tobytes() == b.tobytes()


# ---- FTZ / DAZ, NaNs ------------------------------------------------------------------------------------------
@fact("G1")
def _():
    ok = not run("Less", x=F([1e-40] * 9), y=F([2e-40] * 9)).any()
    ok &= bool(run("Equal", x=F([1e-40]), y=F([0.0]))[0])
    ok &= not run("AddV2", x=F([1e-40] * 9), y=F([0] * 9)).any()
    ok &= not run("Mul", x=F([1e-20] * 9), y=F([1e-20] * 9)).any()
    ok &= not run("AddV2", x=D([1e-310] * 5), y=D([0] * 5)).any()
    ok &= bfbits(run_t("AddV2", x=bf([1] * 11, raw=True), y=bf([0.0] * 11))) == [0] * 11
    ok &= (run("AddV2", x=H([6e-8] * 11), y=H([0] * 11)) == H(6e-8)).all()
    return ok


def run_t(op, **kw):
    with tf.device("/CPU:0"):
        return getattr(tf.raw_ops, op)(**_t(kw))


@fact("G2")
def _():
    den = F([1e-40, -3e-39])
    return same(run("Neg", x=den), -den) and same(run("Abs", x=den), np.abs(den)) and \
        same(run("Select", condition=np.array([True, True]), x=den, y=F([0, 0])), den)


@fact("G3")
def _():
    snan = np.array([0x7FA00001], np.uint32).view(F)
    return bits(run("AddV2", x=snan, y=F([1]))) == [0x7FE00001] and bits(run("Neg", x=snan)) == [0xFFA00001] \
        and bits(run("Abs", x=snan)) == [0x7FA00001]


@fact("G4")
def _():
    inv = [run("Sub", x=F([np.inf] * 9), y=F([np.inf] * 9)), run("RealDiv", x=F([0] * 9), y=F([0] * 9)),
           run("Sqrt", x=F([-1] * 9)), run("Mul", x=F([0] * 9), y=F([np.inf] * 9))]
    return all(set(bits(a)) == {0xFFC00000} for a in inv)


@fact("G5")
def _():
    b = bits(run("Log", x=F([-1] * 9)))
    return b[:8] == [0xFFFFFFFF] * 8 and b[8] == 0xFFC00000


@fact("G6")
def _():
    s = bfbits(run_t("Sub", x=bf([np.inf] * 11), y=bf([np.inf] * 11)))
    return s[:8] == [0x7FC0] * 8 and s[8:] == [0xFFC0] * 3


@fact("G7")
def _():
    r = run("Reciprocal", x=F([3.0] * 9))
    return bits(r)[:8] == [0x3EAAAAAA] * 8 and bits(r)[8] == 0x3EAAAAAB


# ---- binary ----------------------------------------------------------------------------------------------------
@fact("B1")
def _():
    a = [err(op, x=np.int32([1, 2]), y=np.int32([1, 0])) for op in ("Div", "FloorDiv", "FloorMod", "Mod")]
    b = [err(op, x=np.int32([1, 2]), y=np.int32([1, 0])) for op in ("TruncateDiv", "TruncateMod")]
    return all(x == ("InvalidArgumentError", "Integer division by zero") for x in a) and all(
        x == ("InternalError", "Unexpected error in binary operator (only integer div and mod should have errors)")
        for x in b) and run("FloorDiv", x=np.zeros(0, np.int32), y=np.int32(0)).shape == (0,)


@fact("B2")
def _():
    x, y = np.int32([-7, -2147483648, 7]), np.int32([2, -1, -2])
    return run("Div", x=x, y=y).tolist() == [-3, -2147483648, -3] and \
        run("FloorDiv", x=x, y=y).tolist() == [-4, -2147483648, -4] and \
        run("TruncateDiv", x=x, y=y).tolist() == [-3, -2147483648, -3] and \
        run("FloorMod", x=x, y=y).tolist() == [1, 0, -1] and run("TruncateMod", x=x, y=y).tolist() == [-1, 0, 1] \
        and run("Mod", x=x, y=y).tolist() == [-1, 0, 1]


@fact("B3")
def _():
    fd = run("FloorDiv", x=F([np.inf, -7, 7]), y=F([2, 2, 0]))
    fm = run("FloorMod", x=F([-0.0, 7, -7, 5]), y=F([3, -2, 2, 0]))
    m = run("Mod", x=F([-7, 7, 1e-45]), y=F([2, -2, 1]))
    tm = run("TruncateMod", x=F([1e-45]), y=F([1e-40]))
    return fd.tolist() == [np.inf, -4, np.inf] and bits(fm[:1]) == [0x80000000] and fm[1:3].tolist() == [-1, 1] \
        and np.isnan(fm[3]) and m.tolist()[:2] == [-1, 1] and bits(m[2:]) == bits(F([1e-45])) and np.isnan(tm[0])


@fact("B4")
def _():
    x, y = F([0.0, -0.0] * 5), F([-0.0, 0.0] * 5)
    mx = run("Maximum", x=x, y=y)
    mh = run("Maximum", x=H([0.0, -0.0]), y=H([-0.0, 0.0]))
    nan = run("Maximum", x=F([np.nan, 1] * 5), y=F([1, np.nan] * 5))
    n = np.array([0xFFC00ABC] * 9, np.uint32).view(F)
    pay = run("Maximum", x=F([1] * 9), y=n)
    return bits(mx[:8]) == bits(y[:8]) and bits(mx[8:]) == bits(x[8:]) and bits(mh) == bits(H([0.0, -0.0])) \
        and set(bits(nan)) == {0x7FC00000} and set(bits(pay)) == {0xFFC00ABC}


@fact("B5")
def _():
    r = run("Pow", x=F([0, -0.0, -8, 1, np.nan, -1, -1]), y=F([-1, -1, 1 / 3, np.nan, 0, np.inf, 2.5]))
    e = err("Pow", x=np.int32([2, 3]), y=np.int32([-1, 2]))
    w = run("Pow", x=np.int32([2, -3, 2]), y=np.int32([31, 3, 32]))
    return r[0] == np.inf and r[1] == -np.inf and np.isnan(r[2]) and r[3:6].tolist() == [1, 1, 1] and np.isnan(r[6]) \
        and e == ("InvalidArgumentError", "Integers to negative integer powers are not allowed") and \
        w.tolist() == [-2147483648, -27, 0]


@fact("B6")
def _():
    return run("DivNoNan", x=F([np.nan, np.inf, 1, 0]), y=F([0, 0, 1e-40, -0.0])).tolist() == [0, 0, 0, 0]


@fact("B7")
def _():
    a = run("Equal", x=F([[1, 2, 3]]), y=F([1, 2]), incompatible_shape_error=False)
    b = run("NotEqual", x=F([[1, 2, 3]]), y=F([1, 2]), incompatible_shape_error=False)
    return a.shape == () and not a and b.shape == () and bool(b)


@fact("B8")
def _():
    msg = "cannot compute AddV2 as input #1(zero-based) was expected to be a float tensor but is a double tensor"
    return err("AddV2", x=F(np.ones((2, 3))), y=F([1, 2, 3, 4])) == ("InvalidArgumentError",
                                                                      "Incompatible shapes: [2,3] vs. [4]") and \
        err("AddV2", x=F([1, 2]), y=D([1, 2]))[1] == msg and err("AddV2", x=F(np.ones((2, 3))), y=D([1, 2, 3, 4]))[1] == msg


@fact("B9")
def _():
    r = run("Atan2", y=F([0.0, -0.0, 0.0, -0.0]), x=F([-0.0, -0.0, 0.0, 0.0]))
    return r[0] == F(np.pi) and r[1] == -F(np.pi) and bits(r[2:]) == [0, 0x80000000]


@fact("B11")
def _():
    a = run("Atan2", y=F([1e-40] * 9), x=F([0] * 9))
    b = run("Atan2", y=F([1e-40] * 9), x=F([1] * 9))
    return bits(a[:8]) == [0x3F490FDA] * 8 and a[8] == F(np.pi / 2) and (b[:8] == 0).all() and b[8] == F(1e-40)


@fact("B10")
def _():
    ok = run("BiasAdd", value=F(np.zeros((1, 2, 3))), bias=F([1, 2]), data_format="NCHW").tolist() == \
        [[[1, 1, 1], [2, 2, 2]]]
    e1 = err("BiasAdd", value=F(np.ones(3)), bias=F([1, 2, 3]))[1]
    e2 = err("BiasAdd", value=F(np.ones((2, 3))), bias=F([1, 2]))[1]
    return ok and e1 == "Input tensor must be at least 2D: [3]" and \
        e2 == "Must provide as many biases as the last dimension of the input tensor: [2] vs. [2,3]"


# ---- unary / activations ---------------------------------------------------------------------------------------------
@fact("U1")
def _():
    x = F([-0.0, np.nan, 1e-40, -1e-40, 3, -3, 0, 5, -0.0, np.nan, 1e-40, -1e-40])
    s = run("Sign", x=x)
    return bits(s[:8])[:1] == [0] and np.isnan(s[1]) and s[2] == F(1e-40) and s[3] == F(1e-40) and \
        s[4:8].tolist() == [1, -1, 0, 1] and bits(s[8:9]) == [0] and s[10:].tolist() == [0, 0]


@fact("U2")
def _():
    r = run("Relu", features=F([-0.0] * 9))
    d = run("Relu", features=F([-3e-39] * 9))
    r6 = run("Relu6", features=F([1e-40] * 9))
    return bits(r) == [0] * 8 + [0x80000000] and bits(d)[:8] == [0] * 8 and d[8] == F(-3e-39) and \
        bits(r6)[:8] == [0] * 8 and r6[8] == F(1e-40)


@fact("U3")
def _():
    return run("Round", x=np.int32([1, 2, -3])).tolist() == [0, 0, 0] and \
        run("Round", x=F([0.5, 1.5, 2.5, -0.5, -2.5])).tolist() == [0, 2, 2, -0.0, -2] and \
        run("Rint", x=F([0.5, 1.5, -2.5])).tolist() == [0, 2, -2]


@fact("U4")
def _():
    return (run("Elu", features=F([-1e-10] * 9)) == 0).all() and (run("Selu", features=F([-1e-10] * 9)) == 0).all()


@fact("U5")
def _():
    s = run("Sqrt", x=F([-0.0, 1e-40, -1e-40]))
    r = run("Rsqrt", x=F([0.0, -0.0, -1]))
    return bits(s) == [0x80000000, 0, 0x80000000] and r[0] == np.inf and r[1] == -np.inf and np.isnan(r[2])


@fact("U6")
def _():
    lr = run("LeakyRelu", features=F([-2, 2, -0.0, np.nan]), alpha=1.5)
    lg = run("LeakyReluGrad", gradients=F([1, 1, 1, 1]), features=F([-2, 2, 0, -0.0]), alpha=1.5)
    return lr.tolist()[:2] == [-3, 2] and bits(lr[2:3]) == [0x80000000] and lg.tolist() == [1.5, 1, 1.5, 1.5] \
        and run("LeakyRelu", features=F([-1.0]))[0] == F(-0.2) and \
        err("LeakyRelu", features=np.int32([1]))[0] == "InvalidArgumentError"


@fact("U7")
def _():
    return run("ReluGrad", gradients=F([5] * 4), features=F([0, -0.0, np.nan, 1e-40])).tolist() == [0, 0, 0, 0] and \
        run("Relu6Grad", gradients=F([5] * 4), features=F([0, 6, np.nan, 5.99])).tolist() == [0, 0, 0, 5]


@fact("U8")
def _():
    a = run("SigmoidGrad", y=F(np.ones((2, 3))), dy=F(np.ones((3, 2))))
    e = err("ReluGrad", gradients=F(np.ones((2, 3))), features=F(np.ones((3, 2))))[1]
    return a.shape == (2, 3) and e.startswith("Inputs to operation ReluGrad of type ReluGrad must have the same size and shape")


@fact("U9")
def _():
    e = run("Exp", x=F([88.7, 88.8, -87.4, -104.0]))
    return e[0] > 3e38 and e[1] == np.inf and e[2] == 0 and e[3] == 0


# ---- reductions ---------------------------------------------------------------------------------------------------------
@fact("R1")
def _():
    z = np.zeros((0, 3), F)
    return run("Sum", input=z, axis=0).tolist() == [0] * 3 and run("Prod", input=z, axis=0).tolist() == [1] * 3 and \
        run("Max", input=z, axis=0).tolist() == [-np.inf] * 3 and run("Min", input=z, axis=0).tolist() == [np.inf] * 3 \
        and np.isnan(run("Mean", input=z, axis=0)).all() and \
        run("Mean", input=np.zeros((0, 3), np.int32), axis=0).tolist() == [0] * 3 and \
        bool(run("All", input=np.zeros(0, bool), axis=0)) and not run("Any", input=np.zeros(0, bool), axis=0)


@fact("R2")
def _():
    return run("Mean", input=np.int32([-7, 0]), axis=0) == -3 and run("Mean", input=np.int32([-7, -1]), axis=0) == -4 \
        and run("Mean", input=np.uint8([255, 255]), axis=0) == 255 and \
        run("Mean", input=np.int32([2 ** 31 - 1] * 2), axis=0) == 2 ** 31 - 1 and \
        run("Sum", input=np.int8([100, 100]), axis=0) == -56 and run("Prod", input=np.int8([16, 16]), axis=0) == 0


@fact("R3")
def _():
    return np.isnan(run("Max", input=F([1, np.nan, 3]), axis=0)) and \
        np.isnan(run("Min", input=F([np.nan] + [1] * 17), axis=0)) and \
        run("ArgMax", input=F([1, np.nan, 3, 2]), dimension=0) == 2 and \
        run("ArgMax", input=F([np.nan, 1]), dimension=0) == 1 and run("ArgMin", input=F([np.nan, 1]), dimension=0) == 1 \
        and run("ArgMax", input=F([np.nan, np.nan]), dimension=0) == 0 and \
        run("ArgMax", input=F([3, 1, 3]), dimension=0) == 0


@fact("R4")
def _():
    return err("Sum", input=F([[1, 2]]), axis=np.int32([1, -1]))[1] == \
        "Invalid reduction arguments: Axes contains duplicate dimension: 1" and \
        err("Sum", input=F([[1, 2]]), axis=np.int32(2))[1] == "Invalid reduction dimension (2 for input with 2 dimension(s)" \
        and run("Sum", input=F([[1, 2]]), axis=np.int32([[1]])).tolist() == [3] and \
        same(run("Mean", input=F([[1, 2]]), axis=np.zeros(0, np.int32)), F([[1, 2]]))


@fact("R5")
def _():
    return err("ArgMax", input=F([[1, 2]]), dimension=2)[1] == "Expected dimension in the range [-2, 2), but got 2" and \
        err("ArgMax", input=np.zeros((0, 3), F), dimension=0)[1] == "Reduction axis 0 is empty in shape [0,3]" and \
        run("ArgMax", input=F([1, 2]), dimension=0, output_type=tf.int16) == 1 and \
        err("ArgMin", input=F([1, 2]), dimension=0, output_type=tf.int16)[0] == "InvalidArgumentError"


@fact("R6")
def _():
    return err("Cumsum", x=F(2), axis=np.int32(0))[1] == "ScanOp: Expected scan axis in the range [0, 0), but got 0" \
        and err("Cumsum", x=F([[1, 2]]), axis=np.int32([1]))[1] == "ScanOp: axis must be a scalar, not [1]" and \
        run("Cumsum", x=F([1, 2, 3]), axis=np.int32(0), exclusive=True, reverse=True).tolist() == [5, 3, 0]


# ---- matrix / nn --------------------------------------------------------------------------------------------------------
def _addn_sim(xs, dt):
    def add(a, b):
        with np.errstate(all="ignore"):
            if dt == "bfloat16":
                return values(store(a.astype(F) + b.astype(F), dt), dt)
            return (a + b).astype(a.dtype)
    n = len(xs)
    r = n % 8
    first = min(n, 8 if r == 0 else (9 if r == 1 else r))
    acc = xs[0]
    for x in xs[1:first]:
        acc = add(acc, x)
    for i in range(first, n, 8):
        c = xs[i]
        for x in xs[i + 1:i + 8]:
            c = add(c, x)
        acc = add(acc, c)
    return acc


@fact("M1")
def _():
    with open(os.path.join(FIXTURES, "math_matrix", "cases.json")) as fh:
        man = json.load(fh)
    z = np.load(os.path.join(FIXTURES, "math_matrix", "cases.npz"))
    n = 0
    for c in man["cases"]:
        if c["op"] != "AddN" or "outputs" not in c or "specials" in c["tags"]:
            continue
        dt = c["outputs"][0]["tf_dtype"]
        if dt not in ("float16", "bfloat16", "float32", "float64"):
            continue
        xs = [values(z[k], dt) for k in c["inputs"]["inputs"]]
        got = _addn_sim(xs, dt)
        if not np.array_equal(np.asarray(got, np.float64), values(z[c["outputs"][0]["key"]], dt).astype(np.float64)):
            return False
        n += 1
    return n >= 40


@fact("M2")
def _():
    r = run("Range", start=F(0), limit=F(1), delta=F(0.1))
    ok = r.tolist() == [F(i) * F(0.1) for i in range(10)] and len(r) == 10
    ok &= err("Range", start=F(0), limit=F(5), delta=F(0))[1] == "Requires delta != 0: 0"
    ok &= err("Range", start=F(5), limit=F(0), delta=F(1))[1] == "Requires start <= limit when delta > 0: 5/0"
    ok &= err("Range", start=F(0), limit=F(1), delta=F(np.nan))[1] == "Requires start >= limit when delta < 0: 0/1"
    ok &= err("Range", start=F(0), limit=F(np.inf), delta=F(1))[1] == \
        "Requires ((limit - start) / delta) <= 9223372036854775807"
    ok &= run("Range", start=np.int32([0]), limit=np.int32(3), delta=np.int32(1)).tolist() == [0, 1, 2]
    return ok


@fact("M3")
def _():
    c = run("ClipByValue", t=F([5, -5, np.nan, 0.5]), clip_value_min=F(2), clip_value_max=F(-2))
    n = run("ClipByValue", t=F([5, -5, np.nan, 0.5]), clip_value_min=F(np.nan), clip_value_max=F(1))
    return c.tolist()[:2] == [2, 2] and np.isnan(c[2]) and c[3] == 2 and n.tolist()[:2] == [1, -5] and np.isnan(n[2])


@fact("M4")
def _():
    s = run("Select", condition=np.array([True, False]), x=F([[1, 2], [3, 4]]), y=F([[9, 9], [9, 9]]))
    v = run("SelectV2", condition=np.array([True, False, True]), t=F([[1, 2, 3]] * 2), e=F(0))
    return s.tolist() == [[1, 2], [9, 9]] and v.tolist() == [[1, 0, 3]] * 2


@fact("M5")
def _():
    return err("MatMul", a=F(np.ones((3, 4))), b=F(np.ones((5, 6))))[1] == \
        "Matrix size-incompatible: In[0]: [3,4], In[1]: [5,6]" and \
        err("BatchMatMulV2", x=F(np.ones(4)), y=F(np.ones((4, 2))))[1] == "In[0] ndims must be >= 2: 1"


@fact("N1")
def _():
    s = run("Softmax", logits=F([[np.inf, 1, 2], [-np.inf, 1, 2], [-np.inf] * 3]))
    ls = run("LogSoftmax", logits=F([[-np.inf, 1, 2]]))
    return np.isnan(s[0]).all() and s[1, 0] == 0 and np.isnan(s[2]).all() and ls[0, 0] == -np.inf and \
        err("Softmax", logits=F(1))[1] == "logits must have >= 1 dimension, got []"


@fact("N2")
def _():
    e = err("SparseSoftmaxCrossEntropyWithLogits", features=F(np.ones((2, 3))), labels=np.int32([0, 3]))[1]
    return e == "Received a label value of 3 which is outside the valid range of [0, 3).  Label values: 0 3"


@fact("N3")
def _():
    return run("BiasAddGrad", out_backprop=F([[1, 2], [3, 4]]), data_format="NCHW").tolist() == [4, 6] and \
        run("BiasAddGrad", out_backprop=F(np.ones((2, 3, 4))), data_format="NCHW").tolist() == [8, 8, 8] and \
        run("L2Loss", t=F([1e-20, 3])) == F(4.5)


# ---- conv / pool ------------------------------------------------------------------------------------------------------------
@fact("C1")
def _():
    x = F([np.nan, 1, 2, np.nan, np.nan, np.nan, -0.0, 0.0, 0.0, -0.0]).reshape(1, 5, 2, 1)
    r = run("MaxPool", input=x, ksize=[1, 1, 2, 1], strides=[1, 1, 2, 1], padding="VALID").ravel()
    return r[0] == 1 and r[1] == 2 and r[2] == np.finfo(F).min and bits(r[3:]) == [0x80000000, 0]


@fact("C2")
def _():
    x, f = F(np.ones((1, 4, 4, 2))), F(np.ones((2, 2, 2, 2)))
    base = dict(strides=[1, 1, 1, 1], padding="SAME")
    ok = err("Conv2D", input=x, filter=f, data_format="NCHW", **base)[1] == \
        "The Conv2D op currently only supports the NHWC tensor format on the CPU. The op was given the format: NCHW"
    ok &= err("Conv2DBackpropInput", input_sizes=np.int32([1, 4, 4, 2]), filter=f, out_backprop=F(np.ones((1, 3, 3, 2))),
              strides=[1, 1, 1, 1], padding="VALID", dilations=[1, 2, 2, 1])[1] == \
        "Current CPU implementations do not yet support dilation rates larger than 1."
    ok &= err("DepthwiseConv2dNative", input=x, filter=f, strides=[1, 1, 1, 1], padding="SAME",
              dilations=[1, 2, 2, 1])[0] == "UnimplementedError"
    ok &= err("DepthwiseConv2dNative", input=x, filter=f, strides=[1, 2, 1, 1], padding="SAME")[1] == \
        "Current implementation only supports equal length strides in the row and column dimensions."
    ok &= run("Conv2D", input=F(np.ones((1, 4, 4, 4))), filter=f, **base).shape == (1, 4, 4, 2)
    ok &= run("Conv2D", input=F(np.ones((1, 4, 4, 2))), filter=f, strides=[1, 2, 2, 1], padding="SAME",
              dilations=[1, 2, 2, 1]).shape == (1, 2, 2, 2)
    ok &= run("Conv2D", input=F(np.ones((1, 2, 2, 2))), filter=F(np.ones((3, 3, 2, 2))), strides=[1, 1, 1, 1],
              padding="VALID").shape == (1, 0, 0, 2)
    return ok


@fact("C3")
def _():
    x = F(np.ones((1, 4, 4, 2)))
    base = dict(ksize=[1, 2, 2, 1], strides=[1, 1, 1, 1])
    return err("MaxPool", input=x, padding="EXPLICIT", explicit_paddings=[0, 0, 0, 2, 0, 0, 0, 0], **base)[1] == \
        "Bottom padding 2 needs to be smaller than the window size 2" and \
        err("MaxPool", input=x, padding="VALID", data_format="NCHW", **base)[1] == \
        "Default MaxPoolingOp only supports NHWC on device type CPU" and \
        run("MaxPool", input=x, ksize=[1, 1, 1, 2], strides=[1, 1, 1, 2], padding="VALID").shape == (1, 4, 4, 1)


@fact("C4")
def _():
    x = F([[1, 3, 3, 0], [3, 2, 1, 3], [0, 0, 0, 0], [-1, -1, -1, -1]]).reshape(1, 4, 4, 1)
    y = run("MaxPool", input=x, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID")
    g = run("MaxPoolGrad", orig_input=x, orig_output=y, grad=F([1, 2, 3, 4]).reshape(1, 2, 2, 1),
            ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], padding="VALID").reshape(4, 4)
    return g[0, 1] == 1 and g[0, 2] == 2 and g[2, 0] == 3 and g[2, 2] == 4 and g.sum() == 10


@fact("C5")
def _():
    x = F(np.arange(1, 10).reshape(1, 3, 3, 1))
    a = run("AvgPool", value=x, ksize=[1, 2, 2, 1], strides=[1, 1, 1, 1], padding="SAME").ravel()
    return a[-1] == 9 and a[2] == F((3 + 6) / 2)


@fact("C6")
def _():
    x = F([np.nan, 1, 2, np.nan, np.nan, np.nan, 3, np.nan]).reshape(1, 4, 2, 1)
    k = dict(ksize=[1, 1, 2, 1], strides=[1, 1, 2, 1], padding="VALID")
    y = run("MaxPool", input=x, **k)
    g = run("MaxPoolGrad", orig_input=x, orig_output=y, grad=F([10, 20, 30, 40]).reshape(1, 4, 1, 1), **k)
    return y.ravel().tolist()[:2] == [1, 2] and g.ravel().tolist() == [10, 0, 20, 0, 30, 0, 40, 0]


# ---- training -----------------------------------------------------------------------------------------------------------------
def _train_sim(op, g, nest, dt):
    one = np.dtype(dt).type(1)
    with np.errstate(all="ignore"):
        if op == "ApplyGradientDescent":
            return g["var"] - g["alpha"] * g["delta"]
        if op == "ApplyMomentum":
            acc = g["accum"] * g["momentum"] + g["grad"]
            return g["var"] - (g["grad"] * g["lr"] + acc * g["momentum"] * g["lr"]) if nest else g["var"] - g["lr"] * acc
        if op == "ApplyAdam":
            alpha = g["lr"] * np.sqrt(one - g["beta2_power"]) / (one - g["beta1_power"])
            m = g["m"] + (g["grad"] - g["m"]) * (one - g["beta1"])
            v = g["v"] + (g["grad"] * g["grad"] - g["v"]) * (one - g["beta2"])
            num = (g["grad"] * (one - g["beta1"]) + g["beta1"] * m) * alpha if nest else m * alpha
            return g["var"] - num / (np.sqrt(v) + g["epsilon"])
        ms = g["ms"] + (g["grad"] * g["grad"] - g["ms"]) * (one - g["rho"])
        return g["var"] - (g["mom"] * g["momentum"] + (g["grad"] * g["lr"]) / np.sqrt(ms + g["epsilon"]))


@fact("T1")
def _():
    with open(os.path.join(FIXTURES, "math_training", "cases.json")) as fh:
        man = json.load(fh)
    z = np.load(os.path.join(FIXTURES, "math_training", "cases.npz"))
    n = 0
    for c in man["cases"]:
        if "outputs" not in c or "specials" in c["tags"] or c["outputs"][0]["tf_dtype"] not in ("float32", "float64"):
            continue
        dt = c["outputs"][0]["tf_dtype"]
        g = {k: z[v] for k, v in c["inputs"].items()}
        out = np.asarray(_train_sim(c["op"], g, c["attrs"].get("use_nesterov", False), dt), dt)
        if out.tobytes() != z[c["outputs"][0]["key"]].tobytes():
            return False
        n += 1
    return n >= 40


def main():
    bad = 0
    for fid, fn in FACTS:
        try:
            ok = bool(fn())
        except Exception as e:  # noqa: BLE001
            ok = False
            print(f"{fid}: raised {type(e).__name__}: {e}")
        bad += not ok
        print(f"{fid}: {'ok' if ok else 'MISMATCH'}")
    print(f"{len(FACTS) - bad} facts hold, {bad} do not")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
