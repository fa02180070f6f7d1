"""Spider middleware: page records become story records.

Item pipelines cannot turn one item into several, so the split happens here, on the
spider's output, before the pipelines (time, dedup, validation) see each story.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.http import Response

from newscrawl.page import PageRecord
from newscrawl.sites import SiteProfile
from newscrawl.stories import stories_from_page

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)
STAT = "newscrawl"


class StorySplitMiddleware:
    """Splits each page record the spider yields into the stories it holds.

    A page that gives no story is counted and logged with its URL and the reason.
    With NEWSCRAWL_EMIT_PAGES the page record is passed on too (for debugging a site).
    """

    def __init__(self, crawler: Crawler) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats = crawler.stats
        self.emit_pages = crawler.settings.getbool("NEWSCRAWL_EMIT_PAGES")
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_spider_output(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        site = getattr(self.crawler.spider, "site", None)
        async for item in result:
            if not isinstance(item, PageRecord) or not isinstance(site, SiteProfile):
                yield item
                continue
            if self.emit_pages:
                yield item
            for story in self.split(item, site):
                yield story

    def split(self, page: PageRecord, site: SiteProfile) -> list[Any]:
        found = stories_from_page(page, site)
        stats = self.stats
        stats.inc_value(f"{STAT}/pages_split")
        stats.inc_value(f"{STAT}/stories", len(found.stories))
        stats.inc_value(f"{STAT}/stories_per_page/{len(found.stories)}")
        stats.inc_value(f"{STAT}/split_mode/{found.split.mode}")
        for reason, count in Counter(found.split.skipped).items():
            stats.inc_value(f"{STAT}/regions_skipped/{reason.replace(' ', '_')}", count)
        if found.time_disagreements:
            stats.inc_value(f"{STAT}/time/disagreements", len(found.time_disagreements))
        for story in found.stories:
            if story.updated.get("error"):
                stats.inc_value(f"{STAT}/time/unreadable/{story.updated['error']}")
        if not found.stories:
            reasons = ", ".join(sorted(set(found.split.skipped))) or "no story found"
            stats.inc_value(f"{STAT}/pages/no_story")
            logger.warning("No story on %s: %s", page.url, reasons)
        return list(found.stories)

    def spider_closed(self) -> None:
        pages = self.stats.get_value(f"{STAT}/pages_split", 0)
        if pages:
            stories = self.stats.get_value(f"{STAT}/stories", 0)
            self.stats.set_value(f"{STAT}/stories_per_page", round(stories / pages, 2))
