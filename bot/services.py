"""The long-lived objects of one process, built once from settings and passed around."""

from __future__ import annotations

import logging
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
from bot.install import workspace_clients
from bot.knowledge import KnowledgeBase, resolve_directory
from bot.orders import OrderBackend, order_backend
from bot.orders.importing import import_demo_orders
from bot.poster import Poster
from bot.sla.policy import sla_policy
from bot.sla.sweep import SlaSweep
from bot.slack_clients import SingleWorkspace, SlackClients
from bot.slack_out import SlackSender
from bot.store.db import Database
from bot.store.holders import Holders, holders_for
from bot.tickets.events import NoTickets, TicketEvents
from bot.tickets.service import Tickets
from bot.workspaces import Workspaces

log = logging.getLogger(__name__)


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
    workspaces: Workspaces
    # Seams for issue 15 (docs/issue-15-plan.md §8), each a no-op until its branch lands.
    clients: SlackClients | None = None  # None: no Slack (`supportbot chat`, `eval`)
    clock: Clock = SYSTEM_CLOCK
    channels: ChannelDirectory = field(default_factory=NoChannels)
    tickets: TicketEvents = field(default_factory=NoTickets)

    async def start(self) -> None:
        """Announce this process as a holder of claims, before it takes any; with one bot
        token, adopt its workspace (auth.test's team) when Slack says which it is."""
        await self.holders.start()
        if isinstance(self.clients, SingleWorkspace):
            team = await self.identity.installing_team()
            if team is None or not team.team_id:
                log.warning("Slack did not say which workspace the bot is in: adopted later")
            else:
                await self.workspaces.adopt(team.team_id)

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
    clock: Clock = SYSTEM_CLOCK,
) -> Services:
    """Build the process's objects; posts go to Slack unless another `sender` is given, and
    the models come from settings unless another factory is given (`supportbot eval`).
    `clock` is the time of SLA clocks and received messages (tests freeze it)."""
    log_privacy.install(settings.secrets())
    db = Database(settings.database_url, pool_size=settings.db_pool_size)
    clients = workspace_clients(settings, db.engine, slack) if slack is not None else None
    channels = SqlChannelDirectory(db, clients)
    if sender is None:
        if clients is None:
            raise ValueError("build_services needs a Slack client or another sender")
        sender = SlackSender(clients, db, channels)
    holders = holders_for(db)
    identity = IdentityResolver(clients, settings.lead_users, known_emails, channels)
    workspaces = Workspaces(
        db,
        leads_channel=settings.leads_channel,
        lead_users=settings.lead_users,
        listed=identity.listed,
    )
    identity.per_workspace(workspaces.lead_users)
    poster = Poster(db, sender, holders, workspaces.leads_channel)
    models = models or ModelFactory(settings)
    orders = order_backend(settings, db)
    budgets = Budgets(settings, db, poster.alert)
    knowledge = KnowledgeBase(db, resolve_directory(settings.knowledge_dir))
    answerer = Answerer(settings, db, models, orders, identity, budgets, knowledge, clients)
    worker = _worker(settings, db, answerer, poster, holders, workspaces, clock)
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
        workspaces,
        clients=clients,
        clock=clock,
        channels=channels,
        tickets=Tickets(db),
    )


def _worker(
    settings: Settings,
    db: Database,
    answerer: Answerer,
    poster: Poster,
    holders: Holders,
    workspaces: Workspaces,
    clock: Clock,
) -> Worker:
    """The worker, with the SLA sweep (reminders and breaches to the workspace's leads)."""
    sla = SlaSweep(db, sla_policy(settings), poster, holders, workspaces.leads_channel, clock)
    return Worker(
        db,
        answerer,
        poster,
        holders,
        leads_channel=workspaces.leads_channel,
        sweep_seconds=settings.sweep_seconds,
        clock=clock,
        sla=sla,
    )


async def prepare_database(settings: Settings, db: Database) -> None:
    """Migrate, and give the embedded order store its demo orders when it is empty."""
    await db.upgrade()
    if settings.orders_backend == "sql" and settings.load_demo_orders:
        await import_demo_orders(db)
