"""`blockgraph render PAGE [-o FILE.svg|.png|.html] [--results RESULTS.npz] [--run]`: draw a page.

One box per block: its id and op on top, input ports on the left (inline literals with their
value), output ports on the right, attrs that differ from their defaults, and the block's error.
Edges run from an output port to an input port, labelled with the port when the source block has
several outputs; Graphviz's `dot` lays the boxes out left to right in topological order.

With results (a `run --out` file, or `--run` to run the page first) each output port shows dtype,
shape and a short value preview; failed blocks are red with their error, skipped ones grey.
`.html` wraps the SVG in one self-contained inspector page (see `html_inspector`).

A page with problems is still drawn (its invalid blocks red with their errors), and so is a run
with failed blocks; as for `run`, the exit status is then 1 (2 for a usage error, 0 when the page
is valid and, with --run, every block ran).

The `graphviz` package is imported only here and only when drawing, so `blockgraph run` never
pays for it; the `dot` program comes from the OS package `graphviz`.
"""
from __future__ import annotations

import html
import os
import shutil
import sys
import textwrap


from .ports import (InPort, Outcome, OutPort, RenderError, changed_attrs, from_npz, from_results,
                    in_ports, out_port_of, port_rows, preview, value_text)
from ..core.results import write_atomic

FORMATS = (".svg", ".png", ".html")
DOT_HINT = ("rendering needs Graphviz's `dot` program: install it with `apt-get install graphviz` "
            "(Debian/Ubuntu), `brew install graphviz` (macOS) or `conda install graphviz`")
PIP_HINT = "rendering needs the graphviz Python package: pip install 'blockgraph[render]'"

ERROR_LINES = 4       # lines of a block's error in its box
FAMILY_COLORS = {"core": "#e6edf7", "fake_quant": "#fde8c8", "matrix": "#e2f0dd",
                 "spatial": "#ede3f4"}
OTHER_COLORS = ("#dff1f4", "#f6e3e3", "#eef1d9", "#e8e8f6", "#f3ead9")
FAILED, FAILED_BG = "#c62828", "#f8d4d0"
GREY, GREY_BG = "#9e9e9e", "#f0f0f0"
OK = ("ok", "cached")          # statuses of blocks with results
FONT, MONO = "Helvetica,Arial,sans-serif", "Courier,monospace"


# ------------------------------------------------------------------ the diagram

def diagram(page, outcomes: dict | None = None):
    """The page as a `graphviz.Digraph` (nodes carry SVG ids `block-ID`, edges `edge-SRC.PORT-DST.PORT`)."""
    try:
        import graphviz
    except ImportError:
        raise RenderError(PIP_HINT) from None
    scope = page.scope
    desc = page.spec.description if page.spec is not None and page.spec.description else ""
    params = getattr(page, "params", None)
    uses = params.uses if params else {}
    if params:
        desc = desc + "\nparams: " + ", ".join(
            f"{n} = {value_text(p.value)}" for n, p in params.defs.items())
    g = graphviz.Digraph(page.name, graph_attr={
        "rankdir": "LR", "nodesep": "0.25", "ranksep": "0.6", "fontname": FONT, "fontsize": "14",
        "label": "<" + _title(page.name, desc) + ">", "labelloc": "t", "labeljust": "l",
        "bgcolor": "white", "pad": "0.2", "newrank": "true"},
        node_attr={"shape": "plain", "fontname": FONT, "fontsize": "10"},
        edge_attr={"fontname": FONT, "fontsize": "9", "color": "#555555", "arrowsize": "0.7"})
    rows = port_rows(scope, outcomes)
    groups = {}                 # gradient blocks, drawn as a group per AddSymbolicGradients block
    for bid in scope.run_order():
        b = scope.blocks[bid]
        o = outcomes.get(bid) if outcomes else None
        attrs = {"id": f"block-{bid}", "class": f"block {o.status if o else 'static'}"}
        if b.note:
            attrs["tooltip"] = _tooltip(graphviz, b.note)
        label = "<" + node_label(b, o, rows[bid], in_ports(b, uses), outcomes is not None,
                                 uses) + ">"
        owner = scope.origin.get(bid)
        if owner is None:
            g.node(bid, label, **attrs)
            continue
        if owner not in groups:
            groups[owner] = graphviz.Digraph(f"cluster_{owner}", graph_attr={
                "label": f"gradients of '{owner}'", "style": "rounded,dashed", "color": "#8a8a8a",
                "fontsize": "11", "labeljust": "l", "id": f"group-{owner}"})
        groups[owner].node(bid, label, **attrs)
    for sub in groups.values():
        g.subgraph(sub)
    for bid in scope.run_order():
        b = scope.blocks[bid]
        for p in in_ports(b):
            src = scope.blocks.get(p.ref.block) if p.ref is not None else None
            if src is None:
                continue
            tail = out_port_of(src, p.ref, rows[src.id])
            if tail is None:
                continue
            many = sum(1 for r in rows[src.id] if not r.header) > 1
            o = outcomes.get(src.id) if outcomes else None
            g.edge(f"{src.id}:{tail.gv}:e", f"{bid}:{p.gv}:w",
                   id=f"edge-{src.id}.{tail.suffix}-{bid}.{p.label.replace('[', '.').rstrip(']')}",
                   label=graphviz.escape(tail.suffix) if many else None,
                   color=GREY if o is not None and o.status not in OK else None,
                   style="dashed" if o is not None and o.status not in OK else None)
    return g


