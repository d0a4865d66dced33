"""Event preparation for a scan: pulse cleaning and vertex seeds (pure functions on arrays, Pulses, Events)."""

from skymap_scanner.prepare.cleaning import CleaningResult, online_l2_cleaning, pulse_summary
from skymap_scanner.prepare.seed_vertex import vhe_self_veto_seed, vhe_self_veto_vertex, with_vertex_seed

__all__ = [
    "CleaningResult",
    "online_l2_cleaning",
    "pulse_summary",
    "vhe_self_veto_seed",
    "vhe_self_veto_vertex",
    "with_vertex_seed",
]
