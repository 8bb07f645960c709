"""Page parameters: the `params:` section and its uses, resolved into the page's data before the
page is validated, so every static check sees the values.

    params:
      bits: 8                                      # NAME: value
      lr: {value: 0.01, type: float, min: 0, max: 1, description: learning rate}
    blocks:
      fq: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: x}, attrs: {num_bits: {param: bits}}}

A use is the one-key mapping `{param: NAME}`, wherever an attr value, an input literal (or an
item of one), a list-port item or a Variable's `init:` may be written. No literal is a mapping
(a tensor literal is a scalar, a list or `{value, dtype}`), so a use can never be read as a
string or any other literal. On an input port or `init:` a parameter is always a value: a
string parameter becomes a string tensor, never a reference, and a `dtype:` makes it
`{value, dtype}`. Overrides (`run --param`, `sweep --grid`, `load_page(params=...)`) are
checked against the definition like the value written there.
"""
from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field, replace

from . import dtypes as dt
from .diagnostics import Diagnostic, did_you_mean
from .errors import LiteralError, UsageError

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TYPES = ("int", "float", "bool", "string", "list")
FIELDS = ("value", "type", "dtype", "min", "max", "choices", "description")
USE_KEY = "param"


@dataclass
class Param:
    """One parameter: its value (the page's, or an override's), and the optional checks."""
    name: str
    value: object
    type: str | None = None
    dtype: str | None = None
    min: float | None = None
    max: float | None = None
    choices: list | None = None
    description: str | None = None
    origin: str | None = None        # who overrode the page's value ("--param", "--grid", ...)
    valid: bool = True
    used: bool = False


@dataclass
class Params:
    """A page's parameters: `defs` by name (in page order) and `uses` {data path of each
    use: parameter name} (a use nested in a literal also marks its attr / input / init)."""
    defs: dict = field(default_factory=dict)
    uses: dict = field(default_factory=dict)

    def values(self) -> dict:
        """{name: value} of the valid parameters."""
        return {n: p.value for n, p in self.defs.items() if p.valid}

    def used_at(self, path: tuple) -> str | None:
        """The parameter used at (or inside) the attr / input / init at `path`, or None."""
        return self.uses.get(tuple(path))

    def __bool__(self):
        return bool(self.defs)


