"""`supportbot serve`: the Slack bot over HTTP (or Socket Mode), in one process or several."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Coroutine
from typing import Any

from bot.cli.database import open_database
from bot.config import Settings
from bot.errors import ConfigError
from bot.processes import supervise

log = logging.getLogger("supportbot")


async def _serve(settings: Settings, host: str, port: int, reuse_port: bool = False) -> None:
    from aiohttp import web
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.app import create_app, create_web_app, slack_client
    from bot.health import Health
    from bot.services import build_services, prepare_database

    client = slack_client(settings)
    services = build_services(settings, client)
    await prepare_database(services.settings, services.db)
    app = create_app(settings, services, client)
    health = Health(services.db)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(create_web_app(app, services, health), access_log=None)
    await runner.setup()
    # A burst of Slack events opens many connections at once; the default backlog is 128.
    site = web.TCPSite(runner, host, port, backlog=1024, reuse_port=reuse_port or None)
    await site.start()
    socket_handler = None
    if settings.slack_app_token:
        socket_handler = AsyncSocketModeHandler(app, settings.slack_app_token.get_secret_value())
        await socket_handler.connect_async()  # type: ignore[no-untyped-call]
        log.info("connected to Slack in Socket Mode; health on http://%s:%d", host, port)
    else:
        log.info("listening on http://%s:%d (POST /slack/events)", host, port)
    await services.start()  # before the first sweep: this process holds claims from now on
    sweeper = asyncio.create_task(services.worker.sweep_forever())
    await stop.wait()
    if settings.drain_seconds:
        health.draining = True
        log.info("draining: not ready, still serving for %gs", settings.drain_seconds)
        await asyncio.sleep(settings.drain_seconds)
    log.info("shutting down: finishing answers in flight")
    # Waited for, not only cancelled: a sweep cut off in a database call closes its connection
    # as it unwinds. Left pending, asyncio.run's teardown cancels that close again, and
    # aiosqlite's close then waits forever for its stopped thread: the process never exits.
    sweeper.cancel()
    await asyncio.wait({sweeper})
    if socket_handler is not None:
        await socket_handler.close_async()  # type: ignore[no-untyped-call]
    await runner.cleanup()
    await services.close()
    if client.session is not None:
        await client.session.close()


# What Slack answers a token it does not take (auth.test's documented errors).
_TOKEN_REFUSED = frozenset(
    {"not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive"}
)


async def _check_bot_token(settings: Settings) -> None:
    """Ask Slack (auth.test) whether it takes SLACK_BOT_TOKEN; a refused token stops the start.
    Slack out of reach or failing is only a warning: events are still taken, answered later."""
    import aiohttp
    from slack_sdk.errors import SlackApiError

    from bot.app import slack_client

    client = slack_client(settings)
    try:
        who = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error in _TOKEN_REFUSED:
            raise ConfigError(
                f"Slack refused SLACK_BOT_TOKEN ({error}). Copy the 'Bot User OAuth Token' "
                "(xoxb-...) again from the app's 'OAuth & Permissions' page at "
                "https://api.slack.com/apps (reinstall the app there if the token was revoked)."
            ) from exc
        log.warning(
            "Slack's auth.test failed (%s); starting anyway", error or exc.response.status_code
        )
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        log.warning(
            "could not reach Slack at SLACK_API_URL to check SLACK_BOT_TOKEN (%s); starting anyway",
            type(exc).__name__,
        )
    else:
        log.info(
            "Slack takes SLACK_BOT_TOKEN: bot user %s of team %s",
            who.get("user_id"),
            who.get("team_id"),
        )
    finally:
        if client.session is not None:
            await client.session.close()


async def _prepare(settings: Settings) -> None:
    """Migrate and seed once, before several serve processes start."""
    from bot.services import prepare_database

    async with open_database(settings, upgrade=False) as db:
        await prepare_database(settings, db)


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run the server on uvloop where it is installed (Linux, macOS): its event loop spends
    less CPU per request than asyncio's own, and one loop's CPU is what limits a process."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.install import SlackMode, slack_mode

    settings.check_serve()
    if not args.reuse_port:  # once, in the parent of --processes N
        if slack_mode(settings) is SlackMode.SINGLE:  # OAuth mode: each install is checked
            asyncio.run(_check_bot_token(settings))
        for warning in settings.serve_warnings():
            log.warning("%s", warning)
    if args.processes > 1:
        asyncio.run(_prepare(settings))
        return supervise(args.processes, args.host, args.port, settings.drain_seconds)
    _run_loop(_serve(settings, args.host, args.port, args.reuse_port))
    return 0
