"""Hostile inputs: every entry point that reads untrusted data, fed a generated corpus (issue 18).

Usage: python benchmarks/hostile_inputs.py [--data DIR] [--corpus DIR] [--time-limit S] [--only CLASS]
                                           [--work DIR] [--output FILE.json]

Classes (the issue's findings): ``wire`` (task/result messages and the broker control payload:
deep nesting, huge, non-UTF-8, wrong types), ``auth`` (forged or unauthenticated messages to the
HMAC check), ``decoder`` (memory budgets of the alert/I3/``.npz`` decoders: pickle memo bombs,
``.i3.gz`` blobs, arrays declaring 2**40 elements), ``checkpoint`` (malformed checkpoints, edited
rows), ``event`` (open-format ``.json``/``.npz`` events: out-of-range and wrongly typed fields),
``geometry`` (CSV tables: /dev/zero, a FIFO, huge) and ``options`` (settings and reco options).

Every case is written into a temporary folder (``--work`` keeps them) as a mutation of a valid
synthetic event, message or checkpoint; every file of the hostile-inputs corpus
(``DIR/hostile-inputs``, default ``../shared/data`` or ``$SKYSCAN_TEST_DATA``) is added when it
exists. Each case runs in a forked child whose address space is capped a little above the 1 GiB
budget, killed after ``--time-limit`` s; its peak RSS comes from ``wait4`` (it includes what the
child inherited from this process, reported as ``baseline_rss_mib``). Outcomes: ``clear_error``
(the entry point's own error type, with a message), ``accepted`` (no error), ``accepted_wrongly``
(no error for an input that must be refused), ``rejected_wrongly`` (the own error for an input
that is valid by design), ``traceback`` (any other exception, or the child died), ``hang`` (time
limit), ``over_budget`` (peak RSS > 1 GiB, or a MemoryError at the cap). Goal: zero tracebacks,
zero hangs, peak RSS <= 1 GiB for any input under 10 MB.
"""

from __future__ import annotations

import argparse
import base64
import bz2
import contextlib
import copy
import gzip
import io
import json
import math
import os
import pickle
import random
import resource
import signal
import struct
import sys
import tempfile
import time
import traceback
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
MIB = 1 << 20
BUDGET_BYTES = 1 << 30
#: the RSS goal applies to inputs under this size
SMALL_INPUT_BYTES = 10 * 1000 * 1000
CLASSES = ("wire", "auth", "decoder", "checkpoint", "event", "geometry", "options")
OUTCOMES = ("clear_error", "accepted", "accepted_wrongly", "rejected_wrongly", "traceback", "hang",
            "over_budget")
CLEAN = ("clear_error", "accepted")
SCAN_ID = "hostile-scan"
SECRET = b"0123456789abcdef0123456789abcdef"
#: settings of the checkpoint cases (what the scan would pass to ``load_checkpoint``)
CHECKPOINT_SETTINGS: dict[str, Any] = {"nsides": "8:0 64:12", "n_posvar": 7, "event": "hostile"}


@dataclass(frozen=True)
class Case:
    """One hostile input: ``target`` names the entry point fed the file ``path``; ``expect`` is
    ``refuse`` (malformed), ``accept`` (valid by design) or ``either``."""

    name: str
    klass: str
    target: str
    path: str
    expect: str = "refuse"
    note: str = ""


# -- entry points (run in the child) -------------------------------------------------------------
_CONTEXT: dict[str, Any] = {}


def _key() -> Any:
    from skymap_scanner.transport.auth import ScanKey

    return ScanKey(SECRET)


def _t_task(path: Path) -> None:
    from skymap_scanner.transport.messages import decode_task

    decode_task(path.read_bytes())


def _t_result(path: Path) -> None:
    from skymap_scanner.transport.messages import decode_result

    decode_result(path.read_bytes())


def _control(data: bytes, key: Any) -> None:
    """What a broker client does with the control payload: parse, decode the event, parse the options."""
    from skymap_scanner.recos import get_reco_class
    from skymap_scanner.transport.broker import parse_control

    startup = parse_control(data, SCAN_ID, key)
    if startup is not None:
        startup.event()
        get_reco_class(startup.reco_algo).parse_options(startup.reco_options)


def _t_control(path: Path) -> None:
    _control(path.read_bytes(), None)


def _t_control_sealed(path: Path) -> None:
    _control(path.read_bytes(), _key())


def _t_auth_task(path: Path) -> None:
    from skymap_scanner.transport.messages import decode_task

    decode_task(_key().open(SCAN_ID, "task", path.read_bytes()))


def _t_auth_result(path: Path) -> None:
    from skymap_scanner.transport.messages import decode_result

    decode_result(_key().open(SCAN_ID, "result", path.read_bytes()))


def _t_event(path: Path) -> None:
    from skymap_scanner.io.events import load_event

    load_event(path, geometry_table=_CONTEXT.get("geometry_table"))


def _t_geometry(path: Path) -> None:
    from skymap_scanner.i3.geometry import read_geometry_table

    read_geometry_table(path)


def _t_checkpoint(path: Path) -> None:
    from skymap_scanner.server.checkpoint import load_checkpoint

    load_checkpoint(path, CHECKPOINT_SETTINGS)


def _t_settings(path: Path) -> None:
    """``{"settings": {...}, "env": {...}, "scan_key": bool}``: what the API/CLI do with settings."""
    from skymap_scanner.recos import get_reco_class
    from skymap_scanner.settings import load_settings

    spec = json.loads(path.read_text())
    for name in [k for k in os.environ if k.startswith("SKYSCAN_")]:
        del os.environ[name]
    os.environ.update(spec.get("env", {}))
    s = load_settings(**spec.get("settings", {}))
    get_reco_class(s.reco_algo).parse_options(s.reco_options)
    if spec.get("scan_key"):
        s.scan_key(server=False)


def _errors(target: str) -> tuple[type[BaseException], ...]:
    """The error types each entry point documents."""
    from skymap_scanner.event.model import EventError
    from skymap_scanner.recos import RecoError
    from skymap_scanner.server.checkpoint import CheckpointError
    from skymap_scanner.settings import SettingsError
    from skymap_scanner.transport.messages import MessageError
    from skymap_scanner.transport.startup import StartupError

    return {
        "task": (MessageError,), "result": (MessageError,),
        "auth_task": (MessageError,), "auth_result": (MessageError,),  # AuthError is a MessageError
        "control": (StartupError, EventError, RecoError), "control_sealed": (StartupError, EventError, RecoError),
        "event": (EventError,), "geometry": (EventError,),  # GeometryError, I3DecodeError, NpzError
        "checkpoint": (CheckpointError,), "settings": (SettingsError, RecoError),
    }[target]


TARGETS: dict[str, Callable[[Path], None]] = {
    "task": _t_task, "result": _t_result, "control": _t_control, "control_sealed": _t_control_sealed,
    "auth_task": _t_auth_task, "auth_result": _t_auth_result, "event": _t_event,
    "geometry": _t_geometry, "checkpoint": _t_checkpoint, "settings": _t_settings,
}


def _where(e: BaseException) -> str:
    """``file:line`` of the deepest frame inside the package (else the deepest frame)."""
    frames = traceback.extract_tb(e.__traceback__)
    ours = [f for f in frames if "skymap_scanner" in f.filename]
    f = (ours or frames or [None])[-1]
    if f is None:
        return ""
    name = f.filename.split("src/", 1)[-1] if "src/" in f.filename else f.filename
    return f"{name}:{f.lineno}"


