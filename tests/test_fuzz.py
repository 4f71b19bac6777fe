"""Fuzzing the real `POST /slack/events` with hypothesis.

Inputs: random JSON bodies, malformed bodies (random text and bytes), random form bodies,
and event callbacks with random event dicts (random types and subtypes, missing and mistyped
fields, odd Unicode, texts up to 40,000 characters, files without text), all correctly signed;
then forged, stale, future and malformed signatures on such bodies.

Properties: a signed input never gets a 5xx, the process keeps serving (`GET /healthz` is 200
after every input), and every message it took is out of the worker's hands afterwards
(answered, declined or held; never stuck pending, never failed with an apology). An input with
a bad signature is refused with 401 and leaves no trace: no row, no Slack call, no model call
(Slack's SSL check, a form with `ssl_check=1`, is answered with an empty 200 by Bolt before
any signature check, by design; it must leave no trace either).

How it runs, and why so. The `bot` fixture (the real Bolt app behind a real aiohttp server, the
fake Slack and model servers, a fresh database) lives in the test's event loop. Hypothesis is
synchronous, and the figures must cover a whole run: how many inputs were tried and how many
failed, not only the first failure. So the test is a plain `async def` that hands a
`@given`-decorated *synchronous* driver to a worker thread (`asyncio.to_thread`); the driver
runs each example's requests on the test's loop with `asyncio.run_coroutine_threadsafe(...)
.result()`, while the loop itself is free (it only awaits the thread). A failing example is
recorded, with the server-side exception that caused it and the shortest such input, and the
run goes on; at the end the test prints the figures (`pytest -s`) and fails if any input
failed. (`@given` directly on the async test also works with pytest-asyncio, but Hypothesis
then stops at the first failure, which leaves no figures worth reporting.)

Before the random inputs, a fixed list of seeds (`seeds()`) covers every case the issue names,
so each run tries them whatever hypothesis draws. The per-customer rate limit is off here: a
few fake customers send hundreds of messages, and each should reach the answering path.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import itertools
import json
import logging
import string
import time
import traceback
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import col, select

from bot.store.models import Conversation, Message, SlackEvent
from tests.conftest import SIGNING_SECRET, Bot
from tests.fakes.slack import TEAM_ID

SIGNED_EXAMPLES = 300
FORGED_EXAMPLES = 100

# --- figures --------------------------------------------------------------------------------


class ServerErrors(logging.Handler):
    """The exceptions the app logged while one input was handled (in this same process)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            where = f" at {Path(frame.filename).name}:{frame.lineno} {frame.name}" if frame else ""
            self.seen.append(f"{type(exc).__name__}{where}")


@dataclass
class Figures:
    name: str
    tried: int = 0
    failed: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    shortest: dict[str, bytes] = field(default_factory=dict)

    def fail(self, failure: str, request: Request) -> None:
        self.failures[failure] += 1
        known = self.shortest.get(failure)
        if known is None or len(request.body) < len(known):
            self.shortest[failure] = request.body

    def dump(self, path: Path) -> None:
        """The shortest failing input of each kind of failure, one JSON object a line."""
        with path.open("w", encoding="utf-8") as out:
            for failure, body in self.shortest.items():
                text = body.decode("utf-8", "backslashreplace")
                out.write(json.dumps({"failure": failure, "body": text}) + "\n")

    def report(self) -> str:
        lines = [
            f"fuzz /slack/events ({self.name}): {self.tried} inputs tried, {self.failed} failed",
            f"  inputs by kind: {dict(sorted(self.kinds.items()))}",
            f"  HTTP statuses: {dict(sorted(self.statuses.items()))}",
        ]
        if self.outcomes:
            lines.append(
                f"  messages taken, by final status: {dict(sorted(self.outcomes.items()))}"
            )
        for failure, count in self.failures.most_common():
            lines.append(f"  FAILED x{count}: {failure}")
            lines.append(f"      shortest input: {self.shortest[failure][:300]!r}")
        return "\n".join(lines)


@pytest.fixture
def server_errors() -> Iterator[ServerErrors]:
    handler = ServerErrors()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


