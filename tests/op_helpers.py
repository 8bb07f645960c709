"""Helpers shared by the block tests: an op's static output Specs from input Specs, an op run on
concrete arrays, a page file written for a test, and a call bounded in time."""
import threading

import ml_dtypes
import numpy as np
import pytest

from blockgraph.core import binding, registry
from blockgraph.core.attrs import bind_attrs
from blockgraph.core.blockdef import Spec
from blockgraph.core.contexts import CallContext


def static(op, inputs, **attrs):
    """Output specs of `op` from input Specs {port: (dtype, shape[, value])} (lists for list ports)."""
    d = registry.get(op)
    a, errs = bind_attrs(d, attrs)
    assert not errs, errs

    def value(v):
        return np.asarray(v[2]) if len(v) > 2 else None

    specs = {k: [Spec(x[0], x[1]) for x in v] if isinstance(v, list) else Spec(v[0], v[1])
             for k, v in inputs.items()}
    values = {k: [value(x) for x in v] if isinstance(v, list) else value(v) for k, v in inputs.items()}
    dts = {k: [x[0] for x in v] if isinstance(v, list) else v[0] for k, v in inputs.items()}
    return binding.output_specs(d, specs, values, binding.infer_types(d, dts, a))[0]


def shape_of(op, inputs, **attrs):
    """The static shape of the first output (a list of shapes for a list output)."""
    s = static(op, inputs, **attrs)[0]
    return [x.shape for x in s] if isinstance(s, list) else s.shape


def value_of(op, inputs, **attrs):
    """The statically known value of the first output, as lists (None when unknown)."""
    s = static(op, inputs, **attrs)[0]
    return [None if x.value is None else x.value.tolist() for x in s] if isinstance(s, list) else (
        None if s.value is None else s.value.tolist())


def run(op, inputs, max_bytes=None, **attrs):
    """Outputs of `op` on concrete arrays {port: array | [arrays]} (TF dtype from numpy; bytes ->
    string; ml_dtypes.bfloat16 -> bfloat16)."""
    d = registry.get(op)
    a, errs = bind_attrs(d, attrs)
    assert not errs, errs
    arrays, dts = {}, {}
    for k, v in inputs.items():
        vs = v if isinstance(v, list) else [v]
        arrs = [np.asarray(x) for x in vs]
        arrs = [x.astype(object) if x.dtype.kind == "S" else x for x in arrs]
        names = ["string" if x.dtype == object else ("bfloat16" if x.dtype == ml_dtypes.bfloat16
                                                        else x.dtype.name) for x in arrs]
        arrays[k], dts[k] = (arrs, names) if isinstance(v, list) else (arrs[0], names[0])
    a, specs, _ = binding.bind(d, arrays, a, dts)
    ctx = CallContext(op, op, specs, max_bytes=max_bytes) if d.context else None
    outs = binding.compute(d, arrays, a, specs, ctx)
    return outs[0] if len(outs) == 1 else outs


def write(folder, name, text):
    """Write a page (or any text) into `folder`; return its path as a string."""
    p = folder / name
    p.write_text(text)
    return str(p)


def bounded(fn, *args, seconds=90, **kwargs):
    """fn(*args, **kwargs) in a thread; fail the test instead of hanging past `seconds`."""
    box = {}

    def target():
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as e:  # re-raised in the test's thread
            box["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    if t.is_alive():
        pytest.fail(f"{getattr(fn, '__name__', fn)} did not finish in {seconds} s")
    if "error" in box:
        raise box["error"]
    return box.get("value")


def op_page(op, inputs, attrs=None):
    """A page with one block `c` of `op`. inputs: port -> ("ph", dtype, shape) for a Placeholder
    (dims may be None), an array or (array, tf dtype) for a Const, or a list of those."""
    import blockgraph
    from fixture_cases import dump_yaml
    blocks, refs = {}, {}

    def add(name, v):
        if isinstance(v, tuple) and isinstance(v[0], str):
            blocks[name] = {"op": "Placeholder", "attrs": {"dtype": v[1], "shape": v[2]}}
            return name
        arr, d = v if isinstance(v, tuple) else (v, None)
        if d is None:
            d = "string" if arr.dtype.kind in "SO" else arr.dtype.name
        val = [b.decode() for b in arr.ravel()] if d == "string" else arr.tolist()
        blocks[name] = {"op": "Const", "attrs": {"value": val, "dtype": d, "shape": list(arr.shape)}}
        return name

    for port, v in inputs.items():
        if isinstance(v, list):
            refs[port] = [add(f"in_{port}_{i}", x) for i, x in enumerate(v)]
        else:
            refs[port] = add(f"in_{port}", v)
    blocks["c"] = {"op": op, "inputs": refs, "attrs": attrs or {}}
    text = dump_yaml({"format": 1, "page": "t", "blocks": blocks}, sort_keys=False)
    return blockgraph.load_page("t.yaml", text=text)


KEEP_GOING_PAGE = """format: 1
blocks:
  x: {op: Placeholder, attrs: {dtype: float32, shape: [null]}}
  fq: {op: FakeQuantWithMinMaxVars, inputs: {inputs: x, min: 0.0, max: 1.0}}
  after: {op: Identity, inputs: {input: fq}}
  c: {op: Const, attrs: {value: [.nan, .inf, -.inf, -0.0, 1.5]}}
  ok: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: c}}
"""
