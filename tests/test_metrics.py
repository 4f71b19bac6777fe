"""`GET /metrics` of a real `supportbot serve` (one process, and `--processes 2`): signed
events answered by the fakes move the counters with the right labels, every process of
`--processes 2` answers a scrape with the same sums (a killed one's counts included), no label
holds a user, channel, team or text, and the endpoint honours SUPPORTBOT_METRICS_TOKEN.

The Grafana dashboard in deploy/grafana/ is checked against the metric names the code defines.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections import defaultdict
from pathlib import Path

import aiohttp
from prometheus_client import REGISTRY
from prometheus_client.metrics import MetricWrapperBase as Collector
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.store.db import Database
from bot.store.models import ReplyKind
from tests import test_processes
from tests.conftest import Bot, dm, sign
from tests.fakes.slack import TEAM_ID, FakeSlack
from tests.serving import STARTUP_TIMEOUT, event_body
from tests.serving import ServeProcess as Serve
from tests.test_processes import (
    ANSWER_TIMEOUT,
    Cluster,
    all_finished,
    children_of,
    customers,
    dm_event,
    wait_until,
)

# the serve processes and the database of tests/test_processes.py
cluster = test_processes.cluster
db = test_processes.db

TOKEN = "metrics-test-token"
QUESTION = "what can you help me with today"
HANDOFF = "I want to talk to a person please"
DASHBOARD = Path(__file__).resolve().parent.parent / "deploy" / "grafana" / "supportbot.json"

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


async def scrape(served: Serve, token: str | None = TOKEN) -> tuple[int, str]:
    """One scrape on a connection of its own (with several processes on the port, the kernel
    picks which one answers each new connection)."""
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    connector = aiohttp.TCPConnector(force_close=True)
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        http.get(f"{served.base}/metrics", headers=headers) as resp,
    ):
        return resp.status, await resp.text()


def samples(text: str) -> Samples:
    found: Samples = defaultdict(dict)
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[s.name][tuple(sorted(s.labels.items()))] = s.value
    return found


def value(found: Samples, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels`."""
    return sum(v for key, v in found.get(name, {}).items() if set(labels.items()) <= set(key))


def assert_no_identifiers(found: Samples, *forbidden: str) -> None:
    values = {v for series in found.values() for key in series for _, v in key}
    for label_value in values:
        for bad in forbidden:
            assert bad.lower() not in label_value.lower(), (label_value, bad)


async def post(cluster: Cluster, served: Serve, body: str, signed: bool = True) -> int:
    ts = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(body, ts) if signed else "v0=" + "0" * 64,
    }
    async with cluster.http.post(served.events_url, data=body.encode(), headers=headers) as r:
        return r.status


