"""A 100 000-pulse event (saturated DOMs of a very bright event) inspects and scans at nside 8 through
the command line within 1 GiB per process (issue 18), measured by ``benchmarks/bright_events.py``
(``wait4``: the command and its worker processes)."""

from __future__ import annotations

from conftest import load_benchmark


def test_a_100k_pulse_event_inspects_and_scans_at_nside_8_within_1_gib(tmp_path):
    row = load_benchmark("bright_events").measure("100k", tmp_path, None, workers=2)
    assert row["pulses"] == 100_000 and row["nsides"] == "8:0"
    for step in ("inspect", "scan"):
        assert row[step]["returncode"] == 0, row[step]["last_line"]
        assert 50 < row[step]["peak_rss_mb"] <= 1024, row[step]
    assert list((tmp_path / "100k-scan").glob("*_8.npz"))