def _child(case: Case, write_fd: int) -> None:
    """Run one case and write what happened (JSON) to ``write_fd``; never returns."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        soft = _vm_size() + BUDGET_BYTES + (512 << 20)
        resource.setrlimit(resource.RLIMIT_AS, (soft, soft))
        clear = _errors(case.target)
        try:
            TARGETS[case.target](Path(case.path))
            out = {"status": "accepted"}
        except clear as e:
            message = str(e).strip()
            out = {"status": "clear" if message else "other", "error": type(e).__name__,
                   "message": message[:2000] or "(empty message)", "where": _where(e)}
        except MemoryError as e:
            out = {"status": "memory", "error": "MemoryError", "message": str(e)[:2000], "where": _where(e)}
        except BaseException as e:  # noqa: BLE001 - reported to the parent as a traceback
            out = {"status": "other", "error": type(e).__name__, "message": str(e)[:2000], "where": _where(e)}
        data = json.dumps(out).encode()
    except BaseException as e:  # noqa: BLE001 - even the harness failing must not escape the child
        data = json.dumps({"status": "other", "error": type(e).__name__, "message": str(e)[:500]}).encode()
    with contextlib.suppress(OSError):
        os.write(write_fd, data)
    os._exit(0)


def _vm_size() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def prepare_parent(geometry_table: Path | None) -> None:
    """Import what the entry points need once, before forking (children then start at once)."""
    import skymap_scanner.i3.alert  # noqa: F401
    import skymap_scanner.i3.simulation  # noqa: F401
    import skymap_scanner.io.events  # noqa: F401
    import skymap_scanner.recos.dummy  # noqa: F401
    import skymap_scanner.recos.mpe_pandel  # noqa: F401
    import skymap_scanner.server.checkpoint  # noqa: F401
    import skymap_scanner.settings  # noqa: F401
    import skymap_scanner.transport.broker  # noqa: F401

    _CONTEXT["geometry_table"] = geometry_table


def run_case(case: Case, time_limit: float) -> dict[str, Any]:
    """Fork, run ``case`` in the child, classify the outcome."""
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(case, write_fd)
    os.close(write_fd)
    killed = False
    pause = 0.002
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() - start > time_limit:
            os.kill(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            killed = True
            break
        time.sleep(pause)
        pause = min(0.05, pause * 1.5)
    seconds = time.monotonic() - start
    with os.fdopen(read_fd, "rb") as f:
        raw = f.read()
    try:
        out = json.loads(raw) if raw else {}
    except ValueError:
        out = {"status": "other", "error": "?", "message": raw[:500].decode(errors="replace")}
    rss = usage.ru_maxrss * 1024
    path = Path(case.path)
    try:
        size = path.stat().st_size if path.is_file() else None
    except OSError:
        size = None
    row: dict[str, Any] = asdict(case) | {
        "seconds": round(seconds, 3), "peak_rss_mib": round(rss / MIB, 1), "size_bytes": size,
        "error": out.get("error"), "message": out.get("message"), "where": out.get("where"),
    }
    if killed:
        row["outcome"], row["message"] = "hang", f"still running after {time_limit:g} s (killed)"
    elif rss > BUDGET_BYTES or out.get("status") == "memory" or "MemoryError" in str(out.get("message", "")):
        row["outcome"] = "over_budget"
    elif not os.WIFEXITED(status) or not out:
        why = f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"status {status}"
        row["outcome"], row["error"], row["message"] = "traceback", "ChildDied", f"child died ({why})"
    elif out["status"] == "other":
        row["outcome"] = "traceback"
    elif out["status"] == "clear":
        row["outcome"] = "rejected_wrongly" if case.expect == "accept" else "clear_error"
    else:
        row["outcome"] = "accepted_wrongly" if case.expect == "refuse" else "accepted"
    return row


# -- case generation -------------------------------------------------------------------------------
class _Writer:
    """Writes case files into one folder and collects the cases."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cases: list[Case] = []

    def add(self, name: str, klass: str, target: str, data: bytes | str | Path, expect: str = "refuse",
            note: str = "", suffix: str = "") -> Path:
        if isinstance(data, Path):
            path = data
        else:
            path = self.root / klass / f"{name}{suffix}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data.encode() if isinstance(data, str) else data)
        self.cases.append(Case(name, klass, target, str(path), expect, note))
        return path

    def path(self, klass: str, name: str) -> Path:
        (self.root / klass).mkdir(parents=True, exist_ok=True)
        return self.root / klass / name


def _deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


def _base_event() -> Any:
    from skymap_scanner.simulation.synthetic import synthetic_event

    return synthetic_event()


def _wire_cases(w: _Writer, event: Any) -> None:
    from skymap_scanner.pixels.types import PixelVariation, RecoPixelVariation
    from skymap_scanner.transport.broker import done_marker
    from skymap_scanner.transport.messages import Failure, Result, Task, encode_result, encode_task
    from skymap_scanner.transport.startup import Startup

    items = [PixelVariation(8, p, 0, 0.1 * p, 0.2, 1.0, 0.5, 1.0, 2.0, 3.0, 1e4, math.nan, 1.0, 2.0, 3.0, 1e4)
             for p in range(4)]
    task = json.loads(encode_task(Task(SCAN_ID, "t1", 0, items)))
    rows = [RecoPixelVariation(8, p, 0, 1000.0 + p, 0.0, 0.0, 1.0, 2.0, 3.0, 1e4, math.nan) for p in range(4)]
    result = json.loads(encode_result(Result(SCAN_ID, "t1", "w1", 0.5, rows, [Failure((8, 9, 0), "boom")])))
    dump = json.dumps

    def t(name: str, data: bytes | str | dict, expect: str = "refuse", note: str = "") -> None:
        w.add(name, "wire", "task", dump(data) if isinstance(data, dict) else data, expect, note)

    def r(name: str, data: bytes | str | dict, expect: str = "refuse", note: str = "") -> None:
        w.add(name, "wire", "result", dump(data) if isinstance(data, dict) else data, expect, note)

    def tm(name: str, expect: str = "refuse", note: str = "", **changes: Any) -> None:
        t(name, task | changes, expect, note)

    t("task_valid", task, "accept")
    t("task_many_items_valid", task | {"items": task["items"] * 10_000}, "accept", "40000 items, < 4 MiB")
    t("task_deep_list_100k", _deep(100_000))
    t("task_deep_object_100k", b'{"a":' * 100_000 + b"1" + b"}" * 100_000)
    t("task_deep_in_items", dump(task | {"items": "@@"}).replace('"@@"', "[" * 50_000 + "]" * 50_000))
    t("task_huge_5MiB_whitespace", dump(task) + " " * (5 * MIB))
    tm("task_huge_scan_id", scan_id="x" * (5 * MIB))
    tm("task_scan_id_3MiB", "either", "under the 4 MiB limit", scan_id="x" * (3 * MIB))
    t("task_not_utf8", b"\xff\xfe\xfa" + dump(task).encode())
    t("task_latin1_in_string", dump(task).encode().replace(b'"t1"', b'"t\xe91"'))
    t("task_utf16", dump(task).encode("utf-16"), "either", "json.loads detects UTF-16")
    t("task_empty", b"")
    t("task_nul_bytes", b"\x00" * 1000)
    t("task_random_bytes", random.Random(1).randbytes(4096))
    t("task_list_top", b"[1, 2, 3]")
    t("task_string_top", b'"task"')
    t("task_null_top", b"null")
    t("task_number_1e400", b"1e400")
    t("task_int_5000_digits", b"1" * 5000)
    tm("task_version_2", v=2)
    tm("task_version_string", v="1")
    tm("task_version_true", v=True)
    tm("task_version_float", "either", "1.0 == 1", v=1.0)
    tm("task_kind_result", kind="result")
    tm("task_kind_missing", kind=None)
    tm("task_items_missing", items=None)
    tm("task_items_object", items={"0": task["items"][0]})
    tm("task_items_string", items="items")
    tm("task_item_short", items=[task["items"][0][:15]])
    tm("task_item_long", items=[[*task["items"][0], 0]])
    tm("task_item_not_list", items=[7])
    tm("task_item_string_value", items=[[*task["items"][0][:5], "x", *task["items"][0][6:]]])
    tm("task_item_bool_nside", items=[[True, *task["items"][0][1:]]])
    tm("task_item_negative_pixel", items=[[8, -1, *task["items"][0][2:]]])
    tm("task_item_float_nside", items=[[8.0, *task["items"][0][1:]]])
    tm("task_item_nested_value", items=[[*task["items"][0][:5], [1.0], *task["items"][0][6:]]])
    tm("task_item_object_value", items=[[*task["items"][0][:5], {"a": 1}, *task["items"][0][6:]]])
    tm("task_item_pixel_10e30", "either", "range checked by the collector", items=[[8, 10**30, *task["items"][0][2:]]])
    t("task_item_nside_5000_digits", dump(task).replace("[[8,", "[[" + "9" * 5000 + ",", 1))
    t("task_item_value_1e400", dump(task).replace("1.0,", "1e400,", 1), "either", "parsed as inf")
    t("task_item_value_NaN_literal", dump(task).replace("1.0,", "NaN,", 1), "either", "parsed as NaN")
    tm("task_attempt_missing", attempt=None)
    tm("task_attempt_negative", attempt=-1)
    tm("task_attempt_string", attempt="0")
    tm("task_attempt_float", attempt=0.5)
    tm("task_attempt_bool", attempt=False)
    tm("task_scan_id_int", scan_id=7)
    tm("task_task_id_null", task_id=None)
    t("task_duplicate_keys", dump(task)[:-1] + ',"attempt":-5}')

    def rm(name: str, expect: str = "refuse", note: str = "", **changes: Any) -> None:
        r(name, result | changes, expect, note)

    r("result_valid", result, "accept")
    rm("result_llh_null", "accept", results=[[*result["results"][0][:3], None, *result["results"][0][4:]]])
    r("result_deep_list_100k", _deep(100_000))
    r("result_deep_in_results", dump(result | {"results": "@@"}).replace('"@@"', "[" * 40_000 + "]" * 40_000))
    r("result_huge_5MiB", dump(result) + " " * (5 * MIB))
    r("result_not_utf8", dump(result).encode().replace(b"boom", b"bo\xff\xfeom"))
    rm("result_row_short", results=[result["results"][0][:10]])
    rm("result_row_strings", results=[[str(v) for v in result["results"][0]]])
    rm("result_failure_short", failures=[[8, 9, "boom"]])
    rm("result_failure_reason_int", failures=[[8, 9, 0, 42]])
    rm("result_failure_reason_1MiB", "either", "truncated to 500 characters", failures=[[8, 9, 0, "x" * MIB]])
    rm("result_failures_object", failures={"a": 1})
    rm("result_runtime_string", runtime_s="0.5")
    rm("result_runtime_bool", runtime_s=True)
    rm("result_worker_missing", worker=None)
    rm("result_kind_task", kind="task")

    startup = Startup.create(SCAN_ID, "dummy", event)
    control = json.loads(startup.to_json())

    def c(name: str, data: bytes | str | dict, expect: str = "refuse", note: str = "") -> None:
        w.add(name, "wire", "control", dump(data) if isinstance(data, dict) else data, expect, note)

    c("control_valid", control, "accept")
    c("control_done_marker", done_marker(SCAN_ID), "accept", "the scan is over")
    c("control_deep_list_100k", _deep(100_000))
    c("control_deep_reco_options", dump(control)[:-1] + ',"reco_options":' + "{\"a\":" * 50_000 + "1"
      + "}" * 50_000 + "}")
    c("control_not_json", b"\xff" * 100)
    c("control_empty", b"")
    c("control_list", b"[]")
    c("control_missing_hash", {k: v for k, v in control.items() if k != "event_sha256"})
    c("control_hash_mismatch", control | {"event_sha256": "0" * 64})
    c("control_bad_base64", control | {"event_npz_b64": "!!!" + control["event_npz_b64"]})
    not_npz = b"not an npz file at all"
    import hashlib

    c("control_event_not_npz", control | {"event_npz_b64": base64.b64encode(not_npz).decode(),
                                          "event_sha256": hashlib.sha256(not_npz).hexdigest()})
    bad_event = _npz_with(_event_npz_arrays(event), {"pulses.charge": -np.ones(len(event.pulses))})
    c("control_event_negative_charges", control | {"event_npz_b64": base64.b64encode(bad_event).decode(),
                                                   "event_sha256": hashlib.sha256(bad_event).hexdigest()})
    c("control_reco_options_list", control | {"reco_options": [1, 2]})
    c("control_reco_options_bad", control | {"reco_options": {"variations": 100_000_000}})
    c("control_reco_unknown", control | {"reco_algo": "../../os"})
    c("control_scan_id_object", control | {"scan_id": {"a": 1}}, "either", "str() of anything")


