"""Write `tests/fixtures/tf_ops.json`: TensorFlow's OpDefs and CPU kernel registrations (dev-only: needs TF).

    TF_ENABLE_ONEDNN_OPTS=0 python tools/tf_ops.py [--blocks blocks.json] [OUT]
    TF_ENABLE_ONEDNN_OPTS=0 python tools/tf_ops.py --verify     # run the simple ops on every OpDef dtype

The table covers every op that has (or is about to have) a blockgraph block: the math/nn op list of the
math fixture sets (`MATH_OPS` below), the resource-variable kernels the training fixtures run, and every
op of `blockgraph blocks --json` (read from `--blocks FILE`, else by running `blockgraph blocks --json`;
when neither works, `BLOCKGRAPH_OPS` below, the list as of this commit).

One JSON object keyed by op name; per op:

    {"tf_op": true,                       # false (and nothing else) for a name TF does not register
     "summary": str,
     "is_stateful": bool, "is_commutative": bool, "is_aggregate": bool,
     "inputs":  [{"name": OpDef name, "py_name": tf.raw_ops keyword (always present, = name unless renamed),
                  "type": dtype name | null (fixed dtype), "type_attr": str | null,
                  "number_attr": str | null (a list of N tensors of one type), "type_list_attr": str | null,
                  "is_ref": bool}],
     "outputs": [{"name", "type", "type_attr", "number_attr", "type_list_attr", "is_ref"}],
     "attrs":   [{"name", "py_name", "type": OpDef attr type ("type", "list(int)", "string", ...),
                  "has_default": bool, "default": JSON value (dtypes as names, shapes as lists or null),
                  "allowed_values": [dtype names | strings] | null, "has_minimum": bool, "minimum": int | null,
                  "inferred": bool (a type/number attr the Python wrapper infers from the inputs)}],
     "py_signature": [keyword, ...]       # tf.raw_ops.<op> parameters in order, without `name`
     "cpu_kernels": [{"device": "CPU" | "DEFAULT", "constraints": {attr: [dtype | string, ...]},
                      "unconstrained": [type attr, ...], "host_memory": [arg, ...], "label": str,
                      "priority": int}],
                     # DEFAULT kernels are what TF falls back to on a CPU without a CPU kernel for the node
                     # (IdentityN has only those); a labelled kernel ("custom", "eigen_tensor") is chosen
                     # only by a node's _kernel attr, never by tf.raw_ops, and counts for nothing below
     "cpu_dtypes": {type attr: [dtype, ...]},   # what runs on CPU: the union over the unlabelled CPU and
                                                # DEFAULT kernels (an attr some kernel leaves unconstrained
                                                # contributes the OpDef's allowed list), intersected with the
                                                # OpDef's allowed list
     "cpu_kernel_dtypes_not_in_opdef": {attr: [dtype, ...]},  # registered kernels the OpDef check rejects
                                                # first (LeakyRelu int32: "Value for attr 'T' of int32 is not
                                                # in the list of allowed values"), so never reachable
     "cpu_dtypes_any": [type attr, ...],        # unconstrained by some CPU kernel AND no OpDef allowed list
     "cpu_dtype_combos": [{attr: dtype, ...}],  # for ops with several type attrs: every registered combination
                                                # the OpDef allows (unlabelled kernels; unconstrained attrs
                                                # omitted)
     "cpu_runtime_refusals": [{"attr", "dtype", "error"}],  # registered (so in cpu_dtypes) but the kernel
                                                # refuses the dtype when run: Where float16 ("No WhereOp
                                                # available for float16/half type on CPU")
     "other_devices": [device type, ...]}       # non-CPU device types with kernels (information only)

dtype names are `tf.dtypes.DType.name` ("float32", "bfloat16", "qint8", "resource", ...), sorted in TF's
enum order (string constraint values by name), so the file is reproducible. An op with no CPU kernel has `cpu_kernels: []` and `cpu_dtypes: {}`.
"""
from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tensorflow.core.framework import types_pb2  # noqa: E402
from tensorflow.python.framework import kernels, op_def_registry  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

