"""``newscrawl run SPIDER``: one scheduled run, safe to call from cron, systemd or Airflow.

A per-spider lock keeps runs of one spider from overlapping; the crawl's output is
published (renamed into place) only when the run ends well; a manifest next to it says
what the run did; the exit status says whether it went well, and why not.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

from newscrawl import names
from newscrawl.clock import new_run_id
from newscrawl.discover.arguments import SpiderArgumentError
from newscrawl.distributed import (
    RedisUnavailable,
    namespace_of,
    new_worker_id,
    redis_errors,
    safe_url,
)
from newscrawl.run import ledger
from newscrawl.run.config import SettingsError, check_settings
from newscrawl.run.ledger import RunReport, describe_file, file_id_of
from newscrawl.run.locks import EXIT_LOCKED, LOCK_FILE, RunLocked, release_lock, run_lock
from newscrawl.run.seenstore import SeenStore, open_store
from newscrawl.run.state import OutputRefused, open_output, stopped_reason

if TYPE_CHECKING:
    from newscrawl.distributed.redis_run import DistributedRun

logger = logging.getLogger(__name__)

# Exit statuses (documented in the README).
EXIT_OK = 0
EXIT_FAILED = 1  # the crawl ran, and a monitor failed: nothing new published
EXIT_USAGE = 2  # bad command line or spider arguments
EXIT_CRASHED = 3  # the crawl could not start or stopped with an error
# EXIT_LOCKED = 75: another run of the spider holds the lock (EX_TEMPFAIL: try later)
__all__ = ["EXIT_CRASHED", "EXIT_FAILED", "EXIT_LOCKED", "EXIT_OK", "EXIT_USAGE", "run"]

COUNTED_STATS = {
    "pages_fetched": "response_received_count",
    "article_pages": names.PAGES,
    "stories_found": names.STORIES,
    "stories_written": names.EXPORTED,
    "new_stories": names.stat(names.DEDUP, "new"),
    "new_versions": names.stat(names.DEDUP, "version"),
    "duplicates": names.stat(names.DEDUP, "duplicate"),
    "same_content_other_key": names.stat(names.DEDUP, "same-content-other-key"),
    "near_duplicates": names.stat(names.DEDUP, "near_duplicates"),
    "pages_without_story": names.PAGES_NO_STORY,
    "pages_lost": names.PAGES_LOST,
    "stories_quarantined": names.QUARANTINED,
    "skipped_unchanged": names.INCREMENTAL_SKIPPED,
    "requeued_from_dead_workers": names.REQUEUED,
    "errors": "log_count/ERROR",
    "warnings": "log_count/WARNING",
}


def counts_from(stats: dict[str, Any]) -> dict[str, int]:
    return {name: int(stats.get(key, 0) or 0) for name, key in COUNTED_STATS.items()}


def faults_from(stats: dict[str, Any]) -> dict[str, dict[str, int]]:
    """``newscrawl/faults/<outcome>/<kind>`` stats as {kind: {outcome: count}}."""
    faults: dict[str, dict[str, int]] = {}
    for key, count in stats.items():
        if key.startswith(f"{names.FAULTS}/"):
            outcome, _, kind = key.removeprefix(f"{names.FAULTS}/").partition("/")
            outcomes = faults.setdefault(kind, dict.fromkeys(FAULT_OUTCOMES, 0))
            outcomes[outcome] = int(count)
    return dict(sorted(faults.items()))


FAULT_OUTCOMES = ("seen", "recovered", "repaired", "lost")


def verdict(stats: dict[str, Any], crashed: str | None) -> tuple[int, str, list[str]]:
    """(exit status, one-line reason, failed monitors) of a finished crawl."""
    if crashed:
        return EXIT_CRASHED, crashed, []
    stopped = stopped_reason(stats)
    if stopped:
        return EXIT_CRASHED, stopped, []
    failed = [str(f) for f in stats.get(names.MONITORS_FAILED) or []]
    if failed:
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        return EXIT_FAILED, failed[0] + more, failed
    if names.MONITORS_FAILED not in stats:
        return EXIT_CRASHED, "the run monitors did not run", []
    if not stats.get(names.COMMITTED):
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


@dataclass(frozen=True)
class RunConfig:
    """What ``newscrawl run`` was asked to do (its command line)."""

    spider_name: str
    spider_args: dict[str, str] = field(default_factory=dict)  # -a NAME=VALUE
    overrides: dict[str, str] = field(default_factory=dict)  # -s NAME=VALUE
    output_dir: Path | None = None  # NEWSCRAWL_OUTPUT_DIR when None
    compress: bool = False  # publish <run-id>.jsonl.gz
    # With a Redis URL (here, or NEWSCRAWL_REDIS_URL) the crawl is one worker of a
    # distributed run, or ``workers`` of them in child processes.
    workers: int = 1
    redis_url: str | None = None
    # A worker of the run a parent started (no lock: the parent holds it).
    join: str | None = None


@dataclass(frozen=True)
class Crawl:
    """One crawl process of a run: which run, which worker, and where it writes."""

    spider_name: str
    spider_args: dict[str, str]
    run_id: str
    worker: str | None
    started: datetime
    root: Path  # the output folder


def run(config: RunConfig) -> int:
    """Run one crawl as described in the module docstring; returns the exit status."""
    settings = get_project_settings()
    settings.setdict(config.overrides, priority="cmdline")
    if config.output_dir is not None:
        settings.set("NEWSCRAWL_OUTPUT_DIR", str(config.output_dir), priority="cmdline")
    if config.redis_url:
        settings.set("NEWSCRAWL_REDIS_URL", config.redis_url, priority="cmdline")
    redis_url = str(settings.get("NEWSCRAWL_REDIS_URL") or "") or None
    try:  # before any request: a bad -s value is a usage error, not a crash midway
        check_settings(settings)
    except SettingsError as exc:
        logger.error("newscrawl run: %s", exc)
        return exc.exit_code
    if (config.workers > 1 or config.join) and not redis_url:
        logger.error(
            "newscrawl run: several workers share a run through Redis: "
            "give --redis URL or set NEWSCRAWL_REDIS_URL"
        )
        return EXIT_USAGE
    root = Path(settings["NEWSCRAWL_OUTPUT_DIR"])
    started = datetime.now(timezone.utc)
    process = CrawlerProcess(settings)
    try:
        spidercls = process.spider_loader.load(config.spider_name)
    except KeyError:
        known = ", ".join(sorted(process.spider_loader.list()))
        logger.error("newscrawl run: unknown spider %r (known: %s)", config.spider_name, known)
        return EXIT_USAGE
    check = getattr(spidercls, "check_arguments", None)
    if check is not None:
        try:
            check(config.spider_args)
        except SpiderArgumentError as exc:
            logger.error("newscrawl run: %s", exc)
            return EXIT_USAGE
    spider_dir = root / config.spider_name

    def crawl(run_id: str, worker: str | None) -> Crawl:
        return Crawl(config.spider_name, config.spider_args, run_id, worker, started, root)

    try:
        if config.join:
            # The parent names its workers, holds the lock and publishes what killed
            # runs left before them.
            worker = str(settings.get("NEWSCRAWL_WORKER_ID") or new_worker_id())
            _settle(process, config.join, worker, config.compress)
            process.settings.set("NEWSCRAWL_RECOVER_PARTIALS", False, priority="cmdline")
            return _crawl_and_publish(process, crawl(config.join, worker))
        with run_lock(spider_dir / LOCK_FILE, settings.getfloat("NEWSCRAWL_MAX_RUN_HOURS")):
            if redis_url is None:
                run_id = new_run_id(started)
                _settle(process, run_id, None, config.compress)
                return _crawl_and_publish(process, crawl(run_id, None))
            from newscrawl.distributed.redis_run import join_current_run

            namespace = namespace_of(settings, config.spider_name)
            timeout = settings.getfloat("NEWSCRAWL_WORKER_TIMEOUT")
            run_id = join_current_run(redis_url, namespace, new_run_id(started), timeout)
            if config.workers == 1:
                worker = new_worker_id()
                _settle(process, run_id, worker, config.compress)
                return _crawl_and_publish(process, crawl(run_id, worker))
            return _run_workers(WorkersConfig(config, redis_url, namespace, run_id, spider_dir))
    except RunLocked as exc:
        level = logging.INFO if exc.exit_code == EXIT_LOCKED else logging.ERROR
        logger.log(level, "newscrawl run: %s; this run exits without crawling", exc)
        return exc.exit_code
    except OutputRefused as exc:
        logger.error("newscrawl run: %s", exc)
        return exc.exit_code
    except RedisUnavailable as exc:
        logger.error("newscrawl run: %s", exc)
        return EXIT_CRASHED


def _settle(process: Any, run_id: str, worker: str | None, compress: bool) -> None:
    """The settings every crawl of ``newscrawl run`` gets."""
    process.settings.setdict(
        {
            "NEWSCRAWL_RUN_ID": run_id,
            "NEWSCRAWL_WORKER_ID": worker or "",
            # This command publishes the output itself, once the monitors have passed.
            "NEWSCRAWL_PUBLISH_ON_CLOSE": False,
            "NEWSCRAWL_COMPRESS": compress,
        },
        priority="cmdline",
    )


# How bad a worker's exit status is, to pick the run's: the worst one wins.
_SEVERITY = {EXIT_OK: 0, EXIT_FAILED: 1, EXIT_LOCKED: 2, EXIT_CRASHED: 3, EXIT_USAGE: 4}
# What a worker process is given through its environment, never its command line
# (which anyone on the machine can read with ps): the Redis URL, which may hold a
# password, and the -a / -s values, which may too.
WORKER_ENV = "NEWSCRAWL_WORKER_CONFIG"


@dataclass(frozen=True)
class WorkersConfig:
    """What ``newscrawl run --workers N`` needs to start and settle its workers: what it
    was asked, and the run it resolved that to."""

    asked: RunConfig
    redis_url: str
    namespace: str
    run_id: str
    spider_dir: Path


def worker_config_from_env() -> dict[str, Any] | None:
    """The -a / -s values and Redis URL a parent passed to this worker, if any."""
    found = os.environ.get(WORKER_ENV)
    return json.loads(found) if found else None


def _run_workers(config: WorkersConfig) -> int:
    """Run the workers of the run in child processes; publish what killed ones left."""
    run_id = config.run_id
    spider_dir = config.spider_dir
    with _run_handle(config.redis_url, config.namespace, run_id) as (store, run):
        # As open_output does for one crawl: the store checked first, then the files
        # killed runs left published before the workers start (they do not look).
        try:
            ledger.output_ready(spider_dir)
            ledger.check_store(spider_dir, store, safe_url(config.redis_url))
            ledger.sweep(spider_dir, published_by=run_id)
            ledger.recover_partials(
                spider_dir,
                store,
                config.asked.compress,
                recovered_by=run_id,
                skip_run=run_id,
                run=run,
            )
        except ledger.StoreBehind as exc:
            raise OutputRefused(str(exc)) from None
        except ledger.OutputError as exc:
            raise OutputRefused(f"the output folder cannot be written: {exc}") from None
    asked = config.asked
    command = [sys.executable, "-m", "newscrawl.cli", "run", asked.spider_name]
    command += ["--join", run_id]
    if asked.output_dir is not None:
        command += ["--output-dir", str(asked.output_dir)]
    if asked.compress:
        command.append("--gzip")
    names = [new_worker_id() for _ in range(asked.workers)]
    secrets_env = {
        WORKER_ENV: json.dumps({"spider_args": asked.spider_args, "overrides": asked.overrides}),
        "NEWSCRAWL_REDIS_URL": config.redis_url,
    }
    # Their own sessions: a Ctrl-C reaches this process only, which passes it on once
    # (Scrapy takes a second signal as "stop now, uncleanly").
    children = [
        subprocess.Popen(
            [*command, "-s", f"NEWSCRAWL_WORKER_ID={name}", "-s",
             f"NEWSCRAWL_LOCK_HELD_BY={os.getpid()}"],
            start_new_session=True,
            env={**os.environ, **secrets_env},
        )
        for name in names
    ]  # fmt: skip
    logger.info(
        "Run %s: %d workers started (%s)",
        run_id,
        asked.workers,
        ", ".join(f"{name} pid {child.pid}" for name, child in zip(names, children, strict=True)),
    )

    def forward(signum: int, _frame: Any) -> None:  # stop the workers the way we were asked
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        codes = [child.wait() for child in children]
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    killed = []
    for name, child, code in zip(names, children, codes, strict=True):
        if code < 0:
            killed.append(name)
            logger.error(
                "Worker %s (pid %d) of run %s was killed by signal %d",
                name, child.pid, run_id, -code,
            )  # fmt: skip
    if killed:
        _recover_workers(config, killed)
    statuses = [EXIT_CRASHED if code < 0 else code for code in codes]
    worst = max(statuses, key=lambda status: _SEVERITY.get(status, 3))
    logger.log(
        logging.INFO if worst == EXIT_OK else logging.ERROR,
        "Run %s: %d workers ended with exit statuses %s",
        run_id,
        asked.workers,
        ", ".join(str(code) for code in statuses),
    )
    return worst


@contextmanager
def _run_handle(
    redis_url: str, namespace: str, run_id: str
) -> Iterator[tuple[SeenStore, DistributedRun]]:
    """The seen store, and a handle on the run, alive while it is used (so a story it
    keeps while recovering is not taken over meanwhile)."""
    from newscrawl.distributed.redis_run import DistributedRun, redis_client

    try:
        store = open_store(redis_url, default_path=Path("."), namespace=namespace)
    except redis_errors() as exc:
        raise RedisUnavailable(f"cannot reach Redis at {safe_url(redis_url)}: {exc}") from None
    client = redis_client(redis_url)
    run = DistributedRun(client, namespace, run_id, new_worker_id())
    try:
        run.hold_claims()
        yield store, run
    finally:
        try:
            run.leave()
        except redis_errors():
            logger.warning("Could not leave run %s on Redis", run_id)
        client.close()
        store.close()


def _recover_workers(config: WorkersConfig, killed: list[str]) -> None:
    """Publish the files of this run's killed workers, each listed in a manifest."""
    files = {file_id_of(config.run_id, worker) for worker in killed}
    with _run_handle(config.redis_url, config.namespace, config.run_id) as (store, run):
        for worker in killed:  # gone: their claims may be taken over now
            run.leave(worker)
        ledger.recover_partials(
            config.spider_dir,
            store,
            config.asked.compress,
            recovered_by=config.run_id,
            only_files=files,
            run=run,
        )


