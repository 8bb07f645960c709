"""The recycled output buffers (blocks/kernels/buffers.py): a buffer is handed out again only
when no array made from it is alive, and idle buffers are bounded."""
from __future__ import annotations

import gc
import threading

import numpy as np
import pytest

from blocks.kernels import buffers

SHAPE = (4, 1 << 16)     # 1 MiB of float32: pooled with the MIN_BYTES set below
MIB = 1 << 20


def address(a) -> int:
    return a.__array_interface__["data"][0]


@pytest.fixture(autouse=True)
def clean_pool(monkeypatch):
    monkeypatch.setattr(buffers, "MIN_BYTES", MIB)
    buffers.release()
    yield
    buffers.release()


def test_reused_once_dropped():
    a = buffers.empty(SHAPE)
    where = address(a)
    del a
    b = buffers.empty(SHAPE)
    assert address(b) == where and b.shape == SHAPE and b.dtype == np.float32
    assert b.flags.c_contiguous and b.flags.writeable


@pytest.mark.parametrize("keep", ["array", "slice", "view of a view", "memoryview", "frombuffer",
                                  "base", "transpose"])
def test_never_reused_while_anything_holds_it(keep):
    a = buffers.empty(SHAPE)
    a[...] = 7
    held = {"array": lambda: a, "slice": lambda: a[1:3, ::2], "view of a view": lambda: a[1:][:, 5:],
            "memoryview": lambda: memoryview(a), "frombuffer": lambda: np.frombuffer(a, np.float32),
            "base": lambda: a.base, "transpose": lambda: a.T}[keep]()
    del a
    gc.collect()
    b = buffers.empty(SHAPE)
    b[...] = 1
    assert np.all(np.asarray(held) == 7)        # the held memory was not handed out again
    del held
    c = buffers.empty(SHAPE)                    # now the first buffer is free: reused
    assert not np.shares_memory(c, b)


def test_other_sizes_dtypes_and_small_arrays_are_not_mixed():
    a = buffers.empty(SHAPE)
    where = address(a)
    del a
    b = buffers.empty((SHAPE[0] + 1, SHAPE[1]))
    c = buffers.empty(SHAPE, np.int32)
    assert address(b) != where and address(c) != where and c.dtype == np.int32
    small = buffers.empty((10,))
    assert small.base is None                   # small outputs are plain arrays


def test_idle_buffers_are_bounded(monkeypatch):
    monkeypatch.setattr(buffers, "IDLE_BYTES", 3 * MIB)
    arrays = [buffers.empty((4, 1 << 16)) for k in range(6)]     # six buffers of 1 MiB
    assert len({address(a) for a in arrays}) == 6
    del arrays
    kept = buffers.empty((5, 1 << 16))          # a new size: trims the idle ones to 3
    idle = sum(1 for i in range(len(buffers._BUFFERS)) if buffers._idle(i))
    assert idle == 3 and kept.base is not None
    assert buffers.release() == 3 * MIB and buffers.release() == 0


def test_threads_get_distinct_buffers():
    got, lock = [], threading.Lock()

    def work():
        for _ in range(20):
            a = buffers.empty(SHAPE)
            a[...] = threading.get_ident() % 1000
            with lock:
                got.append(a)      # kept: every buffer handed out is in use
    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({address(a) for a in got}) == len(got)
