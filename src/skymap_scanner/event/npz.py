"""Reading ``.npz`` files with bounds: no pickle, no object arrays, every array's declared size
checked before it is read (a 2 MB file may declare 2**40 elements).

Used for open-format events and for scan checkpoints; errors are :class:`NpzError` naming the
file and the array.
"""

from __future__ import annotations

import io
import math
import zipfile
import zlib
from pathlib import Path

import numpy as np

from skymap_scanner.event.model import EventError

#: most elements of one array
MAX_ELEMENTS = 16 * 1024 * 1024
#: most bytes of all arrays of one file
MAX_TOTAL_BYTES = 512 * 1024 * 1024
#: most arrays in one file
MAX_ARRAYS = 64


class NpzError(EventError):
    """An ``.npz`` file that cannot be read safely (the message names the file and the array)."""


def read_npz(source: Path | bytes, name: str, max_elements: int = MAX_ELEMENTS,
             max_total_bytes: int = MAX_TOTAL_BYTES) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` file (``source``: a path or the file's bytes; ``name`` names it
    in errors), after checking each array's header against the bounds."""
    if not isinstance(source, bytes) and not Path(source).is_file():  # a FIFO would block, /dev/zero never end
        raise NpzError(f"{name}: not a regular file")
    try:
        archive = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise NpzError(f"{name}: not an .npz (zip) file ({e})") from None
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > MAX_ARRAYS:
            raise NpzError(f"{name}: {len(members)} arrays, at most {MAX_ARRAYS} expected")
        out: dict[str, np.ndarray] = {}
        total = 0
        for member in members:
            key = member.filename.removesuffix(".npy")
            try:
                with archive.open(member) as f:
                    shape, dtype, header_len = _header(f)
                    what = f"{name}: array {key!r}"
                    if dtype.hasobject:
                        raise NpzError(f"{what} holds Python objects (pickled data is not read)")
                    n = math.prod(shape)
                    if n > max_elements:
                        raise NpzError(f"{what} declares {n} elements, at most {max_elements} accepted")
                    total += n * dtype.itemsize
                    if total > max_total_bytes:
                        raise NpzError(f"{name}: arrays larger than {max_total_bytes} bytes in all")
                    if member.file_size < header_len + n * dtype.itemsize:
                        raise NpzError(f"{what} is truncated")
                with archive.open(member) as f:
                    out[key] = np.lib.format.read_array(f, allow_pickle=False)
            except NpzError:
                raise
            except (ValueError, OSError, EOFError, zipfile.BadZipFile, RecursionError, SyntaxError,
                    MemoryError, NotImplementedError, zlib.error) as e:
                raise NpzError(f"{name}: array {key!r} is unreadable ({type(e).__name__}: {e})") from None
        return out


def _header(f: io.BufferedIOBase) -> tuple[tuple[int, ...], np.dtype, int]:
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
    elif version in ((2, 0), (3, 0)):
        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    return tuple(int(d) for d in shape), dtype, f.tell()

