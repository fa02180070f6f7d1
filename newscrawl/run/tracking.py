"""Pages in flight: when a fetched page may be recorded as fetched.

A page is recorded as fetched only once every story it gave is written (and committed)
or known; until then a later run must read it again. In distributed mode the page's
lease on the shared queue is held just as long. Plain bookkeeping, no I/O: the crawl
state takes the settled pages and the leases that may go at each commit.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from newscrawl.run.seenstore import PageState


@dataclass
class _Page:
    state: PageState
    remaining: int  # stories not yet written or known
    lease: str | None = None  # distributed mode: released once the page is safe


class PageTracker:
    def __init__(self) -> None:
        self.in_flight: dict[str, _Page] = {}  # page key -> stories still unsettled
        self.listings: dict[str, dict[str, str]] = {}  # page key -> {source: listed time}
        self.done: dict[str, PageState] = {}  # settled in this run, not yet in the store
        self.settled: list[PageState] = []  # to record at the next commit
        self.safe_leases: list[str] = []  # to release after the next commit
        # Leases held from their page's opening until taken for release: how many times.
        self.leases: Counter[str] = Counter()

    def note_listing(self, key: str, listed: dict[str, str]) -> None:
        """Remember what a feed or sitemap said of a page (before or after its fetch)."""
        listings = self.listings.setdefault(key, {})
        if listings.get(listed["source"]) == listed["time"]:
            return
        listings[listed["source"]] = listed["time"]
        done = self.done.get(key)
        if done is not None:  # fetched already: record the listing with it
            done.listings = json.dumps(listings, sort_keys=True)
            self.settled.append(done)

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
        earlier = self.in_flight.get(key)
        if earlier is not None and earlier.lease is not None:
            self.safe_leases.append(earlier.lease)  # a refetch replaces it
        self.in_flight[key] = _Page(PageState(key, fetched_at), stories, lease)
        if lease is not None:
            self.leases[lease] += 1
        if stories == 0:
            self._page_done(key)

    def story_settled(self, page_key: str | None) -> None:
        """A story of the page is written, or dropped (a duplicate, invalid)."""
        page = self.in_flight.get(page_key or "")
        if page is not None:
            page.remaining -= 1
            if page.remaining <= 0:
                self._page_done(page_key or "")

    def story_failed(self, page_key: str | None) -> None:
        """A story of the page failed: the page is not recorded as fetched (a later run
        reads it again); its lease is released (it is no longer in flight)."""
        page = self.in_flight.pop(page_key or "", None)
        if page is not None and page.lease is not None:
            self.safe_leases.append(page.lease)

    def _page_done(self, key: str) -> None:
        page = self.in_flight.pop(key)
        if page.lease is not None:
            self.safe_leases.append(page.lease)
        state = page.state
        listings = self.listings.get(key)
        state.listings = json.dumps(listings, sort_keys=True) if listings else None
        self.done[key] = state
        self.settled.append(state)

    def take_settled(self) -> list[PageState]:
        taken, self.settled = self.settled, []
        return taken

    def take_safe_leases(self) -> list[str]:
        taken, self.safe_leases = self.safe_leases, []
        self.leases.subtract(taken)
        for lease in taken:
            if self.leases[lease] <= 0:
                del self.leases[lease]
        return taken

    def forget(self, recorded: Iterable[PageState]) -> None:
        """What the store now holds need not be kept in memory too (long runs)."""
        for page in recorded:
            self.done.pop(page.key, None)
            self.listings.pop(page.key, None)

    def held_leases(self) -> set[str]:
        """Leases of pages whose stories are not all safe yet (distributed mode)."""
        return set(self.leases)

    def holds(self, lease: str) -> bool:
        return lease in self.leases
