"""Progress of a scan: tallies per nside, rates, ETA, best fit so far -> ``scan-manifest.json``.

Layout in the spirit of upstream's progress body (``server/reporter.py``, §11.2 of
``docs/upstream-behaviour.md``): ``{progress, event_metadata, scan_metadata}``.
ETA = mean round-trip seconds per variation over a moving window of max(0.25 x collected, 400)
recent results (upstream defaults), times the predicted remaining variations.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from skymap_scanner.__version__ import __version__
from skymap_scanner.event.model import EventMetadata
from skymap_scanner.pixels.choose import NSideProgression, radec_of_pixels
from skymap_scanner.server.collector import Collector
from skymap_scanner.sky import equa_to_dir

MANIFEST_NAME = "scan-manifest.json"
#: upstream SKYSCAN_PROGRESS_RUNTIME_PREDICTION_WINDOW_RATIO / _MIN
ETA_WINDOW_RATIO, ETA_WINDOW_MIN = 0.25, 400


def _hms(seconds: float | None) -> str | None:
    if seconds is None or not math.isfinite(seconds):
        return None
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


@dataclass
class Progress:
    """Timing bookkeeping of one scan (wall clock, epoch seconds)."""

    event: EventMetadata
    progression: NSideProgression
    n_posvar: int
    scan_id: str
    reco_algo: str
    start: float = field(default_factory=time.time)
    first_result: float | None = None
    end: float | None = None
    worker_runtimes: list[float] = field(default_factory=list)
    _arrivals: deque[float] = field(default_factory=lambda: deque(maxlen=100_000))

    def record_result(self, n_variations: int, worker_runtime_s: float) -> None:
        now = time.time()
        if self.first_result is None:
            self.first_result = now
        self._arrivals.extend([now] * n_variations)
        if math.isfinite(worker_runtime_s) and n_variations:
            self.worker_runtimes.append(worker_runtime_s / n_variations)

    def predicted_total(self, collector: Collector) -> int:
        """Variations sent so far plus upstream's estimate for nsides not yet sent."""
        steps = self.progression.steps
        total = 0
        for i, (nside, ext) in enumerate(steps):
            sent = collector.sent_per_nside[nside]
            estimate = (12 * nside**2 if i == 0 else ext * (nside // steps[i - 1][0]) ** 2) * self.n_posvar
            total += max(sent, estimate) if self.end is None else sent
        return total

    def rate(self, collector: Collector) -> float | None:
        """Variations per second over the recent window."""
        n = len(self._arrivals)
        window = min(n, max(int(ETA_WINDOW_RATIO * collector.n_received), ETA_WINDOW_MIN))
        if window < 2:
            return None
        times = list(self._arrivals)[-window:]
        span = times[-1] - times[0]
        return (window - 1) / span if span > 0 else None

    def manifest(self, collector: Collector, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        now = time.time()
        total = self.predicted_total(collector)
        rate = self.rate(collector)
        remaining = max(total - collector.n_received, 0)
        eta = remaining / rate if rate else None
        tallies = {}
        for nside in self.progression.nsides:
            sent = collector.sent_per_nside[nside]
            finished = collector.finished_per_nside[nside]
            tallies[str(nside)] = {
                "variations_sent": sent,
                "pixels_sent": sent // max(self.n_posvar, 1),
                "pixels_done": finished,
                "pixels_in_result": len(collector.results.get(nside, {})),
                "done_fraction": round(collector.fraction_done(nside), 6) if sent else None,
            }
        runtimes = np.array(self.worker_runtimes) if self.worker_runtimes else None
        progress = {
            "summary": (f"{collector.n_received}/{collector.n_sent} variations collected"
                        + (" — scan finished" if self.end else "")),
            "tallies": {
                "nsides": tallies,
                "overall": {"variations_sent": collector.n_sent, "variations_done": collector.n_received,
                            "predicted_total_variations": total,
                            "failed_variations": collector.n_failed_variations,
                            "failed_pixels": len(collector.failed_pixels),
                            "duplicates_ignored": collector.n_duplicates,
                            "strays_ignored": collector.n_strays},
            },
            "rate": {
                "variations_per_s": rate,
                "pixels_per_s": rate / self.n_posvar if rate else None,
                "worker_s_per_variation_mean": float(runtimes.mean()) if runtimes is not None else None,
                "worker_s_per_variation_median": float(np.median(runtimes)) if runtimes is not None else None,
            },
            "runtime": {
                "start": self.start, "end": self.end, "elapsed_s": (self.end or now) - self.start,
                "first_result_delay_s": (self.first_result - self.start) if self.first_result else None,
                "eta_s": None if self.end else eta, "eta": None if self.end else _hms(eta),
            },
            "best_fit": best_fit_summary(collector, self.event.mjd),
            "failed_pixels": [asdict(f) for f in collector.failed_pixels[:1000]],
            "last_updated": now,
            "finished": self.end is not None,
        }
        return {
            "progress": progress,
            "event_metadata": {**asdict(self.event), "version": 1},
            "scan_metadata": {"scan_id": self.scan_id, "reco_algo": self.reco_algo,
                              "nside_progression": self.progression.as_dict(),
                              "position_variations": self.n_posvar,
                              "predictive_scanning_threshold": collector.predictive_scanning_threshold,
                              "scanner_version": __version__, **(extra or {})},
        }


def best_fit_summary(collector: Collector, mjd: float) -> dict[str, Any] | None:
    best = collector.results.best()
    if best is None:
        return None
    ra, dec = radec_of_pixels(best.nside, np.array([best.pixel_id]))
    zen, azi = equa_to_dir(ra, dec, mjd)
    return {"nside": best.nside, "pixel": best.pixel_id, "llh": best.llh,
            "ra_deg": float(np.degrees(ra[0])), "dec_deg": float(np.degrees(dec[0])),
            "zenith_deg": float(np.degrees(zen[0])), "azimuth_deg": float(np.degrees(azi[0])),
            "x": best.x, "y": best.y, "z": best.z, "time": best.time, "energy": best.energy}


def json_safe(value: Any) -> Any:
    """``value`` with every non-finite float (and numpy scalar) turned into JSON: NaN/inf become null."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def write_manifest(manifest: dict[str, Any], output_dir: Path) -> Path:
    """Write ``scan-manifest.json`` atomically (indent 4, as upstream), readable by all (0644)."""
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / MANIFEST_NAME
    fd, tmp = tempfile.mkstemp(dir=output_dir, prefix=".tmp-manifest-")
    with os.fdopen(fd, "w") as f:
        json.dump(json_safe(manifest), f, indent=4, allow_nan=False)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path
