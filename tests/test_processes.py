"""Real `supportbot serve` processes: nothing lost when one is killed mid-answer, nothing
answered twice when two replicas share one PostgreSQL database, not ready (and still serving)
while draining after SIGTERM or while the schema is behind.

Each process is `python -m bot.cli serve` on a free loopback port, with an environment built
from scratch (nothing inherited from the developer's shell but PATH) that points it at the fake
Slack and fake Anthropic servers of the test, with default settings but a sweep every second
(SUPPORTBOT_SWEEP_SECONDS=1): a claim has no lease; a sweep releases a dead holder's claims.

What is counted, per inbound message: the `chat.postMessage` calls in its thread at the fake
Slack, its row's status, the bot's reply rows pointing at it, and the model calls recorded for
it (an answer taken twice would show twice the model calls of one answer).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import select

from bot.health import Health, Readiness
from bot.store import queries
from bot.store.db import Database
from bot.store.models import Message, ModelCall
from tests.conftest import SIGNING_SECRET, sign
from tests.fakes.models import FakeAnthropic
from tests.fakes.slack import TEAM_ID, FakeSlack
from tests.serving import STARTUP_TIMEOUT, event_body, process_env, start_serve
from tests.serving import ServeProcess as Serve

SWEEP = 1.0
ANSWER_TIMEOUT = 60.0
TAKEOVER_SECONDS = 15.0  # a dead process's message is answered within this, on both databases


@dataclass
class Cluster:
    """Starts serve processes for one test and kills whatever is left at its end."""

    env: dict[str, str]
    workdir: Path
    http: aiohttp.ClientSession
    started: list[Serve]

    async def start(self, name: str, *args: str) -> Serve:
        served = await start_serve(
            self.env, self.workdir, self.workdir / f"{name}.log", self.http, *args
        )
        self.started.append(served)
        return served

    async def post_event(
        self, served: Serve, body: str, *, retry: int | None = None
    ) -> tuple[int, float]:
        """POST a signed Slack event body; returns the status and the response time."""
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(body, ts),
        }
        if retry:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        started = time.monotonic()
        async with self.http.post(served.events_url, data=body.encode(), headers=headers) as r:
            await r.read()
            return r.status, time.monotonic() - started

    def logs(self) -> str:
        return "\n".join(f"--- {s.log.name}\n{s.output[-4000:]}" for s in self.started)


async def wait_until(
    condition: Callable[[], Awaitable[bool]],
    what: str,
    timeout: float,
    *processes: Serve,
) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {p.log.name}\n{p.output[-4000:]}" for p in processes)
            pytest.fail(f"timed out after {timeout:.0f}s waiting until {what}\n{logs}")
        await asyncio.sleep(0.05)


def dm_event(text: str, user: str, channel: str, ts: str) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": channel,
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
    }


def thread_posts(slack: FakeSlack, channel: str, thread_ts: str) -> list[dict[str, Any]]:
    return [p for p in slack.posts() if p["channel"] == channel and p["thread_ts"] == thread_ts]


def takes(slack: FakeSlack, channel: str, thread_ts: str) -> int:
    """How many times a worker took the message: each take first sets the thread's "is
    thinking" status (assistant.threads.setStatus, in DMs) before asking the model."""
    return sum(
        1
        for c in slack.calls_to("assistant.threads.setStatus")
        if c.args.get("channel_id") == channel
        and c.args.get("thread_ts") == thread_ts
        and c.args.get("status")
    )


@dataclass
class Inbound:
    """Everything recorded about one customer message."""

    message: Message
    replies: list[Message]
    model_calls: int


async def inbound(db: Database, channel: str, ts: str) -> Inbound | None:
    async with db.session() as s:
        message = (
            await s.exec(
                select(Message).where(Message.channel_id == channel, Message.slack_ts == ts)
            )
        ).first()
        if message is None:
            return None
        replies = list(
            (await s.exec(select(Message).where(Message.reply_to_id == message.id))).all()
        )
        calls = list(
            (await s.exec(select(ModelCall).where(ModelCall.message_id == message.id))).all()
        )
        return Inbound(message, replies, len(calls))


