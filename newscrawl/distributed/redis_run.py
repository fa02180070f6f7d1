"""A distributed run on Redis: the run's keys, a worker's leases and claims, and the
scrapy-redis scheduler, queue and dupefilter built on them (see newscrawl/distributed/).

Imported only when NEWSCRAWL_REDIS_URL is set: a single-machine crawl never loads the
Redis client.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any, Protocol

import redis
from scrapy import Request, signals
from scrapy.exceptions import CloseSpider, DontCloseSpider, NotConfigured
from scrapy.http import Response
from scrapy.utils.asyncio import create_looping_call
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.python.failure import Failure

from newscrawl import names
from newscrawl import settings as defaults
from newscrawl.distributed import (
    REDIS_TIMEOUTS,
    RedisUnavailable,
    distributed_run,
    pointer_key,
    run_prefix,
    safe_url,
)


class StoryLookup(Protocol):
    """What a claim needs of the seen store on the run's Redis: a look-up of stories
    that goes in the claim's own pipeline (``RedisSeenStore``)."""

    def ask_stories(self, pipe: Any, wanted: list[str]) -> None: ...

    def stories_answered(self, wanted: list[str], answers: list[Any]) -> dict[str, Any]: ...


class RunOutput(Protocol):
    """What the run needs of a worker's output (the crawl state): which leases its
    unsafe pages still hold, and a commit that makes the settled ones safe."""

    def held_leases(self) -> set[str]: ...

    def holds(self, lease: str) -> bool: ...

    def commit(self) -> None: ...

    def abandon_unsettled_pages(self) -> int: ...


if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.core.engine import ExecutionEngine
    from scrapy.crawler import Crawler
    from typing_extensions import Self

logger = logging.getLogger(__name__)


# The run named by the pointer, or a new one: (run id, 1 created / 0 joined / 2 dead).
# A run is dead when none of its workers is alive, unless it is younger than a worker
# timeout and has no worker yet (its first is starting). ARGV: proposed id, pointer TTL,
# key prefix of runs, now (epoch s), worker timeout (s).
_JOIN = """
local current = redis.call('GET', KEYS[1])
if current then
  local prefix = ARGV[3] .. current
  for _, worker in ipairs(redis.call('SMEMBERS', prefix .. ':workers')) do
    if redis.call('EXISTS', prefix .. ':alive:' .. worker) == 1 then return {current, 0} end
  end
  local created = tonumber(redis.call('GET', prefix .. ':created') or '0')
  if redis.call('SCARD', prefix .. ':workers') == 0
     and tonumber(ARGV[4]) - created < tonumber(ARGV[5]) then
    return {current, 0}
  end
  return {current, 2}
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
redis.call('SET', ARGV[3] .. ARGV[1] .. ':created', ARGV[4], 'EX', ARGV[2] * 50)
return {ARGV[1], 1}
"""
# Keep the pointer alive while the run it names goes on.
_REFRESH_POINTER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_END_POINTER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# One round trip per batch of requests: first the releases and the page count this
# worker has waiting (ARGV[3:], ARGV[2]), then up to ARGV[1] of the most urgent requests
# taken and held under new leases: {lease id, request, lease id, request, ...}.
# A worker the others have taken for dead (its alive key, KEYS[4], gone) takes nothing.
_LEASE = """
if #ARGV > 2 then redis.call('HDEL', KEYS[2], unpack(ARGV, 3)) end
if tonumber(ARGV[2]) > 0 then redis.call('INCRBY', KEYS[5], ARGV[2]) end
if redis.call('EXISTS', KEYS[4]) == 0 then return -1 end
local wanted = tonumber(ARGV[1])
if wanted < 1 then return {} end
local top = redis.call('ZRANGE', KEYS[1], 0, wanted - 1, 'WITHSCORES')
local taken, members = {}, {}
for i = 1, #top, 2 do
  local id = redis.call('INCR', KEYS[3])
  redis.call('HSET', KEYS[2], id, top[i + 1] .. '\\n' .. top[i])
  members[#members + 1] = top[i]
  taken[#taken + 1] = id
  taken[#taken + 1] = top[i]
end
if #members > 0 then redis.call('ZREM', KEYS[1], unpack(members)) end
return taken
"""
# Queue a new request unless the dupefilter (KEYS[1]) knows its fingerprint (ARGV[1];
# empty for a request not to be filtered): 1 queued, 0 filtered. ARGV: score, request.
_ENQUEUE = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
# A leased request's follow-up (a retry or a redirect) replaces it: queued, lease dropped.
_TRANSFER = """
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HDEL', KEYS[2], ARGV[3])
"""
# Leases back into the queue, in one step: those named (a closing worker's requests it
# took and will not crawl), or all of a worker's when none is named (a dead one's).
# KEYS: the queue, the worker's lease hash; ARGV: lease ids. How many.
_REQUEUE = """
local leases = ARGV
if #leases == 0 then leases = redis.call('HKEYS', KEYS[2]) end
local back = 0
for i = 1, #leases do
  local held = redis.call('HGET', KEYS[2], leases[i])
  if held then
    local cut = string.find(held, '\\n', 1, true)
    redis.call('ZADD', KEYS[1], string.sub(held, 1, cut - 1), string.sub(held, cut + 1))
    redis.call('HDEL', KEYS[2], leases[i])
    back = back + 1
  end
end
return back
"""
# Claim a fingerprint for this worker unless it is known: committed to the seen store
# (KEYS[2]) or held by a live worker. The holder's "worker<TAB>key", or this worker's.
# A worker taken for dead claims nothing (it is told an unnamed holder has it).
_CLAIM = """
if redis.call('EXISTS', ARGV[4] .. ARGV[3]) == 0 then return '\t' end
local stored = redis.call('HGET', KEYS[2], ARGV[1])
if stored then return 'store\t' .. stored end
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then
  local cut = string.find(held, '\\t', 1, true)
  local owner = string.sub(held, 1, cut - 1)
  if owner == ARGV[3] or redis.call('EXISTS', ARGV[4] .. owner) == 1 then return held end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3] .. '\\t' .. ARGV[2])
return ARGV[3] .. '\\t' .. ARGV[2]
"""


