"""Block declarations: `BlockDef` and its parts (ports, attrs, outputs, kernels), and the `block`
decorator that declares one next to its reference kernel:

    @block("Identity", inputs=[Input("input", type_attr="T")], outputs=[Output("output", "T")],
           shape=same_shape("input"))
    def identity(input):
        "Return the input tensor unchanged."
        return input

The contracts, documented once:

- **Shape function** `shape(ctx: ShapeContext) -> None` (TF's `SetShapeFn`): reads the inputs'
  shapes and dtypes (`ctx.inputs`), their values when statically known (`ctx.value(port)`, None
  otherwise; every read is recorded), the attrs (`ctx.attrs`), and sets every output exactly once
  (`ctx.set_output(name, shape, dtype=..., value=...)`). It raises `OpError` with TF's text when
  the inputs cannot agree. It runs on Specs before the run (`check`) and on the real arrays
  before each compute, so kernels only compute.
- **Kernels** take inputs and attrs by name (only those in their signature) and return one array,
  or a tuple with one item per output (a list for a list output). The decorated function is the
  reference kernel (numpy); `kernels=[Kernel(...)]` adds faster ones (fused numba loops), tried
  first, each taken when its `accepts(inputs, attrs)` says so. A block declared with
  `context=True` gets a `CallContext` as its first argument (a feed, output specs, the memory
  limit, state), never module globals. `lower=` gives the reference kernel a specialised form
  for many-cycle runs (`Kernel.lower`, `LowerCall`).
- **pure or stateful**: a pure block's outputs depend only on its inputs and attrs (results may be
  reused); `stateful=True` blocks read or write Variables: a block declared `variable=True` holds
  one (its kernel reads it through `CallContext.state`), and an update block's `ref=True` ports
  name the Variables it updates (its kernel stages their new values with `CallContext.assign`).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

from . import dtypes as dt
from . import registry

REQUIRED = type("Required", (), {"__repr__": lambda self: "REQUIRED"})()

ATTR_TYPES = ("int", "float", "bool", "string", "type", "shape", "tensor", "path",
              "list(int)", "list(float)", "list(bool)", "list(string)", "list(type)", "list(shape)")


@dataclass(slots=True, eq=False)
class Spec:
    """What is known of a tensor before the run: TF dtype, shape (None = unknown rank; a dim of
    None = unknown size) and, when known, its value. Treat it as immutable (not frozen: one is
    made per input and output of every block run, and a frozen dataclass is 3x slower to make)."""
    dtype: str | None
    shape: tuple | None = None
    value: Any = None

    @property
    def rank(self):
        return None if self.shape is None else len(self.shape)


@dataclass(frozen=True)
class Input:
    """An input port. `type_attr` names the type attr it sets (ports sharing it agree);
    `list=True` makes it a list port; `type_list_attr` a list port of mixed dtypes. `ref=True`
    (update blocks): the port must be fed directly by a Variable block, which the block updates.
    `optional=True`: a page may leave it unwired (the kernel then does not get it). `dtypes` are
    those TF's CPU kernel registers; `allowed` those its op-def allows (default: the same), in
    the op-def's order — a dtype allowed but not registered is TF's "Could not find device"."""
    name: str
    dtypes: tuple = dt.ALL
    type_attr: str | None = None
    list: bool = False
    type_list_attr: str | None = None
    doc: str = ""
    ref: bool = False
    optional: bool = False
    allowed: tuple | None = None

    @property
    def is_list(self) -> bool:
        return self.list or bool(self.type_list_attr)


@dataclass(frozen=True)
class Attr:
    """An attr: type (one of ATTR_TYPES), default (REQUIRED if none), range or allowed choices.
    `message` is TF's error text for an out-of-range value, formatted with {name} and {value}.
    `kernel_check`: TF checks the range in its kernel, not its OpDef, so in the kernel's order
    among its other checks: the page loads, and the shape function calls
    `attrs.check_range(attr, value)` where TF's kernel checks it."""
    name: str
    type: str
    default: Any = REQUIRED
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    doc: str = ""
    message: str | None = None
    kernel_check: bool = False

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Output:
    """An output port: `dtype` is a TF dtype name or the name of a (type or list(type)) attr."""
    name: str
    dtype: str
    list: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Kernel:
    """One implementation of a block. `accepts(inputs, attrs)` says whether it takes this call
    (None: always), from the inputs' dtypes and shapes and the attrs only (a lowered run decides
    once per signature); the kernel may also return `DECLINE` from inside when it finds it
    cannot. `lower(call)` (optional) specialises the kernel for one signature of a many-cycle
    run: given a `LowerCall`, it returns `fn(*inputs)` giving the kernel's bits for every call of
    that signature, or None to be called as usual."""
    name: str
    fn: Callable
    accepts: Callable | None = None
    lower: Callable | None = None

    @cached_property
    def args(self) -> frozenset | None:
        """The argument names the kernel takes (None: it takes **kwargs, so everything)."""
        params = inspect.signature(self.fn).parameters
        if any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return None
        return frozenset(params)


