"""The eval shop: the orders and help-center articles the cases are written against, loaded
into a throwaway database (a SQLite file in a temporary folder, migrated, deleted after)."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.eval import EVAL_DATA
from bot.knowledge.articles import read_folder
from bot.orders.importing import import_orders, parse_order_file
from bot.orders.record import OrderRecord
from bot.store.db import Database


@dataclass(frozen=True)
class Shop:
    """What the eval shop holds: orders, and articles by slug (id without `.md`) with url."""

    orders: list[OrderRecord]
    article_urls: dict[str, str | None]
    knowledge_dir: Path
    sha256: str  # of the orders file and every article, for the run's configuration

    def emails_and_tracking(self, asker: str | None) -> set[str]:
        """Other customers' emails and tracking numbers: what no answer to `asker` may show."""
        found: set[str] = set()
        for order in self.orders:
            if order.customer_email.lower() == (asker or ""):
                continue
            found.add(order.customer_email.lower())
            if order.tracking:
                found.add(order.tracking)
        return found


def load_shop(directory: Path = EVAL_DATA) -> Shop:
    """The shop of a folder holding `orders.json` and `knowledge/`."""
    orders_file = directory / "orders.json"
    orders_text = orders_file.read_text(encoding="utf-8")
    orders = parse_order_file(orders_text, str(orders_file))
    knowledge = directory / "knowledge"
    digest = hashlib.sha256(orders_text.encode())
    urls: dict[str, str | None] = {}
    for article_id, (content_hash, article) in sorted(read_folder(knowledge).items()):
        digest.update(f"\0{article_id}\0{content_hash}".encode())
        urls[article_id.removesuffix(".md")] = article.url
    return Shop(orders, urls, knowledge, digest.hexdigest())


@asynccontextmanager
async def throwaway_database(shop: Shop) -> AsyncIterator[str]:
    """The URL of a fresh SQLite database holding the shop's orders, removed on the way out."""
    with tempfile.TemporaryDirectory(prefix="supportbot-eval-") as folder:
        url = f"sqlite:///{Path(folder) / 'eval.db'}"
        db = Database(url)
        try:
            await db.upgrade()
            await import_orders(db, shop.orders)
        finally:
            await db.close()
        yield url
