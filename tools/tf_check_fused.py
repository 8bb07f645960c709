"""Cross-check the fused FakeQuant kernels against real TensorFlow on large tensors (dev-only).

The committed fixtures are small (the fused path sees them only with its thresholds lowered);
this runs all six ops on 1e6-element tensors with special values mixed in (NaN, infinities,
FLT_MAX, denormals, -0.0), per-channel with 7, 1000 and 2048 channels (one channel with min 0,
one with max 0), 8 bits and 4 bits narrow. Two steps, since numba and TensorFlow live in
different venvs here:

    TF_ENABLE_ONEDNN_OPTS=0 /path/to/tf-venv/bin/python tools/tf_check_fused.py make DIR
    .venv/bin/python tools/tf_check_fused.py check DIR

`check` runs each block's compute function (the fused path, as numba is installed) and compares
every non-sum output bit for bit and the min/max sums: equal where finite, and the same NaN/inf
positions. A known difference: TF adds the sums in float32, so a column whose finite terms
overflow float32 and that also holds an infinite term comes out NaN in TF and +-inf here
(float64); those are listed, not counted as failures.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

SPECIAL = np.array([0x7FC00000, 0xFF800000, 0x7F800000, 0x00000001, 0x80000001, 0x80000000,
                    0x7F7FFFFF], np.uint32).view(np.float32)
ARGS = "FakeQuantWithMinMaxArgs"
VARS = "FakeQuantWithMinMaxVars"
PC = "FakeQuantWithMinMaxVarsPerChannel"


def cases(rng):
    """(name, op, inputs, attrs) of every case (numpy only: both steps make the same ones)."""
    def special(n):
        x = (rng.standard_normal(n) * 4).astype(np.float32)
        idx = rng.integers(0, n, n // 50)
        x[idx] = SPECIAL[rng.integers(0, SPECIAL.size, idx.size)]
        return x
    for c in (0, 7, 1000, 2048):
        n = 10**6 - (10**6 % c if c else 0)
        x, g = special(n), special(n)
        if c:
            x, g = x.reshape(-1, c), g.reshape(-1, c)
            lo = (rng.standard_normal(c) * 2 - 3).astype(np.float32)
            hi = (lo + rng.uniform(0.5, 9, c)).astype(np.float32)
            lo[0], lo[1], hi[1] = 0, -2, 0
        else:
            lo, hi = np.float32(-3.3), np.float32(5.1)
        for bits, narrow in ((8, False), (4, True)):
            a = {"num_bits": bits, "narrow_range": narrow}
            tag = f"c{c}_b{bits}{'n' if narrow else ''}"
            if c:
                yield tag, PC, {"inputs": x, "min": lo, "max": hi}, a
                yield tag, PC + "Gradient", {"gradients": g, "inputs": x, "min": lo, "max": hi}, a
                continue
            r = dict(a, min=float(lo), max=float(hi))
            yield tag, ARGS, {"inputs": x}, r
            yield tag, ARGS + "Gradient", {"gradients": g, "inputs": x}, r
            yield tag, VARS, {"inputs": x, "min": lo, "max": hi}, a
            yield tag, VARS + "Gradient", {"gradients": g, "inputs": x, "min": lo, "max": hi}, a


def make(folder):
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import tensorflow as tf
    out = {}
    for tag, op, ins, attrs in cases(np.random.default_rng(5)):
        with tf.device("/CPU:0"):
            r = getattr(tf.raw_ops, op)(**ins, **attrs)
        for i, t in enumerate(r if isinstance(r, (list, tuple)) else [r]):
            out[f"{tag}/{op}/{i}"] = t.numpy()
    os.makedirs(folder, exist_ok=True)
    np.savez(os.path.join(folder, "tf.npz"), **out)
    print(f"wrote {len(out)} TF outputs to {folder}/tf.npz")


def check(folder) -> int:
    from blockgraph.core import registry
    registry.load_library()
    want = np.load(os.path.join(folder, "tf.npz"))
    bad = known = 0
    for tag, op, ins, attrs in cases(np.random.default_rng(5)):
        got = registry.get(op).compute(**ins, **attrs)
        for i, g in enumerate(got if isinstance(got, tuple) else (got,)):
            g, w = np.asarray(g, np.float32), want[f"{tag}/{op}/{i}"]
            if i == 0:
                diff = (g.view(np.uint32) != w.view(np.uint32)) & ~(np.isnan(g) & np.isnan(w))
                problem = f"{int(diff.sum())} elements differ" if diff.any() else None
            else:
                fin = np.isfinite(w) & np.isfinite(g)
                close = np.abs(g[fin].astype(np.float64) - w[fin]) <= 1e-5 * np.abs(w[fin]) + 1e-3
                odd = (np.isnan(g) != np.isnan(w)) | (np.isinf(g) != np.isinf(w))
                overflow = odd & np.isnan(w) & np.isinf(g)      # the known float32 difference
                known += int(overflow.sum())
                odd &= ~overflow
                problem = (f"{int((~close).sum())} sums off, {int(odd.sum())} non-finite unlike TF"
                           if (~close).any() or odd.any() else None)
            print(f"{'BAD ' if problem else 'ok  '} {tag} {op} output {i}" +
                  (f": {problem}" if problem else ""))
            bad += problem is not None
    print(f"{bad} outputs differ; {known} sums NaN in TF (float32 overflow) and inf here")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("make", "check"):
        sys.exit(__doc__)
    sys.exit(make(sys.argv[2]) if sys.argv[1] == "make" else check(sys.argv[2]))
