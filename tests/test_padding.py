"""Pad, PadV2, MirrorPad details the fixtures do not pin down (expected values from TF 2.21)."""
import numpy as np
import pytest

from op_helpers import run


@pytest.mark.parametrize("op,extra", [("Pad", {}), ("PadV2", {"constant_values": np.array(b"z", dtype=object)})])
def test_pad_of_a_0d_string_is_the_string(op, extra):
    """No paddings for a 0-d tensor: the output is the input (an element, never a nested array)."""
    x = np.array("été".encode(), dtype=object)
    out = run(op, {"input": x, "paddings": np.zeros((0, 2), np.int64), **extra})
    assert out.shape == () and type(out[()]) is bytes and out[()] == "été".encode()
