"""The dask executor: a page's graph (`dask_graph.compile_graph`) run by `dask.threaded.get` in
this process, or on a `distributed` cluster (`--scheduler`); sweep runs as independent tasks
the same two ways (`Dask.map`).

It gives exactly the Results of the sequential reference, as the other executors do. Dask is
optional (`pip install 'blockgraph[dask]'`); it is imported only when a run asks for it.
"""
from __future__ import annotations

import queue
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from functools import partial

from ..core.errors import ExecutorError
from ..core.gcpause import paused_gc
from ..core.results import Results
from . import cancel, scheduler_probe, sequential
from .dask_graph import Channel, compile_graph, kept_view
from .executors import Executor, workers_count
from .plan import Plan, RunOptions
from .tracker import Tracker, tick

DASK_EXTRA = "pip install 'blockgraph[dask]'"


def import_dask():
    try:
        import dask
        import dask.threaded  # noqa: F401
    except ImportError as e:
        raise ExecutorError(f"the dask executor needs Dask, an optional extra: {DASK_EXTRA} "
                            f"({e})") from None
    return dask


def import_distributed():
    import_dask()
    try:
        import distributed
    except ImportError as e:
        raise ExecutorError(f"--scheduler needs dask.distributed, part of the optional extra: "
                            f"{DASK_EXTRA} ({e})") from None
    return distributed


@contextmanager
def dask_client(scheduler, workers=None):
    """A distributed.Client for `scheduler`: an existing Client (left open), 'local' (a
    LocalCluster of `workers` processes on 127.0.0.1, closed afterwards) or a scheduler address
    such as tcp://HOST:PORT (the client is closed afterwards, the cluster left running)."""
    distributed = import_distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    if not isinstance(scheduler, str) or not scheduler.strip():
        raise ExecutorError(f"--scheduler wants tcp://HOST:PORT or 'local', got {scheduler!r}")
    if scheduler == "local":
        cluster = local_cluster(workers_count(workers))
        try:
            client = distributed.Client(cluster, set_as_default=False)
            try:
                yield client
            finally:
                client.close()
        finally:
            cluster.close()
        return
    from distributed.comm.addressing import parse_address, parse_host_port
    try:       # a bad address fails here, before a Client that would hang when collected
        scheme, loc = parse_address(scheduler)
        if scheme in ("tcp", "tls", "ws", "wss"):
            host, port = parse_host_port(loc)
    except ValueError as e:
        raise ExecutorError(f"--scheduler wants tcp://HOST:PORT or 'local', got {scheduler!r} "
                            f"({e})") from None
    if scheme == "tcp":
        scheduler_probe.probe(scheduler, host, port)     # answers as a scheduler, in time
    try:
        client = distributed.Client(scheduler, set_as_default=False,
                                    timeout=scheduler_probe.timeout())
    except Exception as e:      # whatever the connection raised: one line
        raise ExecutorError(f"cannot reach the dask scheduler at {scheduler}: "
                            f"{type(e).__name__}: {e}") from None
    try:
        yield client
    finally:
        client.close()


# Distributed's nanny sets MALLOC_TRIM_THRESHOLD_ in its workers, which turns off glibc's dynamic
# mmap threshold: every large numpy temporary is then a fresh mmap, and numpy-heavy blocks run
# about 2x slower. Workers that blockgraph starts run without it.
WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


def local_cluster(n_workers: int, **kwargs):
    """A distributed.LocalCluster of `n_workers` single-threaded worker processes listening on
    127.0.0.1 only (what `--scheduler local` starts)."""
    import dask
    distributed = import_distributed()
    opts = dict(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                dashboard_address="127.0.0.1:0")
    opts.update(kwargs)
    with dask.config.set(WORKER_CONFIG):
        return distributed.LocalCluster(**opts)


class Dask(Executor):
    """scheduler: None runs graphs with `dask.threaded.get` on `workers` threads in this
    process; 'local' starts a LocalCluster of `workers` processes; 'tcp://HOST:PORT' (or a
    distributed.Client) runs them on that cluster, whose workers must have blockgraph installed.
    A client is opened on first use and kept until `close()`, so the pages of one command share
    it."""
    name = "dask"

    def __init__(self, workers=None, scheduler=None):
        import_dask()
        self.workers = workers
        self.n = workers_count(workers)
        self.scheduler = scheduler
        self._stack = ExitStack()
        self._client = None

    def client(self):
        if self._client is None:
            self._client = self._stack.enter_context(dask_client(self.scheduler, self.workers))
        return self._client

    def close(self):
        self._client = None
        self._stack.close()

    def run(self, plan: Plan, feeds, options: RunOptions) -> Results:
        if not plan.runnable:
            return sequential.run(plan, feeds, options)
        tr = Tracker(plan, options)
        with paused_gc():
            if self.scheduler is None:
                _dask_threaded(plan, feeds, options, tr, self.n)
            else:
                _dask_distributed(plan, feeds, options, tr, self.client())
        return tr.finish()

    def map(self, fn, jobs):
        if self.scheduler is None:
            yield from _map_threaded(fn, jobs, self.n)
        else:
            yield from _map_distributed(fn, jobs, self.client())