async def test_one_serve_process_counts_events_answers_handoffs_models_and_slack_calls(
    cluster: Cluster, db: Database, fake_slack: FakeSlack
) -> None:
    cluster.env["SUPPORTBOT_METRICS_TOKEN"] = TOKEN
    served = await cluster.start("one")
    (user, channel), (user2, channel2) = customers(fake_slack, 2)
    base = int(time.time()) - 1
    asked, handed = (channel, f"{base}.000001"), (channel2, f"{base}.000002")
    question = event_body(dm_event(QUESTION, user, channel, asked[1]), "EvMetricsOne")
    assert await post(cluster, served, question) == 200
    assert await post(cluster, served, question) == 200  # Slack's retry: stored once
    assert await post(cluster, served, event_body(dm_event(HANDOFF, user2, *handed))) == 200
    assert await post(cluster, served, question, signed=False) == 401
    assert await post(cluster, served, '{"event": [1]}') == 400
    assert await post(cluster, served, "x" * (1024 * 1024 + 1)) == 413
    await wait_until(
        lambda: all_finished(db, [asked, handed]), "both were answered", ANSWER_TIMEOUT, served
    )

    async def swept() -> bool:  # a sweep (every second here) has seen the open escalation
        return value(samples((await scrape(served))[1]), "supportbot_handoffs_waiting") == 1

    await wait_until(swept, "a sweep counted the open escalation", ANSWER_TIMEOUT, served)
    status, text = await scrape(served)
    assert status == 200
    found = samples(text)

    assert value(found, "supportbot_slack_events_received_total", payload="message") == 3
    assert value(found, "supportbot_slack_events_deduplicated_total") == 1
    refused = "supportbot_slack_requests_refused_total"
    assert value(found, refused, reason="signature") == 1
    assert value(found, refused, reason="malformed") == 1
    assert value(found, refused, reason="too_large") == 1
    assert value(found, "supportbot_slack_ack_duration_seconds_count") == 6
    assert value(found, "supportbot_answers_total", tier="primary", outcome="answer") == 1
    assert value(found, "supportbot_answers_total", outcome="handoff") == 1
    assert value(found, "supportbot_answer_duration_seconds_count", outcome="answer") == 1
    assert value(found, "supportbot_escalations_total", reason="customer_request") == 1
    assert value(found, "supportbot_handoff_oldest_wait_seconds") > 0
    assert value(found, "supportbot_outbox_backlog") == 0
    calls = "supportbot_model_calls_total"
    haiku = {"provider": "anthropic", "model": "claude-haiku-4-5"}
    assert value(found, calls, outcome="ok", **haiku) >= 2  # the answer, the handoff summary
    assert value(found, calls) == value(found, calls, outcome="ok")
    tokens = "supportbot_model_tokens_total"
    assert value(found, tokens, tier="primary", model="claude-haiku-4-5", kind="input") > 0
    assert value(found, tokens, tier="primary", model="claude-haiku-4-5", kind="output") > 0
    assert value(found, "supportbot_model_cost_usd_total", tier="primary") > 0
    posted = value(found, "supportbot_slack_api_calls_total", method="chat.postMessage")
    assert posted == value(
        found, "supportbot_slack_api_calls_total", method="chat.postMessage", outcome="ok"
    )
    assert posted >= 2
    # checked out and back in as often: none held between requests but a sweep's
    assert 0 <= value(found, "supportbot_db_pool_connections_in_use") <= 1
    assert_no_identifiers(
        found, user, user2, channel, channel2, TEAM_ID, "EvMetricsOne", QUESTION, "person"
    )


async def test_metrics_need_the_bearer_token_when_one_is_set(cluster: Cluster) -> None:
    cluster.env["SUPPORTBOT_METRICS_TOKEN"] = TOKEN
    served = await cluster.start("token")
    assert (await scrape(served, None))[0] == 401
    assert (await scrape(served, "wrong"))[0] == 401
    assert (await scrape(served, TOKEN.upper()))[0] == 401
    status, text = await scrape(served, TOKEN)
    assert status == 200 and "supportbot_slack_events_received_total" in text
    assert TOKEN not in served.output


