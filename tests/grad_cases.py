"""Gradient fixture sets (tests/fixtures/grad_*/, and the shared acceptance set's format): run a
case's page through blockgraph and compare each `g.grad_outputs.K` with TF's gradient."""
from __future__ import annotations

import json
import os
import re

import numpy as np

import blockgraph
from fixture_cases import FIXTURES, Arrays, const_folder, safe_id


def grad_sets() -> list[str]:
    if not os.path.isdir(FIXTURES):
        return []
    return sorted(d for d in os.listdir(FIXTURES) if d.startswith("grad_")
                  and os.path.isfile(os.path.join(FIXTURES, d, "cases.json")))


_CACHE = {}


def load(name):
    if name not in _CACHE:
        d = os.path.join(FIXTURES, name)
        with open(os.path.join(d, "cases.json")) as fh:
            man = json.load(fh)
        _CACHE[name] = (man, Arrays(os.path.join(d, man["npz"])))
    return _CACHE[name]


_PLACEHOLDER_SHAPE = re.compile(r"(\{op: Placeholder, attrs: \{dtype: \w+)(, shape: \[([^\]]*)\])")


def unknown_shapes(page: str, mode: str) -> str:
    """The page with every Placeholder's shape made unknown before the run: "batch" makes its
    first dim null (`[null, 3]`; a scalar stays `[]`), "rank" omits the shape."""
    def sub(m):
        if mode == "rank":
            return m.group(1)
        dims = m.group(3).split(",")
        return m.group(0) if not m.group(3).strip() else \
            f"{m.group(1)}, shape: [null{''.join(',' + d for d in dims[1:])}]"
    out, n = _PLACEHOLDER_SHAPE.subn(sub, page)
    assert n == page.count("op: Placeholder"), "a Placeholder this rewrite does not know"
    return out


def check(name, case, shapes: str | None = None) -> list[str]:
    """Problems with one gradient case (empty: it passes); `shapes` ("batch", "rank") runs it
    with its Placeholders' shapes unknown (`unknown_shapes`)."""
    _, z = load(name)
    path = os.path.join(const_folder(), f"grad_{safe_id(case['id'])}.yaml")
    text = case["page"] if shapes is None else unknown_shapes(case["page"], shapes)
    page = blockgraph.load_page(path, text=text)
    if page.diagnostics:
        return [d.format() for d in page.diagnostics]
    feeds = {k: z[v] for k, v in case["feeds"].items()}
    r = page.run(feeds)
    if not r.ok:
        return [f"{b.id} ({b.op}) {b.status}: {b.error}" for b in r if not b.ok][:3]
    problems = []
    for out in case["outputs"]:
        got, want = np.asarray(r[out["result"]]), z[out["key"]]
        if got.dtype != want.dtype or got.shape != want.shape:
            problems.append(f"{out['result']}: {got.dtype}{list(got.shape)} != {want.dtype}{list(want.shape)}")
            continue
        if out["compare"] == "exact":
            if got.tobytes() != want.tobytes():
                w = got.dtype.itemsize
                ne = (np.frombuffer(got.tobytes(), np.uint8).reshape(-1, w) !=
                      np.frombuffer(want.tobytes(), np.uint8).reshape(-1, w)).any(1)
                i = int(np.flatnonzero(ne)[0])
                problems.append(f"{out['result']} (d/d {out['wrt']}): not bit-exact, e.g. "
                                f"[{i}] {got.ravel()[i]!r} vs TF {want.ravel()[i]!r}")
            continue
        atol = z[out["atol_key"]]
        g, w = got.astype(np.float64), want.astype(np.float64)
        with np.errstate(invalid="ignore"):
            ok = np.where(np.isfinite(w), np.abs(g - w) <= atol,
                          np.where(np.isnan(w), np.isnan(g), g == w))
        if not np.all(ok):
            i = int(np.flatnonzero(~ok.ravel())[0])
            problems.append(f"{out['result']} (d/d {out['wrt']}): {int((~ok).sum())}/{ok.size} "
                            f"beyond atol, e.g. [{i}] {g.ravel()[i]!r} vs TF {w.ravel()[i]!r} "
                            f"(atol {np.ravel(atol)[i]:.3g})")
    return problems
