"""Shared pieces of the math/nn fixture generators (tools/fixtures_math_*.py; dev-only, needs TF).

* dtype helpers: stored form of every dtype (bfloat16 as uint16 bits, quantized on their integer base),
  eps / smallest normal / max, DAZ'd float64 views of stored arrays;
* deterministic data: random values per dtype, the float specials (NaN with payloads and both signs, a
  signalling NaN, +-inf, +-0, denormals, near-overflow, half-way values), integer extremes;
* `MathBuilder`: a FixtureSet wrapper that tags cases, traces them (FIXTURE_TRACE=1), collects surprises
  (a case that errs when it should not, or the reverse), picks the compare mode per output, and for "sum"
  outputs computes `atol = k*eps(dtype)*S + smallest_normal(dtype)`, `k = 8 + 2*ceil(log2 n)` from a
  float64 reference `(value, S, n)` the generator supplies, checks `|value - TF| <= atol/2` on every
  finite element and widens the atol (recorded in the case note and in `widened`) where it does not hold;
* `tf_ops.json` look-ups for the dtype-error cases (a dtype in the OpDef with no CPU kernel; a dtype
  outside the OpDef).
"""
from __future__ import annotations

import collections
import json
import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

from fixture_lib import FixtureSet  # noqa: E402

TRACE = bool(os.environ.get("FIXTURE_TRACE"))
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "tests", "fixtures")

FLOATS = ("float16", "bfloat16", "float32", "float64")
COMPLEX = ("complex64", "complex128")
SINTS = ("int8", "int16", "int32", "int64")
UINTS = ("uint8", "uint16", "uint32", "uint64")
INTS = SINTS + UINTS
QUANT = {"qint8": "int8", "quint8": "uint8", "qint16": "int16", "quint16": "uint16", "qint32": "int32"}

_EPS = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7, "float32": 2.0 ** -23, "float64": 2.0 ** -52}
_TINY = {"float16": 2.0 ** -14, "bfloat16": 2.0 ** -126, "float32": 2.0 ** -126, "float64": 2.0 ** -1022}
_MAX = {"float16": 65504.0, "bfloat16": float(np.float32(3.3895313892515355e38)),
        "float32": float(np.finfo(np.float32).max), "float64": float(np.finfo(np.float64).max)}


def real_dtype(dt):
    return {"complex64": "float32", "complex128": "float64"}.get(dt, dt)


def eps(dt):
    return _EPS[real_dtype(dt)]


def tiny(dt):
    return _TINY[real_dtype(dt)]


def fmax(dt):
    return _MAX[real_dtype(dt)]


def storage(dt):
    """numpy dtype an array of TF dtype `dt` is stored as."""
    if dt == "bfloat16":
        return np.dtype(np.uint16)
    if dt in QUANT:
        return np.dtype(QUANT[dt])
    if dt == "string":
        return np.dtype("S")
    return np.dtype(dt)


def tfd(dt, *ports):
    """input_tf_dtypes for ports of a dtype stored on another numpy dtype (bfloat16, quantized)."""
    return {p: dt for p in ports} if (dt == "bfloat16" or dt in QUANT) else None


# ---- bfloat16 -----------------------------------------------------------------------------------------
def f32_to_bf16_bits(x):
    """float32 values -> bfloat16 bits, round to nearest even (NaN: quiet, sign kept)."""
    b = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    nan = np.isnan(np.asarray(x, np.float32))
    r = ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)
    q = ((b >> 16) | 0x40).astype(np.uint16)
    return np.where(nan, q, r).astype(np.uint16)


def bf16_bits_to_f32(bits):
    return (np.asarray(bits, np.uint16).astype(np.uint32) << 16).view(np.float32)


def store(vals, dt):
    """float64 / int values -> the stored array of TF dtype `dt`."""
    if dt == "bfloat16":
        return f32_to_bf16_bits(np.asarray(vals, np.float64).astype(np.float32))
    if dt == "bool":
        return np.asarray(vals).astype(bool)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(vals).astype(storage(dt))


def values(arr, dt):
    """stored array -> numeric values (bfloat16 bits -> float32)."""
    if dt == "bfloat16":
        return bf16_bits_to_f32(arr)
    return np.asarray(arr)


