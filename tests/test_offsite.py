"""Off the site means another scheme, host or port: links, listings and redirects to
another server on the same host are not followed, and no canonical URL on another site
becomes a story's ``url``."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from newscrawl.cli.main import mirror_process
from newscrawl.discover.spiders.arabnews import ArabNewsSpider
from newscrawl.export.dataset import run_files
from newscrawl.fetch.faults import PageFault
from newscrawl.fetch.middlewares import FaultObserver, OffsiteMiddleware
from newscrawl.page.walk import build_page_record, parse_html
from newscrawl.records.page import PageRecord
from newscrawl.records.story import StoryRecord
from newscrawl.sites import origin
from newscrawl.sites.arabnews import ARABNEWS
from newscrawl.stories.content import stories_from_page
from tests.conftest import Mirror
from tests.crawling import crawl, project_settings
from tests.test_split import LIBRARY, PORT, html_page
from tests.test_stories import page_with_head


@pytest.fixture(scope="module")
def other_site() -> Iterator[Mirror]:
    """Another site on this host: another port, other stories (another seed)."""
    with mirror_process(20, 99) as base_url:
        yield Mirror(base_url)


@pytest.fixture(scope="module")
def pointing_mirror(other_site: Mirror) -> Iterator[Mirror]:
    """A mirror whose pages link, list, redirect and point their canonical URL there."""
    with mirror_process(30, 5, "--other-site", other_site.base_url) as base_url:
        yield Mirror(base_url)


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_another_port_of_the_same_host_is_not_crawled_or_published(
    pointing_mirror: Mirror, other_site: Mirror, crawl_output: Path
) -> None:
    other_site.reset_log()
    pointing_mirror.reset_log()
    plan = pointing_mirror.get("/_mirror/other-site.json")
    assert plan["base_url"] == other_site.base_url
    settings = project_settings(NEWSCRAWL_EMIT_PAGES=True)
    crawler, items = await crawl(ArabNewsSpider, settings, base_url=pointing_mirror.base_url)

    assert other_site.requests() == []  # nothing fetched from the other port
    log = pointing_mirror.requests()
    [redirect] = [entry for entry in log if entry["status"] == 302]
    assert redirect["path"].startswith(f"/node/{plan['redirected']}/")
    stats = crawler.stats
    assert stats is not None
    # Counted where each was met: a link on every article page, one feed and one
    # sitemap entry, one redirect (its page lost under its kind).
    assert stats.get_value("newscrawl/offsite/links", 0) >= stats.get_value("newscrawl/pages")
    assert stats.get_value("newscrawl/offsite/feeds") == 1
    assert stats.get_value("newscrawl/offsite/sitemaps") == 1
    assert stats.get_value("newscrawl/faults/seen/offsite_redirect") == 1
    assert stats.get_value("newscrawl/faults/lost/offsite_redirect") == 1
    assert stats.get_value("newscrawl/pages/lost") == 1

    home = origin(pointing_mirror.base_url)
    stories = [item for item in items if isinstance(item, StoryRecord)]
    published = [
        json.loads(line)
        for path in run_files(crawl_output / "arabnews")
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    assert stories
    assert len(published) == len(stories)
    for record in [*published, *(dataclasses.asdict(story) for story in stories)]:
        assert origin(record["page_url"]) == home, record["page_url"]
        assert record["url"] is None or origin(record["url"]) == home, record["url"]
    # The page whose canonical URL is on the other site: its story keeps the page's URL.
    [page] = [
        item
        for item in items
        if isinstance(item, PageRecord) and f"/node/{plan['canonical']}/" in item.url
    ]
    assert page.canonical_url is not None
    assert page.canonical_url.startswith(other_site.base_url)
    # (Its story may have been written from another page first: split the page again.)
    head = stories_from_page(page, ARABNEWS).stories[0]
    assert head.url == page.url
    assert head.id == f"arabnews:{plan['canonical']}"


def spider_on(base_url: str) -> tuple[Any, ArabNewsSpider]:
    crawler = get_crawler(ArabNewsSpider, project_settings())
    spider = ArabNewsSpider.from_crawler(crawler, base_url=base_url)
    crawler.spider = spider
    return crawler, spider


def test_on_site_means_the_same_scheme_host_and_port() -> None:
    _, spider = spider_on("http://127.0.0.1:8080")
    assert spider.on_site("http://127.0.0.1:8080/node/1/world")
    assert spider.on_site("HTTP://127.0.0.1:8080/node/1/world")
    assert not spider.on_site("http://127.0.0.1:8081/node/1/world")  # another port
    assert not spider.on_site("https://127.0.0.1:8080/node/1/world")  # another scheme
    assert not spider.on_site("http://localhost:8080/node/1/world")  # another host
    assert not spider.on_site("http://127.0.0.1/node/1/world")
    assert not spider.on_site("mailto:desk@127.0.0.1")
    _, live = spider_on("https://www.arabnews.com")
    assert live.on_site("https://www.arabnews.com:443/node/1/world")  # the default port
    assert not live.on_site("http://www.arabnews.com/node/1/world")
    assert not live.on_site("https://news.www.arabnews.com/node/1/world")


def test_origin_fills_in_the_default_port_and_refuses_what_is_no_web_url() -> None:
    assert origin("https://Example.ORG/a") == ("https", "example.org", 443)
    assert origin("http://example.org:80/") == origin("http://example.org/")
    assert origin("http://[::1]:8080/") == ("http", "::1", 8080)
    assert origin("http://example.org:port/") is None
    assert origin("http://[x/") is None
    assert origin("file:///tmp/page.html") is None
    assert origin("/node/1/world") is None


def test_a_redirect_to_another_port_is_a_lost_page_even_from_a_listing() -> None:
    crawler, _ = spider_on("http://127.0.0.1:8080")
    observer = FaultObserver.from_crawler(crawler)
    # A listing request (dont_filter) redirected to the same path on another port.
    request = Request("http://127.0.0.1:8080/rss.xml", dont_filter=True)
    moved = HtmlResponse(
        request.url, status=302, headers={"Location": "http://127.0.0.1:8081/rss.xml"}
    )
    with pytest.raises(PageFault, match="redirects off the site"):
        observer.process_response(request, moved)
    same = HtmlResponse(request.url, status=301, headers={"Location": "/rss.xml?page=2"})
    assert observer.process_response(request, same) is same


def test_the_offsite_filter_stops_every_request_to_another_port() -> None:
    crawler, _ = spider_on("http://127.0.0.1:8080")
    middleware = OffsiteMiddleware.from_crawler(crawler)
    middleware.process_request(Request("http://127.0.0.1:8080/node/1/world"))  # let through
    elsewhere = [
        Request("http://127.0.0.1:8081/node/1/world"),
        # A redirect keeps the dont_filter of the listing it came from: still off the site.
        Request(
            "http://127.0.0.1:8082/node/2/world",
            dont_filter=True,
            meta={"redirect_urls": ["http://127.0.0.1:8080/node/2/world"]},
        ),
        Request("https://127.0.0.1:8080/node/3/world"),
    ]
    for request in elsewhere:
        with pytest.raises(IgnoreRequest, match="offsite"):
            middleware.process_request(request)
    middleware.process_request(Request("http://127.0.0.1:9/", meta={"allow_offsite": True}))
    assert crawler.stats is not None
    assert crawler.stats.get_value("offsite/filtered") == 3
    assert crawler.stats.get_value("offsite/domains") == 3  # each host:port once


def test_a_canonical_url_on_another_site_is_not_the_story_url() -> None:
    page = page_with_head([PORT, LIBRARY], PORT.title)  # http://example.test/node/100
    assert stories_from_page(page, ARABNEWS).stories[0].url == page.canonical_url
    for elsewhere in (
        "http://example.test:8081/node/100/world",  # another port
        "https://example.test/node/100/world",  # another scheme
        "http://attacker.test/node/999/world",  # another host, another article's id
    ):
        moved = dataclasses.replace(page, canonical_url=elsewhere)
        head = stories_from_page(moved, ARABNEWS).stories[0]
        assert head.url == page.url, elsewhere
        assert head.id == "arabnews:100", elsewhere


def test_an_appended_story_link_to_another_site_is_not_its_url() -> None:
    def appended_url(markup: str) -> str | None:
        root = parse_html(markup)
        assert root is not None
        page = build_page_record(
            url="http://example.test/node/100",
            status=200,
            root=root,
            fetched_at="2025-03-05T10:00:00+00:00",
            response_date=None,
            response_age=None,
            site="arabnews",
        )
        return stories_from_page(page, ARABNEWS).stories[1].url

    markup = html_page([PORT, LIBRARY], "containers")
    assert "href='/node/101'" in markup  # LIBRARY's Short Url
    assert appended_url(markup) == "http://example.test/node/101"
    elsewhere = markup.replace("href='/node/101'", "href='http://example.test:8081/node/101'")
    assert appended_url(elsewhere) is None
