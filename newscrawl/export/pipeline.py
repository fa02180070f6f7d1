"""Export: story records to the run's JSON Lines file, safely.

Records go to ``<output>/<spider>/.partial/<run-id>.jsonl``, are fsynced in batches
(NEWSCRAWL_COMMIT_EVERY) and only then recorded as seen. When the run finishes well
the file is renamed into place, ``<output>/<spider>/<YYYY>/<MM>/<DD>/<run-id>.jsonl``:
a downstream reader never sees a half-written file. A killed run's file is published
by the next run (see ``newscrawl.run.state``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DropItem

from newscrawl import names
from newscrawl.distributed import redis_errors
from newscrawl.records.story import StoryRecord
from newscrawl.run.ledger import OutputError
from newscrawl.run.state import CrawlState
from newscrawl.sites import SiteProfile, page_key

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)


class ExportPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.state = CrawlState.of(crawler)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        # Open the seen store now: output a killed run left is published at start.
        self.state.open()

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, StoryRecord):
            return item
        site = getattr(self.crawler.spider, "site", None)
        page = page_key(site, item.page_url) if isinstance(site, SiteProfile) else None
        if not self.state.write(item.fields(), page):
            # The output cannot be written (the crawl is stopping, logged once): neither
            # the story nor its page is recorded, so a later run fetches and writes it.
            self.state.pages.story_failed(page)
            raise DropItem(f"not written: {self.state.failed}", log_level="DEBUG")
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(names.EXPORTED)
        return item

    def close_spider(self) -> None:
        # The last batch is made durable here, before the spider_closed signal, so the
        # run monitors (which run on that signal) judge a run whose output is committed.
        try:
            self.state.commit()
        except redis_errors() as exc:  # the store is gone: what is not committed waits
            logger.error("The last batch could not be recorded in the seen store: %s", exc)
            return
        if self.crawler.stats is not None and self.state.failed is None:
            self.crawler.stats.set_value(names.COMMITTED, True)

    def spider_closed(self, reason: str) -> None:
        failures: tuple[type[Exception], ...] = (OutputError, *redis_errors())
        try:
            final = self.state.close(publish=reason == "finished")
        except failures as exc:
            logger.error("The run file could not be published: %s (the next run does)", exc)
            return
        if final is not None:
            logger.info("Output: %s", final)
            if self.crawler.stats is not None:
                self.crawler.stats.set_value(names.OUTPUT, str(final))