class _Resolver:
    def __init__(self, src, overrides, origin):
        self.src = src
        self.overrides = dict(overrides or {})
        self.origin = origin
        self.params = Params()
        self.diags: list[Diagnostic] = []
        self.dropped: dict[str, str] = {}       # block id -> why it cannot be built

    # ------------------------------------------------------------ diagnostics
    def diag(self, path, message, hint=None, key=True, block=None, op=None, severity="error"):
        line, col = self.src.mark(path, key=key)
        self.diags.append(Diagnostic(self.src.path, line, col, message, block=block, op=op,
                                     hint=hint, severity=severity))

    # ------------------------------------------------------------ definitions
    def definitions(self, raw):
        if raw is None:
            return
        if not isinstance(raw, dict):
            self.diag(("params",), "'params' must be a mapping of NAME: value (or NAME: {value: "
                      "..., type: ..., min: ..., max: ..., description: ...})", key=False)
            return
        for name, spec in raw.items():
            path = ("params", name)
            if not isinstance(name, str) or not NAME.match(name):
                self.diag(path, f"'{name}' is not a valid parameter name: use letters, digits and "
                          "_ (not starting with a digit)")
                continue
            p = self.definition(name, spec, path)
            self.overrides.pop(name, None)       # an override of a broken definition is moot
            if p is not None:
                self.params.defs[name] = p

    def definition(self, name, spec, path) -> Param | None:
        if isinstance(spec, dict):
            if USE_KEY in spec:
                self.diag(path, f"parameter '{name}': a parameter's value cannot use another "
                          "parameter", key=False)
                return None
            unknown = [k for k in spec if k not in FIELDS]
            for k in unknown:
                self.diag(path + (k,), f"parameter '{name}': unknown key '{k}'",
                          hint=did_you_mean(str(k), FIELDS) or "keys: " + ", ".join(FIELDS))
            if "value" not in spec:
                self.diag(path, f"parameter '{name}' has no 'value'",
                          hint=f"{name}: {{value: ..., type: ..., description: ...}}")
                return None
            if unknown:
                return None
            p = Param(name, spec["value"], **{k: spec.get(k) for k in FIELDS[1:]})
        else:
            p = Param(name, spec)
        ok = self.check_declaration(p, path)
        why = self.check_value(p, p.value) if ok else None
        if why:
            self.diag(path + ("value",) if isinstance(spec, dict) else path,
                      f"parameter '{name}': {why}", key=False)
        if name in self.overrides:
            p.value, p.origin = self.overrides.pop(name), self.origin
            why = self.check_value(p, p.value) if ok else None
            if why:
                self.diag(path, f"parameter '{name}' = {_short(p.value)} (set by {self.origin}): "
                          f"{why}", key=True)
        p.valid = ok and why is None
        return p

    def check_declaration(self, p: Param, path) -> bool:
        """The definition's own fields; False (and a diagnostic) when one is wrong."""
        ok = True
        if p.type is not None and p.type not in TYPES:
            self.diag(path + ("type",), f"parameter '{p.name}': type must be one of "
                      f"{', '.join(TYPES)}, got {_short(p.type)}", key=False,
                      hint=did_you_mean(str(p.type), TYPES))
            ok = False
        if p.dtype is not None:
            try:
                p.dtype = dt.canonical(p.dtype)
            except dt.DTypeError as e:
                self.diag(path + ("dtype",), f"parameter '{p.name}': {e}", key=False)
                ok = False
        for k in ("min", "max"):
            v = getattr(p, k)
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                self.diag(path + (k,), f"parameter '{p.name}': {k} must be a number, got "
                          f"{_short(v)}", key=False)
                ok = False
        if p.choices is not None and not isinstance(p.choices, list):
            self.diag(path + ("choices",), f"parameter '{p.name}': choices must be a list",
                      key=False)
            ok = False
        if p.description is not None and not isinstance(p.description, str):
            self.diag(path + ("description",), f"parameter '{p.name}': description must be text",
                      key=False)
            ok = False
        if _contains_use(p.value):
            self.diag(path, f"parameter '{p.name}': a parameter's value cannot use another "
                      "parameter", key=False)
            ok = False
        return ok

    @staticmethod
    def check_value(p: Param, v) -> str | None:
        """Why `v` does not fit parameter `p`'s type, dtype, range or choices (None: it fits)."""
        if isinstance(v, dict) or v is None:
            return f"a parameter's value is a scalar or a list, not {_kind(v)}"
        if p.type is not None and not _fits_type(p.type, v):
            return f"must be {_A[p.type]}, got {_kind(v)}"
        if p.dtype is not None:
            from .literals import to_array
            try:
                to_array(v, p.dtype)
            except LiteralError as e:
                return f"does not fit dtype {p.dtype}: {e}"
        if p.choices is not None and v not in p.choices:
            return f"must be one of {', '.join(map(_short, p.choices))}, got {_short(v)}"
        if not isinstance(v, (bool, str)):
            for x in _numbers(v):
                if p.min is not None and x < p.min:
                    return f"{_short(x)} is below its min {_short(p.min)}"
                if p.max is not None and x > p.max:
                    return f"{_short(x)} is above its max {_short(p.max)}"
        return None

    # ------------------------------------------------------------ uses
    def substitute(self, data: dict) -> dict:
        blocks = data.get("blocks")
        if not isinstance(blocks, dict):
            return data
        out = dict(data)
        out["blocks"] = new_blocks = {}
        for bid, b in blocks.items():
            if not isinstance(b, dict):
                new_blocks[bid] = b
                continue
            nb = dict(b)
            op = b.get("op") if isinstance(b.get("op"), str) else None
            for section in ("attrs", "inputs"):
                entries = b.get(section)
                if not isinstance(entries, dict):
                    continue
                nb[section] = new = {}
                for key, value in entries.items():
                    path = ("blocks", bid, section, key)
                    top = "port" if section == "inputs" else "attr"
                    if section == "inputs" and _is_list_port(op, key):
                        top = "list"
                    got = self.value(value, path, path, top, bid, op)
                    if got is not _DROP:
                        new[key] = got
            if "init" in b:
                path = ("blocks", bid, "init")
                got = self.value(b["init"], path, path, "port", bid, op)
                if got is _DROP:
                    del nb["init"]
                else:
                    nb["init"] = got
            new_blocks[bid] = nb
        return out

    def value(self, v, path, entry, top, bid, op):
        """`v` (found at `path`, inside the attr / input / init at `entry`) with every use
        replaced; _DROP when a use names no valid parameter (its block then fails)."""
        if isinstance(v, dict):
            if USE_KEY in v:
                return self.use(v, path, entry, top, bid, op)
            out = {}
            for k, x in v.items():
                got = self.value(x, path + (k,), entry, None, bid, op)
                if got is _DROP:
                    return _DROP
                out[k] = got
            return out
        if isinstance(v, list):
            if not any(isinstance(x, (dict, list)) for x in v):     # a plain literal
                return v
            out = []
            for i, x in enumerate(v):
                got = self.value(x, path + (i,), entry, "port" if top == "list" else None, bid, op)
                if got is _DROP:
                    return _DROP
                out.append(got)
            return out
        return v

    def use(self, v, path, entry, top, bid, op):
        name = v[USE_KEY]
        if len(v) != 1:
            extra = ", ".join(str(k) for k in v if k != USE_KEY)
            return self.drop(path, bid, op, f"a parameter is used as {{param: NAME}} alone "
                             f"(found also: {extra})")
        if not isinstance(name, str):
            return self.drop(path, bid, op, f"{{param: NAME}} names a parameter, got {_kind(name)}")
        p = self.params.defs.get(name)
        if p is None:
            names = list(self.params.defs)
            hint = (did_you_mean(name, names) or "parameters: " + ", ".join(names)) if names else \
                "the page has no 'params:' section to define it in"
            return self.drop(path + (USE_KEY,), bid, op, f"unknown parameter '{name}'", hint=hint)
        p.used = True
        self.params.uses[path] = name
        self.params.uses.setdefault(entry, name)
        if not p.valid:
            line, _ = self.src.mark(("params", name))
            self.dropped.setdefault(bid, f"parameter '{name}' (line {line}) is not valid")
            return _DROP
        value = copy.deepcopy(p.value)
        if top == "list" and isinstance(value, list):
            return [_as_literal(x, p.dtype) for x in value]
        if top in ("port", "list"):
            return _as_literal(value, p.dtype)
        return value

    def drop(self, path, bid, op, message, hint=None):
        self.diag(path, message, hint=hint, key=False, block=bid, op=op)
        self.dropped.setdefault(bid, message)
        return _DROP

    def unused(self):
        for name, p in self.params.defs.items():
            if not p.used:
                self.diag(("params", name), f"parameter '{name}' is not used by any block",
                          hint="use it as {param: " + name + "} or remove it", severity="warning")


