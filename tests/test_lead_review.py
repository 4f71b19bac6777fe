"""What a lead sends is what they saw, and passes the output checks at the moment of sending;
the buttons under an answer are the asker's; everything a customer wrote is shown escaped.

All through /slack/events: signed events, block_actions and view_submission payloads."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import text

from bot.agent.prompts import canary_for, render
from bot.agent.replies import HANDED_OFF, REVIEWED_MARK
from bot.slack_format import to_mrkdwn
from bot.store import escalations, outbox
from bot.store.models import (
    Conversation,
    Escalation,
    Feedback,
    Message,
    PostKind,
    utcnow,
)
from escalation.review import LeadAction
from tests.conftest import Bot, dm, next_ts
from tests.fakes.models import Turn, final
from tests.fakes.slack import TEAM_ID
from tests.helpers import open_escalation
from tests.test_budgets import channel_thread
from tests.test_escalation_flow import LEADS, customer_posts, hand_off, lead_bot, leads_posts, rows
from tests.test_slack_experience import blocks_of, click_feedback

# Ordinary words: no identifier or email the answer-data check would flag.
FILLER = "Your parcel is with the carrier and should arrive within a few working days.\n"


def actions_of(blocks: list[dict[str, Any]]) -> list[str]:
    found = [b for b in blocks if b["type"] == "actions"]
    return [e["action_id"] for e in found[0]["elements"]] if found else []


def shown_text(blocks: list[dict[str, Any]]) -> str:
    """The mrkdwn of every section, as Slack receives it."""
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b)


async def escalation_with_draft(bot: Bot, draft: str) -> Escalation:
    """An escalation whose stored draft no check flagged (a customer's request for a person
    keeps the answer they disliked as the draft), posted to the leads channel."""
    event = dm("where is my order 1042?")
    await bot.event(event)
    await bot.settle()
    [message] = [m for m in await rows(bot, Message) if m.slack_ts == event["ts"]]
    esc = await open_escalation(
        bot.services.db,
        conversation_id=message.conversation_id,
        message_id=message.id or 0,
        reasons=["customer_request"],
        confidence=None,
        findings=[],
        summary="Wants a person.",
        draft=draft,
        leads_channel=LEADS,
    )
    now, holder = utcnow(), bot.services.holders.me
    async with bot.services.db.engine.begin() as conn:  # its leads post, as a handoff writes it
        post_id = await outbox.add_leads_post(
            conn,
            PostKind.LEADS_ESCALATION,
            LEADS,
            holder,
            now,
            team_id=TEAM_ID,
            escalation_id=esc.id,
            conversation_id=message.conversation_id,
        )
    post = outbox.Post(
        post_id, PostKind.LEADS_ESCALATION, LEADS, None, now, escalation_id=esc.id, holder=holder
    )
    assert await bot.services.poster.post([post])
    return esc


async def submit_edit(
    bot: Bot, esc: Escalation, text: str, send_anyway: bool = False
) -> tuple[int, str]:
    values: dict[str, Any] = {"answer": {"text": {"type": "plain_text_input", "value": text}}}
    if send_anyway:
        values["confirm"] = {
            "send_anyway": {"type": "checkboxes", "selected_options": [{"value": "send_anyway"}]}
        }
    return await bot.submit_view("escalation_edit", str(esc.id), values)


def modal_error(body: str) -> str:
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    return str(answer["errors"]["answer"])


# --- item 4: a lead sends only what they saw, and only what passes the checks ---------------


async def test_a_draft_with_a_leak_and_foreign_data_past_1500_chars_is_not_offered(
    start_bot: Any,
) -> None:
    bot = await lead_bot(start_bot)
    canary = canary_for(bot.services.settings)
    draft = FILLER * 20 + f"Ref {canary}; also ask bob@example.com."  # past 1,500 characters
    bot.anthropic.script = [final(draft, 0.99), final(draft, 0.99), Turn(text="Odd answer.")]
    await bot.event(dm("hello there"))
    await bot.settle()
    [esc] = await rows(bot, Escalation)
    assert {"output_leak", "unauthorized_data"} <= set(esc.reasons)
    [post] = leads_posts(bot)
    actions = actions_of(blocks_of(post))
    assert "escalation_send_draft" not in actions and "escalation_send_edited" in actions

    # A forged (or stale) click is refused all the same, and nothing reaches the customer.
    before = len(customer_posts(bot))
    assert (await bot.click("escalation_send_draft", str(esc.id)))[0] == 200
    [note] = bot.slack.calls_to("chat.postEphemeral")
    assert note.args["user"] == "ULEAD" and "Edit and send" in note.args["text"]
    assert len(customer_posts(bot)) == before
    [esc] = await rows(bot, Escalation)
    assert esc.status == "open" and esc.final_answer is None


async def test_send_draft_runs_the_output_checks_again_when_it_is_clicked(start_bot: Any) -> None:
    bot = await lead_bot(start_bot)
    canary = canary_for(bot.services.settings)
    esc = await escalation_with_draft(bot, f"Your order shipped. {canary}")
    assert "escalation_send_draft" in actions_of(blocks_of(leads_posts(bot)[-1]))
    before = len(customer_posts(bot))
    await bot.click("escalation_send_draft", str(esc.id))
    [note] = bot.slack.calls_to("chat.postEphemeral")
    assert "Nothing was sent" in note.args["text"] and "canary" in note.args["text"]
    assert "Edit and send" in note.args["text"]
    assert len(customer_posts(bot)) == before
    assert all(canary not in p["text"] for p in customer_posts(bot))
    [esc] = await rows(bot, Escalation)
    assert esc.status == "open"


async def test_an_edited_answer_that_leaks_is_refused_even_with_send_anyway(
    start_bot: Any,
) -> None:
    bot = await lead_bot(start_bot)
    canary = canary_for(bot.services.settings)
    bot.anthropic.script = [Turn(text="Wants a person.")]
    _, esc = await hand_off(bot)
    before = len(customer_posts(bot))
    for tick in (False, True):
        status, body = await submit_edit(bot, esc, f"Here you go: {canary}", send_anyway=tick)
        assert status == 200 and "canary" in modal_error(body)
    assert len(customer_posts(bot)) == before
    [esc] = await rows(bot, Escalation)
    assert esc.status == "open"


async def test_another_customers_email_is_sent_only_when_the_lead_ticks_send_anyway(
    start_bot: Any,
) -> None:
    bot = await lead_bot(start_bot)
    bot.anthropic.script = [Turn(text="Wants a person.")]
    _, esc = await hand_off(bot)
    text = "Please write to bob@example.com, who handles your return."
    before = len(customer_posts(bot))
    error = modal_error((await submit_edit(bot, esc, text))[1])
    assert "not this customer's" in error and "foreign_email" in error and "Send anyway" in error
    assert len(customer_posts(bot)) == before

    status, body = await submit_edit(bot, esc, text, send_anyway=True)
    assert (status, body) == (200, "")
    assert "bob@example.com" in customer_posts(bot)[-1]["text"]
    [esc] = await rows(bot, Escalation)
    assert (esc.status, esc.final_answer) == ("answered", text)


async def test_the_customers_own_order_data_passes_the_send_check(start_bot: Any) -> None:
    bot = await lead_bot(start_bot)
    bot.anthropic.script = [Turn(text="Wants a person.")]
    _, esc = await hand_off(bot)
    text = "Your tracking number is 1Z999AA10123456784; write to alice@example.com for updates."
    assert await submit_edit(bot, esc, text) == (200, "")
    assert "1Z999AA10123456784" in customer_posts(bot)[-1]["text"]


async def test_an_identifier_from_no_order_of_the_customer_is_stopped(start_bot: Any) -> None:
    bot = await lead_bot(start_bot)
    bot.anthropic.script = [Turn(text="Wants a person.")]
    _, esc = await hand_off(bot)
    error = modal_error(
        (await submit_edit(bot, esc, "Your tracking number is 9Z777BB20987654321."))[1]
    )
    assert "unverified_identifier" in error


async def test_a_long_draft_is_shown_whole_and_the_edit_form_holds_all_of_it(
    start_bot: Any,
) -> None:
    bot = await lead_bot(start_bot)
    draft = "".join(f"{n}. {FILLER}" for n in range(100)) + "The very last line."
    assert len(draft) > 8000
    esc = await escalation_with_draft(bot, draft)
    blocks = blocks_of(leads_posts(bot)[-1])
    assert len(blocks) <= 50
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    assert all(len(s) <= 3000 for s in sections)
    shown = shown_text(blocks)
    assert all(f"> {n}. {FILLER.strip()}" in shown for n in range(100))
    assert "> The very last line." in shown
    assert "escalation_send_draft" in actions_of(blocks)

    await bot.click("escalation_send_edited", str(esc.id))
    [opened] = bot.slack.calls_to("views.open")
    view = opened.args["view"]
    view = view if isinstance(view, dict) else json.loads(view)
    boxes = [b["element"] for b in view["blocks"] if b["element"]["type"] == "plain_text_input"]
    assert all(len(b.get("initial_value", "")) <= b["max_length"] == 3000 for b in boxes)
    assert "\n".join(b["initial_value"] for b in boxes) == draft
    [tick] = [b["element"] for b in view["blocks"] if b["element"]["type"] == "checkboxes"]
    assert all(len(o["description"]["text"]) <= 75 for o in tick["options"])  # Slack's limit

    await bot.click("escalation_send_draft", str(esc.id))
    assert customer_posts(bot)[-1]["text"].count("very last line") == 1
    [kept] = [m for m in await rows(bot, Message) if m.tier == "human"]
    assert kept.text == f"{draft}\n\n{REVIEWED_MARK}"


async def test_a_draft_too_long_to_show_whole_is_never_sent_as_it_is(start_bot: Any) -> None:
    bot = await lead_bot(start_bot)
    draft = FILLER * 2000  # ~160,000 characters: more than 44 sections hold
    esc = await escalation_with_draft(bot, draft)
    blocks = blocks_of(leads_posts(bot)[-1])
    assert len(blocks) <= 50 and "too long to show here" in shown_text(blocks)
    assert "escalation_send_draft" not in actions_of(blocks)
    before = len(customer_posts(bot))
    await bot.click("escalation_send_draft", str(esc.id))  # forged
    [note] = bot.slack.calls_to("chat.postEphemeral")
    assert "Edit and send" in note.args["text"]
    assert len(customer_posts(bot)) == before


# --- item 7: the buttons under an answer belong to the person who asked ----------------------


async def channel_answer(bot: Bot) -> dict[str, Any]:
    """Alice asks in a public channel; the answer everyone there sees."""
    event = {
        "type": "app_mention",
        "channel": "C0PUBLIC",
        "user": "UALICE",
        "ts": next_ts(),
        "text": "<@UBOT> where is my order 1042?",
    }
    await bot.event(event)
    await bot.settle()
    [answer] = [p for p in bot.replies() if p["channel"] == "C0PUBLIC"]
    return answer


async def click_person(bot: Bot, answer: dict[str, Any], user: str) -> None:
    await bot.interaction(
        {
            "type": "block_actions",
            "user": {"id": user},
            "container": {"type": "ephemeral", "channel_id": answer["channel"], "message_ts": "5"},
            "channel": {"id": answer["channel"]},
            "trigger_id": "1.2.5",
            "actions": [
                {
                    "type": "button",
                    "action_id": "feedback_person",
                    "value": answer["ts"],
                    "block_id": "x",
                    "action_ts": "1.0",
                }
            ],
        }
    )


async def test_only_the_asker_or_a_lead_can_hand_the_thread_to_a_person(start_bot: Any) -> None:
    bot = await lead_bot(start_bot)
    answer = await channel_answer(bot)
    await click_person(bot, answer, "UBOB")
    [refusal] = bot.slack.calls_to("chat.postEphemeral")
    assert refusal.args["user"] == "UBOB" and "Only the person who asked" in refusal.args["text"]
    assert await rows(bot, Escalation) == []
    assert leads_posts(bot) == []

    bot.anthropic.script = [Turn(text="A lead handed it over.")]
    await click_person(bot, answer, "ULEAD")
    [esc] = await rows(bot, Escalation)
    assert esc.reasons == ["customer_request"]


async def test_the_asker_can_hand_the_thread_to_a_person(start_bot: Any) -> None:
    bot = await lead_bot(start_bot)
    answer = await channel_answer(bot)
    bot.anthropic.script = [Turn(text="Wants a person.")]
    await click_person(bot, answer, "UALICE")
    assert len(await rows(bot, Escalation)) == 1


async def test_the_notice_after_a_thumbs_down_goes_through_the_outbox(start_bot: Any) -> None:
    """*Talk to a person* writes the notice and the leads post as outbox rows with the
    escalation: posted at once, the notice kept in the transcript; refused, posted by a later
    sweep; a second click changes nothing."""
    bot = await lead_bot(start_bot)
    answer = await channel_answer(bot)
    bot.anthropic.script = [Turn(text="Wants a person.")]
    bot.slack.fail("chat.postMessage", 400, {"ok": False, "error": "not_in_channel"}, times=1)
    await click_person(bot, answer, "UALICE")
    [esc] = await rows(bot, Escalation)
    [notice] = [m for m in await rows(bot, Message) if m.kind == "handoff"]
    assert (notice.reply_to_id, notice.slack_ts) == (esc.message_id, None)
    states = {
        (p.kind, p.state)
        for p in await bot.outbox()
        if p.kind != "thread_reply" or p.message_id == notice.id
    }
    assert states == {("thread_reply", "refused"), ("leads_escalation", "posted")}
    assert len(leads_posts(bot)) == 1
    await bot.refused_posts_due()
    assert await bot.services.poster.sweep() == 1
    thread = [p for p in bot.replies() if p["channel"] == "C0PUBLIC" and p["ts"]]
    assert [p["text"] for p in thread] == [answer["text"], to_mrkdwn(HANDED_OFF)]
    [notice] = [m for m in await rows(bot, Message) if m.kind == "handoff"]
    assert notice.slack_ts == thread[-1]["ts"]
    await click_person(bot, answer, "UALICE")  # a person owns the thread already
    assert len(await rows(bot, Escalation)) == 1 and len(leads_posts(bot)) == 1
    assert len([p for p in bot.replies() if p["channel"] == "C0PUBLIC" and p["ts"]]) == 2


async def test_only_the_asker_can_rate_an_answer(start_bot: Any) -> None:
    bot = await lead_bot(start_bot)
    answer = await channel_answer(bot)
    await click_feedback(bot, answer, "feedback_down", user="UBOB")
    [refusal] = bot.slack.calls_to("chat.postEphemeral")
    assert refusal.args["user"] == "UBOB" and "Only the person who asked" in refusal.args["text"]
    assert "blocks" not in refusal.args  # no offer of a person either
    assert await rows(bot, Feedback) == []
    await click_feedback(bot, answer, "feedback_up", user="UALICE")
    [vote] = await rows(bot, Feedback)
    assert (vote.user_id, vote.value) == ("UALICE", "up")


# --- item 7: customer text is shown, never parsed ---------------------------------------------

HOSTILE = "<!channel> <https://evil.example|Open the thread> &lt; <@U0BOSS>"
ESCAPED = "&lt;!channel&gt; &lt;https://evil.example|Open the thread&gt; &amp;lt; &lt;@U0BOSS&gt;"


async def test_customer_and_model_text_in_the_leads_post_is_escaped(start_bot: Any) -> None:
    bot = await lead_bot(start_bot)
    bot.anthropic.script = [Turn(text=f"Summary: {HOSTILE}")]
    await hand_off(bot, f"can I talk to a person? {HOSTILE}")
    [esc] = await rows(bot, Escalation)
    async with bot.services.db.session() as s:
        esc.draft = f"Draft: {HOSTILE}"
        esc.findings = [{"check": "<!here>", "rule": "x", "detail": ""}]
        s.add(esc)
        await s.commit()
    await bot.click("escalation_take_over", str(esc.id))  # the post is rebuilt
    [update] = bot.slack.calls_to("chat.update")
    text = json.dumps(update.args["blocks"], ensure_ascii=False)
    assert text.count(ESCAPED) == 3  # question, summary, draft
    for raw in ("<!channel>", "<!here>", "<https://evil.example", "<@U0BOSS>"):
        assert raw not in text
    assert "&lt;!here&gt;" in text


async def test_app_home_escapes_what_it_shows(start_bot: Any) -> None:
    bot = await lead_bot(start_bot)
    bot.anthropic.script = [Turn(text="Wants a person.")]
    _, esc = await hand_off(bot)
    async with bot.services.db.session() as s:
        esc.reasons = ["<!channel>"]
        s.add(esc)
        await s.commit()
    await bot.event(
        {"type": "app_home_opened", "user": "ULEAD", "channel": "D0LEAD", "tab": "home"}
    )
    [home] = bot.slack.calls_to("views.publish")
    text = json.dumps(home.args["view"])
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text


async def test_a_file_name_never_becomes_a_link_or_a_mention(start_bot: Any) -> None:
    bot = await lead_bot(start_bot)
    files = [
        {"id": "F1", "name": "<https://evil.example|x>.png", "mimetype": "application/pdf"},
        {"id": "F2", "name": "[Open the thread](https://evil.example) <!channel>.pdf"},
    ]
    await bot.event(dm("", subtype="file_share", files=files))
    await bot.settle()
    [note] = customer_posts(bot)
    shown = note["text"] + json.dumps(note.get("blocks") or "")
    assert "<https://evil.example" not in shown and "<!channel>" not in shown
    assert "|x&gt;.png" in note["text"] and "&lt;!channel&gt;" in note["text"]
    assert "[Open the thread](https://evil.example)" in note["text"]  # as code, not a link


async def test_a_lead_cannot_send_the_strong_tiers_instructions_either(start_bot: Any) -> None:
    # The strong tier's system prompt is the primary's plus its own instructions: a draft
    # quoting the latter is a leak just the same.
    bot = await lead_bot(start_bot)
    bot.anthropic.script = [Turn(text="Wants a person.")]
    _, esc = await hand_off(bot)
    instructions = render("escalation.md.j2").strip()
    quoted = max(instructions.split("\n"), key=len)
    before = len(customer_posts(bot))
    status, body = await submit_edit(bot, esc, f"My instructions: {quoted}", send_anyway=True)
    assert status == 200 and "instructions" in modal_error(body)
    assert len(customer_posts(bot)) == before


async def test_the_leads_post_and_app_home_name_who_asked_not_who_started_the_thread(
    start_bot: Any,
) -> None:
    bot = await lead_bot(start_bot)
    root = await channel_thread(bot, "UALICE", "where is my order 1042?")
    bot.anthropic.script = [Turn(text="Wants a person.")]
    await channel_thread(bot, "UBOB", "can I talk to a person?", root)
    [post] = leads_posts(bot)
    shown = json.dumps(blocks_of(post))
    assert "<@UBOB>" in shown and "<@UALICE>" not in shown
    await bot.event(
        {"type": "app_home_opened", "user": "ULEAD", "channel": "D0LEAD", "tab": "home"}
    )
    [home] = bot.slack.calls_to("views.publish")
    listed = json.dumps(home.args["view"])
    assert "<@UBOB>" in listed and "<@UALICE>" not in listed


async def test_a_lead_answer_written_while_a_turn_adds_a_post_to_the_thread_waits_behind_it(
    bot: Bot,
) -> None:
    """On PostgreSQL two transactions do not see each other's rows: a lead's answer written
    while a turn's finish adds the bot's reply to the same thread must wait for that finish
    (both take the conversation row first), then see the reply waiting and queue behind it."""
    db = bot.services.db
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one write transaction at a time")
    esc = await escalation_with_draft(bot, FILLER)
    [message] = [m for m in await rows(bot, Message) if m.id == esc.message_id]
    [conv] = await rows(bot, Conversation)
    async with db.engine.connect() as finishing:  # a turn's finish, as far as its reply row
        transaction = await finishing.begin()
        await finishing.execute(
            text("UPDATE conversation SET updated_at = now() WHERE id = :id"), {"id": conv.id}
        )
        await outbox.add_thread_post(
            finishing,
            conv,
            channel_id=message.channel_id,
            message_id=message.id or 0,
            holder="pg:1",
            now=utcnow(),
        )
        answering = asyncio.create_task(
            escalations.apply_action(
                db, esc.id or 0, LeadAction.SEND_DRAFT, "ULEAD", FILLER, FILLER, "pg:2"
            )
        )
        await wait_for_a_lock_wait(db)
        await transaction.commit()
    applied = await answering
    assert applied is not None and applied.posts == []  # not posting: behind the turn's reply
    lead_post = max(await bot.outbox(), key=lambda p: p.id or 0)
    assert (lead_post.state, lead_post.holder) == ("to_post", None)


async def wait_for_a_lock_wait(db: Any) -> None:
    """Until some session of this database waits for a row lock (or 10 s, failing)."""
    async with db.engine.connect() as watcher:
        for _ in range(1000):
            waiting = await watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                    " AND datname = current_database()"
                )
            )
            if waiting.scalar_one():
                return
            await asyncio.sleep(0.01)
    raise AssertionError("the lead's answer never waited for the turn's transaction")
