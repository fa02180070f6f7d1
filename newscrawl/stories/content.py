"""Story records: a page record split into stories, cleaned, with resolved times.

Pure functions (no Scrapy): page → split → clean → time. The crawl calls them from a
spider middleware, ``newscrawl split`` from the command line.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from newscrawl.records.page import PageRecord
from newscrawl.records.story import PRECISIONS, StoryRecord, TimeRecord
from newscrawl.sites import SiteProfile, origin
from newscrawl.stories.split import (
    WORD,
    Split,
    StoryParts,
    byline_names,
    matches_head,
    split_blocks,
)
from newscrawl.stories.timestamps import (
    Anchor,
    Timestamp,
    anchor_from_headers,
    disagreement,
    parse_timestamp,
    reading_languages,
    script_language,
)
from newscrawl.text import clean_lines, clean_optional, clean_text, normalize


@dataclass
class PageStories:
    """What one page gave: its stories, and what the splitter left out and why."""

    stories: list[StoryRecord]
    split: Split
    # Seconds by which a story's visible time and its machine-readable time disagree,
    # beyond both error bars (one entry per story where they do).
    time_disagreements: list[float]


def story_id(site: str, article_id: str | None, title: str, first_paragraph: str) -> str:
    """Stable id: the site's article id when known, else a hash of the story's text."""
    if article_id is not None:
        return f"{site}:{article_id}"
    digest = hashlib.sha256(
        "\x1f".join((site, normalize(title), normalize(first_paragraph))).encode("utf-8")
    ).hexdigest()
    return f"{site}:sha256:{digest[:24]}"


def page_anchor(page: PageRecord) -> Anchor:
    """The instant the page was rendered: its Date header minus its Age header."""
    received = datetime.fromisoformat(page.fetched_at)
    age = str(page.response_age) if page.response_age is not None else None
    return anchor_from_headers(page.response_date, age, received)


def _head_titles(page: PageRecord) -> list[str]:
    """The page's own headline as its head names it: og:title, <title>, JSON-LD."""
    named = [t for t in (page.meta.get("og:title"), page.title) if t]
    named += [
        str(entry["headline"])
        for entry in _jsonld_entries(page.jsonld)
        if isinstance(entry.get("headline"), str)
    ]
    return named


def _is_page_story(page: PageRecord, title: str) -> bool:
    """Is this story the one the page's head describes? A page whose head names no title
    (plain page text) has nothing to contradict it."""
    named = _head_titles(page)
    return not named or matches_head(title, named)


# Share of the words of the head's description that a story's text must hold.
_DESCRIPTION_MATCH = 0.6


def _described(page: PageRecord, text: list[str]) -> bool:
    """Does the page's head describe this story (its og:description, description or
    JSON-LD description mostly in the story's opening paragraphs)? A story matched by
    content where its headline differs from the head's."""
    descriptions = [page.meta.get(key) for key in ("og:description", "description")]
    descriptions += [
        entry["description"]
        for entry in _jsonld_entries(page.jsonld)
        if isinstance(entry.get("description"), str)
    ]
    opening = _words(" ".join(text[:4]))
    for description in filter(None, descriptions):
        words = _words(str(description))
        if len(words) >= 5 and len(words & opening) >= _DESCRIPTION_MATCH * len(words):
            return True
    return False


def _on_page_origin(url: str, page: PageRecord) -> bool:
    """Is ``url`` on the page's own site (scheme, host and port)? A page on another site
    cannot name a story's URL, or through it the story's id. A page read from a file
    (``newscrawl split`` without ``--url``) has no site to hold its links to."""
    home = origin(page.url)
    return home is None or origin(url) == home


def _story_url(parts: StoryParts, is_head: bool, page: PageRecord, site: SiteProfile) -> str | None:
    canonical = page.canonical_url
    if canonical and not _on_page_origin(canonical, page):
        canonical = None  # a canonical URL on another site is never the story's
    if is_head:
        return canonical or page.url
    own = {site.article_id(u) for u in (page.url, canonical) if u}
    for href in parts.links:
        url = site.article_url(href)
        # An appended story is never the page's own article (a widget links to that).
        if url is not None and _on_page_origin(url, page) and site.article_id(url) not in own:
            return url
    return None