def campaign(
    loop: asyncio.AbstractEventLoop,
    inputs: st.SearchStrategy[Any],
    examples: int,
    one: Callable[[Any], Awaitable[None]],
    seeds: Sequence[Any] = (),
) -> None:
    """Run `one(input)` on the test's loop: first for each seed, then for `examples` inputs
    drawn by hypothesis."""

    def drive(value: Any) -> None:
        asyncio.run_coroutine_threadsafe(one(value), loop).result(timeout=120)

    for seed in seeds:
        drive(seed)
    run = settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )(given(inputs)(drive))
    run()


# --- inputs ---------------------------------------------------------------------------------

_ts = itertools.count(1)


def fresh_ts() -> str:
    """A unique message ts, a day in the past: never one the fake Slack gives its own posts
    (those are of the current second, numbered from 1, in the same channels)."""
    return f"{int(time.time()) - 86_400}.{next(_ts):06d}"


ODD = [
    "\x00",  # NUL: PostgreSQL text cannot hold it
    "\u202e",  # right-to-left override
    "\ufeff",  # byte order mark
    "\u200b\u200d",  # zero-width space and joiner
    "e\u0301\u0301\u0301",  # stacked combining marks
    "👩‍👩‍👧‍👦",  # one emoji, seven code points
    "\U0010ffff",  # the last code point
    "\ud800",  # a lone surrogate (valid as a JSON escape, not encodable as UTF-8)
    "\r\n\t\x0b\x1b[31m",  # control characters and an ANSI escape
    "𝕳𝖊𝖑𝖑𝖔",  # mathematical letters
    "<@UBOT>",  # the bot's own mention
    "<!channel> <https://example.com|x> &amp; &lt;",  # Slack markup
    "'; DROP TABLE message; --",
    "{{ 7*7 }} {% raw %}",  # template syntax
]

