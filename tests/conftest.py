import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))


@pytest.fixture(autouse=True)
def intel_approximations(monkeypatch):
    """The TensorFlow fixtures were made on an Intel CPU, and TF's float32 Reciprocal, Rsqrt and
    Atan2 packets use the CPU's rcpps/rsqrtps, whose approximations differ between Intel and AMD:
    every test uses the Intel tables (blocks/kernels/eigen/approx.py) whatever CPU runs it
    (test_eigen_math.test_cpu_approximations checks an Intel CPU's own instructions against them)."""
    monkeypatch.setenv("BLOCKGRAPH_APPROX", "table")
