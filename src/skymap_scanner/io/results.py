"""Build and write ``skyreader.SkyScanResult`` (data version 1) from collected pixels.

Row mapping (upstream): index = RING pixel, llh = -lnL, E_in / E_tot = losses inside / total [GeV],
X/Y/Z = fitted vertex [m], T = fitted time [ns]. Failed pixels never appear (no NaN llh); other NaN
columns are written as 0.0, which skyreader treats as "no value" when comparing.
Files are written atomically (temporary file, then rename), named as skyreader names them.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from skymap_scanner.event.model import EventMetadata
from skymap_scanner.io.skyreader_api import EventMetadata as SkyEventMetadata
from skymap_scanner.io.skyreader_api import SkyScanResult
from skymap_scanner.pixels.types import NSidesDict

RESULT_VERSION = 1
COLUMNS = ("index", "llh", "E_in", "E_tot", "X", "Y", "Z", "T")


def prepare_output_dir(path: Path) -> Path:
    """Create ``path`` (with parents) and prove it is a folder we can write in, before a scan starts;
    raises ``NotADirectoryError`` or ``PermissionError`` naming it."""
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"output folder {path}: exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".tmp-write-check-")
        os.close(fd)
        os.unlink(probe)
    except (FileExistsError, NotADirectoryError):
        raise NotADirectoryError(f"output folder {path}: a part of the path is not a folder") from None
    except OSError as e:
        raise PermissionError(f"output folder {path}: cannot write there ({e.strerror or e})") from None
    return path


def sky_metadata(meta: EventMetadata) -> SkyEventMetadata:
    return SkyEventMetadata(meta.run_id, meta.event_id, meta.event_type, meta.mjd, meta.is_real_event)


def build_result(nsides_dict: NSidesDict, meta: EventMetadata, complete: bool) -> SkyScanResult:
    """The SkyScanResult of every finite-llh pixel, rows sorted by index."""
    out: dict[str, np.ndarray] = {}
    for nside in sorted(nsides_dict):
        recos = sorted(nsides_dict[nside].values(), key=lambda r: r.pixel_id)
        recos = [r for r in recos if np.isfinite(r.llh)]
        if not recos:
            continue
        dtype = np.dtype(
            SkyScanResult.PIXEL_TYPES[RESULT_VERSION],
            metadata={"nside": nside, "complete": complete, "run_id": meta.run_id,
                      "event_id": meta.event_id, "event_type": meta.event_type, "mjd": meta.mjd,
                      "is_real_event": meta.is_real_event, "version": RESULT_VERSION},
        )
        rows = [(r.pixel_id, r.llh, r.reco_losses_inside, r.reco_losses_total, r.x, r.y, r.z, r.time)
                for r in recos]
        arr = np.array(rows, dtype=dtype)
        for col in COLUMNS[2:]:
            arr[col] = np.nan_to_num(arr[col], nan=0.0, posinf=0.0, neginf=0.0)
        out[f"nside-{nside}"] = arr
    return SkyScanResult(out)


def write_result(result: SkyScanResult, meta: EventMetadata, output_dir: Path) -> tuple[Path, Path]:
    """Write ``<event>_<nsides>.json`` and ``.npz`` atomically; returns their paths."""
    output_dir.mkdir(parents=True, exist_ok=True)
    sky_meta = sky_metadata(meta)
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".tmp-result-") as tmp, \
            warnings.catch_warnings():
        # skyreader: pandas applymap FutureWarning; numpy: dtype metadata not saved (the npz
        # header array carries it)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        written = [result.to_json(sky_meta, tmp), result.to_npz(sky_meta, tmp)]
        final = []
        for path in written:
            target = output_dir / Path(path).name
            os.replace(path, target)
            final.append(target)
    return final[0], final[1]


def serialize_result(result: SkyScanResult) -> dict:
    """skyreader's JSON-ready dict (as in the .json file), without its pandas FutureWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return result.serialize()
