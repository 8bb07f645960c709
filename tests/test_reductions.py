"""Reductions beyond the TF fixtures: TF's axis simplification, Eigen's thread split of a full
reduction, and the fused (numba) kernels giving the numpy reference's bits."""
import numpy as np
import pytest

from blockgraph.core import registry
from blockgraph.core.blockdef import DECLINE
from blockgraph.core.errors import OpError
from blocks.kernels import reduce as red
from blocks.kernels import reduce_fused as fused
from blocks.kernels.ieee import daz

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def test_plan_merges_runs_and_size_one_dims():
    # [2, 1, 3, 1, 5] over axes 1 and 4: size-1 dims join their neighbours -> [6, 5] over [1]
    p = red.plan((2, 1, 3, 1, 5), [1, 4])
    assert p.data_reshape == (6, 5) and not p.reduce_first and p.out_shape == (2, 3, 1)
    assert red.plan((1, 5), [0]).trivial                  # a leading 1 is skipped: a copy
    assert red.plan((3, 4), []).trivial
    assert red.plan((2, 3, 4, 5), [0, 2]).ndims == 4       # transposed by TF, then rows


def test_axis_errors_in_tf_order():
    with pytest.raises(OpError, match=r"Invalid reduction dimension \(2 for input with 2 dimension\(s\)$"):
        red.plan((2, 3), [0, 2])
    with pytest.raises(OpError, match="Axes contains duplicate dimension: 1"):
        red.plan((2, 3), [1, -1])


def test_cost_model_thread_split():
    # float32: 11/64 cycles a byte and the reducer's cost 10 per 8 lanes -> 2 threads from 108388
    c = red.coeff_cost(4, 8)
    assert red.threads(108387, c, 2) == 1 and red.threads(108388, c, 2) == 2
    assert red.threads(10 ** 7, c, 2) == 2 and red.threads(10 ** 7, c, 1) == 1


@pytest.mark.parametrize("dtype,n,seed,threads,bits", [
    # TF 2.21's Sum of these vectors on 2 intra-op threads (one tree gives other bits)
    ("float32", 200_001, 12, "2", "d061ed47"), ("float32", 200_001, 12, "1", "d461ed47"),
    ("float64", 100_003, 11, "2", "97bac89a409300c1"), ("float64", 100_003, 11, "1", "96bac89a409300c1")])
def test_thread_split_of_full_sums(monkeypatch, dtype, n, seed, threads, bits):
    """Eigen's FullReducer cuts a long vector into one shard per thread its cost model grants
    (2 here from 108388 float32 / 54194 float64 values) and adds the shards to the remainder."""
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * 10.0 ** rng.integers(-3, 4, n)).astype(dtype)
    monkeypatch.setenv("BLOCKGRAPH_TF_THREADS", threads)
    assert red.reduce("sum", x, [0])[0].tobytes().hex() == bits


def _specials(n, dtype, rng):
    x = rng.standard_normal(n) * 10.0 ** rng.integers(-3, 4, n)
    x = x.astype(dtype)
    k = max(1, n // 1000)
    x[rng.integers(0, n, k)] = np.finfo(dtype).tiny / 3          # denormals
    x[rng.integers(0, n, k)] = np.finfo(dtype).tiny * 3          # tiny normals
    x[rng.integers(0, n, k)] = -0.0
    return x


needs_numba = pytest.mark.skipif(not fused._JIT.load(), reason="numba not available")


def _kernels(op):
    d = registry.get(op)
    return d.kernels[0].fn, d.compute


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["Sum", "Mean", "Max", "Min"])
@pytest.mark.parametrize("shape,axis", [((70_001,), [0]), ((200_003,), [-1]), ((9, 8_000), [1]),
                                        ((3, 30_000), [0, 1]), ((4, 17_000), [1])])
def test_fused_reductions_give_the_reference_bits(op, dtype, shape, axis):
    rng = np.random.default_rng(7)
    x = _specials(int(np.prod(shape)), dtype, rng).reshape(shape)
    fast, ref = _kernels(op)
    ax = np.array(axis, np.int32)
    kw = {"T": dtype} if op == "Mean" else {}
    got = fast(x, ax, False, **kw)
    want = ref(x, ax, False, dtype)
    if got is DECLINE:      # zero/denormal Max/Min results are left to numpy, never others
        assert op in ("Max", "Min") and np.any(np.abs(want) < np.finfo(dtype).tiny)
        return
    assert got.shape == want.shape and got.tobytes() == want.tobytes()


@needs_numba
@pytest.mark.parametrize("op", ["Sum", "Max", "Mean"])
def test_fused_hands_nan_back_to_numpy(op):
    x = np.ones(70_000, np.float32)
    x[123] = np.nan
    fast, _ = _kernels(op)
    kw = {"T": "float32"} if op == "Mean" else {}
    assert fast(x, np.array([0], np.int32), False, **kw) is DECLINE


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
def test_fused_arg_reductions(op, dtype):
    rng = np.random.default_rng(3)
    x = rng.integers(-3, 4, (5, 70_000)).astype(dtype)
    x[rng.random(x.shape) < 0.01] = np.nan
    x[:, :10] = np.finfo(dtype).tiny / 4      # denormals compare equal to 0 (DAZ)
    x[2] = np.nan                              # no winner: index 0
    fast, ref = _kernels(op)
    for d in (1, -1):
        got = fast(x, np.int32(d), "int64")
        assert np.array_equal(got, ref(x, np.int32(d), "int64"))
    flat = x.reshape(-1)
    assert np.array_equal(fast(flat, np.int32(0), "int32"), ref(flat, np.int32(0), "int32"))


