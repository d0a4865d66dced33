"""Contours and plots with skyreader (full-sky and zoomed), saved as PDF and PNG.

Levels: Wilks 2ΔLLH = 1.39 (50 %) and 4.61 (90 %) for 2 degrees of freedom (skyreader
``get_contour_levels``). skyreader writes PDFs only, so every figure it saves is saved again as PNG.
Its zoomed plot needs at least two nsides (upstream defect D23): single-nside results get the
full-sky plot only.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import meander  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from skyreader import SkyScanResult  # noqa: E402
from skyreader.plot import SkyScanPlotter  # noqa: E402
from skyreader.utils.areas import get_contour_areas  # noqa: E402
from skyreader.utils.handle_map_data import extract_map, get_contour_levels  # noqa: E402

LOGGER = logging.getLogger(__name__)
#: Wilks 2ΔLLH thresholds (χ² quantiles, 2 dof) as used by skyreader
WILKS_LEVELS = {"50%": 1.39, "90%": 4.61}
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


def contour_areas(result: SkyScanResult) -> dict[str, float]:
    """Areas [deg²] inside the Wilks 50 % and 90 % contours of the likelihood map."""
    grid_value, grid_ra, grid_dec, equatorial_map, _ = extract_map(result, True, None)
    levels, _, _ = get_contour_levels(equatorial_map, True, False)
    values = np.where(np.isnan(grid_value), np.nanmax(equatorial_map), grid_value)
    points = np.array([np.pi / 2 - grid_dec, grid_ra]).T
    contours = meander.spherical_contours(points, values, levels[:2])
    areas = get_contour_areas(contours, grid_ra[0])
    return {name: float(a) for name, a in zip(WILKS_LEVELS, areas, strict=False)}


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


def make_plots(result: SkyScanResult, output_dir: Path) -> tuple[list[Path], dict[str, float] | None]:
    """Full-sky and (with ≥ 2 nsides) zoomed contour plots; returns files and contour areas."""
    output_dir.mkdir(parents=True, exist_ok=True)
    plotter = SkyScanPlotter(output_dir)
    pngs: list[Path] = []
    before = set(output_dir.iterdir())
    areas = None
    with _also_png(pngs), warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        plotter.create_plot(result, llh_map=True)
        if len(result.nsides) >= 2:
            plotter.create_plot_zoomed(result, llh_map=True)
            areas = contour_areas(result)
        else:
            LOGGER.warning("single-nside result: skyreader's zoomed plot needs two nsides; skipped")
    files = sorted(p for p in set(output_dir.iterdir()) - before if p.is_file())
    return files, areas
