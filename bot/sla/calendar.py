"""Business time: weekly opening hours in a time zone, less holidays (issue 15, SLAs).

`BusinessCalendar` walks local days. For each day it builds that day's open intervals in wall-clock
time and converts them through zoneinfo, so a day with a DST change is 23 or 25 hours long and an
interval is as long as a clock on the wall shows. Datetimes go in aware (any zone) and come out in
UTC. Pure: no database, no clock of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
# The longest `WeeklyHours.parse` reads: a week written out day by day fits many times over.
MAX_SPEC_CHARS = 500
# A walk gives up after this many days in a row without an open hour (about three years), so a
# calendar that is never open (every day a holiday) raises instead of looping forever.
MAX_CLOSED_DAYS = 3 * 366

Interval = tuple[int, int]  # minutes after local midnight, start < end <= 24:00
Span = tuple[datetime, datetime]  # in UTC, start < end


class CalendarError(ValueError):
    """A calendar that cannot answer: never open, or given a naive datetime."""


def _parse_time(text: str, *, end: bool) -> int:
    """`HH:MM` as minutes after midnight; `24:00` only as an end."""
    hours, sep, minutes = text.strip().partition(":")
    digits = hours + minutes
    if not (
        sep and len(hours) == 2 and len(minutes) == 2 and digits.isascii() and digits.isdigit()
    ):
        raise ValueError(f"{text.strip()!r} is not a time HH:MM")
    value = int(hours) * 60 + int(minutes)
    if int(minutes) > 59 or value > MINUTES_PER_DAY or (value == MINUTES_PER_DAY and not end):
        raise ValueError(
            f"{text.strip()!r} is not a time of day (00:00 to 23:59, or 24:00 as an end)"
        )
    return value


def _parse_interval(text: str) -> Interval:
    start_text, sep, end_text = text.partition("-")
    if not sep:
        raise ValueError(f"{text!r} is not a range of hours like 09:00-17:00")
    start, end = _parse_time(start_text, end=False), _parse_time(end_text, end=True)
    if start >= end:
        raise ValueError(f"{text!r} ends before it starts (overnight hours: split them by day)")
    return start, end


def _day_index(name: str) -> int:
    if name not in DAYS:
        raise ValueError(f"{name!r} is not a day ({', '.join(DAYS)})")
    return DAYS.index(name)


def _parse_days(text: str) -> list[int]:
    """`mon-fri`, `sat`, or a comma list of either."""
    days: list[int] = []
    for part in text.split(","):
        first, sep, last = part.partition("-")
        start = _day_index(first.strip())
        stop = _day_index(last.strip()) if sep else start
        if stop < start:
            raise ValueError(f"{part!r} runs backwards (weeks start on mon: write fri-sun; mon)")
        days.extend(range(start, stop + 1))
    return days


def _fmt(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class WeeklyHours:
    """Open intervals per weekday (0 is Monday), each sorted and not overlapping."""

    days: tuple[tuple[Interval, ...], ...]

    @classmethod
    def parse(cls, spec: str) -> WeeklyHours:
        """`mon-fri 09:00-17:00; sat 10:00-14:00`: clauses split by `;`, each days then
        ranges of hours (`mon-fri 09:00-12:00,13:00-17:00`). Raises ValueError naming the part
        that is wrong. Read by splitting, no regular expression; at most MAX_SPEC_CHARS."""
        if len(spec) > MAX_SPEC_CHARS:
            raise ValueError(f"is longer than {MAX_SPEC_CHARS} characters")
        week: list[list[Interval]] = [[] for _ in DAYS]
        for clause in (c.strip().lower() for c in spec.split(";")):
            if not clause:
                continue
            days_text, _, hours_text = clause.partition(" ")
            if not hours_text.strip():
                raise ValueError(f"{clause!r} has no hours (write like 'mon-fri 09:00-17:00')")
            intervals = [_parse_interval(part.strip()) for part in hours_text.split(",")]
            for day in _parse_days(days_text.strip()):
                week[day].extend(intervals)
        hours = cls(tuple(tuple(sorted(intervals)) for intervals in week))
        hours._check_overlaps()
        if not any(hours.days):
            raise ValueError("has no open hours (write like 'mon-fri 09:00-17:00')")
        return hours

    def _check_overlaps(self) -> None:
        for name, intervals in zip(DAYS, self.days, strict=True):
            for (_, end), (start, _) in pairwise(intervals):
                if start < end:
                    raise ValueError(f"{name}: {_fmt(start)} starts before {_fmt(end)} ends")

    def __str__(self) -> str:
        return "; ".join(
            f"{name} " + ",".join(f"{_fmt(a)}-{_fmt(b)}" for a, b in intervals)
            for name, intervals in zip(DAYS, self.days, strict=True)
            if intervals
        )


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise CalendarError(f"{at.isoformat()} has no time zone; business time needs one")
    return at.astimezone(UTC)


@dataclass(frozen=True)
class BusinessCalendar:
    """Business time in `tz`: the open hours of `week`, except on days `is_holiday` names."""

    tz: ZoneInfo
    week: WeeklyHours
    is_holiday: Callable[[date], bool]

    def spans(self, day: date) -> list[Span]:
        """The open intervals of a local day, in UTC. A wall-clock time that DST skips is read
        with the offset before the change (zoneinfo's fold=0), so a span is never negative."""
        if self.is_holiday(day):
            return []
        spans = []
        for start, end in self.week.days[day.weekday()]:
            a, b = self._utc(day, start), self._utc(day, end)
            if a < b:
                spans.append((a, b))
        return spans

    def _utc(self, day: date, minutes: int) -> datetime:
        if minutes == MINUTES_PER_DAY:
            day, minutes = day + timedelta(days=1), 0
        local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=self.tz)
        return local.astimezone(UTC)

    def _walk(self, start: datetime) -> Iterator[Span]:
        """Open spans from the local day of `start` on, for as long as the caller reads;
        raises CalendarError after MAX_CLOSED_DAYS closed days in a row."""
        day = start.astimezone(self.tz).date()
        closed = 0
        while True:
            spans = self.spans(day)
            closed = 0 if spans else closed + 1
            if closed > MAX_CLOSED_DAYS:
                raise CalendarError(
                    f"no open hour in the {MAX_CLOSED_DAYS} days after {start.isoformat()}: "
                    "check the business hours and holidays"
                )
            yield from spans
            day += timedelta(days=1)

    def add(self, start: datetime, seconds: int) -> datetime:
        """The first instant by which `seconds` of business time have passed since `start`
        (`start` itself for 0), in UTC. An end exactly at closing time stays there."""
        if seconds < 0:
            raise ValueError(f"cannot add negative business time ({seconds} s)")
        start = _aware(start)
        remaining = timedelta(seconds=seconds)
        if not remaining:
            return start
        for a, b in self._walk(start):
            if b <= start:
                continue
            begin = max(a, start)
            if remaining <= b - begin:
                return begin + remaining
            remaining -= b - begin
        raise AssertionError("unreachable: _walk never ends")  # pragma: no cover

    def between(self, a: datetime, b: datetime) -> int:
        """Whole business seconds from `a` to `b` (0 if `b` is not after `a`)."""
        a, b = _aware(a), _aware(b)
        total = timedelta()
        if b <= a:
            return 0
        day, last = a.astimezone(self.tz).date(), b.astimezone(self.tz).date()
        while day <= last:
            for start, end in self.spans(day):
                overlap = min(end, b) - max(start, a)
                if overlap > timedelta():
                    total += overlap
            day += timedelta(days=1)
        return total // timedelta(seconds=1)

    def is_open(self, at: datetime) -> bool:
        at = _aware(at)
        return any(a <= at < b for a, b in self.spans(at.astimezone(self.tz).date()))

    def next_open(self, at: datetime) -> datetime:
        """`at` if open, else the next opening, in UTC."""
        at = _aware(at)
        return next(max(a, at) for a, b in self._walk(at) if b > at)
