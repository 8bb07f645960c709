"""The two explicit contexts a block's code receives.

`ShapeContext` is what a shape function sees and sets, in the manner of TF's `InferenceContext`:
the inputs' shapes and dtypes, a recorded read of an input's value when it is known, the attrs,
a fed tensor's Spec, and one setter per output. `CallContext` is what a kernel declared with
`context=True` gets besides arrays and attrs: its feed, its output specs, the memory limit,
the Variable store, cancellation.
"""
from __future__ import annotations

from .blockdef import Spec
from .errors import BlockBug, OpError


class ShapeContext:
    """What a shape function reads (`inputs`, `value()`, `attrs`, `feed`) and sets
    (`set_output`). `inputs` maps port -> Spec (shape and dtype only; a list of Specs for a list
    port); values are read through `value(port)` so that `reads` knows which ones the result
    depends on (`RunMemo` keeps a result only when it read no value that can change)."""
    __slots__ = ("op", "attrs", "inputs", "feed", "reads", "_values", "_out", "_outputs")

    def __init__(self, defn, inputs: dict, attrs: dict, values: dict | None = None, feed=None):
        self.op = defn.name
        self._outputs = defn.outputs
        self.inputs = inputs
        self.attrs = attrs
        self.feed = feed               # Spec of a fed tensor (run time, feedable blocks), else None
        self.reads: set = set()
        self._values = values or {}
        self._out: dict = {}

    # ------------------------------------------------------------------ reading
    def shape(self, port: str):
        """The shape of input `port` (None: unknown rank); a list of shapes for a list port."""
        s = self.inputs[port]
        return [x.shape for x in s] if type(s) is list else s.shape

    def dtype(self, port: str):
        s = self.inputs[port]
        return [x.dtype for x in s] if type(s) is list else s.dtype

    def rank(self, port: str):
        s = self.inputs[port].shape
        return None if s is None else len(s)

    def value(self, port: str, index: int | None = None):
        """The statically known value of input `port` (item `index` of a list port), or None.
        The read is recorded in `reads`."""
        self.reads.add(port)
        v = self._values.get(port)
        if index is not None:
            return None if v is None or index >= len(v) else v[index]
        return v

    def fold_value(self, port: str, index: int | None = None):
        """The known value of `port` for computing an output's *value* only (constant folding,
        passing a value through): not recorded, so it must not decide a shape, dtype or error."""
        v = self._values.get(port)
        if index is not None:
            return None if v is None or index >= len(v) else v[index]
        return v

    def spec(self, port: str, index: int | None = None) -> Spec:
        """Input `port` (item `index`) as a Spec holding its known value: a recorded read, for
        helpers that take a whole Spec. Prefer `inputs[port]` when only the shape is needed."""
        s = self.inputs[port]
        if index is not None:
            s = s[index]
        v = self.value(port, index)
        return s if v is None else Spec(s.dtype, s.shape, v)

    def specs(self, port: str) -> list:
        """Every item of list port `port` as Specs holding their known values (a recorded read)."""
        return [self.spec(port, i) for i in range(len(self.inputs[port]))]

    def has_value(self, port: str) -> bool:
        """Whether `port`'s value is known (recorded as a read too: the answer can change)."""
        return self.value(port) is not None

    # ------------------------------------------------------------------ setting
    def set_output(self, name: str, shape=None, *, dtype=None, value=None) -> None:
        """Set output `name`: its shape (a tuple, or None for unknown rank; a Spec sets shape,
        dtype and value at once), optionally its dtype (else the declaration's rule) and its
        statically known value. A list output takes a list of shapes/Specs, and `dtype` either one
        name or one per item."""
        if name in self._out:
            raise BlockBug(f"shape function of {self.op} set output '{name}' twice")
        out = next((o for o in self._outputs if o.name == name), None)
        if out is None:
            raise BlockBug(f"shape function of {self.op} set an undeclared output '{name}' "
                           f"(outputs: {', '.join(o.name for o in self._outputs)})")
        if out.list:
            if not isinstance(shape, (list, tuple)) or isinstance(shape, tuple) and (
                    not shape or not isinstance(shape[0], (tuple, list, Spec, type(None)))):
                raise BlockBug(f"shape function of {self.op}: list output '{name}' wants a list "
                               f"of shapes, got {shape!r}")
            n = len(shape)
            dts = dtype if isinstance(dtype, list) else [dtype] * n
            vals = value if isinstance(value, list) else [None] * n
            self._out[name] = [_spec(s, d, v) for s, d, v in zip(shape, dts, vals)]
        else:
            self._out[name] = _spec(shape, dtype, value)

    def results(self, dtype_of) -> list:
        """The output Specs in declaration order (dtypes filled by `dtype_of(output)` where the
        shape function left them out); BlockBug for an output it did not set."""
        specs = []
        for o in self._outputs:
            s = self._out.get(o.name)
            if s is None:
                raise BlockBug(f"shape function of {self.op} left output '{o.name}' unset")
            d = dtype_of(o)
            if o.list:
                dts = d if isinstance(d, list) else [d] * len(s)
                s = [x if x.dtype else Spec(dd, x.shape, x.value) for x, dd in zip(s, dts)]
            elif s.dtype is None:
                s = Spec(d, s.shape, s.value)
            specs.append(s)
        return specs


def _spec(s, dtype, value) -> Spec:
    if isinstance(s, Spec):
        return Spec(dtype or s.dtype, None if s.shape is None else tuple(s.shape),
                    s.value if value is None else value)
    return Spec(dtype, None if s is None else tuple(s), value)


class CallContext:
    """What a kernel declared with `context=True` may use besides its arrays and attrs."""
    __slots__ = ("block", "op", "specs", "feed", "state", "refs", "updates", "max_bytes", "stop")

    def __init__(self, block: str, op: str, specs: list, feed=None, state=None, max_bytes=None,
                 stop=None, refs=None):
        self.block = block
        self.op = op
        self.specs = specs            # output Specs from the shape function, in declaration order
        self.feed = feed              # the fed array (feedable blocks), or None
        self.state = state            # the Variable values of the run (stateful blocks), or None
        self.refs = refs or {}        # update blocks: {ref port: id of the Variable it names}
        self.updates: dict = {}       # {Variable id: new value} staged by `assign`
        self.max_bytes = max_bytes    # the per-block output limit (None: no limit)
        self.stop = stop              # a threading.Event set when the run is cancelled, or None

    def variable(self):
        """The value of this Variable block at the start of the cycle (OpError when it has none)."""
        if self.state is None:
            raise OpError(f"variable '{self.block}' has no value: run the page as a whole "
                          "(its state lives in the run)")
        return self.state.read(self.block)

    def assign(self, port: str, value) -> None:
        """Stage the new value of the Variable that ref port `port` names; the run commits every
        update of a cycle together at its end. A port fed by a Placeholder names no
        Variable: the value is only output."""
        var = self.refs.get(port)
        if var is not None:
            self.updates[var] = value

    def check_bytes(self, need: int) -> None:
        """OpError when outputs of `need` bytes exceed the limit; for kernels whose output size
        is known only once they have looked at the data (Where, Unique), before allocating."""
        if self.max_bytes is not None and need > self.max_bytes:
            from .budget import limit_message
            raise OpError(limit_message(need, self.max_bytes))

    def cancelled(self) -> bool:
        return self.stop is not None and self.stop.is_set()
