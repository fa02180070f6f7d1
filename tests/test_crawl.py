"""Real crawls of the local mirror site."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit
from urllib.request import urlopen

import pytest
from itemadapter import ItemAdapter
from scrapy import Request
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.http import Response
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from newscrawl.cli.main import mirror_process
from newscrawl.discover.arguments import SpiderArgumentError
from newscrawl.discover.spiders.arabnews import ArabNewsSpider
from newscrawl.records.page import PageRecord
from tests.conftest import Mirror
from tests.crawling import crawl, project_settings

pytestmark = pytest.mark.slow  # real crawls of the mirror

ARTICLE_PATH = re.compile(r"/node/(\d+)/[a-z-]+")
SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


def listed_paths(mirror: Mirror) -> set[str]:
    """Article paths the mirror lists in its sitemap pages and its RSS feed."""
    paths: set[str] = set()

    def fetch(path: str) -> ET.Element:
        with urlopen(mirror.base_url.rstrip("/") + path, timeout=10) as reply:
            return ET.fromstring(reply.read())

    for loc in fetch("/sitemap.xml").iterfind(".//s:loc", SITEMAP_NS):
        page = (loc.text or "").split("/", 3)[3]
        for url in fetch("/" + page).iterfind(".//s:loc", SITEMAP_NS):
            paths.add("/" + (url.text or "").split("/", 3)[3])
    for link in fetch("/rss.xml").iterfind(".//item/link"):
        paths.add("/" + (link.text or "").split("/", 3)[3].split("?")[0])
    return paths


@deferred_f_from_coro_f
async def test_crawl_fetches_each_article_once_and_obeys_robots(mirror: Mirror) -> None:
    mirror.reset_log()
    settings = project_settings(NEWSCRAWL_EMIT_PAGES=True)
    crawler, items = await crawl(ArabNewsSpider, settings, base_url=mirror.base_url)
    items = [item for item in items if isinstance(item, PageRecord)]
    truth = {article["nid"]: article for article in mirror.truth()}
    log = mirror.requests()

    fetched = Counter(
        entry["path"]
        for entry in log
        if entry["status"] == 200 and ARTICLE_PATH.fullmatch(entry["path"])
    )
    listed = listed_paths(mirror)
    assert listed, "the mirror lists no articles"
    for path in listed:
        assert fetched[path] == 1, f"{path} fetched {fetched[path]} times"
    assert all(count == 1 for count in fetched.values()), fetched.most_common(3)

    blocked = {article["path"] for article in truth.values() if article["robots_blocked"]}
    assert blocked, "the mirror blocks no article; the robots.txt check would be empty"
    requested = {entry["path"].split("?")[0] for entry in log}
    assert not blocked & requested
    assert "/robots.txt" in requested
    # Off-site links (a different host name for the same server) and AMP copies.
    assert all(entry["host"].startswith("127.0.0.1") for entry in log)
    assert not [path for path in requested if path.endswith("/amp")]

    # One complete page record per article page fetched.
    assert sorted(item.url.split("/", 3)[3] for item in items) == sorted(
        path.lstrip("/") for path in fetched
    )
    for item in items:
        nid = int(ARTICLE_PATH.fullmatch("/" + item.url.split("/", 3)[3])[1])  # type: ignore[index]
        assert item.status == 200
        assert item.canonical_url == item.url
        assert item.site == "arabnews"
        assert item.language == "en"
        assert item.response_date
        assert item.fetched_at.endswith("+00:00")
        assert item.meta["og:title"] == truth[nid]["title"]
        texts = [block.text for block in item.blocks]
        for nid_on_page in [nid, *truth[nid]["appended"]]:
            assert truth[nid_on_page]["title"] in texts
            assert set(truth[nid_on_page]["body"]) <= set(texts)
        assert {"text", "tag", "classes", "path", "attrs"} <= set(item.to_record()["blocks"][0])
        if item.listed is not None:  # what the feed or sitemap said of the article
            if item.listed["source"] == "sitemap":
                assert item.listed["time"] == truth[nid]["updated_at"]
            else:
                assert item.listed["source"] == "feed"
    assert any(item.listed for item in items)
    assert crawler.stats is not None
    assert crawler.stats.get_value("newscrawl/pages") == len(items)
    assert crawler.stats.get_value("finish_reason") == "finished"


@deferred_f_from_coro_f
async def test_age_header_is_kept_on_cached_pages(mirror: Mirror) -> None:
    settings = project_settings(NEWSCRAWL_EMIT_PAGES=True)
    _, items = await crawl(ArabNewsSpider, settings, base_url=mirror.base_url, sources="sitemaps")
    items = [item for item in items if isinstance(item, PageRecord)]
    cached = {a["path"] for a in mirror.truth() if a["cached_age"]}
    ages = {"/" + item.url.split("/", 3)[3]: item.response_age for item in items}
    assert cached & set(ages), "no cached page was crawled"
    assert all(ages[path] is not None for path in cached & set(ages))
    assert all(ages[path] is None for path in set(ages) - cached)


@deferred_f_from_coro_f
async def test_sources_argument_limits_discovery(mirror: Mirror) -> None:
    mirror.reset_log()
    crawler, _ = await crawl(ArabNewsSpider, base_url=mirror.base_url, sources="feeds")
    requested = {entry["path"] for entry in mirror.requests()}
    assert "/rss.xml" in requested
    assert "/sitemap.xml" not in requested
    assert "/saudiarabia" not in requested
    assert crawler.stats is not None
    assert 0 < crawler.stats.get_value("newscrawl/pages") <= 50


@deferred_f_from_coro_f
async def test_crawl_writes_json_lines_feed(mirror: Mirror, tmp_path: Path) -> None:
    output = tmp_path / "out" / "%(name)s.jsonl"
    settings = project_settings(FEEDS={str(output): {"format": "jsonlines"}})
    _, items = await crawl(ArabNewsSpider, settings, base_url=mirror.base_url, sources="feeds")
    lines = (tmp_path / "out" / "arabnews.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == len(items) > 0
    assert records[0] == json.loads(json.dumps(ItemAdapter(items[0]).asdict()))


@deferred_f_from_coro_f
async def test_bad_spider_argument_fails_before_any_request(mirror: Mirror) -> None:
    mirror.reset_log()
    crawler = get_crawler(ArabNewsSpider, project_settings())
    with pytest.raises(SpiderArgumentError, match="unknown argument -a colour"):
        await crawler.crawl_async(base_url=mirror.base_url, colour="red")
    assert mirror.requests() == []


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("colour=red", "unknown argument -a colour"),
        ("base_url=ftp://example.org", "must be an http(s) URL"),
        ("sources=feeds,rumours", "-a sources="),
    ],
)
def test_scrapy_crawl_rejects_bad_arguments_with_exit_status_2(argument: str, message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "arabnews", "-a", argument],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parent.parent,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_scrapy_crawl_fails_when_nothing_can_be_fetched(tmp_path: Path) -> None:
    # A closed port on this machine: every download is refused.
    result = subprocess.run(
        [
            sys.executable, "-m", "scrapy", "crawl", "arabnews",
            "-a", "base_url=http://127.0.0.1:9",
            "-s", "RETRY_TIMES=0", "-s", f"NEWSCRAWL_OUTPUT_DIR={tmp_path}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Crawl failed: no page could be fetched" in result.stderr
    assert "ConnectionRefusedError" in result.stderr


def test_the_remote_control_extension_is_not_even_loaded() -> None:
    # Its module imports aiohttp (10 MB): a crawler loading its extensions must not.
    script = """
