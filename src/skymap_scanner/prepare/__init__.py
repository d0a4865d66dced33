"""Event preparation kernels: pulse cleaning and vertex seeds (pure functions on arrays/Pulses)."""

from skymap_scanner.prepare.cleaning import CleaningResult, online_l2_cleaning, pulse_summary
from skymap_scanner.prepare.seed_vertex import vhe_self_veto_seed, vhe_self_veto_vertex

__all__ = [
    "CleaningResult",
    "online_l2_cleaning",
    "pulse_summary",
    "vhe_self_veto_seed",
    "vhe_self_veto_vertex",
]
