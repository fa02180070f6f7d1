"""Quarantine: records that must not reach the output are kept aside with the reason.

Nothing is dropped silently. A story whose text is broken (mojibake from a charset the
fetch could not repair, U+FFFD replacement characters, a bot-challenge page's words) is
dropped here, before validation and dedup, so it never counts as seen; a record that
fails the story JSON Schema (spidermon's validation stage drops it) is caught on the
``item_dropped`` signal. Both go to ``<output>/<spider>/quarantine/<run file>.jsonl``,
one line each: ``{"reason", "errors", "quarantined_at", "record"}``.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DropItem

from newscrawl.schema import StoryRecord
from newscrawl.state import CrawlState
from newscrawl.validation import schema_errors, texts_faults

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)
STAT = "newscrawl/quarantined"
FOLDER = "quarantine"
VALIDATION_DROP = "Validation failed!"  # spidermon's DropItem message


class QuarantineDrop(DropItem):
    """A record dropped for broken text: quarantined with ``reason``."""

    def __init__(self, reason: str, errors: list[str]) -> None:
        super().__init__(f"quarantined ({reason}): {'; '.join(errors)[:200]}")
        self.reason = reason
        self.errors = errors


class QuarantinePipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.out: Any = None
        self.path: Path | None = None
        crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, StoryRecord):
            # The fields themselves: ItemAdapter.asdict() per story costs more than the check.
            found = texts_faults([item.title, *item.summary, *item.body, item.caption or ""])
            if found is not None:
                raise QuarantineDrop(*found)
        return item

    def item_dropped(self, item: Any, exception: BaseException) -> None:
        if not isinstance(item, StoryRecord):
            return
        if isinstance(exception, QuarantineDrop):
            self.keep(ItemAdapter(item).asdict(), exception.reason, exception.errors)
            return
        # Spidermon's validation stage says only this; dedup's drops (most drops) say why.
        if str(exception) != VALIDATION_DROP:
            return
        record = ItemAdapter(item).asdict()
        errors = schema_errors(record)
        self.keep(record, "invalid", errors or ["failed spidermon's validation"])

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
            stats.inc_value(f"{STAT}/{reason}")
            stats.inc_value(STAT)
            stats.set_value(f"{STAT}/path", str(self.path))
        logger.warning(
            "Quarantined a story of %s (%s): %s", record.get("page_url"), reason, errors[0]
        )

    def spider_closed(self) -> None:
        if self.out is not None:
            os.fsync(self.out.fileno())
            self.out.close()
