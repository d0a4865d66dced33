"""One scan on the server side: the round loop plus its recorder, from a plan and a transport.

:func:`run_scan` is what the Python API and the ``scan``/``server`` commands call; the settings
come from :class:`skymap_scanner.settings.Settings` (this module has no defaults of its own).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from skymap_scanner.server.collector import Collector
from skymap_scanner.server.identity import scan_identity
from skymap_scanner.server.plan import ScanPlan
from skymap_scanner.server.progress import Progress
from skymap_scanner.server.recorder import FinalRecord, Recorder, RecordIntervals
from skymap_scanner.server.reporting import RestReporter
from skymap_scanner.server.rounds import LoopSettings, ScanLoop
from skymap_scanner.transport.base import ServerTransport

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanOptions:
    """The server's share of the settings: the loop's, and what decides the fits and the records."""

    loop: LoopSettings
    predictive_scanning_threshold: float
    refine_seed: bool
    output_dir: Path | None
    resume: bool
    intervals: RecordIntervals


@dataclass(frozen=True)
class ScanOutcome:
    """What the server knows at the end of a scan."""

    scan_id: str
    record: FinalRecord
    collector: Collector
    progress: Progress
    #: variations taken from a checkpoint instead of being fitted again (0: a fresh scan)
    resumed_variations: int


def run_scan(plan: ScanPlan, transport: ServerTransport, options: ScanOptions, scan_id: str,
             reporter: RestReporter | None = None) -> ScanOutcome:
    """Scan ``plan``'s event over ``transport`` (already open; the caller closes it)."""
    progression = options.loop.progression
    identity = scan_identity(plan, progression, options.predictive_scanning_threshold, options.refine_seed)
    progress = Progress(plan.event.metadata, progression, plan.n_variations, scan_id, plan.reco_algo)
    recorder = Recorder(
        scan_id, identity, plan.event.metadata, progress, options.output_dir, options.intervals, reporter,
        manifest_extra={"batch_size": options.loop.batch_size, "reco_options": plan.reco_options,
                        "refine_seed": options.refine_seed, "event_source": plan.event.source,
                        "resent_after_resume": 0},
    )
    state = recorder.saved_state() if options.resume else None
    if state is not None:
        LOGGER.warning("scan %s: resuming from %s (%d of %d variations already collected)", scan_id,
                       recorder.checkpoint_file, len(state.received), len(state.sent))
    collector = Collector(plan.n_variations, progression.nsides, options.predictive_scanning_threshold)
    loop = ScanLoop(plan, transport, scan_id,
                    options.loop,
                    collector, recorder)
    loop.run(state)
    progress.end = time.time()
    record = recorder.finish(collector)
    return ScanOutcome(scan_id, record, collector, progress, 0 if state is None else len(state.received))
