"""The block library: one module per family (`fake_quant.py`, `slicing.py`, ...), whose
`@block("Name", ...)` functions register themselves when the module is imported.

Families are imported when first needed: `load(op)` imports the one module that defines `op`
(found by reading the `@block("...")` lines of the family sources, without importing them), so a
page pays only for the families it uses; `load_all()` imports every family, in name order.
A new family, or a new block in one, needs no edit of this file.

    >>> load("FakeQuantWithMinMaxVars")
    True
"""
import functools
import importlib
import os
import pkgutil
import re

_HERE = os.path.dirname(os.path.abspath(__file__))
_DECLARED = re.compile(r'^@block\(\s*"([A-Za-z_][A-Za-z0-9_]*)"', re.M)


def families() -> list[str]:
    """The family modules of the library, by name."""
    return sorted(m.name for m in pkgutil.iter_modules([_HERE])
                  if not m.name.startswith("_") and m.name != "kernels")


@functools.lru_cache(maxsize=1)
def index() -> dict[str, str]:
    """{op name: family module} from the `@block("Name"` lines of the family sources."""
    found = {}
    for fam in families():
        try:
            with open(os.path.join(_HERE, fam + ".py"), encoding="utf-8") as fh:
                text = fh.read()
        except OSError:          # not a plain source file: load_all() finds its blocks
            continue
        for name in _DECLARED.findall(text):
            found.setdefault(name, fam)
    return found


def load(op: str) -> bool:
    """Import the family that declares `op`; False when no family source declares it."""
    fam = index().get(op)
    if fam is None:
        return False
    importlib.import_module(f"{__name__}.{fam}")
    return True


def load_all() -> None:
    """Import every family (registering every block)."""
    for fam in families():
        importlib.import_module(f"{__name__}.{fam}")