def _title(name: str, description: str) -> str:
    """The page's name and (wrapped, at most three lines of) description, as an HTML label."""
    text, _, params = description.partition("\nparams: ")
    lines = textwrap.wrap(" ".join(text.split()), 100)
    if len(lines) > 3:
        lines = lines[:3]
        lines[-1] = lines[-1][:96] + " …"
    if params:
        lines += textwrap.wrap("params: " + params, 100)[:3]
    text = f'<B>{_esc(name)}</B><BR ALIGN="LEFT"/>'
    if lines:
        text += ('<FONT POINT-SIZE="10" COLOR="#555555">' +
                 "".join(f'{_esc(x)}<BR ALIGN="LEFT"/>' for x in lines) + "</FONT>")
    return text


def _tooltip(graphviz, text: str):
    """A literal tooltip: dot expands escapes (\\N, \\G, ...) in tooltips twice, so each
    backslash is written as four; nohtml keeps `<...>` text from being read as an HTML label."""
    return graphviz.nohtml(" ".join(text.split()).replace("\\", "\\" * 4))


def node_label(b, o: Outcome | None, outs: list[OutPort], ins: list[InPort], with_results: bool,
               uses=None) -> str:
    """The HTML-like Graphviz label of one block (`uses`: where the page uses parameters)."""
    status = o.status if o else ("failed" if not b.valid else "static")
    grey = status in ("skipped", "missing")
    fg = GREY if grey else "#222222"
    head_bg = FAILED_BG if status == "failed" else GREY_BG if grey else _family_color(b)
    border = FAILED if status == "failed" else GREY if grey else "#555555"
    dashed = ' STYLE="dashed"' if grey else ""
    sub = b.op
    if o is not None and o.seconds is not None and status == "ok":
        sub += f"  ·  {o.seconds * 1e3:.2f} ms"
    elif o is not None and status == "cached":
        sub += f"  ·  cached, saved {o.saved * 1e3:.2f} ms"
    parts = [f'<TABLE BORDER="{2 if status == "failed" else 1}" CELLBORDER="0" CELLSPACING="0" '
             f'CELLPADDING="3" COLOR="{border}" BGCOLOR="white"{dashed}>',
             f'<TR><TD COLSPAN="2" BGCOLOR="{head_bg}"><FONT POINT-SIZE="12" COLOR="{fg}"><B>'
             f'{_esc(b.id)}</B></FONT><BR/><FONT POINT-SIZE="9" COLOR="{fg}">{_esc(sub)}</FONT></TD></TR>']
    left = _ins_table(ins, fg) if ins else ""
    right = _outs_table(outs, fg, with_results) if outs else ""
    if left or right:
        parts.append("<HR/><TR>")
        if left and right:
            parts.append(f'<TD VALIGN="TOP" ALIGN="LEFT">{left}</TD><VR/>'
                         f'<TD VALIGN="TOP" ALIGN="RIGHT">{right}</TD>')
        else:
            parts.append(f'<TD COLSPAN="2" VALIGN="TOP" ALIGN="{"LEFT" if left else "RIGHT"}">'
                         f'{left or right}</TD>')
        parts.append("</TR>")
    attrs = changed_attrs(b, uses)
    if attrs:
        lines = "".join(f'<FONT COLOR="{fg}">{_esc(k)}</FONT>=<FONT FACE="{MONO}" COLOR="{fg}">'
                        f'{_esc(v)}</FONT><BR ALIGN="LEFT"/>' for k, v in attrs)
        parts.append(f'<HR/><TR><TD COLSPAN="2" ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="9">'
                     f'{lines}</FONT></TD></TR>')
    err = (o.error if o is not None else None) or (b.error if not b.valid else None)
    if err and status in ("failed", "skipped", "missing"):
        color = FAILED if status == "failed" else GREY
        parts.append(f'<HR/><TR><TD COLSPAN="2" ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="9" '
                     f'COLOR="{color}">{_wrapped(err)}</FONT></TD></TR>')
    parts.append("</TABLE>")
    return "".join(parts)


