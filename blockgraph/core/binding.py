"""Binding a BlockDef to inputs: type-attr inference, output specs from the shape function, the
choice of kernel and its checked call.

The same steps serve the static check (on Specs) and the run (on arrays), so a page that checks
clean runs the same rules that found it clean.
"""
from __future__ import annotations

import numpy as np

from . import dtypes as dt
from . import opdefs
from .blockdef import DECLINE, BlockDef, Spec
from .contexts import CallContext, ShapeContext
from .errors import BlockBug, OpError, tf_attr_float


def infer_types(defn: BlockDef, in_dtypes: dict, attrs: dict) -> dict:
    """Set the type attrs from the input dtypes, checked as TF checks them (its texts): inputs
    sharing a type attr agree (`cannot compute Op as input #1(zero-based) was expected to be a
    float tensor but is a double tensor`), then each type is in the op-def's allowed list, then
    TF's CPU kernel registers it (`Could not find device for node: ...`). `in_dtypes` maps port ->
    dtype name or list of names (None where unknown)."""
    attrs = dict(attrs)
    explicit = {n: attrs[n] for n in defn.type_attrs if n in attrs}
    seen: dict[str, tuple[str, str]] = {}
    index = 0
    for p in defn.inputs:
        got = in_dtypes.get(p.name)
        items = got if isinstance(got, list) else [got] if p.name in in_dtypes else []
        if p.type_list_attr:
            if got is not None:
                attrs[p.type_list_attr] = list(items)
                for d in items:
                    if d is not None and d not in p.dtypes:
                        _unregistered(defn, p, d, attrs)
            index += len(items)
            continue
        for d in items:
            i, index = index, index + 1
            if d is None:
                continue
            if p.type_attr:
                prev = seen.get(p.type_attr)
                if prev is not None and prev[0] != d:
                    raise OpError(_cannot_compute(defn, i, prev[0], d), port=p.name)
                seen.setdefault(p.type_attr, (d, p.name, p))
            elif d not in p.dtypes:
                raise OpError(_cannot_compute(defn, i, p.dtypes[0], d), port=p.name)
    for name, (d, port, p) in seen.items():
        if name in explicit and explicit[name] != d:
            raise OpError(f"attr {name}={explicit[name]} does not match input '{port}' of dtype {d}",
                          port=port)
        attrs[name] = d
    for name, (d, port, p) in seen.items():
        if d not in p.dtypes:
            node = dict(attrs)
            for q in defn.inputs:       # a list port's length is TF's number attr N
                if q.list and not q.type_list_attr and isinstance(in_dtypes.get(q.name), list):
                    node.setdefault("N", len(in_dtypes[q.name]))
            _unregistered(defn, p, d, node, name)
    return attrs


def _cannot_compute(defn, index, want, got) -> str:
    return (f"cannot compute {defn.name} as input #{index}(zero-based) was expected to be a "
            f"{dt.tf_name(want)} tensor but is a {dt.tf_name(got)} tensor")


def _unregistered(defn, p, d, attrs, attr_name=None):
    """TF's error for a dtype its op-def does not allow (the first line of TF's text), or that its
    CPU kernel does not register."""
    attr_name = attr_name or p.type_attr or p.type_list_attr
    allowed = p.allowed or opdefs.allowed(defn.name, attr_name)
    if allowed is False:           # an op TF's OpDef table does not know: its declared dtypes
        allowed = p.dtypes
    if allowed is not None and d not in allowed:
        raise OpError(f"Value for attr '{attr_name}' of {dt.tf_name(d)} is not in the list of "
                      f"allowed values: {', '.join(dt.tf_name(a) for a in allowed)}", port=p.name)
    raise kernel_not_found(defn, attrs, port=p.name)


def kernel_not_found(defn, attrs: dict, port: str | None = None) -> OpError:
    """TF's error when no CPU kernel registers a node's dtypes or attr values (SpaceToDepth's
    data_format NCHW): the node, then TF's list of the op's kernels when the table has it. The
    training ops run as TF 2 runs them, by their ResourceApply* kernels: TF's "No OpKernel" text,
    with that kernel's list under the op's own name."""
    resource = opdefs.kernels("Resource" + defn.name) if defn.ref_ports else None
    if resource is not None:       # a training op: TF 2 runs its ResourceApply* kernel
        return OpError(f"No OpKernel was registered to support Op '{defn.name}' used by "
                       f"{{{{node {defn.name}}}}} with these attrs: [{_node_attrs(defn, attrs)}]\n"
                       f"Registered devices: [CPU]\nRegistered kernels:\n{resource}\n\n"
                       f"\t [[{defn.name}]]", port=port)
    text = (f"Could not find device for node: {{{{node {defn.name}}}}} = "
            f"{defn.name}[{_node_attrs(defn, attrs)}]")
    listed = opdefs.kernels(defn.name)
    if listed is not None:
        text += f"\nAll kernels registered for op {defn.name}:\n{listed}"
    return OpError(text, port=port)


