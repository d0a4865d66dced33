"""What a scan leaves behind while it runs: checkpoint, manifest, partial and final results, REST reports.

The scan loop calls :meth:`Recorder.tick` after every batch of results; the recorder decides what is
due (each kind on its own interval) and writes it atomically. :meth:`Recorder.finish` builds the
final ``SkyScanResult`` once and writes it, then the final manifest, and reports both. Without an
output folder nothing is written to disk; without a reporter nothing is sent.

Partial results go to ``<output_dir>/partial/`` (:data:`PARTIAL_DIR`), so the only result files in the
output folder are the final ones; the partial folder is removed when the final result is written.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skymap_scanner.event.model import EventMetadata
from skymap_scanner.io.results import build_result, serialize_result, write_result
from skymap_scanner.io.skyreader_api import SkyScanResult
from skymap_scanner.server.checkpoint import ScanState, checkpoint_path, load_checkpoint, save_checkpoint
from skymap_scanner.server.collector import Collector
from skymap_scanner.server.errors import ScanKilledError
from skymap_scanner.server.progress import Progress, write_manifest
from skymap_scanner.server.reporting import RestReporter

#: subfolder of the output folder for partial results while the scan runs
PARTIAL_DIR = "partial"


@dataclass(frozen=True)
class RecordIntervals:
    """Seconds between checkpoints (0: never), manifests and partial results."""

    checkpoint_s: float
    progress_s: float
    result_s: float


@dataclass(frozen=True)
class FinalRecord:
    """The final result and where it went (paths None when nothing was written)."""

    result: SkyScanResult
    manifest: dict[str, Any]
    json_path: Path | None
    npz_path: Path | None
    manifest_path: Path | None


@dataclass
class Recorder:
    """Persists and reports one scan (``output_dir`` None: nothing on disk)."""

    scan_id: str
    identity: dict[str, Any]
    event: EventMetadata
    progress: Progress
    output_dir: Path | None
    intervals: RecordIntervals
    reporter: RestReporter | None = None
    #: extra ``scan_metadata`` entries of the manifest (the loop adds to it)
    manifest_extra: dict[str, Any] = field(default_factory=dict)
    _last: dict[str, float] = field(default_factory=lambda: dict.fromkeys(("checkpoint", "progress", "result"), 0.0))

    # -- checkpoint --------------------------------------------------------------------------
    @property
    def checkpoint_file(self) -> Path | None:
        return None if self.output_dir is None else checkpoint_path(self.output_dir, self.scan_id)

    def saved_state(self) -> ScanState | None:
        """The checkpoint of this scan in the output folder, if there is one (another scan's is
        refused with :class:`~skymap_scanner.server.checkpoint.CheckpointError`)."""
        path = self.checkpoint_file
        if path is None or not path.exists():
            return None
        return load_checkpoint(path, self._checkpoint_settings())

    def _checkpoint_settings(self) -> dict[str, Any]:
        return {**self.identity, "scan_id": self.scan_id}

    def _checkpoint(self, collector: Collector) -> None:
        path = self.checkpoint_file
        if path is None or not self.intervals.checkpoint_s:
            return
        save_checkpoint(path, ScanState(self._checkpoint_settings(), list(collector.sent), collector.log,
                                        collector.failure_reasons))

    # -- while running -----------------------------------------------------------------------
    def _due(self, kind: str, interval: float, force: bool) -> bool:
        now = time.monotonic()
        if force or now - self._last[kind] >= interval:
            self._last[kind] = now
            return True
        return False

    def manifest(self, collector: Collector) -> dict[str, Any]:
        return self.progress.manifest(collector, self.manifest_extra)

    def tick(self, collector: Collector, force: bool = False) -> None:
        """Write (and report) whatever is due."""
        if self._due("checkpoint", self.intervals.checkpoint_s, force):
            self._checkpoint(collector)
        if self._due("progress", self.intervals.progress_s, force):
            manifest = self.manifest(collector)
            if self.output_dir is not None:
                write_manifest(manifest, self.output_dir)
            if self.reporter is not None:
                self.reporter.progress(manifest)
        if collector.results and self._due("result", self.intervals.result_s, force):
            result = build_result(collector.results, self.event, complete=False)
            if self.output_dir is not None:
                write_result(result, self.event, self.output_dir / PARTIAL_DIR)
            if self.reporter is not None:
                self.reporter.result(serialize_result(result), final=False)

    def save_state(self, collector: Collector) -> str:
        """Checkpoint and manifest now (a scan that stops early); says where the state went."""
        self._checkpoint(collector)
        if self.output_dir is not None:
            write_manifest(self.manifest(collector), self.output_dir)
        path = self.checkpoint_file
        return f"state saved to {path}" if path is not None and path.exists() else "no checkpoint kept"

    def check_kill_switch(self, collector: Collector) -> None:
        """Raise :class:`ScanKilledError` (state saved) when the kill switch says so."""
        if self.reporter is None or not self.reporter.kill_requested():
            return
        raise ScanKilledError(f"scan {self.scan_id}: stopped by the kill switch; {self.save_state(collector)}")

    # -- at the end --------------------------------------------------------------------------
    def finish(self, collector: Collector) -> FinalRecord:
        """Build the final result once; write it, the checkpoint and the final manifest; report them
        (upstream order: final result, then final progress)."""
        self._checkpoint(collector)
        result = build_result(collector.results, self.event, complete=True)
        manifest = self.manifest(collector)
        json_path = npz_path = manifest_path = None
        if self.output_dir is not None:
            json_path, npz_path = write_result(result, self.event, self.output_dir)
            shutil.rmtree(self.output_dir / PARTIAL_DIR, ignore_errors=True)
            manifest_path = write_manifest(manifest, self.output_dir)
        if self.reporter is not None:
            self.reporter.result(serialize_result(result), final=True)
            self.reporter.progress(manifest, final=True)
        return FinalRecord(result, manifest, json_path, npz_path, manifest_path)
