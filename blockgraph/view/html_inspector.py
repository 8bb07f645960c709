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


_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%TITLE% · blockgraph</title>
<style>
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #222; }
body { display: flex; flex-direction: column; }
header { padding: 6px 12px; border-bottom: 1px solid #ccc; display: flex; gap: 12px; align-items: center; background: #fafafa; }
header h1 { font-size: 16px; margin: 0; }
header .desc { color: #555; flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
header input { font: inherit; padding: 2px 6px; width: 14em; }
header button { font: inherit; }
#live { font-size: 12px; color: #777; }
#live.on { color: #2e7d32; } #live.off { color: #b71c1c; }
#banner { display: none; padding: 4px 12px; background: #fdecea; border-bottom: 1px solid #f5c6c0; max-height: 8em; overflow: auto; }
#banner.show { display: block; }
main { flex: 1; display: flex; min-height: 0; }
#diagram { flex: 1; overflow: auto; background: #fff; min-width: 0; }
#diagram svg { display: block; }
#diagram.stale svg { opacity: 0.45; }
#diagram g.node { cursor: pointer; }
#diagram g.node.selected { filter: drop-shadow(0 0 3px #1565c0) drop-shadow(0 0 3px #1565c0); }
#panel { width: 460px; max-width: 50%; min-width: 0; overflow: auto; border-left: 1px solid #ccc; padding: 10px 14px; background: #fcfcfc; }
#panel .scroll { overflow: auto; max-width: 100%; max-height: 26em; }
#panel h2 { margin: 0 0 2px; font-size: 18px; }
#panel h3 { margin: 14px 0 4px; font-size: 14px; }
#panel .op { color: #555; }
#panel .hint { color: #777; }
.badge { display: inline-block; padding: 0 6px; border-radius: 8px; font-size: 12px; background: #e0e0e0; }
.badge.ok { background: #d7ecd9; } .badge.cached { background: #dbe8f6; } .badge.failed { background: #f8d4d0; color: #8e1c1c; }
.error { color: #b71c1c; white-space: pre-wrap; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; }
table.t { border-collapse: collapse; font-size: 12px; margin: 2px 0 6px; }
table.t th, table.t td { border: 1px solid #ddd; padding: 1px 6px; text-align: left; vertical-align: top; }
table.t th { background: #f0f0f0; font-weight: 600; }
table.values td { font-family: ui-monospace, Menlo, Consolas, monospace; text-align: right; }
table.values th.row { text-align: right; color: #555; }
tr.default td { color: #888; }
a.ref { color: #1565c0; cursor: pointer; text-decoration: underline; }
</style>
</head>
<body>
<header>
  <h1 id="title"></h1><span class="desc" id="desc"></span>
  <input id="find" placeholder="block id, Enter" aria-label="find a block">
  <button id="zoom-out" type="button" title="zoom out (Ctrl+wheel)">−</button>
  <button id="fit" type="button" title="fit to the window">fit</button>
  <button id="zoom-in" type="button" title="zoom in (Ctrl+wheel)">+</button>
  <span id="live"></span>
</header>
<div id="banner" class="error"></div>
<main>
<div id="diagram">%SVG%</div>
<aside id="panel"><p class="hint">Click a block to see its ports, attrs and results.</p></aside>
</main>
<script type="application/json" id="bg-data">%DATA%</script>
<script>
"use strict";
const LIVE = %LIVE%;
let DATA = JSON.parse(document.getElementById("bg-data").textContent);
const panel = document.getElementById("panel");
const diagram = document.getElementById("diagram");
let selected = null;
let scale = null;          // null: fitted to the window; else the user's zoom

function header() {
  document.getElementById("title").textContent = DATA.page;
  document.getElementById("desc").textContent = DATA.description;
  document.getElementById("desc").title = DATA.description;
  const banner = document.getElementById("banner");
  banner.textContent = (DATA.problems || []).join("\\n");
  banner.classList.toggle("show", (DATA.problems || []).length > 0);
}

function el(tag, props, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "text") e.textContent = v; else if (k === "cls") e.className = v; else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}
function scroll(t) { return el("div", {cls: "scroll"}, t); }
function table(head, rows, cls) {
  const t = el("table", {cls: "t " + (cls || "")});
  if (head) t.append(el("tr", null, ...head.map(h => el("th", {text: h}))));
  for (const r of rows) t.append(r instanceof Element ? r : el("tr", null, ...r.map(c => c instanceof Element ? el("td", null, c) : el("td", {text: c}))));
  return scroll(t);
}
function node(id) { return document.getElementById("block-" + id); }
function svg() { return diagram.querySelector("svg"); }

// ------------------------------------------------------------------ zoom
function natural() {
  const s = svg(), vb = s && s.viewBox && s.viewBox.baseVal;
  return vb && vb.width ? [vb.width * 4 / 3, vb.height * 4 / 3] : [800, 600];     // pt -> px
}
function fitScale() {
  const [w, h] = natural();
  return Math.min(diagram.clientWidth / w, diagram.clientHeight / h, 1.5);
}
function applyZoom() {
  const s = svg();
  if (!s) return;
  const [w, h] = natural();
  const k = scale === null ? fitScale() : scale;
  s.style.width = (w * k) + "px";
  s.style.height = (h * k) + "px";
  s.removeAttribute("width");
  s.removeAttribute("height");
  document.getElementById("fit").classList.toggle("on", scale === null);
}
function zoom(factor, cx, cy) {
  const old = scale === null ? fitScale() : scale;
  const k = Math.min(Math.max(old * factor, 0.05), 8);
  const r = diagram.getBoundingClientRect();
  const x = (cx === undefined ? r.width / 2 : cx - r.left), y = (cy === undefined ? r.height / 2 : cy - r.top);
  const px = (diagram.scrollLeft + x) / old, py = (diagram.scrollTop + y) / old;
  scale = k;
  applyZoom();
  diagram.scrollLeft = px * k - x;
  diagram.scrollTop = py * k - y;
}
document.getElementById("zoom-in").addEventListener("click", () => zoom(1.25));
document.getElementById("zoom-out").addEventListener("click", () => zoom(0.8));
document.getElementById("fit").addEventListener("click", () => { scale = null; applyZoom(); });
diagram.addEventListener("wheel", ev => {
  if (!ev.ctrlKey) return;
  ev.preventDefault();
  zoom(ev.deltaY < 0 ? 1.1 : 1 / 1.1, ev.clientX, ev.clientY);
}, {passive: false});
window.addEventListener("resize", () => { if (scale === null) applyZoom(); });

// ------------------------------------------------------------------ the panel
function show(id) {
  const b = DATA.blocks[id];
  if (!b) return false;
  selected = id;
  document.querySelectorAll("#diagram g.node.selected").forEach(g => g.classList.remove("selected"));
  const g = node(id);
  if (g) g.classList.add("selected");
  panel.replaceChildren();
  panel.append(el("h2", {text: b.id}));
  panel.append(el("div", {cls: "op", text: b.op + (b.family ? "  (" + b.family + ")" : "")}));
  if (b.doc) panel.append(el("div", {cls: "hint", text: b.doc}));
  const st = el("p", null, el("span", {cls: "badge " + b.status, text: b.status}));
  if (b.ms !== null) st.append(" " + b.ms + " ms");
  if (b.saved) st.append(" (saved " + b.saved + " ms)");
  panel.append(st);
  if (b.error) panel.append(el("div", {cls: "error", text: b.error}));
  if (b.note) panel.append(el("p", {cls: "hint", text: "note: " + b.note}));

  panel.append(el("h3", {text: "inputs"}));
  if (b.inputs.length) {
    panel.append(table(["port", "from", "dtype", "shape"], b.inputs.map(p => {
      let from = p.value;
      if (p.from) { from = el("a", {cls: "ref", text: p.from}); from.addEventListener("click", () => select(p.block, true)); }
      return [p.port, from, p.dtype, p.shape];
    }), "inputs"));
  } else panel.append(el("div", {cls: "hint", text: "(none)"}));

  panel.append(el("h3", {text: "attrs"}));
  if (b.attrs.length) {
    panel.append(table(["attr", "value"], b.attrs.map(a => {
      const tr = el("tr", {cls: a.changed ? "changed" : "default"}, el("td", {text: a.name}), el("td", {text: a.value + (a.changed ? "" : "  (default)")}));
      return tr;
    }), "attrs"));
  } else panel.append(el("div", {cls: "hint", text: "(none)"}));

  panel.append(el("h3", {text: "outputs"}));
  for (const o of b.outputs) {
    const sec = el("section", {cls: "output", "data-key": b.id + "." + o.key});
    sec.append(el("h3", {text: b.id + "." + o.key}));
    sec.append(el("div", {text: o.dtype + " " + o.shape + (o.stored ? "  (stored as " + o.stored + ")" : "")}));
    if (o.stats) {
      sec.append(table(o.stats.map(kv => kv[0]), [o.stats.map(kv => kv[1])], "stats"));
    }
    if (o.levels) sec.append(el("div", {text: "levels used: " + o.levels}));
    if (o.table) {
      const t = el("table", {cls: "t values"});
      if (o.table.cols.length > 1 || o.table.cols[0] !== "") t.append(el("tr", null, el("th"), ...o.table.cols.map(c => el("th", {text: c}))));
      for (const r of o.table.rows) t.append(el("tr", null, el("th", {cls: "row", text: r[0]}), ...r.slice(1).map(c => el("td", {text: c}))));
      sec.append(scroll(t));
      if (o.table.note) sec.append(el("div", {cls: "hint", text: o.table.note}));
    } else {
      sec.append(el("div", {cls: "hint", text: DATA.results ? "no value" : "render with --run or --results to see values"}));
    }
    panel.append(sec);
  }
  if (!b.outputs.length) panel.append(el("div", {cls: "hint", text: "(none)"}));
  return true;
}

function select(id, scrollTo) {
  if (!show(id)) return false;
  history.replaceState(null, "", "#" + encodeURIComponent(id));
  const g = node(id);
  if (scrollTo && g) g.scrollIntoView({block: "center", inline: "center"});
  return true;
}

function bind() {
  document.querySelectorAll("#diagram g.node").forEach(g => {
    g.addEventListener("click", ev => { ev.stopPropagation(); select(g.id.replace(/^block-/, ""), false); });
  });
}
document.getElementById("find").addEventListener("keydown", ev => {
  if (ev.key !== "Enter") return;
  const q = ev.target.value.trim();
  const id = DATA.blocks[q] ? q : DATA.order.find(k => k.toLowerCase().includes(q.toLowerCase()));
  ev.target.style.background = id && select(id, true) ? "" : "#f8d4d0";
});

header();
bind();
applyZoom();
if (location.hash.length > 1) select(decodeURIComponent(location.hash.slice(1)), true);

// ------------------------------------------------------------------ live updates (blockgraph serve)
let version = DATA.version || 0;
function update(state) {
  if (state.version <= version) return;
  version = state.version;
  const left = diagram.scrollLeft, top = diagram.scrollTop, panelTop = panel.scrollTop;
  diagram.classList.toggle("stale", !!state.stale);
  if (state.svg) {
    diagram.innerHTML = state.svg;
    DATA = state.data;
    bind();
    applyZoom();
    diagram.scrollLeft = left;
    diagram.scrollTop = top;
  } else {
    DATA.problems = state.data.problems;
  }
  header();
  if (selected !== null && DATA.blocks[selected]) { show(selected); panel.scrollTop = panelTop; }
  else if (selected !== null) { selected = null; panel.replaceChildren(el("p", {cls: "hint", text: "The block is gone from the page."})); }
  document.dispatchEvent(new CustomEvent("blockgraph:update", {detail: version}));
}
if (LIVE) {
  const live = document.getElementById("live");
  const source = new EventSource("events");
  source.addEventListener("update", () => fetch("state").then(r => r.json()).then(update));
  source.onopen = () => { live.textContent = "● live"; live.className = "on"; };
  source.onerror = () => { live.textContent = "● disconnected"; live.className = "off"; };
}
</script>
</body>
</html>
"""

__all__ = ["inspector_html", "page_data", "value_table"]
