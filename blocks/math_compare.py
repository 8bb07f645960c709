"""Comparisons and logic: Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual (broadcasting,
bool results) and LogicalAnd, LogicalOr, LogicalNot.

Floats compare as TF's CPU threads do: denormals read as zero (`Less(1e-40, 2e-40)` is false),
float16 / bfloat16 widened to float32; complex Equal compares both parts; strings, bool and the
quantized types compare by value. Equal / NotEqual with `incompatible_shape_error=false` give a
0-d false / true for shapes that do not broadcast. No gradients (TF's NotDifferentiable).
"""
from __future__ import annotations

import numpy as np

from blockgraph.core import dtypes as dt
from blockgraph.core.blockdef import Attr, Input, Output, block
from blockgraph.core.errors import OpError
from blockgraph.core.gradients import no_gradient
from blockgraph.core.shapes import fully_known
from blocks._cwise import cwise, evaluate
from blocks.kernels import elementwise as ew

ORDERED = dt.FLOATS + dt.INTEGERS
EQUALITY = dt.FLOATS + dt.INTEGERS + dt.COMPLEX + ("string", "bool") + tuple(sorted(dt.QUANTIZED))


def _compare(fn):
    def formula(m, x, y):
        if m.kind == "int":             # ints, bool, strings, quantized: by value
            return fn(x, y)
        return fn(m.inp(x), m.inp(y))
    formula.__name__ = fn.__name__
    return formula


def _equality_shape(ctx):
    a, b = ctx.shape("x"), ctx.shape("y")
    if ctx.attrs.get("incompatible_shape_error", True):
        ctx.set_output("z", ew.bcast_static(a, b))
        return
    if not (fully_known(a) and fully_known(b)):
        ctx.set_output("z", None)
        return
    try:
        ctx.set_output("z", ew.bcast_static(a, b))
    except OpError:
        ctx.set_output("z", ())


INCOMPATIBLE = Attr("incompatible_shape_error", "bool", True,
                    doc="false: shapes that do not broadcast give a 0-d result instead of an error")

for _name, _fn in (("Less", np.less), ("LessEqual", np.less_equal), ("Greater", np.greater),
                   ("GreaterEqual", np.greater_equal)):
    cwise(_name, ("x", "y"), ORDERED, _compare(_fn), out_dtype="bool",
          doc=f"x {_fn.__name__.replace('_', ' ')} y element-wise, with broadcasting.")


# Equal / NotEqual: the kernel answers a 0-d result itself for incompatible shapes
def _equality_kernel(name, fn, value):
    formula = _compare(fn)

    def compute(x, y, T, incompatible_shape_error=True):
        try:
            np.broadcast_shapes(np.shape(x), np.shape(y))
        except ValueError:
            if incompatible_shape_error:
                raise ew.incompatible(np.shape(x), np.shape(y)) from None
            return np.array(value)
        return evaluate(name, T, [x, y], formula, out_dtype="bool")
    compute.__name__ = compute.__qualname__ = "_compute_" + name.lower()
    globals()[compute.__name__] = compute      # module-level, as the parallel executors want
    block(name, inputs=[Input("x", EQUALITY, type_attr="T"), Input("y", EQUALITY, type_attr="T")],
          attrs=[INCOMPATIBLE], outputs=[Output("z", "bool")], shape=_equality_shape,
          doc=f"x {'==' if fn is np.equal else '!='} y element-wise, with broadcasting "
              "(incompatible_shape_error=false: a 0-d result for shapes that do not broadcast)."
          )(compute)


_equality_kernel("Equal", np.equal, False)
_equality_kernel("NotEqual", np.not_equal, True)

cwise("LogicalAnd", ("x", "y"), "bool", lambda m, x, y: np.logical_and(x, y),
      doc="x AND y element-wise, with broadcasting.")
cwise("LogicalOr", ("x", "y"), "bool", lambda m, x, y: np.logical_or(x, y),
      doc="x OR y element-wise, with broadcasting.")
cwise("LogicalNot", ("x",), "bool", lambda m, x: np.logical_not(x), doc="NOT x element-wise.")

no_gradient("Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd",
            "LogicalOr", "LogicalNot")
