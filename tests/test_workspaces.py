"""Several workspaces in one deployment (issue 15, item 5): every conversation, model call,
escalation, outbox row and thumb carries its team, and a lead sees and acts on their own
workspace's data only. Two teams' rows come through the real inbound path (signed events whose
`authorizations[0]` names the installing team, tests/fakes/events.py), in single-workspace
mode."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.cli import main
from bot.costs import format_usd
from bot.listeners.review import NO_RECORD
from bot.store.db import Database
from bot.store.models import (
    Conversation,
    CustomerLink,
    Escalation,
    Feedback,
    ModelCall,
    PostKind,
)
from bot.store.queries import Inbound, message_and_conversation, record_inbound
from bot.store.workspace_models import Workspace
from bot.workspaces import Workspaces
from tests.conftest import Bot, dm
from tests.fakes.events import envelope
from tests.fakes.slack import TEAM_ID
from tests.helpers import open_escalation, rows
from tests.test_escalation_flow import LEADS
from tests.test_round_trips import Counter
from tests.test_slack_experience import click_feedback

OTHER = "T0002"  # a second workspace: its events reach the bot with its own authorization


async def two_workspaces(start_bot: Any, **overrides: Any) -> Bot:
    """A bot whose leads are ULEAD; an order above 10 goes to a person, so a question about
    an order is a model call and an escalation."""
    return await start_bot(**({"leads_channel": LEADS, "high_value_order": "10"} | overrides))


ORDERS = {"UALICE": "1042", "UBOB": "2001"}  # each customer's own order


async def ask(bot: Bot, team: str, user: str, text: str = "") -> None:
    """A customer's DM to the bot about their order, delivered as an installation of `team`
    receives it."""
    channel = "D0001" if team == TEAM_ID else "D0002"
    text = text or f"where is my order {ORDERS[user]}?"
    await bot.event(body=envelope(dm(text, user=user, channel=channel), installing_team=team))
    await bot.settle()


async def test_every_row_of_a_turn_carries_its_conversations_workspace(start_bot: Any) -> None:
    bot = await two_workspaces(start_bot)
    await ask(bot, TEAM_ID, "UALICE")
    await ask(bot, OTHER, "UBOB")
    teams = {c.id: c.team_id for c in await rows(bot, Conversation)}
    assert sorted(teams.values()) == [TEAM_ID, OTHER]
    calls, escalations = await rows(bot, ModelCall), await rows(bot, Escalation)
    posts = await bot.outbox()
    assert calls and len(escalations) == 2 and len(posts) == 4  # a notice and a leads post each
    for row in [*calls, *escalations, *posts]:
        assert row.conversation_id is not None
        assert row.team_id == teams[row.conversation_id], row
    assert {p.team_id for p in posts} == {TEAM_ID, OTHER}


async def test_a_thumb_carries_the_workspace_of_the_answer_it_rates(start_bot: Any) -> None:
    bot = await two_workspaces(start_bot, high_value_order="100000")
    await ask(bot, OTHER, "UBOB")
    [answer] = [p for p in bot.replies() if p["channel"] == "D0002"]
    await click_feedback(bot, answer, "feedback_up", user="UBOB")
    [thumb] = await rows(bot, Feedback)
    assert thumb.team_id == OTHER


async def costs(bot: Bot, text: str, team: str, user: str = "ULEAD") -> dict[str, Any]:
    """A lead's `/costs` as Slack posts it from workspace `team`: the private answer."""
    status, body = await bot.command("/costs", text, user=user, team=team)
    assert status == 200, body
    answer: dict[str, Any] = json.loads(body)
    assert answer["response_type"] == "ephemeral"
    return answer


