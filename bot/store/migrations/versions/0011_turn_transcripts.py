"""turn transcripts: what a model did in a turn whose answer or draft it wrote

Revision ID: 0011
Revises: 0010

`turn_transcript` keeps, for each customer message a model answered (or drafted an answer to
for a lead), the system prompt and tools the primary tier is given, the conversation as it saw
it, and the writing tier's tool calls, results and final answer: the material of `supportbot
export finetune`. Turns answered before this revision have none (the export counts them as
"no transcript"). Down again, the table and what it holds are dropped: nothing else reads it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "turn_transcript",
        sa.Column("message_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("system", sa.String(), nullable=False),
        sa.Column("tools", sa.JSON(), nullable=True),
        sa.Column("messages", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.PrimaryKeyConstraint("message_id"),
    )
    op.create_index(
        "ix_turn_transcript_conversation_id", "turn_transcript", ["conversation_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_turn_transcript_conversation_id", table_name="turn_transcript")
    op.drop_table("turn_transcript")
