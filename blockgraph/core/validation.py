"""A page's structural (pydantic) validation errors as located Diagnostics, and the blocks that
validate on their own salvaged, so one bad block does not hide the problems of the others."""
from __future__ import annotations

import re

from pydantic import ValidationError

from . import suggest
from .diagnostics import Diagnostic, did_you_mean
from .page import BLOCK_ID, BlockSpec, PageSpec

_TOP_KEYS = list(PageSpec.model_fields)
_BLOCK_KEYS = list(BlockSpec.model_fields)


def salvage(data):
    """A PageSpec of the blocks that validate on their own, so one bad block does not hide the
    problems of the others."""
    good = {}
    for bid, b in (data.get("blocks") or {}).items() if isinstance(data.get("blocks"), dict) else []:
        try:
            good[bid] = BlockSpec.model_validate(b)
        except ValidationError:
            continue
    try:
        return PageSpec(format=1, page=data.get("page") if isinstance(data.get("page"), str) else None,
                        blocks={k: v for k, v in good.items() if _valid_id(k)})
    except ValidationError:
        return None


def _valid_id(k):
    return isinstance(k, str) and re.match(BLOCK_ID, k) is not None


def diagnostics(path, src, err: ValidationError):
    """One Diagnostic per offending place (union alternatives collapsed into one message)."""
    seen, out = set(), []
    for e in err.errors():
        loc = list(e["loc"])
        data_path, node = [], src.data
        for part in loc:
            if isinstance(node, dict) and part in node:
                data_path.append(part)
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                data_path.append(part)
                node = node[part]
            else:
                break
        key = tuple(data_path)
        rest = loc[len(data_path):]
        block = data_path[1] if len(data_path) > 1 and data_path[0] == "blocks" else None
        op = None
        if block is not None and isinstance(src.data["blocks"][block], dict):
            op = src.data["blocks"][block].get("op") if isinstance(src.data["blocks"][block].get("op"), str) else None
        msg, hint = _message(e, key, rest)
        if hint is None and isinstance(node, str):      # parts.1 for parts.output.1
            blocks = src.data.get("blocks") if isinstance(src.data.get("blocks"), dict) else {}
            ops = {k: b.get("op") for k, b in blocks.items()
                   if isinstance(b, dict) and isinstance(b.get("op"), str)}
            hint = suggest.reference_hint(node, ops)
        if (key, msg) in seen:
            continue
        seen.add((key, msg))
        extra = e["type"] == "extra_forbidden"
        line, col = src.mark(key, key=extra or e["type"] == "missing" or rest == ["[key]"])
        if e["type"] == "missing":
            line, col = src.mark(key, key=True)
        out.append(Diagnostic(path, line, col, msg, block=block, op=op, hint=hint))
    return out


def _message(e, key, rest):
    t = e["type"]
    where = ".".join(str(k) for k in key)
    if t == "extra_forbidden":
        name = key[-1]
        fields = _TOP_KEYS if len(key) == 1 else _BLOCK_KEYS if len(key) == 3 else ["value", "dtype"]
        return f"unknown key '{name}'", did_you_mean(str(name), fields) or "allowed: " + ", ".join(fields)
    if t == "missing":
        return f"missing required key '{rest[-1] if rest else key[-1]}'", None
    if rest and rest[-1] == "[key]" or (rest and rest[0] == "[key]"):
        return (f"'{key[-1] if len(key) > 1 else rest}' is not a valid block id: use letters, digits and _ "
                "(not starting with a digit)", None)
    if len(key) >= 4 and key[0] == "blocks" and key[2] == "inputs":
        return (f"input '{key[3]}' must be a reference (BLOCK, BLOCK.PORT, BLOCK.PORT.I), a literal, "
                "a list, or {value: ..., dtype: ...}", None)
    return f"'{where}': {e['msg']}", None
