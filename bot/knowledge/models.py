"""The `help_article` table: the indexed copy of the help-center folder (schema 0004)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlmodel import Field, SQLModel

from bot.store.models import utcnow

# PostgreSQL: the article's full-text vector (title weighted A, body B), written by `reindex`,
# GIN-indexed. SQLite has no such type: there the column is plain TEXT and stays NULL, because
# SQLite searches an FTS5 index built in memory from this table (see bot/knowledge/search.py).
SEARCH_VECTOR_TYPE = TSVECTOR().with_variant(Text(), "sqlite")


class HelpArticle(SQLModel, table=True):
    """One Markdown article; `id` is its path relative to the knowledge folder."""

    __tablename__ = "help_article"
    __table_args__ = (
        Index("ix_help_article_search_vector", "search_vector", postgresql_using="gin"),
    )

    id: str = Field(primary_key=True)
    title: str
    url: str | None = None
    body: str
    # sha256 of the file's bytes (and the parser version): unchanged files are not rewritten.
    content_hash: str = Field(max_length=64)
    updated_at: datetime = Field(default_factory=utcnow)
    search_vector: str | None = Field(
        default=None, sa_column=Column(SEARCH_VECTOR_TYPE, nullable=True)
    )
