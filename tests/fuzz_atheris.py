"""Atheris harness for the pure core: page records, the story splitter, timestamps.

Not collected by pytest (the name does not start with ``test_``) and atheris is no
project dependency. Install it (``pip install atheris``, wheels for CPython 3.11) and run
from the repository root, with any libFuzzer flags:

    python tests/fuzz_atheris.py -max_total_time=60

Each input picks one entry point and is cut into its arguments by atheris'
FuzzedDataProvider. An exception that escapes, or a broken promise (an assert), is a
finding: libFuzzer stops and writes the input to ``crash-<hash>``; replay it with
``python tests/fuzz_atheris.py crash-<hash>``. tests/test_fuzz.py holds the same
properties as fast hypothesis tests.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import atheris  # type: ignore
import jsonschema

with atheris.instrument_imports(include=["newscrawl"]):
    from newscrawl.page.walk import build_page_record, parse_html
    from newscrawl.records.page import Block
    from newscrawl.records.story import STORY_SCHEMA
    from newscrawl.sites import get_site
    from newscrawl.stories.content import stories_from_page
    from newscrawl.stories.split import split_blocks
    from newscrawl.stories.timestamps import Anchor, anchor_from_headers, parse_timestamp

UTC = timezone.utc
SITE = get_site("arabnews")
RECEIVED = datetime(2025, 2, 6, 12, 0, tzinfo=UTC)
YEAR_ONE = datetime(1, 1, 1, tzinfo=UTC)
SECONDS_IN_RANGE = int((datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC) - YEAR_ONE).total_seconds())
ZONES = (SITE.timezone, "UTC", "Pacific/Kiritimati", "Etc/GMT+12", "Europe/Paris")
LANGUAGES = (SITE.languages, ("fr",), ("ar",), ("en", "fr", "ar"))
VALIDATOR = jsonschema.Draft202012Validator(
    STORY_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
)
TAGS = ("", "p", "h1", "h2", "li", "time", "img", "figcaption", "div")


def page(data: Any) -> None:
    """Page body and response headers, as the spider gets them, to valid story records."""
    date = data.ConsumeUnicodeNoSurrogates(data.ConsumeIntInRange(0, 40)) or None
    age = data.ConsumeIntInRange(0, 2**40) if data.ConsumeBool() else None
    root = parse_html(data.ConsumeBytes(data.remaining_bytes()))
    if root is None:
        return
    record = build_page_record(
        url=f"{SITE.base_url}/node/2600001/world",
        status=200,
        root=root,
        fetched_at=RECEIVED.isoformat(),
        response_date=date,
        response_age=age,
        site=SITE.name,
    )
    for story in stories_from_page(record, SITE).stories:
        VALIDATOR.validate(story.to_record())


def blocks(data: Any) -> None:
    """The splitter on any block list: its stories are made of the blocks' lines."""
    found: list[Block] = []
    while data.remaining_bytes() and len(found) < 80:
        found.append(
            Block(
                text=data.ConsumeUnicode(data.ConsumeIntInRange(0, 60)),
                tag=TAGS[data.ConsumeIntInRange(0, len(TAGS) - 1)],
                classes=tuple(data.ConsumeUnicode(6) for _ in range(data.ConsumeIntInRange(0, 2))),
                path=tuple(data.ConsumeUnicode(8) for _ in range(data.ConsumeIntInRange(0, 6))),
                attrs={"href": data.ConsumeUnicode(20)} if data.ConsumeBool() else {},
            )
        )
    lines = {block.text.strip() for block in found}
    for story in split_blocks(found).stories:
        assert story.title in lines
        assert story.body
        assert set(story.body) <= lines


def timestamp(data: Any) -> None:
    """A printed time at any anchor in datetime's range: an honest interval or an error."""
    at = YEAR_ONE + timedelta(seconds=data.ConsumeIntInRange(0, SECONDS_IN_RANGE))
    anchor = Anchor(at, "given", data.ConsumeIntInRange(0, 10**6), data.ConsumeIntInRange(0, 2))
    zone = ZONES[data.ConsumeIntInRange(0, len(ZONES) - 1)]
    languages = LANGUAGES[data.ConsumeIntInRange(0, len(LANGUAGES) - 1)]
    headers = data.ConsumeUnicode(40), data.ConsumeUnicode(12)
    anchor_from_headers(*headers, RECEIVED)
    text = data.ConsumeUnicode(data.remaining_bytes())
    found = parse_timestamp(text, anchor=anchor, timezone=zone, languages=languages)
    if found.value is not None:
        assert found.earliest is not None
        assert found.latest is not None
        assert found.earliest <= found.value <= found.latest


ENTRY_POINTS = (page, blocks, timestamp)


def fuzz_one(raw: bytes) -> None:
    data = atheris.FuzzedDataProvider(raw)
    ENTRY_POINTS[data.ConsumeIntInRange(0, len(ENTRY_POINTS) - 1)](data)


if __name__ == "__main__":
    atheris.Setup(sys.argv, fuzz_one)
    atheris.Fuzz()
