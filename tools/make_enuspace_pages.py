"""Writes the test suite's own enuSpace pages (`tests/enuspace/`): page SVGs as enuSpace 3.x and
4.x write them (UTF-16LE with BOM), and an exported JSON, from the compact descriptions below.

    python tools/make_enuspace_pages.py        # rewrites tests/enuspace/

- `fq_*.svg`: the six FakeQuant "Using Method" pages of the enuSpace docs, wired as in their
  screenshots, with the screenshots' result tables as saved `#result_*` pins;
- `project/picture/counter.svg` (+ its 4.x twin `counter_4x.svg` and the exported
  `project/Task/Tensorflow/counter.json`): Variables, an update, a Const-initialised Variable,
  a block nothing fetches, a display block; saved results of cycle 3, worked out by hand;
- `lists.svg`: an InputList into ConcatV2, an Operation as a run target, AddSymbolicGradients;
- `pins.svg`: pins that are attrs (DataType, int64), a renamed attrs key, typed literals;
- `bad.svg`: one of each problem `check` must locate.
Pins are listed in the order of enuSpace's symbol library (the order the plugin walks them).
"""
from __future__ import annotations

import json
import os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tests", "enuspace")
SESSION = ("ClientSession", [("device", "string", "", "/cpu:0"), ("scope", "string", "", "scope"),
                             ("fetch_outputs",), ("inputs",), ("run_outputs",), ("status",),
                             ("SHOW_DEBUG", "bool", "", "TRUE"), ("INFINITE_LOOP", "bool", "", "FALSE")])


def pin(name, var_type="string", dims="", value=""):
    return (name, var_type, dims, value)


def const(vals, dims="", var_type="float", result=None):
    pins = [pin("val", var_type, dims, vals), pin("output"), pin("scope", value="scope")]
    if result is not None:
        pins.append(pin("result_output", var_type, dims, result))
    return ("Const", pins)


def _pins(spec):
    return [p if len(p) == 4 else pin(*p) for p in spec]


# ----------------------------------------------------------------------------- SVG / JSON writers

def svg3(blocks: dict, links: list, version="3.0.2.0") -> str:
    """An enuSpace 3.x page: one attribute per line, `var-type=`, values as written."""
    out = ['<?xml version="1.0" encoding="UTF-16"?>', "<svg", '\tid="ID_PAGE"',
           f'\tenuspace-version="{version}"', '\txmlns="http://www.w3.org/2000/svg"',
           '\txmlns:xlink="http://www.w3.org/1999/xlink"', '\twidth="1920"', '\theight="1080"', ">"]
    for i, (bid, (symbol, pins, *kind)) in enumerate(blocks.items()):
        out += ["\t<use", f'\t\tid="{bid}"', f'\t\ttype="{kind[0] if kind else "tensorflow"}"',
                f'\t\ttransform="translate({100 + 150 * (i % 8):.2f},{100 + 120 * (i // 8):.2f}) '
                'rotate(0.00) scale(1.0000, 1.0000)"', f'\t\txlink:href="#{symbol}"',
                '\t\tx="0.00"', '\t\ty="0.00"', "\t>"]
        for name, var_type, dims, value in _pins(pins):
            out.append(f'\t\t<pg-set-pin variable="#{name}{dims}" auto="true" shape="{dims}" '
                       f'var-type="{var_type}" value="{_xml(value)}"/>')
        out.append("\t</use>")
    for k, (src, src_pin, dst, dst_pin) in enumerate(links):
        out += [f'\t<polyline id="ID_L{k}" points="0.000000,0.000000 50.000000,0.000000">',
                f'\t\t<pg-link id="ID_K{k}" from-id="{src}" param-from="{src_pin}" to-id="{dst}" '
                f'param-to="{dst_pin}"></pg-link>', "\t</polyline>"]
    return "\n".join(out + ["</svg>", ""])


