"""The Slack app (Bolt) and the HTTP server around it: /slack/events, /healthz, /readyz,
/metrics."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot import install, log_context, metrics
from bot.agent.worker import Worker
from bot.config import Settings
from bot.health import Health, Readiness
from bot.listeners import (
    accounts,
    assistant,
    commands,
    feedback,
    home,
    messages,
    reactions,
    review,
)
from bot.services import Services
from bot.slack_out import SlackSender

log = logging.getLogger(__name__)
# Slack's payloads are a few kB (a 40,000-character message with its blocks stays far below);
# a larger body is refused with 413 before it is read whole.
MAX_REQUEST_BYTES = 1024 * 1024
# Slack's rule: a request signed longer ago than this may be a replay.
SIGNATURE_MAX_AGE_SECONDS = 5 * 60


class _MeteredClient(AsyncWebClient):
    """Every Web API method goes through `api_call`: counted by method and outcome."""

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        with metrics.slack_call(api_method):
            return await super().api_call(api_method, **kwargs)


class _Counted(AsyncRetryHandler):
    """Mixed into one of slack_sdk's retry handlers: its retries counted by method and reason."""

    reason = ""

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        metrics.SLACK_API_RETRIES.labels(metrics.slack_method(request.url), self.reason).inc()
        await super().prepare_for_next_attempt_async(
            state=state, request=request, response=response, error=error
        )


class _ConnectionRetries(_Counted, AsyncConnectionErrorRetryHandler):
    reason = "connection"


class _RateLimitRetries(_Counted, AsyncRateLimitErrorRetryHandler):
    reason = "rate_limited"


class _ServerErrorRetries(_Counted, AsyncServerErrorRetryHandler):
    reason = "server_error"


def slack_client(settings: Settings) -> AsyncWebClient:
    """The Web API client of the app (in OAuth mode without a token: each workspace's client
    is made from it with its own); honours SLACK_API_URL (GovSlack, tests).

    Slack's 429s are retried after their Retry-After, 5xx and connection errors with backoff;
    calls and retries are counted (`bot/metrics.py`).
    """
    return _MeteredClient(
        token=settings.slack_bot_token.get_secret_value() or None,
        base_url=settings.slack_api_url,
        # One connection pool for every call, instead of a new connection per API call.
        session=aiohttp.ClientSession(),
        retry_handlers=[
            _ConnectionRetries(max_retry_count=2),
            _RateLimitRetries(max_retry_count=3),
            _ServerErrorRetries(max_retry_count=2),
        ],
    )


class _SupportApp(AsyncApp):
    """Bolt's app, telling the worker which requests are being handled (listeners included:
    Bolt runs them after its middleware), so that answers let acknowledgements go first."""

    def __init__(self, worker: Worker, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._worker = worker

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        # Every line logged while handling the event, and in the answer it schedules (the
        # task copies this context), names its event id; HTTP and Socket Mode both come here.
        body = req.body if isinstance(req.body, dict) else {}
        correlation = log_context.event_id.set(log_context.slack_event_id(body))
        metrics.received(body)
        try:
            with self._worker.acknowledging():
                return await super().async_dispatch(req)
        finally:
            log_context.event_id.reset(correlation)


def create_app(settings: Settings, services: Services, client: AsyncWebClient) -> AsyncApp:
    """The Bolt app with every listener registered and one error boundary."""
    sender = services.sender
    if not isinstance(sender, SlackSender):
        raise TypeError("the Slack app needs services built with a Slack client")
    app = _SupportApp(
        services.worker,
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value() or None,
        # Listeners only store the message and schedule the answer, so they finish well
        # inside the 3 s; acknowledging after them means a stored message is never lost.
        process_before_response=True,
        # Bolt's assistant kwargs (say, set_title…) are unused here, and its middleware raises
        # on assistant-looking events that lack a thread.
        attaching_conversation_kwargs_enabled=False,
        logger=logging.getLogger("slack_bolt"),
        # OAuth mode: the installation store, authorize by it, the install flow (bot/install.py).
        **install.bolt_oauth(settings, services.clients, services.db.engine),
    )
    install.listen_for_revocations(app)

    messages.register(app, services)
    review.register(app, services, sender)
    feedback.register(app, services)
    home.register(app, services)
    assistant.register(app, services)
    commands.register(app, services)
    reactions.register(app, services)
    accounts.register(app, services, sender)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        error_id = uuid.uuid4().hex[:8]
        log.error(
            "listener failed on a %s payload [error %s]: %s",
            body.get("type", "unknown"),
            error_id,
            type(error).__name__,
            exc_info=error,
        )

    return app


def signed_by_slack(secret: bytes, raw: bytes, headers: Mapping[str, str]) -> bool:
    """Slack's v0 signature over the raw bytes (slack_sdk's verifier decodes them first, which
    fails on a body that is not UTF-8), from the last five minutes; never with no secret."""
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    if not secret or not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) < 16):
        return False
    if abs(time.time() - int(timestamp)) > SIGNATURE_MAX_AGE_SECONDS:
        return False
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    given = headers.get("X-Slack-Signature", "").encode(errors="replace")
    return hmac.compare_digest(expected.encode(), given)


