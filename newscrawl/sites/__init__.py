"""Site profiles: everything newscrawl knows about one news site, in one place.

A site is a file of configuration (``newscrawl/sites/<name>.toml``, or one in a folder
``NEWSCRAWL_SITES`` names; see ``newscrawl.sites.files``), or, for a site that needs
code, a module here defining ``PROFILE``. One registry holds them all: Scrapy's spider
list (one spider per site), ``newscrawl run``, ``split --site`` and scrapyd read it.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from functools import lru_cache
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from newscrawl.sites.files import load_site_file
from newscrawl.sites.profile import (
    ANY_ARTICLE_PATH,
    ID_SCHEMES,
    DrupalNodeIds,
    IdScheme,
    Origin,
    PathIds,
    Selectors,
    SiteFileError,
    SiteProfile,
    origin,
    page_key,
    site_root,
)

__all__ = [
    "ANY_ARTICLE_PATH",
    "ID_SCHEMES",
    "SITES_PATH_ENV",
    "DrupalNodeIds",
    "IdScheme",
    "Origin",
    "PathIds",
    "Selectors",
    "SiteFileError",
    "SiteProfile",
    "get_site",
    "origin",
    "page_key",
    "registry",
    "site_files",
    "site_root",
    "site_source",
]

SITES_PATH_ENV = "NEWSCRAWL_SITES"


def site_files() -> list[Path | Traversable]:
    """The site files newscrawl reads: its own (``newscrawl/sites/*.toml``, read as
    package data, so also from an egg scrapyd runs), then those in the folders
    ``NEWSCRAWL_SITES`` names."""
    own = sorted(
        (f for f in resources.files(__name__).iterdir() if f.name.endswith(".toml")),
        key=lambda f: f.name,
    )
    folders = [Path(p) for p in os.environ.get(SITES_PATH_ENV, "").split(os.pathsep) if p]
    if missing := [str(folder) for folder in folders if not folder.is_dir()]:
        raise SiteFileError(f"{SITES_PATH_ENV}: no such folder: {', '.join(missing)}")
    return [*own, *(path for folder in folders for path in sorted(folder.glob("*.toml")))]


@lru_cache(maxsize=1)
def registry() -> dict[str, SiteProfile]:
    """Every configured site by name: the Python profiles in this package (a module
    defining ``PROFILE``) and the site files. Raises SiteFileError for a bad file, or
    for two sites of one name."""
    found: dict[str, tuple[SiteProfile, str]] = {}

    def add(profile: SiteProfile, source: str) -> None:
        if profile.name in found:
            raise SiteFileError(
                f"{source}: name: site {profile.name!r} is already declared in "
                f"{found[profile.name][1]}"
            )
        found[profile.name] = profile, source

    for module in pkgutil.iter_modules(__path__):
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        if isinstance(profile := getattr(loaded, "PROFILE", None), SiteProfile):
            add(profile, loaded.__file__ or module.name)
    for path in site_files():
        add(load_site_file(path), str(path))
    _SOURCES.clear()
    _SOURCES.update({name: source for name, (_, source) in found.items()})
    return {name: profile for name, (profile, _) in sorted(found.items())}


_SOURCES: dict[str, str] = {}


def site_source(name: str) -> str:
    """Where the registry read the site ``name`` from: its file, or its module's."""
    registry()
    return _SOURCES.get(name, name)


def get_site(name: str) -> SiteProfile:
    """The profile of a site by its name; raises KeyError with the known names."""
    sites = registry()
    try:
        return sites[name]
    except KeyError:
        raise KeyError(f"unknown site {name!r}; known sites: {', '.join(sites)}") from None