MATH_OPS = """
Add AddV2 Sub Mul Div RealDiv DivNoNan FloorDiv FloorMod TruncateDiv TruncateMod Mod Maximum Minimum Pow
SquaredDifference Atan2 Equal NotEqual Less LessEqual Greater GreaterEqual LogicalAnd LogicalOr BiasAdd
Neg Abs Sign Square Sqrt Rsqrt Reciprocal Exp Expm1 Log Log1p Sin Cos Tanh Sigmoid Erf Floor Ceil Round Rint
IsNan IsInf IsFinite LogicalNot
Relu Relu6 Elu Selu Softplus Softsign LeakyRelu ReluGrad Relu6Grad EluGrad SeluGrad SoftplusGrad SoftsignGrad
LeakyReluGrad SigmoidGrad TanhGrad SqrtGrad RsqrtGrad ReciprocalGrad
Sum Mean Prod Max Min All Any ArgMax ArgMin Cumsum Cumprod
MatMul BatchMatMulV2 AddN Select SelectV2 ClipByValue Range L2Loss Softmax LogSoftmax
SoftmaxCrossEntropyWithLogits SparseSoftmaxCrossEntropyWithLogits BiasAddGrad Conv2D Conv2DBackpropInput
Conv2DBackpropFilter DepthwiseConv2dNative MaxPool AvgPool MaxPoolGrad AvgPoolGrad
ApplyGradientDescent ApplyMomentum ApplyAdam ApplyRMSProp
ResourceApplyGradientDescent ResourceApplyMomentum ResourceApplyAdam ResourceApplyRMSProp
VarHandleOp ReadVariableOp AssignVariableOp
""".split()

BLOCKGRAPH_OPS = """
BatchToSpace BatchToSpaceND Bitcast BroadcastArgs BroadcastTo Cast CheckNumerics Concat ConcatV2 Const
DebugGradientIdentity DepthToSpace Dequantize Diag DiagPart EditDistance ExpandDims ExtractImagePatches
FakeQuantWithMinMaxArgs FakeQuantWithMinMaxArgsGradient FakeQuantWithMinMaxVars FakeQuantWithMinMaxVarsGradient
FakeQuantWithMinMaxVarsPerChannel FakeQuantWithMinMaxVarsPerChannelGradient Fill Gather GatherNd GatherV2
Identity IdentityN ImmutableConst InvertPermutation ListDiff MatrixBandPart MatrixDiag MatrixDiagPart
MatrixSetDiag MirrorPad OneHot OnesLike Pack Pad PadV2 ParallelConcat Placeholder PlaceholderWithDefault
PreventGradient QuantizeAndDequantizeV2 QuantizeV2 QuantizedConcat QuantizedInstanceNorm QuantizedReshape
Rank Reshape ReverseSequence ReverseV2 ScatterNd ScatterNdNonAliasingAdd Shape ShapeN Size Slice Snapshot
SpaceToBatch SpaceToBatchND SpaceToDepth Split SplitV Squeeze StopGradient StridedSlice StridedSliceGrad
TensorStridedSliceUpdate Tile Transpose Unique UniqueWithCounts Unpack Where ZerosLike
""".split()


def dtype_name(enum: int) -> str:
    if enum == types_pb2.DT_INVALID:
        return None
    if enum > 100:                       # reference types (DT_FLOAT_REF = 101, ...)
        return tf.dtypes.as_dtype(enum - 100).name + "_ref"
    return tf.dtypes.as_dtype(enum).name


def _order(names):
    """Sort dtype names in TF's enum order."""
    def key(n):
        try:
            return tf.dtypes.as_dtype(n.replace("_ref", "")).as_datatype_enum, n
        except TypeError:
            return 10 ** 6, n           # a string constraint (data_format, bad_indices_policy): by name
    return sorted(set(names), key=key)


