"""Fuzzing the pure core with hostile input ("Survive a hostile web").

The page-record builder, the story splitter and the timestamp reader get arbitrary
bytes, text, markup and anchors: no exception may escape, and what they return keeps
its promises. Well-formed pages, rendered by the mirror's own renderer from generated
stories, must lose no story and no paragraph. ``tests/fuzz_atheris.py`` runs the same
entry points under atheris for longer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import urlsplit

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newscrawl.page.walk import (
    BLOCK_TAGS,
    SKIPPED_TAGS,
    build_page_record,
    collapse,
    parse_html,
    plain_page_record,
)
from newscrawl.records.page import Block, PageRecord
from newscrawl.records.story import STORY_SCHEMA
from newscrawl.sites import get_site
from newscrawl.stories.content import stories_from_page
from newscrawl.stories.split import (
    BULLET,
    MIN_HEADLINE_CHARACTERS,
    MIN_HEADLINE_WORDS,
    MIN_TIMED_BODY,
    split_blocks,
)
from newscrawl.stories.timestamps import Anchor, Timestamp, anchor_from_headers, parse_timestamp
from newscrawl.text import clean_text
from newscrawl_mirror.content import FIRST_NID, Article, MarkupVariant, MirrorSite, PageLayout
from newscrawl_mirror.render import render_article_page

UTC = timezone.utc
SITE = get_site("arabnews")
BASE_URL = "https://www.arabnews.com"
PAGE_URL = f"{BASE_URL}/node/{FIRST_NID}/world"
RENDERED_AT = datetime(2025, 2, 6, 12, 0, tzinfo=UTC)
FETCHED_AT = RENDERED_AT.isoformat()
VALIDATOR = jsonschema.Draft202012Validator(
    STORY_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
ERRORS = {"empty", "unreadable", "too-coarse", "ambiguous", "future"}
PRECISIONS = {"second", "minute", "hour", "day", "week", "month", "year"}


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )


def is_url(text: str) -> bool:
    try:
        urlsplit(text)
    except ValueError:
        return False
    return True


def page_of(
    body: str | bytes,
    response_date: str | None = None,
    response_age: int | None = None,
    listed: dict[str, str] | None = None,
) -> PageRecord | None:
    """The page record the crawl would build from ``body``, if it holds HTML."""
    root = parse_html(body)
    if root is None:
        return None
    return build_page_record(
        url=PAGE_URL,
        status=200,
        root=root,
        fetched_at=FETCHED_AT,
        response_date=response_date,
        response_age=response_age,
        site=SITE.name,
        listed=listed,
    )


def check_page(page: PageRecord) -> None:
    """What any page record promises, and the stories split from it theirs."""
    json.dumps(page.to_record())
    for record, block in zip(page.to_record()["blocks"], page.blocks, strict=True):
        assert Block.from_record(record) == block
        assert block.text == collapse(block.text)
        assert block.text or block.tag in ("img", "")  # plain text keeps its blank lines
        assert block.tag != "img" or is_url(block.attrs["src"])
        assert is_url(block.attrs.get("href", ""))
    for url in (page.canonical_url, *page.links.values()):
        assert url is None or is_url(url)
    found = stories_from_page(page, SITE)
    for story in found.stories:
        VALIDATOR.validate(story.to_record())
        assert story.body == [clean_text(line) for line in story.body]


# --- Page records: arbitrary bytes, text and markup ---------------------------------------

# Tags the walker treats differently, tags it has never heard of, and odd spellings.
TAGS = st.sampled_from(
    [
        *sorted(BLOCK_TAGS | SKIPPED_TAGS),
        "span", "a", "b", "em", "img", "br", "font", "title", "meta", "link", "base", "html",
        "head", "body", "frameset", "input", "textarea", "x-widget", "svg:g", "P", "DiV", "H1",
    ]
)  # fmt: skip
ATTRIBUTE_NAMES = st.one_of(
    st.sampled_from(
        [
            "href", "src", "class", "id", "style", "hidden", "datetime", "data-nid", "alt",
            "lang", "rel", "property", "name", "content", "type", "itemprop", "charset",
        ]
    ),
    st.text("abcxyz-:_0\"'=<>/ ", min_size=1, max_size=8),
)  # fmt: skip
ATTRIBUTE_VALUES = st.one_of(
    st.sampled_from(
        [
            "http://[", "//[::1", "http://[::1]x/", "javascript:void(0)", "#top", "/node/2600002",
            f"{BASE_URL}/node/2600003/world", "display: none", "visibility:hidden", "caption",
            "share-widget summary", "article-title", "canonical", "og:url", "og:title", "",
            "article:modified_time", "application/ld+json", "Updated 5 min ago", " ",
            "9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "\x00", "\u202e", "utf-16",
        ]
    ),
    st.text(max_size=20),
    st.integers(1_000, 200_000).map(lambda n: "x" * n),  # huge attribute values
)  # fmt: skip
JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.text(max_size=10) | ATTRIBUTE_VALUES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["@type", "@graph", "dateModified", "datePublished"])
            | st.text(max_size=5),
            inner,
        )
    ),
    max_leaves=8,
)
# What the head says of the page's first story: its URL, title, image and times.
HEAD_ELEMENTS = st.one_of(
    st.builds(
        "<meta property='{}' content='{}'>".format,
        st.sampled_from(
            ["og:title", "og:url", "og:image", "article:modified_time", "article:published_time"]
        ),
        ATTRIBUTE_VALUES,
    ),
    st.builds(
        "<link rel='{}' href='{}'>".format,
        st.sampled_from(["canonical", "shortlink", "amphtml", "alternate image_src", ""]),
        ATTRIBUTE_VALUES,
    ),
    st.builds("<title>{}</title>".format, ATTRIBUTE_VALUES),
    (JSON.map(json.dumps) | st.text(max_size=20)).map(
        "<script type='application/ld+json'>{}</script>".format
    ),
)
LEAVES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "&nbsp;", "&amp;", "&#0;", "&#xD800;", "&#1114112;", "&#99999999999;", "&bogus;", "&",
            "<", "</", ">", "<!-- c -->", "<!--", "<![CDATA[x]]>", "<?php x ?>", "<!DOCTYPE html>",
            "\x00", "\r\n", "\u2028", "\u00a0", "\u200b", "Short Url", "Follow",
            "Updated 35 min 7 sec ago", "Updated 06 February 2025", "Publié le 14 juillet 2021",
        ]
    ),
    HEAD_ELEMENTS,
)  # fmt: skip


@st.composite
def attribute(draw: st.DrawFn) -> str:
    name, value = draw(ATTRIBUTE_NAMES), draw(ATTRIBUTE_VALUES)
    quote = draw(st.sampled_from(['"', "'", ""]))  # values are not escaped: broken on purpose
    return f" {name}={quote}{value}{quote}"


def element(tag: str, attributes: list[str], children: list[str], closed: bool) -> str:
    return f"<{tag}{''.join(attributes)}>{''.join(children)}" + (f"</{tag}>" if closed else "")


MARKUP = st.recursive(
    LEAVES,
    lambda children: st.builds(
        element, TAGS, st.lists(attribute(), max_size=4), st.lists(children, max_size=5),
        st.booleans(),
    ),
    max_leaves=40,
)  # fmt: skip
PREFIXES = st.sampled_from(
    [
        "", "<!DOCTYPE html>", "\ufeff", "<?xml version='1.0'?>", "<meta charset='utf-16'>",
        "<html lang='en'><head><title>Title</title></head><body>",
    ]
)  # fmt: skip
# Response headers as any server may send them, and what a feed or sitemap said.
RESPONSE_DATES = st.none() | st.text(max_size=40) | st.sampled_from(["", "Thu, 06 Feb 2025"])
RESPONSE_AGES = st.none() | st.integers(0, 2**40)
LISTED = st.none() | st.fixed_dictionaries(
    {"source": st.sampled_from(["feed", "sitemap"]), "time": st.text(max_size=40)}
)


def encoded(draw: st.DrawFn, text: str) -> str | bytes:
    """``text`` as is, or in some encoding with a few bytes spliced in somewhere."""
    encoding = draw(st.sampled_from(["text", "utf-8", "utf-16", "utf-16-le", "cp1252"]))
    if encoding == "text":
        return text
    data = text.encode(encoding, errors="replace")
    at = draw(st.integers(0, len(data)))
    return data[:at] + draw(st.binary(max_size=8)) + data[at:]


@st.composite
def documents(draw: st.DrawFn) -> str | bytes:
    return encoded(draw, draw(PREFIXES) + "".join(draw(st.lists(MARKUP, min_size=1, max_size=6))))


@fuzz(300)
@given(data=st.binary(max_size=2000))
def test_arbitrary_bytes_give_a_valid_page_or_none(data: bytes) -> None:
    page = page_of(data)
    if page is not None:
        check_page(page)


@fuzz(300)
@given(text=st.text(st.characters(exclude_categories=()), max_size=2000))  # surrogates too
def test_arbitrary_text_gives_a_valid_page_or_none(text: str) -> None:
    page = page_of(text)
    if page is not None:
        check_page(page)


@pytest.mark.slow  # whole pages rendered and read: seconds of examples
@fuzz(150)
@given(body=documents(), date=RESPONSE_DATES, age=RESPONSE_AGES, listed=LISTED)
def test_generated_markup_gives_a_valid_page_and_valid_stories(
    body: str | bytes, date: str | None, age: int | None, listed: dict[str, str] | None
) -> None:
    page = page_of(body, date, age, listed)
    if page is not None:
        check_page(page)


@fuzz(100)
@given(
    tag=st.sampled_from(["div", "section", "span", "b", "a", "li", "table", "p", "blockquote"]),
    depth=st.integers(0, 3000),
    closed=st.booleans(),
    text=st.text("abc xyz", min_size=1, max_size=20).map(collapse).filter(bool),
)
def test_deeply_nested_markup(tag: str, depth: int, closed: bool, text: str) -> None:
    body = f"<{tag} class='x'>" * depth + text + f"</{tag}>" * depth * closed
    page = page_of(f"<html><body>{body}</body></html>")
    assert page is not None
    check_page(page)
    # Runs of unclosed tags deeper than libxml2's 255 are flattened first: nothing is lost.
    if tag not in ("p", "table"):  # these two auto-close or move text
        assert any(text in block.text for block in page.blocks)


@fuzz(300)
@given(text=st.text(st.characters(exclude_categories=()), max_size=2000))
def test_plain_page_text_gives_valid_stories(text: str) -> None:
    check_page(plain_page_record(url=PAGE_URL, text=text, fetched_at=FETCHED_AT, site=SITE.name))


def test_links_that_are_no_urls_are_dropped() -> None:
    # urljoin raises ValueError for "http://[", and stories parse every URL they keep.
    page = page_of(
        "<html><head><title>Port opens</title><link rel='canonical' href='http://[x'>"
        "<meta property='og:url' content='http://['></head><body><h1>Port opens</h1>"
        "<time>Updated 5 min ago</time><p href='http://[x'>DAMMAM: The port opened.</p>"
        "<img src='http://[::1'><p><a href='//[::1'>Related</a></p></body></html>"
    )
    assert page is not None
    assert page.canonical_url is None
    assert page.links == {}
    assert all("href" not in block.attrs for block in page.blocks)
    assert "img" not in {block.tag for block in page.blocks}
    (story,) = stories_from_page(page, SITE).stories
    assert story.url == PAGE_URL
    assert story.body == ["DAMMAM: The port opened.", "Related"]


def test_og_url_is_made_absolute() -> None:
    page = page_of("<html><head><meta property='og:url' content='/node/7/world'></head></html>")
    assert page is not None
    assert page.canonical_url == f"{BASE_URL}/node/7/world"


def test_json_ld_nested_too_deep_is_skipped() -> None:
    deep = "[" * 100_000 + "]" * 100_000  # json.loads raises RecursionError on it
    page = page_of(
        f"<html><head><script type='application/ld+json'>{deep}</script>"
        '<script type=\'application/ld+json\'>{"@type": "NewsArticle"}</script></head></html>'
    )
    assert page is not None
    assert page.jsonld == [{"@type": "NewsArticle"}]


def test_an_empty_og_image_is_no_image() -> None:
    page = page_of(
        "<html><head><title>Port opens</title><meta property='og:image' content=' '></head>"
        "<body><h1>Port opens</h1><time>Updated 5 min ago</time><p>The port opened.</p>"
    )
    assert page is not None
    (story,) = stories_from_page(page, SITE).stories
    assert story.image_url is None
    VALIDATOR.validate(story.to_record())


# --- The splitter: arbitrary block lists ---------------------------------------------------

SEGMENTS = st.one_of(
    st.sampled_from(
        [
            "main[0]", "article.node[1]", "div.entry-content[2]", "nav[0]", "div.share-widget[3]",
            "ul.article-summary[0]", "footer[9]", "aside[1]",
        ]
    ),
    st.text(max_size=12),
)  # fmt: skip
BLOCK_TEXTS = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "", " ", "Short Url", "Follow", "• A summary line", "RIYADH: A dateline opens.",
            "(AFP)", "Updated 35 min 7 sec ago", "Updated 06 February 2025",
            "Published in 2019, a plan.", "Publié le 14 juillet 2021", "Headline printed thrice",
            "Caption of a photo. (AFP)",
        ]
    ),
)  # fmt: skip
BLOCKS = st.lists(
    st.builds(
        Block,
        text=BLOCK_TEXTS,
        tag=st.sampled_from(["", "p", "h1", "h2", "li", "time", "img", "figcaption", "div"])
        | st.text(max_size=5),
        classes=st.lists(
            st.sampled_from(["share", "summary", "caption", "related", "lead"])
            | st.text(max_size=8),
            max_size=3,
        ).map(tuple),
        # Deeper than any tree lxml builds (it stops at 255 elements).
        path=st.lists(SEGMENTS, max_size=300).map(tuple),
        attrs=st.dictionaries(
            st.sampled_from(["href", "src", "datetime", "id"]), st.text(max_size=30), max_size=3
        ),
    ),
    max_size=60,
)


@fuzz(200)
@given(blocks=BLOCKS)
def test_arbitrary_blocks_split_into_stories_made_of_their_lines(blocks: list[Block]) -> None:
    split = split_blocks(blocks)
    lines = {block.text.strip() for block in blocks}
    for story in split.stories:
        assert story.title in lines
        assert story.body
        assert set(story.body) <= lines
        assert all(line in {BULLET.sub("", text) for text in lines} for line in story.summary)
        assert story.caption is None or story.caption in lines
        assert story.updated_raw is None or story.updated_raw in lines
        assert story.dateline is None or story.body[0].startswith(story.dateline)


# --- Timestamps: arbitrary text, anchors at the ends of time -------------------------------

EDGES = [
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(1, 1, 2, 3, 0, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(9999, 12, 30, tzinfo=UTC),
]
ANCHORS = st.builds(
    Anchor,
    at=st.sampled_from(EDGES) | st.datetimes(timezones=st.just(UTC)),
    basis=st.sampled_from(["date-age", "date", "received", "given"]),
    slack_before=st.sampled_from([0.0, 1.0, 180.0]) | st.floats(0, 1e300),
    slack_after=st.sampled_from([0.0, 1.0]) | st.floats(0, 1e300),
)
LANGUAGES = st.sampled_from(
    [SITE.languages, ("fr",), ("ar",), ("en", "fr"), ("ar", "en"), ("en", "fr", "ar")]
)
# The site's zone, the zones furthest from UTC either way, and one with DST.
ZONES = st.sampled_from([SITE.timezone, "UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Europe/Paris"])
TIME_WORDS = st.sampled_from(
    [
        "Updated", "Publié le", "آخر تحديث", "ago", "il y a", "منذ", "min", "sec", "hours", "jours",
        "ساعتين", "دقائق", "yesterday", "hier", "امس", "today", "at", "pm", "à", ":", "/", "-",
        "T", "Z", "+14:00", "-12:00", "9999", "0001", "0", "31", "12", "99999999", "December",
        "décembre", "ديسمبر", "February", "29", "24:00", "23:59:59", "٣١", "١٢", ",", "·",
    ]
)  # fmt: skip
MONTHS = ["January", "February", "March", "décembre", "juillet", "ديسمبر", "يناير"]


@st.composite
def printed_times(draw: st.DrawFn) -> str:
    """Times in the shapes a page prints, for instants anywhere in datetime's range."""
    moment = draw(st.datetimes())
    unit = draw(st.sampled_from(["sec", "min", "hours", "days", "weeks", "months", "years"]))
    count = draw(st.integers(0, 10**7))
    return draw(
        st.sampled_from(
            [
                moment.isoformat() + draw(st.sampled_from(["", "Z", "+14:00", "-12:00"])),
                f"{moment.day} {draw(st.sampled_from(MONTHS))} {moment.year:04d} {moment:%H:%M}",
                f"Updated {moment:%d/%m/%Y %H:%M}",
                f"Updated {count} {unit} ago",
                f"Updated {count} {unit} {draw(st.integers(0, 59))} sec ago",
                f"{moment.day:02d}.{moment.month:02d}.{moment.year % 100:02d}",
                f"{moment:%H:%M}",
            ]
        )
    )


