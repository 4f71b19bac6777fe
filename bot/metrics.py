"""Prometheus metrics of a serve process: every metric's definition, and `GET /metrics`.

Label values are bounded: code constants (tiers, outcomes, escalation reasons, Slack methods
the code calls) and the configured models; never a user, channel, team, text or id. A value
outside its known set is counted as "other".

`serve --processes N` reports one view: its parent sets PROMETHEUS_MULTIPROC_DIR (before any
child imports prometheus_client), every process writes its samples there, and whichever process
answers a scrape sums them (`bot/processes.py`). A single process keeps them in memory.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import re
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from bot.store.models import ReplyKind, Tier

if TYPE_CHECKING:
    from bot.agent.models.calls import CallRecord

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
OTHER = "other"

# The payloads the app handles (manifest.yml's events; interactions and commands as a kind).
_PAYLOADS = frozenset(
    {
        "app_mention",
        "message",
        "app_home_opened",
        "assistant_thread_started",
        "assistant_thread_context_changed",
        "block_actions",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "command",
        "url_verification",
    }
)
_REPLY_KINDS = frozenset(ReplyKind)
_TIERS = frozenset({Tier.PRIMARY, Tier.STRONG, Tier.HUMAN, "none"})
_MODEL_OUTCOMES = frozenset(
    {"ok", "rate_limited", "overloaded", "auth", "server_error", "bad_request", "timeout"}
    | {"connection", "budget"}
)
# Slack's method names ("chat.postMessage"), as the code calls them.
_SLACK_METHOD = re.compile(r"[a-z]+(?:\.[A-Za-z]+){1,3}")

# Answers take seconds (a model's turn, tools, a strong tier); acknowledgements milliseconds.
_ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
_ANSWER_BUCKETS = (0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 60.0, 120.0, 300.0)

EVENTS_RECEIVED = Counter(
    "supportbot_slack_events_received_total",
    "Slack requests taken for handling (signature checked), by payload",
    ["payload"],
)
EVENTS_DEDUPLICATED = Counter(
    "supportbot_slack_events_deduplicated_total",
    "Customer messages Slack delivered again (retries, both surfaces), stored once",
)
REQUESTS_REFUSED = Counter(
    "supportbot_slack_requests_refused_total",
    "Requests to /slack/events refused before handling, by reason",
    ["reason"],
)
ACK_SECONDS = Histogram(
    "supportbot_slack_ack_duration_seconds",
    "Time to answer a request to /slack/events (Slack retries past 3 s)",
    buckets=_ACK_BUCKETS,
)
ANSWER_SECONDS = Histogram(
    "supportbot_answer_duration_seconds",
    "From the customer's message stored to its reply posted (or the handoff notice)",
    ["outcome"],
    buckets=_ANSWER_BUCKETS,
)
ANSWERS = Counter(
    "supportbot_answers_total",
    "Replies to customer messages, by tier and outcome",
    ["tier", "outcome"],
)
ESCALATIONS = Counter(
    "supportbot_escalations_total",
    "Handoffs to a person, by reason (a handoff with several reasons counts under each)",
    ["reason"],
)
HANDOFFS_WAITING = Gauge(
    "supportbot_handoffs_waiting",
    "Open escalations no lead has taken yet (refreshed by each sweep)",
    multiprocess_mode="livemostrecent",
)
HANDOFF_OLDEST_SECONDS = Gauge(
    "supportbot_handoff_oldest_wait_seconds",
    "How long the oldest open escalation has waited, at the last sweep (0: none)",
    multiprocess_mode="livemostrecent",
)
OUTBOX_BACKLOG = Gauge(
    "supportbot_outbox_backlog",
    "Replies written but not posted to Slack yet (refreshed by each sweep)",
    multiprocess_mode="livemostrecent",
)
DB_POOL_IN_USE = Gauge(
    "supportbot_db_pool_connections_in_use",
    "Database connections checked out of the pool (summed over the live processes)",
    multiprocess_mode="livesum",
)
MODEL_CALLS = Counter(
    "supportbot_model_calls_total",
    "Model API calls, by provider, model and outcome (ok or the error kind)",
    ["provider", "model", "outcome"],
)
MODEL_TOKENS = Counter(
    "supportbot_model_tokens_total",
    "Tokens of model calls, by tier, model and kind (input, cached, cache_write, output)",
    ["tier", "model", "kind"],
)
MODEL_COST = Counter(
    "supportbot_model_cost_usd_total",
    "USD spent on model calls (priced like `supportbot costs`), by tier and model",
    ["tier", "model"],
)
SLACK_API_CALLS = Counter(
    "supportbot_slack_api_calls_total",
    "Slack Web API calls (after retries), by method and outcome (ok, slack_error, failed)",
    ["method", "outcome"],
)
SLACK_API_RETRIES = Counter(
    "supportbot_slack_api_retries_total",
    "Slack Web API calls tried again, by method and reason",
    ["method", "reason"],
)


def _bounded(value: object, known: Iterable[str]) -> str:
    """`value` when it is one of the `known` label values, else "other": a payload's fields
    are whatever the sender wrote (a list, a number, any text), never a label as they are."""
    return value if isinstance(value, str) and value in known else OTHER


def received(body: object) -> None:
    """A Slack payload taken for handling (HTTP or Socket Mode)."""
    payload = OTHER
    if isinstance(body, dict):
        event = body.get("event")
        kind = event.get("type") if isinstance(event, dict) else body.get("type")
        payload = "command" if "command" in body else _bounded(kind, _PAYLOADS)
    EVENTS_RECEIVED.labels(payload).inc()


def _seconds_since(moment: datetime) -> float:
    """Since a stored time (the database gives UTC back without its zone)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return max(0.0, (datetime.now(UTC) - aware).total_seconds())


