"""TensorFlow's CPU `Cast`, element for element (TF 2.21, x86-64, Eigen, FTZ/DAZ on).

What TF's kernel does, and so what this reproduces:
- Every conversion is a C++ `static_cast` through Eigen: half and bfloat16 go through float32
  (so float64 -> float16/bfloat16 rounds twice), complex -> real takes the real part (also for
  bool: `(bool)re`), real -> complex sets the imaginary part to +0.
- Kernels run with denormals flushed: float32/float64 denormal *inputs* of an FP instruction read
  as signed zeros (f32 -> f64, -> bool, bfloat16 -> f64) and float32 results that are tiny after
  rounding become signed zeros (f64 -> f32). Pure bit moves keep denormals (bfloat16 <-> float32,
  float32 -> bfloat16, copies into complex).
- float -> bfloat16 is Eigen's round-to-nearest-even on the bits, NaN -> 0x7fc0 with the sign
  kept; float -> float16 is F16C `vcvtps2ph` (NaN payload kept, quiet bit set); float16 -> float32
  quiets signalling NaNs.
- `Truncate=True` zeroes the low mantissa bits of non-NaN inputs first, only for the pairs TF
  specialises (f64->f32, f64->f16, f32->f16, f32->bf16, and their complex variants).
- float -> integer out of range / NaN is undefined in C++; TF's compiled code gives (scalar
  path): to int8/16 and uint8/16 `cvttss2si` to int32 (INT_MIN on overflow) then wrap; int32:
  INT_MIN; uint32: 64-bit convert then wrap; int64: INT64_MIN; uint64: clang's sequence (values in
  [2^63, 2^64) exact, NaN/inf/too large/<= -2^63 -> 2^63, other negatives wrap).
- Long vectors take SIMD paths for some pairs, which saturate instead of wrapping (and give
  0x7fc0 for every float32 NaN -> bfloat16). Which elements take them follows Eigen's executor:
  the loop runs P elements at a time from the start of each range a thread gets, the rest of the
  range one by one; ranges come from Eigen's parallelFor cost model with TF's intra-op pool
  (`INTRA_OP_THREADS`).
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt

#: intra-op threads of the TF pool the reference values were made with (parallelFor blocks)
INTRA_OP_THREADS = 2

QUANTIZED_BASE = {"qint8": "int8", "quint8": "uint8", "qint16": "int16", "quint16": "uint16",
                  "qint32": "int32"}
_INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
_FLOATS = ("float16", "bfloat16", "float32", "float64")
_SIZE = {"bool": 1, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "float16": 2, "bfloat16": 2,
         "int32": 4, "uint32": 4, "float32": 4, "int64": 8, "uint64": 8, "float64": 8,
         "complex64": 8, "complex128": 16}

# Low mantissa bits zeroed by Truncate=True, for the (src, dst) pairs TF specialises.
_TRUNC_BITS = {("float64", "float32"): 29, ("complex128", "float32"): 29,
               ("complex128", "complex64"): 29,
               ("float64", "complex64"): 53,   # TF bug: digits of complex<float> is 0
               ("float64", "float16"): 42, ("float32", "float16"): 13,
               ("complex128", "float16"): 42, ("complex64", "float16"): 13,
               ("float32", "bfloat16"): 16}

# Pairs with a SIMD path that differs from the scalar one: (src, dst) -> (P, aligned blocks).
# Unaligned: clang's auto-vectorised scalar loop, P elements at a time from each range start.
# Aligned: Eigen packets (blocks are multiples of P, only the end of the tensor is scalar).
_SIMD = {}
for _d in ("int8", "int16", "uint8", "uint16"):
    _SIMD[("float16", _d)] = (16, False)
    _SIMD[("bfloat16", _d)] = (8, False)
    _SIMD[("float32", _d)] = (32, False)
    _SIMD[("float64", _d)] = (16, False)
    _SIMD[("complex128", _d)] = (16, False)
for _s in ("float16", "bfloat16", "float32", "float64", "complex64"):
    _SIMD[(_s, "uint32")] = (8, True)
_SIMD[("float32", "bfloat16")] = (8, True)
# float -> uint8 SIMD via uint16 (read back as int16) for these sources
_UINT8_VIA_INT16 = ("float16", "float64", "complex128")

_F32_TINY = 2.0 ** -126


def base_type(name: str) -> str:
    """The TF dtype a quantized type is cast as (TF bitcasts qint8 -> int8 etc.)."""
    return QUANTIZED_BASE.get(name, name)


def cast(x: np.ndarray, src: str, dst: str, truncate: bool = False) -> np.ndarray:
    """`tf.raw_ops.Cast(x, DstT=dst, Truncate=truncate)` on an array holding TF dtype `src`."""
    x = np.asarray(x)
    if src == dst:
        return x
    s, d = base_type(src), base_type(dst)
    out_np = _np(d)
    if s == d:
        return x.astype(out_np, copy=True)
    flat = x.reshape(-1)
    bits = _TRUNC_BITS.get((s, d)) if truncate else None
    simd = None
    if (s, d) in _SIMD and bits is None:
        simd = _simd_mask(flat.size, s, d)
    if bits is not None:
        flat = _zero_low_bits(flat, s, bits)
    if d in ("complex64", "complex128"):
        part = "float32" if d == "complex64" else "float64"
        if s in ("complex64", "complex128"):
            ps = "float32" if s == "complex64" else "float64"
            re, im = _real(flat.real, ps, part), _real(flat.imag, ps, part)
        else:
            re = _real(flat, s, part)
            im = np.zeros(flat.shape, _np(part))
        out = np.empty(flat.shape, out_np)
        out.real, out.imag = re, im
    else:
        s_key = s
        if s in ("complex64", "complex128"):
            flat, s = flat.real.copy(), ("float32" if s == "complex64" else "float64")
        out = _real(flat, s, d, simd, s_key)
    return np.asarray(out, out_np).reshape(x.shape)


# ----------------------------------------------------------------------------- helpers

def _np(name):
    if name == "bfloat16":
        return dt.to_numpy("bfloat16")
    return np.dtype(name)


def _uint_view(a):
    a = a if a.flags.c_contiguous else a.copy(order="C")
    return a.view(f"u{a.dtype.itemsize}")


def _zero_low_bits(flat, s, n):
    """TF's LSBZeroSetter: clear the n low bits of every non-NaN float (both complex parts)."""
    if s in ("complex64", "complex128"):
        part = "float32" if s == "complex64" else "float64"
        out = np.empty_like(flat)
        out.real = _zero_low_bits(flat.real.copy(), part, n)
        out.imag = _zero_low_bits(flat.imag.copy(), part, n)
        return out
    u = _uint_view(flat).copy()
    mask = (~np.array((1 << n) - 1, dtype=u.dtype)).astype(u.dtype)
    keep = np.isnan(flat)
    u = np.where(keep, u, u & mask)
    return u.view(flat.dtype)


