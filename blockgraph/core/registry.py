"""The table of declared blocks: op name (or alias) -> `BlockDef`, filled by `blockdef.block` as
block families are imported.

A family is imported the first time one of its ops is looked up (`blocks.load`, which finds it
in the index generated from the declarations), so a page pays only for the families it uses; a
name no family declares loads them all (so an unknown op can still get a did-you-mean hint).
Like TF's op registry, this table is process-wide; nothing else about a run lives here.
"""
from __future__ import annotations

import re

REGISTRY: dict = {}          # op name or alias -> BlockDef
_ALL_LOADED = [False]


def register(defn) -> None:
    """Add a declared block (under its name and each alias); a name taken twice is an error."""
    for key in (defn.name, *defn.aliases):
        if key in REGISTRY:
            raise ValueError(f"block {key!r} is registered twice")
        REGISTRY[key] = defn


def get(name: str):
    """The BlockDef registered as `name` (or an alias of it), or None. The first lookup of an op
    imports only the family that declares it; a name no family declares loads them all."""
    d = REGISTRY.get(name)
    if d is None and not _ALL_LOADED[0]:
        import blocks
        if blocks.load(name):
            d = REGISTRY.get(name)
        if d is None:
            load_library()
            d = REGISTRY.get(name)
    return d


def load_gradients(op: str) -> None:
    """Import the module that declares the gradient of `op` (when the block index names one)."""
    import blocks
    blocks.load("grad:" + op)


def names() -> list[str]:
    """Every registered op name, sorted (loads the whole library; aliases not included)."""
    load_library()
    return sorted(k for k, d in REGISTRY.items() if d.name == k)


def aliases() -> dict[str, str]:
    """{alias: op name} of every registered alias (loads the whole library)."""
    load_library()
    return {k: d.name for k, d in sorted(REGISTRY.items()) if d.name != k}


def load_library() -> None:
    """Import every block family once, which registers every block."""
    if not _ALL_LOADED[0]:
        import blocks
        blocks.load_all()
        _ALL_LOADED[0] = True


#: TF op families that have no blocks yet (they need files, queues or control flow), so that a
#: page using one is told so instead of "unknown op"
_NOT_YET = [
    (r"(FIFO|PaddingFIFO|RandomShuffle|Priority)Queue(V2)?|Queue[A-Z]\w*", "queues"),
    (r"\w*Reader(V2)?|Reader[A-Z]\w*", "file readers"),
    (r"(Save|Restore)(V2|Slices?)?|MergeV2Checkpoints|Sharded\w+", "checkpoints"),
    (r"Switch|Merge|Enter|Exit|(Ref)?NextIteration|LoopCond|RefSwitch|RefSelect|ControlTrigger"
     r"|Abort", "control flow"),
    (r"TensorArray\w*", "TensorArrays"),
    (r"Barrier\w*|\w*Accumulator\w*|(Ordered)?Map\w+|Stage\w*|Unstage|RecordInput",
     "barriers and staging areas"),
    (r"ReadFile|WriteFile|MatchingFiles|Decode\w+|Encode\w+|Parse\w+", "files and parsing"),
    (r"\w*Summary|Print|Assert", "logging"),
    (r"\w*SessionHandle\w*|\w*SessionTensor", "session handles"),
    (r"Sparse\w+|\w+SparseToTensorsMap|\w+ManySparse\w*|SerializeSparse", "sparse tensors"),
]


def not_yet(name: str) -> str | None:
    """The family of a TF op blockgraph has no block for yet (e.g. "queues"), or None."""
    for pattern, family in _NOT_YET:
        if re.fullmatch(pattern, name):
            return family
    return None
