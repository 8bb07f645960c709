"""Read YAML safely, keeping a line:col for every key and value.

Only YAML's plain data types are built (no Python tags), duplicate keys are reported (PyYAML would
silently keep the last), tabs in indentation and documents that expand beyond a node budget
("billion laughs" aliases) are refused. libyaml (CSafeLoader) is used when available.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from . import files

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml when available: same marks, faster


class _Loader(_Base):
    """The safe loader with a memo of the implicit tag of plain scalars: a page repeats the same
    keys and values thousands of times, and PyYAML's regex resolver is the hot spot of loading."""
    _memo: dict = {}

    def resolve(self, kind, value, implicit):
        if kind is yaml.ScalarNode and len(value) < 40:
            key = (value, implicit)
            tag = self._memo.get(key)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(self._memo) < 100_000:
                    self._memo[key] = tag
            return tag
        return super().resolve(kind, value, implicit)


_STR, _INT, _FLT = "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_BOOL, _NULL = "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"
_PLAIN_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_PLAIN_FLOAT = re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")
_BOOLS = yaml.constructor.SafeConstructor.bool_values
_NAN = float("nan")
_MAX_INT_DIGITS = 309        # 1.8e308, float64's largest, has 309 digits
MARKED_ITEMS = 64          # lists longer than this keep one mark for the list, not per item

_COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
MAX_NODES = 2_000_000      # nodes after alias expansion
MAX_DEPTH = 64             # nesting of mappings and lists
_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)$")   # 1e-3, which YAML 1.1 reads as text


@dataclass
class Problem:
    """One located problem found while reading: 1-based line and column. `dropped`: the value at
    `path` could not be read and is None in the data."""
    line: int
    col: int
    message: str
    path: tuple = ()
    hint: str | None = None
    dropped: bool = False


@dataclass
class Source:
    """A YAML document as plain data, with marks for its keys and values."""
    path: str
    text: str
    data: object = None
    key_marks: dict = field(default_factory=dict)
    value_marks: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    def mark(self, path: tuple, key: bool = True) -> tuple[int, int]:
        """(line, col) of the key (or value) at `path`, or of its nearest marked ancestor."""
        marks = self.key_marks if key else self.value_marks
        p = tuple(path)
        while p:
            if p in marks:
                return marks[p]
            if not key and p in self.key_marks:
                return self.key_marks[p]
            p = p[:-1]
        return (1, 1)


