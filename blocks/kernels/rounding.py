"""Element-wise arithmetic of one TF dtype as Eigen's scalar ops do it on the CPU, for kernels
that must reproduce an order of operations bit for bit (pool sums, depthwise products):

- float32 / float64: IEEE ops with denormal inputs read as zero (DAZ) and denormal results
  flushed (FTZ), as TF's threads run;
- float16 / bfloat16: each op computed in float32 (bfloat16's float32 images of its denormals are
  flushed too) and rounded to the storage type, as Eigen's half types do;
- integers: wrapping ops.

`Arith(dtype)` holds the ops; `flush` is skipped when no operand is small enough for a result to
be denormal (a sum or product of normal numbers above 2**-90 never is).
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt

from . import gemm_fused
from .ieee import daz

_F32 = np.dtype(np.float32)
_HALVES = (np.dtype(np.float16), dt.NUMPY["bfloat16"])
_SMALL = 2.0 ** -90


def lowest(dtype):
    """NumTraits<T>::lowest(): the most negative finite value (integers: their minimum)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        return np.array(np.iinfo(dtype).min, dtype)
    if dtype == dt.NUMPY["bfloat16"]:
        return np.array(-3.3895313892515355e38, dtype)
    return np.array(np.finfo(dtype).min, dtype)


def may_flush(*arrays) -> bool:
    """True when some float operand is nonzero and below 2**-90 in magnitude, so that a sum or a
    product of operands could be denormal."""
    for a in arrays:
        a = np.asarray(a)
        if a.dtype.kind != "f" and a.dtype not in _HALVES or a.size == 0:
            continue
        small = gemm_fused.has_small(a, _SMALL)      # one pass on large float32/float64
        if small is not None:
            if small:
                return True
            continue
        m = np.abs(a.astype(np.float64) if a.dtype in _HALVES else a)
        if np.any((m < _SMALL) & (m > 0)):
            return True
    return False


class Arith:
    """The ops of TF dtype `dtype` (a numpy dtype): `load` turns a stored array into the
    operand form (DAZ; float32 for half types), `add`/`mul`/`div` compute one op and round as
    the kernel stores it, `store` gives back the stored dtype. `flush=False` skips FTZ."""

    def __init__(self, dtype, flush: bool = True):
        self.dtype = np.dtype(dtype)
        self.half = self.dtype in _HALVES
        self.float = self.half or self.dtype.kind == "f"
        self.flush = flush and self.float

    def load(self, a):
        a = np.asarray(a)
        if self.half:
            a = a.astype(_F32)
            return daz(a) if self.dtype != np.float16 else a
        return daz(a) if self.float else a

    def _round(self, r):
        if self.flush:
            r = daz(r)
        if self.half:
            r = r.astype(self.dtype).astype(_F32)
            if self.dtype != np.float16:
                r = daz(r)
        return r

    def flush_only(self, r):
        """FTZ of a float32/float64 intermediate (no rounding to the storage type)."""
        return daz(r) if self.flush else r

    def packet_nans(self, r):
        """bfloat16 results leave Eigen's packets as +qNaN whatever the NaN (float16 and the
        other types keep theirs)."""
        if self.dtype != dt.NUMPY["bfloat16"]:
            return r
        nan = np.isnan(r)
        return np.where(nan, np.float32(np.nan), r) if nan.any() else r

    def add(self, a, b):
        with np.errstate(all="ignore"):
            return self._round(a + b)

    def mul(self, a, b):
        with np.errstate(all="ignore"):
            return self._round(a * b)

    def div(self, a, b):
        with np.errstate(all="ignore"):
            return self._round(a / b)

    def store(self, a):
        return np.asarray(a).astype(self.dtype, copy=False)
