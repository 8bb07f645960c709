"""Read YAML safely, keeping a line:col for every key and value.

Only YAML's plain data types are built (no Python tags), duplicate keys are reported (PyYAML would
silently keep the last), tabs in indentation are refused, and so are aliases that expand the
document by more than MAX_ALIAS_BYTES ("billion laughs") — a plain page of any size is not.
The data is built straight from the parser's events (libyaml's CSafeLoader when available),
never holding a node tree, so loading costs time and memory in proportion to the text.
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
_MERGE = "tag:yaml.org,2002:merge"
_PLAIN_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
_PLAIN_FLOAT = re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")
_BOOLS = yaml.constructor.SafeConstructor.bool_values
_NAN = float("nan")
_MAX_INT_DIGITS = 309        # 1.8e308, float64's largest, has 309 digits
MARKED_ITEMS = 64          # items of a list after this many keep no mark of their own (big literals)

_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
#: what aliases may add to a document: each value they repeat counts 8 bytes plus its text
MAX_ALIAS_BYTES = 16 << 20
MAX_DEPTH = 64             # nesting of mappings and lists
_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)$")   # 1e-3, which YAML 1.1 reads as text
_TAB_INDENT = re.compile(r"^ *\t", re.M)

_Scalar, _Alias = yaml.ScalarEvent, yaml.AliasEvent
_MapStart, _MapEnd = yaml.MappingStartEvent, yaml.MappingEndEvent
_SeqStart, _SeqEnd = yaml.SequenceStartEvent, yaml.SequenceEndEvent
_BUILDING = object()       # an anchor whose value is still being built
_MISSING = object()


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
    """A YAML document as plain data, with marks for its keys and values: `marks` maps a path
    to its key's and its value's line:col, packed into one int (see `_pack`), which keeps a
    page of a million values to one small entry per value."""
    path: str
    text: str
    data: object = None
    marks: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)

    def mark(self, path: tuple, key: bool = True) -> tuple[int, int]:
        """(line, col) of the key (or value) at `path`, or of its nearest marked ancestor; a
        value without a mark of its own falls back to its key's."""
        marks = self.marks
        p = tuple(path)
        while p:
            packed = marks.get(p)
            if packed is not None:
                k, v = packed >> 64, packed & _LOW
                if key and k:
                    return _unpack(k)
                if not key:
                    return _unpack(v or k)
            p = p[:-1]
        return (1, 1)

    def set_mark(self, path: tuple, key: tuple | None, value: tuple | None = None) -> None:
        """Record the (line, col) of the key and of the value at `path` (front-ends of other
        formats locate their blocks, ports and attrs in their own files this way)."""
        k = key[0] << 32 | key[1] if key else 0
        v = value[0] << 32 | value[1] if value else 0
        self.marks[tuple(path)] = k << 64 | v


_LOW = (1 << 64) - 1


def _pack(mark) -> int:
    """A libyaml mark's 1-based (line, col) as one int: line << 32 | col."""
    return (mark.line + 1) << 32 | (mark.column + 1)


def _unpack(packed: int) -> tuple[int, int]:
    return packed >> 32, packed & 0xFFFFFFFF


