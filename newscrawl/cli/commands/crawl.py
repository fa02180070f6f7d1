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
from typing import TYPE_CHECKING

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from newscrawl.discover.arguments import SpiderArgumentError
from newscrawl.run.config import SettingsError, check_settings
from newscrawl.run.locks import LOCK_FILE, release_lock
from newscrawl.run.state import OutputRefused, open_output, output_dir_of, stopped_reason
from newscrawl.run.verdict import nothing_fetched_reason

if TYPE_CHECKING:
    import argparse


logger = logging.getLogger(__name__)


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
