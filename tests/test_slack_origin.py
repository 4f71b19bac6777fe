"""`origin_of`: the installing team and the sender's team of an event, over the payload shapes
recorded from real Slack Connect traffic (docs/issue-15-plan.md §2), with the context Bolt itself
builds from each envelope."""

from __future__ import annotations

from typing import Any

import pytest
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context

from bot.slack_origin import EventOrigin, origin_of
from tests.fakes.events import envelope, shared_mention, shared_message


def _origin(body: dict[str, Any]) -> EventOrigin:
    context = build_async_context(AsyncBoltContext(), body)
    return origin_of(body, body["event"], context)


def _grid_actor_message() -> dict[str, Any]:
    """Recorded: a message from a connected Grid org; the top level names the actor's team
    and org, `authorizations[0]` the installation."""
    body = shared_message("Hey!", "U04ACTOR", "C04T3ACM40K", sender_team="T014GJXU940")
    body["enterprise_id"] = "E013Y3SHLAY"
    body["authorizations"][0]["team_id"] = "T03E94MJU"
    body["context_team_id"] = "T03E94MJU"
    return body


def _mention(sender: str | None, via: str) -> dict[str, Any]:
    body = shared_mention("<@UBOT> hey", "U0ACTOR", "C111", sender_team=sender or "", via=via)
    if sender is None:  # a shape Slack does not promise: no user_team at all
        for key in ("user_team", "source_team", "user_profile"):
            body["event"].pop(key)
    return body


def _dm(team: str | None) -> dict[str, Any]:
    event = {"type": "message", "channel": "D0001", "channel_type": "im", "user": "UALICE"}
    event |= {"ts": "1.000001", "text": "hi"} | ({"team": team} if team else {})
    return envelope(event)


def _grid_installation(sender: str) -> dict[str, Any]:
    """The bot is installed in a workspace of an org; a colleague elsewhere in that org writes."""
    event = {"type": "message", "channel": "C1", "user": "U2", "team": sender, "ts": "1.1"}
    body = envelope(event, installing_enterprise="E0HOST", shared=True)
    return body


CASES: list[tuple[str, dict[str, Any], EventOrigin, bool]] = [
    (
        "message from a connected non-Grid workspace: the top-level team_id is the sender's",
        shared_message("hi", "UACME1", "C0SHARED", sender_team="T0ACME"),
        EventOrigin("T0001", None, "T0ACME", shared=True),
        False,
    ),
    (
        "message from a connected Grid org's workspace",
        _grid_actor_message(),
        EventOrigin("T03E94MJU", None, "T014GJXU940", shared=True),
        False,
    ),
    (
        "message of the installing team's own staff in a shared channel",
        shared_message("on it", "USTAFF", "C0SHARED", sender_team="T0001"),
        EventOrigin("T0001", None, "T0001", shared=True),
        True,
    ),
    (
        "app_mention by a Grid actor: user_team is an enterprise id, event.team the host side",
        _mention("E0ACMEORG", via="T0001"),
        EventOrigin("T0001", None, "E0ACMEORG", shared=True),
        False,
    ),
    (
        "app_mention by staff delivered through the customer's side: event.team is not the sender",
        _mention("T0001", via="T0ACME"),
        EventOrigin("T0001", None, "T0001", shared=True),
        True,
    ),
    (
        "app_mention by a customer delivered through the customer's side",
        _mention("T0ACME", via="T0ACME"),
        EventOrigin("T0001", None, "T0ACME", shared=True),
        False,
    ),
    (
        "app_mention in a shared channel without user_team: the sender is unknown, not guessed",
        _mention(None, via="T0ACME"),
        EventOrigin("T0001", None, None, shared=True),
        False,
    ),
    (
        "DM of a member of the installing team",
        _dm("T0001"),
        EventOrigin("T0001", None, "T0001", shared=False),
        True,
    ),
    (
        "DM whose event names no team",
        _dm(None),
        EventOrigin("T0001", None, None, shared=False),
        False,
    ),
    (
        "a colleague in the installing org (sender named by the org's E… id) is staff",
        _grid_installation("E0HOST"),
        EventOrigin("T0001", "E0HOST", "E0HOST", shared=True),
        True,
    ),
]


@pytest.mark.parametrize(
    ("body", "expected", "staff"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_origin_of_each_recorded_shape(
    body: dict[str, Any], expected: EventOrigin, staff: bool
) -> None:
    origin = _origin(body)
    assert origin == expected
    assert origin.sender_is_staff() is staff


def test_an_app_mention_outside_shared_channels_takes_event_team_as_the_sender() -> None:
    event = {"type": "app_mention", "channel": "C1", "user": "U1", "ts": "1.1", "team": "T0001"}
    assert _origin(envelope(event)) == EventOrigin("T0001", None, "T0001", shared=False)


def test_the_installing_team_falls_back_to_the_top_level_team_without_a_context() -> None:
    body = envelope({"type": "message", "user": "U1", "team": "T0001"})
    assert origin_of(body, body["event"], AsyncBoltContext()).installing_team == "T0001"


@pytest.mark.parametrize("bad", [None, 42, "", "T" * 33, "T00<script>", ["T0001"]])
def test_a_malformed_team_id_is_no_team(bad: object) -> None:
    body = shared_message("hi", "U1", "C1", sender_team="T0ACME")
    body["event"]["team"] = bad
    assert _origin(body).sender_team is None
    assert not _origin(body).sender_is_staff()