async def test_costs_for_a_lead_of_one_workspace_count_only_that_workspaces_calls(
    start_bot: Any,
) -> None:
    bot = await two_workspaces(start_bot)
    await ask(bot, TEAM_ID, "UALICE")
    await ask(bot, OTHER, "UBOB")
    await ask(bot, OTHER, "UBOB", "and my order 2002?")
    spent = {TEAM_ID: Decimal(0), OTHER: Decimal(0)}
    for call in await rows(bot, ModelCall):
        spent[call.team_id] += call.cost_usd or Decimal(0)
    assert spent[TEAM_ID] and spent[OTHER]
    for team, threads in ((TEAM_ID, 1), (OTHER, 2)):
        answer = await costs(bot, "today", team)
        assert (
            answer["text"] == f"Costs today: {format_usd(spent[team])} over {threads} conversations"
        )
    bob = await costs(bot, "<@UBOB> today", TEAM_ID)  # Bob asked in the other workspace only
    assert bob["text"] == f"<@UBOB> today: {format_usd(Decimal(0))}"


async def test_a_thread_link_of_another_workspace_reads_as_no_record(start_bot: Any) -> None:
    bot = await two_workspaces(start_bot)
    await ask(bot, OTHER, "UBOB")
    [thread] = await rows(bot, Conversation)
    ts = thread.thread_ts.replace(".", "")
    link = f"<https://fake.slack.com/archives/{thread.channel_id}/p{ts}>"
    theirs = await costs(bot, link, OTHER)
    assert theirs["text"].startswith("Thread costs: ")
    ours = await costs(bot, link, TEAM_ID)
    assert "no record of that thread" in ours["text"] and "blocks" not in ours


async def open_home(bot: Bot, team: str) -> str:
    """ULEAD opens the bot's App Home in workspace `team`: the view published, as JSON."""
    event = {"type": "app_home_opened", "user": "ULEAD", "channel": "D0LEAD", "tab": "home"}
    await bot.event(body=envelope(event, installing_team=team))
    view = bot.slack.calls_to("views.publish")[-1].args
    assert view["user_id"] == "ULEAD"
    return json.dumps(view["view"])


async def test_app_home_lists_only_the_workspaces_escalations(start_bot: Any) -> None:
    bot = await two_workspaces(start_bot)
    await ask(bot, TEAM_ID, "UALICE")
    await ask(bot, OTHER, "UBOB")
    assert len(await rows(bot, Escalation)) == 2
    ours = await open_home(bot, TEAM_ID)
    assert "<@UALICE>" in ours and "<@UBOB>" not in ours
    theirs = await open_home(bot, OTHER)
    assert "<@UBOB>" in theirs and "<@UALICE>" not in theirs


async def test_a_lead_cannot_act_on_another_workspaces_escalation_and_nothing_changes(
    start_bot: Any,
) -> None:
    bot = await two_workspaces(start_bot)
    await ask(bot, OTHER, "UBOB")
    [esc] = await rows(bot, Escalation)
    posted = len(bot.replies())
    for action in ("escalation_send_draft", "escalation_take_over", "escalation_dismiss"):
        status, _ = await bot.click(action, str(esc.id), team=TEAM_ID)
        assert status == 200
    status, _ = await bot.click("escalation_send_edited", str(esc.id), team=TEAM_ID)
    assert status == 200 and bot.slack.calls_to("views.open") == []
    refusals = bot.slack.calls_to("chat.postEphemeral")
    assert [r.args["text"] for r in refusals] == [NO_RECORD] * 4
    assert all(r.args["user"] == "ULEAD" for r in refusals)
    [after] = await rows(bot, Escalation)
    assert (after.status, after.lead_user_id, after.resolution) == ("open", None, None)
    assert len(bot.replies()) == posted  # nothing reached the customer or the leads
    # The workspace's own lead may act on it.
    status, _ = await bot.click("escalation_dismiss", str(esc.id), team=OTHER)
    [after] = await rows(bot, Escalation)
    assert after.status == "dismissed"


async def give_settings(bot: Bot, team: str, leads_channel: str, lead_users: list[str]) -> None:
    """Workspace `team`'s own row, as `supportbot workspaces set` will write it."""
    async with bot.services.db.session() as s:
        s.add(Workspace(team_id=team, leads_channel=leads_channel, lead_users=lead_users))
        await s.commit()


