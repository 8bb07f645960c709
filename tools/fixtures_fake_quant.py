"""Fixture set `tests/fixtures/fake_quant/` for the six FakeQuant* ops (dev-only: needs TensorFlow).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/fixtures_fake_quant.py      # writes <repo>/tests/fixtures/fake_quant

Covers FakeQuantWithMinMaxArgs[Gradient], FakeQuantWithMinMaxVars[Gradient] and
FakeQuantWithMinMaxVarsPerChannel[Gradient] on a deterministic grid (fixed numpy seeds), all float32.

A small float32 numpy model of the TF kernels (`_ref_*`, derived from fake_quant_ops_functor.h and checked
against TF by this script) is used only to *tag* cases: `daz_sensitive` marks cases whose result depends on
whether denormals are flushed to zero (TF runs its kernels with FTZ/DAZ on), and to report how many cases
the model reproduces. The fixtures themselves are always what TF computed.
"""
from __future__ import annotations

import collections
import json
import math
import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from fixture_lib import FixtureSet  # noqa: E402

NAME = "fake_quant"
ARGS = "FakeQuantWithMinMaxArgs"
ARGS_G = "FakeQuantWithMinMaxArgsGradient"
VARS = "FakeQuantWithMinMaxVars"
VARS_G = "FakeQuantWithMinMaxVarsGradient"
PC = "FakeQuantWithMinMaxVarsPerChannel"
PC_G = "FakeQuantWithMinMaxVarsPerChannelGradient"
ALL_OPS = [ARGS, ARGS_G, VARS, VARS_G, PC, PC_G]
GRAD_OPS = {ARGS_G, VARS_G, PC_G}

F = np.float32
TINY = F(np.finfo(np.float32).tiny)          # smallest normal float32
FMAX = F(np.finfo(np.float32).max)
PINF, NINF, NAN = F(np.inf), F(-np.inf), F(np.nan)
BITS_ALL = [2, 3, 4, 5, 7, 8, 9, 12, 15, 16]
BITS_FEW = [2, 8, 16]
SPECIALS = [NAN, PINF, NINF, 0.0, -0.0, 1e-40, -1e-40, 1e-45, -1e-45, NAN, NINF, FMAX, -FMAX, TINY, -TINY,
            1.0, -1.0, NAN, PINF]          # NaN / inf both in the vectorised body and the scalar tail

REQUIRED_TAGS = ["typical", "zero_min", "min_gt_0", "max_lt_0", "nudge", "zp_half", "zp_just_below_half",
                 "symmetric", "tiny", "denormal_ftz", "huge", "min_eq_max_eq_0", "min_eq_max",
                 "unchecked_invalid_range", "nan_range", "nonfinite_inputs", "signed_zero", "denormal_inputs",
                 "daz_sensitive", "round_half", "nudged_bounds", "nonfinite_gradients", "scalar", "empty",
                 "per_channel_edges", "per_channel_random", "large_random", "documented", "error"]


def f32(x):
    return np.asarray(x, dtype=F)


def fattr(x):
    """A float attr as the exact float32 value TF will store (keeps cases.json == what ran)."""
    return float(F(x))


def qrange(bits, narrow):
    return (1 if narrow else 0), (1 << bits) - 1


# ----------------------------------------------------------------------------------------------------------
# float32 model of the TF kernels (only for tagging / self-check; `daz` flushes every operand and result)

def _fz(x, daz):
    x = np.asarray(x, F)
    if not daz:
        return x
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(x) < TINY, np.copysign(F(0), x), x).astype(F)


def _ref_nudge(mn, mx, qmin, qmax, daz):
    with np.errstate(all="ignore"):
        mn, mx = _fz(F(mn), daz), _fz(F(mx), daz)
        qminf, qmaxf = F(qmin), F(qmax)
        scale = _fz((mx - mn) / (qmaxf - qminf), daz)
        inv = _fz((qmaxf - qminf) / (mx - mn), daz)
        zpf = _fz(qminf - _fz(mn / scale, daz), daz)
        if zpf < qminf:
            zp = qmin
        elif zpf > qmaxf:
            zp = qmax
        elif np.isnan(zpf):
            zp = 0                              # static_cast<uint16>(NaN): 0 on x86
        else:
            zp = int(math.floor(float(zpf) + 0.5))   # std::round, zpf >= 0 here
        nmin = _fz((qminf - F(zp)) * scale, daz)
        nmax = _fz((qmaxf - F(zp)) * scale, daz)
    return F(nmin), F(nmax), F(scale), F(inv)


def _ref_fwd(x, mn, mx, qmin, qmax, daz, *, div, special0):
    x = _fz(x, daz)
    if special0 and _fz(F(mn), daz) == 0 and _fz(F(mx), daz) == 0:
        return np.zeros_like(x)
    nmin, nmax, scale, inv = _ref_nudge(mn, mx, qmin, qmax, daz)
    with np.errstate(all="ignore"):
        qz = np.floor(_fz(_fz(-nmin * inv, daz) + F(0.5), daz))
        cl = np.where(nmax < x, nmax, x)           # std::min(x, nmax)
        cl = np.where(cl < nmin, nmin, cl)         # std::max(., nmin)
        cs = _fz(cl - nmin, daz)
        t = _fz(cs / scale, daz) if div else _fz(cs * inv, daz)
        t = _fz(_fz(t - qz, daz) + F(0.5), daz)
        return _fz(np.floor(t) * scale, daz).astype(F)