import sys
from scrapy.utils.test import get_crawler
from tests.crawling import project_settings
crawler = get_crawler(settings_dict=project_settings())
print(sorted(type(extension).__name__ for extension in crawler.extensions.middlewares))
print("scrapy.extensions.remote_control" in sys.modules, "aiohttp" in sys.modules)
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parent.parent,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    loaded, imported = result.stdout.splitlines()
    assert "CoreStats" in loaded  # Scrapy's other extensions still load
    assert "CrawlState" in loaded  # and ours
    assert imported == "False False"


def test_a_single_machine_crawl_never_imports_the_redis_client_or_ftfy(
    mirror: Mirror, tmp_path: Path
) -> None:
    # The Redis client (6 MB, with scrapy-redis) is for distributed mode and a Redis
    # seen store; ftfy (2 MB) for the rare text the mojibake hint lets through.
    script = """
import sys
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from tests.crawling import project_settings
process = CrawlerProcess(project_settings(
    NEWSCRAWL_OUTPUT_DIR=sys.argv[2], CLOSESPIDER_ITEMCOUNT=5, LOG_LEVEL="WARNING"
))
crawler = process.create_crawler("arabnews")
seen = []
def closed(spider):
    seen.append(crawler.stats.get_value("item_scraped_count", 0))
    seen.append([name for name in ("redis", "scrapy_redis", "ftfy") if name in sys.modules])
crawler.signals.connect(closed, signal=signals.spider_closed)
process.crawl(crawler, base_url=sys.argv[1])
process.start()
print(*seen)
"""
    result = subprocess.run(
        [sys.executable, "-c", script, mirror.base_url, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent.parent,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    scraped, imported = result.stdout.strip().split(" ", 1)
    assert int(scraped) >= 5  # the stories went through every stage, export included
    assert imported == "[]"


class DispatchClock(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 download handler, noting when the downloader hands it each
    request: the moment a slot's download delay spaces, read on the clock it keeps it by,
    in this process (not when the mirror, another process, gets round to answering)."""

    dispatched: ClassVar[list[tuple[float, str]]] = []

    async def download_request(self, request: Request) -> Response:
        DispatchClock.dispatched.append((time.monotonic(), urlsplit(request.url).path))
        return await super().download_request(request)


@deferred_f_from_coro_f
async def test_robots_crawl_delay_spaces_requests() -> None:
    DispatchClock.dispatched = []
    settings = project_settings(DOWNLOAD_HANDLERS={"http": f"{__name__}.DispatchClock"})
    with mirror_process(6, 3, "--crawl-delay", "0.3") as base_url:
        slow = Mirror(base_url)
        crawler, _ = await crawl(ArabNewsSpider, settings, base_url=base_url, sources="feeds")
        log = slow.requests()
    assert crawler.stats is not None
    assert crawler.stats.get_value("robotstxt/crawl_delay") == 0.3
    times = [at for at, path in DispatchClock.dispatched if ARTICLE_PATH.fullmatch(path)]
    assert len(times) >= 5
    # What was dispatched is what the mirror was asked for.
    assert len(times) == len([e for e in log if ARTICLE_PATH.fullmatch(e["path"])])
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # Crawl-delay is a floor: no jitter may take a gap below it (a little clock slack).
    assert min(gaps) >= 0.3 - 0.02, gaps
