"""Load TensorFlow fixture sets (tests/fixtures/<set>/cases.json + cases.npz) and check a case by
running it as a page: one Placeholder per input, fed with the stored arrays, and the op block."""
from __future__ import annotations

import json
import os
import re

import numpy as np
import yaml

import blockgraph
from blockgraph.core import dtypes as dt
from blockgraph.core import registry

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def fixture_sets():
    """The op-case sets under tests/fixtures (gradient sets, grad_*, are test_gradients.py's)."""
    if not os.path.isdir(FIXTURES):
        return []
    return sorted(d for d in os.listdir(FIXTURES) if not d.startswith("grad_")
                  and os.path.isfile(os.path.join(FIXTURES, d, "cases.json")))


_CACHE = {}
_FOLDER = []
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)   # libyaml's emitter: the same text, faster


def dump_yaml(data, **kw) -> str:
    """yaml.safe_dump's text, by libyaml's emitter when there is one (several times faster)."""
    return yaml.dump(data, Dumper=_Dumper, **kw)


def const_folder():
    """A temporary folder for the pages and .npy files of Const-input cases."""
    if not _FOLDER:
        import atexit
        import shutil
        import tempfile
        _FOLDER.append(tempfile.mkdtemp(prefix="blockgraph-fixtures-"))
        atexit.register(shutil.rmtree, _FOLDER[0], True)
    return _FOLDER[0]


class Arrays(dict):
    """An npz file's arrays, each read once on first use (NpzFile unzips on every access) and
    made read-only, so no test can change what the next one reads."""

    def __init__(self, path):
        super().__init__()
        self.npz = np.load(path, allow_pickle=False)
        self.files = self.npz.files

    def __missing__(self, key):
        a = self.npz[key]
        a.flags.writeable = False
        self[key] = a
        return a

    def __contains__(self, key):
        return key in self.files


def load_set(name):
    """(manifest, npz arrays) of one fixture set, cached."""
    if name not in _CACHE:
        d = os.path.join(FIXTURES, name)
        with open(os.path.join(d, "cases.json")) as fh:
            man = json.load(fh)
        _CACHE[name] = (man, Arrays(os.path.join(d, man.get("npz", "cases.npz"))))
    return _CACHE[name]


def cases(name, pred=None):
    man, _ = load_set(name)
    return [c for c in man["cases"] if pred is None or pred(c)]


def _literal(arr, dtype):
    """An explicit literal {value, dtype} holding `arr`."""
    if arr.dtype.kind in "SU":
        vals = arr.astype(object).tolist() if arr.ndim else arr[()]
        vals = _map(vals, lambda b: b.decode("utf-8", "surrogateescape") if isinstance(b, bytes) else b)
    elif dtype == "bfloat16":
        vals = arr.view(dt.to_numpy("bfloat16")).astype(np.float64).tolist()
    else:
        vals = arr.tolist()
    return {"value": vals, "dtype": dtype}


def _map(x, f):
    return [_map(v, f) for v in x] if isinstance(x, list) else f(x)


def page_for(case, z, bid="c", const_inputs=False):
    """(page dict, feeds) for one case: placeholders `<bid>_<port>[_<i>]` and the op block `bid`;
    with const_inputs, Const blocks (so the statically known values reach the shape functions)."""
    blocks, feeds, inputs = {}, {}, {}
    tf_dtypes = case.get("input_tf_dtypes") or {}
    defn = registry.get(case["op"])
    ref_ports = set(defn.ref_ports) if defn is not None else set()
    for port, key in case["inputs"].items():
        keys = key if isinstance(key, list) else [key]
        refs = []
        for i, k in enumerate(keys):
            ph = f"{bid}_{port}" + (f"_{i}" if isinstance(key, list) else "")
            arr = z[k]
            dtype = tf_dtypes.get(port) or ("string" if arr.dtype.kind in "SU" else arr.dtype.name)
            if port in ref_ports:     # an updated input: a Variable holding the value
                blocks[ph] = {"op": "VariableV2", "init": _init_value(case, ph, arr, dtype),
                              "attrs": {"dtype": dtype, "shape": [int(d) for d in arr.shape]}}
            elif const_inputs and (arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)) or
                                 arr.dtype.kind in "cV" or dtype == "bfloat16"):
                # NaN payloads and complex values survive only in a file: a Const reading a .npy
                fname = f"{safe_id(case['id'])}_{ph}.npy"
                np.save(os.path.join(const_folder(), fname), arr)
                blocks[ph] = {"op": "Const", "attrs": {"file": fname, "dtype": dtype}}
            elif const_inputs:
                lit = _literal(arr, dtype)
                blocks[ph] = {"op": "Const", "attrs": {"value": lit["value"], "dtype": dtype,
                                                       "shape": [int(d) for d in arr.shape]}}
            else:
                blocks[ph] = {"op": "Placeholder", "attrs": {"dtype": dtype, "shape": [int(d) for d in arr.shape]}}
                feeds[ph] = arr
            refs.append(ph)
        inputs[port] = refs if isinstance(key, list) else refs[0]
    attrs = {k: (v["dtype"] if isinstance(v, dict) and "dtype" in v else v) for k, v in case["attrs"].items()}
    blocks[bid] = {"op": case["op"], "inputs": inputs, "attrs": attrs}
    return {"format": 1, "page": f"case_{case['id']}", "blocks": blocks}, feeds


