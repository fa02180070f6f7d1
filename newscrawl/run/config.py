"""Settings (``-s NAME=VALUE``), declared once as a typed model and checked before a crawl.

newscrawl's own settings and the Scrapy ones whose bad value would crash a run midway
(or, for a monitor's threshold, after the whole crawl) are declared here with their
types and ranges. Both entry points, ``scrapy crawl`` and ``newscrawl run``, check the
settings before any request: a bad value stops the run with one line naming the
setting, the value and what is expected, and exit status 2.

The components go on reading their settings from the crawler (``Settings.getint``,
``getfloat``, ``getbool``); each value here is read the way those read it, so one that
passes here cannot fail there. The defaults are those of ``newscrawl/settings.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import Ge, Gt, Le
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.fields import FieldInfo
from scrapy.settings import SETTINGS_PRIORITIES, BaseSettings

from newscrawl import settings as defaults

STORE_SCHEMES = ("redis", "rediss", "unix")


# Settings naming where the seen store or the run's Redis is: one that names no store
# newscrawl can open means the crawl cannot start (exit 3, like an unreachable one).
STORE_SETTINGS = frozenset({"NEWSCRAWL_SEEN_STORE", "NEWSCRAWL_REDIS_URL"})


class SettingsError(ValueError):
    """A setting has a bad value; ``exit_code`` is 2 (a bad command line), or 3 when
    only the seen store's or Redis's URL is bad (no store can be opened: as when it is
    unreachable)."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Unit:
    """What a number counts, as the error message says it (``a number of seconds``)."""

    name: str


def _whole(value: Any) -> int:
    """As ``Settings.getint`` reads it (``int(value)``), a flag or a fraction refused."""
    if isinstance(value, bool):
        raise ValueError("a flag is not a number")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("not a whole number")
        return int(value)
    if isinstance(value, (int, str)):
        return int(value)
    raise ValueError("not a whole number")


def _number(value: Any) -> float:
    """As ``Settings.getfloat`` reads it (``float(value)``); nan and infinity refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("not a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def _flag(value: Any) -> bool:
    """What ``Settings.getbool`` reads the same way whatever the Scrapy version."""
    if isinstance(value, bool):
        return value
    if value in (1, "1", "True", "true"):
        return True
    if value in (0, "0", "False", "false"):
        return False
    raise ValueError("not a flag")


def _statuses(value: Any) -> list[int]:
    """As ``Settings.getlist`` then ``int()`` read it: a list, or comma-separated text."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ValueError("must be HTTP statuses, comma-separated (e.g. 500,503,429)")
    try:
        statuses = [_whole(item) for item in items if item != ""]
    except ValueError:
        raise ValueError("must be HTTP statuses, comma-separated (e.g. 500,503,429)") from None
    if not all(100 <= status <= 599 for status in statuses):
        raise ValueError("must be HTTP statuses (100 to 599), comma-separated")
    return statuses


def _seen_store(value: Any) -> str:
    text = str(value)
    scheme, separator, rest = text.partition("://")
    if not text or (separator and scheme.lower() in STORE_SCHEMES):
        return text
    if separator and scheme.lower() == "sqlite" and rest.startswith("/") and rest != "/":
        return text
    raise ValueError(
        "must be empty (SQLite under the output folder), sqlite:///PATH, "
        "or a redis://, rediss:// or unix:// URL"
    )


def _redis_url(value: Any) -> str:
    text = str(value)
    scheme, separator, _ = text.partition("://")
    if not text or (separator and scheme.lower() in STORE_SCHEMES):
        return text
    raise ValueError("must be empty (no distributed run) or a redis://, rediss:// or unix:// URL")


def _namespace(value: Any) -> str:
    text = str(value)
    try:
        text.format(spider="spider")
    except (KeyError, IndexError, ValueError):
        raise ValueError(
            "must be a key prefix in which {spider} (the spider's name) is the only {...}"
        ) from None
    return text


