"""The ids that tie log lines together: the Slack event and the conversation a line is about.

Set where they become known (the Bolt middleware for the event, the worker for the
conversation) and read by the JSON log format; asyncio copies them into the tasks started
from there, so an answer's lines carry the event that brought its message.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Any

event_id: ContextVar[str | None] = ContextVar("event_id", default=None)
conversation_id: ContextVar[int | None] = ContextVar("conversation_id", default=None)

# Slack's event ids are short alphanumerics (`Ev0123ABCD`); anything else is not logged.
_SLACK_EVENT_ID = re.compile(r"Ev[A-Za-z0-9]{1,40}")


def slack_event_id(body: dict[str, Any]) -> str | None:
    """The event id of a Slack payload, when it has one of Slack's shape."""
    value = body.get("event_id")
    if isinstance(value, str) and _SLACK_EVENT_ID.fullmatch(value):
        return value
    return None


def current() -> dict[str, str | int]:
    """The ids known where the caller runs, for a log line."""
    found: dict[str, str | int] = {}
    if (event := event_id.get()) is not None:
        found["event_id"] = event
    if (conversation := conversation_id.get()) is not None:
        found["conversation_id"] = conversation
    return found