def _ins_table(ins: list[InPort], fg: str) -> str:
    rows = []
    for p in ins:
        if p.missing:
            text = f'<FONT COLOR="{FAILED}"><I>{_esc(p.label)} (missing)</I></FONT>'
        elif p.literal is not None:
            text = (f'<FONT COLOR="{fg}">{_esc(p.label)}</FONT> = <FONT FACE="{MONO}" POINT-SIZE="9" '
                    f'COLOR="{fg}">{_esc(value_text(p.literal))}</FONT>')
            if p.param:
                text += f' <FONT POINT-SIZE="8" COLOR="{GREY}">(param {_esc(p.param)})</FONT>'
        else:
            text = f'<FONT COLOR="{fg}">{_esc(p.label)}</FONT>'
        rows.append(f'<TR><TD PORT="{p.gv}" ALIGN="LEFT">{text}</TD></TR>')
    return '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">' + "".join(rows) + "</TABLE>"


def _outs_table(outs: list[OutPort], fg: str, with_results: bool) -> str:
    rows = []
    for r in outs:
        lines = [f'<FONT COLOR="{fg}"><B>{_esc(r.label)}</B></FONT>']
        if not r.header and (r.dtype or r.shape is not None):
            meta = f"{r.dtype or '?'} {shape_text(r.shape)}"
            lines.append(f'<FONT POINT-SIZE="9" COLOR="{fg if r.array is not None else GREY}">'
                         f'{_esc(meta)}</FONT>')
        if r.array is not None:
            lines.append(f'<FONT FACE="{MONO}" POINT-SIZE="9" COLOR="{fg}">'
                         f'{_esc(preview(r.array, r.dtype))}</FONT>')
        elif with_results and not r.header:
            lines.append(f'<FONT POINT-SIZE="9" COLOR="{GREY}"><I>no value</I></FONT>')
        rows.append(f'<TR><TD PORT="{r.gv}" ALIGN="RIGHT" BALIGN="RIGHT">'
                    + '<BR ALIGN="RIGHT"/>'.join(lines) + "</TD></TR>")
    return '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">' + "".join(rows) + "</TABLE>"


def shape_text(shape) -> str:
    """[2,?,3] for a static or known shape ([?] when even the rank is unknown)."""
    if shape is None:
        return "[?]"
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def _wrapped(text: str) -> str:
    lines = textwrap.wrap(" ".join(text.split()), 48) or [""]
    if len(lines) > ERROR_LINES:
        lines = lines[:ERROR_LINES]
        lines[-1] = lines[-1][:46] + " …"
    return '<BR ALIGN="LEFT"/>'.join(_esc(x) for x in lines) + '<BR ALIGN="LEFT"/>'


def _family_color(b) -> str:
    fam = b.defn.family if b.defn else ""
    if fam in FAMILY_COLORS:
        return FAMILY_COLORS[fam]
    return OTHER_COLORS[sum(map(ord, fam)) % len(OTHER_COLORS)]


def _esc(text: str) -> str:
    """Text for a Graphviz HTML-like label (entities escaped, control characters dropped)."""
    return html.escape("".join(c if c >= " " else " " for c in str(text)), quote=False)


# ------------------------------------------------------------------ output

