"""The block library: importing this package registers every block.

Each module here is one family (`fake_quant.py`, `slicing.py`, ...) and is imported in name
order; a new family needs no edit of this file.
"""
import importlib
import pkgutil

for _m in sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")
                 and m.name != "kernels"):
    importlib.import_module(f"{__name__}.{_m}")
