"""What a page's `ClientSession` block runs, as the plugin decides it (`Create_ClientSession`,
`AddPrevFetchObject` in tf_core.cpp):

- each pin linked to its `fetch_outputs` is fetched, and so, recursively, is every block
  upstream of it (through every linked input pin, in pin order, then link order); a block is
  fetched once, with the first of its output pins met (so only that pin's `result_*` is written
  each cycle). InputList blocks are passed through, not fetched; AddSymbolicGradients blocks are
  passed through by the 1.5 plugin (enuSpace 3.x pages) and stop the walk in 2.0.x (4.x pages);
- `run_outputs` take Operations (an `Operation` block, or an op's `operation` pin): they run,
  but nothing is written for them;
- blocks nothing fetched or run needs do not run at all.
"""
from __future__ import annotations

from .mapping import definition
from .model import Document, Node

#: kinds of output pins, as the plugin registers them (AddOutputInfo)
OUTPUT, OUTPUTLIST, ETC, OPERATION = "output", "outputlist", "etc", "operation"


def sessions(doc: Document) -> list[Node]:
    """The page's ClientSession blocks, in file order."""
    return [n for n in doc.nodes.values() if n.is_tf and n.symbol == "ClientSession"]


def output_kind(node: Node, pin: str) -> str:
    if node.symbol == "InputList":
        return OUTPUTLIST
    if node.symbol == "AddSymbolicGradients":
        return ETC
    if node.symbol == "Operation" or pin == "operation":
        return OPERATION
    defn = definition(node.symbol) if node.symbol not in ("Const", "Const_ex", "Variable") else None
    out = defn.output(pin) if defn is not None else None
    return OUTPUTLIST if out is not None and out.list else OUTPUT


def targets(doc: Document, session: Node) -> tuple[list, list]:
    """(links into its fetch_outputs, links into its run_outputs), in file order."""
    return doc.links_into(session.id, "fetch_outputs"), doc.links_into(session.id, "run_outputs")


def upstream(doc: Document, starts) -> set:
    """Every block id that the blocks `starts` need (themselves included), following every link
    between page blocks (what TF runs for those fetches and targets)."""
    seen, stack = set(), [s for s in starts if s in doc.nodes]
    while stack:
        nid = stack.pop()
        if nid in seen:
            continue
        seen.add(nid)
        for k in doc.links_into(nid):
            src = doc.nodes.get(k.src)
            if src is not None and src.is_tf and not k.src_pin.startswith("result_"):
                stack.append(k.src)
    return seen


def written(doc: Document) -> dict[str, list]:
    """{block id: output pins whose `result_*` the plugin writes each cycle} over every session."""
    out: dict[str, list] = {}
    through_gradients = doc.plugin == "1.5"
    for s in sessions(doc):
        fetched: set = set()

        def visit(node: Node):
            for pin in node.pins:
                for k in doc.links_into(node.id, pin):
                    src = doc.nodes.get(k.src)
                    if src is None or not src.is_tf or k.src_pin.startswith("result_"):
                        continue
                    kind = output_kind(src, k.src_pin)
                    if kind == OUTPUT and src.id not in fetched:
                        fetched.add(src.id)
                        out.setdefault(src.id, []).append(k.src_pin)
                        visit(src)
                    elif (kind == OUTPUTLIST or kind == ETC and through_gradients) \
                            and src.id not in fetched:
                        visit(src)

        fetch, _ = targets(doc, s)
        for k in fetch:
            src = doc.nodes.get(k.src)
            if src is None or not src.is_tf:
                continue
            kind = output_kind(src, k.src_pin)
            if kind == OUTPUT:
                fetched.add(src.id)
                pins = out.setdefault(src.id, [])
                if k.src_pin not in pins:
                    pins.append(k.src_pin)
                visit(src)
            elif kind == ETC:
                visit(src)
    return out