def draw(g, fmt: str) -> bytes:
    """Run `dot` on the graph: SVG or PNG bytes; RenderError when dot is missing or fails."""
    import graphviz
    if shutil.which("dot") is None:
        raise RenderError(DOT_HINT)
    try:
        if fmt == "png":
            g = g.copy()
            g.graph_attr["dpi"] = "110"
        if g.engine == "neato":          # pinned at the page's positions (view.layout)
            return g.pipe(format=fmt, neato_no_op=2)
        return g.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise RenderError(DOT_HINT) from None
    except graphviz.CalledProcessError as e:
        why = (e.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise RenderError(f"dot failed: {why[0] if why else e}") from None


def render(page, out_path: str, outcomes: dict | None = None) -> None:
    """Draw `page` (with `outcomes` when given) to out_path; the format is its extension."""
    ext = os.path.splitext(out_path)[1].lower()
    g = diagram(page, outcomes)
    if shutil.which("dot") is None:
        raise RenderError(DOT_HINT)
    from . import layout
    layout.pin(g, page)              # a page giving every block a pos keeps its layout
    if ext == ".html":
        from .html_inspector import inspector_html
        svg = draw(g, "svg").decode("utf-8")
        data = inspector_html(page, svg, outcomes).encode("utf-8")
    else:
        data = draw(g, ext[1:])
    try:
        write_atomic(out_path, data)
    except OSError as e:
        raise RenderError(f"cannot write {out_path}: {e.strerror or e}") from None


def main(args, feeder=None, params=None) -> int:
    """`blockgraph render`: exit 0 drawn (and every block ran), 1 a problem, 2 a usage error.
    `params`: {name: value} set on the page; `feeder` (the CLI's `feeds` module) reads the
    feeds of `--run` (`feeder.for_page(args, page)`: {id: array} or None after saying why) and
    words a failed placeholder's hint (`feeder.hint(page, id, feed)`)."""
    from ..api import load_page
    from ..core.diagnostics import Diagnostic
    out = args.output or os.path.splitext(args.page)[0] + ".svg"
    try:
        if os.path.abspath(out) == os.path.abspath(args.page):    # an enuSpace page.svg
            if args.output:
                raise RenderError(f"-o {out} is the page itself: name another file", 2)
            out = os.path.splitext(args.page)[0] + ".diagram.svg"
        if os.path.splitext(out)[1].lower() not in FORMATS:
            raise RenderError(f"cannot tell the format of '{out}': use a .svg, .png or .html file", 2)
        if args.results and args.run:
            raise RenderError("give --results FILE or --run, not both", 2)
        if not args.run and (getattr(args, "feed", None) or getattr(args, "feeds", None)):
            raise RenderError("--feed and --feeds are for --run", 2)
        try:
            page = load_page(args.page, allow_outside=args.allow_outside, max_bytes=args.max_bytes,
                             params=params)
        except OSError as e:
            print(f"{args.page}:1:1: error: cannot read the page: {e.strerror or e}", file=sys.stderr)
            return 1
        for d in page.diagnostics:
            print(d.format(), file=sys.stderr)
        if page.scope is None:
            return 1
        ok = not page.errors              # warnings (an imported page's notes) do not fail it
        outcomes = None
        if args.results:
            outcomes = from_npz(args.results, page)
        elif args.run:
            if not page.runnable:
                print(f"{args.page}: error: the page cannot run; drawing it without results",
                      file=sys.stderr)
                ok = False
            else:
                feeds = feeder.for_page(args, page) if feeder is not None else {}
                if feeds is None:
                    return 2
                results = page.run(feeds)
                for r in results:
                    if r.status == "failed" and page.scope.blocks[r.id].valid:
                        line, col = page.locate(r.id, r.error_port)
                        hint = feeder.hint(page, r.id, feeds.get(r.id)) if feeder else r.hint
                        print(Diagnostic(page.path, line, col, r.error, block=r.id, op=r.op,
                                         hint=hint).format(), file=sys.stderr)
                ok = ok and results.ok
                outcomes = from_results(results)
        render(page, out, outcomes)
    except RenderError as e:
        print(f"blockgraph: error: {e}", file=sys.stderr)
        return e.status
    counts = ""
    if outcomes:
        bad = {s: sum(1 for o in outcomes.values() if o.status == s) for s in ("failed", "skipped", "missing")}
        counts = "".join(f", {n} {s}" for s, n in bad.items() if n)
    print(f"wrote {out} ({len(page.scope.blocks)} blocks{counts})")
    return 0 if ok else 1