@dataclass(frozen=True)
class Describe:
    """What a block's declaration tells viewers (`show`, `render`) about its results.
    `quantizes`: {output port: the input port it is a quantization of} (levels are counted and
    the staircase drawn against that input). `grid(attrs, input_value)`: the exact grid those
    outputs lie on, as {"num_bits", "narrow_range", "min", "max", "step"} (arrays: 0-d, or one
    per channel of the last axis), or None when it cannot be known; `input_value(port)` gives an
    input's value (a literal or a saved result) or None."""
    quantizes: dict
    grid: Callable | None = None


@dataclass(slots=True, eq=False)
class LowerCall:
    """What `Kernel.lower` knows of the calls it specialises: the attrs (type attrs set), the
    input arrays of the cycle it was lowered from (`sample`, {port: array}; later calls have
    the same dtypes and shapes), the output Specs, the inputs that are the same in every call
    (`constants`, {port: array}: literals and what only they feed), the CallContext (context
    kernels) and `ports`, the order in which the returned function takes the inputs."""
    attrs: dict
    sample: dict
    specs: list
    constants: dict
    ctx: Any = None

    @property
    def ports(self) -> tuple:
        return tuple(self.sample)


def keeps_signature(fn):
    """Mark a function returned by `Kernel.lower` (one tensor output) that always returns an
    ndarray of the output dtype and shape of the call it was lowered for: `binding.lower` then
    does not check its results."""
    fn.keeps_signature = True
    return fn


#: what a fast kernel returns to hand the call to the next kernel (e.g. a case it does not cover)
DECLINE = type("Decline", (), {"__repr__": lambda self: "DECLINE"})()


