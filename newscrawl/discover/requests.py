"""The article-request filter: each article requested once per run, and not again in a
later run unless the site says it changed or it is old enough to look at again."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.http import Response

from newscrawl import names
from newscrawl.distributed import redis_errors
from newscrawl.run.seenstore import PageState
from newscrawl.run.state import CrawlState
from newscrawl.sites import SiteProfile, page_key

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

# Article requests of one response looked up in the seen store together (a sitemap's
# thousands of links in a few round trips, not one each).
LOOKUP_BATCH = 500


class ArticleRequestFilter:
    """Lets each article request out once per run, and not at all when a run before
    fetched the article and nothing says it changed.

    In a run, one article is one request, whatever URL form the link took. Across runs
    (NEWSCRAWL_INCREMENTAL) an article page fetched before is fetched again only when its
    feed or sitemap entry now gives a different time, or when it was fetched more than
    NEWSCRAWL_REFETCH_AFTER_HOURS ago. Feeds, sitemaps and listing pages always go out.
    """

    def __init__(self, crawler: Crawler) -> None:
        assert crawler.stats is not None
        self.crawler = crawler
        self.stats = crawler.stats
        self.incremental = crawler.settings.getbool("NEWSCRAWL_INCREMENTAL")
        hours = crawler.settings.getfloat("NEWSCRAWL_REFETCH_AFTER_HOURS")
        self.refetch_after = timedelta(hours=hours)
        self.requested: set[str] = set()
        self.state = CrawlState.of(crawler)
        self.skipped: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_spider_output(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        site = getattr(self.crawler.spider, "site", None)
        if not isinstance(site, SiteProfile):
            async for item in result:
                yield item
            return
        # A response's article requests are judged together: one look-up in the seen
        # store for a listing's or sitemap's links, not one per link.
        waiting: list[Request] = []
        async for item in result:
            if not (isinstance(item, Request) and names.SOURCE in item.meta):
                yield item
                continue
            waiting.append(item)
            if len(waiting) >= LOOKUP_BATCH:
                for request in self.allowed(waiting, site):
                    yield request
                waiting = []
        for request in self.allowed(waiting, site):
            yield request

    def allowed(self, requests: list[Request], site: SiteProfile) -> list[Request]:
        """The article requests of ``requests`` to let out, in their order."""
        # The page key holds the host: an off-site copy of a link must not hide the real one.
        keyed = [(page_key(site, request.url), request) for request in requests]
        for key, request in keyed:
            listed = request.meta.get(names.LISTED)
            if listed:  # noted first, whatever the look-up gives (a page fetched before keeps it)
                self.state.pages.note_listing(key, listed)
        unknown = [key for key, _ in keyed if key not in self.requested]
        fetched: dict[str, PageState] = {}
        if self.incremental and unknown:
            try:
                fetched = self.state.fetched_pages(unknown)
            except redis_errors() as exc:  # the crawl stops (one line); nothing is lost
                self.state.store_failed(exc, None)
                return []
            self.stats.inc_value(names.INCREMENTAL_LOOKUPS)
        allowed = []
        for key, request in keyed:
            if key in self.requested:
                continue
            if key in fetched and not self.changed(request, fetched[key]):
                # Not marked as requested: a later listing may still say it changed.
                if key not in self.skipped:
                    self.skipped.add(key)
                    self.stats.inc_value(names.INCREMENTAL_SKIPPED)
                continue
            self.requested.add(key)
            # In distributed mode the shared dupefilter knows articles by this key too.
            request.meta[names.PAGE_KEY] = key
            allowed.append(request)
        return allowed

    def changed(self, request: Request, page: PageState) -> bool:
        """Should an article page fetched before (``page``) be fetched again?"""
        listed = request.meta.get(names.LISTED)
        if listed:
            known = json.loads(page.listings or "{}")
            # A listing that gives another time than at the last fetch, or one we never
            # had for this page, may mean a change: look again.
            if known.get(listed["source"]) != listed["time"]:
                self.stats.inc_value(names.INCREMENTAL_REFETCH_CHANGED)
                return True
        age = datetime.now(timezone.utc) - datetime.fromisoformat(page.fetched_at)
        if age > self.refetch_after:
            self.stats.inc_value(names.INCREMENTAL_REFETCH_AGED)
            return True
        return False
