"""Crawl throughput: newscrawl's full crawl against a bare Scrapy crawl of the same pages.

    python benchmarks/crawl.py [--articles 2000]

Starts the mirror site with N articles, then crawls it twice, each in its own process:
once with newscrawl's settings, spider, pipelines and feed export, and once as a bare
Scrapy spider fetching the same article URLs with nothing else on. AutoThrottle and
download delays are off in both. Prints pages/s for each, their ratio, and peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SPEED = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "LOG_LEVEL": "WARNING",
    "LOGSTATS_INTERVAL": 0,
}


def run_full(base_url: str, workdir: Path) -> dict[str, Any]:
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newscrawl.settings")
    settings = get_project_settings()
    settings.setdict({**SPEED, "NEWSCRAWL_OUTPUT_DIR": str(workdir / "output")}, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler("arabnews")
    # The bare crawl fetches the article pages this crawl fetched.
    urls: list[str] = []

    def fetched(response: Any, request: Any) -> None:
        if "newscrawl_source" in request.meta and response.status == 200:
            urls.append(response.url)

    crawler.signals.connect(fetched, signal=signals.response_received)
    process.crawl(crawler, base_url=base_url)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    output = Path(stats["newscrawl/output"])
    stories = [json.loads(line) for line in output.open(encoding="utf-8")]
    (workdir / "urls.json").write_text(json.dumps(sorted(set(urls))))
    return {
        "pages": int(stats.get("newscrawl/pages", 0)),
        "seconds": (stats["finish_time"] - stats["start_time"]).total_seconds(),
        "stories": len(stories),
    }


def run_bare(workdir: Path) -> dict[str, Any]:
    from scrapy import Request, Spider
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import Response

    urls = json.loads((workdir / "urls.json").read_text())
    latencies: list[float] = []

    class BareSpider(Spider):
        name = "bare"

        async def start(self) -> Any:
            for url in urls:
                yield Request(url)

        def parse(self, response: Response) -> None:
            latencies.append(float(response.meta.get("download_latency", 0.0)))

    from newscrawl import settings as ours

    process = CrawlerProcess(
        {
            **SPEED,
            "CONCURRENT_REQUESTS": ours.CONCURRENT_REQUESTS,
            "CONCURRENT_REQUESTS_PER_DOMAIN": ours.CONCURRENT_REQUESTS_PER_DOMAIN,
            "TELNETCONSOLE_ENABLED": False,
            "REMOTE_CONTROL_ENABLED": False,
            "ITEM_PIPELINES": {},
        }
    )
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return {
        "pages": len(latencies),
        "seconds": (stats["finish_time"] - stats["start_time"]).total_seconds(),
        "mean_latency_ms": 1000 * sum(latencies) / max(1, len(latencies)),
    }


def run_child(mode: str, base_url: str, workdir: Path) -> dict[str, Any]:
    """Run one crawl in a child process; its result plus the child's peak memory."""
    command = [sys.executable, __file__, "--child", mode, "--base-url", base_url]
    command += ["--workdir", str(workdir)]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, cwd=ROOT, check=False)
    if done.returncode:
        raise SystemExit(f"{mode} crawl failed with exit status {done.returncode}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = result.pop("maxrss_kb") / 1024  # Linux reports KiB
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--child", choices=["full", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        if args.child == "full":
            result = run_full(args.base_url, args.workdir)
        else:
            result = run_bare(args.workdir)
        result["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps(result))
        return 0

    from newscrawl.cli.main import mirror_process

    with tempfile.TemporaryDirectory() as tmp, mirror_process(args.articles) as base_url:
        workdir = Path(tmp)
        clock = time.monotonic()
        full = run_child("full", base_url, workdir)
        bare = run_child("bare", base_url, workdir)
        wall = time.monotonic() - clock
    full_rate = full["pages"] / full["seconds"]
    bare_rate = bare["pages"] / bare["seconds"]
    print(f"mirror: {args.articles} articles; both crawls fetched the same {bare['pages']} pages")
    print(f"newscrawl wrote {full['stories']} distinct stories from {full['pages']} pages")
    print(f"newscrawl full crawl: {full_rate:8.1f} pages/s  peak RSS {full['peak_rss_mb']:.0f} MB")
    print(f"bare Scrapy crawl:    {bare_rate:8.1f} pages/s  peak RSS {bare['peak_rss_mb']:.0f} MB")
    print(f"ratio newscrawl/bare: {full_rate / bare_rate:.2f}")
    print(f"mean fetch latency from the mirror: {bare['mean_latency_ms']:.2f} ms per page")
    print(f"(wall time {wall:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
