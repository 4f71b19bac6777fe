"""The conversation a reacted-to message belongs to (`bot/listeners/reactions.py`): a stored
message's, else the conversation whose thread starts there; and whether the reacting user is
one of its customers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, exists, func, select

from bot.store.db import Database
from bot.store.models import MessageRole
from bot.store.tables import CONVERSATION as _C
from bot.store.tables import MESSAGE as _M

_item = _M.alias("item")
_said = _M.alias("said")
_BY_MESSAGE = select(_item.c.conversation_id).where(
    _item.c.channel_id == bindparam("p_channel"), _item.c.slack_ts == bindparam("p_ts")
)
_BY_THREAD = select(_C.c.id).where(
    _C.c.channel_id == bindparam("p_channel"), _C.c.thread_ts == bindparam("p_ts")
)
_ITEM = select(
    _C.c.id,
    _C.c.team_id,
    exists()
    .where(
        _said.c.conversation_id == _C.c.id,
        _said.c.role == MessageRole.USER,
        _said.c.user_id == bindparam("p_user"),
    )
    .label("is_customer"),
).where(_C.c.id == func.coalesce(_BY_MESSAGE.scalar_subquery(), _BY_THREAD.scalar_subquery()))


@dataclass(frozen=True)
class Item:
    """The conversation a reacted-to message belongs to, and whether the reacting user is one
    of its customers (wrote a customer message in it)."""

    conversation_id: int
    team_id: str
    by_customer: bool


async def item_of(db: Database, channel_id: str, ts: str, user_id: str) -> Item | None:
    """The conversation of the message `ts` in `channel_id`: a stored message's, else the
    conversation whose thread starts there; None for a message of no conversation."""
    params = {"p_channel": channel_id, "p_ts": ts, "p_user": user_id}
    async with db.engine.connect() as conn:
        row = (await conn.execute(_ITEM, params)).first()
    return None if row is None else Item(int(row.id), row.team_id, bool(row.is_customer))
