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
