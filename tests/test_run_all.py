"""newscrawl run-all: every configured site on one schedule, each run on its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from newscrawl.cli.main import worst_status
from newscrawl_mirror.generic import GenericMirror
from tests.crawling import OUTPUT_DIR

ROOT = Path(__file__).resolve().parent.parent
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0"]


def run_all(sites: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSCRAWL_SITES": str(sites)}
    return subprocess.run(
        [sys.executable, "-m", "newscrawl.cli", "run-all", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def site_file(folder: Path, name: str, base_url: str) -> None:
    (folder / f"{name}.toml").write_text(
        f'name = "{name}"\nbase_url = "{base_url}"\ntimezone = "Europe/Paris"\n'
        'languages = ["en"]\nfeeds = ["/feed/"]\nsitemaps = ["/news-sitemap.xml"]\n',
        encoding="utf-8",
    )


@pytest.mark.slow
def test_every_site_runs_in_its_own_process_with_its_own_output(tmp_path: Path) -> None:
    sites, output = tmp_path / "sites", tmp_path / "output"
    sites.mkdir()
    with GenericMirror(12) as mirror:
        for name in ("daily-a", "daily-b"):
            site_file(sites, name, mirror.base_url)
        done = run_all(sites, "--sites", "daily-a,daily-b", "--output-dir", str(output), *FAST)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = [line for line in done.stderr.splitlines() if line.startswith("newscrawl run-all:")]
    assert summary == [
        "newscrawl run-all: daily-a: exit 0 (ok)",
        "newscrawl run-all: daily-b: exit 0 (ok)",
    ]
    for name in ("daily-a", "daily-b"):
        [manifest] = (output / name).rglob("*.manifest.json")
        written = json.loads(manifest.read_text(encoding="utf-8"))
        assert written["spider"] == name
        assert (written["status"], written["exit_code"]) == ("ok", 0)
        [run_file] = (output / name).rglob("*.jsonl")
        assert len(run_file.read_text(encoding="utf-8").splitlines()) == 12
        assert (output / name / ".state").is_dir()  # a seen store of its own


@pytest.mark.slow
def test_an_unknown_site_is_a_usage_error_naming_the_configured_ones(tmp_path: Path) -> None:
    done = run_all(tmp_path, "--sites", "nope", "--output-dir", OUTPUT_DIR["path"] or str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "newscrawl run-all: unknown site(s) nope; configured: arabnews, arabnews-fr"
    )


@pytest.mark.parametrize(
    ("statuses", "worst"),
    [
        ([0, 0], 0),
        ([0, 75], 0),  # a site still running from the last time is no failure
        ([75, 75], 75),
        ([0, 1, 75], 1),
        ([1, 2], 2),
        ([2, 3, 1], 3),
        ([0, -9], 3),  # killed: as bad as a crash
        ([], 0),
    ],
)
def test_the_worst_site_status_is_run_alls(statuses: list[int], worst: int) -> None:
    assert worst_status(statuses) == worst