@dataclass(frozen=True)
class BlockDef:
    """Everything the runtime knows about one op, read by every layer (checks, runs, listings,
    diagrams); nothing has a per-op branch."""
    name: str
    doc: str
    inputs: tuple
    attrs: tuple
    outputs: tuple
    shape: Callable
    kernels: tuple                       # preferred first; the last is the reference kernel
    prepare: Callable | None = None
    feedable: bool = False
    stateful: bool = False
    variable: bool = False
    context: bool = False
    aliases: tuple = ()
    describe: Describe | None = None
    family: str = ""
    extra: dict = field(default_factory=dict, compare=False)

    def __reduce__(self):
        """Pickled by name: a worker process looks the block up in its own registry."""
        return (registry.get, (self.name,))

    @property
    def compute(self) -> Callable:
        """The reference kernel (numpy)."""
        return self.kernels[-1].fn

    def input(self, name):
        return next((p for p in self.inputs if p.name == name), None)

    def attr(self, name):
        return next((a for a in self.attrs if a.name == name), None)

    def output(self, name):
        return next((o for o in self.outputs if o.name == name), None)

    @cached_property
    def type_attrs(self) -> tuple:
        """Type attrs set by inputs (`T`, `Tidx`, ...), in port order."""
        seen = []
        for p in self.inputs:
            for a in (p.type_attr, p.type_list_attr):
                if a and a not in seen:
                    seen.append(a)
        return tuple(seen)

    @cached_property
    def ref_ports(self) -> tuple:
        """The ports naming the Variables an update block updates."""
        return tuple(p.name for p in self.inputs if p.ref)

    @cached_property
    def argument_names(self) -> frozenset:
        """Every name a kernel may take: ports, attrs, type attrs."""
        return frozenset([p.name for p in self.inputs] + [a.name for a in self.attrs]
                         + list(self.type_attrs))

    def to_json(self) -> dict:
        """A JSON-ready description (for `blockgraph blocks --json` and the JSON Schema)."""
        def default(a):
            return None if a.required else a.default
        return {
            "name": self.name, "doc": self.doc, "family": self.family, "aliases": list(self.aliases),
            "stateful": self.stateful, "kernels": [k.name for k in self.kernels],
            "inputs": [{"name": p.name, "dtypes": list(p.dtypes), "list": p.is_list,
                        "type_attr": p.type_attr or p.type_list_attr, "doc": p.doc} for p in self.inputs],
            "attrs": [{"name": a.name, "type": a.type, "required": a.required, "default": default(a),
                       "min": a.min, "max": a.max, "choices": list(a.choices) if a.choices else None,
                       "doc": a.doc} for a in self.attrs],
            "outputs": [{"name": o.name, "dtype": o.dtype, "list": o.list, "doc": o.doc}
                        for o in self.outputs],
        }


def block(name: str, *, inputs=(), attrs=(), outputs=(), shape, prepare=None, feedable=False,
          stateful=False, variable=False, context=False, kernels=(), aliases=(), describe=None,
          doc=None, lower=None, **extra):
    """Declare the decorated function as the reference kernel of block `name` and register it.

    shape: the shape function (see the module docstring). kernels: faster `Kernel`s tried first.
    prepare(attrs, ctx) may rewrite attrs once when the page is built (e.g. Const loading its
    file). feedable: the block takes a feed (`CallContext.feed`). aliases: other names of the op
    (TF's C++ API / enuSpace names). describe: a viewer hook saying what is special about the
    block's results (see `blockgraph.view.describe`). lower: the reference kernel's specialised
    form for many-cycle runs (`Kernel.lower`). extra:
    further declarations read by other registries (e.g. gradients).
    """
    def register(fn):
        ref = Kernel("numpy", fn, lower=lower)
        allowed = {p.name for p in inputs} | {a.name for a in attrs}
        for p in inputs:
            allowed |= {p.type_attr, p.type_list_attr} - {None}
        for k in (*kernels, ref):
            names = set(k.args or ()) - {"kw", "kwargs"}
            if context and k.args is not None:
                names.discard(next(iter(inspect.signature(k.fn).parameters), None))
            unknown = names - allowed
            if unknown:
                raise ValueError(f"block {name!r}: kernel {k.name!r} takes unknown arguments "
                                 f"{sorted(unknown)}")
        text = doc or _doc(fn)
        defn = BlockDef(
            name=name, doc=text, inputs=tuple(inputs), attrs=tuple(attrs), outputs=tuple(outputs),
            shape=shape, kernels=(*kernels, ref), prepare=prepare, feedable=feedable,
            stateful=stateful or variable or any(p.ref for p in inputs), variable=variable,
            context=context, aliases=tuple(aliases), describe=describe,
            family=fn.__module__.rsplit(".", 1)[-1], extra=dict(extra))
        registry.register(defn)
        return fn
    return register


def _doc(fn) -> str:
    text = (inspect.getdoc(fn) or "").strip()
    return text.splitlines()[0] if text else ""
