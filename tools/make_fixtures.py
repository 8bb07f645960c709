"""Regenerate every TensorFlow fixture set under tests/fixtures/ (dev-only).

    python3 -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu pyyaml
    TF_ENABLE_ONEDNN_OPTS=0 /tmp/tfvenv/bin/python tools/make_fixtures.py [SET ...]

Each `tools/fixtures_<set>.py` builds one set with `tools/fixture_lib.py`.
"""
import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(os.path.dirname(HERE), "tests", "fixtures")


def main(argv):
    sys.path.insert(0, HERE)
    names = sorted(f[len("fixtures_"):-3] for f in os.listdir(HERE)
                   if f.startswith("fixtures_") and f.endswith(".py"))
    for name in argv or names:
        folder = importlib.import_module(f"fixtures_{name}").make(ROOT)
        print(f"wrote {folder}")


if __name__ == "__main__":
    main(sys.argv[1:])
