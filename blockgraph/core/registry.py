"""Block declarations (`BlockDef`) and the table of registered blocks.

A block is declared once, with the `block` decorator, next to its compute function:

    @block("Identity", inputs=[Input("input", type_attr="T")], outputs=[Output("output", "T")],
           shape=same_shape("input"))
    def identity(input):
        "Return the input tensor unchanged."
        return input

Everything else (attr checking, literal conversion, static dtypes, the CLI listing, diagrams)
reads these declarations; nothing has a per-op branch.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

from . import dtypes as dt

REQUIRED = type("Required", (), {"__repr__": lambda self: "REQUIRED"})()

ATTR_TYPES = ("int", "float", "bool", "string", "type", "shape", "tensor", "path",
              "list(int)", "list(float)", "list(bool)", "list(string)", "list(type)", "list(shape)")


class OpError(Exception):
    """An error TF would raise for this op (its message text), optionally tied to an input port."""

    def __init__(self, message: str, port: str | None = None):
        super().__init__(message)
        self.message = message
        self.port = port


class AttrError(ValueError):
    """An attr value of the wrong type or out of its allowed range (`attr` names it when known)."""

    def __init__(self, message: str, attr: str | None = None):
        super().__init__(message)
        self.attr = attr


@dataclass(slots=True, eq=False)
class Spec:
    """What is known of a tensor before the run: TF dtype, shape (None = unknown rank; a dim of
    None = unknown size) and, when known, its value. Treat it as immutable (not frozen: one is
    made per input and output of every block run, and a frozen dataclass is 3x slower to make)."""
    dtype: str | None
    shape: tuple | None = None
    value: Any = None

    @property
    def rank(self):
        return None if self.shape is None else len(self.shape)


@dataclass(frozen=True)
class Input:
    """An input port. `type_attr` names the type attr it sets (ports sharing it agree);
    `list=True` makes it a list port; `type_list_attr` a list port of mixed dtypes."""
    name: str
    dtypes: tuple = dt.ALL
    type_attr: str | None = None
    list: bool = False
    type_list_attr: str | None = None
    doc: str = ""


@dataclass(frozen=True)
class Attr:
    """An attr: type (one of ATTR_TYPES), default (REQUIRED if none), range or allowed choices.
    `message` is TF's error text for an out-of-range value, formatted with {name} and {value}."""
    name: str
    type: str
    default: Any = REQUIRED
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    doc: str = ""
    message: str | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Output:
    """An output port: `dtype` is a TF dtype name or the name of a (type or list(type)) attr."""
    name: str
    dtype: str
    list: bool = False
    doc: str = ""


@dataclass(frozen=True)
class BlockDef:
    """Everything the runtime knows about one op."""
    name: str
    doc: str
    inputs: tuple
    attrs: tuple
    outputs: tuple
    compute: Callable
    shape: Callable | None = None
    prepare: Callable | None = None
    feedable: bool = False
    family: str = ""
    compute_args: frozenset = field(default=frozenset())

    def __reduce__(self):
        """Pickled by name: a worker process looks the block up in its own registry."""
        return (get, (self.name,))

    def input(self, name):
        return next((p for p in self.inputs if p.name == name), None)

    def attr(self, name):
        return next((a for a in self.attrs if a.name == name), None)

    def output(self, name):
        return next((o for o in self.outputs if o.name == name), None)

    @cached_property
    def type_attrs(self) -> tuple:
        """Type attrs set by inputs (`T`, `Tidx`, ...), in port order."""
        seen = []
        for p in self.inputs:
            for a in (p.type_attr, p.type_list_attr):
                if a and a not in seen:
                    seen.append(a)
        return tuple(seen)

    def to_json(self) -> dict:
        """A JSON-ready description (for `blockgraph blocks --json`)."""
        def default(a):
            return None if a.required else a.default
        return {
            "name": self.name, "doc": self.doc, "family": self.family,
            "inputs": [{"name": p.name, "dtypes": list(p.dtypes), "list": p.list or bool(p.type_list_attr),
                        "type_attr": p.type_attr or p.type_list_attr, "doc": p.doc} for p in self.inputs],
            "attrs": [{"name": a.name, "type": a.type, "required": a.required, "default": default(a),
                       "min": a.min, "max": a.max, "choices": list(a.choices) if a.choices else None,
                       "doc": a.doc} for a in self.attrs],
            "outputs": [{"name": o.name, "dtype": o.dtype, "list": o.list, "doc": o.doc}
                        for o in self.outputs],
        }


