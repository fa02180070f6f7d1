from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newscrawl.stories.timestamps import (
    Anchor,
    Timestamp,
    anchor_from_headers,
    disagreement,
    given_anchor,
    parse_timestamp,
)
from newscrawl_mirror.content import format_interval

UTC = timezone.utc
RIYADH = "Asia/Riyadh"
LONDON = "Europe/London"
FETCHED = datetime(2025, 2, 6, 12, 0, tzinfo=UTC)  # 15:00 in Riyadh
GIVEN = given_anchor(FETCHED)
SEC, MIN, HOUR, DAY = (timedelta(seconds=1), timedelta(minutes=1), timedelta(hours=1), timedelta(1))
ERRORS = {"empty", "unreadable", "too-coarse", "ambiguous", "future"}
PRECISIONS = {"second", "minute", "hour", "day", "week", "month", "year"}
MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text)


def read(
    text: str,
    anchor: Anchor = GIVEN,
    zone: str = RIYADH,
    languages: tuple[str, ...] = ("en",),
    source: str = "text",
) -> Timestamp:
    return parse_timestamp(text, anchor=anchor, timezone=zone, languages=languages, source=source)


def interval(found: Timestamp) -> tuple[datetime | None, datetime | None, datetime | None]:
    return found.earliest, found.value, found.latest


def assert_well_formed(found: Timestamp) -> None:
    if found.value is None:
        assert found.error in ERRORS
        assert (found.earliest, found.latest, found.precision) == (None, None, None)
        return
    assert found.error is None
    assert found.earliest is not None
    assert found.latest is not None
    assert found.precision in PRECISIONS
    for moment in (found.value, found.earliest, found.latest):
        assert moment.utcoffset() == timedelta(0)
    assert found.earliest <= found.value <= found.latest


# --- relative "time ago" text -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "elapsed", "unit", "precision"),
    [
        ("31 sec ago", 31 * SEC, SEC, "second"),
        ("Updated 31 sec ago", 31 * SEC, SEC, "second"),
        ("Updated 35 min 7 sec ago", 35 * MIN + 7 * SEC, SEC, "second"),
        ("Updated 2 hours 5 min ago", 2 * HOUR + 5 * MIN, MIN, "minute"),
        ("1 day 3 hours ago", DAY + 3 * HOUR, HOUR, "hour"),
        ("1 hour 5 sec ago", HOUR + 5 * SEC, SEC, "second"),
        ("2 days 3 hours ago", 2 * DAY + 3 * HOUR, HOUR, "hour"),
        ("1 week 2 days ago", 9 * DAY, DAY, "day"),
        ("3 weeks ago", 21 * DAY, 7 * DAY, "week"),
        ("5 minutes ago", 5 * MIN, MIN, "minute"),
        ("5 mins ago", 5 * MIN, MIN, "minute"),
        ("1 minute ago", MIN, MIN, "minute"),
        ("10 seconds ago", 10 * SEC, SEC, "second"),
        ("3 hrs ago", 3 * HOUR, HOUR, "hour"),
        ("an hour ago", HOUR, HOUR, "hour"),
        ("a day ago", DAY, DAY, "day"),
        ("2 hours, 5 minutes ago", 2 * HOUR + 5 * MIN, MIN, "minute"),
        ("2 hours and 5 minutes ago", 2 * HOUR + 5 * MIN, MIN, "minute"),
        ("Last updated: 10 sec ago", 10 * SEC, SEC, "second"),
        ("UPDATED 3 hours ago", 3 * HOUR, HOUR, "hour"),
        ("Published 4 hours ago", 4 * HOUR, HOUR, "hour"),
        ("posted 20 min ago", 20 * MIN, MIN, "minute"),
        ("Updated\u00a012 min ago", 12 * MIN, MIN, "minute"),
    ],
)
def test_time_ago_counts_back_from_the_anchor(
    text: str, elapsed: timedelta, unit: timedelta, precision: str
) -> None:
    found = read(text)
    assert interval(found) == (FETCHED - elapsed - unit, FETCHED - elapsed, FETCHED - elapsed)
    assert found.precision == precision
    assert found.anchor == GIVEN
    assert found.error is None


