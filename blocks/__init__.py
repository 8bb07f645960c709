"""The block library: one module per family (`fake_quant.py`, `slicing.py`, ...), whose
`@block("Name", ...)` declarations register themselves when the module is imported.

Families are imported when first needed: `load(op)` imports the one module that declares `op`,
found in `index.json` ({op or alias: family}; `grad:OP` names the module declaring OP's gradient
when it is not OP's own family, as `array_grad.py`), an index generated from the declarations
themselves (`write_index()`, run by `python -m blocks`; a test fails when it is stale), so a
family may register its blocks any way it likes (one decorator each, or a table in a loop). An
op the index does not know makes the registry load every family, so a stale index costs time,
never a wrong answer. `load_all()` imports every family, in name order.
"""
import functools
import importlib
import json
import os
import pkgutil

_HERE = os.path.dirname(os.path.abspath(__file__))
INDEX = os.path.join(_HERE, "index.json")


def families() -> list[str]:
    """The family modules of the library, by name."""
    return sorted(m.name for m in pkgutil.iter_modules([_HERE])
                  if not m.name.startswith("_") and m.name != "kernels")


@functools.lru_cache(maxsize=1)
def index() -> dict[str, str]:
    """{op name or alias: family module}, from `index.json` ({} when it cannot be read)."""
    try:
        with open(INDEX, encoding="utf-8") as fh:
            found = json.load(fh)
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def load(op: str) -> bool:
    """Import the family that declares `op`; False when the index does not know it."""
    fam = index().get(op)
    if fam not in families():
        return False
    importlib.import_module(f"{__name__}.{fam}")
    return True


def load_all() -> None:
    """Import every family (registering every block)."""
    for fam in families():
        importlib.import_module(f"{__name__}.{fam}")


def build_index() -> dict[str, str]:
    """{op or alias: family} of every declared block, and {"grad:OP": module} of every module
    declaring a gradient (or no gradient) of OP, read from the registries after loading every
    family."""
    from blockgraph.core import gradients, registry
    registry.load_library()
    out = {name: registry.REGISTRY[name].family for name in registry.REGISTRY}
    for op, fn in gradients.GRADIENTS.items():
        out["grad:" + op] = fn.__module__.rsplit(".", 1)[-1]
    for op, module in gradients.NO_GRADIENT.items():
        out.setdefault("grad:" + op, module.rsplit(".", 1)[-1])
    return dict(sorted(out.items()))


def write_index() -> str:
    """Regenerate `index.json` from the declarations; returns its path."""
    text = json.dumps(build_index(), indent=0, sort_keys=True) + "\n"
    with open(INDEX, "w", encoding="utf-8") as fh:
        fh.write(text)
    index.cache_clear()
    return INDEX
