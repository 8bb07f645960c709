"""Tiny x86-64 routines mapped executable with mmap and called through ctypes: the way to run
what numpy cannot express. Each is gcc -O1 -fPIC output of a few C lines (quoted per routine),
position-independent, without calls out except through a function pointer argument.

- libm loops (libm.py): `for (i...) out[i] = fn(in[i])` (and two-argument variants) between
  _mm_setcsr(old | 0x8040) and _mm_setcsr(old): glibc under FTZ|DAZ as in TF's threads.
- rcpps / rsqrtps loops (approx.py): `_mm_storeu_ps(o + i, _mm_rcp_ps(_mm_loadu_ps(a + i)))`,
  four floats a step: the CPU's own approximations.

`routine(name)` is None where executable memory is refused (then callers use their numpy
fallbacks).
"""
from __future__ import annotations

import ctypes
import threading

# f1(fn, a, out, n), f2(fn, a, b, out, n), d1, d2: the FTZ|DAZ libm loops
LIBM_CODE = (
    "415741564155415455534883ec180fae5c240c448b7c240c4489f80d408000008944240c0fae54240c4885c97e2a4989"
    "fc4989f54989d64889cdbb00000000f3410f10449d0041ffd4f3410f11049e4883c3014839dd75e744897c240c0fae54"
    "240c4883c4185b5d415c415d415e415fc3415741564155415455534883ec180fae5c240c8b44240c894424080d408000"
    "008944240c0fae54240c4d85c07e334989fc4989f54989d64989cf4c89c5bb00000000f3410f10449d00f3410f100c9e"
    "41ffd4f3410f11049f4883c3014839dd75e18b4424088944240c0fae54240c4883c4185b5d415c415d415e415fc34157"
    "41564155415455534883ec180fae5c240c448b7c240c4489f80d408000008944240c0fae54240c4885c97e2a4989fc49"
    "89f54989d64889cdbb00000000f2410f1044dd0041ffd4f2410f1104de4883c3014839dd75e744897c240c0fae54240c"
    "4883c4185b5d415c415d415e415fc3415741564155415455534883ec180fae5c240c8b44240c894424080d4080000089"
    "44240c0fae54240c4d85c07e334989fc4989f54989d64989cf4c89c5bb00000000f2410f1044dd00f2410f100cde41ff"
    "d4f2410f1104df4883c3014839dd75e18b4424088944240c0fae54240c4883c4185b5d415c415d415e415fc3"
)
LIBM_OFFSETS = {"f1": 0x0, "f2": 0x71, "d1": 0xEE, "d2": 0x15F}
# rcp4(a, out, n), rsqrt4(a, out, n): n a multiple of 4
APPROX_CODE = (
    "4885d27e19b8000000000f100c870f53c10f1104864883c0044839c27fecc3"
    "4885d27e19b8000000000f100c870f52c10f1104864883c0044839c27fecc3",
)
APPROX_OFFSETS = {"rcp4": 0x0, "rsqrt4": 0x1F}

_LOCK = threading.Lock()
_FUNCS: dict = {}
_BUFS: list = []


def _map(code_hex, offsets, nargs):
    import mmap
    code = bytes.fromhex("".join(code_hex))
    buf = mmap.mmap(-1, len(code), prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    buf.write(code)
    _BUFS.append(buf)
    base = ctypes.addressof(ctypes.c_char.from_buffer(buf))
    vp, lg = ctypes.c_void_p, ctypes.c_long
    return {name: ctypes.CFUNCTYPE(None, *([vp] * nargs(name)), lg)(base + off)
            for name, off in offsets.items()}


def routine(name):
    """The ctypes function for routine `name` (see LIBM_OFFSETS, APPROX_OFFSETS), or None."""
    with _LOCK:
        if not _FUNCS:
            try:
                _FUNCS.update(_map(LIBM_CODE, LIBM_OFFSETS, lambda n: 3 if n[1] == "1" else 4))
                _FUNCS.update(_map(APPROX_CODE, APPROX_OFFSETS, lambda n: 2))
            except Exception:        # noqa: BLE001 - no executable memory here
                _FUNCS["failed"] = None
    return _FUNCS.get(name)
