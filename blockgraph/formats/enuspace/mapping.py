"""What an enuSpace block (a TF C++ API op with pins) is as a blockgraph block: the raw op it
creates, which pins are input ports and which are attrs, and how the plugin reads its `attrs`
string. The raw op's declaration (the block registry) says which names are ports, attrs and
outputs (their names are `tf.raw_ops`' keywords, which are the C++ API's pin names too); this
module holds only where the C++ API and the plugin differ from it."""
from __future__ import annotations

from ...core import registry

#: C++ API class -> the raw op it creates, where the names differ
OPS = {"Multiply": "Mul", "Subtract": "Sub", "Negate": "Neg", "Reverse": "ReverseV2",
       "Concat": "ConcatV2", "Stack": "Pack", "Unstack": "Unpack", "Where3": "Select",
       "BroadcastDynamicShape": "BroadcastArgs", "SetDiff1D": "ListDiff", "Variable": "VariableV2",
       "Const_ex": "Const"}

#: attrs (as named in attrs strings, without the trailing '_') whose raw op attr has another name
ATTRS = {"Squeeze": {"squeeze_dims": "axis"}}

#: the attrs-string keys the plugin's code reads, for blocks that read fewer than their op has
#: (the others are silently ignored by enuSpace, so here too, with a warning)
READS = {"FakeQuantWithMinMaxArgs": ("min", "max", "num_bits"),
         "FakeQuantWithMinMaxArgsGradient": ("min", "max", "num_bits"),
         "FakeQuantWithMinMaxVars": ("num_bits",),
         "FakeQuantWithMinMaxVarsGradient": ("num_bits",),
         "FakeQuantWithMinMaxVarsPerChannel": ("num_bits",),
         "FakeQuantWithMinMaxVarsPerChannelGradient": ("num_bits", "narrow_range"),
         "Variable": ("container", "shared_name")}

#: float attrs the plugin reads with its integer parser (`GetValue_float` calls stoll)
INT_FLOATS = {"FusedBatchNorm": ("epsilon",), "FusedBatchNormGrad": ("epsilon",),
              "LRN": ("bias", "alpha", "beta")}

#: pins the plugin types by its symbol library's `auto-datatype` (its JSON export writes it as
#: `pin-datatype`): inline literals on them take this DataType instead of the text's guess
AUTO_DATATYPE = {
    ("BatchToSpace", "crops"): "DT_INT32", ("BatchToSpaceND", "block_shape"): "DT_INT32",
    ("BatchToSpaceND", "crops"): "DT_INT32", ("BroadcastDynamicShape", "s0"): "DT_INT32",
    ("BroadcastDynamicShape", "s1"): "DT_INT32", ("Concat", "axis"): "DT_INT32",
    ("Dequantize", "min_range"): "DT_FLOAT", ("Dequantize", "max_range"): "DT_FLOAT",
    ("EditDistance", "hypothesis_indices"): "DT_INT64", ("EditDistance", "hypothesis_shape"): "DT_INT32",
    ("EditDistance", "truth_indices"): "DT_INT64", ("EditDistance", "truth_shape"): "DT_INT32",
    ("ExpandDims", "axis"): "DT_FLOAT", ("Fill", "dims"): "DT_INT32",
    ("FakeQuantWithMinMaxVars", "min"): "DT_FLOAT", ("FakeQuantWithMinMaxVars", "max"): "DT_FLOAT",
    ("FakeQuantWithMinMaxVarsGradient", "min"): "DT_FLOAT",
    ("FakeQuantWithMinMaxVarsGradient", "max"): "DT_FLOAT",
    ("FakeQuantWithMinMaxVarsPerChannel", "min"): "DT_FLOAT",
    ("FakeQuantWithMinMaxVarsPerChannel", "max"): "DT_FLOAT",
    ("FakeQuantWithMinMaxVarsPerChannelGradient", "min"): "DT_FLOAT",
    ("FakeQuantWithMinMaxVarsPerChannelGradient", "max"): "DT_FLOAT",
    ("Gather", "indices"): "DT_INT32", ("GatherNd", "indices"): "DT_INT32",
    ("GatherV2", "indices"): "DT_INT32", ("GatherV2", "axis"): "DT_INT32",
    ("MirrorPad", "paddings"): "DT_INT32", ("Pad", "paddings"): "DT_INT32",
    ("PadV2", "paddings"): "DT_INT32", ("Reshape", "shape"): "DT_INT32",
    ("ReverseSequence", "seq_lengths"): "DT_INT32", ("Reverse", "axis"): "DT_INT32",
    ("ScatterNd", "indices"): "DT_INT32", ("ScatterNd", "shape"): "DT_INT32",
    ("ScatterNdNonAliasingAdd", "indices"): "DT_INT32",
    ("Slice", "begin"): "DT_INT32", ("Slice", "size"): "DT_INT32",
    ("SpaceToBatch", "input"): "DT_INT32", ("SpaceToBatch", "paddings"): "DT_INT32",
    ("SpaceToBatchND", "input"): "DT_INT32", ("SpaceToBatchND", "block_shape"): "DT_INT32",
    ("SpaceToBatchND", "paddings"): "DT_INT32", ("SpaceToDepth", "input"): "DT_INT32",
    ("Split", "axis"): "DT_INT32", ("SplitV", "size_splits"): "DT_INT32",
    ("SplitV", "axis"): "DT_INT32", ("StridedSlice", "begin"): "DT_INT32",
    ("StridedSlice", "end"): "DT_INT32", ("StridedSlice", "strides"): "DT_INT32",
    ("StridedSliceGrad", "shape"): "DT_INT32", ("StridedSliceGrad", "begin"): "DT_INT32",
    ("StridedSliceGrad", "end"): "DT_INT32", ("StridedSliceGrad", "strides"): "DT_INT32",
    ("Tile", "multiples"): "DT_INT32", ("Transpose", "perm"): "DT_INT32",
    ("Where", "condition"): "DT_BOOL",
}

#: pins that are not the op's: the page scope, the attrs string, the session's UI switches
META_PINS = ("scope", "attrs", "SHOW_DEBUG", "INFINITE_LOOP", "status")

#: blocks the importer handles itself (not raw ops)
SPECIAL = ("ClientSession", "InputList", "Operation", "Const", "Const_ex", "Variable")


def raw_op(symbol: str) -> str:
    """The raw op an enuSpace block creates (its C++ API name, renamed where TF's differs)."""
    return OPS.get(symbol, symbol)


def definition(symbol: str):
    """The BlockDef of the raw op an enuSpace block creates, or None (not supported yet)."""
    return registry.get(raw_op(symbol))


def attr_name(op: str, key: str) -> tuple[str, bool]:
    """(the raw op attr an attrs-string key sets, whether the key had enuSpace's trailing '_')."""
    underscore = key.endswith("_")
    name = key[:-1] if underscore else key
    return ATTRS.get(op, {}).get(name, name), underscore


def reads(symbol: str, name: str) -> bool:
    """Whether the plugin's code for `symbol` reads attr `name` from its attrs string."""
    keys = READS.get(symbol)
    return keys is None or name in keys


def datatype(symbol: str, pin: str, given: str = "") -> str:
    """The DataType an inline literal on `pin` takes: the JSON's pin-datatype, else the symbol
    library's auto-datatype, else '' (guessed from the text)."""
    return given or AUTO_DATATYPE.get((symbol, pin), "")