Whole = Annotated[int, BeforeValidator(_whole)]
Number = Annotated[float, BeforeValidator(_number)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Count = Annotated[Whole, Field(ge=1)]  # things there must be at least one of
Limit = Annotated[Whole, Field(ge=0)]  # a most-allowed count; 0 allows none
Bytes = Annotated[Whole, Field(ge=0), Unit("bytes")]  # 0: no limit
Share = Annotated[Number, Field(ge=0, le=1)]  # a share of pages or stories
Seconds = Annotated[Number, Field(gt=0), Unit("seconds")]
Delay = Annotated[Number, Field(ge=0), Unit("seconds")]  # 0: none
Hours = Annotated[Number, Field(ge=0), Unit("hours")]
Days = Annotated[Number, Field(ge=0), Unit("days")]


class NewscrawlSettings(BaseModel):
    """The settings a bad value of would crash a run: newscrawl's own and Scrapy's."""

    # Other settings (Scrapy's many, FEEDS, ...) are Scrapy's to read.
    model_config = ConfigDict(extra="ignore", frozen=True)

    # Output and the seen store
    NEWSCRAWL_OUTPUT_DIR: str = defaults.NEWSCRAWL_OUTPUT_DIR
    NEWSCRAWL_COMMIT_EVERY: Count = defaults.NEWSCRAWL_COMMIT_EVERY
    NEWSCRAWL_PUBLISH_ON_CLOSE: Flag = defaults.NEWSCRAWL_PUBLISH_ON_CLOSE
    NEWSCRAWL_COMPRESS: Flag = defaults.NEWSCRAWL_COMPRESS
    NEWSCRAWL_EMIT_PAGES: Flag = defaults.NEWSCRAWL_EMIT_PAGES
    NEWSCRAWL_SEEN_STORE: Annotated[str, BeforeValidator(_seen_store)] = (
        defaults.NEWSCRAWL_SEEN_STORE
    )
    NEWSCRAWL_SEEN_NAMESPACE: Annotated[str, BeforeValidator(_namespace)] = (
        defaults.NEWSCRAWL_SEEN_NAMESPACE
    )
    # Set by `newscrawl run` for the workers it starts (not in settings.py).
    NEWSCRAWL_RECOVER_PARTIALS: Flag = defaults.NEWSCRAWL_RECOVER_PARTIALS
    # The run lock: how long a run may hold it before the next reports it hung, and
    # (set by `newscrawl run --workers` for its workers) the parent that holds it.
    NEWSCRAWL_MAX_RUN_HOURS: Annotated[Number, Field(gt=0), Unit("hours")] = (
        defaults.NEWSCRAWL_MAX_RUN_HOURS
    )
    NEWSCRAWL_LOCK_HELD_BY: str = defaults.NEWSCRAWL_LOCK_HELD_BY
    # Dedup and incremental crawling
    NEWSCRAWL_INCREMENTAL: Flag = defaults.NEWSCRAWL_INCREMENTAL
    NEWSCRAWL_REFETCH_AFTER_HOURS: Hours = defaults.NEWSCRAWL_REFETCH_AFTER_HOURS
    NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD: Annotated[Number, Field(gt=0, le=1)] = (
        defaults.NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD
    )
    NEWSCRAWL_NEAR_DUPLICATE_WINDOW_DAYS: Days = defaults.NEWSCRAWL_NEAR_DUPLICATE_WINDOW_DAYS
    NEWSCRAWL_DROP_NEAR_DUPLICATES: Flag = defaults.NEWSCRAWL_DROP_NEAR_DUPLICATES
    # Run monitors
    NEWSCRAWL_MAX_ERRORS: Limit = defaults.NEWSCRAWL_MAX_ERRORS
    NEWSCRAWL_MAX_INVALID_RECORDS: Limit = defaults.NEWSCRAWL_MAX_INVALID_RECORDS
    NEWSCRAWL_MIN_TITLE_COVERAGE: Share = defaults.NEWSCRAWL_MIN_TITLE_COVERAGE
    NEWSCRAWL_MIN_BODY_COVERAGE: Share = defaults.NEWSCRAWL_MIN_BODY_COVERAGE
    NEWSCRAWL_MIN_UPDATED_COVERAGE: Share = defaults.NEWSCRAWL_MIN_UPDATED_COVERAGE
    NEWSCRAWL_MAX_LOST_PAGES: Share = defaults.NEWSCRAWL_MAX_LOST_PAGES
    # Distributed mode
    NEWSCRAWL_REDIS_URL: Annotated[str, BeforeValidator(_redis_url)] = defaults.NEWSCRAWL_REDIS_URL
    NEWSCRAWL_WORKER_TIMEOUT: Seconds = defaults.NEWSCRAWL_WORKER_TIMEOUT
    NEWSCRAWL_IDLE_CLOSE: Delay = defaults.NEWSCRAWL_IDLE_CLOSE
    NEWSCRAWL_DISTRIBUTED_POLL: Seconds = defaults.NEWSCRAWL_DISTRIBUTED_POLL
    NEWSCRAWL_LEASE_BATCH: Count = defaults.NEWSCRAWL_LEASE_BATCH
    NEWSCRAWL_RUN_ID: str = defaults.NEWSCRAWL_RUN_ID
    NEWSCRAWL_WORKER_ID: str = defaults.NEWSCRAWL_WORKER_ID

    # Scrapy's, as newscrawl sets them
    ROBOTSTXT_OBEY: Flag = defaults.ROBOTSTXT_OBEY
    COOKIES_ENABLED: Flag = defaults.COOKIES_ENABLED
    AUTOTHROTTLE_ENABLED: Flag = defaults.AUTOTHROTTLE_ENABLED
    AUTOTHROTTLE_START_DELAY: Delay = defaults.AUTOTHROTTLE_START_DELAY
    AUTOTHROTTLE_MAX_DELAY: Delay = defaults.AUTOTHROTTLE_MAX_DELAY
    AUTOTHROTTLE_TARGET_CONCURRENCY: Annotated[Number, Field(gt=0)] = (
        defaults.AUTOTHROTTLE_TARGET_CONCURRENCY
    )
    DOWNLOAD_DELAY: Delay = defaults.DOWNLOAD_DELAY
    CONCURRENT_REQUESTS: Count = defaults.CONCURRENT_REQUESTS
    CONCURRENT_REQUESTS_PER_DOMAIN: Count = defaults.CONCURRENT_REQUESTS_PER_DOMAIN
    CONCURRENT_ITEMS: Count = defaults.CONCURRENT_ITEMS
    DOWNLOAD_TIMEOUT: Seconds = defaults.DOWNLOAD_TIMEOUT
    DOWNLOAD_MAXSIZE: Bytes = defaults.DOWNLOAD_MAXSIZE
    DOWNLOAD_WARNSIZE: Bytes = defaults.DOWNLOAD_WARNSIZE
    REDIRECT_MAX_TIMES: Limit = defaults.REDIRECT_MAX_TIMES
    RETRY_ENABLED: Flag = defaults.RETRY_ENABLED
    RETRY_TIMES: Limit = defaults.RETRY_TIMES
    RETRY_HTTP_CODES: Annotated[list[int], BeforeValidator(_statuses)] = Field(
        default_factory=lambda: list(defaults.RETRY_HTTP_CODES)
    )
    RETRY_BACKOFF_BASE: Delay = defaults.RETRY_BACKOFF_BASE
    RETRY_BACKOFF_MAX: Delay = defaults.RETRY_BACKOFF_MAX
    LOGSTATS_INTERVAL: Delay = defaults.LOGSTATS_INTERVAL  # 0: no progress lines


_KINDS: dict[object, str] = {
    int: "a whole number",
    float: "a number",
    bool: "True or False (or 1/0)",
}


def expected(field: FieldInfo) -> str | None:
    """What a number or flag setting must be, in words; None for other settings."""
    words = _KINDS.get(field.annotation)
    if words is None:
        return None
    unit = next((m.name for m in field.metadata if isinstance(m, Unit)), None)
    if unit:
        words += f" of {unit}"
    low = next((m for m in field.metadata if isinstance(m, (Ge, Gt))), None)
    high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
    if isinstance(low, Ge) and high is not None:
        return f"{words} from {low.ge:g} to {high:g}"
    if isinstance(low, Gt) and high is not None:
        return f"{words} above {low.gt:g}, at most {high:g}"
    if isinstance(low, Ge):
        return f"{words} ({low.ge:g} or more)"
    if isinstance(low, Gt):
        return f"{words} above {low.gt:g}"
    return words


def _given(settings: BaseSettings, name: str, value: Any) -> str:
    """``-s NAME='value'`` for a value from the command line, else ``NAME='value'``."""
    option = "-s " if settings.getpriority(name) == SETTINGS_PRIORITIES["cmdline"] else ""
    return f"{option}{name}={value!r}"


def check_settings(settings: BaseSettings) -> NewscrawlSettings:
    """Validate a crawl's settings; raise SettingsError with a one-line message.

    Each bad one is named as given (``-s NAME='value'`` from the command line, else
    ``NAME='value'``: settings.py or the environment), with what it must be.
    """
    fields = NewscrawlSettings.model_fields
    given = {name: settings.get(name) for name in fields if settings.get(name) is not None}
    try:
        checked = NewscrawlSettings.model_validate(given)
    except ValidationError as exc:
        problems = []
        names = set()
        for error in exc.errors():
            name = str(error["loc"][0])
            names.add(name)
            words = expected(fields[name])
            said = str(error["msg"]).removeprefix("Value error, ")
            reason = f"must be {words}" if words else said
            problems.append(f"{_given(settings, name, given[name])}: {reason}")
        exit_code = 3 if names <= STORE_SETTINGS else 2
        raise SettingsError("bad setting: " + "; ".join(problems), exit_code) from None
    if checked.NEWSCRAWL_REDIS_URL and checked.NEWSCRAWL_SEEN_STORE.startswith("sqlite"):
        name = "NEWSCRAWL_SEEN_STORE"
        raise SettingsError(
            f"bad setting: {_given(settings, name, checked.NEWSCRAWL_SEEN_STORE)}: must be "
            "empty in distributed mode (NEWSCRAWL_REDIS_URL is set: the seen store is on that "
            "Redis)"
        )
    return checked
