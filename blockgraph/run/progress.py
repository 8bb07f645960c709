"""A one-line progress bar for long runs (a `Callbacks` of any executor)."""
from __future__ import annotations

import itertools
import shutil
import sys
import threading
import time

from .plan import Callbacks


class Progress(Callbacks):
    """A one-line progress bar on stderr for long runs: drawn only on a terminal, and only once
    the run has taken `delay` seconds; erased when the run ends. While blocks run it is redrawn
    every `heartbeat` seconds by a thread of its own, so the elapsed time moves during a long
    block too (the thread ends with the run, or at Ctrl-C's stop request).

        page.run(feeds, executor="threads", callbacks=Progress(len(page.scope.blocks)))
    """

    def __init__(self, total: int, unit: str = "blocks", stream=None, delay: float = 1.0,
                 enabled: bool | None = None, interval: float = 0.1, heartbeat: float = 0.5):
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
        self.heartbeat = heartbeat
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._ticker = None

    @classmethod
    def for_terminal(cls, total: int, unit: str = "blocks"):
        """A Progress when stderr is a terminal, else None."""
        p = cls(total, unit)
        return p if p.enabled else None

    def on_start(self, block):
        self.running[getattr(block, "id", str(block))] = None
        self._start_ticker()
        self.tick()

    def on_block(self, result):
        self._start_ticker()
        self.running.pop(getattr(result, "id", None), None)
        self.done += 1
        if getattr(result, "status", "ok") not in ("ok", "cached"):
            self.failed += 1
        self.tick()

    def on_finish(self, results):
        self._done.set()
        with self._lock:
            if self.drawn:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self.drawn = False

    def tick(self):
        if not self.enabled or self._done.is_set():
            return
        now = time.perf_counter()
        if now - self.t0 < self.delay or (now - self._last < self.interval and self.done < self.total):
            return
        with self._lock:
            if self._done.is_set():
                return
            self._last = now
            self.stream.write("\r\x1b[K" + self.line(shutil.get_terminal_size((100, 20)).columns))
            self.stream.flush()
            self.drawn = True

    def _start_ticker(self):
        """Start the heartbeat thread (once, when the bar is drawn at all)."""
        if self._ticker is not None or not self.enabled or not self.heartbeat:
            return
        self._ticker = threading.Thread(target=self._beat, name="blockgraph-progress", daemon=True)
        self._ticker.start()

    def _beat(self):
        from . import cancel
        while not self._done.wait(self.heartbeat):
            if cancel.STOP.is_set():
                return
            try:
                self.tick()
            except (OSError, ValueError):      # the stream closed under us
                return

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
