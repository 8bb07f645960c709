"""Located problems (`Diagnostic`) and their one-line format:

    PATH:LINE:COL: error: block 'ID' (OP): message
      hint: ...
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import BlockgraphError


@dataclass(frozen=True)
class Diagnostic:
    """One error found in a page, at a 1-based line and column of its file."""
    path: str
    line: int
    col: int
    message: str
    block: str | None = None
    op: str | None = None
    hint: str | None = None
    port: str | None = None

    def format(self) -> str:
        where = f"{self.path}:{self.line}:{self.col}: error: "
        who = ""
        if self.block is not None:
            who = f"block '{self.block}'" + (f" ({self.op})" if self.op else "") + ": "
        text = printable(where + who + " ".join(self.message.split()))
        if self.hint:
            text += "\n  hint: " + printable(" ".join(self.hint.split()))
        return text

    def sort_key(self):
        return (self.path, self.line, self.col, self.message)

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def printable(text: str) -> str:
    """`text` with control and other unprintable characters escaped, so it stays one line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def did_you_mean(word: str, choices, n: int = 3) -> str | None:
    """A hint naming the closest of `choices`, or None."""
    import difflib
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=n, cutoff=0.6)
    if not close:
        lower = {c.lower(): c for c in choices}
        close = [lower[c] for c in difflib.get_close_matches(word.lower(), list(lower), n=n, cutoff=0.6)]
    if not close:
        return None
    return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


class PageError(BlockgraphError):
    """A page that cannot be loaded or run; carries every Diagnostic found."""

    def __init__(self, diagnostics):
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        super().__init__("\n".join(d.format() for d in self.diagnostics))