TIME_TEXTS = st.one_of(
    st.text(max_size=100), st.lists(TIME_WORDS, max_size=8).map(" ".join), printed_times()
)


def check_timestamp(found: Timestamp) -> None:
    json.dumps(found.to_record())
    if found.value is None:
        assert found.error in ERRORS
        assert (found.earliest, found.latest, found.precision) == (None, None, None)
        return
    assert found.error is None
    assert found.precision in PRECISIONS
    assert found.earliest is not None
    assert found.latest is not None
    for moment in (found.earliest, found.value, found.latest):
        assert moment.utcoffset() == timedelta(0)
    assert found.earliest <= found.value <= found.latest


@fuzz(500)
@given(text=TIME_TEXTS, anchor=ANCHORS, zone=ZONES, languages=LANGUAGES)
def test_any_text_at_any_anchor_reads_as_an_honest_interval_or_an_error(
    text: str, anchor: Anchor, zone: str, languages: tuple[str, ...]
) -> None:
    found = parse_timestamp(text, anchor=anchor, timezone=zone, languages=languages)
    assert found.raw == text.strip()
    check_timestamp(found)


@st.composite
def http_dates(draw: st.DrawFn) -> str:
    """Date headers for any instant, with any offset: some of them past year 9999 in UTC."""
    offset = timezone(timedelta(minutes=draw(st.integers(-24 * 60 + 1, 24 * 60 - 1))))
    return format_datetime(draw(st.datetimes(timezones=st.just(offset))))


