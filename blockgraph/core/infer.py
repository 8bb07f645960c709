"""Static dtypes and shapes of a Scope: each block's output Specs worked out in run order from
its inputs' (upstream Specs, and inline literals, which get their dtype here), by the block's
own shape function. A problem is a Diagnostic on its block; blocks downstream of an invalid one
stay unknown, so one mistake is reported once."""
from __future__ import annotations

from . import binding, budget
from . import dtypes as dt
from .blockdef import Spec
from .errors import BlockBug, LiteralError, OpError
from .literals import to_array
from .nodes import Block, Literal, Ref


def propagate(scope) -> None:
    """Every block's output Specs, in run order, from its inputs' (upstream specs and literals)."""
    for bid in scope.order:
        b = scope.blocks[bid]
        if b.defn is None:
            continue
        if not b.valid:
            continue
        in_specs, upstream_ok = _in_specs(scope, b)
        if not b.valid or not upstream_ok:
            continue
        in_dtypes = {p: _dtypes_of(s) for p, s in in_specs.items()}
        try:
            attrs = binding.infer_types(b.defn, in_dtypes, b.attrs)
            shapes, values = _split_values(in_specs)
            feed = Spec(None, None) if b.defn.feedable else None   # may be fed: any shape
            b.specs, _ = binding.output_specs(b.defn, shapes, values, attrs, feed)
            need = budget.output_bytes(b.specs) if scope.max_bytes is not None else None
            if need is not None and need > scope.max_bytes:
                raise OpError(budget.limit_message(need, scope.max_bytes))
            b.in_dtypes = in_dtypes
        except OpError as e:
            path = ("blocks", bid, "inputs", e.port) if e.port else ("blocks", bid)
            scope._diag(b, path, e.message, port=e.port)
        except BlockBug as e:
            scope._diag(b, ("blocks", bid), f"internal error: {e}")
        except (ValueError, TypeError, IndexError) as e:   # a shape function choking on bad values
            scope._diag(b, ("blocks", bid), f"{type(e).__name__}: {e}")

def _in_specs(scope, b: Block):
    """Specs of a block's inputs; literals get their dtype here. (specs, all upstream known)."""
    specs, ok = {}, True
    for port, v in b.inputs.items():
        p = b.defn.input(port)
        items = v if isinstance(v, list) else [v]
        got = []
        for i, item in enumerate(items):
            if isinstance(item, Ref):
                s = _ref_spec(scope, b, port, item)
                if s is None:
                    ok = False
                    continue
                got.extend(s if isinstance(s, list) else [s])
            else:
                s = _literal_spec(scope, b, p, item, i if isinstance(v, list) else None)
                if s is None:
                    ok = False
                    continue
                got.append(s)
        specs[port] = got if isinstance(v, list) else (got[0] if got else None)
    return specs, ok

def _ref_spec(scope, b, port, ref):
    src = scope.blocks.get(ref.block)
    if src is None or not src.valid or src.specs is None or src.output_index(ref.port) is None:
        return None
    i = src.output_index(ref.port)
    s = src.specs[i]
    out = src.defn.outputs[i]
    if out.list:
        if ref.index is not None:
            if ref.index >= len(s):
                scope._diag(b, ("blocks", b.id, "inputs", port), f"input '{port}': '{ref}' is out "
                           f"of range: '{src.id}.{out.name}' has {len(s)} elements", key=False,
                           port=port)
                return None
            return s[ref.index]
        if not (b.defn.input(port).list or b.defn.input(port).type_list_attr):
            scope._diag(b, ("blocks", b.id, "inputs", port), f"input '{port}': '{ref}' is a list of "
                       f"{len(s)} tensors; pick one with {src.id}.{out.name}.I", key=False, port=port)
            return None
        return list(s)
    return s

def _literal_spec(scope, b, p, lit: Literal, index):
    """Convert an inline literal with the dtype its port implies (fixed, from its type attr, or
    inferred as tf.constant does)."""
    path = ("blocks", b.id, "inputs", p.name) + (() if index is None else (index,))
    dtype = lit.dtype
    if dtype is None:
        if len(p.dtypes) == 1:
            dtype = p.dtypes[0]
        elif p.type_attr:
            dtype = b.attrs.get(p.type_attr) if isinstance(b.attrs.get(p.type_attr), str) else None
            dtype = dtype or _sibling_dtype(scope, b, p.type_attr)
    try:
        if dtype is None:
            arr, dtype = to_array(lit.value)
            if dtype not in p.dtypes:
                attr = b.defn.attr(p.type_attr) if p.type_attr else None
                if attr is not None and not attr.required and attr.default in p.dtypes:
                    arr, dtype = to_array(lit.value, attr.default)
        else:
            arr, dtype = to_array(lit.value, dtype)
    except (LiteralError, dt.DTypeError) as e:
        scope._diag(b, path, f"input '{p.name}': {e}", key=False, port=p.name)
        return None
    lit.array, lit.dtype = arr, dtype
    return Spec(dtype, arr.shape, arr)

def _sibling_dtype(scope, b, type_attr):
    """The dtype another input sharing `type_attr` gets from a reference, if known."""
    for port, v in b.inputs.items():
        q = b.defn.input(port)
        if q.type_attr != type_attr:
            continue
        for item in (v if isinstance(v, list) else [v]):
            if isinstance(item, Ref):
                s = _ref_spec(scope, b, port, item) if item.block in scope.blocks else None
                if isinstance(s, Spec) and s.dtype:
                    return s.dtype
                if isinstance(s, list) and s and s[0].dtype:
                    return s[0].dtype
            elif item.dtype is not None:
                return item.dtype
    return None


def _split_values(in_specs):
    """(input Specs without values, {port: known value or list of them}) for a shape function."""
    shapes, values = {}, {}
    for p, s in in_specs.items():
        if type(s) is list:
            shapes[p] = [Spec(x.dtype, x.shape) for x in s]
            if any(x.value is not None for x in s):
                values[p] = [x.value for x in s]
        elif s is not None:
            shapes[p] = Spec(s.dtype, s.shape) if s.value is not None else s
            if s.value is not None:
                values[p] = s.value
        else:
            shapes[p] = s
    return shapes, values


def _dtypes_of(s):
    if isinstance(s, list):
        return [x.dtype for x in s]
    return None if s is None else s.dtype
