"""The Python API: `load_page(path)` -> `Page`; `page.run(feeds)` -> `Results`;
`sweep(page, grid=..., out=...)`.

Loading reads the YAML (source), validates its structure (page models) and builds the Scope
(`core`); every problem found on the way is a Diagnostic in `page.diagnostics`. Running prepares
the page's run plan once and hands it to an executor (`run`).
"""
from __future__ import annotations

import os
from collections.abc import Mapping

import numpy as np
from pydantic import ValidationError

from . import formats
from .core import feeding, gradients, source, validation
from .core.diagnostics import Diagnostic, did_you_mean
from .core.errors import PageError, UsageError
from .core.gcpause import paused_gc
from .core.page import FORMATS, PageSpec
from .core import params as page_params
from .core.scope import Scope
from .core.budget import default_max_bytes



class Page:
    """A loaded page: its spec, Scope (None when the structure is broken) and diagnostics."""

    def __init__(self, path, src, spec, scope, diagnostics, params=None):
        self.path = path
        self.source = src
        self.spec = spec
        self.scope = scope
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        self.params = params if params is not None else page_params.Params()   # its parameters
        self._plan = None
        self._plans: dict = {}          # partial runs: closure -> Plan
        self._build_args = None       # what variant() rebuilds the page with

    @property
    def name(self) -> str:
        return self.scope.name if self.scope else _default_name(self.path)

    @property
    def errors(self) -> list[Diagnostic]:
        """The diagnostics that are errors (warnings aside)."""
        return [d for d in self.diagnostics if d.is_error]

    @property
    def runnable(self) -> bool:
        """True when the page has a run order (its block-level problems fail only those blocks)."""
        return self.scope is not None and self.scope.order is not None

    def check(self) -> list[Diagnostic]:
        return list(self.diagnostics)

    def plan(self, only=None):
        """The page's run plan, made on first use and kept (repeated runs reuse what the first
        one worked out). only: BLOCK[.PORT] strings: the plan of what those outputs need."""
        from .run.plan import Plan
        if only is not None:
            from .run.partial import closure, parse
            need = closure(self.scope, parse(self.scope, only))
            if need not in self._plans:
                self._plans[need] = Plan(self.scope, only=need)
            return self._plans[need]
        if self._plan is None:
            self._plan = Plan(self.scope, only=self.scope.fetch_closure())
        return self._plan

    def run(self, feeds=None, *, fail_fast=False, callbacks=None, executor="sequential",
            workers=None, scheduler=None, keep=None, cycles: int = 1, state=None, trace=None,
            on_cycle=None, only=None, cache=None, cast_feeds: bool = False):
        """Run the page; raises PageError when it cannot run at all (bad YAML, cycle, unknown feed).

        executor: "sequential" (the reference), "threads" or "dask" (`run.executors`), with
        `workers` and, for dask, `scheduler` (an address, 'local' or a distributed.Client); or
        an open `Executor`, which several runs can share.
        feeds: {placeholder id: array or literal}. Arrays are not copied: a Placeholder's
        output is a read-only view of the array fed, so results see later changes made to that
        array. A literal (a list, a scalar, {value, dtype}) is converted to the placeholder's
        dtype as a page converts literals; an array of another dtype makes its placeholder fail
        (as TF does), unless `cast_feeds` converts it when no value changes (PageError, naming
        the first element that would change, otherwise). A failed placeholder's result says
        how to fix its feed in `.hint`.
        keep: glob patterns of BLOCK.PORT to keep (others are freed after their last consumer).
        cycles: how many cycles a page with Variables runs (each reads the Variables' values at
        its start; updates are committed at its end); state: {Variable id: array} to start from
        instead of their `init:`; trace: glob patterns of BLOCK.PORT whose value in every cycle
        is kept (`results.traces`). The Results are the last cycle's, with `.state`.
        only: BLOCK[.PORT] strings: run just what those outputs need (the Results hold those
        blocks only). cache: a `run.cache.Cache`, a cache folder, or True (the default folder):
        blocks whose computation was done before are served from it (status "cached").
        The memory limit is the one the page was loaded with. Arguments of the wrong kind raise
        UsageError (a BlockgraphError) saying what to pass.
        """
        from .run import cycles as cycling
        from .run import executors
        feeds = _feeds_arg(feeds)
        if isinstance(executor, str) and executor not in executors.NAMES:
            raise UsageError(f"executor must be one of {', '.join(map(repr, executors.NAMES))}, "
                             f"got {executor!r}")
        if not self.runnable:
            raise PageError(self.diagnostics)
        problems = self.feed_problems(feeds)
        if problems:
            raise PageError(problems)
        feeds = feeding.convert(self.scope, feeds, cast=cast_feeds, style="python")
        from .run.plan import Callbacks, RunOptions
        options = RunOptions(fail_fast=fail_fast, keep=list(keep) if keep else None,
                             max_bytes=self.scope.max_bytes, callbacks=callbacks or Callbacks())
        plan = self.plan(only)
        opened = None
        if cache is not None and cache is not False:
            from .run.cache import Cache
            if not isinstance(cache, Cache):
                cache = opened = Cache(None if cache is True else cache)
            options = cache.options(plan, feeds, options)

        def go(ex):
            if plan.stateful or cycles != 1 or trace or state:
                return cycling.run(ex, plan, feeds or {}, options, cycles=cycles, state=state,
                                   trace=trace, on_cycle=on_cycle)
            return ex.run(plan, feeds or {}, options)
        try:
            if not isinstance(executor, str):       # an Executor the caller keeps open
                results = go(executor)
            else:
                with executors.get(executor)(workers=workers, scheduler=scheduler) as ex:
                    results = go(ex)
        finally:
            if opened is not None:
                opened.close()
            elif cache is not None and cache is not False:
                cache.flush()
        for bid in self.scope.feedable():      # how to fix a feed, in Python's words
            r = results.blocks.get(bid)
            if r is not None and r.status == "failed" and self.scope.blocks[bid].valid:
                r.hint = feeding.hint(self.scope, bid, feeds.get(bid), "python")
        return results

    def feed_problems(self, keys) -> list[Diagnostic]:
        """A Diagnostic for each of the feed `keys` that is not a placeholder of this page."""
        feedable = self.scope.feedable() if self.scope else []
        return [Diagnostic(self.path, 1, 1, f"feed '{k}' is not a placeholder of page '{self.name}' "
                           f"(placeholders: {', '.join(feedable) or 'none'})",
                           hint=did_you_mean(k, feedable)) for k in sorted(keys) if k not in feedable]

    def variant(self, params: dict | None = None, attrs: dict | None = None,
                origin: str = "params=") -> "Page":
        """This page rebuilt from its source (not read again) with parameters set (`params`
        {name: value}, on top of those it was loaded with) and attrs changed (`attrs`
        {(block id, attr): value}); every check runs again. `origin` names who sets them in
        messages. UsageError for a parameter the page does not define."""
        if self._build_args is None:
            raise UsageError(f"page '{self.name}' cannot be rebuilt: it could not be read")
        args = dict(self._build_args)
        args["params"] = {**(args["params"] or {}), **(params or {})}
        return _build(self.path, self.source, attrs=attrs, set_by=origin, **args)

    def locate(self, block: str, port: str | None = None) -> tuple[int, int]:
        """(line, col) of a block (or of one of its input ports) in the page's file (a gradient
        block's is its AddSymbolicGradients block's)."""
        path = ("blocks", block) + (("inputs", port) if port else ())
        return self.scope.mark(path) if self.scope is not None else self.source.mark(path)


