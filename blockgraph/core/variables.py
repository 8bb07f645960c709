"""What a Scope knows of its Variables: how each gets its initial value (`init:` a literal, a
file, or another block evaluated once before the first cycle), which update block updates
each one, and the checks that make cycles well defined:

- an update block's ref port (`var`, `ref`, `accum`, `m`, ...) must be fed directly by a
  Variable block (it is updated in place), or by a value fed from outside the page (a Placeholder:
  the block then computes one update of that value and outputs it, keeping
  nothing: a warning says so);
- a Variable is updated by at most one block (TF leaves the order of two updates undefined);
- an `init:` block must not depend on a Variable (it is evaluated before any cycle).
"""
from __future__ import annotations

from .nodes import REF, Block, Ref
from .page import FileValue, TensorLiteral

#: Blocks fed from outside the page: an update fed by one computes a single step of that value.
VALUE_SOURCES = ("Placeholder", "PlaceholderWithDefault")


def take_init(scope, b: Block, spec, path: tuple):
    """The block's `init:` as the prepare hook wants it ({value, dtype} or {file, key}), or None;
    a reference is kept on `b.init` instead (checked once the blocks are connected)."""
    init = spec.init
    if init is None:
        return None
    if not b.defn.variable:
        scope._diag(b, path + ("init",), f"only Variable blocks take 'init' ({b.op} has no state)")
        return None
    if isinstance(init, str):
        m = REF.match(init)
        if not m:
            scope._diag(b, path + ("init",), f"bad reference '{init}': use BLOCK or BLOCK.PORT",
                        key=False)
            return None
        b.init = Ref(m.group(1), m.group(2), None if m.group(3) is None else int(m.group(3)))
        return None
    if isinstance(init, FileValue):
        return {"file": init.file, "key": init.key}
    if isinstance(init, TensorLiteral):
        return {"value": init.value, "dtype": init.dtype}
    return {"value": init}


def check(scope) -> None:
    """The Variable checks of a connected Scope (see the module docstring)."""
    updated_by: dict[str, str] = {}
    for b in scope.blocks.values():
        if b.defn is None:
            continue
        if b.init is not None:
            _check_init(scope, b)
        for port in b.defn.ref_ports:
            ref = b.inputs.get(port)
            path = ("blocks", b.id, "inputs", port)
            src = scope.blocks.get(ref.block) if isinstance(ref, Ref) else None
            if src is None or src.defn is None:
                if not isinstance(ref, Ref):
                    scope._diag(b, path, f"input '{port}' is updated in place: it must be a Variable "
                                "block (VariableV2), not a literal", key=False, port=port)
                continue
            if src.op in VALUE_SOURCES:
                scope._diag(b, path, f"input '{port}' is {src.op} '{ref.block}', not a Variable: "
                            "the block outputs one update of its value and keeps nothing",
                            key=False, port=port, severity="warning",
                            hint="feed it from a VariableV2 block to train across cycles")
                continue
            if not src.defn.variable:
                scope._diag(b, path, f"input '{port}' is updated in place: it must be a Variable "
                            f"block (VariableV2), but '{ref.block}' is {src.op}", key=False, port=port)
                continue
            first = updated_by.get(src.id)
            if first is not None:
                scope._diag(b, path, f"variable '{src.id}' is already updated by block '{first}': "
                            "two updates of one Variable in a cycle have no defined order",
                            key=False, port=port,
                            hint="compute both changes in one update, or update another Variable")
                continue
            updated_by[src.id] = b.id
    scope.updated_by = updated_by


def _check_init(scope, b: Block) -> None:
    ref = b.init
    if not scope._check_ref(b, "init", ref, path=("blocks", b.id, "init")):
        b.init = None
        return
    stateful = [a for a in sorted(_ancestors(scope, ref.block) | {ref.block})
                if scope.blocks[a].defn is not None and scope.blocks[a].defn.stateful]
    if stateful:
        scope._diag(b, ("blocks", b.id, "init"), f"init of variable '{b.id}' depends on "
                    f"'{stateful[0]}', which holds or updates state: an init is evaluated once, "
                    "before any cycle", key=False)


def _ancestors(scope, bid: str) -> set:
    import networkx as nx
    return nx.ancestors(scope.graph, bid)


def init_blocks(scope) -> set:
    """Every block that the `init:` references of the page need (their upstream closure)."""
    need = set()
    for b in scope.blocks.values():
        if b.init is not None:
            need |= _ancestors(scope, b.init.block) | {b.init.block}
    return need
