"""Arab News (www.arabnews.com). Run against a mirror with ``-a base_url=...``."""

from __future__ import annotations

from newscrawl.discover.spiders.base import NewsSpider
from newscrawl.sites.arabnews import ARABNEWS


class ArabNewsSpider(NewsSpider):
    name = "arabnews"
    site = ARABNEWS