def test_seed_time_line_is_exact_to_the_second_with_a_given_anchor() -> None:
    found = read("Updated 35 min 7 sec ago")
    truth = utc("2025-02-06T11:24:53+00:00")
    assert found.value == truth
    assert found.earliest is not None
    assert found.latest is not None
    assert found.earliest <= truth <= found.latest
    assert found.latest - found.earliest <= 2 * SEC


def test_anchor_slack_widens_relative_times() -> None:
    anchor = Anchor(FETCHED, "date-age", 1.0, 1.0)
    found = read("35 min 7 sec ago", anchor=anchor)
    elapsed = 35 * MIN + 7 * SEC
    assert interval(found) == (
        FETCHED - SEC - elapsed - SEC,
        FETCHED - elapsed,
        FETCHED + SEC - elapsed,
    )


@pytest.mark.parametrize(
    ("text", "nominal", "shortest", "longest", "precision"),
    [
        # Drupal counts 30-day months and 365-day years; calendar months and leap years are
        # longer or shorter, and the interval allows both readings.
        ("2 months ago", 60 * DAY, 56 * DAY, 93 * DAY, "month"),
        ("1 year ago", 365 * DAY, 365 * DAY, 732 * DAY, "year"),
        ("1 year 2 months ago", 425 * DAY, 421 * DAY, 459 * DAY, "month"),
    ],
)
def test_months_and_years_widen_for_calendar_lengths(
    text: str, nominal: timedelta, shortest: timedelta, longest: timedelta, precision: str
) -> None:
    found = read(text)
    assert interval(found) == (FETCHED - longest, FETCHED - nominal, FETCHED - shortest)
    assert found.precision == precision


@pytest.mark.parametrize("text", ["5 min 2 hours ago", "3 min 4 min ago", "hours ago", "ago"])
def test_time_ago_in_an_order_no_formatter_prints_is_rejected(text: str) -> None:
    assert read(text).error == "unreadable"


def test_today_yesterday_and_just_now_are_local_calendar_days() -> None:
    riyadh_feb_6 = utc("2025-02-05T21:00:00+00:00")  # local midnight starting 6 February
    assert interval(read("today")) == (riyadh_feb_6, riyadh_feb_6, FETCHED)
    assert interval(read("Updated yesterday")) == (
        riyadh_feb_6 - DAY,
        riyadh_feb_6 - DAY,
        riyadh_feb_6,
    )
    assert interval(read("just now")) == (FETCHED - MIN, FETCHED, FETCHED)
    assert read("yesterday").precision == "day"
    assert interval(read("yesterday at 14:05")) == (
        utc("2025-02-05T11:05:00+00:00"),
        utc("2025-02-05T11:05:00+00:00"),
        utc("2025-02-05T11:06:00+00:00"),
    )


def test_today_covers_both_days_when_the_anchor_straddles_local_midnight() -> None:
    received = utc("2025-02-06T21:00:30+00:00")  # 00:00:30 on 7 February in Riyadh
    anchor = anchor_from_headers(None, None, received)
    found = read("today", anchor=anchor)
    assert interval(found) == (
        utc("2025-02-05T21:00:00+00:00"),  # the render may still have been on 6 February
        utc("2025-02-06T21:00:00+00:00"),
        received,
    )


