"""Matrix products, convolutions and pools (blocks/matmul.py, conv.py, conv_depthwise.py,
pooling.py and their kernels): what the TF fixtures do not pin down -- static shapes from
partially known inputs, errors raised statically only when TF's text is certain, the fused
(numba) paths against the numpy ones, and a few TF 2.21 results pasted as literals."""
import ml_dtypes
import numpy as np
import pytest
import yaml

import blockgraph
from blockgraph.core.errors import OpError
from blocks.kernels import conv as kconv
from blocks.kernels import depthwise, depthwise_fused, gemm, gemm_fused, pool, pool_fused, workshare
from blocks.kernels.rounding import Arith
from op_helpers import run, shape_of

F32 = "float32"
SAME = {"strides": [1, 1, 1, 1], "padding": "SAME"}


# ----------------------------------------------------------------- static shapes and errors

def test_matmul_static_shapes_and_certain_errors():
    assert shape_of("MatMul", {"a": (F32, (None, 3)), "b": (F32, (3, 5))}) == (None, 5)
    assert shape_of("MatMul", {"a": (F32, (4, 3)), "b": (F32, None)}, transpose_a=True) == (3, None)
    # an unknown dim: the mismatch may be TF's text with other numbers, so it waits for the run
    assert shape_of("MatMul", {"a": (F32, (None, 3)), "b": (F32, (4, 5))}) == (None, 5)
    with pytest.raises(OpError, match=r"Matrix size-incompatible: In\[0\]: \[2,3\], In\[1\]: \[4,5\]"):
        shape_of("MatMul", {"a": (F32, (2, 3)), "b": (F32, (4, 5))})
    with pytest.raises(OpError, match="ndims must be == 2: 3"):
        shape_of("MatMul", {"a": (F32, (2, 3, 4)), "b": (F32, (None, 4, 5))})


def test_batch_matmul_v2_broadcast_shapes():
    assert shape_of("BatchMatMulV2", {"x": (F32, (None, 1, 2, 3)), "y": (F32, (5, 3, 4))}) == (None, 5, 2, 4)
    assert shape_of("BatchMatMulV2", {"x": (F32, (2, None, 3)), "y": (F32, (3, 4))}) == (2, None, 4)
    assert shape_of("BatchMatMulV2", {"x": (F32, (7, 2, 3)), "y": (F32, (None, 3, 4))}) == (7, 2, 4)
    with pytest.raises(OpError, match="In\\[1\\] ndims must be >= 2: 1"):
        shape_of("BatchMatMulV2", {"x": (F32, (None, 2, 3)), "y": (F32, (None,))})


def test_conv_and_pool_static_shapes():
    assert shape_of("Conv2D", {"input": (F32, (None, 56, 56, 64)), "filter": (F32, (3, 3, 64, 32))},
                    strides=[1, 2, 2, 1], padding="SAME") == (None, 28, 28, 32)
    assert shape_of("Conv2D", {"input": (F32, (1, None, 7, 2)), "filter": (F32, (3, 3, 2, 4))},
                    **SAME) == (1, None, 7, 4)
    assert shape_of("DepthwiseConv2dNative", {"input": (F32, (None, 9, 9, 3)), "filter": (F32, (3, 3, 3, 2))},
                    strides=[1, 2, 2, 1], padding="VALID") == (None, 4, 4, 6)
    assert shape_of("Conv2DBackpropInput", {"input_sizes": ("int32", (4,), [2, 9, 9, 3]),
                                            "filter": (F32, (3, 3, 3, 2)), "out_backprop": (F32, None)},
                    **SAME) == (2, 9, 9, 3)
    assert shape_of("DepthwiseConv2dNative", {"input": (F32, (2, 9, 9, 3)), "filter": (F32, (3, 3, 3, 2))},
                    strides=[1, 2, 2, 1], padding="VALID") == (2, 4, 4, 6)
    assert shape_of("MaxPool", {"input": (F32, (None, 5, 6, 2))}, ksize=[1, 2, 3, 1],
                    strides=[1, 2, 2, 1], padding="SAME") == (None, 3, 3, 2)
    assert shape_of("MaxPool", {"input": (F32, (1, 5, 6, 4))}, ksize=[1, 1, 1, 2],
                    strides=[1, 1, 1, 2], padding="VALID") == (1, 5, 6, 2)
    with pytest.raises(OpError, match="Computed output size would be negative: -1"):
        shape_of("AvgPool", {"value": (F32, (None, 2, 2, 1))}, ksize=[1, 4, 1, 1], strides=[1, 1, 1, 1],
                 padding="VALID")


def test_conv_check_reported_with_its_location(tmp_path):
    page = {"format": 1, "blocks": {
        "x": {"op": "Placeholder", "attrs": {"dtype": F32, "shape": [1, 4, 4, 2]}},
        "f": {"op": "Placeholder", "attrs": {"dtype": F32, "shape": [2, 2, 3, 4]}},
        "c": {"op": "Conv2D", "inputs": {"input": "x", "filter": "f"}, "attrs": SAME}}}
    p = blockgraph.load_page(str(tmp_path / "p.yaml"), text=yaml.safe_dump(page, sort_keys=False))
    assert [d.message for d in p.diagnostics] == [
        "input depth must be evenly divisible by filter depth: 2 vs 3"]
    assert p.diagnostics[0].block == "c"


