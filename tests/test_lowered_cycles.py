"""Lowered cycles (`run.program`): the middle cycles of a sequential run give the bits of cycles
run in full (the threads executor runs every cycle in full), through the same seam — a wrapper
without a lowered form sees every block of every cycle, one with a lowered form is composed
once per block — with traces, cancellation, failures and changing shapes as full cycles."""
import numpy as np
import pytest

import blockgraph
from blockgraph.run import cancel, program, sequential
from blockgraph.run import cycles as cycling
from blockgraph.run.plan import RunOptions
from blockgraph.run.seam import Seam

#: enuSpace's sample gradient_descent_xw_apply (as benchmarks/bench_cycles.py runs it)
XW_APPLY = """format: 1
blocks:
  x: {op: VariableV2, init: {value: [1.0, 2.0, 3.0], dtype: float64}}
  y: {op: VariableV2, init: {value: [1.0, 2.0, 3.0], dtype: float64}}
  w: {op: VariableV2, init: {value: [100.0], dtype: float64}}
  hypothesis: {op: Mul, inputs: {x: x, y: w}}
  error: {op: Sub, inputs: {x: hypothesis, y: y}}
  squared: {op: Square, inputs: {x: error}}
  cost: {op: Mean, inputs: {input: squared, axis: 0}, attrs: {keep_dims: true}}
  slope: {op: Mul, inputs: {x: error, y: x}}
  gradient: {op: Mean, inputs: {input: slope, axis: 0}, attrs: {keep_dims: true}}
  rate: {op: Const, attrs: {value: 0.0001, dtype: float64}}
  step: {op: ApplyGradientDescent, inputs: {var: w, alpha: rate, delta: gradient}}
"""

#: float64 values shrinking into denormals, float32 ones overflowing, an int counter, list
#: ports and outputs, an element reference, a shape read from a changing block, a hoisted block
MIXED = """format: 1
blocks:
  w: {op: VariableV2, init: {value: [1.0, -2.0, 3.0e-306], dtype: float64}}
  v: {op: VariableV2, init: {value: [0.5, 1.0e-30, -4.0, 2.0], dtype: float32}}
  n: {op: VariableV2, init: {value: 0, dtype: int32}}
  k: {op: Const, attrs: {value: [0.001, 0.5, 0.1], dtype: float64}}
  scale: {op: Mul, inputs: {x: k, y: 2.0}}
  shrink: {op: Mul, inputs: {x: w, y: scale}}
  mean: {op: Mean, inputs: {input: shrink, axis: 0}, attrs: {keep_dims: true}}
  both: {op: ConcatV2, inputs: {values: [shrink, mean, w], axis: 0}}
  parts: {op: Split, inputs: {axis: 0, value: both}, attrs: {num_split: 7}}
  first: {op: Identity, inputs: {input: parts.output.6}}
  vv: {op: Square, inputs: {x: v}}
  shape: {op: Shape, inputs: {input: v}}
  again: {op: Reshape, inputs: {tensor: vv, shape: shape}}
  grow: {op: AssignAdd, inputs: {ref: v, value: again}}
  sub: {op: AssignSub, inputs: {ref: w, value: shrink}}
  count: {op: AssignAdd, inputs: {ref: n, value: 1}}
  total: {op: Sum, inputs: {input: w, axis: 0}}
  root: {op: Sqrt, inputs: {x: w}}
  pair: {op: IdentityN, inputs: {input: [root, count]}}
"""


def _page(tmp_path, text, name="p.yaml"):
    path = tmp_path / name
    path.write_text(text)
    page = blockgraph.load_page(str(path))
    assert not page.diagnostics, [d.format() for d in page.diagnostics]
    return page


@pytest.fixture
def lowered_cycles(monkeypatch):
    """The number of lowered cycles run (so a test knows the lowered path ran)."""
    count = [0]
    cycle = program.Program.cycle

    def counted(self):
        count[0] += 1
        return cycle(self)
    monkeypatch.setattr(program.Program, "cycle", counted)
    return count


def _same(a, b):
    assert a.cycles == b.cycles and sorted(a.traces) == sorted(b.traces)
    for k in a.traces:
        assert a.traces[k].dtype == b.traces[k].dtype, k
        assert a.traces[k].tobytes() == b.traces[k].tobytes(), k
    for k in a.state:
        assert a.state[k].tobytes() == b.state[k].tobytes(), k
    for r in b:
        for suffix, _, v in r.items():
            assert a[f"{r.id}.{suffix}"].tobytes() == v.tobytes()


