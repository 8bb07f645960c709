"""Shape and structure ops: Reshape, ExpandDims, Squeeze, Shape, ShapeN, Size, Rank, BroadcastArgs,
BroadcastTo, Fill, ZerosLike, OnesLike, Transpose, InvertPermutation, Tile.

The kernels' checks live in the shape functions (they also run on the real arrays before each
compute), in the kernel's order: a check whose inputs are not yet known stops later checks from
firing early, so a page never reports an error TF would not have reached first.
"""
from __future__ import annotations

import numpy as np

from blockgraph import dtypes as dt
from blockgraph.registry import Attr, Input, OpError, Output, Spec, block
from blockgraph.shapes import fmt, fully_known as _known

_NO_QUANT = tuple(d for d in dt.ALL if d not in dt.QUANTIZED)
_NO_QUANT_STRING = tuple(d for d in _NO_QUANT if d != "string")
_FILL_TYPES = tuple(d for d in dt.ALL if d not in ("qint16", "quint16"))
_TILE_TYPES = tuple(d for d in _NO_QUANT if d != "uint16")
_INT64_MAX = 2 ** 63 - 1
_INT32_MAX = 2 ** 31 - 1
_OUT_TYPE = Attr("out_type", "type", "int32", choices=dt.INDEX, doc="int32 or int64")


# ----------------------------------------------------------------------------- helpers

def _ints(value) -> list:
    """A known index tensor as a flat list of Python ints."""
    return [int(v) for v in np.asarray(value).reshape(-1)]


def _num_elements(shape):
    n = 1
    for d in shape:
        n *= d
    return n


def _vector_len(shape):
    """Length of a rank-1 (or legacy scalar = 1 element) index input, None when unknown."""
    if shape is None:
        return None
    if len(shape) == 0:
        return 1
    return shape[0]


def _rank_check(shape, ok, message, port):
    """A kernel's rank check: True when it passes, False when undecided (unknown dims would be
    printed in TF's text: the run reports it); raises TF's error when it certainly fails."""
    if shape is None:
        return False
    if ok(shape):
        return True
    if not _known(shape):
        return False
    raise OpError(message.format(fmt(shape)), port=port)


def _partial_debug(dims) -> str:
    """TensorShapeProto::DebugString of requested dims: [2,3,?] (negative dims print as ?)."""
    return "[" + ",".join("?" if d < 0 else str(d) for d in dims) + "]"


def _make_shape(dims, port):
    """TensorShapeUtils::MakeShape: dims must be >= 0 and their product fit in int64."""
    n = 1
    for d in dims:
        if d < 0:
            raise OpError(f"Dimension {d} must be >= 0", port=port)
        n *= d
        if n > _INT64_MAX:
            raise OpError(f"Shape {_partial_debug(dims)} would have more than 2**63 - 1 elements",
                          port=port)
    return tuple(dims)


def _bcast(a, b):
    """TF's BCast of two shapes (lists of ints): the broadcast shape, or None if incompatible."""
    n = max(len(a), len(b))
    a = [1] * (n - len(a)) + list(a)
    b = [1] * (n - len(b)) + list(b)
    out = []
    for x, y in zip(a, b):
        if x == y:
            out.append(x)
        elif x == 1:
            out.append(y)
        elif y == 1:
            out.append(x)
        else:
            return None
    return out


def _value_spec(shape, value, dtype):
    return Spec(None, shape, np.asarray(value, dtype=dt.to_numpy(dtype)))


# ----------------------------------------------------------------------------- Reshape

