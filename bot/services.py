"""The long-lived objects of one process, built once from settings and passed around."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import select

from bot import log_privacy
from bot.agent.budgets import Budgets
from bot.agent.identity import IdentityResolver
from bot.agent.models import ModelFactory
from bot.agent.pipeline import Answerer
from bot.agent.tools.orders import (
    HttpOrders,
    OrderBackend,
    SqlOrders,
    import_orders,
    parse_order_file,
)
from bot.agent.worker import Worker
from bot.config import Settings
from bot.delivery import Sender
from bot.knowledge import KnowledgeBase, resolve_directory
from bot.poster import Poster
from bot.slack_out import SlackSender
from bot.store.db import Database
from bot.store.holders import Holders, holders_for
from bot.store.models import Order


@dataclass
class Services:
    settings: Settings
    db: Database
    models: ModelFactory
    orders: OrderBackend
    identity: IdentityResolver
    answerer: Answerer
    worker: Worker
    sender: Sender
    poster: Poster
    holders: Holders
    knowledge: KnowledgeBase

    async def start(self) -> None:
        """Announce this process as a holder of claims, before it takes any."""
        await self.holders.start()

    async def close(self) -> None:
        await self.worker.drain()
        self.knowledge.close()
        await self.models.close()
        if isinstance(self.orders, HttpOrders):
            await self.orders.close()
        await self.holders.close()
        await self.db.close()


def build_services(
    settings: Settings,
    slack: AsyncWebClient | None,
    *,
    sender: Sender | None = None,
    known_emails: dict[str, str] | None = None,
) -> Services:
    """Build the process's objects; posts go to Slack unless another `sender` is given."""
    log_privacy.install(settings.secrets())
    db = Database(settings.database_url, pool_size=settings.db_pool_size)
    if sender is None:
        if slack is None:
            raise ValueError("build_services needs a Slack client or another sender")
        sender = SlackSender(slack, db)
    holders = holders_for(db)
    poster = Poster(db, sender, holders, settings.leads_channel)
    models = ModelFactory(settings)
    orders: OrderBackend
    if settings.orders_backend == "http":
        orders = HttpOrders(settings.orders_api_url, settings.orders_api_token.get_secret_value())
    else:
        orders = SqlOrders(db)
    identity = IdentityResolver(slack, settings.lead_users, known_emails)
    budgets = Budgets(settings, db, poster.alert)
    knowledge = KnowledgeBase(db, resolve_directory(settings.knowledge_dir))
    answerer = Answerer(settings, db, models, orders, identity, budgets, knowledge)
    worker = Worker(
        db,
        answerer,
        poster,
        holders,
        leads_channel=settings.leads_channel,
        sweep_seconds=settings.sweep_seconds,
    )
    return Services(
        settings, db, models, orders, identity, answerer, worker, sender, poster, holders, knowledge
    )


async def prepare_database(settings: Settings, db: Database) -> None:
    """Migrate, and give the embedded order store its demo orders when it is empty."""
    await db.upgrade()
    if settings.orders_backend != "sql" or not settings.load_demo_orders:
        return
    async with db.session() as s:
        if (await s.exec(select(Order).limit(1))).first() is not None:
            return
    demo = files("bot.data").joinpath("demo_orders.json").read_text(encoding="utf-8")
    await import_orders(db, parse_order_file(demo, "demo_orders.json"), replace=False)
