"""Dedup decisions: each story once, across pages and runs; a changed story as a new
version; near-duplicates marked.

``StoryDedup`` is one per crawl, the dedup pipeline's. It decides over the seen
store and over this run's decisions not yet committed to it (its overlay, forgotten
once the store holds them), and keeps the near-duplicate window of recent sketches.
Records it lets through are the export stage's to write; the seen store learns of them
only when their bytes are committed (``newscrawl.run.state``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

import numpy as np
from scrapy import signals

from newscrawl import names
from newscrawl.clock import utc_now
from newscrawl.dedup.identity import fingerprint, story_key
from newscrawl.dedup.neardup import SKETCH_BYTES, NearDuplicateIndex, Sketch
from newscrawl.distributed import redis_errors
from newscrawl.records.story import StoryRecord
from newscrawl.run.seenstore import Commit, RedisSeenStore, SeenStore, StoryState
from newscrawl.run.state import CrawlState, HeldBack

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)
_DEDUPS: WeakKeyDictionary[Crawler, StoryDedup] = WeakKeyDictionary()
# Fingerprints kept in memory (about 150 bytes each): see ``known_owners``, ``unwritten``.
KNOWN_OWNERS = 10_000
# Repeats of stories only the store holds, read from it together (see ``_touch``).
TOUCH_BATCH = 500


class DeferredStory(HeldBack):
    """A story held back by dedup until the crawl is idle (see ``flush_deferred``)."""


@dataclass
class Decision:
    """What dedup made of one story record."""

    emit: bool
    reason: str  # new | version | duplicate | same-content-other-key | near-duplicate
    fields: dict[str, Any] = field(default_factory=dict)  # added to an emitted record


class StoryDedup:
    """See the module docstring."""

    def __init__(self, crawler: Crawler, state: CrawlState) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.state = state
        self.drop_near = settings.getbool("NEWSCRAWL_DROP_NEAR_DUPLICATES")
        self.near = NearDuplicateIndex(
            threshold=settings.getfloat("NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD"),
            window_days=settings.getfloat("NEWSCRAWL_NEAR_DUPLICATE_WINDOW_DAYS"),
        )
        self._window_loaded = False
        # This run's decisions not yet in the store, visible to later decisions.
        self.overlay_stories: dict[str, StoryState] = {}
        self.overlay_fingerprints: dict[str, str] = {}
        self.overlay_aliases: dict[str, str] = {}
        # Fingerprints the store holds, with their stories' keys: what the store
        # answered, to a look-up or to this crawl's commits (in a distributed run another
        # worker's commit may have written a fingerprint first: the store keeps the
        # first, and says which). A fingerprint's owner never changes once written, and
        # the stories a page repeats come back soon after, so most repeats are known
        # here, without a look-up each; the oldest go first.
        self.known_owners: dict[str, str] = {}
        # Likewise the keys this crawl's commits wrote as aliases of other stories' (an
        # appended copy's key): such a key is no story of its own, and never becomes one.
        self.known_aliases: dict[str, str] = {}
        # Fingerprints the split stage (``repeat``) found unwritten, so that the dedup
        # stage's verdict on the same story a moment later needs no second look-up:
        # taken by the next look-up of the fingerprint. Only a verdict of ``decide``
        # writes a fingerprint, and it takes the entry first. Bounded like
        # ``known_owners`` (a story the validate stage drops leaves its entry). A
        # distributed run asks the store only by the claim, in ``decide``: its split stage
        # knows the repeats this worker has in memory.
        self.unwritten: dict[str, None] = {}
        # Stories only the store holds, seen again since: key -> when last seen. Their
        # states are read in one look-up at the next commit (``settle_touches``), not
        # one look-up per repeat.
        self.touches: dict[str, str] = {}
        # New stories known only by a hash of their text, with their pages' keys: held
        # until the crawl is idle, when their own pages may have given them site ids.
        self.deferred: list[tuple[dict[str, Any], str | None]] = []
        self.state.committed_hooks.append(self.forget)
        self.state.commit_hooks.append(self.settle_touches)
        self.state.flush_hooks.append(self.flush_deferred)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)

    @property
    def store(self) -> SeenStore:
        store = self.state.store
        if not self._window_loaded:
            self._window_loaded = True
            self._load_window()
        return store

    def _load_window(self) -> None:
        state = self.state
        since = (utc_now() - self.near.window).isoformat()
        forgotten = state.store.forget_sketches(since)
        if forgotten:
            state.inc(names.stat(names.SEEN_STORE, "sketches_forgotten"), forgotten)
        keys: list[str] = []
        times: list[datetime] = []
        sketches: list[bytes] = []
        for key, seen, sketch in state.store.sketches(since):
            if len(sketch) != SKETCH_BYTES:  # written by another version of newscrawl
                state.inc(names.stat(names.SEEN_STORE, "unreadable_sketches"))
                continue
            keys.append(key)
            times.append(datetime.fromisoformat(seen))
            sketches.append(sketch)
        if keys:
            matrix = np.frombuffer(b"".join(sketches), dtype=np.uint32).reshape(len(keys), -1)
            self.near.add_many(keys, matrix, times)
        if len(self.near):
            logger.info("Near-duplicate window: %d recent stories loaded", len(self.near))

    @classmethod
    def of(cls, crawler: Crawler) -> StoryDedup:
        """The crawl's dedup decisions (the dedup stage's), made on first use."""
        dedup = _DEDUPS.get(crawler)
        if dedup is None:
            dedup = _DEDUPS[crawler] = cls(crawler, CrawlState.of(crawler))
        return dedup

    @staticmethod
    def existing(crawler: Crawler) -> StoryDedup | None:
        """The crawl's dedup decisions, or None when it has no dedup stage."""
        return _DEDUPS.get(crawler)

    def decide(self, record: dict[str, Any]) -> Decision:
        """Duplicate, new version, or new story; near-duplicates are marked."""
        key = story_key(record)
        print_ = fingerprint(record)
        seen_at = str(record["fetched_at"])
        repeated = self._repeat(key, print_, seen_at)
        if repeated is not None:
            return Decision(False, repeated)
        story = self.overlay_aliases.get(key, key)  # the store resolves its own aliases
        previous = self.overlay_stories.get(story)
        looked_up = previous is not None
        if self.state.run is not None:
            # Written already, or another live worker of the run is writing this very
            # text: it is theirs. (The claim is this worker's look-up of the fingerprint;
            # the story's stored state comes in the same round trip.)
            if not looked_up and isinstance(self.store, RedisSeenStore):
                found, previous = self.state.run.claim_looking_up(print_, key, story, self.store)
                looked_up = True
            else:
                found = self.state.run.claim_holder(print_, key)
            if found is not None:
                owner, holder = found
                if not owner:  # the run took this worker for dead: it writes nothing more
                    return Decision(False, "worker-stopped")
                if owner == "store":
                    _remember(self.known_owners, print_, holder)
                    self._touch(holder, seen_at)
                return Decision(False, self._alias(key, holder))
        if not looked_up:
            previous = self.store.stories([story]).get(story)
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
            self.state.inc(names.stat(names.DEDUP, "near_duplicate_dropped"))
            return Decision(False, "near-duplicate")
        state.sketch = NearDuplicateIndex.to_bytes(sketch) if sketch is not None else None
        self.overlay_stories[state.key] = state
        self.overlay_fingerprints[print_] = state.key
        self.state.unsynced[state.key] = state
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

    def repeat(self, record: dict[str, Any]) -> str | None:
        """``duplicate`` or ``same-content-other-key`` when the story's text is written
        already, as ``decide`` would say (and with what it does then); else None. The
        split stage asks before a story becomes an item, so that the repeats most pages
        carry cost no more than this."""
        print_ = fingerprint(record)
        repeated = self._repeat(story_key(record), print_, str(record["fetched_at"]))
        if repeated is None and self.state.run is None:
            _remember(self.unwritten, print_, None)
        return repeated

    def _repeat(self, key: str, print_: str, seen_at: str) -> str | None:
        owner = self._owner(print_)
        if owner is None:
            return None
        verdict = self._alias(key, owner)
        self._touch(owner, seen_at)
        return verdict

    def _alias(self, key: str, owner: str) -> str:
        """The verdict on a text written already under ``owner``: under this key, or
        under another key of the same story (an appended copy without its own link),
        which becomes an alias of the owner's."""
        if owner == key:
            return "duplicate"
        if not self._aliased(key):
            self.overlay_aliases[key] = owner
            self.state.ready.aliases[key] = owner
        return "same-content-other-key"

    def _owner(self, print_: str) -> str | None:
        """The key of the story with this fingerprint, written already; else None."""
        owner = self.overlay_fingerprints.get(print_) or self.known_owners.get(print_)
        if owner is not None:
            return owner
        if print_ in self.unwritten:  # the split stage asked the store just now
            del self.unwritten[print_]
            return None
        if self.state.run is not None:  # a distributed run's claim asks (see decide)
            return None
        owner = self.store.owners([print_]).get(print_)
        if owner is not None:
            _remember(self.known_owners, print_, owner)
        return owner

    def _aliased(self, key: str) -> bool:
        """Is ``key`` an alias already, or a story of its own (not to be made one)?"""
        if key in self.overlay_aliases or key in self.known_aliases:
            return True
        return key in self.overlay_stories or bool(self.store.stories([key]))

    def _near(self, key: str, sketch: Sketch | None, seen_at: str) -> str | None:
        if sketch is None:
            return None
        match = self.near.match(key, sketch)
        self.near.add(key, sketch, datetime.fromisoformat(seen_at))
        if match is not None:
            self.state.inc(names.stat(names.DEDUP, "near_duplicates"))
        return match

    def _touch(self, key: str, seen_at: str) -> None:
        """Move a known story's last_seen on, unless its newest record is not written yet;
        for a story only the store holds, at the next commit."""
        if key in self.state.unsynced:
            return
        state = self.overlay_stories.get(key)
        if state is None:
            if self.touches.get(key, "") < seen_at:
                self.touches[key] = seen_at
                if len(self.touches) >= TOUCH_BATCH:
                    self.settle_touches()
            return
        if state.last_seen < seen_at:
            state.last_seen = seen_at
            self.state.ready.stories.append(state)

    def settle_touches(self) -> None:
        """The touched stories' states read from the store at once and made ready to
        commit with their new last_seen. Kept for the next commit if the store fails."""
        keys = [key for key in self.touches if key not in self.state.unsynced]
        found = self.store.stories(keys) if keys else {}
        touches, self.touches = self.touches, {}
        for key, state in found.items():  # keys of stories (owners of fingerprints)
            if key in self.overlay_stories:  # decided again meanwhile: in memory now
                self._touch(key, touches[key])
            elif state.last_seen < touches[key]:
                state.last_seen = touches[key]
                self.overlay_stories[key] = state
                self.state.ready.stories.append(state)

    def should_defer(self, record: dict[str, Any]) -> bool:
        """A new story whose only key is a hash of its text: its own page may still come."""
        key = story_key(record)
        if ":sha256:" not in key or self.state.failed is not None:
            return False
        print_ = fingerprint(record)
        return self._owner(print_) is None

    def defer(self, record: dict[str, Any], page_key: str | None) -> None:
        self.deferred.append((record, page_key))
        self.state.inc(names.stat(names.DEDUP, "deferred"))

    def flush_deferred(self) -> int:
        """Decide and write the held-back stories (the crawl is idle); how many written.

        They passed every stage before dedup already; the ones written are sent as
        scraped items, so feeds (``-o``) and item counts see them like the others.
        """
        held, self.deferred = self.deferred, []
        written = 0
        for record, page in held:
            try:
                decision = self.decide(record)
            except redis_errors() as exc:
                self.state.store_failed(exc, page)
                continue
            self.state.inc(names.stat(names.DEDUP, decision.reason))
            if not decision.emit:
                self.state.pages.story_settled(page)
                continue
            record.update(decision.fields)
            if not self.state.write(record, page):
                self.state.pages.story_failed(page)
                continue
            written += 1
            self.state.inc(names.EXPORTED)
            if self.crawler.spider is not None:
                self.crawler.signals.send_catch_log(
                    signals.item_scraped,
                    item=StoryRecord(**record),
                    response=None,
                    spider=self.crawler.spider,
                )
        if written:
            self.state.commit()
        return written

    def spider_idle(self) -> None:
        if self.deferred:
            self.flush_deferred()

    def forget(self, committed: Commit) -> None:
        """What the store now holds need not be kept in memory too (long runs)."""
        unsynced = self.state.unsynced
        for state in committed.stories:
            if state.key not in unsynced:
                self.overlay_stories.pop(state.key, None)
        for print_, key in committed.fingerprints.items():
            if key not in unsynced:
                self.overlay_fingerprints.pop(print_, None)
        for print_, owner in committed.owners.items():
            _remember(self.known_owners, print_, owner)
        for alias, owner in committed.aliases.items():
            self.overlay_aliases.pop(alias, None)
            _remember(self.known_aliases, alias, owner)


def _remember(memory: dict[str, Any], print_: str, value: Any) -> None:
    """``memory[print_] = value``, the oldest entry dropped beyond KNOWN_OWNERS."""
    if len(memory) >= KNOWN_OWNERS and print_ not in memory:
        del memory[next(iter(memory))]
    memory[print_] = value
