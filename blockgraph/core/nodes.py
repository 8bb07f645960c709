"""The resolved parts of a Scope: a `Block` with its def, attrs, inputs (`Ref`s to other blocks'
outputs and inline `Literal`s) and static specs; and `PrepareContext`, what a block's prepare
hook may use (the page's folder, the memory limit)."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from . import budget
from .blockdef import BlockDef
from .errors import AttrError

REF = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*)(?:\.([0-9]+))?)?$")


@dataclass(frozen=True)
class Ref:
    """A reference to an output: block, port (None = the first output), element index."""
    block: str
    port: str | None = None
    index: int | None = None

    def __str__(self):
        return ".".join(str(x) for x in (self.block, self.port, self.index) if x is not None)


@dataclass
class Literal:
    """An inline constant on an input port; its dtype is fixed once the port's type is known."""
    value: object
    dtype: str | None = None
    array: object = None


@dataclass
class Block:
    """A resolved block: its def, checked attrs, inputs (Ref / Literal, or lists of them for list
    ports) and, after propagation, the Spec of every output."""
    id: str
    op: str
    defn: BlockDef | None
    attrs: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)
    specs: list | None = None
    in_dtypes: dict = field(default_factory=dict)
    note: str | None = None
    pos: tuple | None = None
    valid: bool = True
    error: str | None = None
    error_port: str | None = None
    init: Ref | None = None          # a Variable initialised from another block's output

    def output_index(self, port: str | None) -> int | None:
        if self.defn is None:
            return None
        if port is None:
            return 0 if self.defn.outputs else None
        return next((i for i, o in enumerate(self.defn.outputs) if o.name == port), None)

    def refs(self):
        """Every Ref among the inputs, with the port it feeds."""
        for port, v in self.inputs.items():
            for item in (v if isinstance(v, list) else [v]):
                if isinstance(item, Ref):
                    yield port, item


class PrepareContext:
    """What a block's prepare hook may use: the page's folder, and whether paths may leave it."""

    def __init__(self, folder: str, allow_outside: bool = False, max_bytes: int | None = None,
                 init=None):
        self.folder = os.path.realpath(folder)
        self.allow_outside = allow_outside
        self.max_bytes = max_bytes
        self.init = init        # a Variable's literal or file `init:` ({value, dtype} | {file, key})

    def with_init(self, init) -> "PrepareContext":
        """This context for a Variable whose page gives it `init` (a literal or a file)."""
        return PrepareContext(self.folder, self.allow_outside, self.max_bytes, init)

    def check_bytes(self, shape, dtype: str, attr: str | None = None):
        """AttrError when a tensor of `shape` and `dtype` would need more than max_bytes."""
        if self.max_bytes is None:
            return
        need = budget.tensor_bytes(dtype, tuple(shape))
        if need is not None and need > self.max_bytes:
            raise AttrError(f"a tensor of shape {list(shape)} ({dtype}) would need "
                            f"{budget.size_text(need)}, more than the limit of "
                            f"{budget.size_text(self.max_bytes)} (raise it with --max-bytes)", attr=attr)

    def resolve_path(self, rel: str) -> str:
        """`rel` resolved against the page's folder; AttrError when missing or outside it."""
        if os.path.isabs(rel) and not self.allow_outside:
            raise AttrError(f"absolute path {rel!r} refused: files must be inside the page's folder "
                            "(use --allow-outside to permit it)", attr="file")
        full = os.path.realpath(os.path.join(self.folder, rel))
        if not self.allow_outside and os.path.commonpath([full, self.folder]) != self.folder:
            raise AttrError(f"path {rel!r} leaves the page's folder (use --allow-outside to permit it)",
                            attr="file")
        if not os.path.isfile(full):
            raise AttrError(f"file {rel!r} not found (looked for {full})", attr="file")
        return full


