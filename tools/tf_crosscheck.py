"""Cross-check pages against real TensorFlow, block by block (dev-only: needs tensorflow-cpu).

    TF_ENABLE_ONEDNN_OPTS=0 /path/to/tf-venv/bin/python tools/tf_crosscheck.py examples/*.yaml

Each page is run with blockgraph; then every block is run again as `tf.raw_ops.<op>` on the very
inputs blockgraph gave it, and every output is compared bit for bit (dtype, shape, bytes). Const,
Placeholder and ImmutableConst blocks are sources and are not re-run.
"""
import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402

import blockgraph  # noqa: E402
from blockgraph.run.plan import gather  # noqa: E402
from fixture_lib import _to_numpy, _to_tf  # noqa: E402

SOURCES = {"Const", "Placeholder", "ImmutableConst"}


def tf_value(arr, dtype):
    """An input array as TF sees it (quantized and bfloat16 by their bits)."""
    if dtype == "bfloat16":
        return _to_tf(np.asarray(arr).view(np.uint16), "bfloat16")
    return _to_tf(arr, dtype if dtype in ("qint8", "quint8", "qint16", "quint16", "qint32") else None)


def check_page(path) -> int:
    import tensorflow as tf
    page = blockgraph.load_page(path)
    results = page.run()
    bad = 0
    for bid in page.scope.run_order():
        b, r = page.scope.blocks[bid], results.block(bid)
        if b.op in SOURCES or not r.ok:
            continue
        arrays, dtypes = gather(b, results.blocks)
        kwargs = {}
        for port, v in arrays.items():
            kwargs[port] = [tf_value(a, d) for a, d in zip(v, dtypes[port])] if isinstance(v, list) \
                else tf_value(v, dtypes[port])
        for name, val in b.attrs.items():
            attr = b.defn.attr(name)
            if attr is not None and attr.type == "type":
                val = tf.dtypes.as_dtype(val)
            kwargs[name] = val
        out = getattr(tf.raw_ops, b.op)(**kwargs)
        out = list(out) if isinstance(out, (list, tuple)) and len(b.defn.outputs) > 1 else [out]
        for o, t in zip(b.defn.outputs, out):
            mine = r.outputs[o.name]
            pairs = zip(mine, t) if o.list else [(mine, t)]
            for i, (m, tt) in enumerate(pairs):
                want, _ = _to_numpy(tt)
                got = np.asarray(m)
                if got.dtype.kind == "O":
                    got = got.astype(np.bytes_)
                elif got.dtype.name == "bfloat16":
                    got = got.view(np.uint16)
                same = got.shape == want.shape and got.dtype == want.dtype and got.tobytes() == want.tobytes()
                tag = f"{bid}.{o.name}" + (f".{i}" if o.list else "")
                print(f"{'ok  ' if same else 'DIFF'} {os.path.basename(path)} {tag} {got.dtype}{list(got.shape)}")
                bad += not same
    return bad


if __name__ == "__main__":
    sys.exit(1 if sum(check_page(p) for p in sys.argv[1:]) else 0)