@fuzz(300)
@given(
    date=st.none() | st.text(max_size=40) | st.binary(max_size=40) | http_dates(),
    age=st.one_of(
        st.none(),
        st.text(max_size=12),
        st.binary(max_size=12),
        st.integers(0, 2**40).map(str),
        st.integers(1, 6000).map(lambda digits: "9" * digits),  # past int()'s 4300 digits
    ),
    # Our own receive clock: never within 68 years (the largest Age) of year 1 or 9999.
    received=st.datetimes(datetime(1900, 1, 1), datetime(9000, 1, 1), timezones=st.just(UTC)),
)
def test_any_date_and_age_headers_give_an_anchor_near_the_receive_clock(
    date: str | bytes | None, age: str | bytes | None, received: datetime
) -> None:
    anchor = anchor_from_headers(date, age, received)
    assert anchor.at.utcoffset() == timedelta(0)
    assert anchor.basis in ("date-age", "date", "received")
    assert anchor.at - received <= timedelta(days=1)
    assert received - anchor.at <= timedelta(days=1, seconds=2**31)


def test_a_date_header_past_year_9999_in_utc_is_no_date() -> None:
    received = datetime(2025, 2, 6, 12, 0, tzinfo=UTC)
    anchor = anchor_from_headers("Fri, 31 Dec 9999 23:59:59 -1200", "30", received)
    assert (anchor.at, anchor.basis) == (received - timedelta(seconds=30), "received")


