"""Gradient fixtures from real TensorFlow (dev-only: needs tensorflow-cpu).

A gradient case is a page (YAML text) whose inputs are Placeholders and whose block `g` is an
AddSymbolicGradients block; `GradSet.case` runs the page's blocks with `tf.raw_ops` (in file
order) under a `tf.GradientTape` and records TF's d(sum of every element of g's outputs)/d(each
of g's inputs) — what `tf.gradients` / C++ AddSymbolicGradients compute — as the expected
`g.grad_outputs.K`. `tests/test_gradients.py` runs the same page through blockgraph.

Pages follow the conventions of `tests/fixtures/*/`: ports by their `tf.raw_ops` keyword,
references `BLOCK`, `BLOCK.PORT`, `BLOCK.PORT.I`, literals as explicit `{value, dtype}`.

Compare: "exact" (bit for bit) when the caller says the graph is made of exactly rounded ops whose
TF gradient functions are too; else "atol" with `atol = 16*|g - g64| + 8*(ops+1)*eps*(|g| +
mean|g|) + tiny`, g64 being the same graph run in float64 (a float32 case's feeds and float32
literals widened; ops that only take float32, FakeQuant, stay float32 forward with their
gradients in float64 downstream) — the rounding error TF itself makes, with a margin.

Written as `tests/fixtures/grad_<name>/cases.json + cases.npz`, in the format of the shared
acceptance set (`format_version`, `kind: gradients`, per case `page`, `feeds`, `grad_block`,
`inputs`, `ops`, `tags`, `outputs: [{result, key, wrt, dtype, shape, compare, atol_key}]`).
"""
from __future__ import annotations

import json
import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import yaml  # noqa: E402
from tensorflow.python.framework import op_def_registry  # noqa: E402

FLOAT32_ONLY = ("FakeQuantWithMinMaxArgs", "FakeQuantWithMinMaxVars",
                "FakeQuantWithMinMaxVarsPerChannel")
ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests", "fixtures")


def _outputs_of(op: str) -> list[str]:
    return [a.name for a in op_def_registry.get(op).output_arg]


def _value(v, results, wide):
    """A block input as TF tensors: a reference, a list of them, or an explicit literal."""
    if isinstance(v, list):
        return [_value(x, results, wide) for x in v]
    if isinstance(v, dict):
        d = v.get("dtype") or "float32"
        if wide and d == "float32":
            d = "float64"
        return tf.constant(np.asarray(v["value"]), dtype=tf.as_dtype(d))
    if isinstance(v, str):
        parts = v.split(".")
        out = results[parts[0]]
        if len(parts) == 1:
            return out[next(iter(out))]
        t = out[parts[1]]
        return t[int(parts[2])] if len(parts) > 2 else t
    raise ValueError(f"literal {v!r}: write literals as {{value, dtype}} in gradient pages")


def run_page(page: dict, feeds: dict, wide: bool = False):
    """(the gradients d(sum outputs of g)/d(inputs of g) as numpy arrays, ops used), running each
    block with tf.raw_ops; `wide`: the float64 shadow."""
    blocks = page["blocks"]
    g = blocks["g"]
    xs, ys = g["inputs"]["inputs"], g["inputs"]["outputs"]
    results, ops = {}, []
    with tf.GradientTape(persistent=True) as tape:
        for bid, b in blocks.items():
            if bid == "g":
                continue
            op = b["op"]
            if op == "Placeholder":
                a = np.asarray(feeds[bid])
                if wide and a.dtype == np.float32:
                    a = a.astype(np.float64)
                t = tf.constant(a)
                if bid in xs:
                    tape.watch(t)
                results[bid] = {"output": t}
                continue
            ops.append(op)
            kwargs = {k: _value(v, results, wide) for k, v in b.get("inputs", {}).items()}
            if wide and op in FLOAT32_ONLY:
                kwargs = {k: tf.cast(v, tf.float32) if v.dtype == tf.float64 else v
                          for k, v in kwargs.items()}
            attrs = {k: (tf.as_dtype(v) if isinstance(v, str) and k in _type_attrs(op) else v)
                     for k, v in b.get("attrs", {}).items()}
            if wide:
                attrs = {k: (tf.float64 if isinstance(v, tf.dtypes.DType) and v == tf.float32 else v)
                         for k, v in attrs.items()}
            out = getattr(tf.raw_ops, op)(**kwargs, **attrs)
            names = _outputs_of(op)
            if len(names) == 1:
                out = [out]
            results[bid] = {n: (o if not (wide and op in FLOAT32_ONLY) else
                                [tf.cast(x, tf.float64) for x in o] if isinstance(o, list) else
                                tf.cast(o, tf.float64))
                            for n, o in zip(names, out)}
        targets = [_value(y, results, wide) for y in ys]
    # a list of targets: the sum of their gradients, each seeded with ones (tf.gradients' rule)
    grads = tape.gradient(targets, [results[x]["output"] for x in xs])
    # IndexedSlices (a gather's gradient) densify as TF's tape does when it hands them out
    return [None if gr is None else np.asarray(tf.convert_to_tensor(gr)) for gr in grads], ops


