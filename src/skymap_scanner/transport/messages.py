"""Wire format (version 1): JSON, schema-checked, size-limited. No pickle anywhere.

Task (server -> client)::

    {"v": 1, "kind": "task", "scan_id": str, "task_id": str, "attempt": int,
     "items": [[nside, pixel, posvar, ra, dec, zenith, azimuth, x, y, z, t, energy,
                fallback_x, fallback_y, fallback_z, fallback_t], ...]}

Result (client -> server)::

    {"v": 1, "kind": "result", "scan_id": str, "task_id": str, "worker": str, "runtime_s": float,
     "results": [[nside, pixel, posvar, llh, e_in, e_tot, x, y, z, time, energy], ...],
     "failures": [[nside, pixel, posvar, "reason"], ...]}

Angles in rad, positions in m, times in ns, energies in GeV. NaN is written as ``null``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any

from skymap_scanner.pixels.types import PixelVariation, RecoPixelVariation, VariationId

WIRE_VERSION = 1
#: largest message accepted [bytes]
MAX_MESSAGE_BYTES = 4 * 1024 * 1024
_N_TASK = len(fields(PixelVariation))
_N_RESULT = len(fields(RecoPixelVariation))
#: a variation's / result's values in field order (flat dataclasses: what ``dataclasses.astuple`` returns, ≈ 10×
#: faster, since astuple deep-copies every value)
_TASK_VALUES = attrgetter(*(f.name for f in fields(PixelVariation)))
_RESULT_VALUES = attrgetter(*(f.name for f in fields(RecoPixelVariation)))
_MAX_REASON = 500


class MessageError(ValueError):
    """A message that does not follow the wire format (the text says what is wrong)."""


@dataclass(frozen=True)
class Task:
    scan_id: str
    task_id: str
    attempt: int
    items: list[PixelVariation]


@dataclass(frozen=True)
class Failure:
    id_tuple: VariationId
    reason: str


@dataclass(frozen=True)
class Result:
    scan_id: str
    task_id: str
    worker: str
    runtime_s: float
    results: list[RecoPixelVariation]
    failures: list[Failure]


def _num(x: float) -> float | None:
    return None if math.isnan(x) else x


def _dump(obj: dict[str, Any]) -> bytes:
    data = json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageError(f"message of {len(data)} bytes exceeds {MAX_MESSAGE_BYTES}: use smaller batches")
    return data


def encode_task(task: Task) -> bytes:
    items = [[_num(v) if isinstance(v, float) else v for v in _TASK_VALUES(item)] for item in task.items]
    return _dump({"v": WIRE_VERSION, "kind": "task", "scan_id": task.scan_id,
                  "task_id": task.task_id, "attempt": task.attempt, "items": items})


def encode_result(result: Result) -> bytes:
    rows = [[_num(v) if isinstance(v, float) else v for v in _RESULT_VALUES(r)] for r in result.results]
    failures = [[*f.id_tuple, f.reason[:_MAX_REASON]] for f in result.failures]
    return _dump({"v": WIRE_VERSION, "kind": "result", "scan_id": result.scan_id,
                  "task_id": result.task_id, "worker": result.worker,
                  "runtime_s": result.runtime_s, "results": rows, "failures": failures})


def _load(data: bytes, kind: str) -> dict[str, Any]:
    if len(data) > MAX_MESSAGE_BYTES:
        raise MessageError(f"message of {len(data)} bytes exceeds {MAX_MESSAGE_BYTES}")
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise MessageError(f"not JSON: {e}") from None
    except RecursionError:
        raise MessageError("not JSON: nested too deeply") from None
    if not isinstance(obj, dict):
        raise MessageError("not a JSON object")
    version = obj.get("v")
    if not isinstance(version, int) or isinstance(version, bool) or version != WIRE_VERSION:
        raise MessageError(f"wire version {version!r}, expected {WIRE_VERSION}")
    if obj.get("kind") != kind:
        raise MessageError(f"kind {obj.get('kind')!r}, expected {kind!r}")
    return obj


def _field(obj: dict[str, Any], key: str, typ: type | tuple[type, ...]) -> Any:
    value = obj.get(key)
    if not isinstance(value, typ) or isinstance(value, bool):
        raise MessageError(f"field {key!r} missing or not {typ}")
    return value


def _int(v: Any, what: str) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise MessageError(f"{what} must be a non-negative integer, got {v!r}")
    return v


def _float(v: Any, what: str) -> float:
    if v is None:
        return math.nan
    if not isinstance(v, int | float) or isinstance(v, bool):
        raise MessageError(f"{what} must be a number or null, got {v!r}")
    return float(v)


def _row(row: Any, n: int, what: str) -> tuple[int, int, int, list[float]]:
    if not isinstance(row, list) or len(row) != n:
        raise MessageError(f"{what} must be a list of {n} values")
    ids = [_int(row[i], f"{what}[{i}]") for i in range(3)]
    return ids[0], ids[1], ids[2], [_float(v, f"{what}[{i + 3}]") for i, v in enumerate(row[3:])]


def decode_task(data: bytes) -> Task:
    obj = _load(data, "task")
    rows = _field(obj, "items", list)
    items = []
    for r in rows:
        n, p, v, values = _row(r, _N_TASK, "task item")
        items.append(PixelVariation(n, p, v, *values))
    return Task(_field(obj, "scan_id", str), _field(obj, "task_id", str),
                _int(obj.get("attempt"), "attempt"), items)


def decode_result(data: bytes) -> Result:
    obj = _load(data, "result")
    results = []
    for r in _field(obj, "results", list):
        n, p, v, values = _row(r, _N_RESULT, "result row")
        results.append(RecoPixelVariation(n, p, v, *values))
    failures = []
    for f in _field(obj, "failures", list):
        if not isinstance(f, list) or len(f) != 4 or not isinstance(f[3], str):
            raise MessageError("failure rows are [nside, pixel, posvar, reason]")
        ids = tuple(_int(x, "failure id") for x in f[:3])
        failures.append(Failure(ids, f[3][:_MAX_REASON]))  # type: ignore[arg-type]
    runtime = _float(obj.get("runtime_s"), "runtime_s")
    return Result(_field(obj, "scan_id", str), _field(obj, "task_id", str),
                  _field(obj, "worker", str), runtime, results, failures)
