"""A generic news site, unlike Arab News, for crawls with no site profile.

WordPress-style: article URLs with date folders (``/2026/03/09/<slug>-<id>/``), a news
sitemap announced in robots.txt, an RSS feed announced in the home page's head (holding
the latest stories only: the sitemap holds them all), section pages, and single-story
article pages with a byline, related-article teasers (headline, time and excerpt each)
and a most-read box. No ``Short Url`` widgets, no appended stories. An "about us" page
has an article-like URL but its head says it is a website, not an article.

``/_mirror/truth.json`` lists every article as the site published it.
"""

from __future__ import annotations

import html
import json
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

SECTIONS = ("world", "business", "sport", "culture")
AUTHORS = ("Maria Santos", "Tom Field", "Ana Lima", "Karim Haddad", "Jane Okafor")
_PLACES = ("the harbour town", "the capital", "the northern valley", "the island", "the port")
_SUBJECTS = ("council", "ferry company", "school board", "water authority", "football club")
_VERBS = ("approved", "rejected", "postponed", "announced", "reviewed")
_THINGS = ("a new sea wall", "the winter timetable", "a budget for roads", "plans for a stadium")
# The newest story's publication time; older ones follow at intervals before it.
NEWEST = datetime(2026, 3, 9, 10, 30, tzinfo=timezone.utc)
FEED_ITEMS = 10


@dataclass(frozen=True)
class GenericArticle:
    id: int
    section: str
    title: str
    author: str
    published: datetime
    body: tuple[str, ...]

    @property
    def slug(self) -> str:
        words = "".join(c if c.isalnum() else " " for c in self.title.lower()).split()
        return "-".join(words[:8])

    @property
    def path(self) -> str:
        return f"/{self.published:%Y/%m/%d}/{self.slug}-{self.id}/"


def build_articles(count: int, seed: int = 7) -> list[GenericArticle]:
    """``count`` articles, newest first, the same for the same seed."""
    rng = random.Random(seed)
    articles = []
    for n in range(count):
        subject, place = rng.choice(_SUBJECTS), rng.choice(_PLACES)
        verb, thing = rng.choice(_VERBS), rng.choice(_THINGS)
        title = f"The {subject} of {place} {verb} {thing} ({n + 1})"
        body = tuple(
            f"{sentence} The {subject} met on {day} and {verb} {thing} after a debate "
            f"that lasted {rng.randint(2, 9)} hours, according to people who were there."
            for sentence, day in zip(
                (
                    f"Story {n + 1}: residents of {place} learned the news on Monday.",
                    "Officials said the decision had been expected for weeks.",
                    f"Critics of the plan said {thing} would cost more than promised.",
                    "Supporters answered that the work could not wait another year.",
                    "A final vote is due before the end of the month.",
                )[: rng.randint(3, 5)],
                ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"),
                strict=False,
            )
        )
        articles.append(
            GenericArticle(
                id=100_000 + n,
                section=SECTIONS[n % len(SECTIONS)],
                title=title,
                author=AUTHORS[n % len(AUTHORS)],
                published=NEWEST - timedelta(hours=7 * n, minutes=13 * n),
                body=body,
            )
        )
    return articles


def _page(title: str, head: str, body: str) -> str:
    nav = "".join(f"<li><a href='/category/{s}/'>{s.title()}</a></li>" for s in SECTIONS)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)} – The Daily Example</title>"
        "<link rel='alternate' type='application/rss+xml' title='Feed' href='/feed/'>"
        f"{head}</head><body><header class='site-header'><a href='/'>The Daily Example</a>"
        f"<nav class='main-nav'><ul>{nav}<li><a href='/about-us/'>About us</a></li></ul></nav>"
        f"</header>{body}<footer class='site-footer'><p>© The Daily Example</p>"
        "<a href='/privacy-policy/'>Privacy</a></footer></body></html>"
    )


def _time(moment: datetime) -> str:
    printed = f"{moment:%B} {moment.day}, {moment:%Y} at {moment:%I:%M %p}"
    return f"<time datetime='{moment.isoformat()}'>{printed}</time>"


def _teaser(article: GenericArticle, heading: str = "h3") -> str:
    return (
        f"<article class='teaser'><{heading} class='entry-title'><a href='{article.path}'>"
        f"{html.escape(article.title)}</a></{heading}>{_time(article.published)}"
        f"<p class='excerpt'>{html.escape(article.body[0][:90])}…</p></article>"
    )


