"""Tickets and business-hours SLAs end to end: customer messages over the real Bolt request path
with the fake Slack, a frozen clock shared by the services and the listeners (no test sleeps),
the worker's sweep scheduling clocks and telling the leads of reminders and breaches once."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from bot.accounts.views import ChannelMapping
from bot.cli import main
from bot.slack_links import thread_url
from bot.store.account_models import Account, SharedChannel
from bot.store.models import Conversation, Escalation
from bot.store.sla_models import SlaClock
from tests.conftest import TEAM_ID, Bot, dm
from tests.fakes.events import shared_mention
from tests.fakes.slack import FakeSlack
from tests.helpers import rows

BERLIN = ZoneInfo("Europe/Berlin")
LEADS = "CLEADS"
FRIDAY_1630 = datetime(2026, 3, 6, 16, 30, tzinfo=BERLIN)  # a Friday, before the DST change
SLA = {"standard": {"first_response": "1h", "next_response": "2h"}}


class FrozenClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, at: datetime) -> None:
        self.at = at.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.at

    def set(self, at: datetime) -> None:
        self.at = at.astimezone(UTC)


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=BERLIN)


async def sla_bot(start_bot: Any, clock: FrozenClock, sla: Any = SLA) -> Bot:
    return await start_bot(
        clock=clock, leads_channel=LEADS, timezone="Europe/Berlin", sla=sla,
        sla_remind_before="30m",
    )  # fmt: skip


async def hand_off(bot: Bot, text: str = "can I talk to a person?", **extra: Any) -> dict[str, Any]:
    """A customer message the bot hands to the leads: its clock keeps running."""
    event = dm(text, **extra)
    await bot.event(event)
    await bot.settle()
    return event


async def clocks(bot: Bot) -> list[SlaClock]:
    async with bot.services.db.session() as s:
        return list((await s.exec(select(SlaClock).order_by(col(SlaClock.id)))).all())


async def ticket(bot: Bot) -> Conversation:
    [conversation] = await rows(bot, Conversation)
    return conversation


def utc(at: datetime | None) -> datetime | None:
    return None if at is None else at.replace(tzinfo=UTC) if at.tzinfo is None else at


def alerts(slack: FakeSlack) -> list[str]:
    return [p["text"] for p in slack.posts() if "SLA" in (p.get("text") or "")]


async def react(bot: Bot, reaction: str, user: str, ts: str, channel: str = "D0001") -> None:
    item = {"type": "message", "channel": channel, "ts": ts}
    event = {"type": "reaction_added", "user": user, "reaction": reaction, "item": item}
    assert await bot.event(event | {"item_user": "UALICE", "event_ts": ts}) == 200


async def test_a_first_response_target_counts_business_hours_only(start_bot: Any) -> None:
    clock = FrozenClock(FRIDAY_1630)
    bot = await sla_bot(start_bot, clock)
    await hand_off(bot)
    await bot.services.worker.sweep()
    [clock_row] = await clocks(bot)
    assert (clock_row.kind, clock_row.tier) == ("first_response", "standard")
    assert utc(clock_row.started_at) == FRIDAY_1630
    assert utc(clock_row.due_at) == berlin(9, 9, 30)  # 30 min on Friday, 30 on Monday
    assert utc(clock_row.remind_at) == berlin(9, 9, 0)  # Friday's closing: Monday's opening
    assert (await ticket(bot)).ticket_status == "waiting_on_us"


async def test_leads_are_reminded_before_a_breach_and_told_of_the_breach_once(
    start_bot: Any,
) -> None:
    clock = FrozenClock(FRIDAY_1630)
    bot = await sla_bot(start_bot, clock)
    other = await sla_bot(start_bot, clock)  # a second replica on the same database
    event = await hand_off(bot)
    sweeps = (bot.services.worker.sweep, other.services.worker.sweep)
    for at in (berlin(7, 12), berlin(8, 16)):  # Saturday, Sunday: nothing
        clock.set(at)
        await asyncio.gather(*(sweep() for sweep in sweeps))
    assert alerts(bot.slack) == []

    clock.set(berlin(9, 9, 5))
    for _ in range(2):
        await asyncio.gather(*(sweep() for sweep in sweeps))
    [reminder] = alerts(bot.slack)
    assert "at risk" in reminder and "Mon 09 Mar 09:30 (Europe/Berlin)" in reminder
    assert thread_url("D0001", event["ts"]) in reminder and "nobody yet" in reminder

    clock.set(berlin(9, 9, 31))
    for _ in range(2):
        await asyncio.gather(*(sweep() for sweep in sweeps))
    assert alerts(bot.slack)[0] == reminder
    [breach] = alerts(bot.slack)[1:]
    assert "breached" in breach and "first response" in breach
    sla_posts = [p for p in bot.slack.posts() if "SLA" in p["text"]]
    assert {p["channel"] for p in sla_posts} == {LEADS}  # never in the customer's channel
    [clock_row] = await clocks(bot)
    assert clock_row.reminded_at is not None and clock_row.breached_at is not None


async def test_a_bot_answer_stops_the_clock_and_the_ticket_waits_on_the_customer(
    start_bot: Any,
) -> None:
    clock = FrozenClock(berlin(9, 10))
    bot = await sla_bot(start_bot, clock)
    await bot.event(dm("hello, what can you do?"))
    await bot.settle()
    assert any("order number" in p["text"] for p in bot.slack.posts_in("D0001"))
    [clock_row] = await clocks(bot)
    assert (clock_row.closed_reason, utc(clock_row.closed_at)) == ("responded", berlin(9, 10))
    assert (await ticket(bot)).ticket_status == "waiting_on_customer"
    clock.set(berlin(10, 12))  # a day later: nothing to remind of
    await bot.services.worker.sweep()
    assert alerts(bot.slack) == []
    assert (await clocks(bot))[0].business_seconds == 0


async def test_a_handoff_notice_is_not_a_response(start_bot: Any) -> None:
    bot = await sla_bot(start_bot, FrozenClock(berlin(9, 10)))
    await hand_off(bot)
    [clock_row] = await clocks(bot)
    assert clock_row.closed_at is None
    assert (await ticket(bot)).ticket_status == "waiting_on_us"


async def test_a_staff_reply_counts_as_a_response(start_bot: Any) -> None:
    clock = FrozenClock(berlin(6, 16, 50))
    bot = await sla_bot(start_bot, clock)
    await hand_off(bot)
    conversation = await ticket(bot)
    assert conversation.id is not None
    await bot.services.tickets.staff_replied(conversation.id, "USTAFF", berlin(9, 9, 15))
    clock.set(berlin(9, 12))
    await bot.services.worker.sweep()
    [clock_row] = await clocks(bot)
    assert clock_row.closed_reason == "responded"
    assert clock_row.business_seconds == 25 * 60  # 10 min on Friday, 15 on Monday
    assert (await ticket(bot)).ticket_status == "waiting_on_customer"
    assert alerts(bot.slack) == []


async def test_a_check_mark_by_staff_resolves_and_eyes_takes_ownership(
    start_bot: Any, connect: FakeSlack
) -> None:
    clock = FrozenClock(FRIDAY_1630)
    bot = await sla_bot(start_bot, clock)
    event = await hand_off(bot)
    await react(bot, "eyes", "USTAFF", event["ts"])
    assert (await ticket(bot)).owner_user_id == "USTAFF"
    await react(bot, "white_check_mark", "ULEAD", event["ts"])
    resolved = await ticket(bot)
    assert (resolved.ticket_status, utc(resolved.resolved_at)) == ("resolved", FRIDAY_1630)
    [clock_row] = await clocks(bot)
    assert clock_row.closed_reason == "resolved"
    clock.set(berlin(9, 12))  # past its due time: a resolved clock is never a breach
    await bot.services.worker.sweep()
    assert alerts(bot.slack) == []


async def test_a_customers_reactions_change_nothing(start_bot: Any, connect: FakeSlack) -> None:
    bot = await sla_bot(start_bot, FrozenClock(FRIDAY_1630))
    event = await hand_off(bot)
    for user in ("UALICE", "UACME1"):  # the asker herself; someone of another organisation
        for reaction in ("white_check_mark", "eyes"):
            await react(bot, reaction, user, event["ts"])
    conversation = await ticket(bot)
    assert (conversation.ticket_status, conversation.owner_user_id) == ("waiting_on_us", None)
    [clock_row] = await clocks(bot)
    assert clock_row.closed_at is None


async def test_a_customer_message_on_a_resolved_ticket_reopens_with_a_next_response_target(
    start_bot: Any,
) -> None:
    clock = FrozenClock(berlin(9, 10))
    bot = await sla_bot(start_bot, clock)
    first = dm("hello, what can you do?")
    await bot.event(first)
    await bot.settle()
    await react(bot, "white_check_mark", "ULEAD", first["ts"])
    assert (await ticket(bot)).ticket_status == "resolved"
    clock.set(berlin(9, 11))
    await hand_off(bot, "can I talk to a person?", thread_ts=first["ts"])
    assert (await ticket(bot)).ticket_status == "waiting_on_us"
    await bot.services.worker.sweep()
    answered, reopened = await clocks(bot)
    assert (answered.kind, answered.closed_reason) == ("first_response", "responded")
    assert (reopened.kind, reopened.closed_at) == ("next_response", None)
    assert utc(reopened.due_at) == berlin(9, 13)  # the next-response target: 2 h


async def test_stats_and_app_home_show_breaches_and_response_times(
    start_bot: Any, database_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    clock = FrozenClock(berlin(9, 10))
    bot = await sla_bot(start_bot, clock)
    await bot.event(dm("hello, what can you do?", user="UBOB"))  # answered at once
    await bot.settle()
    waiting = await hand_off(bot)  # UALICE's: breached at 11:00
    await react(bot, "eyes", "ULEAD", waiting["ts"])
    clock.set(berlin(9, 11, 5))
    await bot.services.worker.sweep()

    await bot.event({"type": "app_home_opened", "user": "ULEAD", "channel": "D0L", "tab": "home"})
    [published] = bot.slack.calls_to("views.publish")
    home = json.dumps(published.args["view"])
    tickets = home[home.index("At risk / breached") :]  # after the open escalations
    at_risk, mine = tickets.split('"Mine"')
    assert thread_url("D0001", waiting["ts"]) in at_risk and "<@ULEAD>" in at_risk
    assert thread_url("D0001", waiting["ts"]) in mine and "waiting on us" in mine
    assert "breached" in home and "first response due Mon 09 Mar 11:00" in home

    for name, value in {"DATABASE_URL": database_url, "SUPPORTBOT_TIMEZONE": "Europe/Berlin",
                        "SUPPORTBOT_SLA": json.dumps(SLA)}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    assert await asyncio.to_thread(main, ["stats", "--days", "3650", "--json"]) == 0
    sla = json.loads(capsys.readouterr().out)["sla"]
    assert sla["first_response"] == {
        "count": 1, "median_business_minutes": 0.0, "p90_business_minutes": 0.0, "breached": 1,
    }  # fmt: skip
    assert sla["next_response"]["count"] == 0
    assert sla["open"] == {"at_risk": 0, "breached": 1}
    assert await asyncio.to_thread(main, ["stats", "--days", "3650"]) == 0
    text = capsys.readouterr().out
    assert "SLA (business minutes)" in text and "1 at risk" not in text and "1 breached" in text


async def test_a_leads_answer_stops_the_clock(start_bot: Any) -> None:
    bot = await sla_bot(start_bot, FrozenClock(berlin(9, 10)))
    await hand_off(bot)
    [escalation] = await rows(bot, Escalation)
    answer = {
        "answer": {"text": {"type": "plain_text_input", "value": "Lee here: it ships today."}}
    }
    status, _ = await bot.submit_view("escalation_edit", str(escalation.id), answer)
    assert status == 200
    await bot.settle()
    assert any("Lee here" in p["text"] for p in bot.slack.posts_in("D0001"))
    [clock_row] = await clocks(bot)
    assert clock_row.closed_reason == "responded"
    assert (await ticket(bot)).ticket_status == "waiting_on_customer"


async def test_a_mapped_channels_account_gives_the_tier_and_its_name_to_the_alert(
    start_bot: Any, connect: FakeSlack
) -> None:
    clock = FrozenClock(berlin(9, 10))
    tiers = SLA | {"priority": {"first_response": "45m", "next_response": "90m"}}
    bot = await sla_bot(start_bot, clock, tiers)
    async with bot.services.db.session() as s:
        account = Account(team_id=TEAM_ID, name="Acme <!channel> & Co", tier="priority")
        s.add(account)
        await s.flush()
        s.add(
            SharedChannel(
                team_id=TEAM_ID,
                channel_id="C0SHARED",
                account_id=account.id,
                mapping=ChannelMapping.CONFIRMED,
            )
        )
        await s.commit()
    mention = shared_mention(
        "<@UBOT> can I talk to a person?", "UACME2", "C0SHARED", sender_team="T0ACME"
    )
    assert await bot.event(body=mention) == 200
    await bot.settle()
    await bot.services.worker.sweep()
    [clock_row] = await clocks(bot)
    assert (clock_row.tier, utc(clock_row.due_at)) == ("priority", berlin(9, 10, 45))
    clock.set(berlin(9, 10, 46))
    await bot.services.worker.sweep()
    [breach] = alerts(bot.slack)
    assert "Account: Acme &lt;!channel&gt; &amp; Co." in breach and "<!channel>" not in breach
    assert [p for p in bot.slack.posts_in("C0SHARED") if "SLA" in p["text"]] == []


async def test_a_message_written_while_the_answer_was_prepared_gets_its_own_clock(
    start_bot: Any,
) -> None:
    clock = FrozenClock(berlin(9, 10))
    bot = await sla_bot(start_bot, clock)
    bot.anthropic.hold_next = slow = asyncio.Event()
    first = dm("hello, what can you do?")
    await bot.event(first)
    while not bot.anthropic.requests:  # the first answer is being prepared
        await asyncio.sleep(0.01)
    clock.set(berlin(9, 10, 5))
    await bot.event(dm("can I talk to a person?", thread_ts=first["ts"]))
    slow.set()
    await bot.settle()
    answered, waiting = await clocks(bot)
    assert (answered.closed_reason, utc(answered.closed_at)) == ("responded", berlin(9, 10, 5))
    assert (waiting.kind, utc(waiting.started_at)) == ("next_response", berlin(9, 10, 5))
    assert waiting.closed_at is None
    assert (await ticket(bot)).ticket_status == "waiting_on_us"
