"""The scan server: choose pixels, send tasks, collect results, refine, write results.

Serve-and-collect loop after upstream ``_serve_and_collect`` (§10 of
``shared/docs/upstream-behaviour.md``): send a round for ``slice_plus_one(max nside thresholded)``;
stop when nothing new was sent and everything sent came back; an idle transport raises
:class:`ScanTimeoutError`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from skymap_scanner.event.model import Event
from skymap_scanner.io.results import build_result, serialize_result, write_result
from skymap_scanner.pixels.choose import NSideProgression, choose_pixels
from skymap_scanner.pixels.types import PixelVariation, SentPixelVariation
from skymap_scanner.recos import RecoInterface, direction_seed, get_reco_class
from skymap_scanner.server.checkpoint import ScanState, checkpoint_path, load_checkpoint, save_checkpoint
from skymap_scanner.server.collector import Collector
from skymap_scanner.server.progress import Progress, write_manifest
from skymap_scanner.server.reporting import RestReporter
from skymap_scanner.server.seeds import build_variations
from skymap_scanner.transport.base import ServerTransport
from skymap_scanner.transport.messages import MessageError, Task, decode_result, encode_task
from skymap_scanner.transport.startup import Startup

LOGGER = logging.getLogger(__name__)


class ScanError(RuntimeError):
    """The scan cannot finish."""


class ScanTimeoutError(ScanError):
    """No result arrived for longer than the idle timeout."""


class ScanKilledError(ScanError):
    """The kill switch stopped the scan; its state is checkpointed for a later resume."""


@dataclass
class ScanConfig:
    """Settings of one scan (CLI flags / SKYSCAN_* environment)."""

    reco_algo: str = "dummy"
    reco_options: dict[str, Any] = field(default_factory=dict)
    progression: NSideProgression = field(default_factory=lambda: NSideProgression.parse("8:0 64:12 512:24"))
    output_dir: Path = Path("skyscan-output")
    scan_id: str = ""
    batch_size: int | None = None
    predictive_scanning_threshold: float = 1.0
    idle_timeout_s: float = 600.0
    progress_interval_s: float = 10.0
    result_interval_s: float = 30.0
    pointing_radius_deg: float | None = None
    #: also refine around the event's direction seed when it lies outside the best region
    refine_seed: bool = True
    progress_bar: bool | None = None  # None: only on a terminal
    shuffle_seed: int | None = None
    #: persist the scan state every this many seconds (None: never) and resume from it
    checkpoint_interval_s: float | None = 1.0


@dataclass
class ScanOutcome:
    result: Any  # skyreader.SkyScanResult
    json_path: Path
    npz_path: Path
    manifest_path: Path
    collector: Collector
    progress: Progress


class ScanServer:
    """Runs one scan of ``event`` over ``transport``."""

    def __init__(self, event: Event, config: ScanConfig, transport: ServerTransport,
                 reporter: RestReporter | None = None) -> None:
        self.config = config
        self.reporter = reporter
        self.transport = transport
        self.reco_cls: type[RecoInterface] = get_reco_class(config.reco_algo)
        self.options = self.reco_cls.parse_options(config.reco_options)
        self.event = self.reco_cls.prepare_event(event, self.options)
        self.variations = self.reco_cls.vertex_variations(self.options)
        self.seed = self.reco_cls.seed(self.event)
        self.pointing = self.reco_cls.pointing(self.event)
        self.seed_direction = direction_seed(self.event) if config.refine_seed else None
        self.batch_size = config.batch_size or self.reco_cls.default_batch_size
        self.startup = Startup.create("", config.reco_algo, self.event, config.reco_options)
        self.scan_id = config.scan_id or self._default_scan_id()
        self.startup = Startup(self.scan_id, config.reco_algo, self.startup.event_bytes, dict(config.reco_options))
        self.collector = Collector(len(self.variations), config.progression.nsides,
                                   config.predictive_scanning_threshold)
        self.progress = Progress(self.event.metadata, config.progression, len(self.variations),
                                 self.scan_id, config.reco_algo)
        self._rng = random.Random(config.shuffle_seed)
        self._task_counter = 0
        self._last_progress = self._last_result = self._last_checkpoint = 0.0
        self.n_resent_after_resume = 0
        self._bar: tqdm | None = None

    # -- rounds ------------------------------------------------------------------------------
    def _next_round(self, max_nside: int | None) -> list[PixelVariation]:
        radius = math.radians(self.config.pointing_radius_deg or self.reco_cls.pointing_radius_deg)
        pixels = choose_pixels(self.config.progression, max_nside, self.collector.results,
                               self.pointing, radius, self.seed_direction)
        pixels = sorted({p for p in pixels if not self.collector.was_sent(p)})
        self._rng.shuffle(pixels)
        return build_variations(pixels, self.collector.results, self.config.progression.nsides[0],
                                self.seed, self.event.metadata.mjd, self.variations,
                                self.reco_cls.rotate_vertex, self.reco_cls.add_fallback_position)

    def _send(self, items: list[PixelVariation]) -> None:
        now = time.time()
        self.collector.register_sent([SentPixelVariation(*v.id_tuple, sent_time=now) for v in items])
        tasks = []
        for start in range(0, len(items), self.batch_size):
            self._task_counter += 1
            task = Task(self.scan_id, f"{self.scan_id}-{self._task_counter}", 1,
                        items[start:start + self.batch_size])
            tasks.append(encode_task(task))
        self.transport.send(tasks)
        LOGGER.info("scan %s: sent %d variations in %d tasks (nsides %s)", self.scan_id, len(items),
                    len(tasks), sorted({v.nside for v in items}))

    # -- collecting --------------------------------------------------------------------------
    def _handle(self, message: bytes) -> int | None:
        """Collect one result message; returns the largest newly thresholded nside."""
        try:
            result = decode_result(message)
        except MessageError as e:
            LOGGER.error("scan %s: rejected a malformed result message (%d bytes): %s",
                         self.scan_id, len(message), e)
            return None
        if result.scan_id != self.scan_id:
            LOGGER.warning("scan %s: ignored a result of scan %r", self.scan_id, result.scan_id)
            return None
        newest = None
        n_items = len(result.results) + len(result.failures)
        self.progress.record_result(n_items, result.runtime_s)
        for reco in result.results:
            nside = self.collector.collect(reco, reco.id_tuple)
            newest = max(filter(None, (newest, nside)), default=None)
        for failure in result.failures:
            nside = self.collector.collect(None, failure.id_tuple, failure.reason)
            newest = max(filter(None, (newest, nside)), default=None)
        if self._bar is not None:
            self._bar.total = self.progress.predicted_total(self.collector)
            self._bar.n = self.collector.n_received
            self._bar.refresh()
        return newest

    def _wait_for_threshold(self) -> int | None:
        """Consume results until an nside crosses a threshold or everything sent came back."""
        idle_since = time.monotonic()
        while not self.collector.collected_all_sent():
            messages = self.transport.receive(timeout=1.0)
            newest = None
            for message in messages:
                nside = self._handle(message)
                newest = max(filter(None, (newest, nside)), default=None)
            self._report()
            self._check_kill_switch()
            if messages:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > self.config.idle_timeout_s:
                missing = self.collector.outstanding()
                raise ScanTimeoutError(
                    f"scan {self.scan_id}: no result for {self.config.idle_timeout_s:.0f} s with "
                    f"{len(missing)} variation(s) outstanding (first: {missing[:3]}); are the workers alive?"
                )
            if newest is not None:
                return newest
        return None

    # -- reporting ---------------------------------------------------------------------------
    def _report(self, force: bool = False, final: bool = False) -> None:
        self._checkpoint(force)
        now = time.monotonic()
        out = self.config.output_dir
        if force or now - self._last_progress >= self.config.progress_interval_s:
            manifest = self.progress.manifest(self.collector, self._manifest_extra())
            write_manifest(manifest, out)
            if self.reporter is not None and not final:
                self.reporter.progress(manifest)
            self._last_progress = now
        if (force or now - self._last_result >= self.config.result_interval_s) and self.collector.results:
            result = build_result(self.collector.results, self.event.metadata, final)
            write_result(result, self.event.metadata, out)
            if self.reporter is not None:
                self.reporter.result(serialize_result(result), final=final)
            self._last_result = now
        if final and self.reporter is not None:  # upstream order: final result, then final progress
            self.reporter.progress(self.progress.manifest(self.collector, self._manifest_extra()), final=True)

    def _check_kill_switch(self) -> None:
        if self.reporter is not None and self.reporter.kill_requested():
            self._checkpoint(force=True)
            write_manifest(self.progress.manifest(self.collector, self._manifest_extra()), self.config.output_dir)
            raise ScanKilledError(f"scan {self.scan_id}: stopped by the kill switch; state saved to "
                                  f"{self.checkpoint_file}")

    def _manifest_extra(self) -> dict[str, Any]:
        return {"batch_size": self.batch_size, "reco_options": self.config.reco_options,
                "refine_seed": self.config.refine_seed,
                "event_source": self.event.source, "resent_after_resume": self.n_resent_after_resume}

    # -- checkpoint / resume -----------------------------------------------------------------
    def _default_scan_id(self) -> str:
        """Content hash of event and settings: re-running the same scan resumes it."""
        return hashlib.sha256(json.dumps(self._identity(), sort_keys=True).encode()).hexdigest()[:12]

    def _identity(self) -> dict[str, Any]:
        return {"event_sha256": self.startup.event_sha256, "reco_algo": self.config.reco_algo,
                "reco_options": {k: str(v) for k, v in self.config.reco_options.items()},
                "nsides": str(self.config.progression), "n_posvar": len(self.variations),
                "predictive_scanning_threshold": self.config.predictive_scanning_threshold,
                "refine_seed": self.config.refine_seed}

    @property
    def checkpoint_file(self) -> Path:
        return checkpoint_path(self.config.output_dir, self.scan_id)

    def _checkpoint(self, force: bool = False) -> None:
        interval = self.config.checkpoint_interval_s
        now = time.monotonic()
        if interval is None or (not force and now - self._last_checkpoint < interval):
            return
        state = ScanState({**self._identity(), "scan_id": self.scan_id}, list(self.collector.sent),
                          self.collector.log, self.collector.failure_reasons)
        save_checkpoint(self.checkpoint_file, state)
        self._last_checkpoint = now

    def _resume(self) -> int | None:
        """Load the checkpoint (if any): replay results, re-send what was outstanding."""
        if self.config.checkpoint_interval_s is None or not self.checkpoint_file.exists():
            return None
        state = load_checkpoint(self.checkpoint_file, {**self._identity(), "scan_id": self.scan_id})
        self.collector.register_sent([SentPixelVariation(*i) for i in state.sent])
        max_nside = None
        for row, reco in enumerate(state.received):
            nside = self.collector.collect(reco, reco.id_tuple, state.reasons.get(row, ""))
            max_nside = max(filter(None, (max_nside, nside)), default=None)
        outstanding = set(self.collector.outstanding())
        pixels = sorted({(n, p) for n, p, _ in outstanding})
        items = [v for v in build_variations(pixels, self.collector.results, self.config.progression.nsides[0],
                                             self.seed, self.event.metadata.mjd, self.variations,
                                             self.reco_cls.rotate_vertex, self.reco_cls.add_fallback_position)
                 if v.id_tuple in outstanding]
        self.n_resent_after_resume = len(items)
        LOGGER.info("scan %s: resumed from %s: %d sent, %d collected, re-sending %d", self.scan_id,
                    self.checkpoint_file, self.collector.n_sent, self.collector.n_received, len(items))
        if items:
            self._send(items)
        return max_nside

    # -- main --------------------------------------------------------------------------------
    def run(self) -> ScanOutcome:
        LOGGER.info("scan %s: event %s, reco %s, nsides %s, %d variation(s) per pixel", self.scan_id,
                    self.event.metadata, self.config.reco_algo, self.config.progression, len(self.variations))
        self.transport.start(self.startup)
        show_bar = sys.stderr.isatty() if self.config.progress_bar is None else self.config.progress_bar
        if show_bar:
            self._bar = tqdm(total=self.progress.predicted_total(self.collector), unit="fit",
                             desc=f"scan {self.scan_id}", dynamic_ncols=True)
        try:
            self._loop()
        finally:
            if self._bar is not None:
                self._bar.close()
        self.progress.end = time.time()
        self._report(force=True, final=True)
        result = build_result(self.collector.results, self.event.metadata, complete=True)
        json_path, npz_path = write_result(result, self.event.metadata, self.config.output_dir)
        manifest = self.config.output_dir / "scan-manifest.json"
        return ScanOutcome(result, json_path, npz_path, manifest, self.collector, self.progress)

    def _loop(self) -> None:
        max_nside = self._resume()
        while True:
            items = self._next_round(max_nside)
            if items:
                self._send(items)
                self._report(force=True)
            elif self.collector.collected_all_sent():
                break
            newest = self._wait_for_threshold()
            if newest is not None:
                max_nside = newest
            elif not items and self.collector.collected_all_sent():
                break
        if self.collector.n_sent == 0:
            raise ScanError(f"scan {self.scan_id}: no pixel was ever sent")
        if not self.collector.results:
            raise ScanError(f"scan {self.scan_id}: every pixel failed; see scan-manifest.json")
