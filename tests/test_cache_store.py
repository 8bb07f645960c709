"""The cache on disk: a damaged entry (flipped byte, truncated blob, bad inline row, unreadable
index) is reported and recomputed, never served; two processes sharing a folder always read
whole entries; least recently used entries are evicted past the bound; `blockgraph cache
info|clear` and `run --cache` / `--only` on the command line."""
import json
import os
import sqlite3
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import blockgraph
from blockgraph.cli import main
from blockgraph.run.cache import Cache, store

pytest.importorskip("xxhash")

BIG = """format: 1
blocks:
  x: {op: Placeholder, attrs: {dtype: float32, shape: [null]}}
  fq: {op: FakeQuantWithMinMaxArgs, inputs: {inputs: x}, attrs: {num_bits: 5}}
  small: {op: Shape, inputs: {input: fq}}
"""


def _page(tmp_path, text=BIG):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return blockgraph.load_page(str(path))


def _feed(n=40_000, seed=0):
    return np.random.default_rng(seed).normal(size=n).astype(np.float32)


def _blob_files(folder):
    return [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(folder, "blobs")) for f in fs]


def _warm(tmp_path, feed):
    folder = str(tmp_path / "c")
    with Cache(folder, memory_bytes=0) as c:
        want = _page(tmp_path).run({"x": feed}, cache=c)
    return folder, want


