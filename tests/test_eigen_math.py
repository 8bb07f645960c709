"""blocks.kernels.eigen against TF 2.21 outputs (tests/fixtures/eigen_math, made by
tools/tf_check_eigen.py --fixtures): bit for bit, NaN payloads and signed zeros included,
on the numpy path and (float32, float64) on the numba path. No TensorFlow here."""
from __future__ import annotations

import os

import ml_dtypes
import numpy as np
import pytest

from blocks.kernels import eigen
from blocks.kernels.eigen import fused, ops

FIX = os.path.join(os.path.dirname(__file__), "fixtures", "eigen_math")
TAIL_CALL = {"float64": 3, "complex64": 3, "complex128": 1}   # TF's tail calls: all scalar


def _cases():
    for f in sorted(os.listdir(FIX)):
        op = f[:-4]
        with np.load(os.path.join(FIX, f)) as d:
            keys = {k.rsplit("|", 1)[0] for k in d.files}
        for k in sorted(keys):
            dt, part = k.split("|")
            yield op, dt, part


CASES = list(_cases())


def _load(op, dt, part):
    with np.load(os.path.join(FIX, f"{op}.npz")) as d:
        n = len([k for k in d.files if k.startswith(f"{dt}|{part}|") and k[-1].isdigit()])
        args = [d[f"{dt}|{part}|{i}"] for i in range(n)]
        out = d[f"{dt}|{part}|out"]
    if dt == "bfloat16":
        args = [a.view(ml_dtypes.bfloat16) for a in args]
        out = out.view(ml_dtypes.bfloat16)
    return args, out


def _run(op, dt, part, args):
    k = eigen.get(op, dt)
    if part == "P":
        return k(*args)
    tc = TAIL_CALL.get(dt, 7)
    return np.concatenate([k(*(a[i:i + tc] for a in args)) for i in range(0, args[0].size, tc)])


def _ulp_key(a):
    w = {2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]
    b = a.view(w).astype(np.int64)
    return np.where(b < 0, -(b & np.int64(np.iinfo(w).max)), b)


def _stats(got, exp):
    if got.dtype.kind == "c":                       # per component
        got, exp = got.view(got.real.dtype), exp.view(exp.real.dtype)
    g = got.view({2: np.uint16, 4: np.uint32, 8: np.uint64}[got.dtype.itemsize])
    e = exp.view(g.dtype)
    exact = float((g == e).mean())
    gn, en = np.isnan(got), np.isnan(exp)
    d = np.abs(_ulp_key(got) - _ulp_key(exp)).astype(np.float64)
    d = np.where(gn & en, 0, np.where(gn | en, np.inf, d))
    return exact, float(d.max())


@pytest.fixture
def numpy_path(monkeypatch):
    monkeypatch.setenv("BLOCKGRAPH_NO_FUSED", "1")


@pytest.fixture
def numba_path(monkeypatch):
    pytest.importorskip("numba")
    monkeypatch.delenv("BLOCKGRAPH_NO_FUSED", raising=False)
    monkeypatch.setattr(ops, "FUSED_MIN", 8)


def _check(op, dt, part):
    args, exp = _load(op, dt, part)
    with np.errstate(all="ignore"):
        got = _run(op, dt, part, args)
    assert got.dtype == exp.dtype and got.shape == exp.shape
    exact, maxulp = _stats(got, exp)
    assert exact == 1.0, f"{op} {dt} {part}: {100 * exact:.3f}% bit-exact, max {maxulp} ulp"


@pytest.mark.parametrize("op,dt,part", CASES)
def test_against_tf_numpy(op, dt, part, numpy_path):
    _check(op, dt, part)


@pytest.mark.parametrize("op,dt,part", [c for c in CASES if c[1] in fused.MODULES
                                        and c[2] == "P" and c[0] in fused.KERNELS])
def test_against_tf_numba(op, dt, part, numba_path):
    _check(op, dt, part)


