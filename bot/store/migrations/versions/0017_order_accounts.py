"""demo_order.account_id: the order service's account an embedded order belongs to

Revision ID: 0017
Revises: 0016

Orders are scoped by account in a Slack Connect channel (docs/issue-15-plan.md §1.4): the
embedded store keeps each order's `account_id` (the account's `external_id`), indexed, so a
lookup scoped to an account filters on it. Orders stored before this revision belong to no
account (NULL): no account-scoped lookup finds them, unscoped ones work as before.

Down again: the index and the column are dropped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("demo_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_id", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_demo_order_account_id", ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("demo_order", schema=None) as batch_op:
        batch_op.drop_index("ix_demo_order_account_id")
        batch_op.drop_column("account_id")
