"""TF's error texts, whole and in TF's order of checks, where the fixtures do not pin them down
(expected texts pasted from TF 2.21, CPU, oneDNN off)."""
import numpy as np
import pytest

from blockgraph.core.errors import tf_attr_float, tf_float
from op_helpers import op_page

F32 = np.float32


def _error(op, inputs, attrs=None):
    """The block's error: its first static diagnostic, else the run's failure."""
    p = op_page(op, inputs, attrs)
    msgs = [d.message for d in p.diagnostics if d.block == "c"]
    if msgs:
        return msgs[0]
    b = p.run({}).block("c")
    assert b.status == "failed", "no error"
    return b.error


@pytest.mark.parametrize("value,text", [
    (0.12345679, "0.123457"), (float(F32(0.12345679)), "0.123457"), (1234567.0, "1.23457e+06"),
    (999999.5, "1e+06"), (123456.5, "123456"), (100000.0, "100000"), (1e-5, "1e-05"),
    (0.0001, "0.0001"), (float(F32(3.4e38)), "3.4e+38"), (float(F32(2.5e-38)), "2.5e-38"),
    (-0.0, "-0"), (float("nan"), "nan"), (-float("nan"), "nan"), (float("-inf"), "-inf"),
    (1.619663816679457, "1.61966"), (F32(-1.8734353), "-1.87344")])
def test_tf_float_prints_six_significant_digits(value, text):
    assert tf_float(value) == text


@pytest.mark.parametrize("value,text", [
    (0.12345679, "0.123456791"), (123456789.0, "123456792"), (1e-5, "1e-05"), (0.0, "0"),
    (-3.5, "-3.5"), (float("nan"), "nan")])
def test_tf_attr_float_round_trips_float32(value, text):
    """NodeDef summaries (SummarizeAttrValue) print 9 digits when 6 do not read back."""
    assert tf_attr_float(value) == text


@pytest.mark.parametrize("lo,hi,text", [
    (0.12345679, 0.1, "0.123457 >= 0.1"), (1e-40, -1e-40, "0 >= -0"), (-0.0, -0.0, "-0 >= -0"),
    (3.4e38, 1e-5, "3.4e+38 >= 1e-05"), (123456.5, 123456.5, "123456 >= 123456"),
    (".nan", 1.0, "nan >= 1")])
def test_fake_quant_args_range_text(lo, hi, text):
    x = np.zeros(2, F32)
    lo = float("nan") if lo == ".nan" else lo
    for op, inputs in (("FakeQuantWithMinMaxArgs", {"inputs": x}),
                       ("FakeQuantWithMinMaxArgsGradient", {"inputs": x, "gradients": x})):
        assert _error(op, inputs, {"min": lo, "max": hi}) == \
            f"min has to be smaller than max, was: {text}"


@pytest.mark.parametrize("bits", [1, 17])
def test_fake_quant_args_checks_the_range_before_num_bits(bits):
    x = np.zeros(2, F32)
    for op, inputs in (("FakeQuantWithMinMaxArgs", {"inputs": x}),
                       ("FakeQuantWithMinMaxArgsGradient", {"inputs": x, "gradients": x})):
        assert _error(op, inputs, {"min": 1.0, "max": 1.0, "num_bits": bits}) == \
            "min has to be smaller than max, was: 1 >= 1"
        assert _error(op, inputs, {"min": 0.0, "max": 1.0, "num_bits": bits}) == \
            "num_bits must be between 2 and 16, inclusive"


def test_fake_quant_num_bits_is_a_kernel_check_after_the_dtype():
    """TF checks num_bits in the kernel's constructor: after the inputs' dtypes."""
    x = np.zeros(2, np.float64)
    assert _error("FakeQuantWithMinMaxVars", {"inputs": x, "min": np.float32(0), "max": F32(1)},
                  {"num_bits": 1}).startswith("cannot compute FakeQuantWithMinMaxVars as input #0")


def _z(*shape):
    return np.zeros(shape, F32)


GRAD_PC = "FakeQuantWithMinMaxVarsPerChannelGradient"
GRAD = "FakeQuantWithMinMaxVarsGradient"