class GenericSite:
    def __init__(self, count: int) -> None:
        self.articles = build_articles(count)
        self.by_path = {a.path: a for a in self.articles}

    def article_page(self, article: GenericArticle) -> str:
        index = self.articles.index(article)
        related = [self.articles[(index + k) % len(self.articles)] for k in (1, 2, 3)]
        most_read = self.articles[:5]
        data = {
            "@context": "https://schema.org", "@type": "NewsArticle",
            "headline": article.title, "datePublished": article.published.isoformat(),
            "author": {"@type": "Person", "name": article.author},
        }  # fmt: skip
        head = (
            "<meta property='og:type' content='article'>"
            f"<meta property='og:title' content='{html.escape(article.title)}'>"
            f"<script type='application/ld+json'>{json.dumps(data)}</script>"
        )
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in article.body)
        body = (
            "<main class='site-main'><article class='post type-post'>"
            f"<header class='entry-header'><h1 class='entry-title'>{html.escape(article.title)}"
            f"</h1><div class='entry-meta'><span class='byline'>By {article.author}</span>"
            f" {_time(article.published)}</div></header>"
            f"<div class='entry-content'>{paragraphs}</div></article>"
            "<section class='related-posts'><h2>Related articles</h2>"
            f"{''.join(_teaser(a) for a in related)}</section></main>"
            "<aside class='sidebar'><div class='widget most-read'><h2>Most read</h2><ol>"
            + "".join(f"<li><a href='{a.path}'>{html.escape(a.title)}</a></li>" for a in most_read)
            + "</ol></div></aside>"
        )
        return _page(article.title, head, body)

    def listing(self, title: str, articles: list[GenericArticle]) -> str:
        teasers = "".join(_teaser(a, "h2") for a in articles)
        return _page(
            title,
            "<meta property='og:type' content='website'>",
            f"<main class='site-main'><h1 class='page-title'>{title}</h1>{teasers}</main>",
        )

    def about(self) -> str:
        text = (
            "The Daily Example has reported on the harbour towns of the coast since 1921, "
            "and is owned by a trust that keeps it independent of any party or company."
        )
        return _page(
            "About us",
            "<meta property='og:type' content='website'>",
            f"<main><h1>About us</h1><p>{text}</p><p>{text}</p></main>",
        )

    def news_sitemap(self, base_url: str) -> str:
        urls = "".join(
            f"<url><loc>{base_url}{a.path.lstrip('/')}</loc><news:news><news:publication>"
            "<news:name>The Daily Example</news:name><news:language>en</news:language>"
            f"</news:publication><news:publication_date>{a.published.isoformat()}"
            f"</news:publication_date><news:title>{html.escape(a.title)}</news:title>"
            "</news:news></url>"
            for a in self.articles
        )
        return (
            "<?xml version='1.0' encoding='UTF-8'?>"
            "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' "
            "xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>"
            f"{urls}</urlset>"
        )

    def feed(self, base_url: str) -> str:
        items = "".join(
            f"<item><title>{html.escape(a.title)}</title><link>{base_url}{a.path.lstrip('/')}"
            f"</link><pubDate>{a.published:%a, %d %b %Y %H:%M:%S +0000}</pubDate></item>"
            for a in self.articles[:FEED_ITEMS]
        )
        return (
            "<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel>"
            f"<title>The Daily Example</title><link>{base_url}</link>{items}</channel></rss>"
        )

    def truth(self, base_url: str) -> list[dict[str, Any]]:
        return [
            {
                "url": base_url + a.path.lstrip("/"),
                "title": a.title,
                "author": a.author,
                "published": a.published.isoformat(),
                "body": list(a.body),
            }
            for a in self.articles
        ]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        site, base = self.server.site, self.server.base_url
        path = urlsplit(self.path).path
        self.server.paths.append(path)
        kind, text = "text/html; charset=utf-8", None
        if path == "/":
            text = site.listing("Latest news", site.articles[:12])
        elif path == "/robots.txt":
            kind = "text/plain"
            text = f"User-agent: *\nDisallow: /wp-admin/\nSitemap: {base}news-sitemap.xml\n"
        elif path == "/news-sitemap.xml":
            kind, text = "application/xml", site.news_sitemap(base)
        elif path == "/feed/":
            kind, text = "application/rss+xml", site.feed(base)
        elif path == "/about-us/":
            text = site.about()
        elif path == "/_mirror/truth.json":
            kind, text = "application/json", json.dumps(site.truth(base))
        elif path.startswith("/category/") and path.strip("/").split("/")[-1] in SECTIONS:
            section = path.strip("/").split("/")[-1]
            text = site.listing(section.title(), [a for a in site.articles if a.section == section])
        elif (article := site.by_path.get(path)) is not None:
            text = site.article_page(article)
        data = (text or "<html><body><h1>Not found</h1></body></html>").encode("utf-8")
        self.send_response(200 if text is not None else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, site: GenericSite) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.site = site
        self.paths: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class GenericMirror:
    """The generic news site served on 127.0.0.1 (a free port) while in a ``with``."""

    def __init__(self, articles: int = 24) -> None:
        self.site = GenericSite(articles)
        self._server = _Server(self.site)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return self._server.base_url

    @property
    def requested(self) -> list[str]:
        """The paths requested so far, in order."""
        return list(self._server.paths)

    def truth(self) -> list[dict[str, Any]]:
        return self.site.truth(self.base_url)

    def __enter__(self) -> GenericMirror:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
