"""`supportbot export finetune`: approved answers, from turns that ran through the real pipeline
against the fake Slack and models (strong-tier answers with and without thumbs, a person asked
for after one, a lead's *Send draft* and *Edit and send* through Bolt, a purged thread), as
OpenAI chat fine-tuning lines: each line checked for the file's shape, none holding the seeded
customers' personal data; the validation split; the summary's counts."""

# ruff: noqa: F811  (env, workdir: test_cli's fixtures, imported)

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import col

from bot.agent.tools import TOOL_SPECS
from bot.cli.export import _LEFT_OUT, _SOURCES
from bot.export.detectors import Kind
from bot.export.examples import build, source_of
from bot.export.finetune import Summary, in_validation, split_point, validation_path
from bot.export.kinds import LeftOut, Source
from bot.export.personal import Placeholders, learn_tool_result, scrub_tool_result
from bot.orders import OrderRecord
from bot.orders.importing import import_orders
from bot.store.approved import Approved, Approver, approved_since
from bot.store.models import Conversation, Escalation, Message, TurnTranscript, utcnow
from bot.store.purge import purge
from escalation.review import Resolution
from tests.conftest import Bot, dm
from tests.fakes.models import Turn, final, lookup
from tests.fakes.orders import order
from tests.helpers import rows
from tests.test_cli import (  # noqa: F401  (env, workdir: its fixtures)
    assert_clean_failure,
    env,
    supportbot,
    workdir,
)
from tests.test_slack_experience import click_feedback

LEADS = "CLEADS"
DANA = ("UDANA", "dana.whitfield@mailbox.example", "Dana Whitfield")
RAJ = ("URAJ", "raj.patel@inbox.example", "Raj Patel")
DANA_HOME = {
    "name": "Dana Whitfield",
    "line1": "742 Evergreen Terrace",
    "postal_code": "97201",
    "city": "Portland",
    "country": "US",
    "phone": "503-555-0134",
}
RAJ_HOME = {
    "name": "Raj Patel",
    "line1": "19 Harbor Road",
    "postal_code": "94107",
    "city": "San Francisco",
    "country": "US",
    "phone": "+1 415 555 0199",
}
# (order id, email, status, tracking, address)
ORDERS = [
    ("58213", DANA[1], "shipped", "1Z58213AA0000000042", DANA_HOME),
    ("58214", DANA[1], "delivered", "9400111899223197400001", DANA_HOME),
    ("58215", DANA[1], "processing", None, DANA_HOME),
    ("58216", DANA[1], "shipped", "1Z58216AA0000000077", DANA_HOME),
    ("A-77120", RAJ[1], "processing", None, RAJ_HOME),
    ("A-77121", RAJ[1], "shipped", "1Z77121BB0000000099", RAJ_HOME),
    ("58990", RAJ[1], "delivered", None, RAJ_HOME),
]
# Every piece of personal data the seeded turns carry; none may be in an exported file.
PERSONAL = [
    DANA[1], RAJ[1], "Dana", "Whitfield", "Raj", "Patel", "Lee",
    "Evergreen", "97201", "Harbor", "94107", "555-0134", "555 0199", "5550134",
    *(o[0] for o in ORDERS), *(o[3] for o in ORDERS if o[3]),
]  # fmt: skip
EDITED = "Hi Raj, Lee here: order A-77121 ships Monday to 19 Harbor Road. Call +1 (415) 555-0199."


async def seeded_bot(start_bot: Any) -> Bot:
    bot: Bot = await start_bot(leads_channel=LEADS)
    for user_id, email, name in (DANA, RAJ):
        bot.slack.add_user(user_id, email, name)
    records = [
        order(order_id, email, status, tracking=tracking, shipping_address=home)
        for order_id, email, status, tracking, home in ORDERS
    ]
    await import_orders(bot.services.db, [OrderRecord.model_validate(r) for r in records])
    return bot


