"""Did-you-mean for what a new user mistypes most: op names (ranked by name similarity and by
family: ops of the families the page already uses come first among equally close names),
dtype names (`flaot32`, `fp32`, `f32`), and a list output's element written without its port
(`parts.1` for `parts.output.1`)."""
from __future__ import annotations

import difflib
import re

from . import dtypes as dt

#: what people write for TF dtypes, from other frameworks
NICKNAMES = {"fp16": "float16", "fp32": "float32", "fp64": "float64", "f16": "float16",
             "f32": "float32", "f64": "float64", "bf16": "bfloat16", "i8": "int8", "i16": "int16",
             "i32": "int32", "i64": "int64", "u8": "uint8", "u16": "uint16", "u32": "uint32",
             "u64": "uint64", "c64": "complex64", "c128": "complex128", "boolean": "bool",
             "bytes": "string", "uint": "uint32", "float8": "float32"}
CUTOFF = 0.6


def _score(word: str, name: str, family: str, near: frozenset) -> float:
    w, n = word.lower(), name.lower()
    s = difflib.SequenceMatcher(None, w, n).ratio()
    if n.startswith(w) or w.startswith(n):
        s += 0.2
    elif w in n:
        s += 0.1
    if family in near:
        s += 0.1
    return s


def ops(word: str, near_families=(), n: int = 3) -> list[tuple[str, str]]:
    """The ops (and aliases) closest to `word`, best first, as (name, family): by name
    similarity, a common prefix counting extra, and ops of `near_families` (those the page
    uses) before others as close."""
    from . import registry
    near = frozenset(near_families)
    cands = {**{k: registry.get(k).family for k in registry.names()},
             **{a: registry.get(a).family for a in registry.aliases()}}
    scored = sorted(((_score(word, k, f, near), k, f) for k, f in cands.items()),
                    key=lambda x: (-x[0], x[1]))
    return [(k, f) for s, k, f in scored[:n] if s >= CUTOFF]


def op_hint(word: str, near_families=()) -> str | None:
    """'did you mean 'A' (family) or 'B' (family)?' for an unknown op, or None."""
    found = ops(word, near_families)
    if not found:
        return None
    return "did you mean " + " or ".join(f"'{k}' ({f})" for k, f in found) + "?"


def dtype_hint(word: str) -> str | None:
    """The did-you-mean of an unknown dtype name, or None."""
    w = str(word).strip().lower()
    w = w[3:] if w.startswith("tf.") else w
    if w in NICKNAMES:
        return f"did you mean '{NICKNAMES[w]}'?"
    names = list(dt.NUMPY) + list(dt.ALIASES)
    close = difflib.get_close_matches(w, names, n=2, cutoff=CUTOFF)
    if not close:
        return None
    close = list(dict.fromkeys(dt.ALIASES.get(c, c) for c in close))
    return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


_ELEMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\.([0-9]+)$")


def reference_hint(text, blocks: dict) -> str | None:
    """For `BLOCK.I` (an element of a list output written without its port): 'did you mean
    BLOCK.PORT.I?' naming each list output of the block's op. `blocks` maps ids to op names
    (or BlockDefs)."""
    m = _ELEMENT.match(text) if isinstance(text, str) else None
    if m is None or m.group(1) not in blocks:
        return None
    op = blocks[m.group(1)]
    from . import registry
    d = registry.get(op) if isinstance(op, str) else op
    if d is None:
        return None
    lists = [o.name for o in d.outputs if o.list]
    if not lists:
        return (f"'{m.group(1)}' ({d.name}) has no list output: write {m.group(1)} or "
                f"{m.group(1)}.PORT")
    return "did you mean " + " or ".join(f"'{m.group(1)}.{p}.{m.group(2)}'" for p in lists) + "?"
