"""Full-text search over the help articles: FTS5 on SQLite, text search on PostgreSQL.

Customers type free text, never query syntax. A question is reduced to its words (letters and
digits only, so no quote, parenthesis, `*`, `-`, `AND`/`NEAR` operator or emoji reaches the
search engine), common English words are dropped, and the rest are OR-ed: an article matching
more of the words, or rarer ones, ranks higher.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

MAX_TERMS = 24
MAX_TERM_CHARS = 64
SNIPPET_CHARS = 300

_WORD = re.compile(r"[^\W_]+")

# Words that say nothing about which article is meant ("how do I ...", "where is my ...").
_STOP_WORDS_TEXT = """
    a about above after again against all also am an and any are
    as at be because been before being below between both but by can could d did do does doing
    don done down during each else for from further get gets getting got had has have having he
    her here hers herself him himself his how i if in into is it its itself just ll m me might
    more most much must my myself need no nor not now of off on once only or other our ours
    ourselves out over own please re s same shall she should so some still such t than thank
    thanks that the their theirs them themselves then there these they this those through to
    too under until up us ve very was we were what when where which while who whom why will
    with would you your yours yourself yourselves hi hello hey
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


@dataclass
class SearchHit:
    id: str
    title: str
    url: str | None
    snippet: str
    # Higher is better; comparable between hits of one search, not across databases.
    score: float


def search_terms(query: str) -> list[str]:
    """The words of a customer's question worth searching for: lower case, no stop words, no
    duplicates, at most MAX_TERMS; [] when nothing is left."""
    terms: list[str] = []
    for word in _WORD.findall(query.casefold()):
        if word in STOP_WORDS or len(word) > MAX_TERM_CHARS or word in terms:
            continue
        terms.append(word)
        if len(terms) == MAX_TERMS:
            break
    return terms


def clip_snippet(snippet: str, limit: int = SNIPPET_CHARS) -> str:
    """One line of plain-ish text, at most `limit` characters."""
    snippet = re.sub(r"(?m)^\s{0,3}#{1,6}\s+", "", snippet)  # Markdown heading marks
    snippet = " ".join(snippet.replace("**", "").split())
    if len(snippet) <= limit:
        return snippet
    cut = snippet[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.") + "…"


class MemoryIndex:
    """SQLite: an FTS5 table in an in-memory database, built from the `help_article` rows.

    Kept out of the database file on purpose: an FTS5 table there adds tables (the virtual one
    and its shadow tables) that SQLModel cannot describe, which would break the migrated-schema
    checks. Rebuilding it takes milliseconds for a few hundred articles.
    """

    def __init__(self, rows: Iterable[tuple[str, str, str | None, str]]) -> None:
        self._urls: dict[str, str | None] = {}
        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        self._conn.execute(
            "CREATE VIRTUAL TABLE doc USING fts5("
            "id UNINDEXED, title, body, tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        for article_id, title, url, body in rows:
            self._urls[article_id] = url
            self._conn.execute(
                "INSERT INTO doc (id, title, body) VALUES (?, ?, ?)", (article_id, title, body)
            )
        self._conn.commit()

    def __len__(self) -> int:
        return len(self._urls)

    def search(self, terms: list[str], limit: int) -> list[SearchHit]:
        if not terms:
            return []
        # Each word a quoted FTS5 string: never an operator, never a syntax error.
        match = " OR ".join(f'"{term}"' for term in terms)
        rows = self._conn.execute(
            "SELECT id, title, snippet(doc, 2, '', '', '…', 40), bm25(doc, 0.0, 3.0, 1.0) AS rank "
            "FROM doc WHERE doc MATCH ? ORDER BY rank, id LIMIT ?",
            (match, limit),
        ).fetchall()
        return [
            SearchHit(
                id=article_id,
                title=title,
                url=self._urls.get(article_id),
                snippet=clip_snippet(snippet),
                score=-float(rank),
            )
            for article_id, title, snippet, rank in rows
        ]

    def close(self) -> None:
        self._conn.close()


# The vector `reindex` stores for changed rows (title words weigh more than body words).
PG_SEARCH_VECTOR = (
    "setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')"
)

_PG_HEADLINE_OPTIONS = (
    'StartSel="", StopSel="", MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "'
)

_PG_SEARCH = text(
    """
    WITH q AS (SELECT to_tsquery('english', :query) AS query),
    top AS (
        SELECT a.id, a.title, a.url, a.body, ts_rank(a.search_vector, q.query, 1) AS score
        FROM help_article AS a, q
        WHERE a.search_vector @@ q.query
        ORDER BY score DESC, a.id
        LIMIT :limit
    )
    SELECT top.id, top.title, top.url, ts_headline('english', top.body, q.query, :options),
           top.score
    FROM top, q
    ORDER BY top.score DESC, top.id
    """
)


async def search_postgres(engine: AsyncEngine, terms: list[str], limit: int) -> list[SearchHit]:
    """PostgreSQL: the GIN-indexed `search_vector` against the OR of the words."""
    if not terms:
        return []
    # Letters and digits joined by `|`: a valid tsquery whatever the customer typed.
    query = " | ".join(terms)
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                _PG_SEARCH, {"query": query, "limit": limit, "options": _PG_HEADLINE_OPTIONS}
            )
        ).all()
    return [
        SearchHit(
            id=row[0], title=row[1], url=row[2], snippet=clip_snippet(row[3]), score=float(row[4])
        )
        for row in rows
    ]
