"""SLA settings read into a policy (bot/sla/policy.py), and the ticket lifecycle
(bot/sla/lifecycle.py): durations, holidays, targets per tier, errors that name the variable."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_settings
from bot.errors import ConfigError
from bot.sla.calendar import BusinessCalendar, WeeklyHours
from bot.sla.lifecycle import (
    UNRESOLVED,
    ClockChange,
    ClockEnd,
    ClockState,
    TicketEvent,
    TicketStatus,
    clock_change,
    clock_for,
    next_status,
)
from bot.sla.policy import (
    MAX_DURATION_SECONDS,
    ClockKind,
    SlaPolicy,
    Targets,
    parse_duration,
    parse_holidays,
    parse_targets,
    sla_policy,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90m", 5400), ("4h", 14400), ("1h30m", 5400), (" 2H ", 7200), ("0", 0), ("0m", 0)],
)
def test_durations_are_minutes_and_hours(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "4", "h", "1d", "30m1h", "1h1h", "1.5h", "-1h", "1h 30m"])
def test_a_bad_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration like 90m, 4h or 1h30m"):
        parse_duration(text)


def test_a_duration_is_bounded() -> None:
    with pytest.raises(ValueError, match="is longer than"):
        parse_duration(f"{MAX_DURATION_SECONDS // 3600 + 1}h")
    with pytest.raises(ValueError):
        parse_duration("9" * 100 + "h")


def test_holidays_are_a_country_with_its_subdivision_and_dates_of_ones_own() -> None:
    bavaria = parse_holidays("DE-BY, 2026-12-24,2026-12-31")
    assert bavaria(date(2026, 1, 6)) and bavaria(date(2026, 12, 24)) and bavaria(date(2026, 12, 31))
    assert not bavaria(date(2026, 12, 23))
    assert not parse_holidays("DE-BE")(date(2026, 1, 6))  # Epiphany is not a holiday in Berlin
    assert parse_holidays("us-ca")(date(2026, 7, 4))
    assert parse_holidays("")(date(2026, 12, 25)) is False


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("XX", "'XX': Country XX not available"),
        ("DE-ZZ", "does not have subdivision ZZ"),
        ("DE, US", "names 2 countries"),
        ("2026-13-01", "'2026-13-01' is not a date YYYY-MM-DD"),
        ("2026-1-1", "'2026-1-1' is not a date YYYY-MM-DD"),
    ],
)
def test_bad_holidays_are_refused_saying_what_is_wrong(spec: str, says: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_holidays(spec)
    assert says in str(refused.value)


def test_targets_per_tier() -> None:
    tiers = parse_targets(
        {
            "standard": {"first_response": "4h", "next_response": "8h"},
            "gold": {"first_response": "30m", "next_response": "2h"},
        }
    )
    assert tiers["gold"] == Targets(first_response=1800, next_response=7200)
    assert tiers["standard"].of(ClockKind.NEXT_RESPONSE) == 8 * 3600


@pytest.mark.parametrize(
    ("tiers", "says"),
    [
        ({}, "has no tier"),
        ({"gold": {"first_response": "1h"}}, "tier 'gold' has keys first_response; it needs"),
        ({"gold": {"first_response": "1h", "next_response": "soon"}}, "tier 'gold': 'soon'"),
        ({"gold": {"first_response": "0", "next_response": "1h"}}, "longer than 0"),
    ],
)
def test_bad_targets_are_refused_naming_the_tier(
    tiers: dict[str, dict[str, str]], says: str
) -> None:
    with pytest.raises(ValueError) as refused:
        parse_targets(tiers)
    assert says in str(refused.value)


# --- the settings -----------------------------------------------------------------------------


def test_the_defaults_are_a_standard_tier_in_utc_office_hours() -> None:
    policy = sla_policy(load_settings(_env_file=None))
    assert policy.calendar.tz == ZoneInfo("UTC")
    assert str(policy.calendar.week) == "; ".join(
        f"{day} 09:00-17:00" for day in ("mon", "tue", "wed", "thu", "fri")
    )
    assert policy.targets(None) == Targets(first_response=4 * 3600, next_response=8 * 3600)
    assert policy.remind_before == 30 * 60 and policy.default_tier == "standard"


def test_the_settings_make_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in {
        "SUPPORTBOT_TIMEZONE": "Europe/Berlin",
        "SUPPORTBOT_BUSINESS_HOURS": "mon-fri 08:00-18:00",
        "SUPPORTBOT_HOLIDAYS": "DE-BY,2026-12-24",
        "SUPPORTBOT_SLA": '{"gold": {"first_response": "1h", "next_response": "90m"},'
        ' "basic": {"first_response": "1h30m", "next_response": "4h"}}',
        "SUPPORTBOT_SLA_REMIND_BEFORE": "15m",
        "SUPPORTBOT_DEFAULT_TIER": "basic",
    }.items():
        monkeypatch.setenv(variable, value)
    policy = sla_policy(load_settings(_env_file=None))
    assert policy.calendar.tz == ZoneInfo("Europe/Berlin")
    assert policy.calendar.is_holiday(date(2026, 12, 24))
    assert policy.calendar.is_holiday(date(2026, 6, 4))  # Corpus Christi, in Bavaria
    assert policy.target("gold", ClockKind.NEXT_RESPONSE) == 90 * 60
    assert policy.target(None, ClockKind.FIRST_RESPONSE) == 90 * 60  # the default tier
    assert policy.target("retired", ClockKind.FIRST_RESPONSE) == 90 * 60
    assert policy.remind_before == 15 * 60


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("SUPPORTBOT_TIMEZONE", "Mars/Olympus", "is not an IANA time zone"),
        ("SUPPORTBOT_TIMEZONE", "../etc/passwd", "is not an IANA time zone"),
        ("SUPPORTBOT_BUSINESS_HOURS", "mon-fri 9-5", "'9' is not a time HH:MM"),
        ("SUPPORTBOT_HOLIDAYS", "Bavaria", "Country BAVARIA not available"),
        ("SUPPORTBOT_SLA", "{not json", "is not valid JSON"),
        ("SUPPORTBOT_SLA", '{"gold": {"first_response": "1h"}}', "tier 'gold' has keys"),
        ("SUPPORTBOT_SLA", '{"gold": {"first_response": 4}}', "valid string"),
        ("SUPPORTBOT_SLA_REMIND_BEFORE", "soon", "'soon' is not a duration"),
        ("SUPPORTBOT_SLA_REMIND_BEFORE", "4h", "must be shorter than every target"),
        ("SUPPORTBOT_DEFAULT_TIER", "platinum", "'platinum' is not a tier of SUPPORTBOT_SLA"),
    ],
)
def test_a_bad_sla_setting_is_refused_naming_the_variable(
    setting: str, value: str, says: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(setting, value)
    with pytest.raises(ConfigError) as refused:
        load_settings(_env_file=None)
    message = str(refused.value)
    assert message.startswith(f"Invalid configuration: {setting}")
    assert says in message and "Value error" not in message


# --- the lifecycle ----------------------------------------------------------------------------

E = TicketEvent
LIFECYCLE = """
                     customer_message  response             resolved  owned