def svg4(blocks: dict, links: list) -> str:
    """The same page as enuSpace 4.x writes it: one element per line, `type=`, brace values."""
    out = ['<?xml version="1.0" encoding="UTF-16"?>', '<svg id="ID_PAGE" transform="translate(0,0)"',
           '\tenuspace-version="4.0.3.0"', '\txmlns="http://www.w3.org/2000/svg"',
           '\txmlns:xlink="http://www.w3.org/1999/xlink"', '\twidth="1920"', '\theight="1080"', ">"]
    for i, (bid, (symbol, pins, *kind)) in enumerate(blocks.items()):
        out.append(f'\t<use id="{bid}" type="{kind[0] if kind else "tensorflow"}" '
                   f'transform="translate({100 + 150 * i},100) rotate(0) scale(1, 1)" '
                   f'xlink:href="#{symbol}" x="0.00" y="0.00">')
        for name, var_type, dims, value in _pins(pins):
            if dims and value and ";" in value:
                value = "{" + ",".join(f"{float(v):g}" for v in value.split(";")) + "}"
            out.append(f'\t\t<pg-set-pin variable="#{name}{dims}" auto="true" shape="{dims}" '
                       f'type="{var_type}" value="{_xml(value)}"/>')
        out.append("\t</use>")
    for k, (src, src_pin, dst, dst_pin) in enumerate(links):
        out.append(f'\t<polyline id="ID_L{k}" points="0,0 50,0"><pg-link id="ID_K{k}" '
                   f'type="tensorflow" from-id="{src}" param-from="{src_pin}" to-id="{dst}" '
                   f'param-to="{dst_pin}"></pg-link></polyline>')
    return "\n".join(out + ["</svg>", ""])


def exported_json(blocks: dict, links: list, order: list) -> str:
    """The per-page JSON enuSpace exports (objects in dependency order, input pins only)."""
    objects = []
    for bid in order:
        symbol, pins, *kind = blocks[bid]
        inputs = []
        for name, var_type, dims, value in _pins(pins):
            if name.startswith("result_") or name in OUTPUT_PINS.get(symbol, ()):
                continue
            into = [k for k in links if k[2] == bid and k[3] == name]
            base = {"pin-name": name, "pin-type": var_type, "pin-save": "text", "pin-shape": dims,
                    "pin-interface": "", "pin-datatype": ""}
            for src, src_pin, _, _ in into or [(None, None, None, None)]:
                text = value.replace(";", ",") if dims else value     # arrays as 2.0.1 writes them
                entry = dict(base, **{"pin-initial": "" if src else text})
                if src:
                    entry.update({"in-symbol-name": "#" + blocks[src][0], "in-symbol-id": src,
                                  "in-symbol-pin-name": src_pin, "in-symbol-pin-interface": "Output"})
                inputs.append(entry)
        objects.append({"symbol-name": "#" + symbol, "id": bid, "input": inputs, "output": []})
    return json.dumps({"object": objects}, indent="\t")


OUTPUT_PINS = {"Variable": ("ref",), "AssignAdd": ("output_ref",), "ApplyGradientDescent": ("out",),
               "Const": ("output",), "Const_ex": ("output",), "Reshape": ("output",),
               "Identity": ("output",), "ClientSession": ("status",)}


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def write(rel: str, text: str):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(b"\xff\xfe" + text.encode("utf-16-le"))


# ----------------------------------------------------------------------------- the FakeQuant pages

