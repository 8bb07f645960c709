"""The page format as pydantic models: `PageSpec` of `BlockSpec`s. Also exports the JSON Schema.

The models validate structure only (keys, kinds of values); the Scope checks them against the
block registry (ops, ports, attrs, references). `page_schema` makes the JSON Schema of both.
"""
from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from typing_extensions import Annotated

FORMATS = (1,)
BLOCK_ID = r"^[A-Za-z_][A-Za-z0-9_]*$"
REFERENCE = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*(\.[0-9]+)?)?$"

BlockId = Annotated[str, StringConstraints(pattern=BLOCK_ID)]
Reference = Annotated[str, StringConstraints(pattern=REFERENCE)]
Scalar = Union[bool, int, float]


class TensorLiteral(BaseModel):
    """An explicit constant: `{value: [1, 2], dtype: int64}`."""
    model_config = ConfigDict(extra="forbid")
    value: Any = Field(description="scalar or nested list")
    dtype: str | None = Field(None, description="TF dtype name (float32, int64, ...)")


class ParamRef(BaseModel):
    """A use of a page parameter, `{param: NAME}`, wherever an attr value, an input literal or
    a Variable's `init:` may be written; replaced by the parameter's value when the page is
    loaded (so no literal can be mistaken for it: no literal is a mapping)."""
    model_config = ConfigDict(extra="forbid")
    param: BlockId = Field(description="the name of a parameter of the page's `params:`")


class ParamSpec(BaseModel):
    """A parameter with its checks: `{value: 0.01, type: float, min: 0, max: 1, description: ...}`."""
    model_config = ConfigDict(extra="forbid")
    value: Any = Field(description="the value: a scalar or a (nested) list")
    type: Literal["int", "float", "bool", "string", "list"] | None = Field(
        None, description="the kind of value it must be (float also takes ints)")
    dtype: str | None = Field(None, description="TF dtype the value must fit; used on an input "
                                                "port it is {value, dtype}")
    min: float | None = Field(None, description="smallest allowed value (each element of a list)")
    max: float | None = Field(None, description="largest allowed value (each element of a list)")
    choices: list | None = Field(None, description="the values allowed")
    description: str | None = Field(None, description="what the parameter is for")


ParamValue = Union[Scalar, str, list, ParamSpec]
InputValue = Union[Reference, Scalar, list, TensorLiteral, ParamRef]


class FileValue(BaseModel):
    """A tensor read from a file beside the page: `{file: w0.npy}` or `{file: w.npz, key: w}`."""
    model_config = ConfigDict(extra="forbid")
    file: str = Field(description=".npy or .npz file, relative to the page's folder")
    key: str | None = Field(None, description="array name inside a .npz file")


class BlockSpec(BaseModel):
    """One block: an op with its inputs (references or literals) and attrs."""
    model_config = ConfigDict(extra="forbid")
    op: str = Field(description="a tf.raw_ops name, e.g. FakeQuantWithMinMaxVarsGradient")
    inputs: dict[str, InputValue] = Field(
        default_factory=dict,
        description="port -> BLOCK | BLOCK.PORT | BLOCK.PORT.I | literal | {value, dtype} | "
                    "{param: NAME}; a list port takes a list of these")
    attrs: dict[str, Any] = Field(default_factory=dict,
                                  description="attr name -> value (or {param: NAME})")
    init: Union[Reference, Scalar, list, TensorLiteral, FileValue, ParamRef, None] = Field(
        None, description="a Variable's initial value: a literal, {value, dtype}, {file, key}, "
                          "or BLOCK[.PORT] of the page, evaluated once before the first cycle")
    note: str | None = Field(None, description="free text kept with the block")
    pos: tuple[float, float] | None = Field(None, description="[x, y] for diagram tools")


class PageSpec(BaseModel):
    """A page: its blocks, keyed by id. Each page runs in its own Scope."""
    model_config = ConfigDict(extra="forbid")
    format: Literal[1] = Field(description="page format version")
    page: str | None = Field(None, description="name of the page (default: the file name)")
    description: str | None = None
    params: dict[BlockId, ParamValue] | None = Field(
        None, description="page parameters, NAME: value or NAME: {value, type, dtype, min, max, "
                          "choices, description}; used as {param: NAME} in attrs, inputs and init, "
                          "set by `run --param NAME=VALUE` and `sweep --grid NAME=V1,V2`")
    fetch: list[Reference] | None = Field(
        None, description="outputs the page is run for (BLOCK or BLOCK.PORT): only they and what "
                          "they need run (default: every block)")
    blocks: dict[BlockId, BlockSpec] = Field(default_factory=dict)


def json_schema() -> dict:
    """The JSON Schema of pages, every block's ports and attrs included (`page_schema`)."""
    from .page_schema import json_schema as full
    return full()
