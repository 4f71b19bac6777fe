"""Slack failing: 429 with Retry-After and 5xx are retried; a reply that cannot be posted is
kept in the outbox, posted on a later sweep (from its first piece not posted) or given up
after an hour, and the conversation stays consistent."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, update

from bot import poster
from bot.agent import worker
from bot.poster import REDELIVERY_WINDOW
from bot.slack_format import split_for_slack, to_mrkdwn
from bot.store import claims, outbox, turns
from bot.store.models import Escalation, Message, Outbox, utcnow
from bot.store.queries import Inbound, record_inbound
from tests.conftest import Bot, dm
from tests.fakes.models import final
from tests.helpers import rows


async def messages(bot: Bot) -> list[Message]:
    return await rows(bot, Message)


async def test_a_rate_limited_post_is_retried_after_retry_after(bot: Bot) -> None:
    bot.slack.fail(
        "chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, headers={"Retry-After": "1"}
    )
    started = time.monotonic()
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    assert time.monotonic() - started >= 1.0  # it waited as Slack asked
    posts = bot.slack.calls_to("chat.postMessage")
    assert len(posts) == 2 and posts[1].response["ok"] is True
    user, reply = await messages(bot)
    assert user.status == "answered" and reply.slack_ts == posts[1].response["ts"]


async def test_a_server_error_is_retried(bot: Bot) -> None:
    bot.slack.fail("chat.postMessage", 500, {"ok": False, "error": "internal_error"}, times=2)
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    assert len(bot.slack.calls_to("chat.postMessage")) == 3
    assert (await messages(bot))[0].status == "answered"


async def test_a_reply_that_cannot_be_posted_is_recorded_and_not_answered_again(
    start_bot: Any,
) -> None:
    bot = await start_bot()
    bot.slack.fail("chat.postMessage", 500, {"ok": False, "error": "internal_error"}, times=10)
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    user, reply = await messages(bot)
    assert user.status == "answered"  # answered; its reply waits in the outbox
    assert reply.role == "assistant" and reply.slack_ts is None and "shipped" in reply.text
    [post] = await bot.outbox()
    assert (post.state, post.message_id, post.holder) == ("refused", reply.id, None)
    # The sweep does not answer the message again, nor post before the post's next try.
    asked, tried = len(bot.anthropic.requests), len(bot.slack.calls_to("chat.postMessage"))
    assert await bot.services.worker.sweep() == 0
    await bot.settle()
    assert (await bot.outbox())[0].state == "refused"
    assert len(bot.anthropic.requests) == asked
    assert len(bot.slack.calls_to("chat.postMessage")) == tried


async def test_a_reply_slack_refused_is_posted_on_a_later_sweep_once(bot: Bot) -> None:
    bot.slack.fail("chat.postMessage", 500, {"ok": False, "error": "internal_error"}, times=10)
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    user, reply = await messages(bot)
    assert user.status == "answered" and reply.slack_ts is None
    refused = len(bot.slack.calls_to("chat.postMessage"))
    # Not again at once: Slack's retries just failed; the post's next try is a backoff later.
    assert await bot.services.poster.sweep() == 0
    assert len(bot.slack.calls_to("chat.postMessage")) == refused
    bot.slack.faults.clear()  # Slack is back
    await bot.refused_posts_due()
    assert await bot.services.poster.sweep() == 1
    posts = bot.slack.calls_to("chat.postMessage")[refused:]
    assert len(posts) == 1 and "shipped" in posts[0].args["text"]
    _, reply = await messages(bot)
    assert reply.slack_ts == posts[0].response["ts"]
    [post] = await bot.outbox()
    assert (post.state, post.posted_ts, post.holder) == ("posted", reply.slack_ts, None)
    await bot.refused_posts_due()
    assert await bot.services.poster.sweep() == 0  # posted once
    assert len(bot.slack.calls_to("chat.postMessage")) == refused + 1


async def test_a_reply_refused_partway_is_finished_later_without_repeating_a_piece(
    bot: Bot,
) -> None:
    answer = "\n\n".join(f"Paragraph {i}: " + "words " * 150 for i in range(12)).strip()
    pieces = split_for_slack(to_mrkdwn(answer))
    assert len(pieces) >= 3
    bot.anthropic.script = [final(answer)]
    error = {"ok": False, "error": "internal_error"}
    bot.slack.fail("chat.postMessage", 500, error, times=10, after=1)  # the first piece only
    await bot.event(dm("tell me everything"))
    await bot.settle()

    def delivered() -> list[str]:
        return [p["text"] for p in bot.slack.posts() if p["ts"]]

    assert delivered() == pieces[:1]
    _, reply = await messages(bot)
    [post] = await bot.outbox()
    assert (post.state, post.posted_pieces, reply.text) == ("refused", 1, answer)
    # The next try gets one piece further before Slack refuses again.
    bot.slack.faults.clear()
    bot.slack.fail("chat.postMessage", 500, error, times=10, after=1)
    await bot.refused_posts_due()
    assert await bot.services.poster.sweep() == 0
    assert delivered() == pieces[:2]
    assert (await bot.outbox())[0].posted_pieces == 2
    bot.slack.faults.clear()
    await bot.refused_posts_due()
    assert await bot.services.poster.sweep() == 1
    assert delivered() == pieces  # each piece once, in order
    _, reply = await messages(bot)
    assert reply.slack_ts == bot.slack.posts()[-1]["ts"]
    assert (await bot.outbox())[0].state == "posted"


async def test_a_refused_reply_is_not_posted_once_it_is_an_hour_late(bot: Bot) -> None:
    bot.slack.fail("chat.postMessage", 500, {"ok": False, "error": "internal_error"}, times=10)
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    bot.slack.faults.clear()
    async with bot.services.db.session() as s:
        late = utcnow() - REDELIVERY_WINDOW - timedelta(minutes=1)
        await s.exec(update(Outbox).values(created_at=late))
        await s.commit()
    await bot.refused_posts_due()
    posted = len(bot.slack.calls_to("chat.postMessage"))
    assert await bot.services.poster.sweep() == 0
    assert len(bot.slack.calls_to("chat.postMessage")) == posted  # not posted
    assert [p.state for p in await bot.outbox()] == ["given_up"]  # given up, once
    assert await bot.services.poster.sweep() == 0
    assert [p.state for p in await bot.outbox()] == ["given_up"]
    assert not [p for p in bot.slack.posts() if "never reached" in p["text"]]  # not a lead's


# --- a living process never keeps a claim it stopped working on -------------------------------


def failing(times: int, real: Any) -> Any:
    """`real`, failing its first `times` calls as a database blip would."""
    calls = {"n": 0}

    async def call(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] <= times:
            raise OSError("the database did not answer")
        return await real(*args, **kwargs)

    return call


async def test_a_blip_while_recording_a_post_is_retried_and_posts_once(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(poster, "_FIRST_WRITE_WAIT", 0.01)
    monkeypatch.setattr(outbox, "mark_posted", failing(2, outbox.mark_posted))
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    assert len(bot.slack.calls_to("chat.postMessage")) == 1
    [post] = await bot.outbox()
    assert (post.state, post.holder) == ("posted", None)


async def test_a_post_whose_record_kept_failing_is_released_by_the_next_sweep(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = outbox.mark_posted
    monkeypatch.setattr(poster, "_FIRST_WRITE_WAIT", 0.01)
    monkeypatch.setattr(outbox, "mark_posted", failing(100, real))
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    [post] = await bot.outbox()
    assert (post.state, post.holder) == ("posting", bot.services.holders.me)  # held, idle
    monkeypatch.setattr(outbox, "mark_posted", real)  # the database is back
    await bot.services.worker.sweep()
    assert (await bot.outbox())[0].state == "posting"  # within the grace: left alone
    monkeypatch.setattr(worker, "OWN_CLAIM_GRACE", timedelta(0))
    await bot.services.worker.sweep()
    await bot.settle()
    [post] = await bot.outbox()
    assert (post.state, post.holder) == ("posted", None)
    # at least once: Slack had taken it before the record failed
    assert len(bot.slack.calls_to("chat.postMessage")) == 2


async def test_a_message_whose_finish_and_give_back_failed_is_answered_after_a_sweep(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_finish, real_give_back = turns.finish_turn, turns.give_back
    monkeypatch.setattr(turns, "finish_turn", failing(1, real_finish))
    monkeypatch.setattr(turns, "give_back", failing(1, real_give_back))
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    [user] = await messages(bot)
    assert (user.status, user.holder) == ("working", bot.services.holders.me)
    assert bot.slack.calls_to("chat.postMessage") == []
    monkeypatch.setattr(worker, "OWN_CLAIM_GRACE", timedelta(0))
    await bot.services.worker.sweep()
    await bot.settle()
    user, reply = await messages(bot)
    assert user.status == "answered" and reply.slack_ts is not None
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


def _take_a_new_holder_id(holders: Any) -> Callable[[], None]:
    """What a PostgreSQL holder does when its lock's connection is lost: a new id from now on
    (here without the lock dance); the returned function puts the old one back."""
    old = holders._key
    holders._key = old + 1 if isinstance(old, int) else "f" * 32
    return lambda: setattr(holders, "_key", old)


async def test_a_turn_and_its_post_are_recorded_under_the_id_they_were_claimed_with(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_take, restore = turns.take_turn, []

    async def take_then_lose_the_lock(*args: Any, **kwargs: Any) -> Any:
        turn = await real_take(*args, **kwargs)
        if turn is not None:
            restore.append(_take_a_new_holder_id(bot.services.holders))
        return turn

    monkeypatch.setattr(turns, "take_turn", take_then_lose_the_lock)
    try:
        await bot.event(dm("where is my order 1042?"))
        await bot.settle()
    finally:
        for put_back in restore:
            put_back()
    user, reply = await messages(bot)
    assert (user.status, user.holder) == ("answered", None)
    [post] = await bot.outbox()
    assert (post.state, post.holder, post.posted_ts) == ("posted", None, reply.slack_ts)
    assert len(bot.slack.calls_to("chat.postMessage")) == 1


async def test_a_post_taken_up_by_a_sweep_is_recorded_under_the_id_it_was_claimed_with(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.slack.fail("chat.postMessage", 500, {"ok": False, "error": "internal_error"}, times=10)
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    bot.slack.faults.clear()
    await bot.refused_posts_due()
    real_claim, restore = outbox.claim_due, []

    async def claim_then_lose_the_lock(*args: Any, **kwargs: Any) -> Any:
        claimed = await real_claim(*args, **kwargs)
        if claimed:
            restore.append(_take_a_new_holder_id(bot.services.holders))
        return claimed

    monkeypatch.setattr(outbox, "claim_due", claim_then_lose_the_lock)
    try:
        assert await bot.services.poster.sweep() == 1
    finally:
        for put_back in restore:
            put_back()
    [post] = await bot.outbox()
    assert (post.state, post.holder) == ("posted", None)


async def test_releasing_claims_counts_what_it_released_and_nothing_without_dead_holders(
    bot: Bot,
) -> None:
    db, dead = bot.services.db, "local:" + "0" * 32
    assert await claims.release(db, set()) == (0, 0)
    assert await claims.release(db, {dead}) == (0, 0)  # a dead holder that held nothing
    message_id = await record_inbound(
        db, Inbound("T0001", "D0001", "1.000001", "UALICE", "hello", "1.000001")
    )
    async with db.session() as s:
        await s.exec(
            update(Message)
            .where(col(Message.id) == message_id)
            .values(status="working", holder=dead, claimed_at=utcnow())
        )
        await s.commit()
    assert await claims.release(db, {dead}) == (1, 0)
    [message] = await messages(bot)
    assert (message.status, message.holder) == ("pending", None)


async def test_waiting_counts_open_escalations_only(bot: Bot) -> None:
    """The backlog gauges: open escalations and the oldest one's time; answered ones are not
    waiting."""
    await bot.event(dm("can I talk to a person?"))
    await bot.event(dm("agent please", ts="1.000009"))
    await bot.settle()
    first, second = await rows(bot, Escalation)
    async with bot.services.db.session() as s:
        await s.exec(
            update(Escalation).where(col(Escalation.id) == second.id).values(status="answered")
        )
        await s.commit()
    assert await claims.waiting(bot.services.db) == (1, first.created_at, 0)
