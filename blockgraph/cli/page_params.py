"""`--param NAME=VALUE` of the commands that load pages: the values read as YAML (as the page
reads them), each applied to every page given that defines NAME."""
from __future__ import annotations

from ..core import source
from ..core.diagnostics import did_you_mean
from ..core.errors import UsageError
from ..core.params import NAME

def read_value(text: str, what: str):
    """A command-line value read as YAML, as the page would read it; UsageError when it is not
    plain data."""
    src = source.read(what, text)
    if src.problems:
        raise UsageError(f"{what}: cannot read {text!r}: {src.problems[0].message}")
    return src.data


def parse(items) -> dict:
    """{name: value} of `--param NAME=VALUE` items; UsageError for a malformed one."""
    out = {}
    for item in items or ():
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not NAME.match(name):
            raise UsageError(f"--param wants NAME=VALUE (NAME a parameter of the page), got {item!r}")
        if name in out:
            raise UsageError(f"--param {name} is given twice")
        out[name] = read_value(text, f"--param {name}")
    return out


def apply(pages: list, overrides: dict) -> list:
    """`pages` (None for one that could not be read) with `overrides` set on each page that
    defines them; UsageError for a name no page defines."""
    if not overrides:
        return pages
    defined = set()
    out = []
    for page in pages:
        mine = {k: v for k, v in overrides.items() if page is not None and k in page.params.defs}
        defined |= set(mine)
        out.append(page.variant(params=mine, origin="--param") if mine else page)
    unknown = [k for k in overrides if k not in defined]
    if unknown:
        names = sorted({n for p in pages if p is not None for n in p.params.defs})
        hint = did_you_mean(unknown[0], names)
        raise UsageError(f"--param {unknown[0]}: no page given defines this parameter" + (
            f" ({hint})" if hint else f" (parameters: {', '.join(names)})" if names else
            " (the pages have no 'params:' section)"))
    return out