odd_text = st.lists(
    st.one_of(st.text(max_size=30), st.sampled_from(ODD)), min_size=1, max_size=8
).map("".join)
long_text = st.one_of(
    st.builds(
        lambda unit, n: (unit * n)[:40_000],
        st.text(min_size=1, max_size=8),
        st.integers(min_value=1, max_value=40_000),
    ),
    st.builds(
        lambda ch, n: ch * n,
        st.sampled_from(["x", "é", "😀", " ", "\n", "1042 "]),
        st.sampled_from([3_999, 4_000, 4_001, 12_000, 39_999, 40_000]),
    ),
)
message_text = st.one_of(st.just(""), st.text(), odd_text, long_text)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field that may be missing (the sentinel _MISSING)."""
    return st.one_of(strategy, st.just(_MISSING))


_MISSING = object()

identifiers = st.one_of(
    st.sampled_from(["UALICE", "UBOB", "UNOMAIL", "ULEAD", "UBOT", "USTRANGER"]),
    st.text(max_size=40),
)
channels = st.one_of(st.sampled_from(["D0001", "D0002", "C0001", "G0001"]), st.text(max_size=40))
file_entries = st.lists(
    st.fixed_dictionaries(
        {"id": st.text(max_size=12)},
        optional={
            "name": st.text(max_size=20),
            "mimetype": st.sampled_from(["image/png", "application/pdf", "text/plain", ""]),
            "filetype": st.sampled_from(["png", "pdf", "txt", "binary"]),
            "size": st.integers(min_value=0, max_value=10**9),
            "url_private": st.sampled_from(["http://127.0.0.1:9/file", "not a url", ""]),
            "mode": st.sampled_from(["hosted", "tombstone", "external"]),
        },
    ),
    max_size=3,
)


@st.composite
def slack_events(draw: st.DrawFn) -> dict[str, Any]:
    """An event dict: fields missing or odd, sometimes of the wrong type, often a DM or a
    mention the bot answers."""
    ts = draw(st.one_of(st.builds(fresh_ts), st.builds(fresh_ts), st.text(max_size=40)))
    fields: dict[str, Any] = {
        "type": draw(
            st.one_of(
                st.just("message"),
                st.just("app_mention"),
                st.sampled_from(
                    [
                        "message",
                        "app_mention",
                        "app_home_opened",
                        "assistant_thread_started",
                        "assistant_thread_context_changed",
                        "reaction_added",
                        "file_shared",
                        "member_joined_channel",
                    ]
                ),
                st.text(max_size=20),
            )
        ),
        "subtype": draw(
            maybe(
                st.one_of(st.none(), st.text(max_size=20))
                | st.sampled_from(
                    [
                        "file_share",
                        "thread_broadcast",
                        "message_changed",
                        "message_deleted",
                        "bot_message",
                        "channel_join",
                        "me_message",
                    ]
                )
            )
        ),
        "user": draw(maybe(identifiers)),
        "channel": draw(maybe(channels)),
        "channel_type": draw(maybe(st.sampled_from(["im", "channel", "group", "mpim"]))),
        "ts": ts,
        "thread_ts": draw(maybe(st.one_of(st.just(ts), st.builds(fresh_ts)))),
        "text": draw(maybe(message_text)),
        "files": draw(maybe(file_entries)),
        "bot_id": draw(st.sampled_from([_MISSING, _MISSING, _MISSING, "B0001"])),
        "team": draw(maybe(st.just(TEAM_ID))),
        "blocks": draw(st.one_of(st.just(_MISSING), json_values)),
    }
    # One event in four has a field of the wrong JSON type (a number for the user, ...).
    if draw(st.integers(min_value=0, max_value=3)) == 0:
        fields[draw(st.sampled_from(sorted(fields)))] = draw(json_values)
    event = {k: v for k, v in fields.items() if v is not _MISSING}
    event.update(draw(st.dictionaries(st.text(max_size=10), json_values, max_size=2)))
    return event


def envelope(event: Any, event_id: Any, team_id: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "token": "legacy",
        "api_app_id": "A0001",
        "type": "event_callback",
        "event_time": int(time.time()),
        "event": event,
        "authorizations": [{"team_id": TEAM_ID, "user_id": "UBOT", "is_bot": True}],
    }
    if event_id is not _MISSING:
        body["event_id"] = event_id
    if team_id is not _MISSING:
        body["team_id"] = team_id
    return body


@dataclass
class Request:
    kind: str
    body: bytes
    content_type: str | None


def as_json(kind: str, value: Any) -> Request:
    return Request(kind, json.dumps(value).encode(), "application/json")


event_callbacks = st.builds(
    lambda e, i, t: as_json("event_callback", envelope(e, i, t)),
    slack_events(),
    maybe(st.builds(lambda: f"Ev{next(_ts):08d}")),
    maybe(st.just(TEAM_ID)),
)


@st.composite
def customer_messages(draw: st.DrawFn) -> dict[str, Any]:
    """A message the bot must take and answer (or decline politely): a DM, a mention, a file
    shared with or without words, a broadcast thread reply; odd or huge text."""
    ts = fresh_ts()
    kind = draw(st.sampled_from(["dm", "mention", "file_share", "thread_broadcast"]))
    event: dict[str, Any] = {
        "type": "app_mention" if kind == "mention" else "message",
        "user": draw(st.sampled_from(["UALICE", "UBOB", "UNOMAIL", "ULEAD", "USTRANGER"])),
        "ts": ts,
        "text": draw(message_text),
    }
    if kind == "mention":
        event |= {"channel": "C0001", "text": "<@UBOT> " + event["text"]}
    else:
        event |= {"channel": draw(st.sampled_from(["D0001", "D0002"])), "channel_type": "im"}
    if kind == "file_share":
        event |= {"subtype": "file_share", "files": draw(file_entries)}
        if draw(st.booleans()):
            del event["text"]  # a file without any text
    if kind == "thread_broadcast":
        event |= {"subtype": "thread_broadcast", "thread_ts": fresh_ts()}
    return event


customer_events = st.builds(
    lambda e: as_json("customer_message", envelope(e, f"Ev{next(_ts):08d}", TEAM_ID)),
    customer_messages(),
)
broken_envelopes = st.builds(
    lambda e, i, t: as_json("broken_envelope", envelope(e, i, t)),
    json_values,  # the event is not an object at all, or an arbitrary one
    maybe(st.text(max_size=20)),
    maybe(st.text(max_size=20)),
)
json_bodies = st.builds(
    lambda typ, rest: as_json("random_json", {"type": typ, **rest} if typ is not None else rest),
    st.one_of(
        st.none(),
        st.sampled_from(
            [
                "event_callback",
                "url_verification",
                "block_actions",
                "view_submission",
                "view_closed",
                "shortcut",
                "message_action",
                "app_rate_limited",
                "block_suggestion",
            ]
        ),
        st.text(max_size=20),
    ),
    st.dictionaries(st.text(max_size=12), json_values, max_size=5),
)
any_json = st.builds(lambda v: as_json("json_value", v), json_values)
malformed = st.one_of(
    st.builds(
        lambda text, ctype: Request("malformed_text", text.encode("utf-8", "surrogatepass"), ctype),
        st.text(),
        st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]),
    ),
    st.builds(
        lambda data, ctype: Request("malformed_bytes", data, ctype),
        st.binary(max_size=200),
        st.sampled_from(["application/json", "application/x-www-form-urlencoded", None]),
    ),
)
form_bodies = st.builds(
    lambda fields: Request(
        "form",
        urlencode(fields).encode("utf-8", "surrogatepass"),
        "application/x-www-form-urlencoded",
    ),
    st.dictionaries(
        st.one_of(
            st.sampled_from(
                ["payload", "command", "text", "user_id", "channel_id", "ssl_check", "token"]
            ),
            st.text(max_size=10),
        ),
        st.one_of(
            st.text(max_size=50),
            st.builds(json.dumps, json_values),
            st.sampled_from(["/costs", "1", '{"type": "block_actions"}', '{"type":']),
            st.builds(
                lambda t, r: json.dumps({"type": t, **r}),
                st.sampled_from(["block_actions", "view_submission", "shortcut", "message_action"]),
                st.dictionaries(st.text(max_size=10), json_values, max_size=4),
            ),
        ),
        max_size=5,
    ),
)


def seed_message(text: str | None, **extra: Any) -> Request:
    event: dict[str, Any] = {
        "type": "message",
        "channel": "D0001",
        "channel_type": "im",
        "user": "UALICE",
        "ts": fresh_ts(),
    } | extra
    if text is not None:
        event["text"] = text
    return as_json("seed", envelope(event, f"Ev{next(_ts):08d}", TEAM_ID))


def seeds() -> list[Request]:
    """The cases the issue names, tried on every run before the random ones."""
    return [
        *(seed_message(f"where is my order 1042? {odd}") for odd in ODD),
        seed_message(""),
        seed_message("   \n\t "),
        seed_message("x" * 40_000),
        seed_message("😀" * 40_000),
        seed_message(None, subtype="file_share", files=[{"id": "F1", "name": "a.png"}]),
        seed_message("", subtype="file_share", files=[]),
        seed_message("hi", subtype="message_changed"),
        seed_message("hi", subtype=[]),  # an unhashable subtype
        seed_message("hi", user="U" * 40),  # ids longer than the columns (32)
        seed_message("hi", channel="D" + "9" * 40),
        seed_message("hi", ts="1" * 40),
        as_json("seed", envelope([], "EvSEED1", TEAM_ID)),  # an event that is not an object
        as_json("seed", []),
        Request("seed", b"\xff\xfe", "application/json"),  # not UTF-8
        Request("seed", b"{not json", "application/json"),
        Request("seed", b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
        Request("seed", b"", "application/json"),
    ]


# Weighted: most inputs are events; a share of each kind of junk.
signed_inputs = st.sampled_from(
    [customer_events] * 3
    + [event_callbacks] * 3
    + [broken_envelopes, json_bodies, any_json, malformed, form_bodies]
).flatmap(lambda strategy: strategy)


# --- requests -------------------------------------------------------------------------------


def signature(body: bytes, timestamp: str, secret: str = SIGNING_SECRET) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


async def post(bot: Bot, request: Request, headers: dict[str, str]) -> int:
    if request.content_type is not None:
        headers = {"Content-Type": request.content_type, **headers}
    async with bot.http.post(bot.url, data=request.body, headers=headers) as resp:
        await resp.read()
        return resp.status


async def signed_post(bot: Bot, request: Request) -> int:
    timestamp = str(int(time.time()))
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(request.body, timestamp),
    }
    return await post(bot, request, headers)


async def healthy(bot: Bot) -> bool:
    async with bot.http.get(str(bot.server.make_url("/healthz"))) as resp:
        return resp.status == 200


async def counts(bot: Bot) -> tuple[int, int, int]:
    async with bot.services.db.session() as s:
        found = []
        for table in (SlackEvent, Conversation, Message):
            found.append((await s.exec(select(func.count()).select_from(table))).one())
        return found[0], found[1], found[2]


async def message_statuses(bot: Bot) -> dict[int, str]:
    async with bot.services.db.session() as s:
        rows = await s.exec(
            select(col(Message.id), col(Message.status)).where(col(Message.role) == "user")
        )
        return {int(i): str(status) for i, status in rows if i is not None}


async def judge(
    figures: Figures, errors: ServerErrors, request: Request, problems: list[str]
) -> None:
    figures.tried += 1
    if problems:
        figures.failed += 1
        cause = f" ({'; '.join(sorted(set(errors.seen)))})" if errors.seen else ""
        for problem in problems:
            figures.fail(f"{problem}{cause}", request)


# --- the properties -------------------------------------------------------------------------


@pytest.fixture
async def bot(start_bot: Any) -> Bot:
    """The conftest's bot, with the per-customer rate limit off: a few fake customers send
    hundreds of messages here, and each should go through the whole answering path (the rate
    limit has tests of its own)."""
    started: Bot = await start_bot(rate_limit_per_minute=0)
    return started


async def test_signed_input_never_gets_a_server_error_and_never_strands_a_message(
    bot: Bot, server_errors: ServerErrors, tmp_path: Path
) -> None:
    figures = Figures("correctly signed")

    async def one(request: Request) -> None:
        figures.kinds[request.kind] += 1
        server_errors.seen.clear()
        before = await message_statuses(bot)
        problems = []

        status = await signed_post(bot, request)
        figures.statuses[status] += 1
        if status >= 500:
            problems.append(f"{request.kind}: HTTP {status}")
        if not await healthy(bot):
            problems.append(f"{request.kind}: /healthz not 200 afterwards")
        await bot.settle()
        after = await message_statuses(bot)
        for message_id in after.keys() - before.keys():
            figures.outcomes[after[message_id]] += 1
            if after[message_id] in ("pending", "working", "failed"):
                problems.append(f"{request.kind}: a message taken ended {after[message_id]!r}")
        if problems and not server_errors.seen:
            # A worker task that raised is only reported (by asyncio, as "Task exception was
            # never retrieved") once it is garbage-collected: collect now to name the cause.
            gc.collect()
        await judge(figures, server_errors, request, problems)

    loop = asyncio.get_running_loop()
    await asyncio.to_thread(campaign, loop, signed_inputs, SIGNED_EXAMPLES, one, seeds())
    print("\n" + figures.report())
    if figures.failed:
        figures.dump(tmp_path / "failing-inputs.jsonl")
        print(f"  failing inputs in full: {tmp_path / 'failing-inputs.jsonl'}")
    assert figures.tried >= SIGNED_EXAMPLES // 2
    assert figures.failed == 0, figures.report()


def ssl_check(request: Request) -> bool:
    """Whether Bolt reads the body as Slack's SSL check (`ssl_check=1`, no payload)."""
    if request.content_type != "application/x-www-form-urlencoded":
        return False
    text = request.body.decode("utf-8", "replace")
    if text.startswith("{") or "payload" in text:
        return False
    return dict(parse_qsl(text, keep_blank_values=True)).get("ssl_check") == "1"


