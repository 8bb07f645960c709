"""The JSON Schema knows every block: good pages validate clean with `jsonschema`, and every
op / input port / attr typo that `check` catches on the example pages (and on mutated copies
of them) is an error for the schema too; parameters are known; the committed file is fresh."""
import copy
import glob
import json
import os

import pytest
import yaml

import blockgraph
from blockgraph.cli import main
from blockgraph.core import registry
from fixture_cases import dump_yaml

jsonschema = pytest.importorskip("jsonschema")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA_FILE = os.path.join(ROOT, "schemas", "page.schema.json")
PAGES = sorted(glob.glob(os.path.join(ROOT, "examples", "*.yaml"))) + [
    os.path.join(ROOT, "docs", "array_ops.yaml")]


@pytest.fixture(scope="module")
def validator(page_schema_validator):
    assert isinstance(page_schema_validator, jsonschema.Draft202012Validator)
    return page_schema_validator


def schema_errors(validator, data):
    return [e.message for e in validator.iter_errors(data)]


def schema_rejects(validator, data) -> bool:
    """The schema finds an error in `data` (its first one: no need to list them all)."""
    return next(validator.iter_errors(data), None) is not None


def check_errors(data, name="mutant.yaml"):
    page = blockgraph.load_page(os.path.join(ROOT, "examples", name), text=dump_yaml(data))
    return [d.message for d in page.errors]


def test_committed_schema_is_fresh_and_generated(tmp_path):
    from blockgraph.core.page_schema import json_schema
    with open(SCHEMA_FILE, encoding="utf-8") as fh:
        assert json.load(fh) == json_schema(), \
            "regenerate with: blockgraph schema -o schemas/page.schema.json"
    out = tmp_path / "s.json"
    assert main(["schema", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == open(SCHEMA_FILE, encoding="utf-8").read()


def test_every_op_and_alias_is_in_the_enum_with_a_description(validator):
    op = validator.schema["$defs"]["BlockSpec"]["properties"]["op"]
    expected = sorted([*registry.names(), *registry.aliases()])
    assert op["enum"] == expected
    assert len(op["enumDescriptions"]) == len(expected)
    fq = op["enumDescriptions"][expected.index("FakeQuantWithMinMaxArgs")]
    assert fq.startswith("FakeQuantWithMinMaxArgs [fake_quant]: ")
    attrs = validator.schema["$defs"]["op.FakeQuantWithMinMaxArgs"]["properties"]["attrs"]
    bits = attrs["properties"]["num_bits"]
    assert bits["default"] == 8 and {"type": "integer", "minimum": 2, "maximum": 16} in bits["anyOf"]
    assert bits["description"].startswith("num_bits: int, default 8, range 2..16")


@pytest.mark.parametrize("path", PAGES, ids=os.path.basename)
def test_good_pages_validate_clean(validator, path):
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    assert schema_errors(validator, data) == []
    assert check_errors(data) == []


def _typo(name: str) -> str:
    """A misspelling of `name`: two letters swapped (or one doubled)."""
    if len(name) >= 3 and name[1] != name[2]:
        return name[0] + name[2] + name[1] + name[3:]
    return name + name[-1]


def _mutants(data):
    """(what, mutated page) for every op, input port and attr name of every block."""
    for bid, b in data["blocks"].items():
        m = copy.deepcopy(data)
        m["blocks"][bid]["op"] = _typo(b["op"])
        yield f"{bid}.op", m
        for section in ("inputs", "attrs"):
            for key in (b.get(section) or {}):
                m = copy.deepcopy(data)
                entries = m["blocks"][bid][section]
                entries[_typo(key)] = entries.pop(key)
                yield f"{bid}.{section}.{key}", m


def test_the_schema_catches_every_typo_check_catches(validator):
    seen = 0
    for path in PAGES:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
        for what, mutant in _mutants(data):
            found = check_errors(mutant)
            assert found, f"{os.path.basename(path)} {what}: check found nothing"
            assert schema_rejects(validator, mutant), f"{os.path.basename(path)} {what}: " \
                f"check says {found[0]!r}, the schema found nothing"
            seen += 1
    assert seen > 150


@pytest.mark.parametrize("block", [
    {"op": "Placeholder", "attrs": {"dtype": "flaot32"}},             # a misspelt dtype
    {"op": "Placeholder", "attrs": {}},                               # a required attr missing
    {"op": "FakeQuantWithMinMaxArgs", "inputs": {"inputs": 1.0}, "attrs": {"num_bits": 17}},
    {"op": "FakeQuantWithMinMaxArgs", "inputs": {"inputs": 1.0}, "attrs": {"narrow_range": "no"}},
    {"op": "FakeQuantWithMinMaxArgs", "attrs": {"num_bits": 8}},     # a required input missing
    {"op": "ConcatV2", "inputs": {"values": 1.0, "axis": 0}},        # a list port given a scalar
    {"op": "Identity", "inputs": {"input": 1.0}, "init": 2.0},       # init on a non-Variable
    {"op": "Identity", "inputs": {"input": 1.0}, "attrs": {"T": "floatt"}},
])
def test_the_schema_catches_values_check_catches(validator, block):
    data = {"format": 1, "blocks": {"b": block}}
    assert check_errors(data), block
    assert schema_errors(validator, data), block


def test_the_bad_test_pages_with_unknown_names_fail_the_schema(validator):
    for path in glob.glob(os.path.join(ROOT, "tests", "pages", "*.yaml")):
        page = blockgraph.load_page(path)
        if not any(d.message.startswith(("unknown op", "unknown attr", "unknown input port"))
                   for d in page.errors):
            continue
        with open(path, encoding="utf-8") as fh:
            assert schema_errors(validator, yaml.safe_load(fh)), path


PARAM_PAGE = {
    "format": 1,
    "params": {"bits": {"value": 8, "type": "int", "min": 2, "max": 16, "description": "bits"},
               "lo": -3.0, "words": ["a", "b"]},
    "blocks": {
        "x": {"op": "Const", "attrs": {"value": {"param": "lo"}}},
        "w": {"op": "Const", "attrs": {"value": {"param": "words"}}},
        "fq": {"op": "FakeQuantWithMinMaxVars",
               "inputs": {"inputs": [1.0], "min": {"param": "lo"}, "max": 3.0},
               "attrs": {"num_bits": {"param": "bits"}}},
        "v": {"op": "VariableV2", "init": {"param": "lo"}},
    }}


def test_parameters_validate(validator):
    assert schema_errors(validator, PARAM_PAGE) == []
    assert check_errors(PARAM_PAGE) == []
    bad = copy.deepcopy(PARAM_PAGE)
    bad["params"]["bits"]["typ"] = "int"                        # an unknown key of a definition
    assert schema_errors(validator, bad) and check_errors(bad)
    bad = copy.deepcopy(PARAM_PAGE)
    bad["blocks"]["fq"]["attrs"]["num_bits"] = {"param": "bits", "x": 1}   # not a use
    assert schema_errors(validator, bad) and check_errors(bad)
    bad = copy.deepcopy(PARAM_PAGE)
    bad["params"]["2bits"] = 3                                 # not a name
    assert schema_errors(validator, bad) and check_errors(bad)