# --- absolute dates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "zone", "earliest", "latest"),
    [
        ("06 February 2025", RIYADH, "2025-02-05T21:00:00+00:00", "2025-02-06T21:00:00+00:00"),
        (
            "Updated 06 February 2025",
            RIYADH,
            "2025-02-05T21:00:00+00:00",
            "2025-02-06T21:00:00+00:00",
        ),
        ("Updated 23 July 2024", RIYADH, "2024-07-22T21:00:00+00:00", "2024-07-23T21:00:00+00:00"),
        ("Updated 21 April 2014", RIYADH, "2014-04-20T21:00:00+00:00", "2014-04-21T21:00:00+00:00"),
        (
            "Updated on: 21 April 2014",
            RIYADH,
            "2014-04-20T21:00:00+00:00",
            "2014-04-21T21:00:00+00:00",
        ),
        ("February 6, 2025", RIYADH, "2025-02-05T21:00:00+00:00", "2025-02-06T21:00:00+00:00"),
        (
            "Thursday, February 6, 2025",
            RIYADH,
            "2025-02-05T21:00:00+00:00",
            "2025-02-06T21:00:00+00:00",
        ),
        ("6th Feb. 2025", RIYADH, "2025-02-05T21:00:00+00:00", "2025-02-06T21:00:00+00:00"),
        ("2025-02-06", RIYADH, "2025-02-05T21:00:00+00:00", "2025-02-06T21:00:00+00:00"),
        ("2025/02/06", RIYADH, "2025-02-05T21:00:00+00:00", "2025-02-06T21:00:00+00:00"),
        ("23/07/2024", RIYADH, "2024-07-22T21:00:00+00:00", "2024-07-23T21:00:00+00:00"),
        ("06.02.2025", RIYADH, "2025-02-05T21:00:00+00:00", "2025-02-06T21:00:00+00:00"),
        ("06 February 2025", "UTC", "2025-02-06T00:00:00+00:00", "2025-02-07T00:00:00+00:00"),
        # London's spring-forward day is 23 hours long, its autumn day 25.
        ("27 March 2022", LONDON, "2022-03-27T00:00:00+00:00", "2022-03-27T23:00:00+00:00"),
        ("30 October 2022", LONDON, "2022-10-29T23:00:00+00:00", "2022-10-31T00:00:00+00:00"),
    ],
)
def test_a_date_alone_is_the_whole_local_day(
    text: str, zone: str, earliest: str, latest: str
) -> None:
    found = read(text, zone=zone)
    assert interval(found) == (utc(earliest), utc(earliest), utc(latest))
    assert found.precision == "day"
    assert found.anchor is None


@pytest.mark.parametrize(
    ("text", "value", "resolution", "precision"),
    [
        ("6 Feb 2025 14:05", "2025-02-06T11:05:00+00:00", MIN, "minute"),
        ("6 February 2025, 14:05:30", "2025-02-06T11:05:30+00:00", SEC, "second"),
        ("February 6, 2025 at 2:05 pm", "2025-02-06T11:05:00+00:00", MIN, "minute"),
        ("6 Feb 2025 2 PM", "2025-02-06T11:00:00+00:00", HOUR, "hour"),
        ("Thu, 06 Feb 2025 09:00:00 GMT", "2025-02-06T09:00:00+00:00", SEC, "second"),
        ("6 Feb 2025 14:05 +0100", "2025-02-06T13:05:00+00:00", MIN, "minute"),
        ("06/02/2025 14:05 UTC", None, None, None),  # the day-month order is still unknown
    ],
)
def test_a_date_with_a_time_covers_the_printed_resolution(
    text: str, value: str | None, resolution: timedelta | None, precision: str | None
) -> None:
    found = read(text)
    if value is None:
        assert found.error == "ambiguous"
        return
    assert resolution is not None
    assert interval(found) == (utc(value), utc(value), utc(value) + resolution)
    assert found.precision == precision


def test_local_times_in_a_dst_gap_or_fold_cover_every_reading() -> None:
    # 01:30 never happened in London on 27 March 2022: read with either offset.
    gap = read("27 March 2022 01:30", zone=LONDON)
    assert interval(gap) == (
        utc("2022-03-27T00:30:00+00:00"),
        utc("2022-03-27T01:30:00+00:00"),
        utc("2022-03-27T01:31:00+00:00"),
    )
    # 01:30 happened twice on 30 October 2022: the first is the value, both are covered.
    fold = read("30 October 2022 01:30", zone=LONDON)
    assert interval(fold) == (
        utc("2022-10-30T00:30:00+00:00"),
        utc("2022-10-30T00:30:00+00:00"),
        utc("2022-10-30T01:31:00+00:00"),
    )
    assert interval(read("2022-10-30T01:30", zone=LONDON)) == interval(fold)


