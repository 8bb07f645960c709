"""Ctrl-C during a run: exit 130, no traceback, and `--out` is the previous file or absent —
never a torn file, never a left-over temp file."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _long_page(tmp_path, n_blocks=120):
    np.save(tmp_path / "x.npy", np.linspace(-8, 8, 4_000_000, dtype=np.float32))
    lines = ["format: 1", "blocks:", "  b0: {op: Const, attrs: {file: x.npy}}"]
    for i in range(1, n_blocks):
        lines.append(f"  b{i}: {{op: FakeQuantWithMinMaxArgs, inputs: {{inputs: b{i - 1}}}, attrs: {{num_bits: {2 + i % 14}}}}}")
    page = tmp_path / "long.yaml"
    page.write_text("\n".join(lines) + "\n")
    return page


@pytest.mark.parametrize("previous", [True, False])
def test_sigint_mid_run(tmp_path, previous):
    page = _long_page(tmp_path)
    out = tmp_path / "out.npz"
    if previous:
        np.savez(out, old=np.arange(3))
    before = out.read_bytes() if previous else None
    proc = subprocess.Popen([sys.executable, "-m", "blockgraph.cli", "run", str(page), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    assert proc.poll() is None, "the run finished before it could be interrupted: " + proc.stderr.read()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    if previous:
        assert out.read_bytes() == before
    else:
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["long.yaml", "x.npy"] + (["out.npz"] if previous else []))


DRIVER = """
import os, signal, sys
sys.argv = ["blockgraph", "run", {page!r}, "--json"]
from blockgraph.cli.main import entry
signal.signal(signal.SIGALRM, lambda *a: os.kill(os.getpid(), signal.SIGINT))
signal.setitimer(signal.ITIMER_REAL, {delay})
entry()
"""


def test_sigint_at_any_moment_of_a_command_exits_130_without_traceback():
    """Ctrl-C from the first line of the entry point on (argument parsing, importing numpy and
    the block library, loading, running, printing) ends with 130 and one line."""
    page = os.path.join(ROOT, "examples", "fake_quant_vars_gradient.yaml")
    codes = []
    for ms in [1, 2, 3, 5, 8, 12, 16, 20, 25, 30, 40, 50, 60, 75, 90, 110, 130, 160, 200, 250]:
        proc = subprocess.run([sys.executable, "-c", DRIVER.format(page=page, delay=ms / 1000)],
                              capture_output=True, text=True, timeout=60, cwd=ROOT)
        assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, (ms, proc.stderr)
        assert proc.returncode in (0, 130), (ms, proc.returncode, proc.stderr)
        if proc.returncode == 130:
            assert proc.stderr == "blockgraph: interrupted\n", (ms, proc.stderr)
        codes.append(proc.returncode)
    assert codes[:8] == [130] * 8, codes       # the early ones land before the run is done


def test_stop_request_during_the_executors_import(monkeypatch):
    """Ctrl-C while blockgraph.run.cancel is half imported (no STOP yet) is no AttributeError."""
    import importlib
    import types
    cli_main = importlib.import_module("blockgraph.cli.main")
    monkeypatch.setitem(sys.modules, "blockgraph.run.cancel", types.ModuleType("blockgraph.run.cancel"))
    cli_main._request_stop()
    with pytest.raises(KeyboardInterrupt):
        cli_main._interrupt(signal.SIGINT, None)
    monkeypatch.undo()
    from blockgraph.run import cancel
    assert not cancel.STOP.is_set()
