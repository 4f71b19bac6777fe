"""Internal-only surfaces (issue 15, item 3: "never post internal information there; slash
commands and lead actions are internal only"), over the real Bolt request path against the
fake Slack: `/costs` in a Slack Connect channel or by a user of another organisation, a lead
button or form used by someone of another organisation, and a leads channel that is itself
shared with another organisation."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from bot.listeners.leads import IN_SHARED_CHANNEL, NOT_FROM_HERE
from bot.slack_blocks import EDIT_CALLBACK
from bot.store.models import Escalation
from tests.conftest import Bot
from tests.fakes.slack import TEAM_ID, FakeSlack
from tests.helpers import rows
from tests.test_workspaces import ask, open_home

LEADS = "CLEADS"


async def private_answer(bot: Bot, text: str, user: str, channel: str, team: str) -> str:
    status, body = await bot.command("/costs", text, user=user, channel=channel, team=team)
    assert status == 200, body
    answer = json.loads(body)
    assert answer["response_type"] == "ephemeral"
    return str(answer["text"])


async def test_costs_in_a_shared_channel_or_by_an_external_user_is_refused(
    start_bot: Any, connect: FakeSlack
) -> None:
    # UACME1 is named a lead by mistake: being listed does not make a customer one of us.
    bot = await start_bot(leads_channel=LEADS, lead_users=["ULEAD", "UACME1"])
    assert (await private_answer(bot, "today", "ULEAD", LEADS, TEAM_ID)).startswith("Costs ")
    # A lead of the workspace, in the channel shared with Acme: no figures, no chart.
    assert await private_answer(bot, "today", "ULEAD", "C0SHARED", TEAM_ID) == IN_SHARED_CHANNEL
    assert await private_answer(bot, "chart", "ULEAD", "C0SHARED", TEAM_ID) == IN_SHARED_CHANNEL
    # Acme's own user, the command run from Acme's side of the shared channel.
    assert await private_answer(bot, "today", "UACME1", "C0SHARED", "T0ACME") == IN_SHARED_CHANNEL
    assert bot.slack.calls_to("files.upload") == []
    assert bot.slack.calls_to("files.getUploadURLExternal") == []
    assert bot.slack.posts() == []


async def test_a_lead_action_by_an_external_user_is_refused(
    start_bot: Any, connect: FakeSlack
) -> None:
    bot = await start_bot(
        leads_channel=LEADS, high_value_order="10", lead_users=["ULEAD", "UACME1"]
    )
    await ask(bot, TEAM_ID, "UALICE")
    [esc] = await rows(bot, Escalation)
    # Acme's UACME1 (listed as a lead by mistake) clicks in the leads channel of T0001.
    for action in ("escalation_send_draft", "escalation_dismiss", "escalation_send_edited"):
        status, _ = await bot.click(action, str(esc.id), user="UACME1", user_team="T0ACME")
        assert status == 200
    refusals = [c.args["text"] for c in bot.slack.calls_to("chat.postEphemeral")]
    assert refusals == [NOT_FROM_HERE] * 3
    assert bot.slack.calls_to("views.open") == []
    # The edit form submitted by them: refused under the answer, the form stays open.
    form = {
        "type": "view_submission",
        "user": {"id": "UACME1", "username": "uacme1", "team_id": "T0ACME"},
        "trigger_id": "1337.43.trigger",
        "view": {
            "id": "V0001",
            "type": "modal",
            "callback_id": EDIT_CALLBACK,
            "private_metadata": str(esc.id),
            "state": {"values": {"answer": {"answer": {"type": "plain_text_input", "value": "x"}}}},
        },
        "response_urls": [],
    }
    status, body = await bot.interaction(form)
    assert status == 200 and NOT_FROM_HERE in body
    [after] = await rows(bot, Escalation)
    assert (after.status, after.lead_user_id, after.resolution) == ("open", None, None)
    # The workspace's own lead still acts.
    await bot.click("escalation_dismiss", str(esc.id))
    [after] = await rows(bot, Escalation)
    assert (after.status, after.lead_user_id) == ("dismissed", "ULEAD")


async def test_a_shared_leads_channel_is_never_posted_to(
    start_bot: Any, connect: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    connect.add_channel(LEADS, "leads", [TEAM_ID, "T0ACME"])  # set to a Slack Connect channel
    bot = await start_bot(leads_channel=LEADS, high_value_order="10")
    with caplog.at_level(logging.INFO):
        await ask(bot, TEAM_ID, "UALICE", "where is my order 1042? it is urgent, Zebulon")
        await bot.services.poster.alert(TEAM_ID, "The workspace budget is spent for today.")
    [esc] = await rows(bot, Escalation)
    assert esc.status == "open"  # escalated, listed in App Home
    assert bot.slack.posts_in(LEADS) == []
    assert [p["channel"] for p in bot.slack.posts()] == ["D0001"]  # the customer's notice only
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert any("shared with another organisation" in line for line in logged)
    assert not any("Zebulon" in line for line in logged)
    home = await open_home(bot, TEAM_ID)
    assert "is shared with another organisation" in home and "<@UALICE>" in home
