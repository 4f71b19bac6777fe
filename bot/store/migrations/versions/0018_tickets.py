"""tickets: a conversation's ticket status, owner and resolution; SLA clocks

Revision ID: 0018
Revises: 0016

`conversation.ticket_status` (`bot/sla/lifecycle.TicketStatus`) is where the ticket stands;
conversations from before are `new` until their customer next writes. `owner_user_id` is who
took it (👀), `resolved_at` when it was last resolved. `sla_clock` holds one row per wait of a
customer for a response, with a partial index on the open ones.

Down again: the columns and the table are dropped with their data; nothing else refers to them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_OPEN = sa.text("closed_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ticket_status", sa.String(length=24), server_default="new", nullable=False)
        )
        batch_op.add_column(sa.Column("owner_user_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_conversation_ticket", ["team_id", "ticket_status"], unique=False)
    op.create_table(
        "sla_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.String(length=16), nullable=True),
        sa.Column("business_seconds", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sla_clock_conversation_id", "sla_clock", ["conversation_id"], unique=False)
    op.create_index(
        "ix_sla_clock_open",
        "sla_clock",
        ["due_at"],
        unique=False,
        postgresql_where=_OPEN,
        sqlite_where=_OPEN,
    )


def downgrade() -> None:
    op.drop_index("ix_sla_clock_open", table_name="sla_clock")
    op.drop_index("ix_sla_clock_conversation_id", table_name="sla_clock")
    op.drop_table("sla_clock")
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_ticket")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("owner_user_id")
        batch_op.drop_column("ticket_status")
