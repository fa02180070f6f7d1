"""The news spider: any site with no profile, crawled as a reader's tools find it.

The site is the mirror's generic variant (``newscrawl_mirror.generic``): WordPress-style
date URLs, a news sitemap named in robots.txt, a feed announced in the page head, bylines,
related-article teasers and a most-read box on every article page.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Spider
from scrapy.http import Response
from scrapy.utils.defer import deferred_f_from_coro_f

from newscrawl.discover.arguments import SpiderArgumentError
from newscrawl.discover.spiders.news import GenericNewsSpider
from newscrawl.page.walk import build_page_record, parse_page_html
from newscrawl.records.page import PageRecord
from newscrawl.records.story import StoryRecord
from newscrawl.sites import SITES_PATH_ENV, registry
from newscrawl_mirror.generic import FEED_ITEMS, GenericMirror
from tests.crawling import crawl, project_settings

ARTICLES = 24
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def generic() -> Iterator[GenericMirror]:
    with GenericMirror(ARTICLES) as mirror:
        yield mirror


def stories_of(items: list[object]) -> list[StoryRecord]:
    return [item for item in items if isinstance(item, StoryRecord)]


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_a_site_with_no_profile_gives_every_story_once(generic: GenericMirror) -> None:
    crawler, items = await crawl(GenericNewsSpider, project_settings(), site=generic.base_url)
    stories = stories_of(items)
    truth = {entry["url"]: entry for entry in generic.truth()}
    # Every article once (the feed holds only the latest: the rest come from the news
    # sitemap robots.txt names), and nothing else: no teaser, no most-read entry, no page
    # whose head says it is no article.
    found = Counter(str(story.url) for story in stories)
    assert sorted(found) == sorted(truth)
    assert set(found.values()) == {1}
    for story in stories:
        expected = truth[story.url]
        assert story.title == expected["title"]
        assert story.body == expected["body"]
        assert story.authors == [expected["author"]]
        assert story.published is not None
        assert story.published["value"] == expected["published"]
    requested = generic.requested
    assert "/robots.txt" in requested
    assert "/news-sitemap.xml" in requested
    assert "/feed/" in requested
    assert "/about-us/" in requested  # fetched for its slug-like URL, then judged by its head
    stats = crawler.stats.get_stats() if crawler.stats else {}
    assert stats["newscrawl/pages/not_article"] >= 1
    assert stats["newscrawl/discovery/news_sitemaps"] == 1
    assert stats["newscrawl/discovery/announced_feeds"] == 1
    assert stats["newscrawl/discovered/feeds"] == FEED_ITEMS


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_a_news_sitemap_gives_each_article_its_publication_title_and_language(
    generic: GenericMirror,
) -> None:
    # Found through robots.txt's sitemap only, every page carries what its entry says.
    settings = project_settings(NEWSCRAWL_EMIT_PAGES=True)
    _, items = await crawl(GenericNewsSpider, settings, site=generic.base_url, sources="sitemaps")
    truth = {entry["url"]: entry for entry in generic.truth()}
    pages = [item for item in items if isinstance(item, PageRecord)]
    assert sorted(page.url for page in pages) == sorted(truth)
    for page in pages:
        assert page.listed == {
            "source": "sitemap", "time": truth[page.url]["published"], "kind": "publication",
            "title": truth[page.url]["title"], "language": "en",
        }  # fmt: skip


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_a_profile_for_the_host_is_used_and_discovery_adds_to_it(
    generic: GenericMirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A profile naming the mirror's host with its own timezone; its pages are read with
    # it, and the news spider's discovery still finds every article.
    folder = tmp_path / "sites"
    folder.mkdir()
    (folder / "daily-example.toml").write_text(
        'name = "daily-example"\n'
        f'base_url = "{generic.base_url}"\n'
        'timezone = "Europe/Paris"\n'
        'languages = ["en"]\n'
        "article_path = '/\\d{4}/\\d{2}/\\d{2}/[a-z0-9-]+-(?P<id>\\d+)/'\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(SITES_PATH_ENV, str(folder))
    registry.cache_clear()
    try:
        _, items = await crawl(GenericNewsSpider, project_settings(), site=generic.base_url)
    finally:
        registry.cache_clear()
    stories = stories_of(items)
    assert {story.site for story in stories} == {"daily-example"}
    assert len(stories) == ARTICLES
    assert all(story.id.startswith("daily-example:1000") for story in stories)


def test_the_site_argument_is_required_and_checked() -> None:
    with pytest.raises(SpiderArgumentError, match="-a site is required"):
        GenericNewsSpider()
    with pytest.raises(SpiderArgumentError, match=re.escape("-a site='news.example'")):
        GenericNewsSpider(site="news.example")


class ProfilelessSpider(Spider):
    """A spider of someone's own that yields page records but names no site profile."""

    name = "profileless"

    def __init__(self, start_url: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_urls = [start_url]

    def parse(self, response: Response) -> Iterator[PageRecord]:
        root, _ = parse_page_html(response.body)
        assert root is not None
        yield build_page_record(
            url=response.url, status=response.status, root=root,
            fetched_at="2026-03-10T12:00:00+00:00", response_date=None, response_age=None,
            site="nobody",
        )  # fmt: skip


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_pages_of_a_spider_with_no_profile_are_counted_and_said_not_lost_silently(
    generic: GenericMirror, caplog: pytest.LogCaptureFixture
) -> None:
    article = generic.truth()[0]["url"]
    with caplog.at_level(logging.ERROR):
        crawler, items = await crawl(ProfilelessSpider, project_settings(), start_url=article)
    assert items == []
    assert crawler.stats is not None
    assert crawler.stats.get_value("newscrawl/pages/no_profile") == 1
    assert any("has no site profile" in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_newscrawl_run_news_writes_every_story_of_a_site_with_no_profile(tmp_path: Path) -> None:
    with GenericMirror(ARTICLES) as mirror:
        done = subprocess.run(
            [sys.executable, "-m", "newscrawl.cli", "run", "news", "-a", f"site={mirror.base_url}",
             "--output-dir", str(tmp_path), "-s", "AUTOTHROTTLE_ENABLED=False",
             "-s", "DOWNLOAD_DELAY=0"],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        urls = sorted(entry["url"] for entry in mirror.truth())
    assert done.returncode == 0, done.stderr[-3000:]
    [run_file] = (tmp_path / "news").rglob("*.jsonl")
    written = [json.loads(line) for line in run_file.read_text(encoding="utf-8").splitlines()]
    assert sorted(record["url"] for record in written) == urls
