"""HTML and XML rendering of the mirror site's pages.

The article page shape follows what is known of the real site (see ARABNEWS.md): several
stories per page, headline printed three times, caption twice, widget lines between them.
Head metadata describes only the first story, as on the real site.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import urlsplit

from newscrawl_mirror.content import (
    Article,
    Edition,
    MirrorSite,
    PageLayout,
    isoformat_utc,
    updated_text,
)

SITE_NAME = "Arab News"
# The header widget that follows the story's time line, in each edition.
_FOLLOW: dict[Edition, str] = {"en": "Follow", "fr": "Suivre", "ar": "تابعونا"}
SITEMAP_PAGE_SIZE = 500
RSS_ITEMS = 50
LISTING_ITEMS = 20

# Listing page path -> (heading, sections it lists).
LISTING_PAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "/saudiarabia": ("Saudi Arabia", ("saudi-arabia",)),
    "/middleeast": ("Middle East", ("middle-east",)),
    "/world": ("World", ("world",)),
    "/economy": ("Business & Economy", ("business-economy",)),
    "/sport": ("Sport", ("sport",)),
    "/lifestyle": ("Lifestyle", ("lifestyle",)),
    "/pakistan": ("Pakistan", ("pakistan",)),
    "/main-category/media": ("Media", ("media",)),
}

_OFFSITE_LINKS = (
    ("https://twitter.com/arabnews", "Twitter"),
    ("https://www.facebook.com/arabnews", "Facebook"),
    ("https://www.instagram.com/arabnews/", "Instagram"),
)

_BYLINES = ("AP", "AFP", "Reuters", "Arab News")

_STORY_SEPARATOR = '<hr class="story-separator"><div class="separator">&nbsp;</div>'


def alias_base_url(base_url: str) -> str:
    """The same server under another host name, to check a crawler stays on its domain."""
    parts = urlsplit(base_url)
    alias = "127.0.0.1" if parts.hostname == "localhost" else "localhost"
    return f"{parts.scheme}://{alias}:{parts.port}"


@dataclass(frozen=True)
class OtherSite:
    """Another site on this host (another port), and how the mirror points at it, to
    check a crawler stays on its own site: every article page links there, the feed and
    the sitemap list one article there, one article redirects (302) there and one page
    names its canonical URL there."""

    base_url: str
    redirected: int  # the nid whose page redirects to the same path there
    canonical: int  # the nid whose page gives its canonical URL (and og:url) there
    listed: int  # the nid the feed and the sitemap list there too

    @classmethod
    def plan(cls, site: MirrorSite, base_url: str) -> OtherSite:
        newest = site.newest(2)
        return cls(
            base_url=base_url.rstrip("/"),
            redirected=newest[0].nid,
            canonical=newest[-1].nid,
            listed=newest[-1].nid,
        )

    def url(self, article: Article) -> str:
        return f"{self.base_url}{article.path}"


def _text(value: str) -> str:
    return escape(value, quote=True)


def _header() -> str:
    nav = "".join(
        f'<li><a href="{path}">{_text(heading)}</a></li>'
        for path, (heading, _sections) in LISTING_PAGES.items()
    )
    return (
        '<header class="site-header">\n'
        f'<a class="logo" href="/">{SITE_NAME}</a>\n'
        f'<nav class="main-menu"><ul>{nav}</ul></nav>\n'
        '<div class="newsletter">Subscribe to our newsletter</div>\n'
        "</header>"
    )


def _footer(base_url: str, linked: Article, other_site: OtherSite | None = None) -> str:
    offsite = "".join(f'<li><a href="{url}">{label}</a></li>' for url, label in _OFFSITE_LINKS)
    if other_site is not None:
        offsite += f'<li><a href="{other_site.url(linked)}">Partner site</a></li>'
    return (
        '<footer class="site-footer">\n'
        f"<ul>{offsite}"
        f'<li><a href="{alias_base_url(base_url)}{linked.path}">Most read</a></li>'
        f'<li><a href="/node/{linked.nid}/amp">AMP</a></li>'
        '<li><a href="/rss.xml">RSS</a></li></ul>\n'
        f"<p>© {SITE_NAME}</p>\n"
        "</footer>"
    )


def _document(
    head: str,
    content: str,
    base_url: str,
    linked: Article,
    other_site: OtherSite | None = None,
    edition: Edition = "en",
) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="{edition}" dir="{"rtl" if edition == "ar" else "ltr"}">'
        "\n<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        f"{head}\n</head>\n<body>\n{_header()}\n"
        f'<main><div class="region-content">\n{content}\n</div></main>\n'
        f"{_footer(base_url, linked, other_site)}\n</body>\n</html>\n"
    )


def _article_head(article: Article, base_url: str, canonical_base: str | None = None) -> str:
    url = f"{canonical_base or base_url}{article.path}"
    description = article.summary[0] if article.summary else article.body[0]
    published = isoformat_utc(article.published_at)
    modified = isoformat_utc(article.updated_at)
    linked_data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "datePublished": published,
        "dateModified": modified,
        "url": url,
        "publisher": {"@type": "Organization", "name": SITE_NAME},
    }
    lines = [
        f"<title>{_text(article.title)} | {SITE_NAME}</title>",
        f'<link rel="canonical" href="{url}">',
        f'<link rel="shortlink" href="{base_url}/node/{article.nid}">',
        f'<link rel="amphtml" href="{base_url}/node/{article.nid}/amp">',
        f'<link rel="alternate" type="application/rss+xml" title="{SITE_NAME}" '
        f'href="{base_url}/rss.xml">',
        f'<meta name="description" content="{_text(description)}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:title" content="{_text(article.title)}">',
        f'<meta property="og:url" content="{url}">',
    ]
    if article.image_url is not None:
        lines.append(f'<meta property="og:image" content="{base_url}{article.image_url}">')
    lines += [
        f'<meta property="og:description" content="{_text(description)}">',
        f'<meta property="article:section" content="{article.section}">',
        f'<meta property="article:published_time" content="{published}">',
        f'<meta property="article:modified_time" content="{modified}">',
        # "</" inside a script would end it early, so JSON-LD escapes it.
        '<script type="application/ld+json">'
        + json.dumps(linked_data, ensure_ascii=False).replace("</", "<\\/")
        + "</script>",
    ]
    return "\n".join(lines)


def _photo(article: Article) -> list[str]:
    if article.caption is None or article.image_url is None:
        return []
    caption = _text(article.caption)
    return [
        f'<figure class="article-image"><img src="{article.image_url}" alt="">'
        f"<figcaption>{caption}</figcaption></figure>",
        f'<div class="image-caption-overlay">{caption}</div>',
    ]


def _story(
    article: Article,
    layout: PageLayout,
    base_url: str,
    rendered_at: datetime,
    heading_tag: str,
    broken: bool = False,
    edition: Edition = "en",
) -> list[str]:
    title = _text(article.title)
    photo = _photo(article)
    lines = [f'<div class="article-title-top"><span class="page-title">{title}</span></div>']
    if not layout.caption_after_headline:
        lines += photo
    if article.nid in layout.short_url_nids:
        lines.append(
            f'<div class="short-url"><a href="{base_url}/node/{article.nid}">Short Url</a></div>'
        )
    time_attr = (
        f' datetime="{isoformat_utc(article.updated_at)}"' if layout.time_datetime_attr else ""
    )
    lines += [
        f'<div class="entry-date"><time{time_attr}>'
        f"{updated_text(article.updated_at, rendered_at, edition=edition)}</time></div>",
        f'<div class="follow-widget"><a href="#follow">{_FOLLOW[edition]}</a></div>',
        f'<div class="share-widget"><span class="share-title">{title}</span></div>',
        f'<{heading_tag} class="article-title">{title}</{heading_tag}>',
    ]
    if layout.caption_after_headline:
        lines += photo
    if article.summary and article.summary_glyph:
        bullets = "".join(f"<li>• {_text(line)}</li>" for line in article.summary)
        lines.append(f'<ul class="article-summary">{bullets}</ul>')
    elif article.summary:
        paragraphs = "".join(f"<p>{_text(line)}</p>" for line in article.summary)
        lines.append(f'<div class="article-summary">{paragraphs}</div>')
    if broken:  # the redesign: the body arrives later, from a script
        lines.append(f'<div class="entry-content" data-body-src="/api/body/{article.nid}"></div>')
        return lines
    paragraphs = "".join(f"<p>{_text(paragraph)}</p>" for paragraph in article.body)
    lines.append(f'<div class="entry-content">{paragraphs}</div>')
    return lines


def render_article_page(
    site: MirrorSite,
    nid: int,
    base_url: str,
    rendered_at: datetime,
    other_site: OtherSite | None = None,
) -> str:
    """The full page at ``/node/<nid>/<section>``: the article plus its appended stories."""
    layout = site.layout(nid)
    stories = site.page_stories(nid)
    blocks: list[str] = []
    for position, article in enumerate(stories):
        heading = "h2" if position > 0 and layout.variant == "flat" else "h1"
        lines = _story(
            article, layout, base_url, rendered_at, heading, site.broken(nid), site.edition
        )
        if layout.variant == "containers":
            lines = [
                f'<article class="node node-article" id="node-{article.nid}" '
                f'data-nid="{article.nid}">',
                *lines,
                "</article>",
            ]
        elif position > 0:
            lines.insert(0, _STORY_SEPARATOR)
        blocks.append("\n".join(lines))
    linked = stories[-1]
    elsewhere = other_site.base_url if other_site and other_site.canonical == nid else None
    head = _article_head(stories[0], base_url, elsewhere)
    return _document(head, "\n".join(blocks), base_url, linked, other_site, site.edition)


def render_amp_page(article: Article, base_url: str) -> str:
    """A small AMP copy of one story; crawlers are expected to skip these."""
    paragraphs = "\n".join(f"<p>{_text(paragraph)}</p>" for paragraph in article.body)
    return (
        '<!doctype html>\n<html amp lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_text(article.title)} | {SITE_NAME}</title>\n"
        f'<link rel="canonical" href="{base_url}{article.path}">\n'
        '<meta name="viewport" content="width=device-width">\n'
        '<script async src="https://cdn.ampproject.org/v0.js"></script>\n'
        "<style amp-boilerplate>body{visibility:hidden}</style>\n"
        f'</head>\n<body>\n<h1 class="amp-title">{_text(article.title)}</h1>\n'
        f"{paragraphs}\n</body>\n</html>\n"
    )


def _byline(nid: int) -> str:
    return _BYLINES[nid % len(_BYLINES)]


def _listing_content(heading: str, articles: Sequence[Article]) -> str:
    items = [
        '<div class="article-item">'
        f'<div class="article-item-title"><a href="{article.path}">{_text(article.title)}</a>'
        "</div>"
        f'<div class="article-item-info"><a href="{article.path}">By {_byline(article.nid)} ·</a>'
        "</div></div>"
        for article in articles
    ]
    amp_links = "".join(
        f'<li><a href="/node/{article.nid}/amp">{_text(article.title)} (AMP)</a></li>'
        for article in articles[:3]
    )
    offsite = "".join(f'<li><a href="{url}">{label}</a></li>' for url, label in _OFFSITE_LINKS)
    return (
        f'<h1 class="section-title">{_text(heading)}</h1>\n'
        '<div class="article-list">\n' + "\n".join(items) + "\n</div>\n"
        f'<ul class="more-links">{amp_links}{offsite}'
        '<li><a href="/search?q=x">Search</a></li></ul>'
    )


def render_listing_page(site: MirrorSite, path: str, base_url: str) -> str:
    """A section page: the newest stories of its section(s), robots-blocked ones included."""
    heading, sections = LISTING_PAGES[path]
    articles = site.newest(LISTING_ITEMS, sections)
    head = (
        f"<title>{_text(heading)} | {SITE_NAME}</title>\n"
        f'<link rel="canonical" href="{base_url}{path}">'
    )
    linked = site.newest(1)[0]
    return _document(head, _listing_content(heading, articles), base_url, linked)


def render_home_page(site: MirrorSite, base_url: str) -> str:
    articles = site.newest(LISTING_ITEMS)
    head = f'<title>{SITE_NAME}</title>\n<link rel="canonical" href="{base_url}/">'
    return _document(head, _listing_content("Latest", articles), base_url, articles[0])


def render_search_page(site: MirrorSite, base_url: str) -> str:
    head = f"<title>Search | {SITE_NAME}</title>"
    content = '<h1 class="section-title">Search</h1>\n<p>No results.</p>'
    return _document(head, content, base_url, site.newest(1)[0])


def render_not_found_page(site: MirrorSite, base_url: str) -> str:
    head = f"<title>Page not found | {SITE_NAME}</title>"
    content = '<h1 class="section-title">Page not found</h1>'
    return _document(head, content, base_url, site.newest(1)[0])


def _rss_tracked(site: MirrorSite, nid: int) -> bool:
    return random.Random(f"{site.seed}:{nid}:rss").random() < 0.3


def render_rss(site: MirrorSite, base_url: str, other_site: OtherSite | None = None) -> str:
    """RSS 2.0 with the newest crawlable stories; pubDate in ISO form like the real feed."""
    allowed = [
        article for article in site.newest(len(site)) if not site.robots_blocked(article.nid)
    ]
    entries = [(f"{base_url}{article.path}", article) for article in allowed[:RSS_ITEMS]]
    if other_site is not None:
        listed = site.article(other_site.listed)
        assert listed is not None  # the plan's nids come from the site itself
        entries.append((other_site.url(listed), listed))
    items: list[str] = []
    for link, article in entries:
        if _rss_tracked(site, article.nid):
            link += "?utm_source=rss&utm_medium=feed"
        items.append(
            "<item>\n"
            f"<title>{_text(article.title)}</title>\n"
            f"<link>{_text(link)}</link>\n"
            f"<description>{_text(article.body[0])}</description>\n"
            f"<pubDate>{isoformat_utc(article.published_at)}</pubDate>\n"
            f"<dc:creator>{SITE_NAME}</dc:creator>\n"
            f'<guid isPermaLink="false">{article.nid} at {base_url}</guid>\n'
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<rss version="2.0" xml:base="{base_url}" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>{SITE_NAME}</title>\n<link>{base_url}/</link>\n"
        "<description>Latest stories</description>\n<language>en</language>\n"
        f'<atom:link href="{base_url}/rss.xml" rel="self" type="application/rss+xml"/>\n'
        + "\n".join(items)
        + "\n</channel>\n</rss>\n"
    )


def _sitemap_nids(site: MirrorSite) -> list[int]:
    return [nid for nid in site.nids if not site.robots_blocked(nid)]


def sitemap_page_count(site: MirrorSite) -> int:
    return max(1, -(-len(_sitemap_nids(site)) // SITEMAP_PAGE_SIZE))


def render_sitemap_index(site: MirrorSite, base_url: str) -> str:
    entries = "\n".join(
        f"<sitemap><loc>{base_url}/sitemap.xml?page={page}</loc></sitemap>"
        for page in range(1, sitemap_page_count(site) + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}\n</sitemapindex>\n"
    )


def render_sitemap_page(
    site: MirrorSite, page: int, base_url: str, other_site: OtherSite | None = None
) -> str | None:
    """One page of the sitemap, or None when the page number is out of range."""
    if not 1 <= page <= sitemap_page_count(site):
        return None
    start = (page - 1) * SITEMAP_PAGE_SIZE
    listed: list[tuple[str, Article]] = []
    for nid in _sitemap_nids(site)[start : start + SITEMAP_PAGE_SIZE]:
        article = site.article(nid)
        assert article is not None  # sitemap nids come from the site itself
        listed.append((f"{base_url}{article.path}", article))
    if other_site is not None and page == 1:
        elsewhere = site.article(other_site.listed)
        assert elsewhere is not None
        listed.append((other_site.url(elsewhere), elsewhere))
    entries = [
        f"<url><loc>{url}</loc><lastmod>{isoformat_utc(article.updated_at)}</lastmod></url>"
        for url, article in listed
    ]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "\n".join(entries)
        + "\n</urlset>\n"
    )


def render_robots(site: MirrorSite, base_url: str, crawl_delay: float | None = None) -> str:
    lines = ["User-agent: *"]
    if crawl_delay is not None:
        lines.append(f"Crawl-delay: {crawl_delay:g}")
    lines += ["Disallow: /search", "Disallow: /_mirror/"]
    for nid in site.blocked_nids():
        # The trailing slash keeps /node/26000051 from matching /node/2600005.
        lines += [f"Disallow: /node/{nid}/", f"Disallow: /node/{nid}$"]
    lines += ["", f"Sitemap: {base_url}/sitemap.xml", ""]
    return "\n".join(lines)
