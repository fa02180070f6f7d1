"""Export: story records to the run's JSON Lines file, safely.

Records go to ``<output>/<spider>/.partial/<run-id>.jsonl``, are fsynced in batches
(NEWSCRAWL_COMMIT_EVERY) and only then recorded as seen. When the run finishes well
the file is renamed into place, ``<output>/<spider>/<YYYY>/<MM>/<DD>/<run-id>.jsonl``:
a downstream reader never sees a half-written file. A killed run's file is published
by the next run (see newscrawl/state.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy import signals

from newscrawl.schema import StoryRecord
from newscrawl.sites import SiteProfile
from newscrawl.state import crawl_state, page_key

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)


class ExportPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.state = crawl_state(crawler)
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
        self.state.write(ItemAdapter(item).asdict(), page)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("newscrawl/exported")
        return item

    def spider_closed(self, reason: str) -> None:
        final = self.state.close(publish=reason == "finished")
        if final is not None:
            logger.info("Output: %s", final)
            if self.crawler.stats is not None:
                self.crawler.stats.set_value("newscrawl/output", str(final))
