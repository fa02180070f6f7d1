"""``newscrawl run SPIDER``: one scheduled run, safe to call from cron, systemd or Airflow.

A per-spider lock keeps runs of one spider from overlapping; the crawl's output is
published (renamed into place) only when the run ends well; a manifest next to it says
what the run did; the exit status says whether it went well, and why not.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import logging
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

# Exit statuses (documented in the README).
EXIT_OK = 0
EXIT_FAILED = 1  # the crawl ran, and a monitor failed: nothing new published
EXIT_USAGE = 2  # bad command line or spider arguments
EXIT_CRASHED = 3  # the crawl could not start or stopped with an error
EXIT_LOCKED = 75  # another run of the spider holds the lock (EX_TEMPFAIL: try later)

COUNTED_STATS = {
    "pages_fetched": "response_received_count",
    "article_pages": "newscrawl/pages",
    "stories_found": "newscrawl/stories",
    "stories_written": "newscrawl/exported",
    "new_stories": "newscrawl/dedup/new",
    "new_versions": "newscrawl/dedup/version",
    "duplicates": "newscrawl/dedup/duplicate",
    "same_content_other_key": "newscrawl/dedup/same-content-other-key",
    "near_duplicates": "newscrawl/dedup/near_duplicates",
    "pages_without_story": "newscrawl/pages/no_story",
    "skipped_unchanged": "newscrawl/incremental/skipped",
    "errors": "log_count/ERROR",
    "warnings": "log_count/WARNING",
}


class RunLocked(Exception):
    """Another run of the same spider is going on."""


@contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` for the run; raise RunLocked at once if taken.

    flock locks are dropped by the kernel when the process dies, however it dies, so a
    killed run never leaves a stale lock behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunLocked(f"another run holds {path} ({holder})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(timezone.utc).isoformat()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


def publish_file(partial: Path, final: Path, compress: bool = False) -> Path:
    """Move a finished run file into place, whole: a reader never sees half of it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        final = final.with_name(final.name + ".gz")
        temporary = final.with_name(f".{final.name}.tmp")
        with partial.open("rb") as source, gzip.open(temporary, "wb") as target:
            shutil.copyfileobj(source, target)
        with temporary.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(temporary, final)
        partial.unlink()
    else:
        os.replace(partial, final)
    return final


def describe_file(path: Path, root: Path) -> dict[str, Any]:
    """A published file for the manifest: where, how many lines, sha256."""
    opener = gzip.open if path.suffix == ".gz" else open
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with opener(path, "rb") as handle:
        lines = sum(1 for _ in handle)
    return {
        "path": str(path.relative_to(root)),
        "lines": lines,
        "bytes": path.stat().st_size,
        "sha256": digest,
    }


