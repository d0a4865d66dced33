"""Alert message files and the pickle envelope around each frame (docs/i3-format.md §1).

A message is IceCube Live JSON or a pickle of the same dict. Its frames are ``[stop, b64]`` pairs;
each ``b64`` is base64 → zlib → a pickle that rebuilds an ``I3Frame`` from the raw frame bytes.
Nothing in a pickle is ever executed: message pickles go through an unpickler that refuses every
global, frame pickles are only walked opcode by opcode.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import pickle
import pickletools
import zlib
from pathlib import Path
from typing import Any

from skymap_scanner.i3.errors import I3DecodeError
from skymap_scanner.i3.frame import MAX_FRAME_BYTES

#: largest message file read [bytes] (alert messages are some 100 kB)
MAX_MESSAGE_FILE_BYTES = 64 * 1024 * 1024
#: largest total of the decompressed frames of one message [bytes] (a frame the message pickle
#: names several times, through its memo, counts each time)
MAX_MESSAGE_FRAME_BYTES = 256 * 1024 * 1024
#: most memo entries (and largest memo index) a message pickle may use
MAX_PICKLE_MEMO = 100_000

#: the only globals a frame pickle may name (the three producers of docs/i3-format.md §1.2)
_FRAME_GLOBALS = {
    ("icecube.icetray", "I3Frame"),
    ("icecube._icetray", "I3Frame"),
    ("_codecs", "encode"),
}
_STRING_OPS = {
    "BINSTRING", "SHORT_BINSTRING", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8",
    "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8",
}
_MEMO_STORES = {"MEMOIZE", "BINPUT", "LONG_BINPUT", "FRAME"}
_STRUCTURE_OPS = {
    "PROTO", "FRAME", "MARK", "MEMOIZE", "BINPUT", "LONG_BINPUT", "BINGET", "LONG_BINGET",
    "EMPTY_TUPLE", "TUPLE", "TUPLE1", "TUPLE2", "TUPLE3", "EMPTY_DICT", "REDUCE", "NEWOBJ",
    "BUILD", "STOP",
}


class _NoGlobalsUnpickler(pickle.Unpickler):
    """Builds builtin containers only: every class lookup is refused."""

    def find_class(self, module: str, name: str) -> Any:
        raise I3DecodeError(
            f"refusing to unpickle {module}.{name}: a message pickle may hold builtin types only"
        )

    def persistent_load(self, pid: Any) -> Any:
        raise I3DecodeError("refusing a persistent id in a message pickle")


def _check_memo(data: bytes, source: str) -> None:
    """Refuse a pickle whose memo would be large: the unpickler sizes its memo table by the largest
    index (a 9-byte pickle can ask for 2**28 entries, 4 GiB)."""
    n = 0
    try:
        for op, arg, pos in pickletools.genops(data):
            if op.name in ("BINPUT", "LONG_BINPUT", "PUT", "MEMOIZE"):
                n += 1
                index = n if op.name == "MEMOIZE" else int(arg)
                if index >= MAX_PICKLE_MEMO or n > MAX_PICKLE_MEMO:
                    raise I3DecodeError(f"{source}: message pickle memo index {index} at byte {pos} "
                                        f"exceeds {MAX_PICKLE_MEMO}")
    except I3DecodeError:
        raise
    except Exception as e:  # noqa: BLE001 - a corrupt pickle can raise nearly anything
        raise I3DecodeError(f"{source}: not a readable pickle ({type(e).__name__}: {e})") from None


def _load_pickle(data: bytes, source: str) -> Any:
    _check_memo(data, source)
    try:
        return _NoGlobalsUnpickler(io.BytesIO(data)).load()
    except I3DecodeError as e:
        raise I3DecodeError(f"{source}: {e.reason}") from None
    except Exception as e:  # noqa: BLE001 - a corrupt pickle can raise nearly anything
        raise I3DecodeError(f"{source}: not a readable pickle ({type(e).__name__}: {e})") from None


def load_message(path: str | Path) -> dict[str, Any]:
    """Read a ``.json`` or ``.pkl`` message file into a dict (never executing pickled code)."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_MESSAGE_FILE_BYTES + 1)
    except OSError as e:
        raise I3DecodeError(f"{path}: cannot read ({e.strerror})") from None
    if len(data) > MAX_MESSAGE_FILE_BYTES:
        raise I3DecodeError(f"{path}: message file larger than {MAX_MESSAGE_FILE_BYTES} bytes")
    if path.suffix == ".pkl":
        message = _load_pickle(data, str(path))
    else:
        try:
            message = json.loads(data)
        except (ValueError, RecursionError) as e:
            raise I3DecodeError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(message, dict):
        raise I3DecodeError(f"{path}: the message must be a dict, got {type(message).__name__}")
    return message


