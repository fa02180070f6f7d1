"""Settings (``-s``): declared once with types and ranges, checked before any request."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from scrapy.settings import Settings

import newscrawl.settings
from newscrawl.cli.run import EXIT_USAGE
from newscrawl.run.config import NewscrawlSettings, SettingsError, check_settings
from tests.conftest import Mirror

ROOT = Path(__file__).resolve().parent.parent
# The bad values of the issue, and what the one line must say of each.
BAD = [
    ("NEWSCRAWL_COMMIT_EVERY", "abc", "must be a whole number (1 or more)"),
    ("DOWNLOAD_TIMEOUT", "abc", "must be a number of seconds above 0"),
    ("NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD", "5", "must be a number above 0, at most 1"),
    ("NEWSCRAWL_MAX_LOST_PAGES", "abc", "must be a number from 0 to 1"),
]
# Fast, and a crawl that is over after one page: the good-value runs must make requests.
QUICK = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0"]
QUICK += ["-s", "CLOSESPIDER_PAGECOUNT=1", "-a", "sources=feeds"]


def project_settings(**given: Any) -> Settings:
    """newscrawl's settings, with ``given`` on top as if from ``-s`` on the command line."""
    settings = Settings()
    settings.setmodule(newscrawl.settings, priority="project")
    settings.setdict(given, priority="cmdline")
    return settings


def command(entry: str, base_url: str, output: Path, *extra: str) -> list[str]:
    if entry == "scrapy crawl":
        start = [sys.executable, "-m", "scrapy", "crawl", "arabnews"]
        start += ["-s", f"NEWSCRAWL_OUTPUT_DIR={output}"]
    else:
        start = [sys.executable, "-m", "newscrawl.cli", "run", "arabnews"]
        start += ["--output-dir", str(output)]
    return [*start, "-a", f"base_url={base_url}", *QUICK, *extra]


@pytest.mark.slow
@pytest.mark.parametrize("entry", ["scrapy crawl", "newscrawl run"])
@pytest.mark.parametrize(("name", "value", "expected"), BAD)
def test_a_bad_setting_exits_2_with_one_line_before_any_request(
    entry: str, name: str, value: str, expected: str, mirror: Mirror, tmp_path: Path
) -> None:
    mirror.reset_log()
    output = tmp_path / "output"
    argv = command(entry, mirror.base_url, output, "-s", f"{name}={value}")
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == EXIT_USAGE, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if "bad setting" in line]
    assert len(lines) == 1, done.stderr[-3000:]
    assert f"bad setting: -s {name}={value!r}: {expected}" in lines[0]
    if entry == "newscrawl run":  # nothing else: the check comes before Scrapy's logging
        assert done.stderr.splitlines() == [f"newscrawl run: {lines[0].split(': ', 1)[1]}"]
    assert mirror.requests() == []
    assert not output.exists()


@pytest.mark.slow
@pytest.mark.parametrize("entry", ["scrapy crawl", "newscrawl run"])
def test_the_same_command_with_good_values_crawls(
    entry: str, mirror: Mirror, tmp_path: Path
) -> None:
    # What the test above proves would otherwise have made requests.
    mirror.reset_log()
    good = ["-s", "NEWSCRAWL_COMMIT_EVERY=5", "-s", "DOWNLOAD_TIMEOUT=20"]
    good += ["-s", "NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD=0.9", "-s", "NEWSCRAWL_MAX_LOST_PAGES=0.5"]
    argv = command(entry, mirror.base_url, tmp_path / "output", *good)
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode != EXIT_USAGE, done.stderr[-3000:]
    assert "bad setting" not in done.stderr
    assert mirror.requests()


def test_several_bad_settings_are_named_in_one_line() -> None:
    settings = project_settings(RETRY_TIMES="-1", ROBOTSTXT_OBEY="yes")
    with pytest.raises(SettingsError) as raised:
        check_settings(settings)
    message = str(raised.value)
    assert "\n" not in message
    assert message == (
        "bad setting: -s ROBOTSTXT_OBEY='yes': must be True or False (or 1/0); "
        "-s RETRY_TIMES='-1': must be a whole number (0 or more)"
    )


def test_a_bad_value_not_from_the_command_line_is_named_without_s() -> None:
    settings = project_settings()
    settings.set("NEWSCRAWL_COMMIT_EVERY", 0, priority="project")
    with pytest.raises(SettingsError, match=r"^bad setting: NEWSCRAWL_COMMIT_EVERY=0: must"):
        check_settings(settings)


