"""The one execution seam: every executor runs blocks through `Seam.execute`, whose wrappers can
observe, replace or wrap a block's execution; a bug inside a block keeps its traceback."""
import subprocess
import sys

import numpy as np
import pytest

import blockgraph
from blockgraph.cli import main
from blockgraph.core import registry
from blockgraph.core.blockdef import Input, Output, block
from blockgraph.core.results import BlockResult
from blockgraph.run import executors
from blockgraph.run.plan import RunOptions
from blockgraph.run.seam import Seam

PAGE = """format: 1
blocks:
  x: {op: PlaceholderWithDefault, inputs: {input: [1.0, 2.0, 3.0]}, attrs: {shape: [null]}}
  fq: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: x}}
  y: {op: Identity, inputs: {input: fq}}
"""


def _page(tmp_path, text=PAGE):
    p = tmp_path / "p.yaml"
    p.write_text(text)
    page = blockgraph.load_page(str(p))
    assert not page.diagnostics, [d.format() for d in page.diagnostics]
    return page


@pytest.mark.parametrize("name", executors.NAMES)
def test_a_wrapper_can_replace_a_blocks_execution_under_every_executor(tmp_path, name):
    pytest.importorskip("dask") if name == "dask" else None
    page = _page(tmp_path)
    seen = []

    def canned(task, proceed):       # what a cache hit does: no compute for 'fq'
        seen.append(task.block.id)
        if task.block.id == "fq":
            r = BlockResult("fq", "FakeQuantWithMinMaxArgs", "ok")
            r.outputs["outputs"] = np.array([7.0, 7.0, 7.0], np.float32)
            r.dtypes["outputs"] = "float32"
            return r
        return proceed(task)

    options = RunOptions(seam=Seam(extra=(canned,)))
    with executors.get(name)(workers=2) as ex:
        r = ex.run(page.plan(), {}, options)
    assert r.ok and r["y"].tolist() == [7.0, 7.0, 7.0]
    assert sorted(seen) == ["fq", "x", "y"]


def test_every_executor_is_one_table_entry():
    assert executors.NAMES == ("sequential", "threads", "dask")
    for name in executors.NAMES:
        cls = executors.get(name) if name != "dask" or _has_dask() else None
        assert cls is None or issubclass(cls, executors.Executor)
    with pytest.raises(blockgraph.BlockgraphError, match="unknown executor 'nope'"):
        executors.get("nope")


def _has_dask():
    try:
        import dask  # noqa: F401
        return True
    except ImportError:
        return False


@pytest.fixture
def buggy_block():
    """A block with a bug, registered for one test."""
    def _buggy(input):
        """A block with a bug (for the tests)."""
        return {}["missing"]
    block("TestBuggyBlock", inputs=[Input("input", ("float32",))],
          outputs=[Output("output", "float32")],
          shape=lambda ctx: ctx.set_output("output", ctx.shape("input")))(_buggy)
    yield
    registry.REGISTRY.pop("TestBuggyBlock")


def test_a_bug_in_a_block_keeps_its_traceback(tmp_path, capsys, buggy_block):
    page = _page(tmp_path, PAGE + "  bug: {op: TestBuggyBlock, inputs: {input: x}}\n")
    r = page.run()
    b = r.block("bug")
    assert b.status == "failed" and b.error == "internal error: KeyError: 'missing'"
    assert "in _buggy" in b.traceback and 'return {}["missing"]' in b.traceback
    assert r.block("y").ok     # the other blocks' results are kept
    path = str(tmp_path / "p.yaml")
    assert main(["run", path]) == 1
    err = capsys.readouterr().err
    assert "internal error: KeyError: 'missing'" in err and "rerun with --debug" in err
    assert "Traceback" not in err
    assert main(["run", path, "--debug"]) == 1
    assert 'return {}["missing"]' in capsys.readouterr().err


def test_a_fed_placeholder_with_default_takes_any_compatible_shape(tmp_path):
    """Feeds reach shape functions: shape [null] with a 4-element default, fed 6 elements."""
    page = _page(tmp_path, """format: 1
blocks:
  x: {op: PlaceholderWithDefault, inputs: {input: [1.0, 2.0, 3.0, 4.0]}, attrs: {shape: [null]}}
  y: {op: Identity, inputs: {input: x}}
""")
    r = page.run({"x": np.arange(6, dtype=np.float32)})
    assert r.ok and r["y"].shape == (6,)
    assert page.scope.blocks["x"].specs[0].shape == (None,)     # before the run: may be fed
    assert page.run()["y"].shape == (4,)
    bad = page.run({"x": np.zeros((2, 3), np.float32)})
    assert bad.block("x").error == "fed value has shape [2,3], the placeholder expects [?]"


def test_ctrl_c_with_the_threads_executor_exits_promptly(tmp_path):
    """Blocks still computing in worker threads do not hold the exit after Ctrl-C."""
    code = ("import signal, threading, time, sys\n"
            "from blockgraph.core.blockdef import Output, block\n"
            "@block('TestSleep', outputs=[Output('output', 'float32')],\n"
            "       shape=lambda ctx: ctx.set_output('output', ()))\n"
            "def sleep():\n"
            "    time.sleep(30)\n"
            "    return 0.0\n"
            "threading.Timer(1.0, lambda: signal.raise_signal(signal.SIGINT)).start()\n"
            "from blockgraph.cli.main import entry\n"
            "sys.argv = ['blockgraph', 'run', sys.argv[1], '--executor', 'threads']\n"
            "entry()\n")
    page = tmp_path / "s.yaml"
    page.write_text("format: 1\nblocks:\n  a: {op: TestSleep}\n  b: {op: TestSleep}\n")
    proc = subprocess.run([sys.executable, "-c", code, str(page)], capture_output=True, text=True,
                          timeout=20)
    assert proc.returncode == 130 and "interrupted" in proc.stderr and "Traceback" not in proc.stderr
