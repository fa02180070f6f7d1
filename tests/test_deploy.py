"""The deployment examples under deploy/ are well-formed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
INSTALLED = "/opt/newscrawl/.venv/bin/newscrawl"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_units_verify(tmp_path: Path) -> None:
    # The units name the install path; point them at this checkout's command to verify.
    here = Path(sys.executable).parent / "newscrawl"
    # The template units, verified as the instances a site's timer starts.
    for unit in ("newscrawl@.service", "newscrawl@.timer"):
        text = (DEPLOY / unit).read_text(encoding="utf-8").replace(INSTALLED, str(here))
        (tmp_path / unit.replace("@", "@arabnews")).write_text(text, encoding="utf-8")
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
    assert "newscrawl run-all" in fields[5]


@pytest.mark.parametrize(("status", "mailed"), [(0, False), (75, False), (1, True), (3, True)])
def test_the_crontab_line_prints_only_when_a_run_failed(
    tmp_path: Path, status: int, mailed: bool
) -> None:
    # cron mails what a command prints: run the line under sh with a stand-in for
    # newscrawl that logs a line and exits with the given status.
    [line] = [
        line
        for line in (DEPLOY / "crontab").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    command = line.split(maxsplit=5)[5]
    stand_in = tmp_path / "bin" / "newscrawl"
    stand_in.parent.mkdir()
    stand_in.write_text(
        f"#!/bin/sh\necho 'Run x failed: why'\necho 'newscrawl run-all: x: exit {status}'\n"
        f"exit {status}\n"
    )
    stand_in.chmod(0o755)
    command = command.replace("cd /opt/newscrawl && .venv/bin/newscrawl", str(stand_in))
    command = command.replace("/var/log/newscrawl", str(tmp_path))
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30)
    logged = f"Run x failed: why\nnewscrawl run-all: x: exit {status}\n"
    assert (tmp_path / "newscrawl.log").read_text() == logged
    if mailed:
        assert done.stdout == f"newscrawl run-all failed with exit status {status}\n{logged}"
    else:
        assert done.stdout == ""