def attr_value(v):
    """An AttrValue proto as a JSON value."""
    which = v.WhichOneof("value")
    if which is None:
        return None
    if which == "s":
        return v.s.decode("utf-8", "backslashreplace")
    if which in ("i", "f", "b"):
        x = getattr(v, which)
        if which == "f" and x != x:
            return "nan"
        return x
    if which == "type":
        return dtype_name(v.type)
    if which == "shape":
        return None if v.shape.unknown_rank else [d.size if d.size >= 0 else None for d in v.shape.dim]
    if which == "func":
        return {"func": v.func.name}
    if which == "placeholder":
        return {"placeholder": v.placeholder}
    if which == "tensor":
        return {"tensor": str(tf.make_ndarray(v.tensor).tolist())}
    if which == "list":
        lv = v.list
        for field in ("s", "i", "f", "b", "type", "shape", "tensor", "func"):
            vals = list(getattr(lv, field))
            if vals:
                if field == "s":
                    return [s.decode("utf-8", "backslashreplace") for s in vals]
                if field == "type":
                    return [dtype_name(t) for t in vals]
                if field == "shape":
                    return [None if s.unknown_rank else [d.size if d.size >= 0 else None for d in s.dim]
                            for s in vals]
                if field == "tensor":
                    return [str(tf.make_ndarray(t).tolist()) for t in vals]
                if field == "func":
                    return [{"func": f.name} for f in vals]
                return vals
        return []
    raise ValueError(which)


def _arg(a, py_name=None):
    d = {"name": a.name}
    if py_name is not None:
        d["py_name"] = py_name
    d.update({"type": dtype_name(a.type), "type_attr": a.type_attr or None,
              "number_attr": a.number_attr or None, "type_list_attr": a.type_list_attr or None,
              "is_ref": bool(a.is_ref)})
    return d


def op_entry(op: str) -> dict:
    od = op_def_registry.get(op)
    if od is None:
        return {"tf_op": False}
    fn = getattr(tf.raw_ops, op, None)
    params = [p for p in inspect.signature(fn).parameters if p != "name"] if fn is not None else None
    # the Python wrapper takes the inputs first, in OpDef order (possibly renamed), then non-inferred attrs
    py_in = params[:len(od.input_arg)] if params is not None else [a.name for a in od.input_arg]
    inferred = set()
    for a in od.input_arg:
        for k in (a.type_attr, a.number_attr, a.type_list_attr):
            if k:
                inferred.add(k)
    attr_names = {a.name for a in od.attr}
    py_attrs = set(params[len(od.input_arg):]) if params is not None else attr_names - inferred
    py_name_of = {a: a for a in attr_names}
    unknown = py_attrs - attr_names
    if unknown:   # a renamed attr (Squeeze's squeeze_dims is `axis`): the wrapper passes ("opdef_name", py_name)
        src = inspect.getsource(fn)
        for opdef_name, py in re.findall(r'"(\w+)", (\w+)', src):
            if py in unknown and opdef_name in attr_names:
                py_name_of[opdef_name] = py
                unknown.discard(py)
    assert not unknown, (op, unknown)
    attrs = []
    type_attrs = []
    for a in od.attr:
        allowed = attr_value(a.allowed_values) if a.HasField("allowed_values") else None
        attrs.append({"name": a.name, "py_name": py_name_of[a.name], "type": a.type,
                      "has_default": a.HasField("default_value"),
                      "default": attr_value(a.default_value) if a.HasField("default_value") else None,
                      "allowed_values": allowed, "has_minimum": bool(a.has_minimum),
                      "minimum": a.minimum if a.has_minimum else None,
                      "inferred": a.name in inferred and py_name_of[a.name] not in py_attrs})
        if a.type in ("type", "list(type)"):
            type_attrs.append(a.name)
    allowed_of = {a["name"]: a["allowed_values"] for a in attrs}

    cpu, others = [], set()
    for k in kernels.get_registered_kernels_for_op(op).kernel:
        if k.device_type not in ("CPU", "DEFAULT"):
            others.add(k.device_type)
            continue
        cons = {}
        for c in k.constraint:
            cons[c.name] = _order(attr_value(c.allowed_values) or [])
        cpu.append({"device": k.device_type, "constraints": dict(sorted(cons.items())),
                    "unconstrained": [t for t in type_attrs if t not in cons],
                    "host_memory": sorted(k.host_memory_arg), "label": k.label, "priority": k.priority})
    cpu.sort(key=lambda k: (k["device"], k["label"], json.dumps(k["constraints"])))
    cpu_dtypes, any_attrs, combos = {}, set(), []
    for k in cpu:
        if k["label"]:
            continue
        for t in type_attrs:
            vals = k["constraints"].get(t)
            if vals is None:
                if allowed_of[t] is None:
                    any_attrs.add(t)
                    continue
                vals = allowed_of[t]
            cpu_dtypes.setdefault(t, []).extend(vals)
        if len(type_attrs) > 1:
            keys = sorted(k["constraints"])
            def expand(i, cur):
                if i == len(keys):
                    combos.append(dict(cur))
                    return
                for v in k["constraints"][keys[i]]:
                    cur[keys[i]] = v
                    expand(i + 1, cur)
                cur.pop(keys[i], None)
            expand(0, {})
    # a kernel registered for a dtype the OpDef does not allow is unreachable (LeakyRelu's integer kernels)
    unreachable = {}
    for t, v in list(cpu_dtypes.items()):
        if allowed_of.get(t) is not None:
            out = sorted(set(v) - set(allowed_of[t]))
            if out:
                unreachable[t] = _order(out)
            v = [d for d in v if d in allowed_of[t]]
        cpu_dtypes[t] = _order(v)
    uniq = []
    for c in combos:
        if c not in uniq and all(allowed_of.get(a) is None or d in allowed_of[a] for a, d in c.items()):
            uniq.append(c)
    return {"tf_op": True, "summary": od.summary, "is_stateful": bool(od.is_stateful),
            "is_commutative": bool(od.is_commutative), "is_aggregate": bool(od.is_aggregate),
            "inputs": [_arg(a, p) for a, p in zip(od.input_arg, py_in)],
            "outputs": [_arg(a) for a in od.output_arg], "attrs": attrs,
            "py_signature": params, "cpu_kernels": cpu, "cpu_dtypes": cpu_dtypes,
            "cpu_dtypes_any": sorted(any_attrs), "cpu_dtype_combos": uniq,
            "cpu_kernel_dtypes_not_in_opdef": unreachable,
            "cpu_runtime_refusals": runtime_refusals(op),
            "other_devices": sorted(others)}


