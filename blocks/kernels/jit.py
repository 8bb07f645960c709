"""Lazy numba compilation of a kernel module's functions, in a namespace of their own.

A fused-kernel module writes its loops as plain Python functions (helpers called by kernels,
and kernels whose `prange` is `range` in the serial version) and declares one `Jit` for them.
The first `load()` imports numba (once, thread-safe) and compiles copies of those functions
bound to a private namespace — a copy of the module's globals in which every helper is its
jitted dispatcher — so the module's own globals are never rebound and its functions stay plain
Python. Each kernel gets a serial version and a `parallel=True` one (its `prange` is
`numba.prange`), each cached on disk under its own qualified name.

`load()` is False when numba is not installed or BLOCKGRAPH_NO_FUSED=1 (read at the first
load); the numpy reference kernels are then used.
"""
from __future__ import annotations

import os
import threading
import types

OPTIONS = dict(cache=True, nogil=True, error_model="numpy")


class Jit:
    """The jitted functions of one kernel module: `serial[name]`, `parallel[name]` (kernels),
    `threads` (numba's thread count) once `load()` is True."""

    def __init__(self, module_globals: dict, helpers=(), kernels=(), serial_only=(), extra=None):
        self._globals = module_globals
        self._helpers, self._kernels, self._serial_only = tuple(helpers), tuple(kernels), tuple(serial_only)
        self._extra = extra          # a function returning {name: numba object} (intrinsics)
        self._ok = None
        self._lock = threading.Lock()
        self.serial: dict = {}
        self.parallel: dict = {}
        self.threads = 1

    def load(self) -> bool:
        if self._ok is None:
            with self._lock:
                if self._ok is None:
                    self._ok = self._compile()
        return self._ok

    def _compile(self) -> bool:
        if os.environ.get("BLOCKGRAPH_NO_FUSED", "") not in ("", "0"):
            return False
        try:
            import numba
        except ImportError:
            return False
        ns = dict(self._globals)
        if self._extra is not None:
            ns.update(self._extra())
        copies = {name: _rebind(self._globals[name], ns, name) for name in self._helpers}
        for name, fn in copies.items():
            ns[name] = numba.njit(**OPTIONS)(fn)
        for name in (*self._kernels, *self._serial_only):
            self.serial[name] = numba.njit(**OPTIONS)(_rebind(self._globals[name], ns, name))
        par_ns = dict(ns, prange=numba.prange)
        for name in self._kernels:
            par = _rebind(self._globals[name], par_ns, name + "_parallel")
            self.parallel[name] = numba.njit(parallel=True, **OPTIONS)(par)
        self.threads = numba.config.NUMBA_NUM_THREADS
        return True


def _rebind(fn, namespace: dict, qualname: str):
    """A copy of `fn` whose globals are `namespace`, under `qualname` (numba's cache key)."""
    copy = types.FunctionType(fn.__code__, namespace, qualname, fn.__defaults__, fn.__closure__)
    copy.__qualname__ = qualname
    copy.__module__ = fn.__module__
    return copy
