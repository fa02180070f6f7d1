"""Distributed mode: several workers share one run through a real Redis server.

The workers are real processes (``newscrawl run --workers N``) crawling a mirror site of
their own; the mirror's access log says which pages were fetched, how often.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
from scrapy.utils.defer import deferred_f_from_coro_f
from scrapy.utils.test import get_crawler

from newscrawl.cli.main import mirror_process
from newscrawl.cli.run import EXIT_CRASHED, EXIT_OK, EXIT_USAGE
from newscrawl.dedup.decide import StoryDedup
from newscrawl.discover.spiders.arabnews import ArabNewsSpider
from newscrawl.distributed import new_worker_id
from newscrawl.distributed.redis_run import DistributedRun, join_run
from newscrawl.export.dataset import run_files
from newscrawl.run.ledger import PARTIAL, recover_partials
from newscrawl.run.seenstore import (
    Commit,
    RedisSeenStore,
    SeenStore,
    SqliteSeenStore,
    StoryState,
    open_store,
)
from newscrawl.run.state import CrawlState
from tests.conftest import Mirror, redis_server
from tests.crawling import crawl, project_settings
from tests.records import SEEN, print_of, story_line
from tests.test_crawl import listed_paths
from tests.test_dedup import ARTICLE_PATH, published, served_stories, text_of
from tests.test_neardup import EDITED, WIRE, record

ROOT = Path(__file__).resolve().parent.parent
# Slow enough (a few seconds) that every worker gets its share of the work, and each
# worker leases no more requests than it downloads at once.
PACED = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0.1"]
PACED += ["-s", "CONCURRENT_REQUESTS=2", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2"]
PACED += ["-s", "NEWSCRAWL_COMMIT_EVERY=3"]
PACED += ["-s", "NEWSCRAWL_IDLE_CLOSE=1", "-s", "NEWSCRAWL_WORKER_TIMEOUT=2"]


@pytest.fixture
def own_mirror() -> Iterator[Mirror]:
    with mirror_process(40, 41) as base_url:
        yield Mirror(base_url)


@pytest.fixture
def namespace() -> str:
    """A key prefix of the test's own: runs of other tests are not joined."""
    return f"test-{uuid.uuid4().hex[:8]}:{{spider}}"


def workers_run(
    mirror: Mirror,
    output: Path,
    redis_url: str,
    namespace: str,
    workers: int,
    *extra: str,
    own_group: bool = False,
) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "newscrawl.cli", "run", "arabnews"]
    command += ["-a", f"base_url={mirror.base_url}", "--output-dir", str(output)]
    command += ["--workers", str(workers), "--redis", redis_url]
    command += ["-s", f"NEWSCRAWL_SEEN_NAMESPACE={namespace}", *PACED, *extra]
    return subprocess.Popen(
        command, cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=own_group
    )


def end(process: subprocess.Popen[str]) -> None:
    """A run left by a failing test: killed with its workers (in sessions of their own,
    they outlive it otherwise), waited for, its pipe closed."""
    if process.poll() is None:
        for pid in children_of(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.kill()
        process.wait()
    if process.stderr is not None:
        process.stderr.close()


def manifests(output: Path) -> list[dict[str, Any]]:
    paths = output.glob("arabnews/2*/*/*/*.manifest.json")
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(paths)]


def children_of(pid: int) -> list[int]:
    """The live child processes of ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def run_and_worker_of(pid: int) -> tuple[str, str]:
    """The run a worker process joined and its worker id: its command line names them
    (``--join RUN``, ``-s NEWSCRAWL_WORKER_ID=W``)."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    run_id = argv[argv.index("--join") + 1]
    [worker] = [a.partition("=")[2] for a in argv if a.startswith("NEWSCRAWL_WORKER_ID=")]
    return run_id, worker


