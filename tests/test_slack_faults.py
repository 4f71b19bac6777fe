"""Slack failing: 429 with Retry-After and 5xx are retried; a reply that cannot be posted is
recorded as failed and the conversation stays consistent."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from sqlmodel import update

from bot.agent.worker import REDELIVERY_WINDOW
from bot.slack_format import split_for_slack, to_mrkdwn
from bot.store.models import Message, utcnow
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


async def test_a_reply_that_cannot_be_posted_is_recorded_and_not_retried_forever(
    start_bot: Any,
) -> None:
    bot = await start_bot()
    bot.slack.fail("chat.postMessage", 500, {"ok": False, "error": "internal_error"}, times=10)
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    user, reply = await messages(bot)
    assert user.status == "failed"
    assert reply.role == "assistant" and reply.slack_ts is None and "shipped" in reply.text
    # The sweeper does not pick a failed message up again.
    assert await bot.services.worker.resume() == 0


async def test_a_reply_slack_refused_is_posted_on_a_later_sweep_once(start_bot: Any) -> None:
    bot = await start_bot(claim_timeout_seconds=1)
    bot.slack.fail("chat.postMessage", 500, {"ok": False, "error": "internal_error"}, times=10)
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    user, reply = await messages(bot)
    assert user.status == "failed" and reply.slack_ts is None
    refused = len(bot.slack.calls_to("chat.postMessage"))
    # Not again at once: Slack's retries just failed; a lease (1 s here) must pass first.
    assert await bot.services.worker.redeliver() == 0
    bot.slack.faults.clear()  # Slack is back
    await bot.lease_runs_out()
    assert await bot.services.worker.redeliver() == 1
    posts = bot.slack.calls_to("chat.postMessage")[refused:]
    assert len(posts) == 1 and "shipped" in posts[0].args["text"]
    user, reply = await messages(bot)
    assert user.status == "answered" and reply.slack_ts == posts[0].response["ts"]
    await bot.lease_runs_out()
    assert await bot.services.worker.redeliver() == 0  # posted once
    assert len(bot.slack.calls_to("chat.postMessage")) == refused + 1


async def test_a_reply_refused_partway_is_finished_later_without_repeating_a_piece(
    start_bot: Any,
) -> None:
    bot = await start_bot(claim_timeout_seconds=1)
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
    user, reply = await messages(bot)
    assert user.status == "failed" and reply.posted_pieces == 1 and reply.text == answer
    # The next try gets one piece further before Slack refuses again.
    bot.slack.faults.clear()
    bot.slack.fail("chat.postMessage", 500, error, times=10, after=1)
    await bot.lease_runs_out()
    assert await bot.services.worker.redeliver() == 0
    assert delivered() == pieces[:2]
    assert (await messages(bot))[1].posted_pieces == 2
    bot.slack.faults.clear()
    await bot.lease_runs_out()
    assert await bot.services.worker.redeliver() == 1
    assert delivered() == pieces  # each piece once, in order
    user, reply = await messages(bot)
    assert user.status == "answered" and reply.slack_ts == bot.slack.posts()[-1]["ts"]


async def test_a_refused_reply_is_not_posted_once_it_is_an_hour_late(start_bot: Any) -> None:
    bot = await start_bot(claim_timeout_seconds=1)
    bot.slack.fail("chat.postMessage", 500, {"ok": False, "error": "internal_error"}, times=10)
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    bot.slack.faults.clear()
    async with bot.services.db.session() as s:
        await s.exec(
            update(Message).values(created_at=utcnow() - REDELIVERY_WINDOW - timedelta(minutes=1))
        )
        await s.commit()
    await bot.lease_runs_out()
    assert await bot.services.worker.redeliver() == 0
    assert (await messages(bot))[0].status == "undelivered"  # given up, once
    assert not [p for p in bot.slack.posts() if "never reached" in p["text"]]  # not a lead's
