"""`blockgraph show RESULTS.npz [BLOCK[.PORT]] [--plot FILE.png] [--page PAGE.yaml]`: look at
saved results.

Without a key: one row per tensor of the file (dtype, shape, statistics, a preview). With a key:
each matching tensor printed as numpy prints it (summarised past 1000 values), its dtype and
shape, and its statistics (min, max, mean, std, NaN / inf / zero counts; for FakeQuant outputs the
number of distinct levels used). `--plot` draws a histogram (a heatmap for 2-D tensors; for a
FakeQuant output the input-vs-output staircase when its input is in the file) with matplotlib's
Agg backend. `--page` reads the page that made the file (`show_page`): the op of each block,
FakeQuant levels counted on the exact nudged grid, the staircase against the block's own input.

The .npz holds numpy dtypes only; its `__meta__` entry (`core.resultmeta`, written by `run
--out` and sweeps) gives each key's TF dtype (quint8, not its integer base uint8) and op, and
the page that made it (a `--page` naming another page is refused). Files without it are read
as before: quantized tensors show as their integer base, and bfloat16 (stored by numpy as
2-byte void) is read back as bfloat16. The tensor helpers here (`load_npz`,
`stats`, `levels`) also serve `render`, so both commands describe a tensor the same way.
matplotlib is imported only for `--plot`.
"""
from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass

import numpy as np

from ..core.errors import UsageError
from . import report

class ShowError(UsageError):
    """A problem to report as one line (exit status in `.status`)."""

    def __init__(self, message: str, status: int = 1, located: bool = False):
        super().__init__(message)
        self.status = status
        self.located = located      # the message already says FILE:LINE:COL: error: ...