def test_an_age_header_of_thousands_of_digits_is_capped() -> None:
    received = datetime(2025, 2, 6, 12, 0, tzinfo=UTC)
    anchor = anchor_from_headers(None, "9" * 5000, received)
    assert anchor.at == received - timedelta(seconds=2**31)
    assert anchor_from_headers(None, "0" * 5000 + "30", received).at == received - timedelta(
        seconds=30
    )


def test_anchors_at_the_ends_of_time() -> None:
    first = Anchor(datetime(1, 1, 1, tzinfo=UTC), "date", 1.0, 1.0)
    last = Anchor(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), "given", 0.0, 0.0)
    huge = Anchor(RENDERED_AT, "received", 1e300, 0.0)
    for anchor in (first, huge):
        found = parse_timestamp("Updated 5 min ago", anchor=anchor, timezone="UTC")
        assert found.error == "unreadable"  # its render window runs past year 1
    found = parse_timestamp("Updated 5 min ago", anchor=last, timezone="UTC")
    assert found.value == last.at - timedelta(minutes=5)
    found = parse_timestamp("30 December 9999", anchor=last, timezone="UTC")
    assert found.value == datetime(9999, 12, 30, tzinfo=UTC)
    found = parse_timestamp("31 December 9999", anchor=last, timezone="UTC")
    assert found.error == "unreadable"  # the day ends past year 9999


