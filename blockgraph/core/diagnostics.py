"""Located problems (`Diagnostic`) and their one-line format:

    PATH:LINE:COL: error: block 'ID' (OP): message
      hint: ...

A diagnostic is an `error` (the page or block cannot run as written) or a `warning` (it runs,
but something deserves the user's eye, e.g. an enuSpace quirk reproduced on import).
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import PageError  # noqa: F401  (re-exported: raised with these diagnostics)


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a page, at a 1-based line and column of its file."""
    path: str
    line: int
    col: int
    message: str
    block: str | None = None
    op: str | None = None
    hint: str | None = None
    port: str | None = None
    severity: str = "error"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def format(self) -> str:
        where = f"{self.path}:{self.line}:{self.col}: {self.severity}: "
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

    def __str__(self) -> str:
        """The one-line located form, hint included: `print(d)` gives one line."""
        first = self.format().split("\n", 1)[0]
        return first + (f" (hint: {printable(' '.join(self.hint.split()))})" if self.hint else "")


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
