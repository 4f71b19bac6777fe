"""A per-customer rate limit: one polite notice, then silence until the minute passes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from bot.store.models import Message
from tests.conftest import Bot, dm


async def test_a_customer_over_the_rate_gets_one_notice_and_is_not_answered_further(
    start_bot: Any,
) -> None:
    bot = await start_bot(rate_limit_per_minute=3)
    for n in range(6):
        await bot.event(dm(f"where is my order 104{n}?"))
    await bot.settle()
    texts = [p["text"] for p in bot.replies()]
    notices = [t for t in texts if "faster than I can answer" in t]
    assert len(notices) == 1 and "3 a minute" in notices[0]
    assert len(texts) == 4  # three answers and one notice
    # Other customers are not limited by Alice's messages.
    await bot.event(dm("where is my order 2001?", user="UBOB"))
    await bot.settle()
    assert "delivered" in bot.replies()[-1]["text"]


async def test_zero_switches_the_rate_limit_off(start_bot: Any) -> None:
    bot = await start_bot(rate_limit_per_minute=0)
    for n in range(12):
        await bot.event(dm(f"hello {n}"))
    await bot.settle()
    assert len(bot.replies()) == 12


async def test_messages_older_than_a_minute_no_longer_count(start_bot: Any) -> None:
    bot: Bot = await start_bot(rate_limit_per_minute=2)
    for n in range(2):
        await bot.event(dm(f"hello {n}"))
    await bot.settle()
    async with bot.services.db.session() as s:  # as if they came 61 seconds ago
        for m in (await s.exec(select(Message))).all():
            m.created_at -= timedelta(seconds=61)
            s.add(m)
        await s.commit()
    for n in range(2, 4):
        await bot.event(dm(f"hello {n}"))
    await bot.settle()
    texts = [p["text"] for p in bot.replies()]
    assert len(texts) == 4 and not [t for t in texts if "faster than I can answer" in t]
