"""Bytes a tensor needs, for the memory limit (`--max-bytes`), and sizes as people read them."""
from __future__ import annotations

import math

from . import dtypes as dt

#: what a string element is counted as when its length is not known (before the run)
STRING_BYTES = 8


def tensor_bytes(shape, dtype: str, value=None) -> int | None:
    """Bytes of a tensor of `shape` and `dtype`, or None when a dim is unknown. Strings count
    their bytes when `value` holds them (else STRING_BYTES each)."""
    if shape is None or dtype is None or None in shape:
        return None
    if dtype == "string":
        if value is not None:
            return sum(len(b) for b in value.ravel().tolist()) + STRING_BYTES * value.size
        return math.prod(shape) * STRING_BYTES
    return math.prod(shape) * dt.NUMPY[dtype].itemsize


def output_bytes(specs) -> int | None:
    """Bytes the outputs described by `specs` need, or None when a shape is not fully known."""
    total = 0
    for s in specs:
        for x in (s if type(s) is list else (s,)):
            n = None if x is None else tensor_bytes(x.shape, x.dtype)
            if n is None:
                return None
            total += n
    return total


def default_max_bytes() -> int:
    """Half of the machine's physical memory: the default per-block output limit."""
    import os
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):   # pragma: no cover - non-POSIX
        return 8 << 30


def memory_message(need: int, max_bytes: int) -> str:
    return (f"the outputs would need {size_text(need)}, more than the limit of "
            f"{size_text(max_bytes)} (raise it with --max-bytes)")


def parse_size(text: str) -> int:
    """A size as people write it: 1000000, 2e9, 512M, 4G, 1GiB, 10KB. ValueError when it is
    not one, or not positive."""
    t = str(text).strip().upper().removesuffix("B").removesuffix("I")
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(t[-1:], 1)
    try:
        n = float(t[:-1] if mult > 1 else t) * mult
    except ValueError:
        raise ValueError(f"not a size: {text!r} (e.g. 2e9, 512M, 4G)") from None
    if not n > 0 or math.isinf(n):
        raise ValueError("the size must be positive")
    return int(n)


def size_text(n: int) -> str:
    """Bytes for people: 3.9 KiB, 37.3 GiB."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)