# ----------------------------------------------------------------- kernels against TF 2.21

def test_half_products_accumulate_in_float32():
    ones = np.ones((1, 4096), np.float16)
    assert run("MatMul", {"a": ones, "b": ones.T})[0, 0] == 4096   # half sums would stop at 2048


def test_complex_products_keep_infinities_as_eigen():
    a = np.array([[1 + 0.5j, 2 - 1j]], np.complex128)
    b = np.array([[np.inf - 1j], [1 + 1j]], np.complex128)
    got = run("MatMul", {"a": a, "b": b})[0, 0]
    # re = 1*inf - 0.5*(-1) + (2*1 - (-1)*1) = inf, im = -1*1 + 0.5*inf + ... = inf (no NaN)
    assert got.real == np.inf and got.imag == np.inf


def test_avg_pool_grad_border_window_as_tf():
    # TF 2.21: AvgPoolGrad(ones [1,4,1,1], ksize 5, SAME) = [0.75, 1.0833334, 1.0833334, 1.0833334]
    got = run("AvgPoolGrad", {"orig_input_shape": np.array([1, 4, 1, 1], np.int32),
                              "grad": np.ones((1, 4, 1, 1), np.float32)},
              ksize=[1, 5, 1, 1], strides=[1, 1, 1, 1], padding="SAME")
    assert got.ravel().tolist() == np.float32([0.75, 1.0833334, 1.0833334, 1.0833334]).tolist()
    assert pool.broadcast_windows(4, 5, 1, 2, 4)[1].tolist() == [4, 4, 4, 4]


def test_depth_max_pool_packets_as_tf():
    # TF 2.21: a NaN in lane 1 of an 8-float packet loses lane 5 in the halving reduction
    for k, want in ((4, 4.0), (8, 7.0), (16, 15.0)):
        v = np.arange(1, k + 1, dtype=np.float32)
        v[1] = np.nan
        got = run("MaxPool", {"input": np.tile(v, 3).reshape(1, 1, 3, k)}, ksize=[1, 1, 1, k],
                  strides=[1, 1, 1, k], padding="VALID")
        assert got.ravel().tolist() == [want] * 3


def test_bfloat16_sums_flush_denormals():
    ar = Arith(ml_dtypes.bfloat16)
    tiny = np.array([1e-40], ml_dtypes.bfloat16)          # a bfloat16 denormal: 0 after DAZ
    assert ar.store(ar.add(ar.load(tiny), np.float32(0))).astype(np.float32)[0] == 0


# ----------------------------------------------------------------- fused paths

@pytest.mark.skipif(not gemm_fused.available(np.zeros(1 << 17)), reason="numba not available")
def test_fused_conv_and_flush_equal_numpy(monkeypatch):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 64, 61, 17)).astype(np.float32)
    x.ravel()[::101] = 1e-40
    f = rng.standard_normal((3, 2, 17, 8)).astype(np.float32)
    args = ((1, 2), (2, 1), ((2, 1), (0, 1)), (63, 31), np.float32)
    fused = kconv.conv2d(x, f, *args)
    assert gemm_fused.has_denormal(x) is True and gemm_fused.has_denormal(gemm.prepare(x)) is False
    dy = rng.standard_normal((2, 65, 31, 8)).astype(np.float32)     # Conv2D (1, 2) without dilation
    dy.ravel()[::53] = 1e-41
    back = kconv.conv2d_backprop_input(x.shape, f, dy, (1, 2), ((2, 1), (0, 1)), np.float32)
    monkeypatch.setattr(gemm_fused, "available", lambda a: False)
    plain = kconv.conv2d(x, f, *args)
    assert fused.tobytes() == plain.tobytes()
    plain_back = kconv.conv2d_backprop_input(x.shape, f, dy, (1, 2), ((2, 1), (0, 1)), np.float32)
    assert back.tobytes() == plain_back.tobytes()


# ----------------------------------------------------------------- gradients built from the page

def _grads(tmp_path, forward, feeds, wrt):
    blocks = {k: {"op": "Placeholder", "attrs": {"dtype": F32, "shape": list(v.shape)}}
              for k, v in feeds.items()}
    blocks["y"] = forward
    blocks["g"] = {"op": "AddSymbolicGradients", "inputs": {"outputs": ["y"], "inputs": wrt}}
    p = blockgraph.load_page(str(tmp_path / "g.yaml"), text=yaml.safe_dump({"format": 1, "blocks": blocks}))
    assert not p.diagnostics, [d.format() for d in p.diagnostics]
    r = p.run(feeds)
    assert r.ok, [b.error for b in r if not b.ok]
    return [np.asarray(r[f"g.grad_outputs.{i}"]).ravel().tolist() for i in range(len(wrt))]


