"""Site files: a site declared in a few lines of TOML, validated like spider arguments.

    name = "arabnews-fr"                      # the spider's name: letters, digits, - and _
    base_url = "https://www.arabnews.fr/"
    timezone = "Asia/Riyadh"                  # where the site's printed times are
    languages = ["fr"]                        # its pages' languages, the usual one first
    # Optional:
    article_path = '/node/(?P<id>\\d+)(?:/(?P<slug>[a-z0-9-]+))?/?'  # a regex for the path
    article_ids = "drupal-node"               # or "path" (the default): see ID_SCHEMES
    skip_path = '/amp/?$'                     # paths never fetched
    feeds = ["/rss.xml"]
    sitemaps = ["/sitemap.xml"]
    sections = ["/politique", "/monde"]
    extra_hosts = ["arabnews.fr"]
    encodings = ["cp1256", "cp1252"]          # what a page with a wrong charset may be in
    listing_links = "h2 a::attr(href)"        # CSS for article links on section pages

    [split_hints]                             # added to the splitter's defaults
    widget_lines = ["Suivre"]
    widget_classes = ["partage"]

Every key is checked; an unknown key, a bad value or a missing one is a SiteFileError
naming the file and the key.
"""

from __future__ import annotations

import codecs
import re
import sys
from importlib.abc import Traversable
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cssselect import SelectorError
from parsel.csstranslator import HTMLTranslator
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from newscrawl.sites.hints import DEFAULT_HINTS
from newscrawl.sites.profile import (
    ANY_ARTICLE_PATH,
    ID_SCHEMES,
    Selectors,
    SiteFileError,
    SiteProfile,
    site_root,
)
from newscrawl.text import known_language

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib


# A host name: dot-separated labels of letters, digits and inner hyphens.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*", re.IGNORECASE)


class SplitHintsFile(BaseModel):
    """Words a site adds to the splitter's defaults (see ``newscrawl.stories.split.SplitHints``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    widget_lines: tuple[str, ...] = ()
    widget_classes: tuple[str, ...] = ()
    section_classes: tuple[str, ...] = ()
    summary_classes: tuple[str, ...] = ()
    furniture_tags: tuple[str, ...] = ()


class SiteFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    base_url: str
    timezone: str
    languages: tuple[str, ...] = Field(min_length=1)
    article_path: str | None = None
    article_ids: Literal["path", "drupal-node"] = "path"
    skip_path: str | None = None
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    extra_hosts: tuple[str, ...] = ()
    encodings: tuple[str, ...] = ("cp1252",)
    listing_links: str = Selectors().listing_links
    split_hints: SplitHintsFile = SplitHintsFile()

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        return site_root(value)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe", a folder
            raise ValueError(f"unknown timezone {value!r} (an IANA name: Europe/Paris)") from None
        return value

    @field_validator("languages")
    @classmethod
    def _check_languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # A region is read as its language ("pt-BR" as pt), as a page's lang attribute is.
        codes = tuple(
            dict.fromkeys(c.strip().replace("_", "-").split("-")[0].lower() for c in value)
        )
        if unknown := [code for code in codes if not known_language(code)]:
            raise ValueError(f"unknown language code(s) {', '.join(map(repr, unknown))}")
        return codes

    @field_validator("article_path", "skip_path")
    @classmethod
    def _check_pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"not a regular expression: {exc}") from None
        return value

    @field_validator("feeds", "sitemaps", "sections")
    @classmethod
    def _check_paths(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for path in value:
            if not path.startswith("/"):
                raise ValueError(f"{path!r} is not a path on the site: a path starts with /")
        return value

    @field_validator("extra_hosts")
    @classmethod
    def _check_hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for host in value:
            if not _HOST.fullmatch(host):
                raise ValueError(f"{host!r} is not a host name (news.example, no scheme or path)")
        return value

    @field_validator("listing_links")
    @classmethod
    def _check_selector(cls, value: str) -> str:
        try:
            HTMLTranslator().css_to_xpath(value)
        except SelectorError as exc:
            raise ValueError(f"not a CSS selector: {exc}") from None
        return value

    @field_validator("encodings")
    @classmethod
    def _check_encodings(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            try:
                codecs.lookup(name)
            except LookupError:
                raise ValueError(f"unknown encoding {name!r}") from None
        return value

    def profile(self) -> SiteProfile:
        pattern = re.compile(self.article_path) if self.article_path else ANY_ARTICLE_PATH
        if self.article_ids == "drupal-node" and "id" not in pattern.groupindex:
            raise ValueError(
                "article_ids: 'drupal-node' needs an (?P<id>...) group in article_path"
            )
        hints = self.split_hints.model_dump(exclude_defaults=True)
        return SiteProfile(
            name=self.name,
            base_url=self.base_url,
            timezone=self.timezone,
            languages=self.languages,
            article_path=pattern,
            id_scheme=ID_SCHEMES[self.article_ids],
            skip_path=re.compile(self.skip_path) if self.skip_path else None,
            feed_paths=self.feeds,
            sitemap_paths=self.sitemaps,
            section_paths=self.sections,
            extra_hosts=self.extra_hosts,
            encodings=self.encodings,
            selectors=Selectors(listing_links=self.listing_links),
            split_hints=DEFAULT_HINTS.adding(**hints) if hints else DEFAULT_HINTS,
        )


def load_site_file(path: Path | Traversable) -> SiteProfile:
    """The profile a site file declares; raises SiteFileError naming the file and key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SiteFileError(f"{path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SiteFileError(f"{path}: not TOML: {exc}") from None
    try:
        return SiteFile.model_validate(data).profile()
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"]) or "(file)"
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        raise SiteFileError(f"{path}: {key}: {message.removeprefix('Value error, ')}") from None
    except ValueError as exc:
        raise SiteFileError(f"{path}: {exc}") from None
