"""Downloader middlewares: polite retries with backoff, robots.txt Crawl-delay, and the
hostile web's faults: each one counted by kind, a page that is no page (a challenge,
an empty body) turned into a failure with its reason, a mislabelled charset repaired."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from protego import Protego
from scrapy import Request, Spider, signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware as ScrapyOffsiteMiddleware
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import DontCloseSpider, IgnoreRequest, NotConfigured
from scrapy.http import Response, TextResponse, XmlResponse
from scrapy.utils.asyncio import CallLaterResult, call_later, sleep
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import load_object

from newscrawl import names
from newscrawl.distributed import distributed_run
from newscrawl.fetch.faults import (
    PageFault,
    exception_kind,
    looks_like_challenge,
    repair_charset,
    status_kind,
)

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


class RetryLater(IgnoreRequest):
    """A retry request held back until its wait is over: not scheduled yet, no failure."""


class BackoffRetryMiddleware:
    """Retries failed downloads like Scrapy's RetryMiddleware, but waits before each try.

    The wait doubles with each retry (with jitter) and honours ``Retry-After``, capped at
    RETRY_BACKOFF_MAX, so a struggling site is given room instead of an instant re-hit.
    Replaces ``scrapy.downloadermiddlewares.retry.RetryMiddleware`` (disable that one).

    The wait holds no download slot: the retry request goes back to the engine at once,
    as Scrapy's retries do, and is held back when the engine schedules it
    (``request_scheduled``); when its wait is over it is crawled, with the meta and
    ``dont_filter`` of any retry. Meanwhile the other requests, to the same site too, are
    downloaded. The spider stays open while a retry waits; one still waiting when the
    spider closes is dropped (in distributed mode its lease, held meanwhile, puts it
    back in the run's queue once the worker has left). robots.txt, which Scrapy
    downloads outside the scheduler and holds its site's requests for, waits in the
    downloader as it must.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        self.crawler = crawler
        self.max_retry_times = settings.getint("RETRY_TIMES")
        self.retry_http_codes = {int(c) for c in settings.getlist("RETRY_HTTP_CODES")}
        self.priority_adjust = settings.getint("RETRY_PRIORITY_ADJUST")
        self.base = settings.getfloat("RETRY_BACKOFF_BASE")
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX")
        self.exceptions_to_retry = tuple(
            load_object(e) if isinstance(e, str) else e
            for e in settings.getlist("RETRY_EXCEPTIONS")
        )
        # Retry requests given back to the engine, and the seconds each is to wait once
        # the engine schedules it (weak: one the engine never schedules leaves nothing).
        self.held: WeakKeyDictionary[Request, float] = WeakKeyDictionary()
        # Retries waiting out their backoff, and the timers that send them.
        self.waiting: dict[Request, CallLaterResult] = {}
        crawler.signals.connect(self.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

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
            # The page is counted as lost by its fault's kind, and the Lost pages monitor
            # judges how many may be: a warning, not an error per page.
            give_up_log_level=logging.WARNING,
        )
        if new_request is None:
            return None
        delay = self.backoff(request, retry_after)
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value("retry/backoff_ms", round(delay * 1000))
        if request.meta.get("dont_obey_robotstxt"):
            # robots.txt: Scrapy downloads it itself, and would send the retry at once.
            await sleep(delay)
        else:
            self.held[new_request] = delay
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

    def request_scheduled(self, request: Request) -> None:
        """A retry comes to be scheduled: held back (not scheduled) until its wait is over."""
        delay = self.held.pop(request, None)
        if delay is None:
            return
        self.waiting[request] = call_later(delay, self._send, request)
        self._hold_lease(request, True)
        raise RetryLater(f"retried in {delay:g} s")

    def _send(self, request: Request) -> None:
        del self.waiting[request]
        self._hold_lease(request, False)  # it moves with the request to the run's queue
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            engine.crawl(request)

    def _hold_lease(self, request: Request, waiting: bool) -> None:
        """Distributed mode: a waiting retry's lease is not released, though the worker
        may look idle meanwhile (the run is not finished either)."""
        lease = request.meta.get(names.LEASE)
        run = distributed_run(self.crawler) if lease is not None else None
        if run is None:
            return
        if waiting:
            run.waiting.add(str(lease))
        else:
            run.waiting.discard(str(lease))

    def spider_idle(self) -> None:
        if self.waiting:
            raise DontCloseSpider

    def spider_closed(self) -> None:
        for timer in self.waiting.values():
            timer.cancel()
        if self.waiting:
            logger.info("Spider closed with %d retries waiting: not sent", len(self.waiting))
        self.waiting.clear()


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


def on_site(spider: Spider | None, url: str, host: str | None = None) -> bool:
    """Is ``url`` on the crawled site? The spider's ``on_site`` judges (scheme, host and
    port, for news spiders); another spider's ``allowed_domains`` (host names), if any."""
    judge = getattr(spider, "on_site", None)
    if judge is not None:
        return bool(judge(url))
    allowed = getattr(spider, "allowed_domains", None) or []
    host = host if host is not None else (urlsplit(url).hostname or "").lower()
    return not allowed or any(host == d or host.endswith("." + d) for d in allowed)


class OffsiteMiddleware(ScrapyOffsiteMiddleware):
    """Scrapy's offsite filter, with on-site meaning the same scheme, host and port.

    Scrapy's compares host names only, so a server on another port of the same host (or
    plain http on an https site) passed for the site. Requests with ``dont_filter`` are
    filtered too: a redirect keeps the ``dont_filter`` of the feed or listing request it
    came from. Counted as Scrapy counts them: ``offsite/filtered``, ``offsite/domains``
    (here, each other ``host:port``).
    """

    def should_follow(self, request: Request, spider: Spider) -> bool:
        if getattr(spider, "on_site", None) is None:
            return super().should_follow(request, spider)
        return on_site(spider, request.url)

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        assert self.crawler.spider is not None
        if request.meta.get("allow_offsite") or self.should_follow(request, self.crawler.spider):
            return
        where = urlparse_cached(request).netloc
        if where not in self.domains_seen:
            self.domains_seen.add(where)
            logger.debug("Filtered a request to another site (%s): %s", where, request)
            self.stats.inc_value("offsite/domains")
        self.stats.inc_value("offsite/filtered")
        raise IgnoreRequest(f"Filtered offsite request to {where!r}")


def _count(crawler: Crawler, outcome: str, kind: str) -> None:
    if crawler.stats is not None:
        crawler.stats.inc_value(names.stat(names.FAULTS, outcome, kind))


def note_fault(crawler: Crawler, request: Request, kind: str) -> None:
    """Count one faulty attempt, and remember its kind on the request (retries keep it)."""
    _count(crawler, "seen", kind)
    request.meta[names.FAULTS_SEEN] = [*request.meta.get(names.FAULTS_SEEN, []), kind]


class FaultObserver:
    """Counts the faults each download attempt meets, before retries hide them.

    Next to the downloader (it sees raw statuses and exceptions first), and the place
    redirects that lead nowhere are caught: to the page itself or a page already on its
    chain (a loop), or to another site.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        status = response.status
        if status >= 400:
            note_fault(self.crawler, request, status_kind(status))
        elif (
            status in (301, 302, 303, 307, 308)
            and b"Location" in response.headers
            # robots.txt is Scrapy's: failing it would turn robots.txt off, not lose a page.
            and not request.meta.get("dont_obey_robotstxt")
        ):
            self._check_redirect(request, response)
        return response

    def _check_redirect(self, request: Request, response: Response) -> None:
        location = (response.headers.get(b"Location") or b"").decode("latin-1")
        try:
            target = response.urljoin(location).split("#")[0]
            host = (urlsplit(target).hostname or "").lower()
        except ValueError:  # no URL at all: the redirect middleware's to refuse
            return
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if target in chain:
            note_fault(self.crawler, request, "redirect_loop")
            raise PageFault("redirect_loop", f"{request.url} redirects back to {target}")
        if not on_site(self.crawler.spider, target, host):
            note_fault(self.crawler, request, "offsite_redirect")
            raise PageFault("offsite_redirect", f"{request.url} redirects off the site to {target}")

    def process_exception(
        self, request: Request, exception: Exception, spider: Spider | None = None
    ) -> None:
        if not isinstance(exception, IgnoreRequest):
            note_fault(self.crawler, request, exception_kind(exception))


class ContentGuard:
    """Looks at each 200 response before the spider does.

    An empty body, a body that is no HTML where an article was asked for, or a bot
    challenge page becomes a PageFault (the request's errback counts the page as lost,
    with the reason); a body whose charset label is wrong is re-read in the encoding it
    is really in (the site's ``encodings``), and a UTF-8 body with bytes that are no
    UTF-8 is read with U+FFFD in their place; a page that came in on a retry counts as
    recovered under the first fault it met.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Response:
        if response.status != 200 or request.meta.get("dont_obey_robotstxt"):
            return response  # errors are the retry middleware's; robots.txt is Scrapy's
        is_article = names.SOURCE in request.meta
        earlier = request.meta.get(names.FAULTS_SEEN)  # the faults of earlier attempts, if any
        if not response.body.strip():
            self._fault(request, "empty", "the response body is empty")
        if is_article and not isinstance(response, TextResponse):
            kind = (response.headers.get(b"Content-Type") or b"?").decode("latin-1")
            self._fault(request, "not_html", f"an article page came as {kind}")
        if isinstance(response, TextResponse):
            # XML (a feed, a sitemap) is never a challenge page; HTML served for one is.
            if not isinstance(response, XmlResponse) and looks_like_challenge(response.body):
                self._fault(request, "challenge", "a bot-challenge page, not the page asked for")
            response = self._charset(request, response)
        if earlier:
            _count(self.crawler, "recovered", earlier[0])
        return response

    def _fault(self, request: Request, kind: str, message: str) -> None:
        note_fault(self.crawler, request, kind)
        raise PageFault(kind, message)

    def _charset(self, request: Request, response: TextResponse) -> TextResponse:
        site = getattr(self.crawler.spider, "site", None)
        candidates = getattr(site, "encodings", ("cp1252",))
        repaired = repair_charset(response.body, response.encoding, candidates)
        if repaired is None:
            return response
        note_fault(self.crawler, request, repaired.kind)
        if repaired.kind == "charset":
            _count(self.crawler, "repaired", "charset")
            logger.info(
                "Charset of %s is %s, not the %s it says: read as %s",
                response.url, repaired.encoding, response.encoding, repaired.encoding,
            )  # fmt: skip
        else:  # never guessed into another charset: that would publish them as mojibake
            logger.info(
                "Some bytes of %s are not the UTF-8 it is in: read as U+FFFD (the stories "
                "they fall in are quarantined)",
                response.url,
            )
        return response.replace(body=repaired.text.encode("utf-8"), encoding="utf-8")


class CountedResetsHTTP11DownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 download handler, without Twisted's silent resend of a request
    whose reused connection dropped before any reply: that attempt fails, and the retry
    middleware retries it with the same backoff as any reset, and counts it."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._pool.retryAutomatically = False
