"""Story records: the crawl's output, its schema, times, and ``newscrawl split``."""

from __future__ import annotations

import copy
import gzip
import json
import logging
import subprocess
import sys
import urllib.request
from collections import defaultdict
from datetime import datetime
from functools import reduce
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from newscrawl.discover.spiders.arabnews import ArabNewsSpider
from newscrawl.discover.spiders.base import NewsSpider
from newscrawl.discover.spiders.sites import spider_class
from newscrawl.page.walk import build_page_record, parse_html, plain_page_record
from newscrawl.records.checks import schema_errors
from newscrawl.records.page import PageRecord
from newscrawl.records.story import STORY_SCHEMA, StoryRecord, schema_json
from newscrawl.sites import get_site
from newscrawl.sites.arabnews import ARABNEWS
from newscrawl.sites.files import load_site_file
from newscrawl.stories.content import stories_from_page, story_id
from newscrawl.stories.middleware import StorySplitMiddleware
from tests.conftest import Mirror
from tests.crawling import crawl, project_settings
from tests.test_split import CAMELS, LIBRARY, PORT, Story, html_page, plain_page

ROOT = Path(__file__).resolve().parent.parent
VALIDATOR = jsonschema.Draft202012Validator(
    STORY_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)


def when(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text)


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_crawl_emits_every_served_story_with_its_text_and_time(mirror: Mirror) -> None:
    await check_every_served_story(ArabNewsSpider, mirror)


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_the_french_editions_stories_come_whole_with_the_profile_its_file_declares(
    french_mirror: Mirror,
) -> None:
    # "Mis à jour il y a 3 heures 5 min", "Publié le Mercredi 14 juillet 2021", "Suivre",
    # "DUBAÏ:": the French edition's site file is all it takes.
    markups = []
    for article in french_mirror.truth()[:12]:
        url = french_mirror.base_url.rstrip("/") + article["path"]
        with urllib.request.urlopen(url, timeout=10) as reply:
            markups.append(reply.read().decode("utf-8"))
    assert all('<html lang="fr"' in markup and "Suivre" in markup for markup in markups)
    # Both forms of the time line: recent stories' and older ones'.
    assert any("Mis à jour il y a" in markup for markup in markups)
    assert any("Publié le" in markup for markup in markups)
    await check_every_served_story(spider_class(get_site("arabnews-fr")), french_mirror)


ARABIC_SITE = """
name = "arabic-shape"
base_url = "https://arabic.example/"
timezone = "Asia/Riyadh"
languages = ["ar"]
article_path = '/node/(?P<id>\\d+)(?:/(?P<slug>[a-z0-9][a-z0-9-]*))?/?'
article_ids = "drupal-node"
skip_path = '/amp/?$'
feeds = ["/rss.xml"]
sitemaps = ["/sitemap.xml"]

[split_hints]
widget_lines = ["تابعونا"]
"""


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_an_arabic_page_shapes_stories_come_whole_with_a_site_file_of_its_own(
    arabic_mirror: Mirror, tmp_path: Path
) -> None:
    # Right to left, "آخر تحديث منذ 3 ساعات و5 دقائق", Arabic datelines ("الرياض:"): a site
    # file of a dozen lines, with its language, its AMP copies to skip and its follow
    # widget's word.
    path = tmp_path / "arabic-shape.toml"
    path.write_text(ARABIC_SITE, encoding="utf-8")
    page = arabic_mirror.get("/_mirror/truth.json")[0]["path"]
    with urllib.request.urlopen(arabic_mirror.base_url.rstrip("/") + page, timeout=10) as reply:
        markup = reply.read().decode("utf-8")
    assert '<html lang="ar" dir="rtl">' in markup
    assert "آخر تحديث" in markup
    await check_every_served_story(spider_class(load_site_file(path)), arabic_mirror)


