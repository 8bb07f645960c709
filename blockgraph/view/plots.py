"""`show --plot`: a PNG with one row per tensor (histogram, heatmap (2-D), per channel with
`--per-channel`, and for a quantized output the input-vs-output staircase against the block's
own input with `--page`, else a tensor of the file that it is a quantization of); a trace
(`trace:BLOCK.PORT`, one value per cycle on its first axis) is drawn as a trend over the cycles: a line per element up to
TREND_LINES elements, else its min-max band, mean and median. Without a key every tensor of the
file gets one panel of a grid. A single value is written, not drawn as a one-bar histogram.
matplotlib's Agg backend, imported here only.
"""
from __future__ import annotations

import numpy as np

from . import report
from .show import ShowError, Tensor, levels, numeric, quantized_port

MAX_PLOTTED = 6     # tensors in one --plot figure (a row each)
MAX_GRID = 16       # tensors in the grid of `show FILE --plot` (no key: a panel each)
GRID_COLUMNS = 4
MAX_BOXES = 32      # channels drawn as boxes (more: a band)
TREND_LINES = 8     # a trace of at most this many elements per cycle gets a line per element


def is_trace(t: Tensor) -> bool:
    """A trace of `run --trace`: key trace:BLOCK.PORT (maybe PAGE/ first), cycles on axis 0."""
    return t.key.rpartition("/")[2].startswith("trace:") and t.array.ndim >= 1


def staircase_input(tensors: dict[str, Tensor], out: Tensor) -> Tensor | None:
    """The input of a FakeQuant output found among the file's tensors: the first other float
    tensor of the same shape that `out` is a quantization of (out non-decreasing in it, and within
    half a step of it inside the output's range). None when there is no such tensor."""
    y = numeric(out.array, out.dtype)
    if y is None or y.dtype.kind != "f" or y.size < 2:
        return None
    n, step = levels(out.array, out.dtype)
    if step is None:
        return None
    y = y.astype(np.float64).ravel()
    for t in tensors.values():
        if t.key == out.key or t.array.shape != out.array.shape:
            continue
        x = numeric(t.array, t.dtype)
        if x is None or x.dtype.kind != "f" or quantized_port(t.port):
            continue
        x = x.astype(np.float64).ravel()
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() < 2:
            continue
        xs, ys = x[ok], y[ok]
        order = np.argsort(xs, kind="stable")
        if np.any(np.diff(ys[order]) < -1e-6 * max(abs(step), 1e-30)):
            continue
        inside = (xs >= ys.min()) & (xs <= ys.max())
        if np.all(np.abs(xs[inside] - ys[inside]) <= step * 0.5 * (1 + 1e-3) + 1e-7):
            return t
    return None


def every_tensor(tensors: dict[str, Tensor]) -> list[Tensor]:
    """The tensors `show FILE --plot OUT` (no key) draws, one panel each: every numeric one, at
    most MAX_GRID (else ShowError saying which to pick)."""
    found = [t for t in tensors.values() if numeric(t.array, t.dtype) is not None]
    if not found:
        raise ShowError("nothing to plot: the file holds no numeric tensors")
    if len(found) > MAX_GRID:
        blocks = list(dict.fromkeys(t.block for t in found))
        raise ShowError(f"the file holds {len(found)} tensors, more than the {MAX_GRID} one plot "
                        f"shows: pick some with a key, e.g. show FILE {blocks[0]} --plot OUT.png "
                        f"(blocks: {', '.join(blocks[:8])}{', ...' if len(blocks) > 8 else ''})", 2)
    return found


def is_scalar(t: Tensor) -> bool:
    """A single value: printed in its panel, not drawn as a one-bar histogram."""
    return t.array.size == 1 and not is_trace(t)


def _panels(t: Tensor, x: np.ndarray, tensors, view, per_channel: bool, overview: bool):
    """(panel kinds, staircase source) of one tensor."""
    if is_trace(t):
        return ["trend"], None
    if is_scalar(t):
        return ["value"], None
    channels = per_channel and x.ndim >= 2 and x.shape[-1] > 1 and x.size
    if overview:
        return ["channels" if channels else "hist"], None
    panels = ["hist"] + (["heat"] if x.ndim == 2 and x.size else []) + (["channels"] if channels else [])
    src = _staircase_source(t, tensors, view)
    return panels + (["stairs"] if src is not None else []), src