def fake_quant_pages():
    """The docs' six "Using Method" screenshots (`docs/*2.png`)."""
    def page(name, symbol, fq_pins, inputs, outputs):
        blocks = {"ID_SESSION": SESSION}
        links = []
        for i, (port, vals) in enumerate(inputs):
            cid = f"ID_C{i}"
            n = len(vals.split(";"))
            dims = "" if n == 1 else "[2][2]" if name == "fq_args" else f"[{n}]"
            blocks[cid] = const(vals, dims)
            links.append((cid, "output", "ID_FQ", port))
        blocks["ID_FQ"] = (symbol, fq_pins)
        for out in outputs:
            links.append(("ID_FQ", out, "ID_SESSION", "fetch_outputs"))
        write(f"{name}.svg", svg3(blocks, links))

    args = "min_=-6.0f;max_=6.0f;num_bits_=8"
    page("fq_args", "FakeQuantWithMinMaxArgs",
         [("scope", "string", "", "scope"), ("inputs",), ("outputs", "string", "", "FakeQuantWithMinMaxArgs"),
          ("attrs", "string", "", args),
          ("result_outputs", "float", "[2][2]", "0.988235;2.023530;3.011765;4.000000")],
         [("inputs", "1.000000;2.000000;3.000000;4.000000")], ["outputs"])
    page("fq_args_gradient", "FakeQuantWithMinMaxArgsGradient",
         [("scope", "string", "", "scope"), ("backprops", "string", "", "backprops"), ("gradients",),
          ("attrs", "string", "", args), ("inputs",),
          ("result_backprops", "float", "[4]", "0.000000;2.000000;0.000000;4.000000")],
         [("gradients", "1.000000;2.000000;3.000000;4.000000"),
          ("inputs", "6.000000;-6.000000;-7.000000;0.000000")], ["backprops"])
    page("fq_vars", "FakeQuantWithMinMaxVars",
         [("scope", "string", "", "scope"), ("inputs",), ("min",), ("max",), ("outputs",),
          ("attrs", "string", "", "num_bits_=8"),
          ("result_outputs", "float", "[4]", "10.000000;15.000000;11.000000;15.000000")],
         [("inputs", "10.000000;20.000000;11.000000;19.000000"), ("min", "5.000000"),
          ("max", "20.000000")], ["outputs"])
    grads = [("backprops_wrt_input",), ("backprop_wrt_min",), ("backprop_wrt_max",)]
    page("fq_vars_gradient", "FakeQuantWithMinMaxVarsGradient",
         [("scope", "string", "", "scope"), ("gradients",), ("inputs",), ("min",), ("max",),
          ("attrs", "string", "", "num_bits_=8")] + grads +
         [("result_backprops_wrt_input", "float", "[4]", "0.000000;2.000000;3.000000;0.000000"),
          ("result_backprop_wrt_min", "float", "", "10.000000"),
          ("result_backprop_wrt_max", "float", "", "5.000000")],
         [("gradients", "10.000000;2.000000;3.000000;5.000000"),
          ("inputs", "-1.000000;2.000000;3.000000;6.000000"), ("min", "0.000000"), ("max", "5.000000")],
         [g[0] for g in grads])
    page("fq_vars_per_channel", "FakeQuantWithMinMaxVarsPerChannel",
         [("scope", "string", "", "scope"), ("inputs",), ("min",), ("max",),
          ("attrs", "string", "", "num_bits_=8"), ("outputs",),
          ("result_outputs", "float", "[4]", "0.000000;0.000000;5.000000;5.000000")],
         [("inputs", "-1.000000;0.000000;5.000000;6.000000"), ("min", "0.000000;0.000000;0.000000;0.000000"),
          ("max", "5.000000;5.000000;5.000000;5.000000")], ["outputs"])
    page("fq_vars_per_channel_gradient", "FakeQuantWithMinMaxVarsPerChannelGradient",
         [("scope", "string", "", "scope"), ("gradients",), ("inputs",), ("min",), ("max",),
          ("attrs", "string", "", "num_bits_=8")] + grads +
         [("result_backprops_wrt_input", "float", "[4]", "0.000000;2.000000;0.000000;0.000000"),
          ("result_backprop_wrt_min", "float", "[4]", "10.000000;0.000000;0.000000;0.000000"),
          ("result_backprop_wrt_max", "float", "[4]", "0.000000;0.000000;3.000000;5.000000")],
         [("gradients", "10.000000;2.000000;3.000000;5.000000"),
          ("inputs", "-1.000000;1.000000;5.000000;6.000000"), ("min", "1.000000;1.000000;1.000000;1.000000"),
          ("max", "5.000000;5.000000;5.000000;5.000000")], [g[0] for g in grads])


# ----------------------------------------------------------------------------- counter, lists, bad

VAR_ATTRS = ("attrs", "string", "", "container_ =;shared_name_ =;")


