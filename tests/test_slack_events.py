"""The answering path end to end: signed requests to /slack/events, the real Bolt app, the real
SDKs against the fake model servers, replies through the fake Slack Web API, rows in the DB."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.store import queries, turns
from bot.store.models import Conversation, Escalation, Message, ModelCall, utcnow
from tests.conftest import Bot, dm, next_ts
from tests.fakes.events import shared_mention, shared_message
from tests.fakes.slack import TEAM_ID, FakeSlack
from tests.helpers import rows


async def test_dm_about_an_order_is_answered_in_thread_with_its_real_status(bot: Bot) -> None:
    event = dm("where is my order 1042?")
    assert await bot.event(event) == 200
    await bot.settle()

    [post] = bot.replies()
    assert post["channel"] == "D0001"
    assert post["thread_ts"] == event["ts"]
    assert "1042" in post["text"] and "shipped" in post["text"]
    assert "1Z999AA10123456784" in post["text"]  # the tracking number from the order store
    # The model saw the tool result as data: the second request carries a tool_result block.
    second = bot.anthropic.requests[1]["messages"][-1]["content"][0]
    assert second["type"] == "tool_result" and "shipped" in second["content"]


async def test_everything_is_recorded_with_tokens_costs_and_the_thread_total(bot: Bot) -> None:
    event = dm("where is my order 1042?")
    await bot.event(event)
    await bot.settle()

    [conv] = await rows(bot, Conversation)
    messages = await rows(bot, Message)
    calls = await rows(bot, ModelCall)
    assert [(m.role, m.status) for m in messages] == [("user", "answered"), ("assistant", "none")]
    assert messages[0].text == "where is my order 1042?"
    assert messages[1].slack_ts == bot.replies()[0]["ts"]
    assert len(calls) == 2
    for call in calls:
        assert (call.provider, call.model, call.tier, call.outcome) == (
            "anthropic",
            "claude-haiku-4-5",
            "primary",
            "ok",
        )
        assert call.input_tokens > 0 and call.output_tokens > 0
        assert call.cost_usd is not None and call.cost_usd > 0
        assert call.usage_raw["input_tokens"] >= 0
        assert call.message_id == messages[0].id
    # The stable prefix (tools + system) was written to the cache once, then read from it.
    assert calls[0].cache_write_tokens > 0 and calls[1].cached_input_tokens > 0
    assert calls[1].confidence is not None and calls[1].confidence > 0.5
    assert conv.total_cost_usd == sum((c.cost_usd for c in calls), Decimal(0))
    assert conv.user_id == "UALICE" and conv.thread_ts == event["ts"]


async def test_mention_in_a_channel_is_answered_under_the_mention_without_the_mention_text(
    bot: Bot,
) -> None:
    ts = next_ts()
    event = {
        "type": "app_mention",
        "channel": "C0001",
        "user": "UALICE",
        "ts": ts,
        "text": "<@UBOT> status of 1043 please",
    }
    await bot.event(event)
    await bot.settle()

    [post] = bot.replies()
    assert (post["channel"], post["thread_ts"]) == ("C0001", ts)
    assert "processing" in post["text"]
    [user_msg, _] = await rows(bot, Message)
    assert user_msg.text == "status of 1043 please"


async def test_a_mention_delivered_as_app_mention_and_message_is_stored_and_answered_once(
    bot: Bot,
) -> None:
    """A mention arrives as `app_mention` and as a `message` with another event id. At the
    top of a channel the listener drops the `message`; inside a thread the bot is in, both
    pass the listener and the (channel, ts) dedupe must answer it once."""
    parent = next_ts()
    first = {
        "type": "app_mention",
        "channel": "C0001",
        "user": "UALICE",
        "ts": parent,
        "text": "<@UBOT> order 1042?",
    }
    assert await bot.event(first) == 200
    assert await bot.event({**first, "type": "message", "channel_type": "channel"}) == 200
    await bot.settle()
    assert len(bot.replies()) == 1
    ts = next_ts()
    mention = {
        "type": "app_mention",
        "channel": "C0001",
        "user": "UALICE",
        "ts": ts,
        "thread_ts": parent,
        "text": "<@UBOT> and order 1043?",
    }
    assert await bot.event(mention) == 200
    assert await bot.event({**mention, "type": "message", "channel_type": "channel"}) == 200
    await bot.settle()
    assert len(bot.replies()) == 2
    users = [m for m in await rows(bot, Message) if m.role == "user"]
    assert [m.slack_ts for m in users] == [parent, ts]


async def test_an_answer_slower_than_many_sweeps_keeps_its_claim(start_bot: Any) -> None:
    """A claim has no lease: while its holder lives and the model is slow, sweep after sweep
    leaves the message alone (the holder is not dead), and the customer gets one answer."""
    bot = await start_bot(sweep_seconds=0.2)
    bot.anthropic.delay = 2.0
    await bot.event(dm("hello there"))
    while not bot.anthropic.requests:  # the answer has started
        await asyncio.sleep(0.01)
    for _ in range(5):
        assert await bot.services.worker.sweep() == 0  # nothing released, nothing pending
        await asyncio.sleep(0.2)
    assert not bot.replies()  # still answering
    await bot.settle()
    assert len(bot.replies()) == 1 and len(bot.anthropic.requests) == 1


async def test_slack_retries_of_one_event_are_answered_once(bot: Bot) -> None:
    event = dm("where is my order 1042?")
    assert await bot.event(event, event_id="Ev1") == 200
    assert await bot.event(event, event_id="Ev1", retry=1) == 200
    assert await bot.event(event, event_id="Ev1", retry=2) == 200
    await bot.settle()
    assert len(bot.replies()) == 1
    assert len(await rows(bot, Message)) == 2


async def test_replies_in_a_thread_the_bot_is_in_are_answered_with_history(bot: Bot) -> None:
    root = next_ts()
    await bot.event(
        {
            "type": "app_mention",
            "channel": "C0001",
            "user": "UALICE",
            "ts": root,
            "text": "<@UBOT> hi",
        }
    )
    await bot.settle()
    await bot.event(
        {
            "type": "message",
            "channel": "C0001",
            "channel_type": "channel",
            "user": "UALICE",
            "ts": next_ts(),
            "thread_ts": root,
            "text": "and order 1043?",
        }
    )
    await bot.settle()
    posts = bot.replies()
    assert len(posts) == 2
    assert posts[1]["thread_ts"] == root and "processing" in posts[1]["text"]
    # The second answer saw the first exchange as history.
    texts = [m["content"][0].get("text") for m in bot.anthropic.requests[-2]["messages"]]
    assert texts[0] == "hi"


async def test_channel_messages_outside_the_bots_threads_are_ignored(bot: Bot) -> None:
    await bot.event(
        {
            "type": "message",
            "channel": "C0001",
            "channel_type": "channel",
            "user": "UALICE",
            "ts": next_ts(),
            "text": "order 1042 anyone?",
        }
    )
    await bot.event(
        {
            "type": "message",
            "channel": "C0001",
            "channel_type": "channel",
            "user": "UALICE",
            "ts": next_ts(),
            "thread_ts": "1.000001",
            "text": "order 1042?",
        }
    )
    await bot.settle()
    assert bot.replies() == []
    assert bot.anthropic.requests == []


async def test_a_thread_is_the_bots_only_in_its_own_channel_and_with_its_own_ts(bot: Bot) -> None:
    """The bot is in thread `root` of C0M. A reply in a thread of the same ts in a channel
    whose id sorts before or after C0M, and a reply in C0M's threads just before and after
    `root`, are in threads the bot is not in: none is answered."""
    root = "1700000000.000500"
    await bot.event(
        {
            "type": "app_mention",
            "channel": "C0M",
            "user": "UALICE",
            "ts": root,
            "text": "<@UBOT> hi",
        }
    )
    await bot.settle()
    answered = len(bot.replies())
    for channel, thread in (
        ("C0A", root),
        ("C0Z", root),
        ("C0M", "1700000000.000499"),
        ("C0M", "1700000000.000501"),
    ):
        await bot.event(
            {
                "type": "message",
                "channel": channel,
                "channel_type": "channel",
                "user": "UALICE",
                "ts": next_ts(),
                "thread_ts": thread,
                "text": "where is order 1042?",
            }
        )
    await bot.settle()
    assert len(bot.replies()) == answered
    assert [m.text for m in await rows(bot, Message) if m.role == "user"] == ["hi"]


async def test_bot_messages_edits_deletes_and_joins_are_ignored(bot: Bot) -> None:
    for extra in (
        {"bot_id": "BOTHER"},
        {"user": "UBOT"},
        {"subtype": "message_changed"},
        {"subtype": "message_deleted"},
        {"subtype": "channel_join"},
        {"subtype": "bot_message", "bot_id": "B1"},
    ):
        await bot.event(dm("order 1042", **extra))
    await bot.settle()
    assert bot.replies() == []
    assert await rows(bot, Message) == []


async def test_someone_elses_order_gets_the_same_answer_as_an_unknown_one(bot: Bot) -> None:
    await bot.event(dm("where is order 2001?", user="UALICE"))  # Bob's order
    await bot.settle()
    await bot.event(dm("where is order 9999?", user="UALICE"))  # no such order
    await bot.settle()
    other, unknown = bot.replies()
    assert other["text"] == unknown["text"]
    for leaked in ("bob@example.com", "delivered", "Rain jacket", "Austin"):
        assert leaked not in other["text"]
    # Nor did the model see Bob's order: the tool result was the plain not-found error.
    result = bot.anthropic.requests[1]["messages"][-1]["content"][0]["content"]
    assert "bob@" not in result and "delivered" not in result


async def test_a_lead_may_look_up_any_order(bot: Bot) -> None:
    await bot.event(dm("where is order 2001?", user="ULEAD"))
    await bot.settle()
    assert "delivered" in bot.replies()[0]["text"]


async def test_a_user_without_email_is_told_how_to_get_linked_and_a_link_works(bot: Bot) -> None:
    await bot.event(dm("where is my order 1042?", user="UNOMAIL"))
    await bot.settle()
    assert "link" in bot.replies()[0]["text"]
    assert "supportbot customers link" in bot.replies()[0]["text"]

    from bot.store.models import CustomerLink

    async with bot.services.db.session() as s:
        s.add(CustomerLink(team_id=TEAM_ID, slack_user_id="UNOMAIL", email="alice@example.com"))
        await s.commit()
    await bot.event(dm("where is my order 1042?", user="UNOMAIL"))
    await bot.settle()
    assert "shipped" in bot.replies()[1]["text"]


async def test_when_every_model_fails_the_customer_gets_an_apology_and_a_person_the_case(
    bot: Bot,
) -> None:
    bot.anthropic.fail(500, times=30)  # the SDK retries; every tier and the summary fail
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    [post] = bot.replies()
    assert "Sorry" in post["text"] and "support team" in post["text"]
    for internal in ("500", "Traceback", "Error", "anthropic"):
        assert internal not in post["text"]
    [user_msg, _] = await rows(bot, Message)
    assert user_msg.text == "where is my order 1042?"  # kept
    [esc] = await rows(bot, Escalation)
    assert "provider_failure" in esc.reasons
    calls = await rows(bot, ModelCall)
    assert {c.outcome for c in calls} == {"server_error"}
    assert {c.tier for c in calls} == {"primary", "strong"}


async def test_an_empty_mention_gets_a_greeting_without_a_model_call(bot: Bot) -> None:
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
    assert "Ask me about an order" in bot.replies()[0]["text"]
    assert bot.anthropic.requests == []


async def test_a_huge_message_is_declined_politely_without_a_model_call(bot: Bot) -> None:
    await bot.event(dm("x" * 40_000))
    await bot.settle()
    assert "too long" in bot.replies()[0]["text"]
    assert bot.anthropic.requests == []
    assert (await rows(bot, Message))[0].text == "x" * 40_000  # nothing lost


async def test_forged_signatures_are_refused_with_no_side_effect(bot: Bot) -> None:
    body = json.dumps(
        {"type": "event_callback", "team_id": "T0001", "event_id": "EvX", "event": dm("order 1042")}
    )
    status, _ = await bot.post(body, signature="v0=" + "0" * 64)
    assert status == 401
    status, _ = await bot.post(body, timestamp=1_600_000_000)  # stale, correctly signed
    assert status == 401
    await bot.settle()
    assert await rows(bot, Message) == []
    assert bot.replies() == []


async def test_url_verification_is_answered(bot: Bot) -> None:
    status, text = await bot.post(json.dumps({"type": "url_verification", "challenge": "abc"}))
    assert status == 200 and "abc" in text


async def test_healthz_answers_when_the_database_does(bot: Bot) -> None:
    async with bot.http.get(str(bot.server.make_url("/healthz"))) as resp:
        assert resp.status == 200
        assert (await resp.json())["ok"] is True


async def test_the_openai_tier_answers_through_function_calling(start_bot: Any) -> None:
    bot = await start_bot(primary_model="openai:gpt-4o-mini")
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    assert "shipped" in bot.replies()[0]["text"]
    assert bot.anthropic.requests == []
    first = bot.openai.requests[0]
    assert first["tool_choice"] == "required"
    assert {t["function"]["name"] for t in first["tools"]} == {
        "lookup_order",
        "list_my_orders",
        "search_help_center",
        "final_answer",
    }
    calls = await rows(bot, ModelCall)
    assert [c.provider for c in calls] == ["openai", "openai"]
    assert calls[1].cached_input_tokens > 0
    assert all(c.cost_usd and c.cost_usd > 0 for c in calls)


async def test_answers_wait_while_requests_are_being_acknowledged(bot: Bot) -> None:
    """In a burst, Slack's 3 s for an acknowledgement matters more than a moment of an answer:
    an answer not yet started waits while another request is being handled."""
    with bot.services.worker.acknowledging():  # another request, still being handled
        assert await bot.event(dm("where is my order 1042?")) == 200
        await asyncio.sleep(0.4)
        assert bot.anthropic.requests == [], "the answer started during an acknowledgement"
    await bot.settle()
    assert "shipped" in bot.replies()[-1]["text"]


async def test_the_wait_for_acknowledgements_is_bounded(bot: Bot) -> None:
    with bot.services.worker.acknowledging():  # a request that never ends
        assert await bot.event(dm("where is my order 1042?")) == 200
        await asyncio.wait_for(bot.settle(), 10)
    assert "shipped" in bot.replies()[-1]["text"]


async def test_every_slack_request_counts_as_being_acknowledged_until_its_listener_is_done(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bolt runs listeners after its middleware: the count must hold through the listener,
    where the message is stored."""
    counts = []
    record_inbound = queries.record_inbound

    async def spy(*args: Any) -> int | None:
        counts.append(bot.services.worker._acknowledging.count)
        return await record_inbound(*args)

    monkeypatch.setattr(queries, "record_inbound", spy)
    assert await bot.event(dm("hello")) == 200
    assert counts == [1]
    assert bot.services.worker._acknowledging.count == 0
    await bot.settle()


