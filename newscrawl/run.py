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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from newscrawl.distributed import DistributedRun
    from newscrawl.seenstore import SeenStore

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
    "pages_lost": "newscrawl/pages/lost",
    "stories_quarantined": "newscrawl/quarantined",
    "skipped_unchanged": "newscrawl/incremental/skipped",
    "requeued_from_dead_workers": "newscrawl/distributed/requeued",
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
    worker: str | None = None  # distributed mode: the worker whose file this is
    finished_at: str = ""
    status: str = "crashed"
    exit_code: int = EXIT_CRASHED
    reason: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    recovered: list[dict[str, Any]] = field(default_factory=list)
    failed_monitors: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    # Each fault kind met: {"seen", "recovered", "repaired", "lost"} counts (see faults.py).
    faults: dict[str, dict[str, int]] = field(default_factory=dict)
    quarantined: dict[str, Any] | None = None

    def write(self, path: Path) -> None:
        """Write the manifest atomically (temporary file, then rename)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.tmp")
        temporary.write_text(json.dumps(self.__dict__, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)


def counts_from(stats: dict[str, Any]) -> dict[str, int]:
    return {name: int(stats.get(key, 0) or 0) for name, key in COUNTED_STATS.items()}


def faults_from(stats: dict[str, Any]) -> dict[str, dict[str, int]]:
    """``newscrawl/faults/<outcome>/<kind>`` stats as {kind: {outcome: count}}."""
    from newscrawl.faults import STAT

    faults: dict[str, dict[str, int]] = {}
    for key, count in stats.items():
        if key.startswith(f"{STAT}/"):
            outcome, _, kind = key.removeprefix(f"{STAT}/").partition("/")
            outcomes = faults.setdefault(kind, dict.fromkeys(FAULT_OUTCOMES, 0))
            outcomes[outcome] = int(count)
    return dict(sorted(faults.items()))


FAULT_OUTCOMES = ("seen", "recovered", "repaired", "lost")


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
    *,
    workers: int = 1,
    redis_url: str | None = None,
    join: str | None = None,
) -> int:
    """Run one crawl as described in the module docstring; returns the exit status.

    With a Redis URL (``redis_url``, or NEWSCRAWL_REDIS_URL) the crawl is one worker of
    a distributed run, or ``workers`` of them in child processes; ``join`` makes this
    process a worker of the run a parent started (no lock: the parent holds it).
    """
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    from newscrawl.arguments import SpiderArgumentError
    from newscrawl.distributed import join_current_run, namespace_of, new_worker_id
    from newscrawl.state import new_run_id

    settings = get_project_settings()
    settings.setdict(overrides, priority="cmdline")
    if output_dir is not None:
        settings.set("NEWSCRAWL_OUTPUT_DIR", str(output_dir), priority="cmdline")
    if redis_url:
        settings.set("NEWSCRAWL_REDIS_URL", redis_url, priority="cmdline")
    redis_url = str(settings.get("NEWSCRAWL_REDIS_URL") or "") or None
    if (workers > 1 or join) and not redis_url:
        logger.error(
            "newscrawl run: several workers share a run through Redis: "
            "give --redis URL or set NEWSCRAWL_REDIS_URL"
        )
        return EXIT_USAGE
    root = Path(settings.get("NEWSCRAWL_OUTPUT_DIR") or "output")
    started = datetime.now(timezone.utc)
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
    if join:
        # The parent names its workers, and publishes what killed runs left before them.
        worker = str(settings.get("NEWSCRAWL_WORKER_ID") or new_worker_id())
        _settle(process, join, worker, compress)
        process.settings.set("NEWSCRAWL_RECOVER_PARTIALS", False, priority="cmdline")
        return _crawl_and_publish(process, spider_name, spider_args, join, worker, started, root)
    spider_dir = root / spider_name
    try:
        with run_lock(spider_dir / ".lock"):
            if redis_url is None:
                run_id = new_run_id(started)
                _settle(process, run_id, None, compress)
                return _crawl_and_publish(
                    process, spider_name, spider_args, run_id, None, started, root
                )
            namespace = namespace_of(settings, spider_name)
            timeout = settings.getfloat("NEWSCRAWL_WORKER_TIMEOUT", 60.0)
            run_id = join_current_run(redis_url, namespace, new_run_id(started), timeout)
            if workers == 1:
                worker = new_worker_id()
                _settle(process, run_id, worker, compress)
                return _crawl_and_publish(
                    process, spider_name, spider_args, run_id, worker, started, root
                )
            return _run_workers(
                spider_name, spider_args, overrides, output_dir, compress,
                redis_url, namespace, run_id, workers, spider_dir,
            )  # fmt: skip
    except RunLocked as exc:
        logger.error("newscrawl run: %s; this run exits without crawling", exc)
        return EXIT_LOCKED


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


def _run_workers(
    spider_name: str,
    spider_args: dict[str, str],
    overrides: dict[str, str],
    output_dir: Path | None,
    compress: bool,
    redis_url: str,
    namespace: str,
    run_id: str,
    workers: int,
    spider_dir: Path,
) -> int:
    """Run ``workers`` workers of the run in child processes; publish what killed ones left."""
    import signal
    import subprocess
    import sys

    from newscrawl.distributed import new_worker_id
    from newscrawl.state import recover_partials

    with _run_handle(redis_url, namespace, run_id) as (store, _):
        # Files killed runs left, published before the workers start (they do not look).
        recover_partials(spider_dir, store, compress, skip_run=run_id)
    command = [sys.executable, "-m", "newscrawl.cli", "run", spider_name]
    command += ["--join", run_id, "--redis", redis_url]
    for name, value in spider_args.items():
        command += ["-a", f"{name}={value}"]
    for name, value in overrides.items():
        command += ["-s", f"{name}={value}"]
    if output_dir is not None:
        command += ["--output-dir", str(output_dir)]
    if compress:
        command.append("--gzip")
    names = [new_worker_id() for _ in range(workers)]
    # Their own sessions: a Ctrl-C reaches this process only, which passes it on once
    # (Scrapy takes a second signal as "stop now, uncleanly").
    children = [
        subprocess.Popen([*command, "-s", f"NEWSCRAWL_WORKER_ID={name}"], start_new_session=True)
        for name in names
    ]
    logger.info(
        "Run %s: %d workers started (%s)",
        run_id,
        workers,
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
        _recover_workers(spider_dir, redis_url, namespace, run_id, killed, compress)
    statuses = [EXIT_CRASHED if code < 0 else code for code in codes]
    worst = max(statuses, key=lambda status: _SEVERITY.get(status, 3))
    logger.log(
        logging.INFO if worst == EXIT_OK else logging.ERROR,
        "Run %s: %d workers ended with exit statuses %s",
        run_id,
        workers,
        ", ".join(str(code) for code in statuses),
    )
    return worst


@contextmanager
def _run_handle(
    redis_url: str, namespace: str, run_id: str
) -> Iterator[tuple[SeenStore, DistributedRun]]:
    """The seen store, and a handle on the run, alive while it is used (so a story it
    keeps while recovering is not taken over meanwhile)."""
    import redis

    from newscrawl.distributed import DistributedRun, new_worker_id
    from newscrawl.seenstore import open_store

    store = open_store(redis_url, default_path=Path("."), namespace=namespace)
    client = redis.Redis.from_url(redis_url)
    run = DistributedRun(client, namespace, run_id, new_worker_id())
    run.register()
    try:
        yield store, run
    finally:
        run.leave()
        client.close()
        store.close()


def _recover_workers(
    spider_dir: Path,
    redis_url: str,
    namespace: str,
    run_id: str,
    killed: list[str],
    compress: bool,
) -> None:
    """Publish the files of this run's killed workers, each with a manifest."""
    from newscrawl.state import file_id_of, final_path, recover_partials

    files = {file_id_of(run_id, worker): worker for worker in killed}
    with _run_handle(redis_url, namespace, run_id) as (store, run):
        for worker in killed:  # gone: their claims may be taken over now
            run.leave(worker)
        recovered = recover_partials(spider_dir, store, compress, only_files=set(files), run=run)
    root = spider_dir.parent
    for final, _count in recovered:
        file_id = final.name.split(".jsonl")[0]
        manifest = final_path(spider_dir, file_id).with_name(f"{file_id}.manifest.json")
        if manifest.exists():  # the worker wrote its own before it was killed
            continue
        report = RunReport(
            run_id=run_id,
            spider=spider_dir.name,
            started_at="",
            finished_at=datetime.now(timezone.utc).isoformat(),
            worker=files[file_id],
            reason="the worker was killed; the stories it had written were published",
        )
        report.files.append(describe_file(final, root))
        report.write(manifest)


