from __future__ import annotations

from datetime import datetime, timezone

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from newscrawl.fetch.middlewares import BackoffRetryMiddleware, retry_after_seconds
from tests.crawling import project_settings

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
