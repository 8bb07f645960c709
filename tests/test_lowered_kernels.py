"""The kernels' lowered forms (`Kernel.lower`, used by the lowered cycles of `run.program`) give
the reference kernels' bits on every value: their fast paths (plain ufuncs, Python-float sums)
on clean values, the reference on NaNs, infinities, denormals, signed zeros and overflow."""
import zlib

import numpy as np
import pytest

from blockgraph.core import binding, registry
from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import LowerCall
from blockgraph.core.contexts import CallContext

F64, F32 = np.float64, np.float32


def _pool(f):
    fi = np.finfo(f)
    nan_payload = np.array([0x7ff8000000000123 if f is F64 else 0x7fc00123],
                           np.uint64 if f is F64 else np.uint32).view(f)[0]
    return np.array([0.0, -0.0, 1.0, -2.5, 3.0, 0.1, fi.tiny, -fi.tiny, fi.tiny / 4, -fi.tiny / 8,
                     fi.max, -fi.max, fi.max / 3, np.inf, -np.inf, np.nan, -np.nan, nan_payload,
                     2.0 ** -970 if f is F64 else 2.0 ** -100, 1e-300 if f is F64 else 1e-30,
                     7.25, -1e5], f)


def _draw(rng, f, shape, special=0.3):
    """Values of dtype f: ordinary random numbers, with a share of special ones."""
    a = np.array(rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 4, shape), f)
    pick = np.asarray(rng.random(shape) < special)
    a[pick] = rng.choice(_pool(f), size=int(pick.sum()))
    return np.asarray(a, f)


def _lowered(op, inputs, attrs, constants=(), refs=None):
    """(lowered fn, reference fn) of block `op` for inputs like `inputs` ({port: array})."""
    defn = registry.get(op)
    in_dtypes = {p: dt.from_numpy(v.dtype) for p, v in inputs.items()}
    bound, specs, _ = binding.bind(defn, inputs, attrs, in_dtypes)
    ports = [p.name for p in defn.inputs if p.name in inputs]
    sample = {p: inputs[p] for p in ports}

    def ctx():
        return CallContext("b", op, specs, refs=refs) if defn.context else None
    lctx = ctx()
    out = binding.compute(defn, sample, bound, specs, ctx())[0]
    call = LowerCall(bound, sample, specs, {p: sample[p] for p in constants}, lctx)
    fn = binding.lower(defn, call, [(out.dtype, out.shape)])

    def lowered(*xs):
        if lctx is not None:
            lctx.updates = {}
        with np.errstate(all="ignore"):      # as a lowered run calls it
            r = fn(*xs)
        return r, dict(lctx.updates) if lctx is not None else {}

    def reference(*xs):
        c = ctx()
        r = binding.compute(defn, dict(zip(ports, xs)), bound, specs, c)[0]
        return r, dict(c.updates) if c is not None else {}
    return lowered, reference, ports


def _same(a, b):
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, a.shape, b.dtype, b.shape)
    assert a.tobytes() == b.tobytes(), (a, b)


def _check(lowered, reference, args):
    got, staged = lowered(*args)
    want, want_staged = reference(*args)
    _same(got, want)
    assert staged.keys() == want_staged.keys()
    for k in staged:
        _same(np.asarray(staged[k]), np.asarray(want_staged[k]))


@pytest.mark.parametrize("op", ["Add", "AddV2", "Sub", "Mul", "Div", "RealDiv"])
@pytest.mark.parametrize("f", [F64, F32])
@pytest.mark.parametrize("shapes", [((3,), (1,)), ((2, 3), (3,)), ((), ()), ((4,), (4,)),
                                    ((40,), (40,))], ids=str)
@pytest.mark.parametrize("const", [(), ("y",)], ids=["varying", "y_constant"])
def test_binary_ops_give_the_reference_bits(op, f, shapes, const):
    rng = np.random.default_rng(zlib.crc32(repr((op, f.__name__, shapes, const)).encode()))
    x0, y0 = np.ones(shapes[0], f), np.full(shapes[1], 2.0, f)
    lowered, reference, _ = _lowered(op, {"x": x0, "y": y0}, {}, const)
    for _ in range(150):
        x = _draw(rng, f, shapes[0])
        _check(lowered, reference, (x, y0 if const else _draw(rng, f, shapes[1])))


