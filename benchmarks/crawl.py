"""Crawl throughput: newscrawl's full crawl against a bare Scrapy crawl of the same pages.

    python benchmarks/crawl.py [--articles 2000] [--pairs 5]

Starts the mirror site with N articles, then crawls it in pairs of runs, each run in its
own process: once with newscrawl's settings, spider, pipelines and feed export (from an
empty output folder), and once as a bare Scrapy spider fetching the same article URLs
with nothing else on. AutoThrottle and download delays are off in both. The two of a
pair run one after the other, in turn first, so a machine busier in one moment weighs on
both. Prints, as medians over the pairs: pages/s of each and their ratio, CPU time per
page (the child's rusage), and peak memory; and a digest of the stories written (keys
and fingerprints), the same from one pair to the next and one version to the next when
the stories are.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
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
    # Read one story at a time, keeping its key and fingerprint only: the stories loaded
    # all at once would add their memory to the crawl's peak.
    with output.open(encoding="utf-8") as lines:
        identity = sorted(
            f"{story['key']} {story['fingerprint']}" for story in map(json.loads, lines)
        )
    (workdir / "urls.json").write_text(json.dumps(sorted(set(urls))))
    return {
        "pages": int(stats.get("newscrawl/pages", 0)),
        "seconds": (stats["finish_time"] - stats["start_time"]).total_seconds(),
        "stories": len(identity),
        "digest": hashlib.sha256("\n".join(identity).encode()).hexdigest()[:16],
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
    """Run one crawl in a child process; its result plus the child's peak memory and CPU."""
    command = [sys.executable, __file__, "--child", mode, "--base-url", base_url]
    command += ["--workdir", str(workdir)]
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, cwd=ROOT, check=False)
    if done.returncode:
        raise SystemExit(f"{mode} crawl failed with exit status {done.returncode}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = result.pop("maxrss_kb") / 1024  # Linux reports KiB
    result["rate"] = result["pages"] / result["seconds"]
    result["cpu_ms_per_page"] = 1000 * result.pop("cpu_s") / max(1, result["pages"])
    return result


def run_pair(first: str, base_url: str, workdir: Path) -> dict[str, dict[str, Any]]:
    pair: dict[str, dict[str, Any]] = {}
    for mode in (first, "bare" if first == "full" else "full"):
        if mode == "full":
            shutil.rmtree(workdir / "output", ignore_errors=True)  # a first run each time
        pair[mode] = run_child(mode, base_url, workdir)
    return pair


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--pairs", type=int, default=5, help="pairs of runs (default 5)")
    parser.add_argument("--child", choices=["full", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--base-url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pairs < 1:
        parser.error("--pairs must be at least 1")

    if args.child:
        if args.child == "full":
            result = run_full(args.base_url, args.workdir)
        else:
            result = run_bare(args.workdir)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["maxrss_kb"] = usage.ru_maxrss
        result["cpu_s"] = usage.ru_utime + usage.ru_stime
        print(json.dumps(result))
        return 0

    from newscrawl.cli.main import mirror_process

    pairs: list[dict[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as tmp, mirror_process(args.articles) as base_url:
        workdir = Path(tmp)
        clock = time.monotonic()
        run_child("full", base_url, workdir)  # the article URLs for the bare crawl; warm-up
        for n in range(args.pairs):
            pair = run_pair("full" if n % 2 else "bare", base_url, workdir)
            pairs.append(pair)
            full, bare = pair["full"], pair["bare"]
            print(
                f"pair {n + 1}: newscrawl {full['rate']:7.1f} pages/s "
                f"{full['cpu_ms_per_page']:5.1f} ms CPU/page {full['peak_rss_mb']:4.0f} MB; "
                f"bare {bare['rate']:7.1f} pages/s {bare['cpu_ms_per_page']:5.1f} ms CPU/page "
                f"{bare['peak_rss_mb']:4.0f} MB; ratio {full['rate'] / bare['rate']:.2f}",
                flush=True,
            )
        wall = time.monotonic() - clock

    def median(mode: str, field: str) -> float:
        return statistics.median(float(pair[mode][field]) for pair in pairs)

    ratio = statistics.median(pair["full"]["rate"] / pair["bare"]["rate"] for pair in pairs)
    memory = statistics.median(
        pair["full"]["peak_rss_mb"] / pair["bare"]["peak_rss_mb"] for pair in pairs
    )
    digests = sorted({pair["full"]["digest"] for pair in pairs})
    full_pages = {pair["full"]["pages"] for pair in pairs}
    bare_pages = {pair["bare"]["pages"] for pair in pairs}
    print(f"mirror: {args.articles} articles; {len(pairs)} pairs, medians below")
    print(f"pages per run: newscrawl {sorted(full_pages)}, bare Scrapy {sorted(bare_pages)}")
    stories = sorted({pair["full"]["stories"] for pair in pairs})
    print(f"newscrawl wrote {stories} distinct stories; keys and fingerprints digest {digests}")
    for mode, label in (("full", "newscrawl full crawl"), ("bare", "bare Scrapy crawl")):
        print(
            f"{label + ':':22}{median(mode, 'rate'):8.1f} pages/s  "
            f"{median(mode, 'cpu_ms_per_page'):5.1f} ms CPU/page  "
            f"peak RSS {median(mode, 'peak_rss_mb'):.0f} MB"
        )
    print(f"ratio newscrawl/bare, pages/s: {ratio:.2f}  (target >= 0.5)")
    print(f"ratio newscrawl/bare, peak memory: {memory:.2f}  (target <= 1.5)")
    print(f"mean fetch latency from the mirror: {median('bare', 'mean_latency_ms'):.2f} ms/page")
    print(f"(wall time {wall:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
