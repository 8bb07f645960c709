"""One enuSpace block -> one blockgraph block dict (`{"op", "inputs", "attrs", "init"}`):
Const/Const_ex, Variable (its initial value as the ClientSession builds it), and any other op
by its raw op's declaration (input pins -> ports, wired or inline literals; other pins and the
attrs string -> attrs). Quirks of the plugin met on the way become warnings."""
from __future__ import annotations

import numpy as np

from . import literals, mapping
from .dat import DatError
from .literals import LiteralError, VAR_TYPES
from .model import Node, Pin

_WHY = {"float32": "an 'f' in the text", "float64": "a '.' or 'e' and no 'f'",
        "int32": "no '.', 'e' or 'f'", "string": "a '\"' in the text"}


def convert(b, n: Node, bid: str) -> dict:
    if n.symbol in ("Const", "Const_ex"):
        return const(b, n, bid)
    if n.symbol == "Variable":
        return variable(b, n, bid)
    defn = mapping.definition(n.symbol)
    if defn is None:       # the Scope reports it (unknown op / not supported yet), located here
        b.comment(bid, f"enuSpace block {n.symbol}: no blockgraph block yet")
        return {"op": mapping.raw_op(n.symbol)}
    if defn.name != n.symbol:
        b.comment(bid, f"enuSpace block {n.symbol} (TF C++ API) creates the op {defn.name}")
    return op(b, n, bid, defn)


# ----------------------------------------------------------------------------- any op

def op(b, n: Node, bid: str, defn) -> dict:
    spec = {"op": defn.name, "inputs": {}, "attrs": {}}
    for pin in n.pins.values():
        name = pin.name
        if name == "attrs":
            _attrs(b, n, bid, defn, pin, spec)
            continue
        if name in mapping.META_PINS or name.startswith("result_"):
            continue
        links = b.doc.links_into(n.id, name)
        port = defn.input(name)
        if port is not None:
            _input(b, n, bid, port, pin, links, spec)
        elif defn.attr(name) is not None:
            if links:
                b.error(links[0].mark, f"pin '{name}' is an attr of {defn.name}: it takes a value, "
                        "not a link", n)
            elif pin.value.strip():
                _attr(b, n, bid, defn, name, name, pin.value.strip(), pin, spec)
        elif links or (pin.value.strip() and defn.output(name) is None):
            at = links[0].mark if links else pin.mark
            b.diag(at, f"pin '{name}' is not an input or attr of {defn.name}: ignored", n)
    return spec


def _input(b, n, bid, port, pin: Pin, links, spec):
    path = ("blocks", bid, "inputs", port.name)
    if links:
        refs = []
        for k in links:
            got = b.ref(k, n)
            refs.extend(got if isinstance(got, list) else [got] if got else [])
        b.mark(path, pin.mark, links[0].mark)
        if port.is_list:
            spec["inputs"][port.name] = refs
            for i, k in enumerate(links[:len(refs)]):
                b.mark(path + (i,), k.mark, k.mark)
        elif refs:
            if len(refs) > 1:
                b.diag(links[-1].mark, f"{len(refs)} links into pin '{pin.name}': enuSpace uses the "
                       "last one, so does this import", n)
            spec["inputs"][port.name] = refs[-1]
        return
    lit = _literal(b, n, port, pin)
    if lit is not None:
        b.mark(path, pin.mark, pin.value_mark)
        spec["inputs"][port.name] = [lit] if port.is_list else lit


def _literal(b, n, port, pin: Pin):
    """An unwired input pin's value ({value, dtype}) as the plugin builds it, or None."""
    if pin.binary_pos is not None:
        return _dat(b, n, pin)
    text = pin.value.strip()
    if not text:
        return None
    given = mapping.datatype(n.symbol, pin.name, pin.datatype)
    try:
        got = literals.tensor(text, given)
    except LiteralError as e:
        b.error(pin.value_mark or pin.mark, f"pin '{pin.name}': {e}", n)
        return None
    for note in got.notes:
        b.diag(pin.value_mark or pin.mark, note, n)
    if given and got.dtype not in port.dtypes:
        b.diag(pin.value_mark or pin.mark, f"enuSpace's symbol library types pin '{pin.name}' of "
               f"{n.symbol} as {given}: the literal {text!r} is {got.dtype}, as in enuSpace", n)
    elif not given:
        natural = port.dtypes[0] if len(port.dtypes) == 1 else \
            ("float32" if got.dtype in ("float32", "float64") else got.dtype)
        if got.dtype != natural:
            b.diag(pin.value_mark or pin.mark, f"enuSpace reads the literal {text!r} as {got.dtype} "
                   f"({_WHY.get(got.dtype, 'its text')}); it stays {got.dtype} here", n)
    return {"value": got.value, "dtype": got.dtype}


