"""The crawl's memory: the seen store, this run's decisions, and the run's output file.

One object per crawl (``crawl_state(crawler)``), shared by the stages that need it:
the split middleware opens pages, the article-request filter asks what was fetched
before, the dedup pipeline decides, the export pipeline writes and commits.

The rule that keeps a killed run from losing or duplicating a story: a story is
recorded as seen only after its record is safely in the output file (written and
fsynced), in one store transaction per batch. A page is recorded as fetched only after
every story it gave is written or known. At start, output left by a killed run is read
back: its stories are recorded as seen and the file is published, so nothing in it is
lost and nothing in it is emitted again.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from datasketch import MinHash

from newscrawl.distributed import DistributedRun, distributed_run
from newscrawl.identity import clean_url, fingerprint, story_key
from newscrawl.neardup import NearDuplicateIndex
from newscrawl.run import publish_file
from newscrawl.seenstore import Commit, PageState, SeenStore, StoryState, open_store

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from newscrawl.sites import SiteProfile

logger = logging.getLogger(__name__)
STAT = "newscrawl"
PARTIAL = ".partial"
_STATES: WeakKeyDictionary[Crawler, CrawlState] = WeakKeyDictionary()


def crawl_state(crawler: Crawler) -> CrawlState:
    """The crawl's state, created on first use."""
    state = _STATES.get(crawler)
    if state is None:
        state = _STATES[crawler] = CrawlState(crawler)
    return state


RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")
# A run file's name: the run id, and in distributed mode the worker that wrote it.
FILE_ID = re.compile(rf"(?P<run>{RUN_ID.pattern})(?:\.(?P<worker>w[0-9a-f]{{6}}))?")


def new_run_id(started: datetime) -> str:
    return f"{started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def final_path(spider_dir: Path, file_id: str) -> Path:
    """Where a run file is published: dated by the run's start (UTC)."""
    day = datetime.strptime(file_id[:16], "%Y%m%dT%H%M%SZ")
    return spider_dir / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / f"{file_id}.jsonl"


def file_id_of(run_id: str, worker: str | None) -> str:
    """A run file's name (without .jsonl): ``<run-id>``, or ``<run-id>.<worker>``."""
    return f"{run_id}.{worker}" if worker else run_id


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def page_key(site: SiteProfile, url: str) -> str:
    """A page's key in the seen store: the site's article id on its host, else its URL."""
    article_id = site.article_id(url)
    if article_id is not None:
        return f"{site.name}:{urlsplit(url).netloc}/{article_id}"
    return f"{site.name}:{clean_url(url)}"


@dataclass
class Decision:
    """What dedup made of one story record."""

    emit: bool
    reason: str  # new | version | duplicate | same-content-other-key
    fields: dict[str, Any] = field(default_factory=dict)  # added to an emitted record


@dataclass
class _Page:
    state: PageState
    remaining: int  # stories not yet written or known
    lease: str | None = None  # distributed mode: released once the page is safe