async def all_finished(db: Database, messages: list[tuple[str, str]]) -> bool:
    """Every message is out of the worker's hands (answered, an apology too) and its replies
    are posted."""
    for channel, ts in messages:
        found = await inbound(db, channel, ts)
        if found is None or found.message.status in ("pending", "working"):
            return False
        if not found.replies or any(r.slack_ts is None for r in found.replies):
            return False
    return True


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.close()


@pytest.fixture
async def cluster(
    database_url: str, tmp_path: Path, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> AsyncIterator[Cluster]:
    workdir = tmp_path / "work"  # empty: no stray .env is read
    workdir.mkdir()
    env = process_env(database_url, tmp_path) | {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "ANTHROPIC_API_KEY": "test-anthropic-key",
        "ANTHROPIC_BASE_URL": fake_anthropic.base_url,
        "SUPPORTBOT_SWEEP_SECONDS": str(SWEEP),
    }
    async with AsyncExitStack() as stack:
        http = await stack.enter_async_context(aiohttp.ClientSession())
        c = Cluster(env, workdir, http, [])
        try:
            yield c
        finally:
            for served in c.started:
                await served.kill()


REPLICAS_NEED_POSTGRES = (
    "several replicas share a PostgreSQL database; set TEST_DATABASE_URL to run this test"
)


def on_postgresql(database_url: str) -> bool:
    return make_url(database_url).get_backend_name() == "postgresql"


# --- nothing lost ---------------------------------------------------------------------------


async def test_a_message_whose_process_is_killed_mid_answer_is_answered_once_after_restart(
    cluster: Cluster, db: Database, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    channel, ts = "D0001", f"{int(time.time()) - 1}.000001"
    fake_anthropic.delay = 3.0  # the first model call is still running when the process dies
    first = await cluster.start("first")
    status, _ = await cluster.post_event(
        first, event_body(dm_event("where is my order 1042?", "UALICE", channel, ts))
    )
    assert status == 200

    async def model_called() -> bool:
        return len(fake_anthropic.requests) >= 1

    await wait_until(model_called, "the model request arrived", ANSWER_TIMEOUT, first)
    await first.kill()

    # The message was acknowledged and taken, and nothing was answered yet.
    assert thread_posts(fake_slack, channel, ts) == []
    found = await inbound(db, channel, ts)
    assert found is not None
    assert found.message.status == "working", "the killed process had claimed the message"
    assert found.replies == []

    fake_anthropic.delay = 0.2
    restarted = time.monotonic()
    await cluster.start("second")

    await wait_until(
        lambda: all_finished(db, [(channel, ts)]),
        f"the restarted process answered the message within {TAKEOVER_SECONDS:.0f}s",
        TAKEOVER_SECONDS - (time.monotonic() - restarted),
        *cluster.started,
    )
    # Room for a second answer that must not come: a few more sweeps.
    await asyncio.sleep(SWEEP * 3)

    posts = thread_posts(fake_slack, channel, ts)
    assert len(posts) == 1, [p["text"] for p in posts]
    assert "shipped" in posts[0]["text"]
    found = await inbound(db, channel, ts)
    assert found is not None
    assert found.message.status == "answered"
    assert len(found.replies) == 1
    assert found.replies[0].slack_ts == posts[0]["ts"]
    # Taken twice, once by each process; the killed one's model call was never recorded, so
    # the calls recorded are one answer's (lookup, then final answer), by the new process.
    assert takes(fake_slack, channel, ts) == 2
    assert found.model_calls == 2
    assert "Traceback" not in cluster.started[1].output, cluster.started[1].output


async def test_the_work_of_a_replica_killed_mid_answer_is_taken_over_by_a_live_replica(
    cluster: Cluster,
    db: Database,
    database_url: str,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
) -> None:
    """No restart here: the surviving replica's periodic sweep finds that the dead one holds a
    claim and releases it. The survivor is paused (SIGSTOP) while the message arrives, so
    the dead replica is certainly the one that took it; the survivor started before the
    message existed, so its sweep at start cannot have seen it either. Two processes on one
    SQLite file too (as `serve --processes N` runs them)."""
    channel, ts = "D0001", f"{int(time.time()) - 1}.000001"
    fake_anthropic.delay = 3.0
    doomed, survivor = await cluster.start("doomed"), await cluster.start("survivor")
    survivor.proc.send_signal(signal.SIGSTOP)
    try:
        status, _ = await cluster.post_event(
            doomed, event_body(dm_event("where is my order 1042?", "UALICE", channel, ts))
        )
        assert status == 200

        async def model_called() -> bool:
            return len(fake_anthropic.requests) >= 1

        await wait_until(model_called, "the model request arrived", ANSWER_TIMEOUT, doomed)
        await doomed.kill()
    finally:
        survivor.proc.send_signal(signal.SIGCONT)
    found = await inbound(db, channel, ts)
    assert found is not None and found.message.status == "working"
    assert thread_posts(fake_slack, channel, ts) == []

    fake_anthropic.delay = 0.2
    died = time.monotonic()
    await wait_until(
        lambda: all_finished(db, [(channel, ts)]),
        f"the live replica took over the dead one's message within {TAKEOVER_SECONDS:.0f}s",
        TAKEOVER_SECONDS - (time.monotonic() - died),
        *cluster.started,
    )
    await asyncio.sleep(SWEEP * 3)

    posts = thread_posts(fake_slack, channel, ts)
    assert len(posts) == 1, [p["text"] for p in posts]
    found = await inbound(db, channel, ts)
    assert found is not None
    assert (found.message.status, len(found.replies)) == ("answered", 1)
    assert takes(fake_slack, channel, ts) == 2  # the dead replica's take, and the survivor's
    assert survivor.alive()


async def test_a_slow_living_holder_is_never_overtaken(
    cluster: Cluster, db: Database, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    """The model takes longer than several sweeps of the other replica: the message stays
    with the replica that took it (alive, only slow), and is answered once."""
    channel, ts = "D0001", f"{int(time.time()) - 1}.000001"
    holder, other = await cluster.start("holder"), await cluster.start("other")
    other.proc.send_signal(signal.SIGSTOP)  # the holder takes it: the other is not there yet
    try:
        fake_anthropic.delay = SWEEP * 4  # per model call; an answer makes two
        status, _ = await cluster.post_event(
            holder, event_body(dm_event("where is my order 1042?", "UALICE", channel, ts))
        )
        assert status == 200

        async def model_called() -> bool:
            return len(fake_anthropic.requests) >= 1

        await wait_until(model_called, "the model request arrived", ANSWER_TIMEOUT, holder)
    finally:
        other.proc.send_signal(signal.SIGCONT)
    await wait_until(
        lambda: all_finished(db, [(channel, ts)]),
        "the slow holder answered",
        ANSWER_TIMEOUT,
        *cluster.started,
    )
    await asyncio.sleep(SWEEP * 3)
    await assert_each_answered_once(db, fake_slack, [(channel, ts)], holder, other)
    assert "released" not in holder.output + other.output  # no claim was ever released


# --- nothing twice --------------------------------------------------------------------------


def customers(slack: FakeSlack, count: int) -> list[tuple[str, str]]:
    """(user, DM channel) of `count` customers, each known to the fake Slack by email."""
    people = []
    for k in range(count):
        user = f"UCUST{k:03d}"
        slack.add_user(user, f"customer{k}@example.com", f"Customer {k}")
        people.append((user, f"DCUST{k:03d}"))
    return people


async def assert_each_answered_once(
    db: Database, slack: FakeSlack, messages: list[tuple[str, str]], *processes: Serve
) -> None:
    """One take, one post, one reply row, `answered`; and the same number of model calls for
    every message (they all ask the same question, so one answer costs the same for each)."""
    problems = []
    model_calls = set()
    for channel, ts in messages:
        posts = thread_posts(slack, channel, ts)
        found = await inbound(db, channel, ts)
        if found is None:
            problems.append(f"{channel}/{ts}: no row")
            continue
        model_calls.add(found.model_calls)
        summary = (
            f"{channel}/{ts}: status={found.message.status} takes={takes(slack, channel, ts)}"
            f" posts={len(posts)} replies={len(found.replies)} model_calls={found.model_calls}"
        )
        if (
            takes(slack, channel, ts) != 1
            or len(posts) != 1
            or found.message.status != "answered"
            or len(found.replies) != 1
            or found.model_calls == 0
        ):
            problems.append(summary)
    logs = "\n".join(f"--- {p.log.name}\n{p.output[-6000:]}" for p in processes)
    assert not problems, "\n".join(problems) + "\n" + logs
    assert len(model_calls) == 1, f"model calls per message differ: {sorted(model_calls)}"


async def test_two_replicas_given_every_event_answer_each_message_exactly_once(
    cluster: Cluster,
    db: Database,
    database_url: str,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
) -> None:
    if not on_postgresql(database_url):
        pytest.skip(REPLICAS_NEED_POSTGRES)
    # Each answer takes two or more model calls of 1.5 s: several sweeps of the other replica
    # come while a message is held, and must leave it alone (its holder is alive).
    fake_anthropic.delay = 1.5
    a, b = await cluster.start("replica-a"), await cluster.start("replica-b")
    people = customers(fake_slack, 20)
    base = int(time.time()) - 1
    messages = [(channel, f"{base}.{k:06d}") for k, (_user, channel) in enumerate(people)]

    async def deliver(k: int) -> list[int]:
        user, channel = people[k]
        event = dm_event(f"where is my order 1042? (#{k})", user, channel, messages[k][1])
        body = event_body(event)
        statuses = []
        # Slack's delivery reaches both replicas (a load balancer retrying, say)...
        for status, _ in await asyncio.gather(
            cluster.post_event(a, body), cluster.post_event(b, body)
        ):
            statuses.append(status)
        if k % 4 == 0:  # ...Slack retries some, to either replica...
            for status, _ in await asyncio.gather(
                cluster.post_event(b, body, retry=1), cluster.post_event(a, body, retry=2)
            ):
                statuses.append(status)
        if k % 5 == 0:  # ...and one message can come as two events (app_mention + message).
            status, _ = await cluster.post_event(a, event_body(event))
            statuses.append(status)
        return statuses

    for statuses in await asyncio.gather(*(deliver(k) for k in range(len(people)))):
        assert statuses and all(s == 200 for s in statuses), statuses

    await wait_until(
        lambda: all_finished(db, messages), "every message was answered", ANSWER_TIMEOUT, a, b
    )
    await asyncio.sleep(SWEEP * 3)  # a late second answer would show up by now

    await assert_each_answered_once(db, fake_slack, messages, a, b)
    assert len(fake_slack.posts()) == len(messages)
    assert a.alive() and b.alive()
    for served in (a, b):
        assert "Traceback" not in served.output, served.output


async def test_two_replicas_starting_on_a_backlog_take_each_message_once(
    cluster: Cluster,
    db: Database,
    database_url: str,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
) -> None:
    """Messages acknowledged while no replica was up are pending in the database; two replicas
    starting together both sweep them at once, and each message is still taken by one."""
    if not on_postgresql(database_url):
        pytest.skip(REPLICAS_NEED_POSTGRES)
    await db.upgrade()
    people = customers(fake_slack, 20)
    base = int(time.time()) - 1
    messages = []
    for k, (user, channel) in enumerate(people):
        ts = f"{base}.{k:06d}"
        message_id = await queries.record_inbound(
            db,
            queries.Inbound(TEAM_ID, channel, ts, user, f"hello, I have a question (#{k})", ts),
        )
        assert message_id is not None
        messages.append((channel, ts))
    fake_anthropic.delay = 0.5

    a, b = await asyncio.gather(cluster.start("replica-a"), cluster.start("replica-b"))

    await wait_until(
        lambda: all_finished(db, messages),
        "every pending message was answered",
        ANSWER_TIMEOUT,
        a,
        b,
    )
    await asyncio.sleep(SWEEP * 3)

    await assert_each_answered_once(db, fake_slack, messages, a, b)
    assert len(fake_slack.posts()) == len(messages)


# --- several processes on one port -----------------------------------------------------------


def children_of(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_serve_processes_share_one_port_restart_a_dead_one_and_stop_together(
    cluster: Cluster, db: Database, fake_slack: FakeSlack, fake_anthropic: FakeAnthropic
) -> None:
    """`serve --processes 2`: two serve processes behind one port answer every message once;
    one killed is started again; SIGTERM to the parent stops both."""
    fake_anthropic.delay = 0.3
    parent = await cluster.start("pair", "--processes", "2")

    async def two_children() -> bool:
        return len(children_of(parent.proc.pid)) == 2

    await wait_until(
        two_children, "the parent started two serve processes", STARTUP_TIMEOUT, parent
    )
    first = children_of(parent.proc.pid)
    people = customers(fake_slack, 12)
    base = int(time.time()) - 1
    messages = [(channel, f"{base}.{k:06d}") for k, (_user, channel) in enumerate(people)]
    bodies = [
        event_body(dm_event(f"hello, a question (#{k})", user, channel, messages[k][1]))
        for k, (user, channel) in enumerate(people)
    ]
    for status, _ in await asyncio.gather(*(cluster.post_event(parent, b) for b in bodies)):
        assert status == 200
    await wait_until(
        lambda: all_finished(db, messages), "every message was answered", ANSWER_TIMEOUT, parent
    )
    await assert_each_answered_once(db, fake_slack, messages, parent)

    os.kill(first[0], signal.SIGKILL)

    async def replaced() -> bool:
        now = children_of(parent.proc.pid)
        return len(now) == 2 and first[0] not in now

    await wait_until(
        replaced, "the parent started the killed process again", STARTUP_TIMEOUT, parent
    )
    # the port is served throughout: the survivor, then both
    user, channel = people[0]
    later = (channel, f"{base + 1}.000001")
    status, _ = await cluster.post_event(
        parent, event_body(dm_event("one more question", user, channel, later[1]))
    )
    assert status == 200
    await wait_until(
        lambda: all_finished(db, [later]), "the later message was answered", ANSWER_TIMEOUT, parent
    )

    second = children_of(parent.proc.pid)
    parent.proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(parent.proc.wait(), STARTUP_TIMEOUT) == 0
    assert not [pid for pid in second if running(pid)]
    assert "Traceback" not in parent.output, parent.output


# --- liveness, readiness and draining ----------------------------------------------------------

DRAIN_SECONDS = 4.0


async def probe(cluster: Cluster, served: Serve, path: str) -> tuple[int, dict[str, Any]]:
    async with cluster.http.get(f"{served.base}{path}") as resp:
        return resp.status, await resp.json()


async def test_readyz_is_503_while_the_schema_is_behind_head_and_200_once_upgraded(
    cluster: Cluster, db: Database
) -> None:
    served = await cluster.start("ready")
    assert await probe(cluster, served, "/readyz") == (200, {"ok": True, "status": "ready"})

    await db.downgrade("0006")  # as `supportbot db downgrade 0006` does, the server running
    assert await probe(cluster, served, "/readyz") == (
        503,
        {"ok": False, "status": "schema_behind"},
    )
    # alive all the same: a restart would not migrate the schema of a running release
    assert (await probe(cluster, served, "/healthz"))[0] == 200

    await db.upgrade()
    assert await probe(cluster, served, "/readyz") == (200, {"ok": True, "status": "ready"})


async def test_readiness_of_a_schema_migrated_by_a_newer_release_is_ready(db: Database) -> None:
    """During a rolling update the new release's migrations run first: the old replicas stay
    in rotation until they are replaced, rather than all leaving it at once."""
    await db.upgrade()
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999_newer'"))
    assert await Health(db).readiness() is Readiness.READY
    async with db.engine.begin() as conn:
        await conn.execute(text("DELETE FROM alembic_version"))
    assert await Health(db).readiness() is Readiness.SCHEMA_BEHIND


async def test_readyz_is_503_when_the_database_does_not_answer() -> None:
    nowhere = Database("postgresql://supportbot@127.0.0.1:9/supportbot")  # discard port
    try:
        assert await Health(nowhere).readiness() is Readiness.DATABASE_UNREACHABLE
    finally:
        await nowhere.close()


async def test_readiness_gives_up_on_a_database_that_accepts_and_never_answers() -> None:
    """Within a probe's timeout (5 s in deploy/kubernetes/), not after the driver's own."""
    silent = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    hanging = Database(f"postgresql://supportbot@127.0.0.1:{port}/supportbot")
    try:
        started = time.monotonic()
        assert await Health(hanging).readiness() is Readiness.DATABASE_UNREACHABLE
        assert time.monotonic() - started < 4.5
    finally:
        await hanging.close()
        silent.close()


@pytest.mark.parametrize("processes", ["1", "2"])
async def test_on_sigterm_serve_stops_being_ready_keeps_serving_then_answers_and_exits(
    cluster: Cluster,
    db: Database,
    database_url: str,
    fake_slack: FakeSlack,
    fake_anthropic: FakeAnthropic,
    processes: str,
) -> None:
    """SIGTERM: /readyz turns 503 at once (a load balancer stops sending), /healthz stays 200
    and events that still arrive are acknowledged and answered, for SUPPORTBOT_DRAIN_SECONDS;
    then the process finishes the answers in flight and exits 0."""
    if processes != "1" and not on_postgresql(database_url):
        pytest.skip(REPLICAS_NEED_POSTGRES)
    cluster.env["SUPPORTBOT_DRAIN_SECONDS"] = str(DRAIN_SECONDS)
    fake_anthropic.delay = 0.5
    served = await cluster.start(f"drain{processes}", "--processes", processes)
    assert (await probe(cluster, served, "/readyz"))[0] == 200

    served.proc.send_signal(signal.SIGTERM)
    signalled = time.monotonic()

    async def not_ready() -> bool:
        return await probe(cluster, served, "/readyz") == (
            503,
            {"ok": False, "status": "draining"},
        )

    await wait_until(not_ready, "/readyz answered 503 draining", DRAIN_SECONDS, served)
    # every process behind the port is draining, and still serves
    for _ in range(6):
        assert await not_ready()
        assert (await probe(cluster, served, "/healthz"))[0] == 200
    channel, ts = "D0009", f"{int(time.time()) - 1}.000001"
    status, _ = await cluster.post_event(
        served, event_body(dm_event("where is my order 1042?", "UALICE", channel, ts))
    )
    assert status == 200
    assert time.monotonic() - signalled < DRAIN_SECONDS, "the checks ran within the drain"

    assert await asyncio.wait_for(served.proc.wait(), ANSWER_TIMEOUT) == 0
    assert time.monotonic() - signalled >= DRAIN_SECONDS - 0.5
    found = await inbound(db, channel, ts)
    assert found is not None and found.message.status == "answered", served.output
    assert len(thread_posts(fake_slack, channel, ts)) == 1
    assert "Traceback" not in served.output, served.output