def _default_name(path):
    return os.path.splitext(os.path.basename(path))[0]


def _feeds_arg(feeds) -> dict:
    """`feeds` checked ({str: array-like}, no masked arrays) with each array made a read-only
    view, so that no block or result can write into the caller's array."""
    if feeds is None:
        return {}
    if not isinstance(feeds, Mapping):
        raise UsageError(f"feeds must be a mapping {{placeholder id: array}}, got "
                         f"{type(feeds).__name__}")
    out = {}
    for k, v in feeds.items():
        if not isinstance(k, str):
            raise UsageError(f"feed keys are placeholder ids (str), got {k!r} ({type(k).__name__})")
        if isinstance(v, np.ma.MaskedArray):
            raise UsageError(f"feed '{k}' is a masked array, and a tensor has no mask: pass "
                             f"{k}.filled(value) (or {k}.data to ignore the mask)")
        if feeding.is_literal(v):        # converted to the placeholder's dtype by Page.run
            out[k] = v
            continue
        try:
            a = np.asarray(v)
        except Exception as e:        # ragged lists and other objects numpy cannot hold
            raise UsageError(f"feed '{k}' is not an array: {type(e).__name__}: {e}") from None
        a = a.view()
        a.flags.writeable = False
        out[k] = a
    return out


def _max_bytes_arg(max_bytes):
    """`max_bytes` checked: a positive int, None (no limit) or -1 (half the physical memory)."""
    if max_bytes is None:
        return None
    if isinstance(max_bytes, (int, np.integer)) and not isinstance(max_bytes, bool) and (
            max_bytes >= 1 or max_bytes == -1):
        return int(max_bytes)
    raise UsageError(f"max_bytes must be a number of bytes (an int >= 1), None for no limit or -1 "
                     f"for half the physical memory; got {max_bytes!r}")


