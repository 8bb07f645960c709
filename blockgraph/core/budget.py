"""The memory limit (--max-bytes) as blocks meet it: what a tensor counts, what a block's outputs
need (`output_bytes`), the default limit, and the check itself.

A numeric tensor counts its bytes. A string tensor counts 8 bytes per element plus, once its
values are known, the element count times its longest string: what `--out` stores (numpy keeps
strings at a fixed width), however many elements share one Python object in memory.

A kernel whose output size depends on the data (Where, Unique, ...) is declared with
`context=True` and calls `ctx.check_bytes(need)` (`check(need, ctx.max_bytes)`) once it has
counted, before allocating.
"""
from __future__ import annotations

import math

import numpy as np

from . import dtypes as dt
from .errors import OpError
from .shapes import fmt


def size_text(n: int) -> str:
    """Bytes for people: 3.9 KiB, 37.3 GiB."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def parse_size(text: str) -> int:
    """A size as people write it: 1000000, 2e9, 512M, 4G, 1GiB. ValueError saying what is
    wrong when it is not one (below 1 byte, not finite, 2**63 or more)."""
    t = str(text).strip().upper().removesuffix("B").removesuffix("I")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(t[-1:], 1)
    try:
        n = float(t[:-1] if mult > 1 else t) * mult
    except ValueError:
        raise ValueError(f"not a size: {text!r} (e.g. 2e9, 512M, 4G)") from None
    if not n < 2 ** 63:          # inf and nan included
        raise ValueError(f"not a size: {text!r} (a number of bytes below 9.2e18, e.g. 2e9, 512M, 4G)")
    if n < 1:
        raise ValueError("the size must be at least 1 byte")
    return int(n)


def limit_message(need: int, max_bytes: int, specs=None) -> str:
    """The error of outputs needing `need` bytes under a limit of `max_bytes`. With their
    `specs`, it starts with TF's text for the output TF's allocator would fail on (the first that
    takes the total past the limit)."""
    text = (f"the outputs would need {size_text(need)}, more than the limit of "
            f"{size_text(max_bytes)} (raise it with --max-bytes)")
    total = 0
    for s in specs or ():
        for x in (s if type(s) is list else (s,)):
            total += tensor_bytes(x.dtype, x.shape, x.value)
            if total > max_bytes:
                return (f"OOM when allocating tensor with shape{fmt(x.shape)} and type "
                        f"{dt.tf_name(x.dtype)} on /job:localhost/replica:0/task:0/device:CPU:0 "
                        f"by allocator cpu: {text}")
    return text


def check(need: int, max_bytes: int | None) -> None:
    """OpError when `need` bytes of outputs pass the limit (None: no limit). Call it before
    allocating what was counted."""
    if max_bytes is not None and need > max_bytes:
        raise OpError(limit_message(need, max_bytes))


def nbytes(dtype, count: int) -> int:
    """Bytes of `count` elements of numpy `dtype` (8 per element for strings, whose lengths are
    not known yet)."""
    return count * (8 if np.dtype(dtype).kind == "O" else np.dtype(dtype).itemsize)


def string_bytes(a: np.ndarray) -> int:
    """What a string tensor counts: 8 bytes per element plus the element count times its
    longest string."""
    if a.size == 0:
        return 0
    longest = max(map(len, a.ravel().tolist()))
    return a.size * (8 + longest)


def tensor_bytes(dtype: str, shape: tuple, value=None) -> int:
    """What a tensor of TF `dtype` and fully known `shape` counts (string bytes when `value`,
    its known value, is given)."""
    if dtype == "string":
        return string_bytes(value) if value is not None else math.prod(shape) * 8
    return math.prod(shape) * dt.NUMPY[dtype].itemsize


def check_strings(outputs, specs, max_bytes: int | None) -> None:
    """After a compute: OpError when its string outputs, counted by their real lengths, take
    the outputs over the limit (before they are kept, saved or printed)."""
    if max_bytes is None:
        return
    for s in specs:
        if _has_string(s):
            break
    else:
        return
    total = 0
    for value, spec in zip(outputs, specs):
        for a, s in zip(value, spec) if type(value) is list else ((value, spec),):
            total += string_bytes(a) if s is not None and s.dtype == "string" else a.nbytes
    check(total, max_bytes)


def _has_string(spec) -> bool:
    if type(spec) is list:
        return any(s is not None and s.dtype == "string" for s in spec)
    return spec is not None and spec.dtype == "string"


def output_bytes(specs) -> int | None:
    """Bytes the outputs described by `specs` need, or None when a shape is not fully known."""
    total = 0
    for s in specs:
        for x in (s if type(s) is list else (s,)):
            if x is None or x.shape is None or x.dtype is None or None in x.shape:
                return None
            total += tensor_bytes(x.dtype, x.shape, x.value)
    return total


def default_max_bytes() -> int:
    """Half of the machine's physical memory: the default per-block output limit."""
    import os
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):   # pragma: no cover - non-POSIX
        return 8 << 30