class _Builder:
    """Turns a composed node tree into plain data, recording marks and problems."""

    def __init__(self, src: Source):
        self.src = src
        self.nodes = 0
        self.ctor = yaml.constructor.SafeConstructor()

    def build(self, node, path=(), depth=0):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _TooBig()
        mark = node.start_mark
        self.src.value_marks.setdefault(path, (mark.line + 1, mark.column + 1))
        cls = type(node)
        if cls is yaml.ScalarNode:
            return self._scalar(node, path)
        if depth > MAX_DEPTH:
            raise _TooDeep(node)
        if node.tag not in _COLLECTION_TAGS:
            self._problem(node, path, f"the tag {node.tag!r} is not allowed (only plain YAML data; "
                          "no Python objects)", dropped=True)
            return None
        if cls is yaml.MappingNode:
            out = {}
            key_marks = self.src.key_marks
            for knode, vnode in node.value:
                self.nodes += 1
                if type(knode) is yaml.ScalarNode and knode.tag != "tag:yaml.org,2002:merge":
                    key = self._scalar(knode, path)
                elif knode.tag == "tag:yaml.org,2002:merge":
                    self._problem(knode, path, "YAML merge keys ('<<') are not supported in pages")
                    continue
                else:
                    key = None
                if isinstance(key, (list, dict)) or key is None:
                    self._problem(knode, path, "a mapping key must be text, got "
                                  f"{'a ' + knode.id if key is None else _kind(key)}")
                    continue
                kpath = path + (key,)
                if key in out:
                    first = key_marks.get(kpath, (0, 0))
                    self._problem(knode, kpath, f"duplicate key '{key}' (first defined at "
                                  f"line {first[0]})")
                    continue
                km = knode.start_mark
                key_marks[kpath] = (km.line + 1, km.column + 1)
                out[key] = self.build(vnode, kpath, depth + 1)
            return out
        items = node.value
        if len(items) > MARKED_ITEMS and all(type(v) is yaml.ScalarNode for v in items):
            self.nodes += len(items)
            return [self._scalar(v, path) for v in items]     # big literal: no per-item marks
        return [self.build(v, path + (i,), depth + 1) for i, v in enumerate(items)]

    def _scalar(self, node, path):
        tag, value = node.tag, node.value
        if tag == _STR:
            if not node.style and _FLOAT.match(value):
                return float(value)
            return value
        if tag == _INT and _PLAIN_INT.match(value):
            return self._int(node, path, value)
        if tag == _FLT and _PLAIN_FLOAT.match(value):
            return float(value)
        if tag == _FLT and value.lower() == ".nan":
            return _NAN   # PyYAML's own NaN has the sign bit set; tf.constant's has not
        if tag == _BOOL and value.lower() in _BOOLS:
            return _BOOLS[value.lower()]
        if tag == _NULL:
            return None
        if tag == "tag:yaml.org,2002:str" and not node.style and _FLOAT.match(node.value):
            return float(node.value)
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value       # keep dates as the text written
        if node.tag == "tag:yaml.org,2002:binary":
            self._problem(node, path, "binary (!!binary) values are not supported", dropped=True)
            return None
        try:
            value = self.ctor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            self._problem(node, path, f"the tag {node.tag!r} is not allowed (only plain YAML data; "
                          "no Python objects)", dropped=True)
            return None
        except ValueError as e:        # 0x..., 1_000 or 1:30 forms too long to convert
            self._problem(node, path, f"cannot read {node.value[:40]!r}: {e}", dropped=True)
            return None
        if type(value) is int:
            return self._int(node, path, value)
        return value

    def _int(self, node, path, value):
        """An integer (from its text or value); a located problem when it is too large for every
        dtype (float64 included), which also spares converting thousands of digits."""
        if type(value) is str:
            digits = len(value) - (value[0] in "+-")
            if digits <= 18:
                return int(value)
            if digits > _MAX_INT_DIGITS:
                return self._out_of_range(node, path, f"{digits:,} digits")
            value = int(value)
        try:
            float(value)
        except OverflowError:      # str() of it may be refused too: count digits by its bits
            digits = int(value.bit_length() * 0.30103) + 1
            return self._out_of_range(node, path, f"about {digits:,} digits")
        return value

    def _out_of_range(self, node, path, size):
        self._problem(node, path, f"an integer of {size} is out of range for any dtype (the widest, "
                      "float64, holds up to about 1.8e308)", dropped=True)
        return None

    def _problem(self, node, path, message, dropped=False):
        line, col = _pos(node)
        self.src.problems.append(Problem(line, col, message, path, dropped=dropped))


class _TooBig(Exception):
    pass


class _TooDeep(Exception):
    def __init__(self, node):
        self.node = node


def _pos(node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _kind(v):
    return "null" if v is None else type(v).__name__


def read(path: str, text: str | None = None) -> Source:
    """Read the YAML document at `path` (or `text`) into a Source; problems are collected in
    `.problems` (a syntax error leaves `.data` None). A file that cannot be read, is not a
    regular file or is larger than `files.MAX_PAGE_BYTES` raises FileReadError (an OSError)."""
    if text is None:
        raw = files.read_bytes(path, files.MAX_PAGE_BYTES)   # FileReadError: not a regular file, too big
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            src = Source(path, "")
            line = raw[:e.start].count(b"\n") + 1
            src.problems.append(Problem(line, 1, f"the file is not UTF-8 text (byte 0x{raw[e.start]:02x})"))
            return src
    src = Source(path, text)
    for i, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" ")
        if stripped.startswith("\t"):
            src.problems.append(Problem(i, len(line) - len(stripped) + 1,
                                        "tab character in indentation: YAML indents with spaces"))
    if src.problems:
        return src
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        m = e.problem_mark or e.context_mark
        line, col = (m.line + 1, m.column + 1) if m else (1, 1)
        what = " ".join(x for x in (e.context, e.problem) if x)
        src.problems.append(Problem(line, col, f"YAML syntax error: {what}"))
        return src
    except (yaml.YAMLError, RecursionError, ValueError) as e:
        src.problems.append(Problem(1, 1, f"YAML error: {str(e).splitlines()[0] if str(e) else type(e).__name__}"))
        return src
    if node is None:
        src.data = None
        return src
    b = _Builder(src)
    try:
        src.data = b.build(node)
    except _TooBig:
        src.problems.append(Problem(1, 1, f"the document expands to more than {MAX_NODES:,} nodes "
                                    "(aliases repeating aliases?); refusing to build it"))
        src.data = None
    except _TooDeep as e:
        line, col = _pos(e.node)
        src.problems.append(Problem(line, col, f"nesting deeper than {MAX_DEPTH} levels"))
        src.data = None
    return src