async def ask(
    bot: Bot, user: str, text: str, script: list[Turn], thread: str | None = None
) -> dict[str, Any]:
    """One customer message through the pipeline, the fake model scripted; the event."""
    bot.anthropic.script = script
    event = dm(text, user=user, thread_ts=thread) if thread else dm(text, user=user)
    await bot.event(event)
    await bot.settle()
    assert bot.anthropic.script == [], "the turn did not run as scripted"
    return event


def strong_answers(order: str, answer: str) -> list[Turn]:
    """The primary tier unsure, the strong tier sure."""
    return [lookup(order), final("Not sure.", 0.3), lookup(order), final(answer, 0.95)]


def nobody_sure(order: str, draft: str) -> list[Turn]:
    """Neither tier sure: a person takes it, with the strong tier's draft and a summary."""
    return [lookup(order), final("Hmm.", 0.3), lookup(order), final(draft, 0.4), Turn("Summary.")]


def answer_post(bot: Bot, phrase: str) -> dict[str, Any]:
    [post] = [p for p in bot.replies() if p["channel"] != LEADS and phrase in p["text"]]
    return post


async def escalation_of(bot: Bot, phrase: str) -> Escalation:
    [esc] = [e for e in await rows(bot, Escalation) if phrase in e.draft]
    return esc


async def seed_traffic(bot: Bot) -> None:
    """The turns whose answers the export reads (what each must become: `EXPECTED`)."""
    dana, raj = DANA[0], RAJ[0]
    # Strong tier, thumbs up: personal data in the question, the answer and the lookups.
    await ask(
        bot,
        dana,
        "Hi, this is Dana Whitfield. Where is my order 58213? Call me on +1 503-555-0134.",
        strong_answers(
            "58213",
            "Hi Dana, order 58213 has shipped to 742 Evergreen Terrace: tracking "
            "1Z58213AA0000000042.",
        ),
    )
    await click_feedback(bot, answer_post(bot, "has shipped to"), "feedback_up", user=dana)
    # Strong tier, no complaint, in the second turn of a thread (the first answer is history).
    first = await ask(
        bot, raj, "status of order A-77120?", [lookup("A-77120"), final("A-77120: processing.")]
    )
    await ask(
        bot,
        raj,
        "when will it ship?",
        strong_answers("A-77120", "Hi Raj, order A-77120 ships on Friday."),
        first["ts"],
    )
    # Strong tier, thumbs down: left out.
    await ask(bot, raj, "order 58990?", strong_answers("58990", "Order 58990 was delivered."))
    await click_feedback(bot, answer_post(bot, "was delivered"), "feedback_down", user=raj)
    # Strong tier, then the customer asks for a person in the thread: left out.
    first = await ask(
        bot, dana, "and 58214?", strong_answers("58214", "Order 58214 arrived on Monday.")
    )
    await ask(bot, dana, "can I talk to a person?", [Turn("Wants a person.")], first["ts"])
    # A lead sends the strong tier's draft unchanged.
    await ask(bot, dana, "what about 58215?", nobody_sure("58215", "Order 58215 is packed today."))
    await bot.click("escalation_send_draft", str((await escalation_of(bot, "packed today")).id))
    # A lead sends a draft unchanged, and its customer gives it a 👎: not approved, left out.
    await ask(bot, raj, "and A-77120 again?", nobody_sure("A-77120", "Order A-77120 is lost."))
    await bot.click("escalation_send_draft", str((await escalation_of(bot, "is lost")).id))
    await click_feedback(bot, answer_post(bot, "is lost"), "feedback_down", user=raj)
    # A lead edits the draft and sends their own text.
    await ask(bot, raj, "and A-77121?", nobody_sure("A-77121", "Order A-77121 maybe shipped."))
    await lead_sends(bot, (await escalation_of(bot, "maybe shipped")).id, EDITED)
    # A person asked for before any model read the message; a lead answers: no draft.
    await ask(bot, dana, "I want to talk to a human", [Turn("Wants a person.")])
    asked = (await rows(bot, Escalation))[-1]
    assert (asked.draft, asked.reasons) == ("", ["customer_request"])
    await lead_sends(bot, asked.id, "Hi Dana, Lee here. How can I help?")
    # A strong answer stored before transcripts were kept (its row deleted as 0009 had none).
    await ask(bot, dana, "order 58216?", strong_answers("58216", "Order 58216 is on its way."))
    async with bot.services.db.session() as s:
        last = max(t.message_id for t in await rows(bot, TurnTranscript))
        await s.exec(delete(TurnTranscript).where(col(TurnTranscript.message_id) == last))
        await s.commit()
    # A thread answered long ago and purged since.
    await ask(bot, raj, "where is 58990 now?", [lookup("58990"), final("Delivered.", 0.9)])
    await purge_thread(bot, "where is 58990 now?")