def test_a_date_without_a_year_is_the_most_recent_one() -> None:
    found = read("5 March")
    assert interval(found) == (
        utc("2024-03-04T21:00:00+00:00"),
        utc("2024-03-04T21:00:00+00:00"),
        utc("2024-03-05T21:00:00+00:00"),
    )
    assert found.anchor == GIVEN
    assert read("6 February").value == utc("2025-02-05T21:00:00+00:00")


def test_a_time_without_a_date_is_its_most_recent_occurrence() -> None:
    assert read("14:05").value == utc("2025-02-06T11:05:00+00:00")  # before 15:00 local
    assert read("16:05").value == utc("2025-02-05T13:05:00+00:00")  # not yet today: yesterday
    assert read("5 pm").precision == "hour"
    assert read("14:05").anchor == GIVEN


def test_dates_far_in_the_future_are_rejected() -> None:
    assert read("09 February 2025").error == "future"
    assert read("07 February 2025").error is None  # already 7 February in some zones
    assert read("2030-01-01T00:00:00Z").error == "future"


def test_a_french_date_with_a_weekday() -> None:
    found = read("Publié le Mercredi 14 juillet 2021", languages=("fr",))
    assert interval(found) == (
        utc("2021-07-13T21:00:00+00:00"),
        utc("2021-07-13T21:00:00+00:00"),
        utc("2021-07-14T21:00:00+00:00"),
    )
    assert read("Mis à jour le 14 juillet 2021 à 14h05", languages=("fr",)).value == utc(
        "2021-07-14T11:05:00+00:00"
    )


def test_an_arabic_date() -> None:
    found = read("الخميس، ٦ فبراير ٢٠٢٥", languages=("ar",))
    assert (found.earliest, found.latest) == (
        utc("2025-02-05T21:00:00+00:00"),
        utc("2025-02-06T21:00:00+00:00"),
    )