def _dask_threaded(plan, feeds, options, tr, n):
    import dask.threaded
    cb = options.callbacks
    ch = Channel(tr.pos, tr.stop, tr.fail_fast)
    dsk = compile_graph(plan, feeds, options, outputs=False, channel=ch)
    box = {}
    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="blockgraph-dask")

    def target():
        try:
            dask.threaded.get(dsk, [b for b in tr.order if tr.may_start(b)], pool=pool)
        except BaseException as e:  # handed to the calling thread
            box["error"] = e
        finally:
            ch.events.put(("end", None))

    thread = threading.Thread(target=target, name="blockgraph-dask-get", daemon=True)
    thread.start()
    try:
        while True:
            try:
                kind, item = ch.events.get(timeout=0.1)
            except queue.Empty:
                tick(cb)
                cancel.check()
                continue
            if kind == "start":
                cb.on_start(item)
            elif kind == "done":
                tr.add(item)
            else:
                break
    except BaseException:
        ch.stop = -1                 # every task not yet started returns at once
        raise
    finally:
        if ch.stop == -1:
            thread.join(timeout=5)
        else:
            thread.join()
        pool.shutdown(wait=False, cancel_futures=True)
    if "error" in box:
        raise box["error"]


def _dask_distributed(plan, feeds, options, tr, client):
    from distributed import as_completed
    cb, keep, scope = options.callbacks, options.keep, plan.scope
    prefix = f"blockgraph-{plan.name}-{uuid.uuid4().hex[:12]}/"
    dsk = compile_graph(plan, feeds, options, prefix=prefix, outputs=False)
    wanted = [b for b in tr.order if tr.may_start(b)]     # --fail-fast: none after an invalid block
    if keep:
        for bid in wanted:
            dsk[prefix + "kept/" + bid] = (partial(kept_view, keep=tuple(keep)), prefix + bid)
        keys = [prefix + "kept/" + bid for bid in wanted]
    else:
        keys = [prefix + bid for bid in wanted]
    futures = client.get(dsk, keys, sync=False)
    by_key = {f.key: bid for f, bid in zip(futures, wanted)}
    fut_of = {bid: f for f, bid in zip(futures, wanted)}
    waiting = {bid: set(tr.preds[bid]) for bid in tr.order}

    def maybe_start(bid):
        b = scope.blocks[bid]
        if b.valid and tr.may_start(bid) and all(tr.raw[u].ok for u in tr.preds[bid]):
            cb.on_start(b)

    for bid in wanted:
        if not waiting[bid]:
            maybe_start(bid)
    pending = set(futures)
    try:
        for batch in as_completed(futures, loop=client.loop).batches():
            batch = sorted((f for f in batch if f in pending), key=lambda f: tr.pos[by_key[f.key]])
            if not batch:                    # cancelled (--fail-fast)
                continue
            pending.difference_update(batch)
            for fut in batch:
                if fut.status == "error":     # 'lost' since it finished: gather recomputes it
                    exc = fut.exception()
                    raise ExecutorError(f"the dask cluster could not run block "
                                        f"'{by_key[fut.key]}': {type(exc).__name__}: {exc}")
            for fut, value in zip(batch, client.gather(batch)):   # one round trip per batch
                bid = by_key[fut.key]
                tr.add(value)
                for succ in tr.succs[bid]:
                    waiting[succ].discard(bid)
                    if not waiting[succ]:
                        maybe_start(succ)
            if tr.fail_fast and tr.stop < len(tr.order):
                late = [fut_of[b] for b in tr.order[tr.stop + 1:] if b in fut_of and fut_of[b] in pending]
                if late:
                    client.cancel(late)
                    pending.difference_update(late)
            tick(cb)
            if not pending:
                break
    finally:
        if pending:
            client.cancel(list(pending))


# ---------------------------------------------------------------- independent jobs (sweeps)

def _deliver(q, i, fn, *args):
    """A dask task of an in-process map: hand the value to the caller as soon as it exists."""
    q.put((i, fn(*args)))


def _map_threaded(fn, jobs, n):
    import dask.threaded
    q = queue.Queue()
    token = uuid.uuid4().hex
    dsk = {f"blockgraph-map-{token}-{i}": (partial(_deliver, q, i, fn, *args),) for i, args in jobs}
    pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="blockgraph-map-dask")
    box = {}
    end = object()

    def target():
        try:
            dask.threaded.get(dsk, list(dsk), pool=pool)
        except BaseException as e:
            box["error"] = e
        finally:
            q.put(end)

    thread = threading.Thread(target=target, name="blockgraph-map-get", daemon=True)
    thread.start()
    complete = False
    try:
        while True:
            try:
                item = q.get(timeout=0.1)
            except queue.Empty:
                cancel.check()
                continue
            if item is end:
                complete = True
                break
            yield item
    finally:
        if complete:
            thread.join()
        pool.shutdown(wait=False, cancel_futures=True)
    if "error" in box:
        raise box["error"]


_TAG = "blockgraph-job-result"


def _tagged(fn, *args):
    """A distributed job: fn's value, tagged so that the caller tells it from the (type,
    exception, traceback) of a task that failed."""
    return (_TAG, fn(*args))


def _map_distributed(fn, jobs, client):
    from distributed import as_completed as dask_completed
    token = uuid.uuid4().hex[:12]
    futs = {}
    for i, args in jobs:
        f = client.submit(_tagged, fn, *args, key=f"blockgraph-map-{token}-{i}", pure=False)
        futs[f.key] = (i, f)
    try:
        for f, value in dask_completed([f for _, f in futs.values()], loop=client.loop,
                                       with_results=True, raise_errors=False):
            i, _ = futs.pop(f.key)
            if not (type(value) is tuple and len(value) == 2 and value[0] == _TAG):
                # an error (a value that arrived counts, even if its worker died since)
                exc = value[1] if isinstance(value, tuple) and len(value) == 3 else value
                raise ExecutorError(f"the dask cluster could not run job {i}: "
                                    f"{type(exc).__name__}: {exc}")
            yield i, value[1]
    finally:
        if futs:
            client.cancel([f for _, f in futs.values()])
