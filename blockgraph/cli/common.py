"""What the CLI's commands share: printing a problem line, loading the pages of a command."""
from __future__ import annotations

import sys

from ..api import load_page


def err(line: str) -> None:
    """One line on stderr."""
    print(line, file=sys.stderr)


def load_pages(paths, args) -> list:
    """Load every page (each problem it has is printed by the command), with the command's
    `--param` values set. Returns [page or None]; UsageError for a bad --param."""
    from . import page_params
    overrides = page_params.parse(getattr(args, "param", None))
    pages = []
    for path in paths:
        try:
            p = load_page(path, allow_outside=args.allow_outside, max_bytes=args.max_bytes)
        except OSError as e:
            err(f"{path}:1:1: error: cannot read the page: {e.strerror or e}")
            pages.append(None)
            continue
        pages.append(p)
    return page_params.apply(pages, overrides)
