"""Timestamp reading: newscrawl.stories.timestamps against plain dateparser on the same strings.

    python benchmarks/timestamps.py [--n 20000] [--sample 2000] [--seed 7]

Builds a mix of printed times shaped like Arab News's (Drupal "time ago" text with an
``Updated`` prefix, ``Updated 06 February 2025``, ISO 8601 from metadata, widget junk, some
Arabic and French), reads all N with ``parse_timestamp``, then reads a random sample of them with
dateparser three ways, in the same run:

- ``plain``: ``dateparser.parse(text, settings=...)``, no languages: what the brief names;
- ``languages``: the same, given the site's languages as we are (dateparser's fast case);
- ``languages+surrounding``: also ``IGNORE_SURROUNDING_TEXT``, so that it answers the prefixed
  strings too and the answers can be compared.

Plain dateparser takes milliseconds a string when it has to guess the language, so it is timed on
the sample, not on all N; the sample size is printed with every figure. Prints strings/s for each,
our speed as a ratio to each, and how many answers agree where both answer: the same instant to
the second, or for a date alone the same local calendar date. Disagreements are printed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from newscrawl_mirror.content import format_interval  # noqa: E402 - after sys.path

SITE_ZONE = "Asia/Riyadh"
FETCHED_AT = datetime(2025, 2, 6, 12, 0, tzinfo=timezone.utc)
MONTHS = (
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
JUNK = ("Short Url", "Follow", "Updated 3 comments", "By AP ·", "2025", "March", "Share")

Item = tuple[str, tuple[str, ...]]  # (printed text, the site's languages)


def build_mix(n: int, rng: random.Random) -> list[Item]:
    """N printed times in roughly the proportions an Arab News crawl meets them."""
    english, arabic, french = ("en",), ("ar",), ("fr",)
    items: list[Item] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.40:  # recent stories: relative, at most a few days old
            elapsed = int(rng.choice((60, 3600, 86400, 4 * 86400)) * rng.random()) + 1
            prefix = rng.choice(("Updated ", "Updated ", "Updated ", "Last updated: "))
            items.append((f"{prefix}{format_interval(elapsed)} ago", english))
        elif roll < 0.75:  # older stories: an absolute date
            day = FETCHED_AT.date() - timedelta(days=rng.randrange(1, 5000))
            form = rng.random()
            if form < 0.8:
                text = f"Updated {day.day:02d} {MONTHS[day.month - 1]} {day.year}"
            elif form < 0.9:
                text = f"{MONTHS[day.month - 1]} {day.day}, {day.year}"
            else:
                text = f"{day.day} {MONTHS[day.month - 1][:3]} {day.year} 14:05"
            items.append((text, english))
        elif roll < 0.85:  # metadata: time elements, meta tags, feeds
            moment = FETCHED_AT - timedelta(seconds=rng.randrange(1, 400 * 86400))
            text = rng.choice(
                (
                    moment.isoformat(),
                    moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                    moment.strftime("%Y-%m-%d"),
                )
            )
            items.append((text, english))
        elif roll < 0.90:
            items.append((rng.choice(JUNK), english))
        elif roll < 0.95:
            count = rng.randrange(3, 10)
            text = rng.choice(
                (
                    f"منذ {count} دقائق",
                    f"قبل {count} ساعات",
                    "قبل ساعتين",
                    "منذ ساعة",
                    "منذ يومين",
                    "منذ \u0665 دقائق",  # Arabic-Indic digit
                    "6 فبراير 2025",
                )
            )
            items.append((text, arabic))
        else:
            count = rng.randrange(2, 10)
            text = rng.choice(
                (
                    f"il y a {count} heures",
                    f"il y a {count} jours",
                    f"il y a {count} min",
                    "Publié le Mercredi 14 juillet 2021",
                )
            )
            items.append((text, french))
    return items


def dateparser_reader(languages: bool, surrounding: bool) -> Callable[[Item], datetime | None]:
    """Plain ``dateparser.parse`` with the settings our fallback uses; no fast path."""
    import dateparser

    settings = {
        # A naive local base: dateparser 1.5.0 misreads time-only text given an aware base
        # together with a non-UTC TIMEZONE.
        "RELATIVE_BASE": FETCHED_AT.astimezone(ZoneInfo(SITE_ZONE)).replace(tzinfo=None),
        "TIMEZONE": SITE_ZONE,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "past",
    }
    if surrounding:
        settings["IGNORE_SURROUNDING_TEXT"] = True

    def read(item: Item) -> datetime | None:
        text, site_languages = item
        if languages:
            found = dateparser.parse(text, languages=list(site_languages), settings=settings)
        else:
            found = dateparser.parse(text, settings=settings)
        return found if isinstance(found, datetime) else None

    return read


def timed(read: Callable[[Item], Any], items: Sequence[Item]) -> tuple[list[Any], list[float]]:
    """Each item's result and the seconds it took."""
    results: list[Any] = []
    seconds: list[float] = []
    clock = time.perf_counter
    for item in items:
        started = clock()
        results.append(read(item))
        seconds.append(clock() - started)
    return results, seconds