@pytest.mark.parametrize(
    "text",
    [
        "Nov 19, 2019, 10:31 pm CST",  # a zone's name after the time
        "Sept. 8, 2020 at 9:22 a.m. ET",
        "Oct 6, 2020 / 03:38 PM MDT",  # a dash, slash or bar between date and time
        "November 20th, 2019 - 07:50 GMT",
        "Nov 20 2019, 15:24pm IST",  # a 24-hour clock with a needless pm
        "1:39 am EST, Wednesday, November 20, 2019",  # the time before the date
        "7:07 PM EST Nov 19, 2019",
        "Fri 6:45 PM, Feb 16, 2018",
        "21:17 18.11.2019",
        "10:44:00 2020-09-15",
    ],
)
def test_printed_dates_read_without_dateparser_as_dateparser_reads_them(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dateparser

    from newscrawl.stories import timestamps

    expected = dateparser.parse(
        text, languages=["en"], settings={"TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": True}
    )

    def unused(*args: object) -> None:
        raise AssertionError("read by dateparser")

    monkeypatch.setattr(timestamps, "_ask_dateparser", unused)
    found = read(text, zone="UTC", anchor=given_anchor(datetime(2021, 1, 1, tzinfo=UTC)))
    assert found.value == expected


def test_a_word_after_a_time_that_names_no_zone_is_left_to_dateparser() -> None:
    assert read("Nov 19, 2019 10:12 AM Foo").value is None
    assert read("Nov 19, 2019 10:12 AM EST").value == utc("2019-11-19T15:12:00+00:00")


@pytest.mark.parametrize(
    "text", ["LinkNaija October 06, 2018", "Chris Davies - Nov 19, 2019, 10:31 pm CST"]
)
def test_text_with_a_word_no_date_has_is_not_sent_to_dateparser(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dateparser

    from newscrawl.stories import timestamps

    assert dateparser.parse(text, languages=["en"]) is None  # dateparser cannot read it either

    def unused(*args: object) -> None:
        raise AssertionError("sent to dateparser")

    monkeypatch.setattr(timestamps, "_ask_dateparser", unused)
    assert read(text).error == "unreadable"


# --- ISO 8601 from markup -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "latest", "precision"),
    [
        (
            "2023-10-21T09:10:50+00:00",
            "2023-10-21T09:10:50+00:00",
            "2023-10-21T09:10:51+00:00",
            "second",
        ),
        (
            "2023-10-21T09:10:50Z",
            "2023-10-21T09:10:50+00:00",
            "2023-10-21T09:10:51+00:00",
            "second",
        ),
        (
            "2023-10-21T12:10:50+03:00",
            "2023-10-21T09:10:50+00:00",
            "2023-10-21T09:10:51+00:00",
            "second",
        ),
        (
            "2023-10-21T12:10:50+0300",
            "2023-10-21T09:10:50+00:00",
            "2023-10-21T09:10:51+00:00",
            "second",
        ),
        (
            "2023-10-21T09:10:50.25Z",
            "2023-10-21T09:10:50.250000+00:00",
            "2023-10-21T09:10:50.260000+00:00",
            "second",
        ),
        (
            "2023-10-21T09:10:50.123456789Z",
            "2023-10-21T09:10:50.123456+00:00",
            "2023-10-21T09:10:50.123457+00:00",
            "second",
        ),
        ("2023-10-21T09:10Z", "2023-10-21T09:10:00+00:00", "2023-10-21T09:11:00+00:00", "minute"),
        ("2023-10-21 09:10:50", "2023-10-21T06:10:50+00:00", "2023-10-21T06:10:51+00:00", "second"),
        ("2023-10-21", "2023-10-20T21:00:00+00:00", "2023-10-21T21:00:00+00:00", "day"),
    ],
)
def test_iso_8601(text: str, value: str, latest: str, precision: str) -> None:
    found = read(text, source="meta")
    assert interval(found) == (utc(value), utc(value), utc(latest))
    assert found.precision == precision
    assert found.source == "meta"
    assert found.anchor is None


@pytest.mark.parametrize("text", ["2023-13-21", "2023-02-30T10:00:00Z", "2023-10-21T25:00:00Z"])
def test_impossible_iso_dates_are_unreadable(text: str) -> None:
    assert read(text).error == "unreadable"


# --- Arabic and French relative forms -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "languages", "elapsed", "unit"),
    [
        ("منذ 5 دقائق", ("ar",), 5 * MIN, MIN),
        ("منذ ٥ دقائق", ("ar",), 5 * MIN, MIN),
        ("قبل 3 ساعات", ("ar",), 3 * HOUR, HOUR),
        ("قبل ساعتين", ("ar",), 2 * HOUR, HOUR),
        ("منذ ساعة", ("ar",), HOUR, HOUR),
        ("منذ دقيقة", ("ar",), MIN, MIN),
        ("منذ يومين", ("ar",), 2 * DAY, DAY),
        ("منذ أسبوع", ("ar",), 7 * DAY, 7 * DAY),
        ("منذ 11 ساعة", ("ar",), 11 * HOUR, HOUR),
        ("منذ ساعة و5 دقائق", ("ar",), HOUR + 5 * MIN, MIN),
        ("منذ ثلاث ساعات", ("ar",), 3 * HOUR, HOUR),
        ("قبل 3 ساعات", ("en", "ar"), 3 * HOUR, HOUR),
        ("il y a 3 heures", ("fr",), 3 * HOUR, HOUR),
        ("il y a 2 jours", ("fr",), 2 * DAY, DAY),
        ("il y a 5 min", ("fr",), 5 * MIN, MIN),
        ("il y a une heure", ("fr",), HOUR, HOUR),
        ("il y a 2 h 30 min", ("fr",), 2 * HOUR + 30 * MIN, MIN),
        ("Mis à jour il y a 10 secondes", ("fr",), 10 * SEC, SEC),
    ],
)
def test_arabic_and_french_time_ago(
    text: str, languages: tuple[str, ...], elapsed: timedelta, unit: timedelta
) -> None:
    found = read(text, languages=languages)
    assert interval(found) == (FETCHED - elapsed - unit, FETCHED - elapsed, FETCHED - elapsed)


