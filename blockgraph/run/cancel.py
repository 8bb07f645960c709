"""Cancellation of runs: `STOP`, set by the CLI's Ctrl-C handler (or by a caller) and read by the
executors between blocks and cycles.

A KeyboardInterrupt raised while native code calls back into Python (numba compiling a kernel,
for one) is swallowed there; the run stops at the next block boundary instead. This module holds
nothing else, so it is complete the moment it is imported (a Ctrl-C handler can always reach it).
"""
import threading

STOP = threading.Event()


def check() -> None:
    """Raise KeyboardInterrupt when a stop was requested."""
    if STOP.is_set():
        raise KeyboardInterrupt
