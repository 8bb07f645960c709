"""Fused, multi-threaded FakeQuant kernels (numba), bit-identical to `blocks.kernels.fake_quant`.

One pass over the data: each input element is read once and each output element written once,
on all cores (`@njit(parallel=True, cache=True)`; no fastmath, so every step is IEEE float32 in
TF's order: DAZ on the inputs, clamp to the nudged range, `- nudged_min`, the flush of that
difference when the range is tiny (`Nudged.tiny_range`), `* inv_scale` or `/ scale`,
`- quant_zero`, `+ 0.5f`, `floor`, `* scale`; gradients `g * mask` with a real multiply, so NaN
and -0.0 come out as TF's). The work is cut into items of CHUNK elements (or blocks of
columns); the min/max sums are accumulated in float64 lanes per item (SUM_ROWS terms of a lane
are first added in float32: float64 conversions cost more than the rest of the gradient) and
the items' sums added in order, then rounded once to float32, so they do not depend on the
number of threads. A sum that comes out inf or NaN is redone with every term in float64.

Dispatch: the FakeQuant blocks declare these as their "fused" kernels, taken when `accepts(x)`
(numba installed and not disabled by BLOCKGRAPH_NO_FUSED=1, at least MIN_ELEMENTS elements).
`fused_forward(x, n, divide)`, `fused_backprop(gradients, x, n, reduce_axis=...)` and
`fused_masked(gradients, x, n)` take what `fake_quant.forward`/`backprop`/`masked_gradient` take
and return what they return, or None for what the kernels leave to numpy (a NaN in the nudged
range, shapes that would broadcast). numba is imported by the first call
that gets past those checks, never by importing this module, and compiled code is cached on
disk (`cache=True`): only the first large tensor ever pays the compilation.

Threads: numba's (NUMBA_NUM_THREADS), or BLOCKGRAPH_THREADS; with 1 the serial kernels run and
no thread pool is started. On a machine whose cores are busy with other processes, numba's
OpenMP layer may wait a scheduler slice for a worker: OMP_WAIT_POLICY=passive or
BLOCKGRAPH_THREADS=1 avoid that.
"""
from __future__ import annotations

import functools
import math
import os
import threading

import numpy as np

from . import buffers
from .jit import Jit

F32 = np.float32
F64 = np.float64
TINY = F32(np.finfo(np.float32).tiny)
HALF = F32(0.5)
ZERO = F32(0.0)
NZERO = F32(-0.0)
ONE = F32(1.0)

#: below this many elements the numpy path is used (no numba import, no thread start-up)
MIN_ELEMENTS = 1 << 16
#: elements per parallel work item; fixed, so the float64 partial sums (and hence the rounded
#: result) do not depend on the number of threads
CHUNK = 1 << 16
#: per-channel params are tiled to a period of at least this many elements (a multiple of C)
MIN_PERIOD = 256
#: float64 lanes of the scalar-range gradient sums (element i of a chunk adds to lane i % SUM_LANES)
SUM_LANES = 1024
#: terms of a sum lane first added in float32 before the float64 lane (1: every term in float64)
SUM_ROWS = 8
#: per-channel gradients with at least this many channels reduce column blocks of this width
COL_BLOCK = 1024

prange = range          # numba.prange in the parallel=True versions of the drivers
_atomic_add = None      # the numba intrinsic, in the jitted namespace only (see `jit`)

_LOCK = threading.Lock()    # one parallel kernel at a time (numba's workqueue is not thread-safe)


# ----------------------------------------------------------------- element helpers (jitted)

def _ftz(v):
    """DAZ: a float32 denormal reads as the zero of its sign (v * 0); NaN and the rest as is."""
    return v * ZERO if abs(v) < TINY else v


def _clamp(v, nmin, nmax):
    """np.maximum(np.minimum(v, nmax), nmin) for bounds that are not NaN: a NaN `v` stays
    (payload and all). Only the sign of a zero result may differ from numpy's (ties pick the
    other operand, so this is one minps/maxps): it never reaches the output, since the next
    step is `t - nmin`, and with nmin == 0 the zero then becomes `floor(±0 * inv - 0 + 0.5)`."""
    t = nmax if nmax < v else v
    return nmin if nmin > t else t


