"""Someone else's order and a missing one look the same to the asker: the same reply, the same
model calls on the same tiers, the same requests (but for the number asked about), on both
order backends. The denial stays visible to operators, in a log line without customer text."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlmodel import col, select

from bot.store.models import Escalation, ModelCall
from tests.conftest import Bot, dm
from tests.fakes.models import Turn, final, lookup
from tests.fakes.orders import TOKEN, FakeOrderService, order

FOREIGN, MISSING = "2001", "9999"  # Bob's order (asked by Alice), and no order at all


@pytest.fixture
async def order_service() -> AsyncIterator[FakeOrderService]:
    service = await FakeOrderService().start()
    service.add(order("1042", "alice@example.com"))
    service.add(order(FOREIGN, "bob@example.com", "delivered", tracking="TRK-2001"))
    yield service
    await service.close()


def unsure(number: str) -> list[Turn]:
    """A primary tier that is not sure, so the strong tier is asked either way."""
    return [
        lookup(number),
        final("I could not find it, I think.", 0.3),
        lookup(number),
        final("No order with that number was found on your account.", 0.9),
    ]


async def calls(bot: Bot) -> list[tuple[str, str, str]]:
    async with bot.services.db.session() as s:
        rows = (await s.exec(select(ModelCall).order_by(col(ModelCall.id)))).all()
    return [(c.tier, c.model, c.reasons) for c in rows]


async def probe(bot: Bot, number: str, scripted: bool) -> dict[str, Any]:
    """Alice asks about `number` in a new thread: what she sees, and what it cost."""
    sent, made = len(bot.anthropic.requests), len(await calls(bot))
    bot.anthropic.script = unsure(number) if scripted else []
    await bot.event(dm(f"where is order {number}?"))
    await bot.settle()
    requests = json.dumps(bot.anthropic.requests[sent:])
    async with bot.services.db.session() as s:
        escalations = len((await s.exec(select(Escalation))).all())
    return {
        "reply": bot.replies()[-1]["text"],
        "calls": (await calls(bot))[made:],
        # Tool-call ids are counters of the fake; the number asked about differs by design.
        "requests": re.sub(r"toolu_\d+", "toolu_", requests).replace(number, "N"),
        "escalations": escalations,
    }


@pytest.mark.parametrize("backend", ["sql", "http"])
@pytest.mark.parametrize("scripted", [False, True], ids=["confident", "unsure"])
async def test_someone_elses_order_costs_and_reads_like_a_missing_one(
    start_bot: Any,
    order_service: FakeOrderService,
    backend: str,
    scripted: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    http = {"orders_api_url": order_service.base_url, "orders_api_token": TOKEN}
    bot = await start_bot(orders_backend=backend, **(http if backend == "http" else {}))
    with caplog.at_level(logging.WARNING, logger="bot"):
        foreign = await probe(bot, FOREIGN, scripted)
        missing = await probe(bot, MISSING, scripted)
    assert foreign["reply"] == missing["reply"]
    assert "delivered" not in foreign["reply"] and "TRK-2001" not in foreign["reply"]
    assert foreign["calls"] == missing["calls"]
    expected = 2 if not scripted else 4
    assert len(foreign["calls"]) == expected
    # What the models were sent is byte for byte the same, but for the number asked about.
    assert foreign["requests"] == missing["requests"]
    assert foreign["escalations"] == missing["escalations"] == 0
    # Operators still see the denial: one warning per tier that was refused, without text.
    denials = [r for r in caplog.records if "another customer's order" in r.getMessage()]
    assert len(denials) == (1 if not scripted else 2)
    for record in denials:
        assert record.levelno == logging.WARNING
        line = record.getMessage()
        assert FOREIGN not in line and "bob@" not in line and "where is" not in line
