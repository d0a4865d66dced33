"""Scan state on disk so that a scan survives its server (upstream's resume never worked, D4).

The checkpoint is one ``.npz`` (no pickle) written atomically: a JSON ``header`` (settings and the
event hash, so a checkpoint of another event or other settings is refused), ``sent`` (N x 3 ids),
``received`` (M x 11 RecoPixelVariation rows; NaN llh = failed) and the failure reasons.

A checkpoint is read with bounds (``event.npz``) and validated row by row (:func:`validate`): a
checkpoint that fails is a :class:`CheckpointError` naming the file and the row — the scan stops
rather than silently starting afresh (the operator deletes the checkpoint or picks another
output folder). See ``docs/scan-state.md``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from skymap_scanner.event.model import EventError
from skymap_scanner.event.npz import read_npz
from skymap_scanner.pixels.choose import NSideProgression
from skymap_scanner.pixels.types import RecoPixelVariation, VariationId

CHECKPOINT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be used for this scan (the message says why)."""


@dataclass(frozen=True)
class ScanState:
    settings: dict[str, Any]
    sent: list[VariationId]
    received: list[RecoPixelVariation]
    reasons: dict[int, str]  # row in ``received`` -> failure reason


def checkpoint_path(output_dir: Path, scan_id: str) -> Path:
    return output_dir / f".skyscan-checkpoint-{scan_id}.npz"


def save_checkpoint(path: Path, state: ScanState) -> None:
    """Write atomically (temporary file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {"version": CHECKPOINT_VERSION, "settings": state.settings,
              "reasons": {str(k): v for k, v in state.reasons.items()}}
    sent = np.array(state.sent, dtype=np.int64).reshape(-1, 3)
    received = np.array([r.as_row() for r in state.received], dtype=np.float64).reshape(-1, 11)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-checkpoint-", suffix=".npz")
    with os.fdopen(fd, "wb") as f:
        np.savez(f, header=np.array(json.dumps(header)), sent=sent, received=received)
    os.replace(tmp, path)


def load_checkpoint(path: Path, settings: dict[str, Any]) -> ScanState:
    """Read a checkpoint, check it belongs to a scan with these ``settings`` and that every row is
    one this scan could have made (:func:`validate`); any problem is a :class:`CheckpointError`."""
    try:
        z = read_npz(path, str(path))
    except EventError as e:  # NpzError names the file
        raise CheckpointError(f"unreadable checkpoint: {e}") from None
    except OSError as e:
        raise CheckpointError(f"{path}: unreadable checkpoint ({e.strerror or e})") from None
    missing = [k for k in ("header", "sent", "received") if k not in z]
    if missing:
        raise CheckpointError(f"{path}: not a checkpoint (no {missing[0]!r} array)")
    header = _header(path, z["header"])
    if header.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: checkpoint version {header.get('version')!r} != {CHECKPOINT_VERSION}")
    theirs = header.get("settings", {})
    if not isinstance(theirs, dict):
        raise CheckpointError(f"{path}: header 'settings' must be an object")
    differing = sorted(k for k in set(theirs) | set(settings) if theirs.get(k) != settings.get(k))
    if differing:
        raise CheckpointError(
            f"{path}: checkpoint of a different scan (differs in {', '.join(differing)}); "
            "use another --output-dir or --scan-id, or delete the checkpoint"
        )
    sent_arr = _table(path, z["sent"], "sent", 3, "iu")
    received_arr = _table(path, z["received"], "received", 11, "f")
    reasons = header.get("reasons", {})
    if not isinstance(reasons, dict) or not all(isinstance(v, str) for v in reasons.values()):
        raise CheckpointError(f"{path}: header 'reasons' must map row numbers to strings")
    try:
        reason_rows = {int(k): v[:500] for k, v in reasons.items()}
    except ValueError:
        raise CheckpointError(f"{path}: header 'reasons' keys must be row numbers") from None
    sent = [(int(a), int(b), int(c)) for a, b, c in sent_arr]
    if np.any(~np.isfinite(received_arr[:, :3])):
        raise CheckpointError(f"{path}: received ids must be finite")
    received = [RecoPixelVariation(int(r[0]), int(r[1]), int(r[2]), *map(float, r[3:])) for r in received_arr]
    state = ScanState(theirs, sent, received, reason_rows)
    validate(state, settings, str(path))
    return state


def _header(path: Path, array: np.ndarray) -> dict[str, Any]:
    if array.shape != () or array.dtype.kind != "U":
        raise CheckpointError(f"{path}: 'header' must be one string")
    try:
        header = json.loads(str(array))
    except ValueError as e:
        raise CheckpointError(f"{path}: header is not JSON ({e})") from None
    except RecursionError:
        raise CheckpointError(f"{path}: header is not JSON (nested too deeply)") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: header must be a JSON object")
    return header


def _table(path: Path, array: np.ndarray, name: str, width: int, kinds: str) -> np.ndarray:
    if array.ndim != 2 or array.shape[1] != width or array.dtype.kind not in kinds:
        raise CheckpointError(f"{path}: {name!r} must be an N x {width} array of "
                              f"{'integers' if 'i' in kinds else 'floats'}, got {array.dtype} {array.shape}")
    return array


def validate(state: ScanState, settings: dict[str, Any], where: str) -> None:
    """Every id within its nside, every nside in the progression, every variation < n_posvar, every
    received row sent once and its llh finite (or NaN: failed); raises CheckpointError naming the row."""
    try:
        nsides = set(NSideProgression.parse(str(settings["nsides"])).nsides)
        n_posvar = int(settings["n_posvar"])
    except (KeyError, ValueError, TypeError) as e:
        raise CheckpointError(f"{where}: the scan settings lack a usable nside progression ({e})") from None

    def check(ids: tuple[int, int, int], what: str) -> None:
        nside, pixel, variation = ids
        if nside not in nsides:
            raise CheckpointError(f"{where}: {what} {ids}: nside {nside} is not in the progression {sorted(nsides)}")
        if not 0 <= pixel < 12 * nside * nside:
            raise CheckpointError(f"{where}: {what} {ids}: pixel {pixel} outside [0, {12 * nside * nside})")
        if not 0 <= variation < n_posvar:
            raise CheckpointError(f"{where}: {what} {ids}: variation {variation} outside [0, {n_posvar})")

    for i, ids in enumerate(state.sent):
        check(ids, f"sent row {i}")
    sent = set(state.sent)
    if len(sent) != len(state.sent):
        raise CheckpointError(f"{where}: 'sent' lists a variation twice")
    seen: set[tuple[int, int, int]] = set()
    for i, reco in enumerate(state.received):
        ids = reco.id_tuple
        check(ids, f"received row {i}")
        if ids not in sent:
            raise CheckpointError(f"{where}: received row {i} {ids} was never sent")
        if ids in seen:
            raise CheckpointError(f"{where}: received row {i} {ids} appears twice")
        seen.add(ids)
        if math.isinf(reco.llh):
            raise CheckpointError(f"{where}: received row {i} {ids}: llh {reco.llh} (finite, or NaN for a failure)")
    for row in state.reasons:
        if not 0 <= row < len(state.received):
            raise CheckpointError(f"{where}: failure reason for row {row}, which does not exist")
