"""Story splitting cost per page, next to the cost of fetching that page.

    python benchmarks/split.py [--articles 500] [--repeat 5]

Starts the mirror site, fetches each article page once over HTTP (timing each fetch),
then times, per page and averaged over all of them: building the page record (HTML
parse and text blocks) and split + clean + time resolution (``stories_from_page``).
"""

from __future__ import annotations

import argparse
import http.client
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from statistics import mean
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newscrawl.cli.main import mirror_process
from newscrawl.page.walk import build_page_record, parse_html
from newscrawl.sites.arabnews import ARABNEWS
from newscrawl.stories.content import stories_from_page


def fetch_all(base_url: str, articles: int) -> tuple[list[tuple[str, bytes, str]], list[float]]:
    """Every article page of the mirror: (url, body, Date header), and each fetch's time."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    pages: list[tuple[str, bytes, str]] = []
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with mirror_process(args.articles) as base_url:
        pages, fetch_seconds = fetch_all(base_url, args.articles)
    fetched_at = datetime.now(timezone.utc).isoformat()
    build: list[float] = []
    split: list[float] = []
    stories = 0
    for _ in range(args.repeat):
        for url, body, date in pages:
            clock = time.perf_counter()
            root = parse_html(body)
            assert root is not None
            record = build_page_record(
                url=url,
                status=200,
                root=root,
                fetched_at=fetched_at,
                response_date=date,
                response_age=None,
                site="arabnews",
            )
            middle = time.perf_counter()
            stories += len(stories_from_page(record, ARABNEWS).stories)
            split.append(time.perf_counter() - middle)
            build.append(middle - clock)
    per_page = stories / (len(pages) * args.repeat)
    fetch_us, build_us, split_us = (mean(x) * 1e6 for x in (fetch_seconds, build, split))
    print(f"mirror: {len(pages)} article pages, {per_page:.2f} stories per page")
    print(f"fetch from the mirror (one keep-alive connection): {fetch_us:8.0f} µs per page")
    print(f"page record (HTML parse + text blocks):             {build_us:8.0f} µs per page")
    print(f"split + clean + time (stories_from_page):           {split_us:8.0f} µs per page")
    story_us = split_us / per_page
    print(f"split + clean + time:                               {story_us:8.0f} µs per story")
    print(f"ratio (page record + split) / fetch: {(build_us + split_us) / fetch_us:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
