"""numba intrinsics emitting the reductions' inner loops as LLVM vector IR (`<P x float>` loads
and adds), for `reduce_fused` and `softmax_fused`.

Why: LLVM does not vectorise the leaf loop written with one local per lane (numba's index
arithmetic gets in the way), and fast-math would reorder the adds. Here each packet of Eigen's
loop is one vector value and the IR's adds carry no fast-math flags, so every lane adds in the
written order and the bits are Eigen's by construction (tests compare them with the numpy
reference's leaf, `reduce._leaf`).

- `_vsum(x, s, n)`: Eigen's InnerMostDimReducer leaf over x[s:s+n] (x 1-D contiguous float32 or
  float64; P = 8 / 4 lanes): four packet accumulators over blocks of 4P values, their sum
  ((a0 + a1) + a2) + a3, the remaining whole packets added to it, a scalar tail summed from 0,
  the packet's lanes halved (low half + high half) down to one, then tail + lane.
- `_vmax(x, s, n)` / `_vmin`: the largest (smallest) value of x[s:s+n], or NaN when one is NaN.
  Order-free only where the result is a nonzero normal number or an infinity: a zero's sign and
  a denormal (compared as zero under DAZ) depend on the order, so callers check those.
"""
from __future__ import annotations


def intrinsics() -> dict:
    """{"_vsum", "_vmax", "_vmin"}: the numba intrinsics (imports numba)."""
    from numba import types as nt
    from numba.extending import intrinsic

    def typed(x, make):
        if (not isinstance(x, nt.Array) or x.ndim != 1 or x.layout != "C"
                or x.dtype not in (nt.float32, nt.float64)):
            return None
        P = 8 if x.dtype == nt.float32 else 4
        return x.dtype(x, nt.int64, nt.int64), make(P)

    @intrinsic
    def _vsum(typingctx, x, s, n):
        return typed(x, _sum_codegen)

    @intrinsic
    def _vmax(typingctx, x, s, n):
        return typed(x, lambda P: _best_codegen(P, True))

    @intrinsic
    def _vmin(typingctx, x, s, n):
        return typed(x, lambda P: _best_codegen(P, False))

    return {"_vsum": _vsum, "_vmax": _vmax, "_vmin": _vmin}


class _Loop:
    """A counted loop `for i = start; i < stop; i += step` with phi-carried values: `vals`
    inside the body, `done` (the values after the loop: the start values when it ran zero
    times) after `close(new values)`."""

    def __init__(self, builder, name, start, stop, step, init):
        import llvmlite.ir as ir
        self.b, self.stop, self.step, self.init = builder, stop, step, list(init)
        self.pre = builder.block
        fn = builder.function
        self.body = fn.append_basic_block(name)
        self.after = fn.append_basic_block(name + "_end")
        self.start = start
        go = builder.icmp_signed("<", builder.add(start, ir.Constant(start.type, step - 1)), stop) \
            if step > 1 else builder.icmp_signed("<", start, stop)
        builder.cbranch(go, self.body, self.after)
        builder.position_at_end(self.body)
        self.i = builder.phi(start.type)
        self.vals = [builder.phi(v.type) for v in self.init]

    def close(self, new):
        import llvmlite.ir as ir
        b = self.b
        i1 = b.add(self.i, ir.Constant(self.i.type, self.step))
        last = b.block
        more = b.icmp_signed("<", b.add(i1, ir.Constant(i1.type, self.step - 1)), self.stop)
        b.cbranch(more, self.body, self.after)
        self.i.add_incoming(self.start, self.pre)
        self.i.add_incoming(i1, last)
        for phi, v0, v1 in zip(self.vals, self.init, new):
            phi.add_incoming(v0, self.pre)
            phi.add_incoming(v1, last)
        b.position_at_end(self.after)
        out = []
        for v0, v1 in zip([self.start, *self.init], [i1, *new]):
            phi = b.phi(v0.type)
            phi.add_incoming(v0, self.pre)
            phi.add_incoming(v1, last)
            out.append(phi)
        self.end, self.done = out[0], out[1:]
        return self


