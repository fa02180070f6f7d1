"""The page record: what one fetched article page holds, before it is split into stories.

Made by the page stage (``newscrawl.page``), read by the story stage (``newscrawl.stories``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(slots=True)  # not frozen: a frozen dataclass is built twice as slowly
class Block:
    """One visible text block (or image) of a page, in document order. Never changed
    once the page record holds it."""

    text: str
    tag: str = ""  # "" for a line of plain page text with no markup
    classes: tuple[str, ...] = ()
    # Ancestors from <body> down, each "tag.class[index]" (index among element siblings),
    # so blocks in the same story container share a prefix.
    path: tuple[str, ...] = ()
    attrs: dict[str, str] = field(default_factory=dict)
    # Part of the page's main content (not navigation, teasers, share bars, footers...).
    main: bool = True

    def to_record(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "tag": self.tag,
            "classes": list(self.classes),
            "path": list(self.path),
            "attrs": dict(self.attrs),
            "main": self.main,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Block:
        return cls(
            text=str(record.get("text", "")),
            tag=str(record.get("tag", "")),
            classes=tuple(record.get("classes") or ()),
            path=tuple(record.get("path") or ()),
            attrs=dict(record.get("attrs") or {}),
            main=bool(record.get("main", True)),
        )


@dataclass
class PageRecord:
    """One fetched article page (the crawl's page-level item)."""

    url: str
    canonical_url: str | None
    status: int
    fetched_at: str  # ISO 8601, UTC
    response_date: str | None  # the Date header as sent
    response_age: int | None  # the Age header in seconds, when a cache served the page
    site: str
    language: str | None
    title: str | None
    meta: dict[str, str]
    links: dict[str, str]
    jsonld: list[Any]
    blocks: list[Block]
    # What the feed or sitemap that listed the page said of it: {"source", "time"}, and
    # from a news sitemap "kind" ("publication": the time is the story's publication),
    # "title" and "language".
    listed: dict[str, str] | None = None

    def to_record(self) -> dict[str, Any]:
        return {**asdict(replace(self, blocks=[])), "blocks": [b.to_record() for b in self.blocks]}


def path_segment(tag: str, classes: tuple[str, ...], index: int) -> str:
    """One step of a block's path: ``tag.class.class[index]``, the index among the
    element's siblings (``div.share-widget[3]``; ``p[0]`` with no class)."""
    return f"{tag}.{'.'.join(classes)}[{index}]" if classes else f"{tag}[{index}]"


def segment_name(segment: str) -> str:
    """A path step without its index: ``tag.class.class``."""
    return segment.partition("[")[0]


def segment_element(segment: str) -> tuple[str, tuple[str, ...]]:
    """A path step (or its name) read back: its tag and class names."""
    tag, *classes = segment_name(segment).split(".")
    return tag, tuple(classes)
