"""Tests of the local mirror site: time texts, content model, HTTP server and CLI."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newscrawl_mirror import (
    FIRST_NID,
    SECTIONS,
    MirrorServer,
    MirrorSite,
    format_interval,
    main,
    updated_text,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
STARTED_AT = datetime(2025, 2, 6, 9, 0, 0, tzinfo=timezone.utc)
# The shared server's clock stands still 90 s after the site started: exact, repeatable texts.
SERVER_NOW = STARTED_AT + timedelta(seconds=90)
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


class Fetched:
    def __init__(self, status: int, headers: dict[str, str], text: str) -> None:
        self.status = status
        self.headers = headers
        self.text = text


def fetch(url: str, method: str = "GET", payload: object | None = None) -> Fetched:
    """One request over http.client, so redirects are seen rather than followed."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = None if payload is None else json.dumps(payload).encode()
        headers = {} if body is None else {"Content-Type": "application/json"}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        headers_read = {name.lower(): value for name, value in response.getheaders()}
        return Fetched(response.status, headers_read, response.read().decode("utf-8"))
    finally:
        connection.close()


@pytest.fixture(scope="module")
def site() -> MirrorSite:
    return MirrorSite(articles=200, seed=1, started_at=STARTED_AT)


@pytest.fixture(scope="module")
def server(site: MirrorSite) -> Iterator[MirrorServer]:
    with MirrorServer(site, clock=SERVER_NOW.timestamp) as running:
        yield running


# --- time rendering ---


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0 sec"),
        (1, "1 sec"),
        (31, "31 sec"),
        (60, "1 min"),
        (120, "2 min"),
        (2107, "35 min 7 sec"),
        (3600, "1 hour"),
        (3605, "1 hour 5 sec"),
        (7530, "2 hours 5 min"),
        (2 * 86_400 + 3 * 3600 + 59, "2 days 3 hours"),
        (604_800, "1 week"),
        (2 * 604_800 + 86_400, "2 weeks 1 day"),
        (2_592_000, "1 month"),
        (31_536_000, "1 year"),
        (2 * 31_536_000 + 3 * 2_592_000, "2 years 3 months"),
    ],
)
def test_format_interval(seconds: int, expected: str) -> None:
    assert format_interval(seconds) == expected


def test_format_interval_granularity() -> None:
    assert format_interval(7530, granularity=1) == "2 hours"
    assert format_interval(90_061, granularity=3) == "1 day 1 hour 1 min"
    assert format_interval(90_061, granularity=4) == "1 day 1 hour 1 min 1 sec"
    # A skipped unit does not use up granularity (Drupal behaviour).
    assert format_interval(31_536_000 + 5, granularity=2) == "1 year 5 sec"


_UNIT_SECONDS = {
    "year": 31_536_000,
    "month": 2_592_000,
    "week": 604_800,
    "day": 86_400,
    "hour": 3_600,
    "min": 60,
    "sec": 1,
}


# No example database: the test stays pure and writes nothing into the repository.
@settings(database=None)
@given(st.integers(min_value=1, max_value=10 * 31_536_000), st.integers(min_value=1, max_value=7))
def test_format_interval_properties(seconds: int, granularity: int) -> None:
    words = format_interval(seconds, granularity).split()
    counts = [int(count) for count in words[0::2]]
    units = [unit.removesuffix("s") if unit != "min" else unit for unit in words[1::2]]
    sizes = [_UNIT_SECONDS[unit] for unit in units]
    assert 1 <= len(units) <= granularity
    assert sizes == sorted(sizes, reverse=True)
    assert len(set(units)) == len(units)
    shown = sum(count * size for count, size in zip(counts, sizes, strict=True))
    # Largest units first, so what is left out is always less than the smallest unit shown.
    assert shown <= seconds < shown + sizes[-1]
    assert counts[0] * sizes[0] <= seconds < (counts[0] + 1) * sizes[0]