def reshape_target(in_shape, sizes):
    """ReshapeOp's ValidateSizes and -1 inference: the output shape, or OpError. `in_shape`
    may be None or partial: the element-count checks then wait for the run."""
    if len(sizes) >= 254:
        raise OpError(f"too many dimensions: must be < 254, but received {len(sizes)}", port="shape")
    product, unknown, has_zero, numel = 1, -1, False, 1
    out = []
    for d, size in enumerate(sizes):
        if size == -1:
            if unknown != -1:
                raise OpError(f"Only one input size may be -1, not both {unknown} and {d}",
                              port="shape")
            unknown = d
            out.append(1)
        elif size < 0:
            raise OpError(f"Size {d} must be non-negative, not {size}", port="shape")
        elif size == 0:
            out.append(0)
            has_zero = True
            numel = 0
        else:
            if numel * size > _INT64_MAX:
                raise OpError(f"Shape [{', '.join(map(str, sizes))}] has too many elements",
                              port="shape")
            out.append(size)
            numel *= size
            product *= size
    if not _known(in_shape):
        if unknown != -1:
            out[unknown] = None
        return tuple(out)
    if unknown != -1:
        input_num, input_has_zero = 1, False
        for dim in in_shape:
            if dim > 0 or not has_zero:
                input_num *= dim
            else:
                input_has_zero = True
        missing = input_num // product
        if not input_has_zero and product * missing != input_num:
            raise OpError(f"Input to reshape is a tensor with {input_num} values, but the requested "
                          f"shape requires a multiple of {product}", port="shape")
        out[unknown] = missing
    have, want = _num_elements(in_shape), _num_elements(out)
    if want != have:
        raise OpError(f"Input to reshape is a tensor with {have} values, but the requested shape "
                      f"has {want}", port="shape")
    return tuple(out)


def _reshape_shape(inputs, attrs):
    s = inputs["shape"]
    if not _rank_check(s.shape, lambda x: len(x) <= 1, "sizes input must be 1-D, not {}", "shape"):
        return None
    if s.value is None:
        n = _vector_len(s.shape)
        return None if n is None else (None,) * n
    return reshape_target(inputs["tensor"].shape, _ints(s.value))


@block("Reshape",
       inputs=[Input("tensor", dt.ALL, type_attr="T"),
               Input("shape", dt.INDEX, type_attr="Tshape", doc="1-D sizes; one may be -1")],
       outputs=[Output("output", "T")], shape=_reshape_shape)
def reshape(tensor, shape):
    """The same elements in a new shape (one size -1 is inferred from the element count)."""
    return tensor.reshape(reshape_target(tensor.shape, _ints(shape)))


# ----------------------------------------------------------------------------- ExpandDims

def _expand_target(in_shape, axis_spec):
    a = axis_spec
    if _known(a.shape) and _num_elements(a.shape) != 1:
        raise OpError("'dim' must be a tensor with a single value", port="axis")
    if in_shape is None:
        return None
    rank = len(in_shape)
    if a.value is None:
        return (None,) * (rank + 1)
    dim = int(np.asarray(a.value).reshape(-1)[0])
    if not -1 - rank <= dim <= rank:
        raise OpError(f"Tried to expand dim index {dim} for tensor with {rank} dimensions.",
                      port="axis")
    if dim < 0:
        dim = min(dim + rank + 1, rank)
    return tuple(in_shape[:dim]) + (1,) + tuple(in_shape[dim:])


@block("ExpandDims",
       inputs=[Input("input", dt.ALL, type_attr="T"),
               Input("axis", dt.INDEX, type_attr="Tdim", doc="one value in [-rank-1, rank]")],
       outputs=[Output("output", "T")],
       shape=lambda inputs, attrs: _expand_target(inputs["input"].shape, inputs["axis"]))
def expand_dims(input, axis):
    """Insert a dimension of size 1 at index `axis` (negative counts from the end)."""
    return input.reshape(_expand_target(input.shape, Spec(None, axis.shape, axis)))


# ----------------------------------------------------------------------------- Squeeze

