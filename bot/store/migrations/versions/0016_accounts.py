"""accounts: customer accounts, their domains and Slack teams, and the shared channels

Revision ID: 0016
Revises: 0015

A customer account (`account`) belongs to one workspace (`team_id`); its email domains
(`account_domain`, lower-cased, one account per domain in a workspace), its own Slack teams
(`account_team`) and the Slack Connect channels shared with it (`shared_channel`, with whether
a lead confirmed the mapping and what the bot answers there) hang off it.

Down again: the four tables are dropped with their rows; nothing else refers to them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "name", name="uq_account_name"),
        sa.UniqueConstraint("team_id", "external_id", name="uq_account_external_id"),
    )
    op.create_index("ix_account_team_id", "account", ["team_id"], unique=False)
    op.create_table(
        "account_domain",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("account_id", "domain"),
        sa.UniqueConstraint("team_id", "domain", name="uq_account_domain"),
    )
    op.create_table(
        "account_team",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("slack_team_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("team_id", "slack_team_id"),
    )
    op.create_index("ix_account_team_account_id", "account_team", ["account_id"], unique=False)
    _create_shared_channel()


def _create_shared_channel() -> None:
    op.create_table(
        "shared_channel",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("mapping", sa.String(length=16), nullable=False),
        sa.Column("suggested_account_id", sa.Integer(), nullable=True),
        sa.Column("external_teams", sa.JSON(), nullable=True),
        sa.Column("reply_mode", sa.String(length=16), nullable=False),
        sa.Column("suggested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("confirmed_by", sa.String(length=32), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["suggested_account_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("team_id", "channel_id"),
    )
    op.create_index("ix_shared_channel_account_id", "shared_channel", ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_shared_channel_account_id", table_name="shared_channel")
    op.drop_table("shared_channel")
    op.drop_index("ix_account_team_account_id", table_name="account_team")
    op.drop_table("account_team")
    op.drop_table("account_domain")
    op.drop_index("ix_account_team_id", table_name="account")
    op.drop_table("account")
