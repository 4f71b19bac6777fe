"""A conversation's ticket: its status, its SLA clock, and when that clock is due (pure).

- A customer message moves the ticket to waiting on us and opens a clock if none is open:
  first response if no response ever closed one, else next response. It also reopens a
  resolved ticket.
- A response (the bot's answer, a lead's, a staff reply in the thread) moves it to waiting on
  the customer and closes the open clock as responded.
- Resolving (✅, a lead's Mark resolved) closes the open clock as resolved, never a breach.
- Taking it (👀) sets the owner and changes neither status nor clock.

A clock is reminded at `calendar.add(started, target - remind_before)` and due at
`calendar.add(started, target)`, in business time; one that lands on a closing time moves to
the next opening (`clock_for`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.sla.policy import ClockKind, SlaPolicy


class TicketStatus(StrEnum):
    """Where a conversation's ticket stands; the next step is `next_status`."""

    NEW = "new"
    WAITING_ON_US = "waiting_on_us"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"


# The tickets leads still have to act on, or wait for.
UNRESOLVED = frozenset(set(TicketStatus) - {TicketStatus.RESOLVED})


class TicketEvent(StrEnum):
    """What happens to a ticket: from the customer, from staff or the bot."""

    CUSTOMER_MESSAGE = "customer_message"
    RESPONSE = "response"  # the bot's answer, a lead's answer, a staff reply in the thread
    RESOLVED = "resolved"  # ✅ by staff, or a lead's Mark resolved
    OWNED = "owned"  # 👀 by staff: the owner changes, nothing else


def next_status(status: TicketStatus, event: TicketEvent) -> TicketStatus:
    """The status after `event` (tests/test_sla_policy.py has the whole table). A customer's
    message always leaves the ticket waiting on us, reopening a resolved one; a response to a
    resolved ticket (a last word from staff) leaves it resolved."""
    if event is TicketEvent.CUSTOMER_MESSAGE:
        return TicketStatus.WAITING_ON_US
    if event is TicketEvent.RESOLVED:
        return TicketStatus.RESOLVED
    if event is TicketEvent.RESPONSE and status is not TicketStatus.RESOLVED:
        return TicketStatus.WAITING_ON_CUSTOMER
    return status


class ClockEnd(StrEnum):
    """How a clock was closed. A resolved clock is never a breach."""

    RESPONDED = "responded"
    RESOLVED = "resolved"


class ClockState(StrEnum):
    """An open clock at a given instant."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"  # past its reminder
    BREACHED = "breached"  # past its due time


@dataclass(frozen=True)
class ClockChange:
    """What an event does to the ticket's SLA clock: open one, close the open one, or neither."""

    opens: ClockKind | None = None
    closes: ClockEnd | None = None


def clock_change(event: TicketEvent, *, clock_open: bool, responded_before: bool) -> ClockChange:
    """`responded_before`: a response has closed one of the ticket's clocks before."""
    if event is TicketEvent.CUSTOMER_MESSAGE:
        if clock_open:
            return ClockChange()  # the clock runs from the first message not yet answered
        kind = ClockKind.NEXT_RESPONSE if responded_before else ClockKind.FIRST_RESPONSE
        return ClockChange(opens=kind)
    if not clock_open:
        return ClockChange()
    if event is TicketEvent.RESPONSE:
        return ClockChange(closes=ClockEnd.RESPONDED)
    if event is TicketEvent.RESOLVED:
        return ClockChange(closes=ClockEnd.RESOLVED)
    return ClockChange()


@dataclass(frozen=True)
class ClockTimes:
    """An SLA clock's times, in UTC; `remind_at` is None when reminders are off."""

    kind: ClockKind
    started: datetime
    remind_at: datetime | None
    due_at: datetime
    target_seconds: int

    def state(self, now: datetime) -> ClockState:
        """An open clock's state at `now`: breached from its due time on."""
        if now >= self.due_at:
            return ClockState.BREACHED
        if self.remind_at is not None and now >= self.remind_at:
            return ClockState.AT_RISK
        return ClockState.ON_TRACK


def clock_for(
    policy: SlaPolicy, tier: str | None, kind: ClockKind, started: datetime
) -> ClockTimes:
    """When a clock of `kind` started at `started` is reminded and due, for an account of
    `tier` (None, or a tier no longer configured: the default tier). A time that falls on a
    closing time moves to the next opening: no business time passes in between, and leads hear
    of it when they are there (not from Saturday's sweep)."""
    target = policy.target(tier, kind)
    calendar = policy.calendar

    def after(seconds: int) -> datetime:
        return calendar.next_open(calendar.add(started, seconds))

    remind_at = after(target - policy.remind_before) if policy.remind_before else None
    return ClockTimes(kind, calendar.add(started, 0), remind_at, after(target), target)
