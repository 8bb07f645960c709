"""Shared writer for TensorFlow fixture sets (dev-only: needs `pip install tensorflow-cpu`).

A fixture set is a folder `tests/fixtures/<name>/` holding `cases.json` (the manifest) and
`cases.npz` (every input and expected output array). The manifest has the same shape as the
acceptance goldens, except that input ports and attrs use the `tf.raw_ops` *Python keyword* names:

    {"format_version": 1, "generator": "...", "npz": "cases.npz", "cases": [
      {"id", "op", "inputs": {port: key | [key, ...]}, "attrs": {...}, "input_tf_dtypes": {port: name},
       "tags": [...], "note": str,
       "outputs": [{"port", "key", "dtype", "tf_dtype", "shape", "compare", ["index"], ["atol" | "atol_key"],
                    ["ulp"]}]
       | "expect_error": {"type", "message"},
       ["state_after": {slot port: npz key}]}]}

Compare modes (per output):
  * "exact": bit for bit (`tobytes()` equal, same shape and dtype): NaN payload and sign and -0.0 included.
    Exactly rounded IEEE formulas and every integer / bool / string output.
  * "ulp" with "ulp": N (1 in practice): same shape and dtype; where the expected value is NaN the result
    must be NaN (any payload), where it is +-inf the same infinity; every other element within N units in
    the last place (distance along the ordered bit patterns of the stored dtype, so bfloat16 counts in
    bfloat16 ulps; +0 and -0 are 0 apart; complex: per component). Transcendentals and approximations.
  * "sum" with "atol" (a number, or a list per element in older sets) or "atol_key" (the npz key of a
    float64 array shaped like the output): `|got - expected| <= atol` element by element, computed in
    float64; where the expected value is NaN or +-inf the result must be NaN / the same infinity. For
    results that depend on the summation order. The math sets use
    `atol = k * eps(dtype) * S + smallest_normal(dtype)`, `k = 8 + 2*ceil(log2 n)` (n = terms summed, at
    least 1), S = the sum of |terms| of that element in float64 on DAZ'd inputs (each generator documents
    its S and n per op, and checks |float64 reference - TF| <= atol/2 for every element).
  * Training ops are run as their ResourceApply* kernels through `FixtureSet.custom_case`: the case uses the
    ref op's name and ports, `out` is the updated var, and `state_after` names the npz arrays of the other
    updated slots (information, not compared by the page runner).

Dtype-valued attrs are written as {"dtype": "int64"}. Quantized tensors are stored on their integer
base type (quint8 -> uint8, ...), bfloat16 as its uint16 bit pattern, strings as numpy bytes ('S').
"""
from __future__ import annotations

import json
import os
import re

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")   # reference Eigen kernels, as the goldens
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf

QUANTIZED_BASE = {"qint8": np.int8, "quint8": np.uint8, "qint16": np.int16, "quint16": np.uint16,
                  "qint32": np.int32}


def _to_tf(arr, tf_dtype=None):
    """numpy array -> eager tensor; `tf_dtype` reinterprets an integer array as a quantized type."""
    if tf_dtype is None:
        return tf.constant(arr)
    dt = tf.dtypes.as_dtype(tf_dtype)
    if tf_dtype == "bfloat16":
        return tf.bitcast(tf.constant(np.asarray(arr).view(np.uint16)), tf.bfloat16)
    if tf_dtype in QUANTIZED_BASE:
        return tf.constant(np.asarray(arr, QUANTIZED_BASE[tf_dtype]), dtype=dt)
    return tf.constant(arr, dtype=dt)


def _to_numpy(t):
    """eager tensor -> (numpy array as stored, tf dtype name)."""
    name = t.dtype.name
    if name in QUANTIZED_BASE:
        return np.asarray(t.numpy()).view(QUANTIZED_BASE[name]).copy(), name
    if name == "bfloat16":
        return tf.bitcast(t, tf.uint16).numpy(), name
    if name == "string":
        return np.asarray(t.numpy(), dtype=np.bytes_), name
    return t.numpy(), name