def _type_attrs(op: str) -> set:
    return {a.name for a in op_def_registry.get(op).attr if a.type in ("type", "list(type)")}


class GradSet:
    """Collects gradient cases and writes them as one fixture folder."""

    def __init__(self, name: str):
        self.name = name
        self.cases, self.arrays = [], {}

    def case(self, case_id: str, page_text: str, feeds: dict, *, exact: bool = False, tags=()):
        page = yaml.safe_load(page_text)
        assert "g" in page["blocks"] and page["blocks"]["g"]["op"] == "AddSymbolicGradients"
        grads, ops = run_page(page, feeds)
        has_float32 = any(np.asarray(a).dtype == np.float32 for a in feeds.values())
        shadow = None if exact else run_page(page, feeds, wide=True)[0]
        rec = {"id": case_id, "page": page_text, "feeds": {}, "grad_block": "g",
               "inputs": page["blocks"]["g"]["inputs"]["inputs"],
               "outputs_of_page": page["blocks"]["g"]["inputs"]["outputs"],
               "ops": ops, "tags": list(tags) + (["exact"] if exact else ["tolerance"]), "outputs": []}
        for name, a in feeds.items():
            key = f"{case_id}/feed/{name}"
            self.arrays[key] = np.asarray(a)
            rec["feeds"][name] = key
        for k, (x, gr) in enumerate(zip(rec["inputs"], grads)):
            if gr is None:
                raise ValueError(f"{case_id}: TF gives no gradient for {x}: choose a connected input")
            key = f"{case_id}/grad/{k}"
            self.arrays[key] = gr
            out = {"result": f"g.grad_outputs.{k}", "key": key, "wrt": x, "dtype": gr.dtype.name,
                   "shape": list(gr.shape), "compare": "exact"}
            if not exact:
                eps = float(np.finfo(gr.dtype).eps)
                g64 = np.asarray(shadow[k], np.float64)
                mag = np.abs(gr.astype(np.float64))
                atol = (16 * np.abs(gr.astype(np.float64) - g64) + 8 * (len(ops) + 1) * eps *
                        (mag + (mag.mean() if mag.size else 0.0)) + float(np.finfo(gr.dtype).tiny))
                if not has_float32 and gr.dtype == np.float64:
                    atol = 8 * (len(ops) + 1) * eps * (mag + (mag.mean() if mag.size else 0.0)) + \
                        float(np.finfo(gr.dtype).tiny)
                atol = np.where(np.isfinite(atol), atol, 0.0)
                self.arrays[f"{case_id}/atol/{k}"] = atol
                out.update(compare="atol", atol_key=f"{case_id}/atol/{k}")
            rec["outputs"].append(out)
        self.cases.append(rec)
        return rec

    def write(self, root: str = ROOT) -> str:
        d = os.path.join(root, f"grad_{self.name}")
        os.makedirs(d, exist_ok=True)
        man = {"format_version": 1, "kind": "gradients", "npz": "cases.npz",
               "generator": f"tf.GradientTape (eager), tensorflow-cpu {tf.__version__}, numpy "
                            f"{np.__version__}, TF_ENABLE_ONEDNN_OPTS="
                            f"{os.environ.get('TF_ENABLE_ONEDNN_OPTS')}",
               "cases": self.cases}
        with open(os.path.join(d, "cases.json"), "w") as fh:
            json.dump(man, fh, indent=1, allow_nan=False)
        np.savez_compressed(os.path.join(d, "cases.npz"), **self.arrays)
        return d


def literal(value, dtype: str) -> str:
    """An explicit literal as page text: {value: ..., dtype: ...}."""
    return "{value: " + json.dumps(np.asarray(value).tolist()) + ", dtype: " + dtype + "}"

