"""What a diagram shows of a block: its outcome (from a run or a results file) and its ports
(inputs with their sources or literal values, outputs with dtype, shape and a value preview),
shared by the Graphviz diagram (`render`) and the HTML inspector."""
from __future__ import annotations

from dataclasses import dataclass, field

import os
import sys

import numpy as np

from ..core.errors import UsageError
from . import report

PREVIEW = 30          # characters of a value preview in a box


class RenderError(UsageError):
    """A problem to report as one line; `status` is the exit status (1, or 2 for usage)."""

    def __init__(self, message: str, status: int = 1):
        super().__init__(message)
        self.status = status


# ------------------------------------------------------------------ outcomes

@dataclass
class Outcome:
    """What is known of a block after a run: status ok / cached / failed / skipped / missing (no
    result in the file), error, seconds (None when unknown), tensors {PORT[.I]: (dtype, array)}
    and, for a cached block, the seconds the cache saved."""
    status: str
    error: str | None = None
    seconds: float | None = None
    tensors: dict = field(default_factory=dict)
    stored: dict = field(default_factory=dict)
    saved: float = 0.0


def from_results(results) -> dict[str, Outcome]:
    """Outcomes of a `page.run()`; dtypes are the real TF names (quint8, bfloat16, ...)."""
    return {r.id: Outcome(r.status, r.error, r.seconds,
                          {suffix: (d, a) for suffix, d, a in r.items()}, saved=r.saved)
            for r in results}


def from_npz(path: str, page) -> dict[str, Outcome]:
    """Outcomes read from a `run --out` file: blocks with tensors are ok, a statically invalid
    block is failed with its error, any other block has no result in the file ("missing").
    Keys may carry the page's name (`PAGE/BLOCK.PORT`, as `run --out` writes for several pages)."""
    from .show import ShowError, load_npz
    try:
        tensors = load_npz(path)
    except ShowError as e:
        raise RenderError(str(e)) from None
    prefix = f"{page.name}/"
    if any(k.startswith(prefix) for k in tensors):
        tensors = {k[len(prefix):]: t for k, t in tensors.items() if k.startswith(prefix)}
    blocks = page.scope.blocks
    out: dict[str, Outcome] = {}
    stray = []
    for key, t in tensors.items():
        bid, _, suffix = key.partition(".")
        if bid not in blocks or not suffix:
            stray.append(key)
            continue
        o = out.setdefault(bid, Outcome("ok"))
        o.tensors[suffix] = (t.dtype, t.array)
        if t.stored:
            o.stored[suffix] = t.stored
    if tensors and not out:
        raise RenderError(f"{path} holds no results of page '{page.name}' (its keys: "
                          f"{', '.join(list(tensors)[:4])}{', ...' if len(tensors) > 4 else ''})")
    if stray:
        print(f"blockgraph: warning: {len(stray)} results of {path} name no block of page "
              f"'{page.name}' (first: {stray[0]})", file=sys.stderr)
    for bid, b in blocks.items():
        if bid not in out:
            out[bid] = (Outcome("failed", b.error) if not b.valid else
                        Outcome("missing", f"no result in {os.path.basename(path)}"))
    return out


# ------------------------------------------------------------------ ports of a block

@dataclass
class InPort:
    """One input port (or one item of a list port) as drawn: `gv` is its Graphviz port name."""
    label: str
    gv: str
    ref: object = None
    literal: object = None
    missing: bool = False
    param: str | None = None         # the page parameter giving the literal


@dataclass
class OutPort:
    """One output tensor (or the header of a list output): key suffix PORT[.I], Graphviz port,
    dtype and shape (static or from results) and the array when there are results."""
    suffix: str
    label: str
    gv: str
    dtype: str | None = None
    shape: tuple | None = None
    array: object = None
    header: bool = False


def in_ports(b, uses=None) -> list[InPort]:
    """The input ports of block `b` in declaration order; list ports give one row per item.
    `uses`: {data path: parameter} of the page's parameter uses (`Params.uses`)."""
    uses = uses or {}
    base = ("blocks", b.id, "inputs")
    out = []
    names = [p.name for p in b.defn.inputs] if b.defn else list(b.inputs)
    for name in names:
        v = b.inputs.get(name)
        if v is None:
            out.append(InPort(name, f"i_{name}", missing=True))
        elif isinstance(v, list):
            if not v:
                out.append(InPort(f"{name}[]", f"i_{name}"))
            for k, item in enumerate(v):
                out.append(_in_item(f"{name}[{k}]", f"i_{name}_{k}", item,
                                    uses.get(base + (name, k)) or uses.get(base + (name,))))
        else:
            out.append(_in_item(name, f"i_{name}", v, uses.get(base + (name,))))
    return out


def _in_item(label, gv, item, param=None):
    from ..core.scope import Ref
    if isinstance(item, Ref):
        return InPort(label, gv, ref=item)
    return InPort(label, gv, literal=item, param=param)


