"""Gradients built from the page: `AddSymbolicGradients` (enuSpace's name; alias `Gradients`).

When a page is loaded, each AddSymbolicGradients block is expanded (`core.gradients.expand`)
into ordinary blocks computing d(sum of every element of its `outputs`)/d(each of its `inputs`),
seeded with ones as TF's `tf.gradients` / C++ `AddSymbolicGradients`; they are wired to its
`grads` port, and its list output `grad_outputs` holds one gradient per input (shaped and typed
like that input). The gradient functions themselves are declared next to their ops.
"""
from __future__ import annotations

from blockgraph.core.blockdef import Input, Output, block
from blockgraph.core.errors import OpError


def _gradients_shape(ctx):
    xs = ctx.inputs["inputs"]
    if not xs:
        raise OpError("AddSymbolicGradients needs at least one tensor in 'inputs'", port="inputs")
    if not ctx.inputs["outputs"]:
        raise OpError("AddSymbolicGradients needs at least one tensor in 'outputs'", port="outputs")
    ctx.set_output("grad_outputs", [x.shape for x in xs], dtype=[x.dtype for x in xs])


@block("AddSymbolicGradients", aliases=("Gradients",),
       inputs=[Input("outputs", list=True, type_list_attr="Tout", doc="the tensors to differentiate "
                     "(their elements are summed)"),
               Input("inputs", list=True, type_list_attr="Tin", doc="the tensors to differentiate "
                     "with respect to"),
               Input("grads", list=True, type_list_attr="Tgrads", optional=True,
                     doc="wired by the page's expansion to the gradient blocks; leave unwired")],
       outputs=[Output("grad_outputs", "Tin", list=True, doc="d(sum of outputs)/d(input k), one per input")],
       shape=_gradients_shape)
def add_symbolic_gradients(outputs, inputs, grads=None):
    """Gradients of the sum of `outputs` with respect to each of `inputs` (built from the page)."""
    if grads is None:
        raise OpError("the gradient blocks of this block were not built")
    return list(grads)