new                  waiting_on_us     waiting_on_customer  resolved  new
waiting_on_us        waiting_on_us     waiting_on_customer  resolved  waiting_on_us
waiting_on_customer  waiting_on_us     waiting_on_customer  resolved  waiting_on_customer
resolved             waiting_on_us     resolved             resolved  resolved
"""


def test_the_lifecycle_table() -> None:
    header, *rows = LIFECYCLE.strip().splitlines()
    events = [TicketEvent(name) for name in header.split()]
    expected = {}
    for row in rows:
        status, *after = row.split()
        for event, then in zip(events, after, strict=True):
            expected[TicketStatus(status), event] = TicketStatus(then)
    assert set(expected) == {(s, e) for s in TicketStatus for e in TicketEvent}
    assert {key: next_status(*key) for key in expected} == expected
    assert TicketStatus.RESOLVED not in UNRESOLVED and len(UNRESOLVED) == len(TicketStatus) - 1


def test_a_customer_message_opens_a_first_then_a_next_response_clock() -> None:
    first = clock_change(E.CUSTOMER_MESSAGE, clock_open=False, responded_before=False)
    assert first == ClockChange(opens=ClockKind.FIRST_RESPONSE)
    again = clock_change(E.CUSTOMER_MESSAGE, clock_open=False, responded_before=True)
    assert again == ClockChange(opens=ClockKind.NEXT_RESPONSE)
    # A second message while waiting on us keeps the clock of the first.
    assert clock_change(E.CUSTOMER_MESSAGE, clock_open=True, responded_before=True) == ClockChange()


def test_a_response_or_resolving_closes_the_open_clock_and_owning_does_not() -> None:
    for event, end in ((E.RESPONSE, ClockEnd.RESPONDED), (E.RESOLVED, ClockEnd.RESOLVED)):
        assert clock_change(event, clock_open=True, responded_before=False).closes is end
        assert clock_change(event, clock_open=False, responded_before=True) == ClockChange()
    assert clock_change(E.OWNED, clock_open=True, responded_before=True) == ClockChange()


BERLIN = ZoneInfo("Europe/Berlin")


def berlin_policy(remind_before: int = 30 * 60) -> SlaPolicy:
    calendar = BusinessCalendar(
        BERLIN, WeeklyHours.parse("mon-fri 09:00-17:00"), parse_holidays("DE-BY")
    )
    targets = {"standard": Targets(3600, 4 * 3600), "gold": Targets(1800, 3600)}
    return SlaPolicy(calendar, targets, remind_before, "standard")


def test_a_clock_started_friday_afternoon_is_due_monday_morning() -> None:
    started = datetime(2026, 12, 4, 16, 30, tzinfo=BERLIN)
    times = clock_for(berlin_policy(), None, ClockKind.FIRST_RESPONSE, started)
    assert times.started == started and times.started.tzinfo is UTC
    # 30 business minutes in is Friday 17:00: the reminder waits for Monday's opening.
    assert times.remind_at == datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)
    assert times.due_at == datetime(2026, 12, 7, 9, 30, tzinfo=BERLIN)
    assert times.target_seconds == 3600
    assert times.state(datetime(2026, 12, 5, 12, 0, tzinfo=BERLIN)) is ClockState.ON_TRACK
    assert times.state(datetime(2026, 12, 7, 9, 5, tzinfo=BERLIN)) is ClockState.AT_RISK
    assert times.state(times.due_at) is ClockState.BREACHED


def test_a_clock_uses_its_tier_and_can_go_without_a_reminder() -> None:
    started = datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)
    gold = clock_for(berlin_policy(0), "gold", ClockKind.NEXT_RESPONSE, started)
    assert gold.due_at - started == timedelta(hours=1)
    assert gold.remind_at is None
    assert gold.state(gold.due_at - timedelta(seconds=1)) is ClockState.ON_TRACK


def test_a_due_time_at_closing_is_the_next_opening_so_nothing_fires_at_the_weekend() -> None:
    started = datetime(2026, 12, 4, 16, 0, tzinfo=BERLIN)
    gold = clock_for(berlin_policy(), "gold", ClockKind.NEXT_RESPONSE, started)
    assert gold.remind_at == datetime(2026, 12, 4, 16, 30, tzinfo=BERLIN)
    assert gold.due_at == datetime(2026, 12, 7, 9, 0, tzinfo=BERLIN)
    assert gold.state(datetime(2026, 12, 5, 12, 0, tzinfo=BERLIN)) is ClockState.AT_RISK
    assert berlin_policy().calendar.between(started, gold.due_at) == 3600
