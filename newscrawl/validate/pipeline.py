"""The validate stage: a record that must not reach the output is kept aside, with why.

Nothing is dropped silently. One pipeline checks each story record before dedup, so a
record that fails never counts as seen:
* its text (mojibake from a charset the fetch could not repair, U+FFFD replacement
  characters, a bot-challenge page's words): ``broken-text``, ``challenge-text``;
* the story JSON Schema (``newscrawl.records.story``), formats included: ``invalid``,
  counted in ``newscrawl/validation/invalid`` for the run monitors.
Both go to ``<output>/<spider>/quarantine/<run file>.jsonl``, one line each:
``{"reason", "errors", "quarantined_at", "record"}``.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DropItem

from newscrawl import names
from newscrawl.records.checks import schema_errors, texts_faults
from newscrawl.records.story import StoryRecord
from newscrawl.run.state import CrawlState

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)
FOLDER = "quarantine"


class QuarantineDrop(DropItem):
    """A record dropped for broken text or for failing the schema: quarantined with
    ``reason``."""

    def __init__(self, reason: str, errors: list[str]) -> None:
        super().__init__(f"quarantined ({reason}): {'; '.join(errors)[:200]}")
        self.reason = reason
        self.errors = errors


class ValidationPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.out: Any = None
        self.path: Path | None = None
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, StoryRecord):
            return item
        record = item.fields()
        found = texts_faults([item.title, *item.summary, *item.body, item.caption or ""])
        if found is None:
            errors = schema_errors(record)
            if not errors:
                return item
            found = ("invalid", errors)
            if self.crawler.stats is not None:
                self.crawler.stats.inc_value(names.INVALID)
        self.keep(record, *found)
        raise QuarantineDrop(*found)

    def keep(self, record: dict[str, Any], reason: str, errors: list[str]) -> None:
        if self.out is None:
            state = CrawlState.of(self.crawler)
            self.path = state.spider_dir / FOLDER / f"{state.file_id}.jsonl"
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.out = self.path.open("a", encoding="utf-8")
        line = {
            "reason": reason,
            "errors": errors,
            "quarantined_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "record": record,
        }
        self.out.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
        self.out.flush()
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value(names.stat(names.QUARANTINED, reason))
            stats.inc_value(names.QUARANTINED)
            stats.set_value(names.stat(names.QUARANTINED, "path"), str(self.path))
        logger.warning(
            "Quarantined a story of %s (%s): %s", record.get("page_url"), reason, errors[0]
        )

    def spider_closed(self) -> None:
        if self.out is not None:
            os.fsync(self.out.fileno())
            self.out.close()
