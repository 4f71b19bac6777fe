"""message.sender_team_id: the Slack team of a customer message's sender

Revision ID: 0013
Revises: 0012

In a Slack Connect channel the sender of a message belongs to another organisation than the
workspace that installed the bot. `conversation.team_id` is the installing team;
`message.sender_team_id` is the sender's own team (`T…`, or the organisation's `E…` when Slack
names only that). Messages stored before this revision did not record it: they get '' (unknown),
never a guess.

Down again: the column is dropped; nothing else was derived from it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sender_team_id", sa.String(length=32), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("sender_team_id")
