"""Events API envelopes as Slack sends them, Slack Connect included.

The shapes copy payloads recorded from real Slack Connect traffic (bolt-python's
`tests/slack_bolt/request/test_internals.py`; docs/issue-15-plan.md §2):

- a `message` in a shared channel: the top-level `team_id` and `event.team` are the *sender's*
  team; `authorizations[0]` is the installation that receives it; `context_team_id` is the
  installing side; `is_ext_shared_channel: true`;
- an `app_mention` in a shared channel: `event.user_team` = `event.source_team` =
  `event.user_profile.team` = the sender's team, which may be an enterprise id `E…`; `event.team`
  and the top-level `team_id` are the side the delivery came through (either organisation).
"""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

from tests.fakes.slack import BOT_USER_ID, TEAM_ID

# Far from conftest's `next_ts` (numbered from 1) and the fake Slack's replies (900 000).
_ts = itertools.count(600_000)


def new_ts() -> str:
    return f"{int(time.time())}.{next(_ts):06d}"


def envelope(
    event: dict[str, Any],
    *,
    installing_team: str = TEAM_ID,
    team_id: str | None = None,
    shared: bool = False,
    context_team: str | None = None,
    enterprise_id: str | None = None,
    installing_enterprise: str | None = None,
    bot_user: str = BOT_USER_ID,
    event_id: str | None = None,
) -> dict[str, Any]:
    """An `event_callback` around `event`: `team_id` is the top-level team (the installing team
    unless told), `authorizations[0]` the installation, `enterprise_id` the top-level org."""
    body: dict[str, Any] = {
        "token": "legacy",
        "team_id": team_id or installing_team,
        "api_app_id": "A0001",
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10]}",
        "event_time": int(time.time()),
        "event": event,
        "authorizations": [
            {
                "enterprise_id": installing_enterprise,
                "team_id": installing_team,
                "user_id": bot_user,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
    }
    if enterprise_id is not None:
        body["enterprise_id"] = enterprise_id
    if shared:
        body["is_ext_shared_channel"] = True
        body["context_team_id"] = context_team or installing_team
        if installing_enterprise is not None:
            body["context_enterprise_id"] = installing_enterprise
    return body


def shared_message(
    text: str,
    user: str,
    channel: str,
    *,
    sender_team: str,
    installing_team: str = TEAM_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
    channel_type: str = "channel",
) -> dict[str, Any]:
    """A `message` in a Slack Connect channel: the top-level `team_id` is the sender's team."""
    ts = ts or new_ts()
    event: dict[str, Any] = {
        "type": "message",
        "text": text,
        "user": user,
        "ts": ts,
        "team": sender_team,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return envelope(event, installing_team=installing_team, team_id=sender_team, shared=True)


def shared_mention(
    text: str,
    user: str,
    channel: str,
    *,
    sender_team: str,
    installing_team: str = TEAM_ID,
    via: str | None = None,
    ts: str | None = None,
    thread_ts: str | None = None,
) -> dict[str, Any]:
    """An `app_mention` in a Slack Connect channel. `user_team` is the sender's team (may be
    `E…`); `event.team` and the top-level `team_id` are `via`, the side the delivery came
    through: the installing team unless told (recorded with either side)."""
    ts = ts or new_ts()
    side = via or installing_team
    event: dict[str, Any] = {
        "type": "app_mention",
        "text": text,
        "user": user,
        "ts": ts,
        "team": side,
        "user_team": sender_team,
        "source_team": sender_team,
        "user_profile": {"team": sender_team, "name": user.lower()},
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return envelope(event, installing_team=installing_team, team_id=side, shared=True)


def reaction(
    name: str,
    user: str,
    channel: str,
    ts: str,
    *,
    installing_team: str = TEAM_ID,
    shared: bool = True,
) -> dict[str, Any]:
    """`reaction_added` on a message. As recorded in shared channels, it names no team of the
    reacting user (Bolt leaves the actor's team unknown): that must come from users.info."""
    event = {
        "type": "reaction_added",
        "user": user,
        "reaction": name,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "event_ts": new_ts(),
    }
    return envelope(event, installing_team=installing_team, shared=shared)


def channel_shared(
    channel: str, connected_team: str, *, installing_team: str = TEAM_ID
) -> dict[str, Any]:
    """`channel_shared`: the channel became shared with `connected_team` (may be `E…`)."""
    event = {
        "type": "channel_shared",
        "connected_team_id": connected_team,
        "channel": channel,
        "event_ts": new_ts(),
    }
    return envelope(event, installing_team=installing_team)


def member_joined(
    channel: str, user: str, *, team: str = TEAM_ID, installing_team: str = TEAM_ID
) -> dict[str, Any]:
    """`member_joined_channel`: `user` (of `team`) joined `channel`."""
    event = {
        "type": "member_joined_channel",
        "user": user,
        "channel": channel,
        "channel_type": "C",
        "team": team,
        "event_ts": new_ts(),
    }
    return envelope(event, installing_team=installing_team)


def app_uninstalled(*, installing_team: str = TEAM_ID) -> dict[str, Any]:
    """`app_uninstalled`: the installing team removed the app; its tokens no longer work."""
    return envelope(
        {"type": "app_uninstalled", "event_ts": new_ts()}, installing_team=installing_team
    )


def tokens_revoked(
    *, bot: list[str] | None = None, oauth: list[str] | None = None, installing_team: str = TEAM_ID
) -> dict[str, Any]:
    """`tokens_revoked`: the user ids whose bot and user tokens Slack revoked."""
    event = {
        "type": "tokens_revoked",
        "tokens": {"oauth": list(oauth or []), "bot": list(bot or [])},
        "event_ts": new_ts(),
    }
    return envelope(event, installing_team=installing_team)


def feedback_click(post: dict[str, Any], action: str, user: str) -> dict[str, Any]:
    """A `block_actions` payload: `user` clicked the feedback button `action` (feedback_up,
    feedback_down) under the bot's `post` (as the fake Slack recorded it)."""
    return {
        "type": "block_actions",
        "user": {"id": user},
        "container": {"type": "message", "channel_id": post["channel"], "message_ts": post["ts"]},
        "channel": {"id": post["channel"]},
        "message": {"ts": post["ts"], "thread_ts": post["thread_ts"]},
        "trigger_id": "1.2.3",
        "actions": [
            {
                "type": "button",
                "action_id": action,
                "value": action[9:],
                "block_id": "feedback",
                "action_ts": "1.0",
            }
        ],
    }