def _init_value(case, ph, arr, dtype):
    """A Variable's `init:` holding `arr` exactly: a .npy file (bfloat16 as its uint16 bits,
    read as bfloat16 by the Variable's dtype attr)."""
    fname = f"{safe_id(case['id'])}_{ph}.npy"
    np.save(os.path.join(const_folder(), fname), arr)
    return {"file": fname}


def compare(out, expected, got, got_dtype):
    """None when `got` matches the fixture output `out`, else the reason."""
    if got is None:
        return "missing"
    if got_dtype != out["tf_dtype"]:
        return f"tf dtype {got_dtype} != {out['tf_dtype']}"
    got = np.asarray(got)
    if out["tf_dtype"] == "bfloat16":
        got = got.view(np.uint16)
    if out["tf_dtype"] == "string":
        got = got.astype(np.bytes_)
        if got.shape != expected.shape or got.tolist() != expected.tolist():
            return f"strings differ: got {got.tolist()!r} expected {expected.tolist()!r}"
        return None
    if got.shape != expected.shape:
        return f"shape {list(got.shape)} != {list(expected.shape)}"
    if got.dtype != expected.dtype:
        return f"dtype {got.dtype} != {expected.dtype}"
    if out["compare"] == "sum":
        atol = np.asarray(z_atol(out) if "atol_key" in out else out["atol"], np.float64)
        g64, e64 = _as_float64(got, out), _as_float64(expected, out)
        with np.errstate(invalid="ignore"):
            ok = np.where(np.isfinite(e64), np.abs(g64 - e64) <= atol,
                          np.where(np.isnan(e64), np.isnan(g64), g64 == e64))
        if not np.all(ok):
            i = int(np.flatnonzero(~np.asarray(ok).ravel())[0])
            return (f"sum off at {int((~ok).sum())}/{ok.size}, first [{i}] got {g64.ravel()[i]!r} "
                    f"expected {e64.ravel()[i]!r} (atol {np.broadcast_to(atol, e64.shape).ravel()[i]!r})")
        return None
    if out["compare"] == "ulp":
        return _ulp_compare(got, expected, out)
    if got.tobytes() != expected.tobytes():
        w = max(expected.dtype.itemsize, 1)
        ne = (np.frombuffer(got.tobytes(), np.uint8).reshape(-1, w) !=
              np.frombuffer(expected.tobytes(), np.uint8).reshape(-1, w)).any(1)
        i = int(np.flatnonzero(ne)[0])
        return f"{int(ne.sum())}/{expected.size} differ, first [{i}] got {got.ravel()[i]!r} expected {expected.ravel()[i]!r}"
    return None


_ATOL = {}


def z_atol(out):
    """The atol array an output names by "atol_key" (set by check_case)."""
    return _ATOL["z"][out["atol_key"]]


def _as_float64(a, out):
    if out["tf_dtype"] == "bfloat16":
        a = (np.asarray(a).view(np.uint16).astype(np.uint32) << 16).view(np.float32)
    if np.iscomplexobj(a):
        return np.asarray(a, np.complex128)
    return np.asarray(a, np.float64)


def _ordered(bits, nbits):
    """Float bit patterns (as unsigned ints) -> integers in float order (+0 and -0 both 0)."""
    sint = {16: np.int16, 32: np.int32, 64: np.int64}[nbits]
    b = np.ascontiguousarray(bits).view(sint).astype(np.int64)
    return np.where(b < 0, -(b & np.int64(np.iinfo(sint).max)), b)


def _ulp_compare(got, expected, out):
    """Same NaN positions (any payload) and infinities, others within out["ulp"] units in the last place."""
    if expected.dtype.kind == "c":
        parts = [(got.real, expected.real), (got.imag, expected.imag)]
    else:
        parts = [(got, expected)]
    for g, e in parts:
        g, e = np.ascontiguousarray(g), np.ascontiguousarray(e)
        nbits = e.dtype.itemsize * 8
        uint = {16: np.uint16, 32: np.uint32, 64: np.uint64}[nbits]
        with np.errstate(invalid="ignore"):
            if out["tf_dtype"] == "bfloat16":
                gf, ef = _as_float64(g, out), _as_float64(e, out)
            else:
                gf, ef = g.astype(np.float64), e.astype(np.float64)
        gi, ei = _ordered(g.view(uint), nbits), _ordered(e.view(uint), nbits)
        with np.errstate(invalid="ignore", over="ignore"):
            # a distance beyond int64 (opposite-signed huge values) overflows only when far outside any ulp bound
            ok = np.where(np.isnan(ef), np.isnan(gf),
                          np.where(np.isinf(ef), gf == ef,
                                   ~np.isnan(gf) & (np.abs(gi - ei) <= out.get("ulp", 1))))
        if not np.all(ok):
            i = int(np.flatnonzero(~ok.ravel())[0])
            return (f"{int((~ok).sum())}/{ok.size} beyond {out.get('ulp', 1)} ulp, first [{i}] got "
                    f"{gf.ravel()[i]!r} expected {ef.ravel()[i]!r}")
    return None


