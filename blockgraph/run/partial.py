"""Partial runs: `--only BLOCK[.PORT]...` (`page.run(feeds, only=[...])`) runs just what those
outputs need, their upstream closure, and the results hold only those blocks.

A Variable in the closure brings the block that updates it (and what that block needs), so
over several cycles the named outputs get the values a full run gives them.
"""
from __future__ import annotations

from ..core.diagnostics import did_you_mean
from ..core.errors import UsageError
from ..core.nodes import REF


def parse(scope, items) -> dict:
    """{block id: set of ports named, or None for the whole block} from BLOCK[.PORT[.I]]
    strings; UsageError naming the first that names nothing in the page."""
    wanted: dict = {}
    for item in items:
        m = REF.match(str(item).strip())
        if not m:
            raise UsageError(f"--only {item!r}: use BLOCK or BLOCK.PORT")
        bid, port = m.group(1), m.group(2)
        b = scope.blocks.get(bid)
        if b is None:
            hint = did_you_mean(bid, scope.blocks)
            raise UsageError(f"--only {item}: page '{scope.name}' has no block '{bid}'"
                             + (f" ({hint})" if hint else ""))
        if port is not None and b.defn is not None and b.output_index(port) is None:
            names = [o.name for o in b.defn.outputs]
            hint = did_you_mean(port, names) or "outputs: " + ", ".join(names)
            raise UsageError(f"--only {item}: block '{bid}' ({b.op}) has no output '{port}' ({hint})")
        if port is None:
            wanted[bid] = None
        elif wanted.get(bid, set()) is not None:
            wanted.setdefault(bid, set()).add(port if m.group(3) is None else f"{port}.{m.group(3)}")
    return wanted


def closure(scope, blocks) -> frozenset:
    """`blocks` and everything upstream of them, with the update block of every Variable
    among them (and its upstream), to a fixed point."""
    preds: dict = {bid: set() for bid in scope.blocks}
    for u, v, *_ in scope.edges:
        preds[v].add(u)
    need: set = set()
    todo = list(blocks)
    while todo:
        bid = todo.pop()
        if bid in need:
            continue
        need.add(bid)
        todo.extend(preds[bid] - need)
        updater = scope.updated_by.get(bid)
        if updater is not None and updater not in need:
            todo.append(updater)
    return frozenset(need)


def shown(wanted: dict, block: str, suffix: str) -> bool:
    """Whether a results row (BLOCK, PORT[.I]) is one the table shows: every row of a block
    not named with a port, else the named ports."""
    ports = wanted.get(block)
    if ports is None:
        return True
    return suffix in ports or suffix.split(".")[0] in ports
