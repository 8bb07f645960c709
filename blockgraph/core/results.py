"""Per-block results of a run: `BlockResult`, `Results`; the atomic .npz writer and the JSON form
(RFC 8259: NaN and infinities as the strings "nan", "inf", "-inf")."""
from __future__ import annotations

import json
import math
import os
import stat
import tempfile
from dataclasses import dataclass, field

import numpy as np

from . import dtypes as dt
from .errors import FileWriteError


@dataclass(slots=True)
class BlockResult:
    """One block's outcome: status "ok" | "cached" | "failed" | "skipped", its error, time and
    outputs. "cached" is an ok result served from a cache (`run.cache`): `ok` is true for it,
    and `saved` holds the seconds it saved (its compute time then, less the look-up now).

    `outputs` maps port -> array (a list of arrays for a list output); `dtypes` gives their TF
    dtype names (which keep quantized names such as quint8). `traceback` holds the Python
    traceback of an internal error (a bug in a block), shown by `--debug`; `hint` how to fix
    a failure when it is known (a placeholder's feed)."""
    id: str
    op: str
    status: str = "pending"
    error: str | None = None
    error_port: str | None = None
    seconds: float = 0.0
    outputs: dict = field(default_factory=dict)
    dtypes: dict = field(default_factory=dict)
    dropped: list = field(default_factory=list)
    traceback: str | None = None
    saved: float = 0.0
    hint: str | None = None            # how to fix it, when known (e.g. a placeholder's feed)

    @property
    def ok(self) -> bool:
        return self.status == "ok" or self.status == "cached"

    def drop_outputs(self, keep_patterns) -> None:
        """Free the outputs not matching any glob of `keep_patterns` (on BLOCK.PORT[.I])."""
        from fnmatch import fnmatchcase
        for port in list(self.outputs):
            names = [f"{self.id}.{port}", self.id]
            if not any(fnmatchcase(n, p) for n in names for p in keep_patterns):
                del self.outputs[port]
                self.dropped.append(port)

    def __repr__(self) -> str:
        return f"<BlockResult {self.id!r} ({self.op}): {_outcome(self)}>"

    def items(self):
        """(key suffix, TF dtype, array) for every output tensor: PORT or PORT.I."""
        for port, v in self.outputs.items():
            if isinstance(v, list):
                for i, (a, d) in enumerate(zip(v, self.dtypes[port])):
                    yield f"{port}.{i}", d, a
            else:
                yield port, self.dtypes[port], v


class Results:
    """Every block's result of one page run, in run order.

    >>> results["fq.backprop_wrt_min"]        # an array, by BLOCK.PORT (or BLOCK, BLOCK.PORT.I)
    >>> results.block("fq").status
    """

    def __init__(self, page: str, blocks: dict[str, BlockResult]):
        self.page = page
        self.blocks = blocks
        self.cycles = 1                 # cycles run (pages with Variables run several)
        self.state: dict = {}           # Variable id -> value after the last cycle
        self.traces: dict = {}          # BLOCK.PORT -> array with a leading cycle axis (--trace)

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.blocks.values())

    def __repr__(self) -> str:
        """A summary and one line per block (the first REPR_BLOCKS): status, outputs or error."""
        counts = {}
        for r in self.blocks.values():
            counts[r.status] = counts.get(r.status, 0) + 1
        head = (f"<Results of page {self.page!r}: {len(self.blocks)} blocks ("
                + ", ".join(f"{n} {s}" for s, n in counts.items()) + ")"
                + (f", {self.cycles} cycles" if self.cycles != 1 else "")
                + (f", variables {', '.join(self.state)}" if self.state else "")
                + (f", traces {', '.join(self.traces)}" if self.traces else ""))
        rows = list(self.blocks.values())
        width = max((len(r.id) for r in rows[:REPR_BLOCKS]), default=0)
        lines = [f"  {r.id.ljust(width)}  {_outcome(r)}" for r in rows[:REPR_BLOCKS]]
        if len(rows) > REPR_BLOCKS:
            lines.append(f"  ... {len(rows) - REPR_BLOCKS} more")
        return "\n".join([head + (":" if lines else ""), *lines]) + ">"

    def block(self, bid: str) -> BlockResult:
        return self.blocks[bid]

    def __iter__(self):
        return iter(self.blocks.values())

    def __len__(self):
        return len(self.blocks)

    def __contains__(self, key):
        try:
            self[key]
        except KeyError:
            return False
        return True

    def __getitem__(self, key: str) -> np.ndarray:
        parts = key.split(".")
        r = self.blocks.get(parts[0])
        if r is None:
            raise KeyError(f"no block '{parts[0]}' in page '{self.page}'")
        if not r.ok:
            raise KeyError(f"block '{r.id}' has no outputs: it {r.status}"
                           + (f" ({r.error})" if r.error else ""))
        port = parts[1] if len(parts) > 1 else next(iter(r.outputs), None)
        if port in r.dropped:
            raise KeyError(f"output '{r.id}.{port}' was not kept (see --keep)")
        if port not in r.outputs:
            raise KeyError(f"block '{r.id}' has no output '{port}' (outputs: {', '.join(r.outputs)})")
        v = r.outputs[port]
        if len(parts) > 2:
            if not isinstance(v, list):
                raise KeyError(f"output '{r.id}.{port}' is not a list")
            return v[int(parts[2])]
        return v

    def arrays(self, prefix: str = "") -> dict[str, np.ndarray]:
        """Every computed output as {PREFIX + BLOCK.PORT[.I]: array} (strings as numpy bytes,
        bfloat16 kept as ml_dtypes bfloat16)."""
        out = {}
        for r in self.blocks.values():
            if r.ok:
                for suffix, d, a in r.items():
                    out[f"{prefix}{r.id}.{suffix}"] = _storable(a, d)
        return out

    def trace_arrays(self) -> dict[str, np.ndarray]:
        """The traces as storable arrays ({BLOCK.PORT: array with a leading cycle axis})."""
        return {k: _storable(a, "string" if a.dtype == object else "") for k, a in self.traces.items()}

    def to_json(self, streamed: bool = False) -> dict:
        """The results as JSON-ready data; with `streamed`, tensor values are left as
        `jsonout.Tensor`s, for `jsonout.write` to encode a chunk at a time."""
        return {"page": self.page, "ok": self.ok, "cycles": self.cycles, "blocks": {
            r.id: _block_json(r, streamed) for r in self.blocks.values()}}


