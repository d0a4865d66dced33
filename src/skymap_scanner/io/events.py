"""Pick the right reader for an event file: open format (.npz/.json) or an IceCube alert message."""

from __future__ import annotations

from pathlib import Path

from skymap_scanner.event.io import FORMAT_NAME, EventFileError, load_json, read_event, read_text
from skymap_scanner.event.model import Event, EventError

I3_SUFFIXES = (".i3", ".i3.gz", ".i3.bz2", ".i3.zst")


def _is_open_format_json(path: Path) -> bool:
    try:
        head = load_json(read_text(path), "the file")
    except EventFileError:
        raise
    except EventError as e:
        raise EventFileError(f"{path}: {e}") from None
    except OSError as e:
        raise EventFileError(f"{path}: cannot read ({e.strerror or e})") from None
    return isinstance(head, dict) and head.get("format") == FORMAT_NAME


def load_event(
    path: str | Path,
    *,
    gcd: str | Path | None = None,
    geometry_table: str | Path | None = None,
    event_index: int = 0,
) -> Event:
    """Read any supported event file.

    - ``.npz`` or ``.json`` with ``"format": "skyscan-event"``: the open format;
    - ``.json`` / ``.pkl`` IceCube Live alert messages: decoded without IceTray, positions from a
      GCD file (``gcd``) or a geometry table (``geometry_table``);
    - ``.i3`` files (plain, .gz, .bz2, .zst): physics frame number ``event_index`` (with MC truth).
    """
    path = Path(path)
    if not path.is_file():
        raise EventFileError(f"{path}: no such event file")
    try:
        return _load(path, gcd, geometry_table, event_index)
    except EventError as e:  # e.g. an event without pulses, a DOM missing from the table: name the file too
        if path.name in str(e):  # already names the file
            raise
        try:
            named = type(e)(f"{path}: {e}")
        except TypeError:
            named = EventError(f"{path}: {e}")
        raise named from e


def _load(path: Path, gcd: str | Path | None, geometry_table: str | Path | None, event_index: int) -> Event:
    """Dispatch on the file type (see :func:`load_event`)."""
    if path.suffix == ".npz" or (path.suffix == ".json" and _is_open_format_json(path)):
        return read_event(path)
    if path.suffix in (".json", ".pkl"):
        from skymap_scanner.i3.alert import read_alert_event

        return read_alert_event(path, gcd=gcd, geometry_table=geometry_table)
    if any(path.name.endswith(s) for s in I3_SUFFIXES):
        return _nth_i3_event(path, gcd, geometry_table, event_index)
    raise EventFileError(
        f"{path}: unknown event file type (expected .npz/.json open format, a .json/.pkl alert or an .i3 file)"
    )


def _nth_i3_event(path: Path, gcd: str | Path | None, geometry_table: str | Path | None, index: int) -> Event:
    from skymap_scanner.i3.simulation import read_i3_events

    for i, event in enumerate(read_i3_events(path, geometry_table=geometry_table, gcd=gcd)):
        if i == index:
            return event
    raise EventFileError(f"{path}: has no physics frame number {index}")
