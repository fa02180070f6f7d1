"""The shared news spider: discovery (feeds, sitemaps, section pages, links) and fetch.

A site's spider only names its ``SiteProfile``; everything it knows about the site's
URLs and markup lives in that profile.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request, Spider
from scrapy.http import Response, TextResponse
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from newscrawl import names
from newscrawl.discover.arguments import NewsSpiderArguments
from newscrawl.fetch.faults import PageFault, failure_kind
from newscrawl.page.walk import build_page_record, is_article, parse_page_html
from newscrawl.records.page import PageRecord
from newscrawl.sites import ANY_ARTICLE_PATH, Origin, SiteProfile, origin

logger = logging.getLogger(__name__)

# What an XML document (feed or sitemap) starts with, after a BOM and white space.
XML_STARTS = (b"<?xml", b"<rss", b"<feed", b"<urlset", b"<sitemapindex", b"<rdf")
# Discovery sources whose listings carry a time per article, and its timestamp source.
LISTED_SOURCES = {"feeds": "feed", "sitemaps": "sitemap"}


def looks_like_xml(body: bytes) -> bool:
    """True when ``body`` starts like an XML document (a bot challenge page does not)."""
    head = body[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(XML_STARTS)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class NewsSpider(Spider):
    """Crawls one news site's article pages and yields a page record for each."""

    site: SiteProfile

    @classmethod
    def check_arguments(cls, kwargs: dict[str, Any]) -> NewsSpiderArguments:
        """Validate ``-a`` arguments; raises SpiderArgumentError naming the bad one."""
        return NewsSpiderArguments.from_spider_kwargs(kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Validate before anything else so a bad -a fails before any request is made.
        self.arguments = self.check_arguments(kwargs)
        super().__init__(*args)
        self.base_url = self.arguments.base_url or self.site.base_url
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        self.allowed_domains = [host, *self.site.extra_hosts]
        # On the site means the base URL's scheme, host and port (the site's extra hosts
        # under the same scheme and port): see on_site.
        port = f":{parts.port}" if parts.port else ""
        netlocs = [parts.netloc, *(extra + port for extra in self.site.extra_hosts)]
        self.origins: frozenset[Origin] = frozenset(
            found for netloc in netlocs if (found := origin(f"{parts.scheme}://{netloc}/"))
        )

    def log(self, message: Any, level: int = logging.DEBUG, **kw: Any) -> None:
        """Through the spider's logger: spidermon (1.27) still logs its monitors' results
        with ``Spider.log()``, which Scrapy 2.19 deprecates with a warning per call."""
        self.logger.log(level, message, **kw)

    def on_site(self, url: str) -> bool:
        """Is ``url`` on the site crawled: the same scheme, host and port as its base URL?

        Links, feed and sitemap entries and redirects elsewhere are not followed, and
        another port of the same host is elsewhere (the downloader middlewares ask here).
        """
        return origin(url) in self.origins

    async def start(self) -> AsyncIterator[Any]:
        callbacks = {
            "feeds": self.parse_feed,
            "sitemaps": self.parse_sitemap,
            "sections": self.parse_listing,
        }
        for kind, urls in self.site.discovery_urls(self.base_url).items():
            if kind not in self.arguments.sources:
                continue
            for url in urls:
                # Discovery pages go first: they feed the article queue.
                yield Request(
                    url,
                    callback=callbacks[kind],
                    errback=self.download_failed,
                    priority=10,
                    dont_filter=True,
                )

    # Discovery

    def parse_feed(self, response: Response) -> Iterator[Request]:
        if not self._is_xml(response, "feed"):
            return
        assert isinstance(response, TextResponse)
        response.selector.remove_namespaces()
        links: list[tuple[str, str | None]] = []
        for item in response.xpath("//item | //entry"):
            link = item.xpath("link/text() | link/@href").get()
            date = item.xpath("pubDate/text() | published/text() | updated/text()").get()
            if link:
                links.append((link, date))
        yield from self._article_requests(links, response, "feeds")

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        if not self._is_xml(response, "sitemap"):
            return
        sitemap = Sitemap(response.body)
        entries = [(entry["loc"], entry.get("lastmod")) for entry in sitemap if entry.get("loc")]
        if sitemap.type == "sitemapindex":
            for loc, _ in entries:
                if not self.on_site(response.urljoin(loc)):
                    self._offsite(loc, "sitemaps")
                    continue
                yield response.follow(
                    loc, callback=self.parse_sitemap, errback=self.download_failed, priority=10
                )
        else:
            yield from self._article_requests(entries, response, "sitemaps")

    def parse_listing(self, response: Response) -> Iterator[Request]:
        if not isinstance(response, TextResponse):
            return
        links = response.css(self.site.selectors.listing_links).getall()
        if not links:
            # The site's listing markup changed: fall back to every link on the page.
            self.crawler.stats.inc_value(names.LISTING_SELECTOR_FALLBACK)
            links = response.css("a::attr(href)").getall()
        yield from self._article_requests([(link, None) for link in links], response, "sections")

    # Fetch

    def parse_article(self, response: Response) -> Iterator[PageRecord | Request]:
        stats = self.crawler.stats
        root, repairs = (
            parse_page_html(response.body, response.encoding)
            if isinstance(response, TextResponse)
            else (None, [])
        )
        for repair in repairs:
            stats.inc_value(names.stat(names.FAULTS, "seen", "deep_nesting"))
            if repair == "deep_nesting":  # flattened, then read whole
                stats.inc_value(names.stat(names.FAULTS, "repaired", "deep_nesting"))
                logger.info("Flattened deeply nested markup of %s before reading it", response.url)
            else:  # read, but what lay too deep is gone
                stats.inc_value(names.stat(names.FAULTS, "lost", "deep_nesting"))
                logger.warning("Part of %s lay too deep in its markup to be read", response.url)
        if root is None:
            stats.inc_value(names.stat(names.PAGES_SKIPPED, "not_html"))
            logger.warning("Skipped %s: not an HTML page", response.url)
            return
        stats.inc_value(names.PAGES)
        age = response.headers.get(b"Age")
        date = response.headers.get(b"Date")
        record = build_page_record(
            url=response.url,
            status=response.status,
            root=root,
            fetched_at=utc_now(),
            response_date=date.decode("latin-1") if date else None,
            # A page's age fits in 10 digits; int() refuses beyond 4300 (a hostile header).
            response_age=int(age) if age and age.strip().isdigit() and len(age) <= 10 else None,
            site=self.site.name,
            listed=response.meta.get(names.LISTED),
            # The markup as sent, for the main-content stage, unless it had to be repaired
            # first: then the repaired tree is the one read.
            markup=response.text if not repairs and isinstance(response, TextResponse) else None,
        )
        if self.site.article_path is ANY_ARTICLE_PATH and not is_article(record):
            # A site with no article pattern of its own: a page whose head says it is no
            # article ("about us", a tag page) gives no story, and is followed no further.
            stats.inc_value(names.PAGES_NOT_ARTICLE)
            logger.debug("Not an article (its head says so): %s", response.url)
            return
        yield record
        if "links" in self.arguments.sources:
            hrefs = root.xpath("//body//a/@href")
            links = [(str(h), None) for h in hrefs] if isinstance(hrefs, list) else []
            yield from self._article_requests(links, response, "links")

    # Helpers

    def _article_requests(
        self,
        links: Sequence[tuple[str, str | None]],
        response: Response,
        source: str,
        details: Mapping[str, dict[str, str]] | None = None,
    ) -> Iterator[Request]:
        """Requests for the article links among ``links``: (href, listed time) pairs.

        The listed time is what a feed (pubDate) or a sitemap (lastmod) says of the
        article; ``details`` (by href) what else its listing says (a news sitemap's
        ``kind`` "publication", ``title`` and ``language``).
        """
        # A cheap test before urljoin, with a site's own pattern (the pattern of any
        # article path is tried on the path alone, in article_url).
        own_pattern = self.site.article_path is not ANY_ARTICLE_PATH
        for link, listed_time in links:
            if own_pattern and not self.site.article_path.search(link):
                continue
            url = self.site.article_url(response.urljoin(link.strip()))
            if url is None:
                continue
            if not self.on_site(url):
                self._offsite(url, source)
                continue
            self.crawler.stats.inc_value(names.stat(names.DISCOVERED, source))
            meta: dict[str, Any] = {names.SOURCE: source}
            if listed_time and source in LISTED_SOURCES:
                meta[names.LISTED] = {
                    **(details or {}).get(link, {}),
                    "source": LISTED_SOURCES[source],
                    "time": listed_time,
                }
            yield Request(url, callback=self.parse_article, errback=self.download_failed, meta=meta)

    def _offsite(self, url: str, source: str) -> None:
        """A link (feed or sitemap entry) to another site: counted by source, not followed."""
        self.crawler.stats.inc_value(names.stat(names.OFFSITE, source))
        logger.debug("Not followed (another site than %s): %s", self.base_url, url)

    def download_failed(self, failure: Failure) -> None:
        """One log line per page that could not be read (retries already spent), and the
        page counted as lost under its fault's kind."""
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        kind = failure_kind(failure.value) if failure.value is not None else "unknown"
        if kind is None:  # robots.txt said no: Scrapy counts it
            logger.debug("Not fetched %s: %s", url, failure.getErrorMessage())
            return
        stats = self.crawler.stats
        stats.inc_value(names.stat(names.FAULTS, "lost", kind))
        if request is None or kind not in request.meta.get(names.FAULTS_SEEN, []):
            # Met only now (a decompressed size, ...).
            stats.inc_value(names.stat(names.FAULTS, "seen", kind))
        if request is not None and names.SOURCE in request.meta:
            stats.inc_value(names.PAGES_LOST)
        if not isinstance(failure.value, PageFault):  # PageFault: the site answered, no page
            stats.inc_value(names.DOWNLOAD_FAILED)
        # Counted by kind; the Lost pages and Pages fetched monitors judge how many may be.
        logger.warning("Lost %s (%s): %s", url, kind, failure.getErrorMessage())

    def _is_xml(self, response: Response, kind: str) -> bool:
        if looks_like_xml(response.body):
            return True
        # Sites answer bots with an HTML challenge page and status 200: not an empty feed.
        self.crawler.stats.inc_value(names.stat(names.DISCOVERY, "not_xml", kind))
        self.crawler.stats.inc_value(names.stat(names.FAULTS, "seen", "not_xml"))
        self.crawler.stats.inc_value(names.stat(names.FAULTS, "lost", "not_xml"))
        logger.warning("Skipped %s %s: not XML (a bot challenge page?)", kind, response.url)
        return False