# Registered CPU kernels that refuse their dtype when run (found by probing every OpDef dtype of the simple
# ops with tiny inputs); each is re-run here so the table states what this TF does.
RUNTIME_PROBES = {
    "Where": [("T", "float16", lambda: tf.raw_ops.Where(condition=tf.ones([2], tf.float16)))],
}


def runtime_refusals(op):
    out = []
    for attr, dt, fn in RUNTIME_PROBES.get(op, []):
        try:
            with tf.device("/CPU:0"):
                fn()
        except tf.errors.OpError as e:
            from fixture_lib import clean_message
            out.append({"attr": attr, "dtype": dt, "error": f"{type(e).__name__}: {clean_message(e.message)}"})
    return out


def blockgraph_ops(blocks_file=None):
    try:
        if blocks_file:
            with open(blocks_file) as fh:
                data = json.load(fh)
        else:
            exe = os.path.join(REPO, ".venv", "bin", "blockgraph")
            out = subprocess.run([exe if os.path.exists(exe) else "blockgraph", "blocks", "--json"],
                                 capture_output=True, text=True, check=True, cwd=REPO).stdout
            data = json.loads(out)
        return [b["name"] for b in data]
    except (OSError, subprocess.CalledProcessError, ValueError) as e:
        print(f"blockgraph blocks --json unavailable ({e}); using BLOCKGRAPH_OPS", file=sys.stderr)
        return list(BLOCKGRAPH_OPS)


