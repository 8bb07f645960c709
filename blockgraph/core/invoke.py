"""Binding a BlockDef to inputs and attrs: defaults and attr checks, type-attr inference, output
specs from the shape function, and the checked call of the compute function.

The same steps serve the static check (on `Spec`s) and the run (on arrays), so a page that checks
clean runs the same rules that found it clean.
"""
from __future__ import annotations

import numpy as np

from . import budget
from . import dtypes as dt
from .registry import AttrError, BlockDef, OpError, Spec, check_attr


def bind_attrs(defn: BlockDef, given: dict) -> tuple[dict, list]:
    """Attrs with defaults applied and values checked: (attrs, [(attr name, message), ...]).

    Attrs that are type attrs set by inputs (T, Tidx, ...) may be given explicitly; they are then
    checked against the inputs by `infer_types`.
    """
    out, errors = {}, []
    type_attrs = defn.type_attrs
    for a in defn.attrs:
        if a.name in given:
            try:
                out[a.name] = check_attr(a, given[a.name])
            except AttrError as e:
                errors.append((a.name, str(e)))
        elif a.required:
            errors.append((a.name, f"missing required attr '{a.name}' ({a.type})"))
        else:
            out[a.name] = a.default
    for name in type_attrs:
        if name in given and defn.attr(name) is None:
            v = given[name]
            try:
                out[name] = [dt.canonical(x) for x in v] if isinstance(v, list) else dt.canonical(v)
            except dt.DTypeError as e:
                errors.append((name, f"attr '{name}': {e}"))
    return out, errors


def infer_types(defn: BlockDef, in_dtypes: dict, attrs: dict) -> dict:
    """Set the type attrs from the input dtypes; OpError(port=...) when a dtype is not allowed or
    ports sharing a type attr disagree. `in_dtypes` maps port -> dtype name or list of names
    (None where unknown)."""
    attrs = dict(attrs)
    explicit = {n: attrs[n] for n in defn.type_attrs if n in attrs}
    seen: dict[str, tuple[str, str]] = {}
    for p in defn.inputs:
        got = in_dtypes.get(p.name)
        if got is None:
            continue
        items = got if isinstance(got, list) else [got]
        for d in items:
            if d is not None and d not in p.dtypes:
                raise OpError(f"input '{p.name}' must be {_allowed(p.dtypes)}, got {d}", port=p.name)
        if p.type_list_attr:
            attrs[p.type_list_attr] = list(items)
            continue
        if not p.type_attr:
            continue
        for d in items:
            if d is None:
                continue
            prev = seen.get(p.type_attr)
            if prev and prev[0] != d:
                raise OpError(f"input '{p.name}' is {d} but input '{prev[1]}' is {prev[0]}: they must "
                              f"have the same dtype (attr {p.type_attr})", port=p.name)
            seen.setdefault(p.type_attr, (d, p.name))
    for name, (d, port) in seen.items():
        if name in explicit and explicit[name] != d:
            raise OpError(f"attr {name}={explicit[name]} does not match input '{port}' of dtype {d}",
                          port=port)
        attrs[name] = d
    return attrs


def output_dtype(defn: BlockDef, out, attrs):
    """An output's TF dtype: a fixed name, or the value of the attr its rule names."""
    return out.dtype if out.dtype in dt.NUMPY else attrs.get(out.dtype)


def output_specs(defn: BlockDef, in_specs: dict, attrs: dict, reads: "_Reads | None" = None) -> list:
    """One Spec per output (a list of Specs for a list output), from the block's shape function.
    `reads`: notes the input ports whose values the shape function reads (see `RunMemo`).

    Raises OpError when the shape function finds the inputs inconsistent.
    """
    if reads is not None:
        reads.active = True
    try:
        shapes = defn.shape(in_specs, attrs) if defn.shape else [None] * len(defn.outputs)
    finally:
        if reads is not None:
            reads.active = False
    if not isinstance(shapes, list) or len(defn.outputs) == 1 and not (
            len(shapes) == 1 and (shapes[0] is None or isinstance(shapes[0], (tuple, Spec, list)))):
        shapes = [shapes]
    specs = []
    for out, s in zip(defn.outputs, shapes):
        d = output_dtype(defn, out, attrs)
        if out.list:
            items = s if isinstance(s, list) else []
            dts = d if isinstance(d, list) else [d] * len(items)
            specs.append([_spec(x, dd) for x, dd in zip(items, dts)])
        else:
            specs.append(_spec(s, d))
    return specs