def _auth_cases(w: _Writer, event: Any) -> None:
    from skymap_scanner.transport.auth import PREFIX, ScanKey
    from skymap_scanner.transport.broker import done_marker
    from skymap_scanner.transport.startup import Startup

    key = ScanKey(SECRET)
    other = ScanKey(b"another-secret-of-32-bytes-long!")
    body = json.dumps({"v": 1, "kind": "task", "scan_id": SCAN_ID, "task_id": "t", "attempt": 0,
                       "items": []}).encode()
    res = json.dumps({"v": 1, "kind": "result", "scan_id": SCAN_ID, "task_id": "t", "worker": "w",
                      "runtime_s": 0.1, "results": [], "failures": []}).encode()
    sealed = key.seal(SCAN_ID, "task", body)

    def a(name: str, data: bytes, expect: str = "refuse", target: str = "auth_task", note: str = "") -> None:
        w.add(name, "auth", target, data, expect, note)

    a("task_sealed_valid", sealed, "accept")
    a("result_sealed_valid", key.seal(SCAN_ID, "result", res), "accept", "auth_result")
    a("task_unsealed", body)
    a("task_other_secret", other.seal(SCAN_ID, "task", body))
    a("task_other_scan", key.seal("another-scan", "task", body))
    a("task_sealed_as_result", key.seal(SCAN_ID, "result", body))
    a("result_sealed_as_task", key.seal(SCAN_ID, "task", res), target="auth_result")
    a("task_mac_63_hex", sealed[:len(PREFIX) + 63] + sealed[len(PREFIX) + 64:])
    a("task_mac_uppercase", PREFIX + sealed[len(PREFIX):len(PREFIX) + 64].upper() + sealed[len(PREFIX) + 64:])
    a("task_mac_zeros", PREFIX + b"0" * 64 + b":" + body)
    a("task_mac_non_ascii", PREFIX + b"\xff" * 64 + b":" + body)
    a("task_prefix_only", PREFIX)
    a("task_no_colon", sealed[:len(PREFIX) + 64] + b";" + body)
    a("task_empty", b"")
    flipped = bytearray(sealed)
    flipped[-3] ^= 1
    a("task_body_bit_flip", bytes(flipped))
    a("task_body_appended", sealed + b" ")
    a("task_other_prefix", b"skymac2:" + sealed[len(PREFIX):])
    a("task_sealed_huge_5MiB", key.seal(SCAN_ID, "task", body + b" " * (5 * MIB)))
    a("task_sealed_deep_json", key.seal(SCAN_ID, "task", _deep(100_000)))
    a("task_sealed_not_utf8", key.seal(SCAN_ID, "task", b"\xff\xfe" + body))
    a("task_huge_unsealed_16MiB", b"x" * (16 * MIB), note="MAC computed over 16 MiB")
    startup = Startup.create(SCAN_ID, "dummy", event).to_json()
    a("control_sealed_valid", key.seal(SCAN_ID, "control", startup), "accept", "control_sealed")
    a("control_unsealed", startup, target="control_sealed")
    a("control_other_secret", other.seal(SCAN_ID, "control", startup), target="control_sealed")
    a("control_task_mac_replayed", key.seal(SCAN_ID, "task", startup), target="control_sealed")
    a("control_done_unsealed", done_marker(SCAN_ID), target="control_sealed", note="a forged 'scan over'")
    a("control_done_sealed", done_marker(SCAN_ID, key), "accept", "control_sealed")
    a("control_done_other_scan", done_marker("another-scan", key), target="control_sealed")


# -- .npz / .npy building blocks
def _npy(shape: tuple[int, ...], descr: str, payload: bytes = b"", fortran: bool = False) -> bytes:
    """An ``.npy`` (version 1.0) whose header declares ``shape`` and ``descr``, then ``payload``."""
    header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape!r}, }}"
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + payload


def _npy_of(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=True)
    return buffer.getvalue()


def _zip(members: dict[str, bytes], compress: bool = True) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buffer.getvalue()


def _event_npz_arrays(event: Any) -> dict[str, bytes]:
    from skymap_scanner.event.io import event_to_bytes

    with zipfile.ZipFile(io.BytesIO(event_to_bytes(event))) as z:
        return {m: z.read(m) for m in z.namelist()}


def _npz_with(members: dict[str, bytes], arrays: dict[str, Any], drop: tuple[str, ...] = ()) -> bytes:
    out = {k: v for k, v in members.items() if k.removesuffix(".npy") not in drop}
    for k, v in arrays.items():
        out[f"{k}.npy"] = v if isinstance(v, bytes) else _npy_of(v)
    return _zip(out)


def _pickle_bombs(w: _Writer) -> None:
    """Message pickles (``.pkl`` alerts) that attack the unpickler's memory."""
    def p(name: str, data: bytes, expect: str = "refuse", note: str = "") -> None:
        w.add(name, "decoder", "event", data, expect, note, suffix=".pkl")

    p("pkl_long_binput_2p28", b"\x80\x04N" + b"r" + struct.pack("<I", 2**28) + b"0N.", note="memo index 2**28")
    p("pkl_long_binput_2p31", b"\x80\x04N" + b"r" + struct.pack("<I", 2**31 - 1) + b"0N.")
    p("pkl_put_text_index", b"\x80\x02Np99999999999\n0N.", note="PUT with a text index")
    p("pkl_memoize_200k", b"\x80\x04N" + b"\x94" * 200_000 + b".", note="200000 MEMOIZE")
    p("pkl_binget_fanout", b"\x80\x04(N\x94" + b"h\x00" * 3_000_000 + b"l.", note="list of 3M memo refs (6 MB)")
    p("pkl_nested_lists_1M", b"\x80\x04" + b"]" * 1_000_000 + b"a" * 999_999 + b".", note="1M nested lists")
    p("pkl_dicts_300k_on_stack", b"\x80\x04" + b"}" * 300_000 + b".", note="300k dicts left on the stack")
    p("pkl_list_5M_none", b"\x80\x04(" + b"N" * 5_000_000 + b"l.", note="5M Nones")
    p("pkl_global_os_system", b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06system\x93"
      b"\x8c\x04true\x85R.")
    p("pkl_global_text", b"cos\nsystem\n(S'true'\ntR.")
    p("pkl_persistent_id", b"\x80\x04\x8c\x01x\x94Q.")
    p("pkl_binbytes8_2p60", b"\x80\x04\x8e" + struct.pack("<Q", 2**60) + b"abc", note="declares 2**60 bytes")
    p("pkl_binunicode8_2p62", b"\x80\x04\x8d" + struct.pack("<Q", 2**62) + b"abc")
    p("pkl_binbytes_4GiB", b"\x80\x03B" + struct.pack("<I", 2**32 - 1) + b"abc")
    p("pkl_frame_2p62", b"\x80\x04\x95" + struct.pack("<Q", 2**62) + b"N.")
    p("pkl_bytearray8_2p60", b"\x80\x05\x96" + struct.pack("<Q", 2**60) + b"abc")
    p("pkl_truncated", pickle.dumps({"value": {"data": {"frames": [["P", "x" * 100]]}}})[:-20])
    p("pkl_empty", b"")
    p("pkl_random", random.Random(2).randbytes(65536))
    p("pkl_protocol_99", b"\x80\x63N.")
    p("pkl_long_4GiB", b"\x80\x02\x8b" + struct.pack("<i", 2**31 - 1) + b"\x01\x02")
    p("pkl_frames_not_list", pickle.dumps({"value": {"data": {"frames": "x"}}}))
    w.add("json_alert_deep_100k", "decoder", "event", b'{"value":' * 100_000 + b"1" + b"}" * 100_000,
          suffix=".json")
    w.add("json_alert_frames_not_pairs", "decoder", "event",
          json.dumps({"value": {"data": {"frames": [[1, 2, 3]] * 1000}}}), suffix=".json")


