"""outbox: every post the bot makes, with its own delivery state; claims name their holder

Revision ID: 0009
Revises: 0008

A reply's delivery state moves from its customer message (`failed`, `undelivered`,
`message.posted_pieces`) to an `outbox` row of its own; the customer message only says whether
it is answered. Each stored reply gets its row: posted when Slack took it (its ts), refused
(tried again at once) or given up as its customer message said, posted (with no ts) otherwise
(`supportbot chat`). Failed and undelivered messages become answered; working ones pending
again. `message.holder` names the process answering a message, so a dead one's claims are
released without a lease running out.

Down again: the pieces and the statuses go back to the messages (failed while a reply is still
to post, undelivered when one was given up); the posts to the leads channel are dropped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_REPLY_POSTS = """
INSERT INTO outbox (kind, channel_id, thread_ts, conversation_id, message_id, state,
                    next_try_at, posted_pieces, posted_ts, created_at)
SELECT 'thread_reply', r.channel_id, c.thread_ts, r.conversation_id, r.id,
       CASE WHEN r.slack_ts IS NOT NULL THEN 'posted'
            WHEN q.status = 'failed' THEN 'refused'
            WHEN q.status = 'undelivered' THEN 'given_up'
            ELSE 'posted' END,
       r.created_at, r.posted_pieces, r.slack_ts, r.created_at
FROM message r
JOIN conversation c ON c.id = r.conversation_id
LEFT JOIN message q ON q.id = r.reply_to_id
WHERE r.role = 'assistant'
ORDER BY r.id
"""

_HAS_REPLY_IN = (
    "EXISTS (SELECT 1 FROM outbox o JOIN message r ON r.id = o.message_id"
    " WHERE r.reply_to_id = message.id AND o.state IN ({states}))"
)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("thread_ts", sa.String(length=32), nullable=True),
        sa.Column("conversation_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=True),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("posted_pieces", sa.Integer(), nullable=False),
        sa.Column("posted_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversation.id"]),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalation.id"]),
        sa.ForeignKeyConstraint(["message_id"], ["message.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_due", "outbox", ["state", "next_try_at"], unique=False)
    op.create_index("ix_outbox_conversation_id", "outbox", ["conversation_id"], unique=False)
    op.execute(_REPLY_POSTS)
    op.execute("UPDATE message SET status = 'answered' WHERE status IN ('failed', 'undelivered')")
    # A claim of the old kind names no holder, so no sweep could release it: pending again
    # (the processes holding them are being replaced by this upgrade's release).
    op.execute("UPDATE message SET status = 'pending', claimed_at = NULL WHERE status = 'working'")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder", sa.String(length=64), nullable=True))
        batch_op.drop_column("posted_pieces")


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("posted_pieces", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.drop_column("holder")
    op.execute(
        "UPDATE message SET posted_pieces = COALESCE((SELECT max(o.posted_pieces) FROM outbox o"
        " WHERE o.message_id = message.id), 0) WHERE role = 'assistant'"
    )
    for status, states in (
        ("undelivered", "'given_up'"),
        ("failed", "'to_post', 'posting', 'refused'"),  # still to post: the sweeper posts it
    ):
        op.execute(
            f"UPDATE message SET status = '{status}', claimed_at = COALESCE(claimed_at,"
            f" created_at) WHERE role = 'user' AND {_HAS_REPLY_IN.format(states=states)}"
        )
    op.drop_index("ix_outbox_conversation_id", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
