"""Optional REST reporting, in the spirit of upstream's SkyDriver contract (§11 of
``docs/upstream-behaviour.md``):

- ``PATCH {base}/scan/{id}/manifest`` with ``{progress, event_metadata, scan_metadata}``;
- ``PUT {base}/scan/{id}/result`` with ``{skyscan_result, is_final}``;
- kill switch: ``GET {base}/scan/{id}/status``; ``is_deleted`` or ``ewms_deactivated`` true → stop.

Non-urgent calls (progress, partial results, status polls): 10 s timeout, 1 retry, errors logged.
Urgent calls (final result and final progress): 60 s timeout, retried with exponential backoff for
up to ``urgent_retry_s`` (upstream: 1 h), then :class:`ReportError`. Bearer-token auth.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from skymap_scanner.server.progress import json_safe

LOGGER = logging.getLogger(__name__)


class ReportError(RuntimeError):
    """An urgent report could not be delivered."""


@dataclass(frozen=True)
class RetryPolicy:
    timeout_s: float
    max_total_s: float
    max_attempts: int
    backoff_s: float = 1.0


NON_URGENT = RetryPolicy(timeout_s=10.0, max_total_s=30.0, max_attempts=2)
URGENT = RetryPolicy(timeout_s=60.0, max_total_s=3600.0, max_attempts=10_000, backoff_s=1.0)


class RestReporter:
    """Sends progress/results to ``base_url`` and watches the kill switch."""

    def __init__(self, base_url: str, scan_id: str, token: str = "", kill_switch_interval_s: float = 300.0,
                 urgent: RetryPolicy = URGENT, non_urgent: RetryPolicy = NON_URGENT) -> None:
        self.base = base_url.rstrip("/")
        self.scan_id = scan_id
        self.token = token
        self.kill_switch_interval_s = kill_switch_interval_s
        self.urgent = urgent
        self.non_urgent = non_urgent
        self._last_status_poll = 0.0
        self.n_failed_reports = 0

    def _request(self, method: str, path: str, body: Any, policy: RetryPolicy) -> Any:
        url = f"{self.base}/scan/{self.scan_id}/{path}"
        data = None if body is None else json.dumps(json_safe(body), allow_nan=False).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        start = time.monotonic()
        for attempt in range(1, policy.max_attempts + 1):
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(request, timeout=policy.timeout_s) as response:
                    payload = response.read()
                    return json.loads(payload) if payload else None
            except (urllib.error.URLError, TimeoutError, ValueError, OSError) as e:
                elapsed = time.monotonic() - start
                delay = min(policy.backoff_s * 2 ** (attempt - 1), 60.0)
                if attempt == policy.max_attempts or elapsed + delay > policy.max_total_s:
                    raise ReportError(f"{method} {url} failed after {attempt} attempt(s): {e}") from None
                LOGGER.warning("%s %s failed (%s); retry %d in %.1f s", method, url, e, attempt, delay)
                time.sleep(delay)
        raise ReportError(f"{method} {url}: no attempt made")

    def _non_urgent(self, method: str, path: str, body: Any) -> Any:
        try:
            return self._request(method, path, body, self.non_urgent)
        except ReportError as e:
            self.n_failed_reports += 1
            LOGGER.error("report not delivered (non-urgent, scan goes on): %s", e)
            return None

    def progress(self, manifest: dict[str, Any], final: bool = False) -> None:
        if final:
            self._request("PATCH", "manifest", manifest, self.urgent)
        else:
            self._non_urgent("PATCH", "manifest", manifest)

    def result(self, serialized_result: dict[str, Any], final: bool) -> None:
        body = {"skyscan_result": serialized_result, "is_final": final}
        if final:
            self._request("PUT", "result", body, self.urgent)
        else:
            self._non_urgent("PUT", "result", body)

    def kill_requested(self) -> bool:
        """Poll the status (at most every ``kill_switch_interval_s``); True when told to stop."""
        now = time.monotonic()
        if now - self._last_status_poll < self.kill_switch_interval_s:
            return False
        self._last_status_poll = now
        status = self._non_urgent("GET", "status", None)
        return bool(isinstance(status, dict) and (status.get("is_deleted") or status.get("ewms_deactivated")))