# Leases a worker lets wait for its next round trip at most (see DistributedRun.release).
RELEASE_WAIT = 32
# Seconds a run's keys outlive its last heartbeat (an hour after it ends cleanly).
RUN_KEYS_TTL = 24 * 3600
# A time to live for the keys that have none (an ended run's keep their shorter one).
_EXPIRE_UNSET = """
for _, key in ipairs(KEYS) do
  if redis.call('TTL', key) == -1 then redis.call('EXPIRE', key, ARGV[1]) end
end
return 0
"""


def redis_client(url: str) -> redis.Redis:
    """A client that gives up on a dead or unreachable server instead of hanging."""
    return redis.Redis.from_url(url, **REDIS_TIMEOUTS)


def join_run(
    client: redis.Redis,
    namespace: str,
    proposed: str,
    ttl: int,
    worker_timeout: float = defaults.NEWSCRAWL_WORKER_TIMEOUT,
) -> tuple[str, bool]:
    """The run workers of ``namespace`` are in now, else ``proposed``: (run id, created).

    A run whose workers are all gone (stopped, killed, or cut off from Redis for longer
    than the worker timeout) is ended first: it is never joined.
    """
    for _ in range(3):
        found: Any = client.eval(
            _JOIN, 1, pointer_key(namespace), proposed, ttl, f"{namespace}:run:",
            time.time(), worker_timeout,
        )  # fmt: skip
        run_id = found[0].decode() if isinstance(found[0], bytes) else str(found[0])
        if int(found[1]) != 2:
            return run_id, bool(int(found[1]))
        logger.warning(
            "Run %s has no live worker (stopped or killed): ended; a new run starts and "
            "publishes what it left on this machine",
            run_id,
        )
        client.eval(_END_POINTER, 1, pointer_key(namespace), run_id)
    raise RedisUnavailable(f"could not join or start a run in {namespace}")