def _spec(s, dtype):
    if isinstance(s, Spec):
        return Spec(s.dtype or dtype, None if s.shape is None else tuple(s.shape), s.value)
    return Spec(dtype, None if s is None else tuple(s))


class RunMemo:
    """What `call` works out for one block before computing (type attrs, output specs, the bytes
    the outputs need), kept by the dtypes and shapes of its inputs: a block that runs again on
    inputs of the same dtypes and shapes skips its shape function. Entries are kept only when
    the shape function read no value but those of `constant_ports` (inputs that are literals,
    the same every run); specs are kept without values, which the run never reads. Nothing is
    watched or kept on a block's first run (`warm` is False), so a page run once pays nothing."""
    __slots__ = ("constant_ports", "entries", "warm")
    MAX_ENTRIES = 16

    def __init__(self, constant_ports=frozenset()):
        self.constant_ports = frozenset(constant_ports)
        self.entries: dict = {}
        self.warm = False

    def keep(self, key, attrs, specs, need, reads: "_Reads"):
        if len(self.entries) < self.MAX_ENTRIES and reads.ports <= self.constant_ports:
            self.entries[key] = (attrs, [_without_value(s) for s in specs], need)


class _Reads:
    """The input ports whose Spec.value a shape function read (while `active`)."""
    __slots__ = ("ports", "active")

    def __init__(self):
        self.ports, self.active = set(), False


class _WatchedSpec(Spec):
    """An input Spec that notes in `_reads` when the shape function reads its value."""
    __slots__ = ("_reads", "_port")

    @property
    def value(self):
        reads = self._reads
        if reads.active:
            reads.ports.add(self._port)
        return _SPEC_VALUE.__get__(self)

    @value.setter
    def value(self, v):
        _SPEC_VALUE.__set__(self, v)


_SPEC_VALUE = Spec.__dict__["value"]     # the slot behind Spec.value


def _in_spec(port, dtype, a, reads):
    """The Spec of input array `a`; a watched one when `reads` collects value reads."""
    if reads is None:
        return Spec(dtype, a.shape, a)
    s = _WatchedSpec(dtype, a.shape, a)
    s._reads, s._port = reads, port
    return s


def _without_value(s):
    if type(s) is list:
        return [_without_value(x) for x in s]
    return s if s is None or s.value is None else Spec(s.dtype, s.shape)


def _signature(inputs: dict, in_dtypes: dict) -> tuple:
    """The memo key of a call: each input's dtype and shape."""
    return tuple((p, in_dtypes[p], v.shape) if type(v) is not list else
                 (p, tuple(in_dtypes[p]), tuple(a.shape for a in v)) for p, v in inputs.items())


