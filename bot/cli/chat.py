"""`supportbot chat`: talk to the bot in the terminal, through the same pipeline; its replies
are printed instead of posted."""

from __future__ import annotations

import argparse
import asyncio
import uuid
from pathlib import Path

from bot.config import Settings
from bot.delivery import LeadsPost, ThreadPost
from bot.store.models import Conversation


class TerminalSender:
    """`supportbot chat`'s sender: the posts printed in the terminal."""

    async def thinking(self, conversation: Conversation) -> None:
        return None

    async def clear_thinking(self, conversation: Conversation) -> None:
        return None

    async def post_reply(self, post: ThreadPost) -> str | None:
        if post.start == 0:
            tier = f" [{post.tier}]" if post.tier else ""
            print(f"\nbot{tier}> {post.text}\n", flush=True)
        return None

    async def post_escalation(self, post: LeadsPost) -> tuple[str, str | None]:
        print(f"(escalation #{post.escalation.id} is waiting for a support lead)", flush=True)
        return post.channel_id, None

    async def post_alert(self, team_id: str, channel_id: str, text: str) -> str | None:
        print(f"(for the leads: {text})", flush=True)
        return None


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
        settings, None, sender=TerminalSender(), known_emails={user_id: email}
    )
    await prepare_database(services.settings, services.db)
    await services.start()
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
