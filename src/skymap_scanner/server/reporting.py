"""Optional REST reporting, in the spirit of upstream's SkyDriver contract (§11 of
``docs/upstream-behaviour.md``):

- ``PATCH {base}/scan/{id}/manifest`` with ``{progress, event_metadata, scan_metadata}``;
- ``PUT {base}/scan/{id}/result`` with ``{skyscan_result, is_final}``;
- kill switch: ``GET {base}/scan/{id}/status``; ``is_deleted`` or ``ewms_deactivated`` true → stop.

Reporting cannot stall the scan: progress, partial results and status polls go through a background
thread. Each kind has a slot that holds only the latest report (a newer one replaces one not sent
yet); the kill switch is the last status seen. Non-urgent calls: 10 s timeout, 1 retry, errors
logged. The final result and final progress are sent from the caller, after anything in flight,
retried with exponential backoff for at most ``urgent.max_total_s`` in all (then
:class:`ReportError`).

Only ``http``/``https``, no credentials in the URL (the bearer token comes from ``skydriver_auth``
and is never logged), redirects are not followed (a redirect would carry the token elsewhere),
response bodies are read up to :data:`MAX_RESPONSE_BYTES`, and a 2xx answer whose body is not JSON
counts as delivered (its body is ignored).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from skymap_scanner.server.progress import json_safe

LOGGER = logging.getLogger(__name__)

#: largest response body read [bytes]
MAX_RESPONSE_BYTES = 1024 * 1024


class ReportError(RuntimeError):
    """An urgent report could not be delivered, or the report URL is unusable."""


@dataclass(frozen=True)
class RetryPolicy:
    timeout_s: float
    max_total_s: float
    max_attempts: int
    backoff_s: float = 1.0


NON_URGENT = RetryPolicy(timeout_s=10.0, max_total_s=30.0, max_attempts=2)
#: final reports: at most 10 minutes in all (upstream retried for an hour)
URGENT = RetryPolicy(timeout_s=60.0, max_total_s=600.0, max_attempts=10_000, backoff_s=1.0)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> None:
        raise urllib.error.HTTPError(req.full_url, code, f"redirect to {urlsplit(newurl).netloc or newurl!r} "
                                     "not followed", headers, fp)


_OPENER = urllib.request.build_opener(_NoRedirect())


def check_report_url(url: str) -> str:
    """``url`` without a trailing slash, if it is a plain http(s) URL without credentials."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ReportError(f"report URL {parts.scheme or url!r}: use http:// or https://host")
    if parts.username is not None or parts.password is not None:
        shown = f"{parts.scheme}://***@{parts.netloc.rsplit('@', 1)[-1]}{parts.path}"
        raise ReportError(f"report URL {shown}: no credentials in the URL; give the token as "
                          "SKYSCAN_SKYDRIVER_AUTH")
    return url.rstrip("/")


def _read_json(response: Any) -> Any:
    payload = response.read(MAX_RESPONSE_BYTES + 1)
    if len(payload) > MAX_RESPONSE_BYTES:
        LOGGER.warning("report answer larger than %d bytes: ignored", MAX_RESPONSE_BYTES)
        return None
    if not payload:
        return None
    try:
        return json.loads(payload)
    except (ValueError, RecursionError):
        LOGGER.warning("report answer is not JSON (%d bytes): ignored", len(payload))
        return None


