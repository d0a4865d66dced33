"""REST reporting against a real HTTP server on 127.0.0.1: requests, retries, auth, kill switch."""

import json
import threading
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

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        type(self).log.append((self.command, self.path, self.headers.get("Authorization"), body))
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
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def reporter(url, **kw):
    return RestReporter(url, "abc", token="s3cret", urgent=FAST, non_urgent=FAST, **kw)


def test_urgent_retries_then_succeeds(server):
    Recorder.fail_next = 2
    reporter(server).result({"nside-8": {}}, final=True)
    assert [r[0] for r in Recorder.log] == ["PUT"] * 3
    method, path, auth, body = Recorder.log[-1]
    assert path == "/scan/abc/result" and auth == "Bearer s3cret" and body["is_final"] is True


def test_urgent_gives_up_with_error_non_urgent_only_logs(server):
    Recorder.fail_next = 100
    r = reporter(server)
    with pytest.raises(ReportError, match="after 4 attempt"):
        r.progress({"progress": {}}, final=True)
    r.progress({"progress": {}})
    assert r.n_failed_reports == 1


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