@st.composite
def bad_signatures(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """(what is wrong, headers) for a request that must be refused.

    "signed" and "secret" stand for a real signature, filled in once the body is known: the
    right one for its (stale or future) timestamp, or one made with another app's secret."""
    now = int(time.time())
    how = draw(
        st.sampled_from(
            ["forged", "wrong_secret", "stale", "future", "missing", "no_timestamp", "bad_ts"]
        )
    )
    if how == "forged":
        sig = draw(
            st.one_of(
                st.text(alphabet="0123456789abcdef", min_size=64, max_size=64).map("v0=".__add__),
                st.text(alphabet=string.printable.strip(), max_size=80),
            )
        )
        return how, {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": sig}
    if how == "wrong_secret":
        return how, {"X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": "secret"}
    if how in ("stale", "future"):
        # Well past the 5 minutes, so a second passing between signing and checking cannot
        # bring a future timestamp back inside the window.
        offset = draw(st.integers(min_value=330, max_value=10**8))
        stamp = str(now - offset if how == "stale" else now + offset)
        return how, {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "signed"}
    if how == "missing":
        return how, {}
    if how == "no_timestamp":
        return how, {"X-Slack-Signature": "signed"}
    stamp = draw(st.text(alphabet="0123456789.-+e x", min_size=1, max_size=12))
    return how, {"X-Slack-Request-Timestamp": stamp.strip() or "x", "X-Slack-Signature": "signed"}


async def test_forged_or_stale_signatures_are_refused_with_no_side_effect(
    bot: Bot, server_errors: ServerErrors, tmp_path: Path
) -> None:
    figures = Figures("bad signatures")

    async def one(drawn: tuple[Request, tuple[str, dict[str, str]]]) -> None:
        request, (how, headers) = drawn
        figures.kinds[how] += 1
        server_errors.seen.clear()
        if headers.get("X-Slack-Signature") in ("signed", "secret"):
            secret = SIGNING_SECRET if headers["X-Slack-Signature"] == "signed" else "not-ours"
            stamp = headers.get("X-Slack-Request-Timestamp", "")
            headers = headers | {"X-Slack-Signature": signature(request.body, stamp, secret)}
        before = await counts(bot)
        calls = (len(bot.slack.calls), len(bot.anthropic.requests))
        problems = []

        status = await post(bot, request, headers)
        figures.statuses[status] += 1
        if ssl_check(request):
            # Slack's SSL check: Bolt answers it with an empty 200 before any signature
            # check, by design. Harmless as long as it has no side effect (checked below).
            figures.kinds["ssl_check"] += 1
            if status not in (200, 401):
                problems.append(f"{how}: an ssl_check got HTTP {status}")
        elif status != 401:
            problems.append(f"{how}: HTTP {status}, not 401")
        await bot.settle()
        if await counts(bot) != before:
            problems.append(f"{how}: rows were written")
        if (len(bot.slack.calls), len(bot.anthropic.requests)) != calls:
            problems.append(f"{how}: Slack or the model was called")
        if not await healthy(bot):
            problems.append(f"{how}: /healthz not 200 afterwards")
        await judge(figures, server_errors, request, problems)

    inputs = st.tuples(st.one_of(event_callbacks, json_bodies, form_bodies), bad_signatures())
    now = str(int(time.time()))
    stale = str(int(now) - 301)
    dm_event = seed_message("where is my order 1042?")
    fixed = [
        (dm_event, ("stale", {"X-Slack-Request-Timestamp": stale, "X-Slack-Signature": "signed"})),
        (
            dm_event,
            ("wrong_secret", {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "secret"}),
        ),
        (dm_event, ("missing", {})),
        (dm_event, ("bad_ts", {"X-Slack-Request-Timestamp": "1e9", "X-Slack-Signature": "signed"})),
        (
            Request("seed", b"ssl_check=1&token=legacy", "application/x-www-form-urlencoded"),
            ("stale", {"X-Slack-Request-Timestamp": stale, "X-Slack-Signature": "signed"}),
        ),
    ]
    loop = asyncio.get_running_loop()
    await asyncio.to_thread(campaign, loop, inputs, FORGED_EXAMPLES, one, fixed)
    print("\n" + figures.report())
    if figures.failed:
        figures.dump(tmp_path / "failing-inputs.jsonl")
        print(f"  failing inputs in full: {tmp_path / 'failing-inputs.jsonl'}")
    assert figures.tried >= FORGED_EXAMPLES // 2
    assert figures.failed == 0, figures.report()
