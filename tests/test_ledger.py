"""Nothing lost, nothing repeated, whatever is killed when.

Real ``newscrawl run`` processes crawl a mirror and are killed (SIGKILL, by the ledger's
named crash points, never at a guessed time) at each step of write, commit, recovery,
publication and manifest, also a second time while recovering; then a last run goes
through, and the published output is compared with the mirror's truth.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from newscrawl.cli.main import mirror_process
from newscrawl.cli.run import EXIT_CRASHED, EXIT_OK
from newscrawl.run.ledger import CRASH_POINTS, PARTIAL, published_files
from newscrawl.run.locks import LOCK_FILE, hold_lock, release_lock
from newscrawl.run.seenstore import open_store
from tests.conftest import Mirror, redis_server
from tests.records import story_line
from tests.test_dedup import served_stories, text_of

ROOT = Path(__file__).resolve().parent.parent
FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0"]
FAST += ["-s", "NEWSCRAWL_COMMIT_EVERY=3", "-s", "LOG_LEVEL=INFO"]


@pytest.fixture(scope="module")
def small_mirror() -> Iterator[Mirror]:
    with mirror_process(16, 12) as base_url:
        yield Mirror(base_url)


def newscrawl_run(
    mirror: Mirror, output: Path, *extra: str, crash_at: str | None = None, gzip: bool = False
) -> tuple[int, str]:
    command = [sys.executable, "-m", "newscrawl.cli", "run", "arabnews"]
    command += ["-a", f"base_url={mirror.base_url}", "--output-dir", str(output), *FAST, *extra]
    if gzip:
        command.append("--gzip")
    env = {k: v for k, v in os.environ.items() if k != "NEWSCRAWL_CRASH_AT"}
    if crash_at:
        env["NEWSCRAWL_CRASH_AT"] = crash_at
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False
    )
    return done.returncode, done.stderr


SCRAPY_CRAWL = [sys.executable, "-m", "scrapy", "crawl", "arabnews"]


def entry_command(entry: str, output: Path) -> list[str]:
    """``scrapy crawl arabnews`` or ``newscrawl run arabnews``, writing into ``output``."""
    if entry == "scrapy crawl":
        return [*SCRAPY_CRAWL, "-s", f"NEWSCRAWL_OUTPUT_DIR={output}"]
    return [sys.executable, "-m", "newscrawl.cli", "run", "arabnews", "--output-dir", str(output)]


def read_published(output: Path) -> list[dict[str, Any]]:
    records = []
    for path in published_files(output / "arabnews"):
        data = path.read_bytes()
        if path.suffix == ".gz":
            data = gzip.decompress(data)
        records += [json.loads(line) for line in data.splitlines()]
    return records


def assert_whole(mirror: Mirror, output: Path) -> None:
    """Every story the mirror served, published exactly once, each file in a manifest,
    nothing left half done."""
    spider_dir = output / "arabnews"
    records = read_published(output)
    expected = served_stories(mirror)
    assert Counter(text_of(r) for r in records) == Counter(text_of(s) for s in expected.values())
    assert len({(r["key"], r["version"]) for r in records}) == len(records)
    listed = set()
    for manifest in spider_dir.glob("2*/*/*/*.manifest.json"):
        listed |= {f["path"] for f in json.loads(manifest.read_text())["files"]}
    assert {str(p.relative_to(output)) for p in published_files(spider_dir)} == listed
    assert not list(spider_dir.glob("2*/*/*/.*")), "temporary files left in the dated folders"
    assert not list((spider_dir / PARTIAL).glob("*"))
    assert not list(spider_dir.glob("quarantine/*"))


# (crash points of the successive runs, publish compressed?): each run but the last is
# killed at its point; the last one runs through.
SCENARIOS = [
    (["write.line:8"], False),
    (["commit.fsynced:2"], False),
    (["commit.stored:2"], False),
    (["publish.renamed"], False),
    (["publish.compressed"], True),
    (["publish.renamed"], True),
    (["manifest.temporary"], False),
    # A second kill, while the next run recovers the first one's file.
    (["write.line:8", "recover.cut"], False),
    (["write.line:8", "recover.stored"], False),
    (["write.line:8", "recover.stored"], True),
    (["write.line:8", "publish.renamed"], False),
    (["write.line:8", "publish.compressed"], True),
    (["write.line:8", "publish.renamed"], True),
    (["write.line:8", "manifest.temporary"], False),
    (["write.line:8", "recover.stored", "publish.renamed"], True),
]


def test_every_crash_point_is_tried() -> None:
    named = {point.partition(":")[0] for points, _ in SCENARIOS for point in points}
    assert named == set(CRASH_POINTS)


@pytest.mark.slow
@pytest.mark.parametrize(("points", "compress"), SCENARIOS, ids=lambda v: str(v))
def test_a_kill_at_any_step_loses_nothing_and_repeats_nothing(
    small_mirror: Mirror, tmp_path: Path, points: list[str], compress: bool
) -> None:
    for point in points:
        code, log = newscrawl_run(small_mirror, tmp_path, crash_at=point, gzip=compress)
        assert code == -signal.SIGKILL, f"not killed at {point}: {log[-2000:]}"
    code, log = newscrawl_run(small_mirror, tmp_path, gzip=compress)
    assert code == EXIT_OK, log[-3000:]
    assert_whole(small_mirror, tmp_path)
    # And a run after it has nothing new to publish, and repeats nothing.
    code, log = newscrawl_run(small_mirror, tmp_path, gzip=compress)
    assert code == EXIT_OK, log[-3000:]
    assert_whole(small_mirror, tmp_path)


@pytest.mark.slow
def test_bad_lines_in_a_killed_runs_file_are_quarantined_not_fatal(
    small_mirror: Mirror, tmp_path: Path
) -> None:
    partial = tmp_path / "arabnews" / PARTIAL
    partial.mkdir(parents=True)
    good = story_line(1, site="arabnews", key="arabnews:9000001")
    no_version = {k: v for k, v in story_line(2).items() if k != "version"}
    lines = [good, no_version, story_line(3, version="x"), story_line(4, title="Broken \ufffd")]
    file_id = "20261101T000000Z-0a0b0c"
    text = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    (partial / f"{file_id}.jsonl").write_text(text + "{not json\n", encoding="utf-8")
    code, log = newscrawl_run(small_mirror, tmp_path)
    assert code == EXIT_OK, log[-3000:]
    [recovered] = tmp_path.glob(f"arabnews/2026/11/01/{file_id}.jsonl")
    assert [json.loads(line) for line in recovered.read_text().splitlines()] == [good]
    quarantined = tmp_path / "arabnews" / "quarantine" / f"{file_id}.recovered.jsonl"
    reasons = [json.loads(line)["reason"] for line in quarantined.read_text().splitlines()]
    assert reasons == ["malformed", "malformed", "broken-text", "malformed"]


@pytest.mark.slow
def test_a_killed_runs_file_from_an_older_newscrawl_is_upgraded_not_quarantined(
    small_mirror: Mirror, tmp_path: Path
) -> None:
    # Written before the record had its authors and section fields: recovered with the
    # fields' empty values, published, and nothing quarantined.
    partial = tmp_path / "arabnews" / PARTIAL
    partial.mkdir(parents=True)
    added = ("authors", "section")
    older = {k: v for k, v in story_line(1, site="arabnews").items() if k not in added}
    file_id = "20261101T000000Z-0d0e0f"
    (partial / f"{file_id}.jsonl").write_text(json.dumps(older) + "\n", encoding="utf-8")
    code, log = newscrawl_run(small_mirror, tmp_path)
    assert code == EXIT_OK, log[-3000:]
    [recovered] = tmp_path.glob(f"arabnews/2026/11/01/{file_id}.jsonl")
    assert [json.loads(line) for line in recovered.read_text().splitlines()] == [
        {**older, "authors": [], "section": None}
    ]
    assert not (tmp_path / "arabnews" / "quarantine" / f"{file_id}.recovered.jsonl").exists()


def published_then_emptied(mirror: Mirror, output: Path) -> list[dict[str, Any]]:
    """A run that goes well, then what an operator's ``: > seen.sqlite3`` does (its -wal
    and -shm gone too); the records the run published."""
    code, log = newscrawl_run(mirror, output)
    assert code == EXIT_OK, log[-3000:]
    state = output / "arabnews" / ".state"
    (state / "seen.sqlite3").write_bytes(b"")
    for extra in state.glob("seen.sqlite3-*"):
        extra.unlink()
    return read_published(output)


@pytest.mark.slow
def test_an_emptied_seen_store_is_refused_until_rebuilt(
    small_mirror: Mirror, tmp_path: Path
) -> None:
    before = published_then_emptied(small_mirror, tmp_path)
    code, log = newscrawl_run(small_mirror, tmp_path)
    assert code == EXIT_CRASHED
    assert "is empty or behind the published output" in log
    assert "newscrawl seen rebuild arabnews" in log
    assert read_published(tmp_path) == before  # nothing published again

    rebuild = [sys.executable, "-m", "newscrawl.cli", "seen", "rebuild", "arabnews"]
    done = subprocess.run(
        [*rebuild, "--output-dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert f"({len(before)} records)" in done.stdout
    code, log = newscrawl_run(small_mirror, tmp_path)
    assert code == EXIT_OK, log[-3000:]
    assert read_published(tmp_path) == before  # the rebuilt store knows every story
    assert_whole(small_mirror, tmp_path)


@pytest.mark.slow
def test_a_relative_sqlite_store_is_relative_to_the_output_folder(
    small_mirror: Mirror, tmp_path: Path
) -> None:
    store = ["-s", "NEWSCRAWL_SEEN_STORE=sqlite:///state/seen.sqlite3"]
    output = tmp_path / "output"
    for cwd in (tmp_path / "a", tmp_path / "b"):
        cwd.mkdir()
        command = [sys.executable, "-m", "newscrawl.cli", "run", "arabnews", *store, *FAST]
        command += ["-a", f"base_url={small_mirror.base_url}", "--output-dir", str(output)]
        env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "newscrawl.settings"}
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
        assert done.returncode == EXIT_OK, done.stderr[-3000:]
        assert not list(cwd.iterdir())  # nothing written where the command was started
    with sqlite3.connect(output / "state" / "seen.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM stories").fetchone()[0] > 0
    assert_whole(small_mirror, output)


@pytest.mark.slow
@pytest.mark.parametrize("entry", ["scrapy crawl", "newscrawl run"])
def test_every_entry_point_takes_the_run_lock(
    small_mirror: Mirror, tmp_path: Path, entry: str
) -> None:
    lock = tmp_path / "arabnews" / LOCK_FILE
    hold_lock(lock, 6.0)  # held by this process, as a run in progress would
    try:
        command = [*entry_command(entry, tmp_path), "-a", f"base_url={small_mirror.base_url}"]
        command += FAST
        small_mirror.reset_log()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    finally:
        release_lock(lock)
    assert done.returncode == 75, done.stderr[-3000:]
    assert f"another run holds {lock}" in done.stderr
    assert small_mirror.requests() == []  # not one request made
    assert not list((tmp_path / "arabnews").glob("*/"))


@pytest.mark.slow
def test_a_lock_held_too_long_is_a_failure_naming_its_holder(
    small_mirror: Mirror, tmp_path: Path
) -> None:
    lock = tmp_path / "arabnews" / LOCK_FILE
    hold_lock(lock, 6.0)
    try:
        lock.write_text(f"pid {os.getpid()} since 2020-01-01T00:00:00+00:00\n")
        code, log = newscrawl_run(small_mirror, tmp_path, "-s", "NEWSCRAWL_MAX_RUN_HOURS=2")
    finally:
        release_lock(lock)
    assert code == EXIT_CRASHED
    assert f"pid {os.getpid()} since 2020-01-01" in log
    assert "is it hung?" in log


@contextmanager
def tmpfs(mount: Path, options: str) -> Iterator[Path]:
    """A file system of its own at ``mount`` (a full or read-only disk); needs root,
    as root ignores file modes (CI and this project's machines run as root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 12 KiB disk: full after a few stories."""
    with tmpfs(tmp_path / "disk", "size=12k") as mount:
        yield mount


@pytest.mark.slow
def test_a_full_disk_stops_the_run_early_and_the_next_run_completes_it(
    small_mirror: Mirror, tmp_path: Path, small_disk: Path
) -> None:
    store = ["-s", f"NEWSCRAWL_SEEN_STORE=sqlite:///{tmp_path}/seen.sqlite3"]
    code, log = newscrawl_run(small_mirror, small_disk, *store, "-s", "NEWSCRAWL_COMMIT_EVERY=1")
    assert code == EXIT_CRASHED, log[-3000:]
    assert "No space left on device (ENOSPC)" in log
    # Stopped at the first failed write: one line, not one per story.
    assert log.count("Stopping the crawl: cannot write") == 1
    assert len([line for line in log.splitlines() if " ERROR: " in line and "ENOSPC" in line]) == 2
    # The run's verdict names the real cause (spidermon's report around it aside).
    assert f"failed: the output could not be written: cannot write {small_disk}" in log
    assert "Traceback" not in log.split("[Spidermon]")[0]
    spider_dir = small_disk / "arabnews"
    assert not list(spider_dir.rglob(".*.tmp"))
    assert not list(spider_dir.rglob("*.manifest.json"))
    subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
    code, log = newscrawl_run(small_mirror, small_disk, *store)
    assert code == EXIT_OK, log[-3000:]
    assert_whole(small_mirror, small_disk)


@pytest.mark.slow
def test_a_read_only_output_folder_fails_before_any_request(
    small_mirror: Mirror, tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "ro", "ro,size=1m") as mount:
        small_mirror.reset_log()
        code, log = newscrawl_run(small_mirror, mount)
    assert code == EXIT_CRASHED, log[-3000:]
    assert "Read-only file system (EROFS)" in log
    assert "Traceback" not in log
    assert small_mirror.requests() == []


@pytest.mark.slow
@pytest.mark.parametrize("entry", ["scrapy crawl", "newscrawl run"])
@pytest.mark.parametrize("kind", ["unreachable", "unknown scheme"])
def test_a_seen_store_that_cannot_be_opened_is_one_line_before_any_request(
    small_mirror: Mirror, tmp_path: Path, entry: str, kind: str
) -> None:
    if kind == "unreachable":
        store = f"unix://:pw@{tmp_path}/no-such.sock"
        said = f"cannot reach the seen store at unix://:***@{tmp_path}/no-such.sock"
    else:
        store = "mongodb://db.example/news"
        said = f"bad setting: -s NEWSCRAWL_SEEN_STORE={store!r}: must be empty"
    command = [*entry_command(entry, tmp_path), "-a", f"base_url={small_mirror.base_url}"]
    command += ["-s", f"NEWSCRAWL_SEEN_STORE={store}"]
    small_mirror.reset_log()
    done = subprocess.run([*command, *FAST], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_CRASHED, done.stderr[-3000:]
    assert done.stderr.count(said) == 1  # one line
    assert "Traceback" not in done.stderr
    assert ":pw@" not in done.stderr
    assert small_mirror.requests() == []


@pytest.mark.slow
def test_a_store_emptied_while_a_killed_runs_file_waits_is_still_refused(
    small_mirror: Mirror, tmp_path: Path
) -> None:
    before = published_then_emptied(small_mirror, tmp_path)
    # And a killed run's file waits in .partial/.
    left = tmp_path / "arabnews" / PARTIAL / "20261102T000000Z-0d0e0f.jsonl"
    left.parent.mkdir(parents=True, exist_ok=True)
    left.write_text(json.dumps(story_line(7, site="arabnews")) + "\n", encoding="utf-8")
    code, log = newscrawl_run(small_mirror, tmp_path)
    # Recovering that file first would have made it the newest published file, known
    # to the emptied store, and every story would have been published again.
    assert code == EXIT_CRASHED, log[-3000:]
    assert "is empty or behind the published output" in log
    assert read_published(tmp_path) == before
    assert left.exists()


@pytest.mark.slow
def test_a_seen_store_that_stalls_then_answers_again_loses_nothing(
    small_mirror: Mirror, tmp_path: Path
) -> None:
    folder = tmp_path / "redis"
    folder.mkdir()
    with redis_server(folder) as (socket_path, server):
        store = ["-s", f"NEWSCRAWL_SEEN_STORE=unix://{socket_path}"]
        # Slow, and committing seldom: stories are written and not yet committed when
        # Redis stalls (the buffered lines reach the file only as the run closes).
        slow = ["-s", "DOWNLOAD_DELAY=0.05", "-s", "CONCURRENT_REQUESTS=1"]
        slow += ["-s", "NEWSCRAWL_COMMIT_EVERY=1000"]
        command = [sys.executable, "-m", "newscrawl.cli", "run", "arabnews", *FAST, *slow]
        command += ["-a", f"base_url={small_mirror.base_url}", "--output-dir", str(tmp_path)]
        process = subprocess.Popen([*command, *store], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        assert process.stderr is not None
        partial = tmp_path / "arabnews" / PARTIAL
        deadline = time.monotonic() + 120
        while not list(partial.glob("*.jsonl")):
            assert time.monotonic() < deadline, "the run wrote no stories"
            assert process.poll() is None, "the run ended before writing a story"
            time.sleep(0.02)
        [written] = partial.glob("*.jsonl")
        process.send_signal(signal.SIGSTOP)  # the run stands still while the test looks
        seen = open_store(
            f"unix://{socket_path}",
            default_path=tmp_path / "unused",
            namespace="newscrawl:arabnews",
        )
        try:
            # Nothing of its file committed yet: a commit (the run's last, as it closes,
            # at the latest) is still to come when Redis stalls.
            assert seen.committed_bytes([written.stem]) == {written.stem: 0}
        finally:
            seen.close()
        server.send_signal(signal.SIGSTOP)  # Redis stalls: calls time out...
        process.send_signal(signal.SIGCONT)
        log = []
        try:
            for line in process.stderr:
                log.append(line)
                if "Stopping the crawl" in line:
                    break
        finally:
            server.send_signal(signal.SIGCONT)  # ... and answers again as the run closes
        log.append(process.stderr.read())
        process.stderr.close()
        process.wait(timeout=120)
        text = "".join(log)
        assert process.returncode == EXIT_CRASHED, text[-3000:]
        assert "the seen store could not be reached" in text
        code, text = newscrawl_run(small_mirror, tmp_path, *store)
        assert code == EXIT_OK, text[-3000:]
    assert_whole(small_mirror, tmp_path)


@pytest.mark.slow
def test_a_disk_full_before_the_run_is_one_line_and_exit_3(
    small_mirror: Mirror, tmp_path: Path, small_disk: Path
) -> None:
    (small_disk / "arabnews").mkdir()
    with (small_disk / "filler").open("wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 1024)
        except OSError:
            pass
    code, log = newscrawl_run(small_mirror, small_disk)
    assert code == EXIT_CRASHED, log[-3000:]
    assert "the output folder cannot be written" in log
    assert "(ENOSPC)" in log
    assert "Traceback" not in log
