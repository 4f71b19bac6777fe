"""team scope: the `workspace` table, and `team_id` on every tenant row

Revision ID: 0014
Revises: 0013

The bot serves one or more Slack workspaces (teams). `workspace` holds each team's own
settings (leads channel, lead users). `model_call`, `escalation`, `outbox`, `feedback` and
`budget_notice` get `team_id`, the workspace whose data they are, as `conversation.team_id`
already was: existing rows take their conversation's team (an outbox alert without a
conversation, and every budget notice, take '': the single workspace adopts them at start,
`bot/workspaces.py`). Leads are told of a budget once per workspace: the notice's unique key
gains `team_id`. Indexes for a workspace's calls, threads and escalations of a period. A
lead's customer link is per workspace: `customer_link`'s key becomes (team_id, slack_user_id);
existing links take the team of the stored threads when there is exactly one, else '' (adopted
at start).

Down again: the columns and the table are dropped; of budget notices that differ only by
team, the oldest stays (the key without the team allows one), and of a user's links in several
workspaces the newest.
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


def _link_table(name: str, *, per_team: bool) -> None:
    """`customer_link`'s shape, keyed per workspace or not (SQLite cannot change a key: the
    table is made again under `name`, then filled and renamed)."""
    key = ["team_id", "slack_user_id"] if per_team else ["slack_user_id"]
    op.create_table(
        name,
        *([_team_column()] if per_team else []),
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(*key),
    )


def _links_per_team() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("customer_link", _team_column())
        op.drop_constraint("customer_link_pkey", "customer_link", type_="primary")
        op.create_primary_key("customer_link_pkey", "customer_link", ["team_id", "slack_user_id"])
    else:
        _link_table("customer_link_new", per_team=True)
        op.execute(
            "INSERT INTO customer_link_new (team_id, slack_user_id, email, created_at)"
            " SELECT '', slack_user_id, email, created_at FROM customer_link"
        )
        op.drop_table("customer_link")
        op.rename_table("customer_link_new", "customer_link")
    op.execute(
        "UPDATE customer_link SET team_id = (SELECT min(team_id) FROM conversation"
        " WHERE team_id != '') WHERE (SELECT count(DISTINCT team_id) FROM conversation"
        " WHERE team_id != '') = 1"
    )


def _links_global() -> None:
    op.execute(
        "DELETE FROM customer_link WHERE EXISTS (SELECT 1 FROM customer_link n"
        " WHERE n.slack_user_id = customer_link.slack_user_id AND (n.created_at >"
        " customer_link.created_at OR (n.created_at = customer_link.created_at"
        " AND n.team_id > customer_link.team_id)))"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("customer_link_pkey", "customer_link", type_="primary")
        op.create_primary_key("customer_link_pkey", "customer_link", ["slack_user_id"])
        op.drop_column("customer_link", "team_id")
    else:
        _link_table("customer_link_old", per_team=False)
        op.execute(
            "INSERT INTO customer_link_old (slack_user_id, email, created_at)"
            " SELECT slack_user_id, email, created_at FROM customer_link"
        )
        op.drop_table("customer_link")
        op.rename_table("customer_link_old", "customer_link")


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
    _links_per_team()


def downgrade() -> None:
    _links_global()
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