# Where pages' heads state their story's times, most specific first (compared without
# case): Open Graph and article:*, schema.org microdata, Dublin Core, parse.ly, sailthru.
PUBLISHED_KEYS = (
    "article:published_time", "og:article:published_time", "og:published_time",
    "datepublished", "article:published", "pubdate", "publishdate", "publish-date",
    "publish_date", "dc.date.issued", "dcterms.issued", "dc.date.created", "dcterms.created",
    "datecreated", "parsely-pub-date", "sailthru.date", "date",
)  # fmt: skip
MODIFIED_KEYS = (
    "article:modified_time", "og:article:modified_time", "og:updated_time", "datemodified",
    "dc.date.modified", "dcterms.modified", "last-modified",
)  # fmt: skip


def _head_time(
    page: PageRecord, meta_keys: tuple[str, ...], jsonld_key: str
) -> tuple[str, str] | None:
    """A machine-readable time of the page's first story, with where it came from."""
    for entry in _story_entries(page):
        if isinstance(entry.get(jsonld_key), str):
            return entry[jsonld_key], "json-ld"
    meta = _folded_meta(page)
    for key in meta_keys:
        if key in meta:
            return meta[key], "meta"
    for entry in _jsonld_entries(page.jsonld):
        if isinstance(entry.get(jsonld_key), str):
            return entry[jsonld_key], "json-ld"
    return None


def _folded_meta(page: PageRecord) -> dict[str, str]:
    """The page's meta tags with keys compared without case, empty ones left out."""
    return {key.casefold(): value for key, value in page.meta.items() if value}


def _story_entries(page: PageRecord) -> Iterator[dict[str, Any]]:
    """The page's JSON-LD objects that are stories (Article and its subtypes)."""
    return (entry for entry in _jsonld_entries(page.jsonld) if _is_story_entry(entry))


# JSON-LD types of a story (schema.org's Article and its news subtypes).
_STORY_TYPES = frozenset(
    {
        "article", "newsarticle", "reportage", "analysisnewsarticle", "opinionnewsarticle",
        "reviewnewsarticle", "backgroundnewsarticle", "blogposting", "liveblogposting",
        "report", "scholarlyarticle", "techarticle", "socialmediaposting",
    }
)  # fmt: skip


def _is_story_entry(entry: dict[str, Any]) -> bool:
    kinds = entry.get("@type")
    names = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(name, str) and name.casefold() in _STORY_TYPES for name in names)


def _jsonld_entries(jsonld: list[Any]) -> Iterator[dict[str, Any]]:
    """The JSON-LD objects of a page: top-level ones, in lists or in an ``@graph``."""
    for data in jsonld:
        for entry in data if isinstance(data, list) else [data]:
            if isinstance(entry, dict):
                yield entry
                graph = entry.get("@graph")
                if isinstance(graph, list):
                    yield from (item for item in graph if isinstance(item, dict))


def _time(
    raw: str | None, source: str, anchor: Anchor, site: SiteProfile, languages: tuple[str, ...]
) -> Timestamp | None:
    if not raw:
        return None
    found = parse_timestamp(
        raw, anchor=anchor, timezone=site.timezone, languages=languages, source=source
    )
    if found.value is not None or source not in ("meta", "json-ld"):
        return found
    # A head's time printed for people: in another script than the page's language is
    # written in, or cut short ("Wed, 07 October 2020 - 12:"), read as far as it reads.
    if (code := script_language(raw)) and code not in languages:
        return _time(raw, source, anchor, site, (code, *languages))
    if day := _UP_TO_YEAR.match(raw):
        shorter = parse_timestamp(
            day[0], anchor=anchor, timezone=site.timezone, languages=languages, source=source
        )
        return shorter if shorter.value is not None else found
    return found


_UP_TO_YEAR = re.compile(r".*?(?<!\d)(?:19|20)\d{2}(?!\d)")


# A day in a story's URL path: /2020/08/24/, /20200824/, /2020-08-24/.
_URL_DAY = re.compile(r"/((?:19|20)\d{2})([/-]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?=[/._-])")


def url_date(url: str) -> str | None:
    """The day a story's URL names in its path (many sites file stories by day), as
    ``YYYY-MM-DD``; None where it names none."""
    path = url.split("?")[0].split("#")[0]
    found = _URL_DAY.search(path)
    return f"{found[1]}-{found[3]}-{found[4]}" if found else None


# Meta keys that name a story's authors (compared without case).
AUTHOR_KEYS = ("author", "article:author", "byl", "parsely-author", "sailthru.author",
               "dc.creator", "dcterms.creator", "citation_author")  # fmt: skip


def _names(value: Any) -> list[str]:
    """Author names in a JSON-LD ``author`` (text, a Person or Organization, or a list)."""
    if isinstance(value, list):
        return [name for item in value for name in _names(item)]
    if isinstance(value, dict):
        value = value.get("name")
    if not isinstance(value, str) or "://" in value:
        return []  # a profile URL names no one
    return byline_names(value.strip())


