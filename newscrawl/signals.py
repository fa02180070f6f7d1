"""Signals newscrawl's stages send, beside Scrapy's own (``crawler.signals``)."""

from __future__ import annotations

# A page was split into its stories: ``page_key``, ``stories`` (how many it gave),
# ``fetched_at``, ``listed`` (what its feed or sitemap entry said) and ``lease`` (the
# distributed run's lease of the request, or None). The run's page tracker counts the
# page as fetched once each of those stories is written or known.
page_split = object()
