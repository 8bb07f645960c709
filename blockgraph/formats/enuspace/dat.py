"""The `<page>.dat` sidecar: raw little-endian C arrays, row-major, no header, each at the byte
offset (`binary-pos`) of the pin it belongs to, typed by the pin's var-type (`double` 8 bytes,
`float` 4, `int` 4 (int32), `bool` 1) with as many elements as its dims multiply to. Inputs
(`#initvalues[...]`, `#val[...]`) and saved results (`#result_*`) share the file. Only the
bytes of the arrays asked for are read (a sidecar can be hundreds of megabytes)."""
from __future__ import annotations

import os

import numpy as np

from ...core import files
from ...core.errors import FileReadError

#: var-type -> little-endian numpy dtype of its elements in the .dat
DTYPES = {"double": np.dtype("<f8"), "float": np.dtype("<f4"), "int": np.dtype("<i4"),
          "bool": np.dtype("u1")}


class DatError(Exception):
    """A binary pin that cannot be read (no .dat, out of range, unsupported var-type)."""


def path_for(page_path: str) -> str:
    """The sidecar of a page: `<page>.dat` beside the SVG or the JSON."""
    return os.path.splitext(page_path)[0] + ".dat"


class Dat:
    """A page's `.dat` file, read an array at a time."""

    def __init__(self, path: str):
        self.path = path

    def array(self, pos: int, var_type: str, dims) -> np.ndarray:
        """The array of a binary pin, shaped by `dims` (native-endian, read-only)."""
        dtype = DTYPES.get(var_type)
        if dtype is None:
            raise DatError(f"var-type '{var_type}' cannot be stored in a .dat (double, float, int, "
                           "bool only)")
        name = os.path.basename(self.path)
        shape = tuple(int(d) for d in dims or ())
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        try:
            with files.open_regular(self.path) as fh:
                size = os.fstat(fh.fileno()).st_size
                if pos < 0 or pos + count * dtype.itemsize > size:
                    raise DatError(f"binary-pos {pos} + {count} x {dtype.itemsize} bytes runs past "
                                   f"the end of {name} ({size} bytes)")
                fh.seek(pos)
                data = fh.read(count * dtype.itemsize)
        except FileReadError as e:
            if not os.path.exists(self.path):
                raise DatError(f"its values are in {name}, which is missing") from None
            raise DatError(f"{name}: {e}") from None
        arr = np.frombuffer(data, dtype=dtype, count=count)
        arr = arr.astype(np.bool_) if var_type == "bool" else arr.astype(dtype.newbyteorder("="))
        arr = arr.reshape(shape)
        arr.setflags(write=False)
        return arr