def agrees(ours: Any, theirs: datetime) -> bool:
    """The same local calendar date for a date alone, else the same instant to the second."""
    if ours.precision == "day":
        zone = ZoneInfo(SITE_ZONE)
        return bool(ours.value.astimezone(zone).date() == theirs.astimezone(zone).date())
    return bool(abs((ours.value - theirs).total_seconds()) < 1)


def compare(
    name: str,
    sample: Sequence[Item],
    ours: Sequence[Any],
    our_seconds: Sequence[float],
    read: Callable[[Item], datetime | None],
) -> float:
    """Print one dateparser variant against our results on the sample; return our speed-up."""
    theirs, their_seconds = timed(read, sample)
    speedup = sum(their_seconds) / sum(our_seconds)
    answered = [i for i, found in enumerate(theirs) if found is not None]
    speedup_answered = sum(their_seconds[i] for i in answered) / max(
        sum(our_seconds[i] for i in answered), 1e-9
    )
    both = [i for i in answered if ours[i].value is not None]
    disagree = [i for i in both if not agrees(ours[i], theirs[i])]
    only_theirs = [i for i in answered if ours[i].value is None]
    print(
        f"{name:<22} {len(sample) / sum(their_seconds):>9,.0f} {speedup:>8,.0f}x"
        f" {len(answered):>8} {speedup_answered:>8,.0f}x {len(both):>6}"
        f" {len(both) - len(disagree):>6} {len(disagree):>8} {len(only_theirs):>7}"
    )
    for label, indexes in (("disagree", disagree), ("only dateparser", only_theirs)):
        for text in sorted({sample[i][0] for i in indexes})[:8]:
            i = next(i for i in indexes if sample[i][0] == text)
            found = theirs[i]
            ours_text = ours[i].error if ours[i].value is None else ours[i].value.isoformat()
            print(f"    {label}: {text!r}: ours {ours_text}, dateparser {found.isoformat()}")
    return speedup


def main(argv: Sequence[str] | None = None) -> int:
    from newscrawl.stories.timestamps import given_anchor, parse_timestamp

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20000, help="strings read by newscrawl")
    parser.add_argument("--sample", type=int, default=2000, help="of those, read by dateparser")
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args(argv)

    rng = random.Random(options.seed)
    items = build_mix(options.n, rng)
    picked = sorted(rng.sample(range(len(items)), min(options.sample, len(items))))
    sample = [items[i] for i in picked]
    anchor = given_anchor(FETCHED_AT)

    def ours(item: Item) -> Any:
        text, languages = item
        return parse_timestamp(text, anchor=anchor, timezone=SITE_ZONE, languages=languages)

    for item in items[:200]:  # warm caches and dateparser's locale data on both sides
        ours(item)
        dateparser_reader(languages=True, surrounding=False)(item)

    started = time.perf_counter()
    results = [ours(item) for item in items]
    rate = len(items) / (time.perf_counter() - started)
    errors: dict[str, int] = {}
    for result in results:
        if result.error:
            errors[result.error] = errors.get(result.error, 0) + 1
    print(f"mix: {len(items)} strings (seed {options.seed}), site zone {SITE_ZONE}")
    print(
        f"newscrawl.stories.timestamps: {rate:,.0f} strings/s over all {len(items)};"
        f" answered {len(items) - sum(errors.values())}; errors {errors}"
    )
    # Ours again, one string at a time, so both sides are timed the same way on the sample.
    ours_on_sample, our_seconds = timed(ours, sample)
    assert [r.to_record() for r in ours_on_sample] == [results[i].to_record() for i in picked]
    print(
        f"dateparser, timed on a random sample of {len(sample)} of the same strings"
        f" (ours on the sample: {len(sample) / sum(our_seconds):,.0f} strings/s):"
    )
    print(
        "  'ours is': our speed-up on the whole sample, then on the strings that variant answered;"
        "\n  'both': strings both answered; 'only it': strings only dateparser answered"
    )
    print(
        f"{'variant':<22} {'strings/s':>9} {'ours is':>9} {'answered':>8} {'ours is':>9}"
        f" {'both':>6} {'agree':>6} {'disagree':>8} {'only it':>7}"
    )
    speedups = [
        compare(name, sample, ours_on_sample, our_seconds, dateparser_reader(*variant))
        for name, variant in (
            ("plain", (False, False)),
            ("languages", (True, False)),
            ("languages+surrounding", (True, True)),
        )
    ]
    print(f"ours against plain dateparser: {speedups[0]:,.0f}x (target 50x);")
    print(f"against the fastest variant, given the site's languages: {min(speedups):,.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
