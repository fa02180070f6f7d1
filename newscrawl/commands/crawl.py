"""``scrapy crawl`` with exit statuses a scheduler can trust.

Stock ``scrapy crawl`` logs a traceback and exits 0 when a spider's ``__init__`` raises,
and exits 0 when not one page could be fetched. Here a bad ``-a`` or ``-s`` is a usage error
(one line on stderr, exit status 2, no request made), and a crawl that fetched nothing
exits 1 naming the download errors. It takes the spider's run lock and checks the
output before crawling, as ``newscrawl run`` does: another run holding the lock exits
75, an output that cannot be written or a seen store behind the published files exits
3, each with one line; so does a crawl stopped by a full disk or a lost Redis.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from newscrawl.arguments import SpiderArgumentError
from newscrawl.config import SettingsError, check_settings
from newscrawl.locks import LOCK_FILE, release_lock
from newscrawl.state import OutputRefused, open_output, output_dir_of, stopped_reason

if TYPE_CHECKING:
    import argparse

    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)
EXCEPTION_STAT = "downloader/exception_type_count/"
STATUS_STAT = "downloader/response_status_count/"


def pages_read(stats: dict[str, Any]) -> int:
    """Responses that gave a page (2xx, 304), robots.txt left out."""
    read = 0
    for key, count in stats.items():
        for prefix, sign in (("downloader/", 1), ("robotstxt/", -1)):
            if key.startswith(f"{prefix}response_status_count/"):
                status = key.rsplit("/", 1)[1]
                if status.isdigit() and (200 <= int(status) < 300 or int(status) == 304):
                    read += sign * int(count)
    return read


def nothing_fetched_reason(stats: StatsCollector) -> str | None:
    """Why a finished crawl counts as failed for having fetched nothing, or None."""
    values = stats.get_stats()
    if pages_read(values) > 0:
        return None
    if stats.get_value("newscrawl/distributed/run_responses", 0):
        return None  # a worker of a distributed run that others left nothing to
    errors = {
        key.removeprefix(EXCEPTION_STAT).rsplit(".", 1)[-1]: count
        for key, count in values.items()
        if key.startswith(EXCEPTION_STAT)
    }
    details = [f"{name} x{count}" for name, count in sorted(errors.items())]
    statuses = {
        key.rsplit("/", 1)[1]: count
        for key, count in values.items()
        if key.startswith(STATUS_STAT) and not key.endswith(("/200", "/304"))
    }
    details += [f"HTTP {status} x{count}" for status, count in sorted(statuses.items())]
    reason = "no page could be fetched"
    return reason + (f" (download errors: {', '.join(details)})" if details else "")


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1 or self.crawler_process is None:
            super().run(args, opts)
            return
        try:
            check_settings(self.crawler_process.settings)
        except SettingsError as exc:
            if exc.exit_code == 2:
                raise UsageError(str(exc), print_help=False) from None
            logger.error("Crawl refused: %s", exc)
            self.exitcode = exc.exit_code
            return
        try:
            spidercls = self.crawler_process.spider_loader.load(args[0])
        except KeyError:
            spidercls = None  # Scrapy reports the unknown spider itself
        check = getattr(spidercls, "check_arguments", None)
        if check is not None:
            try:
                check(opts.spargs)
            except SpiderArgumentError as exc:
                raise UsageError(str(exc), print_help=False) from None
        # The same lock and output checks as `newscrawl run`, held for the whole crawl:
        # two overlapping crawls (scrapyd jobs, cron) never write the same output.
        settings = self.crawler_process.settings
        try:
            store, _ = open_output(
                settings,
                args[0],
                run_id=f"scrapy crawl (pid {os.getpid()})",
                # In distributed mode the crawl recovers, once it knows its run.
                recover=not settings.get("NEWSCRAWL_REDIS_URL"),
            )
        except OutputRefused as exc:
            logger.error("Crawl refused: %s", exc)
            self.exitcode = exc.exit_code
            return
        store.close()
        lock = output_dir_of(settings) / args[0] / LOCK_FILE
        try:
            crawler = self._create_crawler(args[0])
            self.crawler_process.crawl(crawler, **opts.spargs)
            self.crawler_process.start()
        finally:
            release_lock(lock)
        stats = crawler.stats.get_stats() if crawler.stats is not None else {}
        if self.crawler_process.bootstrap_failed:
            self.exitcode = 1
        elif stopped := stopped_reason(stats):
            logger.error("Crawl failed: %s", stopped)
            self.exitcode = 3
        elif crawler.stats is not None and (reason := nothing_fetched_reason(crawler.stats)):
            logger.error("Crawl failed: %s", reason)
            self.exitcode = 1
