"""The database a terminal command works on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.config import Settings
from bot.store.db import Database


@asynccontextmanager
async def open_database(settings: Settings, *, upgrade: bool = True) -> AsyncIterator[Database]:
    """DATABASE_URL's database, its schema first migrated to the newest (unless `upgrade` is
    false: `db downgrade` and the serve parent's preparation do their own); closed on the way
    out, whatever happens inside."""
    db = Database(settings.database_url)
    try:
        if upgrade:
            await db.upgrade()
        yield db
    finally:
        await db.close()
