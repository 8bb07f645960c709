"""Reading the files a user gives (pages, feeds, Const files, results): damaged .npy/.npz files
are located one-line errors, FIFOs and devices are refused without blocking, sizes are checked
from headers before any data is inflated, and members nobody feeds are never read."""
import io
import os
import re
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest

import blockgraph
from blockgraph.cli import main
from blockgraph.core import files, npyio
from blockgraph.core.errors import FileReadError
from op_helpers import write

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(ROOT, "examples", "fake_quant_vars_gradient.yaml")
CONST_PAGE = "format: 1\nblocks:\n  c: {op: Const, attrs: {file: x.npz}}\n"
FED_PAGE = "format: 1\nblocks:\n  x: {op: Placeholder, attrs: {dtype: float32}}\n"


def _npy_bytes(header: dict, data: bytes = b"") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + data


def _zip(path, members: dict, compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compress) as z:
        for name, data in members.items():
            z.writestr(name, data)


def _bad_crc(path):
    np.savez(path, x=np.arange(100, dtype=np.uint8))
    raw = bytearray(path.read_bytes())
    at = raw.index(bytes(range(100)))
    raw[at + 50] ^= 0xFF
    path.write_bytes(bytes(raw))


def _damaged(tmp_path, how):
    p = tmp_path / "x.npz"
    if how == "junk":
        p.write_bytes(b"PK\x03\x04junk")
    elif how == "empty":
        p.write_bytes(b"")
    elif how == "crc":
        _bad_crc(p)
    elif how == "not_npy":
        _zip(p, {"notes.txt": b"hello"})
    elif how == "truncated":
        _zip(p, {"x.npy": _npy_bytes({"descr": "<f4", "fortran_order": False, "shape": (10,)}, b"\0" * 8)})
    elif how == "pickle":
        buf = io.BytesIO()
        np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        _zip(p, {"x.npy": buf.getvalue()})
    return p


@pytest.mark.parametrize("how, reason", [
    ("junk", "not an .npz (zip) archive"), ("empty", "it is empty"),
    ("crc", "Bad CRC-32"), ("not_npy", "member 'notes.txt' is not a .npy array"),
    ("truncated", "is truncated"), ("pickle", "holds Python objects")])
def test_damaged_const_file_is_a_located_error(tmp_path, capsys, how, reason):
    _damaged(tmp_path, how)
    page = write(tmp_path, "p.yaml", CONST_PAGE)
    assert main(["run", page]) == 1
    err = capsys.readouterr().err
    assert f"{page}:3:32: error: block 'c' (Const): cannot load 'x.npz': " in err, err
    assert reason in err and "internal error" not in err