@dataclass
class Tensor:
    """One array of a results file: its key (BLOCK.PORT[.I], maybe PAGE/ first), dtype name and
    values. `stored` is the numpy dtype in the file when it differs from `dtype` (bfloat16)."""
    key: str
    dtype: str
    array: np.ndarray
    stored: str | None = None
    op: str | None = None            # from the file's metadata
    exact: bool = False              # dtype is the TF name the file's metadata gives

    @property
    def block(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def port(self) -> str | None:
        parts = self.key.split(".")
        return parts[1] if len(parts) > 1 else None


# ------------------------------------------------------------------ reading

def dtype_name(a: np.ndarray) -> tuple[str, np.ndarray, str | None]:
    """(dtype name, array, stored numpy dtype or None) for an array read from an .npz.

    Bytes/str arrays are `string`; 2-byte void arrays are bfloat16 (numpy stores ml_dtypes'
    bfloat16 so, and blockgraph's feeds read them the same way)."""
    from ..core import dtypes as dt
    if a.dtype.kind == "V" and a.dtype.itemsize == 2 and a.dtype.fields is None:
        return "bfloat16", a.view(dt.to_numpy("bfloat16")), str(a.dtype)
    try:
        return dt.from_numpy(a.dtype), a, None
    except dt.DTypeError:
        return str(a.dtype), a, None


def load_npz(path: str, max_bytes: int | None = None) -> dict[str, Tensor]:
    """Every array of a results .npz, in file order, as {key: Tensor} (see `read`)."""
    return read(path, max_bytes)[0]


def read(path: str, max_bytes: int | None = None) -> tuple[dict[str, Tensor], dict | None]:
    """({key: Tensor} of every array of a results .npz in file order, its metadata or None);
    ShowError when unreadable or when an array would need more than `max_bytes` (default: half
    the physical memory). The metadata names each key's TF dtype and op."""
    from ..core import dtypes as dt
    from ..core import npyio, resultmeta
    from ..core.budget import default_max_bytes
    from ..core.errors import FileReadError
    try:
        if npyio.is_npy(path):
            raise ShowError(f"{path} is a single .npy array, not a results .npz (run --out FILE.npz)")
        with npyio.Npz(path) as z:
            meta = resultmeta.decode(z.load(resultmeta.KEY)) if resultmeta.KEY in z else None
            known = (meta or {}).get("keys", {})
            out = {}
            for k in z.keys:
                if k == resultmeta.KEY:
                    continue
                name, arr, stored = dtype_name(z.load(k, max_bytes or default_max_bytes()))
                t = Tensor(k, name, arr, stored)
                info = known.get(k) or {}
                tf = info.get("dtype")
                if tf and tf != name and tf in dt.NUMPY and tf != "string" and \
                        dt.to_numpy(tf) == arr.dtype:
                    t.dtype = tf                     # quint8 held as uint8, ...
                t.exact = bool(tf) and t.dtype == tf
                t.op = info.get("op")
                out[k] = t
            return out, meta
    except FileReadError as e:
        raise ShowError(f"cannot read {path} as a results .npz: {e}") from None


def select(tensors: dict[str, Tensor], key: str) -> list[Tensor]:
    """The tensors named by BLOCK, BLOCK.PORT or BLOCK.PORT.I (also with a PAGE/ prefix, or
    without one when the file holds several pages and the name is unique)."""
    def matching(keys, want):
        return [k for k in keys if k == want or k.startswith(want + ".")]
    found = matching(tensors, key)
    if not found and "/" not in key:
        found = [k for k in tensors if "/" in k and matching([k.split("/", 1)[1]], key)]
        pages = {k.split("/", 1)[0] for k in found}
        if len(pages) > 1:
            raise ShowError(f"'{key}' is in several pages ({', '.join(sorted(pages))}): "
                            f"write PAGE/{key}")
    if not found:
        from ..core.diagnostics import did_you_mean
        names = sorted({k.split(".")[0] for k in tensors} | {".".join(k.split(".")[:2]) for k in tensors})
        hint = did_you_mean(key, names)
        raise ShowError(f"no result '{key}' in the file" + (f"; {hint}" if hint else
                        f" (it has {len(tensors)}: {', '.join(list(tensors)[:6])}"
                        f"{', ...' if len(tensors) > 6 else ''})"))
    return [tensors[k] for k in found]


# ------------------------------------------------------------------ statistics

def numeric(a: np.ndarray, dtype: str) -> np.ndarray | None:
    """The array as numbers numpy can reduce (bfloat16 -> float32), or None for strings."""
    if dtype == "string" or a.dtype.kind in "SUO":
        return None
    if dtype == "bfloat16" or a.dtype.kind == "V":
        return a.astype(np.float32)
    return a


def stats(a: np.ndarray, dtype: str) -> dict:
    """Summary statistics: count, and as applicable min, max, mean, std (of the finite values;
    float64 arithmetic), nan, inf, zeros, true (bool), distinct (strings)."""
    x = numeric(a, dtype)
    out: dict = {"count": int(a.size)}
    if x is None:
        out["distinct"] = len(set(a.ravel().tolist()))
        return out
    if x.dtype.kind == "b":
        out["true"] = int(np.count_nonzero(x))
        out["false"] = int(x.size - out["true"])
        return out
    if x.dtype.kind == "c":
        out["nan"] = int(np.count_nonzero(np.isnan(x)))
        out["inf"] = int(np.count_nonzero(np.isinf(x)))
        out["zeros"] = int(np.count_nonzero(x == 0))
        fin = x[np.isfinite(x)].astype(np.complex128)
        if fin.size:
            mag = np.abs(fin)
            out.update(min_abs=float(mag.min()), max_abs=float(mag.max()), mean=complex(fin.mean()),
                       std=float(fin.std()))
        return out
    out["zeros"] = int(np.count_nonzero(x == 0))
    if x.dtype.kind == "f":
        out["nan"] = int(np.count_nonzero(np.isnan(x)))
        out["inf"] = int(np.count_nonzero(np.isinf(x)))
        fin = x[np.isfinite(x)]
    else:
        fin = x
    if fin.size:
        lo, hi = fin.min(), fin.max()
        out["min"] = lo.item()
        out["max"] = hi.item()
        f64 = fin.astype(np.float64)
        out["mean"] = float(f64.mean())
        out["std"] = float(f64.std())
    return out


def levels(a: np.ndarray, dtype: str) -> tuple[int, float | None]:
    """(distinct finite values, step of the grid they lie on): for a FakeQuant output the
    quantization levels used and its scale. The step is the tolerant GCD of the gaps between the
    values, checked to put every value on the grid; else it is the smallest gap."""
    x = numeric(a, dtype)
    if x is None or x.dtype.kind not in "fiu":
        return 0, None
    u = np.unique(x[np.isfinite(x)] if x.dtype.kind == "f" else x).astype(np.float64)
    if u.size < 2:
        return int(u.size), None
    gaps = np.diff(u)
    smallest = float(gaps.min())
    if x.dtype.kind in "iu":
        return int(u.size), float(np.gcd.reduce(gaps.astype(np.int64)))
    tol = 64 * float(np.finfo(x.dtype).eps) * float(np.abs(u).max())
    step = smallest
    for g in gaps:
        a, b = max(g, step), min(g, step)
        while b > tol:
            r = a % b
            a, b = b, (0.0 if min(r, b - r) <= tol else r)
        step = a
    k = (u - u[0]) / step
    if step > tol and np.all(np.abs(k - np.round(k)) < 1e-2):
        return int(u.size), step
    return int(u.size), smallest


def quantized_port(port: str | None) -> bool:
    """True when `port` is an output name that only quantizing blocks use (their declarations
    say so: the forward FakeQuant blocks' `outputs`), so a BLOCK.PORT key of a results file can
    be recognised without the page."""
    if not port:
        return False
    from ..core import registry
    users = [registry.get(n) for n in registry.names()]
    users = [d for d in users if any(o.name == port for o in d.outputs)]
    return bool(users) and all(d.describe is not None and port in d.describe.quantizes for d in users)


def num(v) -> str:
    """A statistic as short text (6 significant digits for floats)."""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, complex):
        return f"{v.real:.6g}{v.imag:+.6g}j"
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


