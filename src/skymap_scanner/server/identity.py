"""A scan's identity: what must match for a checkpoint to be resumed, and the default scan id."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from skymap_scanner.pixels.choose import NSideProgression
from skymap_scanner.server.plan import ScanPlan


def scan_identity(plan: ScanPlan, progression: NSideProgression, predictive_scanning_threshold: float,
                  refine_seed: bool) -> dict[str, Any]:
    """Event hash and every setting that changes which fits a scan makes."""
    return {"event_sha256": plan.event_sha256, "reco_algo": plan.reco_algo,
            "reco_options": {k: str(v) for k, v in plan.reco_options.items()},
            "nsides": str(progression), "n_posvar": plan.n_variations,
            "predictive_scanning_threshold": predictive_scanning_threshold, "refine_seed": refine_seed}


def default_scan_id(identity: dict[str, Any]) -> str:
    """Content hash of the identity (12 hex digits): re-running the same scan finds its checkpoint."""
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:12]