def clean_message(msg: str) -> str:
    """TF error text without the `{{function_node ...}}` prefix and `[Op:...]` suffix."""
    msg = re.sub(r"^\{\{function_node [^}]*\}\}\s*", "", msg.strip())
    msg = re.sub(r"\s*\[Op:[^\]]*\](\s*name:.*)?$", "", msg)
    return msg.strip()


class FixtureSet:
    """Collects cases by calling `tf.raw_ops.<op>` and writes them as one fixture folder."""

    def __init__(self, name: str):
        self.name = name
        self.cases: list[dict] = []
        self.arrays: dict[str, np.ndarray] = {}

    def case(self, op, inputs, attrs=None, *, tags=(), note=None, input_tf_dtypes=None,
             sum_outputs=None, case_id=None, compare=None, run=None, state_after=None):
        """Run one op in TF and record inputs, attrs and outputs (or the error it raises).

        inputs: {port: array | [array, ...]} by Python kwarg name. attrs: plain values; dtype attrs
        as strings wrapped in {"dtype": name}. sum_outputs: {port: atol} for float reductions
        (atol may be a list per element); those outputs are compared with that tolerance (only when
        every expected value is finite; the older sets' convention).
        compare: {port: "exact" | ("ulp", n) | ("sum", atol)} with atol a number or an array shaped like
        the output (stored in the npz under `<id>/atol/<port>` and named by "atol_key"); a "sum" output
        may hold NaN/inf (they must then be matched exactly). Ports not named stay "exact".
        run: a function (kwargs of tf tensors and attr values) -> the op's result, instead of
        `tf.raw_ops.<op>`; with state_after ([slot port, ...]) it returns (result, {slot: tensor}) and the
        slots are stored under `<id>/state/<slot>` and listed in the case's "state_after".
        """
        attrs = dict(attrs or {})
        input_tf_dtypes = dict(input_tf_dtypes or {})
        cid = case_id or f"{len(self.cases):04d}_{op}"
        assert not any(c["id"] == cid for c in self.cases), cid
        rec = {"id": cid, "op": op, "inputs": {}, "attrs": attrs, "tags": list(tags)}
        if note:
            rec["note"] = note
        if input_tf_dtypes:
            rec["input_tf_dtypes"] = input_tf_dtypes
        kwargs = {}
        for port, val in inputs.items():
            tfd = input_tf_dtypes.get(port)
            if isinstance(val, (list, tuple)):
                keys = []
                for i, a in enumerate(val):
                    k = f"{cid}/in/{port}/{i}"
                    self.arrays[k] = np.asarray(a)
                    keys.append(k)
                rec["inputs"][port] = keys
                kwargs[port] = [_to_tf(np.asarray(a), tfd) for a in val]
            else:
                k = f"{cid}/in/{port}"
                self.arrays[k] = np.asarray(val)
                rec["inputs"][port] = k
                kwargs[port] = _to_tf(np.asarray(val), tfd)
        for name, val in attrs.items():
            kwargs[name] = tf.dtypes.as_dtype(val["dtype"]) if isinstance(val, dict) and "dtype" in val else val
        try:
            with tf.device("/CPU:0"):
                result = (run or getattr(tf.raw_ops, op))(**kwargs)
        except (tf.errors.OpError, ValueError, TypeError) as e:
            msg = e.message if isinstance(e, tf.errors.OpError) else str(e)
            rec["expect_error"] = {"type": type(e).__name__, "message": clean_message(msg)}
            self.cases.append(rec)
            return rec
        slots = None
        if state_after is not None:
            result, slots = result
        rec["outputs"] = self._outputs(cid, op, result, sum_outputs or {})
        if slots is not None:
            rec["state_after"] = {}
            for slot in state_after:
                arr, _ = _to_numpy(slots[slot])
                k = f"{cid}/state/{slot}"
                self.arrays[k] = arr
                rec["state_after"][slot] = k
        for o in rec["outputs"]:
            spec = (compare or {}).get(o["port"] if "index" not in o else f"{o['port']}/{o['index']}",
                    (compare or {}).get(o["port"]))
            if spec is not None:
                self.set_compare(rec, o, spec)
        self.cases.append(rec)
        return rec

    def custom_case(self, op, inputs, run, attrs=None, *, state_after=None, **kw):
        """A case computed by `run(**kwargs)` (tf tensors + attr values) rather than `tf.raw_ops.<op>`,
        recorded under `op`'s name and ports (e.g. ApplyAdam computed by ResourceApplyAdam). With
        state_after, `run` returns (out, {slot: tensor}); see `case`."""
        return self.case(op, inputs, attrs, run=run, state_after=state_after, **kw)

    def set_compare(self, rec, out, spec):
        """Set one output's compare mode: "exact", ("ulp", n) or ("sum", atol number | array)."""
        for k in ("atol", "atol_key", "ulp"):
            out.pop(k, None)
        if spec == "exact":
            out["compare"] = "exact"
            return
        mode, val = spec
        out["compare"] = mode
        if mode == "ulp":
            out["ulp"] = int(val)
        elif mode == "sum":
            a = np.asarray(val, np.float64)
            if a.ndim == 0:
                out["atol"] = float(a)
            else:
                a = np.broadcast_to(a, out["shape"]).astype(np.float64)
                key = f"{rec['id']}/atol/{out['port']}" + (f"/{out['index']}" if "index" in out else "")
                self.arrays[key] = a
                out["atol_key"] = key
        else:
            raise ValueError(mode)

    def _outputs(self, cid, op, result, sum_outputs):
        names = _output_names(op)
        if not isinstance(result, (list, tuple)) or (len(names) == 1 and isinstance(result, list)):
            result = [result]
        outs = []
        for name, val in zip(names, result):
            items = [(None, val)] if not isinstance(val, (list, tuple)) else list(enumerate(val))
            for idx, t in items:
                arr, tfd = _to_numpy(t)
                key = f"{cid}/out/{name}" + ("" if idx is None else f"/{idx}")
                self.arrays[key] = arr
                o = {"port": name, "key": key, "dtype": arr.dtype.name if arr.dtype.kind != "S" else "string",
                     "tf_dtype": tfd, "shape": list(arr.shape), "compare": "exact"}
                if idx is not None:
                    o["index"] = idx
                if name in sum_outputs and np.all(np.isfinite(arr)):
                    o["compare"] = "sum"
                    atol = sum_outputs[name]
                    o["atol"] = [float(a) for a in np.ravel(atol)] if np.ndim(atol) else float(atol)
                outs.append(o)
        return outs

    def dedupe_inputs(self, min_bytes=1024):
        """Cases whose input arrays are identical (dtype, shape, bytes) share one npz key (the first)."""
        import hashlib
        first = {}
        for c in self.cases:
            for port, key in c["inputs"].items():
                keys = key if isinstance(key, list) else [key]
                new = []
                for k in keys:
                    a = self.arrays.get(k)
                    if a is None or a.nbytes < min_bytes:
                        new.append(k)
                        continue
                    h = (a.dtype.str, a.shape, hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest())
                    if h in first and first[h] != k:
                        del self.arrays[k]
                        new.append(first[h])
                    else:
                        first.setdefault(h, k)
                        new.append(k)
                c["inputs"][port] = new if isinstance(key, list) else new[0]

    def write(self, root, dedupe=False):
        """Write `<root>/<name>/cases.json` and `cases.npz` (dedupe: identical inputs share a key)."""
        if dedupe:
            self.dedupe_inputs()
        d = os.path.join(root, self.name)
        os.makedirs(d, exist_ok=True)
        man = {"format_version": 1, "generator": f"tf.raw_ops eager, tensorflow-cpu {tf.__version__}, "
               f"numpy {np.__version__}, TF_ENABLE_ONEDNN_OPTS={os.environ.get('TF_ENABLE_ONEDNN_OPTS')}",
               "npz": "cases.npz", "cases": self.cases}
        with open(os.path.join(d, "cases.json"), "w") as fh:
            json.dump(man, fh, indent=1, allow_nan=False)
        np.savez_compressed(os.path.join(d, "cases.npz"), **self.arrays)
        return d


def _output_names(op):
    """Output port names of an op, from its registered OpDef."""
    from tensorflow.python.framework import op_def_registry
    op_def = op_def_registry.get(op)
    return [a.name for a in op_def.output_arg]