def test_gradient_descent_xw_apply_after_22312_cycles_has_tensorflows_bits(tmp_path, lowered_cycles):
    """TF 2.21 (eager, tf.function with and without grappler) ends the same 22,312 cycles with
    w = 0x1.00c2913659742p+0 and the last cost 0x1.595e1f37f17b8p-15."""
    r = _page(tmp_path, XW_APPLY).run(cycles=22312)
    assert r.ok and r.cycles == 22312 and lowered_cycles[0] == 22310
    assert r.state["w"].tolist() == [float.fromhex("0x1.00c2913659742p+0")]
    assert r["cost"].tolist() == [float.fromhex("0x1.595e1f37f17b8p-15")]
    assert r["step"].tolist() == r.state["w"].tolist()


def test_lowered_cycles_give_the_bits_of_full_cycles(tmp_path, lowered_cycles):
    page = _page(tmp_path, MIXED)
    full = page.run(cycles=60, trace=["*"], executor="threads", workers=2)
    assert lowered_cycles[0] == 0
    lowered = page.run(cycles=60, trace=["*"])
    assert lowered_cycles[0] >= 40
    assert full.ok and lowered.ok
    _same(lowered, full)
    shrink = lowered.traces["shrink.z"][:, 2]              # w * 0.2 became denormal: flushed
    assert shrink[0] > 0 and (shrink == 0).any() and np.isinf(lowered.traces["v.ref"]).any()
    assert lowered.state["n"].tolist() == 60 and lowered.traces["first.output"].shape == (60, 1)


def test_changing_shapes_fall_back_to_full_cycles(tmp_path, lowered_cycles):
    """Where's output grows every cycle: each lowered cycle finds a shape it was not lowered for,
    runs again in full, and the run stops lowering after LOWERINGS tries."""
    page = _page(tmp_path, """format: 1
blocks:
  v: {op: VariableV2, init: {value: [0.0, 0.0, 0.0, 0.0, 0.0, 0.0], dtype: float32}}
  ramp: {op: Const, attrs: {value: [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], dtype: float32}}
  up: {op: AssignAdd, inputs: {ref: v, value: [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]}}
  big: {op: Greater, inputs: {x: v, y: ramp}}
  where: {op: Where, inputs: {condition: big}}
  count: {op: Size, inputs: {input: where}}
""")
    full = page.run(cycles=12, trace=["count", "where"], executor="threads")
    lowered = page.run(cycles=12, trace=["count", "where"])
    assert lowered.ok and lowered.traces["count.output"].tolist() == [0, 0, 1, 2, 3, 4, 5, 6, 6,
                                                                       6, 6, 6]
    assert full.traces["count.output"].tolist() == lowered.traces["count.output"].tolist()
    assert full.state["v"].tobytes() == lowered.state["v"].tobytes()
    assert 0 < lowered_cycles[0] <= 2 * cycling.LOWERINGS


def test_a_wrapper_without_a_lowered_form_sees_every_block_of_every_cycle(tmp_path):
    page = _page(tmp_path, XW_APPLY)
    seen = []

    def watching(task, proceed):
        seen.append(task.block.id)
        return proceed(task)
    options = RunOptions(seam=Seam(extra=(watching,)))
    r = cycling.run(sequential.Sequential(), page.plan(), {}, options, cycles=10)
    assert r.ok and len(seen) == 10 * 11


def test_a_wrapper_with_a_lowered_form_is_composed_once_and_called_every_cycle(tmp_path):
    page = _page(tmp_path, XW_APPLY)
    full, lowered, calls = [], [], []

    def counting(task, proceed):
        full.append(task.block.id)
        return proceed(task)

    def lower(call, bound):
        lowered.append(bound.block.id)

        def counted(*xs):
            calls.append(bound.block.id)
            return call(*xs)
        return counted
    counting.lower = lower
    options = RunOptions(seam=Seam(extra=(counting,)))
    r = cycling.run(sequential.Sequential(), page.plan(), {}, options, cycles=10)
    assert r.ok and len(full) == 2 * 11                   # the first and the last cycle
    changing = ["hypothesis", "error", "squared", "cost", "slope", "gradient", "step"]
    assert lowered == changing                            # w's readers; x, y, rate are hoisted
    assert calls == changing * 8
    plain = page.run(cycles=10)
    assert plain.state["w"].tobytes() == r.state["w"].tobytes()


def test_on_cycle_sees_the_callers_errstate_and_a_stop_ends_at_a_cycle_boundary(tmp_path,
                                                                               lowered_cycles):
    page = _page(tmp_path, XW_APPLY)
    states = []

    def on_cycle(k, results):
        states.append(np.geterr()["over"])
        if k == 6:
            cancel.STOP.set()
    try:
        with np.errstate(over="raise"):
            with pytest.raises(KeyboardInterrupt):
                page.run(cycles=50, on_cycle=on_cycle)
    finally:
        cancel.STOP.clear()
    assert states == ["raise"] * 6 and lowered_cycles[0] == 5