# --- No paragraph of a well-formed story is lost -----------------------------------------

# Realistic text: Latin letters with French accents, some Arabic, digits and punctuation.
# No colon: capitals before a colon open a dateline, which a generated dateline covers.
LETTERS = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" + "éèêàâçôîûœÉÀÇ" + "ابتجدرسعلمنهوي"
)
WORD = st.text(LETTERS + "0123456789", min_size=1, max_size=10)
INNER_WORD = st.one_of(WORD, WORD.map(lambda w: w + ","), WORD.map(lambda w: f"“{w}”"))


def words(low: int, high: int) -> st.SearchStrategy[str]:
    rest = st.lists(INNER_WORD, min_size=low - 1, max_size=high - 1)
    return st.builds(lambda first, more: " ".join([first, *more]), WORD, rest)


SENTENCE = st.builds(lambda text, end: text + end, words(3, 30), st.sampled_from(".!?"))
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=3).map(" ".join)
DATELINE = st.sampled_from(["RIYADH", "AL-ULA", "NEW YORK", "Stockholm", "ATHÈNES"])


@dataclass
class GeneratedStory:
    title: str
    summary: list[str]
    glyph: bool
    dateline: str | None
    body: list[str]
    caption: str | None
    age: int  # seconds between the update and the render


# A story as the site prints one: a headline of a few words and a body of a sentence or
# more (shorter ones, after a page's first story, read as its furniture: "Comments").
STORY = st.builds(
    GeneratedStory,
    title=words(MIN_HEADLINE_WORDS, 14).filter(lambda t: len(t) >= MIN_HEADLINE_CHARACTERS),
    # The site's summary lines end bare, and it prints each once.
    summary=st.lists(words(3, 15), max_size=3, unique=True),
    glyph=st.booleans(),
    dateline=st.none() | DATELINE,
    # Paragraphs after the lead now and then printed again. A text printed twice right
    # after a caption reads as a headline printed around its photo, so the lead is not.
    body=st.lists(PARAGRAPH, min_size=1, max_size=6, unique=True).flatmap(
        lambda body: (
            st.lists(st.sampled_from(body[1:]), max_size=2).map(lambda a: body + a)
            if body[1:]
            else st.just(body)
        )
    ),
    caption=st.none() | st.builds(lambda s, c: s + c, SENTENCE, st.sampled_from(["", " (AFP)"])),
    age=st.integers(0, 3 * 365 * 86_400),
).filter(lambda story: sum(map(len, story.body)) >= MIN_TIMED_BODY)


