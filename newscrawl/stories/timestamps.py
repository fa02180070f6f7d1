"""Read a story's printed time into a UTC timestamp with an honest error bar.

Pure functions over plain data: no Scrapy here. The crawler builds an :class:`Anchor` from the
response (or from ``--fetched-at``) and calls :func:`parse_timestamp` on each printed time.

Conventions every :class:`Timestamp` keeps:

- ``[earliest, latest]`` surely contains the true time, given the anchor's slack and the site's
  time zone, and ``value`` lies inside it. All three are aware datetimes in UTC.
- Printed times are truncated, not rounded: ``14:05`` covers [14:05, 14:06] and
  ``35 min 7 sec ago`` an elapsed time in [35:07, 35:08].
- A date alone is a whole local calendar day: ``earliest`` is local midnight, ``latest`` the next
  local midnight, and ``value == earliest``. We never make up a time of day.
- A local time in a daylight-saving gap or fold covers every instant the wall time can name.
- Text without a year or a date (``5 March``, ``14:05``, ``yesterday``) is read as the most recent
  such time at or before the anchor; those records keep their anchor, as relative forms do.
- Anything else (widget text, a bare year or month, absurd dates) has ``value None`` and an
  ``error`` the crawler counts. No text makes :func:`parse_timestamp` raise.

Our own fast paths (ISO 8601, ``N unit [N unit] ago`` chains, the Arabic and French tables, dates
with month names) come first; dateparser, with explicit ``languages=``, is the fallback.
"""

from __future__ import annotations

import importlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any, NamedTuple, TypeAlias
from zoneinfo import ZoneInfo

from dateparser import DateDataParser
from dateparser.timezones import timezone_info_list

from newscrawl.records.story import TimeRecord
from newscrawl.text import known_language, language_code

UTC = dt_timezone.utc
MAX_TEXT_LENGTH = 80  # a printed time is short; longer text is a sentence that mentions one
_DAY = timedelta(days=1)
_MINUTE = timedelta(minutes=1)
_ZERO = timedelta(0)
_AGE_LIMIT = 2147483648  # RFC 9111 caps Age at 2**31 seconds

# --- Anchors ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Anchor:
    """The instant relative times count back from: when the server rendered the page.

    The true render time lies in ``[at - slack_before, at + slack_after]``. ``basis`` says where
    ``at`` came from: ``date-age`` (response Date minus Age), ``date`` (Date alone), ``received``
    (our receive clock, minus Age when there is one) or ``given`` (set explicitly, e.g.
    ``--fetched-at``).
    """

    at: datetime
    basis: str
    slack_before: float
    slack_after: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", _as_utc(self.at, "Anchor.at"))
        if not 0 <= self.slack_before < float("inf") or not 0 <= self.slack_after < float("inf"):
            raise ValueError("anchor slack must be finite and not negative")


def anchor_from_headers(
    date: str | bytes | None,
    age: str | bytes | None,
    received_at: datetime,
    *,
    max_latency: float = 180.0,
) -> Anchor:
    """Anchor relative times at the response's Date header minus its Age header.

    The Date header has second resolution, so the render time lies in [Date, Date + 1 s); Age is
    truncated too, which widens that by a second before. This assumes, as ARABNEWS.md does, that a
    cache in front of the site stamps Date when it delivers the copy (CDNs do). A missing,
    unreadable or absurd Date (more than a day off ``received_at``) falls back to our receive
    clock, minus Age when there is one, with the render somewhere in the ``max_latency``
    seconds (and the second Age truncates) before it.
    """
    received = _as_utc(received_at, "received_at")
    served = _http_date(date)
    cached_for = _age_seconds(age)
    if served is None or abs(served - received) > _DAY:
        if cached_for is None:
            return Anchor(received, "received", max_latency, 0.0)
        return Anchor(received - timedelta(seconds=cached_for), "received", max_latency + 1.0, 0.0)
    if cached_for is None:
        return Anchor(served, "date", 0.0, 1.0)
    return Anchor(served - timedelta(seconds=cached_for), "date-age", 1.0, 1.0)


def given_anchor(at: datetime) -> Anchor:
    """Anchor at an instant the caller vouches for, e.g. a CLI ``--fetched-at``."""
    return Anchor(at, "given", 0.0, 0.0)


