"""What a results file holds, said inside it: the `__meta__` entry of every `.npz` that `run
--out`, `--trace-out` and sweeps write.

`__meta__` is a 1-D uint8 array of UTF-8 JSON (`json.loads(np.load(f)["__meta__"].tobytes())`),
so `np.load` reads it like any array (no pickle), and no result key can be named so (result
keys are BLOCK.PORT[.I], trace:BLOCK.PORT, maybe with a PAGE/ prefix: all have a dot). It says:

    {"format": "blockgraph-results", "version": 1, "blockgraph": "0.1.0",
     "pages": {NAME: {"path", "sha256" (of the page's text), "params" {name: value},
                      "feeds" {placeholder id: where its value came from}, "cycles", "ok"}},
     "keys": {KEY: {"page", "block", "op", "dtype" (TF's name: quint8, bfloat16)}}}

Files without it (older ones, or written by other tools) are read as before.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

KEY = "__meta__"
FORMAT = "blockgraph-results"
VERSION = 1


def page_entry(page, *, feeds=None, cycles: int = 1, ok: bool | None = None,
               settings=None, params=None) -> dict:
    """The "pages" entry of a loaded page (an `api.Page`): its path, the hash of its text, its
    parameters (`params`, default: the page's), where each feed came from ({id: text}), the
    cycles run, whether all was ok, and (sweeps) the run's settings."""
    text = page.source.text if page.source is not None else ""
    if params is None:
        params = page.params.values() if getattr(page, "params", None) else {}
    out = {"path": page.path, "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
           "params": _jsonable(params), "feeds": dict(feeds or {}), "cycles": int(cycles)}
    if ok is not None:
        out["ok"] = bool(ok)
    if settings:
        out["settings"] = _jsonable(settings)
    return out


def key_entries(page_name: str, results, prefix: str = "", traces: bool = False) -> dict:
    """{key: {"page", "block", "op", "dtype"}} of every output (and trace) key of `results` as
    `Results.arrays(prefix)` / `trace_arrays()` name them."""
    out = {}
    for r in results:
        if not r.ok:
            continue
        for suffix, d, _ in r.items():
            out[f"{prefix}{r.id}.{suffix}"] = {"page": page_name, "block": r.id, "op": r.op,
                                               "dtype": d}
    if traces:
        for k in results.traces:
            bid, _, port = k.partition(".")
            r = results.blocks.get(bid)
            d = r.dtypes.get(port) if r is not None and port in r.dtypes else None
            out[f"{prefix}trace:{k}"] = {"page": page_name, "block": bid,
                                         "op": r.op if r is not None else None,
                                         "dtype": d if isinstance(d, str) else None, "trace": True}
    return out


def build(pages: dict, keys: dict) -> dict:
    """The metadata of a file holding `keys` of `pages` ({name: page_entry})."""
    from .. import __version__
    return {"format": FORMAT, "version": VERSION, "blockgraph": __version__,
            "pages": pages, "keys": keys}


def encode(meta: dict) -> np.ndarray:
    """The `__meta__` array of `meta`."""
    data = json.dumps(meta, allow_nan=False, ensure_ascii=False, sort_keys=False).encode("utf-8")
    return np.frombuffer(data, dtype=np.uint8).copy()


def decode(a) -> dict | None:
    """The metadata held by a `__meta__` array, or None when it is not blockgraph's."""
    try:
        a = np.asarray(a)
        if a.dtype != np.uint8 or a.ndim != 1:
            return None
        meta = json.loads(a.tobytes().decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return meta if isinstance(meta, dict) and meta.get("format") == FORMAT else None


def with_meta(arrays: dict, meta: dict) -> dict:
    """`arrays` with the `__meta__` entry added (the metadata says only what `arrays` hold)."""
    keys = {k: v for k, v in meta.get("keys", {}).items() if k in arrays}
    return {**arrays, KEY: encode({**meta, "keys": keys})}


def describe(meta: dict, page: str | None = None) -> str:
    """One line saying where a file's results came from."""
    pages = meta.get("pages") or {}
    parts = []
    for name, p in pages.items():
        if page is not None and name != page:
            continue
        bits = [f"page '{name}' ({p.get('path')}, sha256 {str(p.get('sha256'))[:12]})"]
        if p.get("params"):
            bits.append("params " + ", ".join(f"{k}={_text(v)}" for k, v in p["params"].items()))
        feeds = p.get("feeds") or {}
        bits.append("feeds " + (", ".join(f"{k} ({v})" for k, v in feeds.items()) if feeds else "none"))
        n = p.get("cycles", 1)
        bits.append(f"{n} cycle{'s' if n != 1 else ''}")
        if p.get("settings"):
            bits.append("settings " + ", ".join(f"{k}={_text(v)}" for k, v in p["settings"].items()))
        parts.append(", ".join(bits))
    return f"made by blockgraph {meta.get('blockgraph', '?')} from " + "; ".join(parts) if parts \
        else f"made by blockgraph {meta.get('blockgraph', '?')}"


def _text(v) -> str:
    return v if isinstance(v, str) else json.dumps(v)


def _jsonable(x):
    """Plain data with NaN and infinities as "nan", "inf", "-inf" (strict JSON)."""
    from .results import json_safe
    return json_safe(x)
