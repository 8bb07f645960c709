"""Tiny x86-64 routines mapped executable with mmap and called through ctypes: the way to run
what numpy cannot express. Each is gcc -O1 -fPIC output of a few C lines (quoted per routine),
position-independent, without calls out except through a function pointer argument.

- libm loops (libm.py): `for (i...) out[i] = fn(in[i])` (and two-argument variants) between
  _mm_setcsr(old | 0x8040) and _mm_setcsr(old): glibc under FTZ|DAZ as in TF's threads.
- complex loops (cplx.py): glibc's cexpf/ctanhf/... and libgcc's __divsc3/__divdc3, under
  FTZ|DAZ too.
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

# cf1(fn, a, out, n) / cd1: out[i] = fn(a[i]) on float/double _Complex (cexpf, ctanhf, ...);
# cf4(fn, a, b, out, n) / cd4: out[i] = fn(re a, im a, re b, im b) (e.g. __divsc3; unused);
# all under FTZ|DAZ like the libm loops
COMPLEX_CODE = (
    "415741564155415455534883ec180fae5c240c448b7c240c4489f80d408000008944240c0fae54240c4885c97e3f4989"
    "fd4989f64889d54989ccbb00000000f3410f7e04de41ffd5660fd60424f30f100424f30f1144dd00f30f10442404f30f"
    "1144dd044883c3014939dc75d244897c240c0fae54240c4883c4185b5d415c415d415e415fc341574156415541545553"
    "4883ec180fae5c240c8b44240c894424080d408000008944240c0fae54240c4885c97e3f4989ff4989f44989d54989ce"
    "bd000000004889eb48c1e304f2410f10041cf2410f104c1c0841ffd7f2410f11441d00f2410f114c1d084883c5014939"
    "ee75d28b4424088944240c0fae54240c4883c4185b5d415c415d415e415fc3415741564155415455534883ec280fae5c"
    "241c8b44241c8944240c0d408000008944241c0fae54241c4d85c07e594989ff4889f54989d44989cd4d89c6bb000000"
    "00f30f1044dd00f3410f105cdc04f3410f1014dcf30f104cdd0441ffd7660fd6442410f30f10442410f3410f1144dd00"
    "f30f10442414f3410f1144dd044883c3014939de75bb8b44240c8944241c0fae54241c4883c4285b5d415c415d415e41"
    "5fc3415741564155415455534883ec180fae5c240c8b44240c894424080d408000008944240c0fae54240c4d85c07e51"
    "4989ff4989cd4d89c64889d54889f341bc00000000f20f1003f20f105d08f20f105500f20f104b0841ffd74c89e048c1"
    "e004f2410f11440500f2410f114c05084983c4014883c5104883c3104d39e675c48b4424088944240c0fae54240c4883"
    "c4185b5d415c415d415e415fc3"
)
COMPLEX_OFFSETS = {"cf1": 0x0, "cd1": 0x86, "cf4": 0x10F, "cd4": 0x1B2}

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
                _FUNCS.update(_map(COMPLEX_CODE, COMPLEX_OFFSETS,
                                   lambda n: 3 if n[2] == "1" else 4))
            except Exception:        # noqa: BLE001 - no executable memory here
                _FUNCS["failed"] = None
    return _FUNCS.get(name)
