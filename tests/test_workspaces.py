"""Several workspaces in one deployment (issue 15, item 5): every conversation, model call,
escalation, outbox row and thumb carries its team, and a lead sees and acts on their own
workspace's data only. Two teams' rows come through the real inbound path (signed events whose
`authorizations[0]` names the installing team, tests/fakes/events.py), in single-workspace
mode."""

from __future__ import annotations

from typing import Any

from bot.store.models import Conversation, Escalation, Feedback, ModelCall
from tests.conftest import Bot, dm
from tests.fakes.events import envelope
from tests.fakes.slack import TEAM_ID
from tests.helpers import rows
from tests.test_escalation_flow import LEADS
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
