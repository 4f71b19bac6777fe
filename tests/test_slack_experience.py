"""The Slack-native experience: agent view prompts, thinking status, feedback, formatting."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest

from bot import metrics
from bot.store import feedback
from bot.store.models import Conversation, Escalation, Feedback, Message, utcnow
from tests.conftest import Bot, dm, next_ts
from tests.fakes.events import feedback_click
from tests.fakes.models import Turn, final
from tests.helpers import rows


def blocks_of(post: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = post.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


async def test_starting_an_assistant_thread_sets_the_configured_prompts(start_bot: Any) -> None:
    bot = await start_bot(suggested_prompts=["Where is my order?", "Returns"])
    await bot.event(
        {
            "type": "assistant_thread_started",
            "assistant_thread": {"user_id": "UALICE", "channel_id": "D0001", "thread_ts": "9.1"},
        }
    )
    [call] = bot.slack.calls_to("assistant.threads.setSuggestedPrompts")
    assert call.args["channel_id"] == "D0001" and call.args["thread_ts"] == "9.1"
    prompts = call.args["prompts"]
    assert [p["message"] for p in prompts] == ["Where is my order?", "Returns"]


async def test_a_dm_shows_a_thinking_status_before_the_answer(bot: Bot) -> None:
    event = dm("where is my order 1042?")
    await bot.event(event)
    await bot.settle()
    methods = [c.method for c in bot.slack.calls if c.method.startswith(("assistant", "chat"))]
    assert methods == ["assistant.threads.setStatus", "chat.postMessage"]
    [status] = bot.slack.calls_to("assistant.threads.setStatus")
    assert status.args["thread_ts"] == event["ts"] and status.args["status"]
    assert status.args["loading_messages"]


async def test_the_thinking_status_does_not_hold_up_the_model_nor_come_after_the_reply(
    bot: Bot,
) -> None:
    bot.slack.delays["assistant.threads.setStatus"] = 1.0  # a slow Slack
    await bot.event(dm("where is my order 1042?"))

    async def model_asked() -> None:
        while not bot.anthropic.requests:
            await asyncio.sleep(0.01)

    await asyncio.wait_for(model_asked(), 5)
    [status] = bot.slack.calls_to("assistant.threads.setStatus")
    assert status.answered == 0.0  # the model was asked while Slack still took the status
    await bot.settle()
    [post] = bot.slack.calls_to("chat.postMessage")
    assert post.arrived >= status.answered > 0.0  # the reply came after, and clears it


async def test_no_thinking_status_outside_dms(bot: Bot) -> None:
    await bot.event(
        {
            "type": "app_mention",
            "channel": "C0001",
            "user": "UALICE",
            "ts": next_ts(),
            "text": "<@UBOT> order 1042",
        }
    )
    await bot.settle()
    assert bot.slack.calls_to("assistant.threads.setStatus") == []


async def test_a_thread_held_by_a_person_clears_the_thinking_status(start_bot: Any) -> None:
    bot = await start_bot()
    root = dm("agent please")
    await bot.event(root)
    await bot.settle()
    await bot.event(dm("hello?", ts=next_ts(), thread_ts=root["ts"]))
    await bot.settle()
    statuses = [c.args["status"] for c in bot.slack.calls_to("assistant.threads.setStatus")]
    assert statuses[-1] == ""


async def test_answers_carry_feedback_buttons_but_fixed_replies_do_not(bot: Bot) -> None:
    await bot.event(dm("where is my order 1042?"))
    await bot.event(
        {
            "type": "app_mention",
            "channel": "C0001",
            "user": "UALICE",
            "ts": next_ts(),
            "text": "<@UBOT>",
        }
    )
    await bot.settle()
    answer, greeting = sorted(bot.replies(), key=lambda p: p["channel"], reverse=True)
    assert "feedback_up" in json.dumps(blocks_of(answer))
    assert "feedback_" not in json.dumps(blocks_of(greeting))


async def click_feedback(bot: Bot, post: dict[str, Any], action: str, user: str = "UALICE") -> None:
    await bot.interaction(feedback_click(post, action, user))


async def test_thumbs_up_and_down_are_stored_per_answer_and_a_vote_can_change(bot: Bot) -> None:
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    [answer] = bot.replies()
    await click_feedback(bot, answer, "feedback_up")
    [vote] = await rows(bot, Feedback)
    assert (vote.value, vote.tier, vote.user_id) == ("up", "primary", "UALICE")
    await click_feedback(bot, answer, "feedback_down")
    [vote] = await rows(bot, Feedback)
    assert vote.value == "down"
    [offer] = bot.slack.calls_to("chat.postEphemeral")
    assert offer.args["user"] == "UALICE" and "Talk to a person" in json.dumps(offer.args["blocks"])


async def talk_to_a_person(bot: Bot, answer: dict[str, Any]) -> None:
    """A thumbs-down on the answer, then the "Talk to a person" button it offers."""
    await click_feedback(bot, answer, "feedback_down")
    offer = blocks_of(bot.slack.calls_to("chat.postEphemeral")[-1].args)
    button = offer[0]["accessory"]
    await bot.interaction(
        {
            "type": "block_actions",
            "user": {"id": "UALICE"},
            "container": {"type": "ephemeral", "channel_id": "D0001", "message_ts": "5.5"},
            "channel": {"id": "D0001"},
            "trigger_id": "1.2.4",
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "value": button["value"],
                    "block_id": "x",
                    "action_ts": "1.0",
                }
            ],
        }
    )


async def test_talk_to_a_person_after_a_thumbs_down_hands_off(start_bot: Any) -> None:
    bot = await start_bot(leads_channel="CLEADS")
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    [answer] = bot.replies()
    await talk_to_a_person(bot, answer)
    [esc] = await rows(bot, Escalation)
    assert esc.reasons == ["customer_request"]
    assert "1Z999AA10123456784" in esc.draft  # the answer the customer disliked
    notices = [p for p in bot.replies() if p["channel"] == "D0001"]
    assert "support team" in notices[-1]["text"]
    assert [p for p in bot.replies() if p["channel"] == "CLEADS"]


def escalations_counted() -> float:
    """`supportbot_escalations_total` over every reason, in this process's registry."""
    return sum(
        sample.value
        for family in metrics.ESCALATIONS.collect()
        for sample in family.samples
        if sample.name.endswith("_total")
    )


