"""`supportbot chat`: talk to the bot in the terminal, through the same pipeline; its replies
are printed instead of posted."""

from __future__ import annotations

import argparse
import asyncio
import uuid
from pathlib import Path

from bot.agent.pipeline import Reply
from bot.config import Settings
from bot.store.models import Conversation


class TerminalDelivery:
    async def thinking(self, conversation: Conversation) -> None:
        return None

    async def send(self, conversation: Conversation, reply: Reply, start: int = 0) -> str | None:
        if reply.text is not None and start == 0:
            tier = f" [{reply.tier}]" if reply.tier else ""
            print(f"\nbot{tier}> {reply.text}\n", flush=True)
        return None

    async def notify_leads(self, escalation_id: int) -> None:
        print(f"(escalation #{escalation_id} is waiting for a support lead)", flush=True)

    async def alert_leads(self, text: str) -> None:
        print(f"(for the leads: {text})", flush=True)


def chat_database_url(main_url: str) -> str:
    """The terminal chat's own database: beside a SQLite main database (`supportbot.db` ->
    `supportbot-chat.db`), else `supportbot-chat.db` in the working directory."""
    from sqlalchemy.engine import make_url

    url = make_url(main_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        path = Path(url.database)
        return str(url.set(database=str(path.with_name(f"{path.stem}-chat{path.suffix}"))))
    return "sqlite:///supportbot-chat.db"


async def _chat(settings: Settings, email: str, lead: bool) -> None:
    from sqlalchemy.engine import make_url

    from bot.services import build_services, prepare_database
    from bot.store import queries

    user_id = f"cli:{email}"
    if lead:
        settings = settings.model_copy(update={"lead_users": [*settings.lead_users, user_id]})
    services = build_services(
        settings, None, delivery=TerminalDelivery(), known_emails={user_id: email}
    )
    await prepare_database(services.settings, services.db)
    thread = f"cli-{uuid.uuid4().hex[:12]}"
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    print(
        f"Talking to supportbot as {email} (model {settings.primary_model}), "
        f"recorded in {where}. Ctrl-D ends."
    )
    turn = 0
    try:
        while True:
            try:
                text = await asyncio.to_thread(input, "you> ")
            except EOFError:
                break
            turn += 1
            message_id = await queries.record_inbound(
                services.db,
                queries.Inbound("cli", "cli", thread, user_id, text, f"{thread}.{turn}"),
            )
            if message_id is not None:
                await services.worker.process(message_id)
    finally:
        await services.close()


def run(args: argparse.Namespace, settings: Settings) -> int:
    settings.check_chat()
    if not args.main_database:
        # A sandbox of its own, with the demo orders whatever SUPPORTBOT_DEMO_ORDERS says.
        database = args.database or chat_database_url(settings.database_url)
        update = {"database_url": database, "load_demo_orders": True}
        settings = settings.model_copy(update=update)
    asyncio.run(_chat(settings, args.email.lower(), args.lead))
    return 0
