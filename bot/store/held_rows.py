"""The claims on one kind of row (a message being answered, an outbox row being posted): who
holds them, and giving them back. Each statement is one conditional UPDATE (still held, still
by that holder), so a claim taken meanwhile by a living process stays."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection


class HeldRows:
    """Rows of `table` whose `state` is `held` belong to their `holder`; given back, they
    return to `free`. `since` is when a row was claimed (or became due)."""

    def __init__(self, table: Table, state: Any, held: StrEnum, free: StrEnum, since: Any) -> None:
        holder = table.c.holder
        give_back = {state.name: free, "holder": None}
        self._holding = select(holder).where(state == held).distinct()
        self._release = (
            update(table)
            .where(state == held, holder.in_(bindparam("p_dead", expanding=True)))
            .values(give_back)
        )
        self._release_own = (
            update(table)
            .where(
                state == held,
                holder == bindparam("p_holder"),
                table.c.id.not_in(bindparam("p_busy", expanding=True)),
                since < bindparam("p_before"),
            )
            .values(give_back)
        )

    async def holders(self, conn: AsyncConnection) -> set[str]:
        """The processes holding such a row right now."""
        return {h for h in (await conn.execute(self._holding)).scalars() if h}

    async def release(self, conn: AsyncConnection, dead: Collection[str]) -> int:
        """The rows dead processes held, given back; how many."""
        return int((await conn.execute(self._release, {"p_dead": list(dead)})).rowcount)

    async def release_own(
        self, conn: AsyncConnection, holder: str, busy: Collection[int], before: datetime
    ) -> int:
        """The rows `holder` holds that none of its tasks works on (`busy` lists those it
        does), claimed before `before`, given back; how many."""
        params = {"p_holder": holder, "p_busy": list(busy) or [0], "p_before": before}
        return int((await conn.execute(self._release_own, params)).rowcount)
