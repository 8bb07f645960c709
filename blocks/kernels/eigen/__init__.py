"""TF 2.21's CPU kernels for the transcendental element-wise ops, bit for bit.

    from blocks.kernels import eigen
    y = eigen.get("Exp", "float32")(x)         # or eigen.exp(x): dispatch on x.dtype
    z = eigen.get("Pow", "float64")(x, y)      # binary ops take equal-shape arrays

Ops: Exp, Expm1, Log, Log1p, Sin, Cos, Tanh, Sigmoid, Erf, Rsqrt, Reciprocal, Sqrt, Pow,
Atan2(y, x), Elu, Selu, Softplus, SoftplusGrad(gradients, features) for float32, float64,
float16 and bfloat16 (ml_dtypes.bfloat16); Exp, Log, Tanh, Rsqrt, Reciprocal also for
complex64 and complex128. Results have the input's shape and dtype; `supported(op, dtype)`.

How TF computes them (and so this package):
- Packet/tail split. Eigen evaluates the flat output in packets (8 float32/float16/bfloat16,
  4 float64 or complex64, 2 complex128) over the first n - n % width elements and a scalar
  loop over the rest; TF's thread sharding keeps block boundaries on packet multiples, so the
  only tail is the last n % width (tools/tf_check_eigen.py --sizes). Packets run Eigen's
  polynomials (f32.py, f64.py, binary.py, cplx.py; AVX build without FMA, so a*b + c rounds
  twice); the tail runs glibc (libm.py) or Eigen's scalar code. The two differ by an ulp here
  and there, in NaN payloads and in denormal handling; `ops.apply` reproduces both.
- FTZ/DAZ. TF's threads set MXCSR FTZ|DAZ: float ops read denormal inputs as signed zero and
  flush denormal results. The kernels flush inputs and every intermediate that can be
  denormal (prims.ftz32/ftz64); selections (pselect) pass bits untouched, so Expm1(1e-40) is
  1e-40 in packets; some zero tests compiled as integer tests see denormals as nonzero
  (Atan2, complex Log/Exp). glibc runs with MXCSR set the same way (native.py, libm.py).
- NaN payloads. Where two NaNs meet, x86 returns the first operand's; the compiled order is
  spelled out (prims.nan_first) because numpy's SIMD loops and LLVM do not keep it.
- Half types compute in float32 and round to the storage type after each elementary op
  (halfops.py); bfloat16 NaN results are 0x7fc0 in packets, sign|0x7fc0 in the tail.
- float32 Reciprocal/Rsqrt (and Atan2, complex64 Log through it) start from rcpps/rsqrtps:
  the CPU's own instruction (native.py), so results follow the CPU as TF's do; Intel tables
  (approx.py) where executable memory is refused or BLOCKGRAPH_APPROX=table.

Speed: float32/float64 packet parts of >= ops.FUSED_MIN elements of Exp, Expm1, Log, Log1p,
Tanh, Sigmoid, Erf, Elu, Selu, Softplus, SoftplusGrad run numba kernels (fused.py) compiled
from the same source and bit-identical to numpy (each compiles on its first large array, 1-6
s); numba is optional and imported on first use (BLOCKGRAPH_NO_FUSED=1 forces numpy).
"""
from __future__ import annotations

import numpy as np

from .halfs import BF16
from .ops import TABLES, apply

OPS = ("Exp", "Expm1", "Log", "Log1p", "Sin", "Cos", "Tanh", "Sigmoid", "Erf", "Rsqrt",
       "Reciprocal", "Sqrt", "Pow", "Atan2", "Elu", "Selu", "Softplus", "SoftplusGrad")
DTYPES = ("float32", "float64", "float16", "bfloat16", "complex64", "complex128")


def supported(op: str, dtype_name: str) -> bool:
    return dtype_name in TABLES and op in TABLES[dtype_name]


def get(op: str, dtype_name: str):
    """The kernel f(*arrays) -> array computing TF's `op` for dtype `dtype_name`."""
    if not supported(op, dtype_name):
        raise KeyError(f"no eigen kernel for {op}/{dtype_name}")

    def kernel(*arrays):
        arrays = [np.asarray(a) for a in arrays]
        if any(a.dtype.name != dtype_name for a in arrays) or \
                any(a.shape != arrays[0].shape for a in arrays):
            raise ValueError(f"{op}: expected {dtype_name} arrays of one shape")
        return apply(op, dtype_name, *arrays)
    kernel.__name__ = f"{op}_{dtype_name}"
    return kernel


def _by_dtype(op):
    def f(*arrays):
        return get(op, np.asarray(arrays[0]).dtype.name)(*arrays)
    f.__name__ = op.lower()
    f.__doc__ = f"TF's {op} (raw_ops) on arrays of one float dtype."
    return f


exp, expm1, log, log1p = (_by_dtype(o) for o in ("Exp", "Expm1", "Log", "Log1p"))
sin, cos, tanh, sigmoid, erf = (_by_dtype(o) for o in ("Sin", "Cos", "Tanh", "Sigmoid", "Erf"))
rsqrt, reciprocal, sqrt = (_by_dtype(o) for o in ("Rsqrt", "Reciprocal", "Sqrt"))
pow, atan2 = _by_dtype("Pow"), _by_dtype("Atan2")          # noqa: A001 - TF's op names
elu, selu, softplus, softplus_grad = (_by_dtype(o) for o in ("Elu", "Selu", "Softplus",
                                                               "SoftplusGrad"))

__all__ = ["OPS", "DTYPES", "BF16", "get", "supported", "exp", "expm1", "log", "log1p", "sin",
           "cos", "tanh", "sigmoid", "erf", "rsqrt", "reciprocal", "sqrt", "pow", "atan2", "elu",
           "selu", "softplus", "softplus_grad"]
