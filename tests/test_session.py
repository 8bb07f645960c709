"""The authoring loop's re-run (watch/serve's Session) costs only what changed: a feed file that
did not change is neither read nor hashed again, and the rows of blocks served from the cache
are not read again to find what changed; a feed file that changed is read again (whether the
watcher says so or only its signature does) and everything downstream of it runs."""
import argparse

import numpy as np
import pytest

from blockgraph.cli.authoring import LoopFeeds
from blockgraph.core import npyio
from blockgraph.run.cache import Cache, keys
from blockgraph.view import session as session_module
from blockgraph.view.session import Session

pytest.importorskip("xxhash")

PAGE = """format: 1
blocks:
  x: {op: Placeholder, attrs: {dtype: float32, shape: [null]}}
  y: {op: Neg, inputs: {x: x}}
  z: {op: FakeQuantWithMinMaxVars, inputs: {inputs: y, min: -1.0, max: MAX}}
"""


class Counts:
    """How often the session reads a feed file, hashes a feed, reads a row's values to compare
    them with the last refresh's."""

    def __init__(self, monkeypatch):
        self.loads = self.feeds = self.rows = 0
        load, feed, same = npyio.load_npy, keys.feed_part, session_module._same_row

        def count_load(*a, **k):
            self.loads += 1
            return load(*a, **k)

        def count_feed(f):
            self.feeds += f is not None
            return feed(f)

        def count_same(old, new):
            self.rows += old[0] == new[0] == "ok" and old[2] is not new[2]
            return same(old, new)
        monkeypatch.setattr(npyio, "load_npy", count_load)
        monkeypatch.setattr(keys, "feed_part", count_feed)
        monkeypatch.setattr(session_module, "_same_row", count_same)

    def take(self):
        got = (self.loads, self.feeds, self.rows)
        self.loads = self.feeds = self.rows = 0
        return got


def ran(outcome):
    return {r.id for r in outcome.results if r.status == "ok"}


def test_a_rerun_reads_and_hashes_only_what_changed(tmp_path, monkeypatch):
    page, feed = tmp_path / "p.yaml", tmp_path / "x.npy"
    page.write_text(PAGE.replace("MAX", "1.0"))
    x = np.linspace(-2, 2, 1000, dtype=np.float32)
    np.save(feed, x)
    args = argparse.Namespace(feeds=None, feed=[f"x={feed}"], max_bytes=-1, cast_feeds=False)
    counts = Counts(monkeypatch)
    with Cache(str(tmp_path / "c")) as cache:
        s = Session([str(page)], cache, feeds=LoopFeeds(args, cache, many=False),
                    feed_files=[str(feed)])
        (o,) = s.refresh()
        assert ran(o) == {"x", "y", "z"} and not o.problems
        assert counts.take() == (1, 1, 0)
        page.write_text(PAGE.replace("MAX", "0.5"))
        (o,) = s.refresh({str(page)})
        assert ran(o) == {"z"}
        assert o.changed == {("z", "-")} or {b for b, _ in o.changed} == {"z"}
        assert counts.take() == (0, 0, 1)     # no read, no feed hash, z's values alone
        np.testing.assert_array_equal(o.results.block("x").outputs["output"], x)

        np.save(feed, x[::-1].copy())             # same size, new values; the watcher saw it
        (o,) = s.refresh({str(feed)})
        assert ran(o) == {"x", "y", "z"}
        assert {b for b, _ in o.changed} == {"x", "y", "z"}
        assert counts.take() == (1, 1, 3)
        np.testing.assert_array_equal(o.results.block("x").outputs["output"], x[::-1])

        np.save(feed, x)                          # the watcher did not say: the signature does
        (o,) = s.refresh()
        assert ran(o) == set() and {b for b, _ in o.changed} == {"x", "y", "z"}
        np.testing.assert_array_equal(o.results.block("x").outputs["output"], x)
        assert counts.take()[:2] == (1, 1)


def test_kept_feeds_are_read_only_and_remembered_by_identity(tmp_path):
    """The arrays kept are read-only (nothing can change them under the cache) and the cache
    knows their feed parts by identity only: an equal array of its own is hashed."""
    with Cache(str(tmp_path / "c")) as cache:
        a = np.arange(10, dtype=np.float32)
        a.flags.writeable = False
        cache.keys.remember(a)
        assert cache.keys._feed_part(a) == keys.feed_part(a)
        b = a.copy()
        b[0] = 7
        assert cache.keys._feed_part(b) == keys.feed_part(b) != keys.feed_part(a)
        v = a.view()
        assert cache.keys._feed_part(v) == keys.feed_part(a)      # a whole view of it
        for i in range(2 * cache.keys.MAX_KNOWN):
            cache.keys.remember(np.full(1, i))
        assert id(a) not in cache.keys._known          # the oldest forgotten


def test_rows_compare_by_bytes():
    """What counts as a changed row: another outcome or error, TF dtype, numpy dtype, shape,
    or any byte (-0.0 is not 0.0, a NaN equals the same NaN), wherever it is."""
    same = session_module._same_row
    a = np.zeros(3 * session_module.PIECE // 4 + 5, np.float32)
    assert same(("ok", "float32", a), ("ok", "float32", a.copy()))
    b = a.copy()
    b[-1] = -0.0
    assert not same(("ok", "float32", a), ("ok", "float32", b))
    n = np.array([np.nan, 1.0])
    assert same(("ok", "float64", n), ("ok", "float64", n.copy()))
    assert not same(("ok", "float64", n), ("ok", "double", n))
    assert not same(("ok", "float32", a[:4]), ("ok", "float32", a[:4].reshape(2, 2)))
    assert not same(("ok", "int32", np.int32([1])), ("ok", "int32", np.uint32([1])))
    assert same(("ok", "string", np.array(["a", "b"], object)),
                ("ok", "string", np.array(["a", "b"], object)))
    assert not same(("failed", "x"), ("failed", "y")) and same(("skipped", None), ("skipped", None))
    assert not same(("ok", "float32", a), ("failed", "x"))
    t = np.arange(6.0).reshape(2, 3)
    assert same(("ok", "float64", t.T), ("ok", "float64", t.T.copy()))


def test_values_an_edit_replaced_leave_the_memory_cache(tmp_path):
    """After each edit the cache's memory holds what the page shows now, not every value an
    edited block ever had (their memory goes to the next computation); going back to an
    older value computes it again, with the same bits."""
    page, feed = tmp_path / "p.yaml", tmp_path / "x.npy"
    np.save(feed, np.linspace(-2, 2, 1000, dtype=np.float32))
    args = argparse.Namespace(feeds=None, feed=[f"x={feed}"], max_bytes=-1, cast_feeds=False)
    with Cache(str(tmp_path / "c"), max_bytes=0) as cache:     # nothing kept on disk
        s = Session([str(page)], cache, feeds=LoopFeeds(args, cache, many=False),
                    feed_files=[str(feed)])
        page.write_text(PAGE.replace("MAX", "1.0"))
        (first,) = s.refresh()
        z1 = first.results.block("z").outputs["outputs"].copy()
        for m in ("0.5", "0.25", "0.125"):
            page.write_text(PAGE.replace("MAX", m))
            (o,) = s.refresh({str(page)})
            assert ran(o) == {"z"} and len(cache.memory) == 3
        page.write_text(PAGE.replace("MAX", "1.0"))
        (o,) = s.refresh({str(page)})
        assert ran(o) == {"z"}
        assert o.results.block("z").outputs["outputs"].tobytes() == z1.tobytes()
