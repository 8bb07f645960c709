"""The block library is complete and every declaration is well-formed."""
import inspect
import os
import subprocess
import sys

import pytest

from blockgraph.core import dtypes as dt
from blockgraph.core import registry
from blockgraph.core.attrs import check_attr
from blockgraph.core.blockdef import ATTR_TYPES

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

FAKE_QUANT = ["FakeQuantWithMinMaxArgs", "FakeQuantWithMinMaxArgsGradient", "FakeQuantWithMinMaxVars",
              "FakeQuantWithMinMaxVarsGradient", "FakeQuantWithMinMaxVarsPerChannel",
              "FakeQuantWithMinMaxVarsPerChannelGradient"]
ARRAY_OPS = """BatchToSpace BatchToSpaceND Bitcast BroadcastArgs BroadcastTo CheckNumerics Concat ConcatV2
DebugGradientIdentity DepthToSpace Dequantize Diag DiagPart EditDistance ExpandDims ExtractImagePatches
Fill Gather GatherNd GatherV2 Identity IdentityN ImmutableConst InvertPermutation ListDiff MatrixBandPart
MatrixDiag MatrixDiagPart MatrixSetDiag MirrorPad OneHot OnesLike Pack Pad PadV2 ParallelConcat
Placeholder PlaceholderWithDefault PreventGradient QuantizeAndDequantizeV2 QuantizeV2 QuantizedConcat
QuantizedInstanceNorm QuantizedReshape Rank Reshape ReverseSequence ReverseV2 ScatterNd
ScatterNdNonAliasingAdd Shape ShapeN Size Slice Snapshot SpaceToBatch SpaceToBatchND SpaceToDepth Split
SplitV Squeeze StopGradient StridedSlice StridedSliceGrad TensorStridedSliceUpdate Tile Transpose Unique
UniqueWithCounts Unpack Where ZerosLike Cast""".split()


def test_every_required_block_is_registered():
    missing = sorted(set(FAKE_QUANT + ARRAY_OPS + ["Const"]) - set(registry.names()))
    assert not missing, f"unregistered blocks: {missing}"


@pytest.mark.parametrize("name", registry.names())
def test_declaration_is_well_formed(name):
    d = registry.get(name)
    assert d.doc and not d.doc.endswith(":"), "a one-line doc"
    assert d.shape is not None, "every block has a shape function"
    assert d.outputs, "every block has outputs"
    names = [p.name for p in d.inputs] + [a.name for a in d.attrs]
    assert len(names) == len(set(names)), "ports and attrs share one namespace"
    for p in d.inputs:
        assert set(p.dtypes) <= set(dt.NUMPY), p
    for a in d.attrs:
        assert a.type in ATTR_TYPES, a
        if not a.required and a.default is not None and a.type not in ("tensor",):
            assert check_attr(a, a.default) == a.default or a.type in ("shape", "float"), a
    for o in d.outputs:
        assert o.dtype in dt.NUMPY or o.dtype in {a.name for a in d.attrs} | set(d.type_attrs), o
    params = list(inspect.signature(d.compute).parameters)
    if d.context:
        params = params[1:]                 # the CallContext
    assert set(params) <= d.argument_names | {"kw", "kwargs"}


def test_blocks_pickle_by_name():
    import pickle
    d = registry.get("FakeQuantWithMinMaxVars")
    assert pickle.loads(pickle.dumps(d)) is d


def test_block_families_load_on_demand():
    """A page imports only the families of its ops; the source index names every block."""
    code = ("import sys, blockgraph\n"
            "p = blockgraph.load_page(sys.argv[1])\n"
            "assert not p.diagnostics and p.run().ok\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('blocks.')\n"
            "                      and not m.startswith('blocks.kernels') and m != 'blocks._shape_helpers')))\n")
    page = os.path.join(ROOT, "examples", "fake_quant_args.yaml")
    out = subprocess.run([sys.executable, "-c", code, page], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["blocks.core", "blocks.fake_quant"]
    import blocks
    registry.load_library()
    assert blocks.index() == blocks.build_index(), "blocks/index.json is stale: run python -m blocks"
    assert {n: registry.get(n).family for n in registry.names()}.items() <= blocks.index().items()


def test_unknown_op_still_gets_a_hint(tmp_path):
    """An op no family declares loads the whole library, so the hint can name the closest op."""
    page = tmp_path / "typo.yaml"
    page.write_text("format: 1\nblocks:\n  fq: {op: FakeQuantWithMinMaxVar}\n")
    code = ("import sys, blockgraph\n"
            "p = blockgraph.load_page(sys.argv[1])\n"
            "print(p.diagnostics[0].format())\n")
    out = subprocess.run([sys.executable, "-c", code, str(page)], capture_output=True, text=True,
                         check=True).stdout
    assert "unknown op 'FakeQuantWithMinMaxVar'" in out and "FakeQuantWithMinMaxVars" in out


def test_ml_dtypes_is_imported_only_by_pages_using_bfloat16(tmp_path):
    """Importing ml_dtypes costs more than the rest of a small run: pages without bfloat16
    never pay for it (checked in fresh interpreters: the tests themselves import it)."""
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    example = os.path.join(root, "examples", "fake_quant_vars_gradient.yaml")
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "blockgraph.cli", "run", example,
                           "--json"], capture_output=True, text=True, cwd=root, timeout=120)
    assert proc.returncode == 0, proc.stderr
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line]
    assert "blockgraph.core.dtypes" in imported and "ml_dtypes" not in imported
    page = tmp_path / "bf16.yaml"
    page.write_text("format: 1\nblocks:\n  x: {op: Const, attrs: {value: [1.0, 2.5, -3.0]}}\n"
                    "  b: {op: Cast, inputs: {x: x}, attrs: {DstT: bfloat16}}\n")
    proc = subprocess.run([sys.executable, "-m", "blockgraph.cli", "run", str(page), "--json",
                           "--out", str(tmp_path / "o.npz")], capture_output=True, text=True, cwd=root,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '"dtype": "bfloat16", "shape": [3], "values": [1.0, 2.5, -3.0]' in proc.stdout
