"""message verdicts; model calls charged to their message's sender

Revision ID: 0008
Revises: 0007

`message.verdict`: what the checks decided about a customer message; only messages let
through are shown to a model later (history, summaries). Existing customer messages get the
verdict their stored outcome proves (the bot's reply kind, the escalation's reasons); those it
proves nothing about (held unchecked while a person owned the thread or over the rate, an
apology, still pending) are `undecided`, which a model does not read. Running summaries written
after a message now withheld are deleted: they are derived data, and the next turn folds them
again from what may be shown.

`model_call.user_id`: the sender of the message each call answered (the thread's starter for
calls whose message was purged), so budgets and `/costs @user` charge each person their own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_REPLY = (
    "EXISTS (SELECT 1 FROM message r WHERE r.reply_to_id = message.id AND r.role = 'assistant'"
    " AND (r.tier IS NULL OR r.tier <> 'human') AND r.kind IN ({kinds}))"
)
_ESCALATION = "EXISTS (SELECT 1 FROM escalation e WHERE e.message_id = message.id AND ({reasons}))"

# In order: the first that matches a customer message (still `undecided`) is its verdict.
_BACKFILL = [
    ("flagged", _ESCALATION, ("injection", "output_leak")),
    ("too_long", _REPLY, ("too_long",)),
    ("rate_limited", _REPLY, ("rate_limited",)),
    ("budget", _REPLY, ("budget",)),
    ("budget", _ESCALATION, ("budget",)),
    ("handed_over", _ESCALATION, ("customer_request", "repeated_complaint")),
    ("passed", _REPLY, ("answer", "not_linked", "greeting", "files_note", "no_answer", "handoff")),
]


def _condition(template: str, values: tuple[str, ...]) -> str:
    kinds = ", ".join(f"'{v}'" for v in values)
    # reasons is a JSON list: '["injection", "low_confidence"]' on both databases
    reasons = " OR ".join(f"CAST(e.reasons AS TEXT) LIKE '%\"{v}\"%'" for v in values)
    return template.format(kinds=kinds, reasons=reasons)


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("verdict", sa.String(length=16), server_default="none", nullable=False)
        )
    with op.batch_alter_table("model_call", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("user_id", sa.String(length=32), server_default="", nullable=False)
        )
        batch_op.create_index("ix_model_call_user", ["user_id", "created_at"], unique=False)

    op.execute("UPDATE message SET verdict = 'undecided' WHERE role = 'user'")
    for verdict, template, values in _BACKFILL:
        op.execute(
            f"UPDATE message SET verdict = '{verdict}' WHERE role = 'user'"
            f" AND verdict = 'undecided' AND {_condition(template, values)}"
        )
    op.execute(
        "DELETE FROM message WHERE role = 'summary' AND EXISTS (SELECT 1 FROM message m"
        " WHERE m.conversation_id = message.conversation_id AND m.role = 'user'"
        " AND m.id < message.id"
        " AND m.verdict NOT IN ('passed', 'handed_over', 'budget', 'held') AND m.text <> '')"
    )
    op.execute(
        "UPDATE model_call SET user_id = COALESCE("
        "(SELECT m.user_id FROM message m WHERE m.id = model_call.message_id),"
        " (SELECT c.user_id FROM conversation c WHERE c.id = model_call.conversation_id), '')"
    )


def downgrade() -> None:
    with op.batch_alter_table("model_call", schema=None) as batch_op:
        batch_op.drop_index("ix_model_call_user")
        batch_op.drop_column("user_id")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_column("verdict")
