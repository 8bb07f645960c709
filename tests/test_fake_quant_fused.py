"""The fused numba FakeQuant kernels (blocks/kernels/fake_quant_fused.py) against the numpy
reference path (blocks/kernels/fake_quant.py) and TF's fixtures: every non-sum output bit for
bit (NaN payloads, -0.0 and all), the min/max sums within 1e-5 * sum|terms| + 1e-6 with NaN and
infinities exactly where the numpy path has them (the sign of a NaN sum depends on the order of
the reduction: TF's and numpy's already differ on large tensors, so it is not compared).

The kernels are called directly (with the size threshold lowered and small chunks, so fixture
tensors go through them and every chunk/segment boundary is exercised). Skipped without numba.
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from fixture_cases import cases, load_set

pytest.importorskip("numba")

from blocks.kernels import fake_quant as fq  # noqa: E402
from blocks.kernels import fake_quant_fused as ff  # noqa: E402

F32 = np.float32
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def everywhere(monkeypatch):
    """Send every tensor, however small, through the fused kernels, in small chunks."""
    monkeypatch.setattr(ff, "MIN_ELEMENTS", 1)
    monkeypatch.setattr(ff, "CHUNK", 96)
    monkeypatch.setattr(ff, "MIN_PERIOD", 16)
    monkeypatch.setattr(ff, "SUM_LANES", 16)
    monkeypatch.setattr(ff, "COL_BLOCK", 40)
    assert ff.available()


def bits(a):
    return np.ascontiguousarray(np.asarray(a, F32)).view(np.uint32)


def assert_bits(got, want, what=""):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == np.float32 and got.shape == want.shape, (what, got.dtype, got.shape, want.shape)
    g, w = bits(got), bits(want)
    if not np.array_equal(g, w):
        i = int(np.flatnonzero(g.ravel() != w.ravel())[0])
        raise AssertionError(f"{what}: {(g != w).sum()}/{g.size} differ; first [{i}] got "
                             f"{hex(g.ravel()[i])} want {hex(w.ravel()[i])}")


def assert_sums(got, want, gradients, inputs, n, per_channel, what=""):
    """Within 1e-5 * sum|terms| + 1e-6 of the numpy path's; NaN/inf where it has them."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == np.float32 and got.shape == want.shape, (what, got.shape, want.shape)
    nan_g, nan_w = np.isnan(got), np.isnan(want)
    assert np.array_equal(nan_g, nan_w), (what, got, want)
    fin = ~nan_w
    inf = np.isinf(want) & fin
    assert np.array_equal(got[inf], want[inf]), (what, got, want)
    with np.errstate(all="ignore"):
        g = np.abs(fq.ftz(gradients).astype(np.float64))
        axes = tuple(range(g.ndim - 1)) if per_channel else None
        bound = np.nan_to_num(1e-5 * np.sum(g, axis=axes) + 1e-6, nan=np.inf)
    ok = fin & ~inf
    with np.errstate(all="ignore"):
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
    assert np.all(diff[ok] <= np.broadcast_to(bound, diff.shape)[ok]), (what, got, want)


def nan_range(n):
    """True when the nudged range has NaN outside the min == max == 0 ranges (the fused path
    leaves those to numpy)."""
    used = ~np.asarray(n.both_zero)
    return any((np.isnan(np.asarray(a, F32)) & used).any()
               for a in (n.min, n.max, n.scale, n.inv_scale, n.quant_zero))


def numpy_path(fn, *args, **kwargs):
    """`fn` (a `fake_quant` function) with the fused kernels out of the way: the reference."""
    saved = ff.MIN_ELEMENTS
    ff.MIN_ELEMENTS = sys.maxsize
    try:
        return fn(*args, **kwargs)
    finally:
        ff.MIN_ELEMENTS = saved


def check_forward(x, n, divide, what=""):
    want = numpy_path(fq.forward, x, n, divide)
    got = ff.fused_forward(x, n, divide)
    if got is None:
        assert nan_range(n) or np.ndim(x) == 0 or np.size(x) == 0, f"{what}: fused path declined"
        return want
    assert_bits(got, want, what)
    return got