def _squeeze_target(shape, axis):
    if shape is None:
        return None
    rank = len(shape)
    order = []
    for a in axis:             # TF keeps them in an unordered_set: checked last-inserted first
        if a not in order:
            order.insert(0, a)
    for a in order:
        if not -rank <= a < rank:
            raise OpError(f"Tried to squeeze dim index {a} for tensor with {rank} dimensions.",
                          port="input")
    wrapped = {a + rank if a < 0 else a for a in order}
    out, sure = [], True
    for i, d in enumerate(shape):
        if wrapped:
            if i in wrapped:
                if d is None:
                    sure = False
                elif d != 1:
                    if not sure:
                        return None
                    raise OpError(f"Can not squeeze dim[{i}], expected a dimension of 1, got {d}",
                                  port="input")
            else:
                out.append(d)
        else:
            if d is None:
                return None
            if d != 1:
                out.append(d)
    return tuple(out)


@block("Squeeze",
       inputs=[Input("input", dt.ALL, type_attr="T")],
       attrs=[Attr("axis", "list(int)", [], doc="dims to remove (each of size 1); [] = all size-1 dims")],
       outputs=[Output("output", "T")],
       shape=lambda inputs, attrs: _squeeze_target(inputs["input"].shape, attrs["axis"]))
def squeeze(input, axis):
    """Remove dimensions of size 1 (all of them, or those listed in `axis`)."""
    return input.reshape(_squeeze_target(input.shape, axis))


# ----------------------------------------------------------------------------- Shape, Size, Rank

def _check_dims_int32(shape, out_type, message):
    if out_type != "int32" or shape is None:
        return
    for i, d in enumerate(shape):
        if d is None:
            return
        if d >= _INT32_MAX:
            raise OpError(message(i, d), port="input")


def _shape_shape(inputs, attrs):
    x, out_type = inputs["input"].shape, attrs["out_type"]
    _check_dims_int32(x, out_type, lambda i, d: f"Shape output type is 32-bit  but dim {i} is {d}")
    if x is None:
        return (None,)
    if _known(x):
        return _value_spec((len(x),), list(x), out_type)
    return (len(x),)


@block("Shape", inputs=[Input("input", dt.ALL, type_attr="T")], attrs=[_OUT_TYPE],
       outputs=[Output("output", "out_type")], shape=_shape_shape)
def shape_(input, out_type):
    """The shape of a tensor as a 1-D int32/int64 tensor."""
    return np.array(input.shape, dtype=dt.to_numpy(out_type)).reshape(-1)


def _shape_n_shape(inputs, attrs):
    items, out_type = inputs["input"], attrs["out_type"]
    if not items:
        raise OpError("Value for attr 'N' of 0 must be at least minimum 1", port="input")
    out = []
    for k, s in enumerate(items):
        _check_dims_int32(s.shape, out_type, lambda i, d, k=k: (
            f"ShapeN output type is 32-bit but shape {k} dim {i} is {d}"))
        if s.shape is None:
            out.append((None,))
        elif _known(s.shape):
            out.append(_value_spec((len(s.shape),), list(s.shape), out_type))
        else:
            out.append((len(s.shape),))
        if not _known(s.shape):   # a later input's check must not fire before this one's
            out.extend((None,) if t.shape is None else (len(t.shape),) for t in items[k + 1:])
            break
    return [out]


@block("ShapeN", inputs=[Input("input", dt.ALL, type_attr="T", list=True)], attrs=[_OUT_TYPE],
       outputs=[Output("output", "out_type", list=True)], shape=_shape_n_shape)
def shape_n(input, out_type):
    """The shapes of N tensors (one 1-D int32/int64 tensor each)."""
    return [np.array(x.shape, dtype=dt.to_numpy(out_type)).reshape(-1) for x in input]


def _size_shape(inputs, attrs):
    x, out_type = inputs["input"].shape, attrs["out_type"]
    if x is None:
        return ()
    if 0 in x:
        n = 0
    elif _known(x):
        n = _num_elements(x)
    else:
        return ()
    if out_type == "int32" and n >= _INT32_MAX:
        raise OpError("Number of elements was larger than representable by 32-bit output type",
                      port="input")
    return _value_spec((), n, out_type)


@block("Size", inputs=[Input("input", dt.ALL, type_attr="T")], attrs=[_OUT_TYPE],
       outputs=[Output("output", "out_type")], shape=_size_shape)
