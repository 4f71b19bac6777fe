"""The business calendar (bot/sla/calendar.py), pure: opening hours in a time zone less
holidays; nights, weekends, holidays, DST, and its properties under Hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sla.calendar import (
    MAX_CLOSED_DAYS,
    MAX_SPEC_CHARS,
    BusinessCalendar,
    CalendarError,
    WeeklyHours,
)

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600
BAVARIA = holidays.country_holidays("DE", subdiv="BY")
OFFICE = WeeklyHours.parse("mon-fri 09:00-17:00")


def berlin(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=BERLIN)


def calendar(
    week: WeeklyHours = OFFICE, extra: frozenset[date] = frozenset(), tz: ZoneInfo = BERLIN
) -> BusinessCalendar:
    return BusinessCalendar(tz, week, lambda day: day in extra or day in BAVARIA)


# --- WeeklyHours.parse ------------------------------------------------------------------------


def test_days_ranges_and_several_clauses_are_read() -> None:
    week = WeeklyHours.parse("mon-fri 09:00-12:00, 13:00-17:00; sat 10:00-14:00; sun 00:00-24:00")
    assert week.days[0] == ((540, 720), (780, 1020))
    assert week.days[4] == week.days[0]
    assert week.days[5] == ((600, 840),)
    assert week.days[6] == ((0, 1440),)
    assert str(WeeklyHours.parse("Mon,Wed 09:00-17:00")) == "mon 09:00-17:00; wed 09:00-17:00"


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("mon-fri", "'mon-fri' has no hours"),
        ("mon-fri 9:00-17:00", "'9:00' is not a time HH:MM"),
        ("mon-fri 09:00", "'09:00' is not a range of hours"),
        ("xyz 09:00-17:00", "'xyz' is not a day"),
        ("fri-mon 09:00-10:00", "'fri-mon' runs backwards"),
        ("mon 17:00-09:00", "'17:00-09:00' ends before it starts"),
        ("mon 09:60-10:00", "'09:60' is not a time of day"),
        ("mon 24:00-24:00", "'24:00' is not a time of day"),
        ("mon 09:00-25:00", "'25:00' is not a time of day"),
        ("mon 0９:00-10:00", "is not a time HH:MM"),
        ("mon-fri 09:00-12:00; fri 11:00-13:00", "fri: 11:00 starts before 12:00 ends"),
        ("", "has no open hours"),
        (" ; ", "has no open hours"),
        ("mon 09:00-10:00;" * 40, f"longer than {MAX_SPEC_CHARS} characters"),
    ],
)
def test_a_bad_week_is_refused_saying_what_is_wrong(spec: str, says: str) -> None:
    with pytest.raises(ValueError) as refused:
        WeeklyHours.parse(spec)
    assert says in str(refused.value)


def test_parsing_a_long_hostile_spec_is_quick() -> None:
    # No regular expression, nothing to backtrack: a worst case is refused in linear time.
    with pytest.raises(ValueError):
        WeeklyHours.parse("mon" + "-" * (MAX_SPEC_CHARS - 3))


# --- nights, weekends, holidays ---------------------------------------------------------------


def test_friday_afternoon_plus_an_hour_is_monday_morning() -> None:
    due = calendar().add(berlin(2026, 12, 4, 16, 30), HOUR)
    assert due == berlin(2026, 12, 7, 9, 30)
    assert due.tzinfo is UTC


def test_time_after_closing_or_at_night_starts_at_the_next_opening() -> None:
    cal = calendar()
    assert cal.add(berlin(2026, 12, 1, 20, 0), HOUR) == berlin(2026, 12, 2, 10, 0)
    assert cal.add(berlin(2026, 12, 2, 3, 0), 30 * 60) == berlin(2026, 12, 2, 9, 30)
    assert cal.between(berlin(2026, 12, 1, 17, 0), berlin(2026, 12, 2, 9, 0)) == 0


def test_an_end_at_closing_time_stays_on_that_day() -> None:
    assert calendar().add(berlin(2026, 12, 4, 16, 0), HOUR) == berlin(2026, 12, 4, 17, 0)


def test_a_week_holds_its_business_hours() -> None:
    cal = calendar()
    assert cal.between(berlin(2026, 11, 30), berlin(2026, 12, 7)) == 5 * 8 * HOUR


def test_bavarian_holidays_are_closed() -> None:
    cal = calendar()
    # Christmas Eve is open; Christmas Day and the 26th are holidays, the 26th a Saturday.
    assert cal.add(berlin(2026, 12, 24, 16, 30), HOUR) == berlin(2026, 12, 28, 9, 30)
    assert not cal.is_open(berlin(2026, 1, 6, 10, 0))  # Epiphany, in Bavaria only
    assert cal.is_open(berlin(2026, 1, 7, 10, 0))
    assert cal.between(berlin(2026, 4, 2, 17, 0), berlin(2026, 4, 7, 9, 0)) == 0  # Easter


def test_an_extra_date_is_closed() -> None:
    cal = calendar(extra=frozenset({date(2026, 12, 24)}))
    assert cal.add(berlin(2026, 12, 23, 16, 30), HOUR) == berlin(2026, 12, 28, 9, 30)


def test_is_open_is_half_open_and_respects_weekends() -> None:
    cal = calendar()
    assert cal.is_open(berlin(2026, 12, 4, 9, 0))
    assert not cal.is_open(berlin(2026, 12, 4, 17, 0))
    assert not cal.is_open(berlin(2026, 12, 5, 12, 0))
    assert cal.next_open(berlin(2026, 12, 5, 12, 0)) == berlin(2026, 12, 7, 9, 0)


def test_other_zones_in_and_utc_out() -> None:
    cal = calendar()
    tokyo = datetime(2026, 12, 4, 23, 30, tzinfo=ZoneInfo("Asia/Tokyo"))  # 15:30 in Berlin
    assert cal.add(tokyo, HOUR) == berlin(2026, 12, 4, 16, 30)
    assert cal.add(tokyo, HOUR).utcoffset() == timedelta(0)


def test_naive_datetimes_and_negative_time_are_refused() -> None:
    with pytest.raises(CalendarError, match="no time zone"):
        calendar().add(datetime(2026, 12, 4, 10, 0), HOUR)
    with pytest.raises(ValueError, match="negative"):
        calendar().add(berlin(2026, 12, 4, 10, 0), -1)


def test_a_calendar_never_open_raises_instead_of_looping() -> None:
    never = BusinessCalendar(BERLIN, OFFICE, lambda day: True)
    with pytest.raises(CalendarError, match=f"no open hour in the {MAX_CLOSED_DAYS} days"):
        never.add(berlin(2026, 12, 4, 10, 0), 1)


# --- DST --------------------------------------------------------------------------------------

AROUND_THE_CLOCK = WeeklyHours.parse("mon-sun 00:00-24:00")


def test_the_spring_change_day_has_23_business_hours() -> None:
    cal = calendar(AROUND_THE_CLOCK)
    assert cal.between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 23 * HOUR
    assert cal.add(berlin(2026, 3, 29, 1, 30), HOUR) == berlin(2026, 3, 29, 3, 30)


def test_the_autumn_change_day_has_25_business_hours() -> None:
    cal = calendar(AROUND_THE_CLOCK)
    assert cal.between(berlin(2026, 10, 25), berlin(2026, 10, 26)) == 25 * HOUR
    end = cal.add(berlin(2026, 10, 25, 1, 30), 2 * HOUR)
    assert end == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 the second time, CET


def test_office_hours_keep_their_wall_clock_across_both_changes() -> None:
    cal = calendar(WeeklyHours.parse("mon-sun 09:00-17:00"))
    for day in (date(2026, 3, 28), date(2026, 3, 29), date(2026, 10, 24), date(2026, 10, 25)):
        opens = berlin(day.year, day.month, day.day, 9, 0)
        assert cal.add(opens, 8 * HOUR) == berlin(day.year, day.month, day.day, 17, 0)
    # Saturday 16:30 CET + 1h is Sunday 09:30 CEST, after the spring change.
    assert cal.add(berlin(2026, 3, 28, 16, 30), HOUR) == berlin(2026, 3, 29, 9, 30)
    assert cal.add(berlin(2026, 3, 28, 16, 30), HOUR) == datetime(2026, 3, 29, 7, 30, tzinfo=UTC)


def test_hours_in_the_skipped_spring_hour_never_count_negative() -> None:
    cal = calendar(WeeklyHours.parse("sun 02:00-03:00, 03:00-04:00"))
    assert cal.between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == HOUR


# --- properties -------------------------------------------------------------------------------

PROPERTY_CALENDAR = calendar(
    WeeklyHours.parse("mon-fri 09:00-12:30, 13:15-17:00; sat 10:00-14:00"),
    extra=frozenset({date(2026, 12, 24), date(2027, 3, 29)}),
)
INSTANTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
BUSINESS_SECONDS = st.integers(min_value=0, max_value=300 * HOUR)


@settings(max_examples=150, deadline=None)
@given(start=INSTANTS, seconds=BUSINESS_SECONDS)
def test_between_measures_what_add_added(start: datetime, seconds: int) -> None:
    end = PROPERTY_CALENDAR.add(start, seconds)
    assert end >= start
    assert PROPERTY_CALENDAR.between(start, end) == seconds


@settings(max_examples=150, deadline=None)
@given(start=INSTANTS, later=INSTANTS, seconds=BUSINESS_SECONDS, more=BUSINESS_SECONDS)
def test_add_is_monotone(start: datetime, later: datetime, seconds: int, more: int) -> None:
    first, second = sorted((start, later))
    assert PROPERTY_CALENDAR.add(first, seconds) <= PROPERTY_CALENDAR.add(second, seconds)
    assert PROPERTY_CALENDAR.add(first, seconds) <= PROPERTY_CALENDAR.add(first, seconds + more)


@settings(max_examples=100, deadline=None)
@given(start=INSTANTS, seconds=st.integers(min_value=1, max_value=100 * HOUR))
def test_a_positive_addition_ends_in_or_at_the_end_of_open_time(
    start: datetime, seconds: int
) -> None:
    end = PROPERTY_CALENDAR.add(start, seconds)
    just_before = end - timedelta(microseconds=1)
    assert PROPERTY_CALENDAR.is_open(just_before)
