"""Every registered block takes exactly the dtypes TF 2.21's CPU kernels register for its op
(`tests/fixtures/tf_ops.json`: `cpu_dtypes` per type attr, `cpu_dtypes_any` for attrs a kernel
leaves unconstrained, fixed-dtype OpDef args), and no other: a dtype TF registers but whose
kernel refuses it when run (Tile of uint16, Cast of string to float, Where of float16) is
declared, and the block raises TF's runtime error. Runs over whatever families are registered."""
import json
import os
from itertools import product

import pytest

from blockgraph.core import dtypes as dt
from blockgraph.core import registry

TF_OPS = os.path.join(os.path.dirname(__file__), "fixtures", "tf_ops.json")
KNOWN = frozenset(dt.ALL)       # dtypes outside blockgraph (resource, variant, float8, ...) aside

#: (op, port or attr) -> why the block's dtypes differ from TF's registrations
EXCEPTIONS: dict = {}


def _table() -> dict:
    with open(TF_OPS) as fh:
        return json.load(fh)


def _ops():
    table = _table()
    return [(name, table[name]) for name in registry.names()
            if table.get(name, {}).get("tf_op")]


def _registered(entry: dict, attr: str) -> set:
    """The dtypes TF's CPU kernels register for type attr `attr` (those blockgraph knows)."""
    allowed = next((a["allowed_values"] for a in entry["attrs"] if a["name"] == attr), None)
    if attr in entry["cpu_dtypes_any"]:          # some kernel leaves it unconstrained
        return set(KNOWN) if allowed is None else set(allowed) & KNOWN
    return set(entry["cpu_dtypes"].get(attr, ())) & KNOWN


def _differences(name: str, entry: dict) -> list:
    defn = registry.get(name)
    args = {a["py_name"]: a for a in entry["inputs"]}
    out = []

    def compare(where, got, want):
        if (name, where) in EXCEPTIONS:
            return
        extra = [d for d in dt.ALL if d in got - want]
        missing = [d for d in dt.ALL if d in want - got]
        if extra or missing:
            out.append(f"{name}.{where}: declares {extra} that TF does not register, "
                       f"lacks {missing} that it does")
    for p in defn.inputs:
        arg = args.get(p.name)
        if arg is None:
            out.append(f"{name}.{p.name}: no such input in TF's OpDef")
            continue
        want = ({arg["type"]} & KNOWN if arg["type"] else
                _registered(entry, arg["type_attr"] or arg["type_list_attr"]))
        compare(p.name, set(p.dtypes) & KNOWN, want)
    for a in defn.attrs:
        if a.type == "type" and (a.name in entry["cpu_dtypes"] or a.name in entry["cpu_dtypes_any"]):
            compare(a.name, set(a.choices) if a.choices else set(KNOWN), _registered(entry, a.name))
    return out


def _combination_differences(name: str, entry: dict) -> list:
    """Ops with several constrained type attrs: every combination the block accepts must be one
    a kernel registers (the per-attr lists alone could allow a pair no kernel takes)."""
    types = {a["name"] for a in entry["attrs"] if a["type"] in ("type", "list(type)")}
    keys = sorted({k for c in entry["cpu_dtype_combos"] for k in c} & types)
    if len(keys) < 2:
        return []
    combos = entry["cpu_dtype_combos"]              # an attr a combo omits takes any dtype
    defn = registry.get(name)
    declared = {}
    for p in defn.inputs:
        attr = p.type_attr or p.type_list_attr
        if attr in keys:
            declared[attr] = declared.get(attr, set(KNOWN)) & set(p.dtypes)
    for a in defn.attrs:
        if a.name in keys:
            declared[a.name] = set(a.choices or KNOWN)
    if set(declared) != set(keys):
        return []
    bad = [t for t in product(*[sorted(declared[k]) for k in keys])
           if not any(all(c.get(k, v) == v for k, v in zip(keys, t)) for c in combos)]
    return [f"{name}: accepts {dict(zip(keys, t))}, which no CPU kernel registers"
            for t in bad[:5]]


@pytest.mark.parametrize("name,entry", _ops(), ids=lambda v: v if isinstance(v, str) else "")
def test_declared_dtypes_are_tf_cpu_registrations(name, entry):
    problems = _differences(name, entry) + _combination_differences(name, entry)
    assert not problems, "\n".join(problems)


def test_the_table_covers_the_array_ops_and_fake_quant_families():
    """The check above is not vacuous: the families this table was made for are in it."""
    checked = {name for name, _ in _ops()}
    for op in ("Tile", "Fill", "Cast", "ImmutableConst", "FakeQuantWithMinMaxVars", "QuantizeV2",
               "QuantizedConcat", "SpaceToDepth", "GatherNd", "Where", "EditDistance"):
        assert op in checked


def test_exceptions_name_registered_ports():
    for (op, where), why in EXCEPTIONS.items():
        defn = registry.get(op)
        assert defn is not None and (defn.input(where) or defn.attr(where)) and why