REGISTRY: dict[str, BlockDef] = {}


def block(name: str, *, inputs=(), attrs=(), outputs=(), shape=None, prepare=None,
          feedable=False, doc=None):
    """Register the decorated compute function as the block `name`.

    The compute function takes inputs and attrs by name (only those it lists in its signature)
    and returns one array, or a tuple with one item per output (a list for a list output).
    `shape(inputs, attrs)` returns one shape / Spec per output (see `scope.infer`); `prepare(attrs,
    ctx)` may rewrite attrs once when the page is built (e.g. Const loading its file).
    """
    def register(fn):
        if name in REGISTRY:
            raise ValueError(f"block {name!r} is registered twice")
        params = inspect.signature(fn).parameters
        takes_all = any(p.kind is p.VAR_KEYWORD for p in params.values())
        known = {p.name for p in inputs} | {a.name for a in attrs} | {"feed", "max_bytes"}
        for p in inputs:
            known |= {p.type_attr, p.type_list_attr} - {None}
        args = frozenset(known if takes_all else set(params))
        unknown = set(params) - known - {"kw", "kwargs"}
        if unknown:
            raise ValueError(f"block {name!r}: compute takes unknown arguments {sorted(unknown)}")
        text = doc or inspect.getdoc(fn) or ""
        REGISTRY[name] = BlockDef(
            name=name, doc=text.strip().splitlines()[0] if text.strip() else "",
            inputs=tuple(inputs), attrs=tuple(attrs), outputs=tuple(outputs), compute=fn,
            shape=shape, prepare=prepare, feedable=feedable,
            family=fn.__module__.rsplit(".", 1)[-1], compute_args=args)
        return fn
    return register


def get(name: str) -> BlockDef | None:
    """The BlockDef registered as `name`, or None. The first lookup of an op imports only the
    block family that declares it (`blocks.load`); a name no family declares loads them all."""
    d = REGISTRY.get(name)
    if d is None and not _loaded:
        import blocks
        blocks.load(name)
        d = REGISTRY.get(name)
        if d is None:
            load_library()
            d = REGISTRY.get(name)
    return d


def names() -> list[str]:
    """Every registered block name, sorted (loads the whole library)."""
    load_library()
    return sorted(REGISTRY)


_loaded = False


def load_library():
    """Import every block family once, which registers every block."""
    global _loaded
    if not _loaded:
        import blocks
        blocks.load_all()
        _loaded = True


# ---------------------------------------------------------------- attr values

def check_attr(attr: Attr, value):
    """Return `value` converted to the attr's Python form, or raise AttrError saying why."""
    t = attr.type
    if t.startswith("list("):
        if not isinstance(value, (list, tuple)):
            raise AttrError(f"attr '{attr.name}' must be a list ({t}), got {_kind(value)}")
        item = Attr(attr.name, t[5:-1], choices=attr.choices, min=attr.min, max=attr.max,
                    message=attr.message)
        return [check_attr(item, v) for v in value]
    if t == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer() and math.isfinite(value):
                value = int(value)
            else:
                raise AttrError(f"attr '{attr.name}' must be an int, got {_kind(value)}")
        if not -2**63 <= value < 2**63:
            raise AttrError(f"attr '{attr.name}' = {value} does not fit in int64")
        _check_range(attr, value)
        return value
    if t == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AttrError(f"attr '{attr.name}' must be a float, got {_kind(value)}")
        import numpy as np
        with np.errstate(over="ignore"):
            value = float(np.float32(value))   # TF float attrs are float32
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
            raise AttrError(f"attr '{attr.name}' must be one of {', '.join(map(str, attr.choices))}; "
                            f"got {value!r}")
        return value
    if t == "type":
        try:
            name = dt.canonical(value)
        except dt.DTypeError as e:
            raise AttrError(f"attr '{attr.name}': {e}") from None
        if attr.choices and name not in attr.choices:
            raise AttrError(f"attr '{attr.name}' must be one of {', '.join(attr.choices)}; got {name}")
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