def roles_apart(stories: list[GeneratedStory]) -> bool:
    """No text is both a headline, a summary line, a caption or a paragraph on the page."""
    roles = [
        {clean_text(story.title) for story in stories},
        {clean_text(line) for story in stories for line in story.summary},
        {clean_text(story.caption) for story in stories if story.caption},
        {clean_text(paragraph) for story in stories for paragraph in story.body},
    ]
    return sum(map(len, roles)) == len(set().union(*roles))


@st.composite
def page_stories(draw: st.DrawFn) -> list[GeneratedStory]:
    """One to six stories; appended ones may share the first one's headline, summary,
    caption or body, as stories on the site do."""
    first, *appended = draw(st.lists(STORY, min_size=1, max_size=6))
    shared = draw(st.sets(st.sampled_from(["title", "summary", "caption", "body"])))
    return [first, *(replace(s, **{k: getattr(first, k) for k in shared}) for s in appended)]


# The splitter tells a headline, a summary line or a caption from a paragraph by its text
# alone: one text in two roles ("0 0 0" as headline and summary line) cannot be told apart.
PAGE_STORIES = page_stories().filter(roles_apart)


@dataclass
class PageShape:
    variant: MarkupVariant
    caption_after_headline: bool
    time_datetime_attr: bool
    short_urls: list[bool]
    cached_age: int | None


SHAPES = st.builds(
    PageShape,
    variant=st.sampled_from(["containers", "flat"]),
    caption_after_headline=st.booleans(),
    time_datetime_attr=st.booleans(),
    short_urls=st.lists(st.booleans(), min_size=6, max_size=6),
    cached_age=st.none() | st.integers(30, 900),
)


