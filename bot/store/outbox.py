"""The outbox: every post the bot makes, its delivery state, and the claims on it.

A row is claimed for posting by one process (`holder`); a thread's rows are posted in id order
(a row waits while an earlier one of its thread is unposted). Each change of state is one
conditional UPDATE on the row's state and holder, so two processes never post one row and a
row given up is never posted after. Statements are built once, here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.db import Database
from bot.store.held_rows import HeldRows
from bot.store.models import (
    UNPOSTED,
    Conversation,
    PostKind,
    PostState,
    ReplyKind,
    Tier,
    utcnow,
)
from bot.store.tables import ESCALATION as _E
from bot.store.tables import MESSAGE as _M
from bot.store.tables import OUTBOX as _O

_earlier = _O.alias("earlier")


@dataclass(frozen=True)
class Post:
    """An outbox row this process holds (state posting), with what posting it needs."""

    id: int
    kind: PostKind
    channel_id: str
    thread_ts: str | None
    created_at: datetime
    text: str | None = None  # a reply's (from its message row) or an alert's
    reply_kind: ReplyKind | None = None
    tier: Tier | None = None
    message_id: int | None = None
    escalation_id: int | None = None
    posted_pieces: int = 0
    team_id: str = ""  # the conversation's workspace: whose client posts it
    # The id this row was claimed under: its delivery is recorded under it, never under a
    # later id of this process (a PostgreSQL holder takes a new one when its lock is lost).
    holder: str = field(kw_only=True)


def held_reply(
    post_id: int,
    conversation: Conversation,
    channel_id: str,
    now: datetime,
    holder: str,
    **reply: Any,
) -> Post:
    """A thread reply's row just written and held by `holder`, as the poster posts it: in the
    conversation's thread, through its workspace's client. `reply`: text, reply_kind, tier and
    message_id."""
    return Post(
        post_id,
        PostKind.THREAD_REPLY,
        channel_id,
        conversation.thread_ts,
        now,
        team_id=conversation.team_id,
        holder=holder,
        **reply,
    )


def _unposted_before(row: Any, thread_ts: Any, channel_id: Any) -> Any:
    """An earlier row of the same thread not posted yet (and not given up)."""
    return exists().where(
        _earlier.c.channel_id == channel_id,
        _earlier.c.thread_ts == thread_ts,
        _earlier.c.state.in_(UNPOSTED),
        *([_earlier.c.id < row] if row is not None else []),
    )


# A new thread reply: posting at once by its writer, unless an earlier post of the thread is
# still waiting (then it waits its turn, and a sweep posts it).
_WAITS = _unposted_before(None, bindparam("p_thread_ts"), bindparam("p_channel_id"))
ADD_THREAD_POST = (
    insert(_O)
    .values(
        kind=PostKind.THREAD_REPLY,
        team_id=bindparam("p_team_id"),
        channel_id=bindparam("p_channel_id"),
        thread_ts=bindparam("p_thread_ts"),
        conversation_id=bindparam("p_conversation_id"),
        message_id=bindparam("p_message_id"),
        state=case((_WAITS, PostState.TO_POST), else_=PostState.POSTING),
        holder=case((_WAITS, None), else_=bindparam("p_holder")),
        next_try_at=bindparam("p_now"),
        posted_pieces=0,
        created_at=bindparam("p_now"),
    )
    .returning(_O.c.id, _O.c.state)
)
# A post to the leads channel: in no thread, so it waits for none.
ADD_LEADS_POST = insert(_O).returning(_O.c.id)

_DUE = and_(
    or_(
        _O.c.state == PostState.TO_POST,
        and_(_O.c.state == PostState.REFUSED, _O.c.next_try_at <= bindparam("p_now")),
    ),
    ~_unposted_before(_O.c.id, _O.c.thread_ts, _O.c.channel_id),
)
_CLAIM_BATCH = 50
_CLAIM_DUE = (
    update(_O)
    .where(
        _O.c.id.in_(select(_O.c.id).where(_DUE).order_by(_O.c.id).limit(_CLAIM_BATCH)),
        _O.c.state.in_([PostState.TO_POST, PostState.REFUSED]),
    )
    .values(state=PostState.POSTING, holder=bindparam("p_holder"))
    .returning(_O.c.id)
)
_CLAIMED = (
    select(
        _O,
        _M.c.text.label("reply_text"),
        _M.c.kind.label("reply_kind"),
        _M.c.tier,
    )
    .outerjoin(_M, _M.c.id == _O.c.message_id)
    .where(_O.c.id.in_(bindparam("p_ids", expanding=True)))
    .order_by(_O.c.id)
)
_HELD_BY_ME = and_(
    _O.c.id == bindparam("p_id"),
    _O.c.state == PostState.POSTING,
    _O.c.holder == bindparam("p_holder"),
)


def _leave(state: PostState, **values: Any) -> Any:
    """The holder lets go of its row, in `state`: only if it still holds it."""
    return update(_O).where(_HELD_BY_ME).values(state=state, holder=None, **values)


_MARK_POSTED = _leave(PostState.POSTED, posted_ts=bindparam("p_ts"))
_REPLY_POSTED = (
    update(_M).where(_M.c.id == bindparam("p_message_id")).values(slack_ts=bindparam("p_ts"))
)
_LEADS_POSTED = (
    update(_E)
    .where(_E.c.id == bindparam("p_escalation_id"))
    .values(leads_channel=bindparam("p_channel"), leads_ts=bindparam("p_ts"))
)
_REFUSE = _leave(
    PostState.REFUSED, posted_pieces=bindparam("p_pieces"), next_try_at=bindparam("p_next")
)


async def add_thread_post(
    conn: AsyncConnection,
    thread: Conversation,
    *,
    channel_id: str,
    message_id: int,
    holder: str,
    now: datetime,
) -> tuple[int, PostState]:
    """Write a reply's outbox row in the caller's transaction: posting, held by `holder`,
    unless an earlier post of the thread is still waiting. Its id and state. The caller holds
    the thread's conversation row (an UPDATE or SELECT ... FOR UPDATE of it earlier in the
    transaction), so that two posts to one thread are never both posting at once."""
    row = (
        await conn.execute(
            ADD_THREAD_POST,
            {
                "p_team_id": thread.team_id,  # posted in the thread's workspace
                "p_channel_id": channel_id,
                "p_thread_ts": thread.thread_ts,
                "p_conversation_id": thread.id,
                "p_message_id": message_id,
                "p_holder": holder,
                "p_now": now,
            },
        )
    ).one()
    return int(row.id), PostState(row.state)


async def add_leads_post(
    conn: AsyncConnection,
    kind: PostKind,
    channel_id: str,
    holder: str | None,
    now: datetime,
    *,
    team_id: str,
    escalation_id: int | None = None,
    conversation_id: int | None = None,
    text: str | None = None,
) -> int:
    """Write a post to the leads channel of workspace `team_id` in the caller's transaction,
    held by `holder` (None: to post, by a sweep)."""
    values = {
        "team_id": team_id,
        "kind": kind,
        "channel_id": channel_id,
        "conversation_id": conversation_id,
        "escalation_id": escalation_id,
        "text": text,
        "state": PostState.TO_POST if holder is None else PostState.POSTING,
        "holder": holder,
        "next_try_at": now,
        "posted_pieces": 0,
        "created_at": now,
    }
    return int((await conn.execute(ADD_LEADS_POST, values)).scalar_one())


async def alert(db: Database, team_id: str, channel_id: str, text: str, holder: str) -> Post:
    """A note for workspace `team_id`'s leads (no action button), written to post at once by
    `holder`."""
    now = utcnow()
    async with db.engine.begin() as conn:
        post_id = await add_leads_post(
            conn, PostKind.LEADS_ALERT, channel_id, holder, now, team_id=team_id, text=text
        )
    return Post(
        post_id,
        PostKind.LEADS_ALERT,
        channel_id,
        None,
        now,
        text=text,
        team_id=team_id,
        holder=holder,
    )


def _post(row: Any, holder: str) -> Post:
    return Post(
        id=int(row.id),
        kind=PostKind(row.kind),
        channel_id=row.channel_id,
        thread_ts=row.thread_ts,
        created_at=row.created_at,
        text=row.reply_text if row.message_id is not None else row.text,
        reply_kind=ReplyKind(row.reply_kind) if row.reply_kind else None,
        tier=Tier(row.tier) if row.tier else None,
        message_id=row.message_id,
        escalation_id=row.escalation_id,
        posted_pieces=int(row.posted_pieces),
        team_id=row.team_id or "",
        holder=holder,
    )


async def claim_due(db: Database, holder: str) -> list[Post]:
    """Take the rows due for posting for `holder`: to post, or refused and due again; the first
    unposted row of each thread only, oldest first."""
    async with db.engine.begin() as conn:
        claimed = await conn.execute(_CLAIM_DUE, {"p_now": utcnow(), "p_holder": holder})
        ids = [int(i) for i in claimed.scalars()]
        if not ids:
            return []
        rows = await conn.execute(_CLAIMED, {"p_ids": ids})
        return [_post(row, holder) for row in rows]


async def mark_posted(db: Database, post: Post, ts: str | None, channel: str | None = None) -> bool:
    """Slack took the post: its ts, on the row and on the reply's transcript row (or on the
    escalation, with the `channel` Slack named), in one transaction; False if the post's holder
    no longer held it."""
    async with db.engine.begin() as conn:
        params = {"p_id": post.id, "p_holder": post.holder, "p_ts": ts}
        if not (await conn.execute(_MARK_POSTED, params)).rowcount:
            return False
        if post.message_id is not None:
            await conn.execute(_REPLY_POSTED, {"p_message_id": post.message_id, "p_ts": ts})
        if post.escalation_id is not None and post.kind == PostKind.LEADS_ESCALATION:
            where = {"p_escalation_id": post.escalation_id, "p_channel": channel or post.channel_id}
            await conn.execute(_LEADS_POSTED, where | {"p_ts": ts})
        return True


async def refuse(db: Database, post: Post, pieces: int, next_try: datetime) -> None:
    """Slack refused the post: tried again from `next_try`, from the first piece not posted."""
    params = {
        "p_id": post.id,
        "p_holder": post.holder,
        "p_pieces": max(pieces, post.posted_pieces),
        "p_next": next_try,
    }
    async with db.engine.begin() as conn:
        await conn.execute(_REFUSE, params)


@dataclass(frozen=True)
class GivenUp:
    """A post given up; of a lead's answer, the escalation it answered (for the alert)."""

    post_id: int
    lead_answer: bool
    escalation_id: int | None
    lead_user_id: str | None