def check_backprop(g, x, n, per_channel, what=""):
    want = numpy_path(fq.backprop, g, x, n, reduce_axis=-1 if per_channel else None)
    got = ff.fused_backprop(g, x, n, reduce_axis=-1 if per_channel else None)
    if got is None:
        assert nan_range(n) or np.ndim(x) == 0 or np.size(x) == 0, f"{what}: fused path declined"
        return want
    if not per_channel:   # the input gradient alone (ArgsGradient): the same bits
        assert_bits(numpy_path(fq.masked_gradient, g, x, n), want[0], what + " masked, numpy")
        assert_bits(ff.fused_masked(g, x, n), want[0], what + " masked")
    assert_bits(got[0], want[0], what + " wrt_input")
    assert_sums(got[1], want[1], g, x, n, per_channel, what + " wrt_min")
    assert_sums(got[2], want[2], g, x, n, per_channel, what + " wrt_max")
    return got


# ----------------------------------------------------------------- TF fixtures

FIXTURES = [pytest.param(c, id=c["id"]) for c in cases("fake_quant", lambda c: "expect_error" not in c)]


def _nudged(case, z):
    a = case["attrs"]
    if case["op"].startswith("FakeQuantWithMinMaxArgs"):
        return fq.Nudged(F32(a["min"]), F32(a["max"]), a["num_bits"], a["narrow_range"])
    return fq.Nudged(z[case["inputs"]["min"]], z[case["inputs"]["max"]], a["num_bits"],
                     a["narrow_range"])


@pytest.mark.parametrize("case", FIXTURES)
def test_fixture_case_fused(everywhere, case):
    """Each TF fixture case through the fused kernels: equal to the numpy path and to TF."""
    _, z = load_set("fake_quant")
    n = _nudged(case, z)
    x = z[case["inputs"]["inputs"]]
    op = case["op"]
    per_channel = "PerChannel" in op
    if op.endswith("Gradient"):
        g = z[case["inputs"]["gradients"]]
        got = check_backprop(g, x, n, per_channel, case["id"])
        outs = dict(zip(["backprops_wrt_input", "backprop_wrt_min", "backprop_wrt_max"], got))
        outs["backprops"] = got[0]
    else:
        outs = {"outputs": check_forward(x, n, op == "FakeQuantWithMinMaxVars", case["id"])}
    for out in case["outputs"]:
        exp = z[out["key"]]
        got = np.asarray(outs[out["port"]])
        assert got.shape == exp.shape
        if out["compare"] == "sum":
            d = np.abs(got.astype(np.float64) - exp.astype(np.float64))
            assert np.all(d <= np.asarray(out["atol"], np.float64)), (out["port"], got, exp)
        elif out["port"].startswith("backprop_wrt_"):
            # a non-finite sum: NaN where TF has NaN (the sign of a NaN sum follows the reduction
            # order, which neither path reproduces for large tensors), the rest bit for bit
            nan = np.isnan(exp)
            assert np.array_equal(np.isnan(got), nan), (out["port"], got, exp)
            assert_bits(got[~nan], exp[~nan], f"{case['id']} {out['port']} vs TF")
        else:
            assert_bits(got, exp, f"{case['id']} {out['port']} vs TF")


# ----------------------------------------------------------------- random tensors

SPECIAL = np.array([0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x007FFFFF, 0x807FFFFF,
                    0x00800000, 0x80800000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC00000,
                    0x7FC12345, 0xFFD00001, 0x7FA00001, 0xFF900002, 0x7F7FFFFF, 0xFF7FFFFF],
                   np.uint32).view(F32)


