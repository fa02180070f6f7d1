"""Arab News (www.arabnews.com). Run against a mirror with ``-a base_url=...``."""

from __future__ import annotations

from newscrawl.sites.arabnews import ARABNEWS
from newscrawl.spiders.base import NewsSpider


class ArabNewsSpider(NewsSpider):
    name = "arabnews"
    site = ARABNEWS
