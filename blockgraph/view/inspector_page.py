"""The page of the HTML inspector (`render -o page.html`, `serve`): its markup, style and script,
with %TITLE%, %SVG%, %DATA% and %LIVE% filled in by `html_inspector.inspector_html`.

The script builds the side panel with DOM calls and `textContent` only (text from a page never
becomes markup). The diagram opens fitted to the window; the user's zoom (buttons, Ctrl+wheel)
is kept from then on. With %LIVE% true (`blockgraph serve`) it listens to `events` and, on each
update, fetches `state` and swaps the diagram in place, keeping the zoom, the scroll position and
the selected block.
"""

TEMPLATE = """<!DOCTYPE html>
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
