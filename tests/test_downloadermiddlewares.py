from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from newscrawl.discover.spiders.arabnews import ArabNewsSpider
from newscrawl.fetch.middlewares import BackoffRetryMiddleware, retry_after_seconds
from newscrawl_mirror import FaultPlan, MirrorServer, MirrorSite
from newscrawl_mirror.faults import Fault
from tests.conftest import Mirror
from tests.crawling import project_settings
from tests.test_dedup import published, served_stories, text_of

NOW = datetime(2025, 2, 6, 12, 0, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (b"120", 120.0),
        (b" 5 ", 5.0),
        (b"Thu, 06 Feb 2025 12:00:30 GMT", 30.0),
        (b"Thu, 06 Feb 2025 11:00:00 GMT", 0.0),  # a date in the past: no wait
        (b"soon", None),
        (b"", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(header: bytes | None, seconds: float) -> None:
    assert retry_after_seconds(header, now=NOW) == seconds


def test_backoff_doubles_per_try_and_honours_retry_after_up_to_the_cap() -> None:
    crawler = get_crawler(
        settings_dict=project_settings(RETRY_BACKOFF_BASE=1.0, RETRY_BACKOFF_MAX=10.0)
    )
    middleware = BackoffRetryMiddleware.from_crawler(crawler)
    first = Request("http://x.test/")
    third = Request("http://x.test/", meta={"retry_times": 2})
    many = Request("http://x.test/", meta={"retry_times": 9})
    for _ in range(50):  # jitter: each wait lies in [half, full] of the doubled base
        assert 0.5 <= middleware.backoff(first, None) <= 1.0
        assert 2.0 <= middleware.backoff(third, None) <= 4.0
        assert middleware.backoff(many, None) == 10.0
    assert middleware.backoff(first, 7.0) == 7.0
    assert middleware.backoff(first, 3600.0) == 10.0


# Retries wait out their backoff outside the downloader: real crawls of a mirror whose
# article pages answer their first request with 503 and a Retry-After.

ARTICLE_PAGE = re.compile(r"/node/\d+/(?!amp$)[a-z-]+")


class FirstRequestFails(FaultPlan):
    """The first request of an article page answers 503 (with the server's Retry-After):
    of the first article page asked for only, or of every one."""

    def __init__(self, every: bool = False) -> None:
        super().__init__(0.0, 1)
        self.every = every
        self.first: str | None = None
        self.struck: set[str] = set()
        self.lock = threading.Lock()

    def strike(self, path: str) -> Fault | None:
        if not ARTICLE_PAGE.fullmatch(path):
            return None
        with self.lock:
            self.first = self.first or path
            if path in self.struck or not (self.every or path == self.first):
                return None
            self.struck.add(path)
        return Fault("http-503-retry-after", 1)


@contextmanager
def failing_mirror(plan: FirstRequestFails, retry_after: int) -> Iterator[Mirror]:
    site = MirrorSite(articles=30, seed=5)
    with MirrorServer(site, faults=plan, retry_after=retry_after) as server:
        yield Mirror(server.base_url)


class Downloads:
    """What the crawl downloaded, in order: (path, status), and each spider_idle."""

    def __init__(self, crawler: Crawler) -> None:
        self.events: list[tuple[str, int]] = []
        crawler.signals.connect(self.response_downloaded, signal=signals.response_downloaded)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)

    def response_downloaded(self, response: Response) -> None:
        self.events.append((urlsplit(response.url).path, response.status))

    def spider_idle(self) -> None:
        self.events.append(("idle", 0))

    def articles(self) -> list[tuple[str, int]]:
        return [(path, status) for path, status in self.events if ARTICLE_PAGE.fullmatch(path)]


def assert_every_story_once(mirror: Mirror, output: Path) -> None:
    records = published(output)
    expected = served_stories(mirror)
    assert Counter(text_of(r) for r in records) == Counter(text_of(s) for s in expected.values())


@deferred_f_from_coro_f
async def test_other_pages_of_the_site_are_downloaded_while_a_retry_waits(
    crawl_output: Path,
) -> None:
    plan = FirstRequestFails()
    with failing_mirror(plan, retry_after=3) as mirror:
        settings = project_settings(
            CONCURRENT_REQUESTS=1,  # one download slot in all: a wait holding it stops all
            RETRY_BACKOFF_BASE=0.01,  # the wait is the Retry-After's
            # Once its wait is over the retry goes first: a page downloaded between the
            # 503 and the retry was downloaded during the wait.
            RETRY_PRIORITY_ADJUST=100,
        )
        crawler = get_crawler(ArabNewsSpider, settings)
        downloads = Downloads(crawler)
        await crawler.crawl_async(base_url=mirror.base_url)
        assert_every_story_once(mirror, crawl_output)
        truth = {article["nid"]: article for article in mirror.truth()}
    target = plan.first
    assert target is not None
    events = downloads.events
    failed, retried = events.index((target, 503)), events.index((target, 200))
    during = [path for path, _ in events[failed + 1 : retried] if ARTICLE_PAGE.fullmatch(path)]
    assert during, events  # the same site's article pages, in the slot the retry had
    assert [path for path, _ in downloads.articles()].count(target) == 2
    # The page's own story came out, once.
    story = truth[int(target.split("/")[2])]
    assert [text_of(r) for r in published(crawl_output)].count(text_of(story)) == 1
    stats = crawler.stats
    assert stats is not None
    assert stats.get_value("finish_reason") == "finished"
    assert stats.get_value("retry/count") == 1
    assert stats.get_value("retry/backoff_ms") == 3000  # Retry-After: 3, honoured
    assert stats.get_value("newscrawl/faults/seen/http_503") == 1
    assert stats.get_value("newscrawl/faults/recovered/http_503") == 1
    assert stats.get_value("newscrawl/pages/lost") is None


@deferred_f_from_coro_f
async def test_the_spider_stays_open_while_retries_wait(crawl_output: Path) -> None:
    with failing_mirror(FirstRequestFails(every=True), retry_after=1) as mirror:
        crawler = get_crawler(ArabNewsSpider, project_settings(RETRY_BACKOFF_BASE=0.01))
        downloads = Downloads(crawler)
        await crawler.crawl_async(base_url=mirror.base_url)
        assert_every_story_once(mirror, crawl_output)
    articles = downloads.articles()
    fetched = Counter(path for path, _ in articles)
    assert set(fetched.values()) == {2}  # each article page: a 503, then its retry
    # Idle with every retry waiting: kept open until they were sent.
    events = downloads.events
    last_failure = max(i for i, event in enumerate(events) if event[1] == 503)
    assert ("idle", 0) in events[last_failure:]
    assert events.index(("idle", 0), last_failure) < len(events) - 1
    stats = crawler.stats
    assert stats is not None
    assert stats.get_value("finish_reason") == "finished"
    assert stats.get_value("retry/count") == len(fetched)
    assert stats.get_value("newscrawl/faults/recovered/http_503") == len(fetched)
