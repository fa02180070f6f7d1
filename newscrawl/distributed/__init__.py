"""Distributed mode: several crawl processes, on one machine or many, share one run.

Switched on by one setting, NEWSCRAWL_REDIS_URL (or the environment variable of that
name): the ``Distributed`` add-on then puts scrapy-redis's scheduler and dupefilter in
place of Scrapy's, with the seen store on the same Redis. Nothing else changes: each
worker writes its own run file (``<run-id>.<worker>.jsonl``) and manifest, and
``newscrawl dataset`` merges them.

This module is what every crawl loads: the add-on, and the names and helpers the
other stages share. The run itself, the scheduler and what else talks to Redis are in
``newscrawl.distributed.redis_run``, imported only in distributed mode, so that a
single-machine crawl never loads the Redis client (6 MB of its memory).

What scrapy-redis does not do, done here on top of it, all under one key prefix per run
(``<namespace>:run:<run-id>:``):

* **Joining a run.** Workers started together (``newscrawl run --workers N``, or the same
  command on several machines) join the run named by ``<namespace>:run:current``; the
  first one creates it. Every worker seeds the queue with the spider's start requests;
  the shared dupefilter lets each one in once.
* **Leases.** A request taken from the queue is moved, in one step, to the worker's
  lease hash, and leaves it only when its work is safe: an article page when every story
  it gave is written, fsynced and recorded as seen; any other request when its response
  has been handled. A worker that stops sending heartbeats for NEWSCRAWL_WORKER_TIMEOUT
  seconds is dead: the others put its leases back in the queue. Requests are leased
  NEWSCRAWL_LEASE_BATCH at a time, and the leases let go wait for the next batch's round
  trip (a worker's round trips to Redis are most of what it costs beyond a single crawl).
* **Claims.** Before a worker writes a story that the seen store does not know, it claims
  the story's fingerprint for the run; a story claimed by a live worker is that worker's
  to write. A dead worker's claims can be taken over, so a page it never finished is
  refetched and its stories written by someone else, once.
* **Finishing.** A run is finished when the queue is empty and no worker holds a lease,
  and has stayed so for NEWSCRAWL_IDLE_CLOSE seconds: then each worker closes its crawl.
"""

from __future__ import annotations

import re
import secrets
import sys
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from scrapy.exceptions import NotConfigured
from scrapy.settings import SETTINGS_PRIORITIES

from newscrawl.clock import new_run_id, utc_now

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from typing_extensions import Self

    from newscrawl.distributed.redis_run import DistributedRun

REDIS_TIMEOUTS = {"socket_connect_timeout": 5.0, "socket_timeout": 5.0}
WORKER_ID = re.compile(r"w[0-9a-f]{6}")


def new_worker_id() -> str:
    return f"w{secrets.token_hex(3)}"


def run_prefix(namespace: str, run_id: str) -> str:
    return f"{namespace}:run:{run_id}"


def pointer_key(namespace: str) -> str:
    return f"{namespace}:run:current"


class RedisUnavailable(Exception):
    """Redis could not be reached (one line, the URL's password left out)."""


def redis_errors() -> tuple[type[Exception], ...]:
    """What a stage catches where it may talk to Redis: the client's error class; none
    while the client is not imported (a single-machine crawl never imports it, so no
    Redis error can come)."""
    client = sys.modules.get("redis")
    return (client.RedisError,) if client is not None else ()


def safe_url(url: str) -> str:
    """``url`` fit for a log line: its password replaced by ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]  # empty for a unix socket's URL
    return parts._replace(netloc=f"{parts.username or ''}:***@{host}").geturl()


def namespace_of(settings: BaseSettings, spider_name: str) -> str:
    namespace = str(settings["NEWSCRAWL_SEEN_NAMESPACE"])
    return namespace.format(spider=spider_name)


_RUNS: WeakKeyDictionary[Crawler, DistributedRun] = WeakKeyDictionary()


def distributed_run(crawler: Crawler) -> DistributedRun | None:
    """The crawler's distributed run, or None in single-machine mode."""
    settings = crawler.settings
    url = settings.get("NEWSCRAWL_REDIS_URL")
    if not url:
        return None
    run = _RUNS.get(crawler)
    if run is None:
        from newscrawl.distributed.redis_run import DistributedRun, redis_client

        spider = crawler.spider
        name = spider.name if spider is not None else str(crawler.spidercls.name)
        run = _RUNS[crawler] = DistributedRun(
            redis_client(url),
            namespace_of(settings, name),
            str(settings["NEWSCRAWL_RUN_ID"]),
            str(settings["NEWSCRAWL_WORKER_ID"]),
            worker_timeout=settings.getfloat("NEWSCRAWL_WORKER_TIMEOUT"),
            idle_close=settings.getfloat("NEWSCRAWL_IDLE_CLOSE"),
            lease_batch=settings.getint("NEWSCRAWL_LEASE_BATCH"),
        )
    return run


class Distributed:
    """Scrapy add-on: distributed mode when NEWSCRAWL_REDIS_URL is set, else nothing."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def update_settings(self, settings: BaseSettings) -> None:
        url = settings.get("NEWSCRAWL_REDIS_URL")
        if not url:
            raise NotConfigured
        store = settings.get("NEWSCRAWL_SEEN_STORE")
        if store and not str(store).startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(
                f"NEWSCRAWL_SEEN_STORE={store!r}: distributed mode (NEWSCRAWL_REDIS_URL) "
                "keeps the seen store on Redis; leave NEWSCRAWL_SEEN_STORE empty"
            )
        worker = settings.get("NEWSCRAWL_WORKER_ID") or new_worker_id()
        if not WORKER_ID.fullmatch(str(worker)):
            raise ValueError(f"NEWSCRAWL_WORKER_ID={worker!r}: expected w and 6 hex digits")
        namespace = namespace_of(settings, str(self.crawler.spidercls.name))
        from newscrawl.distributed.redis_run import (
            LeaseMiddleware,
            RunCoordinator,
            join_current_run,
        )

        run_id = settings.get("NEWSCRAWL_RUN_ID")
        if not run_id:
            timeout = settings.getfloat("NEWSCRAWL_WORKER_TIMEOUT")
            run_id = join_current_run(url, namespace, new_run_id(utc_now()), timeout)
        prefix = run_prefix(namespace, run_id)
        values = {
            "NEWSCRAWL_RUN_ID": run_id,
            "NEWSCRAWL_WORKER_ID": worker,
            "NEWSCRAWL_SEEN_STORE": store or url,
            "SCHEDULER": "newscrawl.distributed.redis_run.RedisScheduler",
            "DUPEFILTER_CLASS": "newscrawl.distributed.redis_run.PageKeyDupeFilter",
            "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
            "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
            "SCHEDULER_PERSIST": True,  # the queue is the run's, not this worker's
            "REDIS_URL": url,
        }
        for name, value in values.items():
            # At least the priority of the project's own (empty) value, which it replaces.
            priority = max(settings.getpriority(name) or 0, SETTINGS_PRIORITIES["addon"])
            settings.set(name, value, priority=priority)
        settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", LeaseMiddleware, 10)
        # Before spidermon's (500): the run monitors read the run-wide stats it sets on close.
        settings.set_in_component_priority_dict("EXTENSIONS", RunCoordinator, 400)