def wait_until_both_write(partial: Path) -> None:
    """Block until two workers' files in ``partial`` hold stories (or fail after a while)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if len([p for p in partial.glob("2[0-9]*-*.w*.jsonl") if p.stat().st_size]) >= 2:
            return
        time.sleep(0.05)
    raise AssertionError("the two workers did not both start writing")


@contextmanager
def workers_stopped(parent: int) -> Iterator[list[int]]:
    """The workers of ``parent`` stopped (SIGSTOP) for the block, so that what Redis
    says of the run stands still while the test looks at it and acts; then continued.
    A signal sent them meanwhile is delivered as they continue."""
    workers = children_of(parent)
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield workers
    finally:
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def wait_for_pending_signal(pid: int, signum: int) -> None:
    """Block until the stopped process ``pid`` has ``signum`` pending (from /proc)."""
    bit = 1 << (signum - 1)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
        masks = [
            int(line.split()[1], 16) for line in status if line.startswith(("SigPnd:", "ShdPnd:"))
        ]
        if any(mask & bit for mask in masks):
            return
        time.sleep(0.01)
    raise AssertionError(f"signal {signum} never reached process {pid}")


def pending_work(client: redis.Redis, prefix: str, workers: list[int]) -> int:
    """Requests of the run the ``workers`` joined still queued or leased: while there are
    some, the run is not over."""
    [run_id] = {run_and_worker_of(pid)[0] for pid in workers}
    return DistributedRun(client, prefix, run_id, new_worker_id()).pending()


def assert_every_story_once(mirror: Mirror, output: Path) -> list[dict[str, Any]]:
    records = published(output)
    expected = served_stories(mirror)
    assert Counter(text_of(r) for r in records) == Counter(text_of(s) for s in expected.values())
    assert len({(r["key"], r["version"]) for r in records}) == len(records)
    assert not list((output / "arabnews" / PARTIAL).glob("*.jsonl"))
    return records


@pytest.mark.slow
@pytest.mark.parametrize("workers", [2, 3])
def test_workers_share_the_run_each_story_once_each_article_fetched_once(
    own_mirror: Mirror, tmp_path: Path, redis_url: str, namespace: str, workers: int
) -> None:
    process = workers_run(own_mirror, tmp_path, redis_url, namespace, workers)
    _, log = process.communicate(timeout=300)
    assert process.returncode == EXIT_OK, log[-3000:]
    assert_every_story_once(own_mirror, tmp_path)
    fetched = Counter(e["path"] for e in own_mirror.requests() if ARTICLE_PATH.fullmatch(e["path"]))
    assert fetched
    assert set(fetched.values()) == {1}, fetched.most_common(3)
    # One run, one file and one manifest per worker, every worker with its share.
    reports = manifests(tmp_path)
    assert len(reports) == workers
    assert len({r["run_id"] for r in reports}) == 1
    assert len({r["worker"] for r in reports}) == workers
    assert all(r["status"] == "ok" for r in reports)
    assert all(r["counts"]["article_pages"] > 0 for r in reports)
    assert sum(r["counts"]["article_pages"] for r in reports) == len(fetched)
    assert len(run_files(tmp_path / "arabnews")) == workers
    # newscrawl dataset merges the workers' files.
    snapshot = tmp_path / "snapshot.jsonl"
    command = [sys.executable, "-m", "newscrawl.cli", "dataset", "arabnews"]
    command += ["--output-dir", str(tmp_path), "--out", str(snapshot)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"from {workers} run files" in done.stdout
    stories = snapshot.read_text(encoding="utf-8").splitlines()
    assert len(stories) == len(served_stories(own_mirror))


def stop_a_worker_with_committed_stories_and_leases(
    parent: int, client: redis.Redis, store: SeenStore, prefix: str
) -> tuple[int, str]:
    """Stop (SIGSTOP) a worker of ``parent`` found, while stopped, to have committed
    stories to its file and to hold leases: the pid and worker id of the stopped one.
    Whatever the pace of the crawl, such a worker's file keeps stories of its own after a
    kill (what it committed), and the requests it leased must go back to the queue."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for pid in children_of(parent):
            try:
                run_id, worker = run_and_worker_of(pid)
                os.kill(pid, signal.SIGSTOP)
            except (OSError, ValueError):  # ended meanwhile
                continue
            run = DistributedRun(client, prefix, run_id, worker)
            file_id = f"{run_id}.{worker}"
            if store.committed_bytes([file_id]).get(file_id) and run.held_leases():
                return pid, worker
            os.kill(pid, signal.SIGCONT)
        time.sleep(0.02)
    raise AssertionError("no worker committed stories while holding leases")


@pytest.mark.slow
def test_a_worker_killed_mid_crawl_loses_nothing_and_repeats_nothing(
    own_mirror: Mirror, tmp_path: Path, redis_url: str, namespace: str
) -> None:
    process = workers_run(own_mirror, tmp_path, redis_url, namespace, 3)
    client = redis.Redis.from_url(redis_url)
    prefix = namespace.format(spider="arabnews")
    store = open_store(redis_url, default_path=tmp_path / "unused", namespace=prefix)
    try:
        # Mid-crawl by what Redis says, not by a guess at the time: a worker that has
        # committed stories and holds leases, killed where it stands (it is stopped).
        victim, worker = stop_a_worker_with_committed_stories_and_leases(
            process.pid, client, store, prefix
        )
        os.kill(victim, signal.SIGKILL)
        _, log = process.communicate(timeout=300)
    finally:
        store.close()
        client.close()
        end(process)
    assert process.returncode == EXIT_CRASHED, log[-3000:]
    assert f"Worker {worker} (pid {victim}) of run" in log
    assert "killed by signal 9" in log
    assert_every_story_once(own_mirror, tmp_path)
    reports = manifests(tmp_path)
    assert len(reports) == 3  # two finished workers, and the dead one's recovered file
    dead = [r for r in reports if r["status"] == "crashed"]
    assert [r["worker"] for r in dead] == [worker], dead
    assert dead[0]["files"]
    assert dead[0]["files"][0]["lines"] > 0  # its committed stories, at least
    finished = [r for r in reports if r["status"] == "ok"]
    # The dead worker's unfinished requests went back to the queue and were fetched.
    assert sum(r["counts"]["requeued_from_dead_workers"] for r in finished) > 0