def _ref_grad(g, x, mn, mx, qmin, qmax, daz, *, special0):
    g, x = _fz(g, daz), _fz(x, daz)
    if special0 and _fz(F(mn), daz) == 0 and _fz(F(mx), daz) == 0:
        return g.copy(), F(0), F(0)
    nmin, nmax, _, _ = _ref_nudge(mn, mx, qmin, qmax, daz)
    with np.errstate(all="ignore"):
        inr = ((x >= nmin) & (x <= nmax)).astype(F)
        below, above = (x < nmin).astype(F), (x > nmax).astype(F)
        bi = _fz(g * inr, daz)
        bmin = F(np.sum((g * below).astype(np.float64)))
        bmax = F(np.sum((g * above).astype(np.float64)))
    return bi, bmin, bmax


def ref_outputs(op, ins, attrs, daz):
    qmin, qmax = qrange(attrs.get("num_bits", 8), attrs.get("narrow_range", False))
    if op == ARGS:
        return [_ref_fwd(ins["inputs"], attrs["min"], attrs["max"], qmin, qmax, daz, div=False, special0=False)]
    if op == ARGS_G:
        return [_ref_grad(ins["gradients"], ins["inputs"], attrs["min"], attrs["max"], qmin, qmax, daz,
                          special0=False)[0]]
    if op == VARS:
        return [_ref_fwd(ins["inputs"], ins["min"], ins["max"], qmin, qmax, daz, div=True, special0=True)]
    if op == VARS_G:
        return list(_ref_grad(ins["gradients"], ins["inputs"], ins["min"], ins["max"], qmin, qmax, daz,
                              special0=True))
    x = f32(ins["inputs"])
    c = x.shape[-1]
    rows = int(np.prod(x.shape[:-1]))
    x2 = x.reshape(rows, c)
    if op == PC:
        out = np.empty_like(x2)
        for i in range(c):
            out[:, i] = _ref_fwd(x2[:, i], ins["min"][i], ins["max"][i], qmin, qmax, daz, div=False, special0=True)
        return [out.reshape(x.shape)]
    g2 = f32(ins["gradients"]).reshape(rows, c)
    bi, bmin, bmax = np.empty_like(x2), np.empty(c, F), np.empty(c, F)
    for i in range(c):
        bi[:, i], bmin[i], bmax[i] = _ref_grad(g2[:, i], x2[:, i], ins["min"][i], ins["max"][i], qmin, qmax,
                                               daz, special0=True)
    return [bi.reshape(x.shape), bmin, bmax]


def _same(a, b, atol=None):
    """Bitwise equality (any NaN equals any NaN); with atol, finite values within atol."""
    a, b = f32(a), f32(b)
    if a.shape != b.shape:
        return False
    nan = np.isnan(a) & np.isnan(b)
    if atol is None:
        return bool(np.all(nan | (a.view(np.uint32) == b.view(np.uint32))))
    fin = np.isfinite(a) & np.isfinite(b)
    with np.errstate(invalid="ignore"):
        close = fin & (np.abs(a.astype(np.float64) - b) <= np.asarray(atol, np.float64))
    return bool(np.all(nan | close | (a == b)))


def _ref_matches(op, ins, attrs, outs, daz, atols):
    try:
        ref = ref_outputs(op, ins, attrs, daz)
    except Exception:  # noqa: BLE001 - the model is best effort
        return False
    for i, (r, o) in enumerate(zip(ref, outs)):
        if not _same(r, o, None if i == 0 else atols[i - 1]):
            return False
    return True


# ----------------------------------------------------------------------------------------------------------
# ranges and probe inputs