def _zlib_b64(data_len: int) -> str:
    c = zlib.compressobj(1)
    chunk = b"\x00" * MIB
    out = [c.compress(chunk) for _ in range(data_len // MIB)]
    out.append(c.flush())
    return base64.b64encode(b"".join(out)).decode()


def _alert_cases(w: _Writer, data: Path | None) -> None:
    """Mutations of a real alert message (needs the shared events)."""
    source = data / "events" / "run00136766-evt000007637140-GOLD.pkl" if data else None
    if source is None or not source.is_file():
        return
    from skymap_scanner.i3.envelope import load_message

    raw = source.read_bytes()
    w.add("alert_gold_valid", "decoder", "event", raw, "accept", suffix=".pkl")
    for frac in (0.1, 0.5, 0.9, 0.999):
        w.add(f"alert_truncated_{frac:g}", "decoder", "event", raw[:int(len(raw) * frac)], suffix=".pkl")
    rng = random.Random(3)
    for i in range(6):
        flipped = bytearray(raw)
        for _ in range(4):
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        w.add(f"alert_bit_flips_{i}", "decoder", "event", bytes(flipped), "either", suffix=".pkl")
    message = load_message(source)
    frames = message["value"]["data"]["frames"]

    def m(name: str, new_frames: Any, expect: str = "refuse", note: str = "") -> None:
        mutated = copy.deepcopy(message)
        mutated["value"]["data"]["frames"] = new_frames
        w.add(name, "decoder", "event", pickle.dumps(mutated, protocol=4), expect, note, suffix=".pkl")

    m("alert_frame_zlib_bomb_300MB", [*frames[:-1], [frames[-1][0], _zlib_b64(300 * MIB)]],
      note="the P frame inflates to 300 MB of zeros")
    m("alert_frames_200_copies", [*frames[:-1]] + [frames[-1]] * 200, "either", "200 P frames")
    m("alert_frame_bad_base64", [*frames[:-1], [frames[-1][0], "!" + frames[-1][1]]])
    m("alert_frame_not_zlib", [*frames[:-1], [frames[-1][0], base64.b64encode(b"garbage" * 100).decode()]])
    m("alert_frames_empty", [])
    m("alert_frame_stop_long", [*frames[:-1], ["PP", frames[-1][1]]])
    m("alert_frame_int", [*frames[:-1], [1, 2]])


def _i3_cases(w: _Writer, data: Path | None) -> None:
    def f(name: str, blob: bytes, suffix: str, expect: str = "refuse", note: str = "") -> None:
        w.add(name, "decoder", "event", blob, expect, note, suffix=suffix)

    zeros = _gzip_zeros(300)
    f("i3gz_bomb_300MB_zeros", zeros, ".i3.gz", note="300 MB of zeros")
    f("i3bz2_bomb_200MB_zeros", _bz2_zeros(200), ".i3.bz2")
    f("i3gz_truncated", zeros[: len(zeros) // 2], ".i3.gz")
    f("i3gz_random", gzip.compress(random.Random(4).randbytes(1 << 20)), ".i3.gz")
    f("i3_empty", b"", ".i3", "either", "no frame")
    f("i3_magic_only", b"[i3]", ".i3")
    head = b"[i3]" + struct.pack("<I", 6) + b"\x00\x00"
    f("i3_nslots_2p32", head + b"P" + struct.pack("<I", 2**32 - 1), ".i3")
    f("i3_key_len_2p31", head + b"P" + struct.pack("<I", 1) + struct.pack("<I", 2**31) + b"abc", ".i3")
    f("i3_blob_len_2p32", head + b"P" + struct.pack("<I", 1) + struct.pack("<I", 3) + b"key"
      + struct.pack("<I", 4) + b"Type" + struct.pack("<I", 2**32 - 1) + b"x" * 100, ".i3")
    f("i3_version_99", b"[i3]" + struct.pack("<I", 99) + b"\x00" * 20, ".i3")
    f("i3_stop_nul", head + b"\x00" + struct.pack("<I", 0) + b"\x00" * 4, ".i3")
    sim = data / "simulation" / "oscNext_muongun_level3_v02_first_5_frames.i3.gz" if data else None
    if sim is not None and sim.is_file():
        plain = gzip.decompress(sim.read_bytes())
        for frac in (0.3, 0.7):
            f(f"sim_truncated_{frac:g}", gzip.compress(plain[:int(len(plain) * frac)]), ".i3.gz")
        rng = random.Random(5)
        for i in range(3):
            flipped = bytearray(plain)
            for _ in range(8):
                flipped[rng.randrange(len(flipped))] ^= 0xFF
            f(f"sim_byte_flips_{i}", gzip.compress(bytes(flipped)), ".i3.gz")


def _bz2_zeros(mb: int) -> bytes:
    c = bz2.BZ2Compressor(9)
    chunk = bytes(MIB)
    return b"".join([c.compress(chunk) for _ in range(mb)] + [c.flush()])


def _gzip_zeros(mb: int) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=1) as g:
        chunk = b"\x00" * MIB
        for _ in range(mb):
            g.write(chunk)
    return buffer.getvalue()


def _npz_decoder_cases(w: _Writer, event: Any) -> None:
    members = _event_npz_arrays(event)

    def n(name: str, blob: bytes, expect: str = "refuse", note: str = "") -> None:
        w.add(name, "decoder", "event", blob, expect, note, suffix=".npz")

    n("npz_declares_2p40_float64", _npz_with(members, {"pulses.time": _npy((2**40,), "<f8", b"\x00" * 64)}))
    n("npz_declares_2p31_squared", _npz_with(members, {"pulses.time": _npy((2**31, 2**31), "<f8")}))
    n("npz_declares_2p62_shape", _npz_with(members, {"pulses.time": _npy((2**62, 4), "<f8")}),
      note="product overflows int64")
    n("npz_negative_shape", _npz_with(members, {"pulses.time": _npy((-1,), "<f8")}))
    n("npz_unicode_8GB_itemsize", _npz_with(members, {"header": _npy((), "<U2000000000")}))
    n("npz_void_huge_itemsize", _npz_with(members, {"pulses.time": _npy((4,), "|V1000000000")}))
    n("npz_deflate_bomb_400MB", _zip_zeros(members, {"pulses.time": ("<f8", 50_000_000)}),
      note="400 MB of zeros, 50M elements declared")
    columns = ("time", "charge", "string", "om", "flags")
    n("npz_16M_elements_each", _zip_zeros(members, {f"pulses.{c}": ("<f8", 16 * MIB) for c in columns}),
      note="5 x 128 MiB arrays, past the 512 MiB total")
    n("npz_12M_pulses_within_bounds", _zip_zeros(members, {f"pulses.{c}": ("<f8" if c in ("time", "charge")
                                                                           else "<i8", 12_000_000)
                                                           for c in columns}),
      note="5 x 96 MB arrays (480 MB, within the bounds), DOM (0, 0) not in the geometry")
    n("npz_10M_time_column", _npz_with(members, {"pulses.time": np.zeros(10_000_000)}), note="80 MB, lengths differ")
    n("npz_200_members", _zip({**members, **{f"junk{i}.npy": _npy_of(np.zeros(1)) for i in range(200)}}))
    n("npz_object_array", _npz_with(members, {"pulses.time": np.array([1.0, "a"], dtype=object)}))
    n("npz_header_pickled", _npz_with(members, {"header": np.array({"format": "skyscan-event"}, dtype=object)}))
    n("npz_bad_descr", _npz_with(members, {"pulses.time": _npy((4,), "<q99")}))
    n("npz_header_literal_eval_deep", _npz_with(members, {"pulses.time": b"\x93NUMPY\x01\x00"
                                                           + struct.pack("<H", 60_000) + b"(" * 59_999 + b"\n"}))
    n("npz_truncated_member", _npz_with(members, {"pulses.time": _npy((1000,), "<f8", b"\x00" * 80)}))
    n("npz_zip_bad_crc", _bad_crc(_zip(members, compress=False)))


def _zip_zeros(members: dict[str, bytes], zeros: dict[str, tuple[str, int]]) -> bytes:
    """An npz of ``members`` where each array ``name: (descr, n)`` of ``zeros`` is n zero elements
    (streamed: the zeros are never held in memory)."""
    buffer = io.BytesIO()
    chunk = bytes(MIB)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, data in members.items():
            if name.removesuffix(".npy") not in zeros:
                z.writestr(name, data)
        for name, (descr, n) in zeros.items():
            nbytes = n * np.dtype(descr).itemsize
            with z.open(f"{name}.npy", "w", force_zip64=True) as f:
                f.write(_npy((n,), descr))
                for _ in range(nbytes // MIB):
                    f.write(chunk)
                f.write(bytes(nbytes % MIB))
    return buffer.getvalue()


def _bad_crc(blob: bytes) -> bytes:
    """Flip one data byte of a stored zip (its CRC then fails)."""
    b = bytearray(blob)
    b[200] ^= 0xFF
    return bytes(b)


def _decoder_cases(w: _Writer, event: Any, data: Path | None) -> None:
    _pickle_bombs(w)
    _i3_cases(w, data)
    _npz_decoder_cases(w, event)
    _alert_cases(w, data)


def _checkpoint_cases(w: _Writer) -> None:
    from skymap_scanner.pixels.types import RecoPixelVariation
    from skymap_scanner.server.checkpoint import ScanState, save_checkpoint

    sent = [(8, p, v) for p in range(20) for v in range(7)]
    received = [RecoPixelVariation(8, p, v, math.nan if (p, v) == (0, 3) else 1000.0 + p, 0.0, 0.0,
                                   1.0, 2.0, 3.0, 1e4, math.nan) for p in range(5) for v in range(7)]
    state = ScanState(dict(CHECKPOINT_SETTINGS), sent, received, {3: "fit failed"})
    base = w.path("checkpoint", "valid.npz")
    save_checkpoint(base, state)
    w.add("valid", "checkpoint", "checkpoint", base, "accept")
    empty = w.path("checkpoint", "valid_empty.npz")
    save_checkpoint(empty, ScanState(dict(CHECKPOINT_SETTINGS), [], [], {}))
    w.add("valid_empty", "checkpoint", "checkpoint", empty, "accept")
    with zipfile.ZipFile(base) as z:
        members = {m: z.read(m) for m in z.namelist()}
    header = json.loads(str(np.lib.format.read_array(io.BytesIO(members["header.npy"]))))
    sent_a = np.array(sent, np.int64)
    recv_a = np.array([r.as_row() for r in received], np.float64)

    def c(name: str, blob: bytes, expect: str = "refuse", note: str = "") -> None:
        w.add(name, "checkpoint", "checkpoint", blob, expect, note, suffix=".npz")

    def arrays(expect: str = "refuse", note: str = "", name: str = "", **new: Any) -> None:
        c(name, _npz_with(members, {k: v for k, v in new.items() if v is not None},
                          drop=tuple(k for k, v in new.items() if v is None)), expect, note)

    def head(name: str, h: Any, expect: str = "refuse") -> None:
        arrays(expect, name=name, header=np.array(h if isinstance(h, str) else json.dumps(h)))

    def edit(array: np.ndarray, row: int, col: int, value: float) -> np.ndarray:
        out = array.copy()
        out[row, col] = value
        return out

    c("not_zip_text", b"this is not a checkpoint\n" * 100)
    c("empty_file", b"")
    c("truncated_zip", base.read_bytes()[: base.stat().st_size // 2])
    c("zip_garbage_member", _zip({"header.npy": b"garbage", "sent.npy": b"x", "received.npy": b"y"}))
    c("zip_bad_crc", _bad_crc(_zip(members, compress=False)))
    arrays(name="missing_header", header=None)
    arrays(name="missing_sent", sent=None)
    arrays(name="missing_received", received=None)
    arrays(name="header_int_array", header=np.arange(3))
    head("header_deep_json_100k", "[" * 100_000 + "]" * 100_000)
    head("header_deep_object_50k", '{"a":' * 50_000 + "1" + "}" * 50_000)
    head("header_not_json", "{not json")
    head("header_list", [1, 2])
    head("header_version_2", header | {"version": 2})
    head("header_version_missing", {k: v for k, v in header.items() if k != "version"})
    head("header_settings_differ", header | {"settings": CHECKPOINT_SETTINGS | {"event": "other"}})
    head("header_settings_list", header | {"settings": [1]})
    head("header_reasons_key_text", header | {"reasons": {"x": "boom"}})
    head("header_reasons_value_int", header | {"reasons": {"3": 4}})
    head("header_reasons_row_missing", header | {"reasons": {"9999": "boom"}})
    head("header_reasons_list", header | {"reasons": ["boom"]})
    head("header_reasons_huge_key", header | {"reasons": {"9" * 5000: "boom"}})
    arrays(name="sent_width_4", sent=np.zeros((3, 4), np.int64))
    arrays(name="sent_float", sent=sent_a.astype(np.float64))
    arrays(name="sent_3d", sent=sent_a.reshape(-1, 3, 1))
    arrays(name="sent_strings", sent=sent_a.astype(str))
    arrays(name="received_int", received=np.nan_to_num(recv_a).astype(np.int64))
    arrays(name="received_width_10", received=recv_a[:, :10])
    arrays(name="sent_nside_7", sent=edit(sent_a, 0, 0, 7))
    arrays(name="sent_nside_1024", sent=edit(sent_a, 0, 0, 1024))
    arrays(name="sent_pixel_10e12", sent=edit(sent_a, 0, 1, 10**12))
    arrays(name="sent_pixel_768", sent=edit(sent_a, 0, 1, 768), note="first pixel past nside 8")
    arrays(name="sent_pixel_negative", sent=edit(sent_a, 0, 1, -1))
    arrays(name="sent_variation_7", sent=edit(sent_a, 0, 2, 7))
    arrays(name="sent_duplicate", sent=np.vstack([sent_a, sent_a[:1]]))
    arrays(name="sent_uint64_max", sent=edit(sent_a.astype(np.uint64), 0, 1, 2**64 - 1))
    arrays(name="received_never_sent", received=edit(recv_a, 0, 1, 19.0), sent=sent_a[7:])
    arrays(name="received_duplicate", received=np.vstack([recv_a, recv_a[:1]]))
    arrays(name="received_llh_inf", received=edit(recv_a, 1, 3, math.inf))
    arrays(name="received_pixel_nan", received=edit(recv_a, 1, 1, math.nan))
    arrays(name="received_pixel_1e300", received=edit(recv_a, 1, 1, 1e300))
    arrays(name="received_pixel_fraction", received=edit(recv_a, 1, 1, 1.5), expect="either",
           note="1.5 is truncated to pixel 1")
    arrays(name="received_nside_7", received=edit(recv_a, 1, 0, 7.0))
    arrays(name="received_declares_2p40_rows", received=_npy((2**40, 11), "<f8"))
    arrays(name="received_object_array", received=np.array([[None] * 11], dtype=object))
    c("zip_100_members", _zip({**members, **{f"x{i}.npy": _npy_of(np.zeros(1)) for i in range(100)}}))
    w.add("directory", "checkpoint", "checkpoint", w.path("checkpoint", "a_directory.npz"))
    Path(w.cases[-1].path).mkdir(exist_ok=True)
    fifo = w.path("checkpoint", "fifo.npz")
    with contextlib.suppress(FileExistsError):
        os.mkfifo(fifo)
    w.add("fifo", "checkpoint", "checkpoint", fifo, note="a FIFO where the checkpoint should be")
    link = w.path("checkpoint", "dev_zero.npz")
    with contextlib.suppress(FileExistsError):
        link.symlink_to("/dev/zero")
    w.add("dev_zero", "checkpoint", "checkpoint", link, note="symlink to /dev/zero")
    w.add("missing", "checkpoint", "checkpoint", w.path("checkpoint", "no_such_checkpoint.npz"))


def _event_cases(w: _Writer, event: Any) -> None:
    from skymap_scanner.event.io import event_to_dict, write_event

    base = event_to_dict(event)
    n = len(base["pulses"]["time"])

    def e(name: str, data: bytes | str | dict, expect: str = "refuse", note: str = "", suffix: str = ".json") -> None:
        w.add(name, "event", "event", json.dumps(data) if isinstance(data, dict) else data, expect, note, suffix)

    def meta(name: str, expect: str = "refuse", note: str = "", **changes: Any) -> None:
        e(name, base | {"metadata": base["metadata"] | changes}, expect, note)

    def raw_meta(name: str, key: str, literal: str, expect: str = "refuse") -> None:
        text = json.dumps(base | {"metadata": base["metadata"] | {key: "@@"}})
        e(name, text.replace('"@@"', literal), expect)

    def pulses(name: str, expect: str = "refuse", note: str = "", **columns: Any) -> None:
        e(name, base | {"pulses": base["pulses"] | columns}, expect, note)

    def geometry(name: str, expect: str = "refuse", **columns: Any) -> None:
        e(name, base | {"geometry": base["geometry"] | columns}, expect)

    def with_first(values: list, first: Any) -> list:
        return [first, *values[1:]]

    e("valid", base, "accept")
    write_event(event, w.path("event", "valid.npz"))
    w.add("valid_npz", "event", "event", w.path("event", "valid.npz"), "accept")
    meta("valid_real_event", "accept", run_id=136662, is_real_event=True)
    meta("valid_mjd_1950", "accept", mjd=33282.0)
    e("valid_no_seeds", base | {"seeds": {}}, "accept")
    e("valid_utf8_bom", "\ufeff" + json.dumps(base), "accept")
    e("valid_one_pulse", base | {"pulses": {k: v[:1] for k, v in base["pulses"].items()}}, "accept")
    big = 200_000
    e("valid_200k_pulses", base | {"pulses": {k: (v * (big // n + 1))[:big] for k, v in base["pulses"].items()}},
      "accept", "about 8 MB of JSON")
    raw_meta("run_id_1e400_literal", "run_id", "1e400")
    raw_meta("run_id_Infinity", "run_id", "Infinity")
    raw_meta("run_id_NaN", "run_id", "NaN")
    meta("run_id_136662.9", run_id=136662.9)
    meta("run_id_float_integral", run_id=136662.0)
    meta("run_id_negative", run_id=-1)
    meta("run_id_2p63", run_id=2**63)
    meta("run_id_10e30", run_id=10**30)
    raw_meta("run_id_5000_digits", "run_id", "9" * 5000)
    meta("run_id_string", run_id="136662")
    meta("run_id_true", run_id=True)
    meta("run_id_null", run_id=None)
    meta("run_id_real_out_of_range", run_id=5, is_real_event=True)
    meta("event_id_1e30", event_id=1e30)
    meta("event_id_list", event_id=[1])
    meta("mjd_1e300", mjd=1e300)
    meta("mjd_neg_1e7", mjd=-1e7)
    raw_meta("mjd_NaN", "mjd", "NaN")
    raw_meta("mjd_Infinity", "mjd", "-Infinity")
    meta("mjd_string", mjd="59000")
    meta("mjd_null", mjd=None)
    meta("mjd_true", mjd=True)
    meta("event_type_slash", event_type="a/b")
    meta("event_type_dotdot", event_type="../../etc/cron.d/x")
    meta("event_type_nul", event_type="neutrino\x00x")
    meta("event_type_10kB", event_type="x" * 10_000)
    meta("event_type_empty", event_type="")
    meta("event_type_int", event_type=123)
    meta("event_type_unicode", event_type="néutrino")
    meta("event_type_newline", event_type="neutrino\n")
    meta("is_real_event_string_false", is_real_event="false")
    meta("is_real_event_int", is_real_event=0)
    meta("is_real_event_null", is_real_event=None)
    e("metadata_missing_run_id", base | {"metadata": {k: v for k, v in base["metadata"].items() if k != "run_id"}})
    e("metadata_list", base | {"metadata": [1]})
    pulses("time_1e20", time=with_first(base["pulses"]["time"], 1e20))
    e("time_complex_npz", _npz_with(_event_npz_arrays(event), {"pulses.time": np.asarray(event.pulses.time) + 1j}),
      suffix=".npz")
    pulses("time_strings", time=[str(t) for t in base["pulses"]["time"]])
    pulses("time_one_string", time=with_first(base["pulses"]["time"], "1.0"))
    pulses("time_null", time=with_first(base["pulses"]["time"], None))
    pulses("time_nested", time=[[t] for t in base["pulses"]["time"]])
    pulses("time_ragged", time=[[1.0], [2.0, 3.0]] + base["pulses"]["time"][2:])
    pulses("time_object", time={"a": 1})
    pulses("time_bool", time=[True] * n)
    e("time_NaN_literal", json.dumps(base).replace(f'"time": [{base["pulses"]["time"][0]!r}', '"time": [NaN', 1))
    pulses("time_short", time=base["pulses"]["time"][:-1])
    pulses("flags_300", flags=with_first(base["pulses"]["flags"], 300))
    pulses("flags_negative", flags=with_first(base["pulses"]["flags"], -1))
    pulses("flags_float", flags=with_first(base["pulses"]["flags"], 1.5))
    pulses("charge_negative", charge=with_first(base["pulses"]["charge"], -1.0))
    pulses("charge_all_negative", charge=[-c for c in base["pulses"]["charge"]])
    pulses("charge_inf", charge=with_first(base["pulses"]["charge"], 1e400))
    pulses("charge_zero_all", "either", "no charge at all", charge=[0.0] * n)
    pulses("string_float", string=with_first(base["pulses"]["string"], 1.5))
    pulses("string_1e10", string=with_first(base["pulses"]["string"], 10**10))
    pulses("string_2p70", string=with_first(base["pulses"]["string"], 2**70))
    pulses("om_negative", om=with_first(base["pulses"]["om"], -1))
    pulses("dom_not_in_geometry", string=with_first(base["pulses"]["string"], 999))
    e("pulses_empty", base | {"pulses": {k: [] for k in base["pulses"]}})
    e("pulses_missing", {k: v for k, v in base.items() if k != "pulses"})
    e("pulses_list", base | {"pulses": [1, 2]})
    e("pulses_missing_charge", base | {"pulses": {k: v for k, v in base["pulses"].items() if k != "charge"}})
    geometry("geometry_x_nan", x=[None] + base["geometry"]["x"][1:])
    e("geometry_x_NaN_literal", json.dumps(base).replace(f'"x": [{base["geometry"]["x"][0]!r}', '"x": [NaN', 1))
    geometry("geometry_inf", z=[1e400] + base["geometry"]["z"][1:])
    geometry("geometry_duplicate_row", string=[base["geometry"]["string"][1]] + base["geometry"]["string"][1:],
             om=[base["geometry"]["om"][1]] + base["geometry"]["om"][1:])
    geometry("geometry_short_column", y=base["geometry"]["y"][:-1])
    e("seed_not_object", base | {"seeds": {"direction": [1, 2]}})
    e("seed_zenith_string", base | {"seeds": {"direction": {"zenith": "abc"}}})
    e("seed_unknown_field", base | {"seeds": {"direction": {"spin": 1}}})
    e("seed_vertex_1e308", base | {"seeds": {"vertex": {"x": 1e308, "y": 1e308, "z": 1e308, "time": 0.0}}},
      "either", "a seed far away")
    e("seeds_list", base | {"seeds": [1]})
    e("truth_losses_4_columns", base | {"truth_losses": [[1.0, 2.0, 3.0, 4.0]]})
    e("truth_losses_strings", base | {"truth_losses": [["a"] * 5]})
    e("truth_info_nested", base | {"truth_info": {"a": {"b": 1}}})
    e("truth_loss_types_string", base | {"truth_loss_types": "em"})
    e("format_other", base | {"format": "other-format"}, "refuse", "read as an alert message")
    e("format_version_2", base | {"format_version": 2})
    e("format_version_string", base | {"format_version": "1"})
    e("top_level_list", b"[" + json.dumps(base).encode() + b"]")
    e("deep_nesting_100k", _deep(100_000))
    e("deep_object_100k", b'{"format":' * 100_000 + b"1" + b"}" * 100_000)
    e("deep_in_metadata", json.dumps(base).replace('"metadata": {', '"x": ' + "[" * 50_000 + "]" * 50_000
                                                   + ', "metadata": {', 1))
    e("deep_in_pulses_time", json.dumps(base).replace('"time": [', '"time": [' + "[" * 50_000 + "]" * 50_000
                                                      + ",", 1))
    e("not_utf8", json.dumps(base).encode().replace(b"synthetic", b"synth\xe9tic", 1))
    e("utf16", json.dumps(base).encode("utf-16"))
    e("empty", b"")
    e("nul_bytes", b"\x00" * 4096)
    e("int_5000_digits_top", b"9" * 5000)
    huge = w.path("event", "sparse_300MB.json")
    with huge.open("wb") as f:
        f.truncate(300 * 1000 * 1000)
    w.add("sparse_300MB_json", "event", "event", huge, note="300 MB of NULs (sparse file)")
    fifo = w.path("event", "fifo.json")
    with contextlib.suppress(FileExistsError):
        os.mkfifo(fifo)
    w.add("fifo_json", "event", "event", fifo)
    link = w.path("event", "dev_zero.json")
    with contextlib.suppress(FileExistsError):
        link.symlink_to("/dev/zero")
    w.add("dev_zero_json", "event", "event", link)
    w.add("dev_zero", "event", "event", Path("/dev/zero"))
    w.add("directory_json", "event", "event", w.path("event", "a_directory.json"))
    Path(w.cases[-1].path).mkdir(exist_ok=True)
    e("unknown_suffix", json.dumps(base), suffix=".txt")
    members = _event_npz_arrays(event)

    def npz(name: str, blob: bytes, expect: str = "refuse") -> None:
        e(name, blob, expect, suffix=".npz")

    npz("npz_header_deep_json", _npz_with(members, {"header": np.array("[" * 100_000 + "]" * 100_000)}))
    npz("npz_header_not_string", _npz_with(members, {"header": np.arange(4)}))
    npz("npz_header_missing", _npz_with(members, {}, drop=("header",)))
    npz("npz_time_2d", _npz_with(members, {"pulses.time": np.asarray(event.pulses.time).reshape(-1, 1)}))
    npz("npz_time_strings", _npz_with(members, {"pulses.time": np.asarray(event.pulses.time).astype(str)}))
    npz("npz_string_uint64_max", _npz_with(members, {"pulses.string": np.full(n, 2**64 - 1, np.uint64)}))
    npz("npz_flags_float", _npz_with(members, {"pulses.flags": np.full(n, 1.5)}))
    npz("npz_fortran_2d_geometry", _npz_with(members, {"geometry.x": np.asfortranarray(np.zeros((2, 2)))}))
    npz("npz_not_zip", b"PK\x03\x04 this is not really a zip")


def _geometry_cases(w: _Writer, event: Any) -> Path:
    """Mutations of a CSV table written from the synthetic event's geometry; returns the valid table."""
    g = event.geometry
    lines = ["string,om,x,y,z,dom_type"] + [f"{s},{o},{x:.3f},{y:.3f},{z:.3f},20"
                                            for s, o, x, y, z in zip(g.string, g.om, g.x, g.y, g.z, strict=True)]
    text = "\n".join(lines) + "\n"

    def c(name: str, data: bytes | str, expect: str = "refuse", note: str = "") -> Path:
        return w.add(name, "geometry", "geometry", data, expect, note, suffix=".csv")

    def row(i: int, new: str) -> str:
        out = list(lines)
        out[i] = new
        return "\n".join(out) + "\n"

    valid = c("valid", text, "accept")
    c("valid_no_dom_type", "\n".join(ln.rsplit(",", 1)[0] for ln in lines) + "\n", "accept")
    c("valid_crlf", text.replace("\n", "\r\n"), "either")
    c("valid_bom", "\ufeff" + text, "either", "a UTF-8 BOM before the header")
    c("valid_extra_columns", "\n".join(ln + ",extra" for ln in lines) + "\n", "either")
    c("empty", b"")
    c("header_only", lines[0] + "\n")
    c("missing_z_column", "\n".join(ln.replace(",", ";", 4) for ln in lines[:1]) + "\n" + "\n".join(lines[1:]))
    c("nan_value", row(1, "1,1,nan,0,0,20"))
    c("inf_value", row(1, "1,1,inf,0,0,20"))
    c("value_1e400", row(1, "1,1,1e400,0,0,20"))
    c("text_value", row(1, "1,1,abc,0,0,20"))
    c("empty_value", row(1, "1,1,,0,0,20"))
    c("ragged_row", row(1, "1,1,0,0"))
    c("extra_field_row", row(1, "1,1,0,0,0,20,7,8"), "either", "fields past the header's are ignored (usecols)")
    c("string_1e30", row(1, "1e30,1,0,0,0,20"))
    c("string_fraction", row(1, "1.5,1,0,0,0,20"))
    c("string_negative", row(1, "-3,1,0,0,0,20"), "either")
    c("all_icetop", text.replace(",20\n", ",30\n"))
    c("duplicate_rows", text + lines[1] + "\n")
    c("not_utf8", text.encode().replace(b"string", b"str\xffing", 1))
    c("nul_bytes", b"\x00" * 4096)
    c("binary_garbage", random.Random(6).randbytes(65536))
    c("header_10MB", "string,om,x,y,z," + "a" * (10 * 1000 * 1000) + "\n1,1,0,0,0,0\n", "either",
      "a valid table whose sixth column has a 10 MB name")
    c("long_line_no_newline", "x" * (20 * 1000 * 1000), note="20 MB with no newline")
    huge = w.path("geometry", "sparse_100MB.csv")
    with huge.open("wb") as f:
        f.truncate(100 * 1000 * 1000)
    w.add("sparse_100MB", "geometry", "geometry", huge)
    fifo = w.path("geometry", "fifo.csv")
    with contextlib.suppress(FileExistsError):
        os.mkfifo(fifo)
    w.add("fifo", "geometry", "geometry", fifo)
    w.add("dev_zero", "geometry", "geometry", Path("/dev/zero"))
    link = w.path("geometry", "dev_zero.csv")
    with contextlib.suppress(FileExistsError):
        link.symlink_to("/dev/zero")
    w.add("dev_zero_symlink", "geometry", "geometry", link)
    w.add("directory", "geometry", "geometry", w.path("geometry", "a_directory.csv"))
    Path(w.cases[-1].path).mkdir(exist_ok=True)
    w.add("missing", "geometry", "geometry", w.path("geometry", "no_such_table.csv"))
    return valid


def _options_cases(w: _Writer) -> None:
    def o(name: str, settings: dict | None = None, env: dict | None = None, expect: str = "refuse",
          note: str = "", scan_key: bool = False) -> None:
        spec = {"settings": settings or {}, "env": env or {}, "scan_key": scan_key}
        w.add(name, "options", "settings", json.dumps(spec), expect, note, suffix=".json")

    dummy = {"reco_algo": "dummy"}
    o("defaults", expect="accept")
    o("valid_dummy_variations_cli", dummy | {"reco_options": {"variations": "10"}}, expect="accept")
    o("valid_nsides", {"nsides": "8:0 64:12"}, expect="accept")
    o("valid_batch_size_5000", {"batch_size": 5000}, expect="accept")
    o("valid_env_reco_options", env={"SKYSCAN_RECO_ALGO": "dummy", "SKYSCAN_RECO_OPTIONS": '{"variations": 3}'},
      expect="accept")
    o("valid_scan_secret", {"scan_secret": "s" * 32}, expect="accept", scan_key=True)
    o("batch_size_100000", {"batch_size": 100_000})
    o("batch_size_0", {"batch_size": 0})
    o("batch_size_negative", {"batch_size": -1})
    o("batch_size_text", {"batch_size": "abc"})
    o("batch_size_fraction", {"batch_size": 1.5})
    o("batch_size_1e400_env", env={"SKYSCAN_BATCH_SIZE": "1e400"})
    o("batch_size_5000_digits_env", env={"SKYSCAN_BATCH_SIZE": "9" * 5000})
    for name, value in [("1024_0", "1024:0"), ("ext_0_after_first", "8:0 64:0"), ("empty", ""),
                        ("nside_7", "7:0"), ("first_ext_1", "8:1"), ("descending", "64:0 8:4"),
                        ("nside_2p40", f"{2**40}:0"), ("negative_ext", "8:0 64:-1"), ("exponent", "1e3:0"),
                        ("huge_ext", "8:0 64:99999999999999999999999"), ("text", "eight:zero"),
                        ("repeated_10k", "8:0 " * 10_000), ("nside_0", "0:0"), ("nul", "8:0\x0064:12")]:
        o(f"nsides_{name}", {"nsides": value})
    o("nsides_list_of_ints", {"nsides": [8, 64]})
    o("nsides_env_1024", env={"SKYSCAN_NSIDES": "1024:0"})
    for name, value in [("100000000", 100_000_000), ("minus_3", -3), ("text", "abc"), ("1e400", "1e400"),
                        ("cli_100000000", "100000000"), ("float", 2.5), ("list", [1])]:
        o(f"dummy_variations_{name}", dummy | {"reco_options": {"variations": value}})
    o("dummy_sigma_nan", dummy | {"reco_options": {"sigma_deg": "nan"}}, expect="either",
      note="no bound on sigma_deg")
    o("dummy_unknown_option", dummy | {"reco_options": {"bogus": 1}})
    o("mpe_max_iterations_0", {"reco_options": {"max_iterations": 0}})
    o("mpe_max_iterations_1e9", {"reco_options": {"max_iterations": 10**9}}, expect="either",
      note="no upper bound")
    o("mpe_ice_H9", {"reco_options": {"ice": "H9"}})
    o("mpe_jitter_nan", {"reco_options": {"jitter_ns": "nan"}})
    o("mpe_jitter_negative", {"reco_options": {"jitter_ns": -1}})
    o("mpe_device_tpu", {"reco_options": {"device": "tpu"}})
    o("reco_options_list", {"reco_options": [1, 2]})
    o("reco_options_env_bad_json", env={"SKYSCAN_RECO_OPTIONS": "{bad"})
    o("reco_options_env_list", env={"SKYSCAN_RECO_OPTIONS": "[1, 2]"})
    o("reco_options_env_deep_100k", env={"SKYSCAN_RECO_OPTIONS": "[" * 100_000 + "]" * 100_000})
    o("reco_options_env_deep_object", env={"SKYSCAN_RECO_OPTIONS": '{"a":' * 100_000 + "1" + "}" * 100_000})
    for name, value in [("path", "../../etc/passwd"), ("os", "os"), ("init", "__init__"), ("empty", ""),
                        ("long", "x" * 10_000), ("common", "common"), ("dotted", "dummy.sub"), ("nul", "dummy\x00")]:
        o(f"reco_algo_{name}", {"reco_algo": value})
    o("transport_ftp", {"transport": "ftp://host"})
    o("broker_url_http", {"broker_url": "http://host"})
    o("scan_id_slash", {"scan_id": "a/b"})
    o("scan_id_65_chars", {"scan_id": "a" * 65})
    o("pst_5", {"predictive_scanning_threshold": 5})
    o("pointing_radius_0", {"pointing_radius_deg": 0})
    o("smooth_1e300", {"smooth_deg": 1e300})
    o("idle_timeout_nan", {"idle_timeout_s": "nan"})
    o("idle_timeout_inf", {"idle_timeout_s": "inf"}, expect="either")
    o("max_attempts_googol", {"max_attempts": 10**100})
    o("workers_0", {"workers": 0})
    o("workers_env_1e9", env={"SKYSCAN_WORKERS": "1e9"})
    o("refine_seed_text", {"refine_seed": "maybe"})
    o("scan_secret_short", {"scan_secret": "short"}, scan_key=True)
    o("scan_secret_missing_client", scan_key=True)
    o("scan_secret_file_dev_zero", {"scan_secret_file": "/dev/zero"}, scan_key=True)
    o("scan_secret_file_missing", {"scan_secret_file": "/nonexistent/secret"}, scan_key=True)


# -- the hostile-inputs corpus ------------------------------------------------------------------
#: corpus files whose mutation the decoders never read (checked: the event equals the unmutated one)
_CORPUS_UNREAD = {"hese_charge_inf.json": "UncleanedInIcePulses (Q frame) is not the pulse key read",
                  "hese_charge_nan.json": "UncleanedInIcePulses (Q frame) is not the pulse key read",
                  "hese_charge_neg.json": "UncleanedInIcePulses (Q frame) is not the pulse key read",
                  "hese_time_inf.json": "UncleanedInIcePulses (Q frame) is not the pulse key read",
                  "hese_time_nan.json": "UncleanedInIcePulses (Q frame) is not the pulse key read",
                  "hese_time_neg.json": "UncleanedInIcePulses (Q frame) is not the pulse key read",
                  "ar_triggers_2p63.pkl": "trigger hierarchies are not decoded"}
_CORPUS_ACCEPT = {"o_base.json", "o_base.npz", "big_10k_pulses.json", "o_one_pulse.json", "o_two_pulses.json",
                  *(f"pk_bronze_proto{i}.pkl" for i in range(6))}
_CORPUS_EITHER_PREFIXES = ("fr_valid_", "fr_envelope_proto", "pm_dom_off_geometry", "pm_dup_dom", "pm_om_99",
                           "pm_string_neg", "pm_time_neg", "pm_icetop_only", "pm_one_pulse", "pm_zero_pulses_one_dom",
                           "pm_charge_zero_all", "g_bom", "g_quoted_header", "g_one_dom_per_string",
                           "g_huge_coords", "o_seed_direction_1e300", "o_seed_vertex_1e308",
                           "o_all_pulses_one_dom_same_time", "o_charge_zero_all", "ar_mask_65535",
                           "o_event_id_neg", "i3_empty")


def corpus_class(name: str) -> str:
    if name.startswith("g_"):
        return "geometry"
    if name.startswith(("o_", "hese_", "big_")) or (name.startswith("n_") and "declared" not in name):
        return "event"
    return "decoder"


def corpus_expectation(name: str) -> str:
    if name in _CORPUS_ACCEPT:
        return "accept"
    if name.startswith(_CORPUS_EITHER_PREFIXES) or name in _CORPUS_UNREAD:
        return "either"
    return "refuse"


def corpus_cases(corpus: Path) -> list[Case]:
    files = sorted(p for p in corpus.iterdir() if p.is_file() and p.name != "README.md")
    out = []
    for p in files:
        klass = corpus_class(p.name)
        out.append(Case(f"corpus:{p.name}", klass, "geometry" if klass == "geometry" else "event", str(p),
                        corpus_expectation(p.name), _CORPUS_UNREAD.get(p.name, "hostile-inputs corpus")))
    return out


def generate_cases(work: Path, corpus: Path | None = None, data: Path | None = None,
                   classes: tuple[str, ...] = CLASSES) -> list[Case]:
    """Write the generated cases of ``classes`` into ``work`` and return them (then the corpus
    files of those classes, if any)."""
    w = _Writer(work)
    event = _base_event()
    makers: dict[str, Callable[[], Any]] = {
        "wire": lambda: _wire_cases(w, event), "auth": lambda: _auth_cases(w, event),
        "decoder": lambda: _decoder_cases(w, event, data), "checkpoint": lambda: _checkpoint_cases(w),
        "event": lambda: _event_cases(w, event), "geometry": lambda: _geometry_cases(w, event),
        "options": lambda: _options_cases(w),
    }
    for klass, make in makers.items():
        if klass in classes:
            make()
    cases = list(w.cases)
    if corpus is not None and corpus.is_dir():
        cases += [c for c in corpus_cases(corpus) if c.klass in classes]
    names = [f"{c.klass}/{c.name}" for c in cases]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise RuntimeError(f"duplicate case names: {sorted(duplicates)}")
    return cases


def geometry_table_for(data: Path | None, work: Path) -> Path:
    """The table alerts are decoded with: the shared IceCube-86 table, else the synthetic one."""
    if data is not None and (data / "geometry" / "icecube86.csv").is_file():
        return data / "geometry" / "icecube86.csv"
    return work / "geometry" / "valid.csv"


def run_cases(cases: list[Case], time_limit: float, progress: bool = False) -> Iterator[dict[str, Any]]:
    for i, case in enumerate(cases):
        row = run_case(case, time_limit)
        if progress:
            print(f"[{i + 1:>3}/{len(cases)}] {case.klass:<10} {case.name:<45} {row['outcome']:<16} "
                  f"{row['peak_rss_mib']:>7.0f} MiB {row['seconds']:>6.2f} s", file=sys.stderr, flush=True)
        yield row


def summarize(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for klass in [*CLASSES, "all"]:
        mine = [r for r in rows if klass in ("all", r["klass"])]
        if not mine:
            continue
        out[klass] = {"cases": len(mine), **{o: sum(r["outcome"] == o for r in mine) for o in OUTCOMES},
                      "max_peak_rss_mib": max(r["peak_rss_mib"] for r in mine),
                      "max_seconds": max(r["seconds"] for r in mine)}
    return out


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0][:200] if (text or "").strip() else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(os.environ.get("SKYSCAN_TEST_DATA", REPO.parent / "shared" / "data"))
    parser.add_argument("--data", type=Path, default=default, help="shared data folder")
    parser.add_argument("--corpus", type=Path, help="hostile-inputs corpus (default DATA/hostile-inputs)")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per case")
    parser.add_argument("--only", choices=CLASSES, help="run one class only")
    parser.add_argument("--work", type=Path, help="write the cases here and keep them (default: a temp folder)")
    parser.add_argument("--progress", action="store_true", help="one line per case on stderr")
    parser.add_argument("--output", type=Path, help="also write everything as JSON")
    args = parser.parse_args()
    data = args.data if args.data.is_dir() else None
    corpus = args.corpus or (args.data / "hostile-inputs")
    corpus_note = "" if corpus.is_dir() else f"corpus {corpus} is absent: its files are skipped"
    with contextlib.ExitStack() as stack:
        work = args.work or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hostile-")))
        work.mkdir(parents=True, exist_ok=True)
        cases = generate_cases(work, corpus if corpus.is_dir() else None, data,
                               (args.only,) if args.only else CLASSES)
        table = geometry_table_for(data, work)
        if not table.is_file():
            _geometry_cases(_Writer(work / "_table"), _base_event())
            table = work / "_table" / "geometry" / "valid.csv"
        prepare_parent(table)
        baseline = _rss()
        rows = list(run_cases(cases, args.time_limit, args.progress))
    summary = summarize(rows)
    if corpus_note:
        print(f"note: {corpus_note}")
    header = f"{'class':<11}{'cases':>6}" + "".join(f"{o:>17}" for o in OUTCOMES) + f"{'max MiB':>9}{'max s':>8}"
    print(header)
    for klass, s in summary.items():
        print(f"{klass:<11}{s['cases']:>6}" + "".join(f"{s[o]:>17}" for o in OUTCOMES)
              + f"{s['max_peak_rss_mib']:>9.0f}{s['max_seconds']:>8.2f}")
    bad = [r for r in rows if r["outcome"] not in CLEAN]
    print(f"\n{len(bad)} case(s) not clean" + (":" if bad else ""))
    for r in bad:
        where = f" [{r['where']}]" if r.get("where") else ""
        print(f"  {r['outcome']:<16} {r['klass']}/{r['name']}: {r.get('error') or ''}: "
              f"{_first_line(r.get('message'))}{where}")
    small = [r for r in rows if r["size_bytes"] is not None and r["size_bytes"] < SMALL_INPUT_BYTES]
    max_small = max((r["peak_rss_mib"] for r in small), default=0.0)
    goal = (summary["all"]["traceback"] == 0 and summary["all"]["hang"] == 0
            and max_small <= BUDGET_BYTES / MIB)
    print(f"\nbaseline RSS (inherited by every child) {baseline / MIB:.0f} MiB; peak RSS of inputs < 10 MB: "
          f"{max_small:.0f} MiB; goal (no traceback, no hang, <= 1 GiB) {'met' if goal else 'NOT met'}")
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps({
            "time_limit_s": args.time_limit, "budget_bytes": BUDGET_BYTES, "baseline_rss_mib": round(baseline / MIB, 1),
            "corpus": str(corpus) if corpus.is_dir() else None, "corpus_note": corpus_note, "only": args.only,
            "geometry_table": str(table) if data and str(table).startswith(str(data)) else "synthetic",
            "max_peak_rss_mib_small_inputs": max_small, "goal_met": goal, "summary": summary,
            "cases": [r | {"path": r["path"] if not r["path"].startswith(str(work)) else
                           os.path.relpath(r["path"], work)} for r in rows],
        }, indent=1))


if __name__ == "__main__":
    main()
