"""enuSpace's value grammar, as its plugin parses pin text (`utility_functions.cpp`,
`AttributeParser.cpp`), quirks included; each quirk met is returned as a note for a warning.

- inline tensor literals (`Create_StrToTensor`): the dtype is the pin's datatype when it has
  one, else inferred from the text: a `"` -> string, `j` -> complex, an `f` anywhere ->
  float32, a `.`/`e`/`E` -> float64, otherwise int32; braces give the shape (`{{1,2},{3,4}}`
  -> [2, 2]) and only the characters `0-9 . + - e E` of a value count (`0.5f` -> 0.5); without
  braces the tensor is a scalar of the first value.
- array pins (`#val[2][2]`, `#initvalues[...]`, `GetXVectorFromInitial`): values separated by
  `;` or `,`, braces ignored, typed by the var-type (or a Const_ex's DataType), count fixed by
  the dims; ints are read by `stoi` (leading digits), bools are `1`/`true`/`TRUE`/`True`.
- attrs strings (`key_ = value; ...`): spaces, CR and LF removed, the first of a repeated key
  kept; bools are `true`/`TRUE`/`1` (anything else is false), ints by `stoll`, floats by `stof`.
- shapes: `{2,3}`, `[2][3]`, `2,3`; `{}` is a scalar, an empty text an unknown shape.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ...core import dtypes as dt

#: var-type of a pin -> TF dtype
VAR_TYPES = {"double": "float64", "float": "float32", "int": "int32", "bool": "bool",
             "string": "string"}
#: DT_* names (GetDatatypeFromInitial) -> TF dtype
DATA_TYPES = {dt.enum_name(n): n for n in dt.NUMPY}
_FLOAT = re.compile(r"\s*([+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan))", re.I)
_INT = re.compile(r"\s*([+-]?\d+)")
_TRUE = ("1", "true", "TRUE", "True")
_BOOL_WORD = re.compile(r"\b(?:true|false|TRUE|FALSE|True|False)\b")


class LiteralError(Exception):
    """Text the plugin could not turn into a value (it would fail or read garbage)."""


@dataclass
class Parsed:
    """A value read from pin text: a scalar or nested list, its TF dtype, and the quirks met."""
    value: object
    dtype: str
    notes: list = field(default_factory=list)


def data_type(text: str) -> str | None:
    """The TF dtype of a `DT_*` name (None when it is not one)."""
    return DATA_TYPES.get(text.strip())


def infer_dtype(text: str) -> str:
    """Create_StrToTensor's guess of an inline literal's dtype."""
    if '"' in text:
        return "string"
    if "j" in text or "J" in text:
        return "complex128"
    if "f" in text:
        return "float32"
    if "." in text or "e" in text or "E" in text:
        return "float64"
    return "int32"


def tensor(text: str, datatype: str = "") -> Parsed:
    """An inline tensor literal (`Create_StrToTensor(datatype, "", text)`)."""
    notes = []
    if datatype and datatype != "auto":
        dtype = data_type(datatype)
        if dtype is None:     # the plugin's inverted tests: anything but "double" -> double
            dtype = "float32" if datatype == "double" else "float64"
            notes.append(f"enuSpace reads the datatype {datatype!r} as {dtype} (its check of "
                         "non-DT_ names is inverted)")
    else:
        dtype = infer_dtype(text)
    if dtype in ("complex64", "complex128"):
        raise LiteralError(f"complex literals ({text!r}) are not supported")
    body = text
    if dtype != "string" and _BOOL_WORD.search(text):
        body = _BOOL_WORD.sub(lambda m: "1" if m.group(0).lower() == "true" else "0", text)
        if dtype != "bool":
            notes.append(f"enuSpace reads {text!r} as a {dtype} (1 for true, 0 for false), not a "
                         "bool: give the pin the datatype DT_BOOL or use a Const")
    dims, items, braced = _braces(body, keep_all=dtype == "string")
    if not braced:
        if not items:
            raise LiteralError(f"no value in {text!r}")
        if len(items) > 1:
            notes.append(f"enuSpace makes a scalar of the first value of {text!r} (no braces); "
                         "write {" + text.strip() + "} for a vector")
        items, dims = items[:1], []
    count = int(np.prod(dims)) if dims else 1
    if len(items) != count:
        raise LiteralError(f"{text!r} has {len(items)} values for the shape {dims} its braces give")
    if dtype == "string":
        if '"' in text:
            notes.append(f"enuSpace keeps the quotes of {text!r} in the string")
        return Parsed(_nest(items, dims), dtype, notes)
    values = [_cast(_stod(v), dtype) for v in items]
    return Parsed(_nest(values, dims), dtype, notes)


def _braces(text: str, keep_all: bool):
    """GetArrayDimsFromStrVal: (dims, value texts, whether braces were used)."""
    idims, depth, maxdepth, items, val = [], 0, 0, [], ""
    for ch in text:
        if ch == "{":
            depth += 1
            if maxdepth < depth:
                idims.append(0)
            maxdepth = max(maxdepth, depth)
        elif ch in "},":
            if depth == 0:
                if maxdepth == 0 and ch == ",":
                    continue
                raise LiteralError(f"unbalanced braces in {text!r}")
            idims[depth - 1] += 1
            if val:
                items.append(val)
            val = ""
            if ch == "}":
                depth -= 1
        elif keep_all and ch not in "\r\n" or not keep_all and (ch.isdigit() or ch in ".+-eE"):
            val += ch
    if depth:
        raise LiteralError(f"unbalanced braces in {text!r}")
    if maxdepth == 0:
        items = [v for v in re.split(r"[,;]", text) if v.strip()] if keep_all else \
            [_numeric(v) for v in re.split(r"[,;]", text) if _numeric(v)]
        return [], items, False
    for k in range(1, len(idims)):
        idims[k] //= int(np.prod(idims[:k]))
    return idims, items, True


def _numeric(v: str) -> str:
    return "".join(ch for ch in v if ch.isdigit() or ch in ".+-eE")


def _stod(v: str) -> float:
    m = _FLOAT.match(v)
    if m is None:
        raise LiteralError(f"{v.strip()!r} is not a number")
    return float(m.group(1))


def _cast(v: float, dtype: str):
    """A C cast of a double to `dtype` (ints truncate toward zero)."""
    if dtype == "bool":
        return v != 0
    if dt.is_integer(dtype):
        if v != v or v in (float("inf"), float("-inf")):
            raise LiteralError(f"{v} does not convert to {dtype}")
        info = np.iinfo(dt.to_numpy(dtype))
        n = int(v)
        if not info.min <= n <= info.max:
            raise LiteralError(f"{v} does not fit in {dtype}")
        return n
    if dtype == "float32":
        return float(np.float32(v))
    return v


def _nest(values: list, dims: list):
    if not dims:
        return values[0]
    return np.array(values, dtype=object).reshape(dims).tolist()


def array(text: str, dtype: str, dims) -> Parsed:
    """An array pin's values (`#val[2][2] var-type=double value="1;2;3;4"`) as `dtype`."""
    notes = []
    dims = list(dims or [])
    count = int(np.prod(dims)) if dims else 1
    if dtype == "string":
        items = [v.strip() for v in text.split(";")]
    else:
        items = [v for v in re.split(r"[;,]", text.replace("{", "").replace("}", ""))]
        if items and not items[-1].strip():
            items.pop()      # a trailing separator
    if len(items) != count:
        raise LiteralError(f"{len(items)} values for the shape {dims} (needs {count})")
    if dtype == "string":
        values = items
    elif dtype == "bool":
        values = [v.strip() in _TRUE for v in items]
    elif dt.is_integer(dtype):
        values = []
        for v in items:
            m = _INT.match(v)
            if m is None:
                raise LiteralError(f"{v.strip()!r} is not an integer")
            if v[m.end():].strip():
                notes.append(f"enuSpace reads {v.strip()!r} as the integer {int(m.group(1))} "
                             "(stoi stops at the first non-digit)")
            values.append(_cast(float(m.group(1)), dtype))
    elif dtype in ("float32", "float64"):
        values = [_cast(_stod(v), dtype) for v in items]
    else:
        raise LiteralError(f"enuSpace cannot make a {dtype} array from text")
    return Parsed(_nest(values, dims), dtype, notes[:1])


