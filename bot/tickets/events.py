"""What staff do to a conversation's ticket: reply, resolve (✅), take it (👀).

The ticket lifecycle and its SLA clocks listen here; until they exist, `NoTickets` ignores every
event, so the callers can report them already.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class TicketEvents(Protocol):
    async def staff_replied(self, conversation_id: int, user_id: str, at: datetime) -> None: ...

    async def resolved(self, conversation_id: int, by: str, at: datetime) -> None: ...

    async def owned(self, conversation_id: int, by: str, at: datetime) -> None: ...


class NoTickets:
    """No ticket lifecycle: every event is ignored."""

    async def staff_replied(self, conversation_id: int, user_id: str, at: datetime) -> None:
        return None

    async def resolved(self, conversation_id: int, by: str, at: datetime) -> None:
        return None

    async def owned(self, conversation_id: int, by: str, at: datetime) -> None:
        return None