async def check_every_served_story(spidercls: type[NewsSpider], mirror: Mirror) -> None:
    # Every story of every page, duplicates included: the split alone, no dedup stage.
    settings = project_settings(ITEM_PIPELINES={}, NEWSCRAWL_INCREMENTAL=False)
    crawler, stories = await crawl(spidercls, settings, base_url=mirror.base_url)
    truth = {article["nid"]: article for article in mirror.truth()}
    by_page: dict[str, list[StoryRecord]] = defaultdict(list)
    for story in stories:
        assert isinstance(story, StoryRecord)
        by_page[story.page_url].append(story)

    served = 0
    for page_url, found in by_page.items():
        nid = int(page_url.split("/node/")[1].split("/")[0])
        expected = [truth[n] for n in [nid, *truth[nid]["appended"]]]
        served += len(expected)
        assert [s.title for s in found] == [e["title"] for e in expected], page_url
        for story, article in zip(found, expected, strict=True):
            assert story.body == article["body"]
            assert story.summary == article["summary"]
            assert story.dateline == article["dateline"]
            assert story.caption == article["caption"]
            # The parsed time holds the instant the mirror rendered it from.
            updated = story.updated
            assert updated["error"] is None, updated
            true_time = when(article["updated_at"])
            assert when(updated["earliest"]) <= true_time <= when(updated["latest"]), updated
            assert when(updated["earliest"]) <= when(updated["value"]) <= when(updated["latest"])
        assert found[0].id == f"{spidercls.site.name}:{nid}"
        assert [s.position for s in found] == list(range(len(found)))
    assert len(stories) == served > 0

    for story in stories:
        VALIDATOR.validate(story.to_record())
    stats = crawler.stats
    assert stats is not None
    assert stats.get_value("newscrawl/stories") == len(stories)
    assert stats.get_value("newscrawl/stories_per_page") == round(len(stories) / len(by_page), 2)
    # Both markup variants of the mirror were crawled and split alike.
    assert stats.get_value("newscrawl/split_mode/containers", 0) > 0
    assert stats.get_value("newscrawl/split_mode/shape", 0) > 0
    assert stats.get_value("newscrawl/pages/no_story", 0) == 0


def test_schema_file_is_generated_from_the_schema_module() -> None:
    path = ROOT / "newscrawl" / "story.schema.json"
    assert path.read_text(encoding="utf-8") == schema_json()
    assert set(STORY_SCHEMA["properties"]) == set(StoryRecord.__dataclass_fields__)
    assert STORY_SCHEMA["required"] == list(StoryRecord.__dataclass_fields__)


