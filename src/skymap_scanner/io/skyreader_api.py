"""skyreader, imported without its import-time ``matplotlib.use("agg")``.

skyreader's package init imports its plotting module, which switches the process's matplotlib backend
at import (closing any open pyplot figure). The package imports skyreader only through this module, so
importing skymap_scanner leaves the backend alone; plots select Agg only while they draw
(``postprocess.plots``).
"""

from __future__ import annotations

import sys

import matplotlib


def _import_skyreader() -> None:
    if "skyreader" in sys.modules:
        return
    use = matplotlib.use
    matplotlib.use = lambda *args, **kwargs: None  # type: ignore[assignment]
    try:
        import skyreader  # noqa: F401
    finally:
        matplotlib.use = use


_import_skyreader()

from skyreader import EventMetadata, SkyScanResult  # noqa: E402
from skyreader.utils.areas import get_contour_areas  # noqa: E402
from skyreader.utils.handle_map_data import extract_map  # noqa: E402

__all__ = ["EventMetadata", "SkyScanResult", "extract_map", "get_contour_areas"]