_later = _E.alias("later")
_EXPIRED = (
    select(
        _O.c.id,
        _O.c.team_id,
        _O.c.conversation_id,
        _M.c.tier,
        _E.c.id.label("escalation_id"),
        _E.c.lead_user_id,
        _E.c.leads_channel,
    )
    .outerjoin(_M, _M.c.id == _O.c.message_id)
    .outerjoin(
        _E,
        and_(
            _E.c.message_id == _M.c.reply_to_id,
            ~exists().where(_later.c.message_id == _E.c.message_id, _later.c.id > _E.c.id),
        ),
    )
    .where(
        _O.c.state.in_([PostState.REFUSED, PostState.TO_POST]),
        _O.c.created_at < bindparam("p_cutoff"),
    )
    .order_by(_O.c.id)
)
_GIVE_UP = (
    update(_O)
    .where(
        _O.c.id == bindparam("p_id"),
        _O.c.state.in_([PostState.REFUSED, PostState.TO_POST]),
    )
    .values(state=PostState.GIVEN_UP)
)


async def give_up_expired(
    db: Database,
    written_before: datetime,
    leads_channel: Callable[[str], Awaitable[str]],
    alert_text: Callable[[GivenUp], str],
) -> list[GivenUp]:
    """Give up the posts written before `written_before` and still not posted (none being
    posted right now): one conditional UPDATE each, so one process gives up each. A lead's
    answer given up becomes an alert for the leads, to post, in the same transaction: where
    its escalation was posted, else in its workspace's `leads_channel`."""
    given_up = []
    now = utcnow()
    async with db.engine.connect() as conn:
        expired = (await conn.execute(_EXPIRED, {"p_cutoff": written_before})).all()
    # Looked up before writing: never a second pooled connection inside the transaction.
    channels = {t: await leads_channel(t) for t in {r.team_id for r in expired}}
    async with db.engine.begin() as conn:
        for row in expired:
            if not (await conn.execute(_GIVE_UP, {"p_id": row.id})).rowcount:
                continue
            item = GivenUp(int(row.id), row.tier == Tier.HUMAN, row.escalation_id, row.lead_user_id)
            given_up.append(item)
            if item.lead_answer:
                await add_leads_post(
                    conn,
                    PostKind.LEADS_ALERT,
                    row.leads_channel or channels[row.team_id],
                    None,
                    now,
                    team_id=row.team_id,
                    escalation_id=item.escalation_id,
                    conversation_id=row.conversation_id,  # purged with its thread
                    text=alert_text(item),
                )
    return given_up


# Rows being posted; given back, they are to be posted again from their first unposted piece
# (a piece Slack took just before a death or a failed write may show twice). A living
# process's own rows are given back once they are older than the grace a new row needs to
# reach its poster (`next_try_at` is when a row became due).
POSTING = HeldRows(_O, _O.c.state, PostState.POSTING, PostState.TO_POST, _O.c.next_try_at)


_WAITING = select(func.count()).select_from(_O).where(_O.c.state.in_(UNPOSTED))


async def unposted(db: Database) -> int:
    """For the metrics: posts written and not posted yet."""
    async with db.engine.connect() as conn:
        return int((await conn.execute(_WAITING)).scalar_one())
