# Story text uses typographic (curly) quotes on purpose, as the real site does.
"""Deterministic content model of the mirror site: articles, page composition, time texts.

Everything here is plain data and pure functions. All story text is synthetic, built from
our own word lists and sentence templates, so tests never depend on real reporting.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

FIRST_NID = 2_600_001
SITE_TIMEZONE = "Asia/Riyadh"

SECTIONS: tuple[str, ...] = (
    "saudi-arabia",
    "middle-east",
    "world",
    "business-economy",
    "sport",
    "lifestyle",
    "media",
    "pakistan",
)

MarkupVariant = Literal["containers", "flat"]

# The site switches from "Updated 35 min ago" to an absolute date past this age.
RELATIVE_TIME_LIMIT = 20 * 3600

_INTERVAL_UNITS: tuple[tuple[int, str, str], ...] = (
    (31_536_000, "year", "years"),
    (2_592_000, "month", "months"),
    (604_800, "week", "weeks"),
    (86_400, "day", "days"),
    (3_600, "hour", "hours"),
    (60, "min", "min"),
    (1, "sec", "sec"),
)

# The French edition (arabnews.fr) prints the same intervals in French.
_FRENCH_INTERVAL_UNITS: tuple[tuple[int, str, str], ...] = (
    (31_536_000, "an", "ans"),
    (2_592_000, "mois", "mois"),
    (604_800, "semaine", "semaines"),
    (86_400, "jour", "jours"),
    (3_600, "heure", "heures"),
    (60, "min", "min"),
    (1, "s", "s"),
)
_FRENCH_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre",
)  # fmt: skip
_FRENCH_WEEKDAYS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")
# Its datelines: the English edition's places, in French capitals ("ATHÈNES", "DUBAÏ").
_FRENCH_DATELINES = {
    "RIYADH": "RIYAD", "JEDDAH": "DJEDDAH", "AL-ULA": "ALULA", "MAKKAH": "LA MECQUE",
    "CAIRO": "LE CAIRE", "BEIRUT": "BEYROUTH", "BAGHDAD": "BAGDAD", "DUBAI": "DUBAÏ",
    "LONDON": "LONDRES", "London": "Londres", "Geneva": "Genève", "NEW YORK": "NEW YORK",
    "TOKYO": "TOKYO", "SINGAPORE": "SINGAPOUR", "DOHA": "DOHA", "Melbourne": "Melbourne",
    "IRBIL": "ERBIL",
}  # fmt: skip
# An Arabic-language page shape (no real edition of the site: a model of right-to-left
# pages): its intervals ("منذ 3 ساعات و5 دقائق"), singular, dual and plural by count.
_ARABIC_INTERVAL_UNITS: tuple[tuple[int, tuple[str, str, str]], ...] = (
    (31_536_000, ("سنة", "سنتين", "سنوات")),
    (2_592_000, ("شهر", "شهرين", "أشهر")),
    (604_800, ("أسبوع", "أسبوعين", "أسابيع")),
    (86_400, ("يوم", "يومين", "أيام")),
    (3_600, ("ساعة", "ساعتين", "ساعات")),
    (60, ("دقيقة", "دقيقتين", "دقائق")),
    (1, ("ثانية", "ثانيتين", "ثوان")),
)
_ARABIC_MONTHS = (
    "يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر",
    "أكتوبر", "نوفمبر", "ديسمبر",
)  # fmt: skip
_ARABIC_DATELINES = {
    "RIYADH": "الرياض", "JEDDAH": "جدة", "AL-ULA": "العلا", "DAMMAM": "الدمام",
    "MAKKAH": "مكة المكرمة", "TABUK": "تبوك", "CAIRO": "القاهرة", "BEIRUT": "بيروت",
    "BAGHDAD": "بغداد", "AMMAN": "عمان", "DUBAI": "دبي", "IRBIL": "أربيل",
    "NEW YORK": "نيويورك", "LONDON": "لندن", "London": "لندن", "PARIS": "باريس",
    "Geneva": "جنيف", "Stockholm": "ستوكهولم", "TOKYO": "طوكيو", "SINGAPORE": "سنغافورة",
    "DOHA": "الدوحة", "MADRID": "مدريد", "Melbourne": "ملبورن", "CANNES": "كان",
    "ISLAMABAD": "إسلام آباد", "KARACHI": "كراتشي", "LAHORE": "لاهور",
    "PESHAWAR": "بيشاور", "QUETTA": "كويتا",
}  # fmt: skip
# Its text: the English article's, letter by letter in Arabic script (every repeat and
# excerpt the splitter relies on holds as it does in English).
_ARABIC_LETTERS = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "ابتثجحخدذرزسشصضطظعغفقكلمنهابتثجحخدذرزسشصضطظعغفقكلمنه",
)
# The mirror's editions: the English site, the French one, and an Arabic page shape.
Edition = Literal["en", "fr", "ar"]
EDITIONS: tuple[Edition, ...] = ("en", "fr", "ar")


def _arabic_interval(seconds: int, granularity: int = 2) -> str:
    parts: list[str] = []
    remaining = seconds
    for unit, (one, two, few) in _ARABIC_INTERVAL_UNITS:
        if remaining >= unit:
            count = remaining // unit
            word = one if count == 1 else two if count == 2 else f"{count} {few}"
            parts.append(f"{count} {one}" if count > 10 else word)
            remaining %= unit
            granularity -= 1
        if granularity == 0:
            break
    return " و".join(parts) if parts else "0 ثانية"


def _in_arabic_script(text: str) -> str:
    return text.translate(_ARABIC_LETTERS)


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def format_interval(
    seconds: int,
    granularity: int = 2,
    units: tuple[tuple[int, str, str], ...] = _INTERVAL_UNITS,
) -> str:
    """Render an age the way Drupal 7's ``format_interval`` does (largest units first)."""
    if seconds < 0:
        raise ValueError(f"interval must not be negative, got {seconds}")
    if granularity < 1:
        raise ValueError(f"granularity must be at least 1, got {granularity}")
    parts: list[str] = []
    remaining = seconds
    for unit, singular, plural in units:
        if remaining >= unit:
            count = remaining // unit
            parts.append(f"{count} {singular if count == 1 else plural}")
            remaining %= unit
            granularity -= 1
        if granularity == 0:
            break
    return " ".join(parts) if parts else f"0 {units[-1][2]}"