async def lead_sends(bot: Bot, escalation_id: int, text: str) -> None:
    await bot.click("escalation_send_edited", str(escalation_id))
    status, body = await bot.submit_view(
        "escalation_edit",
        str(escalation_id),
        {"answer": {"text": {"type": "plain_text_input", "value": text}}},
    )
    assert (status, body) == (200, "")


async def purge_thread(bot: Bot, question: str) -> None:
    [conv_id] = {m.conversation_id for m in await rows(bot, Message) if m.text == question}
    async with bot.services.db.session() as s:
        old = utcnow() - timedelta(days=100)
        await s.exec(
            update(Conversation).where(col(Conversation.id) == conv_id).values(updated_at=old)
        )
        await s.commit()
    result = await purge(bot.services.db, utcnow() - timedelta(days=90))
    assert result.conversations == 1


# The final answers the file must hold, personal data replaced, and where each came from.
EXPECTED = {
    "Hi <NAME_1>, order <ORDER_1> has shipped to <ADDRESS_1>: tracking <TRACKING_1>.": (
        Source.STRONG_THUMBS_UP
    ),
    "Hi <NAME_1>, order <ORDER_1> ships on Friday.": Source.STRONG_NO_COMPLAINT,
    "Order <ORDER_1> is packed today.": Source.LEAD_UNCHANGED,
    "Hi <NAME_1>, <NAME_2> here: order <ORDER_1> ships Monday to <ADDRESS_1>. Call <PHONE_1>.": (
        Source.LEAD_EDITED
    ),
}
SUMMARY = [
    ("a lead sent the draft unchanged", 1),
    ("a lead edited the draft and sent it", 1),
    ("strong tier, thumbs up", 1),
    ("strong tier, no complaint", 1),
    ("a thumbs down after it", 2),  # a strong tier's answer and a lead's
    ("strong tier, a person asked for after it", 1),
    ("a person took it before any model answered", 1),
    ("no transcript (answered before transcripts were kept)", 1),
    ("the model answered without final_answer", 0),
    ("the customer sent images", 0),
    ("too long for one example", 0),
    ("conversations of the period purged since", 1),
]


def check_line(line: dict[str, Any], system: str) -> dict[str, Any]:
    """One line in the shape of OpenAI's chat fine-tuning file with tools; its final answer's
    arguments."""
    assert set(line) == {"messages", "tools", "parallel_tool_calls"}
    assert line["parallel_tool_calls"] is True  # as the bot's requests: OpenAI's default
    tools = line["tools"]
    assert [t["type"] for t in tools] == ["function"] * len(TOOL_SPECS)
    assert [t["function"]["name"] for t in tools] == [t.name for t in TOOL_SPECS]
    assert all(isinstance(t["function"]["parameters"], dict) for t in tools)
    messages = line["messages"]
    assert messages[0] == {"role": "system", "content": system}
    asked = max(i for i, m in enumerate(messages) if m["role"] == "user")
    open_calls: list[str] = []
    for i, m in enumerate(messages[1:], start=1):
        assert m["role"] in ("user", "assistant", "tool")
        if m["role"] == "user":
            assert isinstance(m["content"], str) and m["content"]
        elif m["role"] == "tool":
            assert isinstance(m["content"], str) and m["tool_call_id"] == open_calls.pop(0)
        else:
            assert m.get("weight", 1) == (0 if i < asked else 1)
            assert isinstance(m.get("content", ""), str)
            assert m.get("content") or m.get("tool_calls")
            for call in m.get("tool_calls", []):
                assert set(call) == {"id", "type", "function"} and call["type"] == "function"
                assert call["function"]["name"] in {t.name for t in TOOL_SPECS}
                assert isinstance(json.loads(call["function"]["arguments"]), dict)
                open_calls.append(call["id"])
    last = messages[-1]
    assert last["role"] == "assistant" and "weight" not in last
    [call] = last["tool_calls"]
    assert call["function"]["name"] == "final_answer"
    assert open_calls == [call["id"]]  # every other call got its result
    arguments: dict[str, Any] = json.loads(call["function"]["arguments"])
    return arguments


