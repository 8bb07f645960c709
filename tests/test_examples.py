"""The compute / train / quantize example pages run as the README shows, and give TensorFlow's
numbers (tests/fixtures/examples/, written by tools/tf_examples.py from TF's own run of each page's
program): bit for bit where every op on the way is exact, else within the tolerance each test
states (MatMul and BiasAddGrad sum in another order than Eigen: `k * eps * S + smallest_normal`)."""
import os

import numpy as np
import pytest

import blockgraph
from blockgraph.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(ROOT, "examples")
TF = os.path.join(ROOT, "tests", "fixtures", "examples", "tf_examples.npz")
F32_EPS, F32_TINY = 2.0 ** -23, 2.0 ** -126


@pytest.fixture(scope="module")
def tf():
    with np.load(TF) as z:
        return dict(z)


def _page(name):
    return os.path.join(EXAMPLES, f"{name}.yaml")


def _cli(args, tmp_path, capsys):
    out = str(tmp_path / "r.npz")
    assert main(["run", *args, "--out", out]) == 0, capsys.readouterr().err
    capsys.readouterr()
    with np.load(out) as z:
        return dict(z)


def _sum_atol(S, n):
    """The fixtures' tolerance of a float32 sum of n terms whose |terms| add up to S."""
    return (8 + 2 * np.ceil(np.log2(max(n, 1)))) * F32_EPS * S + F32_TINY


def test_qat_dense_layer_computes_per_channel_ranges_on_the_page_and_gives_tfs_values(tf, tmp_path, capsys):
    r = _cli([_page("qat_dense_layer")], tmp_path, capsys)
    w = r["w.output"]
    assert np.array_equal(r["w_min.output"], w.min(axis=0))         # one range per output channel
    assert np.array_equal(r["w_max.output"], w.max(axis=0))
    for k in ("w_min.output", "w_max.output", "w_q.outputs", "act_q.outputs"):   # exact ops
        want = tf[f"qat_dense_layer/{k.split('.')[0]}"]
        assert r[k].dtype == want.dtype and r[k].tobytes() == want.tobytes(), k
    # MatMul's sums run in BLAS's order (TF: Eigen's), and Relu/BiasAdd carry that on: within
    # the sum tolerance with S = |x| @ |w_q| (+ |bias|), n = 8 terms
    S = np.abs(r["x.output"].astype(np.float64)) @ np.abs(r["w_q.outputs"].astype(np.float64))
    for k, s in (("matmul.product", S), ("biased.output", S + np.abs(r["bias.output"])),
                 ("relu.activations", S + np.abs(r["bias.output"]))):
        diff = np.abs(r[k].astype(np.float64) - tf[f"qat_dense_layer/{k.split('.')[0]}"])
        assert np.all(diff <= _sum_atol(s, 8)), k
    # the activation grid: 8 bits over [0, 4], nudged: every output a multiple of 4/255
    levels = r["act_q.outputs"] / np.float32(4 / 255)
    assert np.allclose(levels, np.round(levels), atol=1e-4) and r["act_q.outputs"].min() == 0


def test_linear_regression_converges_and_matches_tf(tf, tmp_path, capsys):
    n = 150
    r = _cli([_page("train_linear_regression"), "--cycles", str(n), "--trace", "cost.*"],
             tmp_path, capsys)
    cost, w = r["trace:cost.output"], r["step.out"]            # step.out: w after the last cycle
    assert cost.shape == (n,) and np.all(np.diff(cost[:90]) < 0)    # falls for 90 cycles,
    # then float32 noise only: residuals of ~0.03 from predictions of ~1 carry ~4e-6 relative
    assert np.all(cost[90:] - cost.min() <= 2e-5 * cost.min())
    x, y = r["x.output"].astype(np.float64), r["y.output"].astype(np.float64)
    best = np.linalg.lstsq(x, y, rcond=None)[0]
    assert np.max(np.abs(w - best)) < 2e-6                      # the least-squares weights
    assert cost[-1] == pytest.approx(np.mean((x @ best - y) ** 2), rel=1e-4)
    # TF's run (GradientTape + ResourceApplyGradientDescent, float32): w is bit-identical in
    # this run; the costs differ in the last bits (MatMul's order), measured up to 1.4e-6
    # relative: checked within 1e-5 relative, and w within 8 float32 ulps of 1 (1e-6)
    assert np.max(np.abs(w - tf["train_linear_regression/state/w"])) <= 1e-6
    want = tf["train_linear_regression/cost"].astype(np.float64)
    assert np.all(np.abs(cost - want) <= 1e-5 * np.abs(want))


def test_qat_train_generates_fake_quant_gradients_and_its_cost_falls_as_tfs(tf, tmp_path, capsys):
    page = blockgraph.load_page(_page("qat_train"))
    ops = {bid: b.op for bid, b in page.scope.blocks.items() if bid.startswith("grad__")}
    assert ops["grad__w_q__FakeQuantWithMinMaxVarsPerChannelGradient"] == \
        "FakeQuantWithMinMaxVarsPerChannelGradient"
    assert ops["grad__act_q__FakeQuantWithMinMaxVarsGradient"] == "FakeQuantWithMinMaxVarsGradient"
    n = 300
    state = str(tmp_path / "state.npz")
    r = _cli([_page("qat_train"), "--cycles", str(n), "--trace", "cost.*", "--save-state", state],
             tmp_path, capsys)
    cost = r["trace:cost.output"].astype(np.float64)
    assert cost.shape == (n,)
    assert cost[-1] < cost[0] / 1e4                              # 1.56 -> 2.9e-5
    means = cost.reshape(6, 50).mean(axis=1)                     # falls from one 50-cycle window to the next
    assert np.all(np.diff(means) < 0)
    # TF's run of the same training: every cost bit-identical here (the 8-bit activation grid
    # absorbs MatMul's last-bit differences); w and b end within 1 ulp. Checked: the costs
    # within 1e-4 relative, the Variables within 1e-6
    want = tf["qat_train/cost"].astype(np.float64)
    assert np.all(np.abs(cost - want) <= 1e-4 * want)
    with np.load(state) as s:
        for k in ("w", "b"):
            assert np.max(np.abs(s[k] - tf[f"qat_train/state/{k}"])) <= 1e-6, k
