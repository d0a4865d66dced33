"""The open event format ("skyscan-event", version 1): ``.npz`` or ``.json``.

Layout (both containers hold the same fields; see ``docs/event-format.md``):

- ``format`` = "skyscan-event", ``format_version`` = 1;
- ``metadata``: run_id, event_id, event_type, mjd, is_real_event;
- ``pulses``: string, om, time [ns], charge [PE], flags (I3RecoPulse bits, 1 = HLC);
- ``geometry``: string, om, x, y, z [m] (+ ``source``);
- ``seeds`` / ``truth``: name -> {zenith, azimuth [rad], x, y, z [m], time [ns], energy [GeV], shape};
- optional ``truth_losses`` (N x 5: x, y, z, time, energy), ``realtime_version``;
- optional ``truth_loss_types`` (one name per loss row) and ``truth_info`` (scalar truth), both in
  the JSON header (readers of files without them get None / {}).

In ``.npz`` the arrays are stored as ``pulses.<col>``, ``geometry.<col>``, ``truth_losses`` and
everything else as a JSON string under ``header``; files are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import numpy as np

from skymap_scanner.event.model import Event, EventError, EventMetadata, Geometry, Particle, Pulses
from skymap_scanner.event.npz import NpzError, read_npz

#: largest JSON event file read [bytes]
MAX_JSON_BYTES = 256 * 1024 * 1024

FORMAT_NAME = "skyscan-event"
FORMAT_VERSION = 1
PULSE_COLUMNS = ("string", "om", "time", "charge", "flags")
GEOMETRY_COLUMNS = ("string", "om", "x", "y", "z")
_PARTICLE_FIELDS = tuple(f.name for f in fields(Particle))


class EventFileError(EventError):
    """An event file cannot be read; the message names the file and the field."""


def _particle_to_json(p: Particle) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(p).items()}


def _particle_from_json(d: Any, where: str) -> Particle:
    if not isinstance(d, dict):
        raise EventError(f"{where} must be an object")
    unknown = set(d) - set(_PARTICLE_FIELDS)
    if unknown:
        raise EventError(f"{where}: unknown field(s) {sorted(unknown)}")
    kw: dict[str, Any] = {}
    for k, v in d.items():
        if k == "shape":
            kw[k] = str(v)
        else:
            try:
                kw[k] = math.nan if v is None else float(v)
            except (TypeError, ValueError):
                raise EventError(f"{where}.{k} must be a number or null, got {v!r}") from None
    return Particle(**kw)


def _header(event: Event) -> dict[str, Any]:
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "metadata": asdict(event.metadata),
        "realtime_version": event.realtime_version,
        "geometry_source": event.geometry.source,
        "seeds": {k: _particle_to_json(v) for k, v in event.seeds.items()},
        "truth": {k: _particle_to_json(v) for k, v in event.truth.items()},
    } | _truth_extras(event)


def _truth_extras(event: Event) -> dict[str, Any]:
    """Optional simulation extras, written only when present (files stay as before otherwise)."""
    out: dict[str, Any] = {}
    if event.truth_info:
        out["truth_info"] = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                             for k, v in event.truth_info.items()}
    if event.truth_loss_types is not None:
        out["truth_loss_types"] = list(event.truth_loss_types)
    return out


def event_to_dict(event: Event) -> dict[str, Any]:
    """JSON-ready dict of the event (arrays as lists)."""
    out = _header(event)
    out["pulses"] = {c: getattr(event.pulses, c).tolist() for c in PULSE_COLUMNS}
    out["geometry"] = {c: getattr(event.geometry, c).tolist() for c in GEOMETRY_COLUMNS}
    if event.truth_losses is not None:
        out["truth_losses"] = event.truth_losses.tolist()
    return out


def event_from_dict(d: Any, source: str = "") -> Event:
    """Build an Event from the dict layout; raises EventError naming the bad field."""
    if not isinstance(d, dict):
        raise EventError("top level must be an object")
    if d.get("format") != FORMAT_NAME:
        raise EventError(f"field 'format' must be {FORMAT_NAME!r}, got {d.get('format')!r}")
    version = d.get("format_version")
    if version != FORMAT_VERSION:
        raise EventError(f"unsupported format_version {version!r} (this reader knows {FORMAT_VERSION})")
    for key in ("metadata", "pulses", "geometry"):
        if not isinstance(d.get(key), dict):
            raise EventError(f"missing or malformed field {key!r}")
    meta = d["metadata"]
    missing = [k for k in ("run_id", "event_id", "event_type", "mjd", "is_real_event") if k not in meta]
    if missing:
        raise EventError(f"metadata lacks {missing[0]!r}")
    mjd = meta["mjd"]
    if not isinstance(mjd, int | float) or isinstance(mjd, bool):
        raise EventError(f"metadata: mjd must be a number, got {mjd!r}")
    try:
        metadata = EventMetadata(run_id=meta["run_id"], event_id=meta["event_id"], event_type=meta["event_type"],
                                 mjd=float(mjd), is_real_event=meta["is_real_event"])
    except EventError as e:
        raise EventError(f"metadata: {e}") from None

    def columns(key: str, names: tuple[str, ...]) -> list[np.ndarray]:
        block = d[key]
        missing = [c for c in names if c not in block]
        if missing:
            raise EventError(f"{key} lacks column(s) {missing}")
        out = []
        for c in names:
            try:
                column = np.asarray(block[c])
            except (TypeError, ValueError):
                raise EventError(f"{key}.{c} must be an array of numbers") from None
            if column.dtype.kind not in "iuf":  # strings, complex, null, booleans are not coerced
                raise EventError(f"{key}.{c} must hold numbers, got {column.dtype} values")
            out.append(column)
        return out

    pulses = Pulses(*columns("pulses", PULSE_COLUMNS))
    geometry = Geometry(*columns("geometry", GEOMETRY_COLUMNS), source=str(d.get("geometry_source", "")))
    if not (np.isfinite(geometry.x).all() and np.isfinite(geometry.y).all() and np.isfinite(geometry.z).all()):
        raise EventError("geometry holds NaN or infinite positions")
    for key in ("seeds", "truth"):
        if not isinstance(d.get(key) or {}, dict):
            raise EventError(f"{key} must be an object (name -> particle)")
    seeds = {str(k): _particle_from_json(v, f"seeds.{k}") for k, v in (d.get("seeds") or {}).items()}
    truth = {str(k): _particle_from_json(v, f"truth.{k}") for k, v in (d.get("truth") or {}).items()}
    losses = d.get("truth_losses")
    info = d.get("truth_info") or {}
    types = d.get("truth_loss_types")
    if not isinstance(info, dict) or not (types is None or isinstance(types, list)):
        raise EventError("truth_info must be an object and truth_loss_types a list")
    info = {str(k): (math.nan if v is None else v) for k, v in info.items()}
    return Event(
        metadata=metadata,
        pulses=pulses,
        geometry=geometry,
        seeds=seeds,
        truth=truth,
        truth_losses=None if losses is None else np.asarray(losses, dtype=np.float64).reshape(-1, 5),
        realtime_version=str(d.get("realtime_version", "")),
        source=source,
        truth_info=info,
        truth_loss_types=None if types is None else tuple(str(t) for t in types),
    )


def write_event(event: Event, path: str | Path) -> Path:
    """Write the event in the open format; the suffix (.npz or .json) picks the container."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps(event_to_dict(event)))
        return path
    if path.suffix != ".npz":
        raise EventFileError(f"{path}: event files end in .npz or .json")
    path.write_bytes(event_to_bytes(event))
    return path