def plot(selected: list[Tensor], tensors: dict[str, Tensor], path: str, view=None,
         per_channel: bool = False, overview: bool | None = None) -> list[str]:
    """Save a PNG: one row per tensor (histogram, heatmap (2-D), channels (`per_channel`),
    staircase (FakeQuant)), or with `overview` (default: every tensor of the file is selected)
    one panel per tensor in a grid. A single value is written in its panel, not drawn.
    Returns a line per tensor saying what was drawn. With `view` (a `show_page.PageView`) the
    staircase is drawn against the tensor the page feeds the FakeQuant block, when saved."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ShowError("--plot needs matplotlib: pip install 'blockgraph[render]'") from None
    if overview is None:
        overview = len(selected) > 1 and len(selected) == len(tensors)
    limit = MAX_GRID if overview else MAX_PLOTTED
    rows = []
    for t in selected[:limit]:
        x = numeric(t.array, t.dtype)
        if x is None:
            raise ShowError(f"cannot plot '{t.key}': it holds strings")
        if x.dtype.kind == "c":
            x = np.abs(x)
        panels, src = _panels(t, x, tensors, view, per_channel, overview)
        rows.append((t, x, panels, src))
    if overview:
        ncols = min(GRID_COLUMNS, len(rows))
        nrows = -(-len(rows) // ncols)
        cells = [(i // ncols, i % ncols) for i in range(len(rows))]
    else:
        ncols = max(len(p) for _, _, p, _ in rows)
        nrows = len(rows)
        cells = [(r, 0) for r in range(len(rows))]
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 3.8 * nrows), squeeze=False)
    used = set()
    said = []
    for (t, x, panels, src), (r, c0) in zip(rows, cells):
        for c, kind in enumerate(panels, start=c0):
            used.add((r, c))
            _draw(kind, fig, axes[r][c], t, x, src)
        said.append(f"{t.key}: " + ", ".join(_said(k, t, x, src) for k in panels))
    for r in range(nrows):
        for c in range(ncols):
            if (r, c) not in used:
                axes[r][c].axis("off")
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=100)
    except OSError as e:
        raise ShowError(f"cannot write {path}: {e.strerror or e}") from None
    finally:
        plt.close(fig)
    if len(selected) > limit:
        said.append(f"(plotted the first {limit} of {len(selected)} tensors)")
    return said


def _draw(kind, fig, ax, t, x, src):
    if kind == "hist":
        _histogram(ax, t, x)
    elif kind == "heat":
        _heatmap(fig, ax, t, x)
    elif kind == "trend":
        _trend(ax, t, x)
    elif kind == "value":
        _value(ax, t, x)
    elif kind == "channels":
        _channels(ax, t, x)
    else:
        _staircase(ax, t, src)


def _said(kind, t, x, src) -> str:
    if kind == "value":
        return f"a single value, {_scalar_text(t, x)} (written, not drawn)"
    if kind == "channels":
        return f"per channel ({x.shape[-1]} channels, last axis)"
    return {"hist": "histogram", "heat": "heatmap", "trend": f"trend over {x.shape[0]} cycles",
            "stairs": f"staircase against {src.key if src else ''}"}[kind]


def _scalar_text(t: Tensor, x: np.ndarray) -> str:
    return report.preview(t.array.reshape(()) if t.array.size == 1 else t.array, t.dtype)


def _value(ax, t: Tensor, x: np.ndarray):
    """A single value, written large in its panel."""
    ax.axis("off")
    ax.set_title(_title(t), fontsize=9)
    ax.text(0.5, 0.5, _scalar_text(t, x), ha="center", va="center", fontsize=20,
            transform=ax.transAxes, family="monospace")


def _channels(ax, t: Tensor, x: np.ndarray):
    """The distribution of each channel (last axis): boxes up to MAX_BOXES channels, else the
    min-max band, mean and median per channel."""
    y = x.reshape(-1, x.shape[-1]).astype(np.float64)
    c = y.shape[1]
    ax.set_title(f"{t.key}  {t.dtype} {report.shape_text(t.array.shape)} per channel", fontsize=9)
    ax.set_xlabel("channel (last axis)")
    ax.set_ylabel("value")
    cols = [col[np.isfinite(col)] for col in y.T]
    if c <= MAX_BOXES:
        ax.boxplot(cols, positions=np.arange(c), widths=0.6, showfliers=False)
        step = max(1, c // 16)
        ax.set_xticks(np.arange(0, c, step), [str(i) for i in range(0, c, step)])
        return
    with np.errstate(all="ignore"):
        idx = np.arange(c)
        ax.fill_between(idx, np.nanmin(y, axis=0), np.nanmax(y, axis=0), alpha=0.25,
                        label="min..max")
        ax.plot(idx, np.nanmean(y, axis=0), lw=1.2, label="mean")
        ax.plot(idx, np.nanmedian(y, axis=0), lw=1, ls="--", label="median")
    ax.legend(fontsize=7, loc="best")
    _integer_ticks(ax.xaxis)


def _staircase_source(t: Tensor, tensors: dict, view) -> Tensor | None:
    """The input to plot a quantized output against: the page's when known, else a guess."""
    port = view.quantized_input(t.key) if view is not None else None
    if port is not None and view.quantization(t.key, tensors) is not None:
        key = view.source_key(t.key, port)
        return tensors.get(key) if key else None
    return staircase_input(tensors, t) if quantized_port(t.port) else None


