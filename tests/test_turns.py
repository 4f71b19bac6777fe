"""Finishing a turn names the thread's own next message: never another thread's (SQLite wrote
the RETURNING subquery's columns unqualified, so every thread's pending messages matched)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.delivery import Reply
from bot.store import queries, turns
from bot.store.db import Database
from bot.store.models import MessageVerdict, ReplyKind, Tier


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.upgrade()
    yield database
    await database.close()


async def _inbound(db: Database, thread: str, ts: str) -> int:
    message_id = await queries.record_inbound(
        db, queries.Inbound("T", "C1", thread, "U1", "hello", ts)
    )
    assert message_id is not None
    return message_id


async def test_finishing_a_turn_names_its_own_threads_next_message_not_another_threads(
    db: Database,
) -> None:
    first = await _inbound(db, "1.0", "1.1")
    await _inbound(db, "2.0", "2.1")  # another thread's message, pending, an earlier id
    turn = await turns.take_turn(db, first, "holder", window=0)
    assert turn is not None
    reply = Reply("hi", ReplyKind.ANSWER, Tier.PRIMARY, verdict=MessageVerdict.PASSED)

    finished = await turns.finish_turn(db, turn, reply, "")
    assert finished is not None and finished.next_message is None

    follow_up = await _inbound(db, "1.0", "1.2")  # now the thread has one waiting
    turn = await turns.take_turn(db, follow_up, "holder", window=0)
    assert turn is not None
    again = await _inbound(db, "1.0", "1.3")
    finished = await turns.finish_turn(db, turn, reply, "")
    assert finished is not None and finished.next_message == again