def answered(tier: Tier | None, outcome: ReplyKind, stored_at: datetime | None) -> None:
    """A reply written (posted, or refused by Slack and left to the sweeper), or a message held
    for a person; `stored_at`: when the customer's message was stored."""
    kind = _bounded(outcome, _REPLY_KINDS)
    ANSWERS.labels(_bounded(tier or "none", _TIERS), kind).inc()
    if stored_at is not None:
        ANSWER_SECONDS.labels(kind).observe(_seconds_since(stored_at))


def escalated(reasons: Iterable[str]) -> None:
    from escalation.policy import Reason  # the policy is imported by its users anyway

    for reason in reasons:
        ESCALATIONS.labels(_bounded(str(reason), {r.value for r in Reason})).inc()


def model_call(call: CallRecord, cost_usd: Decimal | None) -> None:
    """One model call as recorded in `model_call`; its model is a configured one (bounded)."""
    MODEL_CALLS.labels(call.provider, call.model, _bounded(call.outcome, _MODEL_OUTCOMES)).inc()
    tier = _bounded(call.tier, _TIERS)
    usage = call.usage
    tokens = {
        "input": usage.input_tokens,
        "cached": usage.cached_input_tokens,
        "cache_write": usage.cache_write_tokens,
        "output": usage.output_tokens,
    }
    for kind, count in tokens.items():
        if count:
            MODEL_TOKENS.labels(tier, call.model, kind).inc(count)
    if cost_usd:
        MODEL_COST.labels(tier, call.model).inc(float(cost_usd))


def slack_method(name_or_url: str) -> str:
    """The Web API method of a name or a request URL (its last path segment), if it is one."""
    name = name_or_url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return name if _SLACK_METHOD.fullmatch(name) else OTHER


@contextlib.contextmanager
def slack_call(method: str) -> Iterator[None]:
    from slack_sdk.errors import SlackApiError

    outcome = "failed"
    try:
        yield
        outcome = "ok"
    except SlackApiError:
        outcome = "slack_error"
        raise
    finally:
        SLACK_API_CALLS.labels(slack_method(method), outcome).inc()


def backlog(handoffs: int, oldest: datetime | None, undelivered: int) -> None:
    """What a sweep found waiting (the database's view, the same from every replica)."""
    HANDOFFS_WAITING.set(handoffs)
    HANDOFF_OLDEST_SECONDS.set(0.0 if oldest is None else _seconds_since(oldest))
    OUTBOX_BACKLOG.set(undelivered)


@contextlib.contextmanager
def acknowledging() -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        ACK_SECONDS.observe(time.perf_counter() - started)


def exposition() -> tuple[bytes, str]:
    """The text a scrape gets and its content type: every process's samples when several
    serve processes share the multiprocess directory, this process's otherwise."""
    directory = os.environ.get(MULTIPROC_DIR_ENV)
    if not directory:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST


def authorized(token: str, header: str | None) -> bool:
    """No token set: open. Otherwise `Authorization: Bearer <token>`, compared in constant time."""
    if not token:
        return True
    given = (header or "").removeprefix("Bearer ").encode()
    return (
        header is not None
        and header.startswith("Bearer ")
        and hmac.compare_digest(given, token.encode())
    )


def process_dead(pid: int) -> None:
    """Drop a dead serve process's live gauges (its counters stay in the sum)."""
    directory = os.environ.get(MULTIPROC_DIR_ENV)
    if directory:
        multiprocess.mark_process_dead(pid, directory)  # type: ignore[no-untyped-call]
