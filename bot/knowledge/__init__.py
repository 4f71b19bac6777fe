"""The help-center knowledge base behind the `search_help_center` tool.

Articles are Markdown files in a folder (KNOWLEDGE_DIR, else the bundled example in
bot/data/knowledge/). `reindex` copies them into the `help_article` table, rewriting only the
files whose content hash changed; `KnowledgeBase` searches them and notices edits without a
restart by comparing the folder's (path, mtime, size) signature now and then.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.errors import ConfigError
from bot.knowledge.articles import (
    Article,
    Signature,
    folder_signature,
    parse_article,
    read_folder,
)
from bot.knowledge.models import HelpArticle  # also registers help_article on the metadata
from bot.knowledge.search import (
    PG_SEARCH_VECTOR,
    MemoryIndex,
    SearchHit,
    search_postgres,
    search_terms,
)
from bot.store.db import Database
from bot.store.models import utcnow

__all__ = [
    "BUNDLED_DIR",
    "Article",
    "KnowledgeBase",
    "ReindexStats",
    "SearchHit",
    "parse_article",
    "reindex",
    "resolve_directory",
]

log = logging.getLogger(__name__)

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "data" / "knowledge"
MAX_LIMIT = 20
# Any number that is ours alone: replicas reindexing together take turns (PostgreSQL).
_REINDEX_LOCK_ID = 0x5B08
_CHUNK = 500

_TABLE: Table = HelpArticle.__table__  # type: ignore[attr-defined]


def resolve_directory(knowledge_dir: str) -> Path:
    """The folder to index: the KNOWLEDGE_DIR setting, or the bundled example when empty."""
    if not knowledge_dir.strip():
        return BUNDLED_DIR
    directory = Path(knowledge_dir).expanduser()
    if not directory.is_dir():
        raise ConfigError(
            f"KNOWLEDGE_DIR={knowledge_dir!r} is not a folder. Point it at a folder of Markdown "
            "help articles, or leave it empty to use the bundled example articles."
        )
    return directory


@dataclass
class ReindexStats:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def _chunks(items: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(items), _CHUNK):
        yield list(items[start : start + _CHUNK])


def _row(content_hash: str, article: Article) -> dict[str, Any]:
    return {
        "id": article.id,
        "title": article.title,
        "url": article.url,
        "body": article.body,
        "content_hash": content_hash,
        "updated_at": utcnow(),
        "search_vector": None,  # PostgreSQL: recomputed below
    }


async def _write(
    conn: AsyncConnection,
    files: dict[str, tuple[str, Article]],
    existing: dict[str, str],
) -> ReindexStats:
    added = [_row(h, a) for i, (h, a) in files.items() if i not in existing]
    changed = [_row(h, a) for i, (h, a) in files.items() if i in existing and existing[i] != h]
    removed = sorted(set(existing) - set(files))
    if added:
        await conn.execute(insert(_TABLE), added)
    if changed:
        # Bound names may not be column names in an UPDATE's SET clause: prefix them.
        await conn.execute(
            update(_TABLE)
            .where(_TABLE.c.id == bindparam("p_id"))
            .values({k: bindparam(f"p_{k}") for k in changed[0] if k != "id"}),
            [{f"p_{k}": v for k, v in row.items()} for row in changed],
        )
    for ids in _chunks(removed):
        await conn.execute(delete(_TABLE).where(_TABLE.c.id.in_(ids)))
    if conn.dialect.name == "postgresql" and (added or changed):
        await conn.execute(
            text(
                f"UPDATE help_article SET search_vector = {PG_SEARCH_VECTOR} "
                "WHERE search_vector IS NULL"
            )
        )
    return ReindexStats(
        added=len(added),
        updated=len(changed),
        removed=len(removed),
        unchanged=len(files) - len(added) - len(changed),
    )


async def reindex(db: Database, directory: Path) -> ReindexStats:
    """Make `help_article` hold exactly the folder's articles; only changed files are written.

    Raises FileNotFoundError when `directory` is not a folder (rather than emptying the index).
    """
    files = await asyncio.to_thread(read_folder, directory)
    async with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"SELECT pg_advisory_xact_lock({_REINDEX_LOCK_ID})"))
        existing: dict[str, str] = {
            row[0]: row[1]
            for row in (await conn.execute(select(_TABLE.c.id, _TABLE.c.content_hash))).all()
        }
        stats = await _write(conn, files, existing)
    if stats.changed:
        log.info(
            "Knowledge base %s: %d added, %d updated, %d removed, %d unchanged.",
            directory,
            stats.added,
            stats.updated,
            stats.removed,
            stats.unchanged,
        )
    return stats


class KnowledgeBase:
    """Search over the help articles of one folder, kept in step with the folder.

    `search` calls `refresh_if_changed` itself, so edits, new and deleted files are picked up
    within `check_interval` seconds without a restart. At most one folder check runs at a time,
    and at most one per `check_interval`.
    """

    def __init__(
        self,
        db: Database,
        directory: Path,
        *,
        check_interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.directory = directory
        self.check_interval = check_interval
        self.last_stats: ReindexStats | None = None
        self._clock = clock
        self._signature: Signature | None = None
        self._checked_at: float | None = None
        self._lock = asyncio.Lock()
        self._memory: MemoryIndex | None = None  # SQLite only

    @property
    def _sqlite(self) -> bool:
        return self.db.engine.dialect.name == "sqlite"

    def _due(self) -> bool:
        return self._checked_at is None or self._clock() - self._checked_at >= self.check_interval

    async def refresh_if_changed(self) -> None:
        """Reindex when the folder's signature changed since the last check (at most one check
        per `check_interval` seconds). A missing folder keeps the current index, with a warning."""
        if not self._due() and self._signature is not None:
            return
        # Never indexed yet: wait for a first check under way, so that no search reads an
        # index still being built (an empty one, kept until the next check).
        async with self._lock:
            if not self._due():
                return
            self._checked_at = self._clock()
            try:
                # Taken before reading the files: an edit made meanwhile shows at the next check.
                signature = await asyncio.to_thread(folder_signature, self.directory)
                if signature == self._signature:
                    return
                self.last_stats = await reindex(self.db, self.directory)
            except FileNotFoundError as exc:
                log.warning("%s Keeping the articles indexed before.", exc)
                if self._sqlite and self._memory is None:
                    await self._load_memory()
                return
            if self._sqlite:
                # Also when nothing changed here: another process may have written the rows.
                await self._load_memory()
            self._signature = signature

    async def _load_memory(self) -> None:
        async with self.db.engine.connect() as conn:
            rows = (
                await conn.execute(select(_TABLE.c.id, _TABLE.c.title, _TABLE.c.url, _TABLE.c.body))
            ).all()
        old, self._memory = self._memory, MemoryIndex((r[0], r[1], r[2], r[3]) for r in rows)
        if old is not None:
            old.close()

    async def search(self, query: str, limit: int = 3) -> list[SearchHit]:
        """The articles best matching a customer's question, best first; [] when the question
        has no searchable word. Any text is safe: it never reaches the engine as syntax."""
        terms = search_terms(query)
        if not terms or limit < 1:
            return []
        limit = min(limit, MAX_LIMIT)
        await self.refresh_if_changed()
        if self._sqlite:
            if self._memory is None:
                await self._load_memory()
            assert self._memory is not None
            return self._memory.search(terms, limit)
        return await search_postgres(self.db.engine, terms, limit)

    async def titles_and_urls(self, ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
        """Title and url of each indexed article among `ids` (unknown ids are left out)."""
        wanted = sorted(set(ids))
        found: dict[str, tuple[str, str | None]] = {}
        async with self.db.engine.connect() as conn:
            for chunk in _chunks(wanted):
                rows = await conn.execute(
                    select(_TABLE.c.id, _TABLE.c.title, _TABLE.c.url).where(_TABLE.c.id.in_(chunk))
                )
                found.update({row[0]: (row[1], row[2]) for row in rows})
        return found

    def close(self) -> None:
        if self._memory is not None:
            self._memory.close()
            self._memory = None