class RestReporter:
    """Sends progress/results to ``base_url`` (in a background thread) and watches the kill switch."""

    def __init__(self, base_url: str, scan_id: str, token: str = "", kill_switch_interval_s: float = 300.0,
                 urgent: RetryPolicy = URGENT, non_urgent: RetryPolicy = NON_URGENT) -> None:
        self.base = check_report_url(base_url)
        self.scan_id = scan_id
        self._token = token
        self.kill_switch_interval_s = kill_switch_interval_s
        self.urgent = urgent
        self.non_urgent = non_urgent
        self.n_failed_reports = 0
        self._slots: dict[str, tuple[str, str, Any]] = {}
        self._wake = threading.Condition()
        self._send_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._final = False
        self._kill = False
        self._next_poll = 0.0

    def __repr__(self) -> str:  # the token stays out of logs and tracebacks
        return f"RestReporter({self.base!r}, {self.scan_id!r})"

    # -- one HTTP call -----------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Any, policy: RetryPolicy) -> Any:
        url = f"{self.base}/scan/{self.scan_id}/{path}"
        data = None if body is None else json.dumps(json_safe(body), allow_nan=False).encode()
        headers = {"Content-Type": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        deadline = time.monotonic() + policy.max_total_s
        for attempt in range(1, policy.max_attempts + 1):
            request = urllib.request.Request(url, data=data, method=method, headers=headers)
            timeout = max(0.1, min(policy.timeout_s, deadline - time.monotonic()))
            try:
                with _OPENER.open(request, timeout=timeout) as response:
                    return _read_json(response)
            except (urllib.error.URLError, TimeoutError, ValueError, OSError) as e:
                delay = min(policy.backoff_s * 2 ** (attempt - 1), 60.0)
                if attempt == policy.max_attempts or time.monotonic() + delay >= deadline:
                    raise ReportError(f"{method} {url} failed after {attempt} attempt(s): {e}") from None
                LOGGER.warning("%s %s failed (%s); retry %d in %.1f s", method, url, e, attempt, delay)
                time.sleep(delay)
        raise ReportError(f"{method} {url}: no attempt made")

    def _non_urgent(self, method: str, path: str, body: Any) -> Any:
        try:
            with self._send_lock:
                if self._final:
                    return None
                return self._request(method, path, body, self.non_urgent)
        except ReportError as e:
            self.n_failed_reports += 1
            LOGGER.error("report not delivered (non-urgent, scan goes on): %s", e)
            return None

    # -- the background thread ---------------------------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None and not self._final:
            self._thread = threading.Thread(target=self._run, name=f"report-{self.scan_id}", daemon=True)
            self._thread.start()

    def _enqueue(self, kind: str, method: str, path: str, body: Any) -> None:
        with self._wake:
            self._slots[kind] = (method, path, body)
            self._wake.notify()
        self._ensure_thread()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._slots and not self._final and time.monotonic() < self._next_poll:
                    self._wake.wait(max(0.01, self._next_poll - time.monotonic()))
                if self._final:
                    return
                job = self._slots.pop(next(iter(self._slots))) if self._slots else None
            if job is not None:
                self._non_urgent(*job)
            elif time.monotonic() >= self._next_poll:
                self._next_poll = time.monotonic() + self.kill_switch_interval_s
                status = self._non_urgent("GET", "status", None)
                if isinstance(status, dict) and (status.get("is_deleted") or status.get("ewms_deactivated")):
                    self._kill = True

    def close(self) -> None:
        """Stop the background thread; reports not sent yet are dropped (the final ones close it too)."""
        with self._wake:
            self._final = True
            self._slots.clear()
            self._wake.notify()

    def _send_final(self, method: str, path: str, body: Any) -> None:
        self.close()
        with self._send_lock:  # after the report in flight, if any
            self._request(method, path, body, self.urgent)

    # -- what the recorder calls -------------------------------------------------------------
    def progress(self, manifest: dict[str, Any], final: bool = False) -> None:
        if final:
            self._send_final("PATCH", "manifest", manifest)
        else:
            self._enqueue("progress", "PATCH", "manifest", manifest)

    def result(self, serialized_result: dict[str, Any], final: bool) -> None:
        body = {"skyscan_result": serialized_result, "is_final": final}
        if final:
            self._send_final("PUT", "result", body)
        else:
            self._enqueue("result", "PUT", "result", body)

    def kill_requested(self) -> bool:
        """True once a status poll (every ``kill_switch_interval_s``, in the background) said stop."""
        self._ensure_thread()
        return self._kill

    def drain(self, timeout_s: float) -> bool:
        """Wait until no non-final report is pending or in flight (tests); True if so within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._wake:
                idle = not self._slots
            if idle and self._send_lock.acquire(timeout=0.05):
                self._send_lock.release()
                with self._wake:
                    if not self._slots:
                        return True
            time.sleep(0.01)
        return False