def updated_text(
    updated_at: datetime, rendered_at: datetime, tz: str = SITE_TIMEZONE, edition: Edition = "en"
) -> str:
    """The story's visible time line, as the site renders it at ``rendered_at``: "Updated
    35 min 7 sec ago", "Updated 06 February 2025"; in the French edition "Mis à jour il y
    a 3 heures 5 min", "Publié le Mercredi 14 juillet 2021"; in Arabic "آخر تحديث منذ 3
    ساعات و5 دقائق", "آخر تحديث 06 فبراير 2025"."""
    # A story can look "updated in the future" only through clock skew; show it as fresh.
    age = max(0, int((rendered_at - updated_at).total_seconds()))
    local = updated_at.astimezone(ZoneInfo(tz))
    if edition == "ar":
        if age < RELATIVE_TIME_LIMIT:
            return f"آخر تحديث منذ {_arabic_interval(age)}"
        return f"آخر تحديث {local.day:02d} {_ARABIC_MONTHS[local.month - 1]} {local.year}"
    if edition == "fr":
        if age < RELATIVE_TIME_LIMIT:
            return f"Mis à jour il y a {format_interval(age, units=_FRENCH_INTERVAL_UNITS)}"
        weekday, month = _FRENCH_WEEKDAYS[local.weekday()], _FRENCH_MONTHS[local.month - 1]
        return f"Publié le {weekday} {local.day} {month} {local.year}"
    if age < RELATIVE_TIME_LIMIT:
        return f"Updated {format_interval(age)} ago"
    return f"Updated {local.day:02d} {_MONTHS[local.month - 1]} {local.year}"


def isoformat_utc(moment: datetime) -> str:
    """ISO 8601 in UTC with an explicit ``+00:00``, as the site's metadata prints it."""
    return moment.astimezone(timezone.utc).isoformat()


