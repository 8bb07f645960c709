"""The Dask executor, `run_dask`: a page's graph (`dask_graph.compile_graph`) run by
`dask.threaded.get` in this process, or on a `distributed` cluster (`--scheduler`).

It gives exactly the Results of the sequential reference, as the other parallel executors do (see
`parallel`). Dask is optional (`pip install 'blockgraph[dask]'`); it is imported only when a run
asks for it.
"""
from __future__ import annotations

import queue
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial

from . import executor, scheduler_probe
from .dask_graph import _CHANNELS, _Channel, compile_graph, kept_view
from .executor import Callbacks
from .parallel import DASK_EXTRA, ExecutorError, _tick, _Tracker, _workers
from ..core.results import Results


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
        cluster = local_cluster(_workers(workers))
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


def run_dask(scope, feeds=None, *, fail_fast: bool = False, callbacks: Callbacks | None = None,
             max_bytes: int | None = None, workers: int | None = None, scheduler=None,
             keep=None) -> Results:
    """Run `scope` as a Dask graph (one task per block, see `compile_graph`); the same Results
    as `executor.run`.

    scheduler: None runs it with `dask.threaded.get` on `workers` threads in this process;
    'local' starts a LocalCluster of `workers` processes; 'tcp://HOST:PORT' (or a
    distributed.Client) runs it on that cluster, whose workers must have blockgraph installed."""
    import_dask()
    if scope.order is None:
        return executor.run(scope, feeds, fail_fast=fail_fast, callbacks=callbacks,
                            max_bytes=max_bytes, keep=keep)
    cb = callbacks or Callbacks()
    tr = _Tracker(scope, fail_fast, cb, keep)
    if scheduler is None:
        with executor.paused_gc():
            _dask_threaded(scope, feeds, tr, cb, max_bytes, _workers(workers))
    else:
        with dask_client(scheduler, workers) as client, executor.paused_gc():
            _dask_distributed(scope, feeds, tr, cb, max_bytes, keep, client)
    return tr.finish()


def _dask_threaded(scope, feeds, tr, cb, max_bytes, n):
    import dask.threaded
    token = uuid.uuid4().hex
    ch = _CHANNELS[token] = _Channel(tr.pos, tr.stop, tr.fail_fast)
    dsk = compile_graph(scope, feeds, max_bytes=max_bytes, outputs=False, channel=token)
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
                kind, item = ch.events.get(timeout=0.25)
            except queue.Empty:
                _tick(cb)
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
        _CHANNELS.pop(token, None)
    if "error" in box:
        raise box["error"]


def _dask_distributed(scope, feeds, tr, cb, max_bytes, keep, client):
    from distributed import as_completed
    prefix = f"blockgraph-{scope.name}-{uuid.uuid4().hex[:12]}/"
    dsk = compile_graph(scope, feeds, max_bytes=max_bytes, prefix=prefix, outputs=False)
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
            _tick(cb)
            if not pending:
                break
    finally:
        if pending:
            client.cancel(list(pending))