def test_format_interval_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="negative"):
        format_interval(-1)
    with pytest.raises(ValueError, match="granularity"):
        format_interval(10, granularity=0)


def test_updated_text_relative_under_twenty_hours() -> None:
    now = datetime(2025, 2, 6, 12, 0, tzinfo=timezone.utc)
    assert updated_text(now - timedelta(seconds=31), now) == "Updated 31 sec ago"
    assert updated_text(now - timedelta(seconds=2107), now) == "Updated 35 min 7 sec ago"
    assert updated_text(now, now) == "Updated 0 sec ago"
    almost = now - timedelta(hours=19, minutes=59, seconds=59)
    assert updated_text(almost, now) == "Updated 19 hours 59 min ago"


def test_updated_text_absolute_date_in_riyadh() -> None:
    updated = datetime(2025, 2, 5, 12, 0, tzinfo=timezone.utc)
    assert updated_text(updated, updated + timedelta(hours=20)) == "Updated 05 February 2025"
    # 22:30 UTC is already 01:30 the next day in Riyadh (UTC+3).
    late = datetime(2025, 2, 5, 22, 30, tzinfo=timezone.utc)
    later = late + timedelta(days=3)
    assert updated_text(late, later) == "Updated 06 February 2025"
    assert updated_text(late, later, tz="UTC") == "Updated 05 February 2025"


@pytest.mark.parametrize(
    ("edition", "relative", "absolute"),
    [
        ("fr", "Mis à jour il y a 35 min 7 s", "Publié le Jeudi 6 février 2025"),
        ("ar", "آخر تحديث منذ 35 دقيقة و7 ثوان", "آخر تحديث 06 فبراير 2025"),
    ],
)
def test_updated_text_in_the_other_editions(edition: str, relative: str, absolute: str) -> None:
    now = datetime(2025, 2, 6, 12, 0, tzinfo=timezone.utc)
    assert updated_text(now - timedelta(seconds=2107), now, edition=edition) == relative  # type: ignore[arg-type]
    late = datetime(2025, 2, 5, 22, 30, tzinfo=timezone.utc)  # the 6th in Riyadh
    assert updated_text(late, late + timedelta(days=3), edition=edition) == absolute  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(age=st.integers(min_value=0, max_value=40 * 86_400), edition=st.sampled_from(["fr", "ar"]))
def test_every_time_line_an_edition_prints_reads_back_as_its_time(age: int, edition: str) -> None:
    from newscrawl.stories.timestamps import given_anchor, parse_timestamp

    now = datetime(2025, 2, 6, 12, 0, tzinfo=timezone.utc)
    updated = now - timedelta(seconds=age)
    text = updated_text(updated, now, edition=edition)  # type: ignore[arg-type]
    found = parse_timestamp(
        text, anchor=given_anchor(now), timezone="Asia/Riyadh", languages=(edition,)
    )
    assert found.earliest is not None, (text, found.error)
    assert found.latest is not None
    assert found.earliest <= updated <= found.latest, text


def test_an_unknown_edition_is_refused() -> None:
    with pytest.raises(ValueError, match="edition must be one of en, fr, ar"):
        MirrorSite(articles=3, edition="de")  # type: ignore[arg-type]


# --- content model ---


def test_same_arguments_give_the_same_site() -> None:
    first = MirrorSite(articles=60, seed=7, started_at=STARTED_AT)
    second = MirrorSite(articles=60, seed=7, started_at=STARTED_AT)
    assert first.truth() == second.truth()
    assert first.all_articles() == second.all_articles()


def test_different_seeds_give_different_sites() -> None:
    first = MirrorSite(articles=60, seed=7, started_at=STARTED_AT)
    other = MirrorSite(articles=60, seed=8, started_at=STARTED_AT)
    first_titles = [article.title for article in first.all_articles()]
    other_titles = [article.title for article in other.all_articles()]
    assert first_titles != other_titles


