"""Pick the right reader for an event file: open format (.npz/.json) or an IceCube alert message."""

from __future__ import annotations

import json
from pathlib import Path

from skymap_scanner.event.io import FORMAT_NAME, EventFileError, read_event
from skymap_scanner.event.model import Event


def _is_open_format_json(path: Path) -> bool:
    try:
        head = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise EventFileError(f"{path}: not valid JSON ({e})") from None
    return isinstance(head, dict) and head.get("format") == FORMAT_NAME


def load_event(
    path: str | Path,
    *,
    gcd: str | Path | None = None,
    geometry_table: str | Path | None = None,
) -> Event:
    """Read any supported event file.

    - ``.npz`` or ``.json`` with ``"format": "skyscan-event"``: the open format;
    - ``.json`` / ``.pkl`` IceCube Live alert messages: decoded without IceTray, positions from a
      GCD file (``gcd``) or a geometry table (``geometry_table``).
    """
    path = Path(path)
    if not path.is_file():
        raise EventFileError(f"{path}: no such event file")
    if path.suffix == ".npz" or (path.suffix == ".json" and _is_open_format_json(path)):
        return read_event(path)
    if path.suffix in (".json", ".pkl"):
        from skymap_scanner.i3.alert import read_alert_event

        return read_alert_event(path, gcd=gcd, geometry_table=geometry_table)
    raise EventFileError(
        f"{path}: unknown event file type (expected .npz/.json open format or a .json/.pkl alert)"
    )