def test_max_pool_gradient_matches_tf(tmp_path):
    x = np.array([3, 2, 1, 0, 2, 1, 0, 4, 1, 0, 4, 3, 0, 4, 3, 2], np.float32).reshape(1, 4, 4, 1)
    got = _grads(tmp_path, {"op": "MaxPool", "inputs": {"input": "x"},
                            "attrs": {"ksize": [1, 3, 3, 1], "strides": [1, 1, 1, 1], "padding": "SAME"}},
                 {"x": x}, ["x"])
    assert got == [[3, 0, 0, 0, 0, 0, 0, 6, 0, 0, 5, 0, 0, 2, 0, 0]]     # tf.GradientTape, TF 2.21


def test_depthwise_gradients_match_tf(tmp_path):
    x = ((np.arange(18, dtype=np.float32) - 8) / 4).reshape(1, 3, 3, 2)
    f = ((np.arange(8, dtype=np.float32) - 3) / 2).reshape(2, 2, 2, 1)
    got = _grads(tmp_path, {"op": "DepthwiseConv2dNative", "inputs": {"input": "x", "filter": "f"},
                            "attrs": SAME}, {"x": x, "f": f}, ["x", "f"])
    assert got == [[-1.5, -1, -2, -1, -2, -1, -1, 0, 0, 2, 0, 2, -1, 0, 0, 2, 0, 2],
                   [0, 2.25, 1.5, 3, 4.5, 6, 4, 5]]                          # tf.GradientTape, TF 2.21


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shared_products_do_not_depend_on_threads(monkeypatch, dtype):
    rng = np.random.default_rng(5)
    cases = [((700, 300), (300, 520)), ((9, 260, 200), (200, 90)), ((16, 40, 50), (1, 50, 60))]
    x = rng.standard_normal((2, 40, 37, 24)).astype(dtype)
    f = rng.standard_normal((3, 3, 24, 40)).astype(dtype)
    conv_args = ((1, 1), (1, 1), ((1, 1), (1, 1)), (40, 37), dtype)
    got = {}
    for t in ("1", "2", "3"):
        monkeypatch.setenv("BLOCKGRAPH_THREADS", t)
        got[t] = [gemm.product(rng_a, rng_b, dtype).tobytes() for rng_a, rng_b in
                  ((np.linspace(-1, 1, int(np.prod(sa)), dtype=dtype).reshape(sa),
                    np.cos(np.arange(np.prod(sb), dtype=dtype)).reshape(sb)) for sa, sb in cases)]
        got[t].append(kconv.conv2d(x, f, *conv_args).tobytes())
    assert got["1"] == got["2"] == got["3"]
    assert len(workshare.blocks(700, 300 * 520, min_rows=256)) == 2


def test_workshare_runs_every_block_and_raises(monkeypatch):
    monkeypatch.setenv("BLOCKGRAPH_THREADS", "2")
    seen = []
    workshare.run(7, seen.append)
    assert sorted(seen) == list(range(7))

    def bad(i):
        if i == 3:
            raise ValueError("block 3")
    with pytest.raises(ValueError, match="block 3"):
        workshare.run(5, bad)


@pytest.mark.skipif(not gemm_fused.available(np.zeros(1 << 17)), reason="numba not available")
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.uint8])
def test_fused_pools_and_depthwise_equal_numpy(monkeypatch, dtype):
    rng = np.random.default_rng(7)
    for scale in (1.0, 1e-39 if dtype == np.float32 else 1e-310):
        if np.dtype(dtype).kind == "f":
            x = (rng.standard_normal((2, 9, 11, 5)) * scale).astype(dtype)
            x.ravel()[[3, 50, 51, 200]] = [np.nan, np.inf, -0.0, -np.inf]
            x.ravel()[::7] = np.round(x.ravel()[::7])                  # ties
            g = rng.standard_normal((2, 5, 6, 5)).astype(dtype)
            f = (rng.standard_normal((3, 2, 5, 2)) * scale).astype(dtype)
            f.ravel()[4] = np.inf
        else:
            x = rng.integers(0, 4, (2, 9, 11, 5)).astype(dtype)
            g = rng.integers(0, 50, (2, 5, 6, 5)).astype(dtype)
            f = None
        args = ((3, 2), (2, 2), ((1, 1), (0, 1)), (5, 6))
        runs = []
        for limit in (1, 1 << 60):          # the fused kernels, then the numpy reference
            monkeypatch.setattr(pool_fused, "MIN_ELEMENTS", limit)
            monkeypatch.setattr(depthwise_fused, "MIN_ELEMENTS", limit)
            outs = [pool.max_pool(x, *args), pool.max_pool_grad(x, g, *args)]
            if f is not None:
                outs += [pool.avg_pool(x, *args),
                         depthwise.depthwise(x, f, 2, ((1, 1), (0, 1)), (5, 6))]
            runs.append([o.tobytes() for o in outs])
        assert runs[0] == runs[1]