def counter():
    """Saved results of cycle 3: COUNT 0,1,2 -> AssignAdd 1,2,3; W [1,2,3] - 0.5 per cycle."""
    blocks = {
        "ID_SESSION": SESSION,
        "ID_COUNT": ("Variable", [("ref",), VAR_ATTRS, ("scope", "string", "", "scope"),
                                  ("shape", "string", "", "{}"), ("dtype", "string", "", "DT_INT32"),
                                  ("initvalues", "string", "", "0"), ("result_ref", "int", "", "2")]),
        "ID_ADD": ("AssignAdd", [("ref",), ("value", "string", "", "1"), ("scope", "string", "", "scope"),
                                 ("output_ref",), ("attrs", "string", "", "use_locking_ = false;"),
                                 ("result_output_ref", "int", "", "3")]),
        "ID_W": ("Variable", [("ref",), VAR_ATTRS, ("scope", "string", "", "scope"),
                              ("initvalues", "float", "[1][3]", "1.000000;2.000000;3.000000"),
                              ("result_ref", "float", "[1][3]", "0.000000;1.000000;2.000000")]),
        "ID_ALPHA": ("Const_ex", [("val", "float", "", "0.500000"), ("output",),
                                  ("scope", "string", "", "scope"), ("dtype", "string", "", "DT_FLOAT"),
                                  ("result_output", "float", "", "0.500000")]),
        "ID_DELTA": const("1.000000;1.000000;1.000000", "[1][3]", result="1.000000;1.000000;1.000000"),
        "ID_APPLY": ("ApplyGradientDescent", [
            ("var",), ("out",), ("scope", "string", "", "scope"), ("alpha",), ("delta",),
            ("attrs", "string", "", "use_locking_ = false;"),
            ("result_out", "float", "[1][3]", "-0.500000;0.500000;1.500000")]),
        "ID_INIT": const("10.000000;20.000000;30.000000", "[3]", "double",
                         result="10.000000;20.000000;30.000000"),
        "ID_V2": ("Variable", [("ref",), VAR_ATTRS, ("scope", "string", "", "scope"), ("initvalues",),
                               ("result_ref", "double", "[3]", "10.000000;20.000000;30.000000")]),
        # the saved dims are stale ([3] for a [1][3] result): values are compared flattened
        "ID_SHAPE": ("Reshape", [("scope", "string", "", "scope"), ("tensor",),
                                 ("shape", "string", "", "{1,3}"), ("output",),
                                 ("result_output", "double", "[3]", "10.000000;20.000000;30.000000")]),
        "ID_IDLE": ("Identity", [("scope", "string", "", "scope"), ("input",), ("output",),
                                 ("result_output", "float", "[1][3]", "9.000000;9.000000;9.000000")]),
        "ID_TREND": ("SENSOR_TREND", [("input", "double", "", "1.5")], "logic"),
    }
    links = [("ID_COUNT", "ref", "ID_ADD", "ref"), ("ID_W", "ref", "ID_APPLY", "var"),
             ("ID_ALPHA", "output", "ID_APPLY", "alpha"), ("ID_DELTA", "output", "ID_APPLY", "delta"),
             ("ID_INIT", "output", "ID_V2", "initvalues"), ("ID_V2", "ref", "ID_SHAPE", "tensor"),
             ("ID_W", "ref", "ID_IDLE", "input"), ("ID_APPLY", "result_out", "ID_TREND", "input"),
             ("ID_ADD", "output_ref", "ID_SESSION", "fetch_outputs"),
             ("ID_APPLY", "out", "ID_SESSION", "fetch_outputs"),
             ("ID_SHAPE", "output", "ID_SESSION", "fetch_outputs")]
    write("project/picture/counter.svg", svg3(blocks, links))
    write("counter_4x.svg", svg4(blocks, links))
    tf = [b for b in blocks if b != "ID_TREND"]
    order = [b for b in tf if b != "ID_SESSION"] + ["ID_SESSION"]
    write("project/Task/Tensorflow/counter.json",
          exported_json({k: blocks[k] for k in tf}, [k for k in links if k[0] != "ID_APPLY"
                                                    or k[1] != "result_out"], order))