def event_to_bytes(event: Event) -> bytes:
    """The event as the bytes of an open-format ``.npz`` file."""
    arrays: dict[str, np.ndarray] = {"header": np.array(json.dumps(_header(event)))}
    arrays |= {f"pulses.{c}": getattr(event.pulses, c) for c in PULSE_COLUMNS}
    arrays |= {f"geometry.{c}": getattr(event.geometry, c) for c in GEOMETRY_COLUMNS}
    if event.truth_losses is not None:
        arrays["truth_losses"] = event.truth_losses
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def event_from_bytes(data: bytes, source: str = "") -> Event:
    """Inverse of :func:`event_to_bytes`."""
    name = source or "event bytes"
    try:
        return event_from_dict(_read_npz(data, name), source=source)
    except EventFileError:
        raise
    except NpzError as e:  # names the file already
        raise EventFileError(str(e)) from None
    except EventError as e:
        raise EventFileError(f"{name}: {e}") from None


def load_json(text: str | bytes, what: str) -> Any:
    """``json.loads`` whose every failure (also nesting too deep) is an EventError naming ``what``."""
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise EventError(f"{what} is not valid JSON ({e})") from None
    except RecursionError:
        raise EventError(f"{what} is not valid JSON (nested too deeply)") from None


#: most bytes of all arrays of one event file: ~4 M pulses, above any real event (a 10 PeV muon has
#: ~10⁵), so that building the event stays within 1 GiB (about 2.5 times the arrays at its peak)
MAX_EVENT_BYTES = 128 * 1024 * 1024


def _read_npz(source: Path | bytes, name: str) -> dict[str, Any]:
    z = read_npz(source, name, max_total_bytes=MAX_EVENT_BYTES)
    if "header" not in z:
        raise EventError("no 'header' array (not a skyscan-event file)")
    header = z["header"]
    if header.shape != () or header.dtype.kind != "U":
        raise EventError("'header' must be one string")
    d = load_json(str(header), "header")
    if not isinstance(d, dict):
        raise EventError("header must be a JSON object")
    d["pulses"] = {c: z[f"pulses.{c}"] for c in PULSE_COLUMNS if f"pulses.{c}" in z}
    d["geometry"] = {c: z[f"geometry.{c}"] for c in GEOMETRY_COLUMNS if f"geometry.{c}" in z}
    if "truth_losses" in z:
        d["truth_losses"] = z["truth_losses"]
    return d


def read_text(path: Path, limit: int = MAX_JSON_BYTES) -> str:
    """The text of a regular file of at most ``limit`` bytes (no FIFO, device or endless file)."""
    if not path.is_file():
        raise EventFileError(f"{path}: not a regular file")
    with path.open("rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise EventFileError(f"{path}: larger than {limit} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise EventFileError(f"{path}: not UTF-8 text ({e})") from None


def read_event(path: str | Path) -> Event:
    """Read an open-format event file (.npz or .json). Errors name the file and the field."""
    path = Path(path)
    if not path.is_file():
        raise EventFileError(f"{path}: no such event file")
    try:
        if path.suffix == ".npz":
            d = _read_npz(path, str(path))
        elif path.suffix == ".json":
            d = load_json(read_text(path), "the file")
        else:
            raise EventError("unknown suffix (open-format events end in .npz or .json)")
        return event_from_dict(d, source=str(path))
    except EventFileError:
        raise
    except NpzError as e:  # names the file already
        raise EventFileError(str(e)) from None
    except EventError as e:
        raise EventFileError(f"{path}: {e}") from None
    except (OSError, ValueError, zipfile.BadZipFile, KeyError, UnicodeDecodeError) as e:
        raise EventFileError(f"{path}: not a readable event file ({type(e).__name__}: {e})") from None