def join_current_run(url: str, namespace: str, proposed: str, worker_timeout: float) -> str:
    """``join_run`` on the Redis at ``url``; the pointer lives twice the worker timeout
    (heartbeats keep it alive), so a run whose workers all died is not joined for long."""
    client = redis_client(url)
    try:
        run_id, created = join_run(
            client, namespace, proposed, max(2, round(worker_timeout * 2)), worker_timeout
        )
    except redis.RedisError as exc:
        raise RedisUnavailable(f"cannot reach Redis at {safe_url(url)}: {exc}") from None
    finally:
        client.close()
    logger.info("%s distributed run %s (%s)", "Started" if created else "Joined", run_id, namespace)
    return run_id


class DistributedRun:
    """One worker's handle on a distributed run: its keys, its leases, its claims."""

    def __init__(
        self,
        client: redis.Redis,
        namespace: str,
        run_id: str,
        worker: str,
        *,
        worker_timeout: float = defaults.NEWSCRAWL_WORKER_TIMEOUT,
        idle_close: float = defaults.NEWSCRAWL_IDLE_CLOSE,
        lease_batch: int = defaults.NEWSCRAWL_LEASE_BATCH,
    ) -> None:
        self.redis = client
        self.namespace = namespace
        self.run_id = run_id
        self.worker = worker
        self.worker_timeout = worker_timeout
        self.idle_close = idle_close
        self.lease_batch = lease_batch
        prefix = run_prefix(namespace, run_id)
        self.prefix = prefix
        self.queue_key = f"{prefix}:requests"
        self.dupefilter_key = f"{prefix}:dupefilter"
        self.workers_key = f"{prefix}:workers"
        self.claims_key = f"{prefix}:claims"
        self.sequence_key = f"{prefix}:lease-sequence"
        self.responses_key = f"{prefix}:responses"
        self.alive_prefix = f"{prefix}:alive:"
        # The seen store's fingerprint hash (same namespace): a committed story is known.
        self.fingerprints_key = f"{namespace}:fingerprints"
        self.quiet_since: float | None = None
        self.output: RunOutput | None = None  # the worker's crawl state, once it has one
        # Leases of requests this worker holds back a while (a retry waiting out its
        # backoff): its own still, though it may look idle meanwhile.
        self.waiting: set[str] = set()
        # Since when Redis has failed every call (None while it answers).
        self.failing_since: float | None = None
        # Requests leased in the last batch and not handed out yet, most urgent first.
        self.taken: deque[tuple[str, bytes]] = deque()
        # Leases whose work is done and pages this worker fetched, not yet sent: they go
        # with the next batch's round trip (or a heartbeat, or any look at the run's
        # leases), so a page is counted before its lease is gone, and before the run can
        # look finished.
        self.releasing: set[str] = set()
        self.uncounted = 0
        self._enqueue = client.register_script(_ENQUEUE)
        self._lease = client.register_script(_LEASE)
        self._transfer = client.register_script(_TRANSFER)
        self._requeue = client.register_script(_REQUEUE)
        self._claim = client.register_script(_CLAIM)

    def leases_key(self, worker: str) -> str:
        return f"{self.prefix}:leases:{worker}"

    def redis_failed(self, exc: Exception, now: float | None = None) -> bool:
        """Note a failed Redis call; True once Redis has failed for longer than the
        worker timeout (by then the other workers take this one for dead anyway)."""
        now = time.monotonic() if now is None else now
        if self.failing_since is None:
            self.failing_since = now
            logger.warning("Worker %s cannot reach Redis (retrying): %s", self.worker, exc)
        return now - self.failing_since > self.worker_timeout

    def redis_answered(self) -> None:
        if self.failing_since is not None:
            logger.info("Worker %s reaches Redis again", self.worker)
        self.failing_since = None

    # Membership

    def hold_claims(self) -> None:
        """Be alive for the run's claims without being one of its workers (a recovery
        by the run's parent): the run does not wait for it, nor end for its leaving."""
        self.redis.set(self.alive_prefix + self.worker, b"1", ex=max(1, round(self.worker_timeout)))

    def register(self) -> None:
        self.redis.sadd(self.workers_key, self.worker)
        self.redis.set(self.alive_prefix + self.worker, b"1", ex=max(1, round(self.worker_timeout)))
        self.heartbeat()

    def heartbeat(self) -> bool:
        """Say this worker is alive; False when it had been taken for dead meanwhile.

        Also keeps the run's keys from expiring while it goes on: a run that stops
        without finishing (every worker killed) leaves nothing in Redis for long.
        """
        ttl = max(1, round(self.worker_timeout))
        alive = self.alive_prefix + self.worker
        was_alive = self.redis.set(alive, b"1", ex=ttl, xx=True)
        self.redis.eval(_REFRESH_POINTER, 1, pointer_key(self.namespace), self.run_id, ttl * 2)
        self._keep_run_keys()
        self.flush()
        if not was_alive:
            self.taken.clear()  # requeued by the others meanwhile: theirs to crawl
        return bool(was_alive)

    def _keep_run_keys(self) -> None:
        """Give the run's keys (and this worker's leases) their time to live again: a key
        Redis made anew since (a queue emptied, then pushed to) has none until then."""
        keep = max(RUN_KEYS_TTL, max(1, round(self.worker_timeout)) * 10)
        pipe = self.redis.pipeline(transaction=False)
        for key in (*self.run_keys(), self.leases_key(self.worker)):
            pipe.expire(key, keep)
        pipe.execute()

    def run_keys(self) -> tuple[str, ...]:
        return (self.queue_key, self.dupefilter_key, self.workers_key, self.claims_key,
                self.sequence_key, self.responses_key)  # fmt: skip

    def leave(self, worker: str | None = None) -> None:
        """This worker (or ``worker``, one known to have exited) is gone. A worker that
        leaves leaves no key of the run without a time to live (a stopped run's expire)."""
        self.redis.delete(self.alive_prefix + (worker or self.worker))
        if worker is None:
            keys = (*self.run_keys(), self.leases_key(self.worker))
            self.redis.eval(_EXPIRE_UNSET, len(keys), *keys, RUN_KEYS_TTL)

    def workers(self) -> list[str]:
        members: Any = self.redis.smembers(self.workers_key)
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)

    # The queue and its leases

    def lease(self) -> tuple[str, bytes] | None:
        """The next request for this worker, under a lease: (lease id, request); None
        when nothing is queued, or this worker was taken for dead. Requests are leased
        ``lease_batch`` at a time, in one round trip with the releases waiting."""
        if not self.taken:
            self._exchange(self.lease_batch)
        return self.taken.popleft() if self.taken else None

    def _exchange(self, wanted: int) -> None:
        """Send the releases and page count waiting, and lease up to ``wanted`` requests."""
        releasing, uncounted = sorted(self.releasing), self.uncounted
        keys = [self.queue_key, self.leases_key(self.worker), self.sequence_key]
        keys += [self.alive_prefix + self.worker, self.responses_key]
        found: Any = self._lease(keys=keys, args=[wanted, uncounted, *releasing])
        self.releasing.difference_update(releasing)
        self.uncounted -= uncounted
        if found == -1:  # taken for dead: what it holds is the others' to requeue
            self.taken.clear()
            return
        for n in range(0, len(found), 2):
            self.taken.append((str(int(found[n])), bytes(found[n + 1])))

    def taken_leases(self) -> set[str]:
        """Leases of requests this worker took and has not handed to its crawl yet."""
        return {lease for lease, _ in self.taken}

    def give_back(self) -> int:
        """Put the requests taken and not crawled back in the queue (the worker is
        closing); how many."""
        leases = [lease for lease, _ in self.taken]
        self.taken.clear()
        if not leases:
            return 0
        keys = [self.queue_key, self.leases_key(self.worker)]
        return int(self._requeue(keys=keys, args=leases))

    def enqueue(self, fingerprint: str | None, score: float, data: bytes) -> bool:
        """Queue a new request, unless it is a repeat (a ``fingerprint`` the run's
        dupefilter knows); whether it was queued. One round trip for both."""
        keys = [self.dupefilter_key, self.queue_key]
        return bool(self._enqueue(keys=keys, args=[fingerprint or "", score, data]))

    def transfer(self, lease: str, score: float, data: bytes) -> None:
        self._transfer(
            keys=[self.queue_key, self.leases_key(self.worker)], args=[score, data, lease]
        )

    def release(self, leases: Iterable[str]) -> None:
        """These leases' work is done (and safe): forget them, with the next round trip
        (sent now once many of them wait)."""
        self.releasing.update(leases)
        if len(self.releasing) >= max(self.lease_batch, RELEASE_WAIT):
            self.flush()

    def flush(self) -> None:
        """Send the releases and page count waiting, if any: one round trip."""
        if self.releasing or self.uncounted:
            self._exchange(0)

    def held_leases(self) -> set[str]:
        self.flush()
        found: Any = self.redis.hkeys(self.leases_key(self.worker))
        return {k.decode() if isinstance(k, bytes) else str(k) for k in found}

    def requeue_dead(self) -> int:
        """Put the leases of dead workers back in the queue; how many requests."""
        requeued = 0
        for worker in self.workers():
            if worker == self.worker or self.redis.exists(self.alive_prefix + worker):
                continue
            count = int(self._requeue(keys=[self.queue_key, self.leases_key(worker)]))
            if count:
                logger.warning(
                    "Worker %s of run %s stopped without finishing its work: "
                    "%d of its requests are back in the queue",
                    worker,
                    self.run_id,
                    count,
                )
            requeued += count
        return requeued

    def pending(self) -> int:
        """Requests queued or held under a lease, by any worker."""
        self.flush()
        pipe = self.redis.pipeline(transaction=False)
        pipe.zcard(self.queue_key)
        for worker in self.workers():
            pipe.hlen(self.leases_key(worker))
        return sum(int(n) for n in pipe.execute())

    def finished(self, now: float | None = None) -> bool:
        """Has the run had nothing queued and nothing leased for NEWSCRAWL_IDLE_CLOSE s?"""
        now = time.monotonic() if now is None else now
        if self.pending():
            self.quiet_since = None
            return False
        if self.quiet_since is None:
            self.quiet_since = now
        return now - self.quiet_since >= self.idle_close

    def end(self) -> None:
        """The run is over: let a new one start; its keys expire after a while."""
        self.redis.eval(_END_POINTER, 1, pointer_key(self.namespace), self.run_id)
        pipe = self.redis.pipeline(transaction=False)
        for key in self.run_keys():
            pipe.expire(key, 3600)
        pipe.execute()

    # Stories

    def claim(self, fingerprint: str, key: str) -> str | None:
        """Claim a story's fingerprint for this worker; the key it is known under (in the
        seen store, or by a live worker writing it), else None: the story is ours."""
        holder = self.claim_holder(fingerprint, key)
        return None if holder is None else holder[1]

    def claim_holder(self, fingerprint: str, key: str) -> tuple[str, str] | None:
        """Like ``claim``: (holder, key) when the story is not ours, the holder being a
        worker id, ``store`` (committed) or ``""`` (this worker was taken for dead)."""
        keys, args = self._claim_call(fingerprint, key)
        held: Any = self._claim(keys=keys, args=args)
        return self._holder(held)

    def claim_looking_up(
        self, fingerprint: str, key: str, story: str, store: StoryLookup
    ) -> tuple[tuple[str, str] | None, Any]:
        """``claim_holder``, and the seen store's state of ``story`` (the key the claimed
        one is a version of) in the same round trip: the store is on this Redis."""
        keys, args = self._claim_call(fingerprint, key)
        for attempt in (1, 2):
            pipe = self.redis.pipeline(transaction=False)
            # By its digest: a script run through a pipeline costs a SCRIPT EXISTS first.
            pipe.evalsha(self._claim.sha, len(keys), *keys, *args)
            store.ask_stories(pipe, [story])
            try:
                held, *answers = pipe.execute()
            except redis.exceptions.NoScriptError:  # a Redis restarted since: load it again
                if attempt == 2:
                    raise
                self._claim.sha = self.redis.script_load(_CLAIM)
                continue
            break
        return self._holder(held), store.stories_answered([story], answers).get(story)

    def _claim_call(self, fingerprint: str, key: str) -> tuple[list[str], list[str]]:
        """The claim script's keys and arguments."""
        keys = [self.claims_key, self.fingerprints_key]
        return keys, [fingerprint, key, self.worker, self.alive_prefix]

    def _holder(self, held: Any) -> tuple[str, str] | None:
        text = held.decode() if isinstance(held, bytes) else str(held)
        owner, _, owner_key = text.partition("\t")
        return None if owner == self.worker else (owner, owner_key)

    def count_response(self) -> None:
        """A page fetched: counted in the run's total with the next round trip that
        sends releases (a page's lease is released after its response, never before)."""
        self.uncounted += 1

    def responses(self) -> int:
        """The pages all workers of the run fetched, this one's own counted first."""
        self.flush()
        return int(self.redis.get(self.responses_key) or 0)