def size(input, out_type):
    """The number of elements of a tensor (0-d int32/int64)."""
    return np.array(input.size, dtype=dt.to_numpy(out_type))


def _rank_shape(inputs, attrs):
    x = inputs["input"].shape
    return () if x is None else _value_spec((), len(x), "int32")


@block("Rank", inputs=[Input("input", dt.ALL, type_attr="T")],
       outputs=[Output("output", "int32")], shape=_rank_shape)
def rank(input):
    """The number of dimensions of a tensor (0-d int32)."""
    return np.array(input.ndim, dtype=np.int32)


# ----------------------------------------------------------------------------- BroadcastArgs

def _broadcast_args_result(inputs):
    shapes = []
    for i, port in enumerate(("s0", "s1")):
        s = inputs[port]
        if s.shape is None:
            return None, False
        if len(s.shape) != 1:
            if not _known(s.shape):
                return None, False
            raise OpError(f"In[{i}] must be a vector.{fmt(s.shape)}", port=port)
        shapes.append(s)
    if shapes[0].value is None or shapes[1].value is None:
        return None, True
    a, b = _ints(shapes[0].value), _ints(shapes[1].value)
    out = _bcast(a, b)
    if out is None:
        raise OpError(f"Incompatible shapes: [{','.join(map(str, a))}] vs. [{','.join(map(str, b))}]",
                      port="s1")
    return out, True


def _broadcast_args_shape(inputs, attrs):
    out, vectors = _broadcast_args_result(inputs)
    if out is not None:
        return _value_spec((len(out),), out, attrs["T"])
    if vectors:
        n0, n1 = inputs["s0"].shape[0], inputs["s1"].shape[0]
        return (None if n0 is None or n1 is None else max(n0, n1),)
    return (None,)


@block("BroadcastArgs",
       inputs=[Input("s0", dt.INDEX, type_attr="T", doc="a shape (1-D)"),
               Input("s1", dt.INDEX, type_attr="T", doc="a shape (1-D)")],
       outputs=[Output("r0", "T")], shape=_broadcast_args_shape)
def broadcast_args(s0, s1, T):
    """The shape two shapes broadcast to (numpy rules): r0 = broadcast(s0, s1)."""
    out, _ = _broadcast_args_result({"s0": Spec(T, s0.shape, s0), "s1": Spec(T, s1.shape, s1)})
    return np.array(out, dtype=dt.to_numpy(T)).reshape(-1)


# ----------------------------------------------------------------------------- BroadcastTo

def _broadcast_to_target(in_shape, shape_spec):
    ss = shape_spec.shape
    if not _rank_check(ss, lambda x: len(x) == 1, "shape must be a vector of {{int32,int64}}, got "
                       "shape {}", "shape"):
        return None
    if shape_spec.value is None:
        return None if ss[0] is None else (None,) * ss[0]
    dims = list(_make_shape(_ints(shape_spec.value), "shape"))
    if in_shape is None:
        return tuple(dims)
    if _known(in_shape) and list(in_shape) == dims:
        return tuple(dims)
    if len(in_shape) > len(dims):
        if not _known(in_shape):
            return tuple(dims)
        raise OpError(f"Rank of input ({len(in_shape)}) must be no greater than rank of output shape "
                      f"({len(dims)}).", port="input")
    if len(in_shape) == 0 or not _known(in_shape):
        return tuple(dims)
    out = _bcast(list(in_shape), dims)
    if out is None:
        raise OpError(f"Incompatible shapes: {fmt(in_shape)} vs. {fmt(dims)}", port="input")
    if out != dims:
        raise OpError(f"Unable to broadcast tensor of shape {fmt(in_shape)} to tensor of shape "
                      f"{fmt(dims)}", port="input")
    return tuple(dims)


