"""Contours and plots with skyreader (full-sky and zoomed), saved as PDF and PNG.

Levels: Wilks 2ΔLLH = 1.39 (50 %) and 4.61 (90 %) for 2 degrees of freedom (skyreader
``get_contour_levels``), or a calibration (``postprocess/calibration.py``). skyreader writes PDFs
only, so every figure it saves is saved again as PNG. Its zoomed plot needs at least two nsides
(upstream defect D23): single-nside results get the full-sky plot only. skyreader draws through
pyplot: the Agg backend is selected while it draws, and the caller's backend restored afterwards.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from skymap_scanner.io.skyreader_api import SkyScanPlotter, SkyScanResult
from skymap_scanner.postprocess.calibration import (
    WILKS,
    ContourCalibration,
    calibrated_result,
    contour_areas,
)

LOGGER = logging.getLogger(__name__)
#: PNG resolution (skyreader's PDFs are 300/1200 dpi)
PNG_DPI = 150


def read_result(path: str | Path) -> SkyScanResult:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such result file")
    if path.suffix == ".npz":
        return SkyScanResult.read_npz(path)
    if path.suffix == ".json":
        return SkyScanResult.read_json(path)
    raise ValueError(f"{path}: a result ends in .json or .npz")


@contextlib.contextmanager
def _also_png(pngs: list[Path]) -> Iterator[None]:
    """While active, every Figure.savefig(x.pdf) also writes x.png."""
    original = Figure.savefig

    def savefig(fig: Figure, fname: object, *args: object, **kwargs: object) -> None:
        original(fig, fname, *args, **kwargs)
        if isinstance(fname, str | Path) and str(fname).endswith(".pdf"):
            png = Path(str(fname)[:-4] + ".png")
            kwargs = {**kwargs, "dpi": PNG_DPI, "transparent": False}
            original(fig, png, *args, **kwargs)
            pngs.append(png)

    Figure.savefig = savefig  # type: ignore[method-assign]
    try:
        yield
    finally:
        Figure.savefig = original  # type: ignore[method-assign]


@contextlib.contextmanager
def _agg_backend() -> Iterator[None]:
    """While active, pyplot draws with Agg (and skyreader's rcParams changes stay inside)."""
    import matplotlib.pyplot as plt

    previous = matplotlib.get_backend()
    with matplotlib.rc_context():
        plt.switch_backend("agg")
        try:
            yield
        finally:
            plt.switch_backend(previous)


def make_plots(result: SkyScanResult, output_dir: Path,
               calibration: ContourCalibration = WILKS) -> tuple[list[Path], dict[str, float] | None]:
    """Full-sky and (with ≥ 2 nsides) zoomed contour plots; returns files and contour areas.

    With a calibration other than Wilks the contours drawn are its 50 % / 90 % levels (the map is
    mapped onto the χ²₂ scale first, :func:`calibrated_result`)."""
    areas_of = result
    if calibration is not WILKS:
        result = calibrated_result(result, calibration)
    output_dir.mkdir(parents=True, exist_ok=True)
    plotter = SkyScanPlotter(output_dir)
    pngs: list[Path] = []
    before = set(output_dir.iterdir())
    areas = None
    with _agg_backend(), _also_png(pngs), warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        plotter.create_plot(result, llh_map=True)
        if len(result.nsides) >= 2:
            plotter.create_plot_zoomed(result, llh_map=True)
            areas = contour_areas(areas_of, calibration)
        else:
            LOGGER.warning("single-nside result: skyreader's zoomed plot needs two nsides; skipped")
    files = sorted(p for p in set(output_dir.iterdir()) - before if p.is_file())
    return files, areas