def _dat(b, n, pin: Pin):
    dtype = VAR_TYPES.get(pin.var_type)
    try:
        arr = b.dat.array(pin.binary_pos, pin.var_type, pin.dims)
    except DatError as e:
        b.error(pin.mark, f"pin '{pin.name}': {e}", n)
        return None
    return {"value": arr, "dtype": dtype}


def _attrs(b, n, bid, defn, pin: Pin, spec):
    entries, notes = literals.attrs(pin.value)
    at = pin.value_mark or pin.mark
    for note in notes:
        b.diag(at, note, n)
    b.mark(("blocks", bid, "attrs"), pin.mark, at)
    keys = {k for k, _ in entries}
    for key, text in entries:
        name, underscore = mapping.attr_name(defn.name, key)
        if not underscore and key + "_" in keys:
            b.diag(at, f"attrs: enuSpace reads '{key}_' and ignores '{key}': so does this import", n)
            continue
        if defn.attr(name) is None:
            b.diag(at, f"attrs: {defn.name} has no attr '{name}': enuSpace ignores '{key}', so does "
                   "this import", n)
            continue
        if not mapping.reads(n.symbol, name):
            default = defn.attr(name).default
            b.diag(at, f"attrs: enuSpace's {n.symbol} block ignores '{key}' (it reads only "
                   f"{', '.join(k + '_' for k in mapping.READS[n.symbol])}): ignored here too, "
                   f"{name} stays {default!r}", n)
            continue
        if not underscore:
            b.diag(at, f"attrs: enuSpace reads '{key}_' (with the underscore) and ignores '{key}'; "
                   "it is used here", n)
        if text:
            _attr(b, n, bid, defn, key, name, text, pin, spec)


def _attr(b, n, bid, defn, key, name, text, pin, spec):
    attr = defn.attr(name)
    at = pin.value_mark or pin.mark
    kind = attr.type
    truncates = name in mapping.INT_FLOATS.get(defn.name, ())
    try:
        value, notes = literals.attr_value("int" if truncates else kind, text, key)
    except LiteralError as e:
        b.error(at, f"attrs: {e}", n)
        return
    if truncates:
        notes = [n for n in notes if "stoll" not in n]
        notes.append(f"enuSpace reads the float {key} = {text!r} with its integer parser: "
                     f"{float(value)} here too")
        value = float(value)
    for note in notes:
        b.diag(at, note, n)
    spec["attrs"][name] = value
    b.mark(("blocks", bid, "attrs", name), pin.mark, at)


# ----------------------------------------------------------------------------- Const, Variable

