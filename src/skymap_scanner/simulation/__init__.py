"""Simulated IceCube-like muon events with truth (docs/physics.md §13), for demos, tests and benchmarks.

``simulate_event(SimulationConfig(energy_gev=1e5, zenith=..., azimuth=...), seed)`` returns an
:class:`~skymap_scanner.event.model.Event` whose ``truth`` holds the muon (and the hadronic cascade of
starting events) and whose ``truth_losses`` lists the discrete energy losses. See ``docs/simulation.md``.
"""

from skymap_scanner.simulation.detector import Detector, detector_from_table, icecube86_like
from skymap_scanner.simulation.ice import LayeredIce, homogeneous, spice3_layered
from skymap_scanner.simulation.simulate import SimulationConfig, simulate_event, simulate_events

__all__ = [
    "Detector",
    "LayeredIce",
    "SimulationConfig",
    "detector_from_table",
    "homogeneous",
    "icecube86_like",
    "simulate_event",
    "simulate_events",
    "spice3_layered",
]