@dataclass
class RunReport:
    """What the manifest says of a run."""

    run_id: str
    spider: str
    started_at: str
    finished_at: str = ""
    status: str = "crashed"
    exit_code: int = EXIT_CRASHED
    reason: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    recovered: list[dict[str, Any]] = field(default_factory=list)
    failed_monitors: list[str] = field(default_factory=list)
    finish_reason: str | None = None

    def write(self, path: Path) -> None:
        """Write the manifest atomically (temporary file, then rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(json.dumps(self.__dict__, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)


def counts_from(stats: dict[str, Any]) -> dict[str, int]:
    return {name: int(stats.get(key, 0) or 0) for name, key in COUNTED_STATS.items()}


def verdict(stats: dict[str, Any], crashed: str | None) -> tuple[int, str, list[str]]:
    """(exit status, one-line reason, failed monitors) of a finished crawl."""
    if crashed:
        return EXIT_CRASHED, crashed, []
    failed = [str(f) for f in stats.get("newscrawl/monitors/failed") or []]
    if failed:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        return EXIT_FAILED, failed[0] + more, failed
    if "newscrawl/monitors/failed" not in stats:
        return EXIT_CRASHED, "the run monitors did not run", []
    if not stats.get("newscrawl/committed"):
        return EXIT_CRASHED, "the output could not be committed (see the log)", []
    return EXIT_OK, "all monitors passed", []


def parse_pairs(pairs: Sequence[str], option: str) -> dict[str, str]:
    """``NAME=VALUE`` pairs of ``-a``/``-s``; ValueError names the bad one."""
    parsed: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"{option} {pair!r}: expected NAME=VALUE")
        parsed[name] = value
    return parsed


def run(
    spider_name: str,
    spider_args: dict[str, str],
    overrides: dict[str, str],
    output_dir: Path | None,
    compress: bool,
) -> int:
    """Run one crawl as described in the module docstring; returns the exit status."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from newscrawl.arguments import SpiderArgumentError
    from newscrawl.state import new_run_id

    settings = get_project_settings()
    settings.setdict(overrides, priority="cmdline")
    if output_dir is not None:
        settings.set("NEWSCRAWL_OUTPUT_DIR", str(output_dir), priority="cmdline")
    root = Path(settings.get("NEWSCRAWL_OUTPUT_DIR") or "output")
    started = datetime.now(timezone.utc)
    run_id = new_run_id(started)
    settings.setdict(
        {
            "NEWSCRAWL_RUN_ID": run_id,
            # This command publishes the output itself, once the monitors have passed.
            "NEWSCRAWL_PUBLISH_ON_CLOSE": False,
            "NEWSCRAWL_COMPRESS": compress,
        },
        priority="cmdline",
    )
    process = CrawlerProcess(settings)
    try:
        spidercls = process.spider_loader.load(spider_name)
    except KeyError:
        known = ", ".join(sorted(process.spider_loader.list()))
        logger.error("newscrawl run: unknown spider %r (known: %s)", spider_name, known)
        return EXIT_USAGE
    check = getattr(spidercls, "check_arguments", None)
    if check is not None:
        try:
            check(spider_args)
        except SpiderArgumentError as exc:
            logger.error("newscrawl run: %s", exc)
            return EXIT_USAGE
    spider_dir = root / spider_name
    try:
        with run_lock(spider_dir / ".lock"):
            return _crawl_and_publish(process, spider_name, spider_args, run_id, started, root)
    except RunLocked as exc:
        logger.error("newscrawl run: %s; this run exits without crawling", exc)
        return EXIT_LOCKED


def _crawl_and_publish(
    process: Any,
    spider_name: str,
    spider_args: dict[str, str],
    run_id: str,
    started: datetime,
    root: Path,
) -> int:
    from newscrawl.state import PARTIAL, final_path

    report = RunReport(run_id=run_id, spider=spider_name, started_at=started.isoformat())
    crawler = process.create_crawler(spider_name)
    crashed: str | None = None
    try:
        process.crawl(crawler, **spider_args)
        process.start()
        if process.bootstrap_failed:
            crashed = "the crawl could not start (see the log above)"
    except Exception as exc:  # the run reports it; the scheduler sees the exit status
        logger.exception("newscrawl run: the crawl stopped with an error")
        crashed = f"the crawl stopped with an error: {exc!r}"
    stats: dict[str, Any] = crawler.stats.get_stats() if crawler.stats else {}
    report.finished_at = datetime.now(timezone.utc).isoformat()
    report.finish_reason = stats.get("finish_reason")
    report.counts = counts_from(stats)
    report.exit_code, report.reason, report.failed_monitors = verdict(stats, crashed)
    report.status = {EXIT_OK: "ok", EXIT_FAILED: "failed"}.get(report.exit_code, "crashed")
    for path in stats.get("newscrawl/recovered/paths") or []:
        report.recovered.append(describe_file(Path(path), root))
    spider_dir = root / spider_name
    partial = spider_dir / PARTIAL / f"{run_id}.jsonl"
    if report.exit_code == EXIT_OK and partial.exists():
        final = publish_file(
            partial,
            final_path(spider_dir, run_id),
            compress=bool(crawler.settings.getbool("NEWSCRAWL_COMPRESS")),
        )
        report.files.append(describe_file(final, root))
    manifest = final_path(spider_dir, run_id).with_name(f"{run_id}.manifest.json")
    report.write(manifest)
    if report.exit_code == EXIT_OK:
        written = report.files[0]["path"] if report.files else "no new story"
        logger.info("Run %s succeeded: %s; manifest %s", run_id, written, manifest)
    else:
        kept = " (its output stays in .partial/ until a later run publishes it)" * partial.exists()
        logger.error("Run %s failed: %s%s", run_id, report.reason, kept)
    return report.exit_code