@pytest.mark.parametrize("op", ["Square", "Neg"])
@pytest.mark.parametrize("f", [F64, F32, np.int32, np.int8])
@pytest.mark.parametrize("shape", [(3,), (), (2, 40)], ids=str)
def test_unary_ops_give_the_reference_bits(op, f, shape):
    rng = np.random.default_rng(7)
    lowered, reference, _ = _lowered(op, {"x": np.ones(shape, f)}, {})
    for _ in range(150):
        x = _draw(rng, f, shape) if np.dtype(f).kind == "f" else \
            rng.integers(np.iinfo(f).min, np.iinfo(f).max, shape, dtype=f, endpoint=True)
        _check(lowered, reference, (np.asarray(x, f),))


@pytest.mark.parametrize("f", [np.int32, np.uint8, np.int64])
@pytest.mark.parametrize("op", ["AddV2", "Sub", "Mul", "Div"])
def test_integer_ops_wrap_and_fail_as_the_reference(f, op):
    rng = np.random.default_rng(3)
    info = np.iinfo(f)
    lowered, reference, _ = _lowered(op, {"x": np.ones(3, f), "y": np.ones(3, f)}, {})
    for _ in range(100):
        x, y = (rng.integers(info.min, info.max, 3, dtype=f, endpoint=True) for _ in range(2))
        if op == "Div":
            y[y == 0] = 1
        _check(lowered, reference, (x, y))
    if op == "Div":
        with pytest.raises(Exception, match="Integer division by zero"):
            lowered(np.ones(3, f), np.zeros(3, f))


@pytest.mark.parametrize("op", ["Mean", "Sum"])
@pytest.mark.parametrize("shape, axis", [((3,), 0), ((1,), 0), ((5,), -1), ((15,), 0),
                                         ((16,), 0), ((1, 7), 1), ((6, 1), 0), ((2, 3), 1),
                                         ((4,), [0])], ids=str)
@pytest.mark.parametrize("keep", [True, False])
@pytest.mark.parametrize("f", [F64, F32])
def test_reductions_give_the_reference_bits(op, shape, axis, keep, f):
    rng = np.random.default_rng(11)
    ax = np.array(axis, np.int32)
    lowered, reference, _ = _lowered(op, {"input": np.ones(shape, f), "axis": ax},
                                     {"keep_dims": keep}, ("axis",))
    for special in (0.0, 0.3):
        for _ in range(60):
            _check(lowered, reference, (_draw(rng, f, shape, special), ax))
    big = np.full(shape, np.finfo(f).max, f)               # partial sums overflow
    _check(lowered, reference, (big, ax))
    tiny = float(np.finfo(f).tiny)
    for _ in range(40):       # normal values whose partial sums may be denormal (then flushed)
        k = rng.integers(2, 7, shape) * rng.choice([-1, 1], shape)
        _check(lowered, reference, (np.array(k * tiny / 2, f), ax))


@pytest.mark.parametrize("f", [F64, F32])
@pytest.mark.parametrize("const", [("alpha",), ()], ids=["alpha_constant", "varying"])
def test_apply_gradient_descent_gives_the_reference_bits_and_update(f, const):
    rng = np.random.default_rng(5)
    var, alpha, delta = np.ones(3, f), np.array(0.01, f), np.ones(3, f)
    lowered, reference, _ = _lowered("ApplyGradientDescent",
                                     {"var": var, "alpha": alpha, "delta": delta}, {}, const,
                                     refs={"var": "w"})
    for _ in range(200):
        a = alpha if const else _draw(rng, f, ())
        _check(lowered, reference, (_draw(rng, f, (3,)), a, _draw(rng, f, (3,))))


@pytest.mark.parametrize("op", ["AssignAdd", "AssignSub"])
@pytest.mark.parametrize("f", [F64, F32, np.int32])
def test_assign_add_sub_give_the_reference_bits_and_update(op, f):
    rng = np.random.default_rng(9)
    lowered, reference, _ = _lowered(op, {"ref": np.ones(4, f), "value": np.ones(4, f)}, {},
                                     refs={"ref": "w"})
    for _ in range(150):
        if np.dtype(f).kind == "f":
            args = (_draw(rng, f, (4,)), _draw(rng, f, (4,)))
        else:
            args = tuple(rng.integers(-2 ** 31, 2 ** 31 - 1, 4, dtype=f) for _ in range(2))
        _check(lowered, reference, args)


def test_a_constant_input_that_is_not_clean_keeps_the_reference_path():
    """A denormal constant operand: the fast path is not taken at all (checked once)."""
    y = np.array([np.finfo(F64).tiny / 2])
    lowered, reference, _ = _lowered("Mul", {"x": np.ones(3), "y": y}, {}, ("y",))
    _check(lowered, reference, (np.array([1.0, 2.0, 3.0]), y))
    assert lowered(np.array([1.0, 2.0, 3.0]), y)[0].tolist() == [0.0, 0.0, 0.0]
