"""The split stage in Scrapy: page records become story records.

Item pipelines cannot turn one item into several, so the split happens here, in a spider
middleware, on the spider's output, before the pipelines see each story.

Most pages repeat stories already written (a site appends its other articles to each
one): the dedup stage's verdict on such a repeat, word for word a written story, needs
only the story's key and fingerprint, so it is given here (``StoryDedup.repeat``,
counted under the same stats) and the repeat never becomes an item. That spares it
the item machinery and the validate stage: it reaches no output, as before. Anything
else, and any story when the seen store cannot be asked, goes on to the pipelines.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.http import Response

from newscrawl import names
from newscrawl.dedup.decide import StoryDedup
from newscrawl.distributed import redis_errors
from newscrawl.names import LEASE
from newscrawl.records.page import PageRecord
from newscrawl.records.story import StoryRecord
from newscrawl.signals import page_split
from newscrawl.sites import SiteProfile, page_key
from newscrawl.stories.content import stories_from_page

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)


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
            if not isinstance(item, PageRecord):
                yield item
                continue
            if not isinstance(site, SiteProfile):
                # No profile to read the page with: said once, counted, never silent.
                if not self.stats.get_value(names.PAGES_NO_PROFILE):
                    logger.error(
                        "Spider %r has no site profile (its `site`): its pages give no "
                        "stories. Declare the site (see newscrawl/sites) or crawl it with "
                        "the news spider (scrapy crawl news -a site=URL).",
                        getattr(self.crawler.spider, "name", "?"),
                    )
                self.stats.inc_value(names.PAGES_NO_PROFILE)
                if self.emit_pages:
                    yield item
                continue
            if self.emit_pages:
                yield item
            for story in self.split(item, site, response.meta.get(LEASE)):
                yield story

    def split(self, page: PageRecord, site: SiteProfile, lease: str | None = None) -> list[Any]:
        found = stories_from_page(page, site)
        stats = self.stats
        stats.inc_value(names.PAGES_SPLIT)
        stats.inc_value(names.STORIES, len(found.stories))
        stats.inc_value(names.stat(names.STORIES_PER_PAGE, len(found.stories)))
        stats.inc_value(names.stat(names.SPLIT_MODE, found.split.mode))
        for reason, count in Counter(found.split.skipped).items():
            stats.inc_value(names.stat(names.REGIONS_SKIPPED, reason.replace(" ", "_")), count)
        if found.time_disagreements:
            stats.inc_value(names.TIME_DISAGREEMENTS, len(found.time_disagreements))
        for story in found.stories:
            if story.updated.get("error"):
                stats.inc_value(names.stat(names.TIME_UNREADABLE, story.updated["error"]))
        self.count_coverage(found.stories, found.split.skipped)
        if not found.stories:
            reasons = ", ".join(sorted(set(found.split.skipped))) or "no story found"
            stats.inc_value(names.PAGES_NO_STORY)
            logger.warning("No story on %s: %s", page.url, reasons)
        stories = self.drop_repeats(found.stories)
        # The page counts as fetched (and its lease is released, in distributed mode)
        # once each of its stories is written or known.
        self.crawler.signals.send_catch_log(
            signal=page_split,
            page_key=page_key(site, page.url),
            stories=len(stories),
            fetched_at=page.fetched_at,
            listed=page.listed,
            lease=lease,
        )
        return stories

    def drop_repeats(self, stories: Sequence[StoryRecord]) -> list[StoryRecord]:
        """The stories the dedup stage has still to judge: not those written already."""
        dedup = StoryDedup.existing(self.crawler)
        if dedup is None:  # no dedup stage in this crawl
            return list(stories)
        kept = []
        for story in stories:
            try:
                repeated = dedup.repeat(story.fields())
            except redis_errors():  # the dedup stage meets it again, and says so
                repeated = None
            if repeated is None:
                kept.append(story)
                continue
            self.stats.inc_value(names.stat(names.DEDUP, repeated))
            self.stats.inc_value(names.KNOWN_BEFORE_ITEMS)
            logger.debug("Dropped: %s: %r (%s)", repeated, story.title[:60], story.page_url)
        return kept

    def count_coverage(self, stories: list[Any], skipped: list[str]) -> None:
        """Count the story regions found and how many had each field (for the monitors)."""
        regions = len(stories) + len(skipped)
        if not regions:
            return
        stats = self.stats
        stats.inc_value(names.stat(names.COVERAGE, "regions"), regions)
        # A region skipped for want of a body still had its headline.
        titled = len(stories) + sum(1 for reason in skipped if reason == "no body")
        stats.inc_value(names.stat(names.COVERAGE, "title"), titled)
        stats.inc_value(names.stat(names.COVERAGE, "body"), len(stories))
        timed = sum(1 for story in stories if story.updated.get("value"))
        stats.inc_value(names.stat(names.COVERAGE, "updated"), timed)

    def spider_closed(self) -> None:
        pages = self.stats.get_value(names.PAGES_SPLIT, 0)
        if pages:
            stories = self.stats.get_value(names.STORIES, 0)
            self.stats.set_value(names.STORIES_PER_PAGE, round(stories / pages, 2))
