"""Depth-dependent (layered) ice: effective scattering and absorption at 400 nm.

Light between two points is attenuated with the coefficients averaged along the straight path,
which is exact for absorption in horizontal layers (Beer-Lambert) and an approximation for
scattering. No tilt or anisotropy (docs/physics.md §14 item 3 lists both as further systematics).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skymap_scanner.physics.constants import (
    ORIGIN_DEPTH_M,
    SPICE3_ABSORPTION_PER_M,
    SPICE3_LAYER_M,
    SPICE3_SCATTERING_PER_M,
    SPICE3_TOP_DEPTH_M,
)

#: the outermost layers are extended this far [m] (sources may lie above 1100 m or below 2800 m depth)
_FAR_M = 1.0e5
#: paths shorter than this [m] use the coefficients averaged over this depth interval around them
_MIN_SPAN_M = 0.5


@dataclass(frozen=True)
class LayeredIce:
    """Horizontal layers: ``depth_edges_m`` (L+1, increasing) and per-layer coefficients [1/m]."""

    depth_edges_m: np.ndarray
    scattering_per_m: np.ndarray
    absorption_per_m: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        edges = np.asarray(self.depth_edges_m, np.float64)
        if edges.ndim != 1 or len(edges) != len(self.scattering_per_m) + 1 or np.any(np.diff(edges) <= 0):
            raise ValueError("ice: need increasing depth edges, one more than layers")
        padded = np.concatenate([[edges[0] - _FAR_M], edges[1:-1], [edges[-1] + _FAR_M]])
        object.__setattr__(self, "depth_edges_m", padded)
        for name in ("scattering_per_m", "absorption_per_m"):
            object.__setattr__(self, name, np.asarray(getattr(self, name), np.float64))

    def _cumulative(self, coeff: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """∫ coeff d(depth) from the top edge down to ``depth``."""
        knots = np.concatenate([[0.0], np.cumsum(coeff * np.diff(self.depth_edges_m))])
        return np.interp(depth, self.depth_edges_m, knots)

    def path_lengths(self, z_from: np.ndarray, z_to: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Effective scattering and absorption lengths [m] averaged over the straight paths z_from → z_to
        (detector z [m]; only depth matters in layered ice)."""
        d1 = ORIGIN_DEPTH_M - np.asarray(z_from, np.float64)
        d2 = ORIGIN_DEPTH_M - np.asarray(z_to, np.float64)
        lo = np.minimum(d1, d2) - _MIN_SPAN_M / 2
        hi = np.maximum(d1, d2) + _MIN_SPAN_M / 2
        span = hi - lo
        scat = (self._cumulative(self.scattering_per_m, hi) - self._cumulative(self.scattering_per_m, lo)) / span
        absn = (self._cumulative(self.absorption_per_m, hi) - self._cumulative(self.absorption_per_m, lo)) / span
        return 1.0 / scat, 1.0 / absn


def spice3_layered() -> LayeredIce:
    """SPICE-3 ice in 50 m layers (including the dust layer at 2000-2100 m depth)."""
    n = len(SPICE3_SCATTERING_PER_M)
    edges = SPICE3_TOP_DEPTH_M + SPICE3_LAYER_M * np.arange(n + 1)
    return LayeredIce(edges, np.array(SPICE3_SCATTERING_PER_M), np.array(SPICE3_ABSORPTION_PER_M),
                      name="SPICE-3, 50 m layers")


def homogeneous(scattering_length_m: float, absorption_length_m: float) -> LayeredIce:
    """One layer everywhere (e.g. l_e = 25 m, l_a = 110 m for the anchors of docs/physics.md §7.1)."""
    return LayeredIce(np.array([0.0, 1.0]), np.array([1.0 / scattering_length_m]),
                      np.array([1.0 / absorption_length_m]),
                      name=f"homogeneous l_e={scattering_length_m:g} m, l_a={absorption_length_m:g} m")