def out_ports(b, outcome: Outcome | None, indices=()) -> list[OutPort]:
    """The output tensors of block `b`: one row per output; a list output gets a header row and
    one row per element (as many as the results, the static specs or the references know)."""
    if b.defn is None:
        return []
    tensors = outcome.tensors if outcome else {}
    rows = []
    for i, o in enumerate(b.defn.outputs):
        spec = b.specs[i] if b.specs else None
        if not o.list:
            dtype, shape, arr = _known(tensors.get(o.name), spec)
            rows.append(OutPort(o.name, o.name, f"o_{o.name}", dtype, shape, arr))
            continue
        rows.append(OutPort(o.name, f"{o.name}[ ]", f"o_{o.name}", header=True))
        n = max([len(spec) if isinstance(spec, list) else 0] +
                [int(s.split(".")[1]) + 1 for s in tensors if s.startswith(o.name + ".")] +
                [k + 1 for p, k in indices if p == o.name])
        for k in range(n):
            s = spec[k] if isinstance(spec, list) and k < len(spec) else None
            dtype, shape, arr = _known(tensors.get(f"{o.name}.{k}"), s)
            rows.append(OutPort(f"{o.name}.{k}", f"[{k}]", f"o_{o.name}_{k}", dtype, shape, arr))
    return rows


def _known(tensor, spec):
    if tensor is not None:
        return tensor[0], tensor[1].shape, tensor[1]
    if spec is not None and not isinstance(spec, list):
        return spec.dtype, spec.shape, None
    return None, None, None


def port_rows(scope, outcomes: dict | None) -> dict[str, list[OutPort]]:
    """{block id: its OutPorts}, list outputs sized to cover every `BLOCK.PORT.I` referenced."""
    indices: dict[str, set] = {}
    for b in scope.blocks.values():
        for _, ref in b.refs():
            if ref.index is not None:
                indices.setdefault(ref.block, set()).add((ref.port, ref.index))
    return {bid: out_ports(b, (outcomes or {}).get(bid), indices.get(bid, ()))
            for bid, b in scope.blocks.items()}


def out_port_of(b, ref, rows) -> OutPort | None:
    """The OutPort a reference leaves from (its port, or the first output; its element I)."""
    if b.defn is None or not b.defn.outputs:
        return None
    port = ref.port or b.defn.outputs[0].name
    suffix = port if ref.index is None else f"{port}.{ref.index}"
    return next((r for r in rows if r.suffix == suffix), None)


def changed_attrs(b, uses=None) -> list[tuple[str, str]]:
    """(name, value text) of the attrs whose value differs from the declared default, or that
    a page parameter sets (`uses`, as `in_ports`: then the text names it)."""
    out = []
    for a in (b.defn.attrs if b.defn else ()):
        if a.name not in b.attrs:
            continue
        v = b.attrs[a.name]
        param = (uses or {}).get(("blocks", b.id, "attrs", a.name))
        if not a.required and _same(v, a.default) and param is None:
            continue
        out.append((a.name, value_text(v) + (f" (param {param})" if param else "")))
    return out


def _same(v, default) -> bool:
    if isinstance(v, np.ndarray) or isinstance(default, np.ndarray):
        return False
    if isinstance(v, (tuple, list)) and isinstance(default, (tuple, list)):
        return list(v) == list(default)
    return type(v) is type(default) and v == default


def value_text(v, width: int = PREVIEW) -> str:
    """A short text for an attr or literal value (arrays as the results table previews them)."""
    from ..core.scope import Literal
    if isinstance(v, Literal):
        if v.array is not None:
            return value_text(v.array, width)
        v = v.value
    if isinstance(v, np.ndarray):
        return preview(v, _tf_name(v), width=width)
    if isinstance(v, bool):
        return str(v).lower()
    if v is None:
        return "null"
    if isinstance(v, float):
        return str(np.float32(v)) if np.float32(v) == v else repr(v)   # TF float attrs are float32
    if isinstance(v, (tuple, list)):
        text = "[" + ", ".join(value_text(x, width) for x in v) + "]"
    else:
        text = str(v)
    return text if len(text) <= width else text[: width - 1] + "…"


def preview(a: np.ndarray, dtype: str, width: int = PREVIEW) -> str:
    """A one-line value preview as the results table gives it, except that a 0-D float is
    written at its own precision (float32 3.1415927, not the float64 digits of its repr)."""
    if a.ndim == 0 and (a.dtype.kind == "f" or dtype == "bfloat16"):
        return str(a[()])
    return report.preview(a, dtype, width=width)


def _tf_name(a: np.ndarray) -> str:
    from ..core import dtypes as dt
    try:
        return dt.from_numpy(a.dtype)
    except dt.DTypeError:
        return str(a.dtype)
