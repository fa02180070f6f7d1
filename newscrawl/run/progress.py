"""Crawl-wide extensions: progress in the log."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import create_looping_call

from newscrawl import names

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)

# The User-Agent placeholder an operator is expected to replace with a real contact.
CONTACT_PLACEHOLDER = "example.invalid"


class ProgressLog:
    """Logs pages and stories per minute, replacing Scrapy's LogStats.

    ``Progress: 1200 pages (310/min), 1100 article pages, 4100 stories (1050/min)``
    """

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.previous = (0, 0)
        self.task: object | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        interval = crawler.settings.getfloat("LOGSTATS_INTERVAL")
        if not interval:
            raise NotConfigured
        extension = cls(crawler, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def counts(self) -> tuple[int, int, int]:
        stats = self.crawler.stats
        assert stats is not None
        return (
            int(stats.get_value("response_received_count", 0)),
            int(stats.get_value(names.PAGES, 0)),
            int(stats.get_value("item_scraped_count", 0)),
        )

    def spider_opened(self) -> None:
        if CONTACT_PLACEHOLDER in str(self.crawler.settings.get("USER_AGENT")):
            logger.warning(
                "USER_AGENT still has the placeholder contact; set your own in settings.py "
                "or with -s USER_AGENT=... so site owners can reach you"
            )
        task = create_looping_call(self.log)
        task.start(self.interval)
        self.task = task

    def log(self) -> None:
        responses, pages, items = self.counts()
        per_minute = 60.0 / self.interval
        logger.info(
            "Progress: %d pages (%d/min), %d article pages, %d stories (%d/min)",
            responses,
            (responses - self.previous[0]) * per_minute,
            pages,
            items,
            (items - self.previous[1]) * per_minute,
        )
        self.previous = (responses, items)

    def spider_closed(self) -> None:
        task = self.task
        if task is not None and getattr(task, "running", False):
            task.stop()  # type: ignore[attr-defined]
        self.log()
