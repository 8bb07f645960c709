"""Reading enuSpace files as text: their encodings (UTF-16LE with BOM as enuSpace writes them;
UTF-8 when a user re-saved one) and (line, col) positions of character offsets."""
from __future__ import annotations

import bisect
import codecs


def decode(raw: bytes) -> str:
    """The text of an enuSpace file: BOM-marked UTF-16/UTF-8, else UTF-8, else UTF-16LE (a file
    whose BOM was lost). UnicodeDecodeError when it is none of them."""
    for bom, enc in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
                     (codecs.BOM_UTF8, "utf-8")):
        if raw.startswith(bom):
            return raw[len(bom):].decode(enc)
    if len(raw) >= 2 and raw[1] == 0 and raw[0] != 0:
        return raw.decode("utf-16-le")
    return raw.decode("utf-8")


def head(raw: bytes, n: int = 400) -> str:
    """The first characters of a file, decoded as `decode` would (undecodable: '')."""
    try:
        return decode(raw[: 2 * n + 3])[:n]
    except UnicodeDecodeError:
        try:
            return decode(raw[: 2 * n + 2])[:n]
        except UnicodeDecodeError:
            return ""


class Lines:
    """1-based (line, col) of character offsets in a text (lines end at '\\n')."""

    def __init__(self, text: str):
        self.starts = [0]
        i = text.find("\n")
        while i != -1:
            self.starts.append(i + 1)
            i = text.find("\n", i + 1)

    def at(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1

    def offset(self, line: int, col: int) -> int:
        """The character offset of 1-based (line, col)."""
        return self.starts[line - 1] + col - 1
