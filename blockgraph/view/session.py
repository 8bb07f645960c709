"""The authoring loop behind `watch` and `serve`: pages loaded and run again each time they
change, every run served from one cache, and what changed since the previous run.

A refresh never raises for a bad page: an unreadable or invalid page (half typed) gives its
problems as located lines and the loop goes on. Rows are compared by value (dtype, shape and
bytes) and by outcome, "cached" counting as "ok": a block served from the cache with the
values it had is no change.
"""
from __future__ import annotations

import gc
import os
from dataclasses import dataclass, field

import numpy as np

from ..core.diagnostics import Diagnostic
from ..core.errors import BlockgraphError, PageError


@dataclass
class Outcome:
    """One page after a refresh: the page (None when it could not be read), its results (None
    when it could not run), its problems as located lines, the rows that changed since the
    previous refresh ({(block, PORT[.I] or "-")}: new or different) and the blocks gone."""
    path: str
    page: object = None
    results: object = None
    problems: list = field(default_factory=list)
    changed: set = field(default_factory=set)
    removed: list = field(default_factory=list)
    new_problems: list = field(default_factory=list)


class Session:
    """paths: the pages. cache: a `run.cache.Cache`. run: keyword arguments of `Page.run`
    (executor, only, cycles, ...). load: of `load_page` (allow_outside, max_bytes).
    feeds(page) -> {placeholder id: array} (may raise BlockgraphError or OSError; when it
    keeps what it read, `feeds.forget(paths)` is told of the files that changed);
    feed_files: the files feeds are read from (watched too). params: {name: value} set on each
    page that defines the parameter (`--param`)."""

    def __init__(self, paths, cache, run=None, load=None, feeds=None, feed_files=(), params=None):
        self.paths = list(paths)
        self.cache = cache
        self.run_kwargs = dict(run or {})
        self.load_kwargs = dict(load or {})
        self.feeds = feeds or (lambda page: {})
        self.feed_files = [os.path.abspath(f) for f in feed_files]
        self.params = dict(params or {})
        self.last: dict = {}                 # path -> Outcome
        self._rows: dict = {}                # path -> {(block, suffix): what the row shows}

    def files(self) -> set:
        """Every file the pages' results depend on: the pages, their Const (and other path
        attr) files, Variable init files, and the feed files."""
        out = {os.path.abspath(p) for p in self.paths} | set(self.feed_files)
        for o in self.last.values():
            if o.page is not None and o.page.spec is not None:
                out |= page_files(o.page)
        return out

    def refresh(self, changed=None) -> list:
        """Load and run every page again; changed: the files the watcher saw change (feeds
        read from them are read again)."""
        forget = getattr(self.feeds, "forget", None)
        if changed and forget is not None:
            forget(changed)
        out = [self._one(path) for path in self.paths]
        # cyclic garbage a kernel call leaves (numba's) can hold a run's output buffers; a
        # refresh allocates too little for a collection to come by itself, so the memory of
        # results released above would stay taken. A young collection takes well under 1 ms.
        gc.collect(0)
        return out

    def _one(self, path) -> Outcome:
        from ..api import load_page
        o = Outcome(path)
        try:
            o.page = load_page(path, **self.load_kwargs)
        except OSError as e:
            o.problems.append(f"{path}:1:1: error: cannot read the page: {e.strerror or e}")
        else:
            o.page, why = _with_params(o.page, self.params, many=len(self.paths) > 1)
            o.problems += [d.format() for d in o.page.diagnostics] + ([why] if why else [])
            if o.page.runnable:
                self._run(o)
        before = self.last.get(path)
        seen = set(before.problems) if before is not None else set()
        o.new_problems = [p for p in o.problems if p not in seen]
        rows = _rows(o.results) if o.results is not None else None
        if rows is not None:
            old = self._rows.get(path, {})
            o.changed = {k for k, v in rows.items() if k not in old or not _same_row(old[k], v)}
            self._release(old, rows)
            o.removed = sorted({b for b, _ in old} - {b for b, _ in rows})
            self._rows[path] = rows
        self.last[path] = o
        return o

    def _run(self, o: Outcome) -> None:
        page = o.page
        try:
            o.results = page.run(self.feeds(page), cache=self.cache, **self.run_kwargs)
        except PageError as e:
            o.problems += [d.format() for d in e.diagnostics]
            return
        except (BlockgraphError, OSError, ValueError) as e:
            o.problems.append(f"blockgraph: error: {e}")
            return
        for r in o.results:
            if r.status == "failed" and not page.scope.blocks[r.id].error:   # static: above
                line, col = page.locate(r.id, r.error_port)
                o.problems.append(Diagnostic(page.path, line, col, r.error, block=r.id,
                                             op=r.op).format())

    def _release(self, old: dict, new: dict) -> None:
        """The results the previous refresh showed and this one does not (an edited block's
        old values) leave the cache's memory, so the next edit's outputs reuse their memory
        instead of fresh pages; going back to them computes them again."""
        if self.cache is None:
            return
        kept = {id(v[2]) for v in new.values() if v[0] == "ok"}
        self.cache.memory.release(
            [v[2] for v in old.values() if v[0] == "ok" and id(v[2]) not in kept])


