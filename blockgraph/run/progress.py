"""A one-line progress bar for long runs (a `Callbacks` of any executor)."""
from __future__ import annotations

import itertools
import shutil
import sys
import time

from .plan import Callbacks


class Progress(Callbacks):
    """A one-line progress bar on stderr for long runs: drawn only on a terminal, and only once
    the run has taken `delay` seconds; erased when the run ends.

        page.run(feeds, executor="threads", callbacks=Progress(len(page.scope.blocks)))
    """

    def __init__(self, total: int, unit: str = "blocks", stream=None, delay: float = 1.0,
                 enabled: bool | None = None, interval: float = 0.1):
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.delay = delay
        self.interval = interval
        if enabled is None:
            enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = enabled
        self.t0 = time.perf_counter()
        self.done = 0
        self.failed = 0
        self.running: dict[str, None] = {}
        self.drawn = False
        self._last = 0.0

    @classmethod
    def for_terminal(cls, total: int, unit: str = "blocks"):
        """A Progress when stderr is a terminal, else None."""
        p = cls(total, unit)
        return p if p.enabled else None

    def on_start(self, block):
        self.running[getattr(block, "id", str(block))] = None
        self.tick()

    def on_block(self, result):
        self.running.pop(getattr(result, "id", None), None)
        self.done += 1
        if getattr(result, "status", "ok") not in ("ok", "cached"):
            self.failed += 1
        self.tick()

    def on_finish(self, results):
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False

    def tick(self):
        if not self.enabled:
            return
        now = time.perf_counter()
        if now - self.t0 < self.delay or (now - self._last < self.interval and self.done < self.total):
            return
        self._last = now
        self.stream.write("\r\x1b[K" + self.line(shutil.get_terminal_size((100, 20)).columns))
        self.stream.flush()
        self.drawn = True

    def line(self, width: int = 100) -> str:
        frac = self.done / self.total if self.total else 1.0
        bar_w = 24
        fill = int(round(frac * bar_w))
        text = (f"[{'#' * fill}{'-' * (bar_w - fill)}] {self.done}/{self.total} {self.unit} "
                f"{time.perf_counter() - self.t0:.1f}s")
        if self.failed:
            text += f", {self.failed} not ok"
        if self.running:
            text += "  running: " + ", ".join(itertools.islice(self.running, 4))
            if len(self.running) > 4:
                text += ", ..."
        return text[: max(width - 1, 10)]
