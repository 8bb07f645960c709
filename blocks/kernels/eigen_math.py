"""Alias of blocks.kernels.eigen (TF's transcendental element-wise kernels, bit-exact)."""
from .eigen import *          # noqa: F401,F403
from .eigen import get, supported, OPS, DTYPES   # noqa: F401
