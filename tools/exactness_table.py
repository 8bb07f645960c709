#!/usr/bin/env python3
"""Measure, per op and dtype, how close blockgraph's outputs are to TensorFlow's on the committed
math/nn fixture cases (tests/fixtures/math_*): the share of float elements that are bit-identical,
the largest ULP distance seen, and for tolerance-compared outputs (reductions, MatMul, conv) the
largest error as a share of the fixture's stated bound. Prints the README's exactness table.

    .venv/bin/python tools/exactness_table.py [--sets math_unary,math_binary] [--json OUT]

Needs no TensorFlow (the expected values are committed). Cases that expect an error are skipped.
The fixtures were made on an Intel CPU, so rcpps/rsqrtps come from the Intel tables (as in the tests).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict

import numpy as np

os.environ.setdefault("BLOCKGRAPH_APPROX", "table")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))

import fixture_cases as fc  # noqa: E402

import blockgraph  # noqa: E402


def _float_view(a, tf_dtype):
    """(values as float64 or complex parts, ordered integer bit patterns) of a float/complex array."""
    a = np.asarray(a)
    if tf_dtype == "bfloat16":
        bits = a.view(np.uint16)
        return [(fc._as_float64(bits, {"tf_dtype": "bfloat16"}), fc._ordered(bits, 16))]
    parts = [a.real, a.imag] if a.dtype.kind == "c" else [a]
    out = []
    for p in parts:
        p = np.ascontiguousarray(p)
        nbits = p.dtype.itemsize * 8
        uint = {16: np.uint16, 32: np.uint32, 64: np.uint64}[nbits]
        out.append((p.astype(np.float64), fc._ordered(p.view(uint), nbits)))
    return out


def measure(got, expected, out):
    """(elements, bit-identical elements, max ulp over finite pairs, max |err|/atol or None)."""
    got = np.asarray(got)
    if out["tf_dtype"] == "bfloat16":
        got = got.view(np.uint16)
    n = int(expected.size)
    same = np.frombuffer(got.tobytes(), np.uint8).reshape(n, -1) == \
        np.frombuffer(expected.tobytes(), np.uint8).reshape(n, -1) if n else np.zeros((0, 1), bool)
    exact = int(same.all(1).sum())
    max_ulp, ratio = 0, None
    for (gf, gi), (ef, ei) in zip(_float_view(got, out["tf_dtype"]), _float_view(expected, out["tf_dtype"])):
        fin = np.isfinite(ef) & np.isfinite(gf)
        if fin.any():
            with np.errstate(over="ignore"):
                max_ulp = max(max_ulp, int(np.abs(gi[fin] - ei[fin]).max()))
    if out["compare"] == "sum":
        atol = np.broadcast_to(np.asarray(fc.z_atol(out) if "atol_key" in out else out["atol"],
                                          np.float64), expected.shape)
        g64, e64 = fc._as_float64(got, out), fc._as_float64(expected, out)
        fin = np.isfinite(e64) & (atol > 0)
        if fin.any():
            ratio = float((np.abs(g64 - e64)[fin] / atol[fin]).max())
    return n, exact, max_ulp, ratio


def run_set(set_name, stats):
    man, z = fc.load_set(set_name)
    fc._ATOL["z"] = z
    for case in man["cases"]:
        if "expect_error" in case or "state_after" in case and case["op"].startswith("Resource"):
            continue
        page, feeds = fc.page_for(case, z)
        import yaml
        p = blockgraph.load_page(os.path.join(fc.const_folder(), f"{fc.safe_id(page['page'])}.yaml"),
                                 text=yaml.safe_dump(page, sort_keys=False))
        if p.diagnostics:
            continue
        blk = p.run(feeds).block("c")
        for out in case["outputs"]:
            if out["tf_dtype"] not in ("float16", "bfloat16", "float32", "float64", "complex64", "complex128"):
                continue
            v = blk.outputs.get(out["port"])
            if "index" in out:
                v = v[out["index"]] if v is not None and out["index"] < len(v) else None
            key = (case["op"], out["tf_dtype"])
            s = stats[key]
            s["cases"] += 1
            if blk.status != "ok" or v is None or np.shape(v) != z[out["key"]].shape:
                s["failed"] += 1
                continue
            n, exact, ulp, ratio = measure(v, z[out["key"]], out)
            s["n"] += n
            s["exact"] += exact
            s["max_ulp"] = max(s["max_ulp"], ulp)
            s["compare"].add(out["compare"])
            if ratio is not None:
                s["max_ratio"] = max(s["max_ratio"], ratio)


def table(stats):
    by_op = defaultdict(list)
    for (op, dtype), s in sorted(stats.items()):
        by_op[op].append((dtype, s))
    lines = ["| op | compared as | dtypes: bit-identical share (largest ULP distance) |", "|---|---|---|"]
    short = {"float16": "f16", "bfloat16": "bf16", "float32": "f32", "float64": "f64",
             "complex64": "c64", "complex128": "c128"}
    for op, rows in by_op.items():
        cmp_ = sorted(set().union(*(s["compare"] for _, s in rows)))
        cells = []
        for dtype, s in rows:
            share = 100.0 * s["exact"] / s["n"] if s["n"] else 100.0
            cell = f"{short[dtype]} {share:.4g}%" if share < 100 else f"{short[dtype]} 100%"
            if s["max_ulp"]:
                cell += f" ({s['max_ulp']} ulp)"
            if s["max_ratio"] > 0:
                cell += f" [{s['max_ratio']:.2g} of bound]"
            if s["failed"]:
                cell += f" FAILED {s['failed']}/{s['cases']}"
            cells.append(cell)
        lines.append(f"| {op} | {', '.join(cmp_)} | {'; '.join(cells)} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", help="comma-separated fixture sets (default: every math_* set)")
    ap.add_argument("--json", help="also write the raw numbers here")
    a = ap.parse_args(argv)
    sets = a.sets.split(",") if a.sets else [s for s in fc.fixture_sets() if s.startswith("math_")]
    stats = defaultdict(lambda: {"cases": 0, "failed": 0, "n": 0, "exact": 0, "max_ulp": 0,
                                 "max_ratio": 0.0, "compare": set()})
    for s in sets:
        print(f"# {s}", file=sys.stderr)
        run_set(s, stats)
    print(table(stats))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({f"{k[0]}/{k[1]}": {**v, "compare": sorted(v["compare"])} for k, v in stats.items()},
                      fh, indent=1)


if __name__ == "__main__":
    main()