def summary_counts(stdout: str) -> list[tuple[str, int]]:
    found = []
    for words, _ in SUMMARY:
        match = re.search(rf"^  {re.escape(words)} +(\d+)$", stdout, re.MULTILINE)
        assert match, f"no line {words!r} in:\n{stdout}"
        found.append((words, int(match.group(1))))
    return found


async def test_the_export_holds_the_approved_answers_in_openais_shape_without_personal_data(
    start_bot: Any, env: dict[str, str], workdir: Path
) -> None:
    bot = await seeded_bot(start_bot)
    await seed_traffic(bot)
    out = workdir / "ft.jsonl"
    run = await supportbot(
        "export", "finetune", "--since", "365d", "--out", str(out), "--validation", "0",
        env=env, cwd=workdir,
    )  # fmt: skip
    assert run.code == 0, run.stderr
    assert summary_counts(run.stdout) == SUMMARY
    # Approved: the 4 exported, the lead's answer to no draft, the one with no transcript; not
    # the 3 with a 👎 or a person asked for after them.
    assert "6 approved answer(s) since" in run.stdout and "4 exported" in run.stdout
    assert run.stdout.index("not approved:") < run.stdout.index("a thumbs down after it")
    assert "no validation file" not in run.stdout  # --validation 0 asked for none
    assert f"wrote 4 training example(s) to {out}" in run.stdout
    assert "OpenAI needs at least 10 training examples" in run.stdout
    assert not validation_path(out).exists()

    text = out.read_text(encoding="utf-8")
    for personal in PERSONAL:
        assert personal not in text, personal
    system = json.loads(text.splitlines()[0])["messages"][0]["content"]
    # The strong tier's answers are taught with the primary tier's prompt, not its own.
    assert bot.services.answerer.protected_prompt.startswith(system)
    assert system != bot.services.answerer.protected_prompt
    finals = {}
    for raw in text.splitlines():
        line = json.loads(raw)
        arguments = check_line(line, system)
        finals[arguments["text"]] = line
        assert 0.9 <= arguments["confidence"] <= 1
        assert arguments.get("injection_attempt", "none") == "none"
    assert set(finals) == set(EXPECTED)
    # The second turn of a thread: the first answer is context that weighs nothing.
    history = finals["Hi <NAME_1>, order <ORDER_1> ships on Friday."]["messages"]
    assert [m["role"] for m in history[:3]] == ["system", "user", "assistant"]
    assert history[2] == {"role": "assistant", "content": "<ORDER_1>: processing.", "weight": 0}
    # A value is the same placeholder wherever it is: the question, the lookup, its result.
    first = finals[
        "Hi <NAME_1>, order <ORDER_1> has shipped to <ADDRESS_1>: tracking <TRACKING_1>."
    ]
    question, lookup_call, result = (m for m in first["messages"][1:4])
    assert question["content"] == (
        "Hi, this is <NAME_1>. Where is my order <ORDER_1>? Call me on <PHONE_1>."
    )
    assert json.loads(lookup_call["tool_calls"][0]["function"]["arguments"]) == {
        "order_id": "<ORDER_1>"
    }
    order = json.loads(result["content"])["order"]
    assert (order["order_id"], order["customer_email"], order["tracking"]) == (
        "<ORDER_1>",
        "<EMAIL_1>",
        "<TRACKING_1>",
    )
    assert order["shipping_address"] == {
        "name": "<NAME_1>",
        "line1": "<ADDRESS_1>",
        "postal_code": "<ADDRESS_2>",
        "city": "Portland",
        "country": "US",
        "phone": "<PHONE_1>",
    }


