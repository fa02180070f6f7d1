"""A site profile: everything newscrawl knows about one news site, in one place."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

from newscrawl.sites.hints import DEFAULT_HINTS, SplitHints
from newscrawl.text import clean_url

# Where a URL is served from: (scheme, host, port). Two URLs are on one site only when
# all three agree: another port of the same host is another server, another site.
Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}


@lru_cache(maxsize=1024)  # a page's stories ask for its own origin, and a listing's links
def origin(url: str) -> Origin | None:
    """The (scheme, host, port) of an http(s) URL, default port filled in; else None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a port that is no number, a bracket left open
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


class IdScheme(Protocol):
    """How a site's article URLs are normalized and what id each carries. ``match`` is
    the profile's article path pattern matched against the URL's path."""

    def article_url(self, parts: SplitResult, match: re.Match[str]) -> str: ...

    def article_id(self, match: re.Match[str]) -> str | None: ...


class PathIds:
    """The article's URL as the site prints it (query and fragment dropped: tracking
    parameters never change an article); its id the path pattern's ``id`` group, where
    the pattern has one (``/world/some-story-123456.html``)."""

    def article_url(self, parts: SplitResult, match: re.Match[str]) -> str:
        return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))

    def article_id(self, match: re.Match[str]) -> str | None:
        return match.groupdict().get("id")


class DrupalNodeIds:
    """Drupal node ids: ``/node/<id>/<slug>``, its bare and trailing-slash forms written
    one way, so that one article is requested under one URL."""

    def article_url(self, parts: SplitResult, match: re.Match[str]) -> str:
        slug = match.groupdict().get("slug")
        path = f"/node/{match['id']}" + (f"/{slug}" if slug else "")
        return urlunsplit((parts.scheme, parts.netloc, path, "", ""))

    def article_id(self, match: re.Match[str]) -> str | None:
        return match["id"]


ID_SCHEMES: dict[str, IdScheme] = {"path": PathIds(), "drupal-node": DrupalNodeIds()}
# An article's path where a site names no pattern: a last segment that reads as a slug
# or an id (words joined by - or _, or a number of five digits or more), optionally
# .html; not a file (.jpg, .pdf), nor under a folder of listings or of the site's
# machinery (tag, author, category, page, search, feed, wp-content...).
ANY_ARTICLE_PATH = re.compile(
    r"(?!(?:/[^/?#]+)*/(?:tags?|authors?|category|categories|topics?|page|search|feed"
    r"|wp-content|wp-admin|wp-json|static|assets|media|files|uploads)/)"
    r"(?:/[^/?#]+)*/(?:[^/?#.]*[a-z0-9][-_][a-z0-9][^/?#.]*|\d{5,})(?:\.html?|\.php)?/?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Selectors:
    """CSS selectors for a site's markup. A layout change on the live site is fixed here."""

    # Links to articles on listing (section) pages.
    listing_links: str = "a::attr(href)"


@dataclass(frozen=True)
class SiteProfile:
    name: str
    base_url: str
    timezone: str
    # The languages its pages (and their times) are printed in, the first the usual one.
    languages: tuple[str, ...]
    # Path of an article page. A group ``id`` is the site's own id of the article (see
    # ``id_scheme``); none is needed.
    article_path: re.Pattern[str] = ANY_ARTICLE_PATH
    selectors: Selectors = field(default_factory=Selectors)
    feed_paths: tuple[str, ...] = ()
    sitemap_paths: tuple[str, ...] = ()
    section_paths: tuple[str, ...] = ()
    # Paths that look like articles but must never be fetched (AMP copies, print views).
    skip_path: re.Pattern[str] | None = None
    extra_hosts: tuple[str, ...] = field(default_factory=tuple)
    # What the story splitter should know about the site's widgets and classes.
    split_hints: SplitHints = DEFAULT_HINTS
    # Legacy encodings a page may really be in when its charset label is wrong.
    encodings: tuple[str, ...] = ("cp1252",)
    # How article URLs are normalized and what id they carry.
    id_scheme: IdScheme = ID_SCHEMES["path"]

    def discovery_urls(self, base_url: str) -> dict[str, list[str]]:
        """Feed, sitemap and section URLs on ``base_url`` (the live site or a mirror of it)."""
        return {
            "feeds": [urljoin(base_url, p) for p in self.feed_paths],
            "sitemaps": [urljoin(base_url, p) for p in self.sitemap_paths],
            "sections": [urljoin(base_url, p) for p in self.section_paths],
        }

    def article_url(self, url: str) -> str | None:
        """The normalized URL of an article page, or None when ``url`` is not one."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return None
        if self.skip_path is not None and self.skip_path.search(parts.path):
            return None
        match = self.article_path.fullmatch(parts.path)
        if match is None:
            return None
        return self.id_scheme.article_url(parts, match)

    def article_id(self, url: str) -> str | None:
        """The site's own id of the article at ``url``, if its URLs carry one."""
        match = self.article_path.fullmatch(urlsplit(url).path)
        return self.id_scheme.article_id(match) if match else None


class SiteFileError(ValueError):
    """A site file (or a Python profile) that cannot be read: names the file and the key."""


# More folders of site files (``<name>.toml``), separated as in PATH.


def site_root(url: str, example: str = "https://news.example/") -> str:
    """The root URL of the site at ``url`` (``scheme://host[:port]/``); ValueError for
    anything that is no http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - a port that is no number raises here
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be an http(s) URL with a host, e.g. {example}")
    return f"{parts.scheme}://{parts.netloc}/"


def page_key(site: SiteProfile, url: str) -> str:
    """A page's key in the seen store: the site's article id on its host, else its URL."""
    article_id = site.article_id(url)
    if article_id is not None:
        return f"{site.name}:{urlsplit(url).netloc}/{article_id}"
    return f"{site.name}:{clean_url(url)}"