def load_page(path: str, *, text: str | None = None, allow_outside: bool = False,
              max_bytes: int | None = -1, params: dict | None = None) -> Page:
    """Read and build the page at `path`; never raises for a bad page (see `page.diagnostics`),
    only OSError when the file cannot be read.

    max_bytes: the most a block's outputs may need (-1: half the physical memory; None: no limit);
    blocks over it fail before allocating (statically when their shapes are known).
    text: the page's YAML as a str (then `path` only names it and locates its problems), e.g.
    `load_page("generated.yaml", text=yaml_text)`; a Const file is then relative to `path`'s folder.
    params: {name: value} overriding the page's `params:` (checked as the page's own values);
    a name the page does not define raises UsageError.
    Arguments of the wrong kind raise UsageError (a BlockgraphError) saying what to pass."""
    if not isinstance(path, (str, os.PathLike)):
        raise UsageError(f"path must be a str or os.PathLike (the page's file), got "
                         f"{type(path).__name__}")
    path = os.fspath(path)
    if not isinstance(path, str):
        raise UsageError("path must be text, not bytes")
    if text is not None and not isinstance(text, str):
        hint = ": decode it first, text=data.decode('utf-8')" if isinstance(text, bytes) else ""
        raise UsageError(f"text must be a str (the page's YAML), got {type(text).__name__}{hint}")
    max_bytes = _max_bytes_arg(max_bytes)
    if max_bytes == -1:
        max_bytes = default_max_bytes()
    if params is not None and not isinstance(params, Mapping):
        raise UsageError(f"params must be a mapping {{name: value}}, got {type(params).__name__}")
    with paused_gc():
        return _load(path, text, allow_outside, max_bytes, dict(params) if params else None)


def _load(path, text, allow_outside, max_bytes, params=None):
    if text is None and formats.kind(path) is not None:     # an enuSpace page (SVG / JSON)
        spec, src, diags = formats.read(path)
        if spec is None:
            return Page(path, src, None, None, diags)
        return _build(path, src, allow_outside=allow_outside, max_bytes=max_bytes, params=params,
                      read_diags=diags, front_spec=spec)
    src = source.read(path, text)
    diags = [Diagnostic(path, p.line, p.col, p.message, hint=p.hint) for p in src.problems]
    if src.data is None and not diags:
        diags.append(Diagnostic(path, 1, 1, "the page is empty: expected a mapping with 'format' and "
                                "'blocks'"))
    if diags and src.data is None:
        return Page(path, src, None, None, diags)
    data = src.data
    if not isinstance(data, dict):
        diags.append(Diagnostic(path, 1, 1, f"the top level of a page must be a mapping, not a "
                                f"{type(data).__name__}", hint="a page starts with 'format: 1' and 'blocks:'"))
        return Page(path, src, None, None, diags)
    fmt = data.get("format")
    if "format" in data and fmt not in FORMATS:
        line, col = src.mark(("format",), key=False)
        diags.append(Diagnostic(path, line, col, f"page format {fmt!r} cannot be read by this version, "
                                f"which reads format {', '.join(map(str, FORMATS))}"))
        return Page(path, src, None, None, diags)
    return _build(path, src, allow_outside=allow_outside, max_bytes=max_bytes, params=params,
                  read_diags=diags)


