"""posted pieces: how much of a refused reply Slack did post

Revision ID: 0007
Revises: 0006

A reply longer than Slack's limit goes out in pieces. When Slack refuses a later piece, the
sweeper posts the reply again later; it must start at the first piece not posted, or the
customer reads the earlier pieces twice.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("posted_pieces", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("posted_pieces")
