"""Work sharing for the GEMM-based kernels (MatMul, the batch matmuls, the convolutions): a
product split into row blocks that the calling thread and one helper thread per other core take
in turn, each block one single-threaded BLAS call (or im2col + BLAS call).

Why not BLAS's own threads: OpenBLAS splits a product evenly between its threads and waits for
the slowest, so on a machine whose cores are busy with other processes every product waits for
a descheduled thread (a 256x256 float32 product took 20-40 ms instead of 0.2 ms on a 2-core VM
at load 8; a 1024x1024 one took twice as long on two threads as on one). Here whoever is running
takes the next block: a helper that is not scheduled holds up at most the block it has claimed,
and the calling thread never waits for a helper to wake up. Blocks are large enough that
repacking the shared operand per block costs a few percent.

`blocks(rows, work_per_row)` cuts a product into row blocks by its shapes alone (so results do
not depend on the threads: BLAS sums may depend on where a block starts); `run(n, fn)` calls
fn(i) for i in range(n) across the threads. `threads()` is BLOCKGRAPH_THREADS when set, else the
usable cores; with 1 (or a BLAS whose thread count cannot be set) everything runs on the
calling thread. The first `blocks` call sets numpy's OpenBLAS to one thread for the process (its
threads and ours would compete, and its own split of a product would make results depend on its
thread count): numpy products elsewhere then run on one core too.
"""
from __future__ import annotations

import ctypes
import glob
import os
import queue
import threading

import numpy as np

from blockgraph.core.cores import threads

_LOCK = threading.Lock()
_QUEUE: queue.SimpleQueue = queue.SimpleQueue()
_HELPERS: list = []
_STATE: dict = {}


def _openblas_libraries():
    """Paths of the OpenBLAS libraries loaded in this process (numpy's first)."""
    paths = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if "/" in line else ""
                if "openblas" in os.path.basename(path).lower() and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    here = os.path.dirname(np.__file__)
    for pattern in (os.path.join(here + ".libs", "*openblas*"), os.path.join(here, ".dylibs", "*openblas*")):
        paths += [p for p in sorted(glob.glob(pattern)) if p not in paths]
    return paths


def _openblas_single() -> bool:
    """Set numpy's OpenBLAS to one thread; False when there is no such library to set."""
    names = ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
             "openblas_set_num_threads64_", "openblas_set_num_threads")
    for path in _openblas_libraries():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in names:
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.argtypes = [ctypes.c_int]
                fn(1)
                return True
    return False


def single_blas() -> bool:
    """Set numpy's OpenBLAS to one thread (once per process); False when there is no OpenBLAS
    whose thread count can be set (another BLAS keeps its own threads, and no helpers run)."""
    if "blas" not in _STATE:
        with _LOCK:
            if "blas" not in _STATE:
                _STATE["blas"] = _openblas_single()
    return _STATE["blas"]


def helpers(blas: bool = True) -> int:
    """Helper threads in use (0: everything on the calling thread); `blas=False` for work that
    makes no BLAS call (numpy's BLAS threads are then left as they are)."""
    n = threads() - 1
    if n <= 0 or (blas and not single_blas()):
        return 0
    if len(_HELPERS) < n:
        with _LOCK:
            while len(_HELPERS) < n:
                t = threading.Thread(target=_helper, name=f"blockgraph-gemm-{len(_HELPERS)}",
                                     daemon=True)
                t.start()
                _HELPERS.append(t)
    return n


def _helper():
    while True:
        _QUEUE.get().work()


class _Job:
    def __init__(self, n, fn):
        self.n, self.fn = n, fn
        self.next = 0
        self.done = 0
        self.error = None
        self.cond = threading.Condition(threading.Lock())

    def work(self):
        while True:
            with self.cond:
                i = self.next
                if i >= self.n:
                    return
                self.next = i + 1
            try:
                if self.error is None:
                    self.fn(i)
            except BaseException as e:   # re-raised by the calling thread
                self.error = e
            finally:
                with self.cond:
                    self.done += 1
                    if self.done == self.n:
                        self.cond.notify_all()

    def wait(self):
        with self.cond:
            while self.done < self.n:
                self.cond.wait()


def run(n: int, fn, blas: bool = True) -> None:
    """fn(i) for every i in range(n), spread over the calling thread and the helpers (in no
    particular order); the first exception raised is raised here once all calls are over.
    `blas=False`: fn makes no BLAS call (see `helpers`)."""
    k = min(helpers(blas), n - 1) if n > 1 else 0
    if k <= 0:
        for i in range(n):
            fn(i)
        return
    job = _Job(n, fn)
    for _ in range(k):
        _QUEUE.put(job)
    job.work()
    job.wait()
    if job.error is not None:
        raise job.error


#: multiply-adds of a block (about 0.1 ms of one core)
BLOCK_WORK = 8e6
#: blocks of a product at most (each repacks the operand the blocks share)
MAX_BLOCKS = 8


def blocks(rows: int, work_per_row: float, min_rows: int = 1, max_rows: int | None = None):
    """Row blocks [(lo, hi)] for `rows` rows of `work_per_row` multiply-adds each: at least
    BLOCK_WORK and `min_rows` a block (BLAS repacks the shared operand for each block: a
    matrix product's blocks take 256 rows or more to keep that to a few percent), at most
    MAX_BLOCKS of them, and at most `max_rows` rows a block. They depend on the shapes only,
    never on the threads or the machine's load, so a product's result does too (BLAS's sums
    may depend on where a block starts)."""
    single_blas()
    count = int(min(MAX_BLOCKS, rows * work_per_row // BLOCK_WORK, rows // max(1, min_rows)))
    if max_rows:
        count = max(count, -(-rows // max_rows))
    count = max(1, min(count, rows))
    bounds = [rows * i // count for i in range(count + 1)]
    return [(bounds[i], bounds[i + 1]) for i in range(count)]