def test_arabic_and_french_day_words() -> None:
    riyadh_feb_6 = utc("2025-02-05T21:00:00+00:00")
    assert read("أمس", languages=("ar",)).value == riyadh_feb_6 - DAY
    assert read("الآن", languages=("ar",)).value == FETCHED
    assert read("hier", languages=("fr",)).value == riyadh_feb_6 - DAY
    assert read("aujourd’hui", languages=("fr",)).value == riyadh_feb_6


def test_the_site_languages_decide_what_is_read() -> None:
    assert read("il y a 3 heures", languages=("en",)).error == "unreadable"
    assert read("Updated 5 min ago", languages=("fr", "en")).value == FETCHED - 5 * MIN


# --- the dateparser fallback --------------------------------------------------------------------


def test_dateparser_reads_languages_without_our_tables() -> None:
    hours = read("vor 3 Stunden", languages=("de",))
    assert hours.value == FETCHED - 3 * HOUR
    assert hours.earliest == FETCHED - 4 * HOUR
    assert hours.anchor == GIVEN
    days = read("hace 2 días", languages=("es",))
    assert days.precision == "day"
    assert days.earliest is not None
    assert days.latest is not None
    assert days.earliest <= FETCHED - 2 * DAY <= days.latest
    german_date = read("6. Februar 2025", languages=("de",))
    assert (german_date.earliest, german_date.latest) == (
        utc("2025-02-05T21:00:00+00:00"),
        utc("2025-02-06T21:00:00+00:00"),
    )


def test_dateparser_relative_calendar_phrases_are_widened() -> None:
    found = read("last week")
    assert found.precision == "week"
    assert found.earliest is not None
    assert found.latest is not None
    # Any day of the previous calendar week, whichever day weeks start on.
    assert found.earliest <= FETCHED - 13 * DAY
    assert found.latest >= FETCHED - DAY
    assert read("in 3 days").error == "future"
    assert read("tomorrow").error == "future"


def test_a_script_names_the_language_written_in_it() -> None:
    from newscrawl.stories.timestamps import script_language

    assert script_language("6 نوفمبر 2025") == "ar"
    assert script_language("24 сентября 2018") == "ru"
    assert script_language("6 November 2025") is None
    assert script_language("6 novembre 2025 à 07h57") is None  # Latin script: any language


def test_unknown_language_or_zone_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="xx"):
        read("5 min ago", languages=("xx",))
    with pytest.raises(ZoneInfoNotFoundError):
        read("5 min ago", zone="Mars/Olympus_Mons")


# --- junk ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("Updated", "unreadable"),
        ("Updated 3 comments", "unreadable"),
        ("Follow", "unreadable"),
        ("Short Url", "unreadable"),
        ("By AP ·", "unreadable"),
        ("42", "unreadable"),
        ("1738843200", "unreadable"),
        ("2025", "too-coarse"),
        ("March", "too-coarse"),
        ("March 2024", "too-coarse"),
        ("Updated 06 February 2025 " + "and more text " * 5, "unreadable"),
        ("06/02/2025", "ambiguous"),
        ("31 February 2025", "unreadable"),
    ],
)
def test_text_that_is_no_timestamp(text: str, error: str) -> None:
    found = read(text)
    assert found.error == error
    assert found.value is None
    assert found.anchor is None
    assert found.raw == text.strip()


# --- records and comparisons --------------------------------------------------------------------