def _setup(context, builder, sig, args, P):
    """(element pointer at x[s], n, element type, vector type, vector load function)."""
    import llvmlite.ir as ir
    aty = sig.args[0]
    arr = context.make_array(aty)(context, builder, args[0])
    et = context.get_value_type(aty.dtype)
    vt = ir.VectorType(et, P)
    base = builder.gep(arr.data, [args[1]])
    align = aty.dtype.bitwidth // 8

    def vload(i):
        return builder.load(builder.bitcast(builder.gep(base, [i]), vt.as_pointer()), align=align)

    return base, args[2], et, vt, vload


def _halves(builder, v, op):
    """A vector's lanes combined as (V)predux does: op(low half, high half) down to one lane."""
    import llvmlite.ir as ir
    h = v.type.count
    while h > 1:
        h //= 2
        mask = ir.VectorType(ir.IntType(32), h)
        lo = builder.shuffle_vector(v, v, ir.Constant(mask, list(range(h))))
        hi = builder.shuffle_vector(v, v, ir.Constant(mask, list(range(h, 2 * h))))
        v = op(lo, hi)
    return builder.extract_element(v, ir.Constant(ir.IntType(32), 0))


def _sum_codegen(P):
    import llvmlite.ir as ir

    def codegen(context, builder, sig, args):
        base, n, et, vt, vload = _setup(context, builder, sig, args, P)
        i64 = n.type
        zero = ir.Constant(vt, None)
        c = lambda k: ir.Constant(i64, k)       # noqa: E731
        L = 4 * P
        four = _Loop(builder, "leaf4", c(0), n, L, [zero] * 4)
        four.close([builder.fadd(a, vload(builder.add(four.i, c(k * P))))
                    for k, a in enumerate(four.vals)])
        a = four.done
        acc = builder.fadd(builder.fadd(builder.fadd(a[0], a[1]), a[2]), a[3])   # 0s if none
        packets = _Loop(builder, "leaf1", four.end, n, P, [acc])
        packets.close([builder.fadd(packets.vals[0], vload(packets.i))])
        tail = _Loop(builder, "leaf0", packets.end, n, 1, [ir.Constant(et, 0.0)])
        tail.close([builder.fadd(tail.vals[0], builder.load(builder.gep(base, [tail.i])))])
        return builder.fadd(tail.done[0], _halves(builder, packets.done[0], builder.fadd))

    return codegen


def _best_codegen(P, is_max):
    import llvmlite.ir as ir
    cmp = ">" if is_max else "<"

    def codegen(context, builder, sig, args):
        base, n, et, vt, vload = _setup(context, builder, sig, args, P)
        i64 = n.type
        c = lambda k: ir.Constant(i64, k)       # noqa: E731
        start = ir.Constant(vt, [float("-inf" if is_max else "inf")] * P)
        mt = ir.VectorType(ir.IntType(1), P)

        def best(m, v):         # v when it is better, else m (a NaN v never wins)
            return builder.select(builder.fcmp_ordered(cmp, v, m), v, m)

        def step(vals, i):
            m, nan = vals
            v = vload(i)
            return [best(m, v), builder.or_(nan, builder.fcmp_unordered("uno", v, v))]

        L = 4 * P
        four = _Loop(builder, "best4", c(0), n, L, [start] * 4 + [ir.Constant(mt, None)])
        ms, nan = four.vals[:4], four.vals[4]
        new = []
        for k in range(4):
            m, nan = step([ms[k], nan], builder.add(four.i, c(k * P)))
            new.append(m)
        four.close(new + [nan])
        d = four.done
        acc = best(best(best(d[0], d[1]), d[2]), d[3])
        packets = _Loop(builder, "best1", four.end, n, P, [acc, d[4]])
        packets.close(step(packets.vals, packets.i))
        m, nan = packets.done
        s = _halves(builder, m, lambda a, b: best(a, b))
        sn = builder.icmp_unsigned("!=", builder.bitcast(nan, ir.IntType(P)), ir.Constant(ir.IntType(P), 0))
        tail = _Loop(builder, "best0", packets.end, n, 1, [s, sn])
        v = builder.load(builder.gep(base, [tail.i]))
        tail.close([best(tail.vals[0], v),
                    builder.or_(tail.vals[1], builder.fcmp_unordered("uno", v, v))])
        s, sn = tail.done
        return builder.select(sn, ir.Constant(et, float("nan")), s)

    return codegen
