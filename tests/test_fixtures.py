"""Every TensorFlow fixture case (tests/fixtures/*) through the Python API: values bit for bit
(float reductions within their stated atol), TF dtypes, static dtype/shape agreement, and errors
with TF's message text."""
import pytest

from fixture_cases import check_case, fixture_sets, load_set

PARAMS = [pytest.param(s, c, id=f"{s}/{c['id']}") for s in fixture_sets() for c in load_set(s)[0]["cases"]]


@pytest.mark.parametrize("set_name,case", PARAMS)
def test_fixture_case(set_name, case):
    """Each case twice, in one test item (pytest's own ~2 ms per item was a fifth of this file's
    time): inputs fed to Placeholders, whose static shapes are partly unknown until the run; and
    inputs as Const blocks, whose values the shape functions see, so checks may fire before it."""
    problems = [f"fed: {p}" for p in check_case(set_name, case)]
    problems += [f"const inputs: {p}" for p in check_case(set_name, case, const_inputs=True)]
    assert not problems, "; ".join(problems)