def _zp_half_range(bits, narrow, below=False):
    """(min, max) whose zero_point_from_min is exactly m+0.5 in float32 (or the float just below)."""
    qmin, qmax = qrange(bits, narrow)
    n = qmax - qmin
    m = max(n // 3, 0)
    s = F(2.0 ** -3)
    mn = F(-(m + 0.5) * s)
    mx = F(mn + s * n)
    assert float(F(qmin) - mn / ((mx - mn) / F(n))) == qmin + m + 0.5
    if not below:
        return float(mn), float(mx)
    target = qmin + m + 0.5
    for _ in range(100000):
        mn = np.nextafter(mn, F(0))
        zpf = F(qmin) - mn / ((mx - mn) / F(n))
        if float(zpf) < target:
            assert float(zpf) > target - 0.01, (bits, narrow, zpf)
            return float(mn), float(mx)
    raise AssertionError("no just-below-half range")


def ranges_for(bits, narrow):
    """[(label, min, max, tags)] valid for every op (min < max, finite)."""
    zh = _zp_half_range(bits, narrow)
    zb = _zp_half_range(bits, narrow, below=True)
    return [
        ("typical", -6.0, 6.0, ["typical"]),
        ("zp_half", *zh, ["nudge", "zp_half"]),
        ("zp_just_below_half", *zb, ["nudge", "zp_just_below_half"]),
        ("nudge_a", -1.7, 8.3, ["nudge"]),
        ("nudge_b", -0.13, 3.7, ["nudge"]),
        ("nudge_c", -4.2, 0.9, ["nudge"]),
        ("zero_min", 0.0, 5.0, ["zero_min"]),
        ("zero_max", -5.0, 0.0, ["zero_max"]),
        ("min_gt_0_a", 1.0, 5.0, ["min_gt_0"]),
        ("min_gt_0_b", 0.5, 10.0, ["min_gt_0"]),
        ("max_lt_0_a", -5.0, -1.0, ["max_lt_0"]),
        ("max_lt_0_b", -10.0, -0.5, ["max_lt_0"]),
        ("symmetric_1", -1.0, 1.0, ["symmetric"]),
        ("symmetric_10", -10.0, 10.0, ["symmetric"]),
        ("tiny_1e30", -1e-30, 2e-30, ["tiny"]),
        ("tiny_1e37", -2e-37, 3e-37, ["tiny"]),
        ("tiny_1e38", -1e-38, 1e-38, ["tiny"]),
        ("tiny_1e40", -1e-40, 1e-40, ["tiny"]),
        ("huge_1e30", -1e30, 1e30, ["huge"]),
        ("huge_pos_1e30", 0.0, 1e30, ["huge", "zero_min"]),
        ("huge_1e38", -1e38, 2e38, ["huge"]),
        ("huge_overflow", -3e38, 3e38, ["huge", "overflow"]),
    ]


# extra (min, max) pairs only the Vars / PerChannel ops accept (their min/max are unchecked tensors)
VARS_ONLY_RANGES = [
    ("min_eq_max_eq_0", 0.0, 0.0, ["min_eq_max_eq_0"]),
    ("neg0_pos0", -0.0, 0.0, ["min_eq_max_eq_0", "signed_zero"]),
    ("min_eq_max_1", 1.0, 1.0, ["min_eq_max"]),
    ("min_eq_max_m2", -2.0, -2.0, ["min_eq_max"]),
    ("min_eq_max_denormal", 3e-39, 3e-39, ["min_eq_max", "tiny"]),
    ("invalid_6_m6", 6.0, -6.0, ["unchecked_invalid_range"]),
    ("invalid_5_1", 5.0, 1.0, ["unchecked_invalid_range"]),
    ("invalid_0_m1", 0.0, -1.0, ["unchecked_invalid_range"]),
    ("nan_min", np.nan, 5.0, ["nan_range"]),
    ("nan_max", 0.0, np.nan, ["nan_range"]),
    ("nan_both", np.nan, np.nan, ["nan_range"]),
    ("inf_min", -np.inf, 6.0, ["inf_range"]),
    ("inf_max", -6.0, np.inf, ["inf_range"]),
    ("inf_both", -np.inf, np.inf, ["inf_range"]),
]


def range_tags(mn, mx, bits, narrow, tags):
    """Range tags plus `denormal_ftz` when min, max, the scale or its inverse is a float32 denormal."""
    tags = list(tags)
    qmin, qmax = qrange(bits, narrow)
    with np.errstate(all="ignore"):
        scale = (F(mx) - F(mn)) / F(qmax - qmin)
        inv = F(qmax - qmin) / (F(mx) - F(mn))
    den = [v for v in (F(mn), F(mx), scale, inv) if np.isfinite(v) and 0 < abs(v) < TINY]
    if den and "denormal_ftz" not in tags:
        tags.append("denormal_ftz")
    return tags


def _finite(vals):
    v = f32(vals).ravel()
    return v[np.isfinite(v)]


def probe(mn, mx, bits, narrow, rng):
    """Inputs for one range: levels, half-way points (+ float neighbours), nudged bounds (+ just outside),
    raw min/max and a few random values. Returns (array, extra tags)."""
    qmin, qmax = qrange(bits, narrow)
    nmin, nmax, scale, _ = _ref_nudge(mn, mx, qmin, qmax, True)
    tags = []
    parts = [f32([0.0])]
    with np.errstate(all="ignore"):
        parts.append(_finite([mn, mx, np.nextafter(F(mn), NINF), np.nextafter(F(mn), PINF),
                              np.nextafter(F(mx), NINF), np.nextafter(F(mx), PINF)]))
        if np.isfinite([nmin, nmax, scale]).all() and scale > 0 and nmax > nmin:
            n = qmax - qmin
            zp = int(round(float(-nmin / scale)))
            if n <= 40:
                ks = np.arange(n + 1)
            else:
                ks = np.unique(np.concatenate([[0, 1, 2, n - 2, n - 1, n, zp - 1, zp, zp + 1],
                                               rng.integers(0, n + 1, 24)]))
                ks = ks[(ks >= 0) & (ks <= n)]
            s64, m64 = np.float64(scale), np.float64(nmin)
            levels = _finite(m64 + ks * s64)
            kk = ks[ks < n]
            mids = _finite(m64 + (kk + 0.5) * s64)
            w = np.float64(nmax) - m64
            parts += [levels, mids, np.nextafter(mids, PINF), np.nextafter(mids, NINF)]
            parts.append(_finite([nmin, nmax, np.nextafter(nmin, NINF), np.nextafter(nmin, PINF),
                                  np.nextafter(nmax, NINF), np.nextafter(nmax, PINF),
                                  m64 - s64, np.float64(nmax) + s64, m64 - s64 / 2, np.float64(nmax) + s64 / 2,
                                  m64 - w, np.float64(nmax) + w]))
            parts.append(_finite(rng.uniform(m64 - 0.2 * w, np.float64(nmax) + 0.2 * w, 16)))
            tags += ["round_half", "nudged_bounds"]
        else:
            mag = max([abs(float(v)) for v in (mn, mx) if np.isfinite(v) and v != 0] or [6.0])
            mag = min(mag, 1e38)
            parts.append(_finite(mag * np.array([-1.5, -1, -0.5, -0.25, -1e-3, 1e-3, 0.25, 0.5, 1, 1.5])))
            parts.append(_finite(rng.uniform(-1.2 * mag, 1.2 * mag, 16)))
    x = np.concatenate(parts).astype(F)
    if not (np.isfinite(scale) and abs(scale) < 1e-20):
        x = x[~((x != 0) & (np.abs(x) < TINY))]     # denormals only where the range itself is tiny
    return x, tags


def specials(mn, mx, bits, narrow):
    qmin, qmax = qrange(bits, narrow)
    nmin, nmax, _, _ = _ref_nudge(mn, mx, qmin, qmax, True)
    v = list(SPECIALS) + [nmin, nmax, -0.0]
    return f32(v)


# ----------------------------------------------------------------------------------------------------------
# building the set

class Builder:
    def __init__(self):
        self.fs = FixtureSet(NAME)
        self.ref_ok = collections.Counter()
        self.ref_bad = collections.defaultdict(list)

    def _run_abs(self, op, ins, attrs):
        """TF's own sum|g*mask| for the gradient op (rerun with |gradients|) -> sum_outputs atol."""
        ins2 = dict(ins)
        ins2["gradients"] = np.abs(f32(ins["gradients"]))
        try:
            with tf.device("/CPU:0"):
                r = getattr(tf.raw_ops, op)(**{k: tf.constant(v) for k, v in ins2.items()}, **attrs)
        except (tf.errors.OpError, ValueError, TypeError):
            return None
        atols = []
        for t in (r[1], r[2]):
            a = 1e-5 * np.abs(t.numpy().astype(np.float64)) + 1e-6
            a = np.where(np.isfinite(a), a, float(FMAX))
            atols.append(float(a) if a.ndim == 0 else [float(x) for x in a])
        return atols

    def case(self, op, ins, attrs, tags, label, note=None):
        ins = {k: f32(v) for k, v in ins.items()}
        atols = None
        sum_outputs = None
        if op in (VARS_G, PC_G):
            atols = self._run_abs(op, ins, attrs)
            if atols is not None:
                sum_outputs = {"backprop_wrt_min": atols[0], "backprop_wrt_max": atols[1]}
        tags = list(dict.fromkeys(tags))
        if attrs.get("narrow_range") and "narrow_range" not in tags:
            tags.append("narrow_range")
        has_nonfinite_in = any(not np.isfinite(v).all() for k, v in ins.items() if k == "inputs")
        has_den_in = any(np.any((v != 0) & (np.abs(v) < TINY)) for k, v in ins.items()
                         if k in ("inputs", "gradients"))
        if has_nonfinite_in and "nonfinite_inputs" not in tags:
            tags.append("nonfinite_inputs")
        if has_den_in and "denormal_inputs" not in tags:
            tags.append("denormal_inputs")
        if "gradients" in ins and not np.isfinite(ins["gradients"]).all() and "nonfinite_gradients" not in tags:
            tags.append("nonfinite_gradients")
        # TF result first (without the daz tag), then decide daz_sensitive from the float32 model
        rec = self.fs.case(op, ins, attrs, tags=tags, note=note,
                           case_id=f"{len(self.fs.cases):04d}_{op}_{label}", sum_outputs=sum_outputs)
        if "expect_error" in rec:
            if "error" not in rec["tags"]:
                rec["tags"].append("error")
            if ("min has to be smaller than max" in rec["expect_error"]["message"]
                    and attrs["min"] < attrs["max"]):
                rec["tags"].append("daz_sensitive")      # denormal attrs flushed to +-0 before the check
            return rec
        outs = [self.fs.arrays[o["key"]] for o in rec["outputs"]]
        at = atols or [None, None]
        if _ref_matches(op, ins, attrs, outs, True, at):
            self.ref_ok[op] += 1
        else:
            self.ref_bad[op].append(rec["id"])
        try:
            r_daz = ref_outputs(op, ins, attrs, True)
            r_ieee = ref_outputs(op, ins, attrs, False)
            sens = not all(_same(a, b, None if i == 0 else at[i - 1])
                           for i, (a, b) in enumerate(zip(r_daz, r_ieee)))
        except Exception:  # noqa: BLE001
            sens = False
        if sens:
            rec["tags"].append("daz_sensitive")
        return rec

    # -- per family -------------------------------------------------------------------------------------
    def scalar_family(self, op, mn, mx, bits, narrow, x, tags, label, g=None, note=None):
        """Args/Vars style call (scalar range)."""
        attrs = {"num_bits": bits, "narrow_range": narrow}
        ins = {}
        if op in GRAD_OPS:
            ins["gradients"] = g
        ins["inputs"] = x
        if op in (ARGS, ARGS_G):
            attrs = {"min": fattr(mn), "max": fattr(mx), **attrs}
        else:
            ins["min"], ins["max"] = f32(mn), f32(mx)
        return self.case(op, ins, attrs, range_tags(mn, mx, bits, narrow, tags), label, note)

    def per_channel(self, op, mins, maxs, bits, narrow, x, tags, label, g=None, note=None):
        ins = {}
        if op == PC_G:
            ins["gradients"] = g
        ins.update(inputs=x, min=f32(mins), max=f32(maxs))
        for a, b in zip(mins, maxs):
            tags = range_tags(a, b, bits, narrow, tags)
        return self.case(op, ins, {"num_bits": bits, "narrow_range": narrow}, tags, label, note)


def _grads(rng, n_or_shape, scale=3.0):
    return (rng.standard_normal(n_or_shape) * scale).astype(F)


def build() -> FixtureSet:
    b = Builder()

    # ---- documented examples (tag `documented`) --------------------------------------------------------
    b.case(ARGS, {"inputs": [[1, 2], [3, 4]]}, {"min": -6.0, "max": 6.0, "num_bits": 8, "narrow_range": False},
           ["documented", "typical"], "doc")
    b.case(ARGS_G, {"gradients": [1, 2, 3, 4], "inputs": [6, -6, -7, 0]},
           {"min": -6.0, "max": 6.0, "num_bits": 8, "narrow_range": False}, ["documented", "typical"], "doc")
    b.case(VARS, {"inputs": [10, 20, 11, 19], "min": 5.0, "max": 20.0}, {"num_bits": 8, "narrow_range": False},
           ["documented", "min_gt_0"], "doc")
    b.case(VARS_G, {"gradients": [10, 2, 3, 5], "inputs": [-1, 2, 3, 6], "min": 0.0, "max": 5.0},
           {"num_bits": 8, "narrow_range": False}, ["documented", "zero_min"], "doc")
    b.case(PC, {"inputs": [-1, 0, 5, 6], "min": [0, 0, 0, 0], "max": [5, 5, 5, 5]},
           {"num_bits": 8, "narrow_range": False}, ["documented", "zero_min"], "doc")
    b.case(PC_G, {"gradients": [10, 2, 3, 5], "inputs": [-1, 1, 5, 6], "min": [1, 1, 1, 1], "max": [5, 5, 5, 5]},
           {"num_bits": 8, "narrow_range": False}, ["documented", "min_gt_0"], "doc")

    # ---- Args / Vars families: range x num_bits x narrow_range grid --------------------------------------
    sweep_labels = {"typical", "zp_half", "zp_just_below_half", "nudge_a"}
    for fam, ops in (("args", (ARGS, ARGS_G)), ("vars", (VARS, VARS_G))):
        for op in ops:
            rng = np.random.default_rng(100 + ALL_OPS.index(op))
            grid = []
            for bits in BITS_ALL:
                for narrow in (False, True):
                    for lab, mn, mx, tg in ranges_for(bits, narrow):
                        if lab in sweep_labels or bits in BITS_FEW:
                            grid.append((bits, narrow, lab, mn, mx, tg))
                    if fam == "vars" and bits in BITS_FEW:
                        grid += [(bits, narrow, lab, mn, mx, tg) for lab, mn, mx, tg in VARS_ONLY_RANGES]
            for bits, narrow, lab, mn, mx, tg in grid:
                x, ptags = probe(mn, mx, bits, narrow, rng)
                if len(x) % 2 == 0 and bits == 8:
                    x = x.reshape(2, -1)            # some rank-2 inputs
                g = _grads(rng, x.shape) if op in GRAD_OPS else None
                tags = tg + ptags + (["num_bits_sweep"] if lab in sweep_labels else [])
                b.scalar_family(op, mn, mx, bits, narrow, x, tags, f"{lab}_b{bits}{'n' if narrow else ''}", g=g)
            # special input values (NaN, +-inf, +-0, denormals, extremes) for every range at 8 bits
            rlist = ranges_for(8, False) + (VARS_ONLY_RANGES if fam == "vars" else [])
            for narrow in (False, True):
                for lab, mn, mx, tg in rlist:
                    x = specials(mn, mx, 8, narrow)
                    g = _grads(rng, x.shape) if op in GRAD_OPS else None
                    b.scalar_family(op, mn, mx, 8, narrow, x, tg + ["signed_zero"],
                                    f"specials_{lab}{'_n' if narrow else ''}", g=g)
            # denormal inputs around the nudged bounds of a zero-min / zero-max range (DAZ flips the masks)
            for lab, mn, mx, tg in (("zero_min", 0.0, 5.0, ["zero_min"]), ("zero_max", -5.0, 0.0, ["zero_max"])):
                x = f32([-1e-45, 1e-45, -1e-40, 1e-40, -TINY, TINY, -0.0, 0.0, 1.0, -1.0, 4.99, 5.1, -5.1])
                g = (np.arange(1, x.size + 1) * np.where(np.arange(x.size) % 2, -1, 1)).astype(F)
                if op not in GRAD_OPS:
                    g = None
                b.scalar_family(op, mn, mx, 8, False, x, tg + ["signed_zero"], f"denormals_{lab}", g=g)
            # non-finite / negative gradients
            if op in GRAD_OPS:
                rl = [("typical", -6.0, 6.0, ["typical"]), ("zero_min", 0.0, 5.0, ["zero_min"]),
                      ("nudge_a", -1.7, 8.3, ["nudge"])]
                if fam == "vars":
                    rl += [VARS_ONLY_RANGES[0], VARS_ONLY_RANGES[5]]
                for lab, mn, mx, tg in rl:
                    x = f32([-20, -7, -1, 0, 0.5, 1, 3, 4.9, 5, 7, 20, -0.3, 2.2, 9, -9])
                    g = f32([NAN, 1.5, PINF, -2.0, NINF, -0.5, 3.0, NAN, -4.0, PINF, NINF, -1.0, 2.0, -7.5, 0.25])
                    b.scalar_family(op, mn, mx, 8, False, x, tg + ["nonfinite_gradients"], f"nfgrad_{lab}", g=g)
                    # a single inf gradient on an in-range input only, and a NaN only outside the range
                    x2 = f32([-20, 1, 2, 20])
                    for nm, g2 in (("inf_in", [1, PINF, -2, 3]), ("nan_out", [NAN, 1, -2, 3]),
                                   ("ninf_out", [1, 2, -2, NINF])):
                        b.scalar_family(op, mn, mx, 8, False, x2, tg + ["nonfinite_gradients"],
                                        f"nfgrad_{nm}_{lab}", g=f32(g2))
            # 0-d and empty inputs
            for i, (mn, mx) in enumerate([(-6.0, 6.0), (0.0, 5.0), (-1.7, 8.3)]):
                for j, v in enumerate([0.3, -7.0, 2.49, NAN, 5.0]):
                    x = f32(v)
                    g = f32(-1.5 if j % 2 else 2.0) if op in GRAD_OPS else None
                    b.scalar_family(op, mn, mx, 8, bool(i == 2), x, ["scalar"], f"scalar_{i}_{j}", g=g)
            if fam == "vars":
                b.scalar_family(op, 0.0, 0.0, 8, False, f32(3.0), ["scalar", "min_eq_max_eq_0"], "scalar_00",
                                g=f32(2.0) if op in GRAD_OPS else None)
            for shape in ([0], [2, 0], [0, 3]):
                x = np.zeros(shape, F)
                g = np.zeros(shape, F) if op in GRAD_OPS else None
                b.scalar_family(op, -6.0, 6.0, 8, False, x, ["empty"], "empty_" + "x".join(map(str, shape)), g=g)
            # large random
            n = {ARGS: 50000, ARGS_G: 20000, VARS: 40000, VARS_G: 20000}[op]
            lrng = np.random.default_rng(1000 + ALL_OPS.index(op))
            x = lrng.uniform(-8, 8, n).astype(F).reshape(-1, 100)
            g = _grads(lrng, x.shape) if op in GRAD_OPS else None
            b.scalar_family(op, -6.0, 5.5, 8, False, x, ["large_random", "nudge"], "large", g=g)

    # ---- per-channel --------------------------------------------------------------------------------------
    for op in (PC, PC_G):
        rng = np.random.default_rng(200 + ALL_OPS.index(op))
        # num_bits sweep: channels typical / zp_half / zp_just_below_half / nudge
        for bits in BITS_ALL:
            for narrow in (False, True):
                rl = [r for r in ranges_for(bits, narrow) if r[0] in sweep_labels]
                cols = [probe(mn, mx, bits, narrow, rng)[0] for _, mn, mx, _ in rl]
                n = max(len(c) for c in cols)
                x = np.stack([np.resize(c, n) for c in cols], axis=-1)
                g = _grads(rng, x.shape) if op == PC_G else None
                tags = sorted({t for r in rl for t in r[3]}) + ["num_bits_sweep", "round_half", "nudged_bounds"]
                b.per_channel(op, [r[1] for r in rl], [r[2] for r in rl], bits, narrow, x, tags,
                              f"sweep_b{bits}{'n' if narrow else ''}", g=g)
        # edges: every range of the table as one channel
        for bits in BITS_FEW:
            for narrow in (False, True):
                rl = ranges_for(bits, narrow) + VARS_ONLY_RANGES
                cols = [probe(mn, mx, bits, narrow, rng)[0] for _, mn, mx, _ in rl]
                n = max(len(c) for c in cols)
                x = np.stack([np.resize(c, n) for c in cols], axis=-1)
                g = _grads(rng, x.shape) if op == PC_G else None
                tags = ["per_channel_edges"] + sorted({t for r in rl for t in r[3]}) + ["round_half", "nudged_bounds"]
                b.per_channel(op, [r[1] for r in rl], [r[2] for r in rl], bits, narrow, x, tags,
                              f"edges_b{bits}{'n' if narrow else ''}", g=g,
                              note="channels: " + ", ".join(r[0] for r in rl))
                # special values in every channel
                xs = np.stack([specials(mn, mx, bits, narrow) for _, mn, mx, _ in rl], axis=-1)
                g = _grads(rng, xs.shape) if op == PC_G else None
                b.per_channel(op, [r[1] for r in rl], [r[2] for r in rl], bits, narrow, xs,
                              ["per_channel_edges", "signed_zero"] + sorted({t for r in rl for t in r[3]}),
                              f"edges_specials_b{bits}{'n' if narrow else ''}", g=g,
                              note="channels: " + ", ".join(r[0] for r in rl))
        # random per-channel ranges, ranks 1..4, channel counts 1, 3, 4, 7 (one channel 0,0)
        i = 0
        for rank in (1, 2, 3, 4):
            for c in (1, 3, 4, 7):
                bits, narrow = BITS_ALL[i % len(BITS_ALL)], bool(i % 2)
                i += 1
                mins = -rng.uniform(0, 8, c) * rng.choice([1.0, 1.0, 0.01], c)
                maxs = rng.uniform(0.05, 8, c)
                kind = rng.integers(0, 5, c)
                mins = np.where(kind == 1, rng.uniform(0.1, 2, c), mins)        # min > 0
                maxs = np.where(kind == 1, mins + rng.uniform(0.5, 5, c), maxs)
                maxs = np.where(kind == 2, -rng.uniform(0.1, 2, c), maxs)       # max < 0
                mins = np.where(kind == 2, maxs - rng.uniform(0.5, 5, c), mins)
                mins = np.where(kind == 3, 0.0, mins)                            # zero min
                if c > 1 or rank % 2 == 0:
                    z = int(rng.integers(0, c))
                    mins[z], maxs[z] = 0.0, 0.0
                mins, maxs = f32(mins), f32(maxs)
                lead = {1: [], 2: [6], 3: [3, 4], 4: [2, 3, 2]}[rank]
                rows = int(np.prod(lead)) if lead else 1
                cols = []
                for ch in range(c):
                    p, _ = probe(mins[ch], maxs[ch], bits, narrow, rng)
                    cols.append(rng.choice(p, rows))
                x = np.stack(cols, axis=-1).reshape(lead + [c]).astype(F)
                g = _grads(rng, x.shape) if op == PC_G else None
                tags = ["per_channel_random"] + (["min_eq_max_eq_0"] if (mins == 0).any() and (maxs == 0).any()
                                                 else [])
                b.per_channel(op, mins, maxs, bits, narrow, x, tags, f"random_r{rank}_c{c}", g=g)
        # denormal inputs around zero-min / zero-max channels
        x = np.stack([f32([-1e-45, 1e-45, -1e-40, 1e-40, -TINY, TINY, -0.0, 0.0, 1.0, -1.0, 4.99, 5.1, -5.1])] * 3,
                     axis=-1)
        g = np.stack([np.arange(1, 14) * np.where(np.arange(13) % 2, -1, 1)] * 3, axis=-1).astype(F)
        b.per_channel(op, [0.0, -5.0, 0.0], [5.0, 0.0, 0.0], 8, False, x, ["zero_min", "zero_max", "signed_zero",
                      "min_eq_max_eq_0"], "denormals", g=g if op == PC_G else None)
        if op == PC_G:
            x = np.tile(f32([-20, -7, -1, 0, 0.5, 1, 3, 4.9, 5, 7, 20, -0.3, 2.2, 9, -9])[:, None], (1, 4))
            g = np.tile(f32([NAN, 1.5, PINF, -2.0, NINF, -0.5, 3.0, NAN, -4.0, PINF, NINF, -1.0, 2.0, -7.5,
                             0.25])[:, None], (1, 4))
            g[:, 3] = np.where(np.isfinite(g[:, 3]), g[:, 3], -3.0)     # last channel finite
            b.per_channel(op, [-6, 0, 0, -1.7], [6, 5, 0, 8.3], 8, False, x,
                          ["nonfinite_gradients", "typical", "zero_min", "min_eq_max_eq_0", "nudge"], "nfgrad", g=g)
            x2 = np.tile(f32([-20, 1, 2, 20])[:, None], (1, 3))
            g2 = np.stack([f32([1, PINF, -2, 3]), f32([NAN, 1, -2, 3]), f32([1, 2, -2, NINF])], axis=-1)
            b.per_channel(op, [-6, -6, -6], [6, 6, 6], 8, False, x2, ["nonfinite_gradients", "typical"],
                          "nfgrad_single", g=g2)
        # empty
        for shape, c in (([0], 0), ([2, 0], 0), ([0, 3], 3)):
            x = np.zeros(shape, F)
            b.per_channel(op, -np.ones(c, F) * 6, np.ones(c, F) * 6, 8, False, x, ["empty"],
                          "empty_" + "x".join(map(str, shape)), g=np.zeros(shape, F) if op == PC_G else None)
        # large random
        lrng = np.random.default_rng(1000 + ALL_OPS.index(op))
        shape = [8, 32, 32, 4] if op == PC else [10000, 3]
        c = shape[-1]
        mins, maxs = f32(-lrng.uniform(0.5, 8, c)), f32(lrng.uniform(0.5, 8, c))
        x = (lrng.uniform(-1.2, 1.2, shape) * np.maximum(-mins, maxs)).astype(F)
        g = _grads(lrng, shape) if op == PC_G else None
        b.per_channel(op, mins, maxs, 8, False, x, ["large_random", "nudge"], "large", g=g)

    # ---- errors -----------------------------------------------------------------------------------------
    x4 = f32([-1.0, 0.0, 1.0, 2.0])
    x23 = f32([[-1.0, 0.0, 1.0], [2.0, 3.0, -4.0]])
    for bits in (0, 1, 17, 32):
        at = {"num_bits": bits, "narrow_range": False}
        b.case(ARGS, {"inputs": x4}, {"min": -6.0, "max": 6.0, **at}, ["error", "bad_num_bits"], f"bits{bits}")
        b.case(ARGS_G, {"gradients": x4, "inputs": x4}, {"min": -6.0, "max": 6.0, **at}, ["error", "bad_num_bits"],
               f"bits{bits}")
        b.case(VARS, {"inputs": x4, "min": -6.0, "max": 6.0}, at, ["error", "bad_num_bits"], f"bits{bits}")
        b.case(VARS_G, {"gradients": x4, "inputs": x4, "min": -6.0, "max": 6.0}, at, ["error", "bad_num_bits"],
               f"bits{bits}")
        b.case(PC, {"inputs": x23, "min": [-6, -6, -6], "max": [6, 6, 6]}, at, ["error", "bad_num_bits"],
               f"bits{bits}")
        b.case(PC_G, {"gradients": x23, "inputs": x23, "min": [-6, -6, -6], "max": [6, 6, 6]}, at,
               ["error", "bad_num_bits"], f"bits{bits}")
    for mn, mx in ((6.0, -6.0), (0.0, 0.0), (1.0, 1.0)):
        at = {"min": mn, "max": mx, "num_bits": 8, "narrow_range": False}
        lab = f"range_{mn:g}_{mx:g}".replace("-", "m")
        b.case(ARGS, {"inputs": x4}, at, ["error", "bad_range"], lab)
        b.case(ARGS_G, {"gradients": x4, "inputs": x4}, at, ["error", "bad_range"], lab)
    at8 = {"num_bits": 8, "narrow_range": False}
    b.case(ARGS_G, {"gradients": x4[:3], "inputs": x4}, {"min": -6.0, "max": 6.0, **at8},
           ["error", "shape_mismatch"], "shape_mismatch")
    b.case(ARGS_G, {"gradients": x4.reshape(2, 2), "inputs": x4}, {"min": -6.0, "max": 6.0, **at8},
           ["error", "shape_mismatch"], "shape_mismatch_same_size")
    b.case(VARS, {"inputs": x4, "min": [-6.0], "max": 6.0}, at8, ["error", "bad_rank"], "min_rank1")
    b.case(VARS, {"inputs": x4, "min": -6.0, "max": [6.0]}, at8, ["error", "bad_rank"], "max_rank1")
    b.case(VARS_G, {"gradients": x4, "inputs": x4, "min": [-6.0], "max": 6.0}, at8, ["error", "bad_rank"],
           "min_rank1")
    b.case(VARS_G, {"gradients": x4[:3], "inputs": x4, "min": -6.0, "max": 6.0}, at8,
           ["error", "shape_mismatch"], "shape_mismatch")
    b.case(VARS_G, {"gradients": x4.reshape(2, 2), "inputs": x4, "min": -6.0, "max": 6.0}, at8,
           ["error", "shape_mismatch"], "shape_mismatch_same_size")
    b.case(PC, {"inputs": x23, "min": [-6, -6], "max": [6, 6, 6]}, at8, ["error", "bad_channel_size"], "min_size")
    b.case(PC, {"inputs": x23, "min": [-6, -6, -6], "max": [6, 6, 6, 6]}, at8, ["error", "bad_channel_size"],
           "max_size")
    b.case(PC, {"inputs": x23, "min": [[-6, -6, -6]], "max": [6, 6, 6]}, at8, ["error", "bad_rank"], "min_rank2")
    b.case(PC_G, {"gradients": x23, "inputs": x23, "min": [-6, -6], "max": [6, 6, 6]}, at8,
           ["error", "bad_channel_size"], "min_size")
    b.case(PC_G, {"gradients": x23, "inputs": x23, "min": [-6, -6, -6], "max": [6, 6, 6, 6]}, at8,
           ["error", "bad_channel_size"], "max_size")
    b.case(PC_G, {"gradients": x23[:1], "inputs": x23, "min": [-6, -6, -6], "max": [6, 6, 6]}, at8,
           ["error", "shape_mismatch"], "shape_mismatch")

    b.fs.ref_ok, b.fs.ref_bad = b.ref_ok, b.ref_bad
    return b.fs


DOCUMENTED = {
    ARGS: {"outputs": [[0.988235, 2.023530], [3.011765, 4.0]]},
    ARGS_G: {"backprops": [0, 2, 0, 4]},
    VARS: {},
    VARS_G: {"backprops_wrt_input": [0, 2, 3, 0], "backprop_wrt_min": 10, "backprop_wrt_max": 5},
    PC: {"outputs": [0, 0, 5, 5]},
    PC_G: {"backprops_wrt_input": [0, 2, 0, 0], "backprop_wrt_min": [10, 0, 0, 0],
           "backprop_wrt_max": [0, 0, 3, 5]},
}


def check(folder: str) -> list[str]:
    """Validate the written set; returns a list of problems (empty when fine). Prints a summary."""
    problems = []

    def no_const(s):
        raise ValueError(f"non-JSON constant {s} in cases.json")

    with open(os.path.join(folder, "cases.json")) as fh:
        man = json.load(fh, parse_constant=no_const)
    npz = np.load(os.path.join(folder, man["npz"]))
    keys = set(npz.files)
    per_op = collections.Counter()
    per_tag = collections.Counter()
    per_op_err = collections.Counter()
    for c in man["cases"]:
        per_op[c["op"]] += 1
        per_op_err[c["op"]] += "expect_error" in c
        per_tag.update(c["tags"])
        for v in c["inputs"].values():
            for k in (v if isinstance(v, list) else [v]):
                if k not in keys:
                    problems.append(f"{c['id']}: missing input array {k}")
                elif npz[k].dtype != np.float32:
                    problems.append(f"{c['id']}: input {k} is {npz[k].dtype}")
        for o in c.get("outputs", []):
            if o["key"] not in keys:
                problems.append(f"{c['id']}: missing output array {o['key']}")
        if "documented" in c["tags"] and "outputs" in c:
            exp = DOCUMENTED[c["op"]]
            got = {o["port"]: npz[o["key"]] for o in c["outputs"]}
            for port, want in exp.items():
                if not np.allclose(got[port], want, atol=1e-5, rtol=0):
                    problems.append(f"documented {c['op']} {port}: TF gives {got[port].tolist()}, doc says {want}")
            print(f"  documented {c['op']}: " + "; ".join(f"{p}={np.asarray(v).tolist()}" for p, v in got.items()))
    for op in ALL_OPS:
        if not per_op[op]:
            problems.append(f"op {op} has no cases")
    for t in REQUIRED_TAGS:
        if not per_tag[t]:
            problems.append(f"tag {t} never occurs")
    print("cases per op (of which expect_error):")
    for op in ALL_OPS:
        print(f"  {op:45s} {per_op[op]:5d} ({per_op_err[op]})")
    print(f"  {'total':45s} {sum(per_op.values()):5d}")
    print("cases per tag:")
    for t, n in sorted(per_tag.items()):
        print(f"  {t:28s} {n:5d}")
    size = os.path.getsize(os.path.join(folder, man["npz"]))
    print(f"cases.npz: {size / 1e6:.2f} MB ({len(keys)} arrays); "
          f"cases.json: {os.path.getsize(os.path.join(folder, 'cases.json')) / 1e6:.2f} MB")
    if size > 8e6:
        problems.append(f"cases.npz is {size} bytes (> 8 MB)")
    return problems


def make(root: str) -> str:
    """Build the fake_quant fixture set, write it under `root` and return its folder."""
    fs = build()
    folder = fs.write(root)
    ok, bad = getattr(fs, "ref_ok", {}), getattr(fs, "ref_bad", {})
    print("float32 model vs TF (non-error cases reproduced / not):")
    for op in ALL_OPS:
        print(f"  {op:45s} {ok.get(op, 0):5d} / {len(bad.get(op, [])):3d}"
              + (f"  e.g. {bad[op][:4]}" if bad.get(op) else ""))
    return folder


if __name__ == "__main__":
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = make(os.path.join(repo, "tests", "fixtures"))
    print("wrote", out)
    errs = check(out)
    for e in errs:
        print("PROBLEM:", e)
    sys.exit(1 if errs else 0)
