"""Gradients built from the page (AddSymbolicGradients) against TF's GradientTape on the same
graph: bit for bit where the ops are exact, within the forward ops' tolerances elsewhere. Every
case runs three times: as TF's page declares its Placeholders, with their first dim unknown
(`shape: [null, ...]`, a batch of any size) and with no shape at all, so the gradient functions'
paths that read the shapes from Shape/Size/Rank blocks at run time give TF's values too."""
import pytest

from grad_cases import check, grad_sets, load

PARAMS = [pytest.param(s, c, mode, id=f"{c['id']}-{mode or 'static'}")
          for s in grad_sets() for c in load(s)[0]["cases"] for mode in (None, "batch", "rank")]


@pytest.mark.parametrize("set_name,case,mode", PARAMS)
def test_gradient_case(set_name, case, mode):
    problems = check(set_name, case, mode)
    assert not problems, "; ".join(problems)
