"""Every bad page in tests/pages/ gives its located one-line errors (`# expect: LINE:COL: text`
lines at the top of each file), exit 1, and no traceback."""
import glob
import os
import re

import pytest

from blockgraph.cli import main

PAGES = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "pages", "*.yaml")))


def expectations(path):
    with open(path, "rb") as fh:
        head = fh.read().decode("utf-8", "replace").splitlines()
    exp = [re.match(r"# expect: (\d+):(\d+): (.*)", l) for l in head if l.startswith("# expect:")]
    hints = [l.split(":", 1)[1].strip() for l in head if l.startswith("# expect-hint:")]
    return [(int(m[1]), int(m[2]), m[3]) for m in exp], hints


@pytest.mark.parametrize("path", PAGES, ids=[os.path.basename(p) for p in PAGES])
@pytest.mark.parametrize("command", ["check", "run"])
def test_bad_page(path, command, capsys):
    expected, hints = expectations(path)
    assert expected, "a bad page states the errors it expects"
    rc = main([command, path])
    err = capsys.readouterr().err
    assert rc == 1
    assert "Traceback" not in err
    lines = [l for l in err.splitlines() if not l.startswith("  hint:")]
    for line, col, text in expected:
        want = f"{path}:{line}:{col}: error: {text}"
        assert any(l.startswith(want) for l in lines), f"expected\n  {want}\ngot\n  " + "\n  ".join(lines)
    for h in hints:
        assert f"hint: {h}" in err


def test_errors_sorted_and_all_reported(capsys):
    path = os.path.join(os.path.dirname(__file__), "pages", "const_values.yaml")
    main(["check", path])
    lines = [l for l in capsys.readouterr().err.splitlines() if not l.startswith("  hint:")]
    pos = [tuple(int(x) for x in l.split(":")[1:3]) for l in lines]
    assert len(lines) == 4 and pos == sorted(pos)
