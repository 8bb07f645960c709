"""`paused_gc()`: the cyclic garbage collector paused while a page loads or runs.

A performance device, kept here and used by the loader and by `run.plan.run` only: loading and
running make many small objects and no reference cycles, and collections triggered by them cost
more than the blocks of a page of cheap ones. Pages and results hold no cycles (tested), so they
are still freed as soon as they are dropped; cyclic garbage made meanwhile (by a kernel, say)
waits until the section ends.

When the section leaves many new objects (a page of thousands of blocks, its results), they are
moved to the oldest generation on the way out (`gc.freeze()` + `gc.unfreeze()`, which scans
nothing): otherwise the young collections that follow would each walk all of them, costing more
than loading the page. Nothing is promoted while the caller keeps objects frozen itself
(`gc.freeze()`), since `gc.unfreeze()` would release them.
"""
from __future__ import annotations

import contextlib
import gc

#: a paused section that leaves more new container objects than this promotes them
PROMOTE_OBJECTS = 10_000


@contextlib.contextmanager
def paused_gc():
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            if gc.get_count()[0] > PROMOTE_OBJECTS and not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()
