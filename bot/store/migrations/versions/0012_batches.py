"""batches: the batches sent to the Batch APIs and their requests' results; model_call.batch

Revision ID: 0012
Revises: 0011

`supportbot eval --batch` sends its model calls through the providers' Batch APIs, round by
round. Each batch sent is a `model_batch` row (provider, model, the provider's batch id, its
round and state); each request in it a `batch_call` row (custom id, hash of its body, and its
result line once the batch ended), so an interrupted run resumes without sending a request
again. `model_call.batch` marks a call answered through a Batch API (priced at batch prices);
existing calls were live ones.

Down again: both tables are dropped (the state of unfinished batch runs is lost) and so is the
batch mark of the calls.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("batch_id", sa.String(length=128), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("provider_status", sa.String(length=32), nullable=False),
        sa.Column("request_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("batch_id", name="uq_model_batch_batch_id"),
    )
    op.create_table(
        "batch_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("custom_id", sa.String(length=64), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["model_batch.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("custom_id", "request_hash", name="uq_batch_call"),
    )
    op.create_index("ix_batch_call_batch_id", "batch_call", ["batch_id"], unique=False)
    with op.batch_alter_table("model_call", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("batch", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("model_call", schema=None) as batch_op:
        batch_op.drop_column("batch")
    op.drop_index("ix_batch_call_batch_id", table_name="batch_call")
    op.drop_table("batch_call")
    op.drop_table("model_batch")