@dataclass(frozen=True)
class Article:
    """One story as the site stores it; text fields hold plain (unescaped) text."""

    nid: int
    section: str
    title: str
    summary: tuple[str, ...]
    summary_glyph: bool
    dateline: str | None
    body: tuple[str, ...]
    caption: str | None
    image_url: str | None
    published_at: datetime
    updated_at: datetime

    @property
    def path(self) -> str:
        return f"/node/{self.nid}/{self.section}"


@dataclass(frozen=True)
class PageLayout:
    """How one article page is put together; fixed per requested nid."""

    nid: int
    story_nids: tuple[int, ...]
    variant: MarkupVariant
    cached_age: int | None
    # A known variant of the real site: the photo block follows the headline instead.
    caption_after_headline: bool
    time_datetime_attr: bool
    short_url_nids: frozenset[int]


# --- Word lists and templates (our own; nothing here is taken from real reporting) ---

_HEADLINE_SUBJECTS: dict[str, tuple[str, ...]] = {
    "saudi-arabia": (
        "Saudi ministry",
        "Riyadh council",
        "Tourism authority",
        "Heritage commission",
        "Jeddah port",
        "Saudi cabinet",
        "Water authority",
        "Royal commission",
    ),
    "middle-east": (
        "UN envoy",
        "Aid agencies",
        "Regional leaders",
        "Border officials",
        "Relief groups",
        "Mediators",
        "Reconstruction fund",
        "Red Crescent",
    ),
    "world": (
        "Climate panel",
        "Global summit",
        "European lawmakers",
        "Rescue teams",
        "Island nations",
        "Shipping group",
        "Election monitors",
        "Health agency",
    ),
    "business-economy": (
        "Central bank",
        "Startup fund",
        "Energy firm",
        "Sovereign fund",
        "Airline",
        "Retail group",
        "Logistics company",
        "Stock exchange",
    ),
    "sport": (
        "Football federation",
        "Club captain",
        "Rally team",
        "National coach",
        "Tennis academy",
        "League organizers",
        "Young sprinter",
        "Chess champion",
    ),
    "lifestyle": (
        "Film commission",
        "Museum",
        "Fashion week",
        "Chef collective",
        "Book fair",
        "Design studio",
        "Music festival",
        "Gallery",
    ),
    "media": (
        "Broadcaster",
        "Press council",
        "Streaming service",
        "Newsroom",
        "Podcast network",
        "Media academy",
        "Publishers",
        "Fact-checkers",
    ),
    "pakistan": (
        "Islamabad",
        "Karachi port",
        "Provincial cabinet",
        "Flood commission",
        "Cricket board",
        "Power regulator",
        "Textile exporters",
        "Lahore council",
    ),
}

# (singular, plural) forms: subjects ending in "s" are plural ("Aid agencies back ...").
_HEADLINE_VERBS: tuple[tuple[str, str], ...] = (
    ("unveils", "unveil"),
    ("approves", "approve"),
    ("delays", "delay"),
    ("backs", "back"),
    ("launches", "launch"),
    ("expands", "expand"),
    ("reviews", "review"),
    ("signs", "sign"),
    ("weighs", "weigh"),
    ("opens", "open"),
    ("suspends", "suspend"),
    ("welcomes", "welcome"),
    ("targets", "target"),
    ("eyes", "eye"),
    ("defends", "defend"),
    ("pledges", "pledge"),
    ("completes", "complete"),
    ("tests", "test"),
)

_HEADLINE_OBJECTS = (
    "plan for coastal tourism",
    "new water recycling scheme",
    "five-year housing program",
    "talks on shared grazing land",
    "bid to host youth games",
    "rules for electric scooters",
    "funding for desert research",
    "deal on cargo flights",
    "cuts to fuel subsidies",
    "upgrade of northern rail line",
    "census of date palm farms",
    "network of solar-powered clinics",
    "ban on single-use plastic bags",
    "review of school calendars",
    "reserve for migrating birds",
    "fund for small bakeries",
    "training scheme for nurses",
    "night market pilot",
    "study of coral bleaching",
    "digital archive of old maps",
    "grain storage expansion",
    "ferry link to outer islands",
    "contest for young inventors",
    "cleanup of river banks",
    "route for long-distance cyclists",
    "academy for sports referees",
    "safety checks on old bridges",
    "library in a former fort",
)