async def test_the_validation_split_is_by_conversation_and_the_same_every_time(
    start_bot: Any, env: dict[str, str], workdir: Path
) -> None:
    """`--validation SHARE`: the conversations whose hash falls below the share go to
    FILE.validation.jsonl, whole, and a second export writes the same bytes."""
    bot = await seeded_bot(start_bot)
    for number, user in (("58213", DANA[0]), ("58214", DANA[0]), ("A-77120", RAJ[0])):
        await ask(bot, user, f"order {number}?", strong_answers(number, f"Order {number} is fine."))
    points = sorted(
        split_point(a.conversation_id)
        for a in await approved_since(bot.services.db, utcnow() - timedelta(days=1))
    )
    assert len(points) == 3
    share = (points[0] + points[1]) / 2  # the first conversation held out, the others not
    out = workdir / "set.jsonl"
    args = ["export", "finetune", "--out", str(out), "--validation", f"{share:.6f}"]
    first = await supportbot(*args, env=env, cwd=workdir)
    assert first.code == 0, first.stderr
    held_out = workdir / "set.validation.jsonl"
    assert f"wrote 2 training example(s) to {out} and 1 validation example(s) to {held_out}" in (
        first.stdout
    )
    files = (out.read_bytes(), held_out.read_bytes())
    assert [len(f.splitlines()) for f in files] == [2, 1]
    again = await supportbot(*args, env=env, cwd=workdir)
    assert again.code == 0 and (out.read_bytes(), held_out.read_bytes()) == files
    elsewhere = workdir / "held" / "v.jsonl"
    moved = await supportbot(*args, "--validation-out", str(elsewhere), env=env, cwd=workdir)
    assert moved.code == 0 and elsewhere.read_bytes() == files[1]
    # A share that holds out no conversation writes no empty validation file, and says so;
    # the earlier export's file of that name goes, lest it be uploaded with the new one.
    none_held = ["export", "finetune", "--out", str(out), "--validation", f"{points[0] / 2:.6f}"]
    empty = await supportbot(*none_held, env=env, cwd=workdir)
    assert empty.code == 0, empty.stderr
    assert f"wrote 3 training example(s) to {out}; no validation file: the split held out" in (
        empty.stdout
    )
    assert not held_out.exists() and len(out.read_bytes().splitlines()) == 3


def test_the_split_holds_out_about_the_share_asked_for() -> None:
    held = sum(in_validation(i, 0.1) for i in range(1, 20_001))
    assert 1_800 < held < 2_200
    assert not any(in_validation(i, 0) for i in range(1, 1_001))
    assert validation_path(Path("out/ft.jsonl")) == Path("out/ft.validation.jsonl")
    assert validation_path(Path("ft.data")) == Path("ft.data.validation.jsonl")


async def test_bad_arguments_are_refused_in_a_sentence(env: dict[str, str], workdir: Path) -> None:
    for args in (
        ["--validation", "1.5"],
        ["--since", "3w"],
        ["--validation-out", "finetune.jsonl"],
    ):
        run = await supportbot("export", "finetune", *args, env=env, cwd=workdir)
        assert_clean_failure(run)
    assert not (workdir / "finetune.jsonl").exists()


# --- one answer, one example ------------------------------------------------------------------


