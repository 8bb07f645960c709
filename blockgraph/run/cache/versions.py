"""Versions for cache keys: the environment part of every key, and the version of each op (its
declaration and the code it runs), worked out once per process.

The code of an op is the code objects of its kernels, shape and prepare functions (closures and
defaults included), and the source files of every module of blockgraph, the block library or
the package declaring the op that those modules reach (so a helper's edit counts too). Code
cannot change under a running process, but its file can: a source file modified since this
process started no longer tells what code is loaded, so the ops that reach it get no key (their
blocks just run) until blockgraph is started again (`Versions.stale` names those files).
"""
from __future__ import annotations

import os
import platform
import re
import sys
import threading
import time
import types

import numpy as np

from .keys import SCHEMA, Uncacheable, _digest, _encoded, canon


def _process_start() -> float:
    """When this process started (wall clock): from /proc on Linux, else the import of this
    module (the CLI imports it before loading pages)."""
    try:
        with open("/proc/self/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        ticks = int(fields[19])
        boot = time.time() - time.clock_gettime(time.CLOCK_BOOTTIME)
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return time.time()


STARTED = _process_start()
#: a file modified this close to (or after) the start may not be the code that was loaded
MARGIN = 1.0


def _version(dist: str) -> str:
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "-"


class Versions:
    """The environment part of every key, and the code version of each op, worked out once per
    process (code cannot change under a running process; a file that did is reported in
    `stale` and its ops get no key). Thread-safe."""

    def __init__(self):
        self._lock = threading.RLock()
        self._env: bytes | None = None
        self._ops: dict[int, tuple] = {}          # id(defn) -> (defn, version or None)
        self._files: dict[str, bytes | None] = {}
        self.stale: set[str] = set()

    def environment(self) -> bytes:
        if self._env is None:
            parts = [SCHEMA, sys.modules["blockgraph"].__version__, sys.version, np.__version__,
                     _version("ml_dtypes"), _version("numba"), platform.machine(),
                     os.cpu_count()] + [os.environ.get(k, "") for k in
                                        ("BLOCKGRAPH_NO_FUSED", "BLOCKGRAPH_THREADS",
                                         "NUMBA_NUM_THREADS")]
            out = bytearray()
            canon(parts, out)
            pkg = __name__.rpartition(".")[0]
            runtime = self._modules_digest(["blockgraph.core.binding", "blockgraph.run.seam",
                                            __name__, pkg + ".keys", pkg + ".codec"], set())
            if runtime is None:
                raise Uncacheable("blockgraph's own code changed since this process started")
            self._env = bytes(out) + runtime
        return self._env

    def op(self, defn) -> bytes | None:
        """The version of an op: its declaration and the code it runs (None: no key)."""
        got = self._ops.get(id(defn))
        if got is not None and got[0] is defn:
            return got[1]
        with self._lock:
            version = self._op_version(defn)
            self._ops[id(defn)] = (defn, version)
            return version

    def _op_version(self, defn) -> bytes | None:
        out = bytearray()
        try:
            canon(_declaration(defn), out)
            roots = [f for k in defn.kernels for f in (k.fn, k.accepts) if f is not None]
            roots += [f for f in (defn.shape, defn.prepare) if f is not None]
            seen: set = set()
            for fn in roots:
                out += function_digest(fn, seen)
        except Uncacheable:
            return None
        tops = {"blockgraph", "blocks"} | {_top(getattr(f, "__module__", None)) for f in roots}
        code = self._modules_digest([f.__module__ for f in roots
                                     if isinstance(getattr(f, "__module__", None), str)], tops)
        return None if code is None else _digest(bytes(out) + code)

    def _modules_digest(self, roots, tops: set) -> bytes | None:
        """A digest of the source files of the modules named `roots` and of every module they
        import (anywhere in their source, so lazy imports too) whose top package is in `tops`
        (blockgraph and blocks always); None when one changed since this process started.
        Read from the files, so it does not depend on what happens to be imported yet."""
        tops = tops | {"blockgraph", "blocks"}
        seen: dict = {}
        todo = list(roots)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            path = _module_file(name)
            seen[name] = path
            got = self._file(path)
            if got is None:
                return None
            for dep in got[1]:
                full = _absolute(dep, name, path)
                if full and _top(full) in tops and full not in seen:
                    todo.append(full)
        out = bytearray()
        for name in sorted(seen):
            d = self._files.get(seen[name], (b"-", ()))[0]
            canon(name, out)
            out += d
        return _digest(out)

    def _file(self, path):
        """(digest, imported module names) of a source file; None when it changed since start
        (it is then in `stale`)."""
        if not path:
            return (b"-", ())     # no file (built at run time): its functions' code counts
        if path in self._files:
            return self._files[path]
        try:
            st = os.stat(path)
            if st.st_mtime >= STARTED - MARGIN:
                self.stale.add(path)
                got = None
            else:
                with open(path, "rb") as fh:
                    data = fh.read()
                got = (_digest(data), _imports(data) if path.endswith(".py") else ())
        except OSError:
            got = (b"?", ())      # gone (a zip import): the code objects still count
        self._files[path] = got
        return got


_IMPORT = re.compile(rb"^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^#\n]*)"
                     rb"|import[ \t]+([^#\n]*))", re.M)


def _imports(source: bytes) -> tuple:
    """Every module an import statement of `source` may name (relative ones with their dots;
    `from M import x` gives M and M.x, since x may be a submodule)."""
    out = []
    for m in _IMPORT.finditer(source):
        if m.group(3) is not None:
            for part in m.group(3).split(b","):
                name = part.split()[0] if part.split() else b""
                if name:
                    out.append(name.decode("ascii", "replace"))
            continue
        base = m.group(1).decode("ascii", "replace")
        out.append(base)
        for part in m.group(2).strip(b"()").replace(b"\\", b" ").split(b","):
            words = part.split()
            if words and words[0] != b"*":
                name = words[0].decode("ascii", "replace")
                out.append(base + name if base.endswith(".") else f"{base}.{name}")
    return tuple(out)


def _absolute(dep: str, importer: str, path) -> str | None:
    """`dep` (maybe relative) as an absolute module name, from module `importer` at `path`."""
    if not dep.startswith("."):
        return dep
    level = len(dep) - len(dep.lstrip("."))
    package = importer if path and os.path.basename(path) == "__init__.py" else \
        importer.rpartition(".")[0]
    parts = package.split(".")
    if level - 1 > len(parts) - 1:
        return None
    base = ".".join(parts[:len(parts) - (level - 1)])
    rest = dep[level:]
    return f"{base}.{rest}" if rest else base


def _module_file(name: str):
    """The source file of module `name` (imported or not), or None when there is none."""
    mod = sys.modules.get(name)
    if mod is not None:
        return getattr(mod, "__file__", None)
    parent, _, leaf = name.rpartition(".")
    folders = getattr(sys.modules.get(parent), "__path__", None) if parent else None
    if folders is None:
        if parent:
            pfile = _module_file(parent)
            folders = [os.path.dirname(pfile)] if pfile and pfile.endswith("__init__.py") else None
        if folders is None:
            return None
    for folder in folders:
        for cand in (os.path.join(folder, leaf + ".py"), os.path.join(folder, leaf, "__init__.py")):
            if os.path.isfile(cand):
                return cand
    return None


def _top(name) -> str | None:
    return name.split(".")[0] if isinstance(name, str) else None


def _declaration(defn) -> tuple:
    """The declared parts of an op that shape what it computes."""
    def fields(obj):
        return tuple("<required>" if v is REQUIRED else v for v in
                     (getattr(obj, f) for f in obj.__dataclass_fields__))
    from ...core.blockdef import REQUIRED
    return (defn.name, tuple(fields(p) for p in defn.inputs), tuple(fields(a) for a in defn.attrs),
            tuple(fields(o) for o in defn.outputs), defn.feedable, defn.stateful, defn.variable,
            defn.context, tuple(k.name for k in defn.kernels))


def function_digest(fn, seen: set) -> bytes:
    """The code a function runs: its code objects, defaults and closure, and the functions it
    calls that have no source file of their own (defined at run time); Uncacheable when part
    of it cannot be encoded."""
    fn = getattr(fn, "py_func", fn)                 # a numba dispatcher: its Python function
    if isinstance(fn, types.MethodType):
        fn = fn.__func__
    if not isinstance(fn, types.FunctionType):
        t = type(fn)
        return _digest(f"{t.__module__}.{t.__qualname__}:{getattr(fn, '__qualname__', '')}".encode())
    if id(fn) in seen:
        return _digest(fn.__qualname__.encode())
    seen.add(id(fn))
    out = bytearray()
    canon((fn.__module__, fn.__qualname__), out)
    names: set = set()
    _code(fn.__code__, out, names)
    canon(_plain(fn.__defaults__), out)
    canon(_plain(fn.__kwdefaults__), out)
    for cell in fn.__closure__ or ():
        try:
            v = cell.cell_contents
        except ValueError:           # an empty cell
            out += b"-"
            continue
        out += _value_digest(v, seen)
    mod = sys.modules.get(fn.__module__)
    file_less = mod is None or not getattr(mod, "__file__", None)
    for name in sorted(names):
        v = fn.__globals__.get(name)
        if isinstance(v, types.FunctionType) and (file_less or v.__module__ != fn.__module__) and \
                not getattr(sys.modules.get(v.__module__), "__file__", None):
            out += function_digest(v, seen)
    return _digest(out)


def _value_digest(v, seen: set) -> bytes:
    if isinstance(v, (types.FunctionType, types.MethodType)) or hasattr(v, "py_func"):
        return function_digest(v, seen)
    try:
        return _digest(_encoded(v))
    except Uncacheable:
        t = type(v)
        return _digest(f"{t.__module__}.{t.__qualname__}".encode())


def _plain(values):
    """Defaults as encodable values (functions and other objects by name)."""
    if values is None:
        return None
    if isinstance(values, dict):
        return {k: _plain((v,))[0] for k, v in values.items()}
    out = []
    for v in values:
        try:
            _encoded(v)
            out.append(v)
        except Uncacheable:
            out.append(f"<{type(v).__qualname__}:{getattr(v, '__qualname__', '')}>")
    return tuple(out)


def _code(code, out: bytearray, names: set) -> None:
    out += code.co_code
    names.update(code.co_names)
    canon((code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars, code.co_argcount,
           code.co_posonlyargcount, code.co_kwonlyargcount, code.co_flags), out)
    table = getattr(code, "co_exceptiontable", None)
    if table is not None:
        canon(table, out)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out += b"C"
            _code(c, out, names)
        else:
            canon(c, out)
