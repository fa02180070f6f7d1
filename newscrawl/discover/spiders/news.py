"""Any news site, with no profile: ``scrapy crawl news -a site=https://news.example/``.

Articles are found as a reader's tools find them: the Sitemap lines of robots.txt (news
sitemaps give each article's publication time, title and language), the feeds the home
page announces (``<link rel="alternate">``), and the home page's sections. An article is
told from the rest by its URL (a slug or an id in its last segment, see
``newscrawl.sites.ANY_ARTICLE_PATH``) and then by its markup: a page whose head says it
is no article gives no story (see ``NewsSpider.parse_article``).
The crawl stays on the site's scheme, host and port.

Where a site profile names the same host (``newscrawl/sites``), the crawl is the
profile's, and this discovery adds to its own feeds, sitemaps and sections.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from pydantic import field_validator
from scrapy import Request
from scrapy.http import Response, TextResponse

from newscrawl import names
from newscrawl.discover.arguments import NewsSpiderArguments
from newscrawl.discover.spiders.base import NewsSpider
from newscrawl.sites import SiteProfile, origin, registry, site_root

logger = logging.getLogger(__name__)

FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json")
# Listing pages followed from the home page: this many at most.
MAX_SECTIONS = 30


class NewsArguments(NewsSpiderArguments):
    """The news spider's arguments: the site to crawl, and those of every news spider."""

    site: str

    @field_validator("site")
    @classmethod
    def _check_site(cls, value: str) -> str:
        return site_root(value)


def profile_for(url: str) -> SiteProfile:
    """The configured profile whose site is on ``url``'s host (its origin, or the same
    host name with or without ``www.``), else a bare one: UTC, English where a page names
    no language, any slug or id path an article."""
    wanted = origin(url)
    for profile in registry().values():
        hosts = [profile.base_url, *(f"https://{h}/" for h in profile.extra_hosts)]
        if any(origin(h) == wanted or _same_host(h, url) for h in hosts):
            return profile
    host = urlsplit(url).hostname or "site"
    return SiteProfile(name=host, base_url=url, timezone="UTC", languages=("en",))


def _same_host(a: str, b: str) -> bool:
    return (urlsplit(a).hostname or "").removeprefix("www.") == (
        urlsplit(b).hostname or ""
    ).removeprefix("www.")


class GenericNewsSpider(NewsSpider):
    """Crawls the news site given as ``-a site=URL``, with or without a profile."""

    name = "news"

    @classmethod
    def check_arguments(cls, kwargs: dict[str, Any]) -> NewsSpiderArguments:
        return NewsArguments.from_spider_kwargs(kwargs)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        arguments = NewsArguments.from_spider_kwargs(kwargs)
        # The profile of the site's host where one is configured, else a bare one.
        self.site = profile_for(arguments.site)
        kwargs.setdefault("base_url", arguments.site)
        super().__init__(*args, **kwargs)
        self.sections_followed = 0

    async def start(self) -> AsyncIterator[Any]:
        async for request in super().start():
            yield request
        if "sitemaps" in self.arguments.sources:
            yield Request(
                self.base_url + "robots.txt", callback=self.parse_robots,
                errback=self.download_failed, priority=10, dont_filter=True,
            )  # fmt: skip
        yield Request(
            self.base_url, callback=self.parse_home, errback=self.download_failed,
            priority=10, dont_filter=True,
        )  # fmt: skip

    # Discovery

    def parse_robots(self, response: Response) -> Iterator[Request]:
        """The sitemaps robots.txt names (``Sitemap: <url>`` lines)."""
        if not isinstance(response, TextResponse):
            return
        for line in response.text.splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "sitemap" and value.strip():
                url = response.urljoin(value.strip())
                if not self.on_site(url):
                    self._offsite(url, "sitemaps")
                    continue
                self.crawler.stats.inc_value(names.stat(names.DISCOVERY, "robots_sitemaps"))
                yield Request(
                    url, callback=self.parse_sitemap, errback=self.download_failed, priority=10
                )

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        """A news sitemap gives each article's publication time; any other sitemap is
        read as every news spider reads one."""
        if b"<news:" not in response.body[:200_000] or not self._is_xml(response, "sitemap"):
            yield from super().parse_sitemap(response)
            return
        # Read as Scrapy reads sitemaps: what is broken (a stray &) is passed over.
        parser = etree.XMLParser(recover=True, remove_comments=True, resolve_entities=False)
        root = etree.fromstring(response.body, parser)
        if root is None:
            logger.warning("Skipped sitemap %s: no XML in it", response.url)
            return
        links: list[tuple[str, str | None]] = []
        details: dict[str, dict[str, str]] = {}
        for url in root.iter("{*}url"):
            loc = (url.findtext("{*}loc") or "").strip()
            if not loc:
                continue
            published = (url.findtext("{*}news/{*}publication_date") or "").strip()
            lastmod = (url.findtext("{*}lastmod") or "").strip()
            links.append((loc, published or lastmod or None))
            # The time is the article's publication; its title and language come along.
            details[loc] = {"kind": "publication"} if published else {}
            for key, path in (("title", "{*}news/{*}title"),
                              ("language", "{*}news/{*}publication/{*}language")):  # fmt: skip
                if value := (url.findtext(path) or "").strip():
                    details[loc][key] = value
        self.crawler.stats.inc_value(names.stat(names.DISCOVERY, "news_sitemaps"))
        yield from self._article_requests(links, response, "sitemaps", details)

    def parse_home(self, response: Response) -> Iterator[Request]:
        """The feeds the home page announces, its article links, and its sections."""
        if not isinstance(response, TextResponse):
            return
        if "feeds" in self.arguments.sources:
            for link in response.xpath("//head/link[@rel='alternate'][@href]"):
                if (link.attrib.get("type") or "").lower() in FEED_TYPES:
                    url = response.urljoin(link.attrib["href"])
                    if self.on_site(url):
                        self.crawler.stats.inc_value(names.stat(names.DISCOVERY, "announced_feeds"))
                        yield Request(
                            url, callback=self.parse_feed, errback=self.download_failed,
                            priority=10,
                        )  # fmt: skip
        links = [(str(h), None) for h in response.xpath("//body//a/@href").getall()]
        if "sections" in self.arguments.sources:
            yield from self._article_requests(links, response, "sections")
            yield from self._section_requests(links, response)

    def _section_requests(
        self, links: list[tuple[str, None]], response: Response
    ) -> Iterator[Request]:
        """The home page's links that are no article: its sections, read as listings."""
        for href, _ in links:
            url = response.urljoin(href.strip())
            path = urlsplit(url).path
            if (
                self.sections_followed >= MAX_SECTIONS
                or not self.on_site(url)
                or path in ("", "/")
                or self.site.article_url(url) is not None
            ):
                continue
            self.sections_followed += 1
            self.crawler.stats.inc_value(names.stat(names.DISCOVERY, "sections"))
            yield Request(
                url, callback=self.parse_listing, errback=self.download_failed, priority=5
            )