_DROP = object()


def resolve(src, data=None, overrides: dict | None = None, origin: str = "params="):
    """(data with every parameter use replaced by its value, Params, diagnostics, {block id:
    why it cannot be built}) for a read page `src` (`data`: its data, or a changed copy of it;
    neither is modified). `overrides` {name: value} replace the page's values (`origin` says
    who gave them, for messages); UsageError when one names no parameter of the page."""
    data = src.data if data is None else data
    r = _Resolver(src, overrides, origin)
    if USE_KEY not in src.text and not overrides:     # no parameters anywhere: nothing to do
        return data, r.params, [], {}
    r.definitions(data.get("params"))
    if r.overrides:
        names = list(r.params.defs)
        bad = sorted(r.overrides)[0]
        hint = did_you_mean(bad, names) if names else None
        raise UsageError(f"{origin}: the page has no parameter '{bad}'" + (
            f" ({hint})" if hint else f" (parameters: {', '.join(names)})" if names
            else " (it has no 'params:' section)"))
    out = r.substitute(data)
    if "params" in data:
        out["params"] = r.params.values() or None
    r.unused()
    return out, r.params, r.diags, r.dropped


def annotate(diags, src, params: Params):
    """`diags` with a hint naming the parameter behind each one located at a parameter's use."""
    if not params.uses:
        return list(diags)
    at = {}
    for path, name in params.uses.items():
        for key in (True, False):
            at.setdefault(src.mark(path, key=key), name)
    out = []
    for d in diags:
        name = at.get((d.line, d.col))
        if name is not None and d.severity == "error" and "parameter" not in d.message:
            line, _ = src.mark(("params", name))
            p = params.defs.get(name)
            origin = f", set by {p.origin}" if p is not None and p.origin else ""
            note = f"the value is parameter '{name}' (defined at line {line}{origin})"
            d = replace(d, hint=f"{d.hint}; {note}" if d.hint else note)
        out.append(d)
    return out


# ---------------------------------------------------------------- helpers

def _contains_use(v) -> bool:
    if isinstance(v, dict):
        return USE_KEY in v or any(_contains_use(x) for x in v.values())
    if isinstance(v, list):
        return any(_contains_use(x) for x in v)
    return False


def _is_list_port(op, port) -> bool:
    if op is None:
        return False
    from . import registry
    defn = registry.get(op)
    p = defn.input(port) if defn is not None else None
    return p is not None and p.is_list


def _as_literal(value, dtype):
    """A parameter's value as an input literal: `{value, dtype}` (a string is a string tensor,
    never a reference)."""
    if dtype is not None:
        return {"value": value, "dtype": dtype}
    if _has_text(value):
        return {"value": value}
    return value


def _has_text(v) -> bool:
    return isinstance(v, str) or (isinstance(v, list) and any(_has_text(x) for x in v))


def _fits_type(t: str, v) -> bool:
    kinds = {"int": (int,), "float": (int, float), "bool": (bool,), "string": (str,), "list": (list,)}
    return isinstance(v, kinds[t]) and (t == "bool" or not isinstance(v, bool))


def _numbers(v):
    if isinstance(v, list):
        for x in v:
            yield from _numbers(x)
    elif isinstance(v, (int, float)) and not isinstance(v, bool) and not (
            isinstance(v, float) and math.isnan(v)):
        yield v


_A = {"int": "an int", "float": "a number", "bool": "true or false", "string": "a string",
      "list": "a list"}


def _kind(v) -> str:
    if v is None:
        return "null"
    k = {bool: "a bool", int: "an int", float: "a float", str: "a string", list: "a list",
         dict: "a mapping"}.get(type(v), type(v).__name__)
    return f"{k} ({_short(v)})" if not isinstance(v, (list, dict)) else k


def _short(v, n: int = 40) -> str:
    text = repr(v) if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v)
    return text if len(text) <= n else text[: n - 1] + "…"
