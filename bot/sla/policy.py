"""The SLA settings read into an `SlaPolicy`: the business calendar, targets per account tier
and how long before a due time leads are reminded.

Durations are business time in minutes and hours: `90m`, `4h`, `1h30m`. There are no days, since
a business day's length depends on the calendar. Each parser raises ValueError saying what is
wrong. Settings validators turn that into an error naming the variable; `sla_policy`, which
checks the settings against each other, names the variables itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.sla.calendar import BusinessCalendar, WeeklyHours

# Longer targets than this are a typo (a thousand business hours is about six months).
MAX_DURATION_SECONDS = 1000 * 3600
MAX_HOLIDAY_ENTRIES = 400


def default_sla() -> dict[str, dict[str, str]]:
    """SUPPORTBOT_SLA when unset."""
    return {"standard": {"first_response": "4h", "next_response": "8h"}}


class ClockKind(StrEnum):
    """Which response a clock waits for; also the keys of a tier in SUPPORTBOT_SLA."""

    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"


def parse_duration(text: str) -> int:
    """`90m`, `4h` or `1h30m` as seconds; 0 for `0` or `0m`."""
    rest = text.strip().lower()
    if not rest:
        raise ValueError("is empty: write a duration like 90m, 4h or 1h30m")
    if rest == "0":
        return 0
    seconds, units = 0, [("h", 3600), ("m", 60)]
    while rest:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        unit = rest[digits : digits + 1]
        scale = next((scale for name, scale in units if name == unit), None)
        if not digits or digits > 7 or scale is None:
            raise ValueError(f"{text!r} is not a duration like 90m, 4h or 1h30m")
        seconds += int(rest[:digits]) * scale
        units = units[[name for name, _ in units].index(unit) + 1 :]  # h before m, once each
        rest = rest[digits + 1 :]
    if seconds > MAX_DURATION_SECONDS:
        raise ValueError(f"{text!r} is longer than {MAX_DURATION_SECONDS // 3600}h")
    return seconds


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{name!r} is not an IANA time zone like Europe/Berlin or UTC") from exc


@dataclass(frozen=True)
class Holidays:
    """A country's public holidays (the `holidays` package), plus dates of one's own."""

    country: Mapping[date, str] | None
    dates: frozenset[date]

    def __call__(self, day: date) -> bool:
        return day in self.dates or (self.country is not None and day in self.country)


def _country(code: str) -> Mapping[date, str]:
    import holidays  # about 40 ms to import: only when a country is set

    country, _, subdiv = code.partition("-")
    try:
        found: Mapping[date, str] = holidays.country_holidays(
            country.upper(), subdiv=subdiv.upper() or None
        )
    except NotImplementedError as exc:
        raise ValueError(f"{code!r}: {exc} (write CC or CC-SUBDIV, like DE-BY or US-CA)") from exc
    return found


def parse_holidays(spec: str) -> Holidays:
    """`DE-BY, 2026-12-24, 2026-12-31`: at most one country (`CC[-SUBDIV]`) and any dates."""
    parts = [part.strip() for part in spec.split(",") if part.strip()]
    if len(parts) > MAX_HOLIDAY_ENTRIES:
        raise ValueError(f"has more than {MAX_HOLIDAY_ENTRIES} entries")
    countries = [part for part in parts if not part[0].isdigit()]
    if len(countries) > 1:
        raise ValueError(f"names {len(countries)} countries ({', '.join(countries)}); one at most")
    dates = set()
    for part in parts:
        if part in countries:
            continue
        try:
            if len(part) != 10:
                raise ValueError
            dates.add(date.fromisoformat(part))
        except ValueError:
            raise ValueError(f"{part!r} is not a date YYYY-MM-DD") from None
    return Holidays(_country(countries[0]) if countries else None, frozenset(dates))


@dataclass(frozen=True)
class Targets:
    """A tier's targets, in business seconds."""

    first_response: int
    next_response: int

    def of(self, kind: ClockKind) -> int:
        return self.first_response if kind is ClockKind.FIRST_RESPONSE else self.next_response


def parse_targets(tiers: Mapping[str, Mapping[str, str]]) -> dict[str, Targets]:
    """SUPPORTBOT_SLA's object: tier to `{"first_response": "4h", "next_response": "8h"}`."""
    if not tiers:
        raise ValueError('has no tier (write like {"standard": {"first_response": "4h", ...}})')
    parsed = {}
    for tier, targets in tiers.items():
        keys = set(targets)
        if keys != set(ClockKind):
            wanted = " and ".join(sorted(ClockKind))
            raise ValueError(
                f"tier {tier!r} has keys {', '.join(sorted(keys)) or '(none)'}; it needs {wanted}"
            )
        try:
            seconds = {kind: parse_duration(targets[kind]) for kind in ClockKind}
        except ValueError as exc:
            raise ValueError(f"tier {tier!r}: {exc}") from None
        if not all(seconds.values()):
            raise ValueError(f"tier {tier!r}: a target must be longer than 0")
        parsed[tier] = Targets(seconds[ClockKind.FIRST_RESPONSE], seconds[ClockKind.NEXT_RESPONSE])
    return parsed


# What each SLA setting's own validator runs (by field name of `bot.config.Settings`).
SYNTAX: dict[str, Callable[[Any], object]] = {
    "timezone": parse_timezone,
    "business_hours": WeeklyHours.parse,
    "holidays": parse_holidays,
    "sla_remind_before": parse_duration,
    "sla": parse_targets,
}


class SlaSettings(Protocol):
    """The settings `sla_policy` reads (`bot.config.Settings` has them)."""

    timezone: str
    business_hours: str
    holidays: str
    sla: dict[str, dict[str, str]]
    sla_remind_before: str
    default_tier: str


@dataclass(frozen=True)
class SlaPolicy:
    calendar: BusinessCalendar
    targets_by_tier: Mapping[str, Targets]
    remind_before: int  # business seconds; 0: no reminders
    default_tier: str

    def targets(self, tier: str | None) -> Targets:
        """A tier's targets; the default tier's for none, or for a tier no longer configured."""
        known = self.targets_by_tier.get(tier or self.default_tier)
        return known or self.targets_by_tier[self.default_tier]

    def target(self, tier: str | None, kind: ClockKind) -> int:
        return self.targets(tier).of(kind)


def sla_policy(settings: SlaSettings) -> SlaPolicy:
    """The policy the settings describe; ValueError names the variable to fix."""
    targets = parse_targets(settings.sla)
    if settings.default_tier not in targets:
        raise ValueError(
            f"SUPPORTBOT_DEFAULT_TIER: {settings.default_tier!r} is not a tier of SUPPORTBOT_SLA "
            f"({', '.join(sorted(targets))})"
        )
    remind_before = parse_duration(settings.sla_remind_before)
    shortest = min(min(t.first_response, t.next_response) for t in targets.values())
    if remind_before >= shortest:
        raise ValueError(
            f"SUPPORTBOT_SLA_REMIND_BEFORE: {settings.sla_remind_before!r} must be shorter than "
            f"every target of SUPPORTBOT_SLA (the shortest is {shortest // 60}m); 0 turns "
            "reminders off"
        )
    calendar = BusinessCalendar(
        tz=parse_timezone(settings.timezone),
        week=WeeklyHours.parse(settings.business_hours),
        is_holiday=parse_holidays(settings.holidays),
    )
    return SlaPolicy(calendar, targets, remind_before, settings.default_tier)
