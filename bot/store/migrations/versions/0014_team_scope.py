"""team scope: the `workspace` table, and `team_id` on every tenant row

Revision ID: 0014
Revises: 0013

The bot serves one or more Slack workspaces (teams). `workspace` holds each team's own
settings (leads channel, lead users). `model_call`, `escalation`, `outbox`, `feedback` and
`budget_notice` get `team_id`, the workspace whose data they are, as `conversation.team_id`
already was: existing rows take their conversation's team (an outbox alert without a
conversation, and every budget notice, take '': the single workspace adopts them at start,
`bot/workspaces.py`). Leads are told of a budget once per workspace: the notice's unique key
gains `team_id`. Indexes for a workspace's calls, threads and escalations of a period.

Down again: the columns and the table are dropped; of budget notices that differ only by
team, the oldest stays (the key without the team allows one).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# The tables whose rows belong to a conversation, whose team they take.
_OF_A_CONVERSATION = ("model_call", "escalation", "outbox", "feedback")


def _team_column() -> sa.Column[str]:
    return sa.Column("team_id", sa.String(length=32), server_default="", nullable=False)


def upgrade() -> None:
    op.create_table(
        "workspace",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("enterprise_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("leads_channel", sa.String(length=32), server_default="", nullable=False),
        sa.Column("lead_users", sa.JSON(), nullable=False),
        sa.Column("installed_by", sa.String(length=32), nullable=True),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uninstalled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("team_id"),
    )
    for table in _OF_A_CONVERSATION:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(_team_column())
        op.execute(
            f"UPDATE {table} SET team_id = COALESCE((SELECT c.team_id FROM conversation c"
            f" WHERE c.id = {table}.conversation_id), '')"
        )
    with op.batch_alter_table("budget_notice", schema=None) as batch_op:
        batch_op.add_column(_team_column())
        batch_op.drop_constraint("uq_budget_notice", type_="unique")
        batch_op.create_unique_constraint("uq_budget_notice", ["team_id", "budget", "scope", "day"])
    op.create_index("ix_conversation_team", "conversation", ["team_id", "created_at"])
    op.create_index("ix_model_call_team", "model_call", ["team_id", "created_at"])
    op.create_index("ix_escalation_team", "escalation", ["team_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_escalation_team", table_name="escalation")
    op.drop_index("ix_model_call_team", table_name="model_call")
    op.drop_index("ix_conversation_team", table_name="conversation")
    op.execute(
        "DELETE FROM budget_notice WHERE id NOT IN (SELECT min(id) FROM budget_notice"
        " GROUP BY budget, scope, day)"
    )
    with op.batch_alter_table("budget_notice", schema=None) as batch_op:
        batch_op.drop_constraint("uq_budget_notice", type_="unique")
        batch_op.create_unique_constraint("uq_budget_notice", ["budget", "scope", "day"])
        batch_op.drop_column("team_id")
    for table in reversed(_OF_A_CONVERSATION):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("team_id")
    op.drop_table("workspace")
