"""Manners in a Slack Connect channel (issue 15, item 3), over the real Bolt request path: the
company's own staff are not answered as customers, and in the bot's thread only requests are
answered, not chatter; in the company's own channels a thread reply is answered as before."""

from __future__ import annotations

import json
from typing import Any

from bot.account_blocks import ChannelAction
from bot.accounts.views import AccountView, ChannelMapping, ReplyMode
from bot.listeners import accounts as accounts_listener
from bot.store.account_models import SharedChannel
from bot.store.accounts import NewAccount, add_account
from bot.store.models import Message
from bot.store.workspace_models import Workspace
from tests.conftest import TEAM_ID, Bot
from tests.fakes.events import (
    channel_shared,
    envelope,
    member_joined,
    shared_mention,
    shared_message,
)
from tests.fakes.slack import BOT_USER_ID, FakeSlack
from tests.helpers import rows
from tests.test_workspaces import open_home


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


# Recognition and the leads' suggestion (docs/issue-15-plan.md §9 B4).

LEADS = "CLEADS"


def blocks_of(post: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = post.get("blocks") or []
    return list(json.loads(blocks) if isinstance(blocks, str) else blocks)


def buttons_of(post: dict[str, Any]) -> dict[str, str]:
    """The action ids of the post's buttons and selects, to their value (a select: '')."""
    return {
        e["action_id"]: e.get("value", "")
        for b in blocks_of(post)
        if b["type"] == "actions"
        for e in b["elements"]
    }


async def leads_bot(start_bot: Any, **overrides: Any) -> tuple[Bot, AccountView, AccountView]:
    """A bot with a leads channel and two accounts, Acme (acme.com) and Globex."""
    bot = await start_bot(leads_channel=LEADS, **overrides)
    db = bot.services.db
    acme = await add_account(db, NewAccount(TEAM_ID, "Acme Corp", "priority", ("acme.com",)))
    globex = await add_account(db, NewAccount(TEAM_ID, "Globex", "standard", ("globex.com",)))
    return bot, acme, globex


async def channel_row(bot: Bot, channel: str, team: str = TEAM_ID) -> SharedChannel | None:
    async with bot.services.db.session() as s:
        return await s.get(SharedChannel, (team, channel))


async def choose(
    bot: Bot,
    action: str,
    value: str,
    user: str = "ULEAD",
    team: str = TEAM_ID,
    in_home: bool = False,
) -> tuple[int, str]:
    """A lead's button (or, for account_link, the select) on the leads post, or in App Home."""
    container = (
        {"type": "view", "view_id": "VHOME"}
        if in_home
        else {"type": "message", "channel_id": LEADS, "message_ts": "1.1"}
    )
    element: dict[str, Any] = {"type": "button", "action_id": action, "value": value}
    if action == ChannelAction.LINK:
        element = {
            "type": "static_select",
            "action_id": action,
            "selected_option": {"value": value},
        }
    return await bot.interaction(
        {
            "type": "block_actions",
            "team": {"id": team},
            "user": {"id": user, "username": user.lower(), "team_id": team},
            "container": container,
            **({} if in_home else {"channel": {"id": LEADS, "name": "leads"}}),
            "trigger_id": "1337.42.trigger",
            "actions": [element | {"block_id": "shared_channel", "action_ts": "1.2"}],
        }
    )


async def test_a_new_shared_channel_gets_one_suggestion_for_leads_from_the_connected_teams_name_and_domain(  # noqa: E501
    start_bot: Any, connect: FakeSlack
) -> None:
    bot, acme, _ = await leads_bot(start_bot)
    for _ in range(2):  # Slack's event, delivered twice
        assert await bot.event(body=channel_shared("C0SHARED", "T0ACME")) == 200
    assert await bot.event(body=member_joined("C0SHARED", BOT_USER_ID)) == 200
    [post] = bot.slack.posts()
    assert post["channel"] == LEADS and bot.slack.posts_in("C0SHARED") == []
    text = json.dumps(blocks_of(post))
    assert "*Acme* (acme.com)" in text and "*Acme Corp*" in text
    assert buttons_of(post)[ChannelAction.CONFIRM] == f"C0SHARED|{acme.id}"
    assert [c.args["team"] for c in bot.slack.calls_to("team.info")][:1] == ["T0ACME"]
    row = await channel_row(bot, "C0SHARED")
    assert row is not None and row.mapping == ChannelMapping.PENDING
    assert row.suggested_account_id == acme.id and row.suggested_at is not None
    assert [(t["id"], t["name"], t["email_domain"]) for t in row.external_teams] == [
        ("T0ACME", "Acme", "acme.com")
    ]
    # Until a lead confirms, the channel discloses no account.
    view = await bot.services.channels.cached(TEAM_ID, "C0SHARED")
    assert view is not None and view.account is None


async def test_confirming_maps_the_channel_and_records_the_accounts_slack_teams(
    start_bot: Any, connect: FakeSlack
) -> None:
    bot, acme, _ = await leads_bot(start_bot)
    await bot.event(body=channel_shared("C0SHARED", "T0ACME"))
    [post] = bot.slack.posts()
    status, _ = await choose(bot, ChannelAction.CONFIRM, buttons_of(post)[ChannelAction.CONFIRM])
    assert status == 200
    row = await channel_row(bot, "C0SHARED")
    assert row is not None and row.mapping == ChannelMapping.CONFIRMED
    assert (row.account_id, row.confirmed_by) == (acme.id, "ULEAD")
    assert row.confirmed_at is not None
    view = await bot.services.channels.cached(TEAM_ID, "C0SHARED")
    assert view is not None and view.account is not None
    assert view.account.name == "Acme Corp" and view.account.slack_team_ids == {"T0ACME"}
    [update] = bot.slack.calls_to("chat.update")
    assert update.args["channel"] == LEADS and "confirmed by <@ULEAD>" in json.dumps(
        update.args["blocks"]
    )
    # The reply-mode toggle on the updated post.
    await choose(bot, ChannelAction.REPLY_MODE, "C0SHARED|requests")
    row = await channel_row(bot, "C0SHARED")
    assert row is not None and row.reply_mode == ReplyMode.REQUESTS
    assert bot.slack.posts_in("C0SHARED") == []


async def test_only_leads_of_the_workspace_may_confirm_or_link(
    start_bot: Any, connect: FakeSlack
) -> None:
    bot, acme, globex = await leads_bot(start_bot)
    async with bot.services.db.session() as s:
        s.add(Workspace(team_id="T0002", leads_channel="C0LEADS2", lead_users=["UBOSS"]))
        await s.commit()
    await bot.event(body=channel_shared("C0SHARED", "T0ACME"))
    confirm = f"C0SHARED|{acme.id}"
    await choose(bot, ChannelAction.CONFIRM, confirm, user="UALICE")  # not a lead
    await choose(bot, ChannelAction.LINK, f"C0SHARED|{globex.id}", user="UALICE")
    await choose(bot, ChannelAction.IGNORE, "C0SHARED|", user="UALICE")
    await choose(bot, ChannelAction.CONFIRM, confirm, user="UBOSS", team="T0002")  # other's lead
    notes = [c.args["text"] for c in bot.slack.calls_to("chat.postEphemeral")]
    assert notes == [accounts_listener.NOT_A_LEAD] * 3 + [accounts_listener.NO_RECORD]
    row = await channel_row(bot, "C0SHARED")
    assert row is not None and (row.mapping, row.account_id) == (ChannelMapping.PENDING, None)
    assert bot.slack.calls_to("chat.update") == []
    # The workspace's lead links it to another account than the one suggested.
    await choose(bot, ChannelAction.LINK, f"C0SHARED|{globex.id}")
    row = await channel_row(bot, "C0SHARED")
    assert row is not None and (row.mapping, row.account_id) == ("confirmed", globex.id)


async def test_a_channel_shared_with_two_outside_orgs_is_never_suggested_as_one_account(
    start_bot: Any, connect: FakeSlack
) -> None:
    bot, acme, _ = await leads_bot(start_bot)
    connect.add_team("T0INITECH", "Initech", "initech", email_domain="initech.com")  # no account
    connect.add_channel("C0MULTI", "partners", [TEAM_ID, "T0ACME", "T0INITECH"])
    await bot.event(body=member_joined("C0MULTI", BOT_USER_ID))
    [post] = bot.slack.posts_in(LEADS)
    assert ChannelAction.CONFIRM not in buttons_of(post)
    assert "several organisations" in json.dumps(blocks_of(post))
    row = await channel_row(bot, "C0MULTI")
    assert row is not None and row.suggested_account_id is None
    assert {t["id"] for t in row.external_teams} == {"T0ACME", "T0INITECH"}
    # A lead may still link it; no organisation in it becomes the account's own.
    await choose(bot, ChannelAction.LINK, f"C0MULTI|{acme.id}")
    view = await bot.services.channels.cached(TEAM_ID, "C0MULTI")
    assert view is not None and view.account is not None and view.account.slack_team_ids == set()


async def test_conversations_info_without_connected_team_ids_falls_back_to_shared_team_ids_then_to_senders(  # noqa: E501
    start_bot: Any, connect: FakeSlack
) -> None:
    bot, _, _ = await leads_bot(start_bot)
    connect.add_channel("C0LESS", "acme-less", [TEAM_ID, "T0ACME"], omit={"connected_team_ids"})
    await bot.event(body=member_joined("C0LESS", BOT_USER_ID))
    row = await channel_row(bot, "C0LESS")
    assert row is not None and [t["id"] for t in row.external_teams] == ["T0ACME"]
    unnamed = {"connected_team_ids", "shared_team_ids"}
    connect.add_channel("C0BARE", "acme-bare", [TEAM_ID, "T0ACME"], omit=unnamed)
    await bot.event(body=member_joined("C0BARE", BOT_USER_ID))
    row = await channel_row(bot, "C0BARE")
    assert row is not None and row.external_teams == []  # shared, with whom Slack did not say
    assert len(bot.slack.posts_in(LEADS)) == 1  # C0LESS's suggestion; none for C0BARE
    mention = shared_mention("<@UBOT> hello there", "UACME1", "C0BARE", sender_team="T0ACME")
    await bot.event(body=mention)
    await bot.settle()
    await bot.event(body=channel_shared("C0BARE", "T0ACME"))
    row = await channel_row(bot, "C0BARE")
    assert row is not None and [(t["id"], t["name"]) for t in row.external_teams] == [
        ("T0ACME", "Acme")
    ]
    assert len(bot.slack.posts_in(LEADS)) == 2  # C0BARE suggested now, once


async def test_app_home_shows_accounts_and_channels_to_map(
    start_bot: Any, connect: FakeSlack
) -> None:
    bot, acme, _ = await leads_bot(start_bot)
    await add_account(
        bot.services.db, NewAccount(TEAM_ID, "Hooli <!here>", "standard", ("hooli.io",))
    )
    await bot.event(body=channel_shared("C0SHARED", "T0ACME"))
    home = await open_home(bot, TEAM_ID)
    assert "Shared channels to map" in home and "*Acme* (acme.com)" in home
    assert f"C0SHARED|{acme.id}" in home  # the Confirm button, as in the leads post
    assert "Accounts" in home and "*Acme Corp* \\u00b7 tier priority" in home
    mrkdwn = [b["text"]["text"] for b in json.loads(home)["blocks"] if b["type"] == "section"]
    assert any("Hooli &lt;!here&gt;" in t for t in mrkdwn)
    assert not any("<!here>" in t for t in mrkdwn)
    published = len(bot.slack.calls_to("views.publish"))
    await choose(bot, ChannelAction.CONFIRM, f"C0SHARED|{acme.id}", in_home=True)
    [republished] = bot.slack.calls_to("views.publish")[published:]  # the Home, up to date
    assert republished.args["user_id"] == "ULEAD"
    home = json.dumps(republished.args["view"])
    assert "None: every shared channel I am in is mapped or ignored." in home
    assert "Channels: <#C0SHARED> (mentions)" in home
    # Another workspace's leads see none of it; a customer sees no section at all.
    other = await open_home(bot, "T0002")
    assert "Acme" not in other and "No accounts yet" in other
    event = {"type": "app_home_opened", "user": "UALICE", "channel": "D0001", "tab": "home"}
    await bot.event(body=envelope(event))
    customer = json.dumps(bot.slack.calls_to("views.publish")[-1].args["view"])
    assert "Accounts" not in customer and "Acme" not in customer


async def test_a_channel_no_longer_shared_outside_loses_its_row(
    start_bot: Any, connect: FakeSlack
) -> None:
    bot, _, _ = await leads_bot(start_bot)
    await bot.event(body=channel_shared("C0SHARED", "T0ACME"))
    assert await bot.services.channels.is_shared(TEAM_ID, "C0SHARED")
    connect.add_channel("C0SHARED", "acme-support", [TEAM_ID])  # Acme left the channel
    unshared = channel_shared("C0SHARED", "T0ACME")
    unshared["event"]["type"] = "channel_unshared"
    unshared["event"]["previously_connected_team_id"] = unshared["event"].pop("connected_team_id")
    assert await bot.event(body=unshared) == 200
    assert await channel_row(bot, "C0SHARED") is None
    assert not await bot.services.channels.is_shared(TEAM_ID, "C0SHARED")
    assert len(bot.slack.posts_in(LEADS)) == 1  # the first suggestion only