def test_raw_keeps_the_text_stripped_of_surrounding_whitespace() -> None:
    assert read("  Updated\u00a0 31 sec ago \n").raw == "Updated\u00a0 31 sec ago"


def test_to_record_is_json_ready_utc() -> None:
    record = read("Updated 35 min 7 sec ago").to_record()
    assert record == {
        "raw": "Updated 35 min 7 sec ago",
        "value": "2025-02-06T11:24:53+00:00",
        "earliest": "2025-02-06T11:24:52+00:00",
        "latest": "2025-02-06T11:24:53+00:00",
        "precision": "second",
        "source": "text",
        "anchor": {"at": "2025-02-06T12:00:00+00:00", "basis": "given"},
        "error": None,
    }
    assert json.loads(json.dumps(record)) == record
    assert read("06 February 2025").to_record()["anchor"] is None
    assert read("Follow").to_record() == {
        "raw": "Follow",
        "value": None,
        "earliest": None,
        "latest": None,
        "precision": None,
        "source": "text",
        "anchor": None,
        "error": "unreadable",
    }


def test_disagreement_is_the_gap_between_intervals() -> None:
    day = read("06 February 2025")
    assert disagreement(day, read("2025-02-06T09:00:00Z")) == 0.0
    assert disagreement(day, read("2025-02-06T22:00:00Z")) == 3600.0
    assert disagreement(read("2025-02-06T22:00:00Z"), day) == 3600.0
    assert disagreement(day, read("Follow")) is None


# --- anchors from response headers --------------------------------------------------------------

RECEIVED = utc("2025-02-06T12:00:01+00:00")


def test_anchor_is_the_date_header_minus_age() -> None:
    anchor = anchor_from_headers(b"Thu, 06 Feb 2025 12:00:00 GMT", b"300", RECEIVED)
    assert anchor == Anchor(utc("2025-02-06T11:55:00+00:00"), "date-age", 1.0, 1.0)
    found = read("Updated 31 sec ago", anchor=anchor)
    assert found.value == utc("2025-02-06T11:54:29+00:00")
    assert interval(found) == (
        utc("2025-02-06T11:54:27+00:00"),
        utc("2025-02-06T11:54:29+00:00"),
        utc("2025-02-06T11:54:30+00:00"),
    )
    assert found.to_record()["anchor"] == {"at": "2025-02-06T11:55:00+00:00", "basis": "date-age"}


@pytest.mark.parametrize("age", [None, "", "soon", "-5", "1.5"])
def test_without_a_readable_age_the_date_header_alone(age: str | None) -> None:
    anchor = anchor_from_headers("Thu, 06 Feb 2025 12:00:00 GMT", age, RECEIVED)
    assert anchor == Anchor(utc("2025-02-06T12:00:00+00:00"), "date", 0.0, 1.0)


@pytest.mark.parametrize(
    "date_header",
    [
        None,
        "",
        "yesterday-ish",
        b"\xff\xfe",
        "Sat, 08 Feb 2025 12:00:00 GMT",
        "Thu, 06 Feb 1975 12:00:00 GMT",
    ],
)
def test_a_bad_or_absurd_date_header_falls_back_to_the_receive_clock(
    date_header: str | bytes | None,
) -> None:
    anchor = anchor_from_headers(date_header, None, RECEIVED, max_latency=60.0)
    assert anchor == Anchor(RECEIVED, "received", 60.0, 0.0)
    found = read("31 sec ago", anchor=anchor)
    assert (found.earliest, found.latest) == (RECEIVED - 92 * SEC, RECEIVED - 31 * SEC)


