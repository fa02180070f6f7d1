"""Arab News (www.arabnews.com): URLs, discovery paths and selectors.

Sources for each fact and how sure it is: ../shared/ARABNEWS.md in the project's
shared notes. The selectors are guesses from other people's scrapers, so the page
builder and splitter never rely on them alone: the visible text shape comes first.
"""

from __future__ import annotations

import re

from newscrawl.sites.profile import ID_SCHEMES, Selectors, SiteProfile

ARABNEWS = SiteProfile(
    name="arabnews",
    base_url="https://www.arabnews.com/",
    timezone="Asia/Riyadh",
    languages=("en",),
    # /node/<nid>/<section-slug>, also bare /node/<nid> (the site redirects it).
    article_path=re.compile(r"/node/(?P<id>\d+)(?:/(?P<slug>[a-z0-9][a-z0-9-]*))?/?"),
    id_scheme=ID_SCHEMES["drupal-node"],
    skip_path=re.compile(r"/amp/?$"),
    feed_paths=("/rss.xml",),
    sitemap_paths=("/sitemap.xml",),
    section_paths=(
        "/saudiarabia",
        "/middleeast",
        "/world",
        "/economy",
        "/sport",
        "/lifestyle",
        "/main-category/media",
    ),
    selectors=Selectors(
        listing_links="div.article-item-title a::attr(href), div.article-item-info a::attr(href)",
    ),
    # Arabic names and captions on an English site: Windows Arabic, else Western.
    encodings=("cp1256", "cp1252"),
)
PROFILE = ARABNEWS
