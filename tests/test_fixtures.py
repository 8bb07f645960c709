"""Every TensorFlow fixture case (tests/fixtures/*) through the Python API: values bit for bit
(float reductions within their stated atol), TF dtypes, static dtype/shape agreement, and errors
with TF's message text."""
import pytest

from fixture_cases import check_case, fixture_sets, load_set

PARAMS = [pytest.param(s, c, id=f"{s}/{c['id']}") for s in fixture_sets() for c in load_set(s)[0]["cases"]]


@pytest.mark.parametrize("set_name,case", PARAMS)
def test_fixture_case(set_name, case):
    """Inputs fed to Placeholders: static shapes partly unknown until the run."""
    problems = check_case(set_name, case)
    assert not problems, "; ".join(problems)


@pytest.mark.parametrize("set_name,case", PARAMS)
def test_fixture_case_const_inputs(set_name, case):
    """Inputs as Const blocks: shape functions see the values, so checks may fire before the run."""
    problems = check_case(set_name, case, const_inputs=True)
    assert not problems, "; ".join(problems)
