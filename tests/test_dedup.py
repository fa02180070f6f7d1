"""Each story once, across pages and runs; changes as new versions; crash safety.

Every test here runs on both seen stores: SQLite and a real Redis server.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from scrapy.utils.defer import deferred_f_from_coro_f

from newscrawl.cli.main import mirror_process
from newscrawl.discover.spiders.arabnews import ArabNewsSpider
from newscrawl.run.ledger import PARTIAL
from tests.conftest import Mirror
from tests.crawling import crawl, project_settings

pytestmark = pytest.mark.slow  # real crawls of the mirror

ROOT = Path(__file__).resolve().parent.parent
ARTICLE_PATH = re.compile(r"/node/\d+(/[a-z-]+)?")


@pytest.fixture
def own_mirror() -> Iterator[Mirror]:
    """A mirror of this test's own, free to be edited."""
    with mirror_process(36, 21) as base_url:
        yield Mirror(base_url)


def published(output: Path) -> list[dict[str, Any]]:
    """Every record in the run files downstream readers see, oldest run first."""
    records: list[dict[str, Any]] = []
    # In the order the runs published them (run ids of one second do not sort in order).
    for path in sorted(output.glob("arabnews/2*/*/*/*.jsonl"), key=lambda p: p.stat().st_mtime_ns):
        records += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return records


def served_stories(mirror: Mirror, nids: set[int] | None = None) -> dict[int, dict[str, Any]]:
    """The stories on the mirror's crawlable article pages (or on the pages ``nids``)."""
    truth = {article["nid"]: article for article in mirror.truth()}
    pages = nids if nids is not None else {n for n, a in truth.items() if not a["robots_blocked"]}
    shown = {n for page in pages for n in [page, *truth[page]["appended"]]}
    return {n: truth[n] for n in shown}


