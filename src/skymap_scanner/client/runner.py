"""Run one task message through the reco and build the result message."""

from __future__ import annotations

import logging
import time

from skymap_scanner.pixels.types import PixelVariation, RecoPixelVariation
from skymap_scanner.recos import get_reco_class
from skymap_scanner.transport.messages import Failure, Result, Task, decode_task, encode_result
from skymap_scanner.transport.startup import Startup

LOGGER = logging.getLogger(__name__)


class TaskRunner:
    """Holds the scan's reco (built once) and answers task messages."""

    def __init__(self, startup: Startup, worker: str) -> None:
        self.startup = startup
        self.worker = worker
        reco_cls = get_reco_class(startup.reco_algo)
        self.reco = reco_cls(startup.event(), startup.reco_options)

    def _reconstruct(self, items: list[PixelVariation]) -> tuple[list[RecoPixelVariation], list[Failure]]:
        """Fit the batch; if it raises, fit item by item so one bad pixel fails alone."""
        try:
            return self.reco.reconstruct(items), []
        except Exception as batch_error:  # noqa: BLE001 - any reco failure is reported, not fatal
            if len(items) == 1:
                return [], [Failure(items[0].id_tuple, f"{type(batch_error).__name__}: {batch_error}")]
        results: list[RecoPixelVariation] = []
        failures: list[Failure] = []
        for item in items:
            try:
                results.extend(self.reco.reconstruct([item]))
            except Exception as e:  # noqa: BLE001
                failures.append(Failure(item.id_tuple, f"{type(e).__name__}: {e}"))
        return results, failures

    def run_task(self, task: Task) -> Result:
        start = time.monotonic()
        results, failures = self._reconstruct(task.items)
        runtime = time.monotonic() - start
        for f in failures:
            LOGGER.warning("scan %s task %s: %s failed: %s", task.scan_id, task.task_id, f.id_tuple, f.reason)
        LOGGER.debug("scan %s task %s: %d items in %.3f s", task.scan_id, task.task_id, len(task.items), runtime)
        return Result(task.scan_id, task.task_id, self.worker, runtime, results, failures)

    def handle(self, message: bytes) -> bytes:
        """Task message bytes -> result message bytes (raises MessageError on a bad task)."""
        return encode_result(self.run_task(decode_task(message)))
