"""enuSpace-Tensorflow pages (page SVG, exported per-page JSON, `.dat` sidecar) as blockgraph
pages. `read(path)` gives what every front-end gives: a `PageSpec`, a `Source` whose marks point
into the original file, and the diagnostics found while converting (the plugin's quirks as
warnings; what cannot be converted as errors). `load(path)` keeps the whole conversion
(`build.Imported`: the enuSpace document, the id map, the pins enuSpace writes), which saved
results (`saved.py`) and the YAML converter (`to_yaml.py`) read."""
from __future__ import annotations

import numpy as np

from ...core import files
from ...core.diagnostics import Diagnostic
from ...core.page import PageSpec
from ...core.source import Source
from . import json_page, svg
from .build import Builder, Imported
from .text import decode, head


def sniff(raw: bytes) -> str | None:
    """'svg' or 'json' when `raw` (a file's first bytes or all of it) is an enuSpace page."""
    text = head(raw).lstrip()
    if text.startswith("<"):
        return "svg" if "<svg" in head(raw, 4000) or text.startswith("<?xml") else None
    if text.startswith("{") and '"object"' in text:
        return "json"
    return None


def load(path: str, raw: bytes | None = None) -> Imported:
    """The enuSpace page at `path` converted (FileReadError, an OSError, when it cannot be
    read)."""
    if raw is None:
        raw = files.read_bytes(path)         # bounded; FileReadError (an OSError)
    try:
        text = decode(raw)
    except UnicodeDecodeError as e:
        from .model import Document
        doc = Document(path, "", "svg", problems=[(1, 1, "the file is neither UTF-16 nor UTF-8 "
                                                   f"text (byte {e.start})")])
        return Imported(doc, path)
    form = sniff(raw) or "svg"
    doc = (json_page if form == "json" else svg).read(path, text)
    if doc.problems:
        out = Imported(doc, path)
        out.diagnostics = [Diagnostic(path, line, col, msg) for line, col, msg in doc.problems]
        return out
    return Builder(doc).build()


def read(path: str, raw: bytes | None = None):
    """(PageSpec or None, Source, [Diagnostic]) of the enuSpace page at `path`."""
    imp = load(path, raw)
    src = Source(path, imp.doc.text)
    for where in imp.key_marks.keys() | imp.value_marks.keys():
        src.set_mark(where, imp.key_marks.get(where), imp.value_marks.get(where))
    if imp.doc.problems:
        return None, src, imp.diagnostics
    return to_spec(imp), src, imp.diagnostics


def to_spec(imp: Imported) -> PageSpec:
    """The PageSpec of a converted page (arrays read from the .dat become literals)."""
    blocks = {bid: {k: _plain(v) for k, v in spec.items()} for bid, spec in imp.blocks.items()}
    return PageSpec.model_validate({"format": 1, "page": imp.name, "blocks": blocks,
                                    "fetch": imp.fetch or None})


def _plain(v):
    """Block dict values with numpy arrays turned into (nested) lists."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v
