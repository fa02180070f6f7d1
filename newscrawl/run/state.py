"""The crawl's memory: the seen store, the run's output file and the pages in flight.

``CrawlState`` is a Scrapy extension, one per crawl; the stages that need it take it in
their ``from_crawler`` (``CrawlState.of(crawler)``): the split middleware opens pages,
the article-request filter asks what was fetched before, the dedup stage reads what was
seen (its decisions are its own, ``newscrawl.dedup.decide``), the export pipeline writes
and commits. Which pages may be recorded as fetched is the page tracker's bookkeeping
(``newscrawl.run.tracking``). The run's output file, its recovery and its publication
belong to the ledger (``newscrawl.run.ledger``), whose invariant this class keeps by the
order of its calls: a story is recorded as seen only in the store transaction that
commits the bytes of the run file holding its record (written and fsynced first), and a
page is recorded as fetched only once every story it gave is written or known.

Before the first page, ``open_output`` takes the spider's lock (every entry point that
writes the output takes the same one), checks that the output folder can be written,
opens the seen store, finishes what killed runs left (``ledger.sweep`` and
``ledger.recover_partials``) and refuses a store that is behind the published files.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from newscrawl import names
from newscrawl.clock import new_run_id, utc_now
from newscrawl.distributed import distributed_run, redis_errors, safe_url
from newscrawl.records.story import StoryRecord
from newscrawl.run import ledger
from newscrawl.run.ledger import OutputError, Recovered, RunFile, StoreBehind, file_id_of
from newscrawl.run.locks import LOCK_FILE, RunLocked, hold_lock, release_lock
from newscrawl.run.seenstore import Commit, PageState, SeenStore, StoryState, open_store
from newscrawl.run.tracking import PageTracker
from newscrawl.signals import page_split
from newscrawl.sites import SiteProfile, page_key

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from typing_extensions import Self

    from newscrawl.distributed.redis_run import DistributedRun


logger = logging.getLogger(__name__)


# Why a crawl stopped itself, as the stats it set say (one line each): the output could
# not be written, the seen store or the run's Redis could not be reached.
_STOPPED = (
    (names.OUTPUT_FAILED, "the output could not be written: "),
    (names.STORE_FAILED, ""),
    (names.REDIS_FAILED, ""),
)


def stopped_reason(stats: dict[str, Any]) -> str | None:
    """Why the crawl stopped itself (see ``CrawlState._stop``), or None."""
    for key, prefix in _STOPPED:
        if stats.get(key):
            return f"{prefix}{stats[key]}"
    return None


class OutputRefused(Exception):
    """The crawl must not start: the output is not safe to write. One line, and the
    exit status of ``newscrawl run`` for it."""

    def __init__(self, message: str, exit_code: int = 3) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def output_dir_of(settings: BaseSettings) -> Path:
    return Path(settings["NEWSCRAWL_OUTPUT_DIR"])


def store_of(settings: BaseSettings, spider_name: str) -> SeenStore:
    """The seen store the settings name; OutputRefused when it cannot be opened."""
    # In distributed mode the store is on the run's Redis (the add-on says so too).
    url = str(settings.get("NEWSCRAWL_SEEN_STORE") or settings.get("NEWSCRAWL_REDIS_URL") or "")
    namespace = str(settings["NEWSCRAWL_SEEN_NAMESPACE"])
    output = output_dir_of(settings)
    try:
        return open_store(
            url,
            default_path=output / spider_name / ".state" / "seen.sqlite3",
            namespace=namespace.format(spider=spider_name),
            base=output,
        )
    except ValueError as exc:  # an unknown scheme: no store to open
        raise OutputRefused(str(exc)) from None
    except redis_errors() as exc:
        raise OutputRefused(
            f"cannot reach the seen store at {safe_url(url)}: {exc}", exit_code=3
        ) from None
    except OSError as exc:
        raise OutputRefused(f"cannot open the seen store: {exc}") from None


def open_output(
    settings: BaseSettings,
    spider_name: str,
    run_id: str,
    *,
    recover: bool = True,
    run: DistributedRun | None = None,
) -> tuple[SeenStore, list[Recovered]]:
    """Make the output safe to write (see the module docstring); the open seen store and
    the files recovered from killed runs. OutputRefused says why not."""
    spider_dir = output_dir_of(settings) / spider_name
    lock = None if settings.get("NEWSCRAWL_LOCK_HELD_BY") else spider_dir / LOCK_FILE
    if lock is not None:  # (a worker's parent holds the lock for it)
        try:
            hold_lock(lock, settings.getfloat("NEWSCRAWL_MAX_RUN_HOURS"))
        except RunLocked as exc:
            raise OutputRefused(str(exc), exit_code=exc.exit_code) from None
    try:
        return _prepare(settings, spider_name, spider_dir, run_id, recover, run)
    except BaseException:
        if lock is not None:
            release_lock(lock)
        raise


def _prepare(
    settings: BaseSettings,
    spider_name: str,
    spider_dir: Path,
    run_id: str,
    recover: bool,
    run: DistributedRun | None,
) -> tuple[SeenStore, list[Recovered]]:
    try:
        ledger.output_ready(spider_dir)
        store = store_of(settings, spider_name)
    except OutputError as exc:
        raise OutputRefused(f"the output folder cannot be written: {exc}") from None
    try:
        # Before recovery: a killed run's file, recovered into an emptied store, would
        # become the newest published file and hide that the store is behind.
        where = str(settings.get("NEWSCRAWL_SEEN_STORE") or settings.get("NEWSCRAWL_REDIS_URL"))
        ledger.check_store(spider_dir, store, safe_url(where) if where else "in .state/")
        recovered: list[Recovered] = []
        if recover:
            ledger.sweep(spider_dir, published_by=run_id)
            compress = settings.getbool("NEWSCRAWL_COMPRESS")
            # This run's other files are its live workers' (the run's parent recovers them).
            recovered = ledger.recover_partials(
                spider_dir, store, compress, recovered_by=run_id, skip_run=run_id, run=run
            )
    except (StoreBehind, OutputError) as exc:
        store.close()
        raise OutputRefused(str(exc)) from None
    except BaseException:
        store.close()
        raise
    return store, recovered


class HeldBack(DropItem):
    """A story a stage holds back to send on itself later: the drop does not settle its
    page (the dedup stage's held-back stories, ``newscrawl.dedup.decide``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, log_level="DEBUG")


class CrawlState:
    """See the module docstring. Opened on first use, closed at spider close."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.settings = settings
        self.output_dir = output_dir_of(settings)
        self.commit_every = max(1, settings.getint("NEWSCRAWL_COMMIT_EVERY"))
        self.publish_on_close = settings.getbool("NEWSCRAWL_PUBLISH_ON_CLOSE")
        self.compress = settings.getbool("NEWSCRAWL_COMPRESS")
        self.started = utc_now()
        self.run_id = str(settings.get("NEWSCRAWL_RUN_ID") or new_run_id(self.started))
        self.worker = settings.get("NEWSCRAWL_WORKER_ID") or None
        self.file_id = file_id_of(self.run_id, self.worker)
        self.run: DistributedRun | None = distributed_run(crawler)
        if self.run is not None:
            self.run.output = self
        self.recover_partials = settings.getbool("NEWSCRAWL_RECOVER_PARTIALS")
        self._store: SeenStore | None = None
        self._locked: Path | None = None  # the lock this crawl took (released at close)
        self.unsynced: dict[str, StoryState] = {}  # emitted, not yet safely written
        self.ready = Commit()  # may be committed now
        self.pages = PageTracker()
        self.out: RunFile | None = None  # the run's output file, opened on the first record
        self.written: list[dict[str, Any]] = []  # written since the last commit
        self.failed: str | None = None  # why the output could not be written, once it cannot
        # Called with each commit the store took (what a stage may now forget), and
        # before pages are let go when nothing is in flight (what a stage still holds
        # back must go out first): the dedup stage's, see newscrawl.dedup.decide.
        self.committed_hooks: list[Callable[[Commit], None]] = []
        # Called at each commit, before the store is written: what a stage has batched
        # for it goes into ``ready`` (the dedup stage's repeats, their last_seen).
        self.commit_hooks: list[Callable[[], None]] = []
        self.flush_hooks: list[Callable[[], int]] = []

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        state = cls(crawler)
        crawler.signals.connect(state.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(state.item_error, signal=signals.item_error)
        crawler.signals.connect(state.page_was_split, signal=page_split)
        return state

    def page_was_split(
        self,
        page_key: str,
        stories: int,
        fetched_at: str,
        listed: dict[str, str] | None,
        lease: str | None,
    ) -> None:
        """A page gave ``stories`` stories (the story stage's ``page_split`` signal)."""
        self.pages.page_opened(page_key, stories, fetched_at, listed, lease)

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        """A story dropped by any stage (duplicate, invalid) settles its page too; one
        held back (``HeldBack``) settles it when it is written or dropped later."""
        if isinstance(item, StoryRecord) and not isinstance(exception, HeldBack):
            site = getattr(self.crawler.spider, "site", None)
            if isinstance(site, SiteProfile):
                self.pages.story_settled(page_key(site, item.page_url))

    def item_error(self, item: Any) -> None:
        """A story a pipeline failed on (Scrapy logs the error): its page is not recorded
        as fetched, so a later run reads it again."""
        if isinstance(item, StoryRecord):
            site = getattr(self.crawler.spider, "site", None)
            if isinstance(site, SiteProfile):
                self.pages.story_failed(page_key(site, item.page_url))

    @staticmethod
    def of(crawler: Crawler) -> CrawlState:
        """The crawl's state (the extension in EXTENSIONS)."""
        state = crawler.get_extension(CrawlState)
        if state is None:
            raise RuntimeError("newscrawl.run.state.CrawlState is not in EXTENSIONS")
        return state

    # Paths

    @property
    def spider_name(self) -> str:
        spider = self.crawler.spider
        return spider.name if spider is not None else str(self.crawler.spidercls.name)

    @property
    def spider_dir(self) -> Path:
        return self.output_dir / self.spider_name

    @property
    def partial_path(self) -> Path:
        return ledger.partial_path(self.spider_dir, self.file_id)

    # The store

    def open(self) -> None:
        """Open the seen store and publish what killed runs left."""
        _ = self.store

    @property
    def store(self) -> SeenStore:
        if self._store is None:
            lock = self.spider_dir / LOCK_FILE
            self._store, recovered = open_output(
                self.settings,
                self.spider_name,
                self.run_id,
                recover=self.recover_partials,
                run=self.run,  # a line another live worker is writing is theirs
            )
            if not self.settings.get("NEWSCRAWL_LOCK_HELD_BY"):
                self._locked = lock
            for found in recovered:
                if self.stats is not None:
                    paths = self.stats.get_value(names.stat(names.RECOVERED, "paths")) or []
                    self.stats.set_value(
                        names.stat(names.RECOVERED, "paths"), [*paths, str(found.path)]
                    )
                self.inc(names.stat(names.RECOVERED, "files"))
                self.inc(names.stat(names.RECOVERED, "stories"), found.stories)
                self.inc(names.stat(names.RECOVERED, "quarantined"), found.quarantined)
            self._forget_old_offsets()
        return self._store

    def _forget_old_offsets(self) -> None:
        # Commit offsets are only read to recover a killed run's file: a week is plenty.
        self.store.forget_files(f"{utc_now() - timedelta(days=7):%Y%m%dT%H%M%SZ}")

    # Pages in flight (the tracker's bookkeeping; what needs the crawl is here)

    def abandon_unsettled_pages(self) -> int:
        """Pages still unsettled when nothing is in flight (a story of theirs failed):
        let them go like ``story_failed``; how many. Held-back stories go out first."""
        for flush in self.flush_hooks:
            flush()
        stuck = list(self.pages.in_flight)
        for key in stuck:
            self.pages.story_failed(key)
        if stuck:
            self.inc(names.PAGES_UNSETTLED, len(stuck))
            logger.warning("%d pages had a story fail in a pipeline: not recorded", len(stuck))
            self.commit()
        return len(stuck)

    def fetched_pages(self, keys: list[str]) -> dict[str, PageState]:
        return self.store.pages(keys)

    def held_leases(self) -> set[str]:
        return self.pages.held_leases()

    def holds(self, lease: str) -> bool:
        return self.pages.holds(lease)

    # Output

    def write(self, record: dict[str, Any], page_key: str | None) -> bool:
        """Append a record to the run's output; committed in batches after fsync. False
        once the output cannot be written (the crawl is being stopped)."""
        if self.failed is not None:
            return False
        if self.out is None:
            self._open_output()
        assert self.out is not None
        try:
            self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        except OutputError as exc:
            self._fail(exc)
            return False
        self.written.append({"key": record["key"], "page": page_key})
        if len(self.written) >= self.commit_every:
            self.commit()
        return self.failed is None

    def _open_output(self) -> None:
        self.out = RunFile(self.partial_path)
        # Recovery keeps what was committed from a file; the rest it checks line by line.
        self.store.commit(Commit(files={self.file_id: 0}))

    def _fail(self, exc: OutputError) -> None:
        """The output cannot be written: stop the crawl now, not page by page."""
        self._stop(str(exc), names.OUTPUT_FAILED, "output_failed")

    def store_failed(self, exc: Exception, page_key: str | None) -> None:
        """The seen store cannot be reached: the story and its page are not recorded (a
        later run fetches them), and the crawl stops now, with one line."""
        self.pages.story_failed(page_key)
        self._stop(
            f"the seen store could not be reached: {exc}", names.STORE_FAILED, "store_unavailable"
        )

    def _stop(self, reason: str, stat: str, finish_reason: str) -> None:
        """Stop the crawl, once. What was written and not committed is not recorded as
        seen, nor are its pages (a later run fetches them again, and recovery keeps the
        lines that made it to the file): the store never learns of a record without the
        file offset that covers it."""
        self._drop_uncommitted()
        if self.failed is not None:
            return
        self.failed = reason
        if self.stats is not None:
            self.stats.set_value(stat, reason)
        logger.error("Stopping the crawl: %s", reason)
        engine = self.crawler.engine
        if engine is not None and engine.running:
            deferred_from_coro(engine.close_spider_async(reason=finish_reason))

    def _drop_uncommitted(self) -> None:
        for entry in self.written:
            self.unsynced.pop(entry["key"], None)
            self.pages.story_failed(entry["page"])
        self.written.clear()

    def commit(self) -> None:
        """Make written records durable, then record them (and finished pages) as seen."""
        if self.out is not None and self.written and self.failed is None:
            try:
                synced = self.out.sync()
            except OutputError as exc:
                self._fail(exc)
            else:
                if synced is not None:
                    self.ready.files[self.file_id] = synced
        if self.failed is not None:
            self._drop_uncommitted()
        for entry in self.written:
            state = self.unsynced.pop(entry["key"], None)
            if state is not None:
                self.ready.stories.append(state)
                self.ready.fingerprints[state.fingerprint] = state.key
            self.pages.story_settled(entry["page"])
        self.written.clear()
        self.ready.pages += self.pages.take_settled()
        try:
            for hook in self.commit_hooks:
                hook()
        except redis_errors() as exc:  # what the hooks batched is kept for the next
            self.store_failed(exc, None)
            return
        if self.ready:
            try:
                self.store.commit(self.ready)
            except redis_errors() as exc:  # kept in self.ready, with its file offset
                self.store_failed(exc, None)
                return
            ledger.crash_point("commit.stored")
            self.inc(names.stat(names.SEEN_STORE, "commits"))
            self._forget(self.ready)
            self.ready = Commit()
        leases = self.pages.take_safe_leases()
        if leases and self.run is not None:
            try:
                self.run.release(leases)
            except redis_errors() as exc:  # still leased: requeued if this worker dies
                self.run.redis_failed(exc)

    def _forget(self, committed: Commit) -> None:
        """What the store now holds need not be kept in memory too (long runs)."""
        self.pages.forget(committed.pages)
        for forget in self.committed_hooks:
            forget(committed)

    def close(self, publish: bool) -> Path | None:
        """Commit what is left; publish the output file when the run ended well."""
        final = None
        try:
            if self._store is not None:
                self.commit()
            if self.out is not None:
                self.out.close()
                if publish and self.publish_on_close and self.failed is None:
                    final = ledger.publish_listed(
                        self.spider_dir,
                        self.file_id,
                        self.compress,
                        lambda done: ledger.list_in_manifest(self.spider_dir, done, self.run_id),
                    )
                elif not publish or self.failed is not None:
                    logger.warning(
                        "Run did not end well: its output stays in %s; the next run publishes it",
                        self.partial_path,
                    )
        finally:
            self.out = None
            if self._store is not None:
                self._store.close()
            if self._locked is not None:
                release_lock(self._locked)
                self._locked = None
        return final

    def inc(self, key: str, count: int = 1) -> None:
        """Count ``key`` (one of ``newscrawl.names``) in the crawl stats."""
        if self.stats is not None:
            self.stats.inc_value(key, count)