def transcript(messages: list[dict[str, Any]]) -> TurnTranscript:
    return TurnTranscript(
        message_id=1,
        conversation_id=1,
        tier="strong",
        system="You answer.",
        tools=[{"name": "final_answer", "description": "d", "parameters": {"type": "object"}}],
        messages=messages,
        created_at=utcnow(),
    )


FINAL = {
    "role": "assistant",
    "text": "",
    "tool_calls": [
        {"id": "c1", "name": "final_answer", "arguments": {"text": "Done.", "confidence": 0.9}}
    ],
}


def strong(messages: list[dict[str, Any]], **votes: bool) -> Approved:
    return Approved(Approver.CUSTOMER, 1, 1, utcnow(), transcript(messages), **votes)


def test_what_is_left_out_and_why() -> None:
    asked = {"role": "user", "text": "Where is it?"}
    assert isinstance(build(strong([asked, FINAL])), object)
    assert build(strong([asked, FINAL], thumbs_down=True, thumbs_up=True)) == LeftOut.THUMBS_DOWN
    assert build(strong([asked, FINAL], handed_off_after=True)) == LeftOut.HANDED_OFF_AFTER
    assert build(strong([{**asked, "images": 1}, FINAL])) == LeftOut.IMAGES
    assert build(strong([{"role": "user", "text": "x" * 130_000}, FINAL])) == LeftOut.TOO_LONG
    plain = {"role": "assistant", "text": "It shipped."}
    assert build(strong([asked, plain])) == LeftOut.NO_FINAL_ANSWER
    no_row = Approved(Approver.CUSTOMER, 1, 1, utcnow(), None)
    assert build(no_row) == LeftOut.NO_TRANSCRIPT
    lead = Approved(Approver.LEAD, 1, 1, utcnow(), None, draft="", sent="Hello.")
    assert build(lead) == LeftOut.NO_DRAFT
    assert build(Approved(Approver.LEAD, 1, 1, utcnow(), None, draft="Hm.", sent="Hello.")) == (
        LeftOut.NO_TRANSCRIPT
    )


def test_a_lead_sent_the_draft_unchanged_as_the_escalation_recorded_it() -> None:
    """`escalation.resolution`, as the review recorded the lead's first action, not the texts:
    the edit form joins a long draft's boxes with line breaks (the same draft), and a lead who
    took over and then sent the draft's very words did not send the draft."""
    draft, joined = "Order 1 shipped.\n\nIt arrives Monday.", "Order 1 shipped.\nIt arrives Monday."

    def lead(sent: str, resolution: Resolution | None) -> Approved:
        return Approved(
            Approver.LEAD, 1, 1, utcnow(), transcript([]), draft=draft, sent=sent,
            resolution=resolution,
        )  # fmt: skip

    assert source_of(lead(joined, Resolution.DRAFT_SENT)) == Source.LEAD_UNCHANGED
    assert source_of(lead(draft, Resolution.TAKEN_OVER)) == Source.LEAD_EDITED
    assert source_of(lead(draft, Resolution.EDITED)) == Source.LEAD_EDITED
    # Resolved before the column (0010): the review's rule on the texts, whitespace aside.
    assert source_of(lead(joined, None)) == Source.LEAD_UNCHANGED
    assert source_of(lead("Order 1 is late.", None)) == Source.LEAD_EDITED


def test_a_thumbs_down_is_left_out_and_not_approved_whoever_answered() -> None:
    asked = {"role": "user", "text": "Where is it?"}
    lead = Approved(
        Approver.LEAD, 1, 1, utcnow(), transcript([asked, FINAL]), draft="Done.", sent="Done.",
        resolution=Resolution.DRAFT_SENT, thumbs_down=True,
    )  # fmt: skip
    assert build(lead) == LeftOut.THUMBS_DOWN
    summary = Summary(utcnow(), Path("ft.jsonl"), None, train=2)
    summary.left_out.update(
        {LeftOut.THUMBS_DOWN: 3, LeftOut.HANDED_OFF_AFTER: 1, LeftOut.NO_TRANSCRIPT: 1}
    )
    assert (summary.examples, summary.approved) == (2, 3)


