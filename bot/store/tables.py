"""The tables as SQLAlchemy Core sees them, for the statements built once at import (SQLModel's
classes do not type their `__table__`)."""

from __future__ import annotations

from typing import Any

from bot.store.models import (
    BudgetNotice,
    Conversation,
    CustomerLink,
    Escalation,
    Feedback,
    Message,
    ModelCall,
    Outbox,
    TurnTranscript,
)

BUDGET_NOTICE: Any = BudgetNotice.__table__  # type: ignore[attr-defined]
CONVERSATION: Any = Conversation.__table__  # type: ignore[attr-defined]
CUSTOMER_LINK: Any = CustomerLink.__table__  # type: ignore[attr-defined]
ESCALATION: Any = Escalation.__table__  # type: ignore[attr-defined]
FEEDBACK: Any = Feedback.__table__  # type: ignore[attr-defined]
MESSAGE: Any = Message.__table__  # type: ignore[attr-defined]
MODEL_CALL: Any = ModelCall.__table__  # type: ignore[attr-defined]
OUTBOX: Any = Outbox.__table__  # type: ignore[attr-defined]
TURN_TRANSCRIPT: Any = TurnTranscript.__table__  # type: ignore[attr-defined]
