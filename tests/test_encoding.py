"""EditDistance details the fixtures do not pin down (expected values pasted from TF 2.21, CPU,
oneDNN off)."""
import ml_dtypes
import numpy as np
import pytest

from op_helpers import run


def _distance(h, t, normalize=True):
    def sparse(v):
        idx = np.array([[0, i] for i in range(len(v))], np.int64).reshape(-1, 2)
        return idx, np.array([1, max(len(v), 1)], np.int64)
    hi, hs = sparse(h)
    ti, ts = sparse(t)
    return run("EditDistance", {"hypothesis_indices": hi, "hypothesis_values": h,
                                "hypothesis_shape": hs, "truth_indices": ti, "truth_values": t,
                                "truth_shape": ts}, normalize=normalize).tolist()


@pytest.mark.parametrize("h,t,normalize,want", [
    (np.array([1e-45, 2], np.float32), np.array([-0.0, 2], np.float32), True, [0.0]),
    (np.array([5e-324, 2]), np.array([0.0, 3]), True, [0.5]),
    (np.array([1e-45], np.float32), np.array([1e-44], np.float32), False, [0.0]),
    (np.array([1e-40], ml_dtypes.bfloat16), np.array([0], ml_dtypes.bfloat16), True, [0.0]),
    (np.array([1e-45 + 1j], np.complex64), np.array([1j], np.complex64), True, [0.0]),
    # float16 compares through float32, where its denormals are normal numbers: no flush
    (np.array([6e-8], np.float16), np.array([0], np.float16), True, [1.0]),
])
def test_edit_distance_compares_denormals_as_zeros(h, t, normalize, want):
    """TF's threads run with DAZ: a float32/float64 (or bfloat16, compared as float32) denormal
    equals a zero of either sign."""
    assert _distance(h, t, normalize) == want
