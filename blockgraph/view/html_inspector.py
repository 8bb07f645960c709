"""The `.html` output of `blockgraph render`: one self-contained file holding the diagram's SVG
and, for every block, its ports, attrs and result tables; clicking a block shows them beside
the diagram.

Everything is inline (CSS, script, data as JSON in a `<script type="application/json">`), so the
file opens from disk with no server, no network and no CDN. The panel is built with DOM calls and
`textContent` only, so text from a page (ids, notes, string tensors) can never become markup.
Tables are cut at MAX_ROWS x MAX_COLS values per tensor (and smaller once a page's total passes
CELL_BUDGET); `blockgraph show` prints any tensor in full.
"""
from __future__ import annotations

import html
import json

import numpy as np

from .ports import Outcome, changed_attrs, in_ports, out_port_of, port_rows, value_text
from .render import shape_text
from .inspector_page import TEMPLATE as _TEMPLATE
from .show import levels, stats, stats_items

MAX_ROWS, MAX_COLS = 100, 20
SMALL_ROWS, SMALL_COLS = 10, 10
CELL_BUDGET = 200_000
ROW_1D = 10          # a long 1-D tensor is shown as rows of this many values


def inspector_html(page, svg: str, outcomes: dict | None, live: bool = False,
                   data: dict | None = None) -> str:
    """The complete HTML document for `page`, its Graphviz SVG and (optional) outcomes. `live`:
    served by `blockgraph serve`, which pushes new versions (`/events`, `/state`)."""
    data = data if data is not None else page_data(page, outcomes)
    text = json_text(data)
    return (_TEMPLATE.replace("%TITLE%", html.escape(page.name if page is not None else data["page"]))
            .replace("%SVG%", inline_svg(svg)).replace("%DATA%", text)
            .replace("%LIVE%", "true" if live else "false"))


def json_text(data: dict) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(data, ensure_ascii=False, allow_nan=False).replace("<", "\\u003c")


def inline_svg(svg: str) -> str:
    """The <svg> element alone (no XML prolog or DOCTYPE, which point at w3.org)."""
    i = svg.find("<svg")
    return svg[i:] if i >= 0 else svg


def page_data(page, outcomes: dict | None) -> dict:
    """What the inspector shows, as JSON-ready data (every number already formatted as text)."""
    scope = page.scope
    budget = [CELL_BUDGET]
    rows = port_rows(scope, outcomes)
    blocks = {}
    for bid in scope.run_order():
        b = scope.blocks[bid]
        o = outcomes.get(bid) if outcomes else None
        blocks[bid] = _block_data(scope, b, o, rows, budget)
    desc = page.spec.description if page.spec is not None and page.spec.description else ""
    return {"page": page.name, "path": page.path, "description": " ".join(desc.split()),
            "results": outcomes is not None, "order": list(blocks), "blocks": blocks,
            "problems": [d.format() for d in page.diagnostics]}


