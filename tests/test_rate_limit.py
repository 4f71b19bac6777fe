"""A per-customer rate limit: one polite notice, then silence until the minute passes."""

from __future__ import annotations

from typing import Any

from tests.conftest import dm


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
