"""IceCube skymap scans without IceTray.

The library first: :func:`scan` an :class:`Event` (from :func:`load_event` or :func:`simulate`) and
get a :class:`ScanResult` in memory; the ``skymap-scanner`` command is a thin layer over it.
The names below are imported on first use, so ``import skymap_scanner`` stays light (worker
processes and the command line import only what they need).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from skymap_scanner.__version__ import __version__

if TYPE_CHECKING:
    from skymap_scanner.api import BestFit, ScanResult, load_event, scan, simulate
    from skymap_scanner.event.model import Event
    from skymap_scanner.settings import Settings

_EXPORTS = {"BestFit": "api", "ScanResult": "api", "load_event": "api", "scan": "api", "simulate": "api",
            "Event": "event.model", "Settings": "settings"}
__all__ = ["BestFit", "Event", "ScanResult", "Settings", "__version__", "load_event", "scan", "simulate"]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'skymap_scanner' has no attribute {name!r}")
    return getattr(importlib.import_module(f"skymap_scanner.{_EXPORTS[name]}"), name)
