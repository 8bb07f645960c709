"""The enuSpace page SVG (3.x: `var-type=`, one attribute per line; 4.x: `type=`, brace values,
one element per line) -> `model.Document`, every block, pin and link with its line:col.

A page is a `<svg>` whose `<use xlink:href="#Op" type="tensorflow">` elements are blocks, with
one `<pg-set-pin variable="#name[d0][d1]" var-type=... value=...>` per symbol pin, and whose
`<pg-link from-id param-from to-id param-to>` elements (inside `<polyline>`s) are the wires.
Read with expat (no DTDs, no entities beyond XML's own), never building more than the page.
"""
from __future__ import annotations

import re
from xml.parsers import expat

from .model import Document, Link, Node, Pin
from .text import Lines

_VARIABLE = re.compile(r"^#?([^\[\]]*)((?:\[\s*-?\d*\s*\])*)\s*$")
_DIM = re.compile(r"\[\s*(-?\d+)\s*\]")
_TRANSLATE = re.compile(r"translate\(\s*([-+0-9.eE]+)[\s,]+([-+0-9.eE]+)\s*\)")
_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")


def read(path: str, text: str) -> Document:
    """The page in `text` (already decoded); problems (bad XML, not a page) go to
    `Document.problems`."""
    doc = Document(path, text, "svg")
    decl = _DECL.match(text)
    body = text if decl is None else " " * decl.end() + text[decl.end():]   # keep positions
    reader = _Reader(doc, Lines(text))
    parser = expat.ParserCreate()
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.EntityDeclHandler = reader.entity
    reader.parser = parser
    try:
        parser.Parse(body, True)
    except expat.ExpatError as e:
        doc.problems.append((e.lineno, e.offset + 1, f"not a readable SVG page: "
                             f"{expat.ErrorString(e.code)}"))
        return doc
    except _Refused as e:
        doc.problems.append(e.args)
        return doc
    if reader.root != "svg":
        doc.problems.append((1, 1, "not an enuSpace page: the root element is "
                             f"<{reader.root or 'nothing'}>, not <svg>"))
    elif not any(n.is_tf for n in doc.nodes.values()) and reader.symbols:
        doc.problems.append((1, 1, "this is an enuSpace symbol library (it defines blocks), "
                             "not a page: open a page that uses them"))
    return doc


class _Refused(Exception):
    pass


class _Reader:
    """expat callbacks: builds the Document as elements start."""

    def __init__(self, doc: Document, lines: Lines):
        self.doc, self.lines = doc, lines
        self.parser = None
        self.root = None
        self.node: Node | None = None
        self.depth = 0
        self.node_depth = -1
        self.symbols = 0

    def _here(self) -> tuple[int, int]:
        return self.parser.CurrentLineNumber, self.parser.CurrentColumnNumber + 1

    def _attr_mark(self, at: tuple, name: str) -> tuple | None:
        """(line, col) of the value of attribute `name` of the element starting at `at`."""
        start = self.lines.offset(*at)
        end = self.doc.text.find(">", start)
        m = re.compile(r"\s" + re.escape(name) + r"\s*=\s*[\"']").search(
            self.doc.text, start, end if end != -1 else len(self.doc.text))
        return self.lines.at(m.end()) if m else None

    def entity(self, *args):
        raise _Refused(*self._here(), "entity declarations are not allowed in a page")

    def start(self, name, attrs):
        self.depth += 1
        at = self._here()
        if self.root is None:
            self.root = name
            self.doc.version = attrs.get("enuspace-version", "")
            return
        if name in ("symbol", "defs"):
            self.symbols += 1
        elif name == "use" and self.node is None:
            self._use(attrs, at)
        elif name == "pg-set-pin" and self.node is not None:
            self._pin(attrs, at)
        elif name == "pg-link":
            self.doc.links.append(Link(attrs.get("from-id", ""), attrs.get("param-from", ""),
                                       attrs.get("to-id", ""), attrs.get("param-to", ""), at))

    def end(self, name):
        if self.node is not None and self.depth == self.node_depth:
            self.node = None
            self.node_depth = -1
        self.depth -= 1

    def _use(self, attrs, at):
        href = attrs.get("xlink:href") or attrs.get("href") or ""
        bid = attrs.get("id", "")
        pos = None
        m = _TRANSLATE.search(attrs.get("transform", ""))
        if m:
            pos = (float(m.group(1)), float(m.group(2)))
        node = Node(bid, href.lstrip("#"), attrs.get("type", ""), pos=pos, mark=at,
                    symbol_mark=self._attr_mark(at, "xlink:href"))
        if not bid:
            self.doc.problems.append((*at, f"a <use> of '{node.symbol}' has no id"))
        elif bid in self.doc.nodes:
            first = self.doc.nodes[bid].mark
            self.doc.problems.append((*at, f"duplicate block id '{bid}' (first at line {first[0]})"))
        else:
            self.doc.nodes[bid] = node
        self.node, self.node_depth = node, self.depth

    def _pin(self, attrs, at):
        variable = attrs.get("variable", "")
        m = _VARIABLE.match(variable)
        if not m or not m.group(1):
            self.doc.problems.append((*at, f"block '{self.node.id}': a pin named {variable!r} "
                                      "(expected #name or #name[d0][d1]...)"))
            return
        dims = [int(d) for d in _DIM.findall(m.group(2))] if m.group(2) else None
        shape = attrs.get("shape", "")
        if dims is None and shape.strip():
            dims = [int(d) for d in _DIM.findall(shape)] or None
        pos = attrs.get("binary-pos")
        binary = attrs.get("save-type") == "binary"
        pin = Pin(m.group(1), attrs.get("var-type") or attrs.get("type") or "string", dims,
                  attrs.get("value") or "", mark=at, value_mark=self._attr_mark(at, "value"))
        if binary:
            try:
                pin.binary_pos = int(pos)
            except (TypeError, ValueError):
                self.doc.problems.append((*at, f"block '{self.node.id}': pin '{pin.name}' is saved "
                                          f"as binary but its binary-pos is {pos!r}"))
        self.node.pins[pin.name] = pin
