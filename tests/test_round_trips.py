"""Database round trips per turn: a one-call turn (inbound event -> answer posted) makes few
statements, counted at the driver (every statement, and every commit) on SQLite and PostgreSQL.
The bound is generous; the figure measured is printed (`pytest -s`) for the notes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from tests.conftest import Bot, dm
from tests.fakes.models import final

# Inbound (3 + commit), take (3 + commit; 2 in a new thread: no history), the model call
# (2 + commit), finish (4 + commit: the turn's transcript since 0010), posted (2 + commit): 19,
# against about 31 before the outbox. The ticket's SLA clock (0018) adds one statement to the
# inbound transaction (the clock opened) and one to the finish (closed by the answer), no
# transaction: 21, and 22 for a follow-up (its history read).
ROUND_TRIP_BOUND = 22


class Counter:
    def __init__(self, bot: Bot) -> None:
        self.statements: list[str] = []
        self.commits = 0
        self.begins = 0  # a round trip of its own on PostgreSQL (asyncpg); in-process on SQLite
        self._engine = bot.services.db.engine.sync_engine

    def __enter__(self) -> Counter:
        event.listen(self._engine, "before_cursor_execute", self._statement)
        event.listen(self._engine, "commit", self._commit)
        event.listen(self._engine, "begin", self._begin)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self._engine, "before_cursor_execute", self._statement)
        event.remove(self._engine, "commit", self._commit)
        event.remove(self._engine, "begin", self._begin)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement.split(None, 1)[0].upper())

    def _commit(self, _conn: Any) -> None:
        self.commits += 1

    def _begin(self, _conn: Any) -> None:
        self.begins += 1

    @property
    def round_trips(self) -> int:
        return len(self.statements) + self.commits


async def test_a_one_call_turn_makes_few_database_round_trips(bot: Bot) -> None:
    await bot.event(dm("hello"))  # a first turn: the caches and the conversation are warm
    await bot.settle()
    first = dm("I have a question")
    follow_up = dm("and another", thread_ts=first["ts"])
    for turn, inbound in (("first", first), ("follow-up", follow_up)):
        bot.anthropic.script = [final(f"Glad to help with the zebra question ({turn}).")]
        asked = len(bot.anthropic.requests)
        with Counter(bot) as counted:
            await bot.event(inbound)
            await bot.settle()
        assert len(bot.anthropic.requests) == asked + 1  # one model call this turn
        [answer] = [p for p in bot.replies() if f"zebra question ({turn})" in p["text"]]
        assert answer["ts"]
        dialect = bot.services.db.engine.dialect.name
        print(
            f"\n{dialect}, {turn} turn of a thread: {counted.round_trips} round trips"
            f" ({len(counted.statements)} statements: {' '.join(counted.statements)};"
            f" {counted.commits} commits; {counted.begins} transactions begun)"
        )
        assert counted.round_trips <= ROUND_TRIP_BOUND