def _daz(a):
    """float32/float64 denormals read as signed zeros (x86 DAZ)."""
    tiny = np.finfo(a.dtype).tiny
    den = (np.abs(a) < tiny) & (a != 0)
    if den.any():
        a = np.where(den, np.copysign(np.zeros((), a.dtype), a), a)
    return a


def _f16_to_f32(a):
    """F16C `vcvtph2ps`: exact, signalling NaNs quieted."""
    out = a.astype(np.float32)
    nan = np.isnan(out)
    if nan.any():
        out = np.where(nan, (_uint_view(out) | np.uint32(0x00400000)).view(np.float32), out)
    return out


def _bf16_to_f32(a):
    """bfloat16 -> float32 is a 16-bit shift (denormals and NaN payloads kept)."""
    return (_uint_view(a).astype(np.uint32) << np.uint32(16)).view(np.float32)


def _f32_to_bf16(a, simd=None):
    """Eigen's float_to_bfloat16_rtne on the bits; NaN -> 0x7fc0 | sign (SIMD lanes: 0x7fc0)."""
    u = _uint_view(np.asarray(a, np.float32)).astype(np.uint64)
    r = ((u + np.uint64(0x7FFF) + ((u >> np.uint64(16)) & np.uint64(1))) >> np.uint64(16))
    nan = np.isnan(a)
    if nan.any():
        sign_nan = np.where(u >> np.uint64(31) != 0, np.uint64(0xFFC0), np.uint64(0x7FC0))
        if simd is not None:
            sign_nan = np.where(simd, np.uint64(0x7FC0), sign_nan)
        r = np.where(nan, sign_nan, r)
    return r.astype(np.uint16).view(dt.to_numpy("bfloat16"))


