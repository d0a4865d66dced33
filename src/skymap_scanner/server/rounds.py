"""The scan loop: choose pixels, send their fit requests, collect results, refine.

Serve-and-collect after upstream ``_serve_and_collect`` (``docs/upstream-behaviour.md`` §10): send a
round for ``slice_plus_one(max nside thresholded)``; stop when nothing new was sent and everything
sent came back; an idle transport raises :class:`ScanTimeoutError`. Persistence and reports are the
:class:`~skymap_scanner.server.recorder.Recorder`'s.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass

from tqdm import tqdm

from skymap_scanner.pixels.choose import NSideProgression, choose_pixels
from skymap_scanner.pixels.types import PixelVariation, SentPixelVariation
from skymap_scanner.server.checkpoint import ScanState
from skymap_scanner.server.collector import Collector
from skymap_scanner.server.errors import ScanError, ScanInterruptedError, ScanTimeoutError
from skymap_scanner.server.plan import ScanPlan
from skymap_scanner.server.recorder import Recorder
from skymap_scanner.transport.base import ServerTransport
from skymap_scanner.transport.messages import MessageError, Task, decode_result, encode_task

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoopSettings:
    """How the loop sends and waits."""

    progression: NSideProgression
    batch_size: int
    idle_timeout_s: float
    shuffle_seed: int | None
    progress_bar: bool


def _newest(a: int | None, b: int | None) -> int | None:
    return max(filter(None, (a, b)), default=None)


class ScanLoop:
    """Runs the rounds of one scan of ``plan`` over ``transport``."""

    def __init__(self, plan: ScanPlan, transport: ServerTransport, scan_id: str, settings: LoopSettings,
                 collector: Collector, recorder: Recorder) -> None:
        self.plan = plan
        self.transport = transport
        self.scan_id = scan_id
        self.settings = settings
        self.collector = collector
        self.recorder = recorder
        self.progress = recorder.progress
        self._rng = random.Random(settings.shuffle_seed)
        self._task_counter = 0
        self._bar: tqdm | None = None

    # -- rounds ------------------------------------------------------------------------------
    def _next_round(self, max_nside: int | None) -> list[PixelVariation]:
        plan = self.plan
        pixels = choose_pixels(self.settings.progression, max_nside, self.collector.results,
                               plan.pointing, plan.pointing_radius_rad, plan.seed_direction)
        pixels = sorted({p for p in pixels if not self.collector.was_sent(p)})
        self._rng.shuffle(pixels)
        return plan.requests(pixels, self.collector.results)

    def _send(self, items: list[PixelVariation]) -> None:
        now = time.time()
        self.collector.register_sent([SentPixelVariation(*v.id_tuple, sent_time=now) for v in items])
        tasks = []
        size = self.settings.batch_size
        for start in range(0, len(items), size):
            self._task_counter += 1
            task = Task(self.scan_id, f"{self.scan_id}-{self._task_counter}", 1, items[start:start + size])
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
            self.collector.n_rejected += 1
            LOGGER.error("scan %s: rejected a malformed result message (%d bytes): %s",
                         self.scan_id, len(message), e)
            return None
        if result.scan_id != self.scan_id:
            LOGGER.warning("scan %s: ignored a result of scan %r", self.scan_id, result.scan_id)
            return None
        newest = None
        self.progress.record_result(len(result.results) + len(result.failures), result.runtime_s)
        for reco in result.results:
            newest = _newest(newest, self.collector.collect(reco, reco.id_tuple))
        for failure in result.failures:
            newest = _newest(newest, self.collector.collect(None, failure.id_tuple, failure.reason))
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
                newest = _newest(newest, self._handle(message))
            self.recorder.manifest_extra["rejected_messages"] = self.collector.n_rejected + self.transport.n_rejected
            self.recorder.tick(self.collector)
            self.recorder.check_kill_switch(self.collector)
            if messages:  # only authenticated ones: forged results do not keep a dead scan waiting
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > self.settings.idle_timeout_s:
                missing = self.collector.outstanding()
                raise ScanTimeoutError(
                    f"scan {self.scan_id}: no result for {self.settings.idle_timeout_s:.0f} s with "
                    f"{len(missing)} variation(s) outstanding (first: {missing[:3]}); are the workers alive?"
                )
            if newest is not None:
                return newest
        return None

    # -- resume ------------------------------------------------------------------------------
    def _replay(self, state: ScanState) -> int | None:
        """Take a checkpoint's results, re-send what was outstanding; returns the largest thresholded nside."""
        self.collector.register_sent([SentPixelVariation(*i) for i in state.sent])
        max_nside = None
        for row, reco in enumerate(state.received):
            max_nside = _newest(max_nside, self.collector.collect(reco, reco.id_tuple, state.reasons.get(row, "")))
        outstanding = set(self.collector.outstanding())
        pixels = sorted({(n, p) for n, p, _ in outstanding})
        items = [v for v in self.plan.requests(pixels, self.collector.results) if v.id_tuple in outstanding]
        self.recorder.manifest_extra["resent_after_resume"] = len(items)
        LOGGER.info("scan %s: resumed: %d sent, %d collected, re-sending %d", self.scan_id,
                    self.collector.n_sent, self.collector.n_received, len(items))
        if items:
            self._send(items)
        return max_nside

    # -- main --------------------------------------------------------------------------------
    def run(self, state: ScanState | None = None) -> None:
        """Scan until every round is collected (from ``state``'s results when resuming)."""
        LOGGER.info("scan %s: event %s, reco %s, nsides %s, %d variation(s) per pixel", self.scan_id,
                    self.plan.event.metadata, self.plan.reco_algo, self.settings.progression,
                    self.plan.n_variations)
        self.transport.start(self.plan.startup(self.scan_id))
        if self.settings.progress_bar:
            self._bar = tqdm(total=self.progress.predicted_total(self.collector), unit="fit",
                             desc=f"scan {self.scan_id}", dynamic_ncols=True)
        try:
            self._rounds(None if state is None else self._replay(state))
        except KeyboardInterrupt:
            where = self.recorder.save_state(self.collector)
            raise ScanInterruptedError(
                f"scan {self.scan_id}: interrupted with {len(self.collector.log)} of {len(self.collector.sent)} "
                f"sent variation(s) collected; {where}") from None
        finally:
            if self._bar is not None:
                self._bar.close()

    def _rounds(self, max_nside: int | None) -> None:
        while True:
            items = self._next_round(max_nside)
            if items:
                self._send(items)
                self.recorder.tick(self.collector, force=True)
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
