"""The answers people approved, with what the model did in their turns: the material of
`supportbot export finetune` (`bot/export/`). Every lead's answer (an escalation answered with a
text) and every answer of the strong tier, with its customer's thumbs and whether a person was
asked for after it; each with its turn's transcript, when one was stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, select
from sqlalchemy.engine import RowMapping

from bot.store.db import Database
from bot.store.models import (
    EscalationStatus,
    MessageRole,
    ReplyKind,
    Thumb,
    Tier,
    TurnTranscript,
)
from bot.store.purge import PURGED
from bot.store.tables import CONVERSATION as _C
from bot.store.tables import ESCALATION as _E
from bot.store.tables import FEEDBACK as _F
from bot.store.tables import MESSAGE as _M
from bot.store.tables import TURN_TRANSCRIPT as _T
from escalation.review import Resolution


class Approver(StrEnum):
    LEAD = "lead"  # a lead sent an answer: the draft, or their own text
    CUSTOMER = "customer"  # the strong tier's answer, as its customer took it


@dataclass(frozen=True)
class Approved:
    """One answer to one customer message, and what people did with it."""

    approver: Approver
    message_id: int  # the customer message answered
    conversation_id: int
    answered_at: datetime
    transcript: TurnTranscript | None
    # A lead's answer: the draft they were shown, the text they sent, and what the lead did
    # with the draft (`escalation.resolution`; None on escalations resolved before 0010).
    draft: str = ""
    sent: str = ""
    resolution: Resolution | None = None
    # Its customer's thumbs (on the strong tier's answer, or on the lead's), and for the
    # strong tier's, a person asked for after it.
    thumbs_up: bool = False
    thumbs_down: bool = False
    handed_off_after: bool = False


_TRANSCRIPT = (
    _T.c.tier.label("t_tier"),
    _T.c.system.label("t_system"),
    _T.c.tools.label("t_tools"),
    _T.c.messages.label("t_messages"),
    _T.c.created_at.label("t_created_at"),
)


def _vote(value: Thumb) -> Any:
    return exists().where(_F.c.message_id == _M.c.id, _F.c.value == value)


_LEAD_REPLY = _M.alias("lead_reply")
# A 👎 on the answer a lead sent: their reply to the escalated message.
_LEAD_THUMBS_DOWN = exists().where(
    _LEAD_REPLY.c.reply_to_id == _E.c.message_id,
    _LEAD_REPLY.c.tier == Tier.HUMAN,
    _LEAD_REPLY.c.kind == ReplyKind.ANSWER,
    _F.c.message_id == _LEAD_REPLY.c.id,
    _F.c.value == Thumb.DOWN,
)
# A person was asked for on this message (a thumbs-down's button) or a later one of the thread.
_HANDED_OFF_AFTER = exists().where(
    _E.c.conversation_id == _M.c.conversation_id, _E.c.message_id >= _M.c.reply_to_id
)
_STRONG = (
    select(
        _M.c.reply_to_id.label("message_id"),
        _M.c.conversation_id,
        _M.c.created_at.label("answered_at"),
        _vote(Thumb.UP).label("up"),
        _vote(Thumb.DOWN).label("down"),
        _HANDED_OFF_AFTER.label("handed_off_after"),
        *_TRANSCRIPT,
    )
    .select_from(_M.outerjoin(_T, _T.c.message_id == _M.c.reply_to_id))
    .where(
        _M.c.role == MessageRole.ASSISTANT,
        _M.c.tier == Tier.STRONG,
        _M.c.kind == ReplyKind.ANSWER,
        _M.c.reply_to_id.is_not(None),
    )
)
_LEAD = (
    select(
        _E.c.message_id,
        _E.c.conversation_id,
        _E.c.resolved_at.label("answered_at"),
        _E.c.draft,
        _E.c.final_answer,
        _E.c.resolution,
        _LEAD_THUMBS_DOWN.label("down"),
        *_TRANSCRIPT,
    )
    .select_from(_E.outerjoin(_T, _T.c.message_id == _E.c.message_id))
    .where(_E.c.status == EscalationStatus.ANSWERED, _E.c.final_answer.is_not(None))
)


def _transcript(row: RowMapping) -> TurnTranscript | None:
    if row["t_tier"] is None:  # no transcript row to join
        return None
    return TurnTranscript(
        message_id=row["message_id"],
        conversation_id=row["conversation_id"],
        tier=row["t_tier"],
        system=row["t_system"],
        tools=row["t_tools"] or [],
        messages=row["t_messages"] or [],
        created_at=row["t_created_at"],
    )


async def approved_since(db: Database, since: datetime) -> list[Approved]:
    """The leads' answers and the strong tier's answers given since `since`, oldest first."""
    async with db.engine.connect() as conn:
        strong = await conn.execute(
            _STRONG.where(_M.c.created_at >= since).order_by(_M.c.created_at, _M.c.id)
        )
        found = [
            Approved(
                Approver.CUSTOMER,
                row["message_id"],
                row["conversation_id"],
                row["answered_at"],
                _transcript(row),
                thumbs_up=bool(row["up"]),
                thumbs_down=bool(row["down"]),
                handed_off_after=bool(row["handed_off_after"]),
            )
            for row in strong.mappings()
        ]
        leads = await conn.execute(
            _LEAD.where(_E.c.resolved_at >= since).order_by(_E.c.resolved_at, _E.c.id)
        )
        found += [
            Approved(
                Approver.LEAD,
                row["message_id"],
                row["conversation_id"],
                row["answered_at"],
                _transcript(row),
                draft=row["draft"] or "",
                sent=row["final_answer"],
                resolution=Resolution(row["resolution"]) if row["resolution"] else None,
                thumbs_down=bool(row["down"]),
            )
            for row in leads.mappings()
        ]
    return sorted(found, key=lambda a: (a.answered_at, a.message_id))


_PURGED = select(func.count()).where(
    and_(_C.c.status == PURGED, _C.c.updated_at >= bindparam("p_since"))
)


async def purged_since(db: Database, since: datetime) -> int:
    """Conversations active since `since` whose words `supportbot purge` deleted since."""
    async with db.engine.connect() as conn:
        return int((await conn.execute(_PURGED, {"p_since": since})).scalar_one())
