"""Site profiles: everything newscrawl knows about one news site, in one place.

Adding a site means adding a module here with a ``SiteProfile`` and a three-line spider
in ``newscrawl/spiders``; the crawling, splitting and export code is shared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

from newscrawl.split import DEFAULT_HINTS, SplitHints

# Where a URL is served from: (scheme, host, port). Two URLs are on one site only when
# all three agree: another port of the same host is another server, another site.
Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}


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


@dataclass(frozen=True)
class Selectors:
    """CSS selectors for a site's markup. A layout change on the live site is fixed here."""

    # Links to articles on listing (section) pages.
    listing_links: str


@dataclass(frozen=True)
class SiteProfile:
    name: str
    base_url: str
    timezone: str
    languages: tuple[str, ...]
    # Path of an article page; must define the groups ``nid`` and ``slug`` (slug optional).
    article_path: re.Pattern[str]
    selectors: Selectors
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

    def discovery_urls(self, base_url: str) -> dict[str, list[str]]:
        """Feed, sitemap and section URLs on ``base_url`` (the live site or a mirror of it)."""
        return {
            "feeds": [urljoin(base_url, p) for p in self.feed_paths],
            "sitemaps": [urljoin(base_url, p) for p in self.sitemap_paths],
            "sections": [urljoin(base_url, p) for p in self.section_paths],
        }

    def article_url(self, url: str) -> str | None:
        """The normalized URL of an article page, or None when ``url`` is not one.

        Query strings and fragments are dropped (tracking parameters such as ``utm_*``
        never change an article), so one article is requested under one URL.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return None
        if self.skip_path is not None and self.skip_path.search(parts.path):
            return None
        match = self.article_path.fullmatch(parts.path)
        if match is None:
            return None
        path = f"/node/{match['nid']}" + (f"/{match['slug']}" if match["slug"] else "")
        return urlunsplit((parts.scheme, parts.netloc, path, "", ""))

    def article_id(self, url: str) -> str | None:
        """The site's own id of the article at ``url`` (Drupal node id), if it is one."""
        match = self.article_path.fullmatch(urlsplit(url).path)
        return match["nid"] if match else None


def get_site(name: str) -> SiteProfile:
    """The profile of a site by its name; raises KeyError with the known names."""
    from newscrawl.sites.arabnews import ARABNEWS

    sites = {ARABNEWS.name: ARABNEWS}
    try:
        return sites[name]
    except KeyError:
        raise KeyError(f"unknown site {name!r}; known sites: {', '.join(sorted(sites))}") from None
