"""Manners in a Slack Connect channel (issue 15; docs/issue-15-plan.md B5), over the real Bolt
request path with the fake Slack and the fake model: the channel's reply mode decides whether a
top-level request is answered, staff replies in the bot's threads are kept as responses and
reported to the tickets, and nothing internal is posted where the customer reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from bot.accounts.views import ReplyMode
from bot.agent import replies
from bot.store.accounts import NewAccount, add_account, link_channel
from bot.store.models import Message, MessageRole
from tests.conftest import TEAM_ID, Bot
from tests.fakes.events import shared_mention, shared_message
from tests.fakes.slack import FakeSlack
from tests.helpers import rows

LEADS = "C0LEADS"


class Tickets:
    """A `TicketEvents` that records what it is told."""

    def __init__(self) -> None:
        self.staff: list[tuple[int, str, datetime]] = []

    async def staff_replied(self, conversation_id: int, user_id: str, at: datetime) -> None:
        self.staff.append((conversation_id, user_id, at))

    async def resolved(self, conversation_id: int, by: str, at: datetime) -> None:
        raise AssertionError("not expected")

    async def owned(self, conversation_id: int, by: str, at: datetime) -> None:
        raise AssertionError("not expected")


async def mapped(start_bot: Any, mode: ReplyMode) -> Bot:
    """A bot whose C0SHARED a lead mapped to Acme (acme.com, T0ACME) in reply mode `mode`."""
    bot: Bot = await start_bot(leads_channel=LEADS)
    db = bot.services.db
    await add_account(db, NewAccount(TEAM_ID, "Acme", "gold", ("acme.com",), ("T0ACME",), "acc-1"))
    await add_account(db, NewAccount(TEAM_ID, "Globex", "gold", ("globex.com",), ("T0GLOBEX",)))
    await link_channel(db, TEAM_ID, "Acme", "C0SHARED", mode, confirmed_by="ULEAD")
    return bot


async def stored(bot: Bot, role: MessageRole = MessageRole.USER) -> list[str]:
    return [m.text for m in await rows(bot, Message) if m.role == role]


async def send(bot: Bot, body: dict[str, Any]) -> None:
    assert await bot.event(body=body) == 200
    await bot.settle()


async def test_in_requests_mode_a_top_level_request_is_answered_in_a_thread(
    start_bot: Any, connect: FakeSlack
) -> None:
    bot = await mapped(start_bot, ReplyMode.REQUESTS)
    request = shared_message("where is order 1042?", "UACME2", "C0SHARED", sender_team="T0ACME")
    await send(bot, request)
    [reply] = bot.replies()
    assert reply["channel"] == "C0SHARED" and reply["thread_ts"] == request["event"]["ts"]
    assert await stored(bot) == ["where is order 1042?"]
    for chatter in ("thanks all!", ":tada:", "<@UACME1> see you at lunch"):
        await send(bot, shared_message(chatter, "UACME2", "C0SHARED", sender_team="T0ACME"))
    assert len(bot.replies()) == 1 and await stored(bot) == ["where is order 1042?"]


async def test_in_mentions_mode_only_mentions_are_answered(
    start_bot: Any, connect: FakeSlack
) -> None:
    bot = await mapped(start_bot, ReplyMode.MENTIONS)
    await send(
        bot, shared_message("where is order 1042?", "UACME2", "C0SHARED", sender_team="T0ACME")
    )
    assert bot.replies() == [] and await stored(bot) == [] and bot.anthropic.requests == []
    mention = shared_mention(
        "<@UBOT> where is order 1042?", "UACME2", "C0SHARED", sender_team="T0ACME"
    )
    await send(bot, mention)
    [reply] = bot.replies()
    assert reply["thread_ts"] == mention["event"]["ts"]
    assert await stored(bot) == ["where is order 1042?"]
    # The mode is the channel's: set to requests, the same kind of message is answered.
    await link_channel(bot.services.db, TEAM_ID, "Acme", "C0SHARED", ReplyMode.REQUESTS)
    bot.services.channels.forget(TEAM_ID, "C0SHARED")  # type: ignore[attr-defined]
    await send(bot, shared_message("and order 1043?", "UACME2", "C0SHARED", sender_team="T0ACME"))
    assert len(bot.replies()) == 2


async def test_a_staff_reply_in_a_bot_thread_is_stored_as_staff_and_reported_to_tickets(
    start_bot: Any, connect: FakeSlack
) -> None:
    bot = await mapped(start_bot, ReplyMode.REQUESTS)
    tickets = Tickets()
    bot.services.tickets = tickets
    mention = shared_mention(
        "<@UBOT> where is order 1042?", "UACME2", "C0SHARED", sender_team="T0ACME"
    )
    await send(bot, mention)
    root, answered, asked = mention["event"]["ts"], len(bot.replies()), len(bot.anthropic.requests)
    [conversation_id] = {m.conversation_id for m in await rows(bot, Message)}
    staff = shared_message(
        "I've asked the warehouse, back soon", "USTAFF", "C0SHARED", sender_team=TEAM_ID,
        thread_ts=root,
    )  # fmt: skip
    await send(bot, staff)
    await send(bot, staff)  # Slack delivers it again: kept and reported once
    for elsewhere in (
        shared_message("where is order 1042?", "USTAFF", "C0SHARED", sender_team=TEAM_ID),
        shared_message("lunch?", "USTAFF", "C0SHARED", sender_team=TEAM_ID, thread_ts="1.000001"),
    ):
        await send(bot, elsewhere)  # top level, and a thread that is not the bot's
    assert await stored(bot, MessageRole.STAFF) == ["I've asked the warehouse, back soon"]
    assert [(c, u) for c, u, _ in tickets.staff] == [(conversation_id, "USTAFF")]
    assert await stored(bot) == ["where is order 1042?"]  # no staff text as a customer turn
    assert len(bot.replies()) == answered and len(bot.anthropic.requests) == asked


@pytest.mark.parametrize("sender", ["UACME2", "UGLOBEX"])
async def test_nothing_internal_is_posted_in_a_shared_channel(
    start_bot: Any, connect: FakeSlack, sender: str
) -> None:
    connect.add_channel("C0SHARED", "acme-support", [TEAM_ID, "T0ACME", "T0GLOBEX"])
    bot = await mapped(start_bot, ReplyMode.MENTIONS)
    team = "T0ACME" if sender == "UACME2" else "T0GLOBEX"
    mention = shared_mention(
        "<@UBOT> order 1042 never came, can I talk to a person?", sender, "C0SHARED",
        sender_team=team,
    )  # fmt: skip
    await send(bot, mention)
    posted = bot.slack.posts_in("C0SHARED")
    assert [p["text"] for p in posted] == [replies.HANDED_OFF]
    assert all(p.get("thread_ts") == mention["event"]["ts"] for p in posted)
    leads = " ".join(str(p) for p in bot.slack.posts_in(LEADS))
    assert "1042" in leads  # the internal part went to the leads, and only there
    # A question the bot cannot answer for this sender: the neutral words, no command.
    await send(
        bot, shared_mention("<@UBOT> where is order 2001?", sender, "C0SHARED", sender_team=team)
    )
    posted = bot.slack.posts_in("C0SHARED")
    assert len(posted) == 2
    shared = " ".join(str(p) for p in posted)
    for internal in ("asked", "reason", "draft", "$", "cost", "Globex", "Acme", "supportbot"):
        assert internal not in shared, internal