class CrawlState:
    """See the module docstring. Opened lazily on first use, closed at spider close."""

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.output_dir = Path(settings.get("NEWSCRAWL_OUTPUT_DIR") or "output")
        self.store_url = str(settings.get("NEWSCRAWL_SEEN_STORE") or "")
        self.namespace = str(settings.get("NEWSCRAWL_SEEN_NAMESPACE") or "newscrawl:{spider}")
        self.commit_every = max(1, settings.getint("NEWSCRAWL_COMMIT_EVERY", 100))
        self.drop_near = settings.getbool("NEWSCRAWL_DROP_NEAR_DUPLICATES")
        self.publish_on_close = settings.getbool("NEWSCRAWL_PUBLISH_ON_CLOSE", True)
        self.compress = settings.getbool("NEWSCRAWL_COMPRESS")
        self.near = NearDuplicateIndex(
            threshold=settings.getfloat("NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD", 0.8),
            window_days=settings.getfloat("NEWSCRAWL_NEAR_DUPLICATE_WINDOW_DAYS", 30.0),
        )
        self.started = utc_now()
        self.run_id = str(settings.get("NEWSCRAWL_RUN_ID") or new_run_id(self.started))
        self.worker = settings.get("NEWSCRAWL_WORKER_ID") or None
        self.file_id = file_id_of(self.run_id, self.worker)
        self.run: DistributedRun | None = distributed_run(crawler)
        self.safe_leases: list[str] = []  # of settled pages: released after the next commit
        self.recover_partials = settings.getbool("NEWSCRAWL_RECOVER_PARTIALS", True)
        self._store: SeenStore | None = None
        # This run's decisions not yet in the store, visible to later decisions.
        self.overlay_stories: dict[str, StoryState] = {}
        self.overlay_fingerprints: dict[str, str] = {}
        self.overlay_aliases: dict[str, str] = {}
        self.unsynced: dict[str, StoryState] = {}  # emitted, not yet safely written
        self.ready = Commit()  # may be committed now
        self.pages: dict[str, _Page] = {}  # page key -> stories still in flight
        self.listings: dict[str, dict[str, str]] = {}  # page key -> {source: listed time}
        self.done_pages: dict[str, PageState] = {}  # fetched and settled in this run
        self.out: Any = None  # the run's output file, opened on the first record
        self.written: list[dict[str, Any]] = []  # written since the last commit

    # Paths

    @property
    def spider_name(self) -> str:
        spider = self.crawler.spider
        return spider.name if spider is not None else "crawl"

    @property
    def spider_dir(self) -> Path:
        return self.output_dir / self.spider_name

    @property
    def partial_path(self) -> Path:
        return self.spider_dir / PARTIAL / f"{self.file_id}.jsonl"

    # The store

    def open(self) -> None:
        """Open the seen store, publish what killed runs left, load the near-dup window."""
        _ = self.store

    @property
    def store(self) -> SeenStore:
        if self._store is None:
            self._store = open_store(
                self.store_url,
                default_path=self.spider_dir / ".state" / "seen.sqlite3",
                namespace=self.namespace.format(spider=self.spider_name),
            )
            self._recover()
            self._load_window()
        return self._store

    def _load_window(self) -> None:
        # Commit offsets are only read to recover a killed run's file: a week is plenty.
        self.store.forget_files(f"{utc_now() - timedelta(days=7):%Y%m%dT%H%M%SZ}")
        since = (utc_now() - self.near.window).isoformat()
        forgotten = self.store.forget_sketches(since)
        if forgotten:
            self._inc("seen_store/sketches_forgotten", forgotten)
        for key, seen, sketch in self.store.sketches(since):
            minhash = NearDuplicateIndex.from_bytes(sketch)
            if minhash is None:  # written by another version of newscrawl: skip it
                self._inc("seen_store/unreadable_sketches")
                continue
            self.near.add(key, minhash, datetime.fromisoformat(seen))
        if len(self.near):
            logger.info("Near-duplicate window: %d recent stories loaded", len(self.near))

    def _recover(self) -> None:
        """Publish output left by killed runs, recording its stories as seen first."""
        assert self._store is not None
        if not self.recover_partials:  # a worker of `newscrawl run --workers`: the parent does
            return
        # This run's other files are its live workers' (the run's parent recovers them).
        for final, count in recover_partials(
            self.spider_dir, self._store, self.compress, skip_run=self.run_id
        ):
            if self.stats is not None:
                paths = self.stats.get_value(f"{STAT}/recovered/paths") or []
                self.stats.set_value(f"{STAT}/recovered/paths", [*paths, str(final)])
            self._inc("recovered/files")
            self._inc("recovered/stories", count)

    # Pages in flight

    def note_listing(self, key: str, listed: dict[str, str]) -> None:
        """Remember what a feed or sitemap said of a page (before or after its fetch)."""
        listings = self.listings.setdefault(key, {})
        if listings.get(listed["source"]) == listed["time"]:
            return
        listings[listed["source"]] = listed["time"]
        done = self.done_pages.get(key)
        if done is not None:  # fetched already: record the listing with it
            done.listings = json.dumps(listings, sort_keys=True)
            self.ready.pages.append(done)

    def page_opened(
        self,
        key: str,
        stories: int,
        fetched_at: str,
        listed: dict[str, str] | None,
        lease: str | None = None,
    ) -> None:
        if listed:
            self.listings.setdefault(key, {})[listed["source"]] = listed["time"]
        earlier = self.pages.get(key)
        if earlier is not None and earlier.lease is not None:
            self.safe_leases.append(earlier.lease)  # a refetch replaces it
        self.pages[key] = _Page(PageState(key, fetched_at), stories, lease)
        if stories == 0:
            self._page_done(key)

    def story_dropped(self, page_key: str | None) -> None:
        """A story of the page was dropped (a duplicate, or invalid): it is settled."""
        self._story_settled(page_key)

    def story_failed(self, page_key: str | None) -> None:
        """A story of the page failed in a pipeline: the page is not recorded as fetched
        (a later run reads it again); its lease is released (it is no longer in flight)."""
        page = self.pages.pop(page_key or "", None)
        if page is not None and page.lease is not None:
            self.safe_leases.append(page.lease)

    def abandon_unsettled_pages(self) -> int:
        """Pages still unsettled when nothing is in flight (a story of theirs failed):
        let them go like ``story_failed``; how many."""
        stuck = list(self.pages)
        for key in stuck:
            self.story_failed(key)
        if stuck:
            self._inc("pages/unsettled", len(stuck))
            logger.warning("%d pages had a story fail in a pipeline: not recorded", len(stuck))
            self.commit()
        return len(stuck)

    def _story_settled(self, page_key: str | None) -> None:
        page = self.pages.get(page_key or "")
        if page is not None:
            page.remaining -= 1
            if page.remaining <= 0:
                self._page_done(page_key or "")

    def _page_done(self, key: str) -> None:
        page = self.pages.pop(key)
        if page.lease is not None:
            self.safe_leases.append(page.lease)
        state = page.state
        listings = self.listings.get(key)
        state.listings = json.dumps(listings, sort_keys=True) if listings else None
        self.done_pages[key] = state
        self.ready.pages.append(state)

    def fetched_pages(self, keys: list[str]) -> dict[str, PageState]:
        return self.store.pages(keys)

    def held_leases(self) -> set[str]:
        """Leases of pages whose stories are not all safe yet (distributed mode)."""
        held = {page.lease for page in self.pages.values() if page.lease is not None}
        return held | set(self.safe_leases)

    def holds(self, lease: str) -> bool:
        return lease in self.held_leases()

    # Dedup

    def decide(self, record: dict[str, Any]) -> Decision:
        """Duplicate, new version, or new story; near-duplicates are marked."""
        key = story_key(record)
        print_ = fingerprint(record)
        seen_at = str(record["fetched_at"])
        owner = self.overlay_fingerprints.get(print_) or self.store.owners([print_]).get(print_)
        if owner is not None:
            # Seen before, word for word: under this key, or under another key of the
            # same story (an appended copy without its own link).
            reason = "duplicate" if owner == key else "same-content-other-key"
            if owner != key and key not in self.overlay_aliases and not self._known(key):
                self.overlay_aliases[key] = owner
                self.ready.aliases[key] = owner
            self._touch(owner, seen_at)
            return Decision(False, reason)
        story = self.overlay_aliases.get(key, key)  # the store resolves its own aliases
        previous = self.overlay_stories.get(story) or self.store.stories([story]).get(story)
        if self.run is not None:
            # Another live worker of the run is writing this very text: it is theirs.
            holder = self.run.claim(print_, key)
            if holder == "":  # the run took this worker for dead: it writes nothing more
                return Decision(False, "worker-stopped")
            if holder is not None:
                if holder != key and key not in self.overlay_aliases and not self._known(key):
                    self.overlay_aliases[key] = holder
                    self.ready.aliases[key] = holder
                return Decision(False, "duplicate" if holder == key else "same-content-other-key")
        sketch = NearDuplicateIndex.sketch([record["title"], *record["body"]])
        if previous is None:
            state = StoryState(key, print_, 1, seen_at, seen_at)
            reason, previous_print = "new", None
        else:
            state = StoryState(
                previous.key, print_, previous.version + 1, previous.first_seen, seen_at
            )
            reason, previous_print = "version", previous.fingerprint
        duplicate_of = self._near(state.key, sketch, seen_at)
        if duplicate_of is not None and self.drop_near:
            self._inc("dedup/near_duplicate_dropped")
            return Decision(False, "near-duplicate")
        state.sketch = NearDuplicateIndex.to_bytes(sketch) if sketch is not None else None
        self.overlay_stories[state.key] = state
        self.overlay_fingerprints[print_] = state.key
        self.unsynced[state.key] = state
        return Decision(
            True,
            reason,
            {
                "key": state.key,
                "version": state.version,
                "fingerprint": print_,
                "previous_fingerprint": previous_print,
                "first_seen": state.first_seen,
                "last_seen": state.last_seen,
                "duplicate_of": duplicate_of,
            },
        )

    def _known(self, key: str) -> bool:
        return key in self.overlay_stories or bool(self.store.stories([key]))

    def _near(self, key: str, sketch: MinHash | None, seen_at: str) -> str | None:
        if sketch is None:
            return None
        match = self.near.match(key, sketch)
        self.near.add(key, sketch, datetime.fromisoformat(seen_at))
        if match is not None:
            self._inc("dedup/near_duplicates")
        return match

    def _touch(self, key: str, seen_at: str) -> None:
        """Move a known story's last_seen on, unless its newest record is not written yet."""
        if key in self.unsynced:
            return
        state = self.overlay_stories.get(key) or self.store.stories([key]).get(key)
        if state is not None and state.last_seen < seen_at:
            state.last_seen = seen_at
            self.overlay_stories[key] = state
            self.ready.stories.append(state)

    # Output

    def write(self, record: dict[str, Any], page_key: str | None) -> None:
        """Append a record to the run's output; committed in batches after fsync."""
        if self.out is None:
            self._open_output()
        self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.written.append({"key": record["key"], "page": page_key})
        if len(self.written) >= self.commit_every:
            self.commit()

    def _open_output(self) -> None:
        self.partial_path.parent.mkdir(parents=True, exist_ok=True)
        # Locked before it has its name: no other run ever takes it for a killed run's.
        opening = self.partial_path.with_name(f".{self.partial_path.name}.opening")
        self.out = opening.open("a", encoding="utf-8")
        fcntl.flock(self.out, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.replace(opening, self.partial_path)
        # Recovery keeps what was committed from a file; the rest it checks line by line.
        self.store.commit(Commit(files={self.file_id: 0}))

    def commit(self) -> None:
        """Make written records durable, then record them (and finished pages) as seen."""
        if self.out is not None and self.written:
            self.out.flush()
            os.fsync(self.out.fileno())
            self.ready.files[self.file_id] = self.out.tell()
        for entry in self.written:
            state = self.unsynced.pop(entry["key"], None)
            if state is not None:
                self.ready.stories.append(state)
                self.ready.fingerprints[state.fingerprint] = state.key
            self._story_settled(entry["page"])
        self.written.clear()
        if self.ready:
            self.store.commit(self.ready)
            self._inc("seen_store/commits")
            self._forget(self.ready)
            self.ready = Commit()
        if self.safe_leases and self.run is not None:
            self.run.release(self.safe_leases)
        self.safe_leases.clear()

    def _forget(self, committed: Commit) -> None:
        """What the store now holds need not be kept in memory too (long runs)."""
        for state in committed.stories:
            if state.key not in self.unsynced:
                self.overlay_stories.pop(state.key, None)
        for print_, key in committed.fingerprints.items():
            if key not in self.unsynced:
                self.overlay_fingerprints.pop(print_, None)
        for alias in committed.aliases:
            self.overlay_aliases.pop(alias, None)
        for page in committed.pages:
            self.done_pages.pop(page.key, None)
            self.listings.pop(page.key, None)

    def close(self, publish: bool) -> Path | None:
        """Commit what is left; publish the output file when the run ended well."""
        final = None
        try:
            self.commit()
            if self.out is not None:
                self.out.close()
                if publish and self.publish_on_close:
                    target = final_path(self.spider_dir, self.file_id)
                    final = publish_file(self.partial_path, target, self.compress)
                elif not publish:
                    logger.warning(
                        "Run did not end well: its output stays in %s; the next run publishes it",
                        self.partial_path,
                    )
        finally:
            if self._store is not None:
                self._store.close()
        return final

    def _inc(self, name: str, count: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(f"{STAT}/{name}", count)


def _state_of(record: dict[str, Any]) -> StoryState:
    return StoryState(
        key=record["key"],
        fingerprint=record["fingerprint"],
        version=int(record["version"]),
        first_seen=record["first_seen"],
        last_seen=record["last_seen"],
    )


def recover_partials(
    spider_dir: Path,
    store: SeenStore,
    compress: bool,
    *,
    skip_run: str | None = None,
    only_files: set[str] | None = None,
    run: DistributedRun | None = None,
) -> list[tuple[Path, int]]:
    """Publish the run files killed runs (or workers) left in ``.partial/``.

    Their stories are recorded as seen first. What a file's writer had committed is
    kept as it is; a line written after its last commit is dropped when the story is
    known by now (another worker wrote it meanwhile). Returns (published file, stories).
    """
    recovered = []
    for path in sorted((spider_dir / PARTIAL).glob("*.jsonl")):
        match = FILE_ID.fullmatch(path.stem)
        if match is None:
            logger.warning("Left alone %s: not a run file of newscrawl's", path)
            continue
        if match["run"] == skip_run or (only_files is not None and path.stem not in only_files):
            continue
        try:
            held = path.open("r+b")
        except FileNotFoundError:  # published by another recovery meanwhile
            continue
        with held:
            try:  # held for the whole recovery: two recoveries never take the same file
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                logger.warning("Left alone %s: a run still writes it", path)
                continue
            if not path.exists():
                continue
            records, rewritten = _recover_file(path, store, run, match["worker"])
            try:
                final = publish_file(path, final_path(spider_dir, path.stem), compress)
            finally:
                if rewritten is not None:
                    rewritten.close()
        logger.warning(
            "Recovered %d stories left by an interrupted run: published %s", len(records), final
        )
        recovered.append((final, len(records)))
    return recovered


def _recover_file(
    path: Path, store: SeenStore, run: DistributedRun | None, writer: str | None
) -> tuple[list[dict[str, Any]], Any]:
    """Cut a killed writer's file down to the records that are its to publish (a torn
    last line, corrupt lines and stories written by others go) and record them as seen.
    Returns them, and the locked handle of the rewritten file (to close once published)."""
    data = path.read_bytes()
    whole = data[: data.rfind(b"\n") + 1]
    committed = store.committed_bytes([path.stem]).get(path.stem)
    kept: list[bytes] = []
    records: list[dict[str, Any]] = []
    offset = 0
    for line in whole.splitlines(keepends=True):
        start, offset = offset, offset + len(line)
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a corrupt line: nothing to recover from it
        if not isinstance(record, dict) or "key" not in record or "fingerprint" not in record:
            continue
        if committed is not None and start >= committed and _taken(record, store, run, writer):
            continue
        kept.append(line)
        records.append(record)
    cut = b"".join(kept)
    rewritten = None
    if cut != data:
        # Written aside, then renamed over it: a kill here leaves the old file or the new.
        temporary = path.with_name(f".{path.name}.recovering")
        rewritten = temporary.open("wb")
        fcntl.flock(rewritten, fcntl.LOCK_EX)  # locked before it takes the file's name
        rewritten.write(cut)
        rewritten.flush()
        os.fsync(rewritten.fileno())
        os.replace(temporary, path)
    batch = Commit()
    known = store.stories([r["key"] for r in records])
    for record in records:
        state = _state_of(record)
        if known.get(state.key) is None or known[state.key].version < state.version:
            batch.stories.append(state)
            known[state.key] = state
        batch.fingerprints[state.fingerprint] = state.key
    store.commit(batch)
    return records, rewritten


def _taken(
    record: dict[str, Any], store: SeenStore, run: DistributedRun | None, writer: str | None
) -> bool:
    """Has another writer than the file's (``writer``) written, or is one writing, this
    story since?"""
    print_ = str(record["fingerprint"])
    if store.owners([print_]):
        return True
    if run is None:
        return False
    holder = run.claim_holder(print_, str(record["key"]))
    return holder is not None and holder[0] != writer