_HEADLINE_PLACES = (
    "in Riyadh",
    "on the Red Sea coast",
    "near Tabuk",
    "across the Gulf",
    "in the Eastern Province",
    "in Karachi",
    "along the Nile",
    "in southern Lebanon",
    "in the Alps",
    "in Jeddah’s old town",
    "near the northern border",
    "in rural Punjab",
    "on the Atlantic coast",
    "in three cities",
)

_HEADLINE_ATTRIBUTIONS = ("officials", "report", "minister", "envoy", "survey", "analysts")

_QUOTE_PHRASES = (
    "a fragile first step",
    "long overdue",
    "a test of patience",
    "the right direction",
    "not enough",
    "a quiet revolution",
    "a promise kept",
)

_NUMBER_WORDS = ("two", "three", "four", "five", "six", "seven", "eight", "ten")

_SPEAKERS_SHORT = ("Envoy", "Minister", "Mayor", "Coach", "Economist", "Curator", "Governor")

_ACTORS = (
    "The ministry of municipal affairs",
    "Officials at the port authority",
    "A spokesperson for the regional council",
    "The tourism board",
    "Members of the planning commission",
    "Representatives of several aid agencies",
    "The central bank",
    "Engineers working on the project",
    "A group of independent economists",
    "The national football federation",
    "Organizers of the festival",
    "Residents of the old quarter",
    "The UN’s humanitarian office",
    "Teachers’ unions in the capital",
    "The country’s largest airline",
    "Volunteers from the local Red Crescent branch",
)

_VERBS_PAST = (
    "announced",
    "outlined",
    "approved",
    "postponed",
    "welcomed",
    "questioned",
    "reviewed",
    "unveiled",
    "signed",
    "expanded",
    "defended",
    "published",
)

_OBJECTS = (
    "a revised timetable for the new metro line",
    "a program to train young technicians in solar maintenance",
    "plans for a marine reserve off the southern coast",
    "an agreement to share weather data with neighboring states",
    "a proposal to extend opening hours at public libraries",
    "new guidelines for food stalls at seasonal markets",
    "a budget for repairing roads damaged by heavy rain",
    "a pilot scheme offering free bus travel to students",
    "a study on the cost of cooling large public buildings",
    "a campaign to plant drought-tolerant trees in city parks",
    "a draft law on the protection of historic houses",
    "a partnership with universities to map underground water",
    "a scheme to help farmers switch to drip irrigation",
    "a set of rules for drone deliveries in residential areas",
    "a tender for three new desalination units",
)

_TIMES = (
    "on Monday",
    "on Tuesday",
    "on Wednesday",
    "on Thursday",
    "on Friday",
    "on Saturday",
    "late on Sunday",
    "earlier this week",
    "last month",
    "over the weekend",
)

_ATTRIBUTIONS = (
    "officials said",
    "according to a statement",
    "the state news agency reported",
    "two people familiar with the matter said",
    "a spokesperson confirmed",
    "local media reported",
)

_BACKGROUNDS = (
    "months of consultation with residents and business owners",
    "a sharp rise in demand during the summer season",
    "complaints about delays at the main crossings",
    "a report that found most of the equipment was outdated",
    "a similar project that ran over budget two years ago",
    "pressure from lawmakers to speed up the work",
)

_QUOTES = (
    "We are moving step by step, and every step is measured",
    "This is a long-term effort, not a single announcement",
    "Our priority is to keep people safe and informed",
    "The numbers tell us we are on the right track",
    "Nobody expected the response to be this strong",
    "We listened to the families, and this is what they asked for",
    "There’s still a lot of work ahead of us",
    "It’s a good day for the whole region",
)

_SPEAKERS = (
    "the deputy minister",
    "the project’s lead engineer",
    "a senior official who asked not to be named",
    "the head of the local chamber of commerce",
    "the team’s coach",
    "the festival director",
    "a regional analyst",
    "the mayor",
)

_CLAUSES = (
    "the first phase would be finished before the summer",
    "more funding would be needed next year",
    "talks would resume after the holiday",
    "the earlier estimates had been too cautious",
    "smaller towns would benefit first",
    "the schedule depended on the weather",
    "no final decision had been taken",
    "the results would be made public",
    "private investors had shown strong interest",
)

