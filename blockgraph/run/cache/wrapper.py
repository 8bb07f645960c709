"""The cache's wrapper in the execution seam: a block with a key is served from the cache when
the same computation was done before (status "cached", with the time it saved), else computed
and kept. One instance per run, holding that run's keys (`Keys.of`, worked out before the run)
and the index rows fetched for them in one go.

Only ok results are kept; failed, skipped and keyless blocks (stateful, downstream of state)
just run. The wrapper has no lowered form (`run.seam`): it sees every block of every cycle, so
a run with a cache runs each cycle in full. A served entry bigger than the run's memory limit is not served: the block runs and
fails as it would have.
"""
from __future__ import annotations

import time

from ...core.results import BlockResult


class CacheWrapper:
    """`wrapper(task, proceed) -> BlockResult` for `Seam.with_extra`. Picklable (a dask worker
    opens the same cache folder, without the rows or the memory of this process)."""

    def __init__(self, cache, keys: dict, rows: dict | None = None):
        self.cache = cache
        self.keys = keys
        self.rows = rows

    def __call__(self, task, proceed) -> BlockResult:
        b = task.block
        key = self.keys.get(b.id)
        if key is None:
            return proceed(task)
        t0 = time.perf_counter()
        hit = self.cache.lookup(key, self.rows, b)
        if hit is not None and (task.max_bytes is None or hit.nbytes <= task.max_bytes):
            r = BlockResult(b.id, b.op, "cached")
            r.outputs = {p: list(v) if type(v) is list else v for p, v in hit.outputs.items()}
            r.dtypes = dict(hit.dtypes)
            r.saved = max(0.0, hit.seconds - (time.perf_counter() - t0))
            return r
        t0 = time.perf_counter()
        r = proceed(task)
        if r.ok:
            self.cache.keep(key, r, time.perf_counter() - t0, task.feed)
        return r

    def __reduce__(self):
        return (CacheWrapper, (self.cache, self.keys))
