"""Fixtures: a fresh database per test (SQLite, or PostgreSQL with TEST_DATABASE_URL), the fake
Slack and model servers, and the real bot served over HTTP in between."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import asyncpg
import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from sqlalchemy.engine import make_url
from sqlmodel import col, select, update

from bot.app import create_app, create_web_app, slack_client
from bot.clock import SYSTEM_CLOCK, Clock
from bot.config import Settings
from bot.services import Services, build_services, prepare_database
from bot.store.models import Outbox, PostState, utcnow
from tests.fakes.models import FakeAnthropic, FakeOpenAI
from tests.fakes.slack import TEAM_ID, FakeSlack
from tests.serving import event_body

SIGNING_SECRET = "test-signing-secret"
_LOCAL = {"127.0.0.1", "::1", "localhost", None}


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reaches the network: only loopback connections are allowed."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def local_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host not in _LOCAL and not str(host).startswith("127."):
            raise OSError(f"tests may not reach the network (tried {host})")
        return real_getaddrinfo(host, *args, **kwargs)

    def local_connect(self: socket.socket, address: Any) -> Any:
        if (
            isinstance(address, tuple)
            and address[0] not in _LOCAL
            and not str(address[0]).startswith("127.")
        ):
            raise OSError(f"tests may not reach the network (tried {address[0]})")
        return real_connect(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", local_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", local_connect)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> Iterator[None]:
    """Settings come from the test, never from the developer's shell or a stray .env."""
    for name in list(os.environ):
        if (
            name.startswith(("SLACK_", "SUPPORTBOT_", "ANTHROPIC_", "OPENAI_", "ORDERS_"))
            or name == "DATABASE_URL"
        ):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    yield


@pytest.fixture
async def database_url(tmp_path: Any) -> AsyncIterator[str]:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path}/supportbot-test.db"
        return
    url = make_url(base)
    name = f"sbt_{uuid.uuid4().hex[:12]}"
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    yield url.set(database=name).render_as_string(hide_password=False)
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    slack.add_user("UALICE", "alice@example.com", "Alice")
    slack.add_user("UBOB", "bob@example.com", "Bob")
    slack.add_user("UNOMAIL", None, "Nomail")
    slack.add_user("ULEAD", "lead@example.com", "Lee the lead")
    yield slack
    await slack.close()


@pytest.fixture
def connect(fake_slack: FakeSlack) -> FakeSlack:
    """Slack Connect (docs/issue-15-plan.md §9 item 10): host T0001; customers Acme (acme.com)
    and Globex (globex.com, on a Grid org); channel C0SHARED shared by T0001 and Acme; users
    UACME1 (email hidden by Acme), UACME2 (ann@acme.com visible), UGLOBEX, USTAFF (T0001)."""
    fake_slack.add_team("T0ACME", "Acme", "acme", email_domain="acme.com")
    fake_slack.add_team(
        "T0GLOBEX", "Globex", "globex", email_domain="globex.com", enterprise_id="E0GLOBEX"
    )
    fake_slack.add_channel("C0SHARED", "acme-support", [TEAM_ID, "T0ACME"])
    fake_slack.add_user("UACME1", "joe@acme.com", "Joe", team_id="T0ACME", hide_email=True)
    fake_slack.add_user("UACME2", "ann@acme.com", "Ann", team_id="T0ACME")
    fake_slack.add_user("UGLOBEX", "gus@globex.com", "Gus", team_id="T0GLOBEX")
    fake_slack.add_user("USTAFF", "sam@example.com", "Sam")
    return fake_slack


@pytest.fixture
async def fake_anthropic() -> AsyncIterator[FakeAnthropic]:
    server = await FakeAnthropic().start()
    yield server
    await server.close()


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    server = await FakeOpenAI().start()
    yield server
    await server.close()


@pytest.fixture
def make_settings(
    database_url: str, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic, fake_openai: FakeOpenAI
) -> Any:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "slack_bot_token": "xoxb-test",
            "slack_signing_secret": SIGNING_SECRET,
            "slack_api_url": fake_slack.api_url,
            "anthropic_api_key": "test-anthropic-key",
            "anthropic_base_url": fake_anthropic.base_url,
            "openai_api_key": "test-openai-key",
            "openai_base_url": fake_openai.base_url,
            "database_url": database_url,
            "lead_users": ["ULEAD"],
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


