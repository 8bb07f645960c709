"""Attr values: checking one against its declaration (`check_attr`) and binding a block's attrs
with defaults applied (`bind_attrs`)."""
from __future__ import annotations

import math

from . import dtypes as dt
from .blockdef import Attr, BlockDef
from .errors import AttrError, OpError


def bind_attrs(defn: BlockDef, given: dict) -> tuple[dict, list]:
    """Attrs with defaults applied and values checked: (attrs, [(attr name, message), ...]).

    Attrs that are type attrs set by inputs (T, Tidx, ...) may be given explicitly; they are then
    checked against the inputs by `binding.infer_types`.
    """
    out, errors = {}, []
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
    for name in defn.type_attrs:
        if name in given and defn.attr(name) is None:
            v = given[name]
            try:
                out[name] = [dt.canonical(x) for x in v] if isinstance(v, list) else dt.canonical(v)
            except dt.DTypeError as e:
                errors.append((name, f"attr '{name}': {e}"))
    return out, errors



def check_attr(attr: Attr, value):
    """Return `value` converted to the attr's Python form, or raise AttrError saying why."""
    t = attr.type
    if t.startswith("list("):
        if not isinstance(value, (list, tuple)):
            raise AttrError(f"attr '{attr.name}' must be a list ({t}), got {_kind(value)}")
        item = Attr(attr.name, t[5:-1], choices=attr.choices, min=attr.min, max=attr.max,
                    message=attr.message, kernel_check=attr.kernel_check)
        return [check_attr(item, v) for v in value]
    if t == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer() and math.isfinite(value):
                value = int(value)
            else:
                raise AttrError(f"attr '{attr.name}' must be an int, got {_kind(value)}")
        if not -2**63 <= value < 2**63:
            raise AttrError(f"attr '{attr.name}' = {value} does not fit in int64")
        if not attr.kernel_check:
            _check_range(attr, value)
        return value
    if t == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AttrError(f"attr '{attr.name}' must be a float, got {_kind(value)}")
        import numpy as np
        with np.errstate(over="ignore"):
            value = float(np.float32(value))   # TF float attrs are float32
        if not attr.kernel_check:
            _check_range(attr, value)
        return value
    if t == "bool":
        if not isinstance(value, bool):
            raise AttrError(f"attr '{attr.name}' must be true or false, got {_kind(value)}")
        return value
    if t in ("string", "path"):
        if not isinstance(value, str):
            raise AttrError(f"attr '{attr.name}' must be a string, got {_kind(value)}")
        if attr.choices and value not in attr.choices:
            allowed = ", ".join('"' + c + '"' for c in attr.choices)
            raise AttrError(f"Value for attr '{attr.name}' of \"{value}\" is not in the list of "
                            f"allowed values: {allowed}")
        return value
    if t == "type":
        try:
            name = dt.canonical(value)
        except dt.DTypeError as e:
            raise AttrError(f"attr '{attr.name}': {e}") from None
        if attr.choices and name not in attr.choices:
            raise AttrError(f"Value for attr '{attr.name}' of {dt.tf_name(name)} is not in the list of "
                            f"allowed values: {', '.join(dt.tf_name(c) for c in attr.choices)}")
        return name
    if t == "shape":
        if value is None:
            return None
        if not isinstance(value, (list, tuple)):
            raise AttrError(f"attr '{attr.name}' must be a list of dims (null for unknown), got {_kind(value)}")
        dims = []
        for d in value:
            if d is None or (isinstance(d, int) and not isinstance(d, bool) and d == -1):
                dims.append(None)
            elif isinstance(d, int) and not isinstance(d, bool) and 0 <= d < 2**63:
                dims.append(d)
            else:
                raise AttrError(f"attr '{attr.name}': dim {d!r} must be a non-negative int or null")
        return tuple(dims)
    return value   # tensor: checked by the block's prepare hook


def check_range(attr: Attr, value) -> None:
    """The range check of an attr declared `kernel_check`, made by its block's shape function
    where TF's kernel makes it: OpError with TF's text."""
    try:
        _check_range(attr, value)
    except AttrError as e:
        raise OpError(str(e), attr=attr.name) from None


def _check_range(attr, value):
    lo, hi = attr.min, attr.max
    bad = (lo is not None and value < lo) or (hi is not None and value > hi) or (
        attr.choices is not None and value not in attr.choices)
    if bad:
        if attr.message:
            raise AttrError(attr.message.format(name=attr.name, value=value))
        if attr.choices is not None:
            raise AttrError(f"attr '{attr.name}' must be one of {list(attr.choices)}, got {value}")
        rng = f"between {lo} and {hi}" if lo is not None and hi is not None else (
            f">= {lo}" if lo is not None else f"<= {hi}")
        raise AttrError(f"attr '{attr.name}' must be {rng}, got {value}")


def _kind(value) -> str:
    if value is None:
        return "null"
    return {bool: "a bool", int: "an int", float: "a float", str: "a string", list: "a list",
            dict: "a mapping"}.get(type(value), type(value).__name__) + f" ({value!r})"[:60]
