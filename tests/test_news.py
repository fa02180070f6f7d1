"""The news spider: any site with no profile, crawled as a reader's tools find it.

The site is the mirror's generic variant (``newscrawl.mirror.generic``): WordPress-style
date URLs, a news sitemap named in robots.txt, a feed announced in the page head, bylines,
related-article teasers and a most-read box on every article page.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from newscrawl.arguments import SpiderArgumentError
from newscrawl.mirror.generic import FEED_ITEMS, GenericMirror
from newscrawl.schema import StoryRecord
from newscrawl.sites import SITES_PATH_ENV, registry
from newscrawl.spiders.news import GenericNewsSpider
from tests.crawling import crawl, project_settings

ARTICLES = 24


@pytest.fixture
def generic() -> Iterator[GenericMirror]:
    with GenericMirror(ARTICLES) as mirror:
        yield mirror


def stories_of(items: list[object]) -> list[StoryRecord]:
    return [item for item in items if isinstance(item, StoryRecord)]


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