def lists():
    """InputList -> Concat (ConcatV2); an Operation wrapping an Assign as a run target;
    AddSymbolicGradients of Reshape(W) with respect to W: W -= 0.25 * ones each cycle."""
    blocks = {
        "ID_SESSION": SESSION,
        "ID_A": const("1.000000;2.000000", "[2]"),
        "ID_B": const("3.000000", "[1]"),
        "ID_LIST": ("InputList", [("outputlist",), ("output",), ("result_output", "double", "", "0")]),
        "ID_CAT": ("Concat", [("scope", "string", "", "scope"), ("values",), ("axis", "string", "", "0"),
                              ("output",), ("result_output", "float", "[3]", "1.000000;2.000000;3.000000")]),
        "ID_V": ("Variable", [("ref",), VAR_ATTRS, ("scope", "string", "", "scope"),
                              ("initvalues", "float", "[3]", "0.000000;0.000000;0.000000")]),
        "ID_SET": ("Assign", [("ref",), ("value",), ("scope", "string", "", "scope"), ("output_ref",),
                              ("attrs", "string", "", "validate_shape_ = true;use_locking_ = true;")]),
        "ID_OP": ("Operation", [("operation",), ("output",)]),
        "ID_W": ("Variable", [("ref",), VAR_ATTRS, ("scope", "string", "", "scope"),
                              ("initvalues", "float", "[2][2]", "1.000000;2.000000;3.000000;4.000000"),
                              ("result_ref", "float", "[2][2]", "0.500000;1.500000;2.500000;3.500000")]),
        "ID_FLAT": ("Reshape", [("scope", "string", "", "scope"), ("tensor",),
                                ("shape", "string", "", "{4}"), ("output",)]),
        "ID_GRAD": ("AddSymbolicGradients", [("scope", "string", "", "scope"), ("outputs",), ("inputs",),
                                             ("grad_outputs",)]),
        "ID_RATE": ("Const_ex", [("val", "float", "", "0.25"), ("output",), ("scope", "string", "", "scope"),
                                 ("dtype", "string", "", "DT_FLOAT")]),
        "ID_STEP": ("ApplyGradientDescent", [
            ("var",), ("out",), ("scope", "string", "", "scope"), ("alpha",), ("delta",),
            ("attrs", "string", "", "use_locking_ = false;"),
            ("result_out", "float", "[2][2]", "0.250000;1.250000;2.250000;3.250000")]),
    }
    links = [("ID_A", "output", "ID_LIST", "outputlist"), ("ID_B", "output", "ID_LIST", "outputlist"),
             ("ID_LIST", "output", "ID_CAT", "values"), ("ID_V", "ref", "ID_SET", "ref"),
             ("ID_CAT", "output", "ID_SET", "value"), ("ID_SET", "output_ref", "ID_OP", "operation"),
             ("ID_W", "ref", "ID_FLAT", "tensor"), ("ID_FLAT", "output", "ID_GRAD", "outputs"),
             ("ID_W", "ref", "ID_GRAD", "inputs"), ("ID_W", "ref", "ID_STEP", "var"),
             ("ID_RATE", "output", "ID_STEP", "alpha"), ("ID_GRAD", "grad_outputs[0]", "ID_STEP", "delta"),
             ("ID_CAT", "output", "ID_SESSION", "fetch_outputs"),
             ("ID_STEP", "out", "ID_SESSION", "fetch_outputs"),
             ("ID_OP", "output", "ID_SESSION", "run_outputs")]
    write("lists.svg", svg3(blocks, links))


def pins():
    """Pins that are not tensors (a DataType, an int64, an attrs key renamed in TF 2), inline
    literals typed by the symbol library (Reshape's shape) and by their text (OneHot's values)."""
    blocks = {
        "ID_SESSION": SESSION,
        "ID_X": const("1.000000;2.000000;3.000000;4.000000", "[2][2]"),
        "ID_CAST": ("Cast", [("x",), ("y",), ("scope", "string", "", "scope"),
                             ("DstT", "string", "", "DT_INT32")]),
        "ID_T": ("Transpose", [("scope", "string", "", "scope"), ("x",), ("perm", "string", "", "{1,0}"),
                               ("y",)]),
        "ID_R": ("Reshape", [("scope", "string", "", "scope"), ("tensor",), ("shape", "string", "", "{1,4}"),
                             ("output",)]),
        "ID_SQ": ("Squeeze", [("scope", "string", "", "scope"), ("input",), ("output",),
                              ("attrs", "string", "", "squeeze_dims_ = {0};"),
                              ("result_output", "int", "[4]", "1;3;2;4")]),
        "ID_HOT": ("OneHot", [("scope", "string", "", "scope"), ("indices",), ("depth", "string", "", "5"),
                              ("on_value", "string", "", "1.0f"), ("off_value", "string", "", "0.0f"),
                              ("attrs", "string", "", "axis_=-1"), ("output",),
                              ("result_output", "float", "[4][5]",
                               ";".join("1.000000" if j == k else "0.000000"
                                        for k in (1, 3, 2, 4) for j in range(5)))]),
        "ID_IMG": const("1.000000;2.000000;3.000000;4.000000", "[1][2][2][1]"),
        "ID_S2D": ("SpaceToDepth", [("scope", "string", "", "scope"), ("input",), ("output",),
                                    ("block_size", "string", "", "2"),
                                    ("result_output", "float", "[1][1][1][4]",
                                     "1.000000;2.000000;3.000000;4.000000")]),
    }
    links = [("ID_X", "output", "ID_CAST", "x"), ("ID_CAST", "y", "ID_T", "x"),
             ("ID_T", "y", "ID_R", "tensor"), ("ID_R", "output", "ID_SQ", "input"),
             ("ID_SQ", "output", "ID_HOT", "indices"), ("ID_IMG", "output", "ID_S2D", "input"),
             ("ID_HOT", "output", "ID_SESSION", "fetch_outputs"),
             ("ID_S2D", "output", "ID_SESSION", "fetch_outputs")]
    write("pins.svg", svg3(blocks, links))


