"""Fused multi-threaded float32/float64 reductions (numba), bit-identical to `blocks.kernels.reduce`.

Sum and Mean add in Eigen's order: the reduction is cut into the leaves of Eigen's tree
(`reduce.tree_plan`, `full_plan`: worked out in Python from the shape, cached), the leaves are summed
in parallel, each as InnerMostDimReducer's leaf loop (four packet accumulators, the remaining
packets, a scalar tail, the lanes halved: `reduce_simd._vsum`, as LLVM vector IR), and the
leaf sums are combined in the tree's and the thread shards' order: the result does not depend on the number of threads.
The kernels run with FTZ|DAZ set in MXCSR, as TF's threads do, so denormals are flushed by
the hardware.

Max and Min are order-free where the result is a nonzero normal number or an infinity: the
kernels find the largest (smallest) value with vector compares (`reduce_simd._vmax`/`_vmin`,
which also report a NaN) and leave to numpy the results that are NaN, zero or denormal (whose
bits depend on the order). ArgMax/ArgMin: the first index of the best value in parallel
chunks, comparisons under DAZ, NaN never winning.

Threads: Sum/Mean/Max/Min cut their work into at most BLOCKS blocks by the shape alone, which
the calling thread and `workshare`'s helper threads take in turn (the kernels release the
GIL); ArgMax/ArgMin run numba's parallel loop (one at a time: `_LOCK`).

Taken for float32/float64 tensors of at least MIN_ELEMENTS elements reduced over all their
axes or over trailing axes (`accepts` and the `fused_*` functions, which return None to hand
the call back), when numba is installed (BLOCKGRAPH_NO_FUSED=1 disables).
"""
from __future__ import annotations

import functools
import threading

import numpy as np

from . import reduce as red
from . import reduce_simd, workshare
from .ieee import daz
from .jit import Jit
from .reduce_ops import WIDTH

MIN_ELEMENTS = 1 << 16
#: elements per parallel work item of Max/Min/ArgMax over a whole tensor
CHUNK = 1 << 16
#: work blocks a kernel call is cut into (whoever runs takes the next one)
BLOCKS = 16
#: MXCSR flush-to-zero (bit 15) and denormals-are-zero (bit 6)
FTZ_DAZ = np.uint32(0x8040)
prange = range          # numba.prange in the parallel=True versions
_stmxcsr = _ldmxcsr = _vsum = _vmax = _vmin = None   # numba intrinsics, in the jitted namespace only
_LOCK = threading.Lock()     # one parallel kernel at a time (numba's workqueue is not thread-safe)


# ----------------------------------------------------------------- the leaf loops (jitted)

def _lanes_source(is_max: bool, L: int = 32) -> str:
    """Source of `_lanes_max(x)` / `_lanes_min(x)`: the largest (smallest) value of x over L
    lanes held in locals (the compiler vectorises them); NaN never wins (max() keeps the
    accumulator when a comparison with NaN is false), so a NaN must be looked for elsewhere."""
    op, name = ("max", "_lanes_max") if is_max else ("min", "_lanes_min")
    src = [f"def {name}(x):", f"    s = x.dtype.type({'-' if is_max else ''}np.inf)"]
    src += [f"    m{k} = s" for k in range(L)]
    src += [f"    for i in range(x.size // {L}):", f"        b = i * {L}"]
    src += [f"        m{k} = {op}(m{k}, x[b + {k}])" for k in range(L)]
    src += [f"    for j in range((x.size // {L}) * {L}, x.size):", f"        m0 = {op}(m0, x[j])"]
    src += [f"    return {op}(" + ", ".join(f"m{k}" for k in range(L)) + ")"]
    return "\n".join(src)


_lanes_max = _lanes_min = None    # defined by the generated sources below
for _src in (_lanes_source(True), _lanes_source(False)):
    exec(compile(_src, __file__, "exec"))      # noqa: S102 - generated above


def _leaf(x):
    """Eigen's leaf over all of x (`reduce_simd._vsum`)."""
    return _vsum(x, 0, x.size)


