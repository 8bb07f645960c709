"""Is a Dask scheduler answering at this address? Asked before a `distributed.Client` is made,
because a Client pointed at something else hangs (a server that accepts and never replies) or
reads a reply as a message length and tries to allocate exabytes (an HTTP server).

A Dask scheduler sends its handshake as soon as it accepts a connection: an 8-byte length, then
a small message. `probe` connects, reads those 8 bytes within a timeout and checks the length;
it sends nothing.
"""
from __future__ import annotations

import socket
import struct
import time

from ..core.errors import ExecutorError

#: the longest wait for a scheduler's first bytes, in seconds (dask's own connect timeout,
#: distributed.comm.timeouts.connect, when that is shorter)
TIMEOUT = 10.0
_MAX_HANDSHAKE = 1 << 20     # a scheduler's handshake is well under a kilobyte


def timeout() -> float:
    """The probe's timeout: TIMEOUT, or dask's connect timeout when shorter."""
    try:
        import dask
        from dask.utils import parse_timedelta
        return min(TIMEOUT, parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"),
                                            default="seconds"))
    except Exception:         # no dask config: the default
        return TIMEOUT


def probe(address: str, host: str, port: int, seconds: float | None = None) -> None:
    """ExecutorError (one line) unless a Dask scheduler answers at `host`:`port` within
    `seconds` (default `timeout()`); `address` is how the user wrote it."""
    seconds = timeout() if seconds is None else seconds
    deadline = time.monotonic() + seconds
    try:
        with socket.create_connection((host, port), timeout=seconds) as s:
            head = b""
            while len(head) < 8:
                s.settimeout(max(deadline - time.monotonic(), 0.001))
                got = s.recv(8 - len(head))
                if not got:
                    raise ExecutorError(f"{address} closed the connection without answering as a "
                                        "Dask scheduler")
                head += got
    except (socket.timeout, TimeoutError):
        raise ExecutorError(f"no Dask scheduler answered at {address} within {seconds:g} s") from None
    except OSError as e:
        raise ExecutorError(f"cannot reach the dask scheduler at {address}: {e.strerror or e}") from None
    (n,) = struct.unpack("<Q", head)
    if not 0 < n <= _MAX_HANDSHAKE:
        raise ExecutorError(f"{address} does not answer as a Dask scheduler (another kind of "
                            "server?)")
