"""The README's examples work as written."""
import os
import re

import numpy as np

import blockgraph
from blockgraph.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _readme_block(section: str, lang: str) -> str:
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        text = fh.read()
    body = text.split(f"\n## {section}\n", 1)[1]
    return re.search(rf"```{lang}\n(.*?)```", body, re.S).group(1)


def test_the_page_format_snippet_runs_as_written(tmp_path, capsys):
    page = tmp_path / "snippet.yaml"
    page.write_text(_readme_block("The page format", "yaml"))
    assert main(["run", str(page)]) == 0, capsys.readouterr().err
    r = blockgraph.load_page(str(page)).run()
    example = blockgraph.load_page(os.path.join(ROOT, "examples", "fake_quant_vars_gradient.yaml")).run()
    for key in ("fq.backprops_wrt_input", "fq.backprop_wrt_min", "fq.backprop_wrt_max"):
        np.testing.assert_array_equal(r[key], example[key])
    assert r.block("x").op == "PlaceholderWithDefault"


def test_the_examples_sections_tables_are_real_output(capsys):
    """The `blockgraph run` outputs pasted in "Examples: compute, train, quantize" are what the
    pages print today (every column but the milliseconds)."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        body = fh.read().split("\n## Examples: compute, train, quantize\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```console\n\$ blockgraph (run [^\n]*)\n(.*?)```", body, re.S)
    assert len(blocks) == 2

    def cells(text):
        rows = []
        for line in text.rstrip("\n").splitlines():
            ms = re.match(r"(.*\S)\s+(ms|[0-9.]+|-)$", line)
            rows.append(ms.group(1) if ms and ("  ok  " in line or line.startswith("block ")) else line)
        return rows

    for command, pasted in blocks:
        args = command.split()
        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            assert main(args) == 0
        finally:
            os.chdir(cwd)
        assert cells(capsys.readouterr().out) == cells(pasted), command
