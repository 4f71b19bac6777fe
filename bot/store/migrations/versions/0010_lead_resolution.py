"""escalation.resolution: what the lead's first action did with the bot's draft

Revision ID: 0010
Revises: 0009

`escalation.resolution` says whether the bot's draft was right, for `supportbot calibrate`:
`draft_sent` (sent as drafted), `edited`, `taken_over`, `dismissed`; NULL while open. Existing
escalations get the resolution their stored columns prove: a claimed one (`claimed_at`) was
taken over, whatever came next; an answered one sent the draft when its final answer is the
draft (whitespace aside, as the edit form may change it), else an edited answer; a dismissed
one was dismissed.

Down again: the column is dropped; every fact it was derived from stays in the other columns.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_ANSWERED_BY_FORM = sa.text(
    "SELECT id, draft, final_answer FROM escalation"
    " WHERE status = 'answered' AND claimed_at IS NULL AND final_answer IS NOT NULL"
)
_SET = sa.text("UPDATE escalation SET resolution = :resolution WHERE id = :id")


def upgrade() -> None:
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolution", sa.String(length=16), nullable=True))
    op.execute("UPDATE escalation SET resolution = 'taken_over' WHERE claimed_at IS NOT NULL")
    op.execute(
        "UPDATE escalation SET resolution = 'dismissed'"
        " WHERE status = 'dismissed' AND claimed_at IS NULL"
    )
    bind = op.get_bind()
    # Compared here, not in SQL: "the same text, whitespace aside" has no portable SQL.
    for row in bind.execute(_ANSWERED_BY_FORM).all():
        draft, sent = row.draft or "", row.final_answer
        unchanged = bool(draft.split()) and sent.split() == draft.split()
        bind.execute(_SET, {"id": row.id, "resolution": "draft_sent" if unchanged else "edited"})


def downgrade() -> None:
    with op.batch_alter_table("escalation", schema=None) as batch_op:
        batch_op.drop_column("resolution")
