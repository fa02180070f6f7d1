"""Story splitting cost per page, next to the cost of fetching that page and of parsing it.

    python benchmarks/split.py [--articles 500] [--repeat 5] [--instructions]

Starts the mirror site, fetches each article page once over HTTP (timing each fetch),
then times, per page and averaged over all of them: a bare lxml parse of the page (the
baseline), building the page record (HTML parse, main content and text blocks) and
split + clean + time resolution (``stories_from_page``), each also as a multiple of the
bare parse.

``--instructions`` counts instead of timing (for a shared machine, where timings of one
run differ by tens of percent): each stage runs in a child process under valgrind's
callgrind, once with one pass over the pages and once with two, and the difference is
one warm pass. It prints instructions per page of the bare parse and of parse + page
record + split, and their ratio; the same code gives the same counts to a few parts in
a million, so two versions can be compared run against run. Needs ``valgrind`` on PATH,
and takes about a minute per 25 pages.
"""

from __future__ import annotations

import argparse
import http.client
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from statistics import mean
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newscrawl.cli.main import mirror_process
from newscrawl.page.walk import build_page_record, parse_html
from newscrawl.records.page import PageRecord
from newscrawl.sites.arabnews import ARABNEWS
from newscrawl.stories.content import stories_from_page

Page = tuple[str, bytes, str]


def fetch_all(base_url: str, articles: int) -> tuple[list[Page], list[float]]:
    """Every article page of the mirror: (url, body, Date header), and each fetch's time."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    pages: list[Page] = []
    seconds: list[float] = []
    for nid in range(2_600_001, 2_600_001 + articles):
        clock = time.perf_counter()
        connection.request("GET", f"/node/{nid}")
        reply = connection.getresponse()
        body = reply.read()
        if reply.status == 301:  # bare node URL: follow to the article
            path = urlsplit(reply.headers["Location"]).path
            connection.request("GET", path)
            reply = connection.getresponse()
            body = reply.read()
        else:
            path = f"/node/{nid}"
        seconds.append(time.perf_counter() - clock)
        if reply.status == 200:
            pages.append((base_url.rstrip("/") + path, body, reply.headers.get("Date", "")))
    connection.close()
    return pages, seconds


def page_record(url: str, body: bytes, date: str, fetched_at: str) -> PageRecord:
    root = parse_html(body)
    assert root is not None
    # The markup as sent: resiliparse reads it, as in the crawl.
    return build_page_record(
        url=url,
        status=200,
        root=root,
        fetched_at=fetched_at,
        response_date=date,
        response_age=None,
        site="arabnews",
        markup=body.decode("utf-8"),
    )


def run_stage(stage: str, pages: list[Page], passes: int) -> int:
    """Run a stage over every page ``passes`` times; the stories found (0 for the parse)."""
    fetched_at = datetime.now(timezone.utc).isoformat()
    stories = 0
    for _ in range(passes):
        for url, body, date in pages:
            if stage == "parse":
                parse_html(body)
            else:
                record = page_record(url, body, date, fetched_at)
                stories += len(stories_from_page(record, ARABNEWS).stories)
    return stories


def instructions(stage: str, pages_file: Path, passes: int, workdir: Path) -> int:
    """Instructions callgrind counts for a child running ``stage`` over the pages."""
    out = workdir / f"callgrind.{stage}.{passes}"
    command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    command += [sys.executable, __file__, "--child", stage, "--passes", str(passes)]
    command += ["--pages-file", str(pages_file)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode or found is None:
        raise SystemExit(f"callgrind run failed ({stage}, {passes} passes):\n{done.stderr[-2000:]}")
    return int(found[1])


def count_instructions(pages: list[Page]) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        pages_file = workdir / "pages.pickle"
        pages_file.write_bytes(pickle.dumps(pages))
        per_page = {}
        for stage in ("parse", "full"):
            one, two = (instructions(stage, pages_file, n, workdir) for n in (1, 2))
            per_page[stage] = (two - one) / len(pages)
    print(f"mirror: {len(pages)} article pages, instructions of one warm pass per page")
    print(f"bare lxml parse:                                  {per_page['parse']:12,.0f}")
    print(f"parse + page record + split (stories_from_page):  {per_page['full']:12,.0f}")
    print(f"ratio to the bare parse: {per_page['full'] / per_page['parse']:.1f}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--instructions", action="store_true", help="count with callgrind")
    parser.add_argument("--child", choices=["parse", "full"], help=argparse.SUPPRESS)
    parser.add_argument("--passes", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--pages-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_stage(args.child, pickle.loads(args.pages_file.read_bytes()), args.passes)
        return 0
    if args.articles < 1 or args.repeat < 1:
        parser.error("--articles and --repeat must be at least 1")
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind (its callgrind tool) on PATH")
    with mirror_process(args.articles) as base_url:
        pages, fetch_seconds = fetch_all(base_url, args.articles)
    if args.instructions:
        return count_instructions(pages)
    fetched_at = datetime.now(timezone.utc).isoformat()
    parse: list[float] = []
    build: list[float] = []
    split: list[float] = []
    stories = 0
    for _ in range(args.repeat):
        for url, body, date in pages:
            clock = time.perf_counter()
            parse_html(body)
            start = time.perf_counter()
            record = page_record(url, body, date, fetched_at)
            middle = time.perf_counter()
            stories += len(stories_from_page(record, ARABNEWS).stories)
            split.append(time.perf_counter() - middle)
            build.append(middle - start)
            parse.append(start - clock)
    per_page = stories / (len(pages) * args.repeat)
    fetch_us, parse_us, build_us, split_us = (
        mean(x) * 1e6 for x in (fetch_seconds, parse, build, split)
    )
    print(f"mirror: {len(pages)} article pages, {per_page:.2f} stories per page")
    print(f"fetch from the mirror (one keep-alive connection): {fetch_us:8.0f} µs per page")
    print(f"bare lxml parse (the baseline):                    {parse_us:8.0f} µs per page")
    print(
        f"page record (HTML parse + main content + blocks):  {build_us:8.0f} µs per page"
        f"  x{build_us / parse_us:.1f}"
    )
    print(
        f"split + clean + time (stories_from_page):          {split_us:8.0f} µs per page"
        f"  x{split_us / parse_us:.1f}"
    )
    story_us = split_us / per_page
    print(f"split + clean + time:                              {story_us:8.0f} µs per story")
    print(f"ratio (page record + split) / fetch: {(build_us + split_us) / fetch_us:.2f}")
    print(f"ratio (page record + split) / bare lxml parse: {(build_us + split_us) / parse_us:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
