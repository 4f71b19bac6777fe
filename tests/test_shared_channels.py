"""Manners in a Slack Connect channel (issue 15, item 3), over the real Bolt request path: the
company's own staff are not answered as customers, and in the bot's thread only requests are
answered, not chatter; in the company's own channels a thread reply is answered as before."""

from __future__ import annotations

from bot.store.models import Message
from tests.conftest import TEAM_ID, Bot
from tests.fakes.events import shared_mention, shared_message
from tests.fakes.slack import FakeSlack
from tests.helpers import rows


async def asked(bot: Bot) -> list[str]:
    return [m.text for m in await rows(bot, Message) if m.role == "user"]


async def test_staff_in_a_shared_channel_are_not_answered_as_customers(
    bot: Bot, connect: FakeSlack
) -> None:
    mention = shared_mention(
        "<@UBOT> where is order 1042?", "USTAFF", "C0SHARED", sender_team=TEAM_ID
    )
    assert await bot.event(body=mention) == 200
    await bot.settle()
    assert await asked(bot) == [] and bot.anthropic.requests == []
    assert bot.replies() == []


async def test_chatter_in_a_shared_channels_thread_is_not_answered_but_a_request_is(
    bot: Bot, connect: FakeSlack
) -> None:
    mention = shared_mention(
        "<@UBOT> hello, a question about our plan", "UACME1", "C0SHARED", sender_team="T0ACME"
    )
    await bot.event(body=mention)
    await bot.settle()
    root, answered = mention["event"]["ts"], len(bot.replies())
    assert answered == 1
    for chatter, user in (
        ("thanks!", "UACME1"),
        ("<@UACME1> I'll look at the pricing page too", "UACME2"),  # a colleague's aside
        (":+1:", "UACME2"),
        ("Let me check with finance", "USTAFF"),  # staff, in the customer's channel
    ):
        team = TEAM_ID if user == "USTAFF" else "T0ACME"
        reply = shared_message(chatter, user, "C0SHARED", sender_team=team, thread_ts=root)
        assert await bot.event(body=reply) == 200
    await bot.settle()
    assert await asked(bot) == ["hello, a question about our plan"]
    assert len(bot.replies()) == answered
    request = shared_message(
        "thanks, and where is order 1042?",
        "UACME2",
        "C0SHARED",
        sender_team="T0ACME",
        thread_ts=root,
    )
    await bot.event(body=request)
    await bot.settle()
    assert await asked(bot) == [
        "hello, a question about our plan",
        "thanks, and where is order 1042?",
    ]
    assert len(bot.replies()) == answered + 1


async def test_in_the_companys_own_channel_a_thanks_in_the_bots_thread_is_answered(
    bot: Bot, fake_slack: FakeSlack
) -> None:
    mention = shared_mention(
        "<@UBOT> where is order 1042?", "UALICE", "C0GENERAL", sender_team=TEAM_ID
    )
    mention["is_ext_shared_channel"] = False
    await bot.event(body=mention)
    await bot.settle()
    root = mention["event"]["ts"]
    thanks = shared_message("thanks!", "UALICE", "C0GENERAL", sender_team=TEAM_ID, thread_ts=root)
    thanks["is_ext_shared_channel"] = False
    await bot.event(body=thanks)
    await bot.settle()
    assert await asked(bot) == ["where is order 1042?", "thanks!"]