def _block_json(r: BlockResult, streamed: bool) -> dict:
    out = {"op": r.op, "status": r.status, "error": r.error, "seconds": round(r.seconds, 6)}
    if r.status == "cached":
        out["saved"] = round(r.saved, 6)
    out["outputs"] = {port: _tensor_json(r.outputs[port], r.dtypes[port], streamed)
                      for port in r.outputs}
    return out


REPR_BLOCKS = 20       # blocks a Results repr lists


def _outcome(r: BlockResult) -> str:
    """A block's result in a few words: its outputs (dtype and shape), or its status and error."""
    if r.ok:
        outs = ", ".join(f"{suffix} {d} [{','.join(map(str, a.shape))}]" for suffix, d, a in r.items())
        return f"{r.status}, {r.seconds * 1e3:.2f} ms" + (f": {outs}" if outs else "")
    text = r.status + (f": {r.error}" if r.error else "")
    return text + (f" (hint: {r.hint})" if r.hint else "")


def _storable(a, dtype):
    """`a` as numpy can save it: strings as fixed-width bytes (keeping every dimension, empty
    ones too)."""
    if dtype == "string":
        flat = [b if isinstance(b, bytes) else str(b).encode() for b in a.ravel().tolist()]
        return np.array(flat, dtype=np.bytes_).reshape(a.shape) if flat else \
            np.empty(a.shape, dtype="S1")
    return a


def _tensor_json(v, dtype, streamed=False):
    if isinstance(v, list):
        return [_tensor_json(a, d, streamed) for a, d in zip(v, dtype)]
    if streamed:
        from .jsonout import Tensor
        return {"dtype": dtype, "shape": list(v.shape), "values": Tensor(v, dtype)}
    return {"dtype": dtype, "shape": list(v.shape), "values": json_values(v, dtype)}


def json_values(a: np.ndarray, dtype: str):
    """Nested lists of JSON values: floats with nan/inf as strings, bytes as text, complex as
    [re, im]."""
    if dtype == "string":
        return _map(a.tolist(), lambda b: b.decode("utf-8", "replace") if isinstance(b, bytes) else str(b))
    if dtype in dt.COMPLEX:
        return _map(a.tolist(), lambda c: [_float(c.real), _float(c.imag)])
    if dtype in dt.FLOATS:
        return _map(a.astype(np.float64).tolist(), _float)
    return a.tolist()


def json_safe(x):
    """Plain data `x` (nested lists and dicts) with float NaN and infinities as the strings "nan",
    "inf" and "-inf", as in every JSON blockgraph writes."""
    if isinstance(x, float):
        return _float(x)
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    return x


def _map(x, f):
    if isinstance(x, list):
        return [_map(v, f) for v in x]
    return f(x)


def _float(x: float):
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def write_npz(path: str, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays to `path` atomically (see `write_atomic`)."""
    write_atomic(path, lambda fh: np.savez(fh, **arrays))


def write_atomic(path: str, content) -> None:
    """Write `content` (bytes, text, or a function writing to a binary file) to `path` through a
    temp file in the same folder, fsync and rename: the file at `path` is always either the
    previous one or the complete new one, with the usual permissions (an existing file's own).
    A symlink is written through (its target is replaced; the link stays); a destination that
    exists and is not a regular file is refused (FileWriteError), never replaced."""
    target, mode = destination(path)
    folder = os.path.dirname(target)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(target)[1], dir=folder)
    try:
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)               # mkstemp makes 0600; results are ordinary files
        with os.fdopen(fd, "wb") as fh:
            if callable(content):
                content(fh)
            else:
                fh.write(content.encode("utf-8") if isinstance(content, str) else content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def destination(path: str) -> tuple[str, int | None]:
    """(the file writing `path` replaces: symlinks followed, the permission bits it has or None
    when it does not exist yet); FileWriteError when it is not a regular file."""
    target = os.path.realpath(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target, None
    if not stat.S_ISREG(st.st_mode):
        from .files import kind
        raise FileWriteError(path, f"not a regular file ({kind(st.st_mode)}); refusing to replace it")
    return target, stat.S_IMODE(st.st_mode)


def dumps(obj) -> str:
    """Strict JSON (no NaN literals)."""
    return json.dumps(obj, allow_nan=False)
