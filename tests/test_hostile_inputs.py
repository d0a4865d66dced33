"""Every file of the hostile-inputs corpus (issue 18, ask 3) either loads or fails with the project's
own error type naming the file, never another exception, never more than 1 GiB RSS, never more
than 30 s. Each file is read in a forked child (its peak RSS measured with ``wait4``; its address
space capped a little above the limit, so a runaway allocation fails instead of swapping)."""

from __future__ import annotations

import os
import resource
import signal
import time
from pathlib import Path

import pytest

CORPUS = Path(os.environ.get("SKYSCAN_HOSTILE_INPUTS", "/work/shared/data/hostile-inputs"))
FILES = sorted(p.name for p in CORPUS.glob("*") if p.is_file() and p.name != "README.md") if CORPUS.is_dir() else []
MAX_RSS_BYTES = 1 << 30
MAX_SECONDS = 30.0

pytestmark = pytest.mark.skipif(not FILES, reason=f"no hostile-inputs corpus at {CORPUS}")


def _load(path: Path) -> None:
    """What a user does with such a file: geometry tables are read as such, everything else as an event."""
    if path.suffix == ".csv":
        from skymap_scanner.i3.geometry import read_geometry_table

        read_geometry_table(path)
    else:
        from skymap_scanner.io.events import load_event

        load_event(path)


def _child(path: Path, write_fd: int) -> None:
    soft = _vm_size() + MAX_RSS_BYTES + (512 << 20)
    resource.setrlimit(resource.RLIMIT_AS, (soft, soft))
    from skymap_scanner.event.model import EventError

    try:
        _load(path)
        outcome = "ok"
    except EventError as e:
        outcome = f"EventError\t{type(e).__name__}\t{e}"
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which fails the test
        outcome = f"other\t{type(e).__name__}\t{str(e)[:500]}"
    os.write(write_fd, outcome.encode(errors="replace")[:4000])
    os._exit(0)


def _vm_size() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(scope="module", autouse=True)
def _imported():
    """Import what the loaders need once, before forking (children then start at once)."""
    import skymap_scanner.i3.alert  # noqa: F401
    import skymap_scanner.i3.geometry  # noqa: F401
    import skymap_scanner.i3.simulation  # noqa: F401
    import skymap_scanner.io.events  # noqa: F401


@pytest.mark.parametrize("name", FILES)
def test_hostile_input_loads_or_fails_cleanly(name):
    path = CORPUS / name
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(path, write_fd)
    os.close(write_fd)
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() - start > MAX_SECONDS:
            os.kill(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            pytest.fail(f"{name}: still running after {MAX_SECONDS:.0f} s")
        time.sleep(0.02)
    with os.fdopen(read_fd, "rb") as f:
        outcome = f.read().decode(errors="replace")
    rss = usage.ru_maxrss * 1024
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, f"{name}: child died ({status}), {outcome}"
    assert rss < MAX_RSS_BYTES, f"{name}: peak RSS {rss / 2**20:.0f} MiB ({outcome})"
    assert outcome == "ok" or outcome.startswith("EventError\t"), f"{name}: {outcome}"
    if outcome != "ok":
        assert name in outcome, f"{name}: the error does not name the file: {outcome}"