def test_story_text_does_not_depend_on_site_size() -> None:
    small = MirrorSite(articles=30, seed=2, started_at=STARTED_AT)
    large = MirrorSite(articles=90, seed=2, started_at=STARTED_AT)
    for nid in small.nids:
        small_article, large_article = small.article(nid), large.article(nid)
        assert small_article is not None
        assert large_article is not None
        assert (small_article.title, small_article.body) == (
            large_article.title,
            large_article.body,
        )


def test_articles_look_like_news_stories() -> None:
    site = MirrorSite(articles=400, seed=3, started_at=STARTED_AT)
    articles = site.all_articles()
    assert [article.nid for article in articles] == list(range(FIRST_NID, FIRST_NID + 400))
    for article in articles:
        assert article.section in SECTIONS
        assert article.path == f"/node/{article.nid}/{article.section}"
        assert 5 <= len(article.title.split()) <= 14
        assert 1 <= len(article.body) <= 12
        assert len(article.summary) <= 3
        assert all(not line.endswith(".") for line in article.summary)
        if article.dateline is not None:
            assert article.body[0].startswith(f"{article.dateline}: ")
        assert (article.caption is None) == (article.image_url is None)
        if article.caption is not None and article.image_url is not None:
            assert article.caption.endswith((" (AFP)", " (Reuters)", " (SPA)", " (AN photo)"))
            assert re.fullmatch(
                r"/sites/default/files/styles/660x371_watermarksaudi/public/main-image/"
                r"\d{4}/\d{2}/\d{2}/\d+\.jpg",
                article.image_url,
            )
        assert article.published_at <= article.updated_at <= STARTED_AT
        assert article.updated_at.tzinfo is not None
    # The mix the spider must cope with actually occurs.
    ages = [(STARTED_AT - article.updated_at).total_seconds() for article in articles]
    recent = sum(age < 20 * 3600 for age in ages)
    assert 0.25 < recent / len(articles) < 0.55
    assert any(age < 600 for age in ages)
    assert any(age > 365 * 86_400 for age in ages)
    assert any(article.dateline is None for article in articles)
    assert any(article.dateline and not article.dateline.isupper() for article in articles)
    assert any(not article.summary_glyph and article.summary for article in articles)
    assert any(":" in article.title for article in articles)
    assert any("‘" in article.title for article in articles)
    assert any("“" in paragraph for article in articles for paragraph in article.body)
    blocked = site.blocked_nids()
    assert 0 < len(blocked) < 0.1 * len(articles)
    assert all(site.robots_blocked(nid) for nid in blocked)


def test_page_stories_append_nearest_lower_nids_with_wraparound() -> None:
    site = MirrorSite(articles=50, seed=1, started_at=STARTED_AT)
    newest = FIRST_NID + 49
    shown_on: dict[int, int] = {}
    for nid in site.nids:
        stories = [article.nid for article in site.page_stories(nid)]
        assert stories[0] == nid
        assert 2 <= len(stories) - 1 <= 5
        expected = [newest - (newest - nid + step) % 50 for step in range(1, len(stories))]
        assert stories[1:] == expected
        for appended in stories[1:]:
            shown_on[appended] = shown_on.get(appended, 0) + 1
    first_page = [article.nid for article in site.page_stories(FIRST_NID)]
    assert first_page[1] == newest
    assert sum(count >= 2 for count in shown_on.values()) > 40
    assert {site.markup_variant(nid) for nid in site.nids} == {"containers", "flat"}
    ages = [site.cached_age(nid) for nid in site.nids]
    assert all(age is None or 30 <= age <= 900 for age in ages)
    assert any(age is not None for age in ages)


def test_edit_replaces_text_everywhere() -> None:
    site = MirrorSite(articles=20, seed=1, started_at=STARTED_AT)
    nid = FIRST_NID + 5
    site.edit(nid, body=["RIYADH: A new first paragraph.", "A second one."], title="A new headline")
    article = site.article(nid)
    assert article is not None
    assert article.title == "A new headline"
    assert article.body == ("RIYADH: A new first paragraph.", "A second one.")
    host_page = next(other for other in site.nids if nid in site.layout(other).story_nids[1:])
    assert any(story.title == "A new headline" for story in site.page_stories(host_page))
    record = next(entry for entry in site.truth() if entry["nid"] == nid)
    assert record["title"] == "A new headline"


