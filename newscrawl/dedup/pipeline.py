"""Dedup: each story once, across pages and runs; a changed story as a new version.

* the same key and fingerprint as before: dropped (counted);
* the same text under another key (an appended copy without its own link): dropped;
* the same key with a changed fingerprint: emitted as version 2, 3, ...;
* close to another story's text (MinHash LSH): marked ``duplicate_of``, and dropped
  only when NEWSCRAWL_DROP_NEAR_DUPLICATES is on.

A new story known only by a hash of its text (appended to another page without a link
of its own) is held back until the crawl is idle: its own page, if the crawl reaches it,
gives it the site's id, so a story's key does not depend on which page came first. What
is still new then is written under the hash key (``StoryDedup.flush_deferred``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.exceptions import DropItem

from newscrawl import names
from newscrawl.dedup.decide import DeferredStory, StoryDedup
from newscrawl.distributed import redis_errors
from newscrawl.records.story import StoryRecord
from newscrawl.sites import SiteProfile, page_key

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self


class DedupPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.dedup = StoryDedup.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, StoryRecord):
            return item
        record = item.fields()
        site = getattr(self.crawler.spider, "site", None)
        page = page_key(site, item.page_url) if isinstance(site, SiteProfile) else None
        try:
            if self.dedup.should_defer(record):
                self.dedup.defer(record, page)
                raise DeferredStory(f"held until the crawl is idle: {item.title[:60]!r}")
            decision = self.dedup.decide(record)
        except redis_errors() as exc:
            self.dedup.state.store_failed(exc, page)
            raise DropItem(f"seen store unreachable: {exc}", log_level="DEBUG") from None
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value(names.stat(names.DEDUP, decision.reason))
        if not decision.emit:
            # Expected, and counted in the stats: not worth a warning per story.
            raise DropItem(
                f"{decision.reason}: {item.title[:60]!r} ({item.page_url})", log_level="DEBUG"
            )
        for name, value in decision.fields.items():
            setattr(item, name, value)
        return item