def _qdq(v, nmin, nmax, scale, inv, qz, divide, tiny):
    """One element of `fake_quant.forward`."""
    t = _clamp(v, nmin, nmax) - nmin
    if tiny:
        t = _ftz(t)
    if divide:
        t = t / scale
    else:
        t = t * inv
    t = t - qz
    t = t + HALF
    t = np.floor(t)
    return t * scale


# ----------------------------------------------------------------- chunk kernels (jitted)
# Each works on 0-based slices, so the compiler sees non-negative indices (no wrap-around
# selects, contiguous vector loads and stores).
# `daz`: flush denormal inputs. The dispatcher turns it off when it cannot change a result: in
# the forward when no nudged min is 0 or tiny (then `d - nmin == 0 - nmin` for any denormal d,
# and d and 0 clamp alike), in the gradient when no nudged min or max is 0 (then d and 0
# compare alike with every bound).
# The gradient masks are `one`/`nil` (1.0f/0.0f) passed at run time, so the compiler cannot
# fold `g * 1.0f` into `g`: the real multiply quiets a signalling NaN as TF's and numpy's do.

def _fwd_chunk(x, out, nmin, nmax, scale, inv, qz, divide, tiny, daz):
    for i in range(x.size):
        v = _ftz(x[i]) if daz else x[i]
        out[i] = _qdq(v, nmin, nmax, scale, inv, qz, divide, tiny)


def _fwd_channel_chunk(x, out, nmin, nmax, scale, inv, qz, divide, tiny, daz):
    """x/out and the (tiled) params are aligned slices of the same length."""
    for k in range(x.size):
        v = _ftz(x[k]) if daz else x[k]
        out[k] = _qdq(v, nmin[k], nmax[k], scale[k], inv[k], qz[k], divide, tiny)


def _level(v, nmin, inv, q, span):
    """The quantized level of `v`, clamped to [0 - q, span - q] instead of clamping `v`: every
    step is monotonic, so an input below nmin gets a level <= -qz and one above nmax a level
    >= span - qz, the levels TF computes for nmin and nmax (`0 - qz` is +0 when qz is 0, as
    TF's `floor(0 * inv - 0 + 0.5)`); NaN goes through. The same bits as clamping the input,
    for ranges `_Range.levels` admits."""
    t = np.floor(((v - nmin) * inv - q) + HALF)
    lo = ZERO - q
    hi = span - q
    t = lo if lo > t else t
    return hi if hi < t else t


def _fwd_level_chunk(x, out, nmin, inv, qz, scale, span, daz):
    """Per-channel forward by `_level`: one parameter stream fewer than `_fwd_channel_chunk`
    (the loads bound it)."""
    for k in range(x.size):
        v = _ftz(x[k]) if daz else x[k]
        out[k] = _level(v, nmin[k], inv[k], qz[k], span) * scale[k]


def _fwd_level_pair(x, out, x1, out1, nmin, inv, qz, scale, span, daz):
    """`_fwd_level_chunk` on two slices over the same channels (two rows), loading the
    parameters once for both."""
    for k in range(x.size):
        a = nmin[k]
        s = inv[k]
        q = qz[k]
        f = scale[k]
        v = _ftz(x[k]) if daz else x[k]
        w = _ftz(x1[k]) if daz else x1[k]
        out[k] = _level(v, a, s, q, span) * f
        out1[k] = _level(w, a, s, q, span) * f


def _bwd_chunk(g, x, out, nmin, nmax, lo, hi, one, nil, daz):
    """Scalar-range gradient of a slice of at most len(lo) elements; element k's terms are
    added to lanes lo[k], hi[k] (independent lanes, so the loop vectorizes; scalar accumulators
    would make a serial chain of adds). float64 lanes add every term exactly; float32 lanes
    hold partial sums of a few terms, flushed by `_flush`."""
    for k in range(x.size):
        gv = _ftz(g[k])
        v = _ftz(x[k]) if daz else x[k]
        out[k] = gv * (one if (v >= nmin and v <= nmax) else nil)
        lo[k] += gv * (one if v < nmin else nil)
        hi[k] += gv * (one if v > nmax else nil)


def _flush(lo32, hi32, lo, hi):
    """Add float32 partial sums to float64 lanes and clear them."""
    for k in range(lo32.size):
        lo[k] += np.float64(lo32[k])
        hi[k] += np.float64(hi32[k])
        lo32[k] = 0
        hi32[k] = 0


