"""``cascade_losses``: single-cascade fit with the binned energy-loss likelihood (docs/cascade-reco.md).

The cascade (HESE-like) counterpart of upstream's Millipede recos (docs/upstream-behaviour.md §16) without
photon tables: one point cascade whose axis is the pixel direction. Per pixel variation the direction is
fixed and the vertex (x, y, z) and time t are minimised (scipy Nelder–Mead, coarse simplex, then a finer
restart from the coarse minimum); at every trial vertex the cascade energy is unfolded inside the
likelihood (:func:`skymap_scanner.fit.losses.losses_llh` with one source, energy ≥ 0). Pulses are used
uncleaned, as Millipede wants them; the time bins (unhit DOMs included, DeepCore and bright DOMs
excluded; fit/losses.py) are built once per scan when the reco is constructed.

Results: llh = −ln L at the fitted vertex; E_in / E_tot = upstream semantics for the single source
(E_tot its energy, E_in the same when its time lies within the instrumented volume's chord ± 60 m/c,
else 0); X/Y/Z/T = fitted vertex [m] and time [ns]; energy = E_tot [GeV].
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
from pydantic import Field
from scipy.optimize import minimize

from skymap_scanner.event.model import SEED_VERTEX, VERTEX_SHAPE, Event, Particle
from skymap_scanner.fit.losses import REL_UNCERTAINTY, TimeBins, losses_llh, time_bins
from skymap_scanner.physics.constants import C_ICE_M_PER_NS
from skymap_scanner.pixels.types import PixelVariation, RecoPixelVariation
from skymap_scanner.recos import RecoError, RecoInterface, RecoOptions
from skymap_scanner.sky import direction_vector

#: the vertex seed is the charge-weighted centre of this many brightest DOMs
SEED_BRIGHTEST_DOMS = 10
#: vertex variations along the pixel's travel direction [m] (after rotation: local z)
VARIATION_STEP_M = 20.0
#: initial Nelder–Mead simplex steps: coarse (x, y, z [m], t [ns]) and the finer restart
COARSE_STEPS = (15.0, 15.0, 15.0, 40.0)
FINE_STEPS = (3.0, 3.0, 3.0, 8.0)


class CascadeLossesOptions(RecoOptions):
    #: likelihood evaluations per fit (coarse and fine together), each ≈ 5–10 ms for a 100 TeV cascade
    max_evaluations: int = Field(600, ge=10)
    #: relative model uncertainty ε on μ (negative-binomial likelihood; 0: Poisson)
    model_error: float = Field(REL_UNCERTAINTY, ge=0.0)
    #: vertex variations per pixel: 1 (the seed) or 3 (the seed and ±20 m along the pixel direction)
    variations: int = Field(3, ge=1, le=3)
    #: restart Nelder–Mead from the coarse minimum with the fine simplex
    refine: bool = True
    #: vertex/time convergence of Nelder–Mead [m or ns] and of −ln L
    xatol: float = Field(0.5, gt=0.0)
    fatol: float = Field(0.05, gt=0.0)


def brightest_dom_seed(event: Event, n_doms: int = SEED_BRIGHTEST_DOMS) -> Particle:
    """Cascade vertex seed: the charge-weighted centre [m] of the ``n_doms`` brightest DOMs, at the
    earliest time [ns] any of them allows for direct light from it: min(t_first − d / c_ice)."""
    pulses, geo = event.pulses, event.geometry
    keys, inv = np.unique(pulses.dom_keys(), return_inverse=True)
    charge = np.bincount(inv, pulses.charge)
    t_first = np.full(len(keys), np.inf)
    np.minimum.at(t_first, inv, pulses.time)
    pos = geo.positions()[np.searchsorted(geo.keys(), keys)]
    top = np.argsort(charge, kind="stable")[::-1][:n_doms]
    vertex = (pos[top] * charge[top, None]).sum(axis=0) / charge[top].sum()
    t = float(np.min(t_first[top] - np.linalg.norm(pos[top] - vertex, axis=1) / C_ICE_M_PER_NS))
    return Particle(x=float(vertex[0]), y=float(vertex[1]), z=float(vertex[2]), time=t, shape=VERTEX_SHAPE)


class CascadeLosses(RecoInterface):
    rotate_vertex = True
    #: about 1 s per variation at 100 TeV: one pixel's three variations per message
    default_batch_size = 3
    options_model = CascadeLossesOptions

    def __init__(self, event: Event, options=None) -> None:
        super().__init__(event, options)
        self.bins: TimeBins = time_bins(event)

    @classmethod
    def prepare_event(cls, event: Event, options: CascadeLossesOptions) -> Event:
        """Pulses kept uncleaned; a vertex seed (:func:`brightest_dom_seed`) when the event carries none
        (an alert's online HESE vertex is kept)."""
        if len(event.pulses) == 0:
            raise RecoError(f"{cls.name()}: event {event.metadata} has no pulses")
        seed = event.seeds.get(SEED_VERTEX)
        if seed is not None and seed.has_vertex:
            return event
        return replace(event, seeds={**event.seeds, SEED_VERTEX: brightest_dom_seed(event)})

    @classmethod
    def vertex_variations(cls, options: CascadeLossesOptions) -> np.ndarray:
        """(n, 3) [m]: the seed, then +20 m and −20 m along the local z axis (the pixel's direction)."""
        return np.array([(0.0, 0.0, 0.0), (0.0, 0.0, VARIATION_STEP_M), (0.0, 0.0, -VARIATION_STEP_M)])[
            : options.variations]

    def nll(self, params: np.ndarray, direction: np.ndarray) -> float:
        """−ln L of a cascade at params = (x, y, z [m], t [ns]) along ``direction`` (energy unfolded)."""
        return losses_llh(self.bins, params[:3], float(params[3]), direction,
                          rel_uncertainty=self.options.model_error).nll

    def fit(self, direction: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Best (x, y, z, t) from ``start``: coarse Nelder–Mead, then (``refine``) a fine restart."""
        opts = self.options
        budget = opts.max_evaluations
        best = np.asarray(start, np.float64)
        for steps in (COARSE_STEPS, FINE_STEPS) if opts.refine else (COARSE_STEPS,):
            if budget <= 0:
                break
            simplex = best + np.vstack([np.zeros(4), np.diag(steps)])
            res = minimize(self.nll, best, args=(direction,), method="Nelder-Mead",
                           options={"initial_simplex": simplex, "xatol": opts.xatol, "fatol": opts.fatol,
                                    "maxfev": budget})
            budget -= int(res.nfev)
            if np.all(np.isfinite(res.x)) and math.isfinite(res.fun):
                best = res.x
        return best

    def reconstruct(self, batch: list[PixelVariation]) -> list[RecoPixelVariation]:
        out = []
        for v in batch:
            direction = direction_vector(v.zenith, v.azimuth)
            x = self.fit(direction, np.array([v.x, v.y, v.z, v.t]))
            res = losses_llh(self.bins, x[:3], float(x[3]), direction, rel_uncertainty=self.options.model_error)
            out.append(RecoPixelVariation(v.nside, v.pixel_id, v.posvar_id, float(res.nll), res.e_in, res.e_tot,
                                          float(x[0]), float(x[1]), float(x[2]), float(x[3]), res.e_tot))
        return out