@pytest.mark.parametrize("how", ["junk", "empty", "crc", "not_npy", "truncated"])
def test_damaged_feeds_file_is_a_usage_error(tmp_path, capsys, how):
    p = _damaged(tmp_path, how)          # the damaged member (if any) is 'x', which is fed
    page = write(tmp_path, "p.yaml", FED_PAGE)
    assert main(["run", page, "--feeds", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"blockgraph: error: cannot read feeds from {p}: ") and "internal" not in err


def test_csv_given_to_feed_says_what_feed_takes(tmp_path, capsys):
    (tmp_path / "x.csv").write_text("1.0,2.0\n3.0,4.0\n")
    page = write(tmp_path, "p.yaml", FED_PAGE)
    assert main(["run", page, "--feed", f"x={tmp_path / 'x.csv'}"]) == 2
    err = capsys.readouterr().err
    assert "is not a .npy array" in err and "--feed takes ID=FILE.npy" in err
    assert "pickle" not in err


def test_sweep_feeds_dir_with_bad_files_runs_the_others(tmp_path, capsys):
    page = write(tmp_path, "p.yaml", FED_PAGE.replace("float32}", "float32, shape: [2]}"))
    d = tmp_path / "feeds"
    d.mkdir()
    np.savez(d / "a.npz", x=np.ones(2, np.float32))
    (d / "b.npz").write_bytes(b"PK\x03\x04junk")          # fails when listed
    _bad_crc(d / "c.npz")                                   # fails when its data is read
    np.savez(d / "d.npz", x=np.zeros(2, np.float32))
    out = tmp_path / "out"
    assert main(["sweep", page, "--feeds-dir", str(d), "--out", str(out)]) == 1
    import json
    index = json.loads((out / "index.json").read_text())
    by = {e["settings"]["feeds"]: e for e in index["runs"]}
    assert by["a.npz"]["ok"] and by["d.npz"]["ok"], index
    assert not by["b.npz"]["ok"] and "not an .npz (zip) archive" in by["b.npz"]["error"]
    assert not by["c.npz"]["ok"] and "Bad CRC-32" in by["c.npz"]["error"]
    assert sorted(n for n in os.listdir(out) if not n.startswith(".")) == sorted(
        ["index.csv", "index.json", by["a.npz"]["file"], by["d.npz"]["file"]])


# ------------------------------------------------------------------ sizes before data

def test_header_declaring_a_huge_array_is_refused_from_the_header(tmp_path):
    _zip(tmp_path / "x.npz", {"x.npy": _npy_bytes({"descr": "<f4", "fortran_order": False,
                                                   "shape": (10**12,)}, b"\0" * 64)})
    for limit in (10 << 20, None):
        page = blockgraph.load_page(write(tmp_path, "p.yaml", CONST_PAGE), max_bytes=limit)
        (d,) = page.diagnostics
        assert "member 'x' is truncated: its header declares a [1000000000000] float32 array " \
               "(4,000,000,000,000 bytes of data) but 64 bytes follow" in d.message
    np.savez(tmp_path / "x.npz", x=np.zeros(10_000, np.float32))
    page = blockgraph.load_page(write(tmp_path, "p.yaml", CONST_PAGE), max_bytes=1000)
    assert "member 'x' holds a [10000] float32 array of 39.1 KiB, more than the limit of " \
           "1000 bytes (raise it with --max-bytes)" in page.diagnostics[0].message


def test_compressed_member_is_refused_before_inflating(tmp_path):
    big = np.zeros(64 << 20, np.uint8)           # 64 MiB of zeros: a 64 KiB file
    np.savez_compressed(tmp_path / "x.npz", x=big)
    del big
    assert os.path.getsize(tmp_path / "x.npz") < 1 << 20
    path = write(tmp_path, "p.yaml", CONST_PAGE)
    tracemalloc.start()
    try:
        page = blockgraph.load_page(path, max_bytes=10 << 20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "holds a [67108864] uint8 array of 64.0 MiB, more than the limit" in page.diagnostics[0].message
    assert peak < 8 << 20, peak


def test_feeds_members_nobody_feeds_are_never_read(tmp_path, capsys):
    # 'unused' declares 4 GB but holds 8 bytes: reading it would fail
    buf = io.BytesIO()
    np.save(buf, np.arange(3, dtype=np.float32))
    _zip(tmp_path / "f.npz", {"x.npy": buf.getvalue(),
                              "unused.npy": _npy_bytes({"descr": "<f4", "fortran_order": False,
                                                        "shape": (10**9,)}, b"\0" * 8)})
    a = write(tmp_path, "a.yaml", FED_PAGE)
    b = write(tmp_path, "b.yaml", FED_PAGE.replace("x:", "y:"))
    assert main(["run", a, b, "--feeds", str(tmp_path / "f.npz"), "--json"]) == 1
    err = capsys.readouterr().err
    assert "feed 'unused' matches no placeholder of the pages given" in err and "truncated" not in err
    assert main(["run", a, "--feeds", str(tmp_path / "f.npz")]) == 1
    err = capsys.readouterr().err
    assert "feed 'unused' is not a placeholder of page 'a'" in err and "truncated" not in err


def test_npyio_roundtrips_what_numpy_writes(tmp_path):
    arrays = {"f": np.asfortranarray(np.arange(12, dtype=np.float64).reshape(3, 4)),
              "s": np.array([b"ab", b"c"]), "e": np.zeros((0, 3), np.int16), "b": np.array(True),
              "big_endian": np.arange(4, dtype=">i4")}
    np.savez(tmp_path / "a.npz", **arrays)
    got = npyio.load_npz(str(tmp_path / "a.npz"))
    for k, a in arrays.items():
        assert got[k].dtype == a.dtype and got[k].shape == a.shape and (got[k] == a).all(), k
    np.save(tmp_path / "f.npy", arrays["f"])
    assert (npyio.load_npy(str(tmp_path / "f.npy")) == arrays["f"]).all()


# ------------------------------------------------------------------ not regular files

def _cli(*args, timeout=60):
    return subprocess.run([sys.executable, "-m", "blockgraph.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


@pytest.fixture
def fifo(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return str(path)


def test_fifo_page_is_refused_without_blocking(fifo):
    for command in ("run", "check"):
        proc = _cli(command, fifo)
        assert proc.returncode == 1, proc.stderr
        assert f"{fifo}:1:1: error: cannot read the page: not a regular file (a FIFO)" in proc.stderr


def test_fifo_feed_and_show_are_refused_without_blocking(fifo, tmp_path):
    proc = _cli("run", EXAMPLE, "--feed", f"x={fifo}")
    assert proc.returncode == 2 and "not a regular file (a FIFO)" in proc.stderr, proc.stderr
    proc = _cli("show", fifo)
    assert proc.returncode == 1 and "not a regular file (a FIFO)" in proc.stderr, proc.stderr
    out = tmp_path / "out.npz"
    assert _cli("run", EXAMPLE, "--out", str(out)).returncode == 0
    proc = _cli("show", str(out), "fq", "--page", fifo)
    assert proc.returncode == 1 and "not a regular file (a FIFO)" in proc.stderr, proc.stderr


def test_devices_are_refused_before_reading(capsys):
    assert main(["check", "/dev/zero"]) == 1
    assert "/dev/zero:1:1: error: cannot read the page: not a regular file (a character device)" \
           in capsys.readouterr().err


def test_page_larger_than_the_limit_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(files, "MAX_PAGE_BYTES", 100)
    page = write(tmp_path, "p.yaml", FED_PAGE + "# " + "x" * 200 + "\n")
    assert main(["check", page]) == 1
    assert re.search(r"p.yaml:1:1: error: cannot read the page: it is \d+ bytes, more than the "
                     "limit of 100 bytes$", capsys.readouterr().err.strip())


def test_file_read_error_is_an_oserror_with_the_reason(tmp_path):
    with pytest.raises(FileReadError) as e:
        files.read_bytes(str(tmp_path))
    assert isinstance(e.value, OSError) and isinstance(e.value, blockgraph.BlockgraphError)
    assert str(e.value) == "not a regular file (a directory)" and e.value.filename == str(tmp_path)
