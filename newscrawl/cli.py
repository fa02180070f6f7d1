"""The ``newscrawl`` command: ``mirror``, ``demo``.

``scrapy crawl <spider>`` stays the way to run a spider; this command adds what Scrapy
does not have: the local mirror site and a one-command offline demo.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be 1 or more")
    return value


@contextmanager
def mirror_process(articles: int, seed: int = 1, *extra: str) -> Iterator[str]:
    """A mirror site in a child process; yields its base URL, stops it on exit."""
    command = [
        sys.executable,
        "-m",
        "newscrawl.mirror",
        "--port",
        "0",
        "--articles",
        str(articles),
        "--seed",
        str(seed),
        *extra,
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        if not base_url.startswith("http"):
            raise RuntimeError(f"the mirror site did not start (exit status {process.poll()})")
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def run_demo(articles: int, output_dir: Path) -> int:
    """Start the mirror, crawl it in this process, print where the output went."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.utils.project import get_project_settings

    started = datetime.now(timezone.utc)
    output = output_dir / f"{started:%Y-%m-%dT%H-%M-%S}.jsonl"
    settings = get_project_settings()
    settings.setdict(
        {
            # Our own server on this machine: no need to be gentle with it.
            "AUTOTHROTTLE_ENABLED": False,
            "DOWNLOAD_DELAY": 0,
            "LOG_LEVEL": "WARNING",
            "FEEDS": {str(output): {"format": "jsonlines", "encoding": "utf-8"}},
        },
        priority="cmdline",
    )
    with mirror_process(articles) as base_url:
        print(f"mirror site: {base_url} ({articles} articles)", flush=True)
        process = CrawlerProcess(settings)
        crawler = process.create_crawler("arabnews")
        clock = time.monotonic()
        process.crawl(crawler, base_url=base_url)
        process.start()
        elapsed = time.monotonic() - clock
    stats: dict[str, Any] = crawler.stats.get_stats() if crawler.stats else {}
    records = sum(1 for _ in output.open(encoding="utf-8")) if output.exists() else 0
    print(f"output: {output}")
    print(
        f"pages fetched: {stats.get('response_received_count', 0)}, "
        f"article pages: {stats.get('newscrawl/pages', 0)}, "
        f"records written: {records}, time: {elapsed:.1f} s"
    )
    finish = stats.get("finish_reason")
    if finish != "finished" or records == 0:
        print(f"demo failed: finish reason {finish!r}, {records} records", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newscrawl", description="Scheduled news crawler: news sites to story datasets."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "mirror",
        help="serve the local mirror site (run 'newscrawl mirror --help')",
        add_help=False,
    )
    demo = commands.add_parser("demo", help="crawl a local mirror site, offline")
    demo.add_argument("--articles", type=_positive_int, default=200, help="default: 200")
    demo.add_argument(
        "--output-dir", type=Path, default=Path("output/demo"), help="default: output/demo"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    # Outside the project folder there is no scrapy.cfg: use the package's settings.
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newscrawl.settings")
    if args_list[:1] == ["mirror"]:
        from newscrawl.mirror.server import main as mirror_main

        return mirror_main(args_list[1:])
    args = build_parser().parse_args(args_list)
    if args.command == "demo":
        return run_demo(args.articles, args.output_dir)
    raise AssertionError(f"unhandled command {args.command}")


if __name__ == "__main__":
    sys.exit(main())