def test_truth_is_json_ready(site: MirrorSite) -> None:
    records = json.loads(json.dumps(site.truth()))
    assert len(records) == 200
    first = records[0]
    assert first["nid"] == FIRST_NID
    assert first["path"] == f"/node/{FIRST_NID}/{first['section']}"
    assert datetime.fromisoformat(first["updated_at"]).utcoffset() == timedelta(0)
    assert first["appended"] == [story.nid for story in site.page_stories(FIRST_NID)[1:]]


# --- HTTP server ---


@pytest.mark.slow
def test_robots_txt(site: MirrorSite, server: MirrorServer) -> None:
    robots = fetch(f"{server.base_url}/robots.txt")
    assert robots.status == 200
    assert robots.headers["content-type"] == "text/plain; charset=utf-8"
    lines = robots.text.splitlines()
    assert lines[0] == "User-agent: *"
    assert "Disallow: /search" in lines
    assert "Disallow: /_mirror/" in lines
    assert f"Sitemap: {server.base_url}/sitemap.xml" in lines
    assert not any(line.startswith("Crawl-delay") for line in lines)
    blocked = {int(m) for m in re.findall(r"^Disallow: /node/(\d+)/$", robots.text, re.M)}
    assert blocked == set(site.blocked_nids())
    assert blocked
    for nid in blocked:
        assert f"Disallow: /node/{nid}$" in lines


@pytest.mark.slow
def test_robots_txt_announces_crawl_delay(site: MirrorSite) -> None:
    with MirrorServer(site, crawl_delay=2.5) as slow:
        assert "Crawl-delay: 2.5\n" in fetch(f"{slow.base_url}/robots.txt").text


@pytest.mark.slow
def test_sitemap_pages_cover_exactly_the_allowed_articles() -> None:
    big = MirrorSite(articles=1100, seed=4, started_at=STARTED_AT)
    with MirrorServer(big) as running:
        index = fetch(f"{running.base_url}/sitemap.xml")
        assert index.status == 200
        assert index.headers["content-type"].startswith("application/xml")
        pages = [loc.text or "" for loc in ET.fromstring(index.text).iter(f"{SITEMAP_NS}loc")]
        assert pages == [f"{running.base_url}/sitemap.xml?page={page}" for page in (1, 2, 3)]
        lastmods: dict[str, str] = {}
        for page in pages:
            urlset = ET.fromstring(fetch(page).text)
            for entry in urlset.iter(f"{SITEMAP_NS}url"):
                lastmods[entry.findtext(f"{SITEMAP_NS}loc") or ""] = (
                    entry.findtext(f"{SITEMAP_NS}lastmod") or ""
                )
        assert fetch(f"{running.base_url}/sitemap.xml?page=4").status == 404
        base_url = running.base_url
    allowed = {
        f"{base_url}{record['path']}": record["updated_at"]
        for record in big.truth()
        if not record["robots_blocked"]
    }
    assert lastmods == allowed
    assert len(allowed) < 1100


@pytest.mark.slow
def test_rss_feed_parses_and_skips_blocked_articles(site: MirrorSite, server: MirrorServer) -> None:
    feed = fetch(f"{server.base_url}/rss.xml")
    assert feed.status == 200
    assert feed.headers["content-type"] == "application/rss+xml; charset=utf-8"
    channel = ET.fromstring(feed.text).find("channel")
    assert channel is not None
    items = channel.findall("item")
    assert len(items) == 50
    blocked_paths = {record["path"] for record in site.truth() if record["robots_blocked"]}
    for item in items:
        link = item.findtext("link") or ""
        assert link.startswith(f"{server.base_url}/node/")
        assert urlsplit(link).path not in blocked_paths
        assert datetime.fromisoformat(item.findtext("pubDate") or "").utcoffset() == timedelta(0)
    assert any("utm_source=rss" in (item.findtext("link") or "") for item in items)


