"""How many threads blockgraph's own parallel work may use: BLOCKGRAPH_THREADS when set, else
the CPUs this process may run on. One place, read by the kernels' work sharing
(`blocks/kernels/workshare.py`) and the cache's hashing (`run/cache/keys.py`)."""
from __future__ import annotations

import os


def threads() -> int:
    """Threads a computation may use (the calling one included)."""
    env = os.environ.get("BLOCKGRAPH_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:      # not on Linux
        return os.cpu_count() or 1
