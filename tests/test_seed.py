"""The seed acceptance check (../shared/acceptance/check_seed.py) as a test: the real
Arab News page must split into its six stories, with their times.

It needs the shared folder beside the checkout (CI has it); without it the test is
skipped, and says so.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # newscrawl split and the acceptance check, as processes

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEED = SHARED / "seeds" / "000_36ac3283226cc475.txt"
CHECK = SHARED / "acceptance" / "check_seed.py"


@pytest.mark.skipif(not CHECK.is_file() or not SEED.is_file(), reason="no ../shared here")
def test_the_seed_page_splits_into_its_stories(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "newscrawl.cli", "split", str(SEED)]
    split = subprocess.run(
        [*command, "--fetched-at", "2025-02-06T12:00:00+00:00"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert split.returncode == 0, split.stderr
    records = tmp_path / "seed.jsonl"
    records.write_text(split.stdout, encoding="utf-8")
    check = subprocess.run(
        [sys.executable, str(CHECK), str(records)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.strip().splitlines()[-1].startswith("seed stories matching: 6/6")