def _cached_page_with_relative_time(site: MirrorSite) -> int:
    for nid in site.nids:
        age = site.cached_age(nid)
        story_ages = [
            (SERVER_NOW - story.updated_at).total_seconds() for story in site.page_stories(nid)
        ]
        if age is not None and age < min(story_ages) and story_ages[0] < 20 * 3600:
            return nid
    raise AssertionError("the site has no cached page with a fresh first story")


@pytest.mark.slow
def test_article_page(site: MirrorSite, server: MirrorServer) -> None:
    nid = next(nid for nid in site.nids if site.cached_age(nid) is None)
    stories = site.page_stories(nid)
    first = stories[0]
    page = fetch(f"{server.base_url}{first.path}")
    assert page.status == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert parsedate_to_datetime(page.headers["date"]) == SERVER_NOW
    assert "age" not in page.headers
    title = escape(first.title)
    assert f'<meta property="og:title" content="{title}">' in page.text
    assert f'<h1 class="article-title">{title}</h1>' in page.text
    assert f'<link rel="canonical" href="{server.base_url}{first.path}">' in page.text
    assert f"<title>{title} | Arab News</title>" in page.text
    for story in stories:
        assert page.text.count(escape(story.title)) >= 3
        assert escape(story.body[-1]) in page.text
        assert f">{updated_text(story.updated_at, SERVER_NOW)}</time>" in page.text
    # Same server, other host name: a crawler must treat it as off-site.
    assert f"http://localhost:{server.port}/node/" in page.text
    assert "https://twitter.com/arabnews" in page.text


@pytest.mark.slow
def test_cached_page_has_age_and_stale_times(site: MirrorSite, server: MirrorServer) -> None:
    nid = _cached_page_with_relative_time(site)
    stories = site.page_stories(nid)
    page = fetch(f"{server.base_url}{stories[0].path}")
    age = int(page.headers["age"])
    assert age == site.cached_age(nid)
    rendered_at = parsedate_to_datetime(page.headers["date"]) - timedelta(seconds=age)
    for story in stories:
        assert f">{updated_text(story.updated_at, rendered_at)}</time>" in page.text
    fresh = updated_text(stories[0].updated_at, SERVER_NOW)
    assert f">{fresh}</time>" not in page.text


@pytest.mark.slow
def test_cached_copy_is_never_older_than_its_newest_story(site: MirrorSite) -> None:
    # Ten seconds after the site started, the freshest stories are younger than any cache.
    just_started = STARTED_AT + timedelta(seconds=10)
    with MirrorServer(site, clock=just_started.timestamp) as running:
        for nid in site.nids:
            age = site.cached_age(nid)
            newest = max(story.updated_at for story in site.page_stories(nid))
            newest_age = int((just_started - newest).total_seconds())
            if age is not None and newest_age < age:
                page = fetch(f"{running.base_url}{site.page_stories(nid)[0].path}")
                assert int(page.headers["age"]) == newest_age
                return
    raise AssertionError("no cached page holds a story fresher than its cache age")


@pytest.mark.slow
def test_caption_can_follow_the_headline(site: MirrorSite, server: MirrorServer) -> None:
    def first_story_html(nid: int) -> str:
        page = fetch(f"{server.base_url}{site.page_stories(nid)[0].path}").text
        return page.split('<div class="entry-content">', 1)[0]

    with_photo = [nid for nid in site.nids if site.page_stories(nid)[0].caption is not None]
    late = next(nid for nid in with_photo if site.layout(nid).caption_after_headline)
    early = next(nid for nid in with_photo if not site.layout(nid).caption_after_headline)
    late_html, early_html = first_story_html(late), first_story_html(early)
    assert late_html.index('class="article-title"') < late_html.index("<figcaption>")
    assert early_html.index("<figcaption>") < early_html.index('class="entry-date"')