def _mask_chunk(g, x, out, nmin, nmax, one, nil, daz):
    """The input gradient alone (FakeQuantWithMinMaxArgsGradient has no min/max outputs)."""
    for k in range(x.size):
        gv = _ftz(g[k])
        v = _ftz(x[k]) if daz else x[k]
        out[k] = gv * (one if (v >= nmin and v <= nmax) else nil)


def _bwd_channel_pair32(g, x, out, g1, x1, out1, nmin, nmax, lo, hi, one, nil, daz):
    """`_bwd_channel_chunk` (float32 lanes) on two slices over the same channels (two rows): the parameters
    and the float32 lanes are loaded once for both, and their two terms are added together
    before the lane (which thus gets two terms per call)."""
    for k in range(x.size):
        a = nmin[k]
        b = nmax[k]
        gv = _ftz(g[k])
        v = _ftz(x[k]) if daz else x[k]
        gw = _ftz(g1[k])
        w = _ftz(x1[k]) if daz else x1[k]
        out[k] = gv * (one if (v >= a and v <= b) else nil)
        out1[k] = gw * (one if (w >= a and w <= b) else nil)
        lo[k] += gv * (one if v < a else nil) + gw * (one if w < a else nil)
        hi[k] += gv * (one if v > b else nil) + gw * (one if w > b else nil)


def _bwd_channel_chunk(g, x, out, nmin, nmax, lo, hi, one, nil, daz):
    """Per-channel gradient of aligned slices (params and lanes lo/hi: float64 or float32, as
    in `_bwd_chunk`)."""
    for k in range(x.size):
        gv = _ftz(g[k])
        v = _ftz(x[k]) if daz else x[k]
        a = nmin[k]
        b = nmax[k]
        out[k] = gv * (one if (v >= a and v <= b) else nil)
        lo[k] += gv * (one if v < a else nil)
        hi[k] += gv * (one if v > b else nil)


# ----------------------------------------------------------------- drivers (jitted)
# A driver runs its loop iterations c0 <= k < c1. With an empty `counter` (the single-threaded
# call) iteration k does work item k: a chunk of `chunk` elements, or a block of columns.
# Otherwise (the parallel=True version, a prange over one iteration per thread) iteration k is
# a worker that claims items with atomic fetch-adds until none are left (`_claim`: first in
# order from its own contiguous range of items, so the threads write separate pages, then what
# is left of the other ranges). numba's threading layers split a prange statically; claiming
# makes it dynamic: a worker that starts late, or whose core is busy with another process,
# just does fewer items. Every item writes its own part of the outputs and partial sums, so
# the results do not depend on which thread did what.

def _claim(counter, who):
    """The next item for thread `who`, or -1 when none is left. counter holds [next, end] of
    each thread's range of items: a thread takes the items of its own range in order, then
    those left in the other ranges."""
    threads = counter.size // 2
    for d in range(threads):
        u = (who + d) % threads
        c = _atomic_add(counter, 2 * u, 1)
        if c < counter[2 * u + 1]:
            return c
    return -1


def _first(counter, k):
    return _claim(counter, k) if counter.size else k


def _next(counter, k):
    return _claim(counter, k) if counter.size else -1


def _fwd_scalar(x, out, nmin, nmax, scale, inv, qz, divide, tiny, daz, chunk, counter, c0, c1):
    n = x.size
    for k in prange(c0, c1):
        c = _first(counter, k)
        while c >= 0:
            s = c * chunk
            e = min(n, s + chunk)
            _fwd_chunk(x[s:e], out[s:e], nmin, nmax, scale, inv, qz, divide, tiny, daz)
            c = _next(counter, k)


def _fwd_channel(x, out, nmin, nmax, scale, inv, qz, divide, tiny, daz, chunk, counter, c0, c1):
    """Per-channel forward on the flat array; params are tiled to a period L = len(nmin) that is
    a multiple of the channel count, so element i uses params[i % L]."""
    n = x.size
    period = nmin.size
    for k in prange(c0, c1):
        c = _first(counter, k)
        while c >= 0:
            e = min(n, c * chunk + chunk)
            i = c * chunk
            while i < e:
                p = i % period
                m = min(e - i, period - p)
                _fwd_channel_chunk(x[i:i + m], out[i:i + m], nmin[p:p + m], nmax[p:p + m],
                                   scale[p:p + m], inv[p:p + m], qz[p:p + m], divide, tiny,
                                   daz)
                i += m
            c = _next(counter, k)