@pytest.mark.parametrize("op,inputs,attrs,text", [
    # gradients against inputs first, then min (rank, size), then max; num_bits before all
    (GRAD_PC, {"gradients": _z(2, 4), "min": _z(5)}, {}, "gradient and input must be the same size"),
    (GRAD_PC, {"gradients": _z(2, 4), "max": _z(3, 1)}, {},
     "gradient and input must be the same size"),
    (GRAD_PC, {"gradients": _z(2, 4)}, {"num_bits": 1}, "num_bits must be between 2 and 16, inclusive"),
    (GRAD_PC, {"min": _z(5), "max": _z(3, 1)}, {}, "min has incorrect size, expected 3 was 5"),
    (GRAD_PC, {"min": _z(3, 1), "max": _z(3, 1)}, {}, "`min` must be rank 1 but is rank 2"),
    (GRAD, {"gradients": _z(2, 4), "min": _z(1)}, {}, "gradient and input must be the same size"),
    (GRAD, {"min": _z(1), "max": _z(1)}, {}, "`min` must be rank 0 but is rank 1"),
    (GRAD, {"max": _z(1)}, {"num_bits": 17}, "num_bits must be between 2 and 16, inclusive"),
    ("FakeQuantWithMinMaxVarsPerChannel", {"min": _z(5), "max": _z(3, 1)}, {},
     "min has incorrect size, expected 3 was 5"),
    ("FakeQuantWithMinMaxVarsPerChannel", {"max": _z(4)}, {"num_bits": 1},
     "num_bits must be between 2 and 16, inclusive"),
])
def test_fake_quant_vars_order_of_checks(op, inputs, attrs, text):
    pc = "PerChannel" in op
    base = {"inputs": _z(2, 3), "min": _z(3) if pc else _z(), "max": _z(3) + 1 if pc else _z() + 1}
    if op.endswith("Gradient"):
        base["gradients"] = _z(2, 3)
    assert _error(op, {**base, **inputs}, attrs) == text


def test_fake_quant_gradient_order_with_partly_unknown_shapes():
    """An undecided same-size check (unknown dims) stops the later min check until the run."""
    p = op_page(GRAD_PC, {"gradients": ("ph", "float32", [2, None]), "inputs": _z(2, 3),
                          "min": _z(5), "max": _z(3)})
    assert p.diagnostics == []
    b = p.run({"in_gradients": _z(2, 4)}).block("c")
    assert b.error == "gradient and input must be the same size"


def _run_ok(op, inputs, attrs=None):
    p = op_page(op, inputs, attrs)
    assert not p.diagnostics, [d.message for d in p.diagnostics]
    b = p.run({}).block("c")
    assert b.status == "ok", b.error
    return b.outputs, b.dtypes


@pytest.mark.parametrize("x,dtype,multiples,shape", [
    (np.ones((2, 3), np.uint16), "uint16", [1, 1], (2, 3)),      # same shape: passed through
    (np.ones((0, 2), np.uint16), "uint16", [3, 2], (0, 4)),      # nothing to copy
    (np.ones((), np.uint16), "uint16", [], ()),                  # 0-d: passed through
    (np.ones((2, 3), np.uint8), "qint8", [1, 1], (2, 3)),
])
def test_tile_runs_the_dtypes_its_kernel_passes_through(x, dtype, multiples, shape):
    out, dts = _run_ok("Tile", {"input": (x, dtype), "multiples": np.array(multiples, np.int32)})
    assert out["output"].shape == shape and dts["output"] == dtype


@pytest.mark.parametrize("x,dtype,text", [
    (np.ones((2, 3), np.uint16), "uint16", "DataType : uint16, Dimension : 2"),
    (np.ones((2,), np.int32), "qint32", "DataType : qint32, Dimension : 1"),
])
def test_tile_refuses_what_its_kernel_cannot_copy(x, dtype, text):
    assert _error("Tile", {"input": (x, dtype), "multiples": np.array([2] * x.ndim, np.int64)}) \
        == "TileOp : The input data type is not supported, " + text


def test_tile_overflow_text_is_tfs_wrapped_product():
    """MultiplyWithoutOverflow: a product that fits in uint64 prints as int64; else -1."""
    x = np.ones((2, 3), np.int8)
    assert _error("Tile", {"input": x, "multiples": np.array([2147483647, 1431655765], np.int64)}) \
        == "Encountered overflow when multiplying 4294967294 with 4294967295, result: -12884901886"
    assert _error("Tile", {"input": x, "multiples": np.array([2147483647, 2863311531], np.int64)}) \
        == "Encountered overflow when multiplying 4294967294 with 8589934593, result: -1"


def test_cast_takes_strings_only_to_strings():
    s = np.array([b"a"], dtype=object)
    out, dts = _run_ok("Cast", {"x": (s, "string")}, {"DstT": "string"})
    assert out["y"].tolist() == [b"a"] and dts["y"] == "string"
    assert _error("Cast", {"x": (s, "string")}, {"DstT": "float32"}) == \
        "Cast string to float is not supported"
    assert _error("Cast", {"x": np.zeros(1, np.int32)}, {"DstT": "string"}) == \
        "Cast int32 to string is not supported"


def test_fill_takes_16_bit_quantized_values():
    out, dts = _run_ok("Fill", {"dims": np.array([2], np.int32),
                                "value": (np.array(3, np.int16), "qint16")})
    assert out["output"].tolist() == [3, 3] and dts["output"] == "qint16"