def _scrape(token: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """`GET /metrics`: Prometheus's text format; with a token set, for its bearer only."""

    async def scrape(request: web.Request) -> web.Response:
        if not metrics.authorized(token, request.headers.get("Authorization")):
            return web.json_response(
                {"error": "a bearer token is required"},
                status=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        body, content_type = metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})

    return scrape


async def _slack_payload(request: web.Request) -> AsyncBoltRequest | None:
    """The signed request as Bolt's, or None when its body is not a Slack payload. Bolt trusts
    the body's shape: one that is not UTF-8 JSON (or a form whose payload is not), nests too
    deep for the parser, or whose payload or event is not an object, is refused with a 400."""
    try:
        bolt_request = await to_bolt_request(request)
    except (ValueError, TypeError, AttributeError, RecursionError):
        return None
    body = bolt_request.body
    if not isinstance(body, dict) or not isinstance(body.get("event", {}), dict):
        return None
    return bolt_request


def _install_routes(app: AsyncApp) -> list[web.RouteDef]:
    """OAuth mode's `GET /slack/install` and `GET /slack/oauth_redirect`, served by Bolt's
    flow as its starlette adapter does (its aiohttp adapter has none); none in single mode."""
    flow = app.oauth_flow
    if flow is None:
        return []

    async def installation(request: web.Request) -> web.Response:
        return await to_aiohttp_response(
            await flow.handle_installation(await to_bolt_request(request))
        )

    async def callback(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    return [web.get(flow.install_path, installation), web.get(flow.redirect_uri_path, callback)]


def create_web_app(
    app: AsyncApp, services: Services, health: Health | None = None
) -> web.Application:
    """aiohttp application: Slack's request path (signature checks included), liveness,
    readiness (`health` is the serve process's, which its SIGTERM handler sets draining) and
    Prometheus metrics."""
    health = health or Health(services.db)

    # In Socket Mode there is no signing secret and every HTTP event is refused.
    secret = services.settings.slack_signing_secret.get_secret_value().encode()

    async def slack_events(request: web.Request) -> web.Response:
        with metrics.acknowledging():
            return await _slack_event(request)

    async def _slack_event(request: web.Request) -> web.Response:
        # The signature is checked on the raw bytes before anything parses them, so a
        # stranger's body reaches no parser and no log (aiohttp bounds its size).
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            metrics.REQUESTS_REFUSED.labels("too_large").inc()
            raise
        if not signed_by_slack(secret, raw, request.headers):
            metrics.REQUESTS_REFUSED.labels("signature").inc()
            return web.json_response({"error": "invalid signature"}, status=401)
        bolt_request = await _slack_payload(request)
        if bolt_request is None:
            log.warning("refused a signed request that is not a Slack payload (%d bytes)", len(raw))
            metrics.REQUESTS_REFUSED.labels("malformed").inc()
            return web.json_response({"error": "malformed request body"}, status=400)
        bolt_response = await app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def readyz(_request: web.Request) -> web.Response:
        readiness = await health.readiness()
        ready = readiness is Readiness.READY
        return web.json_response(
            {"ok": ready, "status": readiness.value}, status=200 if ready else 503
        )

    web_app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    web_app.router.add_post("/slack/events", slack_events)
    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
    web_app.router.add_get("/metrics", _scrape(services.settings.metrics_token.get_secret_value()))
    web_app.add_routes(_install_routes(app))
    return web_app
