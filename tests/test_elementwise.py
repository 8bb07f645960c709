"""The element-wise machinery: fused kernels bit-identical to the numpy reference (specials,
denormals, NaN payloads, scalar sides), BroadcastGradientArgs, complex division's two paths."""
import numpy as np
import pytest

from blockgraph.core import registry
from blocks.kernels import elementwise as ew
from blocks.kernels import ieee
from blocks.kernels.eigen import cplx


def _data(n, seed):
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(n) * 1e-19 ** rng.integers(0, 2, n)).astype(np.float32)
    sp = np.array([0, -0.0, 1e-40, -1e-40, np.inf, -np.inf, np.nan, -np.nan, 3e38, -3e38],
                  np.float32)
    idx = rng.integers(0, n, n // 50)
    a[idx] = rng.choice(sp, idx.size)
    a.view(np.uint32)[rng.integers(0, n, 50)] = 0x7FC12345
    return a


@pytest.mark.parametrize("op", ["Add", "AddV2", "Sub", "Mul"])
def test_fused_binary_matches_reference(op):
    pytest.importorskip("numba")
    import blocks.math_binary  # noqa: F401
    d = registry.get(op)
    x, y = _data(70001, 1), _data(70001, 2)
    for a, b in [(x, y), (x, np.array(np.float32(-1e-40))), (np.array(np.float32(2.5)), y)]:
        fused = d.kernels[0].fn(x=a, y=b, T="float32")
        ref = d.compute(x=a, y=b, T="float32")
        assert fused.view(np.uint32).tolist() == ref.view(np.uint32).tolist()


def test_fused_relu_matches_reference():
    pytest.importorskip("numba")
    import blocks.nn_activations  # noqa: F401
    d = registry.get("Relu")
    x = _data(70003, 3)
    fused = d.kernels[0].fn(features=x, T="float32")
    assert np.array_equal(fused.view(np.uint32), d.compute(features=x, T="float32").view(np.uint32))


@pytest.mark.parametrize("s0,s1,r0,r1", [([2, 3, 1], [3, 4], [2], [0]), ([2, 1], [1, 1], [1], [0, 1]),
                                         ([2, 1], [2, 1], [], []), ([1, 1], [1], [0, 1], [0, 1]),
                                         ([1, 2], [], [0], [0, 1])])
def test_gradient_args(s0, s1, r0, r1):
    assert ew.gradient_args(s0, s1) == (r0, r1)


def test_gradient_args_incompatible():
    with pytest.raises(Exception, match=r"Incompatible shapes: \[2,3\] vs. \[4\]"):
        ew.gradient_args([2, 3], [4])


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_cdiv_one_is_the_eigen_reciprocal(dtype):
    z = np.array([1 + 2j, -3e-3 + 4j, 0j, np.inf + 1j, 1e30 - 1e-30j, np.nan + 0j, 2, -1j], dtype)
    one = np.ones_like(z)
    for path, ref in (("packet", cplx.reciprocal_packet), ("scalar", cplx.reciprocal_scalar)):
        got, want = ieee.cdiv(one, z, path=path), ref(z)
        assert np.array_equal(got.view(np.uint8), want.view(np.uint8), equal_nan=False) or \
            np.array_equal(np.isnan(got), np.isnan(want)) and np.allclose(got[~np.isnan(got)],
                                                                        want[~np.isnan(want)])


def test_bcast_static_unknown_dims():
    assert ew.bcast_static((None, 3), (4, 1)) == (4, 3)
    assert ew.bcast_static((None,), (None,)) == (None,)
    with pytest.raises(Exception, match=r"Incompatible shapes: \[2,3\] vs. \[4\]"):
        ew.bcast_static((2, 3), (4,))