@pytest.mark.parametrize(
    ("script", "strong_tier"),
    [
        ([final("Order 1043 is being packed.", 0.95)], False),
        # The strong tier answers: the conversation would be marked escalated.
        ([final("Maybe packed?", 0.3), final("Order 1043 is being packed.", 0.95)], True),
        # Unsure twice: a second handoff.
        ([final("Maybe packed?", 0.3), final("Perhaps packed?", 0.3)], True),
    ],
    ids=["primary", "strong", "handoff"],
)
async def test_a_reply_prepared_while_the_customer_asks_for_a_person_is_held(
    start_bot: Any, script: list[Turn], strong_tier: bool
) -> None:
    """The customer asks for a person (under the first answer) while the bot is still
    answering the next message: that answer is never posted after the handoff notice, and
    the thread stays the person's."""
    bot = await start_bot(leads_channel="CLEADS")
    first = dm("where is my order 1042?")
    await bot.event(first)
    await bot.settle()
    [answer] = bot.replies()
    counted = escalations_counted()
    bot.anthropic.hold_next = slow = asyncio.Event()
    asked = len(bot.anthropic.requests)
    await bot.event(dm("and order 1043?", ts=next_ts(), thread_ts=first["ts"]))
    while len(bot.anthropic.requests) == asked:  # the second answer is being prepared
        await asyncio.sleep(0.01)
    await talk_to_a_person(bot, answer)
    bot.anthropic.script = list(script)  # for the held request, read once it is let go
    slow.set()
    await bot.settle()
    models = [r["model"] for r in bot.anthropic.requests[asked:]]
    assert ("claude-sonnet-4-5" in models) == strong_tier
    customer = [p for p in bot.replies() if p["channel"] == "D0001"]
    assert "support team" in customer[-1]["text"]  # nothing after the handoff notice
    assert not any("being packed" in p["text"] for p in customer)
    assert len(await rows(bot, Escalation)) == 1
    assert escalations_counted() - counted == 1  # the held handoff is neither counted nor logged
    [conv] = await rows(bot, Conversation)
    assert conv.status == "handed_off"
    [second] = [m for m in await rows(bot, Message) if m.text == "and order 1043?"]
    assert second.status == "held"
    assert not bot.slack.calls_to("assistant.threads.setStatus")[-1].args["status"]


async def test_satisfaction_by_tier_and_resolution_rate(bot: Bot) -> None:
    await bot.event(dm("where is my order 1042?"))  # answered, thumbs up
    await bot.event(dm("where is my order 1043?"))  # answered, thumbs down
    await bot.event(dm("agent please"))  # handed to a person
    await bot.settle()
    answers = [p for p in bot.replies() if "feedback_up" in json.dumps(blocks_of(p))]
    await click_feedback(bot, answers[0], "feedback_up")
    await click_feedback(bot, answers[1], "feedback_down")
    figures = await feedback.stats(bot.services.db, utcnow() - timedelta(days=1))
    primary = next(t for t in figures.by_tier if t.tier == "primary")
    assert (primary.up, primary.down, primary.satisfaction) == (1, 1, 0.5)
    assert figures.conversations == 3 and figures.resolved_by_bot == 1
    assert abs((figures.resolution_rate or 0) - 1 / 3) < 1e-9


async def test_markdown_becomes_slack_mrkdwn_and_long_answers_are_split(bot: Bot) -> None:
    body = "\n\n".join(f"Paragraph {i}: " + "words " * 150 for i in range(12))
    bot.anthropic.script = [final(f"**Good news**, see `1042`.\n\n{body}")]
    await bot.event(dm("tell me everything"))
    await bot.settle()
    posts = bot.replies()
    assert len(posts) > 1
    assert all(len(p["text"]) <= 3000 for p in posts)
    assert posts[0]["text"].startswith("*Good news*, see `1042`.")
    assert all(p["thread_ts"] == posts[0]["thread_ts"] for p in posts)
    # Feedback only under the last piece.
    assert ["feedback_up" in json.dumps(blocks_of(p)) for p in posts].count(True) == 1
    assert "feedback_up" in json.dumps(blocks_of(posts[-1]))