class LeasedQueue(PriorityQueue):
    """scrapy-redis's priority queue, where taking a request leases it (see above)."""

    def __init__(self, run: DistributedRun, spider: Spider) -> None:
        super().__init__(run.redis, spider, run.queue_key)
        self.run = run

    def push(self, request: Request) -> None:
        lease = request.meta.pop(names.LEASE, None)
        if lease is None:
            super().push(request)
            return
        self.run.transfer(lease, -request.priority, self._encode_request(request))

    def __len__(self) -> int:
        return len(self.run.taken) + int(super().__len__())

    def push_new(self, request: Request, dupefilter: RFPDupeFilter) -> bool:
        """Queue a request that holds no lease, unless ``dupefilter`` has seen it."""
        seen = None if request.dont_filter else dupefilter.request_fingerprint(request)
        return self.run.enqueue(seen, -request.priority, self._encode_request(request))

    def pop(self, timeout: int = 0) -> Request | None:
        try:
            found = self.run.lease()
        except redis.RedisError as exc:  # the coordinator decides when to give up
            self.run.redis_failed(exc)
            return None
        self.run.redis_answered()
        if found is None:
            return None
        lease, data = found
        request: Request = self._decode_request(data)
        request.meta[names.LEASE] = lease
        return request


class RedisScheduler(Scheduler):
    """scrapy-redis's scheduler with a leased queue and today's Scrapy APIs.

    scrapy-redis 0.9.1 passes ``spider=`` to the stats collector and logs through
    ``Spider.log``, both deprecated in Scrapy 2.19: the methods that do are replaced here.
    """

    crawler: Crawler
    df: Any

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        scheduler: Self = cls.from_settings(crawler.settings)
        scheduler.stats = crawler.stats
        scheduler.crawler = crawler
        return scheduler

    def open(self, spider: Spider) -> None:
        self.spider = spider
        run = distributed_run(self.crawler)
        assert run is not None
        self.queue = LeasedQueue(run, spider)
        # Requests taken from the queue and handed to the engine (see hand_over), for
        # it to take back first; and the one being handed.
        self.handed: deque[Request] = deque()
        self.handing: Request | None = None
        if not self.df:
            self.df = PageKeyDupeFilter.from_spider(spider)
        queued = len(self.queue)
        if queued:
            logger.info("Run %s: %d requests already queued", run.run_id, queued)

    def __len__(self) -> int:
        return len(self.handed) + len(self.queue)

    def hand_over(self, engine: ExecutionEngine) -> bool:
        """Take the next request of the run's queue, if any, and hand it to the engine to
        crawl: which has the engine look at its scheduler now, and take more."""
        request = self.queue.pop()
        if request is None:
            return False
        self.handing = request
        try:
            engine.crawl(request)
        finally:
            self.handing = None
        return True

    def enqueue_request(self, request: Request) -> bool:
        if request is self.handing:  # taken and leased already: kept here, not queued
            self.handed.append(request)
            return True
        try:
            if names.LEASE in request.meta:  # a leased request's follow-up replaces it
                if not request.dont_filter and self.df.request_seen(request):
                    return False
                self.queue.push(request)
            elif not self.queue.push_new(request, self.df):
                return False
        except redis.RedisError as exc:  # the coordinator decides when to give up
            self.queue.run.redis_failed(exc)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        request: Request | None = self.handed.popleft() if self.handed else self.queue.pop()
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request


