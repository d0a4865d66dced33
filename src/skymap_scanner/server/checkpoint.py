"""Scan state on disk so that a scan survives its server (upstream's resume never worked, D4).

The checkpoint is one ``.npz`` (no pickle) written atomically: a JSON ``header`` (settings and the
event hash, so a checkpoint of another event or other settings is refused), ``sent`` (N x 3 ids),
``received`` (M x 11 RecoPixelVariation rows; NaN llh = failed) and the failure reasons.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

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
    """Read a checkpoint and check it belongs to a scan with these ``settings``."""
    try:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            sent_arr, received_arr = z["sent"], z["received"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise CheckpointError(f"{path}: unreadable checkpoint ({e})") from None
    if header.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: checkpoint version {header.get('version')} != {CHECKPOINT_VERSION}")
    theirs = header.get("settings", {})
    differing = sorted(k for k in set(theirs) | set(settings) if theirs.get(k) != settings.get(k))
    if differing:
        raise CheckpointError(
            f"{path}: checkpoint of a different scan (differs in {', '.join(differing)}); "
            "use another --output-dir or --scan-id, or delete the checkpoint"
        )
    sent = [(int(a), int(b), int(c)) for a, b, c in sent_arr]
    received = [RecoPixelVariation(int(r[0]), int(r[1]), int(r[2]), *map(float, r[3:])) for r in received_arr]
    reasons = {int(k): str(v) for k, v in header.get("reasons", {}).items()}
    return ScanState(theirs, sent, received, reasons)