def _combine(vals, prog):
    """Run a combination program: -1 pushes 0, k >= 0 pushes leaf k, -2 adds the top two."""
    stack = np.empty(prog.size + 1, vals.dtype)
    sp = 0
    for i in range(prog.size):
        c = prog[i]
        if c == -1:
            stack[sp] = 0
            sp += 1
        elif c >= 0:
            stack[sp] = vals[c]
            sp += 1
        else:
            sp -= 1
            stack[sp - 1] = stack[sp - 1] + stack[sp]
    return stack[0]


# ----------------------------------------------------------------- kernels (jitted)
# Kernel(bounds, ...) runs the work items of blocks bounds[g]..bounds[g+1]-1 under FTZ|DAZ (set
# on the thread that runs it: MXCSR is per thread); `_share` spreads the blocks over threads.

def _sum_leaves(bounds, x, starts, lens, vals):
    """vals[i] = leaf i of a full reduction of x (starts: absolute)."""
    for g in range(bounds.size - 1):
        old = _stmxcsr()
        _ldmxcsr(old | FTZ_DAZ)
        for i in range(bounds[g], bounds[g + 1]):
            vals[i] = _vsum(x, starts[i], lens[i])
        _ldmxcsr(old)


def _combine_ftz(vals, prog, out):
    old = _stmxcsr()
    _ldmxcsr(old | FTZ_DAZ)
    out[0] = _combine(vals, prog)
    _ldmxcsr(old)


def _sum_rows(bounds, x, C, P, starts, lens, prog, leaf_at, prog_at, out):
    """out[r] = row r of x (flat, rows of C) through the leaves and program of `row_plans`
    for the row's packet offset f: leaves leaf_at[f].. (starts relative to the row), program
    prog_at[f].. (leaf numbers from 0)."""
    for g in range(bounds.size - 1):
        old = _stmxcsr()
        _ldmxcsr(old | FTZ_DAZ)
        vals = np.empty(starts.size, x.dtype)
        for r in range(bounds[g], bounds[g + 1]):
            f = (r * C) % P
            first = leaf_at[f]
            for i in range(leaf_at[f + 1] - first):
                vals[i] = _vsum(x, r * C + starts[first + i], lens[first + i])
            out[r] = _combine(vals, prog[prog_at[f]:prog_at[f + 1]])
        _ldmxcsr(old)


def _best(bounds, x, seg, is_max, out):
    """out[i] = the largest (smallest) value of x[i*seg:(i+1)*seg] (flat; the last segment
    may be short), NaN when it holds one."""
    for g in range(bounds.size - 1):
        old = _stmxcsr()
        _ldmxcsr(old | FTZ_DAZ)
        for i in range(bounds[g], bounds[g + 1]):
            s = i * seg
            n = min(seg, x.size - s)
            out[i] = _vmax(x, s, n) if is_max else _vmin(x, s, n)
        _ldmxcsr(old)


def _arg_chunks(x, chunk, is_max, best, where):
    """Per row r of x [R, C] and chunk c: the best value (DAZ compares; NaN and values no better
    than the start never win) and the first index holding it (-1: none)."""
    R = x.shape[0]
    nc = best.shape[1]
    for item in prange(R * nc):
        old = _stmxcsr()
        _ldmxcsr(old | FTZ_DAZ)
        r = item // nc
        s = (item % nc) * chunk
        e = min(x.shape[1], s + chunk)
        part = x[r][s:e]
        m = _lanes_max(part) if is_max else _lanes_min(part)
        b = best[r, item % nc]
        w = -1
        if (m > b) if is_max else (m < b):      # the first element equal to it (under DAZ)
            for j in range(part.size):
                if part[j] == m:
                    b = part[j]
                    w = s + j
                    break
        best[r, item % nc] = b
        where[r, item % nc] = w
        _ldmxcsr(old)


