"""TensorFlow's numbers for the compute/train/quantize example pages (dev-only: needs tensorflow-cpu).

    TF_ENABLE_ONEDNN_OPTS=0 /path/to/tf-venv/bin/python tools/tf_examples.py

writes `tests/fixtures/examples/tf_examples.npz` (+ `tf_examples.json`: TF's version, what each key
is). Each page's program is written again here in TensorFlow, op for op, with its data, initial
values and learning rates read from the page's YAML (so the two cannot drift apart silently):

- `examples/qat_dense_layer.yaml`: the forward pass, every block's output (`qat_dense_layer/ID`).
- `examples/train_linear_regression.yaml`, `examples/qat_train.yaml`: a `tf.function` training step
  (`tf.GradientTape` over the same raw ops, `ResourceApplyGradientDescent` on resource Variables,
  float32) called once per cycle: the cost of every step (`PAGE/cost`, before its update, as a
  cycle's cost sees the start-of-cycle Variables) and the Variables after the last one
  (`PAGE/state/ID`). `tests/test_examples.py` compares blockgraph's runs with them.
"""
import json
import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "tests", "fixtures", "examples")
#: cycles each training page is run for (the README's and the tests' numbers)
CYCLES = {"train_linear_regression": 150, "qat_train": 300}


def page_blocks(name):
    with open(os.path.join(REPO, "examples", f"{name}.yaml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh)["blocks"]


def value(blocks, bid):
    """The literal behind a block: a PlaceholderWithDefault's input, a Const's value, a
    Variable's init (float32: these pages are float32 throughout)."""
    b = blocks[bid]
    v = {"Const": lambda: b["attrs"]["value"],
         "PlaceholderWithDefault": lambda: b["inputs"]["input"]["value"],
         "VariableV2": lambda: b["init"]["value"] if isinstance(b["init"], dict) else b["init"]}[b["op"]]()
    return np.asarray(v, np.float32)


def f32(v):
    return np.float32(v)


def qat_dense_layer(tf):
    B = page_blocks("qat_dense_layer")
    raw = tf.raw_ops
    out = {}
    x, w, bias = (tf.constant(value(B, k)) for k in ("x", "w", "bias"))
    out["w_min"] = raw.Min(input=w, axis=B["w_min"]["inputs"]["axis"])
    out["w_max"] = raw.Max(input=w, axis=B["w_max"]["inputs"]["axis"])
    out["w_q"] = raw.FakeQuantWithMinMaxVarsPerChannel(inputs=w, min=out["w_min"], max=out["w_max"],
                                                       **B["w_q"]["attrs"])
    out["matmul"] = raw.MatMul(a=x, b=out["w_q"])
    out["biased"] = raw.BiasAdd(value=out["matmul"], bias=bias)
    out["relu"] = raw.Relu(features=out["biased"])
    aq = B["act_q"]
    out["act_q"] = raw.FakeQuantWithMinMaxVars(inputs=out["relu"], min=f32(aq["inputs"]["min"]),
                                               max=f32(aq["inputs"]["max"]), **aq["attrs"])
    return {f"qat_dense_layer/{k}": v.numpy() for k, v in out.items()}


def train(tf, name, forward, variables, steps):
    """Run `forward(raw, vars) -> cost` under a GradientTape, then ResourceApplyGradientDescent
    of each Variable with its page's alpha, `CYCLES[name]` times."""
    B = page_blocks(name)
    vs = {k: tf.Variable(value(B, k)) for k in variables}
    alphas = {k: f32(B[s]["inputs"]["alpha"]) for k, s in steps.items()}

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            cost = forward(tf.raw_ops, B, vs)
        grads = tape.gradient(cost, [vs[k] for k in variables])
        for k, g in zip(variables, grads):
            tf.raw_ops.ResourceApplyGradientDescent(var=vs[k].handle, alpha=alphas[k], delta=g)
        return cost

    costs = [step().numpy() for _ in range(CYCLES[name])]
    res = {f"{name}/cost": np.asarray(costs, np.float32)}
    res.update({f"{name}/state/{k}": v.numpy() for k, v in vs.items()})
    return res


def mse(raw, prediction, y):
    return raw.Mean(input=raw.Square(x=raw.Sub(x=prediction, y=y)), axis=[0, 1])


def linear_regression(raw, B, vs):
    return mse(raw, raw.MatMul(a=value(B, "x"), b=vs["w"]), value(B, "y"))


def qat_layer(raw, B, vs):
    w = vs["w"].read_value()
    w_q = raw.FakeQuantWithMinMaxVarsPerChannel(
        inputs=w, min=raw.Min(input=w, axis=B["w_min"]["inputs"]["axis"]),
        max=raw.Max(input=w, axis=B["w_max"]["inputs"]["axis"]), **B["w_q"]["attrs"])
    relu = raw.Relu(features=raw.BiasAdd(value=raw.MatMul(a=value(B, "x"), b=w_q), bias=vs["b"]))
    aq = B["act_q"]
    act_q = raw.FakeQuantWithMinMaxVars(inputs=relu, min=f32(aq["inputs"]["min"]),
                                        max=f32(aq["inputs"]["max"]), **aq["attrs"])
    return mse(raw, act_q, value(B, "y"))


def main():
    import tensorflow as tf
    arrays = qat_dense_layer(tf)
    arrays.update(train(tf, "train_linear_regression", linear_regression, ["w"], {"w": "step"}))
    arrays.update(train(tf, "qat_train", qat_layer, ["w", "b"], {"w": "step_w", "b": "step_b"}))
    os.makedirs(OUT, exist_ok=True)
    np.savez(os.path.join(OUT, "tf_examples.npz"), **arrays)
    meta = {"generator": "tools/tf_examples.py", "tensorflow": tf.__version__, "cycles": CYCLES,
            "keys": {k: [str(v.dtype), list(v.shape)] for k, v in arrays.items()}}
    with open(os.path.join(OUT, "tf_examples.json"), "w", encoding="utf-8") as fh:
        json.dump(meta, fh, indent=1)
        fh.write("\n")
    for k, v in arrays.items():
        print(k, v.dtype, list(v.shape), v.ravel()[-3:] if v.size > 3 else v.ravel())


if __name__ == "__main__":
    sys.exit(main())
