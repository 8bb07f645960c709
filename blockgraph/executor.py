"""Run a Scope: blocks in topological order, keep going past failures.

State is plain: `results` (id -> BlockResult) and the arrays of finished blocks. A block runs when
all its upstream blocks are ok; a block whose upstream failed or was skipped is `skipped`; an
exception inside a block becomes a `failed` result at exactly one place (`_run_block`). Callbacks
(`on_start(block)`, `on_block(result)`, `on_finish(results)`) serve progress, timing and caching.
"""
from __future__ import annotations

import time

from . import invoke
from .registry import OpError
from .results import BlockResult, Results
from .scope import Literal, Ref, Scope


class Callbacks:
    """Hooks called by `run`; subclass and override what you need."""

    def on_start(self, block):
        pass

    def on_block(self, result: BlockResult):
        pass

    def on_finish(self, results: Results):
        pass


def run(scope: Scope, feeds: dict | None = None, *, fail_fast: bool = False,
        callbacks: Callbacks | None = None) -> Results:
    """Run every block of `scope`; return Results holding every block's outcome.

    feeds: {placeholder id: array}. With fail_fast, blocks after the first failure are skipped.
    """
    feeds = dict(feeds or {})
    cb = callbacks or Callbacks()
    results: dict[str, BlockResult] = {}
    stop = False
    order = scope.order if scope.order is not None else list(scope.blocks)
    for bid in order:
        b = scope.blocks[bid]
        r = results[bid] = BlockResult(bid, b.op)
        if not b.valid:
            r.status, r.error, r.error_port = "failed", b.error, b.error_port
        elif stop or scope.order is None:
            r.status, r.error = "skipped", "not run: an earlier block failed (--fail-fast)" if stop else None
        else:
            bad = next((s.block for _, s in b.refs() if not results[s.block].ok), None)
            if bad is not None:
                r.status = "skipped"
                r.error = f"not run: upstream block '{bad}' {results[bad].status}"
            else:
                cb.on_start(b)
                _run_block(b, r, results, feeds.get(bid))
        if r.status == "failed" and fail_fast:
            stop = True
        cb.on_block(r)
    out = Results(scope.name, results)
    cb.on_finish(out)
    return out


def _gather(b, results):
    """The input arrays of block `b` and their TF dtypes."""
    arrays, dtypes = {}, {}
    for port, v in b.inputs.items():
        items = v if isinstance(v, list) else [v]
        got, dts = [], []
        for item in items:
            if isinstance(item, Literal):
                got.append(item.array)
                dts.append(item.dtype)
                continue
            src = results[item.block]
            port_name = item.port or next(iter(src.outputs))
            val, d = src.outputs[port_name], src.dtypes[port_name]
            if item.index is not None:
                val, d = val[item.index], d[item.index]
            if isinstance(val, list):
                got.extend(val)
                dts.extend(d)
            else:
                got.append(val)
                dts.append(d)
        if isinstance(v, list):
            arrays[port], dtypes[port] = got, dts
        else:
            arrays[port], dtypes[port] = got[0], dts[0]
    return arrays, dtypes


def _run_block(b, r: BlockResult, results, feed):
    """Compute one block into `r`; every exception becomes a failed result here."""
    t0 = time.perf_counter()
    try:
        arrays, dtypes = _gather(b, results)
        outputs, specs = invoke.call(b.defn, arrays, b.attrs, dtypes, feed=feed)
    except OpError as e:
        r.status, r.error, r.error_port = "failed", e.message, e.port
    except MemoryError:
        r.status, r.error = "failed", "out of memory"
    except Exception as e:  # a bug in a block must not lose the other results
        r.status, r.error = "failed", f"internal error: {type(e).__name__}: {e}"
    else:
        r.status = "ok"
        for out, value, spec in zip(b.defn.outputs, outputs, specs):
            r.outputs[out.name] = value
            if out.list:
                r.dtypes[out.name] = [s.dtype for s in spec] if spec else [None] * len(value)
            else:
                r.dtypes[out.name] = spec.dtype
    r.seconds = time.perf_counter() - t0


__all__ = ["run", "Callbacks", "Ref"]
