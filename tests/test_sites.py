from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from newscrawl.sites import ANY_ARTICLE_PATH, SITES_PATH_ENV, SiteFileError, get_site, registry
from newscrawl.sites.arabnews import ARABNEWS
from newscrawl.sites.files import load_site_file
from newscrawl.sites.hints import DEFAULT_HINTS

ROOT = Path(__file__).resolve().parent.parent


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
    with pytest.raises(KeyError, match="known sites: arabnews, arabnews-fr"):
        get_site("nope")


# --- sites as data --------------------------------------------------------------------


SITE_FILE = """
name = "news-example"
base_url = "https://news.example/"
timezone = "Europe/Paris"
languages = ["fr", "en"]
article_path = '/(?:\\d{4}/\\d{2}/\\d{2}/)?[a-z0-9-]+-(?P<id>\\d+)\\.html'
feeds = ["/feed.xml"]
sections = ["/monde"]

[split_hints]
widget_lines = ["Suivre"]
"""


def write_site(folder: Path, text: str, name: str = "news-example") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def sites_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder of site files newscrawl reads beside its own, for this test only."""
    folder = tmp_path / "sites"
    folder.mkdir()
    monkeypatch.setenv(SITES_PATH_ENV, str(folder))
    registry.cache_clear()
    yield folder
    registry.cache_clear()


def test_a_site_file_declares_a_whole_profile(tmp_path: Path) -> None:
    site = load_site_file(write_site(tmp_path, SITE_FILE))
    assert (site.name, site.base_url, site.timezone, site.languages) == (
        "news-example", "https://news.example/", "Europe/Paris", ("fr", "en"),
    )  # fmt: skip
    assert site.discovery_urls(site.base_url)["feeds"] == ["https://news.example/feed.xml"]
    # Any URL shape: a date path and an .html suffix, kept as the site prints it.
    url = "https://news.example/2026/03/09/la-digue-sera-reconstruite-123456.html?utm_source=x"
    assert site.article_url(url) == url.partition("?")[0]
    assert site.article_id(url) == "123456"
    assert site.article_url("https://news.example/monde") is None
    # Split hints add to the defaults.
    assert "suivre" in site.split_hints.widget_lines
    assert DEFAULT_HINTS.widget_lines <= site.split_hints.widget_lines


def test_a_site_with_no_article_pattern_or_id_takes_slug_paths_as_articles(
    tmp_path: Path,
) -> None:
    text = (
        'name = "plain"\nbase_url = "https://plain.example"\ntimezone = "UTC"\nlanguages = ["en"]\n'
    )
    site = load_site_file(write_site(tmp_path, text, "plain"))
    story = "https://plain.example/world/some-story-title/"
    assert site.article_url(story) == story
    assert site.article_id(story) is None  # no id: the story's own text identifies it
    assert site.article_url("https://plain.example/world") is None


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ('name = "News Example"', "name"),
        ('base_url = "news.example"', "base_url"),
        ('timezone = "Europe/Pariss"', "timezone"),
        ('languages = ["xx"]', "languages"),
        ("languages = []", "languages"),
        ("article_path = '(unclosed'", "article_path"),
        ('feeds = ["feed.xml"]', "feeds"),
        ('encodings = ["no-such-codec"]', "encodings"),
        ('article_ids = "wordpress"', "article_ids"),
        ('timezone = "Europe"', "timezone"),  # a folder of zones, no zone
        ('listing_links = "a[["', "listing_links"),
        ('extra_hosts = ["https://news.example/"]', "extra_hosts"),
        ('langauges = ["fr"]', "langauges"),
    ],
)
def test_a_bad_site_file_names_the_file_and_the_key(tmp_path: Path, change: str, key: str) -> None:
    name = change.partition(" =")[0]
    lines = [line for line in SITE_FILE.splitlines() if not line.startswith(f"{name} =")]
    path = write_site(tmp_path, "\n".join([change, *lines]))
    with pytest.raises(SiteFileError) as caught:
        load_site_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: "), message
    assert "\n" not in message


def test_an_unknown_split_hint_and_a_missing_key_are_named(tmp_path: Path) -> None:
    with pytest.raises(SiteFileError, match=r": split_hints\.widget_words: unknown key"):
        load_site_file(write_site(tmp_path, SITE_FILE.replace("widget_lines", "widget_words")))
    with pytest.raises(SiteFileError, match=r": timezone: Field required"):
        load_site_file(write_site(tmp_path, SITE_FILE.replace('timezone = "Europe/Paris"', "")))
    with pytest.raises(SiteFileError, match=r": not TOML: "):
        load_site_file(write_site(tmp_path, "name = "))


def test_the_registry_holds_the_python_profiles_and_every_site_file(sites_dir: Path) -> None:
    write_site(sites_dir, SITE_FILE)
    assert {"arabnews", "arabnews-fr", "news-example"} <= set(registry())
    assert get_site("arabnews-fr").languages == ("fr",)
    assert get_site("news-example").timezone == "Europe/Paris"


def test_two_sites_of_one_name_are_an_error(sites_dir: Path) -> None:
    write_site(sites_dir, SITE_FILE.replace('"news-example"', '"arabnews"'), "copy")
    with pytest.raises(SiteFileError, match=r"copy\.toml: name: site 'arabnews' is already"):
        registry()


def run_scrapy_list(sites: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, SITES_PATH_ENV: str(sites)}
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "list"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.slow
def test_scrapy_lists_a_spider_for_every_configured_site(tmp_path: Path) -> None:
    write_site(tmp_path / "sites", SITE_FILE)
    listed = run_scrapy_list(tmp_path / "sites")
    assert listed.returncode == 0, listed.stderr
    # The news spider crawls sites with no profile.
    assert listed.stdout.split() == ["arabnews", "arabnews-fr", "news", "news-example"]


@pytest.mark.slow
def test_a_bad_site_file_stops_scrapy_with_one_line_and_status_2(tmp_path: Path) -> None:
    path = write_site(tmp_path / "sites", SITE_FILE.replace("Europe/Paris", "Mars/Olympus"))
    listed = run_scrapy_list(tmp_path / "sites")
    assert listed.returncode == 2
    assert listed.stderr.strip().splitlines() == [
        f"newscrawl: bad site file: {path}: timezone: unknown timezone 'Mars/Olympus' "
        "(an IANA name: Europe/Paris)"
    ]


@pytest.mark.slow
def test_the_demo_crawls_the_french_editions_mirror_as_its_site(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "newscrawl.cli", "demo", "--articles", "20", "--edition", "fr",
         "--output-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "(20 articles, edition fr)" in done.stdout
    assert "/arabnews-fr/" in done.stdout
    assert "distinct stories written: 20," in done.stdout


def test_a_language_with_its_region_is_read_as_the_language(tmp_path: Path) -> None:
    text = SITE_FILE.replace('languages = ["fr", "en"]', 'languages = ["pt-BR", "pt_PT", "EN-gb"]')
    assert load_site_file(write_site(tmp_path, text)).languages == ("pt", "en")


def test_a_folder_of_site_files_that_is_not_there_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SITES_PATH_ENV, str(tmp_path / "missing"))
    registry.cache_clear()
    try:
        with pytest.raises(SiteFileError, match="NEWSCRAWL_SITES: no such folder: "):
            registry()
    finally:
        registry.cache_clear()


@pytest.mark.parametrize(
    ("path", "article"),
    [
        ("/2026/03/09/la-digue-sera-reconstruite-123456/", True),
        ("/world/some-story-title/", True),
        ("/world/some-story-123456.html", True),
        ("/news/123456", True),
        ("/wp-content/uploads/2026/03/photo-1.jpg", False),
        ("/files/annual-report.pdf", False),
        ("/tag/sea-wall/", False),
        ("/author/jane-doe/", False),
        ("/category/world/", False),
        ("/2024", False),
        ("/world", False),
    ],
)
def test_a_site_with_no_article_pattern_takes_slug_and_id_paths_only(
    path: str, article: bool
) -> None:
    assert bool(ANY_ARTICLE_PATH.fullmatch(path)) is article


@pytest.mark.slow
def test_newscrawl_split_with_a_bad_site_file_says_so_in_one_line(tmp_path: Path) -> None:
    write_site(tmp_path / "sites", SITE_FILE.replace("Europe/Paris", "Europe"))
    page = tmp_path / "page.html"
    page.write_text("<html><body><h1>A headline</h1><p>Text.</p></body></html>", encoding="utf-8")
    env = {**os.environ, SITES_PATH_ENV: str(tmp_path / "sites")}
    done = subprocess.run(
        [sys.executable, "-m", "newscrawl.cli", "split", "--site", "news-example", str(page)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("newscrawl split: bad site file: ")
    assert line.endswith(
        "news-example.toml: timezone: unknown timezone 'Europe' (an IANA name: Europe/Paris)"
    )