def _build(path, src, *, allow_outside, max_bytes, params=None, attrs=None, set_by="params=",
           read_diags=(), front_spec=None):
    """The Page of a read source: parameters resolved (with `params` overrides set by `set_by`,
    and `attrs` {(block, attr): value} set first), validated, its Scope built. `front_spec`: the
    PageSpec a non-YAML front-end (`formats`) made of the source, used instead of its data."""
    diags = list(read_diags)
    args = {"allow_outside": allow_outside, "max_bytes": max_bytes, "params": params,
            "read_diags": read_diags, "front_spec": front_spec}
    if front_spec is not None:
        spec, dropped = front_spec, {}
        info = page_params.resolve(src, {}, params, set_by)[1]   # no params: refuses overrides
        if attrs:
            spec = PageSpec.model_validate(_with_attrs(spec.model_dump(exclude_unset=True), attrs))
        return _scoped(path, src, spec, diags, info, dropped, args)
    data = _with_attrs(src.data, attrs) if attrs else src.data
    data, info, problems, dropped = page_params.resolve(src, data, params, set_by)
    diags.extend(problems)
    try:
        spec = PageSpec.model_validate(data)
    except ValidationError as e:
        diags.extend(validation.diagnostics(path, src, e))
        spec = validation.salvage(data)
        if spec is None:
            page = Page(path, src, None, None, diags, info)
            page._build_args = args
            return page
    return _scoped(path, src, spec, diags, info, dropped, args)


def _scoped(path, src, spec, diags, info, dropped, args):
    """The Page of a PageSpec: its Scope built, gradients expanded."""
    name = spec.page or _default_name(path)
    allow_outside, max_bytes = args["allow_outside"], args["max_bytes"]
    scope = Scope(name, spec, src, allow_outside=allow_outside, max_bytes=max_bytes)
    expanded, origin, problems = gradients.expand(scope, spec)
    if origin or problems:     # AddSymbolicGradients: the page again, with its gradient blocks
        scope = Scope(name, expanded, src, allow_outside=allow_outside, max_bytes=max_bytes,
                      origin=origin)
        for d in problems:      # a gradient that could not be built fails its block
            b = scope.blocks[d.block]
            b.valid, b.error = False, d.message
        diags.extend(problems)
    diags.extend(_besides_dropped(scope, src, dropped))
    page = Page(path, src, spec, scope, page_params.annotate(diags, src, info), info)
    page._build_args = args
    return page


def _with_attrs(data, attrs):
    """A copy of the page's data with attrs {(block id, attr): value} set (blocks it lacks
    are left to the caller to report)."""
    data = dict(data)
    blocks = data["blocks"] = dict(data.get("blocks") or {})
    for (bid, attr), value in attrs.items():
        if isinstance(blocks.get(bid), dict):
            b = blocks[bid] = dict(blocks[bid])
            b["attrs"] = {**(b.get("attrs") if isinstance(b.get("attrs"), dict) else {}), attr: value}
    return data


def _besides_dropped(scope, src, dropped=None):
    """The Scope's diagnostics, except for blocks holding a value the YAML reader could not read
    or a parameter that could not be used (reported already): those fail with that problem
    instead of with what its absence caused."""
    dropped = dict(dropped or {})
    for p in src.problems:
        if p.dropped and len(p.path) > 2 and p.path[0] == "blocks":
            dropped.setdefault(p.path[1], p.message)
    for bid, message in dropped.items():
        b = scope.blocks.get(bid)
        if b is not None:
            b.valid, b.error, b.error_port = False, message, None
    return [d for d in scope.diagnostics if d.block not in dropped]


def sweep(page, **kwargs) -> dict:
    """`run.sweep.sweep` for a page given as a loaded Page or a path (loaded with
    `allow_outside` and `max_bytes` from kwargs)."""
    from .run.sweep import sweep as run_sweep
    if not isinstance(page, Page):
        page = load_page(page, allow_outside=kwargs.get("allow_outside", False),
                         max_bytes=kwargs.pop("max_bytes", -1))
    return run_sweep(page, **kwargs)
