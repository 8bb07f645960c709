"""Ctrl-C during a run: exit 130, no traceback, and `--out` is the previous file or absent —
never a torn file, never a left-over temp file."""
import signal
import subprocess
import sys
import time

import numpy as np
import pytest


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
