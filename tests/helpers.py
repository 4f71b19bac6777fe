"""What the end-to-end tests share beyond their fixtures: reading back what the bot stored."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import inspect
from sqlmodel import SQLModel, select

from tests.conftest import Bot

Row = TypeVar("Row", bound=SQLModel)


async def rows(bot: Bot, table: type[Row]) -> list[Row]:
    """Every row of `table`, in the order they were written (by primary key)."""
    async with bot.services.db.session() as s:
        return list((await s.exec(select(table).order_by(*inspect(table).primary_key))).all())