class _Builder:
    """Builds plain data from a loader's events, recording marks and problems. `size` counts
    what has been built (8 bytes per value plus its text), aliases expanded; `expanded` the part
    aliases added, which is bounded by MAX_ALIAS_BYTES before any copy is made."""

    def __init__(self, src: Source, loader):
        self.src = src
        self.next = loader.get_event
        self.resolve = loader.resolve
        self.marks = src.marks
        self.anchors: dict = {}
        self.size = 0
        self.expanded = 0
        self.ctor = None
        self.plain: dict = {}      # text of a plain scalar -> its value (when it raised nothing)

    def document(self):
        """The single document of the stream as plain data (None when the stream is empty)."""
        self.next()                                   # StreamStartEvent
        start = self.next()
        if type(start) is yaml.StreamEndEvent:
            return None
        data = self.value(self.next(), (), 0)
        self.next()                                   # DocumentEndEvent
        ev = self.next()
        if type(ev) is not yaml.StreamEndEvent:
            raise yaml.composer.ComposerError("expected a single document in the stream",
                                              start.start_mark, "but found another document",
                                              ev.start_mark)
        return data

    def value(self, ev, path, depth, marked=True, key_mark=0):
        """The value whose first event is `ev`, at `path` in the document (whose key, if any, is
        at `key_mark`, packed)."""
        cls = type(ev)
        if cls is _Alias:
            return self.alias(ev, path, key_mark)
        if marked:
            m = ev.start_mark            # _pack, inlined: this runs for every value
            self.marks[path] = key_mark << 64 | (m.line + 1) << 32 | (m.column + 1)
        anchor = ev.anchor
        if cls is _Scalar and anchor is None and ev.tag is None and ev.implicit[0]:
            self.size += 8 + len(ev.value)           # the common case: a plain scalar
            v = self.plain.get(ev.value, _MISSING)
            return v if v is not _MISSING else self.plain_scalar(ev, path)
        if anchor is not None:
            if anchor in self.anchors:
                raise yaml.composer.ComposerError(None, None, f"found duplicate anchor {anchor!r}",
                                                  ev.start_mark)
            self.anchors[anchor] = _BUILDING
            start = self.size
        if cls is _Scalar:
            self.size += 8 + len(ev.value)
            value = self.scalar(ev, path)
        elif cls is _MapStart:
            value = self.mapping(ev, path, depth)
        else:
            value = self.sequence(ev, path, depth)
        if anchor is not None:
            self.anchors[anchor] = (value, self.size - start)
        return value

    def alias(self, ev, path, key_mark=0):
        """A copy of an anchored value, once the expansion it adds is known to fit the budget."""
        entry = self.anchors.get(ev.anchor)
        if entry is None or entry is _BUILDING:
            what = "undefined" if entry is None else "recursive (inside its own anchor)"
            raise yaml.composer.ComposerError(None, None, f"found {what} alias {ev.anchor!r}",
                                              ev.start_mark)
        value, size = entry
        self.size += size
        self.expanded += size
        if self.expanded > MAX_ALIAS_BYTES:
            raise _TooBig(ev.start_mark)
        self.marks[path] = key_mark << 64 | _pack(ev.start_mark)
        return _copy(value)

    def _collection(self, ev, path, depth):
        """Checks common to mappings and lists: nesting depth, a tag other than YAML's own."""
        if depth > MAX_DEPTH:
            raise _TooDeep(ev.start_mark)
        self.size += 8
        if ev.tag not in _COLLECTION_TAGS:
            self._problem(ev, path, f"the tag {ev.tag!r} is not allowed (only plain YAML data; "
                          "no Python objects)", dropped=True)
            return False
        return True

    def sequence(self, ev, path, depth):
        ok = self._collection(ev, path, depth)
        out = []
        nxt, value, depth = self.next, self.value, depth + 1
        i = 0
        while True:
            e = nxt()
            if type(e) is _SeqEnd:
                return out if ok else None
            if i < MARKED_ITEMS or type(e) is not _Scalar:
                out.append(value(e, path + (i,), depth))
            else:                                     # a long literal: no per-item marks
                out.append(value(e, path, depth, marked=False))
            i += 1

    def mapping(self, ev, path, depth):
        ok = self._collection(ev, path, depth)
        out = {}
        nxt, value, depth = self.next, self.value, depth + 1
        marks = self.marks
        while True:
            k = nxt()
            if type(k) is _MapEnd:
                return out if ok else None
            if type(k) is _Scalar and k.value == "<<" and self._tag(k) == _MERGE:
                self._problem(k, path, "YAML merge keys ('<<') are not supported in pages")
                value(nxt(), path + ("<<",), depth, marked=False)
                continue
            key = value(k, path, depth, marked=False)
            if isinstance(key, (list, dict)) or key is None:
                self._problem(k, path, f"a mapping key must be text, got {_kind(key)}")
                value(nxt(), path, depth, marked=False)
                continue
            kpath = path + (key,)
            if key in out:
                first = marks.get(kpath, 0) >> 96
                self._problem(k, kpath, f"duplicate key '{key}' (first defined at line {first})")
                value(nxt(), kpath + ("<duplicate>",), depth, marked=False)
                continue
            out[key] = value(nxt(), kpath, depth, key_mark=_pack(k.start_mark))

    def _tag(self, ev):
        tag = ev.tag
        if tag is None or tag == "!":
            tag = self.resolve(yaml.ScalarNode, ev.value, ev.implicit)
        return tag

    def plain_scalar(self, ev, path):
        """A plain scalar's value, remembered by its text when reading it raised no problem."""
        n = len(self.src.problems)
        v = self.scalar(ev, path)
        if len(self.src.problems) == n and len(ev.value) < 40 and len(self.plain) < 100_000:
            self.plain[ev.value] = v
        return v

    def scalar(self, ev, path):
        tag, value = self._tag(ev), ev.value
        if tag == _STR:
            if not ev.style and _FLOAT.match(value):
                return float(value)
            return value
        if tag == _INT and _PLAIN_INT.match(value):
            return self._int(ev, path, value)
        if tag == _FLT and _PLAIN_FLOAT.match(value):
            return float(value)
        if tag == _FLT and value.lower() == ".nan":
            return _NAN   # PyYAML's own NaN has the sign bit set; tf.constant's has not
        if tag == _BOOL and value.lower() in _BOOLS:
            return _BOOLS[value.lower()]
        if tag == _NULL:
            return None
        if tag == "tag:yaml.org,2002:timestamp":
            return value       # keep dates as the text written
        if tag == "tag:yaml.org,2002:binary":
            self._problem(ev, path, "binary (!!binary) values are not supported", dropped=True)
            return None
        if self.ctor is None:
            self.ctor = yaml.constructor.SafeConstructor()
        node = yaml.ScalarNode(tag, value, ev.start_mark, ev.end_mark, ev.style)
        try:
            value = self.ctor.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            self._problem(ev, path, f"the tag {tag!r} is not allowed (only plain YAML data; "
                          "no Python objects)", dropped=True)
            return None
        except ValueError as e:        # 0x..., 1_000 or 1:30 forms too long to convert
            self._problem(ev, path, f"cannot read {ev.value[:40]!r}: {e}", dropped=True)
            return None
        if type(value) is int:
            return self._int(ev, path, value)
        return value

    def _int(self, ev, path, value):
        """An integer (from its text or value); a located problem when it is too large for every
        dtype (float64 included), which also spares converting thousands of digits."""
        if type(value) is str:
            digits = len(value) - (value[0] in "+-")
            if digits <= 18:
                return int(value)
            if digits > _MAX_INT_DIGITS:
                return self._out_of_range(ev, path, f"{digits:,} digits")
            value = int(value)
        try:
            float(value)
        except OverflowError:      # str() of it may be refused too: count digits by its bits
            digits = int(value.bit_length() * 0.30103) + 1
            return self._out_of_range(ev, path, f"about {digits:,} digits")
        return value

    def _out_of_range(self, ev, path, size):
        self._problem(ev, path, f"an integer of {size} is out of range for any dtype (the widest, "
                      "float64, holds up to about 1.8e308)", dropped=True)
        return None

    def _problem(self, ev, path, message, dropped=False):
        line, col = _pos(ev.start_mark)
        self.src.problems.append(Problem(line, col, message, path, dropped=dropped))