def _fwd_level(x, out, nmin, inv, qz, scale, span, daz, chunk, counter, c0, c1):
    """`_fwd_channel` with `_fwd_level_chunk` (params tiled the same way); whole periods two at
    a time (`_fwd_level_pair`)."""
    n = x.size
    period = nmin.size
    for k in prange(c0, c1):
        c = _first(counter, k)
        while c >= 0:
            e = min(n, c * chunk + chunk)
            i = c * chunk
            while i < e:
                p = i % period
                if p == 0 and i + 2 * period <= e:
                    j = i + period
                    _fwd_level_pair(x[i:j], out[i:j], x[j:j + period], out[j:j + period], nmin,
                                    inv, qz, scale, span, daz)
                    i += 2 * period
                    continue
                m = min(e - i, period - p)
                _fwd_level_chunk(x[i:i + m], out[i:i + m], nmin[p:p + m], inv[p:p + m],
                                 qz[p:p + m], scale[p:p + m], span, daz)
                i += m
            c = _next(counter, k)


def _bwd_scalar(g, x, out, nmin, nmax, lanes, rows, sums, one, nil, daz, chunk, counter, c0,
                c1):
    """Scalar-range gradient; sums[c] = (sum of g*below, sum of g*above) over chunk c in
    float64: element s + i of the chunk goes to lane i % lanes; the lanes are added in order.
    rows == 1: every term is added in float64; rows > 1: `rows` terms of a lane are first added
    in float32 (error at most (rows - 1) * 2^-24 * the sum of their magnitudes)."""
    n = x.size
    for k in prange(c0, c1):
        c = _first(counter, k)
        while c >= 0:
            s = c * chunk
            e = min(n, s + chunk)
            lo = np.zeros(lanes, np.float64)
            hi = np.zeros(lanes, np.float64)
            lo32 = np.zeros(lanes, np.float32)
            hi32 = np.zeros(lanes, np.float32)
            t = 0
            for i in range(s, e, lanes):
                j = min(e, i + lanes)
                if rows == 1:
                    _bwd_chunk(g[i:j], x[i:j], out[i:j], nmin, nmax, lo, hi, one, nil, daz)
                else:
                    _bwd_chunk(g[i:j], x[i:j], out[i:j], nmin, nmax, lo32, hi32, one, nil, daz)
                    t += 1
                    if t == rows:
                        _flush(lo32, hi32, lo, hi)
                        t = 0
            if t:
                _flush(lo32, hi32, lo, hi)
            a = 0.0
            b = 0.0
            for lane in range(lanes):
                a += lo[lane]
                b += hi[lane]
            sums[c, 0, 0] = a
            sums[c, 1, 0] = b
            c = _next(counter, k)


def _mask_scalar(g, x, out, nmin, nmax, one, nil, daz, chunk, counter, c0, c1):
    n = x.size
    for k in prange(c0, c1):
        c = _first(counter, k)
        while c >= 0:
            s = c * chunk
            e = min(n, s + chunk)
            _mask_chunk(g[s:e], x[s:e], out[s:e], nmin, nmax, one, nil, daz)
            c = _next(counter, k)


def _bwd_channel_tiled(g, x, out, nmin, nmax, acc, rows, one, nil, daz, chunk, counter, c0, c1):
    """Per-channel gradient for few channels: params tiled to period L (a multiple of C);
    acc[c, 0|1, j] accumulates chunk c's terms of tiled position j (folded to channels later).
    rows == 1: every term goes to acc in float64. rows > 1: float32 lanes take at most `rows`
    terms before they are flushed into acc; whole periods go two at a time (one term from
    each per lane and call), the partial periods at the ends one at a time."""
    n = x.size
    period = nmin.size
    for k in prange(c0, c1):
        c = _first(counter, k)
        while c >= 0:
            e = min(n, c * chunk + chunk)
            lo = acc[c, 0]
            hi = acc[c, 1]
            i = c * chunk
            if rows == 1:
                while i < e:
                    p = i % period
                    m = min(e - i, period - p)
                    _bwd_channel_chunk(g[i:i + m], x[i:i + m], out[i:i + m], nmin[p:p + m],
                                       nmax[p:p + m], lo[p:p + m], hi[p:p + m], one, nil, daz)
                    i += m
            else:
                lo32 = np.zeros(period, np.float32)
                hi32 = np.zeros(period, np.float32)
                t = 0
                while i < e:
                    p = i % period
                    if p == 0 and i + 2 * period <= e:
                        if t + 2 > rows:
                            _flush(lo32, hi32, lo, hi)
                            t = 0
                        j = i + period
                        _bwd_channel_pair32(g[i:j], x[i:j], out[i:j], g[j:j + period],
                                            x[j:j + period], out[j:j + period], nmin, nmax,
                                            lo32, hi32, one, nil, daz)
                        t += 2
                        i += 2 * period
                        continue
                    m = min(e - i, period - p)
                    if t + 1 > rows:
                        _flush(lo32, hi32, lo, hi)
                        t = 0
                    _bwd_channel_chunk(g[i:i + m], x[i:i + m], out[i:i + m], nmin[p:p + m],
                                       nmax[p:p + m], lo32[p:p + m], hi32[p:p + m], one, nil,
                                       daz)
                    t += 1
                    i += m
                if t:
                    _flush(lo32, hi32, lo, hi)
            c = _next(counter, k)


