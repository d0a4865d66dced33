"""Physics kernels of the track reconstruction: Cherenkov geometry, Pandel and convolved Pandel PDFs,
per-DOM MPE/SPE likelihoods. Formulas, constants and sources: ``shared/docs/physics.md`` §3–§6 and
``docs/track-reco.md``.

The kernels are scalar ``numba.njit`` functions built from ``math`` calls and arithmetic only, so the
same code runs in the CPU fitter (``skymap_scanner.fit``) and can be called from CUDA kernels; the array
functions exported here wrap them for tests, plots and users.
"""

from skymap_scanner.physics.cherenkov import (
    direct_arrival_time,
    dom_effective_distance,
    track_geometry,
)
from skymap_scanner.physics.constants import (
    JITTER_MPE_NS,
    JITTER_SPE_NS,
    NOISE_FLOOR_PER_NS,
    PANDEL_H2,
    PANDEL_ICE,
    PandelIce,
)
from skymap_scanner.physics.likelihood import mpe_loglike, spe_loglike
from skymap_scanner.physics.pandel import cpandel_pdf, cpandel_sf

__all__ = [
    "JITTER_MPE_NS",
    "JITTER_SPE_NS",
    "NOISE_FLOOR_PER_NS",
    "PANDEL_H2",
    "PANDEL_ICE",
    "PandelIce",
    "cpandel_pdf",
    "cpandel_sf",
    "direct_arrival_time",
    "dom_effective_distance",
    "mpe_loglike",
    "spe_loglike",
    "track_geometry",
]