@pytest.mark.slow
def test_both_markup_variants_are_served(site: MirrorSite, server: MirrorServer) -> None:
    containers = next(nid for nid in site.nids if site.markup_variant(nid) == "containers")
    boxed = fetch(f"{server.base_url}{site.page_stories(containers)[0].path}").text
    for story in site.page_stories(containers):
        assert f'<article class="node node-article" id="node-{story.nid}"' in boxed
    assert "story-separator" not in boxed

    flat = next(nid for nid in site.nids if site.markup_variant(nid) == "flat")
    stories = site.page_stories(flat)
    sibling = fetch(f"{server.base_url}{stories[0].path}").text
    assert "<article" not in sibling
    assert sibling.count('<hr class="story-separator">') == len(stories) - 1
    assert sibling.count('<h1 class="article-title">') == 1
    assert sibling.count('<h2 class="article-title">') == len(stories) - 1


@pytest.mark.slow
def test_node_urls_redirect_and_unknown_nids_are_missing(
    site: MirrorSite, server: MirrorServer
) -> None:
    article = site.all_articles()[3]
    bare = fetch(f"{server.base_url}/node/{article.nid}")
    assert bare.status == 301
    assert bare.headers["location"] == f"{server.base_url}{article.path}"
    assert fetch(f"{server.base_url}/node/{article.nid}/amp").status == 200
    tracked = fetch(f"{server.base_url}{article.path}?utm_source=rss&utm_medium=feed")
    assert tracked.status == 200
    assert fetch(f"{server.base_url}/node/999").status == 404
    assert fetch(f"{server.base_url}/no/such/page").status == 404


@pytest.mark.slow
def test_listing_page_links_section_articles(site: MirrorSite, server: MirrorServer) -> None:
    listing = fetch(f"{server.base_url}/saudiarabia")
    assert listing.status == 200
    hrefs = re.findall(r'<div class="article-item-title"><a href="([^"]+)">', listing.text)
    expected = [article.path for article in site.newest(20, ["saudi-arabia"])]
    assert hrefs == expected
    assert 'href="/search?q=x"' in listing.text


@pytest.mark.slow
def test_access_log_records_requests(site: MirrorSite, server: MirrorServer) -> None:
    assert fetch(f"{server.base_url}/_mirror/reset-log", method="POST").status == 200
    article = site.all_articles()[0]
    fetch(f"{server.base_url}/robots.txt")
    fetch(f"{server.base_url}/node/{article.nid}")
    fetch(f"{server.base_url}/missing")
    log = json.loads(fetch(f"{server.base_url}/_mirror/requests.json").text)
    host = f"127.0.0.1:{server.port}"
    times = [entry.pop("time") for entry in log]
    assert times == sorted(times)
    assert log == [
        {"method": "GET", "path": "/robots.txt", "host": host, "status": 200},
        {"method": "GET", "path": f"/node/{article.nid}", "host": host, "status": 301},
        {"method": "GET", "path": "/missing", "host": host, "status": 404},
    ]
    assert [{k: v for k, v in e.items() if k != "time"} for e in server.requests()] == log


@pytest.mark.slow
def test_truth_endpoint(site: MirrorSite, server: MirrorServer) -> None:
    assert json.loads(fetch(f"{server.base_url}/_mirror/truth.json").text) == site.truth()


