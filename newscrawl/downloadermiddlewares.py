"""Downloader middlewares: polite retries with backoff, and robots.txt Crawl-delay."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

from protego import Protego
from scrapy import Request, Spider
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.utils.asyncio import sleep
from scrapy.utils.misc import load_object

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class BackoffRetryMiddleware:
    """Retries failed downloads like Scrapy's RetryMiddleware, but waits before each try.

    The wait doubles with each retry (with jitter) and honours ``Retry-After``, capped at
    RETRY_BACKOFF_MAX, so a struggling site is given room instead of an instant re-hit.
    Replaces ``scrapy.downloadermiddlewares.retry.RetryMiddleware`` (disable that one).
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        self.crawler = crawler
        self.max_retry_times = settings.getint("RETRY_TIMES")
        self.retry_http_codes = {int(c) for c in settings.getlist("RETRY_HTTP_CODES")}
        self.priority_adjust = settings.getint("RETRY_PRIORITY_ADJUST")
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)
        self.exceptions_to_retry = tuple(
            load_object(e) if isinstance(e, str) else e
            for e in settings.getlist("RETRY_EXCEPTIONS")
        )

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def backoff(self, request: Request, retry_after: float | None) -> float:
        """Seconds to wait before retrying ``request``."""
        tries = int(request.meta.get("retry_times", 0))
        delay = self.base * (2**tries) * random.uniform(0.5, 1.0)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return float(min(delay, self.cap))

    async def _retry(
        self, request: Request, reason: str | Exception, retry_after: float | None
    ) -> Request | None:
        spider = self.crawler.spider
        assert spider is not None
        new_request = get_retry_request(
            request,
            spider=spider,
            reason=reason,
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust),
        )
        if new_request is None:
            return None
        delay = self.backoff(request, retry_after)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("retry/backoff_ms", round(delay * 1000))
        await sleep(delay)
        return new_request

    async def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if request.meta.get("dont_retry") or response.status not in self.retry_http_codes:
            return response
        retry_after = retry_after_seconds(response.headers.get(b"Retry-After"))
        reason = f"HTTP {response.status}"
        return await self._retry(request, reason, retry_after) or response

    async def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> Request | None:
        if request.meta.get("dont_retry") or not isinstance(exception, self.exceptions_to_retry):
            return None
        return await self._retry(request, exception, None)


class RobotsCrawlDelayMiddleware:
    """Honours robots.txt ``Crawl-delay``, which Scrapy's robots.txt support ignores.

    It reads each robots.txt response as Scrapy's RobotsTxtMiddleware fetches it, and keeps
    that host's download slot at least that far apart (AutoThrottle may lower a slot's
    delay, so the floor is put back before every request).
    """

    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        self.crawler = crawler
        self.user_agent = str(
            crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings.get("USER_AGENT")
        )
        self.floors: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _apply(self, request: Request) -> None:
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        floor = self.floors.get(key)
        if floor is None:
            return
        slot = downloader.slots.get(key)
        if slot is not None and (slot.delay < floor or slot.jitter):
            # Crawl-delay is a minimum spacing: no jitter may take a wait below it.
            slot.delay = max(slot.delay, floor)
            slot.jitter = 0.0

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        self._apply(request)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        if request.meta.get("dont_obey_robotstxt") and request.url.endswith("/robots.txt"):
            self._learn(request, response)
        self._apply(request)
        return response

    def _learn(self, request: Request, response: Response) -> None:
        if response.status != 200:
            return
        try:
            robots = Protego.parse(response.body.decode("utf-8", errors="replace"))
            delay: Any = robots.crawl_delay(self.user_agent)
        except Exception:  # a broken robots.txt is Scrapy's to report, not ours
            return
        if not delay:
            return
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        self.floors[key] = float(delay)
        # New slots for this key (after idle slots are collected) start at the floor too.
        downloader.per_slot_settings.setdefault(key, {}).update(delay=float(delay), jitter=0.0)
        if self.crawler.stats is not None:
            self.crawler.stats.set_value("robotstxt/crawl_delay", float(delay))
        logger.info("robots.txt of %s asks for Crawl-delay %ss: honoured", key, delay)