def _head_authors(page: PageRecord) -> list[str]:
    """The first story's authors as the page's head names them: story-typed JSON-LD,
    else meta tags."""
    for entry in _story_entries(page):
        if names := _names(entry.get("author")):
            return names
    meta = _folded_meta(page)
    for key in AUTHOR_KEYS:
        if names := _names(meta.get(key)):
            return names
    return []


def _head_section(page: PageRecord) -> str | None:
    """The section the page's head files its story under."""
    for entry in _story_entries(page):
        named = entry.get("articleSection")
        if isinstance(named, list):
            named = next((n for n in named if isinstance(n, str) and n.strip()), None)
        if isinstance(named, str) and clean_text(named):
            return clean_text(named)
    return clean_optional(page.meta.get("article:section") or None)


def _clean_names(names: list[str]) -> list[str]:
    kept: list[str] = []
    for name in map(clean_text, names):
        if name and name not in kept:
            kept.append(name)
    return kept


_TAG = re.compile(r"<[^>]*>")
# How much longer than the body found a page's JSON-LD articleBody must be to replace it,
# and how much of the body found it must hold (it is the same story, in full).
_ARTICLE_BODY_GAIN = 1.3
_ARTICLE_BODY_HOLDS = 0.8


def _article_body(page: PageRecord) -> list[str]:
    """The paragraphs of the page's JSON-LD ``articleBody`` (markup, escaped or not,
    removed), else an empty list."""
    for entry in _story_entries(page):
        text = entry.get("articleBody")
        if isinstance(text, str) and text.strip():
            text = _TAG.sub(" ", html.unescape(text))
            return [line for line in clean_lines(text.splitlines()) if line]
    return []


# A first story's body this short (characters) is no story of the page's own.
_SHORT_BODY = 200


def _jsonld_story(page: PageRecord, body: list[str]) -> StoryParts | None:
    """The page's story as its JSON-LD Article tells it (headline and ``body``, its
    articleBody), for a page whose text holds none: one its scripts build in the browser."""
    if not body:
        return None
    for entry in _story_entries(page):
        headline = entry.get("headline")
        if isinstance(headline, str) and headline.strip():
            return StoryParts(title=headline, body=body)
    return None


def _fuller_body(full: list[str], body: list[str]) -> list[str]:
    """``full``, the page's JSON-LD articleBody, where it is this story's text in full (it
    holds most of what the page showed, and much more: a body the page builds from a
    script, or cut by markup the block walker could not read). Else ``body``, less the
    lines the articleBody does not hold where it holds the rest (a newsletter box, a
    caption, a call to subscribe: the site's own account of its story leaves them out)."""
    shown = _words(" ".join(body))
    if not full or not shown:
        return body
    held = _words(" ".join(full))
    if len(shown & held) < _ARTICLE_BODY_HOLDS * len(shown):
        return body  # another text, or a summary of this one
    if sum(map(len, full)) >= _ARTICLE_BODY_GAIN * sum(map(len, body)):
        return full
    kept = [line for line in body if _held(line, held)]
    return kept or body


def _held(line: str, words: set[str]) -> bool:
    """Whether ``words`` hold most of the line's words."""
    own = _words(line)
    return len(own & words) >= _ARTICLE_BODY_HOLDS * len(own)


def _words(text: str) -> set[str]:
    """The words of ``text``, as compared between a page's text and its head."""
    return set(WORD.findall(normalize(text)))


def _time_element(page: PageRecord) -> str | None:
    """The first ``<time datetime>`` of the page's text: a story's time where the page
    prints it only there."""
    for block in page.blocks:
        stamp = block.attrs.get("datetime")
        if block.tag == "time" and stamp:
            return stamp
    return None


def _best_time(visible: Timestamp | None, machine: Timestamp | None) -> Timestamp | None:
    """The visible time, unless only the machine-readable one could be read, or the
    machine-readable one is the ``<time datetime>`` of the very line printed and either
    contradicts it or says more (the line prints a day, its element the minute).

    Head metadata never overrides a readable visible time: a stale ``modified_time`` is
    common, and the page's own line is what its reader saw.
    """
    readable = [t for t in (visible, machine) if t is not None and t.value is not None]
    if len(readable) == 2 and machine is not None and machine.source == "time-element":
        assert visible is not None
        if disagreement(visible, machine) or _finer(machine, visible):
            return machine
    return readable[0] if readable else visible or machine


_PRECISION_RANKS = {name: rank for rank, name in enumerate(PRECISIONS)}