def test_the_summarys_labels_are_keyed_by_the_enums() -> None:
    assert list(_SOURCES) == list(Source) and all(type(k) is Source for k in _SOURCES)
    assert list(_LEFT_OUT) == list(LeftOut) and all(type(k) is LeftOut for k in _LEFT_OUT)


def test_a_leads_text_replaces_the_final_answer_and_keeps_the_sources_it_kept() -> None:
    cited = {
        "role": "assistant",
        "text": "",
        "tool_calls": [
            {
                "id": "c9",
                "name": "final_answer",
                "arguments": {
                    "text": "Returns take 30 days.",
                    "confidence": 0.4,
                    "citations": ["returns"],
                },
            }
        ],
    }
    draft = "Returns take 30 days.\n\n*Sources:* [Returns](https://help.example/returns)"
    asked = {"role": "user", "text": "How do returns work?"}

    def sent(text: str) -> dict[str, Any]:
        approved = Approved(
            Approver.LEAD, 1, 1, utcnow(), transcript([asked, cited]), draft=draft, sent=text
        )
        example = build(approved)
        assert not isinstance(example, LeftOut)
        call = example.line["messages"][-1]["tool_calls"][0]
        assert call["id"] == "c9"
        return dict(json.loads(call["function"]["arguments"]))

    kept = sent("Returns take 14 days.\n\n*Sources:* [Returns](https://help.example/returns)")
    assert kept == {
        "text": "Returns take 14 days.",
        "confidence": 0.9,
        "citations": ["returns"],
        "injection_attempt": "none",
    }
    dropped = sent("Returns take 14 days.")
    assert (dropped["text"], dropped["citations"]) == ("Returns take 14 days.", [])
    assert sent(draft)["text"] == "Returns take 30 days."


def test_a_value_gets_one_placeholder_across_text_and_json() -> None:
    placeholders = Placeholders()
    result = {
        "order": {
            "order_id": "77",  # too short to be anyone's: kept
            "customer_email": "Sam.Reyes@Example.org",
            "tracking": "1Z999AA10123456784",
            "shipping_address": {"name": "Sam Reyes", "street": "5 Oak Lane", "city": "Leeds"},
            "items": [{"name": "Trail running shoes", "quantity": 2}],
        }
    }
    texts = [
        "Hello, my name is Sam Reyes, order #99120 and sam.reyes@example.org; call 0113 496 0999.",
        "Thanks, Sam. Tracking 1z999aa10123456784 for order 99120, sent 2026-11-10.",
        "You may return 2 items within 30 days.",
    ]
    placeholders.learn_json(result)
    for text in texts:
        placeholders.learn_text(text)
    assert [placeholders.replace(t) for t in texts] == [
        "Hello, my name is <NAME_1>, order #<ORDER_1> and <EMAIL_1>; call <PHONE_1>.",
        "Thanks, <NAME_1>. Tracking <TRACKING_1> for order <ORDER_1>, sent 2026-11-10.",
        "You may return 2 items within 30 days.",
    ]
    order = placeholders.replace_json(result)["order"]
    assert order["shipping_address"] == {
        "name": "<NAME_1>",
        "street": "<ADDRESS_1>",
        "city": "Leeds",
    }
    assert (order["order_id"], order["items"][0]["name"]) == ("77", "Trail running shoes")
    assert placeholders.replaced[Kind.EMAIL] == 2


def test_names_after_a_cue_are_replaced_whole_in_any_script_and_spelling() -> None:
    """Found by review: a name word stopped at its first inner capital, apostrophe or accent,
    and left the rest of the name in the file ("Hi <NAME_1>Jane Watson")."""
    names = {
        "Hi Mary-Jane Watson, your order shipped.": "Mary-Jane Watson",
        "Hi Sean McDonald": "Sean McDonald",
        "Sincerely, O'Brien": "O'Brien",
        "Hi DeShawn": "DeShawn",
        "Hi José, thanks": "José",
        "Regards, Siobhán Ní Bhriain": "Siobhán Ní Bhriain",
    }
    for text, name in names.items():
        placeholders = Placeholders()
        placeholders.learn_text(text)
        scrubbed = placeholders.replace(text)
        assert "<NAME_1>" in scrubbed, text
        assert not any(part in scrubbed for part in re.split(r"[\s'-]+", name) if part), scrubbed


