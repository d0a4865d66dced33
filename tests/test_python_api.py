"""The documented Python example runs as written: in-process, no `__main__` guard, no files."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "python-api.md"


def example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 1
    return blocks[0]


def test_example_is_short():
    assert len(example().strip().splitlines()) < 10


@pytest.mark.slow
def test_documented_example_scans_in_process_without_writing(tmp_path):
    script = tmp_path / "example.py"
    script.write_text(example())
    work = tmp_path / "cwd"
    work.mkdir()
    proc = subprocess.run([sys.executable, str(script)], cwd=work, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    match = re.search(r"best fit: RA ([\d.]+) deg, Dec ([-\d.]+) deg", proc.stdout)
    assert match, proc.stdout
    assert list(work.iterdir()) == []  # nothing written


def test_resume_only_when_asked(tmp_path):
    from skymap_scanner import scan
    from skymap_scanner.simulation.synthetic import synthetic_event

    event = synthetic_event(seed=4)
    first = scan(event, "dummy", "8:0", transport="inprocess", output_dir=tmp_path, progress=False)
    assert first.resumed_variations == 0 and set(first.files) == {"json", "npz", "manifest"}
    fresh = scan(event, "dummy", "8:0", transport="inprocess", output_dir=tmp_path, progress=False)
    assert fresh.resumed_variations == 0  # the checkpoint is there, but nobody asked to resume
    resumed = scan(event, "dummy", "8:0", transport="inprocess", output_dir=tmp_path, progress=False, resume=True)
    assert resumed.resumed_variations == 768
    assert resumed.best_fit == first.best_fit and resumed.scan_id == first.scan_id


def test_in_memory_scan_writes_nothing(tmp_path, monkeypatch):
    from skymap_scanner import scan
    from skymap_scanner.simulation.synthetic import synthetic_event

    monkeypatch.chdir(tmp_path)
    result = scan(synthetic_event(seed=4), "dummy", "8:0 64:12", transport="inprocess", progress=False)
    assert list(tmp_path.iterdir()) == [] and result.files == {}
    assert result.best_fit.nside == 64 and result.contour_areas["90%"] > result.contour_areas["50%"] > 0
    assert result.write(tmp_path / "out")[0].is_file()
