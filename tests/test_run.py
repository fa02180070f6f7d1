"""``newscrawl run``: the command a scheduler calls."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newscrawl.cli.main import mirror_process
from newscrawl.cli.run import EXIT_FAILED, EXIT_LOCKED, EXIT_OK, EXIT_USAGE
from newscrawl.export.dataset import latest_versions, run_files
from newscrawl.run.ledger import PARTIAL
from newscrawl.run.locks import LOCK_FILE, run_lock
from tests.conftest import Mirror
from tests.test_dedup import served_stories, text_of

pytestmark = pytest.mark.slow  # newscrawl run processes crawling a mirror

ROOT = Path(__file__).resolve().parent.parent
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "LOG_LEVEL=INFO"]
# Committing every third story: a kill leaves committed lines and lines not yet committed.
EVERY_THIRD = [*FAST, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1", "-s", "NEWSCRAWL_COMMIT_EVERY=3"]


@pytest.fixture
def run_mirror() -> Iterator[Mirror]:
    with mirror_process(30, 31) as base_url:
        yield Mirror(base_url)


def newscrawl_run(
    base_url: str, output: Path, *extra: str, crash_at: str | None = None
) -> subprocess.Popen[str]:
    """``newscrawl run arabnews`` in its own process; ``crash_at`` kills it at that crash
    point (NEWSCRAWL_CRASH_AT, see newscrawl.run.ledger)."""
    command = [sys.executable, "-m", "newscrawl.cli", "run", "arabnews"]
    command += ["-a", f"base_url={base_url}", "--output-dir", str(output), *extra]
    env = {k: v for k, v in os.environ.items() if k != "NEWSCRAWL_CRASH_AT"}
    if crash_at:
        env["NEWSCRAWL_CRASH_AT"] = crash_at
    return subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=180)
    return process.returncode, stderr


def manifests(output: Path) -> list[dict[str, Any]]:
    paths = sorted(
        output.glob("arabnews/2*/*/*/*.manifest.json"), key=lambda p: p.stat().st_mtime_ns
    )
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths]


def test_a_run_publishes_its_file_with_a_manifest_that_adds_up(
    run_mirror: Mirror, tmp_path: Path
) -> None:
    code, log = finish(newscrawl_run(run_mirror.base_url, tmp_path, *FAST))
    assert code == EXIT_OK, log[-3000:]
    [manifest] = manifests(tmp_path)
    assert manifest["status"] == "ok"
    assert manifest["exit_code"] == 0
    [described] = manifest["files"]
    path = tmp_path / described["path"]
    lines = path.read_text(encoding="utf-8").splitlines()
    assert described["lines"] == len(lines) == manifest["counts"]["stories_written"] > 0
    assert manifest["counts"]["new_stories"] == len(lines)
    assert manifest["counts"]["stories_found"] == (
        len(lines) + manifest["counts"]["duplicates"] + manifest["counts"]["same_content_other_key"]
    )
    assert described["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert not list((tmp_path / "arabnews" / PARTIAL).glob("*"))
    assert "succeeded" in log


def test_a_run_while_another_holds_the_lock_exits_with_the_lock_code(
    run_mirror: Mirror, tmp_path: Path
) -> None:
    # This test holds the spider's lock, as a run in progress would: no race to lose.
    lock = tmp_path / "arabnews" / LOCK_FILE
    with run_lock(lock, max_run_hours=6.0):
        code, log = finish(newscrawl_run(run_mirror.base_url, tmp_path, *FAST))
    assert code == EXIT_LOCKED, log[-2000:]
    assert f"another run holds {lock} (pid {os.getpid()} since " in log
    assert "this run exits without crawling" in log
    assert run_mirror.requests() == []  # not one request
    assert manifests(tmp_path) == []  # the refused run wrote nothing
    # The lock was all that stood in the way: let go, the same command runs.
    code, log = finish(newscrawl_run(run_mirror.base_url, tmp_path, *FAST))
    assert code == EXIT_OK, log[-3000:]
    assert [manifest["status"] for manifest in manifests(tmp_path)] == ["ok"]


def test_a_killed_run_leaves_no_partial_file_for_readers_and_the_next_run_completes_it(
    run_mirror: Mirror, tmp_path: Path
) -> None:
    # Killed (SIGKILL) as it writes its ninth story: mid-crawl, whatever the machine's pace.
    process = newscrawl_run(run_mirror.base_url, tmp_path, *EVERY_THIRD, crash_at="write.line:9")
    assert finish(process)[0] == -signal.SIGKILL
    [partial] = (tmp_path / "arabnews" / PARTIAL).glob("*.jsonl")
    assert partial.read_bytes().count(b"\n") == 9  # six of them committed
    assert not run_files(tmp_path / "arabnews")  # nothing half-written where readers look
    assert manifests(tmp_path) == []

    code, log = finish(newscrawl_run(run_mirror.base_url, tmp_path, *FAST))
    assert code == EXIT_OK, log[-3000:]
    killed, manifest = manifests(tmp_path)
    assert len(manifest["recovered"]) == 1
    # The killed run's file has a manifest of its own, naming the run that published it.
    assert killed["status"] == "crashed"
    assert killed["published_by"] == manifest["run_id"]
    assert [f["path"] for f in killed["files"]] == [r["path"] for r in manifest["recovered"]]
    records = [
        json.loads(line)
        for path in run_files(tmp_path / "arabnews")
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    expected = served_stories(run_mirror)
    assert Counter(text_of(r) for r in records) == Counter(text_of(s) for s in expected.values())
    assert not list((tmp_path / "arabnews" / PARTIAL).glob("*"))


def test_broken_markup_fails_the_run_naming_the_coverage_monitor(tmp_path: Path) -> None:
    with mirror_process(30, 31, "--broken-markup", "0.5") as base_url:
        code, log = finish(newscrawl_run(base_url, tmp_path, *FAST))
    assert code == EXIT_FAILED, log[-3000:]
    failed = [line for line in log.splitlines() if "Run " in line and " failed: " in line]
    assert len(failed) == 1
    assert "Field coverage" in failed[0]
    assert "body found in" in failed[0]
    assert "NEWSCRAWL_MIN_BODY_COVERAGE" in failed[0]
    [manifest] = manifests(tmp_path)
    assert manifest["status"] == "failed"
    assert manifest["exit_code"] == EXIT_FAILED
    assert manifest["files"] == []  # nothing published from a failed run
    assert any("Field coverage" in m for m in manifest["failed_monitors"])


def test_bad_arguments_are_usage_errors(tmp_path: Path) -> None:
    code, log = finish(newscrawl_run("http://127.0.0.1:9", tmp_path, "-a", "colour=red"))
    assert code == EXIT_USAGE
    assert "unknown argument -a colour" in log
    command = [sys.executable, "-m", "newscrawl.cli", "run", "arabnews", "-s", "NOEQUALS"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == EXIT_USAGE
    assert "expected NAME=VALUE" in done.stderr


def test_dataset_merges_runs_into_latest_versions(run_mirror: Mirror, tmp_path: Path) -> None:
    assert finish(newscrawl_run(run_mirror.base_url, tmp_path, *FAST))[0] == EXIT_OK
    first = [
        json.loads(line)
        for path in run_files(tmp_path / "arabnews")
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    edited = next(r for r in first if r["position"] == 0)
    nid = int(edited["key"].split(":")[1])
    body = ["JEDDAH: The plan was revised on Tuesday.", "Details follow."]
    now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    run_mirror.post(f"/_mirror/edit/{nid}", {"body": body, "updated_at": now})
    assert finish(newscrawl_run(run_mirror.base_url, tmp_path, *FAST, "--gzip"))[0] == EXIT_OK
    snapshot = tmp_path / "snapshot.jsonl"
    parquet = tmp_path / "snapshot.parquet"
    command = [sys.executable, "-m", "newscrawl.cli", "dataset", "arabnews"]
    command += ["--output-dir", str(tmp_path), "--out", str(snapshot), "--parquet", str(parquet)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    stories = [json.loads(line) for line in snapshot.read_text(encoding="utf-8").splitlines()]
    assert len(stories) == len({s["key"] for s in stories}) == len(first)
    merged = {s["key"]: s for s in stories}
    assert merged[edited["key"]]["version"] == 2
    assert merged[edited["key"]]["body"] == body
    assert latest_versions(run_files(tmp_path / "arabnews")) == stories
    import pyarrow.parquet as pq

    table = pq.read_table(parquet)
    assert table.num_rows == len(stories)
    assert sorted(table.column("key").to_pylist()) == sorted(merged)


def test_a_site_that_cannot_be_reached_fails_naming_the_fetch_monitor(tmp_path: Path) -> None:
    # A closed port on this machine: every download is refused.
    code, log = finish(newscrawl_run("http://127.0.0.1:9", tmp_path, *FAST, "-s", "RETRY_TIMES=0"))
    assert code == EXIT_FAILED
    [line] = [line for line in log.splitlines() if " failed: " in line and "Run " in line]
    assert "Pages fetched: no page could be fetched" in line
    assert "ConnectionRefusedError" in line