def sign(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Bot:
    """The real bot behind real HTTP, with the fakes it talks to."""

    services: Services
    server: TestServer
    http: ClientSession
    slack: FakeSlack
    anthropic: FakeAnthropic
    openai: FakeOpenAI

    @property
    def url(self) -> str:
        return str(self.server.make_url("/slack/events"))

    async def post(
        self,
        body: str,
        *,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        signature: str | None = None,
    ) -> tuple[int, str]:
        ts = int(time.time()) if timestamp is None else timestamp
        all_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": signature if signature is not None else sign(body, ts),
        }
        all_headers.update(headers or {})
        async with self.http.post(self.url, data=body.encode(), headers=all_headers) as resp:
            return resp.status, await resp.text()

    async def event(
        self,
        event: dict[str, Any] | None = None,
        *,
        body: dict[str, Any] | None = None,
        event_id: str | None = None,
        retry: int | None = None,
    ) -> int:
        """Sign and post `event` in a default envelope, or a whole envelope (`body`, built with
        tests/fakes/events.py for Slack Connect shapes)."""
        headers = (
            {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
            if retry
            else None
        )
        if body is not None:
            payload = json.dumps(body)
        elif event is not None:
            payload = event_body(event, event_id)
        else:
            raise TypeError("Bot.event needs an event or a whole envelope (body=)")
        status, _ = await self.post(payload, headers=headers)
        return status

    async def form(self, fields: dict[str, str]) -> tuple[int, str]:
        return await self.post(urlencode(fields), content_type="application/x-www-form-urlencoded")

    async def interaction(self, payload: dict[str, Any]) -> tuple[int, str]:
        """A block_actions / view_submission payload, form-encoded as Slack sends it."""
        payload = {"token": "legacy", "api_app_id": "A0001", "team": {"id": TEAM_ID}} | payload
        return await self.form({"payload": json.dumps(payload)})

    async def command(
        self,
        command: str,
        text: str,
        user: str = "ULEAD",
        channel: str = "C0LEADS",
        team: str = TEAM_ID,
    ) -> tuple[int, str]:
        """A slash command as Slack posts it (form-encoded), from `user` of `team`."""
        return await self.form(
            {
                "token": "legacy",
                "team_id": team,
                "team_domain": team.lower(),
                "channel_id": channel,
                "channel_name": channel.lower(),
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text,
                "api_app_id": "A0001",
                "response_url": "http://127.0.0.1:9/never-called",
                "trigger_id": "1337.44.trigger",
            }
        )

    async def click(
        self,
        action_id: str,
        value: str,
        user: str = "ULEAD",
        channel: str = "CLEADS",
        team: str = TEAM_ID,
        user_team: str | None = None,
    ) -> tuple[int, str]:
        """A button clicked by `user` (of `user_team`, else of `team`) in workspace `team`."""
        return await self.interaction(
            {
                "type": "block_actions",
                "team": {"id": team},
                "user": {"id": user, "username": user.lower(), "team_id": user_team or team},
                "container": {"type": "message", "channel_id": channel, "message_ts": "1.1"},
                "channel": {"id": channel, "name": "leads"},
                "trigger_id": "1337.42.trigger",
                "response_url": "http://127.0.0.1:9/never-called",
                "actions": [
                    {
                        "type": "button",
                        "action_id": action_id,
                        "block_id": "escalation",
                        "value": value,
                        "action_ts": f"{time.time():.6f}",
                    }
                ],
            }
        )

    async def submit_view(
        self, callback_id: str, private_metadata: str, values: dict[str, Any], user: str = "ULEAD"
    ) -> tuple[int, str]:
        return await self.interaction(
            {
                "type": "view_submission",
                "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
                "trigger_id": "1337.43.trigger",
                "view": {
                    "id": "V0001",
                    "type": "modal",
                    "callback_id": callback_id,
                    "private_metadata": private_metadata,
                    "state": {"values": values},
                },
                "response_urls": [],
            }
        )

    async def settle(self) -> None:
        await self.services.worker.drain()

    def replies(self) -> list[dict[str, Any]]:
        return self.slack.posts()

    async def outbox(self) -> list[Outbox]:
        """Every outbox row, oldest first."""
        async with self.services.db.session() as s:
            return list((await s.exec(select(Outbox).order_by(col(Outbox.id)))).all())

    async def refused_posts_due(self) -> None:
        """Make the refused posts due for their next try now (instead of waiting out their
        backoff), as if the time had passed."""
        async with self.services.db.session() as s:
            await s.exec(
                update(Outbox)
                .where(col(Outbox.state) == PostState.REFUSED)
                .values(next_try_at=utcnow() - timedelta(seconds=1))
            )
            await s.commit()


@pytest.fixture
async def start_bot(
    make_settings: Any,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
) -> AsyncIterator[Any]:
    started: list[Bot] = []

    async def start(clock: Clock = SYSTEM_CLOCK, **overrides: Any) -> Bot:
        settings = make_settings(**overrides)
        client = slack_client(settings)
        services = build_services(settings, client, clock=clock)
        await prepare_database(services.settings, services.db)
        await services.start()
        app = create_app(settings, services, client)
        server = TestServer(create_web_app(app, services))
        await server.start_server()
        bot = Bot(services, server, ClientSession(), fake_slack, fake_anthropic, fake_openai)
        started.append(bot)
        clients.append(client)
        return bot

    clients: list[Any] = []
    yield start
    for client in clients:
        await client.session.close()
    for bot in started:
        await bot.http.close()
        await bot.server.close()
        await bot.services.close()


@pytest.fixture
async def bot(start_bot: Any) -> Bot:
    return await start_bot()


_ts_counter = iter(range(1, 10**9))


def next_ts() -> str:
    """A Slack-style message ts, unique within the test run."""
    return f"{int(time.time())}.{next(_ts_counter):06d}"


def dm(text: str, user: str = "UALICE", ts: str | None = None, **extra: Any) -> dict[str, Any]:
    ts = ts or next_ts()
    return {
        "type": "message",
        "channel": "D0001",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        **extra,
    }
