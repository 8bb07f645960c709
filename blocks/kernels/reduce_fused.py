"""Fused multi-threaded reductions (numba), bit-identical to `blocks.kernels.reduce` (stub)."""
from __future__ import annotations


def accepts(inputs, attrs) -> bool:
    return False