def test_newscrawl_defaults_pass_and_every_newscrawl_setting_is_declared() -> None:
    checked = check_settings(project_settings())
    declared = set(NewscrawlSettings.model_fields)
    ours = {name for name in vars(newscrawl.settings) if name.startswith("NEWSCRAWL_")}
    assert ours <= declared, f"declare {sorted(ours - declared)} in newscrawl/run/config.py"
    for name in declared & set(vars(newscrawl.settings)):
        assert getattr(checked, name) == getattr(newscrawl.settings, name), name
    # And the model's own defaults are settings.py's.
    for name in declared & ours:
        assert NewscrawlSettings.model_fields[name].get_default() == getattr(
            newscrawl.settings, name
        )


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("NEWSCRAWL_COMMIT_EVERY", ["1", 100, " 7 ", 3.0], ["0", "-1", "1.5", "5.0", "abc", True]),
        ("NEWSCRAWL_MAX_ERRORS", ["0", 10], ["-1", "ten"]),
        ("NEWSCRAWL_MAX_INVALID_RECORDS", [0, "3"], [-1, "0.5"]),
        ("NEWSCRAWL_MAX_LOST_PAGES", ["0", "1", 0.25, "1e-1"], ["-0.01", "1.01", "nan", "abc"]),
        ("NEWSCRAWL_MIN_TITLE_COVERAGE", ["0", "0.95", 1], ["2", "-1", "inf"]),
        ("NEWSCRAWL_MIN_BODY_COVERAGE", ["0.9"], ["90%"]),
        ("NEWSCRAWL_MIN_UPDATED_COVERAGE", ["0.8"], ["1.5"]),
        ("NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD", ["1", "0.01", 0.8], ["0", "5", "-0.5"]),
        ("NEWSCRAWL_NEAR_DUPLICATE_WINDOW_DAYS", ["0", "30", 7.5], ["-1", "a month"]),
        ("NEWSCRAWL_REFETCH_AFTER_HOURS", ["0", "24"], ["-1", "inf"]),
        ("NEWSCRAWL_WORKER_TIMEOUT", ["0.5", 60], ["0", "-5"]),
        ("NEWSCRAWL_IDLE_CLOSE", ["0", "5"], ["-1"]),
        ("NEWSCRAWL_DISTRIBUTED_POLL", ["0.1"], ["0"]),
        ("NEWSCRAWL_MAX_RUN_HOURS", ["0.5", 6], ["0", "-1", "six"]),
        ("NEWSCRAWL_INCREMENTAL", ["True", "false", "1", "0", 0, True],
         ["yes", "on", "2", " true"]),
        ("NEWSCRAWL_EMIT_PAGES", ["False"], ["nope"]),
        ("DOWNLOAD_TIMEOUT", ["0.5", "30", 3], ["0", "-1", "abc", "nan"]),
        ("DOWNLOAD_DELAY", ["0", "0.25"], ["-0.1"]),
        ("CONCURRENT_REQUESTS", ["1", 16], ["0", "x"]),
        ("CONCURRENT_REQUESTS_PER_DOMAIN", ["8"], ["0"]),
        ("RETRY_TIMES", ["0", "3"], ["-1", "three"]),
        ("RETRY_BACKOFF_BASE", ["0", "1.5"], ["-1"]),
        ("RETRY_BACKOFF_MAX", ["60"], ["soon"]),
        ("RETRY_HTTP_CODES", ["500,503", [429], ""], ["500,abc", "700", [99]]),
        ("DOWNLOAD_MAXSIZE", ["0", "8388608"], ["-1", "8MB", "1.5"]),
        ("LOGSTATS_INTERVAL", ["0", "60"], ["-1"]),
        ("AUTOTHROTTLE_TARGET_CONCURRENCY", ["0.5"], ["0"]),
        ("NEWSCRAWL_SEEN_STORE", ["", "sqlite:///tmp/seen.db", "redis://h:6379/0",
                                  "rediss://h/1", "unix:///tmp/redis.sock"],
         ["mysql://h/db", "sqlite://", "sqlite:///", "/tmp/seen.db", "redis"]),
        ("NEWSCRAWL_REDIS_URL", ["", "redis://10.0.0.5:6379/0", "unix:///tmp/r.sock"],
         ["10.0.0.5:6379", "http://h"]),
        ("NEWSCRAWL_SEEN_NAMESPACE", ["newscrawl:{spider}", "fixed"], ["{site}", "{spider"]),
    ],
)  # fmt: skip
def test_each_setting_takes_values_in_its_range_only(
    name: str, good: list[Any], bad: list[Any]
) -> None:
    for value in good:
        settings = project_settings(**{name: value})
        checked = check_settings(settings)
        # What passes here reads the same through the getter its component uses.
        getters: dict[object, Callable[[str], Any]] = {
            int: settings.getint,
            float: settings.getfloat,
            bool: settings.getbool,
        }
        getter = getters.get(NewscrawlSettings.model_fields[name].annotation)
        if getter is not None:
            assert getter(name) == getattr(checked, name), (name, value)
    for value in bad:
        with pytest.raises(SettingsError, match=rf"^bad setting: -s {name}=.*: must "):
            check_settings(project_settings(**{name: value}))


def test_distributed_mode_wants_the_seen_store_on_its_redis() -> None:
    settings = project_settings(
        NEWSCRAWL_REDIS_URL="redis://127.0.0.1:6390/0", NEWSCRAWL_SEEN_STORE="sqlite:///x.db"
    )
    message = r"NEWSCRAWL_SEEN_STORE='sqlite:///x\.db': must be empty"
    with pytest.raises(SettingsError, match=message):
        check_settings(settings)
    settings.set("NEWSCRAWL_SEEN_STORE", "redis://127.0.0.1:6390/0", priority="cmdline")
    assert check_settings(settings).NEWSCRAWL_SEEN_STORE == "redis://127.0.0.1:6390/0"
