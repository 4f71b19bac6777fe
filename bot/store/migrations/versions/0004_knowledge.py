"""knowledge base: help_article

Revision ID: 0004
Revises: 0003

`help_article` is the indexed copy of the help-center folder (bot/knowledge/models.py).
PostgreSQL searches it with full-text search: `search_vector` is a TSVECTOR kept up to date by
`bot.knowledge.reindex`, with a GIN index. SQLite has no such type: there the column is TEXT and
stays NULL, and the search runs on an FTS5 table that `bot.knowledge` builds in memory from this
table (an FTS5 table in the database file would add six tables, the virtual one and its shadow
tables, that SQLModel cannot describe).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "help_article",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("url", sa.String(), nullable=True),
        sa.Column("body", sa.String(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("search_vector", postgresql.TSVECTOR() if postgres else sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    # GIN on PostgreSQL; on SQLite a plain index of an always-NULL column, so both databases
    # match the model.
    op.create_index(
        "ix_help_article_search_vector",
        "help_article",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("ix_help_article_search_vector", table_name="help_article")
    op.drop_table("help_article")