def f64(arr, dt, daz=True):
    """stored array -> float64 (complex128 for complex), denormals flushed (float32/float64/bfloat16 and
    the complex types: TF's CPU kernels run with FTZ/DAZ; float16 is computed in float32, where its
    denormals are normal numbers, so those are kept)."""
    v = values(arr, dt)
    if np.iscomplexobj(v):
        re, im = f64(v.real, real_dtype(dt), daz), f64(v.imag, real_dtype(dt), daz)
        return re + 1j * im
    v = np.asarray(v, np.float64)
    if daz and dt in ("float32", "float64", "bfloat16"):
        with np.errstate(invalid="ignore"):
            v = np.where(np.abs(v) < tiny(dt), np.copysign(0.0, v), v)
    return v


# ---- data -----------------------------------------------------------------------------------------------
NAN_BITS = {  # quiet +NaN, quiet -NaN (x86 default), +payload, -payload, signalling (payload kept)
    "float32": (np.uint32, [0x7FC00000, 0xFFC00000, 0x7FC12345, 0xFFC00ABC, 0x7FA00001]),
    "float64": (np.uint64, [0x7FF8000000000000, 0xFFF8000000000000, 0x7FF8000000012345, 0xFFF80000000ABCDE,
                            0x7FF4000000000001]),
    "float16": (np.uint16, [0x7E00, 0xFE00, 0x7E55, 0xFE0A, 0x7D01]),
    "bfloat16": (np.uint16, [0x7FC0, 0xFFC0, 0x7FC5, 0xFFCA, 0x7F81]),
}


def nans(dt):
    """The NaN bit patterns of NAN_BITS as stored arrays (signalling last)."""
    u, bits = NAN_BITS[dt]
    a = np.array(bits, dtype=u)
    return a if dt == "bfloat16" else a.view(storage(dt))


def special_values(dt):
    """Finite and infinite specials of a float dtype as float64 values (NaNs separately: nans())."""
    t, m = tiny(dt), fmax(dt)
    den = {"float32": [1e-40, -3e-39, 1.4e-45, -1e-44], "float64": [1e-310, -5e-324, 2.2e-309],
           "float16": [6e-08, -3e-05, 1.2e-07], "bfloat16": [1e-39, -5e-40, 9.2e-41]}[dt]
    v = [np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.0, 0.1, -7.0,
         m, -m, m / 2, t, -t] + den
    return np.array(v, np.float64)


def specials(dt, with_nans=True):
    """Stored array of every special of a float dtype (NaNs included unless with_nans=False)."""
    a = store(special_values(dt), dt)
    if with_nans:
        a = np.concatenate([a, nans(dt)])
    return a


def int_extremes(dt):
    info = np.iinfo(storage(dt))
    v = [0, 1, info.max, info.min, info.max - 1, 7, 3]
    if info.min < 0:
        v += [-1, info.min + 1, -7, -3]
    return np.array(v, dtype=object).astype(storage(dt))


class Rand:
    """Deterministic random stored arrays per dtype."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def __call__(self, shape, dt, lo=-4.0, hi=4.0, *, nonzero=False, positive=False):
        shape = tuple(int(s) for s in shape)
        n = int(np.prod(shape, dtype=np.int64))
        if dt == "bool":
            return self.rng.random(shape) < 0.5
        if dt in COMPLEX:
            re = self.rng.uniform(lo, hi, shape)
            im = self.rng.uniform(lo, hi, shape)
            a = (re + 1j * im).astype(dt)
            if nonzero:
                a = np.where(a == 0, 1, a).astype(dt)
            return a
        if dt in FLOATS:
            if positive:
                lo = max(lo, 0.0)
            v = self.rng.uniform(lo, hi, shape)
            if nonzero:
                v = np.where(np.abs(v) < 1e-3, 1.0, v)
            return store(v, dt)
        if dt == "string":
            return np.array([b"s%d" % int(x) for x in self.rng.integers(0, 5, n)], dtype="S").reshape(shape)
        base = storage(dt)
        info = np.iinfo(base)
        ilo, ihi = max(int(lo), int(info.min)), min(int(hi), int(info.max))
        if positive or info.min == 0:
            ilo = max(ilo, 0)
            if ihi <= ilo:
                ihi = ilo + 9
        a = self.rng.integers(ilo, ihi + 1, shape).astype(base)
        if nonzero:
            a = np.where(a == 0, 1, a).astype(base)
        return a

    def perm(self, a):
        return a[self.rng.permutation(len(a))]

    def choice(self, seq):
        return seq[int(self.rng.integers(0, len(seq)))]


def tail_sizes(base=8):
    """Lengths 8k + r for r = 0..7 (both the packet loop and the scalar tail)."""
    return [8 * 2 + r for r in range(8)]


# ---- tf_ops.json -----------------------------------------------------------------------------------------
_OPS = None


def op_table():
    global _OPS
    if _OPS is None:
        with open(os.path.join(FIXTURES, "tf_ops.json")) as fh:
            _OPS = json.load(fh)
    return _OPS


def cpu_dtypes(op, attr="T"):
    return list(op_table()[op]["cpu_dtypes"].get(attr, []))


def opdef_dtypes(op, attr="T"):
    for a in op_table()[op]["attrs"]:
        if a["name"] == attr:
            return list(a["allowed_values"] or [])
    return []


PREF = ["float32", "int32", "float64", "int64", "float16", "bfloat16", "complex64", "uint8", "int8", "bool",
        "int16", "uint16", "uint32", "uint64", "complex128", "string", "qint8", "quint8", "qint32"]


def unregistered_dtype(op, attr="T"):
    """A dtype the OpDef allows for `attr` but no CPU kernel has (NotFoundError), or None."""
    cpu = set(cpu_dtypes(op, attr))
    for d in PREF:
        if d in opdef_dtypes(op, attr) and d not in cpu:
            return d
    return None


def disallowed_dtype(op, attr="T"):
    """A dtype outside the OpDef's allowed list (the attr check fails), or None."""
    allowed = opdef_dtypes(op, attr)
    if not allowed:
        return None
    for d in ["bool", "string", "int32", "float32", "complex64", "int8", "uint8"]:
        if d not in allowed:
            return d
    return None


