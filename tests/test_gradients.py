"""Gradients built from the page (AddSymbolicGradients) against TF's GradientTape on the same
graph: bit for bit where the ops are exact, within the forward ops' tolerances elsewhere."""
import pytest

from grad_cases import check, grad_sets, load

PARAMS = [pytest.param(s, c, id=c["id"]) for s in grad_sets() for c in load(s)[0]["cases"]]


@pytest.mark.parametrize("set_name,case", PARAMS)
def test_gradient_case(set_name, case):
    problems = check(set_name, case)
    assert not problems, "; ".join(problems)