def _f32_to_f16(a):
    """F16C `vcvtps2ph` (round to nearest even): NaN keeps its sign and top payload bits, quieted."""
    a = _daz(np.asarray(a, np.float32))
    with np.errstate(over="ignore", invalid="ignore"):
        out = a.astype(np.float16)
    nan = np.isnan(a)
    if nan.any():
        u = _uint_view(a)
        h = (((u >> np.uint32(16)) & np.uint32(0x8000)) | np.uint32(0x7E00)
             | ((u & np.uint32(0x007FFFFF)) >> np.uint32(13))).astype(np.uint16)
        out = np.where(nan, h.view(np.float16), out)
    return out


def _f64_to_f32(a):
    """`cvtsd2ss` under FTZ: results tiny after rounding (unbounded exponent) become signed 0."""
    a = np.asarray(a, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        out = a.astype(np.float32)
    tiny = np.abs(a) < _F32_TINY * (1 - 2.0 ** -25)
    if tiny.any():
        out = np.where(tiny, np.copysign(np.float32(0), out), out)
    return out


def _to_f32(a, s):
    """Any real source as float32 the way Eigen reads it (half/bfloat16 exactly, ints rounded)."""
    if s == "float32":
        return a
    if s == "float16":
        return _f16_to_f32(a)
    if s == "bfloat16":
        return _bf16_to_f32(a)
    if s == "float64":
        return _f64_to_f32(a)
    return a.astype(np.float32)


def _cvtt(xf, bits):
    """`cvtts?2si` to int32/int64: truncate toward zero; NaN/out of range -> INT_MIN."""
    lo, hi = -2.0 ** (bits - 1), 2.0 ** (bits - 1)
    with np.errstate(invalid="ignore"):
        t = np.trunc(xf)
        ok = (t >= lo) & (t < hi)
    return np.where(ok, t, lo).astype(np.int64)


def _float_to_int(xf, d, simd, s_key):
    """float64 values (exact copies of the source floats) -> integer dtype `d`, TF's way."""
    if d == "uint64":
        t1 = _cvtt(xf, 64)
        with np.errstate(invalid="ignore"):
            big = (xf >= 2.0 ** 63) & (xf < 2.0 ** 64)
        out = t1.view(np.uint64)
        out = np.where(t1 == np.iinfo(np.int64).min, np.uint64(2 ** 63), out)
        if big.any():
            out[big] = xf[big].astype(np.uint64)
        return out
    if d == "int64":
        return _cvtt(xf, 64)
    i32 = None if d == "uint32" else _cvtt(xf, 32)
    if d == "uint32":
        out = (_cvtt(xf, 64) & 0xFFFFFFFF).astype(np.uint32)
    else:   # int32; int8/int16/uint8/uint16 through int32, then wrap
        out = i32.astype(np.dtype(d))
    if simd is not None and simd.any():
        out = np.where(simd, _simd_float_to_int(xf, d, s_key, i32), out)
    return out.astype(np.dtype(d)) if out.dtype != np.dtype(d) else out


def _simd_float_to_int(xf, d, s_key, i32=None):
    """The SIMD lanes: int32 convert (INT_MIN on overflow/NaN) then saturating packs."""
    i32 = _cvtt(xf, 32) if i32 is None else i32
    if d == "uint32":
        with np.errstate(invalid="ignore"):
            t = np.trunc(xf)
            hi = (t >= 2.0 ** 31) & (t < 2.0 ** 32)
        out = (i32 & 0xFFFFFFFF).astype(np.uint32)
        if hi.any():
            out[hi] = t[hi].astype(np.uint32)
        return out
    if d == "uint8" and s_key in _UINT8_VIA_INT16:
        v = np.clip(i32, 0, 65535).astype(np.uint16).view(np.int16).astype(np.int64)
        return np.clip(v, 0, 255).astype(np.uint8)
    info = np.iinfo(d)
    return np.clip(i32, info.min, info.max).astype(np.dtype(d))


def _real(a, s, d, simd=None, s_key=None):
    """Real (or bool/int) array of TF dtype s -> real dtype d (no complex here)."""
    s_key = s_key or s
    if s == d:
        return a.copy()
    if d == "bool":
        if s in ("float16", "bfloat16"):
            return (_uint_view(a) & np.uint16(0x7FFF)) != 0
        if s in ("float32", "float64"):
            return _daz(a) != 0
        return a != 0
    if s == "bool" or s in _INTS:
        if d in _INTS or d in ("float32", "float64"):
            return a.astype(np.dtype(d))
        f = a.astype(np.float32)
        return _f32_to_f16(f) if d == "float16" else _f32_to_bf16(f)
    # s is a float type
    if d in _INTS:
        if s == "float16":
            xf = _f16_to_f32(a).astype(np.float64)
        elif s == "bfloat16":
            xf = _bf16_to_f32(a).astype(np.float64)
        else:
            xf = a.astype(np.float64)
        return _float_to_int(xf, d, simd, s_key)
    if d == "float64":
        if s == "float16":
            return _f16_to_f32(a).astype(np.float64)
        f = _bf16_to_f32(a) if s == "bfloat16" else a
        return _daz(f).astype(np.float64)
    if d == "float32":
        return _to_f32(a, s)
    if d == "float16":
        return _f32_to_f16(_to_f32(a, s))
    if d == "bfloat16":
        return _f32_to_bf16(_to_f32(a, s), simd)
    raise ValueError(f"no cast from {s} to {d}")


# --------------------------------------------------------------- which lanes are SIMD

def _simd_mask(n: int, s: str, d: str):
    """Boolean mask of the elements TF converts in SIMD lanes (see module doc)."""
    p, aligned = _SIMD[(s, d)]
    mask = np.zeros(n, bool)
    if aligned:
        mask[:n - n % p] = True
        return mask
    cost = (1.0 / 64 * 11) * _SIZE[s] + (1.0 / 64 * 11) * _SIZE[d] + 1.0
    for a, b in parallel_ranges(n, cost, INTRA_OP_THREADS):
        length = b - a
        mask[a:a + length - length % p] = True
    return mask


def parallel_ranges(n: int, cost_per_coeff: float, threads: int):
    """The [first, last) ranges Eigen's ThreadPoolDevice::parallelFor hands out (no alignment)."""
    if n <= 0:
        return []
    total = n * cost_per_coeff
    want = (total - 100000) / 100000 + 0.9
    nthreads = min(threads, max(1, int(want)))
    if n == 1 or threads == 1 or nthreads == 1:
        return [(0, n)]
    block_size_f = 1.0 / (cost_per_coeff / 40000)
    block_size = min(n, max(-(-n // (4 * threads)), int(block_size_f)))
    max_block_size = min(n, 2 * block_size)
    block_count = -(-n // block_size)
    max_eff = block_count / (-(-block_count // threads) * threads)
    prev = block_count
    while max_eff < 1.0 and prev > 1:
        coarser = -(-n // (prev - 1))
        if coarser > max_block_size:
            break
        count = -(-n // coarser)
        prev = count
        eff = count / (-(-count // threads) * threads)
        if eff + 0.01 >= max_eff:
            block_size, block_count = coarser, count
            max_eff = max(max_eff, eff)
    return [(k * block_size, min(n, (k + 1) * block_size)) for k in range(block_count)]
