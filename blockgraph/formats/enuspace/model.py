"""An enuSpace page as read from either of its forms (page SVG or exported JSON): its blocks with
their pins, its links, and where each came from in the file. `svg.py` and `json_page.py` make
it; everything after them (mapping, session, saved results) reads only this."""
from __future__ import annotations

from dataclasses import dataclass, field

#: `<use type=...>` values of TensorFlow blocks (enuSpace 3.x/4.x, and the 2.0 plugin's name)
TF_TYPES = ("tensorflow", "enu_tensorflow2_0")


@dataclass
class Pin:
    """One `<pg-set-pin>` (or JSON pin entry): its name without '#' and dims, its var-type
    (double/float/int/bool/string), dims (`#val[2][2]` -> [2, 2]; None when not an array pin),
    the text value, and for `save-type="binary"` the byte offset in the `.dat` sidecar."""
    name: str
    var_type: str = "string"
    dims: list | None = None
    value: str = ""
    binary_pos: int | None = None
    interface: str = ""           # JSON only: the C++ type the plugin checks
    datatype: str = ""            # JSON only: pin-datatype (DT_* of inline literals)
    mark: tuple = (1, 1)          # the pin element / entry
    value_mark: tuple | None = None   # its value text

    @property
    def shape_text(self) -> str:
        return "".join(f"[{d}]" for d in self.dims) if self.dims else ""


@dataclass
class Node:
    """One block (`<use>` / JSON object): id, symbol (`MatMul`, without '#'), kind (`tensorflow`,
    `logic`, ...), pins in file order, position on the page (SVG transform), marks."""
    id: str
    symbol: str
    kind: str = "tensorflow"
    pins: dict = field(default_factory=dict)
    pos: tuple | None = None
    mark: tuple = (1, 1)
    symbol_mark: tuple | None = None

    @property
    def is_tf(self) -> bool:
        return self.kind in TF_TYPES

    def pin(self, name: str) -> Pin | None:
        return self.pins.get(name)

    def value(self, name: str) -> str:
        """The text of pin `name` (stripped), '' when absent."""
        p = self.pins.get(name)
        return p.value.strip() if p is not None and p.value else ""


@dataclass
class Link:
    """`<pg-link from-id param-from to-id param-to>`: an output pin wired to an input pin."""
    src: str
    src_pin: str
    dst: str
    dst_pin: str
    mark: tuple = (1, 1)


@dataclass
class Document:
    """A whole page: blocks in file order, links in file order, and what the reader found wrong
    (located (line, col, message) problems: the file could not be read as a page)."""
    path: str
    text: str
    form: str                      # "svg" | "json"
    version: str = ""              # enuspace-version of an SVG page ("3.0.2.0", "4.0.3.0")
    nodes: dict = field(default_factory=dict)
    links: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    _into: dict | None = field(default=None, repr=False)

    @property
    def plugin(self) -> str:
        """The plugin generation that ran the page: "1.5" (enuSpace 3.x) or "2.0" (enuSpace 4.x)."""
        return "2.0" if self.version.startswith("4") else "1.5"

    def links_into(self, node_id: str, pin: str | None = None) -> list:
        """The links into a block (or one of its pins), in file order."""
        if self._into is None:
            self._into = {}
            for k in self.links:
                self._into.setdefault(k.dst, []).append(k)
        got = self._into.get(node_id, [])
        return got if pin is None else [k for k in got if k.dst_pin == pin]

    def links_from(self, node_id: str) -> list:
        return [k for k in self.links if k.src == node_id]