def _again(tmp_path, folder, feed):
    lines = []
    with Cache(folder, memory_bytes=0, warn=lines.append) as c:
        r = _page(tmp_path).run({"x": feed}, cache=c)
    return r, lines


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_blob_is_recomputed_with_a_warning(tmp_path, damage):
    feed = _feed()
    folder, want = _warm(tmp_path, feed)
    blobs = _blob_files(folder)
    assert len(blobs) == 2              # x and fq (160 kB each); small is inline
    for path in blobs:
        data = bytearray(open(path, "rb").read())
        if damage == "flip":
            data[len(data) // 2] ^= 0x40
        else:
            data = data[:-100]
        open(path, "wb").write(bytes(data))
    r, lines = _again(tmp_path, folder, feed)
    assert {b.id: b.status for b in r} == {"x": "ok", "fq": "ok", "small": "cached"}
    assert r["fq"].tobytes() == want["fq"].tobytes()
    assert len(lines) == 2 and all("is damaged" in line and "recomputed" in line for line in lines)
    assert ("checksum mismatch" if damage == "flip" else "bytes, its index says") in lines[0]
    r, lines = _again(tmp_path, folder, feed)       # stored again, whole
    assert {b.status for b in r} == {"cached"} and not lines


def test_a_damaged_inline_entry_is_recomputed(tmp_path):
    folder, want = _warm(tmp_path, _feed(8))
    db = sqlite3.connect(os.path.join(folder, "index.db"))
    rows = db.execute("SELECT key, data FROM entries WHERE data IS NOT NULL").fetchall()
    assert len(rows) == 3
    for key, data in rows:
        db.execute("UPDATE entries SET data = ? WHERE key = ?",
                   (bytes([data[0] ^ 1]) + data[1:], key))
    db.commit()
    db.close()
    r, lines = _again(tmp_path, folder, _feed(8))
    assert {b.status for b in r} == {"ok"} and len(lines) == 3
    assert r["fq"].tobytes() == want["fq"].tobytes()


def test_an_unreadable_index_is_set_aside(tmp_path):
    folder, _ = _warm(tmp_path, _feed(8))
    for f in os.listdir(folder):
        if f.startswith("index.db-"):
            os.unlink(os.path.join(folder, f))
    with open(os.path.join(folder, "index.db"), "wb") as fh:
        fh.write(b"this is not a database" * 100)
    r, _ = _again(tmp_path, folder, _feed(8))
    assert {b.status for b in r} == {"ok"}
    assert any(f.startswith("index.db.corrupt-") for f in os.listdir(folder))


WORKER = textwrap.dedent("""
    import sys, numpy as np, blockgraph
    from blockgraph.run.cache import Cache
    page, folder, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = np.random.default_rng(seed)
    feeds = [np.random.default_rng(k).normal(size=30_000).astype(np.float32) for k in range(4)]
    expect = [blockgraph.load_page(page).run({"x": f})["fq"].tobytes() for f in feeds]
    lines = []
    for i in range(25):
        k = int(rng.integers(4))
        with Cache(folder, memory_bytes=0, max_bytes=300_000, warn=lines.append) as c:
            r = blockgraph.load_page(page).run({"x": feeds[k]}, cache=c)
        assert r.ok and r["fq"].tobytes() == expect[k], (i, k)
    assert not lines, lines
    print("done")
""")


def test_two_processes_sharing_a_folder_never_read_a_torn_entry(tmp_path):
    """Both write and read the same keys (and evict: the bound holds about two feeds' worth),
    each checking every result against its uncached value."""
    page = str(_page(tmp_path).path)
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    procs = [subprocess.Popen([sys.executable, str(script), page, str(tmp_path / "c"), str(s)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for s in (1, 2)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.strip() == "done"


def test_least_recently_used_entries_are_evicted(tmp_path):
    folder = str(tmp_path / "c")
    feeds = [_feed(seed=k) for k in range(3)]
    with Cache(folder, memory_bytes=0, max_bytes=10 << 20) as c:
        for f in feeds:
            _page(tmp_path).run({"x": f}, cache=c)
        first_use = c.info()
    assert first_use["entries"] == 9            # x, fq and small per feed (keys, not values)
    with Cache(folder, memory_bytes=0, max_bytes=10 << 20) as c:
        _page(tmp_path).run({"x": feeds[0]}, cache=c)     # feed 0 is used again
    # 2 x 160 kB per feed: a bound of 700 kB keeps the two most recently used feeds
    with Cache(folder, memory_bytes=0, max_bytes=700_000) as c:
        r = _page(tmp_path).run({"x": feeds[2]}, cache=c)
        assert {b.status for b in r} == {"cached"}
    assert Cache(folder).info()["bytes"] <= 700_000
    statuses = []
    for f in feeds:
        with Cache(folder, memory_bytes=0, max_bytes=10 << 20) as c:
            statuses.append({b.id: b.status for b in _page(tmp_path).run({"x": f}, cache=c)})
    assert statuses[0]["fq"] == "cached" and statuses[2]["fq"] == "cached"
    assert statuses[1]["fq"] == "ok"              # the least recently used one was evicted
    assert len(_blob_files(folder)) <= 6


def test_large_quick_outputs_stay_in_memory(tmp_path):
    """A 4 MB output computed in less time than reading it back is not written to disk."""
    folder = str(tmp_path / "c")
    with Cache(folder) as c:
        page = _page(tmp_path, "format: 1\nblocks:\n  x: {op: Placeholder, attrs: {dtype: float32}}\n"
                     "  y: {op: Identity, inputs: {input: x}}\n")
        page.run({"x": _feed(1_000_000)}, cache=c)
        assert {b.status for b in page.run({"x": _feed(1_000_000)}, cache=c)} == {"cached"}
    assert store.INLINE < 4_000_000 and _blob_files(folder) == []


def test_an_entry_read_back_slower_than_computed_is_dropped(tmp_path, monkeypatch):
    """A large entry stored after a slow first run (its recorded compute time is tiny here)
    is served once from disk, then dropped: the next process computes it again."""
    import blockgraph.run.cache as cache_module
    folder = str(tmp_path / "c")
    feed = _feed(1_000_000)
    with monkeypatch.context() as m:
        m.setattr(cache_module, "DISK_RATE", 1e18)        # as if the first run had been slow
        with Cache(folder, memory_bytes=0) as c:
            _page(tmp_path).run({"x": feed}, cache=c)
    stored = Cache(folder).info()["entries"]
    db = sqlite3.connect(os.path.join(folder, "index.db"))
    with db:
        db.execute("UPDATE entries SET seconds = 1e-9 WHERE size >= ?", (1 << 20,))
    db.close()
    with Cache(folder, memory_bytes=0) as c:
        r = _page(tmp_path).run({"x": feed}, cache=c)
        assert {b.status for b in r} == {"cached"}
    assert Cache(folder).info()["entries"] < stored
    with Cache(folder, memory_bytes=0) as c:
        r = {b.id: b.status for b in _page(tmp_path).run({"x": feed}, cache=c)}
    assert r["fq"] == "ok" and r["small"] == "cached"


def test_cli_run_cache_only_and_cache_commands(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BLOCKGRAPH_CACHE", str(tmp_path / "home-cache"))
    page = os.path.join(os.path.dirname(__file__), "..", "examples", "fake_quant_vars_gradient.yaml")
    assert main(["run", page, "--cache", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "cache: 0 cached (saved 0.00 ms), 3 ran" in out
    assert main(["run", page, "--cache", str(tmp_path / "c"), "--only", "fq.backprop_wrt_min",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc["blocks"]) == ["grads", "x", "fq"]
    assert {b["status"] for b in doc["blocks"].values()} == {"cached"}
    assert all(b["saved"] >= 0 for b in doc["blocks"].values())
    assert main(["run", page, "--cache", str(tmp_path / "c"), "--only", "fq.backprop_wrt_min"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[-2:] == ["saved", "ms"]
    assert [line.split()[:3] for line in table[1:4]] == [
        ["grads", "Const", "output"], ["x", "PlaceholderWithDefault", "output"],
        ["fq", "FakeQuantWithMinMaxVarsGradient", "backprop_wrt_min"]]
    assert "cached" in table[3] and table[4].startswith("cache: 3 cached")
    # --cache right before the page: the default folder (BLOCKGRAPH_CACHE) and the page
    assert main(["run", "--cache", page]) == 0
    assert os.path.exists(tmp_path / "home-cache" / "index.db")
    capsys.readouterr()
    assert main(["run", page, "--only", "fq.nope"]) == 2
    assert "has no output 'nope'" in capsys.readouterr().err
    assert main(["cache", "info", "--dir", str(tmp_path / "c")]) == 0
    assert "entries: 3" in capsys.readouterr().out
    assert main(["cache", "info", "--dir", str(tmp_path / "c"), "--older", "1"]) == 2
    assert main(["cache", "clear", "--dir", str(tmp_path / "c"), "--older", "1"]) == 0
    assert "cleared 0 entries" in capsys.readouterr().out
    assert main(["cache", "clear", "--dir", str(tmp_path / "c"), "--max-size", "140"]) == 0
    assert main(["cache", "clear"]) == 0                       # the default folder
    out = capsys.readouterr().out
    assert "cleared 2 entries" in out and "cleared 3 entries (164 bytes)" in out
    assert main(["cache", "info", "--dir", str(tmp_path / "c"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["entries"] == 1


def test_run_start_up_does_not_import_the_cache():
    code = ("import sys; from blockgraph.cli import main; main(['run', sys.argv[1]]); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('xxhash', 'sqlite3', "
            "'platformdirs', 'watchfiles') or m.startswith('blockgraph.run.cache')))")
    page = os.path.join(os.path.dirname(__file__), "..", "examples", "fake_quant_args.yaml")
    out = subprocess.run([sys.executable, "-c", code, page], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
