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
    NEW = "new"
    WAITING_ON_US = "waiting_on_us"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    RESOLVED = "resolved"


class TicketEvent(StrEnum):
    CUSTOMER_MESSAGE = "customer_message"
    RESPONSE = "response"  # the bot's answer, a lead's answer, a staff reply in the thread
    RESOLVED = "resolved"  # ✅ by staff, or a lead's Mark resolved
    OWNED = "owned"  # 👀 by staff: the owner changes, nothing else


class ClockEnd(StrEnum):
    """How a clock was closed. A resolved clock is never a breach."""

    RESPONDED = "responded"
    RESOLVED = "resolved"


class ClockState(StrEnum):
    """An open clock at a given instant."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"  # past its reminder
    BREACHED = "breached"  # past its due time


_S, _E = TicketStatus, TicketEvent
# Every status and event: the status after it. A response to a resolved ticket (a last word
# from staff) leaves it resolved; only the customer reopens it.
TRANSITIONS: dict[tuple[TicketStatus, TicketEvent], TicketStatus] = {
    (_S.NEW, _E.CUSTOMER_MESSAGE): _S.WAITING_ON_US,
    (_S.NEW, _E.RESPONSE): _S.WAITING_ON_CUSTOMER,
    (_S.NEW, _E.RESOLVED): _S.RESOLVED,
    (_S.NEW, _E.OWNED): _S.NEW,
    (_S.WAITING_ON_US, _E.CUSTOMER_MESSAGE): _S.WAITING_ON_US,
    (_S.WAITING_ON_US, _E.RESPONSE): _S.WAITING_ON_CUSTOMER,
    (_S.WAITING_ON_US, _E.RESOLVED): _S.RESOLVED,
    (_S.WAITING_ON_US, _E.OWNED): _S.WAITING_ON_US,
    (_S.WAITING_ON_CUSTOMER, _E.CUSTOMER_MESSAGE): _S.WAITING_ON_US,
    (_S.WAITING_ON_CUSTOMER, _E.RESPONSE): _S.WAITING_ON_CUSTOMER,
    (_S.WAITING_ON_CUSTOMER, _E.RESOLVED): _S.RESOLVED,
    (_S.WAITING_ON_CUSTOMER, _E.OWNED): _S.WAITING_ON_CUSTOMER,
    (_S.RESOLVED, _E.CUSTOMER_MESSAGE): _S.WAITING_ON_US,
    (_S.RESOLVED, _E.RESPONSE): _S.RESOLVED,
    (_S.RESOLVED, _E.RESOLVED): _S.RESOLVED,
    (_S.RESOLVED, _E.OWNED): _S.RESOLVED,
}


def next_status(status: TicketStatus, event: TicketEvent) -> TicketStatus:
    return TRANSITIONS[status, event]


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