def test_immutable_const_refuses_strings_with_tfs_text(tmp_path):
    import blockgraph
    np.save(tmp_path / "x.npy", np.zeros(2, np.float32))
    page = tmp_path / "p.yaml"
    page.write_text("format: 1\nblocks:\n  c: {op: ImmutableConst, attrs: {dtype: string, "
                    "shape: [2], memory_region_name: x.npy}}\n")
    p = blockgraph.load_page(str(page))
    assert [d.message for d in p.diagnostics] == [
        "Sorry, DT_STRING is not currently supported for ImmutableConstOp."]


def test_no_kernel_text_lists_tfs_kernels_and_node_attrs():
    """"Could not find device": the node with its attrs as TF prints them (floats as
    FloatToBuffer: 0.123456791, 123456792, 1e-05), then TF's list of the op's kernels."""
    x = (np.zeros((1, 2, 2, 1), np.int8), "qint8")
    assert _error("QuantizedInstanceNorm", {"x": x, "x_min": F32(0), "x_max": F32(1)},
                  {"given_y_min": 0.12345679, "min_separation": 123456789.0}) == (
        "Could not find device for node: {{node QuantizedInstanceNorm}} = QuantizedInstanceNorm["
        "T=DT_QINT8, given_y_max=0, given_y_min=0.123456791, min_separation=123456792, "
        "output_range_given=false, variance_epsilon=1e-05]\n"
        "All kernels registered for op QuantizedInstanceNorm:\n"
        "  device='CPU'; T in [DT_QUINT8]")
    first = _error("ParallelConcat", {"values": [(np.zeros((1, 2), np.int8), "qint8")]},
                   {"shape": [1, 2]}).split("\n")
    assert first[:3] == ["Could not find device for node: {{node ParallelConcat}} = ParallelConcat["
                         "N=1, T=DT_QINT8, shape=[1,2]]",
                         "All kernels registered for op ParallelConcat:",
                         "  device='CPU'; T in [DT_STRING]"]
    first = _error("ExtractImagePatches", {"images": np.zeros((1, 2, 2, 1), bool)},
                   {"ksizes": [1, 1, 1, 1], "strides": [1, 1, 1, 1], "rates": [1, 1, 1, 1],
                    "padding": "VALID"}).split("\n")[0]
    assert first == ("Could not find device for node: {{node ExtractImagePatches}} = "
                     "ExtractImagePatches[T=DT_BOOL, ksizes=[1, 1, 1, 1], padding=\"VALID\", "
                     "rates=[1, 1, 1, 1], strides=[1, 1, 1, 1]]")


@pytest.mark.parametrize("op", ["SpaceToDepth", "DepthToSpace"])
def test_nchw_has_no_cpu_kernel(op):
    """TF's CPU kernels register data_format NHWC only: NCHW finds no kernel (TF's text)."""
    text = _error(op, {"input": np.zeros((1, 8, 2, 2), np.float32)},
                  {"block_size": 2, "data_format": "NCHW"}).split("\n")
    assert text[0] == (f"Could not find device for node: {{{{node {op}}}}} = {op}[T=DT_FLOAT, "
                       f"block_size=2, data_format=\"NCHW\"]")
    assert text[1] == f"All kernels registered for op {op}:"
    assert text[-1] == "  device='CPU'; T in [DT_UINT64]; data_format in [\"NHWC\"]"


def test_outputs_over_the_memory_limit_fail_with_tfs_oom_text():
    """TF's allocator text for the output it cannot allocate, then blockgraph's reason."""
    tf_text = ("OOM when allocating tensor with shape[33554432,33554432] and type float on "
               "/job:localhost/replica:0/task:0/device:CPU:0 by allocator cpu")
    assert _error("Fill", {"dims": np.array([33554432, 33554432], np.int32),
                           "value": F32(1)}).startswith(tf_text + ": the outputs would need 4.0 PiB")
    import yaml
    import blockgraph
    text = yaml.safe_dump({"format": 1, "blocks": {
        "d": {"op": "Placeholder", "attrs": {"dtype": "int32", "shape": [2]}},
        "c": {"op": "Fill", "inputs": {"dims": "d", "value": 1.0}}}})
    p = blockgraph.load_page("t.yaml", text=text, max_bytes=64)
    b = p.run({"d": np.array([4, 5], np.int32)}).block("c")     # known at the run only
    assert b.error == ("OOM when allocating tensor with shape[4,5] and type float on "
                       "/job:localhost/replica:0/task:0/device:CPU:0 by allocator cpu: the outputs "
                       "would need 80 bytes, more than the limit of 64 bytes (raise it with "
                       "--max-bytes)")