class PageKeyDupeFilter(RFPDupeFilter):
    """scrapy-redis's shared dupefilter; an article is one request whatever its URL form."""

    def request_fingerprint(self, request: Request) -> str:
        key = request.meta.get(names.PAGE_KEY)
        # A redirect carries its article's key: it is the same article, known by its URL.
        if key is None or request.meta.get("redirect_urls"):
            return str(super().request_fingerprint(request))
        return hashlib.sha1(f"page {key}".encode()).hexdigest()


class LeaseMiddleware:
    """Spider middleware (outermost): releases a response's lease once its output is out,
    unless the crawl state holds it until the page's stories are safe. Start requests
    go through the shared dupefilter, so each worker can seed the run and each start
    request is fetched once."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        async for item in start:
            if isinstance(item, Request) and item.dont_filter:
                item = item.replace(dont_filter=False)
            yield item

    async def process_spider_output(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        try:
            async for item in result:
                yield item
        finally:
            self._release(response)

    def _release(self, response: Response) -> None:
        lease = response.meta.get(names.LEASE)
        run = distributed_run(self.crawler)
        if lease is None or run is None or (run.output is not None and run.output.holds(lease)):
            return
        try:
            run.release([lease])
        except redis.RedisError as exc:  # released at the next idle, or requeued
            run.redis_failed(exc)


class RunCoordinator:
    """Extension: heartbeats, dead workers' leases requeued, and when the run is finished.

    Spider-idle (nothing to download or process here) is when a worker commits its
    output, releases what it still holds, and checks whether the whole run is done.

    The engine looks at its scheduler after each download, and otherwise every 5 s (its
    heartbeat): an idle worker would be slow to see what other workers queued, and that
    the run is done. Every NEWSCRAWL_DISTRIBUTED_POLL seconds the coordinator looks
    instead (``look``): it hands the engine the next request of the run's queue, through
    ``engine.crawl``, which has the engine take it and whatever else it has room for; or,
    with nothing queued and the worker idle, it does what the engine's idle look does:
    ``spider_idle``, and the spider closed unless a handler keeps it open.
    """

    def __init__(self, crawler: Crawler, run: DistributedRun, poll: float) -> None:
        self.crawler = crawler
        self.run = run
        self.poll = poll
        self.heartbeats: Any = None
        self.looks: Any = None
        self.requeued = 0
        self.stopping = False
        self.start_failed = False  # Spider.start() raised: the crawl ends as start_error
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.spider_error, signal=signals.spider_error)
        crawler.signals.connect(self.response_received, signal=signals.response_received)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        run = distributed_run(crawler)
        if run is None:
            raise NotConfigured
        return cls(crawler, run, crawler.settings.getfloat("NEWSCRAWL_DISTRIBUTED_POLL"))

    def spider_opened(self) -> None:
        self.run.register()
        logger.info(
            "Worker %s in run %s (%s)", self.run.worker, self.run.run_id, self.run.queue_key
        )
        interval = max(0.5, self.run.worker_timeout / 4)
        self.heartbeats = create_looping_call(self.beat)
        self.heartbeats.start(interval, now=False)
        self.looks = create_looping_call(self.look)
        self.looks.start(self.poll, now=False)

    def look(self) -> None:
        """Every NEWSCRAWL_DISTRIBUTED_POLL s: what the engine's heartbeat does every 5 s."""
        engine = self.crawler.engine
        if self.stopping or engine is None or engine.spider is None or engine.needs_backout():
            return  # busy (each download done makes it look again), or closing
        scheduler = engine.scheduler
        try:
            if isinstance(scheduler, RedisScheduler) and scheduler.hand_over(engine):
                return
            if engine.spider_is_idle():
                self._idle(engine)
        except redis.RedisError as exc:  # the looping call must go on
            self.run.redis_failed(exc)

    def _idle(self, engine: ExecutionEngine) -> None:
        """The engine's idle look: spider_idle, then, if no handler keeps the spider
        open (DontCloseSpider), the spider closed, for the reason a CloseSpider gives."""
        results = self.crawler.signals.send_catch_log(
            signal=signals.spider_idle,
            spider=engine.spider,
            dont_log=(DontCloseSpider, CloseSpider),
        )
        raised = [result.value for _, result in results if isinstance(result, Failure)]
        if any(isinstance(exc, DontCloseSpider) for exc in raised) or self.stopping:
            return
        if engine.spider is None or engine.needs_backout() or not engine.spider_is_idle():
            return
        close = next((exc for exc in raised if isinstance(exc, CloseSpider)), None)
        default = "start_error" if self.start_failed else "finished"
        deferred_from_coro(engine.close_spider_async(reason=close.reason if close else default))

    def spider_error(self, response: Response | None) -> None:
        if response is None:  # only Spider.start() fails with no response
            self.start_failed = True

    def beat(self) -> None:
        # The looping call stops for good on an exception: a Redis hiccup must not end
        # the heartbeats (the others would take this worker for dead).
        try:
            alive = self.run.heartbeat()
            self.requeued += self.run.requeue_dead()
        except redis.RedisError as exc:
            if self.run.redis_failed(exc):
                self.give_up()
            return
        self.run.redis_answered()
        if not alive and not self.stopping:
            self.stopping = True
            self._inc(names.stat(names.DISTRIBUTED, "presumed_dead"))
            logger.error(
                "Worker %s was silent for more than NEWSCRAWL_WORKER_TIMEOUT=%g s and was "
                "taken for dead: its requests went back to the queue; it stops now",
                self.run.worker,
                self.run.worker_timeout,
            )
            engine = self.crawler.engine
            if engine is not None:
                deferred_from_coro(engine.close_spider_async(reason="presumed_dead"))

    def response_received(self, response: Response) -> None:
        if 200 <= response.status < 300 or response.status == 304:  # a page, not an error
            self.run.count_response()

    def spider_idle(self) -> None:
        if self.stopping:
            return
        state = self.run.output
        try:
            if state is not None:
                state.commit()  # releases the leases of pages whose stories are now safe
                # Idle with pages unsettled: a story of theirs failed in a pipeline (logged).
                state.abandon_unsettled_pages()
            held = state.held_leases() if state is not None else set()
            stray = self.run.held_leases() - held - self.run.waiting - self.run.taken_leases()
            if stray:  # idle, so none of it is in flight: failed requests, mostly
                self.run.release(stray)
            self.requeued += self.run.requeue_dead()
            finished = self.run.finished()
        except redis.RedisError as exc:  # retried at the next idle, for a while
            if self.run.redis_failed(exc):
                self.give_up()
                return
            raise DontCloseSpider from exc
        self.run.redis_answered()
        if finished:
            logger.info("Run %s finished: nothing queued or in flight", self.run.run_id)
            self.run.end()
            self._set_run_stats()
            return
        raise DontCloseSpider

    def give_up(self) -> None:
        """Redis has been unreachable for longer than the worker timeout: stop, once."""
        if self.stopping:
            return
        self.stopping = True
        reason = (
            f"Redis unreachable for more than NEWSCRAWL_WORKER_TIMEOUT="
            f"{self.run.worker_timeout:g} s: the worker stopped (its committed output "
            "stays in .partial/ for the next run)"
        )
        logger.error("Worker %s: %s", self.run.worker, reason)
        if self.crawler.stats is not None:
            self.crawler.stats.set_value(names.REDIS_FAILED, reason)
        engine = self.crawler.engine
        if engine is not None:
            deferred_from_coro(engine.close_spider_async(reason="redis_unavailable"))

    def spider_closed(self) -> None:
        for looping in (self.heartbeats, self.looks):
            if looping is not None and looping.running:
                looping.stop()
        try:
            back = self.run.give_back()
            if back:
                logger.info(
                    "Worker %s put %d requests it had not crawled back", self.run.worker, back
                )
            self._set_run_stats()
            self.run.leave()
        except redis.RedisError as exc:
            logger.warning("Worker %s could not leave its run on Redis: %s", self.run.worker, exc)

    def _set_run_stats(self) -> None:
        stats = self.crawler.stats
        if stats is not None:
            stats.set_value(names.stat(names.DISTRIBUTED, "run_id"), self.run.run_id)
            stats.set_value(names.stat(names.DISTRIBUTED, "worker"), self.run.worker)
            # The pages all workers fetched: a worker with nothing left to do did not fail.
            stats.set_value(names.RUN_RESPONSES, self.run.responses())
            stats.set_value(names.REQUEUED, self.requeued)

    def _inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)