@pytest.mark.parametrize("date_header", [None, "yesterday-ish", "Thu, 06 Feb 1975 12:00:00 GMT"])
def test_without_a_usable_date_header_age_counts_back_from_the_receive_clock(
    date_header: str | None,
) -> None:
    anchor = anchor_from_headers(date_header, "30", RECEIVED, max_latency=60.0)
    # The copy was rendered 30 s (Age, truncated: up to 31 s) before it left the cache.
    assert anchor == Anchor(RECEIVED - 30 * SEC, "received", 61.0, 0.0)
    found = read("31 sec ago", anchor=anchor)
    assert (found.earliest, found.latest) == (RECEIVED - 123 * SEC, RECEIVED - 61 * SEC)


def test_anchors_need_aware_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        given_anchor(datetime(2025, 2, 6, 12))
    with pytest.raises(ValueError, match="timezone-aware"):
        anchor_from_headers(None, None, datetime(2025, 2, 6, 12))
    riyadh_noon = datetime(2025, 2, 6, 15, tzinfo=ZoneInfo(RIYADH))
    assert given_anchor(riyadh_noon).at == FETCHED
    assert given_anchor(riyadh_noon).at.tzinfo is UTC


# --- properties ---------------------------------------------------------------------------------

ZONES = [RIYADH, LONDON, "America/New_York", "America/Santiago", "Australia/Lord_Howe", "UTC"]
LANGUAGE_SETS = [("en",), ("ar",), ("fr",), ("en", "ar"), ("de",)]
WORDS = [
    "Updated", "ago", "min", "sec", "hours", "day", "February", "juillet", "منذ", "ساعتين",
    "دقائق", "il y a", "yesterday", "today", "at", "pm", ":", "/", "-", "T", "Z", "+03:00",
    "2025", "06", "14:05", "٥", "31", "0", "99999999", "13", "Feb.", ",", "·", "\u00a0",
]  # fmt: skip

anchors = st.builds(
    Anchor,
    at=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
    ),
    basis=st.sampled_from(["date-age", "date", "received", "given"]),
    slack_before=st.floats(0, 600),
    slack_after=st.floats(0, 2),
)
texts = st.one_of(
    st.text(max_size=100),
    st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(
    text=texts,
    anchor=anchors,
    zone=st.sampled_from(ZONES),
    languages=st.sampled_from(LANGUAGE_SETS),
)
def test_no_text_raises_and_every_value_lies_in_its_interval(
    text: str, anchor: Anchor, zone: str, languages: tuple[str, ...]
) -> None:
    found = read(text, anchor=anchor, zone=zone, languages=languages)
    assert found.raw == text.strip()
    assert_well_formed(found)
    json.dumps(found.to_record())


@settings(max_examples=300, deadline=None)
@given(
    elapsed=st.floats(min_value=1, max_value=5 * 365 * 86400),
    render_offset=st.floats(min_value=0, max_value=1),
    anchor=anchors,
)
def test_drupal_time_ago_intervals_contain_the_truth(
    elapsed: float, render_offset: float, anchor: Anchor
) -> None:
    # The page was rendered somewhere in the anchor's window, `elapsed` after the update.
    window = anchor.slack_before + anchor.slack_after
    rendered = anchor.at - timedelta(seconds=anchor.slack_before - render_offset * window)
    truth = rendered - timedelta(seconds=elapsed)
    found = read(f"Updated {format_interval(int(elapsed))} ago", anchor=anchor)
    assert_well_formed(found)
    assert found.earliest is not None
    assert found.latest is not None
    assert found.earliest <= truth <= found.latest


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2024, 12, 31), timezones=st.just(UTC)
    ),
    zone=st.sampled_from(ZONES),
    with_time=st.booleans(),
)
def test_printed_local_dates_and_times_contain_the_truth(
    moment: datetime, zone: str, with_time: bool
) -> None:
    local = moment.astimezone(ZoneInfo(zone))
    text = f"{local.day:02d} {MONTHS[local.month - 1]} {local.year}"
    if with_time:
        text += f" {local:%H:%M}"
    found = read(text, zone=zone)
    assert_well_formed(found)
    assert found.precision == ("minute" if with_time else "day")
    assert found.earliest is not None
    assert found.latest is not None
    assert found.earliest <= moment <= found.latest
