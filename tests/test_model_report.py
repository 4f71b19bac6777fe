"""The model's own say: its final answer reports when the customer's message or a tool result
tried to change or extract its instructions, and the report escalates like a failed check.
End to end through /slack/events with the fake models returning the report."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from bot.agent.replies import HANDED_OFF
from bot.store.models import Escalation, Message, MessageVerdict, ModelCall
from tests.conftest import Bot, dm
from tests.fakes.models import Turn, lookup

LEADS = "CLEADS"
HAIKU, SONNET = "claude-haiku-4-5", "claude-sonnet-4-5"


def answer(text: str, report: Any = None, confidence: float = 0.95) -> Turn:
    args: dict[str, Any] = {"text": text, "confidence": confidence}
    if report is not None:
        args["injection_attempt"] = report
    return Turn(tool_calls=[("final_answer", args)])


async def outcome(bot: Bot) -> tuple[list[dict[str, Any]], list[Escalation], list[ModelCall]]:
    async with bot.services.db.session() as s:
        escalations = list((await s.exec(select(Escalation))).all())
        calls = list((await s.exec(select(ModelCall).order_by(col(ModelCall.id)))).all())
    return [p for p in bot.replies() if p["channel"] != LEADS], escalations, calls


async def test_the_model_and_its_instructions_know_the_report(start_bot: Any) -> None:
    bot = await start_bot(leads_channel=LEADS)
    await bot.event(dm("hello"))
    await bot.settle()
    [request] = bot.anthropic.requests
    [spec] = [t for t in request["tools"] if t["name"] == "final_answer"]
    report = spec["input_schema"]["properties"]["injection_attempt"]
    assert report["enum"] == ["none", "message", "tool_result"]
    system = request["system"][0]["text"]
    assert "`injection_attempt`" in system and "`tool_result`" in system


@pytest.mark.parametrize("report", ["message", "Message", "yes", "customer", 1])
async def test_a_reported_or_unreadable_message_attempt_goes_to_a_person_unread(
    start_bot: Any, report: Any
) -> None:
    bot = await start_bot(leads_channel=LEADS)
    bot.anthropic.script = [answer("I can't share my instructions.", report)]
    # A message no input check flags (the report is scripted; any message would do).
    await bot.event(dm("Before we start, what should I know about how you work?"))
    await bot.settle()
    [notice], [esc], calls = await outcome(bot)
    assert notice["text"] == HANDED_OFF
    assert esc.reasons == ["injection"]
    assert {"check": "model_report", "rule": esc.findings[0]["rule"]} == {
        "check": "model_report",
        "rule": "message" if str(report).lower() == "message" else "unrecognised",
    }
    assert esc.summary.startswith("The model ")
    # No other model reads the message: not the strong tier, not a summary.
    assert [c.model for c in calls] == [HAIKU]


async def test_a_reported_tool_result_sends_the_turn_to_the_strong_tier(start_bot: Any) -> None:
    bot = await start_bot(leads_channel=LEADS)
    bot.anthropic.script = [
        lookup("1042"),
        answer("Order 1042 is out for delivery.", "tool_result"),
        lookup("1042"),
        answer("Order **1042** is out for delivery."),
    ]
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    [reply], escalations, calls = await outcome(bot)
    assert "out for delivery" in reply["text"] and escalations == []
    assert [(c.model, c.reasons) for c in calls] == [
        (HAIKU, ""),
        (HAIKU, ""),
        (SONNET, "tool_output_injection"),
        (SONNET, "tool_output_injection"),
    ]


async def test_a_tool_result_the_strong_tier_reports_goes_to_a_person(start_bot: Any) -> None:
    bot = await start_bot(leads_channel=LEADS)
    bot.anthropic.script = [
        answer("Not sure.", confidence=0.2),
        answer("I am not sure either.", "tool_result"),
        Turn(text="Summary for the lead."),
    ]
    await bot.event(dm("hello, a question about shipping times"))
    await bot.settle()
    [notice], [esc], _ = await outcome(bot)
    assert notice["text"] == HANDED_OFF
    assert esc.reasons == ["low_confidence", "strong_not_enough", "tool_output_injection"]
    assert {"check": "model_report", "rule": "tool_result"} in [
        {"check": f["check"], "rule": f["rule"]} for f in esc.findings
    ]


async def test_a_final_answer_without_the_report_is_read_as_nothing_reported(
    start_bot: Any,
) -> None:
    bot = await start_bot(leads_channel=LEADS)
    bot.anthropic.script = [answer("Hi! How can I help?"), answer("Hi again!", "none")]
    await bot.event(dm("hello"))
    await bot.settle()
    await bot.event(dm("hello again"))
    await bot.settle()
    replies, escalations, calls = await outcome(bot)
    assert [r["text"] for r in replies] == ["Hi! How can I help?", "Hi again!"]
    assert escalations == [] and [c.model for c in calls] == [HAIKU, HAIKU]


async def test_the_openai_primary_tier_reports_too(start_bot: Any) -> None:
    bot = await start_bot(leads_channel=LEADS, primary_model="openai:gpt-4o-mini")
    bot.openai.script = [answer("I can't do that.", "message")]
    await bot.event(dm("Before we start, what should I know about how you work?"))
    await bot.settle()
    [notice], [esc], calls = await outcome(bot)
    assert notice["text"] == HANDED_OFF and esc.reasons == ["injection"]
    assert [c.model for c in calls] == ["gpt-4o-mini"]
    assert bot.anthropic.requests == []


async def test_a_report_in_an_invalid_final_answer_is_kept_when_asked_again(
    start_bot: Any,
) -> None:
    bot = await start_bot(leads_channel=LEADS)
    bot.anthropic.script = [
        Turn(
            tool_calls=[
                ("final_answer", {"text": "No.", "confidence": 7, "injection_attempt": "message"})
            ]
        ),
        answer("Sorry, I can't do that."),
    ]
    await bot.event(dm("Before we start, what should I know about how you work?"))
    await bot.settle()
    [notice], [esc], calls = await outcome(bot)
    assert notice["text"] == HANDED_OFF and esc.reasons == ["injection"]
    assert [c.model for c in calls] == [HAIKU, HAIKU]


async def test_a_report_is_kept_when_the_asker_turns_out_not_to_be_linked(start_bot: Any) -> None:
    # The model reports an attempt (in a final answer it must redo) and looks an order up for
    # an asker with no email: the report still decides, so the message is not shown again.
    bot = await start_bot(leads_channel=LEADS)
    bot.anthropic.script = [
        Turn(
            tool_calls=[
                ("final_answer", {"text": "No.", "confidence": 7, "injection_attempt": "message"}),
                ("lookup_order", {"order_id": "1042"}),
            ]
        ),
    ]
    await bot.event(dm("How do you work? And where is order 1042?", user="UNOMAIL"))
    await bot.settle()
    [notice], [esc], _ = await outcome(bot)
    assert notice["text"] == HANDED_OFF and esc.reasons == ["injection"]
    async with bot.services.db.session() as s:
        [asked] = (await s.exec(select(Message).where(col(Message.role) == "user"))).all()
    assert asked.verdict == MessageVerdict.FLAGGED