def call(defn: BlockDef, inputs: dict, attrs: dict, in_dtypes: dict, feed=None, max_bytes=None,
         memo: RunMemo | None = None):
    """Run one block on concrete arrays: type attrs, the shape function's checks on the real
    shapes, the memory limit, the compute function, and checks of what it returned. With a
    `memo` (the block's own), what comes before the compute is reused for inputs of the same
    dtypes and shapes as an earlier call.

    Returns (outputs, specs): outputs is a list with one array (or list of arrays) per output.
    """
    watch = memo is not None and memo.warm
    hit = key = None
    if watch:
        key = _signature(inputs, in_dtypes)
        hit = memo.entries.get(key)
    if hit is not None:
        attrs, specs, need = hit
    else:
        if defn.type_attrs:
            attrs = infer_types(defn, in_dtypes, attrs)
        reads = _Reads() if watch else None
        in_specs = {p: ([_in_spec(p, d, a, reads) for a, d in zip(v, in_dtypes[p])]
                        if type(v) is list else _in_spec(p, in_dtypes[p], v, reads))
                    for p, v in inputs.items()}
        specs = output_specs(defn, in_specs, attrs, reads)
        need = output_bytes(specs)
        if watch:
            memo.keep(key, attrs, specs, need, reads)
        elif memo is not None:
            memo.warm = True
    if max_bytes is not None and need is not None and need > max_bytes:
        raise OpError(_memory_message(need, max_bytes))
    args = defn.compute_args
    kwargs = {k: v for k, v in inputs.items() if k in args}
    for k, v in attrs.items():
        if k in args:
            kwargs[k] = v
    if "feed" in args:
        kwargs["feed"] = feed
    if "max_bytes" in args:             # outputs whose size the data decides (budget.check)
        kwargs["max_bytes"] = max_bytes
    result = defn.compute(**kwargs)
    n_out = len(defn.outputs)
    if n_out == 1:
        if not defn.outputs[0].list:    # the common case: one tensor
            outputs = [_checked(defn, defn.outputs[0], result, specs[0])]
            budget.check_strings(outputs, specs, max_bytes)
            return outputs, specs
        result = (result,)
    if len(result) != n_out:
        raise RuntimeError(f"{defn.name} returned {len(result)} outputs, declared {n_out}")
    outputs = []
    for out, value, spec in zip(defn.outputs, result, specs):
        if out.list:
            items = [_checked(defn, out, v, s) for v, s in zip(value, _pad(spec, len(value)))]
            outputs.append(items)
            if spec and len(spec) != len(items):
                raise RuntimeError(f"{defn.name}.{out.name}: {len(items)} items, shape function said {len(spec)}")
        else:
            outputs.append(_checked(defn, out, value, spec))
    budget.check_strings(outputs, specs, max_bytes)
    return outputs, specs


def output_bytes(specs) -> int | None:
    """Bytes the outputs described by `specs` need, or None when a shape is not fully known."""
    total = 0
    for s in specs:
        for x in (s if type(s) is list else (s,)):
            if x is None or x.shape is None or x.dtype is None or None in x.shape:
                return None
            total += budget.tensor_bytes(x.dtype, x.shape, x.value)
    return total


def default_max_bytes() -> int:
    """Half of the machine's physical memory: the default per-block output limit."""
    import os
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):   # pragma: no cover - non-POSIX
        return 8 << 30


def check_memory(specs, max_bytes: int):
    """OpError when the outputs would need more than `max_bytes` (checked before allocating)."""
    need = output_bytes(specs)
    if need is not None and need > max_bytes:
        raise OpError(_memory_message(need, max_bytes))


_memory_message = budget.limit_message
size_text = budget.size_text


def _pad(specs, n):
    return specs if specs else [None] * n


def _checked(defn, out, value, spec):
    """The array an output returned, checked against its static Spec (a mismatch is a bug)."""
    want = spec.dtype if spec is not None else None
    if type(value) is not np.ndarray:
        value = np.asarray(value)
    if want is not None and value.dtype != dt.NUMPY[want]:
        if want == "string" and value.dtype.kind in "SU":
            value = dt.as_array(value, want)
        else:
            raise RuntimeError(f"{defn.name}.{out.name}: computed dtype {value.dtype} differs from "
                               f"the declared {want}")
    if spec is not None and spec.shape is not None and spec.shape != value.shape:
        shp = value.shape
        if len(shp) != len(spec.shape) or any(a is not None and a != b for a, b in zip(spec.shape, shp)):
            raise RuntimeError(f"{defn.name}.{out.name}: computed shape {list(shp)} differs from the "
                               f"shape function's {list(spec.shape)}")
    return value


def _allowed(dtypes) -> str:
    if len(dtypes) == 1:
        return dtypes[0]
    if set(dtypes) == set(dt.ALL):
        return "any dtype"
    return "one of " + ", ".join(dtypes)

