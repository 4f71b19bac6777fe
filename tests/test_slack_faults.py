"""Slack failing: 429 with Retry-After and 5xx are retried; a reply that cannot be posted is
recorded as failed and the conversation stays consistent."""

from __future__ import annotations

import time
from typing import Any

from sqlmodel import select

from bot.store.models import Message
from tests.conftest import Bot, dm


async def messages(bot: Bot) -> list[Message]:
    async with bot.services.db.session() as s:
        return list((await s.exec(select(Message).order_by(Message.id))).all())


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