_STATS = (
    "a {n} percent rise in visitor numbers",
    "exports up by {n} percent on the year",
    "a drop of {n} percent in waiting times",
    "about {n} percent more applications than expected",
)

_PEOPLE = ("residents", "workers", "visitors", "students", "farmers", "fans", "volunteers")

_INITIATIVES = (
    "a national development plan",
    "a wider modernization program",
    "a regional cooperation framework",
    "a city-wide sustainability drive",
)

_AIMS = (
    "cut energy use by the end of the decade",
    "create jobs for young graduates",
    "make public services easier to reach",
    "protect fragile coastal habitats",
    "double the number of visitors to the area",
)

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_CAPTION_SCENES = (
    "Visitors walk through a covered market",
    "Workers install solar panels on a warehouse roof",
    "Players celebrate after scoring",
    "A volunteer hands out water bottles",
    "Fishing boats are moored at a small harbor",
    "Children attend an open-air science class",
    "Delegates arrive for a meeting",
    "A crane lifts steel beams at a construction site",
    "Artists prepare an exhibition",
    "Commuters wait for a train",
)

_CAPTION_PLACES = (
    "in Jeddah",
    "in Riyadh",
    "in Dubai",
    "in Cairo",
    "in Karachi",
    "in Beirut",
    "in Geneva",
    "in London",
    "near Al-Ula",
)

_CAPTION_CREDITS = ("(AFP)", "(Reuters)", "(SPA)", "(AN photo)")

_DATELINES_BY_SECTION: dict[str, tuple[str, ...]] = {
    "saudi-arabia": ("RIYADH", "JEDDAH", "AL-ULA", "DAMMAM", "MAKKAH", "TABUK"),
    "middle-east": ("CAIRO", "BEIRUT", "BAGHDAD", "AMMAN", "DUBAI", "IRBIL"),
    "world": ("NEW YORK", "LONDON", "PARIS", "London", "Geneva", "Stockholm", "TOKYO"),
    "business-economy": ("RIYADH", "DUBAI", "LONDON", "NEW YORK", "Geneva", "SINGAPORE"),
    "sport": ("RIYADH", "JEDDAH", "DOHA", "LONDON", "MADRID", "Melbourne"),
    "lifestyle": ("DUBAI", "AL-ULA", "RIYADH", "PARIS", "London", "CANNES"),
    "media": ("LONDON", "DUBAI", "NEW YORK", "RIYADH", "Geneva"),
    "pakistan": ("ISLAMABAD", "KARACHI", "LAHORE", "PESHAWAR", "QUETTA"),
}


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


def _number(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.randint(2, 95)}"
    return f"{rng.randint(1, 99)},{rng.randint(0, 999):03d}"


def _headline(rng: random.Random, section: str) -> str:
    subject = rng.choice(_HEADLINE_SUBJECTS[section])
    plural = subject.endswith("s")
    singular_verb, plural_verb = rng.choice(_HEADLINE_VERBS)
    verb = plural_verb if plural else singular_verb
    thing = rng.choice(_HEADLINE_OBJECTS)
    place = rng.choice(_HEADLINE_PLACES)
    shape = rng.random()
    if shape < 0.08:
        return f"{subject} {verb} {thing}: {rng.choice(_HEADLINE_ATTRIBUTIONS)}"
    if shape < 0.14:
        phrase = rng.choice(_QUOTE_PHRASES)
        return f"{rng.choice(_SPEAKERS_SHORT)} calls {thing} ‘{phrase}’ {place}"
    if shape < 0.30:
        weighs = "weigh" if plural else "weighs"
        return f"{_sentence_case(thing)} {place} stalls as {subject.lower()} {weighs} options"
    if shape < 0.60:
        return f"{subject} {verb} {thing} {place}"
    if shape < 0.75:
        return f"{subject} {verb} {thing} after {rng.choice(_NUMBER_WORDS)} years of talks"
    return f"{subject} {verb} {thing}"


def _title(rng: random.Random, section: str) -> str:
    # Templates land in range almost always; retry keeps the 5-14 word promise exact.
    for _ in range(20):
        title = _headline(rng, section)
        if 5 <= len(title.split()) <= 14:
            return title
    return "Ministry unveils new plan for the coming year"


