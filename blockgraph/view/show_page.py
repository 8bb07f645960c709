"""What a page tells `blockgraph show RESULTS.npz --page PAGE.yaml` about the saved results: the
op behind each key, and for a quantized output (a block whose declaration says so, e.g. the
forward FakeQuant blocks) the tensor it quantized and its exact grid (so the levels are counted
on TF's grid, not guessed from the gaps between values).

Keys of a results file are `BLOCK.PORT[.I]`, with a `PAGE/` prefix when `run` saved several
pages; keys of other pages are left alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.scope import Literal, Ref

@dataclass
class Quantization:
    """The grid a quantized output lies on: min/max and step (one per channel, or 0-d)."""
    num_bits: int
    narrow_range: bool
    min: np.ndarray
    max: np.ndarray
    scale: np.ndarray

    @property
    def levels(self) -> int:
        """How many levels the grid has: 2^num_bits, one fewer with narrow_range."""
        return 2 ** self.num_bits - (1 if self.narrow_range else 0)

    def used(self, y: np.ndarray) -> np.ndarray:
        """Levels used by the finite values of `y`: a count (0-d), or one per channel."""
        y = np.asarray(y, np.float64)
        lo, step = np.asarray(self.min, np.float64), np.asarray(self.scale, np.float64)
        with np.errstate(all="ignore"):
            idx = np.where(step > 0, np.round((y - lo) / np.where(step > 0, step, 1)), 0)
        idx = np.where(np.isfinite(y), idx, np.nan)
        if lo.ndim == 0:
            return np.asarray(np.unique(idx[~np.isnan(idx)]).size)
        cols = idx.reshape(-1, lo.size)
        return np.array([np.unique(c[~np.isnan(c)]).size for c in cols.T])

    def describe(self, y: np.ndarray) -> str:
        """One line: bits, nudged range and step, and the levels used."""
        head = f"quantization: {self.num_bits} bits{', narrow range' if self.narrow_range else ''}"
        used = self.used(y)
        if np.ndim(self.min) == 0:
            return (f"{head}, nudged range [{float(self.min):.6g}, {float(self.max):.6g}], "
                    f"step {float(self.scale):.6g}; {int(used)} of {self.levels} levels used")
        c = used.size
        return (f"{head}, per channel ({c} channels, last axis): nudged min "
                f"{_span(self.min)}, max {_span(self.max)}, step {_span(self.scale)}; levels used "
                f"per channel {int(used.min()) if c else 0}..{int(used.max()) if c else 0} "
                f"(median {float(np.median(used)) if c else 0:g}) of {self.levels}")


def _span(a) -> str:
    a = np.asarray(a, np.float64)
    lo, hi = float(a.min()), float(a.max())
    return f"{lo:.6g}" if lo == hi else f"{lo:.6g}..{hi:.6g}"


class PageView:
    """A loaded page read against the keys of a results file."""

    def __init__(self, page):
        self.page = page

    def block(self, key: str):
        """The page's block behind a results key (None when the key is another page's or names
        no block of this page)."""
        page_name, sep, rest = key.rpartition("/")
        if sep and page_name != self.page.name:
            return None
        return self.page.scope.blocks.get(rest.split(".", 1)[0]) if self.page.scope else None

    def _sha256(self) -> str:
        import hashlib
        text = self.page.source.text if self.page.source is not None else ""
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def not_maker(self, meta: dict) -> str | None:
        """Why a results file whose metadata is `meta` was not made by this page: none of the
        pages that made it has this page's name or text. None when one has (a page edited
        since, or the same text under another file name)."""
        pages = meta.get("pages") or {}
        if not pages or self.page.name in pages:
            return None
        if any(p.get("sha256") == self._sha256() for p in pages.values()):
            return None
        made = ", ".join(f"'{n}' ({p.get('path')})" for n, p in pages.items())
        return f"the file was made by page {made}, not by '{self.page.name}'"

    def changed_since(self, meta: dict) -> str | None:
        """A note when this page's text differs from the one that made the file, or None."""
        entry = (meta.get("pages") or {}).get(self.page.name) or {}
        now = self._sha256()
        if entry.get("sha256") and entry["sha256"] != now:
            return (f"page '{self.page.name}' changed since the file was made (sha256 "
                    f"{entry['sha256'][:12]} then, {now[:12]} now); its blocks still agree")
        return None

    def disagreement(self, tensors: dict) -> str | None:
        """Why the results `tensors` (key -> show.Tensor) cannot come from this page: a key of
        the page's own (no PAGE/ prefix, or its name) naming no output of its blocks, or a
        tensor whose dtype or rank or known dims differ from the output's; or no key of this
        page at all. None when they agree."""
        own = [k for k in tensors if k.rpartition("/")[0] in ("", self.page.name)
               and not k.rpartition("/")[2].startswith("trace:")]       # traces: per cycle
        if not own:
            pages = sorted({k.rpartition("/")[0] for k in tensors})
            return (f"it holds no results of page '{self.page.name}'"
                    + (f" (its pages: {', '.join(pages)})" if pages else ""))
        for key in own:
            why = self._mismatch(key, tensors[key])
            if why:
                return f"'{key}' {why}"
        return None

    def _mismatch(self, key: str, t) -> str | None:
        """Why results key `key` (BLOCK.PORT[.I]) holding tensor `t` is not an output of this page."""
        from ..core import dtypes as dt
        parts = key.rpartition("/")[2].split(".")
        b = self.block(key)
        if b is None:
            ids = list(self.page.scope.blocks)
            return (f"names no block of the page (it has {len(ids)}: {', '.join(ids[:6])}"
                    f"{', ...' if len(ids) > 6 else ''})")
        if b.defn is None:
            return None
        i = next((j for j, o in enumerate(b.defn.outputs) if len(parts) > 1 and o.name == parts[1]), None)
        if i is None:
            return f"names no output of block '{b.id}' ({b.op})"
        spec = b.specs[i] if b.specs is not None else None
        if b.defn.outputs[i].list:
            if len(parts) != 3 or not parts[2].isdigit():
                return f"is not an element of list output '{b.id}.{parts[1]}' ({b.op})"
            spec = spec[int(parts[2])] if spec is not None and int(parts[2]) < len(spec) else None
        elif len(parts) != 2:
            return f"names no output of block '{b.id}' ({b.op})"
        if spec is None or spec.dtype is None:
            return None
        stored = "string" if t.dtype == "string" else t.array.dtype
        if stored != ("string" if spec.dtype == "string" else dt.to_numpy(spec.dtype)) or (
                getattr(t, "exact", False) and t.dtype != spec.dtype):
            return f"holds {t.dtype}, but block '{b.id}' ({b.op}) gives {spec.dtype}"
        shape = t.array.shape
        if spec.shape is not None and (len(shape) != len(spec.shape) or any(
                d is not None and d != s for d, s in zip(spec.shape, shape))):
            return (f"has shape {list(shape)}, but block '{b.id}' ({b.op}) gives "
                    f"{[d if d is not None else '?' for d in spec.shape]}")
        return None

    def source_key(self, key: str, port: str) -> str | None:
        """The results key of what feeds input `port` of the block behind `key` (None for a
        literal or a list port)."""
        b = self.block(key)
        if b is None or port not in b.inputs:
            return None
        ref = b.inputs[port]
        if type(ref) is not Ref:        # a literal, or a list port
            return None
        src = self.page.scope.blocks.get(ref.block)
        name = ref.port or (src.defn.outputs[0].name if src is not None and src.defn else None)
        if name is None:
            return None
        prefix = key.rpartition("/")[0]
        tail = f"{ref.block}.{name}" + (f".{ref.index}" if ref.index is not None else "")
        return f"{prefix}/{tail}" if prefix else tail

    def input_value(self, key: str, port: str, tensors: dict):
        """The value on input `port` of the block behind `key`: a literal, or the saved result
        feeding it; None when the file does not hold it."""
        b = self.block(key)
        v = b.inputs.get(port) if b is not None else None
        if isinstance(v, Literal) and v.array is not None:
            return np.asarray(v.array)
        src = self.source_key(key, port)
        return tensors[src].array if src in tensors else None

    def quantized_input(self, key: str) -> str | None:
        """The input port that the output behind `key` quantizes (its block's declaration
        says), or None."""
        b = self.block(key)
        d = b.defn.describe if b is not None and b.defn is not None else None
        port = key.rpartition("/")[2].split(".")[1] if "." in key else None
        return d.quantizes.get(port) if d is not None else None

    def quantization(self, key: str, tensors: dict) -> Quantization | None:
        """The grid of a quantized output, or None (another key, or its range is not known from
        the page and the file)."""
        if self.quantized_input(key) is None:
            return None
        b = self.block(key)
        if b.defn.describe.grid is None:
            return None
        try:
            g = b.defn.describe.grid(b.attrs, lambda port: self.input_value(key, port, tensors))
        except (ValueError, TypeError):
            return None
        if g is None:
            return None
        return Quantization(g["num_bits"], g["narrow_range"], g["min"], g["max"], g["step"])


def load(path: str) -> PageView:
    """The page at `path` for `show`; ShowError when it cannot be read or has no blocks to go by
    (its problems as `check` prints them, one per line). Problems of single blocks are not
    errors here: the other blocks still explain their results."""
    from ..api import load_page
    from .show import ShowError
    try:
        page = load_page(path)
    except OSError as e:
        raise ShowError(f"cannot read the page {path}: {e.strerror or e}") from None
    if page.scope is None:
        raise ShowError("\n".join(d.format() for d in page.diagnostics), located=True)
    return PageView(page)