def _crawl_and_publish(
    process: Any,
    spider_name: str,
    spider_args: dict[str, str],
    run_id: str,
    worker: str | None,
    started: datetime,
    root: Path,
) -> int:
    from newscrawl.state import PARTIAL, file_id_of, final_path

    file_id = file_id_of(run_id, worker)
    report = RunReport(
        run_id=run_id, spider=spider_name, started_at=started.isoformat(), worker=worker
    )
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
    report.faults = faults_from(stats)
    quarantine = stats.get("newscrawl/quarantined/path")
    if quarantine:
        report.quarantined = describe_file(Path(quarantine), root)
    report.exit_code, report.reason, report.failed_monitors = verdict(stats, crashed)
    report.status = {EXIT_OK: "ok", EXIT_FAILED: "failed"}.get(report.exit_code, "crashed")
    for path in stats.get("newscrawl/recovered/paths") or []:
        report.recovered.append(describe_file(Path(path), root))
    spider_dir = root / spider_name
    partial = spider_dir / PARTIAL / f"{file_id}.jsonl"
    if report.exit_code == EXIT_OK and partial.exists():
        final = publish_file(
            partial,
            final_path(spider_dir, file_id),
            compress=bool(crawler.settings.getbool("NEWSCRAWL_COMPRESS")),
        )
        report.files.append(describe_file(final, root))
    manifest = final_path(spider_dir, file_id).with_name(f"{file_id}.manifest.json")
    report.write(manifest)
    name = f"{run_id} (worker {worker})" if worker else run_id
    if report.exit_code == EXIT_OK:
        written = report.files[0]["path"] if report.files else "no new story"
        logger.info("Run %s succeeded: %s; manifest %s", name, written, manifest)
    else:
        kept = " (its output stays in .partial/ until a later run publishes it)" * partial.exists()
        logger.error("Run %s failed: %s%s", name, report.reason, kept)
    return report.exit_code
