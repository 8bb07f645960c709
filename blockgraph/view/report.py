"""Human-readable output: the per-block results table, value previews, block descriptions."""
from __future__ import annotations

import numpy as np

from ..core import dtypes as dt

PREVIEW_CHARS = 48


def preview(a: np.ndarray, dtype: str, width: int = PREVIEW_CHARS) -> str:
    """A one-line preview of a tensor's values, cut to `width` characters."""
    if dtype == "bfloat16":
        a = a.astype(np.float32)
    if dtype == "string":
        a = np.asarray([b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b)
                        for b in a.ravel()[:16]], dtype=object)
    with np.printoptions(threshold=12, edgeitems=3, precision=6, linewidth=10**6):
        if a.ndim:
            text = np.array2string(np.asarray(a), separator=", ")
        else:   # a 0-d tensor: its own dtype's digits (8.564706, not float64's 8.564705848693848)
            text = repr(a[()]) if a.dtype == object else str(a[()])
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def full(a: np.ndarray, dtype: str) -> str:
    """All of a tensor's values, as numpy prints them (summarised past 1000 elements)."""
    if dtype == "bfloat16":
        a = a.astype(np.float32)
    with np.printoptions(threshold=1000, precision=8):
        return np.array2string(np.asarray(a), separator=", ")


def shape_text(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def results_table(results, prefix: str = "", only: dict | None = None) -> str:
    """One row per block output: block, op, port, dtype, shape, values, status, time; with a
    "saved" column (ms a cached block saved) when any is cached. `only` ({block: ports or
    None}, from --only) limits the named blocks' rows to those ports."""
    saved = any(r.status == "cached" for r in results)
    head = ("block", "op", "port", "dtype", "shape", "values", "status", "ms")
    rows = [head + (("saved ms",) if saved else ())]
    for r in results:
        ms = f"{r.seconds * 1e3:.2f}"
        extra = ((f"{r.saved * 1e3:.2f}" if r.status == "cached" else "",) if saved else ())
        if r.ok and r.outputs:
            for suffix, d, a in r.items():
                if only is not None and r.id in only and not _named(only[r.id], suffix):
                    continue
                rows.append((prefix + r.id, r.op, suffix, d, shape_text(a.shape), preview(a, d),
                             r.status, ms) + extra)
        else:
            why = r.error or ""
            rows.append((prefix + r.id, r.op, "-", "-", "-", (why[:PREVIEW_CHARS - 1] + "…")
                         if len(why) > PREVIEW_CHARS else why, r.status,
                         ms if r.status != "skipped" else "-") + extra)
    return _align(rows)


def _named(ports, suffix: str) -> bool:
    return ports is None or suffix in ports or suffix.split(".")[0] in ports


def cache_summary(results) -> str:
    """One line: how many blocks the cache served, the time they saved, how many ran."""
    cached = [r for r in results if r.status == "cached"]
    ran = sum(1 for r in results if r.status in ("ok", "failed"))
    saved = sum(r.saved for r in cached)
    return (f"cache: {len(cached)} cached (saved {saved * 1e3:.2f} ms), {ran} ran"
            + (f", {len(results) - len(cached) - ran} skipped" if len(results) - len(cached) - ran
               else ""))


def _align(rows) -> str:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


def block_list(defs, width: int | None = None) -> str:
    """One row per block: name, family, inputs, outputs, doc; with `width`, the inputs,
    outputs and doc columns wrap onto continuation lines to fit it."""
    rows = [("block", "family", "inputs", "outputs", "doc")]
    for d in defs:
        rows.append((d.name, d.family, ", ".join(p.name + ("[]" if p.list or p.type_list_attr else "")
                                                 for p in d.inputs),
                     ", ".join(o.name + ("[]" if o.list else "") for o in d.outputs), d.doc))
    if width is None:
        return _align(rows)
    return _wrapped(rows, width, wrap=(2, 3, 4))


def _wrapped(rows, width: int, wrap) -> str:
    """`rows` aligned in columns, the `wrap` columns cut into lines so each line fits `width`
    (the others keep their full width). The last wrapped column (the text) gets what the
    others leave, at least 24 characters; the others a fifth of the room each, at least 12
    and their longest word (up to 24)."""
    import textwrap
    n = len(rows[0])
    full = [max(len(str(r[i])) for r in rows) for i in range(n)]
    fixed = sum(full[i] for i in range(n) if i not in wrap) + 2 * (n - 1)
    room = width - 1 - fixed
    widths = list(full)
    if sum(full[i] for i in wrap) > room:
        *narrow, text = wrap
        for i in narrow:
            word = max((len(w) for r in rows for w in str(r[i]).split()), default=0)
            widths[i] = min(full[i], max(12, room // 5, min(word, 24)))
        if sum(widths[i] for i in narrow) + 24 > room:          # the text keeps 24
            for i in narrow:
                widths[i] = min(widths[i], max(12, (room - 24) // len(narrow)))
        widths[text] = min(full[text], max(24, room - sum(widths[i] for i in narrow)))
    lines = []
    for row in rows:
        cells = [textwrap.wrap(str(c), widths[i], break_on_hyphens=False) or [""]
                 if i in wrap else [str(c)] for i, c in enumerate(row)]
        for k in range(max(len(c) for c in cells)):
            lines.append("  ".join((c[k] if k < len(c) else "").ljust(w)
                                   for c, w in zip(cells, widths)).rstrip())
    return "\n".join(lines)


def block_detail(d) -> str:
    """One block: its doc, input ports with dtypes, attrs with defaults, outputs."""
    lines = [f"{d.name}  ({d.family})", f"  {d.doc}", "", "inputs:"]
    for p in d.inputs or []:
        kind = " (list)" if p.list or p.type_list_attr else ""
        lines.append(f"  {p.name}{kind}: {_dtypes(p.dtypes)}" + (f"  [{p.type_attr}]" if p.type_attr else ""))
    if not d.inputs:
        lines.append("  (none)")
    lines.append("attrs:")
    for a in d.attrs:
        extra = "required" if a.required else f"default {a.default!r}"
        if a.min is not None or a.max is not None:
            extra += f", range {a.min}..{a.max}"
        if a.choices:
            extra += ", one of " + ", ".join(map(str, a.choices))
        lines.append(f"  {a.name}: {a.type}, {extra}" + (f"  — {a.doc}" if a.doc else ""))
    if not d.attrs:
        lines.append("  (none)")
    lines.append("outputs:")
    for o in d.outputs:
        lines.append(f"  {o.name}{' (list)' if o.list else ''}: {o.dtype}")
    return "\n".join(lines)


def _dtypes(names) -> str:
    if set(names) == set(dt.ALL):
        return "any dtype"
    return ", ".join(names)