def _sentence(rng: random.Random) -> str:
    shape = rng.randrange(10)
    if shape == 0:
        return (
            f"{rng.choice(_ACTORS)} {rng.choice(_VERBS_PAST)} {rng.choice(_OBJECTS)} "
            f"{rng.choice(_TIMES)}, {rng.choice(_ATTRIBUTIONS)}."
        )
    if shape == 1:
        return f"The decision follows {rng.choice(_BACKGROUNDS)}."
    if shape == 2:
        return f"“{rng.choice(_QUOTES)},” said {rng.choice(_SPEAKERS)}."
    if shape == 3:
        return (
            f"“{rng.choice(_QUOTES)},” {rng.choice(_SPEAKERS)} told reporters, adding that "
            f"{rng.choice(_CLAUSES)}."
        )
    if shape == 4:
        people = f"{_number(rng)} {rng.choice(_PEOPLE)}"
        return f"About {people} are expected to take part by {rng.randint(2026, 2034)}."
    if shape == 5:
        return f"It was not immediately clear whether {rng.choice(_CLAUSES)}."
    if shape == 6:
        return (
            f"The project is part of {rng.choice(_INITIATIVES)}, which aims to {rng.choice(_AIMS)}."
        )
    if shape == 7:
        return (
            f"Critics say {rng.choice(_CLAUSES)}, while supporters argue that "
            f"{rng.choice(_CLAUSES)}."
        )
    if shape == 8:
        stat = rng.choice(_STATS).format(n=rng.randint(3, 40))
        return f"The figures, published {rng.choice(_TIMES)}, showed {stat}."
    return f"{_sentence_case(rng.choice(_SPEAKERS))} said {rng.choice(_CLAUSES)}."


def _lead_sentence(rng: random.Random) -> str:
    return (
        f"{rng.choice(_ACTORS)} {rng.choice(_VERBS_PAST)} {rng.choice(_OBJECTS)} "
        f"{rng.choice(_TIMES)}, {rng.choice(_ATTRIBUTIONS)}."
    )


def _summary_line(sentence: str) -> str:
    # Summary bullets are body excerpts printed without their final period.
    return sentence[:-1] if sentence.endswith(".") else sentence


def _caption(rng: random.Random) -> str:
    scene = rng.choice(_CAPTION_SCENES)
    return (
        f"{scene} {rng.choice(_CAPTION_PLACES)} on {rng.choice(_WEEKDAYS)}. "
        f"{rng.choice(_CAPTION_CREDITS)}"
    )


def _story_age(rng: random.Random, index: int, count: int) -> int:
    """Seconds between the article's last update and the site's start."""
    if rng.random() < 0.4:
        # Fresh stories; some only minutes old so "31 sec"-like texts occur.
        if rng.random() < 0.2:
            return rng.randint(5, 600)
        return rng.randint(600, RELATIVE_TIME_LIMIT - 120)
    # Older stories spread over about two years, higher nid newer on average.
    position = index / max(1, count - 1)
    two_years = 2 * 365 * 86_400
    age = RELATIVE_TIME_LIMIT + int((1.0 - position) * two_years)
    age += rng.randint(-20 * 86_400, 20 * 86_400)
    return max(RELATIVE_TIME_LIMIT + 3_600, age)