def _frame_list(message: dict[str, Any]) -> tuple[Any, str]:
    """The ``[stop, b64]`` list and the path it was found under."""
    if isinstance(message.get("GCDQp_packet"), dict):  # scanner startup packet
        return message["GCDQp_packet"].get("frames"), "GCDQp_packet.frames"
    value = message.get("value")
    if not isinstance(value, dict):
        raise I3DecodeError("message has no 'value' dict (nor a 'GCDQp_packet')")
    data = value.get("data")
    if isinstance(data, list):  # older HESE messages
        return data, "value.data"
    if isinstance(data, dict):
        return data.get("frames"), "value.data.frames"
    raise I3DecodeError("message 'value.data' is neither a frame list nor a dict with 'frames'")


def frame_strings(message: dict[str, Any]) -> list[tuple[str, str]]:
    """The message's frames as ``(stop, b64)`` pairs, validated."""
    frames, where = _frame_list(message)
    if not isinstance(frames, list) or not frames:
        raise I3DecodeError(f"message {where} must be a non-empty list of [stop, base64] pairs")
    out = []
    for i, item in enumerate(frames):
        ok = isinstance(item, list | tuple) and len(item) == 2
        if not ok or not all(isinstance(x, str) for x in item) or len(item[0]) != 1:
            raise I3DecodeError(f"message {where}[{i}] is not a [stop, base64] pair of strings")
        out.append((item[0], item[1]))
    return out


class FrameBudget:
    """Decompressed bytes left for the frames of one message (``MAX_MESSAGE_FRAME_BYTES``)."""

    def __init__(self, total: int = MAX_MESSAGE_FRAME_BYTES) -> None:
        self.total = total
        self.left = total

    def take(self, n: int, where: str) -> None:
        self.left -= n
        if self.left < 0:
            raise I3DecodeError(f"the message's frames decompress to more than {self.total} bytes",
                                frame=where)


def decode_frame_string(b64: str, where: str, budget: FrameBudget | None = None) -> bytes:
    """base64 → zlib → pickle envelope → raw I3Frame bytes (counted against ``budget``)."""
    limit = MAX_FRAME_BYTES if budget is None else max(0, min(MAX_FRAME_BYTES, budget.left))
    try:
        packed = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as e:
        raise I3DecodeError(f"bad base64 ({e})", frame=where) from None
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(packed, limit + 1)
    except zlib.error as e:
        raise I3DecodeError(f"bad zlib data ({e})", frame=where) from None
    if budget is not None:
        budget.take(len(data), where)  # raises when over the message's total
    if len(data) > MAX_FRAME_BYTES:
        raise I3DecodeError(f"frame pickle larger than {MAX_FRAME_BYTES} bytes", frame=where)
    if not inflater.eof:
        raise I3DecodeError("truncated zlib data", frame=where)
    return frame_bytes_from_pickle(data, where)


def _check_global(module: str, name: str, where: str, pos: int) -> None:
    if (module, name) not in _FRAME_GLOBALS:
        raise I3DecodeError(
            f"frame pickle names {module}.{name}; only I3Frame and _codecs.encode are accepted",
            frame=where,
            offset=pos,
        )


def frame_bytes_from_pickle(data: bytes, where: str) -> bytes:
    """Extract the frame bytes from a frame pickle by walking its opcodes (nothing is executed).

    The frame bytes are the first string argument starting with ``[i3]``; text arguments are
    converted back with latin-1 (docs/i3-format.md §1.2).
    """
    frame: bytes | None = None
    #: the operations that pushed the last two stack items (memo stores do not push): STACK_GLOBAL
    #: must take its module and name from two text literals right before it, never from the memo
    pushed: list[tuple[str, object]] = []
    try:
        for op, arg, pos in pickletools.genops(data):
            name = op.name
            if name in _STRING_OPS:
                raw = arg.encode("latin1") if isinstance(arg, str) else bytes(arg)
                if frame is None and raw.startswith(b"[i3]"):
                    frame = raw
            elif name == "GLOBAL":
                module, _, gname = arg.partition(" ")
                _check_global(module, gname, where, pos)
            elif name == "STACK_GLOBAL":
                literal = len(pushed) == 2 and all(n in _STRING_OPS and isinstance(a, str) for n, a in pushed)
                module, gname = (str(pushed[0][1]), str(pushed[1][1])) if literal else ("?", "?")
                _check_global(module, gname, where, pos)
            elif name not in _STRUCTURE_OPS:
                raise I3DecodeError(f"unexpected pickle opcode {name}", frame=where, offset=pos)
            if name not in _MEMO_STORES:
                pushed = [*pushed, (name, arg)][-2:]
    except I3DecodeError:
        raise
    except Exception as e:  # noqa: BLE001 - pickletools reports corruption with many types
        raise I3DecodeError(f"corrupt frame pickle ({type(e).__name__}: {e})", frame=where) from None
    if frame is None:
        raise I3DecodeError("frame pickle holds no I3Frame bytes", frame=where)
    return frame