def _probe_tensor(dt, shape):
    if dt == "string":
        return tf.fill(shape, "a")
    d = tf.dtypes.as_dtype(dt)
    if d.is_quantized:
        base = {"qint8": np.int8, "quint8": np.uint8, "qint16": np.int16, "quint16": np.uint16, "qint32": np.int32}[dt]
        return tf.constant(np.ones(shape, base), dtype=d)
    if not (d.is_floating or d.is_integer or d.is_complex or d.is_bool) or dt.startswith(("float8", "int4", "uint4")) \
            or dt in ("int2", "uint2", "float4_e2m1fn"):
        return None
    return tf.ones(shape, d)


def verify(table):
    """Run every OpDef dtype of the ops whose inputs all have type attr T and that need no other attr, on
    ones of a few shapes: it must run exactly when cpu_dtypes says so (minus cpu_runtime_refusals).
    Returns a list of disagreements."""
    bad = []
    for op, e in table.items():
        if op.startswith("_") or not e.get("tf_op") or not e["inputs"] or any(
                i["type_attr"] != "T" or i["number_attr"] or i["type_list_attr"] for i in e["inputs"]):
            continue
        if any(not a["has_default"] and not a["inferred"] and a["name"] != "T" for a in e["attrs"]):
            continue
        allowed = next(a for a in e["attrs"] if a["name"] == "T")["allowed_values"] or []
        refused = {r["dtype"] for r in e["cpu_runtime_refusals"]}
        for dt in allowed:
            ran, msg, skip = False, "", False
            for shp in [(2,), (2, 2), (1, 2, 2, 2)]:
                x = _probe_tensor(dt, shp)
                if x is None:
                    skip = True
                    break
                kw = {i["py_name"]: x for i in e["inputs"]}
                if op == "InvertPermutation":
                    kw["x"] = tf.cast(tf.constant([1, 0]), x.dtype)
                if op == "BiasAdd":
                    kw["bias"] = _probe_tensor(dt, shp[-1:])
                try:
                    with tf.device("/CPU:0"):
                        getattr(tf.raw_ops, op)(**kw)
                    ran = True
                    break
                except RuntimeError:            # ref-typed ops (Apply*) cannot run eagerly
                    skip = True
                    break
                except (tf.errors.OpError, TypeError, ValueError) as ex:
                    msg = str(ex)[:120]
            if skip:
                continue
            want = dt in e["cpu_dtypes"].get("T", []) and dt not in refused
            if ran != want:
                bad.append(f"{op} {dt}: {'runs' if ran else 'fails'}, table says {want} {msg}")
    return bad


def main(argv):
    if "--verify" in argv:
        with open(os.path.join(REPO, "tests", "fixtures", "tf_ops.json")) as fh:
            bad = verify(json.load(fh))
        print("\n".join(bad) or "every probed OpDef dtype runs exactly when cpu_dtypes says so")
        return 1 if bad else 0
    blocks_file = None
    if "--blocks" in argv:
        i = argv.index("--blocks")
        blocks_file = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    out = argv[0] if argv else os.path.join(REPO, "tests", "fixtures", "tf_ops.json")
    names = sorted(set(MATH_OPS) | set(blockgraph_ops(blocks_file)) | set(BLOCKGRAPH_OPS))
    table = {n: op_entry(n) for n in names}
    table = {"_meta": {"generator": f"tools/tf_ops.py, tensorflow-cpu {tf.__version__}",
                       "schema": "see the docstring of tools/tf_ops.py"}, **table}
    os.makedirs(os.path.dirname(out), exist_ok=True)
    text = json.dumps(table, indent=1, sort_keys=False)
    # one line for each list of scalars and each small flat object (kernels, args): a readable diff
    text = re.sub(r"\[\s*([^\[\]{}]*?)\s*\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    text = re.sub(r"\{\s*([^\[\]{}]*?)\s*\}", lambda m: "{" + " ".join(m.group(1).split()) + "}", text)
    assert json.loads(text) == json.loads(json.dumps(table)), "compact formatting changed a value"
    with open(out, "w") as fh:
        fh.write(text + "\n")
    missing = [n for n, e in table.items() if not n.startswith("_") and not e["tf_op"]]
    print(f"wrote {out}: {len(table) - 1} ops" + (f"; not TF ops: {missing}" if missing else ""))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
