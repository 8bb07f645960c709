"""Fixture set `tests/fixtures/math_nn/`: L2Loss, Softmax, LogSoftmax, SoftmaxCrossEntropyWithLogits,
SparseSoftmaxCrossEntropyWithLogits, BiasAddGrad (dev-only: needs tensorflow-cpu).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_math_nn.py     # -> tests/fixtures/math_nn

Every CPU dtype; ranks 1-4 (Softmax/LogSoftmax work on the last axis), class counts 8k+r, empty batches,
large logits (1e4: the max shift matters), NaN / +-inf logits, labels that are not distributions, a batch
that broadcasts against the labels ([1, C] vs [B, C]), BiasAddGrad NHWC and NCHW on ranks 2-5.

Compare: "sum" for float outputs (integer BiasAddGrad exact), `atol = k*eps*S + smallest_normal`,
`k = 8 + 2*ceil(log2 n)`, in float64 on DAZ'd inputs, with (C = classes):
  * L2Loss:    S = sum(x^2)/2, n = number of elements;
  * Softmax:   S = (C+4) * softmax, n = C;
  * LogSoftmax: S = |x - max| + |log sum exp(x - max)| + C/2 + 2, n = C;
  * SoftmaxCrossEntropyWithLogits: loss S = sum_j |l_j| * (|x_j - max| + |lse| + C/2 + 2), backprop
    S = (C+4)*softmax + |labels|, n = C;
  * SparseSoftmaxCrossEntropyWithLogits: loss S = |x_label - max| + |lse| + C/2 + 2, backprop
    S = (C+4)*softmax + onehot, n = C;
  * BiasAddGrad: S = sum |x| over everything but the channel axis, n = that count.
(-inf logits contribute 0 to S: their outputs are exact infinities or exact 0.)
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from math_fixture_util import (FIXTURES, FLOATS, INTS, MathBuilder, Rand, cpu_dtypes, f64,  # noqa: E402
                               int_extremes, specials, store, storage, tfd)

NAME = "math_nn"
FAMILY = {"L2Loss": "loss", "Softmax": "softmax", "LogSoftmax": "softmax", "SoftmaxCrossEntropyWithLogits": "loss",
          "SparseSoftmaxCrossEntropyWithLogits": "loss", "BiasAddGrad": "bias_add_grad"}


def _softmax_parts(x):
    with np.errstate(all="ignore"):
        m = np.max(x, axis=-1, keepdims=True, initial=-np.inf)
        sh = x - m
        e = np.exp(sh)
        s = e.sum(-1, keepdims=True)
        lse = np.log(s)
        return m, sh, e / s, lse


def _fin(a):
    return np.where(np.isfinite(a), a, 0.0)


def ref_softmax(dt, log):
    def ref(rec, b):
        x = f64(b.arr(rec["inputs"]["logits"]), dt)
        C = x.shape[-1]
        m, sh, sm, lse = _softmax_parts(x)
        if log:
            with np.errstate(all="ignore"):
                v = sh - lse
            S = _fin(np.abs(sh)) + _fin(np.abs(lse)) + C / 2 + 2
            return {"logsoftmax": (v, S, C)}
        return {"softmax": (sm, (C + 4) * _fin(sm), C)}
    return ref


def ref_xent(dt, sparse):
    def ref(rec, b):
        x = f64(b.arr(rec["inputs"]["features"]), dt)
        lab = b.arr(rec["inputs"]["labels"])
        C = x.shape[-1]
        if sparse:
            lab = np.eye(C)[np.asarray(lab, np.int64)] if C else np.zeros(x.shape)
        else:
            lab = f64(lab, dt)
        x, lab = np.broadcast_arrays(x, lab)
        m, sh, sm, lse = _softmax_parts(x)
        with np.errstate(all="ignore"):
            loss = np.sum(lab * (lse - sh), -1)
            bp = sm - lab
            Sl = np.sum(np.abs(lab) * (_fin(np.abs(sh)) + _fin(np.abs(lse)) + C / 2 + 2), -1)
        Sb = (C + 4) * _fin(sm) + np.abs(lab)
        return {"loss": (loss, Sl, C), "backprop": (bp, Sb, C)}
    return ref


def ref_l2(dt):
    def ref(rec, b):
        x = f64(b.arr(rec["inputs"]["t"]), dt)
        with np.errstate(all="ignore"):
            v = np.sum(x * x) / 2
        return {"output": (v, v, x.size)}
    return ref


def ref_bag(dt, fmt):
    def ref(rec, b):
        x = f64(b.arr(rec["inputs"]["out_backprop"]), dt)
        c = 1 if (fmt == "NCHW" and x.ndim > 2) else x.ndim - 1
        axes = tuple(i for i in range(x.ndim) if i != c)
        n = int(np.prod([x.shape[i] for i in axes]))
        with np.errstate(all="ignore"):
            return {"output": (x.sum(axes), np.abs(x).sum(axes), n)}
    return ref


class Gen:
    def __init__(self):
        self.b = MathBuilder(NAME, FAMILY)
        self.r = Rand(20250306)
        self.k = 0

    def logits(self, shape, dt, scale=5.0):
        return self.r(shape, dt, -scale, scale)

    def softmax(self, op):
        log = op == "LogSoftmax"
        out = "logsoftmax" if log else "softmax"
        del out
        for dt in cpu_dtypes(op):
            self.k += 1
            C = 16 + self.k % 8
            for shp in [(3, C), (C,), (2, 3, 5), (2, 2, 2, 9), (4, 1), (0, 4), (2, 0), (2, 67)]:
                self.b(op, {"logits": self.logits(shp, dt)}, None, tfd=tfd(dt, "logits"), tags=[dt],
                       note=f"shape {list(shp)}", ref=ref_softmax(dt, log))
            big = self.logits((3, 7), dt, 1e4 if dt != "float16" else 6e4)
            self.b(op, {"logits": big}, None, tfd=tfd(dt, "logits"), tags=[dt, "large"], ref=ref_softmax(dt, log))
            if dt in FLOATS:
                sp = store([[np.nan, 1, 2, 3], [np.inf, 1, 2, 3], [-np.inf, 1, 2, 3], [-np.inf] * 4,
                            [np.inf, np.inf, 0, 0], [-0.0, 0.0, -0.0, 0.0], [1e-40, -1e-40, 0, 0],
                            [-np.inf, -np.inf, 5, -np.inf]], dt)
                self.b(op, {"logits": sp}, None, tfd=tfd(dt, "logits"), tags=[dt, "specials", "nan"],
                       ref=ref_softmax(dt, log))
        r = self.r
        self.b(op, {"logits": np.float32(1)}, None, tags=["rank"], err=True)
        self.b.dtype_errors(op, lambda d: ({"logits": r((2, 3), d, -3, 3)}, None, tfd(d, "logits")))

    def xent(self):
        op = "SoftmaxCrossEntropyWithLogits"
        r = self.r
        for dt in cpu_dtypes(op):
            self.k += 1
            C = 16 + self.k % 8
            t = tfd(dt, "features", "labels")
            for fs, ls, kind in [((3, C), (3, C), "dist"), ((4, 5), (4, 5), "arbitrary"), ((1, 6), (3, 6), "dist"),
                                 ((3, 6), (1, 6), "dist"), ((0, 3), (0, 3), "dist"), ((2, 1), (2, 1), "dist"),
                                 ((2, 40), (2, 40), "onehot")]:
                x = self.logits(fs, dt)
                if kind == "dist":
                    p = r.rng.random(ls) + 1e-3
                    lab = store(p / p.sum(-1, keepdims=True), dt)
                elif kind == "onehot":
                    lab = store(np.eye(ls[1])[r.rng.integers(0, ls[1], ls[0])], dt)
                else:
                    lab = r(ls, dt, -2.0, 2.0)
                self.b(op, {"features": x, "labels": lab}, None, tfd=t, tags=[dt, kind],
                       note=f"features {list(fs)} labels {list(ls)}", ref=ref_xent(dt, False))
            if dt in FLOATS:
                x = store([[np.nan, 1, 2], [np.inf, 1, 2], [-np.inf, 1, 2], [1e4, -1e4, 0]], dt)
                lab = store([[0.2, 0.3, 0.5], [0.2, 0.3, 0.5], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5]], dt)
                self.b(op, {"features": x, "labels": lab}, None, tfd=t, tags=[dt, "specials", "nan"],
                       ref=ref_xent(dt, False))
        f = self.logits((2, 3), "float32")
        self.b(op, {"features": f, "labels": self.logits((2, 4), "float32")}, None, tags=["shape"], err=True)
        self.b(op, {"features": self.logits((3,), "float32"), "labels": self.logits((3,), "float32")}, None,
               tags=["rank"], err=True)
        self.b(op, {"features": self.logits((2, 2, 3), "float32"), "labels": self.logits((2, 2, 3), "float32")},
               None, tags=["rank"], err=True)
        self.b(op, {"features": f, "labels": self.logits((2, 3), "float64")}, None, tags=["dtype_mismatch"], err=True)
        self.b.dtype_errors(op, lambda d: ({"features": r((2, 3), d, -3, 3), "labels": r((2, 3), d, 0, 1)}, None,
                                           tfd(d, "features", "labels")))

    def sparse(self):
        op = "SparseSoftmaxCrossEntropyWithLogits"
        r = self.r
        for dt in cpu_dtypes(op):
            for li, ldt in enumerate(cpu_dtypes(op, "Tlabels")):
                self.k += 1
                C = 16 + self.k % 8
                t = tfd(dt, "features")
                for B, C_ in [(3, C), (5, 4), (1, 1), (0, 3), (2, 50)]:
                    x = self.logits((B, C_), dt)
                    lab = r.rng.integers(0, C_, B).astype(ldt)
                    self.b(op, {"features": x, "labels": lab}, None, tfd=t, tags=[dt, ldt], note=f"B={B} C={C_}",
                           ref=ref_xent(dt, True))
                if dt in FLOATS and li == 0:
                    x = store([[np.nan, 1, 2], [np.inf, 1, 2], [-np.inf, 1, 2], [1e4, -1e4, 0], [-np.inf, 1, 2]], dt)
                    lab = np.array([1, 1, 1, 1, 0], ldt)
                    self.b(op, {"features": x, "labels": lab}, None, tfd=t, tags=[dt, "specials", "nan"],
                           ref=ref_xent(dt, True), note="last row: the label's logit is -inf")
        f = self.logits((2, 3), "float32")
        self.b(op, {"features": f, "labels": np.array([0, 3], np.int32)}, None, tags=["label_range"], err=True)
        self.b(op, {"features": f, "labels": np.array([-1, 0], np.int64)}, None, tags=["label_range"], err=True)
        self.b(op, {"features": f, "labels": np.array([0, 1, 2], np.int32)}, None, tags=["shape"], err=True)
        self.b(op, {"features": f, "labels": np.array([[0], [1]], np.int32)}, None, tags=["rank"], err=True)
        self.b(op, {"features": self.logits((3,), "float32"), "labels": np.array(0, np.int32)}, None,
               tags=["rank"], err=True)
        self.b(op, {"features": f, "labels": np.array([0.0, 1.0], np.float32)}, None, tags=["dtype"], err=True)
        self.b.dtype_errors(op, lambda d: ({"features": r((2, 3), d, -3, 3), "labels": np.array([0, 1], np.int32)},
                                           None, tfd(d, "features")))

    def l2loss(self):
        op = "L2Loss"
        r = self.r
        for dt in cpu_dtypes(op):
            for shp in [(16 + self.k % 8,), (3, 4, 5), (), (0, 3), (1030,)]:
                self.k += 1
                self.b(op, {"t": r(shp, dt, -4.0, 4.0)}, None, tfd=tfd(dt, "t"), tags=[dt], ref=ref_l2(dt),
                       note=f"shape {list(shp)}")
            if dt in FLOATS:
                self.b(op, {"t": specials(dt, with_nans=False)[:4]}, None, tfd=tfd(dt, "t"), tags=[dt, "specials"],
                       ref=ref_l2(dt), note="inf, -inf, 0, -0")
                self.b(op, {"t": store([1e-20, -3e-21, 1e-40, 2.0], dt)}, None, tfd=tfd(dt, "t"),
                       tags=[dt, "daz"], ref=ref_l2(dt), note="squares below the normal range flush to 0")
        self.b.dtype_errors(op, lambda d: ({"t": r((2, 3), d, -3, 3)}, None, tfd(d, "t")))

    def bias_add_grad(self):
        op = "BiasAddGrad"
        r = self.r
        for dt in cpu_dtypes(op):
            self.k += 1
            for fmt, shp in [("NHWC", (2, 3, 4, 5)), ("NHWC", (16 + self.k % 8, 3)), ("NCHW", (2, 3, 4, 5)),
                             ("NCHW", (2, 3, 4)), ("NHWC", (2, 1, 2, 2, 3)), ("NCHW", (3, 5)), ("NHWC", (0, 3))]:
                if dt in INTS:
                    info = np.iinfo(storage(dt))
                    x = r(shp, dt, max(-20, int(info.min)), 20)
                else:
                    x = r(shp, dt, -4.0, 4.0)
                self.b(op, {"out_backprop": x}, {"data_format": fmt}, tfd=tfd(dt, "out_backprop"), tags=[dt, fmt.lower()],
                       note=f"{fmt} {list(shp)}", ref=ref_bag(dt, fmt))
            if dt in FLOATS:
                sp = specials(dt)
                m = len(sp) - len(sp) % 2
                self.b(op, {"out_backprop": sp[:m].reshape(-1, 2)}, None, tfd=tfd(dt, "out_backprop"),
                       tags=[dt, "specials", "nan"], ref=ref_bag(dt, "NHWC"))
            if dt in INTS:
                self.b(op, {"out_backprop": int_extremes(dt)[:6].reshape(3, 2)}, None, tags=[dt, "int_extremes"])
        self.b(op, {"out_backprop": r((4,), "float32")}, None, tags=["rank"], err=True)
        self.b(op, {"out_backprop": np.float32(1)}, None, tags=["rank"], err=True)
        self.b.dtype_errors(op, lambda d: ({"out_backprop": r((2, 3), d, -3, 3)}, None, tfd(d, "out_backprop")))

    def build(self):
        self.l2loss()
        self.softmax("Softmax")
        self.softmax("LogSoftmax")
        self.xent()
        self.sparse()
        self.bias_add_grad()
        return self.b


def make(root=FIXTURES):
    return Gen().build().write(root)


if __name__ == "__main__":
    print("wrote", make())