def test_schema_rejects_broken_records() -> None:
    page = plain_page_record(
        url="http://example.test/node/100/world",
        text=plain_page([CAMELS]),
        fetched_at="2025-03-05T10:00:00+00:00",
        site="arabnews",
    )
    record = stories_from_page(page, ARABNEWS).stories[0].to_record()
    VALIDATOR.validate(record)
    for broken in (
        {**record, "body": []},
        {**record, "title": ""},
        {**record, "extra": 1},
        {**record, "fetched_at": "2025-03-05T10:00:00"},  # no offset
        {**record, "updated": {**record["updated"], "precision": "fortnight"}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            VALIDATOR.validate(broken)


def valid_record() -> dict[str, Any]:
    page = plain_page_record(
        url="http://example.test/node/100/world",
        text=plain_page([CAMELS]),
        fetched_at="2025-03-05T10:00:00+00:00",
        site="arabnews",
    )
    return stories_from_page(page, ARABNEWS).stories[0].to_record()


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False)
    | st.sampled_from(
        [
            "",
            "x",
            "2025-03-05T10:00:00+00:00",
            "2025-03-05T10:00:00",
            "2025-02-30T10:00:00Z",
            "2025-03-05 10:00:00+00:00",
            "2025-03-05T25:00:00+03:00",
            "day",
            "exact",
            "relative",
        ]
    )
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a record a value can be put: its fields, nested ones included."""
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_compiled_schema_check_agrees_with_jsonschema(data: st.DataObject) -> None:
    # schema_errors trusts the compiled check when it finds a record valid: jsonschema
    # must find it valid too, whatever was broken in it, at whatever depth.
    record = valid_record()
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from(paths(record)))
        *parents, last = where
        target = record
        for step in parents:
            target = target[step]
        if data.draw(st.booleans()) and isinstance(target, dict):
            del target[last]
        else:
            target[last] = data.draw(JSON_VALUES)
    assert bool(schema_errors(record)) == (not VALIDATOR.is_valid(record))
    assert schema_errors(record) == [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(record)'}: {error.message}"
        for error in VALIDATOR.iter_errors(record)
    ]


@pytest.mark.parametrize(
    "moment",
    [
        "2025-03-05T10:00:00+00:00",
        "2025-03-05t10:00:00z",
        "2025-03-05T10:00:00",
        "2025-02-30T10:00:00Z",
        "2025-03-05T24:00:00Z",
        "2025-03-05 10:00:00+00:00",
        "2025-03-05T10:00:00.5+03:00",
        "2025-03-05T10:00:00+0300",
        "2025-03-05",
        "10:00:00Z",
    ],
)
def test_the_compiled_schema_check_reads_times_as_jsonschema_does(moment: str) -> None:
    record = valid_record()
    times = [
        where
        for where in paths(record)
        if isinstance(value := reduce(lambda target, step: target[step], where, record), str)
        and value[:4].isdigit()
        and "T" in value
    ]
    assert len(times) >= 3  # fetched_at and the updated time's instants at least
    for where in times:
        broken = copy.deepcopy(record)
        *parents, last = where
        reduce(lambda target, step: target[step], parents, broken)[last] = moment
        assert bool(schema_errors(broken)) == (not VALIDATOR.is_valid(broken)), where


def test_story_ids_come_from_the_node_id_else_a_text_hash() -> None:
    assert story_id("arabnews", "2600001", "Title", "Lead.") == "arabnews:2600001"
    hashed = story_id("arabnews", None, "Title", "Lead.")
    assert hashed.startswith("arabnews:sha256:")
    assert hashed == story_id("arabnews", None, " title ", "lead.")  # normalized text
    assert hashed != story_id("arabnews", None, "Title", "Another lead.")


def test_appended_story_gets_its_url_and_id_from_its_short_link() -> None:
    page = plain_page_record(
        url="http://example.test/node/100/world",
        text="",
        fetched_at="2025-03-05T10:00:00+00:00",
        site="arabnews",
    )
    from newscrawl.page.walk import parse_html, text_blocks

    root = parse_html(html_page([CAMELS, PORT, LIBRARY], "containers"))
    assert root is not None
    page.blocks = text_blocks(root, page.url)
    stories = stories_from_page(page, ARABNEWS).stories
    assert [s.url for s in stories] == [
        "http://example.test/node/100/world",
        None,  # PORT has no Short Url
        "http://example.test/node/102",
    ]
    assert stories[2].id == "arabnews:102"
    assert stories[1].id.startswith("arabnews:sha256:")
    assert stories[0].image_url == "http://example.test/img/0.jpg"


def test_page_without_story_is_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    crawler = get_crawler(ArabNewsSpider, project_settings())
    crawler.stats.open_spider()
    middleware = StorySplitMiddleware.from_crawler(crawler)
    page = plain_page_record(
        url="http://example.test/node/1/world",
        text="\n\n",
        fetched_at="2025-03-05T10:00:00+00:00",
        site="arabnews",
    )
    with caplog.at_level(logging.WARNING):
        assert middleware.split(page, ARABNEWS) == []
    assert crawler.stats.get_value("newscrawl/pages/no_story") == 1
    assert "No story on http://example.test/node/1/world" in caplog.text


def run_split(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newscrawl.cli", "split", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".txt", ".html"])
def test_split_command_prints_valid_story_records(tmp_path: Path, suffix: str) -> None:
    stories = [CAMELS, PORT, LIBRARY]
    path = tmp_path / f"page{suffix}"
    text = plain_page(stories) if suffix == ".txt" else html_page(stories, "flat")
    path.write_text(text, encoding="utf-8")
    result = run_split(
        str(path), "--fetched-at", "2025-03-05T10:00:00Z", "--url", "http://x.test/node/9"
    )
    assert result.returncode == 0, result.stderr
    records: list[dict[str, Any]] = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["title"] for r in records] == [s.title for s in stories]
    for record in records:
        VALIDATOR.validate(record)
        assert record["page_url"] == "http://x.test/node/9"
        assert record["fetched_at"] == "2025-03-05T10:00:00+00:00"
    # "Updated 12 min 40 sec ago" counted back from --fetched-at, exactly.
    assert records[0]["updated"]["value"] == "2025-03-05T09:47:20+00:00"
    assert records[0]["updated"]["anchor"] == {"at": "2025-03-05T10:00:00+00:00", "basis": "given"}


@pytest.mark.slow
def test_split_command_rejects_bad_input(tmp_path: Path) -> None:
    missing = run_split(str(tmp_path / "nope.txt"))
    assert missing.returncode == 2
    assert "No such file" in missing.stderr
    naive = run_split(str(tmp_path / "nope.txt"), "--fetched-at", "2025-03-05T10:00:00")
    assert naive.returncode == 2
    assert "has no UTC offset" in naive.stderr
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n", encoding="utf-8")
    nothing = run_split(str(empty))
    assert nothing.returncode == 1
    assert "no story" in nothing.stderr


@pytest.mark.slow
def test_split_command_reads_many_pages_and_folders_in_one_process(tmp_path: Path) -> None:
    folder = tmp_path / "saved"
    (folder / "older").mkdir(parents=True)
    (folder / "a.html").write_text(html_page([CAMELS, PORT], "flat"), encoding="utf-8")
    (folder / "older" / "b.txt.gz").write_bytes(
        gzip.compress(plain_page([LIBRARY]).encode("utf-8"))
    )
    (folder / "c.htm").write_text("<html><body><p>Menu</p></body></html>", encoding="utf-8")
    (folder / "notes.md").write_text("not a page", encoding="utf-8")
    alone = tmp_path / "d.html.gz"
    alone.write_bytes(gzip.compress(html_page([PORT], "flat").encode("utf-8")))
    when = ["--fetched-at", "2025-03-05T10:00:00Z"]
    result = run_split(str(folder), str(alone), "--per-page", *when)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [Path(line["file"]).name for line in lines] == [
        "a.html",
        "c.htm",
        "b.txt.gz",
        "d.html.gz",
    ]
    titles = [[story["title"] for story in line["stories"]] for line in lines]
    assert titles == [[CAMELS.title, PORT.title], [], [LIBRARY.title], [PORT.title]]
    for line in lines:
        for story in line["stories"]:
            VALIDATOR.validate(story)
            assert story["fetched_at"] == "2025-03-05T10:00:00+00:00"
    assert "no story in" in result.stderr
    assert "4 pages, 4 stories, 1 pages without a story" in result.stderr
    # Without --per-page: the same stories, a line each.
    flat = run_split(str(folder), str(alone), *when)
    flat_titles = [json.loads(line)["title"] for line in flat.stdout.splitlines()]
    assert flat_titles == [title for page in titles for title in page]
    # --url names one page only; a folder without pages is an error.
    assert run_split(str(folder), "--url", "http://x.test/1").returncode == 2
    (tmp_path / "none").mkdir()
    nothing = run_split(str(tmp_path / "none"))
    assert nothing.returncode == 2
    assert "no saved pages" in nothing.stderr


def fixture_page(**changes: Any) -> Any:
    page = plain_page_record(
        url="http://example.test/node/100/world",
        text=plain_page([CAMELS]),
        fetched_at="2025-03-05T10:00:00+00:00",
        site="arabnews",
    )
    for name, value in changes.items():
        setattr(page, name, value)
    return page


def test_listing_times_fill_in_for_missing_head_metadata() -> None:
    from newscrawl.stories.timestamps import given_anchor

    anchor = given_anchor(datetime.fromisoformat("2025-03-05T10:00:00+00:00"))
    feed = fixture_page(listed={"source": "feed", "time": "2025-03-05T08:00:00+00:00"})
    story = stories_from_page(feed, ARABNEWS, anchor).stories[0]
    assert story.published is not None
    assert story.published["source"] == "feed"
    assert story.published["value"] == "2025-03-05T08:00:00+00:00"
    sitemap = fixture_page(listed={"source": "sitemap", "time": "2025-03-05T09:47:00+00:00"})
    story = stories_from_page(sitemap, ARABNEWS, anchor).stories[0]
    assert story.updated_machine is not None
    assert story.updated_machine["source"] == "sitemap"
    # Head metadata, where the page has it, wins over the listing.
    both = fixture_page(
        listed={"source": "feed", "time": "2025-03-05T08:00:00+00:00"},
        meta={"article:published_time": "2025-03-05T07:30:00+00:00"},
    )
    story = stories_from_page(both, ARABNEWS, anchor).stories[0]
    assert story.published is not None
    assert story.published["source"] == "meta"


def test_a_news_sitemaps_publication_date_and_language_reach_the_story() -> None:
    from newscrawl.stories.timestamps import given_anchor

    anchor = given_anchor(datetime.fromisoformat("2025-03-05T10:00:00+00:00"))
    listed = {
        "source": "sitemap", "time": "2025-03-05T06:15:00+00:00", "kind": "publication",
        "title": CAMELS.title, "language": "fr",
    }  # fmt: skip
    story = stories_from_page(fixture_page(listed=listed), ARABNEWS, anchor).stories[0]
    assert story.published is not None
    assert (story.published["source"], story.published["value"]) == (
        "sitemap", "2025-03-05T06:15:00+00:00",
    )  # fmt: skip
    assert story.updated_machine is None  # a publication date, no change date
    assert story.language == "fr"  # the page names none of its own


def test_visible_and_machine_times_that_disagree_are_counted() -> None:
    from newscrawl.stories.timestamps import given_anchor

    anchor = given_anchor(datetime.fromisoformat("2025-03-05T10:00:00+00:00"))
    # Visible: 12 min 40 sec before the anchor. Metadata: an hour earlier still.
    wrong = fixture_page(meta={"article:modified_time": "2025-03-05T08:47:20+00:00"})
    found = stories_from_page(wrong, ARABNEWS, anchor)
    assert len(found.time_disagreements) == 1
    assert found.time_disagreements[0] == pytest.approx(3600, abs=2)
    story = found.stories[0]
    assert story.updated["source"] == "text"
    assert story.updated_machine is not None
    assert story.updated_machine["source"] == "meta"
    right = fixture_page(meta={"article:modified_time": "2025-03-05T09:47:20+00:00"})
    assert stories_from_page(right, ARABNEWS, anchor).time_disagreements == []


def page_with_head(stories: list[Story], head_title: str, *, og_title: bool = True) -> PageRecord:
    """A containers page whose head metadata describes the story titled ``head_title``."""
    head = (
        f"<head><title>{head_title} | Daily Example</title>"
        "<link rel='canonical' href='http://example.test/node/100/world'>"
        + (f"<meta property='og:title' content='{head_title}'>" if og_title else "")
        + "<meta property='og:image' content='http://example.test/img/head.jpg'>"
        "<meta property='article:published_time' content='2025-03-05T08:00:00+00:00'>"
        "</head>"
    )
    root = parse_html(html_page(stories, "containers").replace("<body>", head + "<body>", 1))
    assert root is not None
    return build_page_record(
        url="http://example.test/node/100",
        status=200,
        root=root,
        fetched_at="2025-03-05T10:00:00+00:00",
        response_date=None,
        response_age=None,
        site="arabnews",
    )


def test_head_metadata_goes_only_to_the_story_the_head_names() -> None:
    # <title> alone, with the site's name after the headline, still names the story.
    first = stories_from_page(page_with_head([PORT, LIBRARY], PORT.title, og_title=False), ARABNEWS)
    story = first.stories[0]
    assert story.url == "http://example.test/node/100/world"
    assert story.id == "arabnews:100"
    assert story.image_url == "http://example.test/img/head.jpg"
    assert story.published is not None
    assert story.published["source"] == "meta"
    # The head names a story the page's text does not start with: the first story found
    # is another one, and gets none of the page's own URL, image or times.
    lost = stories_from_page(page_with_head([PORT, LIBRARY], CAMELS.title), ARABNEWS).stories
    assert [s.title for s in lost] == [PORT.title, LIBRARY.title]
    assert lost[0].url is None  # PORT prints no Short Url
    assert lost[0].id.startswith("arabnews:sha256:")
    assert lost[0].image_url is None
    assert lost[0].published is None
    assert lost[0].updated["source"] == "text"


def test_the_head_names_its_story_by_content_not_to_the_letter() -> None:
    # Head titles are often the headline reworded a little (a word dropped or changed).
    words = PORT.title.split()
    reworded = " ".join([*words[:-1], "today"])  # 6 of its 7 words
    story = stories_from_page(page_with_head([PORT, LIBRARY], reworded), ARABNEWS).stories[0]
    assert story.published is not None
    assert story.id == "arabnews:100"
    # A head naming a widget line ("Search", "Log in") names none of a page's stories.
    first = stories_from_page(page_with_head([PORT, LIBRARY], "Search"), ARABNEWS).stories[0]
    assert first.published is None
    # A page's only story is the page's own, whatever its head calls it.
    only = stories_from_page(page_with_head([PORT], "Search"), ARABNEWS).stories[0]
    assert only.published is not None


def test_a_machine_time_stands_in_for_a_visible_time_that_cannot_be_read() -> None:
    from newscrawl.stories.timestamps import given_anchor

    anchor = given_anchor(datetime.fromisoformat("2025-03-05T10:00:00+00:00"))
    vague = Story(title=PORT.title, updated="Updated recently", body=PORT.body)
    page = page_with_head([vague], PORT.title)
    page.meta["article:modified_time"] = "2025-03-05T09:30:00+00:00"
    story = stories_from_page(page, ARABNEWS, anchor).stories[0]
    assert story.updated["source"] == "meta"
    assert story.updated["value"] == "2025-03-05T09:30:00+00:00"
    # Without one, the visible time is kept with its error, for the crawl to count.
    del page.meta["article:modified_time"]
    story = stories_from_page(page, ARABNEWS, anchor).stories[0]
    assert story.updated["raw"] == "Updated recently"
    assert story.updated["error"] == "unreadable"


def test_head_times_are_found_in_a_jsonld_graph() -> None:
    from newscrawl.stories.timestamps import given_anchor

    anchor = given_anchor(datetime.fromisoformat("2025-03-05T10:00:00+00:00"))
    article = {
        "@type": "NewsArticle",
        "datePublished": "2025-03-05T07:00:00+00:00",
        "dateModified": "2025-03-05T09:47:20+00:00",
    }
    graph = {"@context": "https://schema.org", "@graph": [{"@type": "WebSite"}, article]}
    story = stories_from_page(fixture_page(jsonld=[graph]), ARABNEWS, anchor).stories[0]
    assert story.published is not None
    assert story.published["source"] == "json-ld"
    assert story.published["value"] == "2025-03-05T07:00:00+00:00"
    assert story.updated_machine is not None
    assert story.updated_machine["value"] == "2025-03-05T09:47:20+00:00"