# ---- the builder -----------------------------------------------------------------------------------------
def k_of(n):
    """k = 8 + 2*ceil(log2 n) (n >= 1; n may be an array of per-element term counts)."""
    n = np.maximum(np.asarray(n, np.float64), 1.0)
    k = 8 + 2 * np.ceil(np.log2(n))
    return float(k) if k.ndim == 0 else k


def sum_atol(S, n, dt):
    """atol = k * eps(dt) * S + smallest_normal(dt)."""
    return k_of(n) * eps(dt) * np.asarray(S, np.float64) + tiny(dt)


class MathBuilder:
    def __init__(self, name, family_of=None):
        self.fs = FixtureSet(name)
        self.family_of = family_of or {}
        self.surprises = []
        self.widened = []
        self.ratio = collections.defaultdict(float)     # op -> max |f64 - TF| / atol
        self.ops_order = []

    def arr(self, key):
        return self.fs.arrays[key]

    def __call__(self, op, inputs, attrs=None, *, tfd=None, tags=(), note=None, err=False, ulp=False,
                 ref=None, run=None, state_after=None, compare=None, exact_ports=()):
        """One case. ulp: float/complex outputs compared within 1 ulp (True, or a set of ports).
        ref: function(rec, builder) -> {port: (float64 value, S, n)} for "sum" outputs (float outputs only; the
        integer/bool outputs of a ref'd op stay exact). err: an error is expected."""
        if op not in self.ops_order:
            self.ops_order.append(op)
        fam = self.family_of.get(op)
        tags = [t for t in ([fam] if fam else []) + list(tags)]
        dts = sorted({d for d in (tfd or {}).values()} | {
            storage_name(v) for v in inputs.values() for v in (v if isinstance(v, (list, tuple)) else [v])
        } - {None})
        if err:
            tags.append("error")
        cid = f"{len(self.fs.cases):04d}_{op}"
        if TRACE:
            print(f"case {cid}", file=sys.stderr, flush=True)
        rec = self.fs.case(op, inputs, attrs, tags=tags, note=note, input_tf_dtypes=tfd, case_id=cid, run=run,
                           state_after=state_after, compare=compare)
        for d in (tfd or {}).values():
            if d not in rec["tags"]:
                rec["tags"].append(d)
        got_err = "expect_error" in rec
        if err is not None and got_err != err:
            what = rec["expect_error"]["type"] + ": " + rec["expect_error"]["message"][:200] if got_err \
                else "no error"
            self.surprises.append(f"{cid}: expected {'an error' if err else 'success'}, got {what}")
            if got_err and "error" not in rec["tags"]:
                rec["tags"].append("error")
        if got_err:
            return rec
        del dts
        for o in rec["outputs"]:
            if o["tf_dtype"] not in FLOATS + COMPLEX:
                continue
            want_ulp = ulp is True or (ulp and o["port"] in ulp)
            if want_ulp and o["port"] not in exact_ports and o["compare"] == "exact":
                self.fs.set_compare(rec, o, ("ulp", 1))
        if ref is not None:
            refs = ref(rec, self)
            for o in rec["outputs"]:
                if o["port"] not in refs or o["tf_dtype"] not in FLOATS + COMPLEX:
                    continue
                value, S, n = refs[o["port"]]
                self._sum_output(rec, o, value, S, n)
        return rec

    def _sum_output(self, rec, o, value, S, n):
        dt = o["tf_dtype"]
        got = f64(self.arr(o["key"]), dt, daz=False)
        value = np.broadcast_to(np.asarray(value), got.shape)
        with np.errstate(invalid="ignore", over="ignore"):
            atol = np.broadcast_to(sum_atol(S, n, dt), got.shape).astype(np.float64)
        # an infinite / NaN S only occurs where the expected value is itself non-finite (matched exactly)
        atol = np.where(np.isfinite(atol), atol, 0.0)
        with np.errstate(invalid="ignore", over="ignore"):
            fin = np.isfinite(got) & np.isfinite(value)
            diff = np.where(fin, np.abs(got - value), 0.0)
            bad_nonfinite = ~np.isfinite(got) & np.isfinite(value) & ~np.isnan(got) & (np.abs(value) <= fmax(dt))
        if np.any(bad_nonfinite):
            self.surprises.append(f"{rec['id']}: TF gives inf where the float64 reference is finite "
                                  f"({int(bad_nonfinite.sum())} elements)")
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(diff == 0, 0.0, diff / np.where(atol > 0, atol, 0.0))
        r = float(np.max(ratio)) if diff.size else 0.0
        op = rec["op"]
        if r > 0.5:
            new = np.maximum(atol, 2.0 * diff * 1.25)
            self.widened.append(f"{rec['id']} {o['port']}: max |f64 - TF| / atol = {r:.3g}, atol widened to "
                                f"2.5 * |f64 - TF| on {int((ratio > 0.5).sum())} element(s)")
            rec["note"] = (rec.get("note", "") + f" [atol of {o['port']} widened: |f64-TF|/atol was {r:.3g}]").strip()
            ratio = np.where(ratio > 0.5, 0.5, ratio)
            atol = new
        self.ratio[op] = max(self.ratio[op], r)
        if got.ndim == 0:
            self.fs.set_compare(rec, o, ("sum", float(atol)))
        else:
            self.fs.set_compare(rec, o, ("sum", atol))

    # -- dtype error cases --------------------------------------------------------------------------------
    def dtype_errors(self, op, make, attr="T", tags=()):
        """Cases for a dtype with no CPU kernel and a dtype outside the OpDef; make(dtype) -> (inputs,
        attrs, tfd)."""
        for d, tag in ((unregistered_dtype(op, attr), "unregistered_dtype"),
                       (disallowed_dtype(op, attr), "disallowed_dtype")):
            if d is None:
                continue
            ins, attrs, t = make(d)
            self(op, ins, attrs, tfd=t, tags=[tag, *tags], err=True, note=f"{attr}={d}")

    # -- report ---------------------------------------------------------------------------------------------
    def write(self, root=FIXTURES):
        folder = self.fs.write(root, dedupe=True)
        summary(folder, self)
        return folder