def _bwd_channel_cols(g, x, out, nmin, nmax, acc, smin, smax, rows, one, nil, daz, width,
                      rows_per, counter, c0, c1):
    """Per-channel gradient for many channels on (R, C) arrays. Work item i covers the columns
    of block i % nb (`width` wide) in the rows of block i // nb (`rows_per` rows). With an empty
    `acc` (a single row block) each column's R terms are summed in float64 and rounded once
    into smin/smax; otherwise they are summed into acc[row block, 0|1, column] (float64) and
    the caller adds the row blocks. rows > 1: float32 partials of `rows` rows, as above."""
    nrows, cols = x.shape
    nb = (cols + width - 1) // width
    for k in prange(c0, c1):
        i = _first(counter, k)
        while i >= 0:
            j0 = (i % nb) * width
            j1 = min(cols, j0 + width)
            r0 = (i // nb) * rows_per
            r1 = min(nrows, r0 + rows_per)
            if acc.shape[0] == 0:
                lo = np.zeros(j1 - j0, np.float64)
                hi = np.zeros(j1 - j0, np.float64)
            else:
                lo = acc[i // nb, 0, j0:j1]
                hi = acc[i // nb, 1, j0:j1]
            if rows == 1:
                for r in range(r0, r1):
                    _bwd_channel_chunk(g[r, j0:j1], x[r, j0:j1], out[r, j0:j1], nmin[j0:j1],
                                       nmax[j0:j1], lo, hi, one, nil, daz)
            else:
                lo32 = np.zeros(j1 - j0, np.float32)
                hi32 = np.zeros(j1 - j0, np.float32)
                t = 0
                r = r0
                while r < r1:
                    if t + 2 > rows:
                        _flush(lo32, hi32, lo, hi)
                        t = 0
                    if r + 1 < r1:    # two rows at a time, as in _bwd_channel_tiled
                        _bwd_channel_pair32(g[r, j0:j1], x[r, j0:j1], out[r, j0:j1],
                                            g[r + 1, j0:j1], x[r + 1, j0:j1], out[r + 1, j0:j1],
                                            nmin[j0:j1], nmax[j0:j1], lo32, hi32, one, nil, daz)
                        t += 2
                        r += 2
                    else:
                        _bwd_channel_chunk(g[r, j0:j1], x[r, j0:j1], out[r, j0:j1],
                                           nmin[j0:j1], nmax[j0:j1], lo32, hi32, one, nil, daz)
                        t += 1
                        r += 1
                if t:
                    _flush(lo32, hi32, lo, hi)
            if acc.shape[0] == 0:
                sa = smin[j0:j1]
                sb = smax[j0:j1]
                for j in range(j1 - j0):
                    sa[j] = np.float32(lo[j])
                    sb[j] = np.float32(hi[j])
            i = _next(counter, k)


def _fold(acc, c):
    """Float32 sums (2, c) of float64 partial sums acc (items, 2, L), L a multiple of c:
    out[s, j] = the sum over items i and positions p = j (mod c) of acc[i, s, p], added in
    that fixed order in float64 and rounded once (inf - inf is NaN, as in numpy's sum)."""
    tot = np.zeros((2, c), np.float64)
    for i in range(acc.shape[0]):
        for s in range(2):
            t = tot[s]
            for b in range(0, acc.shape[2], c):
                a = acc[i, s, b:b + c]
                for j in range(c):
                    t[j] += a[j]
    return tot.astype(np.float32)


_HELPERS = ("_ftz", "_clamp", "_qdq", "_claim", "_first", "_next", "_fwd_chunk",
            "_fwd_channel_chunk", "_level", "_fwd_level_chunk", "_fwd_level_pair", "_bwd_chunk",
            "_flush", "_mask_chunk", "_bwd_channel_chunk", "_bwd_channel_pair32")
_KERNELS = ("_fwd_scalar", "_fwd_channel", "_fwd_level", "_bwd_scalar", "_mask_scalar",
            "_bwd_channel_tiled", "_bwd_channel_cols")
#: the jitted kernels (compiled on first use; see `jit`)
_JIT = Jit(globals(), _HELPERS, _KERNELS, serial_only=("_fold",),
           extra=lambda: {"_atomic_add": _atomic_add_intrinsic()})


def _load() -> bool:
    """Import numba and jit the kernels (once); False when numba is unavailable or disabled."""
    return _JIT.load()


def _atomic_add_intrinsic():
    """A numba intrinsic `_atomic_add(a, i, v)` on a 1-d int64 array: a[i] += v atomically,
    returning the old value."""
    from numba import types as nt
    from numba.core import cgutils
    from numba.extending import intrinsic

    @intrinsic
    def _atomic_add(typingctx, a, i, v):
        if not (isinstance(a, nt.Array) and a.dtype == nt.int64 and a.ndim == 1
                and isinstance(i, nt.Integer) and isinstance(v, nt.Integer)):
            return None

        def codegen(context, builder, sig, args):
            ary = context.make_array(sig.args[0])(context, builder, args[0])
            ptr = cgutils.get_item_pointer(context, builder, sig.args[0], ary, [args[1]])
            val = context.cast(builder, args[2], sig.args[2], nt.int64)
            return builder.atomic_rmw("add", ptr, val, "monotonic")
        return nt.int64(a, i, v), codegen

    return _atomic_add


def _threads() -> int:
    """Threads for a kernel: BLOCKGRAPH_THREADS, else numba's thread count (NUMBA_NUM_THREADS)."""
    env = os.environ.get("BLOCKGRAPH_THREADS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return _JIT.threads


_NO_COUNTER = np.zeros(0, np.int64)


def _ranges(threads: int, items: int):
    """The counter of a parallel run: [next, end] of each thread's contiguous range of items
    (a fresh copy: the kernel advances it)."""
    return _range_template(threads, items).copy()


@functools.lru_cache(maxsize=256)
def _range_template(threads: int, items: int):
    bounds = np.arange(threads + 1, dtype=np.int64) * items // threads
    counter = np.empty(2 * threads, np.int64)
    counter[0::2], counter[1::2] = bounds[:-1], bounds[1:]
    counter.flags.writeable = False
    return counter


def _run(name, args, items):
    """Run kernel `name` with `args` on work items 0..items-1: on one thread, or with the
    parallel=True version, one prange iteration per thread, each claiming items."""
    nthreads = min(_threads(), items)
    if nthreads <= 1:
        _JIT.serial[name](*args, _NO_COUNTER, 0, items)
        return
    with _LOCK:   # one parallel kernel at a time (numba's workqueue layer is not thread-safe)
        _JIT.parallel[name](*args, _ranges(nthreads, items), 0, nthreads)


def available() -> bool:
    """True when the fused kernels can run (imports numba)."""
    return _load()


# ----------------------------------------------------------------- dispatch

class _Range:
    """What the kernels need of a `Nudged` range, worked out once and kept on it (`nudged()`
    memoises ranges, so a range that runs again skips all of this)."""

    def __init__(self, n):
        p = [np.asarray(a, F32) for a in (n.min, n.max, n.scale, n.inv_scale, n.quant_zero)]
        used = ~np.asarray(n.both_zero, np.bool_)
        #: 0 for a scalar range, else the channel count
        self.channels = p[0].size if p[0].ndim == 1 else 0
        self.used, self.all_used = used, bool(used.all())
        self.both_zero = not self.channels and not self.all_used
        # a NaN that matters is left to numpy (whose NaN payload order with two NaN operands
        # the kernels do not promise to follow); so are ranges whose shapes would broadcast
        self.ok = (all(a.shape == p[0].shape for a in p) and used.shape == p[0].shape
                   and p[0].ndim <= 1 and not any((np.isnan(a) & used).any() for a in p))
        self.p = p
        self.scalars = tuple(F32(a) for a in p) if not self.channels else None
        self.tiny = bool(n.tiny_range)
        self.fwd_daz = self.tiny or bool(np.any((p[0] == 0) & used))
        self.bwd_daz = bool(np.any(((p[0] == 0) | (p[1] == 0)) & used))
        self._cache = {}

    def tiled(self, count: int):
        """The first `count` params tiled to a period (a multiple of the channel count)."""
        key = (count, MIN_PERIOD)
        if key not in self._cache:
            self._cache[key] = [self._tile(a) for a in self.p[:count]]
        return self._cache[key]

    def _tile(self, a):
        c = self.channels
        return np.ascontiguousarray(np.tile(a, c * -(-MIN_PERIOD // c) // c))

    def levels(self, divide: bool):
        """(nmin, inv, qz, scale tiled, span) for `_fwd_level`, or None when the level clamp
        might not give TF's bits: dividing (Vars), a tiny range, an inverse scale or scale
        that is not finite and positive, or channels whose top level is not the same
        span - qz (span = quant_max - quant_min, checked as TF computes the level of nmax)."""
        key = ("levels", MIN_PERIOD)
        if key not in self._cache:
            self._cache[key] = None if divide or self.tiny else self._levels()
        return self._cache[key]

    def _levels(self):
        nmin, nmax, scale, inv, qz = (np.where(self.used, a, F32(v)).astype(F32) for a, v in
                                      zip(self.p, (0, 1, 1, 1, 0)))   # unused: zeroed later
        if not (np.all(np.isfinite(inv) & (inv > 0)) and np.all(np.isfinite(scale) & (scale > 0))):
            return None
        with np.errstate(all="ignore"):
            top = np.floor((nmax - nmin) * inv - qz + HALF).astype(F32)
            spans = np.unique((top + qz)[self.used])
        if spans.size > 1 or not np.all(np.isfinite(spans)):
            return None
        span = F32(spans[0]) if spans.size else F32(1)
        return [self._tile(a) for a in (nmin, inv, qz, scale)], span


def accepts(x) -> bool:
    """Whether the fused kernels take a tensor like `x`: big enough, not 0-d, numba available."""
    return np.size(x) >= MIN_ELEMENTS and np.ndim(x) > 0 and _load()


def _range_for(x, n, per_channel: bool):
    """The `_Range` of `n` when the kernels take this call, else None (small tensor, no numba,
    a NaN range, channel count unlike x's last dimension)."""
    if np.size(x) < MIN_ELEMENTS or np.ndim(x) == 0 or not _load():
        return None
    r = n.__dict__.get("_fused")
    if r is None:
        r = n._fused = _Range(n)
    if not r.ok or r.channels != (np.shape(x)[-1] if per_channel else 0):
        return None
    return r


def _flat(a):
    """A C-contiguous float32 view (or copy) of `a`."""
    return np.ascontiguousarray(a, dtype=F32)


def fused_forward(x, n, divide: bool):
    """`fake_quant.forward(x, n, divide)` by a fused kernel, or None (use the numpy path)."""
    r = _range_for(x, n, np.ndim(n.min) == 1)
    if r is None:
        return None
    if r.both_zero:
        return np.zeros(np.shape(x), F32)
    xs = _flat(x)
    out = buffers.empty(xs.shape)
    items = -(-xs.size // CHUNK)
    if not r.channels:
        _run("_fwd_scalar", (xs.reshape(-1), out.reshape(-1), *r.scalars, bool(divide), r.tiny,
                             r.fwd_daz, CHUNK), items)
        return out
    levels = r.levels(bool(divide))
    if levels is not None:
        _run("_fwd_level", (xs.reshape(-1), out.reshape(-1), *levels[0], levels[1], r.fwd_daz,
                            CHUNK), items)
    else:
        _run("_fwd_channel", (xs.reshape(-1), out.reshape(-1), *r.tiled(5), bool(divide),
                              r.tiny, r.fwd_daz, CHUNK), items)
    if not r.all_used:
        out.reshape(-1, r.channels)[:, ~r.used] = ZERO
    return out


def fused_masked(gradients, x, n):
    """`fake_quant.masked_gradient(gradients, x, n)` (scalar range) by a fused kernel, or None."""
    r = None if np.shape(gradients) != np.shape(x) else _range_for(x, n, False)
    if r is None:
        return None
    if r.both_zero:
        return np.array(gradients, F32, order="C")
    gs, xs = _flat(gradients), _flat(x)
    out = buffers.empty(xs.shape)
    _run("_mask_scalar", (gs.reshape(-1), xs.reshape(-1), out.reshape(-1), *r.scalars[:2], ONE,
                          ZERO, r.bwd_daz, CHUNK), -(-xs.size // CHUNK))
    return out


def fused_backprop(gradients, x, n, *, reduce_axis=None):
    """`fake_quant.backprop(...)` by a fused kernel, or None (use the numpy path)."""
    ch = reduce_axis is not None
    if ch != (np.ndim(n.min) == 1) or np.shape(gradients) != np.shape(x):
        return None
    r = _range_for(x, n, ch)
    if r is None:
        return None
    if r.both_zero:
        return np.array(gradients, F32, order="C"), np.asarray(ZERO), np.asarray(ZERO)
    gs, xs = _flat(gradients), _flat(x)
    out = buffers.empty(xs.shape)
    smin, smax = _backprop_into(gs, xs, out, r, ch, SUM_ROWS)
    if SUM_ROWS > 1 and not _finite(smin, smax):
        # a float32 partial may overflow where float64 would not, and inf/NaN terms must come
        # out exactly as numpy's sum has them: redo it with every term added in float64
        smin, smax = _backprop_into(gs, xs, out, r, ch, 1)
    if not ch:
        return out, smin.reshape(()), smax.reshape(())
    return out, smin, smax


def _finite(a, b) -> bool:
    if a.size == 1:
        return math.isfinite(a[0]) and math.isfinite(b[0])
    return bool(np.isfinite(a).all() and np.isfinite(b).all())


def _backprop_into(gs, xs, out, r, ch: bool, rows: int):
    """Run the gradient kernel into `out`; (wrt_min, wrt_max) as float32 arrays ((1,) for a
    scalar range), with min == max == 0 channels set (raw gradients, zero sums)."""
    size = xs.size
    if not ch:
        items = -(-size // CHUNK)
        sums = np.empty((items, 2, 1), F64)
        _run("_bwd_scalar", (gs.reshape(-1), xs.reshape(-1), out.reshape(-1), *r.scalars[:2],
                             SUM_LANES, rows, sums, ONE, ZERO, r.bwd_daz, CHUNK), items)
        total = _JIT.serial["_fold"](sums, 1)
        return total[0], total[1]
    c = r.channels
    lo, hi = r.p[:2]
    if c >= COL_BLOCK:
        nrows = size // c
        rows_per = max(1, CHUNK // COL_BLOCK)
        nb = -(-c // COL_BLOCK)
        if nrows <= rows_per:    # few rows: each column block sums its column directly
            acc, rows_per = np.zeros((0, 2, 0), F64), nrows
        else:                    # float64 partial sums per row block: size * 16 / rows_per bytes
            acc = np.zeros((-(-nrows // rows_per), 2, c), F64)
        smin, smax = np.empty(c, F32), np.empty(c, F32)
        _run("_bwd_channel_cols", (gs.reshape(-1, c), xs.reshape(-1, c), out.reshape(-1, c),
                                   lo, hi, acc, smin, smax, rows, ONE, ZERO, r.bwd_daz, COL_BLOCK,
                                   rows_per), nb * -(-nrows // rows_per))
        if acc.shape[0]:
            smin, smax = _JIT.serial["_fold"](acc, c)
    else:
        items = -(-size // CHUNK)
        tlo, thi = r.tiled(2)
        acc = np.zeros((items, 2, tlo.size), F64)
        _run("_bwd_channel_tiled", (gs.reshape(-1), xs.reshape(-1), out.reshape(-1), tlo, thi,
                                    acc, rows, ONE, ZERO, r.bwd_daz, CHUNK), items)
        smin, smax = _JIT.serial["_fold"](acc, c)
    if not r.all_used:   # min == max == 0: gradients pass through raw, sums are 0
        unused = ~r.used
        out.reshape(-1, c)[:, unused] = gs.reshape(-1, c)[:, unused]
        smin[unused] = ZERO
        smax[unused] = ZERO
    return smin, smax
