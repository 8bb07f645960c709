"""The JSON Schema of pages (`schemas/page.schema.json`, written by `blockgraph schema`): the
page's structure from the pydantic models (`page.py`), and every block from the registry, so
an editor completes and checks ops, input ports and attrs as `check` does.

`op` is an enum of every op and alias (with a one-line description each, as `enumDescriptions`,
which VS Code and yaml-language-server show while completing). Each op has a definition
`op.NAME` giving its input ports and attrs (types, defaults, ranges, choices, a one-line
description each; unknown names refused, required ones required), applied to a block by
`if: {op: NAME} then: op.NAME` — the form JSON Schema validators and the YAML language server
(VS Code, PyCharm, Neovim) all evaluate. Wherever a value may be written, `{param: NAME}` may
be written instead (a page parameter). Generated, never hand-written: a test fails when the
committed file is stale.
"""
from __future__ import annotations

import json

from . import dtypes as dt
from . import registry
from .blockdef import ATTR_TYPES, BlockDef
from .page import BLOCK_ID, REFERENCE, PageSpec

ID = "https://blockgraph.dev/schemas/page.schema.json"
PARAM_REF = {"$ref": "#/$defs/ParamRef"}


def structure_schema() -> dict:
    """The page's structure alone, from the pydantic models (blocks' ops, ports and attrs not
    checked)."""
    schema = PageSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = ID
    schema["title"] = "blockgraph page"
    for key in ("blocks", "params"):       # ids and names: the pattern of keys is not emitted
        prop = schema["properties"][key]
        (prop["anyOf"][0] if "anyOf" in prop else prop)["propertyNames"] = {"pattern": BLOCK_ID}
    return schema


def json_schema() -> dict:
    """The full schema: the structure, and every registered block (loads the whole library)."""
    schema = structure_schema()
    defs = schema["$defs"]
    block = defs["BlockSpec"]
    props = block["properties"]
    defs["InputValue"] = props["inputs"]["additionalProperties"]
    props["inputs"]["additionalProperties"] = {"$ref": "#/$defs/InputValue"}
    defs["DType"] = {"description": "a TensorFlow dtype name (tf.as_dtype's aliases too)",
                     "enum": dtype_names()}
    defn_of = {}
    for name in registry.names():
        d = registry.get(name)
        defn_of[name] = d
        defs[f"op.{name}"] = op_schema(d)
    aliases = registry.aliases()
    ops = sorted([*defn_of, *aliases])
    props["op"] = {
        "description": props["op"]["description"] + " (or an alias); `blockgraph blocks NAME` "
                       "describes it",
        "title": "Op", "type": "string", "enum": ops,
        "enumDescriptions": [_op_line(registry.get(n), n) for n in ops]}
    block["allOf"] = [
        {"if": {"properties": {"op": {"enum": [n, *d.aliases]} if d.aliases else {"const": n}},
                "required": ["op"]},
         "then": {"$ref": f"#/$defs/op.{n}"}}
        for n, d in defn_of.items()]
    return schema