def const(b, n: Node, bid: str) -> dict:
    """Const (`#val[d..]`, typed by its var-type) and Const_ex (typed by its dtype pin)."""
    pin = n.pin("val")
    spec = {"op": "Const", "attrs": {}}
    if pin is None or (not pin.value.strip() and pin.binary_pos is None):
        b.error(n.mark, f"{n.symbol} '{n.id}' has no value in its 'val' pin", n)
        return spec
    if b.doc.links_into(n.id, "val"):
        b.error(pin.mark, f"{n.symbol}: pin 'val' takes a value, not a link", n)
    path = ("blocks", bid, "attrs", "value")
    b.mark(path, pin.mark, pin.value_mark)
    if pin.binary_pos is not None and not pin.value.strip():
        lit = _dat(b, n, pin)
        spec["attrs"] = {"value": lit["value"], "dtype": lit["dtype"]} if lit is not None else \
            {"dtype": VAR_TYPES.get(pin.var_type), "shape": list(pin.dims or [])}   # said why
        return spec
    if n.symbol == "Const_ex":
        dtype = literals.data_type(n.value("dtype"))
        if dtype not in ("float64", "float32", "int32", "int64", "bool", "string"):
            b.error(n.pin("dtype").mark if n.pin("dtype") else n.mark, f"Const_ex: dtype "
                    f"{n.value('dtype')!r} is not one it can make (DT_DOUBLE, DT_FLOAT, DT_INT32, "
                    "DT_INT64, DT_BOOL, DT_STRING)", n)
            return spec
        b.comment(bid, f"enuSpace Const_ex with dtype {n.value('dtype')}")
    else:
        dtype = VAR_TYPES.get(pin.var_type)
        if dtype is None:
            b.error(pin.mark, f"Const: var-type {pin.var_type!r} is not double, float, int, bool or "
                    "string", n)
            return spec
    try:
        got = literals.array(pin.value, dtype, pin.dims)
    except LiteralError as e:
        b.error(pin.value_mark or pin.mark, f"{n.symbol} '{n.id}': {e}", n)
        return spec
    for note in got.notes:
        b.diag(pin.value_mark or pin.mark, note, n)
    spec["attrs"] = {"value": got.value, "dtype": dtype}
    return spec


def variable(b, n: Node, bid: str) -> dict:
    """VariableV2 with the initial value the ClientSession assigns once: a linked Const, the
    `.dat`, text typed by the dtype pin, or an array pin typed by its var-type."""
    spec = {"op": "VariableV2", "attrs": {}}
    pin = n.pin("initvalues")
    links = b.doc.links_into(n.id, "initvalues")
    dtype_text, shape_pin = n.value("dtype"), n.pin("shape")
    path = ("blocks", bid, "init")
    if links:
        src = b.doc.nodes.get(links[0].src)
        b.mark(path, links[0].mark, links[0].mark)
        if src is None or src.symbol not in ("Const", "Const_ex"):
            b.error(links[0].mark, "enuSpace initialises a Variable only from a linked Const: "
                    f"'{links[0].src}' is not one, so the Variable stays uninitialised", n)
        else:
            spec["init"] = b.out.ids[src.id]
        return spec
    if pin is None or (not pin.value.strip() and pin.binary_pos is None):
        b.error(n.mark, "the Variable has no initvalues: enuSpace leaves it uninitialised", n)
        return spec
    b.mark(path, pin.mark, pin.value_mark)
    declared = None
    try:
        if pin.binary_pos is not None:
            lit = _dat(b, n, pin)
            if lit is None:      # said why; the Variable keeps its type (it stays uninitialised)
                if pin.var_type in VAR_TYPES and pin.dims:
                    spec["attrs"] = {"dtype": VAR_TYPES[pin.var_type], "shape": list(pin.dims)}
                return spec
            value, dtype = lit["value"], lit["dtype"]
        elif dtype_text:
            dtype = literals.data_type(dtype_text)
            if dtype is None:
                b.error(n.pin("dtype").mark, f"dtype {dtype_text!r} is not a DataType", n)
                return spec
            got = literals.tensor(pin.value, dtype_text)
            value, notes = got.value, got.notes
            declared = literals.shape(shape_pin.value) if shape_pin is not None else None
            for note in notes:
                b.diag(pin.value_mark or pin.mark, note, n)
        else:
            dtype = VAR_TYPES.get(pin.var_type)
            got = literals.array(pin.value, dtype, pin.dims)
            value = got.value
    except LiteralError as e:
        b.error(pin.value_mark or pin.mark, f"initvalues: {e}", n)
        return spec
    shape = list(np.shape(value))
    if declared is not None:
        b.mark(("blocks", bid, "attrs", "shape"), shape_pin.mark, shape_pin.value_mark)
        if len(declared) != len(shape) or any(d is not None and d != s
                                               for d, s in zip(declared, shape)):
            b.error(pin.value_mark or pin.mark, f"initvalues has shape {shape}, the shape pin says "
                    f"{declared}: enuSpace's initialising Assign fails (validate_shape) and the "
                    "Variable stays uninitialised", n)
            if None not in declared:
                spec["attrs"] = {"dtype": dtype, "shape": declared}
            return spec
    spec["attrs"] = {"dtype": dtype, "shape": shape}
    spec["init"] = {"value": value, "dtype": dtype}
    return spec