@pytest.mark.slow
def test_several_workers_need_a_redis_url(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "newscrawl.cli", "run", "arabnews", "--workers", "2"]
    env = {k: v for k, v in os.environ.items() if k != "NEWSCRAWL_REDIS_URL"}
    done = subprocess.run(
        [*command, "--output-dir", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert done.returncode == EXIT_USAGE
    assert "give --redis URL or set NEWSCRAWL_REDIS_URL" in done.stderr


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_distributed_mode_is_switched_on_by_settings_alone(
    mirror: Mirror, crawl_output: Path, redis_url: str, namespace: str
) -> None:
    mirror.reset_log()
    settings = project_settings(
        NEWSCRAWL_REDIS_URL=redis_url,
        NEWSCRAWL_SEEN_NAMESPACE=namespace,
        NEWSCRAWL_IDLE_CLOSE=0.2,
        NEWSCRAWL_DISTRIBUTED_POLL=0.2,
    )
    crawler, _ = await crawl(ArabNewsSpider, settings, base_url=mirror.base_url)
    assert crawler.stats is not None
    stats = crawler.stats.get_stats()
    assert stats["finish_reason"] == "finished"
    assert stats["scheduler/dequeued/redis"] > 0
    assert stats["newscrawl/distributed/run_responses"] == stats["response_received_count"]
    assert_every_story_once(mirror, crawl_output)
    # Every listed article read once, also those first linked under a URL that redirects.
    log = mirror.requests()
    read = Counter(
        e["path"] for e in log if e["status"] == 200 and ARTICLE_PATH.fullmatch(e["path"])
    )
    assert {path: read[path] for path in listed_paths(mirror)} == dict.fromkeys(
        listed_paths(mirror), 1
    )
    [path] = run_files(crawl_output / "arabnews")
    assert (
        path.name
        == f"{stats['newscrawl/distributed/run_id']}.{stats['newscrawl/distributed/worker']}.jsonl"
    )
    # The seen store went to Redis (no SQLite file), under the test's namespace.
    assert not (crawl_output / "arabnews" / ".state").exists()
    client = redis.Redis.from_url(redis_url)
    prefix = namespace.format(spider="arabnews")
    assert client.hlen(f"{prefix}:stories") == len(served_stories(mirror))
    assert client.get(f"{prefix}:run:current") is None  # the finished run let go


@pytest.mark.slow
def test_the_add_on_adds_its_components_beside_the_projects(redis_url: str) -> None:
    from scrapy.utils.conf import build_component_list
    from scrapy.utils.misc import load_object
    from scrapy.utils.test import get_crawler

    from newscrawl.distributed.redis_run import LeaseMiddleware, RedisScheduler, RunCoordinator

    def enabled(crawler: Any, name: str) -> list[Any]:
        return [load_object(c) for c in build_component_list(crawler.settings.getwithbase(name))]

    run_id = "20261124T000000Z-abcdef"
    crawler = get_crawler(
        ArabNewsSpider, project_settings(NEWSCRAWL_REDIS_URL=redis_url, NEWSCRAWL_RUN_ID=run_id)
    )
    extensions = [c.__name__ for c in enabled(crawler, "EXTENSIONS")]
    # Between the crawl state (0) and spidermon (500), whose monitors read its stats.
    assert extensions.index("CrawlState") < extensions.index("RunCoordinator")
    assert extensions.index("RunCoordinator") < extensions.index("Spidermon")
    middlewares = enabled(crawler, "SPIDER_MIDDLEWARES")
    assert middlewares.index(LeaseMiddleware) < [c.__name__ for c in middlewares].index(
        "StorySplitMiddleware"
    )
    assert load_object(crawler.settings["SCHEDULER"]) is RedisScheduler
    assert crawler.settings["NEWSCRAWL_RUN_ID"] == run_id  # the project's, not a new one
    assert crawler.settings["NEWSCRAWL_SEEN_STORE"] == redis_url
    # Without a Redis URL the add-on adds nothing.
    single = get_crawler(ArabNewsSpider, project_settings())
    assert RunCoordinator not in enabled(single, "EXTENSIONS")
    assert LeaseMiddleware not in enabled(single, "SPIDER_MIDDLEWARES")
    assert single.settings["SCHEDULER"] == "scrapy.core.scheduler.Scheduler"


@pytest.mark.slow
def test_a_sqlite_seen_store_is_refused_in_distributed_mode(redis_url: str) -> None:
    from scrapy.utils.test import get_crawler

    settings = project_settings(NEWSCRAWL_REDIS_URL=redis_url, NEWSCRAWL_SEEN_STORE="sqlite:///x")
    with pytest.raises(ValueError, match="keeps the seen store on Redis"):
        get_crawler(ArabNewsSpider, settings)


# The run's bookkeeping, against the real Redis.


def a_run(
    client: redis.Redis, prefix: str, worker: str | None = None, lease_batch: int = 1
) -> DistributedRun:
    return DistributedRun(
        client,
        prefix,
        "20261124T000000Z-abcdef",
        worker or new_worker_id(),
        idle_close=0.5,
        lease_batch=lease_batch,
    )


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


@pytest.mark.slow
def test_workers_join_the_current_run_until_it_ends(client: redis.Redis, namespace: str) -> None:
    first, created = join_run(client, namespace, "20261124T000000Z-aaaaaa", 60)
    assert (first, created) == ("20261124T000000Z-aaaaaa", True)
    assert join_run(client, namespace, "20261124T000001Z-bbbbbb", 60) == (first, False)
    DistributedRun(client, namespace, first, new_worker_id()).end()
    assert join_run(client, namespace, "20261124T000002Z-cccccc", 60)[0] != first


@pytest.mark.slow
def test_a_run_whose_workers_are_all_gone_is_never_joined(
    client: redis.Redis, namespace: str
) -> None:
    first, _ = join_run(client, namespace, "20261124T000000Z-aaaaaa", 600, 60.0)
    # Just created, no worker yet (its first is starting): joined, though none is alive.
    assert join_run(client, namespace, "20261124T000001Z-bbbbbb", 600, 60.0) == (first, False)
    # A recovery by the run's parent holds claims without being a worker: still joined.
    parent = DistributedRun(client, namespace, first, new_worker_id())
    parent.hold_claims()
    parent.leave()
    assert join_run(client, namespace, "20261124T000002Z-cccccc", 600, 60.0) == (first, False)
    worker = DistributedRun(client, namespace, first, new_worker_id())
    worker.register()
    assert join_run(client, namespace, "20261124T000003Z-dddddd", 600, 60.0) == (first, False)
    worker.leave()  # stopped (SIGTERM), or its heartbeats expired: the run is dead
    replacement, created = join_run(client, namespace, "20261124T000004Z-eeeeee", 600, 60.0)
    assert (replacement, created) == ("20261124T000004Z-eeeeee", True)


@pytest.mark.slow
def test_leases_of_a_dead_worker_go_back_to_the_queue(client: redis.Redis, namespace: str) -> None:
    doomed, survivor = a_run(client, namespace, lease_batch=2), a_run(client, namespace)
    doomed.register()
    survivor.register()
    for n in range(3):
        client.zadd(doomed.queue_key, {f"request-{n}".encode(): -n})
    first = doomed.lease()
    assert client.zrange(doomed.queue_key, 0, -1) == [b"request-0"]  # two taken at once
    second = doomed.lease()
    assert first is not None
    assert second is not None
    assert [first[1], second[1]] == [b"request-2", b"request-1"]  # the most urgent first
    doomed.release([first[0]])
    assert survivor.pending() == 3  # the release waits for the worker's next round trip
    doomed.flush()
    assert survivor.requeue_dead() == 0  # alive: its lease stays its own
    assert survivor.pending() == 2
    client.delete(doomed.alive_prefix + doomed.worker)  # as when its heartbeat expires
    assert survivor.requeue_dead() == 1
    assert client.zscore(survivor.queue_key, b"request-1") == -1
    assert survivor.pending() == 2
    assert not doomed.held_leases()


@pytest.mark.slow
def test_a_closing_worker_gives_back_what_it_took_and_did_not_crawl(
    client: redis.Redis, namespace: str
) -> None:
    closing, other = a_run(client, namespace, lease_batch=3), a_run(client, namespace)
    closing.register()
    other.register()
    for n in range(4):
        client.zadd(closing.queue_key, {f"request-{n}".encode(): -n})
    crawled = closing.lease()
    assert crawled is not None
    assert len(closing.taken_leases()) == 2  # leased too, not crawled yet
    assert closing.held_leases() == closing.taken_leases() | {crawled[0]}
    assert closing.give_back() == 2
    assert closing.give_back() == 0
    assert closing.held_leases() == {crawled[0]}  # the one it crawls stays its own
    queued = client.zrange(closing.queue_key, 0, -1, withscores=True)
    assert queued == [(b"request-2", -2.0), (b"request-1", -1.0), (b"request-0", 0.0)]
    taken = other.lease()
    assert taken is not None
    assert taken[1] == b"request-2"  # the most urgent, for whoever leases next


@pytest.mark.slow
def test_a_request_is_queued_once_and_a_page_counted_before_its_lease_is_let_go(
    client: redis.Redis, namespace: str
) -> None:
    one, other = a_run(client, namespace), a_run(client, namespace)
    one.register()
    assert one.enqueue("print-1", -1, b"request-1")
    assert not other.enqueue("print-1", -1, b"request-1 again")  # the run has it already
    assert other.enqueue(None, 0, b"request-2")  # not filtered: queued however often
    assert other.enqueue(None, 0, b"request-2")
    assert client.zrange(one.queue_key, 0, -1) == [b"request-1", b"request-2"]  # urgent first
    lease = one.lease()
    assert lease is not None
    one.count_response()
    assert client.get(one.responses_key) is None  # no round trip for each page
    one.release([lease[0]])
    assert client.get(one.responses_key) is None  # nor for each release
    assert not other.finished(now=0.0)
    assert not other.finished(now=60.0)  # the page's lease is held till its count is in
    following = one.lease()  # the next round trip takes the next request, and sends them
    assert following is not None
    assert following[1] == b"request-2"
    assert other.responses() == 1  # counted before the run could look finished
    other.count_response()
    assert one.responses() == 1
    assert other.responses() == 2  # its own count added before it reads the run's
    one.count_response()
    one.heartbeat()
    assert other.responses() == 3


def worker_dedup(redis_url: str, namespace: str, output: Path, run_id: str) -> StoryDedup:
    """A worker's dedup stage in run ``run_id``, registered as alive."""
    settings = project_settings(
        NEWSCRAWL_OUTPUT_DIR=str(output),
        NEWSCRAWL_REDIS_URL=redis_url,
        NEWSCRAWL_SEEN_NAMESPACE=namespace,
        NEWSCRAWL_RUN_ID=run_id,
        NEWSCRAWL_WORKER_ID=new_worker_id(),
    )
    crawler = get_crawler(ArabNewsSpider, settings)
    dedup = StoryDedup(crawler, CrawlState(crawler))
    assert dedup.state.run is not None
    dedup.state.run.register()
    return dedup


def written_by_an_earlier_run(redis_url: str, namespace: str, tmp_path: Path) -> dict[str, Any]:
    """The story arabnews:1 (WIRE), as an earlier run wrote and committed it."""
    earlier = worker_dedup(redis_url, namespace, tmp_path / "earlier", "20261124T000000Z-aaaaaa")
    story = record("arabnews:1", WIRE)
    story.update(earlier.decide(story).fields)
    assert earlier.state.write(story, None)
    earlier.state.close(publish=False)
    return story


@pytest.mark.slow
def test_a_worker_knows_a_story_an_earlier_run_wrote_by_its_claim_alone(
    redis_url: str, namespace: str, tmp_path: Path
) -> None:
    written_by_an_earlier_run(redis_url, namespace, tmp_path)
    dedup = worker_dedup(redis_url, namespace, tmp_path / "later", "20261125T000000Z-bbbbbb")
    run = dedup.state.run
    assert run is not None
    asked: list[str] = []
    claim_looking_up = run.claim_looking_up

    def counted(
        fingerprint: str, key: str, story: str, store: RedisSeenStore
    ) -> tuple[tuple[str, str] | None, StoryState | None]:
        asked.append(fingerprint)
        return claim_looking_up(fingerprint, key, story, store)

    run.claim_looking_up = counted  # type: ignore[assignment,method-assign]
    run.claim_holder = None  # type: ignore[assignment,method-assign]  # asked with the store
    dedup.state.store.owners = None  # type: ignore[assignment,method-assign]  # never asked
    later = "2025-03-02T10:00:00+00:00"
    assert dedup.repeat(record("arabnews:1", WIRE, later)) is None  # not in memory: an item
    decision = dedup.decide(record("arabnews:1", WIRE, later))
    assert (decision.emit, decision.reason, len(asked)) == (False, "duplicate", 1)
    assert dedup.repeat(record("arabnews:2", WIRE, later)) == "same-content-other-key"
    assert len(asked) == 1  # known since the claim's answer
    dedup.state.close(publish=False)
    states = dedup.state.store.stories(["arabnews:1", "arabnews:2"])
    assert {key: state.last_seen for key, state in states.items()} == {
        "arabnews:1": later,
        "arabnews:2": later,  # the copy's key, an alias of the story's
    }


@pytest.mark.slow
def test_a_worker_learns_of_a_new_version_in_the_round_trip_of_its_claim(
    redis_url: str, namespace: str, tmp_path: Path
) -> None:
    story = written_by_an_earlier_run(redis_url, namespace, tmp_path)
    dedup = worker_dedup(redis_url, namespace, tmp_path / "later", "20261125T000000Z-bbbbbb")
    dedup.state.store.stories = None  # type: ignore[assignment,method-assign]  # never asked
    redis.Redis.from_url(redis_url).script_flush()  # as after a restart: loaded again
    edited = record("arabnews:1", EDITED, "2025-03-02T10:00:00+00:00")
    decision = dedup.decide(edited)
    assert (decision.emit, decision.reason) == (True, "version")
    assert decision.fields["version"] == 2
    assert decision.fields["first_seen"] == story["first_seen"]
    assert decision.fields["previous_fingerprint"] == story["fingerprint"]
    del dedup.state.store.stories
    dedup.state.close(publish=False)


@pytest.mark.slow
def test_a_story_claimed_by_a_live_worker_is_its_own_until_it_dies(
    client: redis.Redis, namespace: str
) -> None:
    one, other = a_run(client, namespace), a_run(client, namespace)
    one.register()
    other.register()
    assert one.claim("print-1", "site:1") is None  # claimed: write it
    assert one.claim("print-1", "site:1") is None  # still ours
    assert other.claim("print-1", "site:1-copy") == "site:1"  # theirs, under that key
    one.leave()
    assert other.claim("print-1", "site:1-copy") is None  # a dead worker's claim is taken
    assert one.claim("print-2", "site:2") == ""  # a worker taken for dead claims nothing
    # A story the seen store knows is known, whoever asks.
    client.hset(f"{namespace}:fingerprints", "print-3", "site:3")
    assert other.claim("print-3", "site:3-copy") == "site:3"


@pytest.mark.slow
def test_a_worker_taken_for_dead_leases_nothing_more(client: redis.Redis, namespace: str) -> None:
    run = a_run(client, namespace)
    run.register()
    client.zadd(run.queue_key, {b"request": 0})
    run.leave()
    assert run.lease() is None
    assert not run.heartbeat()  # it learns it was taken for dead (and stops)
    assert client.zcard(run.queue_key) == 1  # the request waits for a live worker


@pytest.mark.slow
def test_the_run_is_finished_after_staying_quiet_for_idle_close(
    client: redis.Redis, namespace: str
) -> None:
    run = a_run(client, namespace)
    run.register()
    client.zadd(run.queue_key, {b"request": 0})
    assert not run.finished(now=0.0)
    lease = run.lease()
    assert lease is not None
    assert not run.finished(now=1.0)  # leased: in flight
    run.release([lease[0]])
    assert not run.finished(now=2.0)  # quiet, not yet long enough
    assert run.finished(now=2.6)


def test_recovery_drops_a_line_another_writer_committed_after_the_last_commit(
    tmp_path: Path,
) -> None:
    spider_dir = tmp_path / "arabnews"
    (spider_dir / PARTIAL).mkdir(parents=True)
    lines = [story_line(n) for n in range(3)]
    data = [(json.dumps(line) + "\n").encode() for line in lines]
    file_id = "20261124T000000Z-abcdef.w000001"
    (spider_dir / PARTIAL / f"{file_id}.jsonl").write_bytes(b"".join(data) + b'{"torn')
    store = SqliteSeenStore(tmp_path / "seen.sqlite3")
    # The dead writer committed its first line; another writer has since written the third.
    state = StoryState("site:2", print_of(2), 1, SEEN, SEEN)
    store.commit(
        Commit(files={file_id: len(data[0])}, stories=[state], fingerprints={print_of(2): "site:2"})
    )
    [found] = recover_partials(spider_dir, store, compress=False, recovered_by="test")
    assert found.stories == 2
    assert found.path.read_bytes() == data[0] + data[1]
    assert store.owners([print_of(0), print_of(1)]) == {
        print_of(0): "site:0",
        print_of(1): "site:1",
    }
    # Run again (a second recovery after a kill): the same published file, listed once.
    assert recover_partials(spider_dir, store, compress=False, recovered_by="test") == []
    manifest = json.loads(found.path.with_name(f"{file_id}.manifest.json").read_text())
    assert [f["lines"] for f in manifest["files"]] == [2]


@pytest.mark.slow
def test_the_shared_dupefilter_knows_articles_by_page_key_and_lets_redirects_through(
    client: redis.Redis, namespace: str
) -> None:
    from scrapy import Request

    from newscrawl.distributed.redis_run import PageKeyDupeFilter
    from newscrawl.names import PAGE_KEY

    dupefilter = PageKeyDupeFilter(client, f"{namespace}:dupefilter")
    bare = Request("http://127.0.0.1/node/7", meta={PAGE_KEY: "arabnews:127.0.0.1/7"})
    assert not dupefilter.request_seen(bare)
    # The same article under its other URL form: one article, one request.
    other = Request("http://127.0.0.1/node/7/world", meta={PAGE_KEY: "arabnews:127.0.0.1/7"})
    assert dupefilter.request_seen(other)
    # Where the bare URL redirects: the same article's page, which must still be fetched.
    redirected = other.replace(meta={**other.meta, "redirect_urls": [bare.url]})
    assert not dupefilter.request_seen(redirected)
    assert dupefilter.request_seen(redirected)


@pytest.mark.slow
def test_a_stopped_run_shuts_down_cleanly_and_the_next_run_publishes_its_stories(
    own_mirror: Mirror, tmp_path: Path, redis_url: str, namespace: str
) -> None:
    # Stale files of a killed earlier run: the parent publishes them before its workers start.
    stale = tmp_path / "arabnews" / PARTIAL
    stale.mkdir(parents=True)
    for worker in ("w0000a1", "w0000a2"):
        (stale / f"20261101T000000Z-00aa00.{worker}.jsonl").write_text("", encoding="utf-8")
    process = workers_run(own_mirror, tmp_path, redis_url, namespace, 2, own_group=True)
    client = redis.Redis.from_url(redis_url)
    prefix = namespace.format(spider="arabnews")
    try:
        wait_until_both_write(stale)
        with workers_stopped(process.pid) as workers:
            # Mid-crawl by what Redis says: the stop below, not the end of the work,
            # ends the run.
            assert pending_work(client, prefix, workers) > 0
            # Ctrl-C in a terminal: SIGINT to the whole foreground process group, which
            # the parent passes on to its workers.
            os.killpg(process.pid, signal.SIGINT)
            for pid in workers:
                wait_for_pending_signal(pid, signal.SIGINT)
        _, log = process.communicate(timeout=120)
    finally:
        end(process)
    assert "forcing unclean shutdown" not in log
    assert process.returncode == 1, log[-3000:]  # the Finish reason monitor: "shutdown"
    assert not list(stale.glob("20261101T*"))  # the stale files went out first
    left = [p for p in stale.glob("*.jsonl") if p.stat().st_size]
    assert len(left) == 2  # each worker's stories stay for the next run to publish
    # The stopped run's keys expire (a day after its last heartbeat at most).
    keys = client.keys(f"{prefix}:run:*")
    assert keys
    assert all(0 < client.ttl(key) <= 24 * 3600 for key in keys)
    started = re.search(r"Started distributed run (\S+)", log)
    assert started is not None, log[-3000:]
    stopped = started.group(1)
    # The pointer names the stopped run until it expires (twice the worker timeout after
    # the last heartbeat, which a slow shutdown may outlast)...
    pointer: Any = client.get(f"{prefix}:run:current")
    assert pointer is None or bytes(pointer).decode() == stopped
    client.close()

    process = workers_run(own_mirror, tmp_path, redis_url, namespace, 2)
    _, log = process.communicate(timeout=300)
    assert process.returncode == EXIT_OK, log[-3000:]
    # ... and the next run, started at once, does not join it (it ends it, or finds the
    # pointer expired already: its workers are gone either way).
    assert f"Joined distributed run {stopped}" not in log
    assert_every_story_once(own_mirror, tmp_path)


class FailOnce:
    """A pipeline stage that fails on the first story (a full disk, a dropped connection)."""

    failed = False

    def process_item(self, item: Any) -> Any:
        if not FailOnce.failed:
            FailOnce.failed = True
            raise OSError("no space left on device")
        return item


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_a_story_failing_in_a_pipeline_does_not_keep_the_run_from_finishing(
    mirror: Mirror, redis_url: str, namespace: str
) -> None:
    from newscrawl.settings import ITEM_PIPELINES

    FailOnce.failed = False
    settings = project_settings(
        NEWSCRAWL_REDIS_URL=redis_url,
        NEWSCRAWL_SEEN_NAMESPACE=namespace,
        NEWSCRAWL_IDLE_CLOSE=0.2,
        NEWSCRAWL_DISTRIBUTED_POLL=0.2,
        ITEM_PIPELINES={**ITEM_PIPELINES, f"{__name__}.FailOnce": 850},
        CLOSESPIDER_TIMEOUT=60,  # a run that never finishes ends here, and fails below
    )
    crawler, _ = await crawl(ArabNewsSpider, settings, base_url=mirror.base_url)
    assert crawler.stats is not None
    assert crawler.stats.get_value("finish_reason") == "finished"
    assert crawler.stats.get_value("log_count/ERROR") == 1  # Scrapy logs the failure


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_a_worker_taken_for_dead_stops(
    mirror: Mirror, redis_url: str, namespace: str
) -> None:
    from scrapy import signals
    from scrapy.utils.test import get_crawler

    settings = project_settings(
        NEWSCRAWL_REDIS_URL=redis_url,
        NEWSCRAWL_SEEN_NAMESPACE=namespace,
        NEWSCRAWL_WORKER_TIMEOUT=2,
        DOWNLOAD_DELAY=0.2,  # slow enough to be mid-crawl at the next heartbeat
        CONCURRENT_REQUESTS=1,
    )
    crawler = get_crawler(ArabNewsSpider, settings)

    class Silencer:  # as if the worker had been silent too long: the others see it dead
        def response_received(self) -> None:
            run = crawler.settings
            client = redis.Redis.from_url(redis_url)
            prefix = namespace.format(spider="arabnews")
            client.delete(
                f"{prefix}:run:{run['NEWSCRAWL_RUN_ID']}:alive:{run['NEWSCRAWL_WORKER_ID']}"
            )
            client.close()

    silencer = Silencer()
    crawler.signals.connect(silencer.response_received, signal=signals.response_received)
    await crawler.crawl_async(base_url=mirror.base_url)
    assert crawler.stats is not None
    assert crawler.stats.get_value("finish_reason") == "presumed_dead"
    assert crawler.stats.get_value("newscrawl/distributed/presumed_dead") == 1


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_an_idle_worker_looks_at_the_run_every_poll(
    mirror: Mirror, redis_url: str, namespace: str
) -> None:
    from scrapy import Request, signals
    from scrapy.utils.defer import deferred_from_coro
    from scrapy.utils.test import get_crawler

    from newscrawl.distributed import distributed_run
    from newscrawl.distributed.redis_run import LeasedQueue

    settings = project_settings(
        NEWSCRAWL_REDIS_URL=redis_url,
        NEWSCRAWL_SEEN_NAMESPACE=namespace,
        NEWSCRAWL_DISTRIBUTED_POLL=0.1,
        NEWSCRAWL_IDLE_CLOSE=600,  # the run never finishes by itself here
        CLOSESPIDER_TIMEOUT=30,  # Scrapy's engine alone, looking every 5 s, ends here
    )
    crawler = get_crawler(ArabNewsSpider, settings)
    pushed = f"{mirror.base_url}/?pushed"
    events: list[tuple[str, float]] = []

    class Watcher:
        def spider_idle(self) -> None:
            events.append(("idle", time.monotonic()))
            idle = sum(1 for name, _ in events if name == "idle")
            if idle == 3:  # another worker queues a request while this one is idle
                run = distributed_run(crawler)
                assert run is not None
                other = DistributedRun(run.redis, run.namespace, run.run_id, new_worker_id())
                spider: Any = crawler.spider
                LeasedQueue(other, spider).push(
                    Request(pushed, callback=spider.parse_listing, dont_filter=True)
                )
                events.append(("pushed", time.monotonic()))
            elif idle == 10:
                assert crawler.engine is not None
                deferred_from_coro(crawler.engine.close_spider_async(reason="looked"))

        def response_received(self, response: Any) -> None:
            if response.url == pushed:
                events.append(("fetched", time.monotonic()))

    watcher = Watcher()
    crawler.signals.connect(watcher.spider_idle, signal=signals.spider_idle)
    crawler.signals.connect(watcher.response_received, signal=signals.response_received)
    await crawler.crawl_async(base_url=mirror.base_url)
    assert crawler.stats is not None
    assert crawler.stats.get_value("finish_reason") == "looked"
    names = [name for name, _ in events]
    # Ten looks before CLOSESPIDER_TIMEOUT (Scrapy's engine alone would take 45 s), and
    # the request another worker queued was taken at the next one.
    assert names.index("pushed") < names.index("fetched") < names.index("idle", 4)


@pytest.mark.slow
@deferred_f_from_coro_f
async def test_a_retry_waits_out_its_backoff_under_its_lease_and_keeps_its_meta(
    crawl_output: Path, redis_url: str, namespace: str
) -> None:
    from scrapy import Request, signals
    from scrapy.utils.test import get_crawler

    from newscrawl.distributed import distributed_run
    from newscrawl.names import LEASE, PAGE_KEY
    from tests.test_downloadermiddlewares import Downloads, FirstRequestFails, failing_mirror

    with failing_mirror(FirstRequestFails(every=True), retry_after=1) as mirror:
        settings = project_settings(
            NEWSCRAWL_REDIS_URL=redis_url,
            NEWSCRAWL_SEEN_NAMESPACE=namespace,
            NEWSCRAWL_IDLE_CLOSE=0.2,  # shorter than the wait: a released lease would end it
            NEWSCRAWL_DISTRIBUTED_POLL=0.1,
            RETRY_BACKOFF_BASE=0.01,
        )
        crawler = get_crawler(ArabNewsSpider, settings)
        downloads = Downloads(crawler)
        looks: list[tuple[int, int]] = []  # at each idle look: retries waiting, leases held
        retries: list[dict[str, Any]] = []

        class Watcher:
            def spider_idle(self) -> None:
                run = distributed_run(crawler)
                assert run is not None
                articles = downloads.articles()
                waiting = {p for p, s in articles if s == 503} - {
                    p for p, s in articles if s == 200
                }
                looks.append((len(waiting), int(run.redis.hlen(run.leases_key(run.worker)))))

            def request_reached_downloader(self, request: Request) -> None:
                if request.meta.get("retry_times"):
                    retries.append(dict(request.meta))

        watcher = Watcher()
        crawler.signals.connect(watcher.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(
            watcher.request_reached_downloader, signal=signals.request_reached_downloader
        )
        await crawler.crawl_async(base_url=mirror.base_url)
        assert_every_story_once(mirror, crawl_output)
    assert crawler.stats is not None
    assert crawler.stats.get_value("finish_reason") == "finished"
    fetched = Counter(path for path, _ in downloads.articles())
    assert set(fetched.values()) == {2}  # a 503, then the retry: none filtered as seen
    # Idle while retries waited, and their leases still held: the run was not finished.
    assert any(waiting for waiting, _ in looks), looks
    assert all(held >= waiting for waiting, held in looks), looks
    # Each retry came back through the run's queue with the meta of its page.
    assert len(retries) == len(fetched)
    for meta in retries:
        assert meta["retry_times"] == 1
        assert meta["newscrawl_faults"] == ["http_503"]
        assert PAGE_KEY in meta
        assert LEASE in meta  # leased anew from the queue
        assert "newscrawl_source" in meta


@pytest.mark.slow
def test_a_lost_redis_stops_the_run_with_one_line_and_frees_the_lock(
    own_mirror: Mirror, tmp_path: Path
) -> None:
    folder = tmp_path / "redis"
    folder.mkdir()
    with redis_server(folder, "--requirepass", "s3cret-pw") as (socket_path, server):
        url = f"unix://:s3cret-pw@{socket_path}"
        process = workers_run(own_mirror, tmp_path, url, "lost:{spider}", 2)
        wait_until_both_write(tmp_path / "arabnews" / PARTIAL)
        client = redis.Redis.from_url(url)
        with workers_stopped(process.pid) as workers:
            # The password reaches the workers through their environment, never their
            # command line (which anyone on the machine can read).
            assert len(workers) == 2
            for pid in workers:
                assert b"s3cret-pw" not in Path(f"/proc/{pid}/cmdline").read_bytes()
            # Mid-crawl by what Redis says: the workers have requests left to fetch
            # when Redis goes.
            assert pending_work(client, "lost:arabnews", workers) > 0
            client.close()
            server.kill()
            server.wait()
        _, log = process.communicate(timeout=120)
    assert process.returncode == EXIT_CRASHED, log[-3000:]
    # Whichever notices first: a story's dedup, or the heartbeats after the timeout.
    stopped = ("the seen store could not be reached", "Redis unreachable for more than")
    assert any(reason in log for reason in stopped), log[-3000:]
    assert log.count("Traceback") <= 2, log[-5000:]  # spidermon's report of each worker
    assert "s3cret-pw" not in log
    # The lock is free: a run without Redis goes ahead (and publishes what was left).
    command = [sys.executable, "-m", "newscrawl.cli", "run", "arabnews", *PACED]
    command += ["-a", f"base_url={own_mirror.base_url}", "--output-dir", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == EXIT_OK, done.stderr[-3000:]
    assert_every_story_once(own_mirror, tmp_path)


@pytest.mark.slow
def test_an_unreachable_redis_is_one_line_and_exit_3(own_mirror: Mirror, tmp_path: Path) -> None:
    url = f"unix://:pw@{tmp_path}/no-such.sock"
    process = workers_run(own_mirror, tmp_path, url, "none:{spider}", 2)
    _, log = process.communicate(timeout=120)
    assert process.returncode == EXIT_CRASHED, log[-3000:]
    assert "newscrawl run: cannot reach Redis at unix://:***@" in log
    assert "Traceback" not in log
    assert not list((tmp_path / "arabnews").glob("[0-9][0-9][0-9][0-9]"))  # nothing published


@pytest.mark.slow
def test_several_workers_refuse_a_store_behind_the_published_files_in_one_line(
    own_mirror: Mirror, tmp_path: Path, redis_url: str, namespace: str
) -> None:
    # A published file whose stories this (fresh) Redis namespace does not know.
    day = tmp_path / "arabnews" / "2026" / "11" / "01"
    day.mkdir(parents=True)
    (day / "20261101T000000Z-0a0a0a.jsonl").write_text(json.dumps(story_line(1)) + "\n")
    process = workers_run(own_mirror, tmp_path, redis_url, namespace, 2)
    _, log = process.communicate(timeout=120)
    assert process.returncode == EXIT_CRASHED, log[-3000:]
    assert "is empty or behind the published output" in log
    assert "Traceback" not in log
