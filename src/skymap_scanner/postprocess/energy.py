"""Deposited energy of a track scan at its best fit: a track with energy losses along it.

The timing fits of a track scan (``mpe_pandel``) estimate no energy. After the scan, the best pixel's track
(its direction, and the fitted vertex and time) becomes the hypothesis of the binned energy-loss likelihood
(``fit/losses.py``; docs/physics.md §17.6): point cascades every :data:`TRACK_LOSS_SPACING_M` along the track's
chord through the instrumented volume, their energies E ≥ 0 unfolded from the charge and timing of every used
DOM (unhit DOMs included, pulses not hit-cleaned), as Millipede does with ``ShowerSpacing`` 5 m and no bare-muon
segments (Aartsen et al. 2014 [1]). Reported with upstream's semantics (docs/upstream-behaviour.md §16.4):
E_in = the losses within the detector (times within the chord ± 60 m/c), E_tot = all unfolded losses.

These are *deposited* (EM-equivalent cascade) energies, not the neutrino's or the muon's: a through-going muon
deposits a fraction of its energy in the detector, and the unfolding turns the muon's own Cherenkov light into
cascade energy too. The geometry is not refitted on this likelihood (the Millipede recos of issue 16 would).
Measured against the simulator's truth E_in (``benchmarks/track_energy.py``, docs/track-reco.md, "Deposited
energy"). Recos that fit losses per pixel (``cascade_losses``) report their own best-pixel energies
instead (``api.scan``).

References
----------
.. [1] IceCube Collaboration, "Energy reconstruction methods in the IceCube neutrino telescope", JINST 9 (2014)
   P03009, arXiv:1311.4767.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from skymap_scanner.event.model import Event
from skymap_scanner.fit.losses import losses_llh
from skymap_scanner.sky import direction_vector

#: spacing of the loss cascades along the track [m]: upstream millipede's first pass (ShowerSpacing 5 m)
TRACK_LOSS_SPACING_M = 5.0


@dataclass(frozen=True)
class DepositedEnergy:
    """Deposited (EM-equivalent) energies [GeV] at a scan's best fit, not the neutrino energy: E_in inside the
    detector, E_tot all; ``hypothesis`` says what was fitted, with ``n_sources`` light sources."""

    e_in_gev: float
    e_tot_gev: float
    hypothesis: str
    n_sources: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DepositedEnergy:
        """Read back :meth:`as_dict` (a manifest's ``scan_metadata.deposited_energy``); raises ValueError."""
        try:
            return cls(float(data["e_in_gev"]), float(data["e_tot_gev"]), str(data["hypothesis"]),
                       int(data["n_sources"]))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"not a deposited energy record ({type(e).__name__}: {e})") from None


def track_deposited_energy(event: Event, vertex_m: tuple[float, float, float], time_ns: float,
                           zenith_rad: float, azimuth_rad: float,
                           spacing_m: float = TRACK_LOSS_SPACING_M) -> DepositedEnergy:
    """E_in and E_tot of the track through ``vertex_m`` [m] at ``time_ns`` [ns] coming from (``zenith_rad``,
    ``azimuth_rad``) (detector frame), with the losses of ``event``'s pulses (uncleaned) unfolded every
    ``spacing_m`` [m]. A track that misses the instrumented volume has no sources: both energies 0."""
    vertex = np.asarray(vertex_m, np.float64)
    if not (np.all(np.isfinite(vertex)) and math.isfinite(time_ns)):
        raise ValueError(f"deposited energy needs a finite vertex and time, got {vertex.tolist()}, {time_ns}")
    fit = losses_llh(event, vertex, float(time_ns), direction_vector(zenith_rad, azimuth_rad), spacing_m)
    return DepositedEnergy(fit.e_in, fit.e_tot, f"track with losses every {spacing_m:g} m (unfolded at the best fit)",
                           int(len(fit.energies)))