def build_article(
    seed: int, nid: int, index: int, count: int, started_at: datetime, edition: Edition = "en"
) -> Article:
    """Generate one article from its own random stream (independent of iteration order).
    The French edition's article is the English one's with its dateline in French; the
    Arabic page shape's, in Arabic script with Arabic datelines."""
    rng = random.Random(f"{seed}:{nid}")
    section = SECTIONS[rng.randrange(len(SECTIONS))]
    title = _title(rng, section)

    dateline = None if rng.random() < 0.15 else rng.choice(_DATELINES_BY_SECTION[section])
    if dateline is not None and edition == "fr":
        dateline = _FRENCH_DATELINES.get(dateline, dateline)
    elif dateline is not None and edition == "ar":
        dateline = _ARABIC_DATELINES[dateline]
    paragraph_count = rng.choice((1, 2, 3, 4, 4, 5, 5, 6, 6, 7, 8, 8, 9, 10, 11, 12))
    if edition == "ar":
        title = _in_arabic_script(title)
    sentences: list[str] = [_lead_sentence(rng)]
    body: list[str] = []
    for position in range(paragraph_count):
        paragraph = [sentences[0]] if position == 0 else []
        while not paragraph or (len(paragraph) < 3 and rng.random() < 0.3):
            sentence = _sentence(rng)
            sentences.append(sentence)
            paragraph.append(sentence)
        body.append(" ".join(paragraph))
    if edition == "ar":
        body = [_in_arabic_script(paragraph) for paragraph in body]
        sentences = [_in_arabic_script(sentence) for sentence in sentences]
    if dateline is not None:
        body[0] = f"{dateline}: {body[0]}"

    summary_size = rng.choice((0, 1, 2, 2, 2, 3))
    summary: list[str] = []
    for _ in range(summary_size):
        sentence = rng.choice(sentences) if rng.random() < 0.8 else _sentence(rng)
        line = _summary_line(sentence)
        if line not in summary:
            summary.append(line)
    summary_glyph = rng.random() >= 0.2

    age = _story_age(rng, index, count)
    updated_at = started_at - timedelta(seconds=age)
    delay = 0 if rng.random() < 0.6 else rng.randint(60, 3 * 86_400)
    published_at = updated_at - timedelta(seconds=delay)

    caption: str | None = None
    image_url: str | None = None
    if rng.random() >= 0.35:
        caption = _caption(rng)
        if edition == "ar":
            caption = _in_arabic_script(caption)
        day = published_at.strftime("%Y/%m/%d")
        image_url = (
            "/sites/default/files/styles/660x371_watermarksaudi/public/main-image/"
            f"{day}/{rng.randint(100_000, 9_999_999)}.jpg"
        )

    return Article(
        nid=nid,
        section=section,
        title=title,
        summary=tuple(summary),
        summary_glyph=summary_glyph,
        dateline=dateline,
        body=tuple(body),
        caption=caption,
        image_url=image_url,
        published_at=published_at,
        updated_at=updated_at,
    )


