"""Helpers for tests that run real crawls in the test process."""

from __future__ import annotations

from typing import Any

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

import newscrawl.settings

# Where crawls write their output and seen store unless a test says otherwise; the
# conftest points it at each test's own temporary folder.
OUTPUT_DIR = {"path": ""}


def project_settings(**overrides: Any) -> dict[str, Any]:
    """newscrawl's settings, fast for a local server, with ``overrides`` on top."""
    settings = {k: v for k, v in vars(newscrawl.settings).items() if k.isupper()}
    settings.update(
        AUTOTHROTTLE_ENABLED=False,
        DOWNLOAD_DELAY=0,
        FEEDS={},
        LOGSTATS_INTERVAL=0,
        RETRY_BACKOFF_BASE=0.05,
        NEWSCRAWL_OUTPUT_DIR=OUTPUT_DIR["path"],
    )
    settings.update(overrides)
    return settings


class ItemCollector:
    """Keeps the items a crawler scrapes (a bound method: signals hold weak references)."""

    def __init__(self, crawler: Crawler) -> None:
        self.items: list[Any] = []
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)

    def item_scraped(self, item: Any) -> None:
        self.items.append(item)


async def crawl(
    spidercls: type[Spider], settings: dict[str, Any] | None = None, **spider_args: Any
) -> tuple[Crawler, list[Any]]:
    """Run one crawl to the end in this process; return the crawler and its items."""
    crawler = get_crawler(spidercls, settings if settings is not None else project_settings())
    collector = ItemCollector(crawler)
    await crawler.crawl_async(**spider_args)
    return crawler, collector.items
