"""One spider per configured site (``newscrawl.sites.registry``) that has no spider
module of its own here: a site file is all a site needs to be crawled.

A bad site file stops here, as Scrapy loads its spiders: one line names the file and the
key, and the command (``scrapy list``, ``scrapy crawl``, ``newscrawl run``) exits 2. So
does a site file whose name another spider already has (``news``).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

from newscrawl.discover.spiders.base import NewsSpider
from newscrawl.sites import SiteFileError, SiteProfile, registry, site_source


def _own_spiders() -> dict[str, type[NewsSpider]]:
    """The spiders the other modules of this package define, by name."""
    package = sys.modules[__name__.rpartition(".")[0]]
    found: dict[str, type[NewsSpider]] = {}
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
                found[getattr(value, "name", "")] = value
    return found


def spider_class(profile: SiteProfile, class_name: str | None = None) -> type[NewsSpider]:
    """A spider crawling ``profile``'s site (run against a mirror with -a base_url=...)."""
    words = profile.name.replace("_", "-").split("-")
    return type(
        class_name or "".join(w.capitalize() for w in words) + "Spider",
        (NewsSpider,),
        {"name": profile.name, "site": profile, "__module__": __name__,
         "__doc__": f"{profile.base_url}, from its site profile."},
    )  # fmt: skip


def site_spiders(sites: dict[str, SiteProfile]) -> dict[str, type[NewsSpider]]:
    """A spider for each site with none of its own, under a class name of its own (the
    names ``daily-a`` and ``daily_a`` give two). Raises SiteFileError for a site whose
    name a spider of its own has, crawling another site."""
    own = _own_spiders()
    spiders: dict[str, type[NewsSpider]] = {}
    for profile in sites.values():
        if (taken := own.get(profile.name)) is not None:
            if getattr(taken, "site", None) is not profile:
                raise SiteFileError(
                    f"{site_source(profile.name)}: name: {profile.name!r} is the name of the "
                    f"{taken.__module__} spider"
                )
            continue
        spider = spider_class(profile)
        while spider.__name__ in spiders:
            spider = spider_class(profile, f"{spider.__name__}_")
        spiders[spider.__name__] = spider
    return spiders


try:
    _SPIDERS = site_spiders(registry())
except SiteFileError as exc:
    print(f"newscrawl: bad site file: {exc}", file=sys.stderr)
    raise SystemExit(2) from None

# Each spider once among the module's names: Scrapy's spider loader reads them all.
globals().update(_SPIDERS)