@block("BroadcastTo",
       inputs=[Input("input", _NO_QUANT, type_attr="T"),
               Input("shape", dt.INDEX, type_attr="Tidx", doc="1-D target shape")],
       outputs=[Output("output", "T")],
       shape=lambda inputs, attrs: _broadcast_to_target(inputs["input"].shape, inputs["shape"]))
def broadcast_to(input, shape):
    """`input` broadcast (numpy rules) to the given shape."""
    target = _broadcast_to_target(input.shape, Spec(None, shape.shape, shape))
    return np.array(np.broadcast_to(input, target))


# ----------------------------------------------------------------------------- Fill, *Like

def _fill_shape(inputs, attrs):
    ds, vs = inputs["dims"].shape, inputs["value"].shape
    if not _rank_check(ds, lambda x: len(x) <= 1, "dims must represent a vector, got shape {}", "dims"):
        return None
    n = _vector_len(ds)
    unknown = None if n is None else (None,) * n
    if not _rank_check(vs, lambda x: len(x) == 0 or (len(x) == 1 and x[0] == 1),
                       "value must represent a scalar, got shape {}", "value"):
        return unknown
    v = inputs["dims"].value
    if v is None:
        return unknown
    return _make_shape(_ints(v), "dims")


@block("Fill",
       inputs=[Input("dims", dt.INDEX, type_attr="index_type", doc="1-D output shape"),
               Input("value", _FILL_TYPES, type_attr="T", doc="0-d value")],
       outputs=[Output("output", "T")], shape=_fill_shape)
def fill(dims, value):
    """A tensor of shape `dims` with every element equal to the scalar `value`."""
    return np.broadcast_to(value.reshape(()), tuple(_ints(dims))).copy()


@block("ZerosLike", inputs=[Input("x", _NO_QUANT, type_attr="T")], outputs=[Output("y", "T")],
       shape=lambda inputs, attrs: inputs["x"].shape)
def zeros_like(x):
    """Zeros (empty strings for strings) of the shape and dtype of `x`."""
    if x.dtype == object:
        out = np.empty(x.shape, dtype=object)
        out.fill(b"")
        return out
    return np.zeros(x.shape, dtype=x.dtype)


@block("OnesLike", inputs=[Input("x", _NO_QUANT_STRING, type_attr="T")], outputs=[Output("y", "T")],
       shape=lambda inputs, attrs: inputs["x"].shape)
def ones_like(x):
    """Ones (True for bool) of the shape and dtype of `x`."""
    return np.ones(x.shape, dtype=x.dtype)


# ----------------------------------------------------------------------------- Transpose

def _transpose_perm(in_shape, perm_spec):
    """(permutation or None, output shape) with TransposeOp's checks."""
    ps = perm_spec.shape
    if ps is not None and not _rank_check(ps, lambda x: len(x) == 1, "perm must be rank 1, got shape {}",
                                          "perm"):
        return None, None
    n = None if ps is None else ps[0]
    if in_shape is not None and n is not None and n != len(in_shape):
        raise OpError(f"transpose expects a vector of size {len(in_shape)}. But input(1) is a vector "
                      f"of size {n}", port="perm")
    if perm_spec.value is None or in_shape is None:
        r = len(in_shape) if in_shape is not None else n
        return None, (None if r is None else (None,) * r)
    dims = len(in_shape)
    perm = [int(p) for p in np.asarray(perm_spec.value).reshape(-1).astype(np.int32)]
    perm = [p + dims if p < 0 else p for p in perm]
    seen = [False] * dims
    for p in perm:
        if not 0 <= p < dims:
            raise OpError(f"{p} is out of range [0 .. {dims})", port="perm")
        seen[p] = True
    for i in range(dims):
        if not seen[i]:
            raise OpError(f"{i} is missing from {{{','.join(map(str, perm))}}}.", port="perm")
    return perm, tuple(in_shape[p] for p in perm)


@block("Transpose",
       inputs=[Input("x", _NO_QUANT, type_attr="T"),
               Input("perm", dt.INDEX, type_attr="Tperm", doc="a permutation of [0, rank)")],
       outputs=[Output("y", "T")],
       shape=lambda inputs, attrs: _transpose_perm(inputs["x"].shape, inputs["perm"])[1])