def storage_name(v):
    a = np.asarray(v)
    return None if a.dtype.kind == "S" else a.dtype.name


def summary(folder, b=None):
    with open(os.path.join(folder, "cases.json")) as fh:
        man = json.load(fh)
    per, errs, modes = collections.Counter(), collections.Counter(), collections.defaultdict(set)
    dts = collections.defaultdict(set)
    order = []
    for c in man["cases"]:
        if c["op"] not in order:
            order.append(c["op"])
        per[c["op"]] += 1
        errs[c["op"]] += "expect_error" in c
        for o in c.get("outputs", []):
            modes[c["op"]].add(o["compare"])
            dts[c["op"]].add(o["tf_dtype"])
    print(f"{folder}: {len(man['cases'])} cases")
    for op in order:
        extra = f"  max|f64-TF|/atol {b.ratio[op]:.3f}" if b is not None and op in b.ratio else ""
        print(f"  {op:40s} {per[op]:4d} ({errs[op]:3d} errors)  {','.join(sorted(modes[op]))}  "
              f"{','.join(sorted(dts[op]))}{extra}")
    size = os.path.getsize(os.path.join(folder, "cases.npz"))
    print(f"  cases.npz {size / 1e6:.2f} MB, cases.json {os.path.getsize(os.path.join(folder, 'cases.json')) / 1e6:.2f} MB")
    if b is not None:
        for s in b.surprises:
            print("  SURPRISE:", s)
        for w in b.widened:
            print("  WIDENED:", w)
