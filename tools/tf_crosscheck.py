"""Cross-check pages against real TensorFlow, block by block (dev-only: needs tensorflow-cpu).

    TF_ENABLE_ONEDNN_OPTS=0 /path/to/tf-venv/bin/python tools/tf_crosscheck.py [--cycles N] examples/*.yaml

(the TF venv needs blockgraph's own dependencies too: `pip install pydantic networkx`.)
Each page is run with blockgraph (N cycles, default 1); then every block of the last cycle is run
again as `tf.raw_ops.<op>` on the very inputs blockgraph gave it, and every output is compared bit
for bit (dtype, shape, bytes). Const, Placeholder, ImmutableConst and VariableV2 blocks are sources
and are not re-run; AddSymbolicGradients is checked through the gradient blocks it expands into.
An update of a Variable (Apply*, Assign*) runs as its resource op (ResourceApplyGradientDescent,
AssignVariableOp, ...) on a resource Variable holding the value blockgraph's Variable had, and
its `out` is compared with that Variable afterwards. Float matrix products and BiasAddGrad, whose
order of sums differs from Eigen's in TF (tools/README_math_fixtures.md, "Tolerances"), are
compared within the fixtures' tolerance `k * eps * S + smallest_normal` (S = |a| @ |b| with n = K
terms; BiasAddGrad: S = the sum of |out_backprop| over its n rows) and printed `ok~` with the
largest |difference| / tolerance.
"""
import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import blockgraph  # noqa: E402
from blockgraph.run.plan import gather  # noqa: E402
from fixture_lib import _to_numpy, _to_tf  # noqa: E402
from math_fixture_util import sum_atol  # noqa: E402

SOURCES = {"Const", "Placeholder", "ImmutableConst", "VariableV2"}
EXPANDED = {"AddSymbolicGradients"}
#: Variable updates -> the resource op TF 2.x runs for them
RESOURCE_OP = {"Assign": "AssignVariableOp", "AssignAdd": "AssignAddVariableOp",
               "AssignSub": "AssignSubVariableOp"}
SUMMED = {"MatMul": ("transpose_a", "transpose_b"), "BatchMatMul": ("adj_x", "adj_y"),
          "BatchMatMulV2": ("adj_x", "adj_y"), "BatchMatMulV3": ("adj_x", "adj_y"),
          "BiasAddGrad": ()}


def tf_value(arr, dtype):
    """An input array as TF sees it (quantized and bfloat16 by their bits)."""
    if dtype == "bfloat16":
        return _to_tf(np.asarray(arr).view(np.uint16), "bfloat16")
    return _to_tf(arr, dtype if dtype in ("qint8", "quint8", "qint16", "quint16", "qint32") else None)


def summed_atol(b, arrays, got):
    """The tolerance of a real float sum's output `got` (None: compare bit for bit)."""
    if b.op not in SUMMED or got.dtype.kind != "f":
        return None
    if b.op == "BiasAddGrad":
        g = np.abs(np.asarray(arrays["out_backprop"], np.float64))
        axis = 1 if b.attrs.get("data_format") == "NCHW" and g.ndim > 2 else g.ndim - 1
        g = np.moveaxis(g, axis, -1).reshape(-1, g.shape[axis])
        return sum_atol(g.sum(0), g.shape[0], got.dtype.name)
    ports = ("a", "b") if b.op == "MatMul" else ("x", "y")
    a, c = (np.abs(np.asarray(arrays[p], np.float64)) for p in ports)
    ta, tb = (bool(b.attrs.get(k, False)) for k in SUMMED[b.op])
    a = np.swapaxes(a, -1, -2) if ta else a
    c = np.swapaxes(c, -1, -2) if tb else c
    return sum_atol(a @ c, a.shape[-1], got.dtype.name)


def run_update(tf, b, kwargs):
    """An update block as its resource op on resource Variables; its `out`: the Variable after."""
    refs = {p.name for p in b.defn.inputs if getattr(p, "ref", False)}
    held = {p: tf.Variable(kwargs[p]) for p in refs}
    args = {k: (held[k].handle if k in refs else v) for k, v in kwargs.items()}
    if b.op in RESOURCE_OP:
        args = {"resource": args["ref"], "value": args["value"]}
        getattr(tf.raw_ops, RESOURCE_OP[b.op])(**args)
        return held["ref"].read_value()
    getattr(tf.raw_ops, "Resource" + b.op)(**args)
    return held["var"].read_value()


def check_page(path, cycles=1) -> int:
    import tensorflow as tf
    page = blockgraph.load_page(path)
    results = page.run(cycles=cycles)
    bad = 0
    for bid in page.scope.run_order():
        b, r = page.scope.blocks[bid], results.block(bid)
        if b.op in SOURCES or b.op in EXPANDED or not r.ok:
            continue
        arrays, dtypes = gather(b, results.blocks)
        kwargs = {}
        for port, v in arrays.items():
            kwargs[port] = [tf_value(a, d) for a, d in zip(v, dtypes[port])] if isinstance(v, list) \
                else tf_value(v, dtypes[port])
        for name, val in b.attrs.items():
            attr = b.defn.attr(name)
            if attr is not None and attr.type == "type":
                val = tf.dtypes.as_dtype(val)
            kwargs[name] = val
        if b.op in RESOURCE_OP or b.op.startswith("Apply"):
            out = run_update(tf, b, kwargs)
        else:
            out = getattr(tf.raw_ops, b.op)(**kwargs)
        out = list(out) if isinstance(out, (list, tuple)) and len(b.defn.outputs) > 1 else [out]
        for o, t in zip(b.defn.outputs, out):
            mine = r.outputs[o.name]
            pairs = zip(mine, t) if o.list else [(mine, t)]
            for i, (m, tt) in enumerate(pairs):
                want, _ = _to_numpy(tt)
                got = np.asarray(m)
                if got.dtype.kind == "O":
                    got = got.astype(np.bytes_)
                elif got.dtype.name == "bfloat16":
                    got = got.view(np.uint16)
                same = got.shape == want.shape and got.dtype == want.dtype and got.tobytes() == want.tobytes()
                tag = f"{bid}.{o.name}" + (f".{i}" if o.list else "")
                mark, note = ("ok  " if same else "DIFF"), ""
                atol = None if same or got.shape != want.shape or got.dtype != want.dtype \
                    else summed_atol(b, arrays, got)
                if atol is not None:
                    g, w = got.astype(np.float64), want.astype(np.float64)
                    with np.errstate(invalid="ignore"):       # NaN against NaN, inf against inf: 0
                        diff = np.where((np.isnan(g) & np.isnan(w)) | (g == w), 0.0, np.abs(g - w))
                        ratio = float(np.max(diff / atol, initial=0.0))
                    same = ratio <= 1.0
                    mark, note = ("ok~ " if same else "DIFF"), f"  max |diff|/atol {ratio:.3g}"
                    if ratio == 0:
                        note += " (only signed zeros or NaN payloads differ)"
                print(f"{mark} {os.path.basename(path)} {tag} {got.dtype}{list(got.shape)}{note}")
                bad += not same
    return bad


if __name__ == "__main__":
    argv, n = sys.argv[1:], 1
    if argv[:1] == ["--cycles"]:
        n, argv = int(argv[1]), argv[2:]
    sys.exit(1 if sum(check_page(p, n) for p in argv) else 0)