def _title(t: Tensor) -> str:
    return f"{t.key}  {t.dtype} {report.shape_text(t.array.shape)}"


def _histogram(ax, t: Tensor, x: np.ndarray):
    x = x.astype(np.float64) if x.dtype.kind in "bfiu" else x
    fin = x[np.isfinite(x)].ravel()
    ax.set_title(_title(t), fontsize=9)
    ax.set_xlabel("value")
    ax.set_ylabel("count")
    if not fin.size:
        ax.text(0.5, 0.5, "no finite values", ha="center", va="center", transform=ax.transAxes)
        return
    u = np.unique(fin)
    if u.size <= 64:          # few distinct values (levels, ints, bools): one bar per value
        counts = np.array([np.count_nonzero(fin == v) for v in u])
        width = np.diff(u).min() * 0.8 if u.size > 1 else 0.8
        ax.bar(u, counts, width=width, color="#4c72b0")
    else:
        ax.hist(fin, bins=min(60, max(10, int(np.sqrt(fin.size)))), color="#4c72b0")
    _integer_ticks(ax.yaxis)
    bad = x.size - fin.size
    if bad:
        ax.set_xlabel(f"value ({bad} NaN/inf not shown)")


def _heatmap(fig, ax, t: Tensor, x: np.ndarray):
    im = ax.imshow(x.astype(np.float64), aspect="auto", interpolation="nearest", cmap="viridis")
    fig.colorbar(im, ax=ax)
    ax.set_title(f"{t.key} (rows x columns)", fontsize=9)
    ax.set_xlabel("column")
    ax.set_ylabel("row")
    _integer_ticks(ax.xaxis)
    _integer_ticks(ax.yaxis)


def _integer_ticks(axis):
    from matplotlib.ticker import MaxNLocator
    axis.set_major_locator(MaxNLocator(integer=True))


def _staircase(ax, t: Tensor, src: Tensor):
    """Output against input: the samples, the levels they land on, and output = input. Only the
    samples are drawn (no line between them), so sparse inputs show no invented steps; dense
    inputs trace the quantizer's staircase."""
    x = numeric(src.array, src.dtype).astype(np.float64).ravel()
    y = numeric(t.array, t.dtype).astype(np.float64).ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    xs, ys = x[ok], y[ok]
    used = np.unique(ys)
    if used.size <= 64:
        for v in used:
            ax.axhline(v, color="#e3b7b8", lw=0.8, zorder=0)
    lo, hi = float(min(xs.min(), ys.min())), float(max(xs.max(), ys.max()))
    ax.plot([lo, hi], [lo, hi], ls="--", color="#999999", lw=1, label="output = input")
    ax.plot(xs, ys, ".", color="#c44e52", ms=7 if xs.size < 50 else 3, label="samples")
    ax.set_title(f"{t.key} vs {src.key}: {used.size} levels used", fontsize=9)
    ax.set_xlabel(f"input ({src.key})")
    ax.set_ylabel(f"output ({t.key})")
    ax.legend(fontsize=8, loc="upper left")


def _trend(ax, t: Tensor, x: np.ndarray):
    """A trace over its cycles: one line per element (few), else min-max band, mean, median."""
    cycles = np.arange(1, x.shape[0] + 1)
    y = x.reshape(x.shape[0], -1).astype(np.float64)
    ax.set_title(f"{t.key}  {t.dtype} {report.shape_text(t.array.shape[1:])} per cycle", fontsize=9)
    ax.set_xlabel("cycle")
    ax.set_ylabel("value")
    if y.shape[1] <= TREND_LINES:
        for j in range(y.shape[1]):
            ax.plot(cycles, y[:, j], lw=1.2, label=f"[{j}]" if y.shape[1] > 1 else None)
        if y.shape[1] > 1:
            ax.legend(fontsize=7, loc="best")
    else:
        with np.errstate(all="ignore"):
            lo, hi = np.nanmin(y, axis=1), np.nanmax(y, axis=1)
            ax.fill_between(cycles, lo, hi, alpha=0.25, label="min..max")
            ax.plot(cycles, np.nanmean(y, axis=1), lw=1.2, label="mean")
            ax.plot(cycles, np.nanmedian(y, axis=1), lw=1, ls="--", label="median")
        ax.legend(fontsize=7, loc="best")
    finite = y[np.isfinite(y)]
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 1e3:
        ax.set_yscale("log")        # cost curves fall over decades