def _mxcsr_intrinsics():
    """numba intrinsics reading and writing MXCSR (`_stmxcsr()`, `_ldmxcsr(v)`), and the vector
    loops of `reduce_simd` (`_vsum`, `_vmax`, `_vmin`)."""
    import llvmlite.ir as ir
    from numba import types as nt
    from numba.core import cgutils
    from numba.extending import intrinsic

    def call(builder, name, ptr):
        fnty = ir.FunctionType(ir.VoidType(), [ir.IntType(8).as_pointer()])
        fn = cgutils.get_or_insert_function(builder.module, fnty, name)
        builder.call(fn, [builder.bitcast(ptr, ir.IntType(8).as_pointer())])

    @intrinsic
    def _stmxcsr(typingctx):
        def codegen(context, builder, sig, args):
            ptr = cgutils.alloca_once(builder, ir.IntType(32))
            call(builder, "llvm.x86.sse.stmxcsr", ptr)
            return builder.load(ptr)
        return nt.uint32(), codegen

    @intrinsic
    def _ldmxcsr(typingctx, v):
        def codegen(context, builder, sig, args):
            ptr = cgutils.alloca_once(builder, ir.IntType(32))
            builder.store(args[0], ptr)
            call(builder, "llvm.x86.sse.ldmxcsr", ptr)
            return context.get_dummy_value()
        return nt.void(nt.uint32), codegen

    return {"_stmxcsr": _stmxcsr, "_ldmxcsr": _ldmxcsr, **reduce_simd.intrinsics()}


_JIT = Jit(globals(), ("_leaf", "_combine", "_lanes_max", "_lanes_min"),
           ("_arg_chunks",), serial_only=("_sum_leaves", "_sum_rows", "_best", "_combine_ftz"),
           extra=_mxcsr_intrinsics)


def _run(name, *args):
    _JIT.load()
    if _JIT.threads <= 1:
        return _JIT.serial[name](*args)
    with _LOCK:
        return _JIT.parallel[name](*args)


