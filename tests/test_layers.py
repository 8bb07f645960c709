"""The package's layers import only downwards: core < run < api < view < cli, blocks use core
only, and no module-level import cycle; importing the core loads no executor, viewer or heavy
optional library."""
import ast
import os
import subprocess
import sys

import networkx as nx
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RANK = {"core": 0, "run": 1, "formats": 1, "api": 2, "view": 3, "cli": 4}   # formats: front-ends


def _modules():
    """{module name: path} of blockgraph and the block library."""
    out = {}
    for top in ("blockgraph", "blocks"):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.endswith(".py"):
                    rel = os.path.relpath(os.path.join(folder, f), ROOT)[:-3].replace(os.sep, ".")
                    out[rel.removesuffix(".__init__")] = os.path.join(folder, f)
    return out


def _imports(name, path, module_level_only):
    """The blockgraph/blocks modules that `name` imports (absolute names)."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    nodes = tree.body if module_level_only else list(ast.walk(tree))
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if node.module:              # `from . import a` needs a, not the package itself
                found.add(mod)
            found |= {f"{mod}.{a.name}" for a in node.names}
    return {m for m in found if m.split(".")[0] in ("blockgraph", "blocks")}


def _layer(module):
    parts = module.split(".")
    if parts[0] == "blocks":
        return "blocks"
    if len(parts) == 1:
        return None            # blockgraph/__init__: lazy re-exports only
    return parts[1] if parts[1] in RANK else None


MODULES = _modules()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down(name):
    here = _layer(name)
    for target in _imports(name, MODULES[name], module_level_only=False):
        there = _layer(target)
        if target not in MODULES and target.rpartition(".")[0] in MODULES:
            there = _layer(target.rpartition(".")[0])
        if there is None or here is None:
            continue
        if here == "blocks":
            assert there in ("core", "blocks"), f"{name} (a block family) imports {target}"
        elif there == "blocks":
            assert name == "blockgraph.core.registry", \
                f"{name} imports the block library directly ({target}); use the registry"
        else:
            assert RANK[there] <= RANK[here], f"{name} ({here}) imports {target} ({there})"


def test_no_module_level_import_cycle():
    g = nx.DiGraph()
    for name, path in MODULES.items():
        for target in _imports(name, path, module_level_only=True):
            if target in MODULES and target != name:
                g.add_edge(name, target)
    cycles = list(nx.simple_cycles(g))
    assert not cycles, cycles[:3]


def test_importing_the_core_loads_no_runner_viewer_or_heavy_library():
    code = ("import sys, blockgraph.core.scope, blockgraph.core.binding, blockgraph.core.results\n"
            "bad = [m for m in sys.modules if m.split('.')[:2] in (['blockgraph', 'run'], "
            "['blockgraph', 'view'], ['blockgraph', 'cli']) or m.split('.')[0] in "
            "('dask', 'distributed', 'matplotlib', 'graphviz', 'numba')]\n"
            "print(' '.join(sorted(bad)))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout.split()
    assert out == []


def test_modules_are_short():
    """One job per module, readable in one sitting."""
    long = {n: sum(1 for _ in open(p, encoding="utf-8")) for n, p in MODULES.items()
            if n.startswith("blockgraph")}
    assert {n: c for n, c in long.items() if c > 420} == {}