def transpose(x, perm):
    """Permute the dimensions: y.shape[i] = x.shape[perm[i]] (negative entries count from the end)."""
    p, _ = _transpose_perm(x.shape, Spec(None, perm.shape, perm))
    return np.transpose(x, p).copy(order="C")


# ----------------------------------------------------------------------------- InvertPermutation

def _invert(values):
    """InvertPermutationOp: the inverse, or TF's error for the first bad entry (in order)."""
    v = np.asarray(values).reshape(-1).astype(np.int64)
    n = v.size
    bad = np.flatnonzero((v < 0) | (v >= n))
    first_bad = int(bad[0]) if bad.size else n
    ok = v[:first_bad]
    _, first = np.unique(ok, return_index=True)
    dup = np.ones(ok.size, bool)
    dup[first] = False
    dups = np.flatnonzero(dup)
    if dups.size:
        i = int(dups[0])
        raise OpError(f"{int(v[i])} is duplicated in the input.", port="x")
    if bad.size:
        raise OpError(f"{int(v[first_bad])} is not between 0 and {n}", port="x")
    out = np.empty(n, np.int64)
    out[v] = np.arange(n)
    return out


def _invert_permutation_shape(inputs, attrs):
    x = inputs["x"]
    if x.shape is not None and len(x.shape) != 1:
        raise OpError("invert_permutation expects a 1D vector.", port="x")
    if x.value is not None:
        _invert(x.value)
    return (None,) if x.shape is None else x.shape


@block("InvertPermutation", inputs=[Input("x", dt.INDEX, type_attr="T", doc="a permutation of [0, n)")],
       outputs=[Output("y", "T")], shape=_invert_permutation_shape)
def invert_permutation(x):
    """The inverse permutation: y[x[i]] = i."""
    return _invert(x).astype(x.dtype)


# ----------------------------------------------------------------------------- Tile

def _tile_target(in_shape, mult_spec):
    ms = mult_spec.shape
    if ms is not None and not _rank_check(ms, lambda x: len(x) == 1, "Expected multiples to be 1-D, "
                                          "but got shape {}", "multiples"):
        return None
    n = None if ms is None else ms[0]
    if in_shape is not None and n is not None and n != len(in_shape):
        raise OpError(f"Expected multiples argument to be a vector of length {len(in_shape)} but got "
                      f"length {n}", port="multiples")
    if in_shape is None:
        return None if n is None else (None,) * n
    if len(in_shape) == 0:
        return ()
    if mult_spec.value is None:
        return (None,) * len(in_shape)
    m = _ints(mult_spec.value)
    out, numel = [], 1
    for i, d in enumerate(in_shape):
        if m[i] < 0:
            raise OpError(f"Expected multiples[{i}] >= 0, but got {m[i]}", port="multiples")
        if d is None or numel is None:
            out.append(None if d is None else d * m[i])
            numel = None
            continue
        size = ((d * m[i] + 2 ** 63) % 2 ** 64) - 2 ** 63      # int64 arithmetic, as in C++
        if size < 0:
            raise OpError(f"Expected a non-negative size, got {size}", port="multiples")
        if numel * size > _INT64_MAX:
            raise OpError(f"Encountered overflow when multiplying {numel} with {size}, result: -1",
                          port="multiples")
        numel *= size
        out.append(size)
    return tuple(out)


@block("Tile",
       inputs=[Input("input", _TILE_TYPES, type_attr="T"),
               Input("multiples", dt.INDEX, type_attr="Tmultiples", doc="1-D, one per input dim")],
       outputs=[Output("output", "T")],
       shape=lambda inputs, attrs: _tile_target(inputs["input"].shape, inputs["multiples"]))
def tile(input, multiples):
    """Repeat `input` multiples[i] times along each dimension i."""
    if input.ndim == 0:
        return input
    return np.tile(input, _ints(multiples))