async def test_each_workspace_has_its_own_leads_and_leads_channel(start_bot: Any) -> None:
    bot = await two_workspaces(start_bot)
    await give_settings(bot, OTHER, "C0LEADS2", ["UBOSS"])
    await ask(bot, TEAM_ID, "UALICE")
    await ask(bot, OTHER, "UBOB")
    posts = {p.team_id: p for p in await bot.outbox() if p.kind == PostKind.LEADS_ESCALATION}
    assert (posts[TEAM_ID].channel_id, posts[OTHER].channel_id) == (LEADS, "C0LEADS2")
    # ULEAD leads the bot's own workspace (SUPPORTBOT_LEAD_USERS), not the other one.
    refused = await costs(bot, "today", OTHER)
    assert refused["text"].startswith("Sorry, `/costs` is only for support leads")
    assert "<@UBOB>" not in await open_home(bot, OTHER)
    assert (await costs(bot, "today", OTHER, "UBOSS"))["text"].startswith("Costs today: ")
    refused = await costs(bot, "today", TEAM_ID, "UBOSS")
    assert refused["text"].startswith("Sorry, `/costs` is only for support leads")
    [theirs] = [e for e in await rows(bot, Escalation) if e.team_id == OTHER]
    await bot.click("escalation_dismiss", str(theirs.id), team=OTHER)  # ULEAD: not theirs
    [refusal] = bot.slack.calls_to("chat.postEphemeral")
    assert "only support leads" in refusal.args["text"]
    await bot.click("escalation_dismiss", str(theirs.id), user="UBOSS", team=OTHER)
    [theirs] = [e for e in await rows(bot, Escalation) if e.team_id == OTHER]
    assert (theirs.status, theirs.lead_user_id) == ("dismissed", "UBOSS")


async def test_existing_rows_are_adopted_by_the_single_workspace_at_start(
    start_bot: Any,
) -> None:
    """Rows stored before teams were recorded ('' ) become the bot's workspace's when a
    single-workspace process starts; its row takes the leads settings; a second start changes
    nothing."""
    first = await two_workspaces(start_bot)
    await ask(first, TEAM_ID, "UALICE")
    tables = ("conversation", "model_call", "escalation", "outbox")
    async with first.services.db.engine.begin() as conn:
        for table in tables:
            await conn.execute(text(f"UPDATE {table} SET team_id = ''"))
    second = await two_workspaces(start_bot, lead_users=["ULEAD", "UBOSS"])
    async with second.services.db.engine.connect() as conn:
        for table in tables:
            teams = (await conn.execute(text(f"SELECT DISTINCT team_id FROM {table}"))).all()
            assert [t for (t,) in teams] == [TEAM_ID], table
    [workspace] = await rows(second, Workspace)
    assert (workspace.team_id, workspace.leads_channel) == (TEAM_ID, LEADS)
    assert workspace.lead_users == ["ULEAD", "UBOSS"]
    assert "<@UALICE>" in await open_home(second, TEAM_ID)
    with Counter(second) as counted:  # a later start (another replica) reads, writes nothing
        await second.services.workspaces.adopt(TEAM_ID)
    assert counted.statements == ["SELECT", "SELECT"] and counted.commits == 0


async def test_a_workspaces_settings_are_read_again_after_a_minute(start_bot: Any) -> None:
    bot = await two_workspaces(start_bot)
    now = [1000.0]
    workspaces = Workspaces(
        bot.services.db,
        leads_channel=LEADS,
        lead_users=["ULEAD"],
        listed=bot.services.identity.listed,
        clock=lambda: now[0],
    )
    assert await workspaces.is_lead(OTHER, "ULEAD")  # no row: the process's settings
    await give_settings(bot, OTHER, "C0LEADS2", ["UBOSS"])
    now[0] += 59
    assert await workspaces.is_lead(OTHER, "ULEAD")
    now[0] += 2
    assert not await workspaces.is_lead(OTHER, "ULEAD")
    assert await workspaces.is_lead(OTHER, "UBOSS")
    assert await workspaces.leads_channel(OTHER) == "C0LEADS2"
    assert not await workspaces.is_lead(TEAM_ID, "UBOSS")


