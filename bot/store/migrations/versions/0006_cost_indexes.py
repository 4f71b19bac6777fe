"""cost indexes: the strong-tier calls by time

Revision ID: 0006
Revises: 0005

`/costs` re-prices the primary calls of every message that never needed the strong tier, so it
looks up which messages in the period did call it. A partial index over the strong-tier calls
only (a small share of all calls) answers that without scanning the period's calls a second
time; it is small and cheap to keep up to date.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_STRONG = sa.text("tier = 'strong'")


def upgrade() -> None:
    op.create_index(
        "ix_model_call_strong",
        "model_call",
        ["created_at", "message_id"],
        unique=False,
        postgresql_where=_STRONG,
        sqlite_where=_STRONG,
    )


def downgrade() -> None:
    op.drop_index("ix_model_call_strong", table_name="model_call")