def _as_utc(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {moment!r}")
    return moment.astimezone(UTC)


def _header_text(value: str | bytes | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return value.strip() or None


def _http_date(value: str | bytes | None) -> datetime | None:
    text = _header_text(value)
    if text is None:
        return None
    try:
        served = parsedate_to_datetime(text)
        if served.tzinfo is None:  # "-0000": HTTP dates are always GMT
            return served.replace(tzinfo=UTC)
        return served.astimezone(UTC)  # overflows for "31 Dec 9999 23:59:59 -1200"
    except (TypeError, ValueError, IndexError, OverflowError):
        # Python 3.10 raises TypeError for an unreadable date, later versions ValueError.
        return None


def _age_seconds(value: str | bytes | None) -> int | None:
    text = _header_text(value)
    if text is None or not text.isascii() or not text.isdigit():
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(_AGE_LIMIT)):  # int() raises past 4300 digits
        return _AGE_LIMIT
    return min(int(digits), _AGE_LIMIT)


# --- Records ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A printed time read as an interval; ``value`` is None when ``error`` says why."""

    raw: str
    value: datetime | None
    earliest: datetime | None
    latest: datetime | None
    precision: str | None  # second | minute | hour | day | week | month | year
    source: str  # text | time-element | meta | json-ld | feed
    anchor: Anchor | None  # set when the reading depends on it
    error: str | None  # empty | unreadable | too-coarse | ambiguous | future

    def to_record(self) -> TimeRecord:
        """The record's form; instants are ISO 8601 in UTC with ``+00:00``."""
        return {
            "raw": self.raw,
            "value": _iso(self.value),
            "earliest": _iso(self.earliest),
            "latest": _iso(self.latest),
            "precision": self.precision,
            "source": self.source,
            "anchor": (
                None
                if self.anchor is None
                else {"at": self.anchor.at.astimezone(UTC).isoformat(), "basis": self.anchor.basis}
            ),
            "error": self.error,
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def disagreement(a: Timestamp, b: Timestamp) -> float | None:
    """Seconds between two timestamps' intervals: 0.0 when they overlap, None without a value."""
    if a.earliest is None or a.latest is None or b.earliest is None or b.latest is None:
        return None  # no value: earliest and latest are set exactly when value is
    gap = max(a.earliest - b.latest, b.earliest - a.latest)
    return max(gap.total_seconds(), 0.0)


# --- Units and language tables ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Unit:
    rank: int  # Drupal prints units largest first
    precision: str
    nominal: timedelta  # Drupal's length: a month is 30 days, a year 365
    shortest: timedelta  # calendar months and years vary; bounds stay honest for either reading
    longest: timedelta


_UNITS = {
    "second": _Unit(0, "second", timedelta(seconds=1), timedelta(seconds=1), timedelta(seconds=1)),
    "minute": _Unit(1, "minute", timedelta(minutes=1), timedelta(minutes=1), timedelta(minutes=1)),
    "hour": _Unit(2, "hour", timedelta(hours=1), timedelta(hours=1), timedelta(hours=1)),
    "day": _Unit(3, "day", _DAY, _DAY, _DAY),
    "week": _Unit(4, "week", timedelta(weeks=1), timedelta(weeks=1), timedelta(weeks=1)),
    "month": _Unit(5, "month", timedelta(days=30), timedelta(days=28), timedelta(days=31)),
    "year": _Unit(6, "year", timedelta(days=365), timedelta(days=365), timedelta(days=366)),
}


_Meaning: TypeAlias = tuple[str, int | None]  # (unit, the count a word implies by itself)


def _spellings(text: str) -> tuple[str, ...]:
    """``"min|mins|m"`` -> its spellings. Tables below read better as one line per meaning."""
    return tuple(text.split("|"))


def _words(unit: str, spellings: str, count: int | None = None) -> dict[str, _Meaning]:
    """Words for ``unit``; ``count`` is the number the word itself implies (Arabic dual: 2)."""
    return dict.fromkeys(_spellings(spellings), (unit, count))


def _numbered(*spellings: str) -> dict[str, int]:
    """Words for 1, 2, 3... in order; ``""`` skips a number."""
    return {word: n for n, text in enumerate(spellings, 1) if text for word in _spellings(text)}


@dataclass(frozen=True)
class _Language:
    """What one language prints around times. Words are lower-case; Arabic ones folded."""

    prefixes: tuple[str, ...]  # regex sources, matched case-insensitively before folding
    ago: str  # regex source around a unit chain, "{chain}"
    connector: str  # regex source joining two units
    units: dict[str, _Meaning]
    numbers: dict[str, int]
    months: dict[str, int]
    weekdays: tuple[str, ...]
    days_back: dict[str, int]  # today 0, yesterday 1
    now: tuple[str, ...]  # within the last minute
    meridiem: dict[str, int]  # am/pm (dots removed) -> hours to add
    at: tuple[str, ...]  # words between a date and its time
    other: tuple[str, ...]  # more words that show text is about time (for the dateparser gate)


_ENGLISH = _Language(
    prefixes=(
        r"last\s+updated(?:\s+on)?",
        r"first\s+published(?:\s+on)?",
        r"updated(?:\s+on|\s+at)?",
        r"published(?:\s+on|\s+at)?",
        r"posted(?:\s+on|\s+at)?",
        r"modified(?:\s+on)?",
    ),
    ago=r"{chain}\s+ago",
    connector="and",
    units={
        **_words("year", "year|years|yr|yrs|y"),
        **_words("month", "month|months|mo|mos|mth|mths"),
        **_words("week", "week|weeks|wk|wks|w"),
        **_words("day", "day|days|d"),
        **_words("hour", "hour|hours|hr|hrs|h"),
        **_words("minute", "minute|minutes|min|mins|m"),
        **_words("second", "second|seconds|sec|secs|s"),
    },
    numbers=_numbered(
        "a|an|one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"
    ),
    months=_numbered(
        "january|jan",
        "february|feb",
        "march|mar",
        "april|apr",
        "may",
        "june|jun",
        "july|jul",
        "august|aug",
        "september|sep|sept",
        "october|oct",
        "november|nov",
        "december|dec",
    ),
    weekdays=_spellings(
        "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
        "|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun"
    ),
    days_back={"today": 0, "yesterday": 1},
    now=_spellings(
        "now|just now|right now|moments ago|a moment ago|a few seconds ago|few seconds ago"
        "|seconds ago|less than a minute ago"
    ),
    meridiem={"am": 0, "pm": 12},
    at=("at",),
    other=_spellings("ago|tomorrow|last|next|noon|midnight|morning|evening|gmt"),
)

_FRENCH = _Language(
    prefixes=(
        r"mis\s+[àa]\s+jour(?:\s+le)?",
        r"actualis[ée](?:\s+le)?",
        r"modifi[ée](?:\s+le)?",
        r"publi[ée](?:\s+le)?",
    ),
    ago=r"il\s+y\s+a\s+{chain}",
    connector="et",
    units={
        **_words("year", "an|ans|année|années|annee|annees"),
        **_words("month", "mois"),
        **_words("week", "semaine|semaines|sem"),
        **_words("day", "jour|jours|j"),
        **_words("hour", "heure|heures|h"),
        **_words("minute", "minute|minutes|min|mn"),
        **_words("second", "seconde|secondes|sec|s"),
    },
    numbers=_numbered(
        "un|une", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf", "dix"
    ),
    months=_numbered(
        "janvier|janv",
        "février|fevrier|févr|fevr",
        "mars",
        "avril|avr",
        "mai",
        "juin",
        "juillet|juil",
        "août|aout",
        "septembre|sept",
        "octobre|oct",
        "novembre|nov",
        "décembre|decembre|déc|dec",
    ),
    weekdays=_spellings("lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"),
    days_back={"aujourd'hui": 0, "hier": 1, "avant-hier": 2},
    now=_spellings("à l'instant|a l'instant|maintenant|il y a quelques secondes"),
    meridiem={},
    at=("à",),
    other=_spellings("il|depuis|dernier|dernière|prochain|midi|minuit|demain"),
)

# Folded spelling (see _FOLD). Singular nouns mean one, dual nouns two; plurals need a number.
_ARABIC = _Language(
    prefixes=(
        r"[اأإآ]خر\s+تحديث",
        r"تاريخ\s+النشر",
        r"تم\s+التحديث",
        r"تم\s+النشر",
        r"نشر(?:\s+في)?",
        r"محدث",
    ),
    ago=r"(?:منذ|قبل)\s+{chain}",
    connector="و",
    units={
        **_words("second", "ثانيه", 1),
        **_words("second", "ثانيتين|ثانيتان", 2),
        **_words("second", "ثوان|ثواني"),
        **_words("minute", "دقيقه", 1),
        **_words("minute", "دقيقتين|دقيقتان", 2),
        **_words("minute", "دقائق|دقايق"),
        **_words("hour", "ساعه", 1),
        **_words("hour", "ساعتين|ساعتان", 2),
        **_words("hour", "ساعات"),
        **_words("day", "يوم", 1),
        **_words("day", "يومين|يومان", 2),
        **_words("day", "ايام"),
        **_words("week", "اسبوع", 1),
        **_words("week", "اسبوعين|اسبوعان", 2),
        **_words("week", "اسابيع"),
        **_words("month", "شهر", 1),
        **_words("month", "شهرين|شهران", 2),
        **_words("month", "اشهر|شهور"),
        **_words("year", "سنه|عام", 1),
        **_words("year", "سنتين|سنتان|عامين|عامان", 2),
        **_words("year", "سنوات|سنين|اعوام"),
    },
    numbers=_numbered(
        "واحد",
        "",
        "ثلاث|ثلاثه",
        "اربع|اربعه",
        "خمس|خمسه",
        "ست|سته",
        "سبع|سبعه",
        "ثمان|ثماني|ثمانيه",
        "تسع|تسعه",
        "عشر|عشره",
    ),
    months=_numbered(  # Egyptian and Gulf names, then Levantine ones
        "يناير|كانون الثاني",
        "فبراير|شباط",
        "مارس|اذار",
        "ابريل|نيسان",
        "مايو|ايار",
        "يونيو|يونيه|حزيران",
        "يوليو|يوليه|تموز",
        "اغسطس|اب",
        "سبتمبر|ايلول",
        "اكتوبر|تشرين الاول",
        "نوفمبر|تشرين الثاني",
        "ديسمبر|كانون الاول",
    ),
    weekdays=_spellings("الاحد|الاثنين|الثلاثاء|الاربعاء|الخميس|الجمعه|السبت"),
    days_back={"اليوم": 0, "امس": 1, "الامس": 1},
    now=_spellings("الان|منذ لحظات|قبل لحظات|للتو"),
    meridiem={"ص": 0, "صباحا": 0, "م": 12, "مساء": 12},
    at=("الساعه",),
    other=("منذ", "قبل"),
)

_LANGUAGES = {"en": _ENGLISH, "fr": _FRENCH, "ar": _ARABIC}

# --- Text normalisation -------------------------------------------------------------------------

_INVISIBLE = (
    0x0640,  # tatweel
    0x0670,  # superscript alef
    *range(0x064B, 0x0660),  # Arabic diacritics
    0x061C,  # Arabic letter mark
    0xFEFF,
    *range(0x200B, 0x2010),  # zero-width spaces and joiners, direction marks
    *range(0x202A, 0x202F),  # bidi embeddings
    *range(0x2066, 0x206A),  # bidi isolates
)
_PLAIN: dict[int, str | None] = {
    **{0x0660 + n: str(n) for n in range(10)},  # Arabic-Indic digits
    **{0x06F0 + n: str(n) for n in range(10)},  # Extended Arabic-Indic digits
    **dict.fromkeys(_INVISIBLE),
    0x060C: ",",  # Arabic comma
    0x2018: "'",
    0x2019: "'",
}
_FOLD = str.maketrans("أإآٱةى", "ااااهي")  # spelling variants of the same Arabic word
_EDGES = "\t ,;:|·•()[]\u2013\u2014-"  # separators widgets put around a time


def _plain(text: str) -> str:
    """NFKC, ASCII digits, no invisible marks, single spaces, no separators at the edges."""
    if not text.isascii():  # the common case needs none of this
        text = unicodedata.normalize("NFKC", text).translate(_PLAIN)
    return " ".join(text.split()).strip(_EDGES)


# --- Grammar: the compiled patterns for a site's languages --------------------------------------


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation of literal words, longest first so prefixes never win."""
    return "|".join(re.escape(word) for word in sorted(set(words), key=lambda w: (-len(w), w)))


def _zone_names() -> dict[str, timedelta]:
    """Zone abbreviations (est, cest, wib...) and the UTC offsets dateparser reads them as:
    the first its table lists, so that ist is Israel's, as dateparser has it."""
    names: dict[str, timedelta] = {}
    for group in timezone_info_list:
        for name, seconds in group["timezones"]:
            if name.isalpha():
                names.setdefault(name.lower(), timedelta(seconds=seconds))
    return names


_ZONE_NAMES = _zone_names()
# A printed offset, or a zone's name (any short word: one dateparser does not know sends
# the text to dateparser, see _UnknownZone).
_ZONE = (
    r"(?:(?P<z>(?:utc|gmt|ut|z)(?:\s*[+-]\d{1,2}(?::?\d{2})?)?|[+-]\d{2}:?\d{2})"
    r"|(?P<zn>[^\W\d_]{2,5}))(?![^\W\d_])"
)
_OFFSET = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?$")
_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[t ](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?"
    r"\s*(?P<z>z|[+-]\d{2}(?::?\d{2})?)?)?"
)
# A machine-readable time in ISO 8601's basic form (20200924T150434Z), and a zone's
# name printed after its offset (2020-09-26T12:07:40+02:00CET): read as the extended form.
_BASIC_ISO = re.compile(r"^(\d{4})(\d{2})(\d{2})(?=t\d{2})")
_NAMED_AFTER_OFFSET = re.compile(r"(z|[+-]\d{2}:?\d{2})\s*[a-z]{2,5}$")
# Languages whose numeric dates put the day first (en is not: en-US prints month first).
DAY_FIRST_LANGUAGES = frozenset(
    {"fr", "de", "es", "it", "pt", "ar", "nl", "ru", "uk", "pl", "tr", "el", "da", "sv", "nb",
     "no", "fi", "cs", "sk", "ro", "hu", "hr", "sr", "bg", "id", "ms", "vi", "he", "fa"}
)  # fmt: skip
# The label before a printed time in languages without a table of their own
# ("Veröffentlicht am", "Publicado el", "Aggiornato il", "Online seit"): left out before
# the time is read.
TIME_LABEL = re.compile(
    r"^(?:zuletzt\s+)?(?:ver[öo]ffentlicht|aktualisiert|erschienen|online\s+seit|stand)"
    r"(?:\s+(?:am|um))?(?:\s*[:|·-]\s*|\s+)"
    r"|^(?:[úu]ltima\s+)?(?:publicad[oa]|actualizad[oa]|atualizad[oa]|modificad[oa])"
    r"(?:\s+(?:el|em|a\s+las|[àa]s))?(?:\s*[:|·-]\s*|\s+)"
    r"|^(?:pubblicato|aggiornato)(?:\s+(?:il|alle))?(?:\s*[:|·-]\s*|\s+)",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+")
_WORD = re.compile(r"[^\W\d_]+")
_DIGITS_APART = re.compile(r"\d\s*[/.:h-]\s*\d")
_CLOCK_IN_TEXT = re.compile(r"\d{1,2}\s*[:h]\s*\d{2}(\s*:\s*\d{2})?")
_YEAR = re.compile(r"\d{4}")


@dataclass(frozen=True)
class _Grammar:
    languages: tuple[str, ...]
    prefix: re.Pattern[str] | None
    relative: tuple[re.Pattern[str], ...]
    units: dict[str, _Meaning]
    numbers: dict[str, int]
    now: frozenset[str]
    days_back: dict[str, int]
    day_word: re.Pattern[str] | None
    months: dict[str, int]
    named_date: re.Pattern[str] | None
    numeric_date: re.Pattern[str]
    clock_first: tuple[re.Pattern[str], ...]  # named, then numeric dates after their time
    clock_only: re.Pattern[str]
    coarse: re.Pattern[str] | None
    meridiem: dict[str, int]
    vocabulary: frozenset[str] | None  # None: some language has no table, ask dateparser always
    # Every word dateparser or a table knows in these languages, and zone names.
    lexicon: frozenset[str]
    day_first: bool  # the most likely language prints numeric dates day first (06/11/2025)


# Scripts that each name one language dateparser reads dates in, for a time printed in
# another language than the page declares (an Arabic date in an untagged page's head).
_SCRIPT_LANGUAGES = (
    (re.compile("[\u0600-\u06ff]"), "ar"),
    (re.compile("[\u0400-\u04ff]"), "ru"),
    (re.compile("[\u0370-\u03ff]"), "el"),
    (re.compile("[\u0590-\u05ff]"), "he"),
    (re.compile("[\uac00-\ud7af]"), "ko"),
    (re.compile("[\u3040-\u30ff]"), "ja"),
    (re.compile("[\u0e00-\u0e7f]"), "th"),
    (re.compile("[\u0900-\u097f]"), "hi"),
)


def script_language(text: str) -> str | None:
    """The language the script of ``text`` names, where only one language of dateparser's
    is written in it as a rule; None for Latin script and the rest."""
    if text.isascii():
        return None
    for script, code in _SCRIPT_LANGUAGES:
        if script.search(text):
            return code
    return None


@lru_cache(maxsize=4096)  # asked of every line of every page, the same lines repeat
def opens_as_time_line(text: str, languages: tuple[str, ...]) -> bool:
    """Whether ``text`` opens with a time line's label in one of ``languages`` (the labels
    the reading tables strip: "Updated", "Publié le", "آخر تحديث"), or one of
    ``TIME_LABEL``'s ("Aktualisiert am", "Publicado el")."""
    plain = _plain(text)
    prefix = _grammar(languages).prefix
    return TIME_LABEL.match(plain) is not None or (
        prefix is not None and prefix.match(plain) is not None
    )


def reading_languages(page_language: str | None, site_languages: Sequence[str]) -> tuple[str, ...]:
    """The languages to read a page's times in: the page's own (its ``lang``, ``de-AT``
    read as ``de``) first where times can be read in it, then the site's."""
    code = language_code(page_language or "")
    site = tuple(site_languages)
    if not code or code in site or not known_language(code):
        return site
    return (code, *site)


@lru_cache(maxsize=32)
def _grammar(languages: tuple[str, ...]) -> _Grammar:
    # Unknown language codes fail here, on a site's first call, not on its first odd string
    # (dateparser checks them only when it first parses; loading a language costs more).
    if unknown := [code for code in languages if not known_language(code)]:
        raise ValueError(f"Unknown language(s): {', '.join(map(repr, unknown))}")
    tables = [_LANGUAGES[code] for code in languages if code in _LANGUAGES]
    units = {word: meaning for table in tables for word, meaning in table.units.items()}
    numbers = {word: n for table in tables for word, n in table.numbers.items()}
    months = {word: n for table in tables for word, n in table.months.items()}
    meridiem = {word: n for table in tables for word, n in table.meridiem.items()}
    days_back = {word: n for table in tables for word, n in table.days_back.items()}
    weekdays = [word for table in tables for word in table.weekdays]
    at_words = [word for table in tables for word in table.at]

    ampm = "|".join(
        rf"{word[0]}\.?{word[1]}\.?" if word in ("am", "pm") else re.escape(word)
        for word in sorted(meridiem, key=len, reverse=True)
    )
    clock = (
        r"(?P<h>\d{1,2})(?:\s*[:h]\s*(?P<mi>\d{2})(?:\s*:\s*(?P<s>\d{2})(?:[.,](?P<f>\d{1,6}))?)?)?"
        + (rf"(?:\s*(?P<ap>{ampm}))?" if ampm else "")
        + rf"(?:\s*{_ZONE})?"
    )
    # Between a date and its time: a comma, a word ("at"), a dash or slash, or a space.
    at = rf"|{_alternation(at_words)}" if at_words else ""
    joiner = rf"(?:\s*(?:,{at})\s*|\s+[-/|\u2013\u2014]\s+|\s+)"
    with_clock = rf"(?:{joiner}{clock})?"

    relative = []
    if units:
        quantity = rf"\d{{1,6}}|{_alternation(numbers)}" if numbers else r"\d{1,6}"
        unit_words = _alternation(units)
        for table in tables:
            chain = (
                rf"(?:(?P<q1>{quantity})\s*)?(?P<u1>{unit_words})"
                rf"(?:(?:\s*,\s*|\s*{table.connector}\s*|\s+)"
                rf"(?:(?P<q2>{quantity})\s*)?(?P<u2>{unit_words}))?"
            )
            relative.append(re.compile(table.ago.format(chain=chain)))

    numeric = r"(?P<a>\d{1,4})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,4})"
    # A time printed before its date ("1:39 am EST, Wednesday, November 20, 2019").
    clock_then = rf"{clock}(?:\s*,\s*|\s+)"
    named_date = coarse = None
    clock_first = [re.compile(clock_then + numeric)]
    if months:
        month = _alternation(months)
        weekday = rf"(?:(?:{_alternation(weekdays)})\.?\s*,?\s+)?" if weekdays else ""
        day_month = (
            rf"{weekday}(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th|er|e)?\s*(?:of\s+|de\s+)?"
            rf"(?P<m1>{month})\.?|(?P<m2>{month})\.?\s*(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?)"
            rf"(?:(?:\s*,\s*|\s+)(?P<y>\d{{4}}))?"
        )
        named_date = re.compile(day_month + with_clock)
        clock_first.insert(0, re.compile(weekday + clock_then + day_month))
        coarse = re.compile(rf"(?:{month})\.?(?:\s*,?\s*\d{{4}})?|\d{{4}}\s*,?\s*(?:{month})")

    day_word = None
    if days_back:
        day_word = re.compile(rf"(?P<w>{_alternation(days_back)}){with_clock}")

    known_words = (
        *units, *numbers, *months, *weekdays, *meridiem, *days_back, *at_words,
        *(word for table in tables for word in (*table.now, *table.other)),
    )  # fmt: skip
    table_words = frozenset(token for word in known_words for token in _tokens(word))
    complete = len(tables) == len(languages)
    return _Grammar(
        languages=languages,
        prefix=(
            re.compile(
                rf"(?:{'|'.join(p for t in tables for p in t.prefixes)})(?:\s*[:|·-]\s*|\s+)",
                re.IGNORECASE,
            )
            if tables
            else None
        ),
        relative=tuple(relative),
        units=units,
        numbers=numbers,
        now=frozenset(word for table in tables for word in table.now),
        days_back=days_back,
        day_word=day_word,
        months=months,
        named_date=named_date,
        numeric_date=re.compile(numeric + with_clock),
        clock_first=tuple(clock_first),
        clock_only=re.compile(clock),
        coarse=coarse,
        meridiem=meridiem,
        vocabulary=table_words if complete else None,
        lexicon=table_words.union(_ZONE_NAMES, *(_dateparser_words(code) for code in languages)),
        day_first=languages[0] in DAY_FIRST_LANGUAGES,
    )


def _tokens(text: str) -> list[str]:
    """The words of ``text`` that say something alone: single letters (h, m, s, ص) do not."""
    return [token for token in _WORD.findall(text) if len(token) > 1]


@lru_cache(maxsize=64)
def _dateparser_words(code: str) -> frozenset[str]:
    """The words dateparser's data for a language holds (month and day names, units,
    relative phrases, words it skips), folded as text is before reading: read from its
    data module, which costs far less than loading the language to parse."""
    info = importlib.import_module(f"dateparser.data.date_translation_data.{code}").info
    words: set[str] = set()

    def add(entry: Any) -> None:
        if isinstance(entry, str):
            words.update(_tokens(unicodedata.normalize("NFKC", entry).lower().translate(_FOLD)))
        elif isinstance(entry, dict):
            for key, value in entry.items():
                add(key)
                add(value)
        elif isinstance(entry, list):
            for item in entry:
                add(item)

    for key, value in info.items():
        if key not in ("name", "date_order", "sentence_splitter_group"):
            add(value)
    return frozenset(words)


# --- Local time helpers -------------------------------------------------------------------------


def _wall_bounds(wall: datetime, zone: ZoneInfo) -> tuple[datetime, datetime, datetime]:
    """(earliest, usual, latest) UTC instants a local wall time can name; they differ in a DST
    gap or fold, where ``usual`` is Python's fold=0 reading."""
    usual = wall.replace(tzinfo=zone).astimezone(UTC)
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return min(usual, other), usual, max(usual, other)


@lru_cache(maxsize=4096)
def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight, in UTC (23 or 25 hours on DST days)."""
    start = _wall_bounds(datetime.combine(day, time()), zone)[0]
    end = _wall_bounds(datetime.combine(day + _DAY, time()), zone)[2]
    return start, end


@dataclass(frozen=True, slots=True)
class _Clock:
    """A printed time of day, with the resolution it was printed at."""

    time: time
    resolution: timedelta
    precision: str
    offset: dt_timezone | None  # a printed UTC offset; None means the site's zone


def _clock(match: re.Match[str], meridiem: dict[str, int]) -> _Clock | None:
    """The time of day a match holds, or None. Raises ValueError for impossible times."""
    hour_text = match.group("h")
    if hour_text is None:
        return None
    hour = int(hour_text)
    minute_text, second_text, fraction = match.group("mi", "s", "f")
    half = match.groupdict().get("ap")
    if half is not None and 12 < hour < 24 and meridiem[half.replace(".", "")] == 12:
        half = None  # "15:24pm": a 24-hour clock with a needless pm
    if half is not None:
        if not 1 <= hour <= 12:
            raise ValueError("12-hour clock out of range")
        hour = hour % 12 + meridiem[half.replace(".", "")]
    elif minute_text is None:
        raise ValueError("an hour alone is a number, not a time")
    if fraction:
        fraction = fraction[:6]  # dropping digits past the microsecond is truncating too
        resolution, precision = timedelta(microseconds=10 ** (6 - len(fraction))), "second"
    elif second_text:
        resolution, precision = timedelta(seconds=1), "second"
    elif minute_text:
        resolution, precision = timedelta(minutes=1), "minute"
    else:
        resolution, precision = timedelta(hours=1), "hour"
    moment = time(
        hour,
        int(minute_text or 0),
        int(second_text or 0),
        int(fraction.ljust(6, "0")) if fraction else 0,
    )
    zone = match.group("z")
    if zone is None and (name := match.groupdict().get("zn")) is not None:
        if name not in _ZONE_NAMES:
            raise _UnknownZone(name)
        return _Clock(moment, resolution, precision, dt_timezone(_ZONE_NAMES[name]))
    return _Clock(moment, resolution, precision, None if zone is None else _offset(zone))


class _UnknownZone(Exception):
    """A word after a time that names no zone dateparser knows ("10:12 AM May"): the text
    is none of the forms read here."""


@lru_cache(maxsize=256)
def _offset(zone: str) -> dt_timezone:
    """The fixed zone a printed offset names (``z``, ``gmt``, ``+03:00``, ``utc+3``...)."""
    found = _OFFSET.search(zone)
    if found is None:  # Z, UTC, GMT
        return UTC
    sign = -1 if found.group(1) == "-" else 1
    return dt_timezone(
        sign * timedelta(hours=int(found.group(2)), minutes=int(found.group(3) or 0))
    )


# --- The reader ---------------------------------------------------------------------------------


class _Span(NamedTuple):
    """What a reading found, before it becomes a Timestamp."""

    value: datetime
    earliest: datetime
    latest: datetime
    precision: str


def _hull(value: datetime, precision: str, *spans: _Span) -> _Span:
    """The smallest interval covering every reading we cannot choose between."""
    return _Span(value, min(s.earliest for s in spans), max(s.latest for s in spans), precision)


@dataclass(slots=True)  # not frozen: built on every call, and frozen init costs more
class _Reader:
    """One call's context, and the readings shared by several forms."""

    raw: str
    anchor: Anchor
    zone: ZoneInfo
    zone_name: str
    grammar: _Grammar
    source: str
    first: datetime  # the earliest the page can have been rendered
    last: datetime  # and the latest

    def failed(self, error: str) -> Timestamp:
        return Timestamp(self.raw, None, None, None, None, self.source, None, error)

    def found(self, span: _Span, anchor: Anchor | None) -> Timestamp:
        return Timestamp(self.raw, *span, self.source, anchor, None)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def elapsed(
        self, nominal: timedelta, shortest: timedelta, longest: timedelta, precision: str
    ) -> _Span:
        """A time ``nominal`` before the render, truly between ``shortest`` and ``longest``."""
        return _Span(
            self.anchor.at - nominal, self.first - longest, self.last - shortest, precision
        )

    def on_date(self, day: date, clock: _Clock | None) -> _Span:
        """A local date, or a time printed on it."""
        if clock is None:
            start, end = _day_bounds(day, self.zone)
            return _Span(start, start, end, "day")
        wall = datetime.combine(day, clock.time)
        if clock.offset is not None:
            exact = wall.replace(tzinfo=clock.offset).astimezone(UTC)
            return _Span(exact, exact, exact + clock.resolution, clock.precision)
        first, usual, last = _wall_bounds(wall, self.zone)
        return _Span(usual, first, last + clock.resolution, clock.precision)

    def calendar(self, year: int | None, month: int, day: int, clock: _Clock | None) -> Timestamp:
        if year is not None:
            return self.found(self.on_date(date(year, month, day), clock), None)
        # No year printed: the most recent such date not after the render.
        year = self.local_date(self.last).year
        span = self.on_date(date(year, month, day), clock)
        if span.earliest > self.last:
            span = self.on_date(date(year - 1, month, day), clock)
        return self.found(span, self.anchor)

    def days_back(self, days: int, clock: _Clock | None) -> _Span:
        """Today (0), yesterday (1)...: a local calendar day counted back from the render, which
        may straddle midnight when the anchor has slack."""
        back = timedelta(days=days)
        early = self.on_date(self.local_date(self.first) - back, clock)
        late = self.on_date(self.local_date(self.last) - back, clock)
        usual = self.on_date(self.local_date(self.anchor.at) - back, clock)
        span = _hull(usual.value, usual.precision, early, late)
        if days == 0 and clock is None:  # today, but not after the render
            span = span._replace(latest=min(span.latest, self.last))
        return span

    def clock_only(self, clock: _Clock) -> _Span:
        """A time with no date: its most recent occurrence at or before the render."""

        def latest_by(moment: datetime) -> _Span:
            day = self.local_date(moment)
            span = self.on_date(day, clock)
            return span if span.value <= moment else self.on_date(day - _DAY, clock)

        usual = latest_by(self.anchor.at)
        return _hull(usual.value, clock.precision, latest_by(self.first), latest_by(self.last))


def parse_timestamp(
    raw: str,
    *,
    anchor: Anchor,
    timezone: str,
    languages: Sequence[str] = ("en",),
    source: str = "text",
) -> Timestamp:
    """Read a printed time (``Updated 35 min 7 sec ago``, ``06 February 2025``, ISO 8601...).

    ``timezone`` is the site's IANA zone, used for local dates and times; ``languages`` are the
    site's languages, most likely first. Never raises for any text; an unknown zone or language
    code is a configuration error and does raise.
    """
    text = raw.strip()
    zone = ZoneInfo(timezone)
    codes = (languages,) if isinstance(languages, str) else tuple(languages)
    grammar = _grammar(codes)
    try:
        first = anchor.at - timedelta(seconds=anchor.slack_before)
        last = anchor.at + timedelta(seconds=anchor.slack_after)
    except OverflowError:
        # The render window runs past year 1 or 9999: no time can be read against it.
        return Timestamp(text, None, None, None, None, source, None, "unreadable")
    reader = _Reader(text, anchor, zone, timezone, grammar, source, first, last)
    if not text:
        return reader.failed("empty")
    if len(text) > MAX_TEXT_LENGTH:
        return reader.failed("unreadable")
    try:
        found = _read(reader)
    except (ValueError, OverflowError):
        # Impossible fields (31 February, 25:00) or arithmetic past year 1 or 9999.
        return reader.failed("unreadable")
    # A difference, not last + 1 day, which overflows near year 9999.
    if found.earliest is not None and found.earliest - reader.last > _DAY:
        return reader.failed("future")
    return found


def _read(reader: _Reader) -> Timestamp:
    grammar = reader.grammar
    plain = _plain(reader.raw)
    if grammar.prefix is not None and (prefix := grammar.prefix.match(plain)):
        plain = plain[prefix.end() :].strip(_EDGES)
    elif label := TIME_LABEL.match(plain):
        plain = plain[label.end() :].strip(_EDGES)
    text = plain.lower()
    if not text.isascii():
        text = text.translate(_FOLD)
    if not text:
        return reader.failed("unreadable")

    if reader.source != "text":
        text = _NAMED_AFTER_OFFSET.sub(r"\1", _BASIC_ISO.sub(r"\1-\2-\3", text))
    try:
        if (found := _read_form(reader, text)) is not None:
            return found
    except _UnknownZone:  # a form read here, save a zone's name only dateparser may know
        return _ask_dateparser(reader, plain)
    # Text with a word neither a table here nor dateparser's data for these languages
    # knows is none dateparser reads either ("LinkNaija October 06, 2018"), and where every
    # language has a table, text with no word of a date and no digits apart neither: skip
    # dateparser's cost (loading a language to fail costs the most).
    words = _tokens(text)
    if not grammar.lexicon.issuperset(words):
        return reader.failed("unreadable")
    if grammar.vocabulary is not None and not (
        _DIGITS_APART.search(text) or not grammar.vocabulary.isdisjoint(words)
    ):
        return reader.failed("unreadable")
    return _ask_dateparser(reader, plain)


def _read_form(reader: _Reader, text: str) -> Timestamp | None:
    """``text`` read as one of the forms the grammar knows, or None."""
    grammar = reader.grammar
    if found := _ISO.fullmatch(text):
        clock = _clock(found, grammar.meridiem)
        return reader.calendar(int(found["y"]), int(found["mo"]), int(found["d"]), clock)
    if text in grammar.now:
        return reader.found(reader.elapsed(_ZERO, _ZERO, _MINUTE, "minute"), reader.anchor)
    for pattern in grammar.relative:
        if found := pattern.fullmatch(text):
            return _read_chain(reader, found)
    if grammar.day_word is not None and (found := grammar.day_word.fullmatch(text)):
        span = reader.days_back(grammar.days_back[found["w"]], _clock(found, grammar.meridiem))
        return reader.found(span, reader.anchor)
    if grammar.named_date is not None and (found := grammar.named_date.fullmatch(text)):
        return _read_named_date(reader, found)
    if found := grammar.numeric_date.fullmatch(text):
        return _read_numeric_date(reader, found)
    for pattern in grammar.clock_first:
        if found := pattern.fullmatch(text):
            return (_read_numeric_date if "a" in pattern.groupindex else _read_named_date)(
                reader, found
            )
    if _NUMBER.fullmatch(text):
        return reader.failed("too-coarse" if len(text) == 4 else "unreadable")
    if (found := grammar.clock_only.fullmatch(text)) and (clock := _clock(found, grammar.meridiem)):
        return reader.found(reader.clock_only(clock), reader.anchor)
    if grammar.coarse is not None and grammar.coarse.fullmatch(text):
        return reader.failed("too-coarse")
    return None


def _read_chain(reader: _Reader, found: re.Match[str]) -> Timestamp:
    """``35 min 7 sec ago``: at most two units, largest first, the smaller one truncated."""
    grammar = reader.grammar
    units: list[tuple[_Unit, int]] = []
    for quantity, word in (found.group("q1", "u1"), found.group("q2", "u2")):
        if word is None:
            continue
        name, implied = grammar.units[word]
        if quantity is None:
            count = implied
        elif quantity.isdecimal():
            count = int(quantity)
        else:
            count = grammar.numbers[quantity]
        if count is None:  # a plural noun with no number: "hours ago"
            return reader.failed("unreadable")
        units.append((_UNITS[name], count))
    if len(units) == 2 and units[0][0].rank <= units[1][0].rank:
        return reader.failed("unreadable")  # no formatter prints "5 min 2 hours"
    nominal = shortest = longest = _ZERO
    for unit, count in units:
        nominal += unit.nominal * count
        shortest += unit.shortest * count
        longest += unit.longest * count
    smallest = units[-1][0]
    span = reader.elapsed(nominal, shortest, longest + smallest.longest, smallest.precision)
    return reader.found(span, reader.anchor)


def _read_named_date(reader: _Reader, found: re.Match[str]) -> Timestamp:
    """``6 February 2025``, ``Nov. 19, 2019, 10:31 pm CST``; with no year, the most
    recent such day."""
    day, month = (found["d1"], found["m1"]) if found["d1"] else (found["d2"], found["m2"])
    year = int(found["y"]) if found["y"] else None
    clock = _clock(found, reader.grammar.meridiem)
    return reader.calendar(year, reader.grammar.months[month], int(day), clock)


def _read_numeric_date(reader: _Reader, found: re.Match[str]) -> Timestamp:
    """``2025/02/06``, ``06.02.2025``, ``23/07/2024``. A day-month order the numbers do not
    settle is not guessed."""
    first, second, third = found.group("a", "b", "c")
    clock = _clock(found, reader.grammar.meridiem)
    if len(first) == 4:
        return reader.calendar(int(first), int(second), int(third), clock)
    if len(first) > 2 or len(third) not in (2, 4):
        return reader.failed("unreadable")
    year = int(third)
    if len(third) == 2:  # the most recent such year, never a future one
        this_year = reader.local_date(reader.anchor.at).year
        year += this_year - this_year % 100
        if year > this_year:
            year -= 100
    a, b = int(first), int(second)
    if found["sep"] == "." or a > 12:  # dotted dates are day first wherever they are used
        return reader.calendar(year, b, a, clock)
    if b > 12 or a == b:
        return reader.calendar(year, a, b, clock)
    if reader.grammar.day_first:
        return reader.calendar(year, b, a, clock)
    return reader.failed("ambiguous")


# --- dateparser fallback ------------------------------------------------------------------------


def _date_data(reader: _Reader, text: str, parser: str) -> Any:
    settings = {
        "TIMEZONE": reader.zone_name,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "past",
        "RETURN_TIME_AS_PERIOD": True,
        # Naive local base: dateparser 1.5.0 misreads time-only text given an aware base
        # together with a non-UTC TIMEZONE.
        "RELATIVE_BASE": _local_base(reader),
        "PARSERS": [parser],
    }
    parser_for_site = DateDataParser(languages=list(reader.grammar.languages), settings=settings)
    return parser_for_site.get_date_data(text)


def _local_base(reader: _Reader) -> datetime:
    return reader.anchor.at.astimezone(reader.zone).replace(tzinfo=None)


def _ask_dateparser(reader: _Reader, text: str) -> Timestamp:
    try:
        relative = _date_data(reader, text, "relative-time")
        absolute = None if relative.date_obj else _date_data(reader, text, "absolute-time")
    except Exception:
        # dateparser is third-party code fed arbitrary page text; one odd string must not end
        # a crawl. The miss is counted through its error like any other unreadable text.
        return reader.failed("unreadable")
    if absolute is None:
        return _dateparser_relative(reader, relative)
    if absolute.date_obj is None:
        return reader.failed("unreadable")
    if not {"month", "day"} <= set(absolute.parts):
        return reader.failed("too-coarse")
    wall: datetime = absolute.date_obj.replace(tzinfo=None)
    anchor = None if _YEAR.search(text) else reader.anchor  # the year came from the anchor
    if absolute.period != "time":  # a day, or a part of one ("this morning")
        return reader.found(reader.on_date(wall.date(), None), anchor)
    shown = _CLOCK_IN_TEXT.search(text)
    if shown is None:
        clock = _Clock(wall.time(), timedelta(hours=1), "hour", None)  # "noon", "5 pm"
    elif shown.group(1):
        clock = _Clock(wall.time(), timedelta(seconds=1), "second", None)
    else:
        clock = _Clock(wall.time(), _MINUTE, "minute", None)
    return reader.found(reader.on_date(wall.date(), clock), anchor)


def _dateparser_relative(reader: _Reader, data: Any) -> Timestamp:
    """dateparser read a relative phrase; it tells only how far back it points and a period,
    so the smallest unit is inferred and the interval widened to stay honest."""
    wall: datetime = data.date_obj.replace(tzinfo=None)
    base = _local_base(reader)
    delta = base - wall
    if delta < _ZERO:
        return reader.failed("future")  # "in 3 days", "tomorrow": not when a story was updated
    period = data.period
    if period in ("week", "month", "year") or delta >= timedelta(days=28):
        # "last week" is a calendar week, "2 months ago" may count calendar or 30-day months:
        # allow a whole unit either side, and calendar lengths on top.
        name = "year" if period == "year" or delta >= timedelta(days=365) else "month"
        unit = _UNITS["week" if period == "week" and delta < timedelta(days=28) else name]
        shortest = max(delta - unit.longest, _ZERO)
        span = reader.elapsed(delta, shortest, delta * 31 / 28 + unit.longest, unit.precision)
    elif period in ("day", "part_of_day"):
        # "yesterday", "2 days ago": a calendar day or a count of elapsed days; cover both.
        by_count = reader.elapsed(delta, delta, delta + _DAY, "day")
        by_calendar = reader.days_back((base.date() - wall.date()).days, None)
        span = _hull(by_count.value, "day", by_count, by_calendar)
    else:
        # Hours, minutes or seconds: the largest unit dividing the distance is a safe guess at
        # the smallest unit printed. Cover the wall-clock reading too, which DST would shift.
        unit = next(
            (_UNITS[n] for n in ("hour", "minute") if delta % _UNITS[n].nominal == _ZERO),
            _UNITS["second"],
        )
        by_count = reader.elapsed(delta, delta, delta + unit.longest, unit.precision)
        first, _, last = _wall_bounds(wall, reader.zone)
        by_wall = by_count._replace(
            earliest=by_count.earliest + (first - by_count.value),
            latest=by_count.latest + (last - by_count.value),
        )
        span = _hull(by_count.value, unit.precision, by_count, by_wall)
    return reader.found(span, reader.anchor)
