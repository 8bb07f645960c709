"""`blockgraph serve` in a real headless Chromium: the page loads with its results, a block's
table is read by clicking it, an edit of the YAML on disk updates the diagram in place (no
reload: the zoom and the selected block stay), a half-typed page shows its error above the last
diagram, a failing block is drawn red with its error, requests for another Host are refused,
and Ctrl-C ends the server with 130. Also `blockgraph watch`, printing only what changed."""
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

from cdp import CHROMIUM, Chromium

pytest.importorskip("watchfiles")
pytest.importorskip("xxhash")

PAGE = """format: 1
blocks:
  x: {op: Const, attrs: {value: [[1.0, 2.0], [3.0, 4.0]]}}
  fq: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: x}, attrs: {num_bits: BITS}}
  y: {op: Identity, inputs: {input: fq}}
"""
DEADLINE = 40          # seconds any one wait may take (a cold Chromium on a busy 2-core CI)


def _start(tmp_path, *cmd):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "blockgraph.cli", *cmd], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


class Lines:
    """The lines of a process's stream, read by a thread (so waiting never blocks the test)."""

    def __init__(self, stream):
        self.queue = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream):
        for line in stream:
            self.queue.put(line)
        self.queue.put(None)

    def until(self, pattern, timeout=DEADLINE):
        """(the first line matching `pattern`, every line read up to it)."""
        seen = []
        end = time.monotonic() + timeout
        while True:
            try:
                line = self.queue.get(timeout=max(0.01, end - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"no line matching {pattern!r} in {seen!r}")
            seen.append(line)
            if re.search(pattern, line):
                return line, seen


def _until(fn, what, timeout=DEADLINE):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = fn()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(proc) -> int:
    """Ctrl-C; the exit status."""
    proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


CELLS = "[...document.querySelectorAll('#panel section.output table.values td')].map(td => td.textContent)"
CENTER = ("(() => {{ const g = document.getElementById('block-{0}'); "
          "const r = g.getBoundingClientRect(); return [r.x + r.width / 2, r.y + 12]; }})()")


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium not installed")
def test_serve_updates_the_diagram_in_place(tmp_path):
    import shutil
    if shutil.which("dot") is None:
        pytest.skip("Graphviz `dot` not installed")
    page = tmp_path / "p.yaml"
    page.write_text(PAGE.replace("BITS", "8"))
    proc = _start(tmp_path, "serve", "p.yaml", "--port", "0", "--cache", str(tmp_path / "c"))
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    browser = None
    try:
        line, _ = out.until(r"serving p\.yaml at http://")
        url = re.search(r"(http://\S+/)", line).group(1)
        with pytest.raises(urllib.error.HTTPError, match="403"):      # DNS rebinding refused
            urllib.request.urlopen(urllib.request.Request(url, headers={"Host": "evil.example"}))
        browser = Chromium(CHROMIUM, str(tmp_path / "profile"))
        browser.open(url)
        _until(lambda: browser.js("document.getElementById('live').textContent") == "● live",
               "the event stream")
        browser.click(*browser.js(CENTER.format("fq")))
        assert browser.js(CELLS) == ["0.9882353", "2.0235295", "3.0117648", "4.0"]
        browser.js("window.marker = 42; document.getElementById('zoom-in').click()")
        zoom = browser.js("scale")                                      # the user's zoom
        assert zoom is not None

        page.write_text(PAGE.replace("BITS", "2"))                      # an edit on disk
        _until(lambda: browser.js(CELLS) != ["0.9882353", "2.0235295", "3.0117648", "4.0"],
               "the new values")
        assert browser.js(CELLS) == ["0.0", "4.0", "4.0", "4.0"]
        assert browser.js("window.marker") == 42                           # not reloaded
        assert browser.js("document.querySelector('#panel h2').textContent") == "fq"
        assert browser.js("document.getElementById('block-fq').classList.contains('selected')")
        assert browser.js("scale") == zoom
        assert "num_bits" in browser.js("document.getElementById('block-fq').textContent")
        browser.click(*browser.js(CENTER.format("y")))                  # another block's table
        assert browser.js("document.querySelector('#panel h2').textContent") == "y"
        assert browser.js(CELLS) == ["0.0", "4.0", "4.0", "4.0"]
        assert "cached" in browser.js("document.querySelector('#panel .badge').textContent") or \
            browser.js("document.querySelector('#panel .badge').textContent") == "ok"

        page.write_text(PAGE.replace("BITS", "[2"))                     # half typed
        _until(lambda: browser.js("document.getElementById('banner').classList.contains('show')"),
               "the problem banner")
        assert "YAML syntax error" in browser.js("document.getElementById('banner').textContent")
        assert browser.js("document.getElementById('diagram').classList.contains('stale')")

        page.write_text(PAGE.replace("BITS", "2").replace("num_bits: 2", "num_bits: 2, min: 3.0, "
                                                          "max: 1.0"))  # a block fails
        _until(lambda: not browser.js("document.getElementById('diagram').classList.contains('stale')"),
               "the diagram again")
        fq = browser.js("document.getElementById('block-fq').textContent")
        assert "min has to be smaller than max" in fq
        assert "failed" in browser.js("document.getElementById('block-fq').getAttribute('class')")
        assert browser.js("window.marker") == 42
    finally:
        if browser is not None:
            browser.close()
        code = _stop(proc)
    assert code == 130
    assert "interrupted" in err.until("interrupted")[0]


def test_watch_prints_what_changed(tmp_path):
    page = tmp_path / "p.yaml"
    page.write_text(PAGE.replace("BITS", "8"))
    proc = _start(tmp_path, "watch", "p.yaml", "--cache", str(tmp_path / "c"))
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        _, first = out.until(r"^watching 1 file")
        text = "".join(first)
        assert "fq     FakeQuantWithMinMaxArgs" in text and "cache: 0 cached" in text
        page.write_text(PAGE.replace("BITS", "2"))
        _, seen = out.until(r"^cache: ")
        text = "".join(seen)
        assert "changed: p.yaml" in text
        rows = [ln.split()[0] for ln in seen if re.match(r"^(x|fq|y) ", ln)]
        assert rows == ["fq", "y"]                 # x did not change: not printed
        assert "cache: 1 cached" in text and "2 ran" in text
        page.write_text(PAGE.replace("BITS", "2") + "  # a comment\n")
        _, seen = out.until(r"^cache: ")
        assert any("no change" in ln for ln in seen)
        page.write_text(PAGE.replace("BITS", "[2"))                      # half typed
        _, seen = err.until(r"YAML syntax error")
        assert seen[-1].startswith("p.yaml:4:")
        page.write_text(PAGE.replace("BITS", "3"))
        _, seen = out.until(r"^cache: ")
        assert [ln.split()[0] for ln in seen if re.match(r"^(x|fq|y) ", ln)] == ["fq", "y"]
    finally:
        code = _stop(proc)
    assert code == 130
    assert "interrupted" in err.until("interrupted")[0]
