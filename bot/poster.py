"""The one poster: everything the bot posts is an outbox row, and only this posts them.

Answers, handoff notices, apologies, rate and budget notices, a lead's answer, the escalation's
post and the alerts to the leads are written as outbox rows with the change that caused them
(`bot/store/turns.py`, `bot/store/escalations.py`); the process that wrote a row holds it and
posts it at once; the sweep posts the rest. A refused post is tried again later, from its first
piece Slack did not take, until `REDELIVERY_WINDOW` has passed; then it is given up, and the
leads are told if it was a lead's answer.

Not posts, so not here: a note only a clicker sees (chat.postEphemeral), the update of a leads
post (chat.update), a modal (views.open) and the thinking status answer an interaction or the
message being worked on, and go straight to Slack."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from bot.delivery import LeadsPost, Sender, ThreadPost
from bot.errors import ReplyNotPosted
from bot.store import escalations, outbox
from bot.store.db import Database
from bot.store.holders import Holders
from bot.store.models import PostKind, ReplyKind, utcnow

# Where a workspace's leads are told: its leads channel, by team id.
LeadsChannel = Callable[[str], Awaitable[str]]

log = logging.getLogger(__name__)
_T = TypeVar("_T")

# How long a post Slack refused is tried again (past that, a late answer would confuse).
REDELIVERY_WINDOW = timedelta(hours=1)
_FIRST_RETRY = timedelta(seconds=5)
_LONGEST_RETRY = timedelta(minutes=5)
_SWEEP_ROUNDS = 10  # a thread's waiting posts go out one after the other in one sweep
# The database write after a post (posted, or refused) is tried this many times, the waits
# between doubling from the first: a post Slack took is not posted again for a blip.
_WRITE_TRIES, _FIRST_WRITE_WAIT = 5, 0.5


def next_try(created_at: datetime, now: datetime) -> datetime:
    """When to try a refused post again: after as long as it has waited (5 s to 5 min)."""
    if created_at.tzinfo is None:  # as SQLite and PostgreSQL return it: UTC
        created_at = created_at.replace(tzinfo=UTC)
    return now + min(max(now - created_at, _FIRST_RETRY), _LONGEST_RETRY)


def given_up_alert(item: outbox.GivenUp) -> str:
    """What the leads are told when a lead's answer never reached the customer."""
    who = f" (sent by <@{item.lead_user_id}>)" if item.lead_user_id else ""
    case = f"escalation #{item.escalation_id}" if item.escalation_id else "an escalation"
    return (
        f"The answer to {case}{who} never reached the customer: Slack refused it for an hour,"
        " and the bot has stopped trying. Please reach the customer another way."
    )


class Poster:
    def __init__(
        self, db: Database, sender: Sender, holders: Holders, leads_channel: LeadsChannel
    ) -> None:
        self._db = db
        self._sender = sender
        self._holders = holders  # its `me` is read at each claim: it may change (holders.py)
        self._leads_channel = leads_channel  # of a workspace (`Workspaces.leads_channel`)
        self._in_hand: set[int] = set()  # rows a task of this process is posting now

    @property
    def sender(self) -> Sender:
        return self._sender

    @property
    def in_hand(self) -> frozenset[int]:
        """The rows this process holds and is posting right now (the sweep leaves them)."""
        return frozenset(self._in_hand)

    async def post(self, posts: list[outbox.Post]) -> bool:
        """Post rows this process holds, in order; True when Slack took them all."""
        self._in_hand.update(p.id for p in posts)
        posted = True
        for post in posts:
            posted = await self._post_one(post) and posted
        return posted

    async def alert(self, team_id: str, text: str) -> None:
        """Tell workspace `team_id`'s leads something that needs no action button (a budget
        reached)."""
        channel = await self._leads_channel(team_id)
        post = await outbox.alert(self._db, team_id, channel, text, self._holders.me)
        await self.post([post])

    async def sweep(self) -> int:
        """Give up what waited too long, then post what is due; the number posted."""
        now = utcnow()
        for item in await outbox.give_up_expired(
            self._db, now - REDELIVERY_WINDOW, self._leads_channel, given_up_alert
        ):
            log.warning(
                "outbox row %s given up: Slack refused it for the whole window", item.post_id
            )
        count = 0
        for _ in range(_SWEEP_ROUNDS):
            due = await outbox.claim_due(self._db, self._holders.me)
            self._in_hand.update(p.id for p in due)
            for post in due:
                if await self._post_one(post):
                    log.info("outbox row %s was posted on a later try", post.id)
                    count += 1
            if not due:
                break
        return count

    async def _post_one(self, post: outbox.Post) -> bool:
        try:
            return await self._post_and_record(post)
        finally:
            self._in_hand.discard(post.id)

    async def _post_and_record(self, post: outbox.Post) -> bool:
        try:
            ts, channel = await self._send(post)
        except Exception as exc:
            pieces = exc.posted if isinstance(exc, ReplyNotPosted) else post.posted_pieces
            log.warning("outbox row %s (%s) was not posted; trying again later", post.id, post.kind)
            log.debug("outbox row %s failed", post.id, exc_info=True)
            retry_at = next_try(post.created_at, utcnow())
            await _written(lambda: outbox.refuse(self._db, post, pieces, retry_at))
            return False
        if not await _written(lambda: outbox.mark_posted(self._db, post, ts, channel)):
            log.warning("outbox row %s was posted, but another process held it", post.id)
        return True

    async def _send(self, post: outbox.Post) -> tuple[str | None, str | None]:
        """Post one row through the sender: its ts, and the channel Slack named."""
        if post.kind == PostKind.THREAD_REPLY:
            assert post.text is not None and post.thread_ts is not None
            kind = post.reply_kind or ReplyKind.ANSWER
            thread = ThreadPost(
                post.channel_id,
                post.thread_ts,
                post.text,
                kind,
                post.posted_pieces,
                post.tier,
                post.team_id,
            )
            return await self._sender.post_reply(thread), None
        if post.kind == PostKind.LEADS_ESCALATION:
            assert post.escalation_id is not None
            found = await escalations.leads_view(self._db, post.escalation_id)
            if found is None:
                return None, None  # purged meanwhile: nothing to show
            esc, conv, question, asker = found
            leads = LeadsPost(post.channel_id, esc, conv, question, asker)
            channel, ts = await self._sender.post_escalation(leads)
            return ts, channel
        return await self._sender.post_alert(post.team_id, post.channel_id, post.text or ""), None


async def _written(write: Callable[[], Awaitable[_T]]) -> _T:
    """A database write after a post, tried again after a failure (a blip must not leave the
    row held with no task on it); the last failure is raised, and the row is then released by
    this process's next sweep (`bot/store/claims.py` `release_own`)."""
    wait = _FIRST_WRITE_WAIT
    for _ in range(_WRITE_TRIES - 1):
        try:
            return await write()
        except Exception:
            log.warning("recording an outbox row's delivery failed; trying again", exc_info=True)
            await asyncio.sleep(wait)
            wait *= 2
    return await write()
