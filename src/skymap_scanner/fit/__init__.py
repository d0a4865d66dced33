"""Batched per-pixel track fits (direction fixed; vertex and time fitted) on numba kernels, and the
energy-loss likelihood with its non-negative unfolding (:mod:`skymap_scanner.fit.losses`)."""

from skymap_scanner.fit.hits import DomHits
from skymap_scanner.fit.track import FitResult, MpeSettings, TrackFitter

__all__ = ["DomHits", "FitResult", "MpeSettings", "TrackFitter"]