async def test_two_quick_messages_in_one_thread_are_answered_in_order(bot: Bot) -> None:
    """The second message arrives while the first is being answered: it waits its turn, and
    its answer sees the first exchange."""
    root = next_ts()
    bot.anthropic.delay = 0.5
    await bot.event(dm("where is my order 1042?", ts=root))
    await asyncio.sleep(0.2)  # the first answer is under way
    await bot.event(dm("and when will it arrive?", thread_ts=root))
    # The sweeper leaves the second one alone meanwhile (it would only fail its claim).
    assert await bot.services.worker.sweep() == 0
    await bot.settle()
    posts = bot.replies()
    assert len(posts) == 2 and all(p["thread_ts"] == root for p in posts)
    assert "shipped" in posts[0]["text"]
    # The second turn's model request carries the first question and its answer.
    last = bot.anthropic.requests[-1]["messages"]
    texts = [part.get("text") for m in last for part in m["content"] if part.get("type") == "text"]
    assert texts[0] == "where is my order 1042?"
    assert any("shipped" in (t or "") for t in texts[1:-1]), (texts, last)
    assert texts[-1] == "and when will it arrive?"
    statuses = [m.status for m in await rows(bot, Message) if m.role == "user"]
    assert statuses == ["answered", "answered"]


async def test_a_turn_the_database_failed_to_finish_is_given_back_and_answered_once(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finishing the turn failed (the database, say): the message is not left held by this
    living process; it is pending again, and the next sweep answers it, once."""
    finish = turns.finish_turn
    failures = [ConnectionError("the database went away")]

    async def failing_once(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return await finish(*args, **kwargs)

    monkeypatch.setattr(turns, "finish_turn", failing_once)
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    [message] = await rows(bot, Message)
    assert (message.status, message.holder, bot.replies()) == ("pending", None, [])
    assert await bot.services.worker.sweep() == 1
    await bot.settle()
    assert len(bot.replies()) == 1 and "shipped" in bot.replies()[0]["text"]
    assert [m.status for m in await rows(bot, Message) if m.role == "user"] == ["answered"]


async def test_a_shared_channel_message_is_stored_under_the_installing_team_not_the_senders(
    bot: Bot, connect: FakeSlack
) -> None:
    """Slack Connect: a customer of another organisation mentions the bot in a shared channel,
    then replies in its thread. Slack's envelope names the *sender's* team at the top level
    (`team_id`, and `event.team` of the message); the conversation belongs to the installing
    team (`authorizations[0]`, Bolt's `context.team_id`), and each message records its
    sender's team, an enterprise id when Slack names only that."""
    mention = shared_mention(
        "<@UBOT> hello, a question about our plan",
        "UACME1",
        "C0SHARED",
        sender_team="E0ACMEORG",
        via="T0ACME",  # delivered through the customer's side, as recorded
    )
    assert mention["team_id"] == "T0ACME" and mention["authorizations"][0]["team_id"] == TEAM_ID
    assert await bot.event(body=mention) == 200
    await bot.settle()
    root = mention["event"]["ts"]
    reply = shared_message(
        "and where is order 1042?", "UACME1", "C0SHARED", sender_team="T0ACME", thread_ts=root
    )
    assert reply["team_id"] == "T0ACME"
    assert await bot.event(body=reply) == 200
    await bot.settle()

    [conversation] = await rows(bot, Conversation)
    assert (conversation.team_id, conversation.channel_id) == (TEAM_ID, "C0SHARED")
    asked = [m for m in await rows(bot, Message) if m.role == "user"]
    assert [(m.text, m.sender_team_id) for m in asked] == [
        ("hello, a question about our plan", "E0ACMEORG"),
        ("and where is order 1042?", "T0ACME"),
    ]
    # The bot's own rows have no sender team.
    assert {m.sender_team_id for m in await rows(bot, Message) if m.role != "user"} <= {""}


async def test_a_message_of_the_installing_team_records_its_own_team_as_the_sender(
    bot: Bot,
) -> None:
    await bot.event(dm("where is my order 1042?", team=TEAM_ID))
    await bot.settle()
    [conversation] = await rows(bot, Conversation)
    [asked] = [m for m in await rows(bot, Message) if m.role == "user"]
    assert (conversation.team_id, asked.sender_team_id) == (TEAM_ID, TEAM_ID)


async def test_a_message_is_stored_at_the_time_of_the_services_clock(bot: Bot) -> None:
    """`Services.clock` is when the listener took the message: a frozen clock in a test is the
    message's and the new conversation's `created_at`."""
    frozen = (utcnow() - timedelta(minutes=5)).replace(microsecond=0)
    bot.services.clock = lambda: frozen
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    [conversation] = await rows(bot, Conversation)
    [asked] = [m for m in await rows(bot, Message) if m.role == "user"]
    stored = [asked.created_at, conversation.created_at]
    assert [t if t.tzinfo else t.replace(tzinfo=UTC) for t in stored] == [frozen, frozen]


async def test_a_slash_command_is_posted_signed_with_its_team(bot: Bot) -> None:
    status, body = await bot.command("/costs", "today", user="ULEAD", team=TEAM_ID)
    assert status == 200 and json.loads(body)["response_type"] == "ephemeral"