STATS_ORDER = ("min", "max", "min_abs", "max_abs", "mean", "std", "nan", "inf", "zeros", "true",
               "false", "distinct", "count")


def stats_items(s: dict) -> list[tuple[str, str]]:
    """The statistics of `stats` as (name, text) pairs in the order both commands print them."""
    return [(k.replace("_", " "), num(s[k])) for k in STATS_ORDER if k in s]


def stats_line(s: dict) -> str:
    """The statistics of `stats` as one line: 'min 0  max 4  mean 2  std 1.4  nan 0  ...'."""
    return "  ".join(f"{k} {v}" for k, v in stats_items(s))


# ------------------------------------------------------------------ printing

def describe(t: Tensor, linewidth: int | None = None, view=None, tensors=None) -> str:
    """A tensor as `show BLOCK.PORT` prints it: header, numpy repr, statistics, levels.
    With `view` (a `show_page.PageView`) the header names the block's op, and a FakeQuant
    output's levels are counted on its nudged grid (its min/max from the page or `tensors`)."""
    stored = f" (stored as {t.stored})" if t.stored else ""
    b = view.block(t.key) if view is not None else None
    op = f"  ({b.op})" if b is not None else f"  ({t.op})" if t.op else ""
    lines = [f"{t.key}: {t.dtype}{stored} {report.shape_text(t.array.shape)}{op}"]
    width = linewidth or min(max(shutil.get_terminal_size((100, 20)).columns, 60), 200)
    a = t.array.astype(np.float32) if t.dtype == "bfloat16" else t.array
    with np.printoptions(threshold=1000, edgeitems=3, linewidth=width):
        lines.append(repr(a))
    s = stats(t.array, t.dtype)
    lines.append(stats_line(s))
    q = view.quantization(t.key, tensors or {}) if b is not None else None
    y = numeric(t.array, t.dtype) if q is not None else None
    if y is not None:
        lines.append(q.describe(y))
    elif quantized_port(t.port) and (b is None or view.quantized_input(t.key) is not None):
        n, step = levels(t.array, t.dtype)
        lines.append(f"levels: {n} distinct values used" + (f" (gaps are multiples of {step:.6g})"
                                                           if step else "") + "  [FakeQuant output]")
    return "\n".join(lines)


def table(tensors: dict[str, Tensor], view=None) -> str:
    """One row per tensor: key, (with `view`: the block's op,) dtype, shape, min, max, mean, nan,
    inf, values."""
    ops = view is not None or any(t.op for t in tensors.values())
    rows = [("key",) + (("op",) if ops else ()) + ("dtype", "shape", "min", "max", "mean", "nan",
                                                    "inf", "values")]
    for t in tensors.values():
        s = stats(t.array, t.dtype)
        b = view.block(t.key) if view else None
        op = b.op if b is not None else t.op
        rows.append((t.key,) + ((op or "-",) if ops else ()) + (
                     t.dtype, report.shape_text(t.array.shape),
                     *(num(s[k]) if k in s else "-" for k in ("min", "max", "mean", "nan", "inf")),
                     report.preview(t.array, t.dtype, width=40)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


# ------------------------------------------------------------------ command

def main(args) -> int:
    """`blockgraph show`: exit 0, 1 (unreadable file, unknown key, cannot plot) or 2 (usage)."""
    try:
        if getattr(args, "per_channel", False) and not args.plot:
            raise ShowError("--per-channel is for --plot", status=2)
        tensors, meta = read(args.results)
        view = None
        if getattr(args, "page", None):
            from .show_page import load as load_view
            view = load_view(args.page)
            why = view.not_maker(meta) if meta else None
            why = why or view.disagreement(tensors)
            if why:
                raise ShowError(f"{args.page} did not make {args.results}: {why}")
            changed = view.changed_since(meta) if meta else None
            if changed:
                print(f"blockgraph: note: {changed}", file=sys.stderr)
        if not args.key:
            if meta:
                from ..core.resultmeta import describe as made_by
                print(f"{args.results}: {made_by(meta)}")
            if not args.plot:
                print(table(tensors, view) if tensors else f"{args.results}: no results")
                return 0
            from .plots import every_tensor
            selected = every_tensor(tensors)
        else:
            selected = select(tensors, args.key)
            print("\n\n".join(describe(t, view=view, tensors=tensors) for t in selected))
        if args.plot:
            from .plots import plot
            for line in plot(selected, tensors, args.plot, view,
                             per_channel=getattr(args, "per_channel", False)):
                print(f"plotted {line}", file=sys.stderr)
            print(f"wrote {args.plot}", file=sys.stderr)
        return 0
    except ShowError as e:
        print(e if e.located else f"blockgraph: error: {e}", file=sys.stderr)
        return e.status