def _block_data(scope, b, o: Outcome | None, rows: dict, budget: list) -> dict:
    status = o.status if o else ("failed" if not b.valid else "not run")
    error = (o.error if o else None) or (b.error if not b.valid else None)
    ins = []
    for p in in_ports(b):
        item = {"port": p.label, "from": None, "block": None, "value": None, "dtype": "", "shape": ""}
        if p.missing:
            item["value"] = "(missing)"
        elif p.ref is not None:
            item["from"], item["block"] = str(p.ref), p.ref.block
            src = scope.blocks.get(p.ref.block)
            tail = out_port_of(src, p.ref, rows[src.id]) if src is not None else None
            if tail is not None:
                item["dtype"], item["shape"] = tail.dtype or "", shape_text(tail.shape)
        elif p.literal is not None:
            item["value"] = value_text(p.literal, 200)
            if p.literal.array is not None:
                item["dtype"], item["shape"] = p.literal.dtype or "", shape_text(p.literal.array.shape)
        ins.append(item)
    changed = {k for k, _ in changed_attrs(b)}
    attrs = [{"name": a.name, "value": value_text(b.attrs.get(a.name), 200),
              "changed": a.name in changed} for a in (b.defn.attrs if b.defn else ()) if a.name in b.attrs]
    quantizes = b.defn.describe.quantizes if b.defn is not None and b.defn.describe else {}
    outs = []
    for r in rows[b.id]:
        if r.header:
            continue
        item = {"key": r.suffix, "dtype": r.dtype or "?", "shape": shape_text(r.shape),
                "stored": o.stored.get(r.suffix) if o else None, "stats": None, "levels": None,
                "table": None}
        if r.array is not None:
            item["stats"] = stats_items(stats(r.array, r.dtype))
            if r.suffix in quantizes:
                n, step = levels(r.array, r.dtype)
                item["levels"] = f"{n} distinct values" + (f" (gaps are multiples of {step:.6g})"
                                                            if step else "")
            item["table"] = value_table(r.array, r.dtype, budget)
        outs.append(item)
    return {"id": b.id, "op": b.op, "family": b.defn.family if b.defn else "",
            "doc": b.defn.doc if b.defn else "", "status": status, "error": error,
            "ms": None if o is None or o.seconds is None else f"{o.seconds * 1e3:.3f}",
            "saved": f"{o.saved * 1e3:.3f}" if o is not None and o.saved else None,
            "note": b.note, "inputs": ins, "attrs": attrs, "outputs": outs}


def value_table(a: np.ndarray, dtype: str, budget: list | None = None) -> dict:
    """A tensor as a table of text cells: {"cols", "rows": [[label, cell...]], "note"}.

    0-D: one cell; 1-D: rows of ROW_1D values; 2-D: rows x columns; N-D: one row per index of
    the leading dims. Cut at MAX_ROWS x MAX_COLS (SMALL_* once `budget` cells are spent)."""
    max_rows, max_cols = (MAX_ROWS, MAX_COLS) if budget is None or budget[0] > 0 else (SMALL_ROWS, SMALL_COLS)
    if a.ndim == 0:
        return {"cols": [""], "rows": [["", _cell(a[()], dtype)]], "note": ""}
    if a.size == 0:
        return {"cols": [], "rows": [], "note": "empty tensor"}
    if a.ndim == 1:
        n = a.shape[0]
        width = min(n, ROW_1D) or 1
        total_rows = -(-n // width)
        labels = [str(i * width) for i in range(min(total_rows, max_rows))]
        cols = [str(j) if n <= ROW_1D else f"+{j}" for j in range(width)]
        grid = [list(a[i * width:(i + 1) * width]) for i in range(len(labels))]
    else:
        grid2 = a.reshape(-1, a.shape[-1])
        lead = a.shape[:-1]
        total_rows = grid2.shape[0]
        labels = [str(i) if a.ndim == 2 else "[" + ",".join(map(str, np.unravel_index(i, lead))) + "]"
                  for i in range(min(total_rows, max_rows))]
        cols = [str(j) for j in range(min(a.shape[-1], max_cols))]
        grid = [list(grid2[i, :max_cols]) for i in range(len(labels))]
    shown_rows = grid[:max_rows]
    rows = [[labels[i]] + [_cell(v, dtype) for v in row[:max_cols]] for i, row in enumerate(shown_rows)]
    cols = cols[:max_cols]
    if budget is not None:
        budget[0] -= sum(len(r) - 1 for r in rows)
    total_cols = a.shape[-1] if a.ndim >= 2 else min(a.shape[0], ROW_1D)
    note = ""
    if total_rows > len(rows) or total_cols > len(cols):
        note = (f"showing {len(rows)} of {total_rows} rows and {len(cols)} of {total_cols} columns "
                f"({a.size} values); blockgraph show RESULTS.npz KEY prints them all")
    return {"cols": cols, "rows": rows, "note": note}


def _cell(v, dtype: str) -> str:
    """One value as numpy writes it (shortest round-trip float text; strings decoded)."""
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, np.generic) and v.dtype.kind in "fc":
        return str(v)
    if isinstance(v, (np.bool_, bool)):
        return str(bool(v))
    return str(v)


__all__ = ["inspector_html", "page_data", "value_table"]
