"""`sweep --summarize BLOCK.PORT[:STAT]`: a column of the sweep's index per chosen output, so
that settings can be compared in one table. An output of one element gives its value; a larger
one the statistic STAT of its values (mean by default; min, max, std, sum, norm), computed in
float64 over all of its elements (a NaN gives NaN)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.diagnostics import did_you_mean
from ..core.errors import UsageError

STATS = ("mean", "min", "max", "std", "sum", "norm")


@dataclass(frozen=True)
class Column:
    """One summarized output: its key (BLOCK.PORT[.I]), the statistic, and its column label."""
    key: str
    stat: str | None

    @property
    def label(self) -> str:
        return self.key + (f":{self.stat}" if self.stat else "")


def parse(specs, scope) -> list[Column]:
    """The columns of `--summarize` specs, each naming an output of `scope`'s blocks; UsageError
    (a SweepError when raised by the sweep) saying what is wrong otherwise."""
    out = []
    for spec in specs or ():
        key, _, stat = spec.partition(":")
        if stat and stat not in STATS:
            raise UsageError(f"--summarize {spec}: unknown statistic '{stat}' (one of "
                             f"{', '.join(STATS)})" + _hint(did_you_mean(stat, STATS)))
        parts = key.split(".")
        b = scope.blocks.get(parts[0])
        if b is None:
            raise UsageError(f"--summarize {spec}: no block '{parts[0]}' in the page"
                             + _hint(did_you_mean(parts[0], scope.blocks)))
        if b.defn is not None:
            names = [o.name for o in b.defn.outputs]
            port = parts[1] if len(parts) > 1 else (names[0] if names else None)
            if port not in names or len(parts) > 3:
                raise UsageError(f"--summarize {spec}: block '{b.id}' ({b.op}) has no output "
                                 f"'{'.'.join(parts[1:])}' (outputs: {', '.join(names)})")
            key = ".".join([b.id, port, *parts[2:]])
        out.append(Column(key, stat or None))
    if len({c.label for c in out}) != len(out):
        raise UsageError("--summarize: an output is given twice")
    return out


def keep_patterns(columns) -> list[str]:
    """The keys a sweep must keep (with --keep) to summarize them."""
    return [c.key.rsplit(".", 1)[0] if c.key.count(".") == 2 else c.key for c in columns]


def values(results, columns) -> dict:
    """{label: value} of one run's Results (None where the output has no value)."""
    out = {}
    for c in columns:
        try:
            a = results[c.key]
        except (KeyError, IndexError, ValueError):
            out[c.label] = None
            continue
        out[c.label] = _summary(np.asarray(a), c.stat)
    return out


def _summary(a: np.ndarray, stat: str | None):
    if a.dtype == object or a.dtype.kind in "SU":
        if a.size == 1:
            v = a.reshape(-1)[0]
            return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
        return None
    if a.dtype.kind == "V" or a.dtype.name == "bfloat16":
        a = a.astype(np.float32)
    if a.size == 1 and stat is None:
        v = a.reshape(-1)[0].item()
        return [v.real, v.imag] if isinstance(v, complex) else v
    if a.size == 0:
        return None
    x = np.abs(a) if a.dtype.kind == "c" and stat != "sum" else a
    x = x.astype(np.complex128 if x.dtype.kind == "c" else np.float64)
    fn = {"mean": np.mean, "min": np.min, "max": np.max, "std": np.std, "sum": np.sum,
          "norm": np.linalg.norm}[stat or "mean"]
    v = fn(x.ravel())
    v = complex(v) if np.iscomplexobj(v) else float(v)
    return [v.real, v.imag] if isinstance(v, complex) else v


def _hint(h) -> str:
    return f" ({h})" if h else ""
