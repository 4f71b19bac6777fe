"""Long threads: the model sees a bounded window plus a running summary, so input per turn stays
flat; the stable prefix (tools and system prompt) is identical on every call."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import col, select

from bot.store.models import Message, ModelCall
from tests.conftest import dm, next_ts


async def test_a_long_thread_keeps_input_flat_with_a_window_and_a_summary(start_bot: Any) -> None:
    bot = await start_bot(history_messages=4, rate_limit_per_minute=0)
    root = dm("hi, I have questions about my orders")
    await bot.event(root)
    await bot.settle()
    for turn in range(20):
        await bot.event(
            dm(f"question {turn}: where is order 1042?", ts=next_ts(), thread_ts=root["ts"])
        )
        await bot.settle()

    answering = [r for r in bot.anthropic.requests if r.get("tools")]
    summaries = [r for r in bot.anthropic.requests if not r.get("tools")]
    assert summaries, "older messages were folded into a summary"
    # Never more than two windows of history (+ summary + the new message + tool turns).
    assert max(len(r["messages"]) for r in answering) <= 2 * 4 + 1 + 1 + 2
    # The last summary request carries the previous summary forward.
    assert "summary_so_far" in summaries[-1]["messages"][0]["content"][0]["text"]
    first_turn_with_summary = next(
        r for r in answering if "Summary of the earlier part" in json.dumps(r["messages"][0])
    )
    assert first_turn_with_summary

    async with bot.services.db.session() as s:
        calls = list((await s.exec(select(ModelCall).order_by(col(ModelCall.id)))).all())
        stored = list((await s.exec(select(Message).where(col(Message.role) == "summary"))).all())
    assert stored and all(m.reply_to_id for m in stored)
    first_calls = [c for c in calls if c.reasons == "" and c.stop_reason == "tool_use"]
    late = [c.input_tokens for c in first_calls[-6:]]
    early_peak = max(c.input_tokens for c in first_calls[:12])
    assert max(late) <= early_peak * 1.25, (late, early_peak)
    assert {c.reasons for c in calls} >= {"", "history_summary"}

    # Tools and system prompt are byte-identical across all answering calls (cache prefix).
    prefixes = {
        json.dumps([r["tools"], r["system"]], sort_keys=True)
        for r in answering
        if len(r["tools"]) > 1
    }
    assert len(prefixes) == 1