def special_tensor(rng, shape, n=None, scale=4.0):
    """Normal values, values on and next to the nudged bounds and the rounding midpoints, and
    NaN (quiet/signalling, payloads, both signs), infinities, denormals, signed zeros."""
    size = int(np.prod(shape))
    x = (rng.standard_normal(size) * scale).astype(F32)
    k = size // 8
    idx = rng.integers(0, size, k)
    x[idx] = SPECIAL[rng.integers(0, SPECIAL.size, k)]
    if n is not None:
        lo = np.broadcast_to(np.asarray(n.min, F32), shape).ravel()
        hi = np.broadcast_to(np.asarray(n.max, F32), shape).ravel()
        sc = np.broadcast_to(np.asarray(n.scale, F32), shape).ravel()
        with np.errstate(all="ignore"):
            for src in (lo, hi):
                i = rng.integers(0, size, k // 4)
                d = rng.integers(-2, 3, i.size).astype(F32)
                x[i] = np.nextafter(src[i], src[i] + d) if rng.random() < 0.5 else src[i]
            i = rng.integers(0, size, k // 2)
            q = rng.integers(-3, 300, i.size).astype(F32) + F32(0.5)
            x[i] = lo[i] + q * sc[i]            # midpoints of the rounding steps
            i = rng.integers(0, size, k // 4)
            x[i] = np.nextafter(x[i], np.where(rng.random(i.size) < 0.5, -np.inf, np.inf).astype(F32))
    return x.reshape(shape)


RANGES = [(-6.0, 6.0), (-3.1, 5.3), (0.0, 1.0), (-1.0, 0.0), (0.1, 7.9), (-7.9, -0.1),
          (-1e-31, 1e-31), (-2e-38, 3e-38), (-1e-40, 1e-40), (0.0, 0.0), (-0.0, 0.0), (1.0, 1.0),
          (5.0, -5.0), (-np.inf, 1.0), (-1.0, np.inf), (-3e38, 3e38), (-1e-20, 2.5e-20),
          (np.nan, 1.0), (-1.0, np.nan), (1e-45, 2e-45), (-1.7, 1.7), (-8e-31, 8e-31),
          (-1e-29, 3e-29), (0.0, 1e-35), (-1e-35, 0.0), (1e-30, 2e-30), (-2e-30, -1e-30)]
BITS = [(8, False), (8, True), (2, False), (4, True), (16, False), (13, True)]


@pytest.mark.parametrize("divide", [False, True], ids=["mul", "div"])
@pytest.mark.parametrize("rng_i", range(len(RANGES)), ids=lambda i: f"range{RANGES[i]}")
def test_scalar_range_random(everywhere, rng_i, divide):
    rng = np.random.default_rng(rng_i)
    lo, hi = RANGES[rng_i]
    for bits_, narrow in BITS:
        n = fq.Nudged(F32(lo), F32(hi), bits_, narrow)
        shape = [(1000,), (37, 29), (3, 5, 7, 11)][rng.integers(3)]
        x = special_tensor(rng, shape, n)
        g = special_tensor(rng, shape, scale=2.0)
        what = f"[{lo}, {hi}] bits={bits_} narrow={narrow} {shape}"
        check_forward(x, n, divide, what)
        if not divide:
            check_backprop(g, x, n, False, what)


@pytest.mark.parametrize("rank", [1, 2, 3, 4])
@pytest.mark.parametrize("channels", [1, 3, 16, 39, 40, 97])
def test_per_channel_random(everywhere, rank, channels):
    """Ranks 1-4; channel counts below and above the column-block width (40 here); some
    channels with min == max == 0, NaN, inf, min > max, tiny ranges."""
    rng = np.random.default_rng(rank * 100 + channels)
    lead = [(), (9,), (4, 5), (2, 3, 4)][rank - 1]
    shape = lead + (channels,)
    for bits_, narrow in BITS[:4]:
        for with_nan in (False, True):
            lo = (rng.standard_normal(channels) * 3).astype(F32)
            hi = (lo + np.abs(rng.standard_normal(channels)) * 4).astype(F32)
            picks = [(0.0, 0.0), (-0.0, 0.0), (1.0, 1.0), (5.0, -5.0), (-np.inf, 1.0), (-1e-31, 1e-31),
                     (-1e-40, 1e-40), (0.0, 1.0), (-1.0, 0.0)] + ([(np.nan, 1.0)] if with_nan else [])
            for c in rng.integers(0, channels, max(1, channels // 3)):
                lo[c], hi[c] = picks[rng.integers(len(picks))]
            n = fq.Nudged(lo, hi, bits_, narrow)
            x = special_tensor(rng, shape, n)
            g = special_tensor(rng, shape, scale=2.0)
            what = f"{shape} bits={bits_} narrow={narrow}"
            check_forward(x, n, False, what)
            check_backprop(g, x, n, True, what)


@pytest.mark.parametrize("bits_narrow", BITS, ids=lambda b: f"bits{b[0]}{'n' if b[1] else ''}")
def test_per_channel_level_clamp(everywhere, bits_narrow):
    """Ordinary per-channel ranges take the level-clamping kernel (`_fwd_level`), and it gives
    the numpy path's bits for inputs on, next to and far beyond the bounds, midpoints, NaN,
    infinities and denormals; ranges with min == 0 (denormal flush) and zero points at both
    ends included."""
    bits_, narrow = bits_narrow
    rng = np.random.default_rng(bits_)
    for c in (1, 5, 40, 97):
        lo = (rng.standard_normal(c) * 3).astype(F32)
        hi = (lo + np.abs(rng.standard_normal(c)) * 4 + F32(0.01)).astype(F32)
        lo[0], hi[0] = (0.0, 1.0) if c > 1 else (lo[0], hi[0])
        if c > 2:
            lo[1], hi[1] = -1.0, 0.0
        n = fq.Nudged(lo, hi, bits_, narrow)
        assert ff._Range(n).levels(False) is not None, "the level kernel declined"
        x = special_tensor(rng, (7, 11, c), n)
        x.reshape(-1)[::5] = np.repeat(np.array([-1e30, 1e30, -np.inf, np.inf, -0.0], F32),
                                       -(-x.size // 25))[:x.reshape(-1)[::5].size]
        check_forward(x, n, False, f"level clamp c={c}")


@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_thread_counts(everywhere, monkeypatch, threads):
    """One thread (the serial kernels) and the parallel kernels with 2 and 3 workers claiming
    items agree with numpy (the sums too: they are made per item, whoever runs it)."""
    monkeypatch.setenv("BLOCKGRAPH_THREADS", threads)
    rng = np.random.default_rng(11)
    for lo, hi in [(-3.1, 5.3), (0.0, 1.0), (-1e-31, 1e-31)]:
        n = fq.Nudged(F32(lo), F32(hi), 8, False)
        x = special_tensor(rng, (1000,), n)
        g = special_tensor(rng, (1000,), scale=2.0)
        check_forward(x, n, True, f"{threads} threads [{lo}, {hi}]")
        check_forward(x, n, False, f"{threads} threads [{lo}, {hi}]")
        got = check_backprop(g, x, n, False, f"{threads} threads [{lo}, {hi}]")
        monkeypatch.setenv("BLOCKGRAPH_THREADS", "1")
        again = ff.fused_backprop(g, x, n)
        monkeypatch.setenv("BLOCKGRAPH_THREADS", threads)
        assert_bits(got[1], again[1], "sums independent of the thread count")
    for c in (7, 97):
        lo = (rng.standard_normal(c) * 3).astype(F32)
        lo[0] = 0
        nc = fq.Nudged(lo, (lo + 5).astype(F32), 8, True)
        x = special_tensor(rng, (30, c), nc)
        g = special_tensor(rng, (30, c), scale=2.0)
        check_forward(x, nc, False, f"{threads} threads per-channel {c}")
        check_backprop(g, x, nc, True, f"{threads} threads per-channel {c}")


def test_concurrent_callers():
    """Several Python threads using the fused kernels at once get their own right results."""
    from concurrent.futures import ThreadPoolExecutor
    rng = np.random.default_rng(5)
    size = 2 * ff.CHUNK + 99
    jobs = []
    for k in range(6):
        n = fq.Nudged(F32(-1 - k), F32(2 + k), 8, bool(k % 2))
        jobs.append((special_tensor(rng, (size,), n), special_tensor(rng, (size,)), n))
    want = [(numpy_path(fq.forward, x, n, True), numpy_path(fq.backprop, g, x, n))
            for x, g, n in jobs]

    def run(job):
        x, g, n = job
        return ff.fused_forward(x, n, True), ff.fused_backprop(g, x, n)

    with ThreadPoolExecutor(4) as ex:
        got = list(ex.map(run, jobs * 3))
    for (f, b), (wf, wb), (x, g, n) in zip(got, want * 3, jobs * 3):
        assert_bits(f, wf, "concurrent forward")
        assert_bits(b[0], wb[0], "concurrent gradient")
        assert_sums(b[1], wb[1], g, x, n, False, "concurrent wrt_min")


def test_large_tensors_default_settings():
    """Tensors above the real threshold, default chunking: several chunks, all code paths."""
    rng = np.random.default_rng(7)
    size = 3 * ff.CHUNK + 12345
    n = fq.Nudged(F32(-2.5), F32(3.75), 8, False)
    x = special_tensor(rng, (size,), n)
    g = special_tensor(rng, (size,), scale=2.0)
    for divide in (False, True):
        got = ff.fused_forward(x, n, divide)
        assert got is not None
        assert_bits(got, numpy_path(fq.forward, x, n, divide), f"forward divide={divide}")
    got = check_backprop(g, x, n, False, "vars gradient")
    assert got is not None
    finite = np.where(np.isfinite(g), g, F32(0)).astype(F32)
    check_backprop(finite, x, n, False, "vars gradient, finite")
    for shape in [(size // 1500, 1500), (size // 7, 7), (size,), (3, size // 12, 4)]:
        m = int(np.prod(shape))
        xs = x[:m].reshape(shape)
        gs = np.where(np.isfinite(g[:m]), g[:m], F32(1)).astype(F32).reshape(shape)
        c = shape[-1]
        lo = (rng.standard_normal(c) * 2 - 3).astype(F32)
        nc = fq.Nudged(lo, (lo + 6).astype(F32), 8, True)
        check_forward(xs, nc, False, f"per-channel {shape}")
        check_backprop(gs, xs, nc, True, f"per-channel gradient {shape}")


def test_non_contiguous_and_readonly_inputs(everywhere):
    rng = np.random.default_rng(3)
    n = fq.Nudged(F32(-1.0), F32(2.0), 8, False)
    base = special_tensor(rng, (64, 80), n)
    x = base[:, ::2]
    x.flags.writeable = False
    g = special_tensor(rng, (64, 80))[::1, 1::2]
    check_forward(x, n, True, "strided")
    check_backprop(g, x, n, False, "strided")
    assert not x.flags.writeable


def test_nan_sums_and_overflow(everywhere):
    """NaN/inf gradients make NaN sums (g * 0 is NaN); sums past float32 overflow to inf."""
    n = fq.Nudged(F32(-1.0), F32(1.0), 8, False)
    x = np.full(1000, 5.0, F32)
    g = np.full(1000, 3e38, F32)
    got = check_backprop(g, x, n, False, "overflow")
    assert got[2] == np.inf and got[1] == 0
    g[17] = np.inf
    got = check_backprop(g, x, n, False, "inf")
    assert np.isnan(got[1]) and got[2] == np.inf
    g[400] = -np.inf
    got = check_backprop(g, x, n, False, "inf - inf")
    assert np.isnan(got[1]) and np.isnan(got[2])


@pytest.mark.parametrize("per_channel", [False, True], ids=["scalar", "per-channel"])
def test_float32_partials_fall_back_to_float64(everywhere, per_channel):
    """Terms that overflow a float32 partial sum but cancel in float64 give the float64 sum
    (0 here), as the numpy path does, not inf or NaN; and the partials are really in use."""
    assert ff.SUM_ROWS > 1
    rows = 4 * ff.SUM_ROWS
    shape = (rows, ff.SUM_LANES) if not per_channel else (rows, 3)
    x = np.full(shape, 5.0, F32)                        # all above the range
    g = np.ones(shape, F32)
    g[0::4], g[1::4], g[2::4], g[3::4] = 3e38, 3e38, -3e38, -3e38    # the same lane, in turn
    if per_channel:
        n = fq.Nudged(np.full(3, -1.0, F32), np.full(3, 1.0, F32), 8, False)
    else:
        n = fq.Nudged(F32(-1.0), F32(1.0), 8, False)
    got = check_backprop(g, x, n, per_channel, "cancelling overflow")
    assert np.all(got[2] == 0) and np.all(got[1] == 0)


def test_both_zero_passes_raw_gradients(everywhere):
    """min == max == 0: outputs 0, gradients copied raw (denormals and NaN payloads kept)."""
    n = fq.Nudged(F32(0.0), F32(0.0), 8, False)
    g = SPECIAL.copy()
    x = np.linspace(-2, 2, SPECIAL.size).astype(F32)
    assert_bits(ff.fused_forward(x, n, True), np.zeros_like(x))
    got = ff.fused_backprop(g, x, n)
    assert_bits(got[0], g)
    assert got[0] is not g and float(got[1]) == 0 and float(got[2]) == 0


def test_declines_small_broadcast_and_nan_range():
    n = fq.Nudged(F32(-1.0), F32(1.0), 8, False)
    assert ff.fused_forward(np.ones(10, F32), n, True) is None          # below the threshold
    big = np.ones(ff.MIN_ELEMENTS, F32)
    assert ff.fused_backprop(big, big[:-1], n) is None                  # shapes differ
    assert ff.fused_forward(big, fq.Nudged(F32(np.nan), F32(1.0), 8, False), True) is None
    nc = fq.Nudged(np.zeros(3, F32), np.ones(3, F32), 8, False)
    assert ff.fused_forward(big.reshape(-1, 4), nc, False) is None      # channel count differs


def test_import_is_lazy():
    """Importing the module, and small tensors, never import numba."""
    code = ("import sys, numpy as np\n"
            "from blocks.kernels import fake_quant as fq, fake_quant_fused as ff\n"
            "n = fq.Nudged(np.float32(-1), np.float32(1), 8, False)\n"
            "assert ff.fused_forward(np.ones(100, np.float32), n, True) is None\n"
            "assert ff.fused_backprop(np.ones(100, np.float32), np.ones(100, np.float32), n) is None\n"
            "assert 'numba' not in sys.modules, 'numba imported'\n"
            "assert ff.fused_forward(np.ones(1 << 17, np.float32), n, True) is not None\n"
            "assert 'numba' in sys.modules\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_disabled_by_environment():
    code = ("import numpy as np\n"
            "from blocks.kernels import fake_quant as fq, fake_quant_fused as ff\n"
            "n = fq.Nudged(np.float32(-1), np.float32(1), 8, False)\n"
            "assert ff.fused_forward(np.ones(1 << 17, np.float32), n, True) is None\n"
            "import sys; assert 'numba' not in sys.modules\n")
    env = dict(os.environ, BLOCKGRAPH_NO_FUSED="1")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr


def test_recycled_outputs_are_never_shared(everywhere, monkeypatch, tmp_path):
    """With output buffers recycled (blocks/kernels/buffers.py, threshold lowered here), a
    result that is still held is never written by a later kernel, and a chain of blocks whose
    intermediates are freed as it runs (--keep) gives the same bits as the numpy path."""
    from blockgraph import load_page
    from blocks.kernels import buffers
    monkeypatch.setattr(buffers, "MIN_BYTES", 1024)
    rng = np.random.default_rng(21)
    n = fq.Nudged(F32(-2.0), F32(3.0), 8, False)
    x1 = special_tensor(rng, (64, 40), n)
    x2 = special_tensor(rng, (64, 40), n)
    first = ff.fused_forward(x1, n, False)
    kept = first.copy()
    second = ff.fused_forward(x2, n, False)
    assert not np.shares_memory(first, second)
    assert_bits(first, kept, "held result untouched")
    del first
    third = ff.fused_forward(x1, n, False)      # may take the freed buffer: still right
    assert_bits(third, kept, "recycled buffer")
    page = tmp_path / "chain.yaml"
    np.save(tmp_path / "x.npy", x2)
    steps = "".join(f"  q{i}: {{op: FakeQuantWithMinMaxArgs, inputs: {{inputs: q{i - 1}}}, "
                    f"attrs: {{min: -{i}.5, max: {i}.0}}}}\n" for i in range(1, 6))
    page.write_text("format: 1\nblocks:\n  q0: {op: Const, attrs: {file: x.npy}}\n" + steps)
    want = x2
    for i in range(1, 6):
        want = numpy_path(fq.forward, want, fq.Nudged(F32(-i - 0.5), F32(i), 8, False), False)
    for keep in (None, ["q5"]):
        got = load_page(str(page)).run({}, keep=keep).block("q5").outputs["outputs"]
        assert_bits(got, want, f"chain keep={keep}")