def shape(text: str) -> list | None:
    """A shape pin or attr (`{2,3}`, `[2][3]`, `2,3`; `{}` scalar); None when empty (unknown);
    -1 dims become None (unknown size)."""
    if not text.strip():
        return None
    return [None if int(d) < 0 else int(d) for d in re.findall(r"-?\d+", text)]


def attrs(text: str) -> tuple[list, list]:
    """An attrs string as [(key, value)] (spaces, CR, LF dropped; the first of a repeated key
    kept, as std::map::insert does), and notes."""
    out, notes, seen = [], [], set()
    for part in text.split(";"):
        key, _, val = part.partition("=")
        key = "".join(c for c in key if c not in " \r\n")
        val = "".join(c for c in val if c not in " \r\n=")
        if not key:
            continue
        if key in seen:
            notes.append(f"attr '{key}' is given twice: enuSpace keeps the first value")
            continue
        seen.add(key)
        out.append((key, val))
    return out, notes


def attr_value(kind: str, text: str, name: str):
    """(value, notes) of attr text for an attr of type `kind` (blockgraph's attr types), read as
    the plugin reads it."""
    notes = []
    if kind == "bool":
        if text not in ("true", "TRUE", "1", "false", "FALSE", "0"):
            notes.append(f"enuSpace reads {name} = {text!r} as false (only true, TRUE and 1 are true)")
        return text in ("true", "TRUE", "1"), notes
    if kind == "int":
        m = _INT.match(text)
        if m is None:
            raise LiteralError(f"{name} = {text!r} is not an integer")
        if text[m.end():].strip():
            notes.append(f"enuSpace reads {name} = {text!r} as {int(m.group(1))} (stoll stops at "
                         "the first non-digit)")
        return int(m.group(1)), notes
    if kind == "float":
        return float(np.float32(_stod(text))), notes
    if kind == "string":
        return text.strip(), notes
    if kind == "type":
        d = data_type(text)
        if d is None:
            raise LiteralError(f"{name} = {text!r} is not a DataType (DT_FLOAT, DT_INT32, ...)")
        return d, notes
    if kind == "shape":
        return shape(text), notes
    if kind.startswith("list("):
        item = kind[5:-1]
        parts = [p for p in re.split(r"[;,]", text.replace("{", "").replace("}", "")) if p.strip()]
        if item == "shape":
            raise LiteralError(f"{name}: lists of shapes are not supported")
        values = []
        for p in parts:
            v, n = attr_value(item, p.strip(), name)
            values.append(v)
            notes.extend(n)
        return values, notes
    raise LiteralError(f"{name}: attrs of type {kind} cannot be given as text")