@pytest.mark.slow
def test_edit_endpoint_changes_the_pages() -> None:
    small = MirrorSite(articles=12, seed=5, started_at=STARTED_AT)
    nid = FIRST_NID + 2
    with MirrorServer(small) as running:
        edit_url = f"{running.base_url}/_mirror/edit/{nid}"
        payload = {"title": "Edited headline for the test", "body": ["JEDDAH: Fresh text."]}
        assert fetch(edit_url, method="POST", payload=payload).status == 200
        page = fetch(f"{running.base_url}/node/{nid}")
        location = urlsplit(page.headers["location"]).path
        edited = fetch(f"{running.base_url}{location}").text
        assert '<h1 class="article-title">Edited headline for the test</h1>' in edited
        assert "<p>JEDDAH: Fresh text.</p>" in edited
        host_page = next(other for other in small.nids if nid in small.layout(other).story_nids[1:])
        host_path = small.page_stories(host_page)[0].path
        assert "Edited headline for the test" in fetch(f"{running.base_url}{host_path}").text
        assert fetch(edit_url, method="POST", payload={"body": "not a list"}).status == 400
        unknown = f"{running.base_url}/_mirror/edit/{FIRST_NID + 99}"
        assert fetch(unknown, method="POST", payload={"title": "x"}).status == 404


# --- command line ---


@pytest.mark.slow
def test_cli_serves_until_terminated() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), *sys.path])}
    command = [sys.executable, "-m", "newscrawl_mirror", "--port", "0", "--articles", "5"]
    with subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base_url)
        with urllib.request.urlopen(f"{base_url}/robots.txt", timeout=10) as response:
            assert response.read().decode().startswith("User-agent: *")
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0
    assert stdout == ""
    assert stderr == ""


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--articles", "-3"], "articles must be at least 1"),
        (["--port", "-1"], "port must be at least 0"),
        (["--seed", "-2"], "seed must be at least 0"),
        (["--crawl-delay", "-0.5"], "crawl delay must be 0 or more seconds"),
    ],
)
def test_cli_rejects_negative_numbers(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_other_site_is_linked_listed_redirected_to_and_named_canonical(
    site: MirrorSite, server: MirrorServer
) -> None:
    other = "http://127.0.0.1:9"
    with MirrorServer(site, clock=SERVER_NOW.timestamp, other_site=other) as pointing:
        plan = json.loads(fetch(f"{pointing.base_url}/_mirror/other-site.json").text)
        newest = [article.nid for article in site.newest(2)]
        assert plan == {
            "base_url": other,
            "redirected": newest[0],
            "canonical": newest[1],
            "listed": newest[1],
        }
        redirected = site.article(plan["redirected"])
        canonical = site.article(plan["canonical"])
        assert redirected is not None
        assert canonical is not None
        moved = fetch(f"{pointing.base_url}{redirected.path}")
        assert moved.status == 302
        assert moved.headers["location"] == f"{other}{redirected.path}"
        page = fetch(f"{pointing.base_url}{canonical.path}").text
        assert f'<link rel="canonical" href="{other}{canonical.path}">' in page
        assert f'<meta property="og:url" content="{other}{canonical.path}">' in page
        linked = site.page_stories(canonical.nid)[-1]
        assert f'<a href="{other}{linked.path}">Partner site</a>' in page
        rss = fetch(f"{pointing.base_url}/rss.xml").text
        elsewhere = [link for link in re.findall(r"<link>([^<?]+)", rss) if other in link]
        assert elsewhere == [f"{other}{canonical.path}"]
        sitemap = fetch(f"{pointing.base_url}/sitemap.xml?page=1").text
        assert re.findall(r"<loc>([^<]+)</loc>", sitemap).count(f"{other}{canonical.path}") == 1
    # Without the option, none of it.
    assert json.loads(fetch(f"{server.base_url}/_mirror/other-site.json").text) == {}
    assert "Partner site" not in fetch(f"{server.base_url}{canonical.path}").text
    assert fetch(f"{server.base_url}{redirected.path}").status == 200


def test_cli_other_site_takes_a_base_url() -> None:
    from newscrawl_mirror.server import build_parser

    parsed = build_parser().parse_args(["--other-site", "http://127.0.0.1:8081/"])
    assert parsed.other_site == "http://127.0.0.1:8081"
    for bad in ("127.0.0.1:8081", "ftp://h", "http://h/path"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["--other-site", bad])
