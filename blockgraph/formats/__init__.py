"""Front-ends for page formats other than blockgraph's YAML: each turns a file into a `PageSpec`,
a `Source` (its marks point into the original file, so every diagnostic is located there) and
the diagnostics found while converting. The file's content decides the format, not its name.

    kind(path)  -> "enuspace" | None (YAML)
    read(path)  -> (PageSpec | None, Source, [Diagnostic])
    check_saved(page, results), saved_state(page): results a page's file saved (enuSpace)
    to_yaml(path, out): the page converted to a YAML page
"""
from __future__ import annotations

from ..core.errors import UsageError

_SNIFF_BYTES = 8192


def kind(path: str, raw: bytes | None = None) -> str | None:
    """The format of the file at `path` ('enuspace'), or None for YAML (the default).
    FileReadError (an OSError) when it cannot be read."""
    if raw is None:
        from ..core import files
        with files.open_regular(path) as fh:      # FileReadError (an OSError) when it cannot
            raw = fh.read(_SNIFF_BYTES)
    from . import enuspace
    return "enuspace" if enuspace.sniff(raw) else None


def read(path: str):
    """(PageSpec or None, Source, [Diagnostic]) of a page in a non-YAML format."""
    from . import enuspace
    return enuspace.read(path)


def check_saved(page, results):
    """The results a page's file saved, compared with `results` of its run: an object with
    `.ok`, `.table()` and `.to_json()`. UsageError when the file holds none (YAML pages)."""
    saved = _saved(page)
    try:
        return saved.compare(page, results)
    except saved.SavedError as e:
        raise UsageError(str(e)) from None


def saved_state(page) -> dict:
    """{Variable id: value} saved in a page's file (enuSpace's `result_ref`), to start a run
    from (`page.run(state=...)`). UsageError when the file holds none."""
    saved = _saved(page)
    try:
        return saved.variable_state(page)
    except saved.SavedError as e:
        raise UsageError(str(e)) from None


def _saved(page):
    if kind(page.path) != "enuspace":
        raise UsageError(f"{page.path} is not an enuSpace page: only enuSpace pages hold saved "
                         "results")
    from .enuspace import saved
    return saved


def to_yaml(path: str, out: str) -> tuple[list, list]:
    """Write the page at `path` (enuSpace) as the YAML page `out`: (diagnostics, files written).
    UsageError when it is not a page of another format; PageError when it cannot be read."""
    if kind(path) != "enuspace":
        raise UsageError(f"{path} is not an enuSpace page (SVG or exported JSON): nothing to import")
    import os
    if os.path.abspath(out) == os.path.abspath(path):
        raise UsageError(f"-o {out} is the page itself: name the YAML page to write")
    from ..core.errors import PageError
    from .enuspace import to_yaml as convert
    try:
        return convert.write(path, out)
    except convert.UnreadablePage as e:
        raise PageError(e.args[1]) from None