@pytest.mark.parametrize("dt", sorted(fused.MODULES))
@pytest.mark.parametrize("op", sorted(fused.KERNELS))
def test_numba_equals_numpy(op, dt, monkeypatch):
    """The numba kernels are bit-identical to the numpy ones on specials and random data, the
    array split in chunks that the threads share (NaN results in several chunks)."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(0)
    u = np.uint32 if dt == "float32" else np.uint64
    sh = 0 if dt == "float32" else 32
    specials = (np.array([0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000, 0xFFC12345,
                          0x7F800001, 0x7F7FFFFF, 0xFF7FFFFF, 0x00800000], u) << u(sh)).view(dt)
    tiny = np.array([1, 0x807FFFFF, 2 ** (52 if sh else 23) - 1], u).view(dt)
    x = np.concatenate([specials, tiny, rng.uniform(-800, 800, 70000).astype(dt),
                        rng.integers(0, 2**63, 10000, dtype=np.uint64).astype(u).view(dt)])
    args = [x, rng.permutation(x)][:fused.KERNELS[op][1]]
    monkeypatch.setenv("BLOCKGRAPH_NO_FUSED", "1")
    with np.errstate(all="ignore"):
        ref = eigen.get(op, dt)(*args)
    monkeypatch.delenv("BLOCKGRAPH_NO_FUSED")
    monkeypatch.setattr(ops, "FUSED_MIN", 8)
    monkeypatch.setattr(fused, "CHUNK", 4096)
    with np.errstate(all="ignore"):
        got = eigen.get(op, dt)(*args)
    assert got.view(u).tolist() == ref.view(u).tolist()


def test_packet_tail_split():
    """Exp(88.5) is inf-free in both paths but the packet (polynomial) and tail (glibc) differ
    on some inputs; the split follows n % 8, and shapes and dtypes are kept."""
    x = np.linspace(-5, 5, 17, dtype=np.float32).reshape(1, 17)
    y = eigen.exp(x)
    assert y.shape == x.shape and y.dtype == np.float32
    assert y.ravel()[:16].tolist() == eigen.exp(x.ravel()[:16]).tolist()
    with pytest.raises(ValueError):
        eigen.get("Pow", "float32")(np.ones(3, np.float32), np.ones(4, np.float32))
    with pytest.raises(KeyError):
        eigen.get("Exp", "int32")


def test_ftz_daz():
    """Denormal inputs read as zero; denormal results flush; selections keep the bits."""
    d = np.full(16, 1e-40, np.float32)
    assert (eigen.exp(d) == 1).all()
    assert eigen.expm1(d).view(np.uint32).tolist() == d.view(np.uint32).tolist()
    assert (eigen.exp(np.full(16, -100, np.float32)).view(np.uint32) == 0).all()
    assert eigen.log(np.full(7, 1e-45, np.float32))[0] == np.float32(-103.97208)


def _cpu_vendor():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("vendor_id"):
                    return line.split(":")[1].strip()
    except OSError:
        pass
    return ""


def test_cpu_approximations(monkeypatch):
    """On an Intel CPU the CPU's own rcpps/rsqrtps (used by default) equal the tables."""
    from blocks.kernels.eigen import approx, native
    if native.routine("rcp4") is None or _cpu_vendor() != "GenuineIntel":
        pytest.skip("no executable memory, or not an Intel CPU (its tables differ)")
    x = np.random.default_rng(1).integers(0, 2**32, 200_003, dtype=np.uint64) \
        .astype(np.uint32).view(np.float32)
    monkeypatch.delenv("BLOCKGRAPH_APPROX")
    hw = approx.rcp(x), approx.rsqrt(x)
    monkeypatch.setenv("BLOCKGRAPH_APPROX", "table")
    tab = approx.rcp(x), approx.rsqrt(x)
    for h, t in zip(hw, tab):
        assert h.view(np.uint32).tolist() == t.view(np.uint32).tolist()


def test_libm_rules_fallback(monkeypatch):
    """Without the FTZ|DAZ trampoline, the measured rules give TF's glibc tails too (but for
    the NaN payloads of float32 Log, which the rules do not model)."""
    monkeypatch.setenv("BLOCKGRAPH_NO_TRAMPOLINE", "1")
    monkeypatch.setenv("BLOCKGRAPH_NO_FUSED", "1")
    for op in ("Exp", "Log", "Log1p", "Sin", "Expm1"):
        for dt in ("float32", "float64"):
            if (op, dt) != ("Log", "float32"):
                _check(op, dt, "T")


def _subprocess(code):
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    env.pop("BLOCKGRAPH_NO_FUSED", None)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_numba_lazy_and_optional():
    """Importing the kernels does not import numba; without numba, large arrays take the
    numpy path (same bits)."""
    out = _subprocess(
        "import sys, numpy as np\n"
        "from blocks.kernels import eigen\n"
        "print('numba' in sys.modules)\n"
        "sys.modules['numba'] = None\n"
        "x = np.linspace(-90, 90, 70001, dtype=np.float32)\n"
        "with np.errstate(all='ignore'):\n"
        "    y = eigen.exp(x)\n"
        "import os; os.environ['BLOCKGRAPH_NO_FUSED'] = '1'\n"
        "with np.errstate(all='ignore'):\n"
        "    z = eigen.exp(x)\n"
        "print(y.tobytes() == z.tobytes())\n")
    assert out.split() == ["False", "True"]


def test_no_tensorflow_import():
    import sys
    assert "tensorflow" not in sys.modules