def norm(s):
    return " ".join(str(s).split())


def check_case(set_name, case, const_inputs=False):
    """Run one fixture case through load_page + run; return a list of problems (empty = pass).
    const_inputs: feed the inputs as Const blocks instead of Placeholders."""
    man, z = load_set(set_name)
    _ATOL["z"] = z
    page, feeds = page_for(case, z, const_inputs=const_inputs)
    text = dump_yaml(page, sort_keys=False)
    p = blockgraph.load_page(os.path.join(const_folder(), f"{safe_id(page['page'])}.yaml"), text=text)
    problems = []
    if "expect_error" in case:
        return _error_problems(case, p, feeds)
    if p.diagnostics:
        return [f"static: {d.format()}" for d in p.diagnostics]
    r = p.run(feeds)
    blk = r.block("c")
    if blk.status != "ok":
        return [f"{blk.status}: {blk.error}"]
    specs = p.scope.blocks["c"].specs
    defn = p.scope.blocks["c"].defn
    for out in case["outputs"]:
        v, d = blk.outputs.get(out["port"]), blk.dtypes.get(out["port"])
        oi = next(i for i, o in enumerate(defn.outputs) if o.name == out["port"])
        spec = specs[oi]
        if "index" in out:
            v = v[out["index"]] if v is not None and out["index"] < len(v) else None
            d = d[out["index"]] if d is not None and out["index"] < len(d) else None
            spec = spec[out["index"]] if isinstance(spec, list) and out["index"] < len(spec) else None
        why = compare(out, z[out["key"]], v, d)
        if why:
            problems.append(f"{out['port']}{'.' + str(out['index']) if 'index' in out else ''}: {why}")
        if spec is not None and v is not None:
            if spec.dtype is not None and spec.dtype != d:
                problems.append(f"{out['port']}: static dtype {spec.dtype} != {d}")
            if spec.shape is not None and (len(spec.shape) != np.ndim(v) or any(
                    a is not None and a != b for a, b in zip(spec.shape, np.shape(v)))):
                problems.append(f"{out['port']}: static shape {spec.shape} != {np.shape(v)}")
    for slot, key in (case.get("state_after") or {}).items():   # updated slots of training ops
        out = case["outputs"][0]
        if out["compare"] == "exact":
            got = r.state.get(f"c_{slot}")
            why = compare({**out, "port": slot}, z[key], got, out["tf_dtype"])
            if why:
                problems.append(f"state {slot}: {why}")
    return problems


def _error_problems(case, page, feeds) -> list:
    """[] when the page reports TF's error for block `c`, the whole message (whitespace
    normalised; for TF's op-def dtype errors, their first line): statically if it can, else
    when the block runs."""
    err = case["expect_error"]
    # TF ran the training ops as ResourceApply* (its ref ops cannot run eagerly): same kernels
    want = norm(err["message"].replace("ResourceApply", "Apply"))
    no_kernel = err["message"].startswith("Could not find device")
    if _registry_error(err) or (no_kernel and "ResourceApply" in err["message"]):
        # (a ResourceApply* op lists its own kernels, not those of the Apply* op run here)
        want = norm(err["message"].replace("ResourceApply", "Apply").split("\n")[0])
    elif no_kernel:
        pass          # whole: the node, then TF's list of the op's kernels
    elif _dtype_or_kernel_error(err):
        want = None   # TF's text names its op signature or resource kernels: only require a failure
    errs = [norm(d.message) for d in page.diagnostics if d.block == "c"]
    if page.runnable and not (errs and (want is None or want in errs)):
        blk = page.run(feeds).block("c")
        if blk.status != "failed":
            return [f"expected error {err['message']!r}, block {blk.status}"]
        errs.append(norm(blk.error))
    if not errs or (want is not None and want not in errs):
        return [f"error text: expected {err['message']!r}, got {errs}"]
    return []


def _registry_error(err) -> bool:
    """TF's errors about dtypes its op-def does not take: their first line is ours (TF goes on with
    the op-def's signature). "Could not find device" is compared whole: TF's list of the op's
    kernels follows it."""
    return err["message"].startswith(("Value for attr", "cannot compute"))


def _dtype_or_kernel_error(err) -> bool:
    """Errors whose TF text names its op signature or its resource kernels (NodeDef, No OpKernel):
    we require a located failure, not the text."""
    m = err["message"]
    return err["type"] in ("NotFoundError", "TypeError") or any(s in m for s in (
        "NodeDef", "No OpKernel"))


def case_ids(set_name, pred=None):
    return [c["id"] for c in cases(set_name, pred)]


def safe_id(s):
    return re.sub(r"[^A-Za-z0-9_.-]", "_", s)