class GeneratedSite(MirrorSite):
    """A mirror site whose one article page shows the generated stories."""

    def __init__(self, stories: Sequence[Article], layout: PageLayout) -> None:
        super().__init__(articles=1, seed=0, started_at=RENDERED_AT)
        self.stories = list(stories)
        self.page_layout = layout

    def layout(self, nid: int) -> PageLayout:
        return self.page_layout

    def page_stories(self, nid: int) -> list[Article]:
        return self.stories


def render(stories: list[GeneratedStory], shape: PageShape) -> tuple[list[Article], str]:
    """The articles and the page the mirror renders for them."""
    articles = [
        Article(
            nid=FIRST_NID + n,
            section="world",
            title=story.title,
            summary=tuple(story.summary),
            summary_glyph=story.glyph,
            dateline=story.dateline,
            body=(
                f"{story.dateline}: {story.body[0]}" if story.dateline else story.body[0],
                *story.body[1:],
            ),
            caption=story.caption,
            image_url=f"/sites/default/files/{n}.jpg" if story.caption else None,
            published_at=RENDERED_AT - timedelta(seconds=story.age),
            updated_at=RENDERED_AT - timedelta(seconds=story.age),
        )
        for n, story in enumerate(stories)
    ]
    short_urls = dict(zip(range(FIRST_NID, FIRST_NID + 6), shape.short_urls, strict=True))
    layout = PageLayout(
        nid=FIRST_NID,
        story_nids=tuple(article.nid for article in articles),
        variant=shape.variant,
        cached_age=shape.cached_age,
        caption_after_headline=shape.caption_after_headline,
        time_datetime_attr=shape.time_datetime_attr,
        short_url_nids=frozenset(article.nid for article in articles if short_urls[article.nid]),
    )
    return articles, render_article_page(
        GeneratedSite(articles, layout), FIRST_NID, BASE_URL, RENDERED_AT
    )


def served(markup: str, shape: PageShape) -> PageRecord | None:
    """The page record of ``markup`` served as the mirror serves it (Date, Age headers)."""
    age = shape.cached_age or 0
    date = format_datetime(RENDERED_AT + timedelta(seconds=age), usegmt=True)
    return page_of(markup.encode("utf-8"), date, shape.cached_age)


@pytest.mark.slow  # whole pages rendered and read: seconds of examples
@fuzz(100)
@given(stories=PAGE_STORIES, shape=SHAPES)
def test_well_formed_pages_lose_no_story_and_no_paragraph(
    stories: list[GeneratedStory], shape: PageShape
) -> None:
    articles, markup = render(stories, shape)
    page = served(markup, shape)
    assert page is not None
    found = stories_from_page(page, SITE)
    titles = [clean_text(article.title) for article in articles]
    assert [story.title for story in found.stories] == titles, found.split.skipped
    for story, article in zip(found.stories, articles, strict=True):
        for paragraph in article.body:
            assert clean_text(paragraph) in story.body, (paragraph, story.body)
        assert story.body == [clean_text(p) for p in article.body]
        assert story.summary == [clean_text(line) for line in article.summary]
        assert story.caption == (clean_text(article.caption) if article.caption else None)
        assert story.dateline == article.dateline
        updated = story.updated
        assert updated["error"] is None, updated
        assert updated["earliest"] is not None
        assert updated["latest"] is not None
        earliest = datetime.fromisoformat(updated["earliest"])
        latest = datetime.fromisoformat(updated["latest"])
        assert earliest <= article.updated_at <= latest


@st.composite
def damaged_pages(draw: st.DrawFn) -> str | bytes:
    """A real page with hostile markup spliced in anywhere, cut short now and then."""
    _, markup = render(draw(PAGE_STORIES), draw(SHAPES))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(markup)))
        markup = markup[:at] + draw(MARKUP) + markup[at:]
    return encoded(
        draw, markup[: draw(st.integers(0, len(markup)))] if draw(st.booleans()) else markup
    )


@pytest.mark.slow  # whole pages rendered and read: seconds of examples
@fuzz(80)
@given(body=damaged_pages(), date=RESPONSE_DATES, age=RESPONSE_AGES, listed=LISTED)
def test_damaged_real_pages_give_a_valid_page_and_valid_stories(
    body: str | bytes, date: str | None, age: int | None, listed: dict[str, str] | None
) -> None:
    page = page_of(body, date, age, listed)
    if page is not None:
        check_page(page)