async def test_serve_processes_answer_a_scrape_with_one_view_a_killed_ones_counts_included(
    cluster: Cluster, db: Database, fake_slack: FakeSlack
) -> None:
    cluster.env["SUPPORTBOT_METRICS_TOKEN"] = TOKEN
    parent = await cluster.start("pair", "--processes", "2")

    async def two_children() -> bool:
        return len(children_of(parent.proc.pid)) == 2

    await wait_until(two_children, "two serve processes", STARTUP_TIMEOUT, parent)
    people = customers(fake_slack, 8)
    base = int(time.time()) - 1
    messages = [(channel, f"{base}.{k:06d}") for k, (_user, channel) in enumerate(people)]
    for k, (user, channel) in enumerate(people):
        body = event_body(dm_event(f"{QUESTION} ({k})", user, channel, messages[k][1]))
        assert await post(cluster, parent, body) == 200
    await wait_until(lambda: all_finished(db, messages), "all answered", ANSWER_TIMEOUT, parent)

    answers = "supportbot_answers_total"
    views = [samples((await scrape(parent))[1]) for _ in range(8)]
    for view in views:
        assert value(view, answers, outcome="answer") == len(messages)
        assert value(view, "supportbot_slack_events_received_total") == len(messages)
        assert value(view, "supportbot_model_calls_total") == value(
            views[0], "supportbot_model_calls_total"
        )
        assert_no_identifiers(view, *(u for u, _ in people), *(c for _, c in people), QUESTION)

    os.kill(children_of(parent.proc.pid)[0], signal.SIGKILL)

    async def replaced() -> bool:
        return len(children_of(parent.proc.pid)) == 2

    await wait_until(replaced, "the killed process was replaced", STARTUP_TIMEOUT, parent)

    async def answers_a_scrape() -> bool:
        # Seen once under load: a connection refused while the killed process's socket was
        # torn down (cause not pinned down); the next lands on a living process.
        try:
            return (await scrape(parent))[0] == 200
        except aiohttp.ClientConnectorError:
            return False

    await wait_until(answers_a_scrape, "a scrape is answered", STARTUP_TIMEOUT, parent)
    for _ in range(4):
        assert value(samples((await scrape(parent))[1]), answers) == len(messages)
    assert await parent.stop() == 0


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_slack_calls_and_retries_are_counted_by_method_and_reason(bot: Bot) -> None:
    """In this process (one serve process keeps its metrics in memory): slack_sdk's retries
    of a post Slack failed twice, the post that went through, and a call Slack refused."""
    calls, retries = "supportbot_slack_api_calls_total", "supportbot_slack_api_retries_total"
    post = {"method": "chat.postMessage"}
    before = (
        sample(retries, **post, reason="server_error"),
        sample(calls, **post, outcome="ok"),
        sample(calls, method="assistant.threads.setStatus", outcome="slack_error"),
    )
    bot.slack.fail("chat.postMessage", 500, {"ok": False, "error": "internal_error"}, times=2)
    bot.slack.fail("assistant.threads.setStatus", 200, {"ok": False, "error": "not_allowed"})
    await bot.event(dm("where is my order 1042?"))
    await bot.settle()
    after = (
        sample(retries, **post, reason="server_error"),
        sample(calls, **post, outcome="ok"),
        sample(calls, method="assistant.threads.setStatus", outcome="slack_error"),
    )
    assert [b - a for a, b in zip(before, after, strict=True)] == [2, 1, 1]


def _dashboard_metric_names() -> set[str]:
    """The metric names of every expression of the dashboard's panels."""
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert exprs
    return {m for e in exprs for m in re.findall(r"\bsupportbot_[a-z_]+", e)}


def _defined_names() -> set[str]:
    """Every sample name the code's metrics expose (counters' _total, histograms' parts)."""
    names: set[str] = set()
    for collector in vars(metrics).values():
        if isinstance(collector, Collector):
            for family in collector.describe() or collector.collect():
                base = family.name
                names |= {base, f"{base}_total", f"{base}_bucket", f"{base}_count", f"{base}_sum"}
    return names


def test_every_metric_of_the_dashboard_is_one_the_code_defines() -> None:
    used = _dashboard_metric_names()
    missing = used - _defined_names()
    assert not missing, missing
    # and every metric the code defines is on the dashboard
    defined = {
        f.name for c in vars(metrics).values() if isinstance(c, Collector) for f in c.describe()
    }
    assert all(any(u.startswith(name) for u in used) for name in defined)


def test_label_values_outside_their_known_set_are_counted_as_other() -> None:
    answers = "supportbot_answers_total"
    before = sample(answers, tier="other", outcome="other")
    metrics.answered("UCUST000", "where is my order, I'm Alice", None)
    assert sample(answers, tier="other", outcome="other") == before + 1
    assert metrics.slack_method("https://slack.example/api/chat.postMessage?x=1") == (
        "chat.postMessage"
    )
    assert metrics.slack_method("https://slack.example/api/C0123/<@U1>") == "other"


def test_a_payload_whose_type_is_not_text_is_counted_as_other() -> None:
    # Found by tests/test_fuzz.py: an event "type" that is a list made the count raise (500).
    for kind in ([None, 1], {"a": 1}, 7, None, "no_such_event"):
        assert metrics._bounded(kind, metrics._PAYLOADS) == metrics.OTHER
        metrics.received({"type": "event_callback", "event": {"type": kind}})


def test_every_reply_kind_is_a_known_label_value() -> None:
    """Reply.kind is a ReplyKind (mypy holds the code to it): each is counted as itself."""
    assert frozenset(ReplyKind) == metrics._REPLY_KINDS
    assert all(metrics._bounded(kind, metrics._REPLY_KINDS) == kind for kind in ReplyKind)