def bad():
    """One of each problem: an op with no block yet, a bad literal, a link from a missing block,
    a Variable whose initvalues do not fit its shape, an enuSpace float64 literal into an int32
    update, an attrs key enuSpace ignores."""
    blocks = {
        "ID_SESSION": SESSION,
        "ID_QUEUE": ("FIFOQueue", [("scope", "string", "", "scope"), ("component_types", "string", "",
                                                                      "DT_STRING"), ("handle",)]),
        "ID_SIZE": ("QueueSize", [("scope", "string", "", "scope"), ("handle",), ("size",)]),
        "ID_SHAPE": ("Reshape", [("scope", "string", "", "scope"), ("tensor",),
                                 ("shape", "string", "", "{2,"), ("output",)]),
        "ID_C": const("1.000000;2.000000", "[2]"),
        "ID_ORPHAN": ("Identity", [("scope", "string", "", "scope"), ("input",), ("output",)]),
        "ID_V": ("Variable", [("ref",), VAR_ATTRS, ("scope", "string", "", "scope"),
                              ("shape", "string", "", "{2}"), ("dtype", "string", "", "DT_FLOAT"),
                              ("initvalues", "string", "", "{1.0f,2.0f,3.0f}")]),
        "ID_N": ("Variable", [("ref",), VAR_ATTRS, ("scope", "string", "", "scope"),
                              ("shape", "string", "", "{}"), ("dtype", "string", "", "DT_INT32"),
                              ("initvalues", "string", "", "0")]),
        "ID_ADD": ("AssignAdd", [("ref",), ("value", "string", "", "1.5"), ("scope", "string", "", "scope"),
                                 ("output_ref",), ("attrs", "string", "", "use_locking_ = false;")]),
        "ID_E": ("ExpandDims", [("scope", "string", "", "scope"), ("input",), ("axis", "string", "", "0"),
                                ("output",)]),
        "ID_FQ": ("FakeQuantWithMinMaxArgs", [("scope", "string", "", "scope"), ("inputs",), ("outputs",),
                                              ("attrs", "string", "", "min_=-1.0f;max_=1.0f;narrow_range_=true")]),
    }
    links = [("ID_QUEUE", "handle", "ID_SIZE", "handle"), ("ID_C", "output", "ID_SHAPE", "tensor"),
             ("ID_GONE", "output", "ID_ORPHAN", "input"), ("ID_N", "ref", "ID_ADD", "ref"),
             ("ID_C", "output", "ID_FQ", "inputs"), ("ID_C", "output", "ID_E", "input"),
             ("ID_E", "output", "ID_SESSION", "fetch_outputs"),
             ("ID_SIZE", "size", "ID_SESSION", "fetch_outputs"),
             ("ID_SHAPE", "output", "ID_SESSION", "fetch_outputs"),
             ("ID_ORPHAN", "output", "ID_SESSION", "fetch_outputs"),
             ("ID_V", "ref", "ID_SESSION", "fetch_outputs"),
             ("ID_ADD", "output_ref", "ID_SESSION", "fetch_outputs"),
             ("ID_FQ", "outputs", "ID_SESSION", "fetch_outputs")]
    write("bad.svg", svg3(blocks, links))


if __name__ == "__main__":
    fake_quant_pages()
    counter()
    lists()
    pins()
    bad()
    print("wrote", os.path.normpath(OUT))