async def _seed_two_teams(url: str) -> None:
    """An open escalation in each of two workspaces, stored as the inbound path stores them."""
    db = Database(url)
    await db.upgrade()
    for n, team in enumerate((TEAM_ID, OTHER)):
        message_id = await record_inbound(
            db, Inbound(team, "D1", f"1.{n}", "UALICE", "help", f"1.{n}")
        )
        assert message_id is not None
        _, conv = await message_and_conversation(db, message_id)
        await open_escalation(
            db, conversation_id=conv.id or 0, message_id=message_id, reasons=["customer_request"],
            confidence=None, findings=[], summary="s", draft="", leads_channel="",
        )  # fmt: skip
    await db.close()


def test_cli_costs_stats_and_escalations_take_a_team_and_require_one_when_there_are_several(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/teams.db"
    asyncio.run(_seed_two_teams(url))
    monkeypatch.setenv("DATABASE_URL", url)
    for command in (["escalations"], ["stats"], ["costs"]):
        assert main(command) == 2, command
        assert f"several workspaces: pass --team, one of {TEAM_ID}, {OTHER}" in (
            capsys.readouterr().err
        )
    assert main(["escalations", "--team", OTHER, "--json"]) == 0
    [theirs] = json.loads(capsys.readouterr().out)
    assert theirs["team_id"] == OTHER
    assert main(["costs", "--team", TEAM_ID, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["conversations"] == 1
    assert main(["stats", "--team", OTHER, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["conversations"] == 1
    assert main(["costs", "--team", "T0NONE"]) == 2
    assert f"no workspace 'T0NONE'; known: {TEAM_ID}, {OTHER}" in capsys.readouterr().err


def test_workspaces_set_and_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/set.db")
    assert main(["workspaces", "set", OTHER, "--leads-channel", "C0LEADS2"]) == 0
    assert main(["workspaces", "set", OTHER, "--lead-users", "UBOSS, S0GROUP"]) == 0
    assert main(["workspaces", "set", OTHER]) == 2
    capsys.readouterr()
    assert main(["workspaces", "list", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["team_id"], row["leads_channel"], row["lead_users"]) == (
        OTHER,
        "C0LEADS2",
        ["UBOSS", "S0GROUP"],
    )
    assert main(["workspaces", "list"]) == 0
    assert capsys.readouterr().out == f"{OTHER} leads channel C0LEADS2, leads UBOSS,S0GROUP\n"


async def test_a_customer_link_holds_in_its_own_workspace_only(start_bot: Any) -> None:
    bot = await start_bot()
    async with bot.services.db.session() as s:  # a lead of the other workspace linked UNOMAIL
        s.add(CustomerLink(team_id=OTHER, slack_user_id="UNOMAIL", email="alice@example.com"))
        await s.commit()
    await ask(bot, TEAM_ID, "UNOMAIL", "where is my order 1042?")
    [ours] = [p["text"] for p in bot.replies() if p["channel"] == "D0001"]
    assert "shipped" not in ours  # no link here: Alice's order is not UNOMAIL's
    await ask(bot, OTHER, "UNOMAIL", "where is my order 1042?")
    [theirs] = [p["text"] for p in bot.replies() if p["channel"] == "D0002"]
    assert "shipped" in theirs


async def test_a_lead_of_one_workspace_asking_in_another_is_a_customer_there(
    start_bot: Any,
) -> None:
    """Leads may look up any order; a lead of one workspace is not a lead of another, so there
    they get only their own orders (ULEAD, lead@example.com, has none)."""
    bot = await start_bot()
    bot.slack.add_user("UBOSS", "boss@example.com", "Boss")
    await give_settings(bot, OTHER, "C0LEADS2", ["UBOSS"])

    async def answer(team: str, user: str) -> str:
        await ask(bot, team, user, "where is my order 1042?")
        channel = "D0001" if team == TEAM_ID else "D0002"
        return str([p["text"] for p in bot.replies() if p["channel"] == channel][-1])

    assert "shipped" in await answer(TEAM_ID, "ULEAD")
    assert "shipped" not in await answer(OTHER, "ULEAD")
    assert "shipped" in await answer(OTHER, "UBOSS")
