"""enuSpace's value grammar as its plugin reads pin text (formats/enuspace/literals.py): inline
literal dtypes, braces, array pins, attrs strings, shapes, and the quirks each returns a note for."""
import numpy as np
import pytest

from blockgraph.formats.enuspace import literals as L
from blockgraph.formats.enuspace.dat import Dat, DatError


@pytest.mark.parametrize("text, dtype, value", [
    ("1.0f", "float32", 1.0),            # an 'f' anywhere -> float32
    ("0.5f", "float32", 0.5),            # only 0-9 . + - e E of a value count
    ("0.1", "float64", 0.1),             # '.' without 'f' -> float64
    ("1e3", "float64", 1000.0),          # 'e' -> float64
    ("10", "int32", 10),                 # otherwise int32
    ("-7", "int32", -7),
    ("{0,1}", "int32", [0, 1]),
    ("{{1,5,21},{15,12,22}}", "int32", [[1, 5, 21], [15, 12, 22]]),
    ("{{79 },{110}}", "int32", [[79], [110]]),
    ("{{0.5f}}", "float32", [[0.5]]),
    ("{1.5,2.5f}", "float32", [1.5, 2.5]),
])
def test_inline_literal_dtype_and_shape(text, dtype, value):
    got = L.tensor(text)
    assert (got.value, got.dtype, got.notes) == (value, dtype, [])


def test_float32_literals_round_like_a_c_cast_of_the_double():
    assert L.tensor("0.1f").value == float(np.float32(0.1))


def test_a_datatype_overrides_the_guess():
    assert L.tensor("{{0.5f}}", "DT_DOUBLE").value == [[0.5]]
    assert L.tensor("{{0.5f}}", "DT_DOUBLE").dtype == "float64"
    assert (L.tensor("2.9", "DT_INT32").value, L.tensor("-2.9", "DT_INT32").value) == (2, -2)
    assert L.tensor("{1,0,3}", "DT_BOOL").value == [True, False, True]


def test_a_non_dt_datatype_is_read_through_the_plugins_inverted_test():
    got = L.tensor("1", "float")
    assert got.dtype == "float64" and "inverted" in got.notes[0]
    assert L.tensor("1", "double").dtype == "float32"


def test_a_list_without_braces_is_a_scalar_of_its_first_value():
    got = L.tensor("1,2,3")
    assert got.value == 1 and got.dtype == "int32"
    assert "scalar of the first value" in got.notes[0]


def test_bool_words_are_numbers_of_the_guessed_dtype():
    t, f = L.tensor("true"), L.tensor("false")
    assert (t.value, t.dtype, f.value, f.dtype) == (1.0, "float64", 0.0, "float32")
    assert "not a bool" in t.notes[0]
    assert L.tensor("{true,false}", "DT_BOOL").value == [True, False]


@pytest.mark.parametrize("text, message", [
    ("{1,2", "unbalanced braces"), ("{1,2}}", "unbalanced braces"), ("{}", "0 values"),
    ("{{1,2},{3}}", "values for the shape"), ("abc", "no value"), ("{1j}", "complex"),
])
def test_bad_literals(text, message):
    with pytest.raises(L.LiteralError, match=message):
        L.tensor(text)


def test_string_literals_keep_their_quotes():
    got = L.tensor('"ab"')
    assert got.dtype == "string" and got.value == '"ab"' and "quotes" in got.notes[0]


def test_array_pins():
    assert L.array("3.000000;2.000000;-1.000000;0.000000", "float64", [2, 2]).value == \
        [[3.0, 2.0], [-1.0, 0.0]]
    assert L.array("{1,2,3,4}", "float64", [2, 2]).value == [[1.0, 2.0], [3.0, 4.0]]   # 4.x text
    assert L.array("0.100000", "float32", None).value == float(np.float32(0.1))
    assert L.array("1;0;TRUE;true;True;x", "bool", [6]).value == [True, False, True, True, True, False]
    assert L.array(" a ; b", "string", [2]).value == ["a", "b"]
    assert L.array("1;2;", "int32", [2]).value == [1, 2]              # a trailing separator
    with pytest.raises(L.LiteralError, match="3 values for the shape"):
        L.array("1;2;3", "float32", [2, 2])


def test_int_array_pins_read_with_stoi():
    got = L.array("1.000000;2.7", "int32", [2])
    assert got.value == [1, 2] and "stoi" in got.notes[0]


def test_attrs_strings():
    entries, notes = L.attrs("transpose_a_ = false;\r\n transpose_b_ =true;")
    assert entries == [("transpose_a_", "false"), ("transpose_b_", "true")] and notes == []
    entries, notes = L.attrs("num_bits_=8;num_bits_=4;empty_=;")
    assert entries == [("num_bits_", "8"), ("empty_", "")]
    assert "keeps the first" in notes[0]


@pytest.mark.parametrize("kind, text, value, noted", [
    ("bool", "true", True, False), ("bool", "TRUE", True, False), ("bool", "1", True, False),
    ("bool", "false", False, False), ("bool", "True", False, True),
    ("int", "8", 8, False), ("int", "8.5", 8, True),
    ("float", "-6.0f", -6.0, False), ("float", "0.1", float(np.float32(0.1)), False),
    ("string", " NHWC ", "NHWC", False), ("type", "DT_INT64", "int64", False),
    ("shape", "{2,3}", [2, 3], False), ("shape", "[2][3]", [2, 3], False), ("shape", "{}", [], False),
    ("list(int)", "{1,2,2,1}", [1, 2, 2, 1], False),
])
def test_attr_values(kind, text, value, noted):
    got, notes = L.attr_value(kind, text, "k_")
    assert got == value and bool(notes) == noted


def test_bad_attr_values():
    with pytest.raises(L.LiteralError, match="not a DataType"):
        L.attr_value("type", "FLOAT", "T_")
    with pytest.raises(L.LiteralError, match="not an integer"):
        L.attr_value("int", "x", "n_")


def test_shapes_and_data_types():
    assert L.shape("") is None and L.shape("{-1,3}") == [None, 3]
    assert L.data_type("DT_FLOAT") == "float32" and L.data_type("DT_HALF") == "float16"
    assert L.data_type("float") is None


def test_dat_arrays(tmp_path):
    path = tmp_path / "p.dat"
    path.write_bytes(np.arange(6, dtype="<f4").tobytes() + np.array([1, 0], "u1").tobytes())
    dat = Dat(str(path))
    a = dat.array(4, "float", [5])
    assert a.dtype == np.float32 and a.tolist() == [1, 2, 3, 4, 5] and not a.flags.writeable
    assert dat.array(24, "bool", [2]).tolist() == [True, False]
    with pytest.raises(DatError, match="runs past the end"):
        dat.array(8, "double", [3])
    with pytest.raises(DatError, match="cannot be stored"):
        dat.array(0, "string", [1])
    with pytest.raises(DatError, match="missing"):
        Dat(str(tmp_path / "none.dat")).array(0, "float", [1])
