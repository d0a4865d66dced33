"""Depth-dependent (layered) ice: effective scattering and absorption at 400 nm.

Light between two points is attenuated with the coefficients averaged along the straight path,
which is exact for absorption in horizontal layers (Beer-Lambert) and an approximation for
scattering. No tilt or anisotropy (docs/physics.md §14 item 3 lists both as further systematics).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skymap_scanner.simulation.constants import ORIGIN_DEPTH_M

#: SPICE-3 ice at 400 nm, averaged in 50 m layers from 1100 to 2800 m depth (this project's averages of
#: ``mue/resources/ice/sp3/icemodel.dat`` [S9], columns b_e(400) and a_dust(400); the pure-ice absorption
#: A e^(-B/λ)(1 + 0.01 δτ) with A = 6954.09 /m, B = 6617.75 nm (SPICE Mie, IceCube, NIM A 711 (2013) 73)
#: is included in the absorption). Harmonic averages over 1450-2450 m reproduce docs/physics.md §7.1:
#: l_e ≈ 24 m, l_a ≈ 87 m; the dust layer (2000-2100 m) has l_e ≈ 8-12 m, l_a ≈ 30-40 m.
SPICE3_TOP_DEPTH_M = 1100.0
SPICE3_LAYER_M = 50.0
SPICE3_SCATTERING_PER_M = (
    0.1621, 0.1319, 0.1608, 0.1084, 0.1193, 0.0727, 0.0606, 0.0410, 0.0522, 0.0578, 0.0445, 0.0281,
    0.0444, 0.0333, 0.0279, 0.0375, 0.0273, 0.0756, 0.1232, 0.0849, 0.0241, 0.0305, 0.0236, 0.0153,
    0.0192, 0.0286, 0.0157, 0.0150, 0.0233, 0.0228, 0.0128, 0.0115, 0.0375, 0.1260,
)
SPICE3_ABSORPTION_PER_M = (
    0.04455, 0.03600, 0.04418, 0.02942, 0.03141, 0.02001, 0.01732, 0.00988, 0.01547, 0.01484, 0.01143,
    0.00634, 0.01422, 0.00849, 0.00776, 0.00988, 0.00671, 0.02104, 0.03290, 0.02501, 0.00604, 0.00888,
    0.00676, 0.00425, 0.00596, 0.00835, 0.00438, 0.00379, 0.00637, 0.00639, 0.00367, 0.00335, 0.01029,
    0.03450,
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
