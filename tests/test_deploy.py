"""The deployment examples under deploy/ are well-formed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
INSTALLED = "/opt/newscrawl/.venv/bin/newscrawl"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_units_verify(tmp_path: Path) -> None:
    # The units name the install path; point them at this checkout's command to verify.
    here = Path(sys.executable).parent / "newscrawl"
    for unit in ("newscrawl-arabnews.service", "newscrawl-arabnews.timer"):
        text = (DEPLOY / unit).read_text(encoding="utf-8").replace(INSTALLED, str(here))
        (tmp_path / unit).write_text(text, encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


def test_crontab_lines_call_newscrawl_run() -> None:
    lines = [
        line
        for line in (DEPLOY / "crontab").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(lines) == 1
    fields = lines[0].split(maxsplit=5)
    assert fields[:5] == ["*/15", "*", "*", "*", "*"]
    assert "newscrawl run arabnews" in fields[5]