def _finer(a: Timestamp, b: Timestamp) -> bool:
    """Is ``a`` more precise than ``b``?"""
    return _rank(a) < _rank(b)


def _rank(stamp: Timestamp) -> int:
    return _PRECISION_RANKS.get(stamp.precision or "", len(_PRECISION_RANKS))


def _empty_time() -> TimeRecord:
    return {
        "raw": None,
        "value": None,
        "earliest": None,
        "latest": None,
        "precision": None,
        "source": None,
        "anchor": None,
        "error": "missing",
    }


def stories_from_page(
    page: PageRecord, site: SiteProfile, anchor: Anchor | None = None
) -> PageStories:
    """Split a page record into clean story records with resolved times.

    ``anchor`` is when the page was rendered; by default its Date and Age headers.
    """
    anchor = anchor or page_anchor(page)
    listed = page.listed or {}
    # The page's language: its own, else what the news sitemap listing it says.
    page_language = page.language or listed.get("language")
    # One reading for the splitter's time lines and the story's times: the page's
    # language, then the site's.
    languages = reading_languages(page_language, site.languages)
    split = split_blocks(page.blocks, site.split_hints, _head_titles(page), languages)
    first = split.stories[0] if split.stories else None
    article_body = _article_body(page)
    if (first is None or sum(map(len, first.body)) < _SHORT_BODY) and (
        told := _jsonld_story(page, article_body)
    ):
        # The page's text holds no story of its own (its scripts build it): the story
        # its JSON-LD tells stands first.
        split.stories[:1] = [told]
        split.mode, split.head = "json-ld", True
    language = page_language or (site.languages[0] if site.languages else None)
    stories: list[StoryRecord] = []
    disagreements: list[float] = []
    for position, parts in enumerate(split.stories):
        title = clean_text(parts.title)
        body = clean_lines(parts.body)
        if not title or not body:
            split.skipped.append("empty after clean-up")
            continue
        # Head metadata and listings describe the page's own story: the first one, and
        # only when its headline is the head's (else the splitter lost the real first).
        # Matched by the headline the head names, or by content (the head's description
        # in its opening); a page's only story is its own whatever its headline.
        is_head = position == 0 and (
            split.head
            or len(split.stories) == 1
            or _is_page_story(page, title)
            or _described(page, [*parts.summary, *parts.body])
        )
        if is_head:
            body = _fuller_body(article_body, body)
        url = _story_url(parts, is_head, page, site)
        updated = _time(parts.updated_raw, "text", anchor, site, languages)
        machine = _time(parts.updated_datetime, "time-element", anchor, site, languages)
        published = None
        if is_head:
            # A listing's time: a feed's pubDate and a news sitemap's publication date
            # are when the story was published, a sitemap's lastmod when it changed.
            listed_published = listed.get("source") == "feed" or listed.get("kind") == "publication"
            modified = _head_time(page, MODIFIED_KEYS, "dateModified")
            if modified is None and listed.get("source") == "sitemap" and not listed_published:
                modified = listed["time"], "sitemap"
            if machine is None and modified:
                machine = _time(modified[0], modified[1], anchor, site, languages)
            found = _head_time(page, PUBLISHED_KEYS, "datePublished")
            if found is None and listed_published:
                found = listed["time"], listed["source"]
            if found:
                published = _time(found[0], found[1], anchor, site, languages)
            if published is None and machine is None and (stamp := _time_element(page)):
                published = _time(stamp, "time-element", anchor, site, languages)
            if published is None and (day := url_date(url or page.url)):
                published = _time(day, "url", anchor, site, languages)
        if updated is not None and machine is not None:
            gap = disagreement(updated, machine)
            if gap:
                disagreements.append(gap)
        best = _best_time(updated, machine)
        stories.append(
            StoryRecord(
                id=story_id(site.name, site.article_id(url) if url else None, title, body[0]),
                site=site.name,
                language=language,
                position=len(stories),
                page_url=page.url,
                url=url,
                title=title,
                summary=clean_lines(parts.summary),
                dateline=clean_optional(parts.dateline),
                body=body,
                caption=clean_optional(parts.caption),
                # An empty og:image is no image: the schema wants text or null.
                image_url=parts.image_url
                or (page.meta.get("og:image") if is_head else None)
                or None,
                updated=best.to_record() if best else _empty_time(),
                updated_machine=machine.to_record() if machine else None,
                published=published.to_record() if published else None,
                fetched_at=page.fetched_at,
                authors=_clean_names((is_head and _head_authors(page)) or parts.authors),
                section=_head_section(page) if is_head else None,
            )
        )
    return PageStories(stories=stories, split=split, time_disagreements=disagreements)
