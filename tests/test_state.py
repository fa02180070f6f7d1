"""The crawl state's bookkeeping: pages, memory, recovery, the run verdict."""

from __future__ import annotations

import fcntl
import json
from pathlib import Path
from typing import Any

from scrapy.utils.test import get_crawler

from newscrawl.cli.run import EXIT_CRASHED, EXIT_FAILED, EXIT_OK, verdict
from newscrawl.dedup.decide import StoryDedup
from newscrawl.discover.spiders.arabnews import ArabNewsSpider
from newscrawl.run.ledger import PARTIAL
from newscrawl.run.state import CrawlState
from tests.crawling import project_settings
from tests.records import story_line


def new_state(output: Path) -> CrawlState:
    crawler = get_crawler(ArabNewsSpider, project_settings(NEWSCRAWL_OUTPUT_DIR=str(output)))
    crawler.spider = crawler._create_spider()  # names the output folder
    return CrawlState(crawler)


def record(n: int) -> dict[str, Any]:
    return {
        "id": f"arabnews:{n}",
        "site": "arabnews",
        "url": None,
        "title": f"Story number {n} about the port",
        "summary": [],
        "dateline": None,
        "body": [f"RIYADH: Paragraph of story {n} with enough words to sketch it well."],
        "caption": None,
        "fetched_at": "2025-03-01T10:00:00+00:00",
    }


def test_a_page_whose_stories_were_all_dropped_counts_as_fetched(tmp_path: Path) -> None:
    state = new_state(tmp_path)
    state.pages.page_opened("arabnews:p/1", 2, "2025-03-01T10:00:00+00:00", None)
    state.pages.story_settled("arabnews:p/1")  # a duplicate
    assert [p.key for p in state.pages.settled] == []
    state.pages.story_settled("arabnews:p/1")  # invalid
    assert [p.key for p in state.pages.settled] == ["arabnews:p/1"]
    state.close(publish=False)


def test_committed_decisions_leave_memory(tmp_path: Path) -> None:
    state = new_state(tmp_path)
    state.open()
    dedup = StoryDedup(state.crawler, state)
    for n in range(50):
        decision = dedup.decide(record(n))
        state.write({**record(n), **decision.fields}, None)
    state.commit()
    assert dedup.overlay_stories == {}
    assert dedup.overlay_fingerprints == {}
    # Still known: through the store now.
    assert not dedup.decide(record(7)).emit
    state.close(publish=True)


def test_recovery_leaves_a_partial_file_that_a_live_run_holds(tmp_path: Path) -> None:
    partial = tmp_path / "arabnews" / PARTIAL
    partial.mkdir(parents=True)
    live = partial / "20250301T100000Z-aaaaaa.jsonl"
    live.write_text(json.dumps(story_line(1)) + "\n")
    stray = partial / "nightly.jsonl"
    stray.write_text("{}\n")
    with live.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        state = new_state(tmp_path)
        state.open()
        assert live.exists()  # left to the run that writes it
        state.close(publish=False)
    later = new_state(tmp_path)
    later.open()  # the writer is gone: now it is a killed run's file
    assert not live.exists()
    assert list((tmp_path / "arabnews").glob("2025/03/01/20250301T100000Z-aaaaaa.jsonl"))
    assert stray.exists()  # not a run file: left alone
    later.close(publish=False)


def test_verdict() -> None:
    passed = {"newscrawl/monitors/failed": [], "newscrawl/committed": True}
    assert verdict(passed, None) == (EXIT_OK, "all monitors passed", [])
    failed = {**passed, "newscrawl/monitors/failed": ["Field coverage: body found in 44%"]}
    assert verdict(failed, None)[:2] == (EXIT_FAILED, "Field coverage: body found in 44%")
    uncommitted: dict[str, Any] = {"newscrawl/monitors/failed": []}
    assert verdict(uncommitted, None)[0] == EXIT_CRASHED
    assert verdict({}, None)[0] == EXIT_CRASHED
    assert verdict(passed, "the crawl could not start")[0] == EXIT_CRASHED