def _with_params(page, params, many):
    """(`page` with the parameters of `params` it defines set, a problem line for a name it
    does not define when it is the only page, else None)."""
    mine = {k: v for k, v in params.items() if k in page.params.defs}
    unknown = [k for k in params if k not in mine]
    why = None
    if unknown and not many:
        from ..core.diagnostics import did_you_mean
        hint = did_you_mean(unknown[0], page.params.defs)
        why = (f"blockgraph: error: --param {unknown[0]}: page '{page.name}' has no such parameter"
               + (f" ({hint})" if hint else ""))
    return (page.variant(params=mine, origin="--param") if mine else page), why


def _rows(results) -> dict:
    """{(block, PORT[.I] or "-"): what the row shows: ("ok", TF dtype, the array) or (status,
    error)}."""
    out = {}
    for r in results:
        if r.ok and r.outputs:
            for suffix, d, a in r.items():
                out[(r.id, suffix)] = ("ok", d, a)
        else:
            out[(r.id, "-")] = (r.status, r.error)
    return out


#: bytes compared at a time (a difference is usually found in the first piece)
PIECE = 1 << 20


def _same_row(old, new) -> bool:
    """True when two rows show the same: outcome and error, or TF dtype, numpy dtype, shape
    and bytes. The same array (served from the cache again) is not read; two arrays are
    compared piece by piece, stopping at the first difference."""
    if old[0] != "ok" or new[0] != "ok":
        return old == new
    if old[1] != new[1]:
        return False
    a, b = old[2], new[2]
    if a is b:
        return True
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.hasobject:
        return a.tolist() == b.tolist()
    x = np.ascontiguousarray(a).reshape(-1).view(np.uint8)
    y = np.ascontiguousarray(b).reshape(-1).view(np.uint8)
    return all(np.array_equal(x[i:i + PIECE], y[i:i + PIECE]) for i in range(0, x.size, PIECE))


def page_files(page) -> set:
    """The files a loaded page reads: attrs of type path (a Const's `file`) and Variables'
    file inits, resolved against the page's folder."""
    from ..core import registry
    folder = os.path.dirname(os.path.abspath(page.path))
    out = set()
    for b in page.spec.blocks.values():
        defn = registry.get(b.op)
        for name, v in (b.attrs or {}).items():
            a = defn.attr(name) if defn is not None else None
            if a is not None and a.type == "path" and isinstance(v, str):
                out.add(os.path.abspath(os.path.join(folder, v)))
        init = getattr(b, "init", None)
        if getattr(init, "file", None):
            out.add(os.path.abspath(os.path.join(folder, init.file)))
    return out