def test_an_order_number_the_model_sent_as_a_number_is_replaced() -> None:
    """Found by review: numbers were learned but only strings replaced, so a tool call with
    `{"order_id": 58213}` kept the customer's order number."""
    placeholders = Placeholders()
    placeholders.learn_json({"order_id": "58213"})
    assert placeholders.replace_json({"order_id": 58213, "limit": 3}) == {
        "order_id": "<ORDER_1>",
        "limit": 3,
    }


def _cut(payload: Any, at: int) -> str:
    """A tool result cut as the toolbox cuts one at its size cap."""
    return json.dumps(payload, ensure_ascii=False)[:at] + " …[truncated]"


def test_a_tool_result_cut_at_its_cap_leaves_no_personal_field() -> None:
    """Found by review: a result cut at the cap (a customer's order list) is no JSON, and only
    a few field names were read from its text, so the shipping address's name, second line and
    postcode stayed in the file. Now cut anywhere, nothing personal is left, whole or begun."""
    address = {
        "name": 'Dana "Dee" Okafor',
        "line1": "742 Evergreen Terrace",
        "line2": "Apt 4B",
        "postal_code": "97201",
        "city": "Portland",
    }
    orders = {
        "orders": [
            {"order_id": f"5821{i}", "customer_email": "dana@example.com",
             "phone": "+1 503 555 0134", "shipping_address": address}
            for i in range(3)
        ]
    }  # fmt: skip
    personal = ["Dana", "Dee", "Okafor", "742 Evergreen", "Apt 4B", "97201", "58210", "dana@"]
    full = len(json.dumps(orders, ensure_ascii=False))
    for at in range(20, full, 3):
        placeholders = Placeholders()
        learn_tool_result(placeholders, _cut(orders, at))
        scrubbed = scrub_tool_result(placeholders, _cut(orders, at))
        assert not [p for p in personal if p in scrubbed], (at, scrubbed)
        begun = scrubbed.removesuffix(" …[truncated]").rsplit('"', 1)[-1]
        assert len(begun) < 3 or not any(p.startswith(begun) for p in personal), (at, scrubbed)
    assert "Portland" in scrubbed  # a city is no one's


def test_a_known_value_is_replaced_in_any_spelling_and_a_bare_number_too() -> None:
    """Found by review: a learned value was replaced only as learned, so the same phone in
    other digits, a lower-case name, and an order number the customer typed bare stayed."""
    placeholders = Placeholders()
    learn_tool_result(
        placeholders,
        json.dumps({"order": {"order_id": "58213", "phone": "+1 503-555-0134",
                              "shipping_address": {"name": "Dana Okafor"}}}),
    )  # fmt: skip
    texts = {
        "call 5035550134 or (503) 555.0134": "call <PHONE_1> or <PHONE_1>",
        "hi dana, *58213* and `58213` shipped": "hi <NAME_1>, *<ORDER_1>* and `<ORDER_1>` shipped",
        "status of 58214? it may come in 2026 for $129.99": (
            "status of <NUMBER_1>? it may come in 2026 for $129.99"
        ),
    }
    for text, scrubbed in texts.items():
        assert placeholders.replace(text) == scrubbed


def test_a_bare_number_learned_first_takes_its_fields_kind() -> None:
    """The customer's text comes before the lookup: the number is still an order number."""
    placeholders = Placeholders()
    placeholders.learn_text("status of 58213?")
    placeholders.learn_json({"order_id": "58213"})
    assert placeholders.replace("status of 58213?") == "status of <ORDER_1>?"
