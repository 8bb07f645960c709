"""Where do TF's packet loop and scalar tail disagree? (dev-only: needs tensorflow-cpu)

    TF_ENABLE_ONEDNN_OPTS=0 python tools/packet_tail_scan.py [OP ...]     # markdown table on stdout

For every element-wise op of the math fixture sets and every float dtype of its CPU kernel, the specials of
math_fixture_util (binary / two-input ops: every pair of them, two different NaNs never paired) are run
twice: as one array padded to a multiple of 16 elements (every element goes through the vectorised
packet loop), and in chunks smaller than one packet (7 elements, 3 for float64: every element goes
through the scalar loop). The table
lists the ops whose two results differ in any bit, with the count and a few examples (input -> packet
result / scalar result). A blockgraph kernel that must be bit-exact has to reproduce both paths: the
packet rule for the first n - n % P elements of the flat output and the scalar rule for the rest, with
P = 8 for float32 / float16 / bfloat16 and 4 for float64 (AVX: Packet8f, Packet8h, Packet8bf, Packet4d).
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from fixture_lib import _to_numpy, _to_tf  # noqa: E402
from fixtures_math_binary import cross  # noqa: E402
from math_fixture_util import FLOATS, cpu_dtypes, f64, specials  # noqa: E402

UNARY = {op: "x" for op in ["Neg", "Abs", "Sign", "Square", "Sqrt", "Floor", "Ceil", "Round", "Rint", "Rsqrt",
                             "Reciprocal", "Exp", "Expm1", "Log", "Log1p", "Sin", "Cos", "Tanh", "Sigmoid", "Erf"]}
UNARY.update({op: "features" for op in ["Relu", "Relu6", "Elu", "Selu", "Softplus", "Softsign", "LeakyRelu"]})
BINARY = {op: ("x", "y") for op in ["Add", "AddV2", "Sub", "Mul", "Div", "RealDiv", "DivNoNan", "FloorDiv", "FloorMod",
                                     "TruncateDiv", "TruncateMod", "Mod", "Maximum", "Minimum", "Pow",
                                     "SquaredDifference", "Atan2"]}
BINARY.update({op: ("gradients", "features") for op in ["ReluGrad", "Relu6Grad", "SoftplusGrad", "SoftsignGrad",
                                                        "LeakyReluGrad"]})
BINARY.update({"EluGrad": ("gradients", "outputs"), "SeluGrad": ("gradients", "outputs")})
BINARY.update({op: ("y", "dy") for op in ["SigmoidGrad", "TanhGrad", "SqrtGrad", "RsqrtGrad", "ReciprocalGrad"]})
BINARY.update({"ClipByValue": None})


def call(op, ports, arrays, dt):
    with tf.device("/CPU:0"):
        kw = {p: _to_tf(a, dt if dt == "bfloat16" else None) for p, a in zip(ports, arrays)}
        return _to_numpy(getattr(tf.raw_ops, op)(**kw))[0]


def both_paths(op, ports, arrays, dt):
    n = len(arrays[0])
    pad = (-n) % 16
    padded = [np.concatenate([a, np.repeat(a[:1], pad)]) for a in arrays]
    packet = call(op, ports, padded, dt)[:n]
    c = 3 if dt == "float64" else 7          # below one packet (4 doubles, 8 floats / halves): all scalar
    scalar = np.concatenate([call(op, ports, [a[i:i + c] for a in arrays], dt) for i in range(0, n, c)])
    return packet, scalar


def fmt(v, dt):
    x = float(f64(np.asarray([v]), dt, daz=False)[0])
    b = np.asarray([v]).view({2: np.uint16, 4: np.uint32, 8: np.uint64}[np.asarray([v]).itemsize])[0]
    return f"{x:.6g}" + (f"(0x{int(b):x})" if x != x or x == 0 or abs(x) < 1.2e-38 else "")


def scan(ops=None):
    rows = []
    for op, op_ports in list(UNARY.items()) + list(BINARY.items()):
        if ops and op not in ops:
            continue
        for dt in [d for d in cpu_dtypes(op) if d in FLOATS]:
            sp = specials(dt)
            ports = op_ports
            if op == "ClipByValue":
                ports = ("t", "clip_value_min", "clip_value_max")
                x, y = cross(sp, sp, dt)
                arrays = [x, y, np.full_like(x, sp[4])]           # max bound 1.0
            elif isinstance(ports, str):
                arrays, ports = [sp], (ports,)
            else:
                arrays = list(cross(sp, sp, dt))
            try:
                packet, scalar = both_paths(op, ports, arrays, dt)
            except tf.errors.OpError as e:
                rows.append((op, dt, -1, str(e)[:80]))
                continue
            w = packet.dtype.itemsize
            pb = packet.view({1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[w])
            sb = scalar.view(pb.dtype)
            diff = np.flatnonzero(pb != sb)
            ex = []
            for i in diff[:2]:
                ins = ", ".join(fmt(a[i], dt) for a in arrays[:2])
                ex.append(f"({ins}) -> {fmt(packet[i], dt)} / {fmt(scalar[i], dt)}")
            rows.append((op, dt, len(diff), "; ".join(ex)))
    return rows


def main(argv):
    rows = scan(set(argv) or None)
    print("| op | dtype | elements that differ | examples: (inputs) -> packet / scalar |")
    print("|---|---|---|---|")
    for op, dt, n, ex in rows:
        if n:
            print(f"| {op} | {dt} | {n if n >= 0 else 'error'} | {ex} |")
    same = sorted({f"{op}/{dt}" for op, dt, n, _ in rows if n == 0})
    print(f"\nNo difference ({len(same)} op/dtype pairs): " + ", ".join(same))


if __name__ == "__main__":
    main(sys.argv[1:])
