"""The executors, in one table: how the blocks of a run (and the runs of a sweep) are spread
over workers. Adding one is one entry here and a module with an `Executor` subclass.

    executor = executors.get("threads")(workers=2)
    with executor:
        results = executor.run(plan, feeds, options)         # one page
        for i, value in executor.map(fn, [(0, args), ...]):  # independent jobs (sweep runs)
            ...

Every executor gives exactly the Results of the sequential reference (`sequential.run`): the same
statuses, errors, outputs and run order, keep-going, --fail-fast and --keep included. An
executor's module is imported only when it is asked for (dask is optional).
"""
from __future__ import annotations

import importlib

from ..core.errors import ExecutorError

#: name -> (module, class)
TABLE = {
    "sequential": ("blockgraph.run.sequential", "Sequential"),
    "threads": ("blockgraph.run.threads", "Threads"),
    "dask": ("blockgraph.run.dask_run", "Dask"),
}
NAMES = tuple(TABLE)


class Executor:
    """Base of the executors. `workers`: threads or dask workers (None: one per core);
    `scheduler`: dask only (an address, 'local', or a distributed.Client)."""
    name = ""

    def __init__(self, workers=None, scheduler=None):
        if scheduler is not None:
            raise ExecutorError("--scheduler needs --executor dask")
        self.workers = workers

    def run(self, plan, feeds, options):
        """Run every block of `plan` with `feeds` ({placeholder id: array}); return Results."""
        raise NotImplementedError

    def map(self, fn, jobs):
        """Run fn(*args) for each (i, args) of `jobs` as independent tasks; yield (i, value) as
        each finishes (in any order)."""
        raise NotImplementedError

    def close(self):
        """Release what the executor holds (thread pools, dask clients)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def get(name: str) -> type:
    """The Executor class called `name`; ExecutorError for an unknown one."""
    entry = TABLE.get(name)
    if entry is None:
        raise ExecutorError(f"unknown executor {name!r} (choose from {', '.join(NAMES)})")
    return getattr(importlib.import_module(entry[0]), entry[1])


def workers_count(workers) -> int:
    """`workers` checked (a positive int), or one per core when None."""
    import os
    if workers is None:
        return os.cpu_count() or 1
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ExecutorError(f"workers must be a positive integer, got {workers!r}")
    return workers
