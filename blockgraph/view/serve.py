"""`blockgraph serve PAGE [--port P] [--host H] [run options]`: the page's diagram with its
results in a browser (the picture and inspector of `render -o page.html`), updated in place
each time the page, a Const file or a feed file changes: the browser keeps its zoom, scroll and
selected block. Runs go through the cache; failed blocks are drawn red with their error, and
problems that stop the page from being read show above the last good diagram.

    GET /         the inspector, live
    GET /state    the latest version: {"version", "svg", "data", "stale"}
    GET /events   server-sent events: "update" with the version, at once and on each change

The server is the standard library's ThreadingHTTPServer: three GET routes and one event
stream, for one person on this machine, need no framework, no event loop beside the runtime's
threads, and nothing to install. It listens on 127.0.0.1 unless --host says otherwise, and on
loopback it answers only requests addressed to a loopback name (a web page elsewhere cannot
read the results by DNS rebinding).
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from .html_inspector import inline_svg, inspector_html, page_data
from .ports import RenderError, from_results
from .render import diagram, draw
from .session import Session
from .watcher import changes
from .watcher import snapshot as file_stats
from .watch import run_options

LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")
PING = 15.0          # seconds between keep-alive comments on an idle event stream


class Live:
    """The latest view of the page and its version; event streams wait on it."""

    def __init__(self):
        self.version = 0
        self.state: dict | None = None
        self.closed = False
        self._cond = threading.Condition()

    def publish(self, state: dict) -> None:
        with self._cond:
            self.version += 1
            state["version"] = state["data"]["version"] = self.version
            self.state = state
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        """The version once it differs from `seen` (or after `timeout`)."""
        with self._cond:
            self._cond.wait_for(lambda: self.version != seen or self.closed, timeout)
            return self.version

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


def snapshot(o, previous: dict | None) -> dict:
    """The view of a refreshed page (session.Outcome): its diagram with results, or the last
    good one greyed ("stale") with the problems when the page cannot be drawn now."""
    if o.page is None or o.page.scope is None:
        data = dict(previous["data"]) if previous else {
            "page": os.path.splitext(os.path.basename(o.path))[0], "path": o.path,
            "description": "", "results": False, "order": [], "blocks": {}}
        data["problems"] = list(o.problems)
        return {"svg": previous["svg"] if previous else "", "data": data, "stale": True}
    outcomes = from_results(o.results) if o.results is not None else None
    svg = inline_svg(draw(diagram(o.page, outcomes), "svg").decode("utf-8"))
    data = page_data(o.page, outcomes)
    data["problems"] = list(o.problems)
    return {"svg": svg, "data": data, "stale": False}


def handler(live: Live, hosts: set | None):
    """The request handler class of a server showing `live`; `hosts`: the Host headers it
    answers (None: any)."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "blockgraph"

        def do_GET(self):        # noqa: N802 - http.server's name
            host = (self.headers.get("Host") or "").lower()
            if hosts is not None and host not in hosts:
                return self._send(403, b"forbidden: not a loopback host\n", "text/plain")
            path = urlsplit(self.path).path
            if path == "/":
                st = live.state
                page = inspector_html(None, st["svg"], None, live=True, data=st["data"])
                return self._send(200, page.encode("utf-8"), "text/html; charset=utf-8")
            if path == "/state":
                body = json.dumps(live.state, ensure_ascii=False, allow_nan=False).encode("utf-8")
                return self._send(200, body, "application/json")
            if path == "/events":
                return self._events()
            return self._send(404, b"not found\n", "text/plain")

        def _send(self, code, body: bytes, kind: str):
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _events(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            seen = -1
            try:
                self.wfile.write(b"retry: 1000\n\n")
                while not live.closed:
                    v = live.wait(seen, PING)
                    if v != seen:
                        self.wfile.write(f"event: update\ndata: {v}\n\n".encode())
                        seen = v
                    else:
                        self.wfile.write(b": ping\n\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format, *args):     # noqa: A002 - quiet: the terminal shows runs
            pass

    return Handler


def main(args, cache, feeds, feed_files, out=None, err=None) -> int:
    """Serve until Ctrl-C (KeyboardInterrupt: exit 130 in the CLI); 1 when it cannot start."""
    out = out or sys.stdout
    err = err or sys.stderr
    session = Session([args.page], cache, run=run_options(args),
                      load={"allow_outside": args.allow_outside, "max_bytes": args.max_bytes},
                      feeds=feeds, feed_files=feed_files,
                      params=getattr(args, "param_values", None))
    live = Live()
    since = file_stats(session.files())
    try:
        state = _refresh(session, live, None, err)
    except RenderError as e:
        print(f"blockgraph: error: {e}", file=err)
        return 1
    loopback = args.host in LOOPBACK
    try:
        server = ThreadingHTTPServer((args.host, args.port), handler(live, None))
    except OSError as e:
        print(f"blockgraph: error: cannot listen on {args.host}:{args.port}: {e.strerror or e}",
              file=err)
        return 1
    server.daemon_threads = True
    port = server.server_address[1]
    if loopback:
        server.RequestHandlerClass = handler(live, {f"{h}:{port}" for h in LOOPBACK})
    thread = threading.Thread(target=server.serve_forever, name="blockgraph-serve", daemon=True)
    thread.start()
    url = f"http://{'127.0.0.1' if args.host == '0.0.0.0' else args.host}:{port}/"
    print(f"serving {args.page} at {url} (Ctrl-C to stop)", file=out, flush=True)
    if not loopback:
        print(f"blockgraph: warning: listening on {args.host}: anyone who can reach this machine "
              "can read the page and its results", file=err, flush=True)
    try:
        since.update({k: v for k, v in file_stats(session.files()).items() if k not in since})
        for changed in changes(session.files, since=since):
            names = ", ".join(sorted(os.path.relpath(p) for p in changed))
            state = _refresh(session, live, state, err, changed)
            print(f"[{time.strftime('%H:%M:%S')}] changed: {names}; version {live.version}",
                  file=out, flush=True)
    finally:
        live.close()
        server.shutdown()
        server.server_close()
    return 0


def _refresh(session, live, previous, err, changed=None) -> dict:
    (o,) = session.refresh(changed)
    for line in o.new_problems:
        print(line, file=err)
    err.flush()
    try:
        state = snapshot(o, previous)
    except RenderError as e:           # dot failed on this version: keep the last picture
        if previous is None:
            raise
        print(f"blockgraph: error: {e}", file=err)
        o.page, o.problems = None, o.problems + [f"blockgraph: error: {e}"]
        state = snapshot(o, previous)
    live.publish(state)
    return state