def _copy(value):
    """A copy of plain data (lists and dicts copied, scalars shared)."""
    t = type(value)
    if t is list:
        return [_copy(v) for v in value]
    if t is dict:
        return {k: _copy(v) for k, v in value.items()}
    return value


class _TooBig(Exception):
    def __init__(self, mark):
        self.mark = mark


class _TooDeep(Exception):
    def __init__(self, mark):
        self.mark = mark


def _pos(mark) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


def _kind(v):
    return {type(None): "null", list: "a sequence", dict: "a mapping"}.get(type(v), type(v).__name__)


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
    for m in _TAB_INDENT.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        src.problems.append(Problem(line, m.end() - m.start(),
                                    "tab character in indentation: YAML indents with spaces"))
    if src.problems:
        return src
    loader = _Loader(text)
    try:
        src.data = _Builder(src, loader).document()
    except yaml.MarkedYAMLError as e:      # only the syntax error: the rest is not read
        m = e.problem_mark or e.context_mark
        line, col = (m.line + 1, m.column + 1) if m else (1, 1)
        what = " ".join(x for x in (e.context, e.problem) if x)
        _failed(src, Problem(line, col, f"YAML syntax error: {what}"))
    except (yaml.YAMLError, RecursionError, ValueError) as e:
        _failed(src, Problem(1, 1, f"YAML error: {str(e).splitlines()[0] if str(e) else type(e).__name__}"))
    except _TooBig as e:
        limit = f"{MAX_ALIAS_BYTES >> 20} MiB" if MAX_ALIAS_BYTES >> 20 else f"{MAX_ALIAS_BYTES} bytes"
        _failed(src, Problem(*_pos(e.mark), f"aliases expand the document by more than {limit} "
                             "(aliases repeating aliases?); refusing to build it"))
    except _TooDeep as e:
        _failed(src, Problem(*_pos(e.mark), f"nesting deeper than {MAX_DEPTH} levels"))
    finally:
        loader.dispose()
    return src


def _failed(src: Source, problem: Problem) -> None:
    """A document that cannot be built: `problem` alone, no data, no marks."""
    src.data = None
    src.problems[:] = [problem]
    src.marks.clear()
