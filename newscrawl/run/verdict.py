"""Run monitors (spidermon): did this run go well enough to publish its output?

Each monitor checks one thing against a threshold from the settings; a failed one
explains itself in one line an operator can act on. ``newscrawl run`` reads the
verdict from the crawl stats (``newscrawl/monitors/failed``) to set its exit status.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from spidermon import Monitor, MonitorSuite, monitors
from spidermon.core.actions import Action

from newscrawl import names

if TYPE_CHECKING:
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
    if stats.get_value(names.RUN_RESPONSES, 0):
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


def _stats(monitor: Monitor) -> dict[str, Any]:
    return dict(monitor.data.stats)


def _setting(monitor: Monitor, name: str) -> float:
    return float(monitor.data.crawler.settings.getfloat(name))


@monitors.name("Finish reason")
class FinishReasonMonitor(Monitor):
    @monitors.name("the crawl finished on its own")
    def test_finished(self) -> None:
        reason = _stats(self).get("finish_reason")
        if reason != "finished":
            self.fail(f"the crawl ended with finish reason {reason!r}, not 'finished'")


@monitors.name("Pages fetched")
class FetchMonitor(Monitor):
    @monitors.name("at least one page could be fetched")
    def test_fetched(self) -> None:
        reason = nothing_fetched_reason(self.data.crawler.stats)
        if reason is not None:
            self.fail(f"{reason}: is the site (or the network) down?")


@monitors.name("Item count")
class StoryCountMonitor(Monitor):
    @monitors.name("article pages gave stories")
    def test_stories_found(self) -> None:
        stats = _stats(self)
        pages = int(stats.get(names.PAGES, 0))
        stories = int(stats.get(names.STORIES, 0))
        if pages > 0 and stories == 0:
            self.fail(
                f"{pages} article pages fetched but not one story found in them: "
                "has the site's layout changed? (see newscrawl/sites/)"
            )


@monitors.name("Error count")
class ErrorCountMonitor(Monitor):
    @monitors.name("errors stayed under NEWSCRAWL_MAX_ERRORS")
    def test_errors(self) -> None:
        errors = int(_stats(self).get("log_count/ERROR", 0))
        limit = _setting(self, "NEWSCRAWL_MAX_ERRORS")
        if errors > limit:
            self.fail(f"{errors} errors logged, more than NEWSCRAWL_MAX_ERRORS={limit:g}")


@monitors.name("Field coverage")
class FieldCoverageMonitor(Monitor):
    """Share of the story regions found on pages that had each field."""

    def coverage(self, field: str) -> tuple[float, int]:
        stats = _stats(self)
        regions = int(stats.get(names.stat(names.COVERAGE, "regions"), 0))
        found = int(stats.get(names.stat(names.COVERAGE, field), 0))
        return (found / regions if regions else 1.0), regions

    def check(self, field: str, setting: str) -> None:
        share, regions = self.coverage(field)
        floor = _setting(self, setting)
        if share < floor:
            self.fail(
                f"{field} found in {share:.0%} of {regions} stories, below {setting}={floor:g}: "
                "has the site's layout changed? (see newscrawl/sites/)"
            )

    @monitors.name("title coverage")
    def test_title(self) -> None:
        self.check("title", "NEWSCRAWL_MIN_TITLE_COVERAGE")

    @monitors.name("body coverage")
    def test_body(self) -> None:
        self.check("body", "NEWSCRAWL_MIN_BODY_COVERAGE")

    @monitors.name("updated coverage")
    def test_updated(self) -> None:
        self.check("updated", "NEWSCRAWL_MIN_UPDATED_COVERAGE")


@monitors.name("Lost pages")
class LostPagesMonitor(Monitor):
    """Share of article pages that could not be read, whatever the fault (each counted)."""

    @monitors.name("article pages lost stayed under NEWSCRAWL_MAX_LOST_PAGES")
    def test_lost(self) -> None:
        stats = _stats(self)
        lost = int(stats.get(names.PAGES_LOST, 0))
        total = lost + int(stats.get(names.PAGES, 0))
        limit = _setting(self, "NEWSCRAWL_MAX_LOST_PAGES")
        if not lost or lost / total <= limit:
            return
        prefix = names.stat(names.FAULTS, "lost", "")
        kinds = sorted(
            ((key.removeprefix(prefix), int(count)) for key, count in stats.items()
             if key.startswith(prefix)),
            key=lambda pair: -pair[1],
        )  # fmt: skip
        detail = ", ".join(f"{kind} x{count}" for kind, count in kinds[:4])
        self.fail(
            f"{lost} of {total} article pages could not be read ({lost / total:.0%}, "
            f"above NEWSCRAWL_MAX_LOST_PAGES={limit:g}): {detail}"
        )


@monitors.name("Validation")
class ValidationMonitor(Monitor):
    @monitors.name("records that failed the schema stayed under the limit")
    def test_validation(self) -> None:
        stats = _stats(self)
        failed = int(stats.get(names.INVALID, 0))
        limit = _setting(self, "NEWSCRAWL_MAX_INVALID_RECORDS")
        if failed > limit:
            self.fail(
                f"{failed} records failed the story schema, more than "
                f"NEWSCRAWL_MAX_INVALID_RECORDS={limit:g} (see the log for which fields)"
            )


class RecordVerdict(Action):
    """Puts the failed monitors' one-line reasons in the stats and the log."""

    def run_action(self) -> None:
        failures = []
        for result in self.result.monitors_failed_results:
            reason = str(result.error).strip().splitlines()[-1]
            reason = reason.removeprefix("AssertionError: ")
            failures.append(f"{result.monitor.monitor_full_name}: {reason}")
        stats = self.data.crawler.stats
        stats.set_value(names.MONITORS_FAILED, failures)
        for failure in failures:
            logger.error("Monitor failed: %s", failure)


class RunMonitorSuite(MonitorSuite):
    monitors = [  # noqa: RUF012 - spidermon reads the class attribute
        FetchMonitor,
        FinishReasonMonitor,
        StoryCountMonitor,
        ErrorCountMonitor,
        FieldCoverageMonitor,
        LostPagesMonitor,
        ValidationMonitor,
    ]
    monitors_finished_actions = [RecordVerdict]  # noqa: RUF012
