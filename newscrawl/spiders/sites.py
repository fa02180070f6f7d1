"""One spider per configured site (``newscrawl.sites.registry``) that has no spider
module of its own here: a site file is all a site needs to be crawled.

A bad site file stops here, as Scrapy loads its spiders: one line names the file and the
key, and the command (``scrapy list``, ``scrapy crawl``, ``newscrawl run``) exits 2.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

from newscrawl.sites import SiteFileError, SiteProfile, registry
from newscrawl.spiders.base import NewsSpider


def _own_spiders() -> set[str]:
    """The names of the spiders the other modules of this package define."""
    package = sys.modules[__name__.rpartition(".")[0]]
    names: set[str] = set()
    for module in pkgutil.iter_modules(package.__path__):
        if f"{package.__name__}.{module.name}" == __name__:
            continue
        loaded = importlib.import_module(f"{package.__name__}.{module.name}")
        for value in vars(loaded).values():
            if (
                isinstance(value, type)
                and issubclass(value, NewsSpider)
                and value.__module__ == loaded.__name__
            ):
                names.add(getattr(value, "name", ""))
    return names


def spider_class(profile: SiteProfile) -> type[NewsSpider]:
    """A spider crawling ``profile``'s site (run against a mirror with -a base_url=...)."""
    words = profile.name.replace("_", "-").split("-")
    return type(
        "".join(w.capitalize() for w in words) + "Spider",
        (NewsSpider,),
        {"name": profile.name, "site": profile, "__module__": __name__,
         "__doc__": f"{profile.base_url}, from its site profile."},
    )  # fmt: skip


try:
    _SITES = registry()
except SiteFileError as exc:
    print(f"newscrawl: bad site file: {exc}", file=sys.stderr)
    raise SystemExit(2) from None


def _site_spiders() -> dict[str, type[NewsSpider]]:
    own = _own_spiders()
    spiders = [spider_class(p) for p in _SITES.values() if p.name not in own]
    return {spider.__name__: spider for spider in spiders}


# Each spider once among the module's names: Scrapy's spider loader reads them all.
globals().update(_site_spiders())
