"""The story record: its fields, and its JSON Schema.

The one place the output schema lives. ``newscrawl/story.schema.json`` (the file
downstream readers validate against) is generated from ``STORY_SCHEMA``
(``python -m newscrawl.records.story > newscrawl/story.schema.json``) and a test checks
that the file, this module and ``StoryRecord`` agree.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict

PRECISIONS = ["second", "minute", "hour", "day", "week", "month", "year"]
TIME_SOURCES = ["text", "time-element", "meta", "json-ld", "feed", "sitemap", "url"]
ANCHOR_BASES = ["date-age", "date", "received", "given"]


class AnchorRecord(TypedDict):
    """What a relative time was read against: an instant, and where it came from."""

    at: str  # ISO 8601, UTC
    basis: str  # one of ANCHOR_BASES


class TimeRecord(TypedDict):
    """A printed time read as an interval that surely holds the true time, as the record
    holds it (JSON-ready: instants are ISO 8601 in UTC); see ``_TIMESTAMP``."""

    raw: str | None
    value: str | None
    earliest: str | None
    latest: str | None
    precision: str | None  # one of PRECISIONS
    source: str | None  # one of TIME_SOURCES
    anchor: AnchorRecord | None
    error: str | None


@dataclass
class StoryRecord:
    """One story: the crawl's output record."""

    id: str
    site: str
    language: str | None
    position: int
    page_url: str
    url: str | None
    title: str
    summary: list[str]
    dateline: str | None
    body: list[str]
    caption: str | None
    image_url: str | None
    updated: TimeRecord
    updated_machine: TimeRecord | None
    published: TimeRecord | None
    fetched_at: str
    # Set by the dedup stage (newscrawl/dedup/).
    key: str | None = None
    version: int | None = None
    fingerprint: str | None = None
    previous_fingerprint: str | None = None
    first_seen: str | None = None
    last_seen: str | None = None
    duplicate_of: str | None = None
    # The story's authors: the page's JSON-LD and meta for its first story, else the
    # names on the story's byline.
    authors: list[str] = field(default_factory=list)
    # The site's section the page files its first story under (article:section, JSON-LD
    # articleSection); null for appended stories and pages that name none.
    section: str | None = None

    def to_record(self) -> dict[str, Any]:
        """The record as a dict of its own (its lists and dicts copied)."""
        return asdict(self)

    def fields(self) -> dict[str, Any]:
        """The record as a dict, its values shared with the record, not copied: what the
        pipelines read, at a fraction of the cost of ``to_record`` or
        ``ItemAdapter.asdict``, which copy every list and dict in it."""
        return dict(vars(self))


# Fields added to the record since it was first written, with what a record written
# before them reads as: a killed run's file from an older newscrawl is upgraded when it is
# recovered, not quarantined for lacking them.
ADDED_FIELDS: dict[str, Any] = {"authors": [], "section": None}


def upgraded(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with the fields added since it was written, else ``record`` itself."""
    missing = {
        name: list(value) if isinstance(value, list) else value
        for name, value in ADDED_FIELDS.items()
        if name not in record
    }
    return {**record, **missing} if missing else record


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_TEXT = {"type": "string", "minLength": 1}
_FINGERPRINT = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
_INSTANT = {"type": "string", "format": "date-time", "pattern": r"(Z|[+-]\d\d:\d\d)$"}
_TIMESTAMP: dict[str, Any] = {
    "type": "object",
    "description": "A printed time read as an interval that surely holds the true time.",
    "additionalProperties": False,
    "required": [
        "raw", "value", "earliest", "latest", "precision", "source", "anchor", "error",
    ],
    "properties": {
        "raw": _nullable({"type": "string"}),
        "value": _nullable(_INSTANT),
        "earliest": _nullable(_INSTANT),
        "latest": _nullable(_INSTANT),
        "precision": _nullable({"enum": PRECISIONS}),
        "source": _nullable({"enum": TIME_SOURCES}),
        "anchor": _nullable(
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["at", "basis"],
                "properties": {"at": _INSTANT, "basis": {"enum": ANCHOR_BASES}},
            }
        ),
        "error": _nullable({"type": "string"}),
    },
}  # fmt: skip

STORY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://newscrawl.invalid/story.schema.json",
    "title": "newscrawl story record",
    "type": "object",
    "additionalProperties": False,
    "required": list(StoryRecord.__dataclass_fields__),
    "properties": {
        "id": {**_TEXT, "description": "site:node-id, or site:sha256:<hash of title and lead>"},
        "site": _TEXT,
        "language": _nullable({"type": "string"}),
        "position": {"type": "integer", "minimum": 0},
        "page_url": _TEXT,
        "url": _nullable(_TEXT),
        "title": _TEXT,
        "summary": {"type": "array", "items": _TEXT},
        "dateline": _nullable(_TEXT),
        "body": {"type": "array", "items": _TEXT, "minItems": 1},
        "caption": _nullable(_TEXT),
        "image_url": _nullable(_TEXT),
        "updated": _TIMESTAMP,
        "updated_machine": _nullable(_TIMESTAMP),
        "published": _nullable(_TIMESTAMP),
        "fetched_at": _INSTANT,
        # Set by the dedup stage; null only when a crawl runs without it.
        "key": _nullable({**_TEXT, "description": "the story's identity across pages and runs"}),
        "version": _nullable({"type": "integer", "minimum": 1}),
        "fingerprint": _nullable(_FINGERPRINT),
        "previous_fingerprint": _nullable(_FINGERPRINT),
        "first_seen": _nullable(_INSTANT),
        "last_seen": _nullable(_INSTANT),
        "duplicate_of": _nullable(_TEXT),
        "authors": {"type": "array", "items": _TEXT},
        "section": _nullable(_TEXT),
    },
}


def schema_json() -> str:
    """The text of ``story.schema.json``."""
    return json.dumps(STORY_SCHEMA, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    print(schema_json(), end="")
