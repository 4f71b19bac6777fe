"""Alembic environment: runs on the connection that `Database.upgrade` hands over."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import bot.batch.models
import bot.knowledge.models
import bot.store.account_models
import bot.store.installations
import bot.store.models
import bot.store.sla_models
import bot.store.workspace_models  # noqa: F401  (these register the tables on SQLModel.metadata)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Run migrations with `supportbot db upgrade`, which supplies a connection.")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