def _crawl_and_publish(process: Any, crawl: Crawl) -> int:
    file_id = file_id_of(crawl.run_id, crawl.worker)
    spider_dir = crawl.root / crawl.spider_name
    report = RunReport(
        run_id=crawl.run_id,
        spider=crawl.spider_name,
        started_at=crawl.started.isoformat(),
        worker=crawl.worker,
    )
    # The output made safe before any request: a refusal is one line and an exit status.
    store, recovered = open_output(
        process.settings,
        crawl.spider_name,
        crawl.run_id,
        recover=process.settings.getbool("NEWSCRAWL_RECOVER_PARTIALS"),
    )
    store.close()
    for found in recovered:
        report.recovered.append(describe_file(found.path, crawl.root))
    crawler = process.create_crawler(crawl.spider_name)
    crashed: str | None = None
    try:
        process.crawl(crawler, **crawl.spider_args)
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
    report.faults = faults_from(stats)
    quarantine = stats.get(names.stat(names.QUARANTINED, "path"))
    if quarantine:
        report.quarantined = describe_file(Path(quarantine), crawl.root)
    report.exit_code, report.reason, report.failed_monitors = verdict(stats, crashed)
    report.status = {EXIT_OK: "ok", EXIT_FAILED: "failed"}.get(report.exit_code, "crashed")
    partial = ledger.partial_path(spider_dir, file_id)
    manifest = ledger.manifest_path(spider_dir, file_id)

    def listed(final: Path) -> None:
        report.files.append(describe_file(final, crawl.root))
        report.write(manifest)

    try:
        if report.exit_code == EXIT_OK and partial.exists():
            compress = crawler.settings.getbool("NEWSCRAWL_COMPRESS")
            ledger.publish_listed(spider_dir, file_id, compress, listed)
        else:
            with ledger.publishing(spider_dir, file_id):
                report.write(manifest)
    except ledger.OutputError as exc:
        # What was fsynced and committed stays in .partial/ (or is published already):
        # the next run publishes it and writes its manifest.
        logger.warning("Run %s: %s", crawl.run_id, exc)
        if report.exit_code == EXIT_OK:
            report.exit_code = EXIT_CRASHED
            report.reason = f"the output could not be written: {exc}"
    finally:
        release_lock(spider_dir / LOCK_FILE)
    name = f"{crawl.run_id} (worker {crawl.worker})" if crawl.worker else crawl.run_id
    if report.exit_code == EXIT_OK:
        written = report.files[0]["path"] if report.files else "no new story"
        logger.info("Run %s succeeded: %s; manifest %s", name, written, manifest)
    else:
        kept = " (its output stays in .partial/ until a later run publishes it)" * partial.exists()
        logger.error("Run %s failed: %s%s", name, report.reason, kept)
    return report.exit_code
