"""The gradient registry, and the expansion of `AddSymbolicGradients` blocks into ordinary
gradient blocks of the page (as TF's `tf.gradients` / C++ `AddSymbolicGradients` add ops).

A gradient function is declared next to its op, in the manner of TF's Python
`@ops.RegisterGradient` functions (`math_grad.py`, `nn_grad.py`, `array_grad.py`), and made of
the same ops, so a page's gradients are TF's bit for bit where those ops are exact:

    @gradient("Mul")
    def _mul_grad(op, grad):
        return {"x": op.add("Mul", x=grad, y=op.input("y")),
                "y": op.add("Mul", x=op.input("x"), y=grad)}

`op` (an `OpView`) reads the forward block (`input(port)`, `output(port)`, `attrs`, the static
`spec(port)`) and adds blocks (`add(op_name, **inputs_and_attrs)` returns a reference to the new
block's first output, or `add(..., port="z")`); `grad` is the gradient flowing into its first
output (None when none does), `op.grads` all of them. It returns {input port: reference or
None} (a list for a list port). `no_gradient(...)` declares ops whose outputs carry none
(Shape, ArgMax, comparisons, ...).

`expand(scope, spec)` returns the page's spec with the gradient blocks added (ids
`G__BLOCK__...`, after the page's own blocks) and each AddSymbolicGradients block wired to the
gradients it outputs (its `grads` port), so `check`, `run`, results and diagrams see them as
any block.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import registry
from .diagnostics import Diagnostic
from .nodes import Literal, Ref
from .page import BlockSpec, PageSpec, TensorLiteral

GRADIENTS: dict = {}            # op name -> gradient function
NO_GRADIENT: dict = {}          # op name -> module declaring that its outputs carry no gradient
GRADIENT_OP = "AddSymbolicGradients"
#: dtypes a gradient flows through (TF: floating and complex tensors)
DIFFERENTIABLE = ("float16", "bfloat16", "float32", "float64", "complex64", "complex128")


def gradient(*ops):
    """Register the decorated function as the gradient of `ops`."""
    def register(fn):
        for op in ops:
            if op in GRADIENTS:
                raise ValueError(f"gradient of {op!r} registered twice")
            GRADIENTS[op] = fn
        return fn
    return register


def no_gradient(*ops):
    """Declare that the outputs of `ops` carry no gradient (TF's NotDifferentiable)."""
    import sys
    module = sys._getframe(1).f_globals.get("__name__", "")
    for op in ops:
        NO_GRADIENT[op] = module


def lookup(op: str):
    """The gradient function of `op`, None (it has none), or NO_GRADIENT's marker `False` (its
    outputs carry none). Imports the module that declares it when needed: the op's own family,
    else the one the block index names for it (`grad:OP`)."""
    for attempt in range(3):
        if op in GRADIENTS:
            return GRADIENTS[op]
        if op in NO_GRADIENT:
            return False
        if attempt == 0:
            registry.get(op)
        elif attempt == 1:
            registry.load_gradients(op)
    return None


class GradientError(Exception):
    """A gradient that cannot be built (no gradient function, PreventGradient): its message,
    the block it concerns."""

    def __init__(self, message: str, block: str):
        super().__init__(message)
        self.message, self.block = message, block


@dataclass
class _Builder:
    """Adds blocks for one AddSymbolicGradients block `g`: ids G__<forward block>__<op>[_k]."""
    g: str
    taken: set
    blocks: dict = field(default_factory=dict)
    specs: dict = field(default_factory=dict)

    def add(self, op: str, owner: str, port: str | None, values: dict) -> str:
        inputs, attrs = {}, {}
        defn = registry.get(op)
        if defn is None:
            raise GradientError(f"the gradient of '{owner}' needs op '{op}', which is not "
                                "available", owner)
        for k, v in values.items():
            (inputs if defn.input(k) is not None else attrs)[k] = _input_value(v)
        base = re.sub(r"[^A-Za-z0-9_]", "_", f"{self.g}__{owner}__{op}")
        bid, n = base, 1
        while bid in self.taken:
            bid, n = f"{base}_{n}", n + 1
        self.taken.add(bid)
        self.blocks[bid] = BlockSpec.model_construct(op=op, inputs=inputs, attrs=attrs, init=None,
                                                     note=f"gradient of '{owner}' for '{self.g}'",
                                                     pos=None)
        return bid if port is None else f"{bid}.{port}"


def _input_value(v):
    if isinstance(v, (list, tuple)):
        return [_input_value(x) for x in v]
    if isinstance(v, dict) and "value" in v:
        return TensorLiteral.model_construct(value=v["value"], dtype=v.get("dtype"))
    return v


class OpView:
    """A forward block as its gradient function sees it, and the way to add gradient blocks."""

    def __init__(self, scope, block, builder: _Builder, grads: list):
        self._scope, self._b, self._builder = scope, block, builder
        self.grads = grads
        self.type = block.op
        self.attrs = block.attrs
        self.id = block.id

    def input(self, port: str, index: int | None = None) -> str | object:
        """The reference (or literal value) feeding input `port` (item `index` of a list port)."""
        v = self._b.inputs[port]
        if index is not None:
            v = v[index]
        return _as_value(v)

    def inputs(self, port: str) -> list:
        return [_as_value(v) for v in self._b.inputs[port]]

    def output(self, port: str | None = None, index: int | None = None) -> str:
        """The reference of one of this block's outputs."""
        name = port or self._b.defn.outputs[0].name
        return f"{self.id}.{name}" + ("" if index is None else f".{index}")

    def spec(self, port: str, index: int | None = None):
        """The static Spec (dtype, shape, maybe value) of input `port` (item `index`)."""
        s = self._scope.input_spec(self._b, port)
        return s[index] if index is not None and isinstance(s, list) else s

    def out_spec(self, port: str | None = None):
        i = self._b.output_index(port)
        return None if self._b.specs is None else self._b.specs[i]

    def add(self, op: str, port: str | None = None, **values) -> str:
        """Add a block of `op` (its inputs and attrs by name; references, literals, or
        {value, dtype}); returns the reference of its first output (or of `port`)."""
        return self._builder.add(op, self.id, port, values)


def _as_value(v):
    if isinstance(v, Ref):
        return str(v)
    if isinstance(v, Literal):
        return {"value": v.array.tolist() if v.array is not None else v.value,
                "dtype": v.dtype}
    return v


def expand(scope, spec: PageSpec):
    """(the spec with every AddSymbolicGradients block expanded, {new block id: the user block
    it is located at}, [Diagnostic]) — or (spec, {}, []) when the page has none."""
    gs = [b for b in scope.blocks.values() if b.defn is not None and b.defn.name == GRADIENT_OP]
    if not gs:
        return spec, {}, []
    blocks = dict(spec.blocks)
    origin, diags = {}, []
    taken = set(blocks)
    for g in gs:
        if not g.valid or scope.order is None:
            continue
        builder = _Builder(g.id, taken)
        try:
            grads = _backprop(scope, g, builder)
        except GradientError as e:
            line, col = scope.mark(("blocks", g.id))
            diags.append(Diagnostic(scope.path, line, col, e.message, block=g.id, op=g.op))
            continue
        except Exception as e:  # noqa: BLE001 - a bug in a gradient function: located, not a crash
            line, col = scope.mark(("blocks", g.id))
            diags.append(Diagnostic(scope.path, line, col, f"internal error while building the "
                                    f"gradients: {type(e).__name__}: {e}", block=g.id, op=g.op))
            continue
        blocks.update(builder.blocks)
        origin.update({bid: g.id for bid in builder.blocks})
        old = blocks[g.id]
        blocks[g.id] = old.model_copy(update={"inputs": {**old.inputs, "grads": grads}})
    return spec.model_copy(update={"blocks": blocks}), origin, diags


def _refs_of(v):
    return [x for x in (v if isinstance(v, list) else [v]) if isinstance(x, Ref)]


def _backprop(scope, g, builder: _Builder) -> list:
    """The references of d(sum of g's outputs)/d(each of g's inputs), adding the blocks that
    compute them."""
    ys = [r for r in _refs_of(g.inputs.get("outputs", []))]
    xs = [r for r in _refs_of(g.inputs.get("inputs", []))]
    # the blocks between: upstream of some y and downstream of some x
    import networkx as nx
    graph = scope.graph
    up = set()
    for y in ys:
        up |= nx.ancestors(graph, y.block) | {y.block}
    down = set()
    for x in xs:
        down |= nx.descendants(graph, x.block) | {x.block}
    between = up & down
    bad = next((b for b in scope.order if b in up and not scope.blocks[b].valid), None)
    if bad is not None:
        raise GradientError(f"gradients not built: block '{bad}' on the path is invalid (see its error)", bad)
    order = [b for b in scope.order if b in between]
    # gradient contributions per output: {(block, port, index): [refs]}
    pending: dict = {}
    for y in ys:
        src = scope.blocks[y.block]
        key = _out_key(src, y)
        pending.setdefault(key, []).append(builder.add("OnesLike", y.block, None, {"x": str(y)}))
    for bid in reversed(order):
        b = scope.blocks[bid]
        if not any(r.block in between for _, r in b.refs()):
            continue            # a source of the path (an input): nothing above it to reach
        grads = [_output_grads(builder, b, o, pending) for o in b.defn.outputs]
        if all(gr is None or gr == [] or (isinstance(gr, list) and all(x is None for x in gr))
               for gr in grads):
            continue
        fn = lookup(b.op)
        if fn is False:
            continue
        if fn is None:
            raise GradientError(f"No gradient defined for operation '{bid}' (op type: {b.op}), "
                                f"on the path from {', '.join(map(str, xs))} to "
                                f"{', '.join(map(str, ys))}", bid)
        result = fn(OpView(scope, b, builder, grads), grads[0] if grads else None)
        for port, gr in (result or {}).items():
            v = b.inputs.get(port)
            items = v if isinstance(v, list) else [v]
            grs = gr if isinstance(gr, list) else [gr]
            for item, one in zip(items, grs):
                if one is None or not isinstance(item, Ref) or item.block not in between:
                    continue
                if _differentiable(scope, item):
                    pending.setdefault(_out_key(scope.blocks[item.block], item), []).append(one)
    out = []
    for x in xs:
        key = _out_key(scope.blocks[x.block], x)
        total = _total(builder, x.block, pending.get(key), False)
        out.append(total if total is not None else builder.add("ZerosLike", x.block, None, {"x": str(x)}))
    return out


def _output_grads(builder, b, out, pending):
    """The gradient flowing into output `out` of block `b` (a list, one per item, for a list
    output; None where none flows)."""
    if not out.list:
        return _total(builder, b.id, pending.get((b.id, out.name, None)), False)
    n = len(b.specs[b.output_index(out.name)]) if b.specs else 0
    return [_total(builder, b.id, pending.get((b.id, out.name, i)), False) for i in range(n)]


def _out_key(block, ref: Ref):
    name = ref.port or block.defn.outputs[0].name
    return (block.id, name, ref.index)


def _total(builder, owner, refs, is_list):
    """The gradient of one output: its one contribution, or AddN of several."""
    if not refs:
        return None
    if len(refs) == 1:
        return refs[0]
    return builder.add("AddN", owner, None, {"inputs": list(refs)})


def _differentiable(scope, ref: Ref) -> bool:
    src = scope.blocks[ref.block]
    if src.specs is None:
        return True
    s = src.specs[src.output_index(ref.port)]
    if isinstance(s, list):
        s = s[ref.index] if ref.index is not None and ref.index < len(s) else None
    return s is None or s.dtype is None or s.dtype in DIFFERENTIABLE