def _leaf_values(dtype, n, rng):
    """Values whose leaf sums round at every step: mixed magnitudes and signs, denormals,
    tiny normals (partial sums that flush), -0.0, and a run of -0.0 (a -0.0 + -0.0 lane)."""
    x = _specials(n, dtype, rng)
    if n > 40:
        x[rng.integers(0, n, 4)] = np.finfo(dtype).tiny * rng.choice([-1.5, 1.25], 4)
        x[:9] = -0.0
    return x


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_vector_leaf_is_eigens_leaf(dtype):
    """The LLVM vector leaf (`_vsum`) against the numpy reference's leaf, for every length
    around the packet, 4-packet and leaf boundaries and at unaligned starts."""
    from blocks.kernels.reduce_ops import arith
    rng = np.random.default_rng(5)
    sizes = list(range(0, 70)) + [255, 256, 257, 8191, 8192, 8193, 12_345]
    kernel = (fused._JIT.load(), fused._JIT.serial["_sum_leaves"])[1]
    for n in sizes:
        x = _leaf_values(dtype, n + 3, rng)
        for s in (0, 1, 3):
            vals = np.empty(1, dtype)
            kernel(np.array([0, 1]), x, np.array([s]), np.array([n]), vals)
            ref = red._leaf(arith("sum", dtype, x), daz(x)[None, s:s + n])[0]
            assert vals.tobytes() == daz(np.asarray(ref, dtype)).tobytes(), (n, s)


@needs_numba
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("is_max", [True, False])
def test_vector_best_finds_the_value_or_nan(dtype, is_max):
    """`_best` segments of every length: the extreme value, -inf/+inf when all values are,
    and NaN whichever lane or tail position (or sign) the NaN has."""
    rng = np.random.default_rng(9)
    kernel = (fused._JIT.load(), fused._JIT.serial["_best"])[1]
    for n in list(range(1, 70)) + [1000, 4099]:
        x = rng.standard_normal(n).astype(dtype)
        out = np.empty(1, dtype)
        kernel(np.array([0, 1]), x, n, is_max, out)
        assert out[0] == (x.max() if is_max else x.min())
        for pos in {0, n // 2, n - 1}:
            y = x.copy()
            y[pos] = -np.nan if pos % 2 else np.nan
            kernel(np.array([0, 1]), y, n, is_max, out)
            assert np.isnan(out[0]), (n, pos)
    inf = np.full(77, -np.inf if is_max else np.inf, dtype)
    kernel(np.array([0, 1]), inf, 77, is_max, out)
    assert out[0] == inf[0]


@needs_numba
@pytest.mark.parametrize("op", ["Sum", "Mean", "Max", "Min"])
@pytest.mark.parametrize("shape,axis,fill", [
    ((7, 10_001), [1], None), ((9, 1_003), [1], None), ((65_536,), [0], None), ((2, 65_537), [0, 1], None),
    ((70_000,), [0], -0.0), ((70_000,), [0], np.inf), ((3, 40_000), [1], -np.inf),
    ((70_000,), [0], -7.5)])
def test_fused_edges_give_the_reference_bits(monkeypatch, op, shape, axis, fill):
    """Odd row lengths, the size threshold, all -0.0 / infinities / negatives, on 1 and 2
    threads: the fused kernel gives the reference's bits or hands the call back."""
    rng = np.random.default_rng(2)
    x = _specials(int(np.prod(shape)), "float32", rng).reshape(shape)
    if fill is not None:
        x[...] = fill
        x.reshape(-1)[rng.integers(0, x.size, 5)] = fill * 2 if fill else 0.0
    fast, ref = _kernels(op)
    ax = np.array(axis, np.int32)
    kw = {"T": "float32"} if op == "Mean" else {}
    want = ref(x, ax, False, "float32")
    for threads in ("1", "2"):
        monkeypatch.setenv("BLOCKGRAPH_THREADS", threads)
        got = fast(x, ax, False, **kw)
        if got is DECLINE:      # zero results (Max/Min)
            assert op in ("Max", "Min") and fill == 0
            continue
        assert got.shape == want.shape and got.tobytes() == want.tobytes(), threads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_softmax_is_the_reference(dtype):
    """The fused Softmax (its row sums through the vector leaf) takes these shapes and gives
    the numpy reference's bits: rows of any length up to one leaf, a zero row, a denormal."""
    pytest.importorskip("numba")
    from blocks.kernels import softmax as sm, softmax_fused as sf
    for shape in ((1024, 1000), (70, 1001), (300, 257)):
        x = np.random.default_rng(1).standard_normal(shape).astype(dtype) * 5
        x[3, 5], x[2, :] = -1e-40, 0
        got = sf.softmax(x)
        assert got is not None and got.tobytes() == sm.softmax(x, log=False).tobytes()
