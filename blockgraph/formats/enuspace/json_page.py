"""The exported per-page JSON (`Task/<task>/<page>.json`, what the plugin itself loads) ->
`model.Document`, with the line:col of every object and pin entry.

`{"object": [{"symbol-name": "#MatMul", "id": ..., "input": [pin...], "output": [pin...]}]}`:
input entries are the symbol's input pins (a linked one names its producer in `in-symbol-id` /
`in-symbol-pin-name`; a list pin linked several times is repeated, in link order); output
entries repeat each link leaving a pin and end with the `result_*` pins. The plugin reads only
`input`; so does this reader (plus the result pins' names, which say which outputs exist).
"""
from __future__ import annotations

import json
import re

from .model import Document, Link, Node, Pin
from .text import Lines

_DIM = re.compile(r"\[\s*(-?\d+)\s*\]")


def read(path: str, text: str) -> Document:
    doc = Document(path, text, "json")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        doc.problems.append((e.lineno, e.colno, f"not a readable enuSpace JSON page: {e.msg}"))
        return doc
    objects = data.get("object") if isinstance(data, dict) else None
    if not isinstance(objects, list):
        doc.problems.append((1, 1, "not an enuSpace JSON page: expected {\"object\": [...]}"))
        return doc
    finder = _Finder(text)
    for obj in objects:
        if not isinstance(obj, dict):
            doc.problems.append((*finder.next("{"), "an object entry that is not a JSON object"))
            continue
        bid = str(obj.get("id", ""))
        at = finder.key("id", bid)
        symbol = str(obj.get("symbol-name", "")).lstrip("#")
        node = Node(bid, symbol, "tensorflow", mark=at, symbol_mark=at)
        if not bid:
            doc.problems.append((*at, f"an object of '{symbol}' has no id"))
            continue
        if bid in doc.nodes:
            doc.problems.append((*at, f"duplicate block id '{bid}'"))
            continue
        doc.nodes[bid] = node
        for entry in _entries(obj.get("input")):
            _input(doc, node, entry, finder)
        for entry in _entries(obj.get("output")):
            name = str(entry.get("pin-name", ""))
            pat = finder.key("pin-name", name)
            if name.startswith("result_") and name not in node.pins:
                node.pins[name] = _pin(entry, pat)
    return doc


def _entries(v) -> list:
    return [e for e in v if isinstance(e, dict)] if isinstance(v, list) else []


def _pin(entry: dict, at) -> Pin:
    shape = str(entry.get("pin-shape", "") or "")
    dims = [int(d) for d in _DIM.findall(shape)] or None
    pos = entry.get("pin-binary-pos")
    binary = entry.get("pin-save") == "binary"
    try:
        binary_pos = int(pos) if binary else None
    except (TypeError, ValueError):
        binary_pos = -1
    return Pin(str(entry.get("pin-name", "")), str(entry.get("pin-type", "") or "string"), dims,
               str(entry.get("pin-initial", "") or ""), binary_pos,
               str(entry.get("pin-interface", "") or ""), str(entry.get("pin-datatype", "") or ""),
               at, at)


def _input(doc: Document, node: Node, entry: dict, finder) -> None:
    name = str(entry.get("pin-name", ""))
    at = finder.key("pin-name", name)
    if name not in node.pins:
        node.pins[name] = _pin(entry, at)
    src = str(entry.get("in-symbol-id", "") or "")
    if src:
        doc.links.append(Link(src, str(entry.get("in-symbol-pin-name", "") or ""), node.id, name, at))


class _Finder:
    """Walks the JSON text forward to the next `"key": "value"` (the entries are met in file
    order, so a moving cursor finds each one's position)."""

    def __init__(self, text: str):
        self.text, self.lines, self.pos = text, Lines(text), 0

    def key(self, key: str, value: str) -> tuple[int, int]:
        pat = re.compile('"' + re.escape(key) + r'"\s*:\s*"' + re.escape(json.dumps(value)[1:-1])
                         + '"')
        m = pat.search(self.text, self.pos)
        if m is None:
            return self.lines.at(self.pos)
        self.pos = m.end()
        return self.lines.at(m.start())

    def next(self, token: str) -> tuple[int, int]:
        i = self.text.find(token, self.pos)
        if i == -1:
            return self.lines.at(self.pos)
        self.pos = i + 1
        return self.lines.at(i)
