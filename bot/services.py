"""The long-lived objects of one process, built once from settings and passed around."""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_sdk.web.async_client import AsyncWebClient

from bot import log_privacy
from bot.accounts.directory import SqlChannelDirectory
from bot.accounts.views import ChannelDirectory, NoChannels
from bot.agent.budgets import Budgets
from bot.agent.identity import IdentityResolver
from bot.agent.models import ModelFactory
from bot.agent.pipeline import Answerer
from bot.agent.worker import Worker
from bot.clock import SYSTEM_CLOCK, Clock
from bot.config import Settings
from bot.delivery import Sender
from bot.knowledge import KnowledgeBase, resolve_directory
from bot.orders import OrderBackend, order_backend
from bot.orders.importing import import_demo_orders
from bot.poster import Poster
from bot.slack_clients import SingleWorkspace, SlackClients
from bot.slack_out import SlackSender
from bot.store.db import Database
from bot.store.holders import Holders, holders_for
from bot.tickets.events import NoTickets, TicketEvents


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
    # Seams for issue 15 (docs/issue-15-plan.md §8), each a no-op until its branch lands.
    clients: SlackClients | None = None  # None: no Slack (`supportbot chat`, `eval`)
    clock: Clock = SYSTEM_CLOCK
    channels: ChannelDirectory = field(default_factory=NoChannels)
    tickets: TicketEvents = field(default_factory=NoTickets)

    async def start(self) -> None:
        """Announce this process as a holder of claims, before it takes any."""
        await self.holders.start()

    async def close(self) -> None:
        await self.worker.drain()
        self.knowledge.close()
        await self.models.close()
        await self.orders.close()
        await self.holders.close()
        await self.db.close()


def build_services(
    settings: Settings,
    slack: AsyncWebClient | None,
    *,
    sender: Sender | None = None,
    known_emails: dict[str, str] | None = None,
    models: ModelFactory | None = None,
) -> Services:
    """Build the process's objects; posts go to Slack unless another `sender` is given, and
    the models come from settings unless another factory is given (`supportbot eval`)."""
    log_privacy.install(settings.secrets())
    db = Database(settings.database_url, pool_size=settings.db_pool_size)
    if sender is None:
        if slack is None:
            raise ValueError("build_services needs a Slack client or another sender")
        sender = SlackSender(slack, db)
    holders = holders_for(db)
    poster = Poster(db, sender, holders, settings.leads_channel)
    models = models or ModelFactory(settings)
    orders = order_backend(settings, db)
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
    clients = SingleWorkspace(slack) if slack is not None else None
    return Services(
        settings,
        db,
        models,
        orders,
        identity,
        answerer,
        worker,
        sender,
        poster,
        holders,
        knowledge,
        clients=clients,
        channels=SqlChannelDirectory(db, clients),
    )


async def prepare_database(settings: Settings, db: Database) -> None:
    """Migrate, and give the embedded order store its demo orders when it is empty."""
    await db.upgrade()
    if settings.orders_backend == "sql" and settings.load_demo_orders:
        await import_demo_orders(db)