class MirrorSite:
    """The whole mirror site's content; same (articles, seed, started_at) gives the same site."""

    def __init__(
        self,
        articles: int = 200,
        seed: int = 1,
        started_at: datetime | None = None,
        broken_markup: float = 0.0,
        edition: Edition = "en",
    ) -> None:
        if articles < 1:
            raise ValueError(f"articles must be at least 1, got {articles}")
        if not 0.0 <= broken_markup <= 1.0:
            raise ValueError(f"broken_markup must be between 0 and 1, got {broken_markup}")
        if started_at is None:
            started_at = datetime.now(timezone.utc).replace(microsecond=0)
        elif started_at.tzinfo is None:
            raise ValueError("started_at must be timezone-aware")
        if edition not in EDITIONS:
            raise ValueError(f"edition must be one of {', '.join(EDITIONS)}, got {edition!r}")
        self.seed = seed
        self.edition: Edition = edition
        self.started_at = started_at.astimezone(timezone.utc)
        self.nids = range(FIRST_NID, FIRST_NID + articles)
        self._edit_lock = threading.Lock()
        # Generated once: the server reads these on every request.
        self._articles: dict[int, Article] = {
            nid: build_article(seed, nid, index, articles, self.started_at, edition)
            for index, nid in enumerate(self.nids)
        }
        # Edits never move publication times, so this order is fixed for the site's life.
        self._newest_first: list[int] = sorted(
            self.nids,
            key=lambda nid: (self._articles[nid].published_at, nid),
            reverse=True,
        )
        self._layouts: dict[int, PageLayout] = {nid: self._layout(nid) for nid in self.nids}
        self._blocked: frozenset[int] = frozenset(
            nid for nid in self.nids if random.Random(f"{seed}:{nid}:robots").random() < 0.04
        )
        # Pages whose body markup "changed" (a site redesign): bodies load from a script.
        self._broken: frozenset[int] = frozenset(
            nid
            for nid in self.nids
            if random.Random(f"{seed}:{nid}:broken").random() < broken_markup
        )

    def broken(self, nid: int) -> bool:
        """Does the page at ``nid`` render its bodies in markup the crawler cannot read?"""
        return nid in self._broken

    def __len__(self) -> int:
        return len(self.nids)

    def __contains__(self, nid: object) -> bool:
        return nid in self._articles

    def article(self, nid: int) -> Article | None:
        return self._articles.get(nid)

    def all_articles(self) -> list[Article]:
        """All articles in nid order."""
        return [self._articles[nid] for nid in self.nids]

    def newest(self, count: int, sections: Sequence[str] | None = None) -> list[Article]:
        """Newest articles first (by publication time), optionally limited to sections."""
        chosen: list[Article] = []
        if count <= 0:
            return chosen
        for nid in self._newest_first:
            article = self._articles[nid]
            if sections is None or article.section in sections:
                chosen.append(article)
                if len(chosen) == count:
                    break
        return chosen

    def robots_blocked(self, nid: int) -> bool:
        return nid in self._blocked

    def blocked_nids(self) -> list[int]:
        return sorted(self._blocked)

    def layout(self, nid: int) -> PageLayout:
        return self._layouts[nid]

    def markup_variant(self, nid: int) -> MarkupVariant:
        return self._layouts[nid].variant

    def cached_age(self, nid: int) -> int | None:
        return self._layouts[nid].cached_age

    def page_stories(self, nid: int) -> list[Article]:
        """The requested article first, then the "next" articles the site appends to it."""
        return [self._articles[story] for story in self._layouts[nid].story_nids]

    def edit(
        self,
        nid: int,
        body: list[str] | None = None,
        title: str | None = None,
        updated_at: datetime | None = None,
    ) -> Article:
        """Replace an article's text in memory; every page showing it changes with it."""
        if updated_at is not None and updated_at.tzinfo is None:
            raise ValueError("updated_at must be timezone-aware")
        with self._edit_lock:
            article = self._articles[nid]
            changes: dict[str, Any] = {}
            if body is not None:
                changes["body"] = tuple(body)
            if title is not None:
                changes["title"] = title
            if updated_at is not None:
                changes["updated_at"] = updated_at.astimezone(timezone.utc)
            edited = dataclasses.replace(article, **changes)
            self._articles[nid] = edited
            return edited

    def truth(self) -> list[dict[str, Any]]:
        """JSON-ready ground truth of every article, in nid order."""
        records: list[dict[str, Any]] = []
        for article in self.all_articles():
            layout = self._layouts[article.nid]
            records.append(
                {
                    "nid": article.nid,
                    "path": article.path,
                    "section": article.section,
                    "title": article.title,
                    "summary": list(article.summary),
                    "summary_glyph": article.summary_glyph,
                    "dateline": article.dateline,
                    "body": list(article.body),
                    "caption": article.caption,
                    "image_url": article.image_url,
                    "published_at": isoformat_utc(article.published_at),
                    "updated_at": isoformat_utc(article.updated_at),
                    "robots_blocked": self.robots_blocked(article.nid),
                    "markup_variant": layout.variant,
                    "cached_age": layout.cached_age,
                    "caption_after_headline": layout.caption_after_headline,
                    "appended": list(layout.story_nids[1:]),
                }
            )
        return records

    def _layout(self, nid: int) -> PageLayout:
        rng = random.Random(f"{self.seed}:{nid}:page")
        count = len(self.nids)
        appended = min(rng.randint(2, 5), count - 1)
        # Nearest lower nids, wrapping round to the newest: each story shows up on many pages.
        offset = nid - FIRST_NID
        appended_nids = [FIRST_NID + (offset - step) % count for step in range(1, appended + 1)]
        story_nids = (nid, *appended_nids)
        variant: MarkupVariant = "containers" if rng.random() < 0.5 else "flat"
        cached_age = rng.randint(30, 900) if rng.random() < 0.25 else None
        caption_after_headline = rng.random() < 0.2
        time_datetime_attr = rng.random() < 0.5
        short_url_nids = frozenset(story for story in story_nids if rng.random() < 0.7)
        return PageLayout(
            nid=nid,
            story_nids=story_nids,
            variant=variant,
            cached_age=cached_age,
            caption_after_headline=caption_after_headline,
            time_datetime_attr=time_datetime_attr,
            short_url_nids=short_url_nids,
        )
