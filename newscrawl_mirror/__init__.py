"""Local mirror of the Arab News site: deterministic content served on 127.0.0.1.

Tests and benchmarks crawl this instead of the internet.
"""

from newscrawl_mirror.content import (
    FIRST_NID,
    SECTIONS,
    SITE_TIMEZONE,
    Article,
    MarkupVariant,
    MirrorSite,
    PageLayout,
    format_interval,
    updated_text,
)
from newscrawl_mirror.faults import ALL_FAULTS, FEED_FAULTS, PAGE_FAULTS, FaultPlan
from newscrawl_mirror.render import LISTING_PAGES, SITEMAP_PAGE_SIZE
from newscrawl_mirror.server import LoggedRequest, MirrorServer, main

__all__ = [
    "ALL_FAULTS",
    "FEED_FAULTS",
    "FIRST_NID",
    "LISTING_PAGES",
    "PAGE_FAULTS",
    "SECTIONS",
    "SITEMAP_PAGE_SIZE",
    "SITE_TIMEZONE",
    "Article",
    "FaultPlan",
    "LoggedRequest",
    "MarkupVariant",
    "MirrorServer",
    "MirrorSite",
    "PageLayout",
    "format_interval",
    "main",
    "updated_text",
]