def _node_attrs(defn, attrs) -> str:
    """A NodeDef's attrs as TF prints them (SummarizeAttrValue): sorted by name, types as DT_*,
    floats as legacy FloatToBuffer, int lists as [1, 2], shapes as [1,2]."""
    parts = []
    for k in sorted(attrs):
        v = attrs[k]
        a = defn.attr(k)
        is_type = k in defn.type_attrs or (a is not None and a.type == "type")
        if is_type and isinstance(v, str):
            text = dt.enum_name(v)
        elif is_type and isinstance(v, list):
            text = "[" + ", ".join(dt.enum_name(x) for x in v) + "]"
        elif isinstance(v, bool):
            text = str(v).lower()
        elif isinstance(v, float) or (a is not None and a.type == "float"):
            text = tf_attr_float(v)
        elif isinstance(v, int):
            text = str(v)
        elif isinstance(v, str):
            text = f'"{v}"'
        elif a is not None and a.type == "shape":
            text = "<unknown>" if v is None else "[" + ",".join(
                "?" if x is None else str(x) for x in v) + "]"
        elif a is not None and a.type == "list(int)":
            text = "[" + ", ".join(str(x) for x in v) + "]"
        else:
            continue
        parts.append(f"{k}={text}")
    return ", ".join(parts)


def output_dtype(out, attrs):
    """An output's TF dtype: a fixed name, or the value of the attr its rule names."""
    return out.dtype if out.dtype in dt.NUMPY else attrs.get(out.dtype)


def output_specs(defn: BlockDef, in_specs: dict, values: dict, attrs: dict, feed=None):
    """(one Spec per output — a list of Specs for a list output —, the input ports whose values
    the shape function read). `in_specs` hold shapes and dtypes, `values` the known values.

    Raises OpError when the shape function finds the inputs inconsistent, BlockBug when it
    breaks its contract.
    """
    ctx = ShapeContext(defn, in_specs, attrs, values, feed)
    if defn.shape(ctx) is not None:
        raise BlockBug(f"shape function of {defn.name} returned a value: it must set its outputs "
                       "with ctx.set_output(...) and return None")
    return ctx.results(lambda o: output_dtype(o, attrs)), ctx.reads


def bind(defn: BlockDef, inputs: dict, attrs: dict, in_dtypes: dict, feed=None):
    """The run-time binding of a block to concrete arrays: (attrs with type attrs set, output
    Specs, ports whose values the shape function read)."""
    if defn.type_attrs:
        attrs = infer_types(defn, in_dtypes, attrs)
    in_specs, values = {}, {}
    for p, v in inputs.items():
        if type(v) is list:
            in_specs[p] = [Spec(d, a.shape) for a, d in zip(v, in_dtypes[p])]
        else:
            in_specs[p] = Spec(in_dtypes[p], v.shape)
        values[p] = v
    fed = None if feed is None else Spec(None, np.shape(feed))
    specs, reads = output_specs(defn, in_specs, values, attrs, fed)
    return attrs, specs, reads


def compute(defn: BlockDef, inputs: dict, attrs: dict, specs: list, ctx: CallContext | None = None):
    """Run the first kernel that takes the call and check what it returned against `specs`.
    Returns a list with one array (or list of arrays) per output."""
    for kernel in defn.kernels:
        if kernel.accepts is not None and not kernel.accepts(inputs, attrs):
            continue
        args = kernel.args
        kwargs = {k: v for k, v in inputs.items() if args is None or k in args}
        for k, v in attrs.items():
            if args is None or k in args:
                kwargs[k] = v
        result = kernel.fn(ctx, **kwargs) if defn.context else kernel.fn(**kwargs)
        if result is not DECLINE:
            return checked_outputs(defn, result, specs)
    raise BlockBug(f"{defn.name}: every kernel declined the call")   # the reference never does


def checked_outputs(defn: BlockDef, result, specs) -> list:
    """What a kernel returned as a list with one item per output, each checked against its Spec
    (a mismatch is a bug of the block, reported as its failure)."""
    n_out = len(defn.outputs)
    if n_out == 1:
        if not defn.outputs[0].list:    # the common case: one tensor
            return [_checked(defn, defn.outputs[0], result, specs[0])]
        result = (result,)
    if not isinstance(result, (tuple, list)) or len(result) != n_out:
        got = len(result) if isinstance(result, (tuple, list)) else 1
        raise BlockBug(f"{defn.name} returned {got} outputs, declared {n_out}")
    outputs = []
    for out, value, spec in zip(defn.outputs, result, specs):
        if out.list:
            if len(spec) != len(value):
                raise BlockBug(f"{defn.name}.{out.name}: {len(value)} items, shape function said "
                               f"{len(spec)}")
            outputs.append([_checked(defn, out, v, s) for v, s in zip(value, spec)])
        else:
            outputs.append(_checked(defn, out, value, spec))
    return outputs


def _checked(defn, out, value, spec):
    """The array an output returned, checked against its static Spec."""
    want = spec.dtype
    if type(value) is not np.ndarray:
        value = np.asarray(value)
    if want is not None and value.dtype != dt.NUMPY[want]:
        if want == "string" and value.dtype.kind in "SU":
            value = dt.as_array(value, want)
        else:
            raise BlockBug(f"{defn.name}.{out.name}: computed dtype {value.dtype} differs from "
                           f"the declared {want}")
    if spec.shape is not None and spec.shape != value.shape:
        shp = value.shape
        if len(shp) != len(spec.shape) or any(a is not None and a != b for a, b in zip(spec.shape, shp)):
            raise BlockBug(f"{defn.name}.{out.name}: computed shape {list(shp)} differs from the "
                           f"shape function's {list(spec.shape)}")
    return value


def _allowed(dtypes) -> str:
    if len(dtypes) == 1:
        return dtypes[0]
    if set(dtypes) == set(dt.ALL):
        return "any dtype"
    return "one of " + ", ".join(dtypes)