def text() -> str:
    """The schema as the committed file holds it."""
    return json.dumps(json_schema(), indent=1, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- one op

def op_schema(d: BlockDef) -> dict:
    """What block `d` takes: its input ports and attrs, by name."""
    inputs = {p.name: _input(p) for p in d.inputs}
    attrs = {a.name: _attr(a) for a in d.attrs}
    for t in d.type_attrs:
        if t not in attrs:
            attrs[t] = _type_attr(d, t)
    out = {"description": _op_line(d, d.name),
           "properties": {
               "inputs": {"type": "object", "properties": inputs, "additionalProperties": False},
               "attrs": {"type": "object", "properties": attrs, "additionalProperties": False}}}
    required_inputs = [p.name for p in d.inputs if not p.optional]
    required_attrs = [a.name for a in d.attrs if a.required]
    if required_inputs:
        out["properties"]["inputs"]["required"] = required_inputs
    if required_attrs:
        out["properties"]["attrs"]["required"] = required_attrs
    need = (["inputs"] if required_inputs else []) + (["attrs"] if required_attrs else [])
    if need:
        out["required"] = need
    if not d.variable:
        out["properties"]["init"] = False      # only Variables take init:
    return out


def _op_line(d: BlockDef, name: str) -> str:
    alias = f" (alias of {d.name})" if name != d.name else ""
    return f"{name}{alias} [{d.family}]: {d.doc}".rstrip(": ")


def _input(p) -> dict:
    kinds = "any dtype" if set(p.dtypes) == set(dt.ALL) else ", ".join(p.dtypes)
    what = "a list of tensors" if p.is_list else "a tensor"
    extra = ", optional" if p.optional else ""
    extra += ", updated in place: a Variable block" if p.ref else ""
    desc = f"{p.name}: {what} ({kinds}{extra})" + (f" — {p.doc}" if p.doc else "")
    if p.is_list:
        return {"description": desc, "anyOf": [
            {"type": "array", "items": {"$ref": "#/$defs/InputValue"}},
            {"type": "string", "pattern": REFERENCE}, PARAM_REF]}
    return {"description": desc, "$ref": "#/$defs/InputValue"}


def _attr(a) -> dict:
    out = {"description": _attr_line(a), "anyOf": [_typed(a.type, a), PARAM_REF]}
    if not a.required and a.default is not None:
        default = list(a.default) if isinstance(a.default, tuple) else a.default
        try:
            json.dumps(default, allow_nan=False)
            out["default"] = default
        except (TypeError, ValueError):
            pass
    return out


def _attr_line(a) -> str:
    parts = [a.type, "required" if a.required else f"default {_text(a.default)}"]
    if a.min is not None or a.max is not None:
        parts.append(f"range {_text(a.min) if a.min is not None else ''}.."
                     f"{_text(a.max) if a.max is not None else ''}")
    if a.choices:
        parts.append("one of " + ", ".join(map(_text, a.choices)))
    return f"{a.name}: {', '.join(parts)}" + (f" — {a.doc}" if a.doc else "")


def _text(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if v is None:
        return "null"
    if isinstance(v, tuple):
        return "[" + ", ".join(map(_text, v)) + "]"
    return str(v)


def _typed(t: str, a) -> dict:
    """The JSON Schema of a value of attr type `t` (ATTR_TYPES), with `a`'s range and choices."""
    assert t in ATTR_TYPES, t
    if t.startswith("list("):
        return {"type": "array", "items": _typed(t[5:-1], a)}
    if t in ("int", "float"):
        out = {"type": "integer" if t == "int" else "number"}
        if a.min is not None:
            out["minimum"] = a.min
        if a.max is not None:
            out["maximum"] = a.max
        if a.choices:
            out["enum"] = list(a.choices)
        return out
    if t == "bool":
        return {"type": "boolean"}
    if t in ("string", "path"):
        return {"type": "string", "enum": list(a.choices)} if a.choices else {"type": "string"}
    if t == "type":
        return {"enum": dtype_names(a.choices)} if a.choices else {"$ref": "#/$defs/DType"}
    if t == "shape":
        dim = {"anyOf": [{"type": "integer", "minimum": -1}, {"type": "null"}]}
        return {"anyOf": [{"type": "null"}, {"type": "array", "items": dim}]}
    return {}        # tensor: a literal, checked by the block


def _type_attr(d: BlockDef, name: str) -> dict:
    """A type attr the inputs set (T, Tidx, ...), which a page may also give to check them."""
    ports = [p for p in d.inputs if name in (p.type_attr, p.type_list_attr)]
    allowed = sorted({x for p in ports for x in p.dtypes})
    one = {"enum": dtype_names(allowed)} if set(allowed) != set(dt.ALL) else {"$ref": "#/$defs/DType"}
    typed = {"type": "array", "items": one} if any(p.type_list_attr == name for p in ports) else one
    return {"description": f"{name}: type, set by the inputs ({', '.join(p.name for p in ports)}); "
                           "give it to check them", "anyOf": [typed, PARAM_REF]}


def dtype_names(only=None) -> list[str]:
    """Every dtype name `dt.canonical` accepts for the dtypes `only` (default: all): canonical
    names, tf.as_dtype's aliases, and both with a `tf.` prefix."""
    keep = set(only) if only is not None else set(dt.NUMPY)
    names = sorted(n for n in dt.NUMPY if n in keep)
    names += sorted(k for k, v in dt.ALIASES.items() if v in keep and k not in names)
    return names + [f"tf.{n}" for n in names if not n.startswith("tf.") and f"tf.{n}" not in names]