def text_of(story: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    return story["title"], tuple(story["body"])


def article_requests(mirror: Mirror) -> list[str]:
    return [e["path"] for e in mirror.requests() if ARTICLE_PATH.fullmatch(e["path"])]


@deferred_f_from_coro_f
async def test_each_story_once_though_it_stands_on_several_pages(
    mirror: Mirror, crawl_output: Path, store_settings: dict[str, Any]
) -> None:
    crawler, emitted = await crawl(
        ArabNewsSpider, project_settings(**store_settings), base_url=mirror.base_url
    )
    records = published(crawl_output)
    assert len(records) == len(emitted) > 0
    expected = served_stories(mirror)
    assert Counter(text_of(r) for r in records) == Counter(text_of(s) for s in expected.values())
    assert len({r["key"] for r in records}) == len(records)
    assert all(r["version"] == 1 and r["previous_fingerprint"] is None for r in records)
    stats = crawler.stats
    assert stats is not None
    # Stories stood on several pages: the copies were dropped, not emitted.
    copies = stats.get_value("newscrawl/dedup/duplicate", 0) + stats.get_value(
        "newscrawl/dedup/same-content-other-key", 0
    )
    assert copies == stats.get_value("newscrawl/stories") - len(records) > 0
    # Copies of stories written already were dropped by the story stage, before they
    # became items; every other story reached the pipelines.
    early = stats.get_value("newscrawl/dedup/known_before_items", 0)
    assert 0 < early <= copies
    items = stats.get_value("item_scraped_count", 0) + stats.get_value("item_dropped_count", 0)
    assert items + early >= stats.get_value("newscrawl/stories")
    assert not list((crawl_output / "arabnews" / PARTIAL).glob("*"))


@deferred_f_from_coro_f
async def test_a_storys_key_does_not_depend_on_which_page_came_first(
    mirror: Mirror, tmp_path: Path
) -> None:
    # Depth first, then breadth first, one request at a time: the appended copies of a
    # story are met before its own page in one order and after it in the other.
    orders: list[dict[str, Any]] = [
        {"DEPTH_PRIORITY": 0},
        {
            "DEPTH_PRIORITY": 1,
            "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
            "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        },
    ]
    keys = []
    for n, order in enumerate(orders):
        output = tmp_path / f"order-{n}"
        settings = project_settings(
            NEWSCRAWL_OUTPUT_DIR=str(output), CONCURRENT_REQUESTS=1, **order
        )
        crawler, _ = await crawl(ArabNewsSpider, settings, base_url=mirror.base_url)
        assert crawler.stats is not None
        assert crawler.stats.get_value("newscrawl/dedup/deferred", 0) > 0
        keys.append({text_of(r): r["key"] for r in published(output)})
    assert keys[0] == keys[1]
    # The site's id wherever the story's own page was crawled; a text hash only for
    # stories seen solely as appended copies (their own pages are off limits).
    truth = {(a["title"], tuple(a["body"])): a for a in mirror.truth()}
    for text, key in keys[0].items():
        article = truth[text]
        if article["robots_blocked"]:
            assert ":sha256:" in key or key == f"arabnews:{article['nid']}"
        else:
            assert key == f"arabnews:{article['nid']}", text[0]


@deferred_f_from_coro_f
async def test_reruns_fetch_and_emit_only_what_changed(
    own_mirror: Mirror, crawl_output: Path, store_settings: dict[str, Any]
) -> None:
    settings = project_settings(**store_settings)
    await crawl(ArabNewsSpider, settings, base_url=own_mirror.base_url)
    first = published(crawl_output)
    assert first

    # Nothing changed: listings are fetched again, no article page, no story.
    own_mirror.reset_log()
    crawler, emitted = await crawl(ArabNewsSpider, settings, base_url=own_mirror.base_url)
    assert emitted == []
    assert article_requests(own_mirror) == []
    requested = {e["path"] for e in own_mirror.requests()}
    assert {"/rss.xml", "/sitemap.xml", "/saudiarabia"} <= requested
    assert crawler.stats is not None
    # Counted once per article page, however many links pointed at it.
    crawlable = [a for a in own_mirror.truth() if not a["robots_blocked"]]
    assert 0 < crawler.stats.get_value("newscrawl/incremental/skipped", 0) <= len(crawlable)
    # The store is asked once per feed, sitemap or listing page, not once per link.
    listings = [path for path in requested if path != "/robots.txt"]
    links = crawler.stats.get_value("newscrawl/discovered/sitemaps", 0)
    assert 0 < crawler.stats.get_value("newscrawl/incremental/lookups", 0) <= len(listings) < links
    assert published(crawl_output) == first

    # One story edited: its page alone is fetched, and it comes out as version 2.
    edited = next(r for r in first if r["key"].split(":")[1].isdigit() and r["position"] == 0)
    nid = int(edited["key"].split(":")[1])
    body = ["RIYADH: The committee revised its report on Monday.", "A vote follows."]
    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    own_mirror.post(f"/_mirror/edit/{nid}", {"body": body, "updated_at": now})
    own_mirror.reset_log()
    _, emitted = await crawl(ArabNewsSpider, settings, base_url=own_mirror.base_url)
    assert [path.split("/")[2] for path in article_requests(own_mirror)] == [str(nid)]
    third = published(crawl_output)[len(first) :]
    assert len(third) == len(emitted) == 1
    assert third[0]["key"] == edited["key"]
    assert third[0]["version"] == 2
    assert third[0]["body"] == body
    assert third[0]["previous_fingerprint"] == edited["fingerprint"]
    assert third[0]["first_seen"] == edited["first_seen"]


def scrapy_crawl(
    base_url: str, output: Path, store: dict[str, Any], crash_at: str
) -> subprocess.Popen[bytes]:
    """``scrapy crawl arabnews`` in its own process, killed (SIGKILL) at the crash point
    ``crash_at`` (NEWSCRAWL_CRASH_AT, see newscrawl.run.ledger)."""
    command = [sys.executable, "-m", "scrapy", "crawl", "arabnews", "-a", f"base_url={base_url}"]
    settings = {
        "NEWSCRAWL_OUTPUT_DIR": str(output),
        "NEWSCRAWL_COMMIT_EVERY": 3,
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "LOG_LEVEL": "WARNING",
        **store,
    }
    for name, value in settings.items():
        command += ["-s", f"{name}={value}"]
    env = {**os.environ, "NEWSCRAWL_CRASH_AT": crash_at}
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


@deferred_f_from_coro_f
async def test_a_killed_run_loses_nothing_and_its_rerun_repeats_nothing(
    own_mirror: Mirror, crawl_output: Path, store_settings: dict[str, Any]
) -> None:
    partial = crawl_output / "arabnews" / PARTIAL
    # Killed as it writes its twelfth story: mid-crawl, whatever the machine's pace.
    process = scrapy_crawl(own_mirror.base_url, crawl_output, store_settings, "write.line:12")
    _, stderr = process.communicate(timeout=180)
    assert process.returncode == -signal.SIGKILL, stderr[-3000:]
    [left] = partial.glob("*.jsonl")
    assert left.read_bytes().count(b"\n") == 12  # the killed run's partial output
    assert published(crawl_output) == []  # nothing half-written where readers look

    crawler, _ = await crawl(
        ArabNewsSpider, project_settings(**store_settings), base_url=own_mirror.base_url
    )
    assert crawler.stats is not None
    assert crawler.stats.get_value("newscrawl/recovered/files") == 1
    records = published(crawl_output)
    expected = served_stories(own_mirror)
    assert Counter(text_of(r) for r in records) == Counter(text_of(s) for s in expected.values())
    assert len({r["key"] for r in records}) == len(records)
    assert not list(partial.glob("*"))
