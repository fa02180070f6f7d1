from __future__ import annotations

import pytest

from newscrawl.sites import get_site
from newscrawl.sites.arabnews import ARABNEWS


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://www.arabnews.com/node/2590001/middle-east",
            "https://www.arabnews.com/node/2590001/middle-east",
        ),
        (
            "https://www.arabnews.com/node/2590001/world?utm_source=rss&fbclid=x#top",
            "https://www.arabnews.com/node/2590001/world",
        ),
        ("https://www.arabnews.com/node/2590001", "https://www.arabnews.com/node/2590001"),
        ("https://www.arabnews.com/node/2590001/", "https://www.arabnews.com/node/2590001"),
        ("http://127.0.0.1:8080/node/7/sport", "http://127.0.0.1:8080/node/7/sport"),
        ("https://www.arabnews.com/node/2590001/amp", None),
        ("https://www.arabnews.com/node/2590001/world/amp", None),
        ("https://www.arabnews.com/saudiarabia", None),
        ("https://www.arabnews.com/node/abc/world", None),
        ("mailto:desk@arabnews.com", None),
        ("javascript:void(0)", None),
    ],
)
def test_article_url_normalizes_or_rejects(url: str, expected: str | None) -> None:
    assert ARABNEWS.article_url(url) == expected


def test_article_id_is_the_node_id() -> None:
    assert ARABNEWS.article_id("https://www.arabnews.com/node/2590001/world") == "2590001"
    assert ARABNEWS.article_id("https://www.arabnews.com/world") is None


def test_discovery_urls_follow_the_base_url() -> None:
    urls = ARABNEWS.discovery_urls("http://127.0.0.1:9999/")
    assert urls["feeds"] == ["http://127.0.0.1:9999/rss.xml"]
    assert urls["sitemaps"] == ["http://127.0.0.1:9999/sitemap.xml"]
    assert "http://127.0.0.1:9999/saudiarabia" in urls["sections"]


def test_get_site_names_the_known_sites_when_unknown() -> None:
    assert get_site("arabnews") is ARABNEWS
    with pytest.raises(KeyError, match="known sites: arabnews"):
        get_site("nope")
