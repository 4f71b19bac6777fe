"""The verdicts the store holds on the bot's answers, each with the tier that wrote the answer
and the confidence the model gave it.

An answer is the final answer of a customer message's last model call that gave one (its
`model_call.confidence`), so a draft and a sent answer are found the same way. That is the
confidence as the model gave it: the policy compares the threshold with it less what invented
citations cost (`bot/agent/citations.py`), kept only for drafts (`escalation.confidence`).
Its verdict:

- a lead's resolution of the escalation whose draft it was (`escalation.resolution`): sent as
  drafted, right; edited or taken over, wrong; dismissed, no verdict;
- else the thumbs of the people who asked, on the reply of tier primary or strong that sent
  it: wrong if any is down, right if all are up.

One verdict per answer: a lead's outranks the thumbs (a customer who asked for a person after
a thumbs-down hands the very answer to a lead, who judges it). `since` filters on the time of
the answer's model call. The statements are built once, with bind parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import bindparam, func, select

from bot.store.db import Database
from bot.store.models import ReplyKind, Thumb, Tier
from bot.store.tables import ESCALATION, FEEDBACK, MESSAGE, MODEL_CALL
from escalation.review import Resolution

CALIBRATED_TIERS = (Tier.PRIMARY, Tier.STRONG)


class Source(StrEnum):
    """Where a verdict comes from, and so whether the answer was right."""

    DRAFT_SENT = "draft_sent"  # a lead sent the draft as drafted
    DRAFT_EDITED = "draft_edited"  # a lead changed the draft before sending it
    TAKEN_OVER = "taken_over"  # a lead answered personally instead
    THUMB_UP = "thumb_up"
    THUMB_DOWN = "thumb_down"
    EVAL_CORRECT = "eval_correct"  # graded right in an eval run (`--eval`)
    EVAL_WRONG = "eval_wrong"


RIGHT = frozenset({Source.DRAFT_SENT, Source.THUMB_UP, Source.EVAL_CORRECT})
_FROM_RESOLUTION = {
    Resolution.DRAFT_SENT: Source.DRAFT_SENT,
    Resolution.EDITED: Source.DRAFT_EDITED,
    Resolution.TAKEN_OVER: Source.TAKEN_OVER,
}


@dataclass(frozen=True)
class Verdict:
    """Whether one answer was right, with the tier that wrote it and its confidence."""

    tier: Tier
    confidence: float
    source: Source

    @property
    def right(self) -> bool:
        return self.source in RIGHT


_call = MODEL_CALL.c
# Each customer message's last call with a final answer, among the calls since `since`.
_last_answer = (
    select(func.max(_call.id).label("id"))
    .where(
        _call.confidence.is_not(None),
        _call.message_id.is_not(None),
        _call.created_at >= bindparam("since"),
    )
    .group_by(_call.message_id)
    .subquery("last_answer")
)
_answer = (
    select(_call.message_id, _call.tier, _call.confidence)
    .join(_last_answer, _last_answer.c.id == _call.id)
    .where(_call.tier.in_([str(t) for t in CALIBRATED_TIERS]))
    .subquery("answer")
)
_LEADS = (
    select(_answer.c.message_id, _answer.c.tier, _answer.c.confidence, ESCALATION.c.resolution)
    .join(_answer, _answer.c.message_id == ESCALATION.c.message_id)
    .where(ESCALATION.c.resolution.in_([str(r) for r in _FROM_RESOLUTION]))
    .where(ESCALATION.c.draft != "")
    .order_by(ESCALATION.c.id)  # the latest escalation of a message speaks last
)
_reply = MESSAGE.alias("reply")
_THUMBS = (
    select(_answer.c.message_id, _answer.c.tier, _answer.c.confidence, FEEDBACK.c.value)
    .select_from(FEEDBACK)
    .join(_reply, _reply.c.id == FEEDBACK.c.message_id)
    .join(_answer, _answer.c.message_id == _reply.c.reply_to_id)
    .where(_reply.c.kind == ReplyKind.ANSWER, _reply.c.tier.in_([str(t) for t in CALIBRATED_TIERS]))
)


async def stored_verdicts(db: Database, since: datetime) -> list[Verdict]:
    """One verdict per answer given since `since` that a lead or its asker judged."""
    async with db.engine.connect() as conn:
        leads = (await conn.execute(_LEADS, {"since": since})).all()
        thumbs = (await conn.execute(_THUMBS, {"since": since})).all()
    found: dict[int, Verdict] = {}
    down = {message_id for message_id, *_, value in thumbs if value == Thumb.DOWN}
    for message_id, tier, confidence, _ in thumbs:
        source = Source.THUMB_DOWN if message_id in down else Source.THUMB_UP
        found[message_id] = Verdict(Tier(tier), float(confidence), source)
    for message_id, tier, confidence, resolution in leads:
        source = _FROM_RESOLUTION[Resolution(resolution)]
        found[message_id] = Verdict(Tier(tier), float(confidence), source)
    return list(found.values())
