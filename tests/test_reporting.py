"""REST reporting against a real HTTP server on 127.0.0.1: requests, retries, auth, kill switch;
and (issue 18, findings 3 and 6) redirects, credentials in the URL, schemes, hanging endpoints,
non-JSON and huge answers, the time bound of the final report."""

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from skymap_scanner.api import scan
from skymap_scanner.server.checkpoint import checkpoint_path
from skymap_scanner.server.errors import ScanKilledError
from skymap_scanner.server.reporting import ReportError, RestReporter, RetryPolicy
from skymap_scanner.settings import Settings
from skymap_scanner.simulation.synthetic import synthetic_event

FAST = RetryPolicy(timeout_s=2.0, max_total_s=5.0, max_attempts=4, backoff_s=0.05)


class Recorder(BaseHTTPRequestHandler):
    log: list = []
    fail_next = 0
    status = {"is_deleted": False}
    #: seconds each request hangs before it is answered
    delay = 0.0
    #: answer every request with this (code, headers, body) instead
    answer = None

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        type(self).log.append((self.command, self.path, self.headers.get("Authorization"), body))
        time.sleep(type(self).delay)
        if type(self).answer is not None:
            code, headers, payload = type(self).answer
            self.send_response(code)
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)
            return
        if type(self).fail_next > 0:
            type(self).fail_next -= 1
            self.send_response(503)
            self.end_headers()
            return
        payload = json.dumps(type(self).status if self.command == "GET" else {}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_PATCH = _handle

    def log_message(self, *args):
        pass


@pytest.fixture()
def server():
    Recorder.log, Recorder.fail_next, Recorder.status = [], 0, {"is_deleted": False}
    Recorder.delay, Recorder.answer = 0.0, None
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


OPEN: list = []


@pytest.fixture(autouse=True)
def _close_reporters():
    yield
    while OPEN:
        OPEN.pop().close()


def reporter(url, **kw):
    OPEN.append(RestReporter(url, "abc", token="s3cret", urgent=FAST, non_urgent=FAST, **kw))
    return OPEN[-1]


def test_urgent_retries_then_succeeds(server):
    Recorder.fail_next = 2
    reporter(server).result({"nside-8": {}}, final=True)
    assert [r[0] for r in Recorder.log] == ["PUT"] * 3
    method, path, auth, body = Recorder.log[-1]
    assert path == "/scan/abc/result" and auth == "Bearer s3cret" and body["is_final"] is True


def test_urgent_gives_up_with_error_non_urgent_only_logs(server):
    Recorder.fail_next = 100
    r = reporter(server)
    r.progress({"progress": {}})
    assert r.drain(10) and r.n_failed_reports >= 1  # the progress (and the first status poll)
    with pytest.raises(ReportError, match="after 4 attempt"):
        r.progress({"progress": {}}, final=True)


def test_scan_reports_and_kill_switch_stops_it(server, tmp_path):
    settings = Settings(batch_size=4, progress_interval_s=0.2, result_interval_s=0.5, scan_id="abc")
    Recorder.status = {"is_deleted": True}
    with pytest.raises(ScanKilledError, match="kill switch"):
        scan(synthetic_event(), "dummy", "8:0", workers=1, output_dir=tmp_path, progress=False, settings=settings,
             reporter=reporter(server, kill_switch_interval_s=1.5), sleep_s="0.01")
    assert checkpoint_path(tmp_path, "abc").exists()
    paths = {(m, p) for m, p, _, _ in Recorder.log}
    assert ("PATCH", "/scan/abc/manifest") in paths and ("GET", "/scan/abc/status") in paths
    manifests = [b for m, _, _, b in Recorder.log if m == "PATCH"]
    assert {"progress", "event_metadata", "scan_metadata"} <= set(manifests[-1])


def test_final_result_and_progress_are_sent(server, tmp_path):
    scan(synthetic_event(), "dummy", "8:0", workers=1, output_dir=tmp_path, progress=False,
         settings=Settings(scan_id="abc"), reporter=reporter(server))
    finals = [(m, b) for m, _, _, b in Recorder.log if m in ("PUT", "PATCH")]
    put_final = [i for i, (m, b) in enumerate(finals) if m == "PUT" and b["is_final"]]
    assert put_final and finals[-1][0] == "PATCH" and finals[-1][1]["progress"]["finished"]
    assert len(finals[put_final[-1]][1]["skyscan_result"]["nside-8"]["data"]) == 768


def test_redirect_is_not_followed_and_the_token_goes_nowhere_else(server):
    Recorder.answer = (302, {"Location": server + "/elsewhere", "Content-Length": "0"}, b"")
    r = reporter(server, kill_switch_interval_s=0.01)
    assert not r.kill_requested()
    assert r.drain(10) and r.n_failed_reports >= 1
    assert [p for _, p, _, _ in Recorder.log] and all(p == "/scan/abc/status" for _, p, _, _ in Recorder.log)


@pytest.mark.parametrize(("url", "message"), [
    ("http://user:pw@127.0.0.1:1/", "no credentials in the URL"),
    ("file:///etc/passwd", "use http:// or https://"),
    ("ftp://host/", "use http:// or https://"),
    ("http:///nohost", "use http:// or https://"),
])
def test_unusable_report_urls_are_refused(url, message):
    with pytest.raises(ReportError, match=message) as info:
        RestReporter(url, "abc")
    assert "pw" not in str(info.value)


def test_token_is_not_in_logs_or_repr(server, caplog):
    Recorder.fail_next = 100
    r = reporter(server)
    with caplog.at_level(logging.DEBUG), pytest.raises(ReportError):
        r.result({}, final=True)
    assert "s3cret" not in caplog.text and "s3cret" not in repr(r)


def test_hanging_endpoint_does_not_stall_the_scan(server, tmp_path):
    Recorder.delay = 3.0
    slow = RetryPolicy(timeout_s=1.0, max_total_s=2.0, max_attempts=2, backoff_s=0.05)
    r = RestReporter(server, "abc", urgent=slow, non_urgent=slow, kill_switch_interval_s=0.1)
    OPEN.append(r)
    start = time.monotonic()
    for _ in range(50):  # what the scan loop does: report often, look at the kill switch
        r.progress({"progress": {}})
        r.result({}, final=False)
        assert not r.kill_requested()
    assert time.monotonic() - start < 0.5


def test_non_json_200_counts_as_delivered_and_huge_answers_are_not_read(server):
    Recorder.answer = (200, {}, b"<html>ok</html>")
    start = time.monotonic()
    reporter(server).result({}, final=True)
    assert len(Recorder.log) == 1 and time.monotonic() - start < 2
    Recorder.answer = (200, {"Content-Type": "application/json"}, b"[" * (2 * 1024 * 1024))
    r = reporter(server, kill_switch_interval_s=0.01)
    r.kill_requested()
    assert r.drain(10) and not r.kill_requested()


def test_final_report_is_bounded_in_time(server):
    Recorder.fail_next = 10_000
    policy = RetryPolicy(timeout_s=5.0, max_total_s=1.0, max_attempts=10_000, backoff_s=0.05)
    start = time.monotonic()
    with pytest.raises(ReportError):
        RestReporter(server, "abc", urgent=policy).progress({}, final=True)
    assert time.monotonic() - start < 3