def _share(name, items, *args):
    """Kernel `name` over items 0..items-1 cut into at most BLOCKS blocks (by their number
    alone), which the calling thread and `workshare`'s helpers take in turn: a helper the
    machine has not scheduled holds up at most the block it claimed (numba's parallel loop
    gives each thread a fixed share and waits for the slowest; measured slower on a busy VM)."""
    _JIT.load()
    fn = _JIT.serial[name]
    count = max(1, min(items, BLOCKS))
    bounds = np.array([items * i // count for i in range(count + 1)], np.int64)
    if count == 1 or workshare.threads() <= 1:
        fn(bounds, *args)
    else:
        workshare.run(count, lambda i: fn(bounds[i:i + 2], *args), blas=False)


# ----------------------------------------------------------------- plans (Python)

@functools.lru_cache(maxsize=64)
def full_plan(n: int, P: int, leaf: int, nthreads: int):
    """The leaves and program of Eigen's FullReducer: shards of n // nthreads values (trees
    from their own start); the remainder's sum, then each shard added to it in order."""
    if nthreads == 1:
        return red.tree_plan(n, 0, P, leaf)
    bs = n // nthreads
    nb = n // bs
    starts, lens, prog = [], [], []

    def add(s, m):
        st, ln, pg = red.tree_plan(m, s, P, leaf)
        base = len(starts)
        starts.extend((st + s).tolist())
        lens.extend(ln.tolist())
        prog.extend([c + base if c >= 0 else c for c in pg.tolist()])

    if nb * bs < n:
        add(nb * bs, n - nb * bs)
    else:
        prog.append(-1)
    for i in range(nb):
        add(i * bs, bs)
        prog.append(-2)
    return (np.array(starts, np.int64), np.array(lens, np.int64), np.array(prog, np.int64))


@functools.lru_cache(maxsize=64)
def row_plans(C: int, P: int, leaf: int):
    """Eigen's tree of a row of C values for each packet offset f of its start (the halves
    split on packet boundaries of the flat index): (starts, lens, programs, leaf_at, prog_at),
    offset f's leaves at leaf_at[f]..leaf_at[f+1]-1 and its program at prog_at[f]..."""
    plans = [red.tree_plan(C, f, P, leaf) for f in range(P)]
    cat = [np.concatenate([pl[k] for pl in plans]) for k in range(3)]
    leaf_at = np.cumsum([0] + [pl[0].size for pl in plans]).astype(np.int64)
    prog_at = np.cumsum([0] + [pl[2].size for pl in plans]).astype(np.int64)
    return (*cat, leaf_at, prog_at)


# ----------------------------------------------------------------- dispatch

def accepts(inputs, attrs) -> bool:
    """Large float32/float64 inputs when numba is available."""
    x = inputs.get("input")
    return (x is not None and x.dtype in (np.float32, np.float64) and x.size >= MIN_ELEMENTS
            and _JIT.load())


def _view(x, axis, keep_dims):
    """(kind, plan, 2-D view): 'full' (one row), 'rows' (trailing axes reduced), or None."""
    p = red.plan(x.shape, axis, keep_dims)
    flat = np.ascontiguousarray(x).reshape(-1)
    if p.ndims == 1 and p.reduce_first:
        return "full", p, flat.reshape(1, -1)
    if p.ndims == 2 and not p.reduce_first:
        return "rows", p, flat.reshape(p.data_reshape)
    return None, p, None


def fused_sum(x, axis, keep_dims):
    """(the sums in the output shape, values per output), or None to hand back to numpy."""
    kind, p, v = _view(x, axis, keep_dims)
    if kind is None:
        return None
    P = WIDTH[x.dtype.name]
    R, C = v.shape
    flat = v.reshape(-1)
    if kind == "full":
        nt = red.threads(C, red.coeff_cost(x.dtype.itemsize, P), red.tf_threads())
        starts, lens, prog = full_plan(C, P, 1024, nt)
        vals = np.empty(starts.size, x.dtype)
        _share("_sum_leaves", starts.size, flat, starts, lens, vals)
        out = np.empty(1, x.dtype)
        _JIT.serial["_combine_ftz"](vals, prog, out)
    else:
        out = np.empty(R, x.dtype)
        _share("_sum_rows", R, flat, C, P, *row_plans(C, P, 1024), out)
    if np.isnan(out).any():
        return None              # NaN payloads: numpy's reference follows TF's operand order
    return daz(out).reshape(p.out_shape), C


def fused_minmax(is_max, x, axis, keep_dims):
    """Max/Min in the output shape, or None (a NaN, or a result that is zero or denormal):
    the best value of each row (of each CHUNK of a full reduction, then of those)."""
    kind, p, v = _view(x, axis, keep_dims)
    if kind is None:
        return None
    R, C = v.shape
    seg = CHUNK if kind == "full" else C
    out = np.empty(-(-v.size // seg), x.dtype)
    _share("_best", out.size, v.reshape(-1), seg, is_max, out)
    if np.isnan(out).any():
        return None
    if kind == "full":
        out = out.max(keepdims=True) if is_max else out.min(keepdims=True)
    if (np.abs(out) < np.finfo(x.dtype).tiny).any():
        return None
    return out.reshape(p.out_shape)


def fused_arg(is_max, x, axis):
    """ArgMax/ArgMin indices along `axis` when it is the last one, else None."""
    if axis != x.ndim - 1:
        return None
    C = x.shape[-1]
    R = x.size // C
    v = np.ascontiguousarray(x).reshape(R, C)
    nc = -(-C // CHUNK)
    top = np.finfo(x.dtype).max
    best = np.full((R, nc), -top if is_max else top, x.dtype)   # Eigen's start: (0, lowest)
    where = np.empty((R, nc), np.int64)
    _run("_arg_chunks", v, CHUNK, is_max, best, where)
    won = where >= 0
    best = np.where(won, daz(best), -np.inf if is_max else np.inf)   # chunks compared under DAZ
    pick = np.argmax(best, axis=1) if is_max else np.argmin(best, axis=1)
    idx = where[np.arange(R), pick]
    return np.where(won[np.arange(R), pick], idx, 0).reshape(x.shape[:-1])
