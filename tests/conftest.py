import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
SCHEMA_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "schemas",
                           "page.schema.json")


@pytest.fixture(scope="session")
def page_schema_validator():
    """A jsonschema validator of schemas/page.schema.json, the schema itself checked once (checking
    the schema of every block takes seconds; `jsonschema.validate` would redo it per page)."""
    jsonschema = pytest.importorskip("jsonschema")
    with open(SCHEMA_FILE, encoding="utf-8") as fh:
        schema = json.load(fh)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.fixture(autouse=True)
def intel_approximations(monkeypatch):
    """The TensorFlow fixtures were made on an Intel CPU, and TF's float32 Reciprocal, Rsqrt and
    Atan2 packets use the CPU's rcpps/rsqrtps, whose approximations differ between Intel and AMD:
    every test uses the Intel tables (blocks/kernels/eigen/approx.py) whatever CPU runs it
    (test_eigen_math.test_cpu_approximations checks an Intel CPU's own instructions against them)."""
    monkeypatch.setenv("BLOCKGRAPH_APPROX", "table")
